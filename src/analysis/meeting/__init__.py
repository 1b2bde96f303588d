"""The monthly meeting pack (月例会材料): the month's summary, the launch reviews, the scorecard,
next month's targets and, at a quarter's end, the retention review — one HTML page, a PDF and a
Word document (:func:`build_pack`); and the launches whose first window ended in a month
(:func:`launches_ending`, the ``for_each: launch`` of a schedule)."""
from __future__ import annotations

from .launches import Launch, launch_params, launches_ending, window_end
from .pack import PARTS, Pack, Part, PartSpec, build_pack, plan, resolve_month

__all__ = ["Launch", "launch_params", "launches_ending", "window_end", "PARTS", "Pack", "Part", "PartSpec",
           "build_pack", "plan", "resolve_month"]

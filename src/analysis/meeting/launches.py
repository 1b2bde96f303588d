"""The launches whose first window ended in a month (``for_each: launch``, the meeting pack).

A launch is a product (SKU) with a ``products.launch_date``; its first window is the
``window_days`` days from the launch day, day 1 = the launch day (as the launch review counts
it), so it ends on ``launch_date + window_days − 1``. The launches reviewed at a month's meeting
are those whose window ended in that month.

Examples
--------
>>> launches_ending(con, "2026-10")                                    # doctest: +SKIP
[Launch(sku_id='S044', brand='海韵', launch_date=datetime.date(2026, 9, 8), window_end=datetime.date(2026, 10, 7))]
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import store as store_mod
from ..errors import ParameterError
from ..periods import add_months, parse_month

__all__ = ["Launch", "launches_ending", "window_end", "launch_params"]


@dataclass(frozen=True)
class Launch:
    """One launch: the SKU, its brand, its launch day and the last day of its first window."""

    sku_id: str
    brand: str | None
    launch_date: dt.date
    window_end: dt.date


def window_end(launch_date: dt.date, window_days: int = 30) -> dt.date:
    """The last day of the first window (day 1 = the launch day).

    Examples
    --------
    >>> window_end(dt.date(2026, 9, 8))
    datetime.date(2026, 10, 7)
    """
    return launch_date + dt.timedelta(days=int(window_days) - 1)


def launches_ending(con: Any, month: str | dt.date, window_days: int = 30) -> list[Launch]:
    """The launches whose first ``window_days`` days ended in ``month``, by launch day then SKU.

    Parameters
    ----------
    con : Ibis backend
        The store.
    month : str or date
        "YYYY-MM" (or a date in the month).
    window_days : int, default 30
        The review window (the launch review's ``window_days``).

    Returns
    -------
    list of Launch
        Empty when no window ended in the month.

    Raises
    ------
    MissingTableError, MissingColumnError
        The store has no products table, or it has no ``launch_date``.
    """
    if not isinstance(window_days, int) or window_days < 1:
        raise ParameterError(f"The 'window_days' parameter of launches_ending must be a positive integer. "
                             f"Got {window_days!r} instead.")
    first = parse_month(month, "month", "launches_ending")
    after = add_months(first, 1)
    t = store_mod.table(con, "products", needed_by="launches_ending", required=("sku_id", "launch_date"))
    # window end in [first, after)  ⇔  launch_date in [first − (w − 1), after − (w − 1))
    shift = dt.timedelta(days=window_days - 1)
    lo, hi = first - shift, after - shift
    cols = ["sku_id", "launch_date"] + (["brand"] if "brand" in t.columns else [])
    ld = t["launch_date"].cast("date")
    rows = t.filter(ld.notnull() & (ld >= lo) & (ld < hi)).select(*cols).distinct().to_pandas()
    out = []
    for r in rows.itertuples(index=False):
        d = pd.Timestamp(r.launch_date).date()
        brand = getattr(r, "brand", None)
        out.append(Launch(str(r.sku_id), None if brand is None or brand != brand else str(brand), d,
                          window_end(d, window_days)))
    return sorted(out, key=lambda x: (x.launch_date, x.sku_id))


def launch_params(launch: Launch, window_days: int = 30) -> dict[str, Any]:
    """The launch review's parameters for one launch (``sku``, ``launch_date``, ``window_days``)."""
    return {"sku": launch.sku_id, "launch_date": launch.launch_date.isoformat(), "window_days": int(window_days)}

"""What a report notebook calls first and last.

A report notebook is: a ``parameters`` cell, then

    ctx = notebook.start("sales_trends", globals())

which validates the parameters with the report's model (unknown or wrong ones fail
here, visibly), configures charts, opens the store read-only and creates the metrics
recorder; cells then call the report's metric module with ``ctx.con`` and ``ctx.params``
and display results with ``analysis.display``; the last cell calls ``ctx.finish()``,
which writes metrics.json.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import charts, store
from .params import REPORTS, validate_params
from .recorder import Recorder


@dataclass
class Context:
    report: str
    params: Any
    con: Any
    rec: Recorder
    font: str | None = None
    skipped: list[dict] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.params.lang

    def skip(self, section: str, reason: str) -> None:
        """Record and show a skipped section (visible note + metrics.json ``skipped_sections``)."""
        from . import display

        self.skipped.append({"section": section, "reason": reason})
        display.skipped(section, reason, self.lang)

    def finish(self, **extra: Any) -> str:
        """Write metrics.json (parameters as resolved, skipped sections, extra figures)."""
        self.rec.update(extra)
        self.rec.record("skipped_sections", [s["section"] for s in self.skipped])
        self.rec.record("skipped_details", self.skipped)
        self.rec.record("generated_at", dt.datetime.now().isoformat(timespec="seconds"))
        return str(self.rec.save())


def start(report: str, namespace: dict[str, Any]) -> Context:
    """Validate the notebook's parameters and open what the report needs.

    Parameters
    ----------
    report : str
        Report name (a key of ``analysis.params.REPORTS``).
    namespace : dict
        The notebook's ``globals()``; the report's declared parameter names are read from it.

    Examples
    --------
    >>> ctx = start("sales_trends", {"lang": "en"})  # doctest: +SKIP
    """
    spec = REPORTS[report]
    names = spec.params.model_fields
    values = {k: namespace[k] for k in names if k in namespace}
    params = validate_params(spec.params, values, report)
    font = charts.setup()
    con = store.connect(params.store, read_only=True) if getattr(params, "source", "store") == "store" else None
    rec = Recorder(report)
    rec.record("parameters", params.model_dump())
    return Context(report=report, params=params, con=con, rec=rec, font=font)

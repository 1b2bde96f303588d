"""What a report notebook calls first and last.

A report notebook is: a ``parameters`` cell, then

    ctx = notebook.start("sales_trends", globals())

which validates the parameters with the report's model (unknown or wrong ones fail
here, visibly), configures charts, opens the store read-only and creates the metrics
recorder; cells then call the report's metric module with ``ctx.con`` and ``ctx.params``
and display results with ``analysis.display``; the last cell calls ``ctx.finish()``,
which writes metrics.json (and the Excel workbook of the tables the report showed, when
the run asks for one). ``finish()`` shows nothing: the last cell of a report has no output.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import charts, store
from .params import REPORTS, validate_params
from .recorder import DOCX_ENV, WORKBOOK_ENV, Recorder


@dataclass
class Context:
    """The state of one report notebook: parameters, store connection, recorder, skips, and the
    presenter that renders its sections (and keeps the tables shown, for the workbook)."""

    report: str
    params: Any
    con: Any
    rec: Recorder
    font: str | None = None
    skipped: list[dict] = field(default_factory=list)
    tables: list[tuple[str, Any]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    _presenter: Any = None

    @property
    def lang(self) -> str:
        return self.params.lang

    @property
    def metrics_path(self) -> Path:
        """Where :meth:`finish` writes metrics.json."""
        return self.rec.path

    def output_path(self, name: str) -> Path:
        """Where the report writes a file of its own (``name``, a plain file name) beside
        metrics.json; the run moves it into the report's folder with the rest (metrics.json
        ``outputs`` lists it)."""
        if not name or Path(name).name != name or name in ("metrics.json", "params.yml"):
            from .errors import ParameterError

            raise ParameterError(f"The 'name' parameter of output_path must be a plain file name. Got {name!r} instead.")
        if name not in self.outputs:
            self.outputs.append(name)
        return self.rec.path.parent / name

    def skip(self, section: str, reason: str) -> None:
        """Record and show a skipped section (visible note + metrics.json ``skipped_sections``)."""
        from . import display

        self.skipped.append({"section": section, "reason": reason})
        display.skipped(section, reason, self.lang)

    @property
    def present(self) -> Any:
        """The report's :class:`analysis.present.Presenter` (made on first use): ``ctx.present.show(section)``."""
        if self._presenter is None:
            from .present import Presenter

            self._presenter = Presenter(self.report, lang=self.lang)
        return self._presenter

    def add_table(self, title: str, table: Any) -> None:
        """Keep a table shown outside the presenter (an ``analysis.sections.Table``) for the workbook."""
        self.tables.append((title, table))

    def workbook_tables(self) -> list[Any]:
        """The workbook's sheets: the tables the presenter showed, then those added by hand."""
        shown = list(self._presenter.tables) if self._presenter is not None else []
        return shown + list(self.tables)

    def about(self) -> dict[str, Any]:
        """The workbook's first sheet (说明 / About): report, period, parameters, data window."""
        data = self.rec.data
        return {
            "report": self.report,
            "period": data.get("period"),
            "parameters": data.get("parameters", {}),
            "data_window": data.get("data_window"),
            "generated_at": data.get("generated_at"),
        }

    def write_workbook(self) -> Path | None:
        """Write the workbook to ``$SALES_ANALYSIS_WORKBOOK`` (set by a report run) with
        ``analysis.excel.write_workbook``; None when no run asked for one or nothing to write."""
        target = os.environ.get(WORKBOOK_ENV)
        tables = self.workbook_tables()
        if not target or not tables:
            return None
        from . import excel

        return excel.write_workbook(Path(target), self.about(), tables, self.lang)

    def finish(self, **extra: Any) -> None:
        """Write metrics.json (parameters as resolved, skipped sections, extra figures) and the
        workbook. Returns nothing, so the report's last cell shows nothing (its path would
        be a file of the server)."""
        self.rec.update(extra)
        sections = [s["section"] for s in self.skipped]
        details = list(self.skipped)
        if self._presenter is not None:
            sections += self._presenter.skipped_sections()
            details += self._presenter.skipped_details()
        self.rec.record("skipped_sections", sections)
        self.rec.record("skipped_details", details)
        if self.outputs:
            self.rec.record("outputs", list(self.outputs))
        self.rec.record("generated_at", dt.datetime.now().isoformat(timespec="seconds"))
        self.rec.save()
        self.write_workbook()
        self.write_docx()

    def write_docx(self) -> Path | None:
        """Write the Word document of the sections shown to ``$SALES_ANALYSIS_DOCX`` (set by a
        report run with ``--docx``) with :func:`analysis.word.write_docx`; None when not asked."""
        target = os.environ.get(DOCX_ENV)
        if not target or self._presenter is None or not self._presenter.sections:
            return None
        from .i18n import label
        from .word import write_docx

        meta = []
        data = self.rec.data
        if data.get("period"):
            meta.append((label("present.period", self.lang), str(data["period"])))
        w = data.get("data_window")
        if isinstance(w, dict) and w.get("start"):
            meta.append((label("present.data_window", self.lang), f"{w.get('start')} – {w.get('end')}"))
        return write_docx(Path(target), label(f"report.{self.report}", self.lang), self._presenter.sections,
                          self.lang, meta=meta)


def start(report: str, namespace: dict[str, Any]) -> Context:
    """Validate the notebook's parameters and open what the report needs.

    Parameters
    ----------
    report : str
        Report name (a key of ``analysis.params.REPORTS``).
    namespace : dict
        The notebook's ``globals()``; the report's declared parameter names are read from it.

    Returns
    -------
    Context
        Parameters, connection (None for a snapshot source), recorder.

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

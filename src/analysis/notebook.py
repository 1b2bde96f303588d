"""What a report notebook calls: the report's spec, cell by cell.

A report notebook is: a ``parameters`` cell, then

    ctx = notebook.start("sales_trends", globals())
    scope = ctx.prepare()
    ctx.section("headline")        # one cell per step of the report's spec, in order
    …
    ctx.finish()

``start`` validates the parameters with the report's model (unknown or wrong ones fail here,
visibly), configures charts, opens the store read-only and creates the metrics recorder;
``prepare`` calls the spec's ``prepare(con, params)``; ``section(name)`` computes the spec's
step of that name (:func:`analysis.spec.run_step`, the call the headless run
:func:`analysis.reports.compute.compute` makes) and shows it through the presenter with the
step's text function; ``finish`` writes metrics.json (what the spec's ``finish`` adds, then the
sections' metrics) and the Excel workbook of the tables shown, when the run asks for one. It
shows nothing: the last cell of a report has no output.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import charts, store
from . import spec as spec_mod
from .errors import ParameterError
from .params import REPORTS, validate_params
from .recorder import DOCX_ENV, WORKBOOK_ENV, Recorder
from .sections import section_metrics
from .spec import ReportSpec, ref


@dataclass
class Context:
    """The state of one report notebook: parameters, store connection, recorder, the scope of
    the spec's ``prepare`` and the presenter that renders its sections (and keeps the tables
    shown, for the workbook)."""

    report: str
    params: Any
    con: Any
    rec: Recorder
    font: str | None = None
    outputs: list[str] = field(default_factory=list)
    scope: Any = None
    _presenter: Any = None

    @property
    def spec(self) -> ReportSpec:
        """The report's spec (:data:`analysis.params.REPORTS`)."""
        return REPORTS[self.report]

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
            raise ParameterError(f"The 'name' parameter of output_path must be a plain file name. Got {name!r} instead.")
        if name not in self.outputs:
            self.outputs.append(name)
        return self.rec.path.parent / name

    @property
    def present(self) -> Any:
        """The report's :class:`analysis.present.Presenter` (made on first use, with the text
        functions of the spec's narrative module)."""
        if self._presenter is None:
            from .present import Presenter

            self._presenter = Presenter(self.report, texts=self.spec.texts(), lang=self.lang)
        return self._presenter

    def prepare(self) -> Any:
        """The spec's ``prepare(con, params)``; the scope is kept for :meth:`section` and
        :meth:`finish` (``ctx.scope``) and returned."""
        self.scope = ref(self.spec.prepare)(self.con, self.params)
        return self.scope

    def section(self, name: str) -> None:
        """Compute the spec's step ``name`` on the prepared scope and show it.

        The step is computed by :func:`analysis.spec.run_step` (as the headless run computes
        it) and shown by the presenter with the step's text function (an optional step with
        nothing to show shows nothing). Returns nothing, so the cell's only output is the
        section; the results shown are ``ctx.present.sections``.

        Raises
        ------
        ParameterError
            ``name`` is not a step of the report, or :meth:`prepare` has not run.
        """
        step = self.spec.step(name)
        if self.scope is None:
            raise ParameterError(f"The section {name!r} of {self.report} needs the scope: call ctx.prepare() first.")
        res = spec_mod.run_step(step, self.scope)
        if res is not None:
            self.present.show(res, text=self.spec.text_of(step))

    def workbook_tables(self) -> list[Any]:
        """The workbook's sheets: the tables the presenter showed."""
        return list(self._presenter.tables) if self._presenter is not None else []

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
        """Write metrics.json and the workbook: what the spec's ``finish`` adds (when
        :meth:`prepare` ran), the sections' metrics (:func:`analysis.sections.section_metrics`:
        their figures, skipped sections and parts, notes), then ``extra``. Returns nothing, so
        the report's last cell shows nothing (its path would be a file of the server)."""
        if self.scope is not None and self.spec.finish:
            self.rec.update(ref(self.spec.finish)(self.scope, self.output_path))
        self.rec.update(section_metrics(self._presenter.sections if self._presenter is not None else []))
        self.rec.update(extra)
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

"""A report computed without a kernel, from its spec.

:func:`compute` reads the report's :class:`analysis.spec.ReportSpec`: it validates the
parameters with the report's model, calls ``prepare(con, params)`` and each section of the spec
in order (:func:`analysis.spec.run_step`, the function the notebook's ``ctx.section(name)`` calls
before showing the result), adds what the report's last cell adds (``finish``) and returns the metrics exactly as
metrics.json holds them and the sections (nothing is rendered, no chart is drawn). A test checks
that they equal those of the notebook's own cells (:func:`compute_cells`, which runs the
notebook's code cells in this process), so a test or the meeting pack gets what a report run
writes, in seconds and without Jupyter. A report whose spec names no ``prepare`` or sections is
computed from its notebook's cells.

Examples
--------
>>> out = compute("sales_trends", "data/warehouse.duckdb", {"month": "2026-10"})  # doctest: +SKIP
>>> out.metrics["total_amount"]  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ParameterError, ReportRunError
from ..params import REPORTS


@dataclass
class Computed:
    """What a headless run gives: the metrics (as metrics.json holds them) and the sections shown."""

    report: str
    metrics: dict[str, Any]
    sections: list = field(default_factory=list)


def _notebook(report: str) -> Path:
    from .params import notebook_path

    return Path(notebook_path(REPORTS[report]))


def _cells(path: Path) -> list[tuple[list[str], str]]:
    """(tags, source) of the notebook's code cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code":
            src = c.get("source", "")
            out.append((list(c.get("metadata", {}).get("tags", [])), "".join(src) if isinstance(src, list) else src))
    return out


def _check_report(report: str) -> None:
    if report not in REPORTS:
        raise ParameterError(f"The 'report' parameter of compute must be one of {', '.join(REPORTS)}. "
                             f"Got {report!r} instead.")


def compute(report: str, store: str | os.PathLike | None = None, params: Mapping[str, Any] | None = None) -> Computed:
    """Compute ``report`` from its spec (prepare, the sections, finish) and return its metrics
    (as metrics.json holds them, ``generated_at`` included) and sections.

    Parameters
    ----------
    report : str
        A report name (``analysis.params.REPORTS``).
    store : str or path, optional
        The store (default: the project's).
    params : mapping, optional
        The report's parameters (as for ``sales-analysis run``).

    Returns
    -------
    Computed

    Raises
    ------
    ParameterError
        Unknown report, or parameters the model refuses.
    AnalysisError
        What ``prepare`` or a section raises (the run's failure).
    """
    _check_report(report)
    spec = REPORTS[report]
    if not spec.headless:
        return compute_cells(report, store, params)
    from ..params import validate_params
    from ..recorder import to_jsonable
    from ..sections import section_metrics
    from .. import spec as spec_mod
    from .. import store as store_mod
    from ..spec import ref

    values = dict(params or {})
    if store is not None:
        values["store"] = str(store)
    model = validate_params(spec.params, values, report)
    con = store_mod.connect(model.store, read_only=True) if getattr(model, "source", "store") == "store" else None
    outputs: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="sa-compute-") as tmp:
            def output_path(name: str) -> Path:
                if name not in outputs:
                    outputs.append(name)
                return Path(tmp) / name

            scope = ref(spec.prepare)(con, model)
            # the notebook's ctx.section(name) computes each step through the same function
            sections = [res for res in (spec_mod.run_step(step, scope) for step in spec.sections) if res is not None]
            extra = ref(spec.finish)(scope, output_path) if spec.finish else {}
    finally:
        if con is not None:
            with contextlib.suppress(Exception):
                con.disconnect()
    metrics: dict[str, Any] = {"report": report, "parameters": to_jsonable(model.model_dump())}
    metrics.update({k: to_jsonable(v) for k, v in extra.items()})
    metrics.update({k: to_jsonable(v) for k, v in section_metrics(sections).items()})
    if outputs:
        metrics["outputs"] = list(outputs)
    metrics["generated_at"] = dt.datetime.now().isoformat(timespec="seconds")
    return Computed(report, metrics, sections)


def compute_cells(report: str, store: str | os.PathLike | None = None,
                  params: Mapping[str, Any] | None = None) -> Computed:
    """Run ``report``'s notebook (its code cells, in order, parameters injected after the
    ``parameters`` cell) in this process, nothing displayed, and return its metrics and sections.

    Parameters and return value as :func:`compute`.

    Raises
    ------
    ParameterError
        Unknown report.
    ReportRunError
        A cell failed (the cell's number and the error's one line).
    """
    _check_report(report)
    values = dict(params or {})
    if store is not None:
        values["store"] = str(store)
    cells = _cells(_notebook(report))
    with tempfile.TemporaryDirectory(prefix="sa-compute-") as tmp:
        metrics_path = Path(tmp) / "metrics.json"
        old = os.environ.get("SALES_ANALYSIS_METRICS")
        os.environ["SALES_ANALYSIS_METRICS"] = str(metrics_path)
        ns: dict[str, Any] = {"__name__": "__sales_analysis_compute__"}
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            for i, (tags, src) in enumerate(cells, 1):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        exec(compile(src, f"<{report} cell {i}>", "exec"), ns)  # noqa: S102 - the package's own notebook
                except Exception as e:  # noqa: BLE001 - reported as the run's failure, like a kernel's
                    raise ReportRunError(f"{report} failed at cell {i}: {type(e).__name__}: {e}") from e
                if "parameters" in tags:
                    ns.update(values)
                plt.close("all")
            metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
        finally:
            if old is None:
                os.environ.pop("SALES_ANALYSIS_METRICS", None)
            else:
                os.environ["SALES_ANALYSIS_METRICS"] = old
            ctx = ns.get("ctx")
            con = getattr(ctx, "con", None)
            if con is not None:
                with contextlib.suppress(Exception):
                    con.disconnect()
    presenter = getattr(ns.get("ctx"), "_presenter", None)
    sections = list(getattr(presenter, "sections", []) or [])
    return Computed(report, metrics, sections)

"""A report computed without a kernel: the notebook's cells run in this process.

:func:`compute` executes the report's notebook (its code cells, in order, with the parameters
injected after the ``parameters`` cell) in a fresh namespace, with nothing displayed, and
returns the metrics it records and the sections its presenter showed. The figures are the
notebook's own (the same cells, the same package calls), so a test or the meeting pack gets
exactly what a report run writes to metrics.json, in seconds and without Jupyter.

Examples
--------
>>> out = compute("sales_trends", "data/warehouse.duckdb", {"month": "2026-10"})  # doctest: +SKIP
>>> out.metrics["total_amount"]  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
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


def compute(report: str, store: str | os.PathLike | None = None, params: Mapping[str, Any] | None = None) -> Computed:
    """Run ``report``'s notebook in this process and return its metrics and sections.

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
        Unknown report.
    ReportRunError
        A cell failed (the cell's number and the error's one line).
    """
    if report not in REPORTS:
        raise ParameterError(f"The 'report' parameter of compute must be one of {', '.join(REPORTS)}. "
                             f"Got {report!r} instead.")
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

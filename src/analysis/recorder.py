"""metrics.json: the machine-readable record of a report run.

A notebook calls ``record(name, value)`` for each key figure and ``save()`` at the end.
The file goes to ``$SALES_ANALYSIS_METRICS`` (set by ``analysis.reports`` for a run; a
temporary folder of the run, which never shows in the report),
else (an analyst running the notebook by hand) to
``reports/interactive/<report>/metrics.json`` under the project root. NaN and inf become null.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ENV_VAR = "SALES_ANALYSIS_METRICS"
WORKBOOK_ENV = "SALES_ANALYSIS_WORKBOOK"
DOCX_ENV = "SALES_ANALYSIS_DOCX"  # where a report run asks for the Word document (--docx)
"""Where a run wants the report's Excel workbook (set by ``analysis.reports`` for a run; unset
when an analyst runs the notebook by hand, and then no workbook is written)."""


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas/date values to plain JSON types; NaN/inf become None.

    Examples
    --------
    >>> to_jsonable({"a": float("nan"), "b": np.int64(3)})
    {'a': None, 'b': 3}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return str(value)


class Recorder:
    """Collects key figures of one run and writes them as JSON."""

    def __init__(self, report: str, path: str | os.PathLike | None = None) -> None:
        self.report = report
        if path is None and not os.environ.get(ENV_VAR):
            from .store import project_root

            path = project_root() / "reports" / "interactive" / report / "metrics.json"
        self.path = Path(path or os.environ[ENV_VAR])
        self.data: dict[str, Any] = {"report": report}

    def record(self, name: str, value: Any) -> Any:
        """Record ``value`` under ``name``; returns the value for chaining in a cell."""
        self.data[name] = to_jsonable(value)
        return value

    def update(self, values: dict[str, Any]) -> None:
        for k, v in values.items():
            self.record(k, v)

    def save(self) -> Path:
        """Write the JSON (atomically) and return its path."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=2, sort_keys=False), encoding="utf-8")
        os.replace(tmp, self.path)
        return self.path

"""Comparing one result computed on two engines: rows sorted, floats to 1e-9 relative.

Shared by tests/test_engines.py (DuckDB against PostgreSQL, in this process) and
tests/test_engines_cluster.py (DuckDB against a Spark standalone cluster and Spark Connect).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEMO_SCALE = 0.05
AGENCY_SCALE = 1.0
RTOL = 1e-9
# Absolute floor for values that are zero in exact arithmetic but come out as ±1e-17 after a
# sum in another order (shares that cancel, differences of equal sums).
ATOL = 1e-12

def normalize(x: Any) -> Any:
    """A plain structure: frames become sorted lists of row tuples, objects dicts of fields."""
    if isinstance(x, pd.DataFrame):
        df = x
        if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
            df = df.reset_index()
        cols = [str(c) for c in df.columns]
        rows = [tuple(_scalar(v) for v in row) for row in df.itertuples(index=False, name=None)]
        rows.sort(key=_sort_key)
        return {"__frame__": cols, "rows": rows}
    if isinstance(x, pd.Series):
        return normalize(x.to_frame(name=x.name if x.name is not None else "value"))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: normalize(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): normalize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [normalize(v) for v in x]
    if hasattr(x, "model_dump"):
        return normalize(x.model_dump())
    if isinstance(x, np.ndarray):
        return [normalize(v) for v in x.tolist()]
    return _scalar(x)


def _scalar(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime, np.datetime64)):
        ts = pd.Timestamp(v)
        if ts is pd.NaT:
            return None
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts
        return ("date", ts.isoformat())
    if isinstance(v, dt.date):
        return ("date", pd.Timestamp(v).isoformat())
    if isinstance(v, pd.Period):
        return ("period", str(v))
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return float(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, (pd.DataFrame, pd.Series, dict, list, tuple, np.ndarray)) or dataclasses.is_dataclass(v):
        return normalize(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _sort_key(row: tuple) -> tuple:
    # Keys (non-float cells) first, then floats rounded far above the tolerance, so that rows
    # sort the same on every engine.
    keys = []
    for v in row:
        if isinstance(v, float):
            keys.append((1, f"{v:.6e}"))
        elif v is None:
            keys.append((0, ""))
        else:
            keys.append((2, repr(v)))
    return tuple(k for k in keys if k[0] != 1) + tuple(keys)


def diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two normalised results (empty list: the same)."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        if "__frame__" in a or "__frame__" in b:
            if a.get("__frame__") != b.get("__frame__"):
                return [f"{path}: columns {a.get('__frame__')} != {b.get('__frame__')}"]
            ra, rb = a["rows"], b["rows"]
            if len(ra) != len(rb):
                return [f"{path}: {len(ra)} rows != {len(rb)} rows"]
            for i, (x, y) in enumerate(zip(ra, rb)):
                for c, u, w in zip(a["__frame__"], x, y):
                    out += diff(u, w, f"{path}[row {i}].{c}")
                if len(out) > 10:
                    return out
            return out
        if set(a) != set(b):
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        for k in a:
            out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL) else [f"{path}: {a!r} != {b!r}"]
    if a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


# keys of metrics.json that differ between two runs by design: the time of the run, the store's URL
RUN_KEYS = ("generated_at",)

# every report of the registry, computed headless (analysis.reports.compute) in a process of its own
COMPUTE_SCRIPT = r"""
import json, sys
from analysis.reports.compute import compute
store, out, reports = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {}
for r in reports:
    try:
        res[r] = compute(r, store).metrics
    except Exception as e:  # one report's failure is that report's test failure, not the others'
        res[r] = {"__error__": f"{type(e).__name__}: {e}"}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(res, fh, ensure_ascii=False, default=str)
"""


def metrics_in_subprocess(loc: str, out: Path, reports: tuple[str, ...]) -> dict:
    """{report: metrics} of ``reports`` on the store ``loc``, computed in a fresh Python process
    (a Spark driver is one per process, as in a report run by a user)."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", COMPUTE_SCRIPT, loc, str(out), *reports],
                          capture_output=True, text=True, timeout=3000, cwd=out.parent)
    assert proc.returncode == 0 and out.exists(), proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def comparable(m: dict) -> dict:
    """metrics.json without the keys that differ between two runs by design."""
    m = {k: v for k, v in m.items() if k not in RUN_KEYS}
    if isinstance(m.get("parameters"), dict):
        m["parameters"] = {k: v for k, v in m["parameters"].items() if k != "store"}
    return m


def build_engine_world(d: Path) -> tuple[dict[str, str], dict]:
    """The tobacco demo world at DEMO_SCALE and the agency world beside it, in one DuckDB store in
    ``d``: ({"duckdb": path}, the tobacco world's truth record)."""
    import json

    from analysis import demo
    from analysis.agency import demo as agency_demo

    src = d / "warehouse.duckdb"
    demo.build(store=str(src), seed=42, scale=DEMO_SCALE, truth_path=d / "demo_truth.json")
    agency_demo.build(store=str(src), seed=42, scale=AGENCY_SCALE, truth_path=d / "agency_truth.json")
    truth = json.loads((d / "demo_truth.json").read_text(encoding="utf-8"))
    return {"duckdb": str(src)}, truth

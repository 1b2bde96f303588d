"""The output folders of runs: ``<out>/<name>/<period>/`` and what goes in them.

| file | written |
|---|---|
| ``<name>.html`` | every good run |
| ``<name>.ipynb`` | every good run (the executed notebook) |
| ``metrics.json`` | every good run |
| ``params.yml`` | every good run (the run record) |
| ``<name>.xlsx`` | when the notebook wrote a workbook (``$SALES_ANALYSIS_WORKBOOK``) |
| ``<name>.pdf`` | when asked for (``--pdf``) and headless Chromium is installed |
| files of the report's own | listed in metrics.json ``outputs`` (``ctx.output_path``), e.g. a target plan's CSV |
| ``<name>.FAILED.ipynb`` | a failed run (the files of the last good run stay untouched) |

A good run replaces every file of the last one, and removes the optional ones and the files the
last run recorded (``params.yml`` ``outputs``) that it did not write: a workbook, PDF or CSV of an
older run must never sit beside a newer HTML.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

TMP_DIRNAME = ".tmp"
OPTIONAL_SUFFIXES = (".xlsx", ".pdf")

_UNSAFE = re.compile(r"[^\w.\-+=@\u3400-\u9fff]+", re.UNICODE)


def safe_component(text: Any) -> str:
    """A file-name-safe folder component (keeps letters, digits, CJK, ``.-_+=@``).

    Examples
    --------
    >>> safe_component("../a b/市区")
    'a_b_市区'
    """
    s = _UNSAFE.sub("_", str(text)).strip("._")
    s = re.sub(r"_+", "_", s)
    return s[:80] or "run"


def run_period(report: str, parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
    """The period folder of a run: the report spec's period key (:mod:`analysis.spec`), file-name safe.

    metrics.json ``period`` if the notebook recorded one, else from the parameters
    (sales_trends: month; launch_review: sku/brand + launch date; incentive_retention: as_of).
    """
    from ..params import REPORTS
    from ..spec import period_from

    spec = REPORTS.get(report)
    key = spec.period if spec is not None else period_from("month", "as_of", "period")
    return safe_component(key(parameters, metrics or {}))


def shown_period(period: str, metrics: Mapping[str, Any] | None = None) -> str:
    """The period a reader sees for a run in ``period`` (its folder): a review of something by
    name (metrics.json ``subject``, a launch's product) shows its window (``window.start`` –
    ``window.end``, else ``launch_date``) instead of the folder's code; other runs their folder.

    Examples
    --------
    >>> shown_period("S044-2026-09-08", {"subject": "海韵(中支)", "window": {"start": "2026-09-08", "end": "2026-10-07"}})
    '2026-09-08 – 2026-10-07'
    >>> shown_period("2026-10", {})
    '2026-10'
    """
    m = metrics or {}
    if not m.get("subject"):
        return str(period)
    w = m.get("window") if isinstance(m.get("window"), Mapping) else {}
    if w and w.get("start") and w.get("end"):
        return f"{w['start']} – {w['end']}"
    return str(m.get("launch_date") or period)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` ({} when missing, unreadable or not an object)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def plain(value: Any) -> Any:
    """Only plain YAML types (for the run record)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def recorded_outputs(folder: Path) -> list[str]:
    """The file names the run record (``params.yml``) of ``folder`` lists as written."""
    import yaml

    try:
        record = yaml.safe_load((folder / "params.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    outputs = record.get("outputs") if isinstance(record, dict) else None
    return [str(o) for o in outputs if isinstance(o, str) and Path(o).name == o] if isinstance(outputs, list) else []


def move_into_place(moves: list[tuple[Path, Path]], final: Path, name: str) -> None:
    """Move a good run's files into ``final`` (each replaced atomically), then remove what an
    older run left there that this one did not write (optional outputs, files the older run
    recorded as its own, a FAILED notebook)."""
    final.mkdir(parents=True, exist_ok=True)
    older = recorded_outputs(final)
    for src, dst in moves:
        os.replace(src, dst)
    written = {dst.name for _, dst in moves}
    stale = [f"{name}{suffix}" for suffix in OPTIONAL_SUFFIXES] + [f"{name}.FAILED.ipynb"] + older
    for file in stale:
        p = final / file
        if file not in written and p.is_file():
            p.unlink()

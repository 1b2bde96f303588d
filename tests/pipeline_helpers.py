"""Helpers shared by the report-pipeline tests: the fixture report (a tiny notebook under
tests/fixtures with its own parameter model) registered as if it were a report."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_NOTEBOOK = FIXTURES / "fixture_report.ipynb"

if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from fixture_params import FixtureParams  # noqa: E402


def register_fixture(monkeypatch) -> None:
    """Register ``fixture_report`` in analysis.params.REPORTS (in this process) and make its
    model importable in batch worker processes (PYTHONPATH)."""
    from analysis.params import REPORTS, ReportSpec

    monkeypatch.setitem(
        REPORTS, "fixture_report", ReportSpec("fixture_report", str(FIXTURE_NOTEBOOK), FixtureParams)
    )
    old = __import__("os").environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", str(FIXTURES) + (":" + old if old else ""))


def quarantine(store, table: str):
    """The quarantine lines of a store's table as a DataFrame of text (empty, with the
    quarantine's columns, when nothing was quarantined)."""
    import pandas as pd

    from analysis import ingest as ing

    p = Path(ing.quarantine_path_for(str(store), table))
    if not p.exists():
        return pd.DataFrame(columns=ing.QUARANTINE_COLUMNS)
    return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")

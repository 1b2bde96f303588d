"""Every report documented in docs/metrics/<report>.md: a run in Chinese and one in English write
exactly the documented keys, with the same values apart from the parameters and the time.

The reports are computed headless (analysis.reports.compute: the metrics metrics.json holds, the
notebook's cells give the same, tests/test_reports_compute.py) on the session's demo world (see
conftest.py; set SALES_ANALYSIS_TEST_STORE to reuse a built store). The end-to-end runs (kernel,
export, metrics.json on disk) are tested in tests/test_reports.py and tests/test_export_reports.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs" / "metrics").glob("*.md"))

# parameters a report needs on the demo world beyond its defaults
PARAMS: dict[str, dict[str, object]] = {}
# keys that differ between two runs by design
VARYING = ("parameters", "generated_at")


def documented_keys(doc: Path) -> list[str]:
    """The keys of the document's table (first column, in backquotes)."""
    return re.findall(r"^\| `([a-z_]+)` \|", doc.read_text(encoding="utf-8"), flags=re.M)


def conditional_keys(doc: Path, condition: str) -> set[str]:
    """Keys whose meaning starts with ``condition`` (e.g. "manager version only"): not in a run
    without it."""
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| ([^|]+)\|", doc.read_text(encoding="utf-8"), flags=re.M)
    return {k for k, meaning in rows if meaning.strip().startswith(condition)}


def test_every_document_lists_keys():
    assert DOCS, "docs/metrics has no document"
    for doc in DOCS:
        keys = documented_keys(doc)
        assert keys and len(keys) == len(set(keys)), doc.name
        assert {"report", "parameters", "skipped_sections", "skipped_details", "generated_at"} <= set(keys), doc.name


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=[d.stem for d in DOCS])
def test_documented_keys_are_written_and_language_free(doc, demo_world, tmp_path):
    from analysis.params import REPORTS
    from analysis.reports.compute import compute

    report = doc.stem
    assert report in REPORTS, f"docs/metrics/{doc.name} names no report"
    runs = {}
    for lang in ("zh", "en"):
        runs[lang] = json.loads(json.dumps(
            compute(report, str(demo_world[0]), {**PARAMS.get(report, {}), "lang": lang}).metrics,
            ensure_ascii=False, default=str))
    # the default runs are the versions meant for the team: keys of the manager version are not in them
    documented = set(documented_keys(doc)) - conditional_keys(doc, "manager version only")
    for lang, m in runs.items():
        assert set(m) == documented, (lang, sorted(set(m) ^ documented))
        assert all(isinstance(s, str) and s.isascii() for s in m["skipped_sections"]), m["skipped_sections"]
    zh, en = ({k: v for k, v in m.items() if k not in VARYING} for m in (runs["zh"], runs["en"]))
    assert zh == en

"""The agency demo world exported as an agency system's files (Chinese headers, XLSX masters, GBK CSV
policies and receipts) and ingested back gives the same tables."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analysis import demo_export
from analysis.agency import demo as agency_demo
from analysis.contracts import spec
from analysis.ingest import ingest_file

SCALE = 0.15


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    d = tmp_path_factory.mktemp("agency_export")
    world = d / "world.duckdb"
    agency_demo.build(store=str(world), seed=7, scale=SCALE, truth_path=d / "truth.json")
    summary = demo_export.export_agency(world, d / "files")
    back = d / "back.duckdb"
    for f in demo_export.AGENCY_LAYOUT:
        res = ingest_file(f.table, d / "files" / f.name, store=str(back))
        assert res.quarantined == 0, (f.table, res.summary())
    return world, back, summary


def _frame(path, table):
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = spec(table).names
        df = con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {table}").df()
    finally:
        con.close()
    return df.sort_values(cols[:2] if table != "agency_targets" else cols[:4]).reset_index(drop=True)


def test_files_are_the_agency_systems_shapes(round_trip):
    _, _, summary = round_trip
    names = list(summary["files"])
    assert names == [f.name for f in demo_export.AGENCY_LAYOUT]
    csv = next(f for f in demo_export.AGENCY_LAYOUT if f.table == "policies")
    text = (pd.io.common.Path(summary["directory"]) / csv.name).read_bytes()
    first = text.split(b"\n", 1)[0].decode("gbk")
    assert first.startswith("保单号,代理人编码,承保日期") and "缴费方式" in first
    assert "期缴".encode("gbk") in text and "趸缴".encode("gbk") in text
    assert summary["commands"][0].startswith("sales-analysis ingest agents ")


@pytest.mark.parametrize("table", ["agents", "policies", "premium_receipts", "agent_month", "agency_targets"])
def test_ingested_tables_equal_the_demo(round_trip, table):
    world, back, _ = round_trip
    a, b = _frame(world, table), _frame(back, table)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_rank_history_comes_back(round_trip):
    """The promotions' versions come back; the first load of agents also wrote one open version for
    every other agent (ingest's rule for a master's first load)."""
    world, back, _ = round_trip
    a, b = _frame(world, "agents_history"), _frame(back, "agents_history")
    assert len(a) > 0
    others = b[~b["agent_id"].isin(a["agent_id"])]
    assert others["valid_to"].isna().all() and others["agent_id"].is_unique
    # ... and the promoted agents' first-load versions (valid from NULL) were closed where the file's begin
    b = b[b["agent_id"].isin(a["agent_id"]) & b["valid_from"].notna()]
    key = ["agent_id", "valid_from"]
    a = a.sort_values(key).reset_index(drop=True)[["agent_id", "rank", "valid_from", "valid_to"]]
    b = b.sort_values(key).reset_index(drop=True)[["agent_id", "rank", "valid_from", "valid_to"]]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)

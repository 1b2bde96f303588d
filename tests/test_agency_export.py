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


def test_agency_exports_ingest_with_quarantine_and_accounting(tmp_path):
    """A hand-made agency export: Chinese headers and values are read; bad rows are quarantined with
    their reason, and every row read is accounted for."""
    store = str(tmp_path / "s.duckdb")
    agents = tmp_path / "代理人.csv"
    agents.write_text("工号,姓名,营业组,营业部,签约日期,解约日期,解约原因,职级,推荐人,主管\n"
                      "A1,甲,一组,城东营业部,2024-01-10,,,业务经理,,\n"
                      "A2,乙,一组,城东营业部,2025/3/5,2026-03-15,考核解约,业务员,A1,A1\n"
                      "A3,丙,一组,城东营业部,不详,,,业务员,A1,A1\n", encoding="gbk")
    res = ingest_file("agents", agents, store=store)
    assert (res.rows_read, res.accepted, res.quarantined) == (3, 2, 1) and res.balanced
    policies = tmp_path / "承保清单.csv"
    policies.write_text("保单号,代理人编码,签单日期,险种,缴费方式,规模保费,首年佣金,保单状态,失效日期\n"
                        "P1,A1,2026-03-02,年金,期缴,\"6,000\",1800,有效,\n"
                        "P2,A2,2026-03-10,两全,趸缴,50000,1500,犹豫期撤单,\n"
                        "P3,A2,2026-03-11,两全,月缴,1000,30,有效,\n"
                        "P4,A9,2026-03-12,重疾,期缴,3000,900,失效,2026-05-01\n", encoding="gbk")
    res = ingest_file("policies", policies, store=store)
    assert res.rows_read == 4 and res.balanced
    assert res.quarantined == 2  # P3: 月缴 is no premium type; P4: agent A9 is not in agents
    db = duckdb.connect(store, read_only=True)
    try:
        got = db.execute("SELECT policy_id, premium_type, fyp, status FROM policies ORDER BY 1").fetchall()
        ag = db.execute("SELECT agent_id, hire_date, exit_reason, recruiter_id FROM agents ORDER BY 1").fetchall()
    finally:
        db.close()
    assert got == [("P1", "regular", 6000.0, "in_force"), ("P2", "single", 50000.0, "cancelled")]
    assert [a[0] for a in ag] == ["A1", "A2"] and ag[1][2] == "involuntary" and ag[1][3] == "A1"

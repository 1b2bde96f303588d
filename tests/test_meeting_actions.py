"""Action points (analysis.meeting.actions): flagged from the summary, written to the pack's
workbook, filled in, ingested back (the ``actions`` contract) and reviewed a month later."""
from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import pandas as pd
import pytest

from analysis import store, trends
from analysis.params import SalesTrendsParams
from analysis.meeting import actions
from analysis.present import render


def _summary_sections():
    att = trends.LevelAttainment(level="region", has_targets=True, time_elapsed=1.0)
    att.table = pd.DataFrame({
        "key": ["North", "=cmd", "East"], "target": [100.0, 80.0, 50.0], "actual": [80.0, 70.0, 60.0],
        "attainment": [0.8, 0.875, 1.2], "gap": [-20.0, -10.0, 10.0], "last_year": [90.0, 70.0, 40.0],
        "yoy": [-0.1, 0.0, 0.5], "action": [True, True, False]})
    under = trends.Underperformers(threshold=0.9, streak=3)
    under.table = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["张三", None], "region": ["North", "East"],
                                "2026-08": [0.8, 0.7], "2026-09": [0.85, 0.6], "2026-10": [0.82, 0.5]})
    return [att, under]


def test_flagged_items_are_the_flagged_regions_then_the_reps_below_target():
    items = actions.flagged_items(_summary_sections(), "2026-10")
    assert list(items.columns) == list(actions.COLUMNS)
    assert items[["item_kind", "item_key", "item", "owner"]].values.tolist() == [
        ["region", "North", "North", "North"], ["region", "=cmd", "=cmd", "=cmd"],
        ["rep", "R1", "张三", "张三"], ["rep", "R2", "R2", "R2"]]
    assert items["figure"].tolist() == [0.8, 0.875, 0.82, 0.5]        # the month's attainment, the last month's
    assert items["threshold"].tolist() == [1.0, 1.0, 0.9, 0.9]         # time elapsed; the report's threshold
    assert (items["meeting_month"] == dt.date(2026, 10, 1)).all()
    assert items["action"].isna().all() and items["due_date"].isna().all()


def test_skipped_sections_flag_nothing():
    att, under = _summary_sections()
    att.skipped("no_targets", level="region")
    under.skipped("no_targets", level="rep")
    assert actions.flagged_items([att, under], "2026-10").empty


def _fill(path, out, month: dt.date, extra_row=None):
    """Fill the first two rows' action and due date (as a manager would), set the meeting month."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    for r in range(2, ws.max_row + 1):
        ws.cell(r, 1).value = month
    ws.cell(2, 8).value = "每周走访重点客户"
    ws.cell(2, 9).value = dt.date(2026, 11, 15)
    ws.cell(3, 8).value = "调整陈列"
    ws.cell(3, 9).value = dt.date(2026, 11, 30)
    if extra_row:
        ws.append(extra_row)
    wb.save(out)


def test_workbook_round_trip_through_ingest(tmp_path):
    items = actions.flagged_items(_summary_sections(), "2026-10")
    path = actions.write_workbook(tmp_path / "meeting.xlsx", items, "zh")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    assert wb.sheetnames[0] == "改善行动点" and wb.active.title == "改善行动点"
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["会议月份", "类别", "编码", "事项", "当时完成率", "达标线", "负责人",
                                         "改善措施", "完成期限"]
    assert ws.cell(3, 3).value == "'=cmd"  # a formula-looking key is neutralised
    assert ws.cell(2, 5).number_format.endswith("%")
    filled = tmp_path / "filled.xlsx"
    _fill(path, filled, dt.date(2026, 10, 1))
    db = tmp_path / "s.duckdb"
    res = subprocess.run([sys.executable, "-m", "analysis.cli", "ingest", "actions", str(filled), "--store", str(db)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr + res.stdout
    con = store.connect(str(db), read_only=True)
    got = con.table("actions").execute().sort_values(["item_kind", "item_key"]).reset_index(drop=True)
    con.disconnect()
    assert len(got) == 4
    assert set(got["item_kind"]) == {"region", "rep"}
    # the neutralised key comes back as written (the apostrophe is text in the cell)
    assert sorted(got["item_key"]) == ["'=cmd", "North", "R1", "R2"]
    north = got[got.item_key == "North"].iloc[0]
    assert north["action"] == "每周走访重点客户" and pd.Timestamp(north["due_date"]).date() == dt.date(2026, 11, 15)
    assert math.isclose(north["figure"], 0.8) and math.isclose(north["threshold"], 1.0)
    assert got[got.item_key == "R2"]["action"].isna().all()


def test_english_headers_ingest_too(tmp_path):
    items = actions.flagged_items(_summary_sections(), "2026-10")
    path = actions.write_workbook(tmp_path / "meeting.xlsx", items, "en")
    db = tmp_path / "s.duckdb"
    res = subprocess.run([sys.executable, "-m", "analysis.cli", "ingest", "actions", str(path), "--store", str(db)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr + res.stdout
    con = store.connect(str(db), read_only=True)
    assert con.table("actions").count().execute() == 4
    con.disconnect()


def test_every_catalogue_header_is_an_ingest_alias():
    from analysis.aliases import canonical_header
    from analysis.i18n import label, languages

    for lang in languages():
        for c in actions.COLUMNS:
            assert canonical_header("actions", label(f"meeting.actions.column.{c}", lang)) == c, (lang, c)


def test_no_actions_table_means_no_review(demo_con):
    assert actions.previous_actions(demo_con, "2026-10") is None
    assert actions.review_previous(demo_con, "2026-10") is None


@pytest.fixture(scope="module")
def store_with_actions(demo_world, tmp_path_factory):
    """A copy of the demo store with the 2026-09 action points ingested: two real regions, one
    rep, and an item that no longer exists."""
    import shutil

    src, _ = demo_world
    d = tmp_path_factory.mktemp("actions")
    db = d / "w.duckdb"
    shutil.copy(src, db)
    con = store.connect(str(db), read_only=True)
    scope = trends.prepare(con, SalesTrendsParams.of(month="2026-10", level="region"))
    regions = trends.attainment_by_level(scope, "region").table
    reps = trends.rep_attainment(scope, scope.period.start, scope.period.end)
    con.disconnect()
    best, worst = regions.sort_values("attainment").key.iloc[-1], regions.sort_values("attainment").key.iloc[0]
    rep = reps.rep_id.iloc[0]
    items = pd.DataFrame({
        "meeting_month": [dt.date(2026, 9, 1)] * 4, "item_kind": ["region", "region", "rep", "rep"],
        "item_key": [best, worst, rep, "R9999"], "item": [best, worst, rep, "已离职"],
        "figure": [0.8, 0.8, 0.7, 0.6], "threshold": [0.0, 10.0, 0.5, 0.9], "owner": ["a", "b", "c", "d"],
        "action": [None] * 4, "due_date": [None] * 4})
    path = actions.write_workbook(d / "sheet.xlsx", items, "zh")
    res = subprocess.run([sys.executable, "-m", "analysis.cli", "ingest", "actions", str(path), "--store", str(db)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr + res.stdout
    return db, {"best": best, "worst": worst, "rep": rep, "rep_now": float(reps.attainment.iloc[0])}


def test_last_months_actions_beside_the_figure_now(store_with_actions):
    db, k = store_with_actions
    con = store.connect(str(db), read_only=True)
    res = actions.review_previous(con, "2026-10")
    con.disconnect()
    df = res.table.set_index("item_key")
    assert df.loc[k["best"], "status"] == "recovered"          # threshold 0: any attainment recovers
    assert df.loc[k["worst"], "status"] == "not_recovered"     # threshold 1000 %
    assert math.isclose(df.loc[k["rep"], "figure_now"], k["rep_now"])
    assert df.loc["R9999", "status"] == "not_found"            # shown, not dropped
    assert res.metrics() == {"previous_actions": 4, "previous_actions_recovered": 2,
                             "previous_actions_not_recovered": 1, "previous_actions_not_found": 1}
    blocks = render(res, "zh", actions.summary_text)
    assert blocks[0].payload[1] == "上月改善行动点回顾"
    assert "4项改善行动点" in blocks[1].payload
    assert any(b.kind == "table" and "本月无此项" in b.payload[1] for b in blocks)

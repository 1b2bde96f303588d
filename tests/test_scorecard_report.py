"""The rep scorecard end to end: the exported HTML of the team version holds no pay, the manager
version says at the top that it holds pay, the workbook has the meeting's sheets; and on the demo
world the planted underperformers all rank in the bottom quarter."""
from __future__ import annotations

import json
import math

import openpyxl
import pytest
from bs4 import BeautifulSoup

from analysis import reports, store
from analysis import scorecard as sc
from analysis.params import RepScorecardParams
from test_scorecard import SCHEME, _write_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("scorecard_runs")
    path = _write_store(d / "s.duckdb")
    scheme = dict(SCHEME, bonus_pool={"amount": 12345.67, "individual_share": 0.7},
                  streak_penalty={"points": 10, "months": 3, "threshold": 0.9})
    (d / "pool.yml").write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    (d / "adj.csv").write_text("客户经理编码,加减分,原因\nB,+2.5,竞赛第一\nD,-1,迟报\n", encoding="utf-8")
    out = {}
    for audience in ("team", "manager"):
        res = reports.run_report("rep_scorecard", {"scheme": str(d / "pool.yml"), "month": "2026-03",
                                                   "audience": audience, "n_boot": 200,
                                                   "adjustments": str(d / "adj.csv")},
                                 store=str(path), out=d / audience, output_name=f"rep_scorecard_{audience}",
                                 update_index=False, progress=False)
        assert res.ok, res.summary()
        out[audience] = res
    return out


def _text(res) -> str:
    return BeautifulSoup(res.html.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def test_team_html_holds_no_pay_figure(runs):
    page = runs["team"].html.read_text(encoding="utf-8")
    metrics = json.loads(runs["manager"].metrics.read_text(encoding="utf-8"))
    assert metrics["payout_total"] == pytest.approx(12345.67)
    text = _text(runs["team"])
    for word in ("奖金", "12,345", "12345", "1.2万元"):
        assert word not in page, word
    # no single rep's pay either (the manager version's amounts, as shown in its table)
    m = BeautifulSoup(runs["manager"].html.read_text(encoding="utf-8"), "html.parser")
    pay_cells = {td.get_text() for tr in m.select("table")[-1].select("tr")[1:] for td in tr.select("td")[-3:]}
    assert pay_cells and not any(c in text for c in pay_cells if len(c) > 4)
    team_metrics = json.loads(runs["team"].metrics.read_text(encoding="utf-8"))
    assert "payout_total" not in team_metrics and team_metrics["leader"] == "甲"


def test_manager_html_says_at_the_top_that_it_holds_pay(runs):
    soup = BeautifulSoup(runs["manager"].html.read_text(encoding="utf-8"), "html.parser")
    notes = [p.get_text() for p in soup.select("p.note")]
    assert notes and "个人奖金" in notes[0] and "仅供管理人员" in notes[0]
    assert "奖金分配" in soup.get_text()


def test_workbook_is_the_meetings_sheet(runs):
    wb = openpyxl.load_workbook(runs["team"].workbook)
    assert wb.sheetnames[0] == "说明" and "综合得分与排名" in wb.sheetnames
    ws = wb["综合得分与排名"]
    heads = [c.value for c in ws[1]]
    assert heads[:5] == ["排名", "客户经理编号", "姓名", "区域", "综合得分"]
    assert [ws.cell(r, 1).value for r in range(2, 6)] == [1, 2, 3, 4]
    assert ws.cell(2, 3).value == "甲" and ws.cell(2, 5).value == pytest.approx(89)
    assert not any("奖金" in s for s in wb.sheetnames)
    assert "奖金分配" in openpyxl.load_workbook(runs["manager"].workbook).sheetnames


def test_demo_underperformers_rank_in_the_bottom_quarter(demo_world):
    path, truth = demo_world
    con = store.connect(str(path), read_only=True)
    scope = sc.prepare(con, RepScorecardParams.of(n_boot=100))
    s = scope.scores.set_index("rep_id")
    ranked = int(s["rank"].notna().sum())
    under = truth["underperformers"]
    assert sorted(scope.streaks["rep_id"]) == sorted(under)
    ranks = [int(s.loc[r, "rank"]) for r in under]
    assert all(r > 0.75 * ranked for r in ranks), (ranks, ranked)


def test_totals_are_components_plus_adjustments_from_metrics_json(runs):
    # issue 18.6: the streak penalty was in the totals but nowhere in the file
    m = json.loads(runs["team"].metrics.read_text(encoding="utf-8"))
    by = {r["rep_id"]: r for r in m["scores"]}
    for r in m["scores"]:
        assert r["total"] == pytest.approx(math.fsum(r["components"].values()) + r["adjustment"], abs=1e-9)
        assert r["adjustment"] == pytest.approx(math.fsum(a["points"] for a in r["adjustments"]), abs=1e-12)
    # B: below 90 % of target three months running (-10) and +2.5 by hand; D: -1
    assert sorted((a["source"], a["points"]) for a in by["B"]["adjustments"]) == [("manual", 2.5),
                                                                                 ("streak_penalty", -10.0)]
    assert by["B"]["total"] == pytest.approx(21.25 - 10 + 2.5)
    assert by["D"]["adjustments"] == [{"points": -1.0, "source": "manual", "reason": "迟报"}]
    assert by["A"]["adjustments"] == [] and by["A"]["adjustment"] == 0


@pytest.fixture(scope="module")
def slim_demo(tmp_path_factory):
    """A small demo world whose orders are rewritten the way departments export them: no region,
    rep, brand, price class or channel on the lines (they are in customers and products)."""
    import duckdb

    from analysis import demo

    d = tmp_path_factory.mktemp("slim_demo")
    path = d / "w.duckdb"
    demo.build(store=str(path), seed=7, scale=0.02, truth_path=d / "truth.json")
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE orders AS SELECT * EXCLUDE (region, rep_id, brand, price_class, channel) "
                "FROM orders")
    con.close()
    return path


def test_the_scorecard_runs_on_slim_orders(slim_demo, tmp_path):
    import duckdb

    res = reports.run_report("rep_scorecard", {"n_boot": 100}, store=str(slim_demo), out=tmp_path,
                             update_index=False, progress=False)
    assert res.ok, res.summary()
    m = json.loads(res.metrics.read_text(encoding="utf-8"))
    assert m["coverage"] == {"rep_id": 1.0, "brand": 1.0, "price_class": 1.0}
    assert "amount_attainment" in m["weights"] and "key_brand_distribution" in m["weights"]
    # each rep's attainment is the sales of the customers it served at the sale date (the
    # customers' history) over its target: checked in SQL
    con = duckdb.connect(str(slim_demo), read_only=True)
    month = m["month"]
    sold = dict(con.execute(
        "SELECT h.rep_id, sum(o.amount) FROM orders o JOIN customers_history h ON h.customer_id = o.customer_id "
        "AND (h.valid_from IS NULL OR h.valid_from <= o.order_date) AND (h.valid_to IS NULL OR o.order_date < h.valid_to) "
        f"WHERE strftime(o.order_date, '%Y-%m') = '{month}' GROUP BY 1").fetchall())
    target = dict(con.execute(
        "SELECT key, sum(value) FROM targets WHERE level = 'rep' AND measure = 'amount' "
        f"AND strftime(CAST(period AS DATE), '%Y-%m') = '{month}' GROUP BY 1").fetchall())
    con.close()
    checked = 0
    for r in m["scores"]:
        t = target.get(r["rep_id"])
        if t and t > 0:
            assert r["values"]["amount_attainment"] == pytest.approx(sold.get(r["rep_id"], 0.0) / t), r["rep_id"]
            checked += 1
    assert checked > 10

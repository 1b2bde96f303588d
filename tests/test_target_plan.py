"""The target plan wired to a store: each method against a hand-computed split on a small
fixture store, exact sums at every level, overrides, the cap, ramps, the pool, bad input,
the backtest, and the targets file ingested and read back by the trends report."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from analysis import store, target_plan as tp
from analysis.reports.targets_file import write_targets
from analysis.params import SalesTrendsParams
from analysis.errors import InsufficientDataError, ParameterError, PlanError
from analysis.params import TargetPlanParams, validate_params

# ----------------------------------------------------------------------------- the world
# Two regions. A: reps r1 (customer c1, grade 10), r2 (c2, grade 5) and customer c4 (grade 2)
# without a serving rep (A's pool); B: rep r3 (c3, grade 15). Every month c1 buys 100
# (200 in January), c2 50, c3 150, c4 10; each line split 70 % brand X, 30 % brand Y;
# qty = amount / 10. Data 2024-01 … 2025-12 (one order day per month, the 15th).
MONTHLY = {"c1": 100.0, "c2": 50.0, "c3": 150.0, "c4": 10.0}
CUSTOMERS = [("c1", "A", "r1", 10, "large"), ("c2", "A", "r2", 5, "medium"), ("c3", "B", "r3", 15, "large"),
             ("c4", "A", None, 2, "small")]
REPS = [("r1", "2015-03-01", "A", "甲", None), ("r2", "2016-05-01", "A", "乙", None),
        ("r3", "2014-01-10", "B", "丙", None)]


def _amount(cid: str, month: pd.Period) -> float:
    return 200.0 if (cid == "c1" and month.month == 1) else MONTHLY[cid]


def make_store(path: Path, *, months: tuple[str, str] = ("2024-01", "2025-12"), reps: list | None = None,
               targets: list | None = None, day: int = 15) -> Path:
    rows, oid = [], 0
    for m in pd.period_range(months[0], months[1], freq="M"):
        for cid, region, rep, _, _ in CUSTOMERS:
            v = _amount(cid, m)
            for line, (brand, part) in enumerate((("X", 0.7), ("Y", 0.3)), start=1):
                oid += 1
                rows.append((f"o{oid}", line, dt.date(m.year, m.month, day), cid, f"s{brand}", rep or "rx", region,
                             brand, round(v * part, 6), round(v * part / 10, 6)))
    con = duckdb.connect(str(path))
    con.execute("create table orders (order_id varchar, line_no integer, order_date date, customer_id varchar, "
                "sku_id varchar, rep_id varchar, region varchar, brand varchar, amount double, qty double)")
    con.executemany("insert into orders values (?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("create table customers (customer_id varchar, region varchar, rep_id varchar, grade integer, "
                "size_class varchar)")
    con.executemany("insert into customers values (?,?,?,?,?)", CUSTOMERS)
    con.execute("create table reps (rep_id varchar, hire_date date, region varchar, name varchar, exit_date date)")
    con.executemany("insert into reps values (?,?,?,?,?)", reps if reps is not None else REPS)
    con.execute("create table products (sku_id varchar, brand varchar)")
    con.executemany("insert into products values (?,?)", [("sX", "X"), ("sY", "Y")])
    if targets:
        con.execute("create table targets (period date, level varchar, key varchar, measure varchar, value double)")
        con.executemany("insert into targets values (?,?,?,?,?)", targets)
    con.close()
    return path


@pytest.fixture()
def world(tmp_path):
    con = store.connect(str(make_store(tmp_path / "w.duckdb")), read_only=True)
    yield con
    con.disconnect()


def plan(con, **kw):
    kw.setdefault("rounding", 1)
    kw.setdefault("growth_cap", None)
    return tp.prepare(con, TargetPlanParams.of(**kw))


def by(frame: pd.DataFrame, key: str) -> dict:
    return {k: float(v) for k, v in zip(frame[key], frame["plan"])}


# ---------------------------------------------------------------------- each method by hand
def test_last_12_by_hand(world):
    # window 2025-01 … 2025-12: c1 11*100 + 200 = 1300, c2 600, c4 120 (A's pool), c3 1800
    # A = 2020, B = 1800 of 3820; total 38,200 -> A 20,200, B 18,000
    s = plan(world, total=38200, method="last_12")
    assert s.month == pd.Period("2026-01", "M")  # "next": after the last complete month
    assert by(s.plan.regions, "region") == {"A": 20200.0, "B": 18000.0}
    # within A: 1300 : 600 : 120 of 20,200
    assert by(s.plan.reps, "rep_id") == {"r1": 13000.0, "r2": 6000.0, "pool:A": 1200.0, "r3": 18000.0}
    assert s.plan.reps.set_index("rep_id").loc["pool:A", "pool"]


def test_same_month_by_hand(world):
    # 2025-01: c1 200, c2 50, c4 10 -> A 260; c3 150 -> B 150; total 41,000 -> A 26,000, B 15,000
    s = plan(world, total=41000, method="same_month")
    assert by(s.plan.regions, "region") == {"A": 26000.0, "B": 15000.0}
    assert by(s.plan.reps, "rep_id") == {"r1": 20000.0, "r2": 5000.0, "pool:A": 1000.0, "r3": 15000.0}


def test_blend_by_hand(world):
    # A's share 0.5 * 2020/3820 + 0.5 * 260/410; total 100,000 in whole yuan
    a = Fraction(1, 2) * Fraction(2020, 3820) + Fraction(1, 2) * Fraction(260, 410)
    qa = 100000 * a  # 58,147.09…; B's quota 41,852.90…: B has the larger remainder and gets the unit left
    assert int(qa) == 58147 and qa - int(qa) < Fraction(1, 2)
    s = plan(world, total=100000, method="blend", blend_weights={"last_12": 0.5, "same_month": 0.5})
    assert by(s.plan.regions, "region") == {"A": 58147.0, "B": 41853.0}
    # reps within A by the blend of their within-A shares: r1 0.5*1300/2020 + 0.5*200/260, …
    reps = by(s.plan.reps, "rep_id")
    assert reps["r3"] == 41853.0 and reps["r1"] + reps["r2"] + reps["pool:A"] == 58147.0
    r1 = 58147 * (Fraction(1, 2) * Fraction(1300, 2020) + Fraction(1, 2) * Fraction(200, 260))
    assert abs(reps["r1"] - float(r1)) < 1


def test_capacity_by_hand(world):
    # grades: A = 10 + 5 + 2 = 17, B = 15; total 32,000 -> A 17,000, B 15,000; r1 10,000, r2 5,000, pool 2,000
    s = plan(world, total=32000, method="capacity")
    assert s.capacity_by == "grade"
    assert by(s.plan.regions, "region") == {"A": 17000.0, "B": 15000.0}
    assert by(s.plan.reps, "rep_id") == {"r1": 10000.0, "r2": 5000.0, "pool:A": 2000.0, "r3": 15000.0}


def test_products_split_each_rep_and_sum_company_wide(world):
    s = plan(world, total=38200, method="last_12", levels=["region", "rep", "brand"])
    rp = s.plan.rep_products.set_index(["rep_id", "product"])["plan"]
    assert rp[("r1", "X")] == 9100.0 and rp[("r1", "Y")] == 3900.0 and rp[("pool:A", "X")] == 840.0
    assert by(s.plan.products, "product") == {"X": 26740.0, "Y": 11460.0}
    t = s.plan.targets
    assert set(t["level"]) == {"company", "region", "rep", "brand"}


# ------------------------------------------------------------------------- exact sums
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.integers(1, 10**7), unit=st.sampled_from([1, 100, 0.5]),
       method=st.sampled_from(["last_12", "same_month", "blend", "capacity"]))
def test_every_level_sums_exactly_to_the_total(world, units, unit, method):
    total = float(Fraction(units) * Fraction(str(unit)))
    s = plan(world, total=total, rounding=unit, method=method, levels=["region", "rep", "brand"])
    t = s.plan.targets
    sums = t.groupby("level")["value"].apply(lambda v: sum(Fraction(str(x)) for x in v))
    assert all(x == Fraction(str(total)) for x in sums), sums
    assert all((Fraction(str(v)) / Fraction(str(unit))).denominator == 1 for v in t["value"])
    # each region's reps sum exactly to the region
    reps = s.plan.reps.groupby("region")["plan"].sum()
    assert reps.to_dict() == by(s.plan.regions, "region")


# ------------------------------------------------------------------------- rules
def test_overrides_locked_and_the_rest_rebalanced(world):
    # A locked at 25,000 -> B 13,200; r1 locked at 15,000 -> A's other 10,000 over r2 : pool = 600 : 120
    s = plan(world, total=38200, method="last_12", overrides={"A": 25000, "r1": 15000})
    assert by(s.plan.regions, "region") == {"A": 25000.0, "B": 13200.0}
    reps = by(s.plan.reps, "rep_id")
    assert reps == {"r1": 15000.0, "r2": 8333.0, "pool:A": 1667.0, "r3": 13200.0}  # 8,333.3 and 1,666.7
    assert s.plan.locked == ["A", "r1"]
    assert s.plan.reps.set_index("rep_id").loc["r1", "locked"]


def test_overrides_from_a_csv_file(world, tmp_path):
    f = tmp_path / "ov.csv"
    f.write_text("level,key,value\nregion,A,25000\nrep,r1,15000\n", encoding="utf-8")
    s = plan(world, total=38200, method="last_12", overrides=str(f))
    assert by(s.plan.reps, "rep_id")["r1"] == 15000.0 and by(s.plan.regions, "region")["A"] == 25000.0


def test_the_cap_holds_and_the_rest_is_rebalanced(world):
    # last_12 shares A 2020/3820, B 1800/3820 of 451 -> 238.5 / 212.5; same month last year A 260, B 150:
    # ±20 % keeps B <= 180 (capped), A takes 271 (within 208 … 312)
    s = plan(world, total=451, method="last_12", growth_cap=0.2)
    assert by(s.plan.regions, "region") == {"A": 271.0, "B": 180.0}
    assert "B" in s.plan.capped and "A" not in s.plan.capped
    # reps of A (271 by 1300 : 600 : 120 -> 174.4, 80.5, 16.1; last year 200, 50, 10): r2 <= 60, pool <= 12
    reps = by(s.plan.reps, "rep_id")
    assert reps == {"r1": 199.0, "r2": 60.0, "pool:A": 12.0, "r3": 180.0}
    assert {"r2", "pool:A"} <= set(s.plan.capped)
    ly = s.plan.reps.set_index("rep_id")["last_year"]
    for k, v in reps.items():
        assert ly[k] * 0.8 - 1e-9 <= v <= ly[k] * 1.2 + 1e-9


def test_a_new_rep_gets_the_ramp_share_and_the_served_customers_stay_with_their_rep(tmp_path):
    reps = REPS + [("r4", "2025-11-15", "B", "丁", None), ("r9", "2015-01-01", "B", "戊", "2025-06-30")]
    con = store.connect(str(make_store(tmp_path / "w.duckdb", reps=reps)), read_only=True)
    s = plan(con, total=38200, method="last_12")
    reps_ = by(s.plan.reps, "rep_id")
    # B = 18,000 over r3 and the new r4 (no customers): r4 = 0.5 × 18,000 / 2 = 4,500; r9 left: not planned
    assert reps_["r4"] == 4500.0 and reps_["r3"] == 13500.0 and "r9" not in reps_
    assert s.plan.reps.set_index("rep_id").loc["r4", "new"]
    con.disconnect()


def test_underperformers_with_an_above_average_increase_are_flagged(tmp_path):
    # rep targets Oct–Dec 2025: r2 100 (actual 50: 50 %), r1 100 (actual 100)
    tg = [(dt.date(2025, m, 1), "rep", r, "amount", 100.0) for m in (10, 11, 12) for r in ("r1", "r2")]
    con = store.connect(str(make_store(tmp_path / "w.duckdb", targets=tg)), read_only=True)
    s = plan(con, total=38200, method="last_12")
    t = s.plan.reps.set_index("rep_id")
    assert s.underperformers == ["r2"]
    # the level's change 38,200 / 410 − 1; r2: 6,000 / 50 − 1 is above it, so r2 is to be watched
    assert t.loc["r2", "watch"] and not t.loc["r1", "watch"] and not t.loc["pool:A", "watch"]
    con.disconnect()


# ------------------------------------------------------------------------- the backtest
def test_backtest_by_hand(world):
    # the last 6 complete months Jul–Dec 2025, at the rep level; actual shares every month
    # r1 100, r2 50, pool 10, r3 150 of 310. last_12 predicts 1300, 600, 120, 1800 of 3820
    # (each window holds one January); same_month predicts the actual (no January in Jul–Dec).
    s = plan(world, total=38200, method="last_12")
    act = [Fraction(x, 310) for x in (100, 50, 10, 150)]
    l12 = [Fraction(x, 3820) for x in (1300, 600, 120, 1800)]
    mae_l12 = float(sum(abs(a - b) for a, b in zip(act, l12)) / 4)
    mae_eq = float(sum(abs(a - Fraction(1, 4)) for a in act) / 4)
    bt = s.plan.backtest.set_index("method")
    assert s.plan.backtest_level == "rep"
    assert bt.loc["last_12", "mae"] == pytest.approx(mae_l12, abs=1e-12)
    assert bt.loc["equal", "mae"] == pytest.approx(mae_eq, abs=1e-12)
    assert bt.loc["same_month", "mae"] == pytest.approx(0.0, abs=1e-12)
    assert (bt["n_months"] == 6).all()
    assert round(mae_l12, 6) == 0.008867 and round(mae_eq, 6) == 0.153226


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("values, match", [
    ({"total": 0}, r"'total' parameter of target_plan must satisfy: input should be greater than 0"),
    ({"total": -5}, r"'total' parameter"),
    ({"total": 1000, "overrides": {"A": 2000}}, r"'overrides' parameter .* at most the total"),
    ({"total": 1000, "overrides": {"region": {"A": 600, "B": 600}}}, r"at most the total 1,000"),
    ({"total": 1050}, r"whole multiple of the rounding unit 100"),
    ({"levels": ["rep"]}, r"'levels' parameter"),
    ({"blend_weights": {"last_12": 0.7}}, r"sum(ming)? to 1"),
    ({"month": "2026-13"}, r"'month' parameter"),
])
def test_bad_parameters_are_one_line_errors_before_any_kernel(values, match):
    with pytest.raises(ParameterError, match=match) as e:
        validate_params(TargetPlanParams, values, "target_plan")
    assert "\n" not in str(e.value)


def test_bad_input_at_prepare_is_one_line(world):
    with pytest.raises(PlanError, match=r"override key 'Z' is neither a region \(A, B\) nor a rep") as e:
        plan(world, total=38200, overrides={"Z": 100})
    assert "\n" not in str(e.value)
    with pytest.raises(PlanError, match="overrides must sum to at most"):
        plan(world, total=38200, overrides={"r1": 15000, "r2": 15000})  # above A's plan of 20,200
    with pytest.raises(InsufficientDataError, match="no complete month of history before it"):
        plan(world, total=38200, month="2024-01")  # inside the data, nothing before it
    with pytest.raises(ParameterError, match=r"'total' parameter of target_plan is required"):
        plan(world, month="2026-01")  # no total and no company target in the store


def test_an_infeasible_cap_is_relaxed_and_said_at_the_top(world):
    # issue 25.5: a total 36.6 % above the same month last year (2025-01: A 260, B 150) with a cap of
    # 30 % stopped the plan; now the cap is relaxed to 560 / 410 - 1 and every key is at it
    from analysis.narrative import target_plan as text
    from analysis.present import Presenter
    from present_helpers import shown_html

    s = plan(world, total=560, growth_cap=0.3, method="last_12")
    reg = s.plan.regions.set_index("region")
    assert reg["plan"].to_dict() == {"A": 355.0, "B": 205.0} and reg["capped"].all()
    region = [r for r in s.plan.relaxed if r["level"] == "region"]
    assert len(region) == 1 and region[0]["cap"] == pytest.approx(560 / 410 - 1)
    assert sorted(region[0]["keys"]) == ["A", "B"]
    assert s.plan.reps["plan"].sum() == 560 and s.plan.reps["capped"].any()
    res = tp.overview(s)
    assert res.metrics()["growth_cap_relaxed"][0]["cap"] == pytest.approx(560 / 410 - 1)
    for lang, words in (("en", "the cap was relaxed"), ("zh", "上限已放宽")):
        html = shown_html(Presenter("target_plan", text.TEXTS, lang), res)
        first = html.split("</h2>", 1)[1].split("</p>", 1)[0]  # the first thing under the heading
        assert words in first, first
    # no plan can be made: overrides above the total still refuse
    with pytest.raises((PlanError, ParameterError), match="at most the total"):
        plan(world, total=560, growth_cap=0.3, overrides={"A": 600})


def test_total_from_the_store_rounded_to_the_unit(tmp_path):
    tg = [(dt.date(2026, 1, 1), "company", "company", "amount", 38212.0)]
    con = store.connect(str(make_store(tmp_path / "w.duckdb", targets=tg)), read_only=True)
    s = tp.prepare(con, TargetPlanParams.of(method="last_12", growth_cap=None, rounding=100))
    assert s.total == 38200.0 and s.total_source == "store"
    # the fixture has no rep-level targets: the watch list cannot be made, and the report says so
    assert s.notes == [("total_rounded", {"value": 38212.0, "rounded": 38200.0, "unit": 100.0}),
                       ("no_watch_list", {"reason": "no_targets"})]
    con.disconnect()


# ------------------------------------------------------------------------- files, ingest, trends
def test_targets_file_ingests_and_the_trends_report_reads_it(tmp_path):
    from analysis import ingest, trends

    path = make_store(tmp_path / "w.duckdb")
    con = store.connect(str(path), read_only=True)
    s = plan(con, total=38200, month="2025-12", method="last_12", levels=["region", "rep", "brand"])
    con.disconnect()
    names = write_targets(s, lambda n: tmp_path / n)
    assert names == {"csv": "targets_2025-12.csv", "xlsx": "targets_2025-12.xlsx"}
    csv = pd.read_csv(tmp_path / names["csv"], encoding="utf-8-sig")
    assert list(csv.columns) == ["period", "level", "key", "measure", "value"]
    res = ingest.ingest_file("targets", tmp_path / names["csv"], store=str(path))
    assert res.accepted == len(s.plan.targets) and res.quarantined == 0, res.summary()
    con = store.connect(str(path), read_only=True)
    scope = trends.prepare(con, SalesTrendsParams.of(month="2025-12"))
    att = trends.attainment_by_level(scope, "region")
    assert att.has_targets
    assert att.table.set_index("key")["target"].to_dict() == by(s.plan.regions, "region")
    rep = trends.attainment_by_level(scope, "rep").table.set_index("key")["target"].dropna().to_dict()
    assert rep == by(s.plan.reps, "rep_id")
    con.disconnect()
    # the 任务分解表 (Chinese headers and values) ingests to the same rows
    other = make_store(tmp_path / "x.duckdb")
    res2 = ingest.ingest_file("targets", tmp_path / names["xlsx"], store=str(other))
    assert res2.accepted == len(s.plan.targets) and res2.quarantined == 0, res2.summary()
    c1, c2 = duckdb.connect(str(path), read_only=True), duckdb.connect(str(other), read_only=True)
    q = "select cast(period as varchar), level, key, measure, value from targets order by all"
    assert c1.execute(q).fetchall() == c2.execute(q).fetchall()
    c1.close(), c2.close()


def test_the_xlsx_has_chinese_headers(world, tmp_path):
    from openpyxl import load_workbook

    s = plan(world, total=38200)
    names = write_targets(s, lambda n: tmp_path / n)
    ws = load_workbook(tmp_path / names["xlsx"]).active
    assert ws.title == "任务分解表"
    assert [c.value for c in ws[1]] == ["月份", "层级", "对象", "指标", "目标值"]
    assert [c.value for c in ws[2]] == ["2026-01", "公司", "company", "金额", 38200]
    assert ws.freeze_panes == "A2"


def test_the_xlsx_follows_the_run_language(world, tmp_path):
    """In English the workbook carries the canonical names, which ingest reads as they are."""
    from openpyxl import load_workbook

    s = plan(world, total=38200)
    s.params = s.params.model_copy(update={"lang": "en"})
    names = write_targets(s, lambda n: tmp_path / n)
    ws = load_workbook(tmp_path / names["xlsx"]).active
    assert ws.title == "targets"
    assert [c.value for c in ws[1]] == ["period", "level", "key", "measure", "value"]
    assert [c.value for c in ws[2]] == ["2026-01", "company", "company", "amount", 38200]


def test_short_history_plans_but_skips_the_backtest(tmp_path):
    # one month of monthly data (2024-01, dated the 1st): a plan for 2024-02 from it; Jan: A 260, B 150
    path = make_store(tmp_path / "w.duckdb", months=("2024-01", "2024-01"), day=1)
    con = store.connect(str(path), read_only=True)
    s = plan(con, total=4100, method="last_12")
    assert s.month == pd.Period("2024-02", "M")
    assert by(s.plan.regions, "region") == {"A": 2600.0, "B": 1500.0}
    res = tp.backtest(s)  # the only month has nothing before it
    assert res.skip is not None and res.skip.as_dict() == {"reason": "too_short", "details": {"needed": 13, "got": 1}}
    assert set(res.metrics()) == {"backtest_share_mae", "backtest_level", "backtest_book"}
    con.disconnect()


def test_without_serving_reps_or_order_brands_the_orders_and_products_are_used(tmp_path):
    # customers without rep_id: the orders' rep_id (c4's rep 'rx' is not on the roster -> A's pool);
    # orders without brand: the brand through products.sku_id. The same plan as test_last_12_by_hand.
    path = make_store(tmp_path / "w.duckdb")
    raw = duckdb.connect(str(path))
    raw.execute("alter table customers drop column rep_id")
    raw.execute("alter table orders drop column brand")
    raw.close()
    con = store.connect(str(path), read_only=True)
    s = plan(con, total=38200, method="last_12", levels=["region", "rep", "brand"])
    assert by(s.plan.reps, "rep_id") == {"r1": 13000.0, "r2": 6000.0, "pool:A": 1200.0, "r3": 18000.0}
    assert by(s.plan.products, "product") == {"X": 26740.0, "Y": 11460.0}
    con.disconnect()


def test_overrides_from_a_yaml_file_and_for_a_pool(world, tmp_path):
    f = tmp_path / "ov.yml"
    f.write_text("rep:\n  'pool:A': 2200\n", encoding="utf-8")
    s = plan(world, total=38200, method="last_12", overrides=str(f))
    reps = by(s.plan.reps, "rep_id")
    # A = 20,200; the pool locked at 2,200, r1 : r2 = 1300 : 600 share 18,000
    assert reps["pool:A"] == 2200.0 and reps["r1"] == pytest.approx(18000 * 1300 / 1900, abs=1)
    assert reps["r1"] + reps["r2"] == 18000.0


# ------------------------------------------------------------------ the backtest's book (issue 25.5)
def _slim_with_history(path: Path) -> Path:
    """The world's orders without rep, region or brand (slim export), and the customer book's
    history: c2 was served by r1 until 2025-10-01 and by r2 since (today's book: r2)."""
    make_store(path)
    raw = duckdb.connect(str(path))
    raw.execute("create or replace table orders as select * exclude (rep_id, region, brand) from orders")
    raw.execute("create table customers_history (customer_id varchar, region varchar, rep_id varchar, "
                "valid_from date, valid_to date)")
    raw.executemany("insert into customers_history values (?,?,?,?,?)", [
        ("c2", "A", "r1", "2015-01-01", "2025-10-01"), ("c2", "A", "r2", "2025-10-01", None)])
    raw.close()
    return path


def test_backtest_uses_the_book_valid_at_each_month(tmp_path):
    con = store.connect(str(_slim_with_history(tmp_path / "h.duckdb")), read_only=True)
    s = plan(con, total=38200, method="last_12")
    assert s.plan.backtest_book == "sale"
    res = tp.backtest(s)
    assert res.metrics()["backtest_book"] == "sale" and not res.notes
    # the plan itself decomposes by today's book: c2's sales are r2's
    assert by(s.plan.reps, "rep_id") == {"r1": 13000.0, "r2": 6000.0, "pool:A": 1200.0, "r3": 18000.0}
    from analysis import model

    aug, nov = pd.Period("2025-08", "M"), pd.Period("2025-11", "M")
    actual, past = tp._backtest_histories(con, model.sources(con), "amount", [aug, nov], "rep")
    jul = pd.Period("2025-07", "M")

    def sums(frame, month):
        f = frame[frame["month"] == month]
        return {k: round(v, 6) for k, v in zip(f["key"], f["value"])}

    # a plan made for August saw c2 as r1's customer; one made for November as r2's
    assert sums(past[aug], jul) == {"r1": 150.0, "r3": 150.0, "pool:A": 10.0}
    assert sums(past[nov], jul) == {"r1": 100.0, "r2": 50.0, "r3": 150.0, "pool:A": 10.0}
    # the actual shares: the rep at the time of sale (c4 has none: A's pool)
    assert sums(actual, aug) == {"r1": 150.0, "r3": 150.0, "pool:A": 10.0}
    assert sums(actual, nov) == {"r1": 100.0, "r2": 50.0, "r3": 150.0, "pool:A": 10.0}
    con.disconnect()


def test_without_the_books_history_the_backtest_says_it_uses_todays_book(world):
    s = plan(world, total=38200, method="last_12")
    assert s.plan.backtest_book == "current"
    res = tp.backtest(s)
    assert [n.code for n in res.notes] == ["backtest_current_book"]
    assert res.metrics()["backtest_book"] == "current"


def test_slim_orders_plan_like_full_ones(tmp_path):
    # no region, rep or brand on the lines: all from the customers and products (today's book)
    path = make_store(tmp_path / "s.duckdb")
    raw = duckdb.connect(str(path))
    raw.execute("create or replace table orders as select * exclude (rep_id, region, brand) from orders")
    raw.close()
    con = store.connect(str(path), read_only=True)
    s = plan(con, total=38200, method="last_12", levels=["region", "rep", "brand"])
    assert by(s.plan.regions, "region") == {"A": 20200.0, "B": 18000.0}
    # c4 has no serving rep in the customers and none on its lines: A's pool
    assert by(s.plan.reps, "rep_id") == {"r1": 13000.0, "r2": 6000.0, "pool:A": 1200.0, "r3": 18000.0}
    assert by(s.plan.products, "product") == {"X": 26740.0, "Y": 11460.0}
    # c4 (10 a month) has no rep: 180 of the 18 months' 5,680
    assert s.plan.coverage == {"region": 1.0, "rep_id": pytest.approx(1 - 180 / 5680), "brand": 1.0}
    con.disconnect()


def test_an_unresolved_dimension_skips_its_section_and_unattributed_sales_are_noted(tmp_path):
    # sY (brand Y, 30 % of the sales) is missing from the products: the product section is skipped;
    # c3 (region B) is missing from the customers: 2,700 of the 18 months' 5,680 have no region -> refused
    path = make_store(tmp_path / "u.duckdb")
    raw = duckdb.connect(str(path))
    raw.execute("create or replace table orders as select * exclude (rep_id, region, brand) from orders")
    raw.execute("delete from products where sku_id = 'sY'")
    raw.close()
    con = store.connect(str(path), read_only=True)
    s = plan(con, total=38200, method="last_12", levels=["region", "rep", "brand"])
    res = tp.products(s)
    assert res.skip.as_dict() == {"reason": "unresolved_codes", "details": {
        "dimension": "brand", "share": pytest.approx(0.7), "table": "products", "codes": ["sY"]}}
    con.disconnect()
    raw = duckdb.connect(str(path))
    raw.execute("delete from customers where customer_id = 'c3'")
    raw.close()
    con = store.connect(str(path), read_only=True)
    with pytest.raises(InsufficientDataError, match=r"region of only 52\.5% .* below 95%"):
        plan(con, total=38200, method="last_12")
    con.disconnect()

"""analysis.trends: every metric against a hand-computed answer on a small fixture store.

The fixture (written out below) has orders in 2024-02, 2024-03 and 2025-01 … 2025-03 at daily
grain, so the report month ("last") is 2025-03, last year is 2024-03 and the previous month 2025-02.
The hand-computed figures are in the comments next to each assertion.
"""
from __future__ import annotations

import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import trends
from analysis.params import SalesTrendsParams
from analysis.errors import InsufficientDataError, ParameterError

D = dt.date
# (date, customer, rep, region, brand, price_class, qty, amount)
ORDERS = [
    (D(2024, 2, 5), "C1", "R1", "A", "X", "一类", 2, 600),
    (D(2024, 2, 20), "C2", "R2", "B", "Y", "二类", 4, 800),
    (D(2024, 3, 1), "C1", "R1", "A", "X", "一类", 1, 300),
    (D(2024, 3, 2), "C2", "R2", "B", "Y", "二类", 5, 1000),
    (D(2024, 3, 3), "C3", "R3", "A", "Y", "二类", 2, 400),
    (D(2024, 3, 4), "C4", "R2", "B", "X", "一类", 1, 300),
    (D(2025, 1, 10), "C1", "R1", "A", "X", "一类", 2, 600),
    (D(2025, 1, 11), "C2", "R2", "B", "Y", "二类", 2, 400),
    (D(2025, 2, 3), "C1", "R1", "A", "X", "一类", 1, 300),
    (D(2025, 2, 4), "C2", "R2", "B", "Y", "二类", 3, 600),
    (D(2025, 2, 5), "C3", "R3", "A", "Y", "二类", 1, 200),
    (D(2025, 3, 1), "C1", "R1", "A", "X", "一类", 2, 600),
    (D(2025, 3, 2), "C1", "R1", "A", "Y", "二类", 1, 200),
    (D(2025, 3, 3), "C2", "R2", "B", "Y", "二类", 6, 1200),
    (D(2025, 3, 4), "C3", "R3", "A", "Y", "二类", 1, 200),
    (D(2025, 3, 5), "C4", "R2", "B", "X", "一类", 1, 300),
    (D(2025, 3, 6), "C5", "R3", "A", "X", "一类", 3, 900),
    (D(2025, 3, 31), "C5", "R3", "A", "X", "一类", -1, -300),  # a return line
]
TARGETS = [
    ("2025-01-01", "company", "company", "amount", 1000.0),
    ("2025-02-01", "company", "company", "amount", 1000.0),
    ("2025-03-01", "company", "company", "amount", 4000.0),
    ("2025-03-01", "region", "A", "amount", 2500.0),
    ("2025-03-01", "region", "B", "amount", 0.0),  # zero target: attainment undefined
    ("2025-01-01", "rep", "R1", "amount", 1000.0),
    ("2025-02-01", "rep", "R1", "amount", 500.0),
    ("2025-03-01", "rep", "R1", "amount", 1000.0),
    ("2025-01-01", "rep", "R2", "amount", 500.0),
    ("2025-02-01", "rep", "R2", "amount", 500.0),
    ("2025-03-01", "rep", "R2", "amount", 2000.0),
    ("2025-01-01", "rep", "R3", "amount", 100.0),
    ("2025-02-01", "rep", "R3", "amount", 300.0),
    ("2025-03-01", "rep", "R3", "amount", 1000.0),
    ("2025-01-01", "rep", "R4", "amount", 500.0),
    ("2025-02-01", "rep", "R4", "amount", 500.0),
]
CUSTOMERS = [("C1", "A", "large", "R1"), ("C2", "B", "large", "R2"), ("C3", "A", "medium", "R3"),
             ("C4", "B", "small", "R2"), ("C5", "A", "small", "R3")]
VISITS = [
    (D(2025, 3, 10), "R1", "C1", "guidance", True),
    (D(2025, 3, 11), "R2", "C2", "guidance", False),
    (D(2025, 3, 12), "R2", "C4", "visit", False),
    (D(2025, 3, 13), "R3", "C3", "guidance", True),
    (D(2025, 3, 14), "R3", "C5", "guidance", True),
    (D(2025, 3, 15), "R3", "C9", "guidance", True),  # not served this month: not counted
    (D(2025, 2, 15), "R2", "C4", "guidance", True),  # another month
]
REPS = [("R1", "张三", "A", D(2020, 1, 1)), ("R2", "李四", "B", D(2020, 1, 1)),
        ("R3", "王五", "A", D(2021, 1, 1)), ("R4", "赵六", "B", D(2021, 1, 1))]


def _orders_frame() -> pd.DataFrame:
    df = pd.DataFrame(ORDERS, columns=["order_date", "customer_id", "rep_id", "region", "brand", "price_class",
                                       "qty", "amount"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["qty"] = df["qty"].astype(float)
    df["amount"] = df["amount"].astype(float)
    df.insert(0, "order_id", [f"O{i:03d}" for i in range(len(df))])
    df.insert(1, "line_no", 1)
    df["sku_id"] = df["brand"] + "1"
    return df


@pytest.fixture
def fixture_con(tmp_path):
    con = ibis.duckdb.connect(str(tmp_path / "f.duckdb"))
    con.create_table("orders", _orders_frame())
    t = pd.DataFrame(TARGETS, columns=["period", "level", "key", "measure", "value"])
    t["period"] = pd.to_datetime(t["period"]).dt.date
    con.create_table("targets", t)
    con.create_table("customers", pd.DataFrame(CUSTOMERS, columns=["customer_id", "region", "size_class", "rep_id"]))
    v = pd.DataFrame(VISITS, columns=["visit_date", "rep_id", "customer_id", "kind", "effective"])
    v["visit_date"] = pd.to_datetime(v["visit_date"])
    con.create_table("visits", v)
    con.create_table("reps", pd.DataFrame(REPS, columns=["rep_id", "name", "region", "hire_date"]))
    con.create_table("products", pd.DataFrame({"sku_id": ["X1", "Y1"], "brand": ["X", "Y"],
                                               "price_class": ["一类", "二类"], "pack_unit": ["条", "条"]}))
    yield con
    con.disconnect()


@pytest.fixture
def scope(fixture_con):
    return trends.prepare(fixture_con)


# ---------------------------------------------------------------- periods and grain
def test_period_resolution(scope):
    assert scope.grain == "daily"
    assert scope.period.label == "2025-03"
    assert scope.period.time_elapsed == 1.0
    assert (scope.first, scope.last) == (D(2024, 2, 5), D(2025, 3, 31))


def test_current_month_is_partial():
    p = trends.resolve_period("current", D(2024, 1, 1), D(2025, 3, 10), "daily")
    assert p.label == "2025-03" and p.days_elapsed == 10 and p.time_elapsed == pytest.approx(10 / 31)
    assert trends.resolve_period("last", D(2024, 1, 1), D(2025, 3, 10), "daily").label == "2025-02"
    # weekly data: a week starting 2025-03-25 covers the rest of March
    assert trends.resolve_period("last", D(2024, 1, 1), D(2025, 3, 25), "weekly").label == "2025-03"
    assert trends.resolve_period("last", D(2024, 1, 1), D(2025, 3, 24), "weekly").label == "2025-02"
    assert trends.resolve_period("last", D(2020, 1, 1), D(2024, 1, 1), "yearly").label == "2024"


def test_bad_month_parameter():
    with pytest.raises(ParameterError, match="'month' parameter"):
        trends.resolve_period("2030-01", D(2024, 1, 1), D(2025, 3, 10), "daily")
    with pytest.raises(ParameterError, match="'month' parameter"):
        trends.resolve_period("March", D(2024, 1, 1), D(2025, 3, 10), "daily")


@pytest.mark.parametrize("dates,grain", [
    (pd.date_range("2024-01-01", periods=30, freq="D"), "daily"),
    (pd.date_range("2024-01-01", periods=30, freq="W-MON"), "weekly"),
    (pd.date_range("2024-01-01", periods=30, freq="MS"), "monthly"),
    (pd.date_range("2024-01-31", periods=30, freq="ME"), "monthly"),
    (pd.date_range("2010-01-01", periods=10, freq="YS"), "yearly"),
])
def test_detect_grain(dates, grain):
    assert trends.detect_grain(dates) == grain


def test_partial_period_shift_is_like_for_like():
    p = trends.Period("month", D(2025, 3, 1), D(2025, 4, 1), D(2025, 3, 11))
    ly = p.last_year()
    assert (ly.start, ly.data_end) == (D(2024, 3, 1), D(2024, 3, 11))
    assert p.previous().data_end == D(2025, 2, 11)
    ytd = trends.Period("month", D(2025, 1, 1), D(2025, 4, 1), D(2025, 4, 1))  # a multi-month span
    assert (ytd.last_year().start, ytd.last_year().end) == (D(2024, 1, 1), D(2024, 4, 1))


# ------------------------------------------------------------------------ 1 headline
def test_headline(scope):
    h = trends.headline(scope)
    a = h.table.set_index("measure")
    # report month 2025-03: 600+200+1200+200+300+900-300 = 3100; qty 2+1+6+1+1+3-1 = 13
    assert a.loc["amount", "current"] == 3100 and a.loc["qty", "current"] == 13
    # 2024-03: 300+1000+400+300 = 2000, qty 9
    assert a.loc["amount", "last_year"] == 2000 and a.loc["qty", "last_year"] == 9
    assert a.loc["amount", "yoy"] == pytest.approx(0.55)
    assert a.loc["amount", "yoy_change"] == 1100
    assert a.loc["qty", "yoy"] == pytest.approx(13 / 9 - 1)
    # 2025-02: 300+600+200 = 1100, qty 5
    assert a.loc["amount", "mom"] == pytest.approx(3100 / 1100 - 1)
    assert a.loc["amount", "mom_change"] == 2000
    # company target 4000 → 0.775; YTD 600+400+1100+3100 = 5200 vs 6000
    assert a.loc["amount", "attainment"] == pytest.approx(0.775)
    assert a.loc["amount", "ytd"] == 5200
    assert a.loc["amount", "ytd_attainment"] == pytest.approx(5200 / 6000)
    # last year's YTD starts before the data (2024-02-05): undefined, not 0
    assert math.isnan(a.loc["amount", "ytd_last_year"]) and math.isnan(a.loc["amount", "ytd_yoy"])
    # no qty targets: undefined
    assert math.isnan(a.loc["qty", "attainment"])
    assert h.time_elapsed == 1.0
    assert h.ytd_time_elapsed == pytest.approx(90 / 365)


def test_headline_partial_month_like_for_like(fixture_con):
    s = trends.prepare(fixture_con, SalesTrendsParams.of(month="2025-03"))
    assert s.period.complete
    s2 = trends.prepare(fixture_con, SalesTrendsParams.of(month="2025-02"))
    h = trends.headline(s2).table.set_index("measure")
    # 2025-02 = 1100 vs 2025-01 = 1000; the data start on 2024-02-05, so February 2024 is only
    # partly covered: yoy is undefined rather than compared with a part month
    assert h.loc["amount", "mom"] == pytest.approx(0.1)
    assert math.isnan(h.loc["amount", "yoy"]) and math.isnan(h.loc["amount", "last_year"])


def test_filters_applied_in_engine(fixture_con):
    s = trends.prepare(fixture_con, SalesTrendsParams.of(filters={"region": ["A"]}))
    a = trends.headline(s).table.set_index("measure")
    assert a.loc["amount", "current"] == 1600  # 600+200+200+900-300
    assert a.loc["amount", "last_year"] == 700
    # company target under a region filter: the region's own target
    assert a.loc["amount", "attainment"] == pytest.approx(1600 / 2500)
    with pytest.raises(ParameterError, match="'filters' parameter"):
        trends.prepare(fixture_con, SalesTrendsParams.of(filters={"planet": ["Mars"]}))
    with pytest.raises(InsufficientDataError):
        trends.prepare(fixture_con, SalesTrendsParams.of(filters={"region": ["Z"]}))


# ---------------------------------------------------------------------- 2 attainment
def test_attainment_by_region(scope):
    r = trends.attainment_by_level(scope, "region")
    t = r.table.set_index("key")
    assert t.loc["A", "actual"] == 1600 and t.loc["A", "target"] == 2500
    assert t.loc["A", "attainment"] == pytest.approx(0.64)
    assert t.loc["A", "gap"] == -900
    assert t.loc["A", "yoy"] == pytest.approx(1600 / 700 - 1)
    # zero target: undefined, no division error
    assert math.isnan(t.loc["B", "attainment"]) and math.isnan(t.loc["B", "gap"])
    assert r.table["key"].tolist() == ["A", "B"]  # sorted by gap, undefined last
    assert t.loc["A", "action"] and not t.loc["B", "action"]


def test_attainment_by_rep_includes_target_without_sales(scope):
    t = trends.attainment_by_level(scope, "rep").table.set_index("key")
    # R1 800/1000, R2 1500/2000, R3 800/1000; R4 has no March target and no sales: absent
    assert t["attainment"].to_dict() == pytest.approx({"R1": 0.8, "R2": 0.75, "R3": 0.8})
    assert t.loc["R2", "gap"] == -500
    assert t.index.tolist()[0] == "R2"


def test_attainment_without_targets_flags_declines(scope):
    r = trends.attainment_by_level(scope, "customer")
    assert not r.has_targets
    t = r.table.set_index("key")
    assert t["target"].isna().all() and t["attainment"].isna().all()
    # customer yoy changes: C1 800-300=+500, C2 +200, C3 −200, C4 0, C5 +600 → only C3 declines
    assert t.loc["C3", "action"] and t["action"].sum() == 1


# ------------------------------------------------------------------ 3 underperformers
def test_underperformers(scope):
    u = trends.underperformers(scope)
    # R1: .6 .6 .8 ; R3: 0 (target, no sales) .667 .8 ; R2: .8 1.2 .75 ; R4: no March target
    assert u.ids == ["R1", "R3"]
    assert u.months == ["2025-01", "2025-02", "2025-03"]
    row = u.table.set_index("rep_id").loc["R3"]
    assert row["2025-01"] == 0.0 and row["2025-02"] == pytest.approx(2 / 3)
    assert row["name"] == "王五"
    assert trends.underperformers(scope, threshold=0.85, streak=1).ids == ["R1", "R2", "R3"]
    assert trends.underperformers(scope, threshold=0.85, streak=2).ids == ["R1", "R3"]
    assert trends.underperformers(scope, threshold=0.7, streak=3).ids == []


def test_underperformers_with_no_sales_at_all(fixture_con):
    # Jan–Feb 2025 at 0.7: R1 .6 .6; R3 0 .667; R4 has targets but no sales (0, 0); R2 .8 1.2
    s = trends.prepare(fixture_con, SalesTrendsParams.of(month="2025-02"))
    assert trends.underperformers(s, threshold=0.7, streak=2).ids == ["R1", "R3", "R4"]


# ------------------------------------------------------------------------------ 6 mix
def test_mix(scope):
    m = trends.mix(scope)
    # qty 2025-03: 一类 2+3−1+1 = 5 of 13, 二类 8; 2024-03: 一类 2 of 9, 二类 7
    assert m.share_measure == "qty"
    assert m.shift_pp["一类"] == pytest.approx((5 / 13 - 2 / 9) * 100)
    assert m.shift_pp["二类"] == pytest.approx((8 / 13 - 7 / 9) * 100)
    assert sum(m.shift_pp.values()) == pytest.approx(0, abs=1e-9)
    uv = m.unit_value.set_index("price_class")
    # 一类 amount 600+300+900−300 = 1500 over 5 cartons
    assert uv.loc["一类", "unit_value"] == pytest.approx(300)
    assert uv.loc["total", "unit_value"] == pytest.approx(3100 / 13)
    assert m.per_case and uv.loc["total", "case_value"] == pytest.approx(3100 / 13 * 250)


# --------------------------------------------------------------------- 7 contribution
def test_contribution(scope):
    c = trends.contribution(scope, "region")
    t = c.table.set_index("key")
    assert t["change"].to_dict() == {"A": 900, "B": 200}
    assert c.total_change == 1100 and t["change"].sum() == c.total_change
    assert t.loc["A", "share_of_change"] == pytest.approx(900 / 1100)
    b = trends.contribution(scope, "brand").table.set_index("key")
    # X: 600+300+900−300 = 1500 vs 300+300 = 600; Y: 1600 vs 1400
    assert b["change"].to_dict() == {"X": 900, "Y": 200}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list("abcdefgh")), st.integers(-10**9, 10**9), max_size=8),
       st.dictionaries(st.sampled_from(list("abcdefgh")), st.integers(-10**9, 10**9), max_size=8))
def test_contribution_parts_sum_exactly(cur, prev):
    c, p = pd.Series(cur, dtype="int64"), pd.Series(prev, dtype="int64")
    parts = trends.contribution_parts(c, p)
    assert parts["change"].sum() == c.sum() - p.sum()
    assert set(parts["key"]) == set(cur) | set(prev)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_contribution_parts_float(values):
    half = len(values) // 2
    c = pd.Series(values[:half], index=[f"k{i}" for i in range(half)], dtype=float)
    p = pd.Series(values[half:], index=[f"k{i}" for i in range(len(values) - half)], dtype=float)
    parts = trends.contribution_parts(c, p)
    assert parts["change"].sum() == pytest.approx(c.sum() - p.sum(), abs=1e-6)


# ------------------------------------------------------------------------ 8 customers
def test_customers(scope):
    c = trends.customers(scope)
    # March: C1 800, C2 1200, C3 200, C4 300, C5 600 → top 20 % = C2: 1200/3100
    assert c.n_customers == 5
    assert c.top_share == pytest.approx(1200 / 3100)
    abc = c.abc.set_index("abc_class")
    assert abc["customers"].tolist() == [3, 2, 0]
    big = c.big_summary.set_index("size_class")
    # large = C1 + C2: 2000 vs 300 + 1000
    assert big.loc["large", "current"] == 2000 and big.loc["large", "yoy"] == pytest.approx(2000 / 1300 - 1)


def test_pareto_worked_example():
    r = trends.pareto_abc(pd.Series([50.0, 20, 10, 10, 5, 5, 0, 0, 0, 0]))
    assert r["top_share"] == pytest.approx(0.7)  # top 2 of 10
    assert r["abc"].set_index("abc_class")["customers"].tolist() == [3, 2, 5]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=80))
def test_pareto_share_is_a_rate(values):
    r = trends.pareto_abc(pd.Series(values))
    if sum(values) > 0:
        assert 0 < r["top_share"] <= 1 + 1e-12
        assert r["top_share"] >= min(1.0, math.ceil(0.2 * len(values)) / len(values)) - 1e-9
        assert r["abc"]["customers"].sum() == len(values)


# ------------------------------------------------------------------------- 9 process
def test_process_indicators(scope):
    p = trends.process_indicators(scope)
    t = p.table.set_index("rep_id")
    # served in March: R1 {C1}; R2 {C2, C4}; R3 {C3, C5}
    assert t["served"].to_dict() == {"R1": 1, "R2": 2, "R3": 2}
    assert t["coverage"].to_dict() == pytest.approx({"R1": 1.0, "R2": 0.5, "R3": 1.0})
    assert t["effective_rate"].to_dict() == pytest.approx({"R1": 1.0, "R2": 0.0, "R3": 1.0})
    assert t["meets_coverage"].to_dict() == {"R1": True, "R2": False, "R3": True}
    assert t.loc["R2", "attainment"] == pytest.approx(0.75)
    assert p.summary["coverage"] == pytest.approx(4 / 5)
    assert p.summary["effective_rate"] == pytest.approx(3 / 4)
    # three reps are too few for an association: shown as skipped, not a bare number
    assert p.association is None and "association" in p.parts
    assert p.parts["association"].as_dict() == {"reason": "too_short", "details": {"needed": 5, "got": 3}}
    from present_helpers import summary

    assert "Only 3 account managers have both guidance coverage and attainment (5 needed)" in summary(p, "en")
    assert "只有 3 名客户经理同时有经营指导面和完成率（至少需要 5 名）" in summary(p, "zh")


# ------------------------------------------------------------------------- metrics
def _metrics(scope, *results) -> dict:
    """metrics.json's figures of ``results`` (as a run records them: the scope's, then the sections')."""
    from analysis.sections import section_metrics

    return {**trends.scope_metrics(scope), **section_metrics(results)}


def test_metrics_of_the_sections(scope):
    h, u, m = trends.headline(scope), trends.underperformers(scope), trends.mix(scope)
    fc = trends.forecast(scope)
    out = _metrics(scope, h, u, m, fc)
    assert out["period"] == "2025-03"
    assert out["total_amount"] == 3100 and out["total_qty"] == 13
    assert out["attainment"] == pytest.approx(0.775) and out["time_elapsed"] == 1.0
    assert out["yoy"] == pytest.approx(0.55) and out["mom"] == pytest.approx(3100 / 1100 - 1)
    assert out["underperformers"] == ["R1", "R3"]
    assert out["mix_shift_pp"]["一类"] == pytest.approx((5 / 13 - 2 / 9) * 100)
    assert out["data_window"] == {"start": "2024-02-05", "end": "2025-03-31"}
    assert out["row_counts"]["orders"] == len(ORDERS)
    # 14 months of history cannot feed a 3-month backtest: skipped, metrics null
    assert fc.skip is not None and out["forecast"] == [] and out["backtest_mape"] is None
    assert out["backtest_coverage"] is None
    # 14 months: too short for the seasonal trend test, null rather than NaN
    assert trends.trend(scope).metrics()["trend"] is None


# ------------------------------------------------------------------- partial data
@pytest.fixture
def minimal_con(tmp_path):
    """Only order_date and amount, at daily grain, 30 months."""
    con = ibis.duckdb.connect(str(tmp_path / "m.duckdb"))
    days = pd.date_range("2023-01-01", "2025-06-30", freq="D")
    rng = np.random.default_rng(1)
    amt = 1000 + 200 * np.sin(2 * np.pi * days.dayofyear / 365) + rng.normal(0, 50, len(days))
    con.create_table("orders", pd.DataFrame({"order_date": days, "amount": amt.round(2)}))
    yield con
    con.disconnect()


def test_minimal_data_sections(minimal_con):
    s = trends.prepare(minimal_con, SalesTrendsParams.of(level="rep"))
    assert s.period.label == "2025-06" and s.measures == ("amount",)
    h = trends.headline(s)
    assert h.value("amount", "current") > 0 and math.isnan(h.value("amount", "attainment"))
    assert math.isnan(h.value("qty", "current"))
    for res, code in [(trends.attainment_by_level(s), "missing_column"), (trends.underperformers(s), "missing_column"),
                      (trends.mix(s), "missing_column"), (trends.contribution(s), "missing_column"),
                      (trends.customers(s), "missing_column"), (trends.process_indicators(s), "missing_table")]:
        assert res.skip is not None and res.skip.code == code, res
    assert trends.trend(s).skip is None
    assert trends.spring_festival(s).skip is None
    out = _metrics(s, h, trends.underperformers(s), trends.mix(s))
    assert out["total_qty"] is None and out["attainment"] is None and out["underperformers"] == []


SECTIONS = ("headline", "attainment_by_level", "underperformers", "trend", "spring_festival", "mix", "contribution",
            "customers", "process_indicators", "forecast")


def _metrics_by_lang(s) -> dict:
    """metrics.json's figures of a run, rendered through the present layer in each language."""
    import matplotlib

    matplotlib.use("Agg")
    from analysis.narrative import trends as nt
    from analysis.present import Presenter

    results = [getattr(trends, n)(s) for n in SECTIONS]
    out = {}
    for lang in ("zh", "en"):
        p = Presenter("sales_trends", nt.TEXTS, lang=lang)
        for r in results:
            p.blocks(r)
        out[lang] = {**trends.scope_metrics(s), **p.metrics()}
    return out


def test_metrics_are_language_free_and_keep_their_keys_when_sections_skip(scope, minimal_con):
    full = _metrics_by_lang(scope)
    assert full["zh"] == full["en"]
    assert full["zh"]["skipped_sections"] == ["forecast"]  # 15 months of history: too short to forecast
    assert [d["reason"] for d in full["zh"]["skipped_details"]] == ["too_short"]
    assert full["zh"]["trend"] is None and full["zh"]["forecast"] == [] and full["zh"]["forecast_model"] is None
    assert full["zh"]["total_amount"] == 3100.0 and full["zh"]["underperformers"] == trends.underperformers(scope).ids
    minimal = _metrics_by_lang(trends.prepare(minimal_con))
    assert minimal["zh"] == minimal["en"]
    assert set(minimal["zh"]) == set(full["zh"])  # a skipped section leaves its keys, empty
    assert minimal["zh"]["mix_shift_pp"] == {} and minimal["zh"]["underperformers"] == []
    assert all(s.isascii() for s in minimal["zh"]["skipped_sections"])


def test_customers_by_grade_band(fixture_con):
    c = fixture_con.table("customers").execute()
    c["grade"] = c["customer_id"].map({"C1": 25, "C2": 22, "C3": 15, "C4": 3, "C5": 8})
    fixture_con.create_table("customers", c.drop(columns="size_class"), overwrite=True)
    s = trends.prepare(fixture_con, SalesTrendsParams.of(size_by="grade_band"))
    res = trends.customers(s)
    b = res.big_summary
    # 2025-03 by customer: C1 800, C2 1200, C3 200, C4 300, C5 600 (a return of 300 included)
    assert b["size_class"].tolist() == ["1–10", "11–20", "21–30"]
    assert b["current"].tolist() == [900.0, 200.0, 2000.0]
    assert b["share"].tolist() == pytest.approx([900 / 3100, 200 / 3100, 2000 / 3100])
    # without a grade the grouping by size class has nothing to group by: a visible note
    assert [n.code for n in trends.customers(trends.prepare(fixture_con)).notes] == ["no_size_class"]
    with pytest.raises(ParameterError, match="size_by"):
        trends.customers(s, size_by="tier")


def test_yearly_grain(tmp_path):
    con = ibis.duckdb.connect(str(tmp_path / "y.duckdb"))
    con.create_table("orders", pd.DataFrame({
        "order_date": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]),
        "amount": [100.0, 120.0, 90.0, 135.0], "region": ["N", "N", "S", "S"]}))
    s = trends.prepare(con)
    assert s.grain == "yearly" and s.period.label == "2023" and s.period.time_elapsed == 1.0
    h = trends.headline(s)
    assert h.value("amount", "yoy") == pytest.approx(135 / 90 - 1)  # whole years
    assert math.isnan(h.value("amount", "mom"))
    for res in (trends.trend(s), trends.spring_festival(s), trends.underperformers(s), trends.forecast(s)):
        assert res.skip is not None and res.skip.code == "grain"
    c = trends.contribution(s, "region")
    # 2023 (S 135) vs 2022 (S 90); N sold in neither year
    assert c.table.set_index("key")["change"].to_dict() == {"S": 45.0}
    con.disconnect()


def test_monthly_grain(tmp_path):
    con = ibis.duckdb.connect(str(tmp_path / "mo.duckdb"))
    months = pd.date_range("2023-01-01", periods=30, freq="MS")
    con.create_table("orders", pd.DataFrame({"order_date": months, "amount": np.arange(30.0) * 10 + 100,
                                             "qty": np.arange(30.0) + 1}))
    s = trends.prepare(con)
    assert s.grain == "monthly" and s.period.label == "2025-06" and s.period.complete
    h = trends.headline(s).table.set_index("measure")
    assert h.loc["amount", "current"] == 390 and h.loc["amount", "last_year"] == 270
    assert h.loc["amount", "mom"] == pytest.approx(390 / 380 - 1)
    sf = trends.spring_festival(s)
    assert sf.aligned.empty and not sf.jan_feb.empty  # no daily data: Jan+Feb only
    con.disconnect()


# =========================================================== the demo world (slow)
@pytest.fixture(scope="module")
def demo_scope(demo_con):
    return trends.prepare(demo_con, SalesTrendsParams.of(level="region"))


@pytest.mark.slow
def test_demo_period_and_window(demo_scope, demo_world):
    truth = demo_world[1]
    assert demo_scope.period.label == "2026-10" and demo_scope.grain == "daily"
    assert trends.data_window(demo_scope) == {"start": truth["start"], "end": truth["end"]}
    assert demo_scope.row_counts["orders"] == truth["row_counts"]["orders"]


@pytest.mark.slow
def test_demo_underperformers_exactly_planted(demo_scope, demo_world):
    assert trends.underperformers(demo_scope).ids == demo_world[1]["underperformers"]


@pytest.mark.slow
def test_demo_spring_festival_peaks(demo_scope, demo_world):
    peaks = trends.spring_festival(demo_scope).peaks["peak_month"].tolist()
    assert peaks == demo_world[1]["spring_festival_peak"]


@pytest.mark.slow
def test_demo_mix_shift_within_1pp(demo_scope, demo_world):
    m = trends.mix(demo_scope)
    planted = demo_world[1]["mix_shift_pp"]
    assert set(m.shift_pp) == set(planted)
    for pc, pp in planted.items():
        assert abs(m.shift_pp[pc] - pp) <= 1.0, (pc, m.shift_pp[pc], pp)


@pytest.mark.slow
def test_demo_forecast_beats_seasonal_naive(demo_scope):
    f = trends.forecast(demo_scope)
    assert f.skip is None
    assert f.backtest_mape < f.baseline_mape
    assert len(f.forecast) == 3 and (f.forecast["lo95"] < f.forecast["hi95"]).all()


@pytest.mark.slow
def test_demo_forecast_intervals_cover_in_backtest(demo_scope):
    """The intervals shown never cover less than nominal in the backtest (each origin judged by a
    scale estimated only from the errors known before it), the festival regressor is in the model,
    and ``coverage_ok`` says whether the coverage came within 10 points of nominal (the report
    writes a caution when it did not). On the demo world the forward-calibrated intervals are
    conservative: the early origins' larger errors widen the later origins' intervals."""
    f = trends.forecast(demo_scope)
    assert f.regressors and f.interval_method == "backtest_scaled"
    assert f.coverage["80"] >= 0.80 - 0.10 and f.coverage["95"] >= 0.95 - 0.10, f.coverage
    within = abs(f.coverage["80"] - 0.80) <= 0.10 and abs(f.coverage["95"] - 0.95) <= 0.10
    assert f.coverage_ok == within
    m = f.metrics()
    assert m["backtest_coverage"] == {"80": f.coverage["80"], "95": f.coverage["95"]}


@pytest.mark.slow
def test_demo_trend_metrics(demo_scope):
    t = trends.trend(demo_scope)
    m = t.metrics()["trend"]
    assert set(m) == {"method", "slope", "lo", "hi", "p"} and m["method"] == "seasonal_mann_kendall_ar1"
    assert m["lo"] <= m["slope"] <= m["hi"] and 0 <= m["p"] <= 1 and t.test.n == 36


@pytest.mark.slow
@pytest.mark.parametrize("level", ["region", "rep", "brand", "price_class", "customer"])
def test_demo_contribution_parts_sum_to_total(demo_con, level):
    s = trends.prepare(demo_con, SalesTrendsParams.of(level=level))
    c = trends.contribution(s)
    assert c.table["change"].sum() == pytest.approx(c.total_change, rel=1e-12, abs=1e-6)
    assert c.total_change == pytest.approx(c.total_current - c.total_previous)


@pytest.mark.slow
def test_demo_headline_against_plain_duckdb(demo_scope, demo_world):
    """The engine's sums checked against a plain SQL query on the same file."""
    import duckdb

    h = trends.headline(demo_scope).table.set_index("measure")
    raw = duckdb.connect(str(demo_world[0]), read_only=True)
    try:
        cur = raw.execute("select sum(amount), sum(qty) from orders where order_date >= '2026-10-01' "
                      "and order_date < '2026-11-01'").fetchone()
        ly = raw.execute("select sum(amount) from orders where order_date >= '2025-10-01' "
                     "and order_date < '2025-11-01'").fetchone()[0]
        tgt = raw.execute("select sum(value) from targets where level = 'company' and measure = 'amount' "
                      "and period = '2026-10-01'").fetchone()[0]
    finally:
        raw.close()
    assert h.loc["amount", "current"] == pytest.approx(cur[0]) and h.loc["qty", "current"] == pytest.approx(cur[1])
    assert h.loc["amount", "yoy"] == pytest.approx(cur[0] / ly - 1)
    assert h.loc["amount", "attainment"] == pytest.approx(cur[0] / tgt)


@pytest.mark.slow
def test_demo_filters_and_levels(demo_con):
    s = trends.prepare(demo_con, SalesTrendsParams.of(level="rep", filters={"region": ["市区"]}))
    att = trends.attainment_by_level(s)
    assert att.has_targets and len(att.table) > 0
    full = trends.prepare(demo_con, SalesTrendsParams.of(level="region"))
    city = trends.attainment_by_level(full).table.set_index("key").loc["市区", "actual"]
    assert trends.headline(s).value("amount", "current") == pytest.approx(city)
    p = trends.process_indicators(full)
    assert p.table["coverage"].between(0, 1).all() and p.association is not None
    assert p.association.slope_low <= p.association.slope <= p.association.slope_high


# ============================================================ the notebook (slow)
METRIC_KEYS = {"total_amount", "total_qty", "attainment", "time_elapsed", "yoy", "mom", "underperformers",
               "mix_shift_pp", "forecast", "backtest_mape", "baseline_mape", "skipped_sections", "period",
               "data_window", "row_counts", "trend", "backtest_coverage"}


def _run_notebook(tmp_path, monkeypatch, **params):
    import json
    from pathlib import Path

    import nbformat
    import papermill as pm

    root = Path(__file__).resolve().parents[1]
    metrics = tmp_path / "metrics.json"
    monkeypatch.setenv("SALES_ANALYSIS_METRICS", str(metrics))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(root / "notebooks" / "sales_trends.ipynb"), str(out), parameters=params,
                        kernel_name="sales-analysis", cwd=str(root), progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    stderr = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert stderr == [], stderr
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    return json.loads(metrics.read_text(encoding="utf-8")), html


@pytest.mark.slow
def test_notebook_on_demo_in_english(tmp_path, monkeypatch, demo_world):
    m, html = _run_notebook(tmp_path, monkeypatch, store=str(demo_world[0]), lang="en")
    assert METRIC_KEYS <= set(m)
    assert m["period"] == "2026-10" and m["time_elapsed"] == 1.0 and m["skipped_sections"] == []
    assert m["underperformers"] == demo_world[1]["underperformers"]
    assert len(m["forecast"]) == 3 and set(m["forecast"][0]) == {"period", "mean", "lo80", "hi80", "lo95", "hi95"}
    assert m["backtest_mape"] < m["baseline_mape"]
    assert "Attainment by level" in html and "Forecast" in html and "完成率" not in html
    assert "seasonal Mann–Kendall" in html and "calibrated on the backtest" in html
    assert m["trend"]["method"] == "seasonal_mann_kendall_ar1" and set(m["backtest_coverage"]) == {"80", "95"}


@pytest.mark.slow
def test_notebook_on_date_and_amount_only(tmp_path, monkeypatch, minimal_con):
    path = tmp_path / "m.duckdb"
    minimal_con.disconnect()
    m, html = _run_notebook(tmp_path, monkeypatch, store=str(path))
    assert METRIC_KEYS <= set(m)
    assert m["period"] == "2025-06" and m["total_qty"] is None and m["attainment"] is None and m["yoy"] is not None
    # stable ASCII codes, with their reason codes (the same in every language)
    assert set(m["skipped_sections"]) == {"attainment_by_level", "underperformers", "mix", "contribution",
                                          "customers", "process_indicators"}
    reasons = {d["section"]: (d["reason"], d["details"]) for d in m["skipped_details"]}
    assert reasons["mix"] == ("missing_column", {"table": "orders", "column": "price_class"})
    assert reasons["process_indicators"] == ("missing_table", {"table": "visits"})
    assert reasons["contribution"][0] == "missing_column"
    assert "本节略过 — 价类结构" in html and "「orders」表没有「price_class」列" in html
    assert len(m["forecast"]) == 3


@pytest.mark.slow
def test_notebook_at_yearly_grain(tmp_path, monkeypatch):
    path = tmp_path / "y.duckdb"
    con = ibis.duckdb.connect(str(path))
    con.create_table("orders", pd.DataFrame({
        "order_date": pd.to_datetime([f"{y}-01-01" for y in range(2015, 2025)]),
        "amount": [100.0, 120, 90, 135, 150, 160, 155, 170, 180, 198]}))
    con.disconnect()
    m, html = _run_notebook(tmp_path, monkeypatch, store=str(path), lang="en")
    assert m["period"] == "2024" and m["grain"] == "yearly"
    assert m["yoy"] == pytest.approx(198 / 180 - 1) and m["mom"] is None
    assert m["forecast"] == [] and m["backtest_mape"] is None
    assert {"trend", "spring_festival", "forecast", "underperformers"} <= set(m["skipped_sections"])
    assert {d["reason"] for d in m["skipped_details"] if d["section"] in ("trend", "forecast")} == {"grain"}
    assert "Section skipped — Trend: the data are at yearly grain" in html
    assert "2024: amount 198 yuan, +10.0% on last year (+18 yuan)." in html and "report period: 2024" in html


# ------------------------------------------------------- trend and festival by hand
@pytest.fixture
def flat_con(tmp_path):
    """One yuan every day, 2023-01-01 … 2025-06-30: monthly sums are the days in the month."""
    con = ibis.duckdb.connect(str(tmp_path / "flat.duckdb"))
    con.create_table("orders", pd.DataFrame({"order_date": pd.date_range("2023-01-01", "2025-06-30"), "amount": 1.0}))
    yield con
    con.disconnect()


def test_spring_festival_hand_computed(flat_con):
    s = trends.prepare(flat_con)
    sf = trends.spring_festival(s, before=42, after=21)
    jf = sf.jan_feb.set_index("year")
    assert jf["jan_feb"].to_dict() == {2023: 59.0, 2024: 60.0, 2025: 59.0}  # 2024 is a leap year
    assert jf.loc[2025, "jan_feb_yoy"] == pytest.approx(59 / 60 - 1)
    # 2023's window starts 2022-12-11, before the data: left out; 2024 and 2025 hold 64 days each
    tot = sf.aligned_totals.set_index("season")
    assert tot["amount"].to_dict() == {2024: 64.0, 2025: 64.0}
    assert math.isnan(tot.loc[2024, "yoy"]) and tot.loc[2025, "yoy"] == 0
    # seasons = months overlapping festival ± 45 days; ties go to the first 31-day month
    assert sf.peaks["peak_month"].tolist() == ["2023-01", "2023-12", "2024-12"]


def test_trend_hand_computed(flat_con):
    s = trends.prepare(flat_con)
    t = trends.trend(s)
    # lookback 24 complete months 2023-07 … 2025-06: values are days per month
    assert len(t.series) == 24 and str(t.series["month"].iloc[0]) == "2023-07"
    assert t.series["observed"].tolist()[:3] == [31.0, 31.0, 30.0]
    # the test runs on all 30 months (at least 36 when there are): every month equals the same
    # month of other years except February (28, 29, 28), so S = 0 and the seasonal slope is 0
    assert t.test.method == "seasonal_mann_kendall_ar1" and t.test.n == 30 and t.test_start == "2023-01"
    assert t.test.s == 0 and t.p_value == 1.0 and t.test.trend == "no trend" and t.test.slope == 0.0
    assert t.trend_metrics() == {"method": "seasonal_mann_kendall_ar1", "slope": 0.0, "lo": 0.0, "hi": 0.0, "p": 1.0}
    assert t.metrics() == {"trend": t.trend_metrics()}


def _monthly_store(tmp_path, values, start="2022-01-01", name="mo.duckdb"):
    con = ibis.duckdb.connect(str(tmp_path / name))
    months = pd.date_range(start, periods=len(values), freq="MS")
    con.create_table("orders", pd.DataFrame({"order_date": months, "amount": np.asarray(values, dtype=float)}))
    return con


def test_pure_seasonal_pattern_is_not_a_trend(tmp_path):
    # a sawtooth season (January low, December high), no trend, no noise: a plain Mann–Kendall
    # test over two cycles gives S = 132 of 276 pairs, z ≈ 3.3, "significant"; the seasonal test
    # compares each month with the same month of the other year: all ties, S = 0
    from analysis.stats.timeseries import mann_kendall

    vals = np.tile(np.arange(12.0) * 10 + 100, 3)
    con = _monthly_store(tmp_path, vals)
    t = trends.trend(trends.prepare(con))
    assert mann_kendall(vals[-24:]).trend == "increasing"
    assert t.test.s == 0 and t.test.trend == "no trend" and t.p_value == 1.0
    con.disconnect()


def test_trend_test_matches_direct_computation(tmp_path):
    # 48 months with a trend, seasonality and AR(1) noise: the section tests the last 36
    # (max(lookback 24, 36)) and estimates φ from all 48; the same numbers through the stats
    # functions directly give the same result
    from analysis.stats import timeseries as ts

    rng = np.random.default_rng(3)
    n = 48
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = 0.6 * e[i - 1] + rng.normal(0, 20)
    vals = np.round(1000 + 3 * np.arange(n) + 80 * np.sin(np.arange(n) * np.pi / 6) + e, 2)
    con = _monthly_store(tmp_path, vals)
    t = trends.trend(trends.prepare(con))
    # by hand: the pre-festival days of each month, their effect by OLS on seasonal differences
    # (statsmodels), taken out; φ from the residual differences; the test on the last 36
    import statsmodels.api as sm

    x = ts.festival_days_by_month(pd.period_range("2022-01", periods=n, freq="M")).astype(float)
    beta = sm.OLS(vals[12:] - vals[:-12], sm.add_constant(x[12:] - x[:-12])).fit().params[1]
    adj = vals - beta * x
    ref = ts.seasonal_mann_kendall(adj[-36:], ar1=ts.ar1_from_seasonal_differences(adj, exog=x))
    assert t.test == ref and t.test_start == "2023-01" and len(t.series) == 24 and t.festival_adjusted
    m = t.metrics()["trend"]
    assert m == {"method": ref.method, "slope": ref.slope, "lo": ref.slope_low, "hi": ref.slope_high, "p": ref.p_value}
    con.disconnect()


def test_trend_test_needs_two_years(tmp_path):
    con = _monthly_store(tmp_path, np.arange(20.0) + 100)
    s = trends.prepare(con)
    t = trends.trend(s)
    assert t.skip is None and t.test is None and t.parts["test"].code == "too_short" and math.isnan(t.p_value)
    assert t.metrics()["trend"] is None
    con.disconnect()


def test_trend_test_holds_its_level_with_a_moving_festival():
    """As the demo world's null mode: no trend, AR(1) 0.6 monthly shocks, a seasonal pattern
    and a pre-festival lift that moves between January and February. Without taking the
    festival out, φ is estimated near 0 (the January/February swings look like negative
    autocorrelation) and the test over-rejects; the report's test adjusts for it."""
    from analysis.stats import timeseries as ts

    rng = np.random.default_rng()
    reps, n = 600, 36
    months = pd.period_range("2023-11", periods=n, freq="M")
    x = ts.festival_days_by_month(months).astype(float)
    e = np.zeros((reps, n))
    e[:, 0] = rng.normal(0, 0.04, reps)
    for i in range(1, n):
        e[:, i] = 0.6 * e[:, i - 1] + rng.normal(0, 0.04 * 0.8, reps)
    ys = 1e6 * (1 + 0.06 * x / 21 * 10) * (1 + 0.1 * np.sin(np.arange(n) * np.pi / 6)) * np.exp(e)
    naive_phi = np.mean([ts.ar1_from_seasonal_differences(y) for y in ys])
    adj_phi = np.mean([ts.ar1_from_seasonal_differences(y - x * np.linalg.lstsq(
        np.column_stack([np.ones(n - 12), x[12:] - x[:-12]]), y[12:] - y[:-12], rcond=None)[0][1], exog=x) for y in ys])
    share = np.mean([trends.trend_test(y, festival=x).p_value < 0.05 for y in ys])
    assert naive_phi < 0.2 and adj_phi > 0.4, (naive_phi, adj_phi)
    # SE of a 5 % share over 600 series ≈ 0.9 pp; bound 5 % + 3.5 pp
    assert share <= 0.085, share


def test_report_trend_test_holds_its_level():
    """No trend, AR(1) 0.6 noise, seasonality, 36 months (the demo world's history): the share
    of series the report's trend test calls significant at 5 % stays near 5 %."""
    from analysis.stats.timeseries import mann_kendall

    rng = np.random.default_rng()
    reps, n = 1000, 36
    e = np.zeros((reps, n))
    e[:, 0] = rng.normal(0, 20 / math.sqrt(1 - 0.36), reps)
    for i in range(1, n):
        e[:, i] = 0.6 * e[:, i - 1] + rng.normal(0, 20, reps)
    ys = 1000 + 80 * np.sin(np.arange(n) * np.pi / 6) + e
    share = np.mean([trends.trend_test(y).p_value < 0.05 for y in ys])
    plain = np.mean([mann_kendall(y[-24:]).p_value < 0.05 for y in ys[:300]])
    # measured 5.9 % over 2,000 such series; SE over 1,000 ≈ 0.75 pp; bound 5 % + 3.5 pp
    assert share <= 0.085, share
    assert plain > 0.15, plain  # what the report used to do



def test_filtered_window_is_the_stores(fixture_con):
    # region B's first order is 2024-02-20, but the data start on 2024-02-05
    s = trends.prepare(fixture_con, SalesTrendsParams.of(filters={"region": ["B"]}))
    assert s.first == D(2024, 2, 5)
    assert trends.headline(s).value("amount", "last_year") == 1300  # 2024-03 in B


def test_targets_not_compared_across_a_filter(tmp_path, fixture_con):
    # price-class targets are company-wide: under a region filter they are not comparable
    t = pd.DataFrame({"period": [D(2025, 3, 1)] * 2, "level": ["price_class"] * 2, "key": ["一类", "二类"],
                      "measure": ["amount"] * 2, "value": [2000.0, 2000.0]})
    fixture_con.insert("targets", t)
    s = trends.prepare(fixture_con, SalesTrendsParams.of(level="price_class"))
    assert trends.attainment_by_level(s).table.set_index("key").loc["一类", "attainment"] == pytest.approx(1500 / 2000)
    f = trends.attainment_by_level(trends.prepare(fixture_con, SalesTrendsParams.of(level="price_class", filters={"region": ["A"]})))
    assert not f.has_targets and f.table["attainment"].isna().all() and [(n.code, n.values) for n in f.notes] == [("filtered_targets", {"level": "price_class"})]
    # region targets under a region filter are still comparable
    r = trends.attainment_by_level(trends.prepare(fixture_con, SalesTrendsParams.of(level="region", filters={"region": ["A"]})))
    assert r.table.set_index("key").loc["A", "attainment"] == pytest.approx(0.64)


def test_qty_only_weekly(tmp_path):
    """Volume without amount, at weekly grain: qty is the measure; company qty targets apply."""
    con = ibis.duckdb.connect(str(tmp_path / "q.duckdb"))
    weeks = pd.date_range("2024-01-01", "2025-03-31", freq="W-MON")  # Mondays; last 2025-03-31
    con.create_table("orders", pd.DataFrame({"order_date": weeks, "qty": 10.0}))
    con.create_table("targets", pd.DataFrame({"period": [D(2025, 3, 1)], "level": ["company"], "key": ["company"],
                                              "measure": ["qty"], "value": [40.0]}))
    s = trends.prepare(con)
    assert s.grain == "weekly" and s.measures == ("qty",) and s.period.label == "2025-03"
    h = trends.headline(s)
    # Mondays of March 2025: 3, 10, 17, 24, 31 → 50 against 40; March 2024: 4, 11, 18, 25 → 40
    assert h.value("qty", "current") == 50 and h.value("qty", "attainment") == pytest.approx(1.25)
    assert h.value("qty", "yoy") == pytest.approx(0.25)
    m = _metrics(s, h)
    assert m["total_amount"] is None and m["total_qty"] == 50 and m["attainment"] == pytest.approx(1.25)
    con.disconnect()


def test_spring_festival_on_one_month_of_daily_data_skips_instead_of_failing(tmp_path):
    """One month of daily orders far from any Spring Festival: no window, no crash."""
    import datetime as dt

    import ibis

    db = tmp_path / "one_month.duckdb"
    con = ibis.duckdb.connect(str(db))
    days = [dt.date(2026, 7, d) for d in range(1, 32)]
    con.create_table("orders", pd.DataFrame({"order_date": days, "amount": [100.0] * 31, "qty": [1.0] * 31}))
    from analysis.params import SalesTrendsParams

    scope = trends.prepare(con, SalesTrendsParams.of(month="2026-07"))
    res = trends.spring_festival(scope)
    assert res.skip is not None and res.aligned.empty
    con.disconnect()

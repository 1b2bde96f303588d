"""One definition of "below target N months running" (analysis.attainment), the scope base
(analysis.scopes) and the one prepare contract, on a small world: three reps, four months."""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import attainment, model, store
from analysis.errors import ParameterError
from analysis.scopes import ScopeBase, between, store_tables
from analysis.sections import Reason

MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10")
# rep -> monthly amount (target 100 every month): a below all four, b recovers in October, c has no target in August
SALES = {"a": (80, 85, 70, 60), "b": (80, 70, 60, 120), "c": (50, 50, 50, 50)}


def _world(path, targets=True, measure=True):
    con = duckdb.connect(str(path))
    rows = []
    for rep, amounts in SALES.items():
        for m, v in zip(MONTHS, amounts):
            d = pd.Period(m, "M").start_time.date()
            rows += [(f"{rep}{m}{i}", d + dt.timedelta(days=i), f"c{rep}", rep, v / 2) for i in (0, 14)]
    con.execute("create table orders (order_id varchar, order_date date, customer_id varchar, rep_id varchar, "
                "amount double)")
    con.executemany("insert into orders values (?,?,?,?,?)", rows)
    # the data end on the month's last day: October is complete
    con.execute("insert into orders values ('end', DATE '2026-10-31', 'ca', 'a', 0.0)")
    if targets:
        t = [(pd.Period(m, "M").start_time.date(), "rep", rep, "amount", 100.0)
             for rep in SALES for m in MONTHS if not (rep == "c" and m == "2026-08")]
        t.append((dt.date(2026, 10, 1), "rep", "a", "qty", 1.0))  # another measure: not an amount target
        if measure:
            con.execute("create table targets (period date, level varchar, key varchar, measure varchar, value double)")
            con.executemany("insert into targets values (?,?,?,?,?)", t)
        else:
            con.execute("create table targets (period date, level varchar, key varchar, value double)")
            con.executemany("insert into targets values (?,?,?,?)", [r[:3] + r[4:] for r in t if r[3] == "amount"])
    con.close()
    return store.connect(str(path), read_only=True)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = _world(tmp_path_factory.mktemp("att") / "w.duckdb")
    yield c
    c.disconnect()


def test_rep_monthly_rows_are_the_rep_amount_targets(con):
    att = attainment.rep_monthly(con, model.sales_lines(con), dt.date(2026, 7, 1), dt.date(2026, 11, 1))
    assert list(att.columns) == ["rep_id", "month", "actual", "target", "attainment"]
    assert len(att) == 11  # 3 reps x 4 months, c without August; the qty target left out
    a_oct = att[(att["rep_id"] == "a") & (att["month"] == pd.Period("2026-10", "M"))].iloc[0]
    assert a_oct["actual"] == pytest.approx(60.0) and a_oct["attainment"] == pytest.approx(0.6)


def test_below_target_streak_is_every_month_below_and_defined(con):
    lines = model.sales_lines(con)
    wide, skip = attainment.below_target_streak(con, lines, dt.date(2026, 9, 1), 3, 0.9)
    assert skip is None and sorted(wide.index[wide["below"]]) == ["a", "b"]  # c's August is undefined
    wide, skip = attainment.below_target_streak(con, lines, dt.date(2026, 10, 1), 3, 0.9)
    assert sorted(wide.index[wide["below"]]) == ["a"]  # b recovered in October
    assert [str(c) for c in wide.columns] == ["2026-08", "2026-09", "2026-10", "below"]


def test_below_target_streak_says_why_it_cannot_tell(con, tmp_path):
    lines = model.sales_lines(con)
    _, skip = attainment.below_target_streak(con, lines, dt.date(2026, 8, 1), 3, 0.9, first=dt.date(2026, 7, 1))
    assert skip.as_dict() == {"reason": "too_short", "details": {"needed": 3, "got": 2}}
    bare = _world(tmp_path / "bare.duckdb", targets=False)
    try:
        _, skip = attainment.below_target_streak(bare, model.sales_lines(bare), dt.date(2026, 10, 1), 3, 0.9)
        assert skip.as_dict() == {"reason": "missing_table", "details": {"table": "targets"}}
    finally:
        bare.disconnect()


def test_targets_without_a_measure_are_amount_targets(tmp_path):
    c = _world(tmp_path / "nm.duckdb", measure=False)
    try:
        wide, skip = attainment.below_target_streak(c, model.sales_lines(c), dt.date(2026, 10, 1), 3, 0.9)
        assert skip is None and sorted(wide.index[wide["below"]]) == ["a"]
    finally:
        c.disconnect()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.floats(0, 2)), min_size=3, max_size=3), min_size=1, max_size=6),
       st.floats(0.1, 1.5))
def test_below_is_all_months_defined_and_under_the_threshold(rows, thr):
    months = [pd.Period(m, "M") for m in MONTHS[:3]]
    att = pd.DataFrame([{"rep_id": f"r{i}", "month": m, "attainment": v}
                        for i, vals in enumerate(rows) for m, v in zip(months, vals) if v is not None])
    if att.empty:
        return
    wide = attainment.below(att, months, thr)
    for i, vals in enumerate(rows):
        rid = f"r{i}"
        if rid in wide.index:
            assert bool(wide.loc[rid, "below"]) == all(v is not None and v < thr for v in vals)


def test_the_three_reports_share_the_definition(con):
    """scorecard.below_streak and the target plan's watch list are attainment.below_target_streak."""
    from analysis import scorecard, target_plan

    class S:  # the parts of a scorecard scope below_streak reads
        pass

    s = S()
    s.con, s.first, s.src = con, dt.date(2026, 7, 1), None
    s.lines = model.sales_lines(con, book="sale")
    wide, skip = scorecard.below_streak(s, dt.date(2026, 9, 1), 3, 0.9)
    assert skip is None and list(wide.columns) == ["m0", "m1", "m2", "below"]
    assert sorted(wide.index[wide["below"]]) == ["a", "b"]
    ids, why = target_plan._underperformers(con, pd.Period("2026-09", "M"), dt.date(2026, 7, 1))
    assert (ids, why) == (["a", "b"], None)
    ids, why = target_plan._underperformers(con, pd.Period("2026-08", "M"), dt.date(2026, 7, 1))
    assert (ids, why) == ([], "too_short")


# ------------------------------------------------------------------------ the scope base
def test_scope_base_has_and_missing_and_between(con):
    from dataclasses import dataclass, field

    @dataclass
    class Demo(ScopeBase):
        tables: dict = field(default_factory=dict)

    s = Demo(store_tables(con, ("orders", "targets", "visits")))
    assert set(s.tables) == {"orders", "targets"} and s.has("targets", "level", "key")
    assert not s.has("visits") and s.missing("visits").code is Reason.MISSING_TABLE
    assert s.missing("targets", "level", "grade").as_dict() == {
        "reason": "missing_column", "details": {"table": "targets", "column": "grade"}}
    o = con.table("orders")
    n = between(o, dt.date(2026, 10, 1), dt.date(2026, 10, 31)).count().execute()
    assert n == 6  # the 31st is outside the half-open window
    t = con.table("targets")
    assert between(t, dt.date(2026, 10, 1), dt.date(2026, 11, 1), "period").count().execute() == 4


def test_every_report_scope_derives_from_the_base():
    from analysis import launch, scorecard, target_plan, trends

    for cls in (trends.Scope, launch.LaunchScope, scorecard.Scope, target_plan.Scope):
        assert issubclass(cls, ScopeBase), cls


# ----------------------------------------------------------------- the prepare contract
def test_prepare_takes_the_model_or_none(con):
    from analysis import scorecard, target_plan, trends
    from analysis.params import SalesTrendsParams

    s = trends.prepare(con, SalesTrendsParams.of(month="2026年9月"))
    assert s.period.label == "2026-09"
    assert trends.prepare(con).period.label == "2026-10"  # None: the defaults ("last": October is complete)
    for mod in (trends, scorecard, target_plan):
        with pytest.raises(ParameterError, match=r"The 'params' parameter of .*\.prepare must be a .*Params"):
            mod.prepare(con, {"month": "2026-09"})
    with pytest.raises(ParameterError, match="The 'level' parameter of sales_trends"):
        SalesTrendsParams.of(level="planet")

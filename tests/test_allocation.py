"""Target-plan arithmetic: every rule against a hand-computed split; exact sums under rounding."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st

from analysis.allocation import (
    apply_overrides, assign_pool, cap_and_rebalance, child_shares, largest_remainder, largest_remainder_units,
    new_rep_ramp, new_reps, plan_level, pool_key, share_backtest, shares, shares_blend,
    plan_changes, shares_capacity, shares_last_12, shares_same_month, smallest_feasible_cap, split_down,
    targets_frame,
)
from analysis.errors import InsufficientDataError, ParameterError, PlanError


# ----------------------------------------------------------------------------- rounding
def test_largest_remainder_units_hand_cases():
    # quotas 1.33 each: one unit left, all remainders tie, equal weights -> the first key
    assert largest_remainder_units([1, 1, 1], 4).tolist() == [2, 1, 1]
    assert largest_remainder_units([1, 1, 1], 100).tolist() == [34, 33, 33]
    # quotas 3.5, 2.1, 1.4 -> floors 3, 2, 1; the one unit left goes to the largest remainder (0.5)
    assert largest_remainder_units([0.5, 0.3, 0.2], 7).tolist() == [4, 2, 1]
    # quotas 0.5, 1.5, 2.0: remainders tie at 0.5 -> the larger weight (3) wins over 1
    assert largest_remainder_units([1, 3, 4], 4).tolist() == [0, 2, 2]
    # a zero weight never gets a unit
    assert largest_remainder_units([0, 1, 1], 3).tolist() == [0, 2, 1]
    assert largest_remainder_units([0, 0], 0).tolist() == [0, 0]


def test_largest_remainder_exact_decimals_not_binary_floats():
    # 0.1 + 0.2 + 0.7 is not 1.0 in binary; the exact quotas are 1, 2, 7 with no remainder
    assert largest_remainder_units([0.1, 0.2, 0.7], 10).tolist() == [1, 2, 7]


def test_largest_remainder_units_and_index():
    s = pd.Series([0.45, 0.35, 0.2], index=["a", "b", "c"])
    # 10 units of 100: quotas 4.5, 3.5, 2.0; tie at 0.5 -> larger weight a
    out = largest_remainder(s, total=1000, unit=100)
    assert out.to_dict() == {"a": 500.0, "b": 300.0, "c": 200.0}
    fen = largest_remainder([1, 1, 1], total=1.00, unit=0.01)
    assert fen.tolist() == [0.34, 0.33, 0.33]


def test_largest_remainder_bad_input_names_the_field():
    with pytest.raises(ParameterError, match=r"'total' must be a whole multiple of the unit 100\. Got 1050"):
        largest_remainder([1, 2], total=1050, unit=100)
    with pytest.raises(ParameterError, match=r"'unit' must be > 0\. Got 0"):
        largest_remainder([1, 2], total=10, unit=0)
    with pytest.raises(ParameterError, match=r"'weights' must all be >= 0\. Got -1"):
        largest_remainder_units([1, -1], 3)
    with pytest.raises(PlanError, match="positive sum"):
        largest_remainder_units([0, 0], 3)


UNITS = st.sampled_from([1, 100, 0.01, 0.5, 50])


@settings(max_examples=200, deadline=None)
@given(weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
       n=st.integers(0, 10**9), unit=UNITS)
def test_largest_remainder_sums_exactly(weights, n, unit):
    if n > 0 and sum(weights) == 0:
        weights = weights[:-1] + [1.0]
    k = largest_remainder_units(weights, n)
    assert int(k.sum()) == n
    assert (k >= 0).all()
    assert all(ki == 0 for ki, w in zip(k, weights) if w == 0)
    # each key within one unit of its exact quota
    tot = sum(Fraction(w) for w in weights)
    if tot > 0:
        for ki, w in zip(k, weights):
            q = Fraction(w) * n / tot
            assert q - 1 < int(ki) < q + 1
    total = n * Fraction(str(unit))
    out = largest_remainder(weights, total=float(total), unit=unit)
    units = [Fraction(str(v)) / Fraction(str(unit)) for v in out]
    assert all(u.denominator == 1 for u in units)
    assert sum(units) == n


# ----------------------------------------------------------------------------- shares
def _hist(rows):
    return pd.DataFrame(rows, columns=["key", "month", "value"])


HIST = _hist(
    [("A", "2024-12", 1000.0)]                       # 13 months before: outside the window
    + [("A", f"2025-{m:02d}", 10.0) for m in range(1, 13)]   # 120 in the window
    + [("B", "2025-01", 30.0), ("B", "2025-06", 50.0)]      # 80 in the window
    + [("C", "2026-01", 50.0)]                       # the plan month itself: not history
)


def test_shares_last_12_hand():
    s = shares_last_12(HIST, "2026-01")
    assert s.to_dict() == pytest.approx({"A": 0.6, "B": 0.4}, abs=1e-15)
    s = shares_last_12(HIST, pd.Period("2026-01", "M"), keys=["B", "A", "D"])
    assert list(s.index) == ["B", "A", "D"]
    assert s.tolist() == pytest.approx([0.4, 0.6, 0.0], abs=1e-15)


def test_shares_same_month_hand():
    # 2025-01: A 10, B 30
    s = shares_same_month(HIST, "2026-01-15")
    assert s.to_dict() == pytest.approx({"A": 0.25, "B": 0.75}, abs=1e-15)


def test_shares_blend_hand():
    s = shares_blend(HIST, "2026-01", {"last_12": 0.8, "same_month": 0.2})
    # A: 0.8*0.6 + 0.2*0.25 = 0.53; B: 0.8*0.4 + 0.2*0.75 = 0.47
    assert s.to_dict() == pytest.approx({"A": 0.53, "B": 0.47}, abs=1e-15)
    assert shares("blend", HIST, "2026-01").to_dict() == pytest.approx({"A": 0.425, "B": 0.575}, abs=1e-15)
    with pytest.raises(ParameterError, match=r"'blend_weights' must be >= 0 and sum to 1\. Got 0.5 \+ 0.6"):
        shares_blend(HIST, "2026-01", {"last_12": 0.5, "same_month": 0.6})
    with pytest.raises(ParameterError, match=r"'blend_weights' keys .* Got 'yoy'"):
        shares_blend(HIST, "2026-01", {"yoy": 1.0})


def test_shares_capacity_hand():
    cust = pd.DataFrame({"key": ["N", "N", "S"], "grade": [10, 20, 30], "size_class": ["large", "小", "medium"]})
    assert shares_capacity(cust, "grade").to_dict() == pytest.approx({"N": 0.5, "S": 0.5}, abs=1e-15)
    # N: large 3 + small 1 = 4, S: medium 2 -> 4/6, 2/6
    assert shares_capacity(cust, "size_class").to_dict() == pytest.approx({"N": 4 / 6, "S": 2 / 6}, abs=1e-15)
    with pytest.raises(ParameterError, match=r"'size_class' must be one of .* Got 'huge'"):
        shares_capacity(cust.assign(size_class=["huge", "小", "中"]), "size_class")
    with pytest.raises(ParameterError, match=r"'grade' must be a number from 1 to 30\. Got 31"):
        shares_capacity(cust.assign(grade=[31, 1, 2]), "grade")


def test_shares_no_history_is_a_clear_error():
    with pytest.raises(InsufficientDataError, match="2023-01"):
        shares_last_12(HIST, "2024-01")
    with pytest.raises(ParameterError, match=r"'method' must be one of .* Got 'median'"):
        shares("median", HIST, "2026-01")
    with pytest.raises(ParameterError, match=r"'month' must be a month .* Got 'soon'"):
        shares_last_12(HIST, "soon")


# ----------------------------------------------------------------------------- cap
def test_cap_and_rebalance_hand():
    # lo 80, hi 120 for each. a (150) is held at 120, b (50) at 80, c takes the rest: 100
    r = cap_and_rebalance({"a": 150.0, "b": 50.0, "c": 100.0}, {"a": 100, "b": 100, "c": 100}, 0.2)
    assert r.plan.to_dict() == pytest.approx({"a": 120.0, "b": 80.0, "c": 100.0}, abs=1e-9)
    assert r.capped == ["a", "b"]
    # a key without last year (d) is uncapped and absorbs what a may not take
    r = cap_and_rebalance({"a": 200.0, "d": 100.0}, {"a": 100.0}, 0.1)
    assert r.plan.to_dict() == pytest.approx({"a": 110.0, "d": 190.0}, abs=1e-9)
    assert r.capped == ["a"]
    # nobody breaks the cap: unchanged
    r = cap_and_rebalance({"a": 105.0, "b": 95.0}, {"a": 100.0, "b": 100.0}, 0.1)
    assert r.plan.tolist() == pytest.approx([105.0, 95.0], abs=1e-9) and r.capped == []


def test_cap_rebalance_cascades():
    # a (150) is held at 110; its 40 spread over b and c as 105 : 45 would put b at 133 > 110,
    # so b is held at 110 too and c (no last year, uncapped) takes the rest: 300 - 220 = 80
    r = cap_and_rebalance({"a": 150.0, "b": 105.0, "c": 45.0}, {"a": 100.0, "b": 100.0}, 0.1)
    assert r.plan.to_dict() == pytest.approx({"a": 110.0, "b": 110.0, "c": 80.0}, abs=1e-9)
    assert r.capped == ["a", "b"]
    # an uncapped key with no plan cannot absorb anything: infeasible, not a silent short total
    with pytest.raises(PlanError, match="upper bounds"):
        cap_and_rebalance({"a": 150.0, "c": 0.0}, {"a": 100.0}, 0.1)


def test_cap_infeasible_is_a_clear_error():
    with pytest.raises(PlanError, match=r"upper bounds sum to 30\.00, below the total 200\.00"):
        cap_and_rebalance({"a": 100.0, "b": 100.0}, {"a": 10.0, "b": 10.0}, 0.5)
    with pytest.raises(PlanError, match=r"lower bounds sum to 1,000\.00, above the total 200\.00"):
        cap_and_rebalance({"a": 100.0, "b": 100.0}, {"a": 1000.0, "b": 1000.0}, 0.5)
    with pytest.raises(ParameterError, match=r"'growth_cap' must be a number >= 0\. Got -0.1"):
        cap_and_rebalance({"a": 1.0}, {"a": 1.0}, -0.1)


@settings(max_examples=300, deadline=None)
@given(plan=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12),
       ly=st.lists(st.one_of(st.none(), st.floats(0.01, 1e6)), min_size=12, max_size=12),
       cap=st.floats(0, 1))
# a denormal plan share must take the remainder k0 cannot (λ = 1 / 5e-324 overflows a float)
@example(plan=[2.0, 5e-324], ly=[1.0] + [None] * 11, cap=0.0)
def test_cap_holds_after_rebalancing(plan, ly, cap):
    keys = [f"k{i}" for i in range(len(plan))]
    p = pd.Series(plan, index=keys)
    last = pd.Series(ly[: len(plan)], index=keys, dtype=float)
    total = p.sum()
    has = last > 0
    lo = (last * (1 - cap)).where(has, 0.0)
    hi = (last * (1 + cap)).where(has, np.inf)
    try:
        r = cap_and_rebalance(p, last, cap)
    except PlanError:
        # independently: the total is outside what any scale can reach (at 0 and at a huge scale)
        f0 = np.clip(0.0 * p, lo, hi).sum()
        with np.errstate(over="ignore"):
            fbig = np.clip(1e300 * p, lo, hi).where(~((p == 0) & ~has), 0.0).sum()
        assert f0 > total * (1 + 1e-12) or fbig < total * (1 - 1e-12)
        return
    tol = 1e-9 * max(1.0, total)
    assert abs(r.plan.sum() - total) <= 1e-7 * max(1.0, total)
    assert (r.plan >= lo - tol).all() and (r.plan <= hi + tol).all()


# ----------------------------------------------------------------------------- overrides
def test_apply_overrides_hand():
    out = apply_overrides({"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 600}, 1000)
    # the rest 400 over b, c by 0.3 : 0.2
    assert out.to_dict() == pytest.approx({"a": 600.0, "b": 240.0, "c": 160.0}, abs=1e-9)
    assert apply_overrides({"a": 1, "b": 1}, None, 10).tolist() == [5.0, 5.0]


def test_apply_overrides_errors():
    with pytest.raises(PlanError, match=r"override key 'z' is not in the plan\. Allowed keys: a, b"):
        apply_overrides({"a": 1, "b": 1}, {"z": 5}, 10)
    with pytest.raises(PlanError, match=r"overrides must sum to at most the total 10\.00\. Got 12\.00"):
        apply_overrides({"a": 1, "b": 1}, {"a": 7, "b": 5}, 10)
    with pytest.raises(PlanError, match="Every key is locked"):
        apply_overrides({"a": 1, "b": 1}, {"a": 3, "b": 5}, 10)
    with pytest.raises(PlanError, match=r"override of key 'a' must be a number >= 0\. Got -1"):
        apply_overrides({"a": 1, "b": 1}, {"a": -1}, 10)


def test_plan_level_overrides_cap_and_rounding():
    # c locked at 300; the rest 700 over a, b by 0.45 : 0.35 = 393.75, 306.25; in hundreds
    # quotas 3.9375, 3.0625 -> 3, 3 and the unit left to a (remainder .9375)
    lp = plan_level(1000, {"a": 0.45, "b": 0.35, "c": 0.2}, 100, overrides={"c": 300})
    assert lp.values.to_dict() == {"a": 400.0, "b": 300.0, "c": 300.0}
    assert lp.locked == ["c"] and lp.capped == []
    # cap on the unlocked keys only: a (525) held at 440 (ly 400 + 10 %), b takes the rest 360
    lp = plan_level(1000, {"a": 0.75, "b": 0.25, "c": 0.0}, 10, overrides={"c": 200},
                    last_year={"a": 400.0, "b": 400.0, "c": 10.0}, growth_cap=0.1)
    assert lp.values.to_dict() == {"a": 440.0, "b": 360.0, "c": 200.0}
    assert lp.capped == ["a", "b"]   # b's 200 was below its floor 360
    with pytest.raises(PlanError, match=r"override of key 'c' must be a whole multiple of the unit 100\. Got 250"):
        plan_level(1000, {"a": 1, "c": 1}, 100, overrides={"c": 250})
    with pytest.raises(ParameterError, match=r"'total' must be > 0\. Got 0"):
        plan_level(0, {"a": 1}, 1)
    with pytest.raises(ParameterError, match=r"'total' must be > 0\. Got -5"):
        plan_level(-5, {"a": 1}, 1)


def test_split_down_hand_and_exact():
    regions = plan_level(1000, {"N": 0.6, "S": 0.4}, 100).values
    assert regions.to_dict() == {"N": 600.0, "S": 400.0}
    children = pd.DataFrame({"parent": ["N", "N", "S", "S", "S"], "key": ["r1", "r2", "r3", "r4", "r5"],
                             "share": [0.6, 0.4, 1, 1, 1]})
    reps = split_down(regions, children, 100)
    # N 600 in hundreds: 3.6, 2.4 -> 3, 2 and the unit to r1; S 400: 1.33 each -> r3 gets the extra unit
    assert dict(zip(reps["key"], reps["value"])) == {"r1": 400.0, "r2": 200.0, "r3": 200.0, "r4": 100.0,
                                                     "r5": 100.0}
    assert reps.groupby("parent")["value"].sum().to_dict() == regions.to_dict()
    with pytest.raises(PlanError, match="'E' has the value"):
        split_down({"E": 100.0}, children, 100)
    with pytest.raises(PlanError, match="override key 'r9'"):
        split_down(regions, children, 100, overrides={"r9": 100})


@settings(max_examples=150, deadline=None)
@given(n_units=st.integers(1, 10**7), unit=UNITS,
       region_w=st.lists(st.floats(0.001, 1e4), min_size=1, max_size=5),
       rep_w=st.lists(st.floats(0, 1e4), min_size=5, max_size=25),
       brand_w=st.lists(st.floats(0.001, 10), min_size=1, max_size=3))
def test_every_level_sums_exactly(n_units, unit, region_w, rep_w, brand_w):
    u = Fraction(str(unit))
    total = n_units * u
    total = int(total) if total.denominator == 1 else float(total)
    regions = [f"R{i}" for i in range(len(region_w))]
    reg = plan_level(total, dict(zip(regions, region_w)), unit).values
    rows = []
    for j, w in enumerate(rep_w):
        rows.append({"parent": regions[j % len(regions)], "key": f"p{j}", "share": w})
    for r in regions:          # every region has at least one rep with a positive share
        rows.append({"parent": r, "key": f"lead-{r}", "share": 1.0})
    reps = split_down(reg, pd.DataFrame(rows), unit)
    brands = pd.DataFrame([{"parent": k, "key": f"{k}/b{b}", "share": w}
                           for k in reps["key"] for b, w in enumerate(brand_w)])
    br = split_down(reps.set_index("key")["value"], brands, unit)

    def units(xs):
        out = [Fraction(str(x)) / u for x in xs]
        assert all(q.denominator == 1 for q in out)
        return sum(out)

    assert units(reg) == n_units
    for parent, grp in reps.groupby("parent"):
        assert units(grp["value"]) == units([reg[parent]])
    parent_val = reps.set_index("key")["value"]
    for parent, grp in br.groupby("parent"):
        assert units(grp["value"]) == units([parent_val[parent]])
    assert units(br["value"]) == n_units


# ----------------------------------------------------------------------------- ramp, pool
def test_new_reps_within_three_months():
    hires = {"old": "2026-02-28", "edge": "2026-03-01", "mid": "2026-05-20", "now": "2026-06-10"}
    assert new_reps(hires, "2026-06") == ["edge", "mid", "now"]


def test_new_rep_ramp_hand():
    sh = pd.Series({"r1": 0.4, "r2": 0.2, "r3": 0.0, pool_key("N"): 0.05, "s1": 0.35})
    region = {"r1": "N", "r2": "N", "r3": "N", pool_key("N"): "N", "s1": "S"}
    out = new_rep_ramp(sh, region, ["r3"], ramp_share=0.5)
    # N reps: 0.6 over 3 reps -> average 0.2; r3 gets 0.5 * 0.2 = 0.1; r1, r2 share 0.5 as 0.4 : 0.2
    assert out.to_dict() == pytest.approx({"r1": 0.5 * 2 / 3, "r2": 0.5 / 3, "r3": 0.1, pool_key("N"): 0.05,
                                           "s1": 0.35}, abs=1e-15)
    assert out.sum() == pytest.approx(sh.sum(), abs=1e-15)
    # a region of new reps only: equal shares of the region
    out = new_rep_ramp({"a": 0.3, "b": 0.1}, {"a": "X", "b": "X"}, ["a", "b"], 0.5)
    assert out.tolist() == pytest.approx([0.2, 0.2], abs=1e-15)
    with pytest.raises(ParameterError, match=r"'ramp_share' must be in \(0, 1\]\. Got 1.5"):
        new_rep_ramp(sh, region, ["r3"], 1.5)


def test_assign_pool():
    df = pd.DataFrame({"rep_id": ["r1", None, ""], "region": ["N", "N", "S"], "value": [1, 2, 3]})
    before = df.copy()
    out = assign_pool(df)
    assert out["rep_id"].tolist() == ["r1", "pool:N", "pool:S"]
    pd.testing.assert_frame_equal(df, before)  # input unchanged (None or NaN, whichever the dtype keeps)
    with pytest.raises(ParameterError, match="must have a 'region'"):
        assign_pool(pd.DataFrame({"rep_id": [None], "region": [None]}))


# ----------------------------------------------------------------------------- backtest
def test_share_backtest_hand():
    hist = _hist([
        ("A", "2025-01", 70.0), ("B", "2025-01", 30.0),
        ("A", "2025-02", 20.0), ("B", "2025-02", 80.0),
        ("A", "2026-01", 60.0), ("B", "2026-01", 40.0),
        ("A", "2026-02", 50.0), ("B", "2026-02", 50.0),
    ])
    bt = share_backtest(hist, "last_12", months=2).set_index("method")
    # last_12 for 2026-01: 2025-01..12 -> A 90, B 110 = .45/.55 vs .6/.4 -> 0.15
    #          for 2026-02: 2025-02..2026-01 -> A 80, B 120 = .4/.6 vs .5/.5 -> 0.10 ; mean 0.125
    # equal: 0.1 and 0.0 -> 0.05; same_month: .7/.3 vs .6/.4 -> 0.1, .2/.8 vs .5/.5 -> 0.3 ; mean 0.2
    assert bt.loc["last_12", "mae"] == pytest.approx(0.125, abs=1e-12)
    assert bt.loc["equal", "mae"] == pytest.approx(0.05, abs=1e-12)
    assert bt.loc["same_month", "mae"] == pytest.approx(0.2, abs=1e-12)
    assert bt["n_months"].tolist() == [2, 2, 2]
    assert list(bt.index) == ["last_12", "equal", "same_month"]
    # the method is listed once when it is one of the baselines; months without history are not counted
    bt = share_backtest(hist, "same_month", months=4)
    assert bt["method"].tolist() == ["same_month", "equal"]
    assert bt.set_index("method").loc["same_month", "n_months"] == 2


# ----------------------------------------------------------------------------- cap after rounding
def test_rounding_keeps_the_cap():
    # a is capped at 98.5 * 1.1 = 108.35; b and c share the rest 191.65 as 95.825 each. In tens the
    # quotas are 10.835, 9.5825, 9.5825: plain rounding gives a 11 tens = 110 (above its cap) ...
    plain = largest_remainder([108.35, 95.825, 95.825], 300, 10)
    assert plain.tolist() == [110.0, 100.0, 90.0]
    # ... the plan keeps a at 10 tens (its bound on the unit grid) and gives the unit to c
    lp = plan_level(300, {"a": 0.9, "b": 0.05, "c": 0.05}, 10, last_year={"a": 98.5, "b": 100.0},
                    growth_cap=0.1)
    assert lp.values.to_dict() == {"a": 100.0, "b": 100.0, "c": 100.0}
    assert lp.capped == ["a"]


def test_bounded_units_hand():
    # floors 3, 3, 3 -> a raised to its lower bound 5; two units taken back from the smallest remainders
    k = largest_remainder_units([1, 1, 1], 10, lower=[5, None, None])
    assert k.tolist() == [5, 3, 2]
    assert largest_remainder_units([5, 1], 6, upper=[2, None]).tolist() == [2, 4]
    with pytest.raises(PlanError, match="No whole split of 3 units meets the bounds"):
        largest_remainder_units([1, 1], 3, lower=[2, 2])


@settings(max_examples=150, deadline=None)
@given(n_units=st.integers(1, 10**6), unit=UNITS, w=st.lists(st.floats(0.001, 1e4), min_size=2, max_size=10),
       ly=st.lists(st.one_of(st.none(), st.floats(1, 1e6)), min_size=10, max_size=10), cap=st.floats(0, 0.5))
def test_cap_holds_in_the_rounded_plan(n_units, unit, w, ly, cap):
    u = Fraction(str(unit))
    total = n_units * u
    total = int(total) if total.denominator == 1 else float(total)
    keys = [f"k{i}" for i in range(len(w))]
    last = pd.Series(ly[: len(w)], index=keys, dtype=float)
    try:
        lp = plan_level(total, dict(zip(keys, w)), unit, last_year=last, growth_cap=cap)
    except PlanError:
        return
    units = [Fraction(str(v)) / u for v in lp.values]
    assert all(x.denominator == 1 for x in units) and sum(units) == n_units
    c = Fraction(str(cap))
    lo = [math.ceil(Fraction(str(x)) * (1 - c) / u) if pd.notna(x) else 0 for x in last]
    hi = [math.floor(Fraction(str(x)) * (1 + c) / u) if pd.notna(x) else None for x in last]
    feasible = sum(lo) <= n_units and (any(h is None for h in hi) or sum(hi) >= n_units) and all(
        h is None or h >= l for l, h in zip(lo, hi))
    if feasible:
        for x, l, h in zip(units, lo, hi):
            assert x >= l and (h is None or x <= h)


def test_targets_frame():
    t = targets_frame("2026-06", "amount", {"company": {"C": 1000.0}, "region": pd.Series({"N": 600.0, "S": 400.0})})
    assert t.to_dict("list") == {"period": ["2026-06"] * 3, "level": ["company", "region", "region"],
                                 "key": ["C", "N", "S"], "measure": ["amount"] * 3, "value": [1000.0, 600.0, 400.0]}
    with pytest.raises(ParameterError, match=r"'measure' must be 'amount' or 'qty'\. Got 'cases'"):
        targets_frame("2026-06", "cases", {})
    with pytest.raises(ParameterError, match=r"target 'level' must be one of .* Got 'team'"):
        targets_frame("2026-06", "qty", {"team": {"x": 1}})


def test_child_shares_blend_within_parent():
    hist = pd.DataFrame({
        "parent": ["N", "N", "N", "N", "S"],
        "key": ["r1", "r2", "r1", "r2", "s1"],
        "month": ["2025-06", "2025-06", "2025-09", "2025-09", "2025-06"],
        "value": [30.0, 10.0, 10.0, 50.0, 500.0],
    })
    cs = child_shares(hist, "2026-06", "blend", roster=pd.DataFrame({"parent": ["N", "N", "N", "S"],
                                                                     "key": ["r1", "r2", "r3", "s1"]}))
    got = {(p, k): v for p, k, v in cs.itertuples(index=False)}
    # N last 12: r1 40, r2 60 -> .4/.6; same month (2025-06): 30/10 -> .75/.25; blend .5/.5 -> .575/.425;
    # r3 (new, no history) 0; S: s1 alone -> 1
    assert got == pytest.approx({("N", "r1"): 0.575, ("N", "r2"): 0.425, ("N", "r3"): 0.0, ("S", "s1"): 1.0},
                                abs=1e-15)
    with pytest.raises(InsufficientDataError, match="The parent 'E'"):
        child_shares(hist.assign(parent=["E"] * 4 + ["S"]).assign(month=["2020-01"] * 4 + ["2025-06"]),
                     "2026-06", "last_12")
    with pytest.raises(PlanError, match="more than one parent"):
        child_shares(hist, "2026-06", "last_12", roster=pd.DataFrame({"parent": ["N", "S"], "key": ["r1", "r1"]}))


@settings(max_examples=150, deadline=None)
@given(w=st.lists(st.floats(0.001, 1e4), min_size=2, max_size=12), n_units=st.integers(1, 10**6),
       locked=st.lists(st.integers(0, 10**5), min_size=0, max_size=3), unit=UNITS)
def test_overrides_respected_rest_rebalanced_exactly(w, n_units, locked, unit):
    u = Fraction(str(unit))
    keys = [f"k{i}" for i in range(len(w))]
    locked = locked[: len(w) - 1]
    ov = {keys[i]: float(x * u) for i, x in enumerate(locked)}
    total = n_units * u
    total = int(total) if total.denominator == 1 else float(total)
    if sum(locked) > n_units:
        with pytest.raises(PlanError, match="overrides must sum to at most the total"):
            plan_level(total, dict(zip(keys, w)), unit, overrides=ov)
        return
    lp = plan_level(total, dict(zip(keys, w)), unit, overrides=ov)
    for k, v in ov.items():
        assert lp.values[k] == v
    free = [k for k in keys if k not in ov]
    rest_units = n_units - sum(locked)
    units = [Fraction(str(lp.values[k])) / u for k in free]
    assert sum(units) == rest_units
    # the rest follows the shares: each free key within one unit of its exact quota
    wf = [Fraction(w[keys.index(k)]) for k in free]
    for x, wk in zip(units, wf):
        q = wk * rest_units / sum(wf)
        assert q - 1 < x < q + 1


@settings(max_examples=150, deadline=None)
@given(sh=st.lists(st.floats(0, 1), min_size=1, max_size=12), regions=st.lists(st.sampled_from("NSE"), min_size=12,
       max_size=12), new=st.lists(st.booleans(), min_size=12, max_size=12), ramp=st.floats(0.01, 1))
def test_ramp_keeps_region_totals(sh, regions, new, ramp):
    keys = [f"r{i}" for i in range(len(sh))]
    s = pd.Series(sh, index=keys)
    reg = dict(zip(keys, regions))
    nw = [k for k, f in zip(keys, new) if f]
    out = new_rep_ramp(s, reg, nw, ramp)
    for r in set(regions[: len(sh)]):
        ks = [k for k in keys if reg[k] == r]
        assert out[ks].sum() == pytest.approx(s[ks].sum(), rel=1e-12, abs=1e-15)
        n_new = sum(k in nw for k in ks)
        if 0 < n_new < len(ks):
            for k in ks:
                if k in nw:
                    assert out[k] == pytest.approx(ramp * s[ks].sum() / len(ks), rel=1e-12, abs=1e-15)
    assert (out >= -1e-15).all()


def test_plan_changes_hand():
    t = plan_changes({"a": 120.0, "b": 90.0, "c": 50.0}, {"a": 100.0, "b": 100.0}, {"a": 110.0, "b": 90.0,
                                                                                  "c": 40.0}).set_index("key")
    # level change over keys with a last year: 210 / 200 - 1 = 5 %; a +20 % is above it, b -10 % not
    assert t["change"].to_dict() == pytest.approx({"a": 0.2, "b": -0.1, "c": np.nan}, abs=1e-12, nan_ok=True)
    assert t["change_3"].to_dict() == pytest.approx({"a": 120 / 110 - 1, "b": 0.0, "c": 0.25}, abs=1e-12)
    assert t["above_average"].to_dict() == {"a": True, "b": False, "c": False}


# ----------------------------------------------------------------------------- issue 25: rounding, relaxed cap
def test_bounded_rounding_gives_no_unit_to_a_zero_share_key():
    # b has share 0 and no last year (so no bound); a and c sit at most at 25 and 74 whole units
    # under the 5 % cap, one short of 100: the unit left over must not go to b
    lp = plan_level(100, [1.45, 0, 1.49], 1, last_year=[24.7, 0, 71.2], growth_cap=0.05)
    assert lp.values.tolist() == [26.0, 0.0, 74.0]
    with pytest.raises(PlanError, match="No whole split of 100 units meets the bounds"):
        largest_remainder_units([25.9, 0, 74.1], 100, lower=[24, None, 68], upper=[25, None, 74])


@settings(max_examples=200, deadline=None)
@given(w=st.lists(st.one_of(st.just(0.0), st.floats(0.01, 100)), min_size=2, max_size=8),
       n=st.integers(1, 500), slack=st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=8, max_size=8))
def test_a_zero_weight_key_never_gets_a_unit(w, n, slack):
    if not sum(w) > 0:
        return
    tot = sum(w)
    upper = [None if s is None else math.floor(n * x / tot) + s for x, s in zip(w, slack)]
    try:
        k = largest_remainder_units(w, n, upper=upper)
    except PlanError:
        return
    assert int(k.sum()) == n
    assert all(int(x) == 0 for x, wi in zip(k, w) if wi == 0)


def test_an_infeasible_cap_is_relaxed_to_the_smallest_feasible_one():
    # the total is 36 % above last year and the cap 30 %: relaxed to 36 %, every key at it
    r = cap_and_rebalance({"a": 150.0, "b": 122.0}, {"a": 100.0, "b": 100.0}, 0.3, relax=True)
    assert r.relaxed and r.cap == pytest.approx(0.36)
    assert r.plan.to_dict() == pytest.approx({"a": 136.0, "b": 136.0}) and r.capped == ["a", "b"]
    with pytest.raises(PlanError, match="upper bounds"):
        cap_and_rebalance({"a": 150.0, "b": 122.0}, {"a": 100.0, "b": 100.0}, 0.3599)
    # shrinking: lower bounds 1,000 · (1 - c) each must fit 200 -> c = 0.9
    r = cap_and_rebalance({"a": 100.0, "b": 100.0}, {"a": 1000.0, "b": 1000.0}, 0.5, relax=True)
    assert r.cap == pytest.approx(0.9) and r.plan.tolist() == pytest.approx([100.0, 100.0])
    # a key with no plan stays at its lower bound: 1000 (1 - c) + 110 (1 - c) <= 160 of the total
    assert smallest_feasible_cap({"a": 150.0, "c": 0.0, "d": 10.0}, {"a": 100.0, "c": 1000.0, "d": 10.0},
                                 0.1) == pytest.approx(1 - 160 / 1110)
    # feasible: unchanged
    r = cap_and_rebalance({"a": 105.0, "b": 95.0}, {"a": 100.0, "b": 100.0}, 0.1, relax=True)
    assert not r.relaxed and r.cap == 0.1
    # the level plan keeps the relaxed cap in the rounded plan and reports it
    lp = plan_level(272, {"a": 150.0, "b": 122.0}, 1, last_year={"a": 100.0, "b": 100.0}, growth_cap=0.3,
                    relax_cap=True)
    assert lp.values.to_dict() == {"a": 136.0, "b": 136.0}
    assert lp.relaxed_cap == pytest.approx(0.36) and lp.capped == ["a", "b"]
    with pytest.raises(PlanError, match="cannot be met"):
        plan_level(272, {"a": 150.0, "b": 122.0}, 1, last_year={"a": 100.0, "b": 100.0}, growth_cap=0.3)


@settings(max_examples=300, deadline=None)
@given(plan=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=10),
       ly=st.lists(st.one_of(st.none(), st.floats(0.01, 1e6)), min_size=10, max_size=10),
       cap=st.floats(0, 1))
def test_a_relaxed_cap_always_makes_a_plan_within_its_bounds(plan, ly, cap):
    keys = [f"k{i}" for i in range(len(plan))]
    p = pd.Series(plan, index=keys)
    last = pd.Series(ly[: len(plan)], index=keys, dtype=float)
    r = cap_and_rebalance(p, last, cap, relax=True)
    total = p.sum()
    assert r.cap >= cap and r.plan.sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    has = last > 0
    tol = 1e-9 * max(1.0, total)
    assert (r.plan[has] >= last[has] * (1 - r.cap) - tol).all()
    assert (r.plan[has] <= last[has] * (1 + r.cap) + tol).all()

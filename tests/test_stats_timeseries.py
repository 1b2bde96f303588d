"""analysis.stats.timeseries against independent implementations and worked examples."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from analysis.errors import InsufficientDataError, ParameterError
from analysis.stats import timeseries as ts


# ------------------------------------------------------------------ Mann–Kendall
def test_mann_kendall_worked_example():
    # x = 3, 1, 4, 1, 5: pairs (i<j) signs:
    # 3→1 −, 3→4 +, 3→1 −, 3→5 + ; 1→4 +, 1→1 0, 1→5 + ; 4→1 −, 4→5 + ; 1→5 +   → S = 6 − 3 = 3
    # ties: one group of two 1s → Var = [5·4·15 − 2·1·9]/18 = (300 − 18)/18 = 15.6667
    r = ts.mann_kendall([3, 1, 4, 1, 5])
    assert r.s == 3
    assert r.var_s == pytest.approx(282 / 18)
    assert r.z == pytest.approx((3 - 1) / math.sqrt(282 / 18))
    assert r.p_value == pytest.approx(2 * sps.norm.sf((3 - 1) / math.sqrt(282 / 18)))
    assert r.tau == pytest.approx(3 / 10)
    assert r.trend == "no trend"


def test_mann_kendall_against_pymannkendall():
    mk = pytest.importorskip("pymannkendall")
    rng = np.random.default_rng(7)
    for n, slope in [(24, 0.0), (36, 0.3), (50, -0.2), (15, 1.0)]:
        x = np.round(slope * np.arange(n) + rng.normal(0, 3, n), 0)  # rounding makes ties
        ours = ts.mann_kendall(x)
        ref = mk.original_test(x)
        assert ours.s == pytest.approx(ref.s)
        assert ours.var_s == pytest.approx(ref.var_s)
        assert ours.z == pytest.approx(ref.z)
        assert ours.p_value == pytest.approx(ref.p)
        assert ours.trend == ref.trend
        assert ts.sens_slope(x).slope == pytest.approx(ref.slope)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=3, max_size=40))
def test_mann_kendall_tau_matches_scipy_kendall(values):
    x = np.array(values, dtype=float)
    r = ts.mann_kendall(x)
    assert 0 <= r.p_value <= 1
    # S equals the numerator of Kendall's tau-a between time and x
    t = np.arange(len(x))
    conc = sum(np.sign(t[j] - t[i]) * np.sign(x[j] - x[i]) for i in range(len(x)) for j in range(i + 1, len(x)))
    assert r.s == conc


def test_mann_kendall_needs_three_values():
    with pytest.raises(InsufficientDataError):
        ts.mann_kendall([1, 2])


# ------------------------------------------------------------------- Sen's slope
@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=3, max_size=40))
def test_sens_slope_against_scipy_theilslopes(values):
    x = np.array(values, dtype=float)
    ours = ts.sens_slope(x)
    ref = sps.theilslopes(x, np.arange(len(x)), alpha=0.95)
    assert ours.slope == pytest.approx(ref.slope, rel=1e-9, abs=1e-9)
    assert ours.low <= ours.slope <= ours.high


def test_sens_slope_ci_against_scipy_without_ties():
    rng = np.random.default_rng(3)
    x = 2.0 * np.arange(30) + rng.normal(0, 5, 30)
    ours = ts.sens_slope(x)
    ref = sps.theilslopes(x, np.arange(30), alpha=0.95)
    assert (ours.low, ours.high) == pytest.approx((ref.low_slope, ref.high_slope))
    assert ours.intercept == pytest.approx(np.median(x - ours.slope * np.arange(30)))


# ---------------------------------------------------------------------------- STL
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_stl_parts_sum_to_series(seed):
    rng = np.random.default_rng(seed)
    n = 36
    y = 100 + np.arange(n) + 10 * np.sin(np.arange(n) * np.pi / 6) + rng.normal(0, 2, n)
    parts = ts.stl_decompose(pd.Series(y))
    assert np.allclose(parts["trend"] + parts["seasonal"] + parts["remainder"], y)
    assert np.allclose(parts["observed"], y)


def test_stl_recovers_seasonality():
    n = 48
    season = np.tile([5.0, 3, 0, -2, -4, -2, 0, 1, 2, 1, 0, -4], 4)
    y = 50 + 0.5 * np.arange(n) + season
    parts = ts.stl_decompose(pd.Series(y), robust=False)
    assert np.allclose(parts["seasonal"].to_numpy()[12:24], season[:12] - season.mean(), atol=0.5)


def test_stl_needs_two_seasons():
    with pytest.raises(InsufficientDataError):
        ts.stl_decompose(pd.Series(np.arange(20.0)))


def test_flag_anomalies_finds_planted_spike():
    rng = np.random.default_rng(0)
    y = 100 + 10 * np.sin(np.arange(36) * np.pi / 6) + rng.normal(0, 1, 36)
    y[20] += 30
    out = ts.flag_anomalies(ts.stl_decompose(pd.Series(y)), k=3)
    assert out.index[out["anomaly"]].tolist() == [20]
    assert np.allclose(out["expected"].iloc[[8, 32]], y[[8, 32]], atol=3)  # same month, other years
    assert (out["expected_high"] >= out["expected_low"]).all()
    with pytest.raises(ParameterError):
        ts.flag_anomalies(out, k=0)


# --------------------------------------------------------------- Spring Festival
def test_spring_festival_dates_from_holidays_package():
    # published dates of 春节
    assert ts.spring_festival_dates([2023, 2024, 2025, 2026]) == {
        2023: dt.date(2023, 1, 22), 2024: dt.date(2024, 2, 10),
        2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17)}


def test_days_to_spring_festival():
    d = pd.Series(pd.to_datetime(["2024-02-10", "2024-01-31", "2024-03-01", "2025-01-01", "2024-12-20"]))
    out = ts.days_to_spring_festival(d)
    assert out["offset"].tolist() == [0, -10, 20, -28, -40]
    assert out["season"].tolist() == [2024, 2024, 2024, 2025, 2025]


def test_align_on_spring_festival_sums():
    days = pd.date_range("2024-01-01", "2025-03-31")
    daily = pd.DataFrame({"date": days, "amount": 1.0})
    daily.loc[daily["date"] == pd.Timestamp("2025-01-28"), "amount"] = 10.0  # eve of 2025 festival
    al = ts.align_on_spring_festival(daily, before=7, after=3)
    tot = al.groupby("season")["value"].sum()
    assert tot.to_dict() == {2024: 11.0, 2025: 20.0}
    assert al.loc[(al["season"] == 2025) & (al["offset"] == -1), "value"].item() == 10.0
    assert al.groupby("season")["cumulative"].last().to_dict() == {2024: 11.0, 2025: 20.0}


def test_jan_feb_combined():
    m = pd.DataFrame({"month": pd.period_range("2024-01", "2025-03", freq="M")})
    m["amount"] = np.arange(len(m), dtype=float) + 1  # 2024-01 = 1, 2024-02 = 2, 2025-01 = 13, 2025-02 = 14
    out = ts.jan_feb_combined(m).set_index("year")
    assert out.loc[2025, "jan_feb"] == 27 and out.loc[2024, "jan_feb"] == 3
    assert out.loc[2025, "jan_feb_yoy"] == pytest.approx(27 / 3 - 1)
    assert out.loc[2025, "jan_yoy"] == pytest.approx(12)
    assert math.isnan(out.loc[2024, "jan_feb_yoy"])
    assert out.loc[2025, "festival"] == dt.date(2025, 1, 29)


def test_spring_festival_peaks():
    m = pd.DataFrame({"month": pd.period_range("2023-11", "2025-04", freq="M")})
    m["amount"] = 10.0
    m.loc[m["month"] == pd.Period("2024-02", "M"), "amount"] = 30.0
    m.loc[m["month"] == pd.Period("2025-01", "M"), "amount"] = 25.0
    out = ts.spring_festival_peaks(m)
    assert out["peak_month"].tolist() == ["2024-02", "2025-01"]
    assert out["season"].tolist() == [2024, 2025]

"""analysis.stats.proportions against statsmodels/scipy and by hand."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import ParameterError
from analysis.stats import proportions as pr


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (8, 10), (10, 10), (56, 100), (3, 1800), (1008, 1800)])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_wilson_matches_statsmodels(k, n, alpha):
    lo, hi = pr.wilson_ci(k, n, alpha)
    elo, ehi = proportion_confint(k, n, alpha=alpha, method="wilson")
    assert (lo, hi) == pytest.approx((elo, ehi), abs=1e-12)


def test_wilson_worked_example():
    # k=8, n=10, z=1.959964: centre (0.8 + z²/20)/(1 + z²/10), half z·sqrt(0.016 + z²/400)/(1 + z²/10)
    z = 1.959963984540054
    d = 1 + z**2 / 10
    c, h = (0.8 + z**2 / 20) / d, z * math.sqrt(0.8 * 0.2 / 10 + z**2 / 400) / d
    assert pr.wilson_ci(8, 10) == pytest.approx((c - h, c + h))


def test_wilson_vectorised_and_empty():
    lo, hi = pr.wilson_ci(np.array([1, 0, 5]), np.array([2, 0, 5]))
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    assert hi[2] == pytest.approx(1.0)
    with pytest.raises(ParameterError):
        pr.wilson_ci(3, 2)
    with pytest.raises(ParameterError):
        pr.wilson_ci(1, 2, alpha=1.5)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), data=st.data())
def test_wilson_contains_estimate(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = pr.wilson_ci(k, n)
    assert 0 <= lo <= k / n <= hi <= 1


def test_mean_ci_matches_scipy():
    x = np.array([5, 4, 4, 2, 3, 5, 1, 4], dtype=float)
    m, lo, hi = pr.mean_ci(x)
    elo, ehi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean()) and (lo, hi) == pytest.approx((elo, ehi))
    assert np.isnan(pr.mean_ci([3.0])[1]) and np.isnan(pr.mean_ci([])[0])
    assert pr.mean_ci([1.0, np.nan, 3.0])[0] == pytest.approx(2.0)


def test_merge_small_groups_by_hand():
    df = pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [10, 2, 4, 7], "k": [5, 1, 2, 0]})
    out = pr.merge_small_groups(df, "g", "n", 5, ["k"]).set_index("g")
    assert out.loc["other", "n"] == 6 and out.loc["other", "k"] == 3 and out.loc["other", "merged"] == 2
    assert not out.loc["other", "suppressed"]          # 2 + 4 = 6 ≥ 5: shown
    out2 = pr.merge_small_groups(df, "g", "n", 7, ["k"]).set_index("g")
    assert out2.loc["other", "n"] == 6 and out2.loc["other", "suppressed"]
    assert list(pr.merge_small_groups(df, "g", "n", 1)["g"]) == ["a", "b", "c", "d"]
    with pytest.raises(ParameterError):
        pr.merge_small_groups(df, "g", "n", 0)


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(0, 50), min_size=1, max_size=12), m=st.integers(1, 30), data=st.data())
def test_merge_preserves_totals_and_rates_in_range(sizes, m, data):
    ks = [data.draw(st.integers(0, s)) for s in sizes]
    df = pd.DataFrame({"g": [f"g{i}" for i in range(len(sizes))], "n": sizes, "k": ks})
    out = pr.merge_small_groups(df, "g", "n", m, ["k"])
    assert out["n"].sum() == sum(sizes) and out["k"].sum() == sum(ks)
    assert (out.loc[~out["suppressed"], "n"] >= m).all()
    r = pr.rate_table(out, "k", "n", m, prefix="x")
    shown = r["x_rate"].dropna()
    assert ((shown >= 0) & (shown <= 1)).all()
    assert (r.loc[r["x_rate"].notna(), "x_lo"] <= shown + 1e-12).all()


def test_rate_table_suppresses_small_denominators():
    df = pd.DataFrame({"k": [8, 1], "n": [10, 3]})
    r = pr.rate_table(df, "k", "n", min_size=5, prefix="d")
    assert r["d_rate"].iloc[0] == pytest.approx(0.8) and np.isnan(r["d_rate"].iloc[1])
    assert r["d_lo"].iloc[0] == pytest.approx(proportion_confint(8, 10, method="wilson")[0])

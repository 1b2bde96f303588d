"""analysis.stats.forecast and analysis.stats.association against worked examples and
independent implementations."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.errors import InsufficientDataError, ParameterError
from analysis.stats import forecast as fc
from analysis.stats.association import linear_association


def _series(n=48, seed=0, noise=2.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 200 + 1.5 * t + 20 * np.sin(t * np.pi / 6) + rng.normal(0, noise, n)
    return pd.Series(y, index=pd.period_range("2021-01", periods=n, freq="M"))


def test_mape_worked_example():
    assert fc.mape([100, 200, 400], [110, 180, 400]) == pytest.approx((0.1 + 0.1 + 0) / 3)
    # actual ≤ 0 is left out rather than dividing by zero
    assert fc.mape([0, 100], [5, 90]) == pytest.approx(0.1)
    assert math.isnan(fc.mape([0], [1]))


def test_seasonal_naive():
    y = np.arange(1, 25, dtype=float)
    assert fc.seasonal_naive(y, 3).tolist() == [13.0, 14.0, 15.0]
    assert fc.seasonal_naive(y, 14)[12:].tolist() == [13.0, 14.0]
    with pytest.raises(InsufficientDataError):
        fc.seasonal_naive(y[:5], 2)


def test_backtest_origins_and_naive_errors():
    y = _series(40).to_numpy()
    bt = fc.rolling_origin_backtest(y, h=2, n_origins=3)
    naive = bt[bt["model"] == "seasonal_naive"]
    assert sorted(naive["origin"].unique()) == [36, 37, 38]
    # recompute the baseline's errors independently
    for _, r in naive.iterrows():
        o, k = int(r["origin"]), int(r["step"])
        assert r["predicted"] == y[o + k - 1 - 12]
        assert r["ape"] == pytest.approx(abs(y[o + k - 1] - y[o + k - 1 - 12]) / y[o + k - 1])
    with pytest.raises(InsufficientDataError):
        fc.rolling_origin_backtest(y[:25], h=3)


@pytest.mark.parametrize("model", ["ets", "sarima"])
def test_intervals_nest_and_contain_mean(model):
    f = fc.fit_forecast(_series().to_numpy(), model, 4)
    assert (f["lo95"] <= f["lo80"]).all() and (f["lo80"] <= f["mean"]).all()
    assert (f["mean"] <= f["hi80"]).all() and (f["hi80"] <= f["hi95"]).all()
    # widths grow with the horizon
    assert (np.diff(f["hi95"] - f["lo95"]) > 0).all()


def test_sarima_matches_statsmodels_directly():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = _series().to_numpy()
    ours = fc.fit_forecast(y, "sarima", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SARIMAX(y, order=(1, 0, 0), seasonal_order=(0, 1, 0, 12), trend="c").fit(disp=False).get_forecast(3)
    assert np.allclose(ours["mean"], ref.predicted_mean)
    assert np.allclose(ours[["lo80", "hi80"]].to_numpy(), ref.conf_int(alpha=0.2))


def test_ets_interval_is_normal_around_mean():
    f = fc.fit_forecast(_series().to_numpy(), "ets", 3)
    # additive-error ETS: symmetric normal intervals, so the 95 %/80 % half-widths ratio is z.975/z.9
    ratio = (f["hi95"] - f["mean"]) / (f["hi80"] - f["mean"])
    assert np.allclose(ratio, sps.norm.ppf(0.975) / sps.norm.ppf(0.9), rtol=1e-6)


def test_forecast_best_picks_lowest_backtest_mape_and_beats_naive():
    s = _series(48, noise=1.0)
    res = fc.forecast_best(s, 3, n_origins=4)
    tab = res.backtest.set_index("model")
    assert res.model == tab.loc[["ets", "sarima"], "mape"].idxmin()
    assert res.backtest_mape == tab.loc[res.model, "mape"]
    assert res.baseline_mape == tab.loc["seasonal_naive", "mape"]
    # a trend the naive forecast ignores: the model must beat it
    assert res.beats_baseline
    assert res.forecast["period"].astype(str).tolist() == ["2025-01", "2025-02", "2025-03"]
    rec = res.records()
    assert set(rec[0]) == {"period", "mean", "lo80", "hi80", "lo95", "hi95"}


def test_forecast_parameter_errors():
    with pytest.raises(ParameterError):
        fc.fit_forecast(_series().to_numpy(), "prophet", 3)
    with pytest.raises(ParameterError):
        fc.forecast_best(_series(), 0)


# -------------------------------------------------------------------- association
def test_association_against_statsmodels_ols_and_scipy():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    x = rng.uniform(0.2, 1.0, 60)
    y = 0.7 + 0.3 * x + rng.normal(0, 0.1, 60)
    r = linear_association(x, y, n_boot=500, seed=1)
    ols = sm.OLS(y, sm.add_constant(x)).fit()
    assert r.slope == pytest.approx(ols.params[1])
    assert (r.slope_low, r.slope_high) == pytest.approx(tuple(ols.conf_int(0.05)[1]))
    assert r.p_value == pytest.approx(ols.pvalues[1])
    pr = sps.pearsonr(x, y)
    ci = pr.confidence_interval(0.95)  # scipy's Fisher-z interval
    assert r.r == pytest.approx(pr.statistic)
    assert (r.r_low, r.r_high) == pytest.approx((ci.low, ci.high))
    assert r.r_boot_low < r.r < r.r_boot_high


def test_association_bootstrap_is_seeded_and_close_to_fisher():
    rng = np.random.default_rng(5)
    x = rng.normal(size=200)
    y = 0.5 * x + rng.normal(size=200)
    a = linear_association(x, y, seed=3)
    b = linear_association(x, y, seed=3)
    assert (a.r_boot_low, a.r_boot_high) == (b.r_boot_low, b.r_boot_high)
    assert a.r_boot_low == pytest.approx(a.r_low, abs=0.05)
    assert a.r_boot_high == pytest.approx(a.r_high, abs=0.05)


def test_association_drops_missing_and_needs_enough_pairs():
    r = linear_association([1, 2, np.nan, 4, 5, 6], [2, 4, 5, 8, 10, 12.5], n_boot=0)
    assert r.n == 5 and math.isnan(r.r_boot_low)
    with pytest.raises(InsufficientDataError):
        linear_association([1, 2, 3], [1, 2, 3])
    with pytest.raises(InsufficientDataError):
        linear_association([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])
    with pytest.raises(ParameterError):
        linear_association([1, 2], [1, 2, 3])

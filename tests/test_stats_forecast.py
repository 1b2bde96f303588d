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


# ------------------------------------------------------------- calibrated intervals
def test_backtest_records_each_origins_model_intervals():
    y = _series(40).to_numpy()
    bt = fc.rolling_origin_backtest(y, h=2, models=("sarima",), n_origins=2)
    s = bt[bt["model"] == "sarima"]
    for o in s["origin"].unique():
        ref = fc.fit_forecast(y[:o], "sarima", 2)
        got = s[s["origin"] == o].sort_values("step")
        assert np.allclose(got[["lo80", "hi80", "lo95", "hi95"]].to_numpy(), ref[["lo80", "hi80", "lo95", "hi95"]].to_numpy())
        assert np.allclose(got["sd"], (ref["hi95"] - ref["lo95"]) / (2 * sps.norm.ppf(0.975)))
    assert bt.loc[bt["model"] == "seasonal_naive", "sd"].isna().all()


def test_interval_scale_and_calibration_worked_example():
    bt = pd.DataFrame({"origin": [1, 2, 3], "step": 1, "actual": [12.0, 7.0, 10.0], "predicted": 10.0,
                       "sd": [1.0, 1.5, 2.0]})
    # u = 2, −2, 0 → √(8/3)
    assert fc.interval_scale(bt) == pytest.approx(math.sqrt(8 / 3))
    f = pd.DataFrame({"mean": [100.0, 100.0], "lo80": 0.0, "hi80": 0.0,
                      "lo95": [100 - 1.959964 * 4, 100 - 1.959964 * 8], "hi95": [100 + 1.959964 * 4, 100 + 1.959964 * 8]})
    c = fc.calibrate_intervals(f, 1.5, df=7)
    q80, q95 = sps.t.ppf(0.9, 7), sps.t.ppf(0.975, 7)
    assert c["hi80"].tolist() == pytest.approx([100 + q80 * 1.5 * 4, 100 + q80 * 1.5 * 8], rel=1e-6)
    assert c["lo95"].tolist() == pytest.approx([100 - q95 * 1.5 * 4, 100 - q95 * 1.5 * 8], rel=1e-6)
    # no usable scale: the model's own intervals stay
    assert fc.calibrate_intervals(f, float("nan")).equals(f)
    assert math.isnan(fc.interval_scale(bt.assign(sd=0.0)))


def test_interval_coverage_calibrates_each_origin_on_earlier_errors_only():
    # h = 2: origin o is judged by a scale from the origins o' ≤ o − 2 (their outcomes known at o),
    # at least 2 of them here: origins 4, 5 and 6 count (4 is judged by 1 and 2)
    bt = pd.DataFrame({"origin": np.repeat([1, 2, 3, 4, 5, 6], 2), "step": [1, 2] * 6,
                       "actual": [10.5, 11.0, 14.0, 6.0, 10.2, 9.8, 10.4, 9.4, 12.5, 8.1, 10.9, 9.0],
                       "predicted": 10.0, "sd": 1.0, "lo80": 9.0, "hi80": 11.0, "lo95": 8.5, "hi95": 11.5})
    cov = fc.interval_coverage(bt, h=2, min_origins=2)
    u = (bt["actual"] - 10.0).to_numpy()
    o_ = bt["origin"].to_numpy()
    covered = []
    for o in (4, 5, 6):
        keep = o_ <= o - 2
        sc = math.sqrt(np.mean(u[keep] ** 2))
        q = sps.t.ppf(0.9, len(set(o_[keep])))
        covered += list(np.abs(u[o_ == o]) <= q * sc)
    assert cov["calibrated"]["80"] == pytest.approx(np.mean(covered)) and cov["n_calibrated"] == 6
    assert cov["model"]["80"] == pytest.approx(np.mean((bt["actual"] >= 9) & (bt["actual"] <= 11)))
    assert cov["n"] == 12


def test_calibration_recovers_nominal_coverage_when_the_model_understates_its_errors():
    """Monte Carlo of the calibration alone: a model whose errors are 2× its stated standard
    error, backtested at 10 origins × 3 steps with errors correlated across steps; the
    calibrated interval for a new outcome covers at the nominal rate, the model's own does not.
    The coverage is counted with the calibration's formula in numpy (fast), and the library
    functions are checked to compute exactly that formula on the first repetitions."""
    rng = np.random.default_rng()
    reps, n_orig, h, true_scale = 4000, 10, 3, 2.0
    sd = np.array([1.0, 1.5, 2.0])
    z = rng.normal(size=(reps, n_orig + 1, h))
    z[:, :, 1:] = 0.6 * z[:, :, :1] + 0.8 * z[:, :, 1:]  # steps of one origin move together
    err = true_scale * sd * z
    scale = np.sqrt(np.mean((err[:, :n_orig] / sd) ** 2, axis=(1, 2)))
    new = err[:, n_orig]
    f = pd.DataFrame({"mean": 0.0, "lo80": 0.0, "hi80": 0.0, "lo95": -1.959964 * sd, "hi95": 1.959964 * sd})
    for r in range(30):
        bt = pd.DataFrame({"origin": np.repeat(np.arange(n_orig), h), "step": np.tile(np.arange(1, h + 1), n_orig),
                           "actual": err[r, :n_orig].ravel(), "predicted": 0.0, "sd": np.tile(sd, n_orig)})
        assert fc.interval_scale(bt) == pytest.approx(scale[r], rel=1e-12)
        c = fc.calibrate_intervals(f, scale[r], df=n_orig)
        for k, lv in (("80", 0.8), ("95", 0.95)):
            assert c[f"hi{k}"].to_numpy() == pytest.approx(sps.t.ppf(0.5 + lv / 2, n_orig) * scale[r] * sd, rel=1e-6)
    cover = {}
    own = {}
    for k, lv in (("80", 0.8), ("95", 0.95)):
        q = sps.t.ppf(0.5 + lv / 2, n_orig)
        cover[k] = float(np.mean(np.abs(new) <= q * scale[:, None] * sd))
        own[k] = float(np.mean(np.abs(new) <= sps.norm.ppf(0.5 + lv / 2) * sd))
    # measured over 4,000 repetitions: 81.5 % and 95.9 % (the t quantile with as many degrees of
    # freedom as origins errs on the wide side: 30 errors carry more than 10 df). SE over 4,000
    # repetitions ≈ 0.5 pp at 80 % and 0.3 pp at 95 %; the bounds are ≥ 4 SE away.
    assert 0.775 <= cover["80"] <= 0.84, cover
    assert 0.935 <= cover["95"] <= 0.975, cover
    assert own["80"] < 0.55 and own["95"] < 0.70, own


def test_forecast_best_shows_calibrated_intervals_and_their_coverage():
    s = _series(40, noise=4.0)
    res = fc.forecast_best(s, 3, models=("sarima",))
    own = fc.fit_forecast(s.to_numpy(), "sarima", 3, log=True)      # a positive series: the log scale
    assert res.log_scale and res.interval_method == "backtest_scaled" and res.interval_df == 12  # origins 26 … 37
    expect = fc.calibrate_intervals(own, res.interval_scale, df=res.interval_df, log=True)
    assert np.allclose(res.forecast[["mean", "lo80", "hi80", "lo95", "hi95"]].to_numpy(),
                       expect[["mean", "lo80", "hi80", "lo95", "hi95"]].to_numpy())
    assert np.allclose(res.model_forecast[["lo95", "hi95"]].to_numpy(), own[["lo95", "hi95"]].to_numpy())
    bt = fc.rolling_origin_backtest(s.to_numpy(), 3, models=("sarima",), n_origins=12, log=True)
    cov = fc.interval_coverage(bt[bt["model"] == "sarima"], 3)
    assert res.coverage == cov["calibrated"] and res.coverage_model == cov["model"] and res.coverage_n == 36
    assert set(res.coverage) == {"80", "95"} and all(0 <= v <= 1 for v in res.coverage.values())


# ------------------------------------------------------------- calendar regressors
def _festival_series(n=40, seed=0, effect=3.0, noise=2.0):
    """Monthly series whose level rises with the pre-festival days in the month (春节 dates)."""
    from analysis.stats.timeseries import festival_days_by_month

    idx = pd.period_range("2022-11", periods=n + 3, freq="M")
    x = festival_days_by_month(idx).astype(float)
    rng = np.random.default_rng(seed)
    t = np.arange(n + 3)
    y = 200 + 1.0 * t + 10 * np.sin(t * np.pi / 6) + effect * x + rng.normal(0, noise, n + 3)
    return pd.Series(y[:n], index=idx[:n]), x, y[n:]


def test_regressor_effects_is_ols_on_seasonal_differences():
    import statsmodels.api as sm

    s, x, _ = _festival_series(40)
    y, X = s.to_numpy(), x[:40].reshape(-1, 1)
    ref = sm.OLS(y[12:] - y[:-12], sm.add_constant(X[12:] - X[:-12])).fit().params[1]
    assert fc.regressor_effects(y, X)[0] == pytest.approx(ref)
    assert fc.regressor_effects(y, X)[0] == pytest.approx(3.0, abs=0.5)
    # a regressor that never changes between years has no estimable effect
    assert fc.regressor_effects(y, np.tile(np.arange(12.0), 4)[:40].reshape(-1, 1)).tolist() == [0.0]


def test_backtest_with_regressors_estimates_them_on_training_data_only():
    s, x, _ = _festival_series(40)
    y, X = s.to_numpy(), x[:40].reshape(-1, 1)
    bt = fc.rolling_origin_backtest(y, 3, models=("sarima",), n_origins=2, exog=X)
    o = int(bt["origin"].max())
    beta = fc.regressor_effects(y[:o], X[:o])
    ref = fc.fit_forecast(y[:o] - X[:o, 0] * beta[0], "sarima", 3)
    got = bt[(bt["model"] == "sarima") & (bt["origin"] == o)].sort_values("step")
    assert np.allclose(got["predicted"], ref["mean"] + X[o:o + 3, 0] * beta[0])
    assert np.allclose(got["hi95"], ref["hi95"] + X[o:o + 3, 0] * beta[0])


def test_festival_regressor_improves_the_forecast_of_a_festival_series():
    s, x, future = _festival_series(40, effect=4.0)
    plain = fc.forecast_best(s, 3, models=("sarima",))
    adj = fc.forecast_best(s, 3, models=("sarima",), exog=x.reshape(-1, 1))
    assert adj.regressors and not plain.regressors
    assert adj.backtest_mape < plain.backtest_mape
    assert len(adj.forecast) == 3 and (adj.forecast["lo95"] < adj.forecast["hi95"]).all()


def test_model_choice_prefers_intervals_that_cover(monkeypatch):
    """The lower-MAPE model loses when its calibrated intervals missed nominal by > 10 points."""
    s = _series(40)
    real = fc.interval_coverage
    bt = fc.rolling_origin_backtest(s.to_numpy(), 2, models=("ets", "sarima"), n_origins=4)
    mapes = {m: fc.mape(g["actual"], g["predicted"]) for m, g in bt.groupby("model")}
    better = min(("ets", "sarima"), key=lambda m: mapes[m])
    worse = "sarima" if better == "ets" else "ets"

    def fake(b, h, levels=fc.LEVELS):
        out = real(b, h, levels)
        if b["model"].iloc[0] == better:
            out["calibrated"] = {"80": 0.6, "95": 0.8}
        else:
            out["calibrated"] = {"80": 0.8, "95": 0.95}
        return out

    monkeypatch.setattr(fc, "interval_coverage", fake)
    res = fc.forecast_best(s, 2, n_origins=4, log=False)
    assert res.model == worse and res.coverage_ok and res.coverage == {"80": 0.8, "95": 0.95}

    def bad(b, h, levels=fc.LEVELS):
        out = real(b, h, levels)
        out["calibrated"] = {"80": 0.5, "95": 0.7}
        return out

    monkeypatch.setattr(fc, "interval_coverage", bad)
    res = fc.forecast_best(s, 2, n_origins=4, log=False)
    assert res.model == better and not res.coverage_ok


# The whole forecast's coverage on 60 simulated series (statsmodels SARIMA, 70–260 s) was measured
# here until 2026-12: 60 series are too few for a 10-point band (the mean coverage's standard error
# is about 4 points, so the test failed about one run in four with an unseeded generator). The
# coverage claim is now tested below on 1,500 series of a vectorised copy of the same model, with
# the library's own interval_scale/calibrate_intervals checked to give exactly those intervals.


# ------------------------------------------------------------- coverage on trending and real series
def _css_sarima(Y: np.ndarray, o: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The SARIMA candidate (1,0,0)(0,1,0)_12 with a constant fitted by conditional least squares to
    Y[:, :o], one series per row (vectorised: statsmodels' exact likelihood takes ~2 s per series for the
    whole backtest, too slow for hundreds of series). Mean and standard error for steps 1…h ≤ 12."""
    d = Y[:, 12:o] - Y[:, :o - 12]
    x, z = d[:, :-1], d[:, 1:]
    mx, mz = x.mean(1, keepdims=True), z.mean(1, keepdims=True)
    phi = ((x - mx) * (z - mz)).sum(1) / ((x - mx) ** 2).sum(1)
    c = mz[:, 0] - phi * mx[:, 0]
    s2 = ((z - c[:, None] - phi[:, None] * x) ** 2).sum(1) / (z.shape[1] - 2)
    mean, sd, dl, acc = np.empty((len(Y), h)), np.empty((len(Y), h)), d[:, -1], np.zeros(len(Y))
    for k in range(h):
        dl = c + phi * dl
        mean[:, k] = Y[:, o + k - 12] + dl
        acc = acc + phi ** (2 * k)
        sd[:, k] = np.sqrt(s2 * acc)
    return mean, sd


def _coverage(Y: np.ndarray, log: bool, n: int = 60, h: int = 3, n_orig: int = 12, check: int = 3) -> dict:
    """True coverage of the calibrated intervals of the months n … n+h−1 (the forecast_best recipe:
    backtest at the last n_orig origins, scale = interval_scale, t with n_orig df), on the log scale or
    the level scale. The library's interval_scale and calibrate_intervals are checked to give exactly
    these intervals on the first ``check`` series."""
    Z = np.log(Y) if log else Y
    origins = range(n - h - n_orig + 1, n - h + 1)
    fits = [_css_sarima(Z, o, h) for o in origins]
    err = np.stack([Z[:, o:o + h] - f[0] for o, f in zip(origins, fits)], 1)
    sd = np.stack([f[1] for f in fits], 1)
    scale = np.sqrt(np.mean((err / sd) ** 2, axis=(1, 2)))
    m, s = _css_sarima(Z, n, h)
    back = np.exp if log else (lambda v: v)
    out = {}
    for k, lv in (("80", 0.8), ("95", 0.95)):
        q = sps.t.ppf(0.5 + lv / 2, n_orig)
        lo, hi = back(m - q * scale[:, None] * s), back(m + q * scale[:, None] * s)
        out[k] = float(np.mean((Y[:, n:n + h] >= lo) & (Y[:, n:n + h] <= hi)))
        for r in range(check):
            bt = pd.DataFrame({"origin": np.repeat(list(origins), h), "step": np.tile(np.arange(1, h + 1), n_orig),
                               "actual": 0.0, "predicted": 0.0, "sd": sd[r].ravel(), "error": err[r].ravel()})
            assert fc.interval_scale(bt) == pytest.approx(scale[r], rel=1e-12)
            f = pd.DataFrame({"mean": back(m[r]), "lo80": 0.0, "hi80": 0.0,
                              "lo95": back(m[r] - fc._Z95 * s[r]), "hi95": back(m[r] + fc._Z95 * s[r])})
            c = fc.calibrate_intervals(f, scale[r], df=n_orig, log=log)
            assert np.allclose(c[f"lo{k}"], lo[r]) and np.allclose(c[f"hi{k}"], hi[r])
    return out


def _within(cov: dict, tol: float = 0.05) -> bool:
    return abs(cov["80"] - 0.80) <= tol and abs(cov["95"] - 0.95) <= tol


def test_log_scale_intervals_cover_on_a_multiplicative_trend():
    """exp(5 + 0.01 t)·(1 + 0.2 sin(2πt/12))·e^N(0, 0.05), 60 months, 3 ahead, 1,500 series: on the level
    scale the calibrated intervals covered 72.9 % / 90.2 % (statsmodels' SARIMA and ETS in the audit:
    67.5 % / 87.8 %), on the log scale 81.2 % / 95.5 % (measured, seeds 0–4). Binomial standard error over
    1,500 series ≤ 1.0 point at 80 % and 0.6 at 95 %: the 5-point band is ≥ 3.5 SE from those."""
    rng = np.random.default_rng()
    t = np.arange(63)
    Y = np.exp(5 + 0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.05, (1500, 63)))
    assert _within(_coverage(Y, log=True)), _coverage(Y, log=True, check=0)
    assert _coverage(Y, log=False, check=0)["80"] < 0.77


def test_log_scale_intervals_cover_on_co2_random_walks_and_seasonal_ar():
    """statsmodels' co2 (monthly means of the weekly series, gaps interpolated), every 63-month window
    (464): 81.0 % / 95.4 %; random walks 80.0 / 94.8; seasonal AR(1) 0.6 at lag 12: 83.0 / 95.8 (1,500 series
    each, measured)."""
    import statsmodels.datasets.co2 as co2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = co2.load_pandas().data["co2"].resample("MS").mean().interpolate().to_numpy()
    W = np.array([m[s:s + 63] for s in range(len(m) - 63 + 1)])
    assert _within(_coverage(W, log=True)), _coverage(W, log=True, check=0)
    rng = np.random.default_rng()
    rw = 200 + np.cumsum(rng.normal(0, 3, (1500, 63)), axis=1)
    assert _within(_coverage(rw, log=True)), _coverage(rw, log=True, check=0)
    e = np.zeros((1500, 63))
    for i in range(63):
        e[:, i] = (0.6 * e[:, i - 12] if i >= 12 else 0.0) + rng.normal(0, 5, 1500)
    sar = 300 + 30 * np.sin(2 * np.pi * np.arange(63) / 12) + e
    assert _within(_coverage(sar, log=True)), _coverage(sar, log=True, check=0)


def _reported_coverage(Y: np.ndarray, n: int = 60, h: int = 3, n_orig: int = 12, check: int = 3) -> dict:
    """The backtest coverage forecast_best reports (:func:`fc.interval_coverage`, calibrated: each
    origin judged by the scale of the earlier origins whose outcomes were known at it, t quantile
    with as many df as those origins), averaged over the series, on the log scale; the library
    function is checked to give exactly these shares on the first ``check`` series."""
    Z = np.log(Y)
    origins = list(range(n - h - n_orig + 1, n - h + 1))
    fits = [_css_sarima(Z, o, h) for o in origins]
    err = np.stack([Z[:, o:o + h] - f[0] for o, f in zip(origins, fits)], 1)   # series × origin × step
    sd = np.stack([f[1] for f in fits], 1)
    u = err / sd
    out = {}
    for k, lv in (("80", 0.8), ("95", 0.95)):
        hits = []
        for j, o in enumerate(origins):
            known = [i for i, o2 in enumerate(origins) if o2 <= o - h]
            if len(known) < fc.MIN_COVERAGE_ORIGINS:
                continue
            scale = np.sqrt(np.mean(u[:, known] ** 2, axis=(1, 2)))
            hits.append(np.abs(u[:, j]) <= sps.t.ppf(0.5 + lv / 2, len(known)) * scale[:, None])
        per_series = np.concatenate(hits, 1).mean(1)
        out[k] = float(per_series.mean())
        for r in range(check):
            bt = pd.DataFrame({"origin": np.repeat(origins, h), "step": np.tile(np.arange(1, h + 1), n_orig),
                               "actual": 0.0, "predicted": 0.0, "sd": sd[r].ravel(), "error": err[r].ravel(),
                               "lo80": 0.0, "hi80": 0.0, "lo95": 0.0, "hi95": 0.0})
            assert fc.interval_coverage(bt, h)["calibrated"][k] == pytest.approx(per_series[r], abs=1e-12)
    return out


def test_reported_backtest_coverage_is_the_true_coverage_on_trend_and_co2():
    """The coverage the report gives (backtest, measured forward) is, on average over series, what the
    intervals shown truly cover, within 5 points of nominal on both sides: exp(5 + 0.01 t)·(1 + 0.2
    sin(2πt/12))·e^N(0, 0.05), 60 months, 3 ahead, 1,500 series: reported 80.9–81.2 % / 95.3–95.9 %,
    true 80.9–81.3 / 95.3–96.2 (seeds 0–2); statsmodels' co2, the 58 windows of 63 months starting every
    8 months (the audit's): reported 81.9 / 96.5, true 84.5 / 93.1 (fixed data: deterministic). The same
    vectorised SARIMA candidate as above; the library's interval_coverage is checked to give exactly
    these shares."""
    import statsmodels.datasets.co2 as co2

    rng = np.random.default_rng()
    t = np.arange(63)
    Y = np.exp(5 + 0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.05, (1500, 63)))
    rep = _reported_coverage(Y)
    assert _within(rep), rep
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = co2.load_pandas().data["co2"].resample("MS").mean().interpolate().to_numpy()
    W = np.array([m[s:s + 63] for s in range(0, len(m) - 63 + 1, 8)])
    assert len(W) == 58
    rep = _reported_coverage(W)
    assert _within(rep), rep
    assert _within(_coverage(W, log=True, check=0))

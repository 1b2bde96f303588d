"""Monthly forecast: ETS or SARIMA (statsmodels), chosen by a rolling-origin backtest.

The backtest refits each candidate at several forecast origins near the end of the
series, forecasts ``h`` steps, and scores the mean absolute percentage error (MAPE)
over all origins and steps. A seasonal-naive forecast (the value 12 months earlier) is
scored on the same origins and shown beside it, so a reader sees whether the model
beats the simplest honest baseline.

The models' own prediction intervals assume the model is right and its parameters known;
on short sales series they cover far less often than they claim. So the backtest also
records each forecast's interval and standard error, and the intervals shown are
*calibrated* on the backtest's own errors (:func:`calibrate_intervals`): the model's
standard error is scaled by the root mean square of the standardised backtest errors, and
the quantile is Student t with as many degrees of freedom as backtest origins (the scale
is itself an estimate from a dozen origins). Every backtest error is out of sample: the
model is refitted at each origin on the data before it.

A positive series is modelled on the log scale (``log=True``, the default of
:func:`forecast_best` when every value is > 0): sales grow and swing in proportion to their
level, so errors measured in money on last year's level understate this year's, and an
additive model of a multiplicative season misses the growing swing. On
``exp(5 + 0.01 t)·(1 + 0.2 sin(2πt/12))·e^N(0, 0.05)`` (60 months, 3 ahead) intervals
calibrated on the level scale covered 67.5 % / 87.8 % (80 % / 95 %) while the backtest
reported nominal; on the log scale the errors, the calibration and the intervals are
relative, and the intervals (``exp`` of the log-scale ones) cover at the nominal rate
(tests/test_stats_forecast.py). The forecast mean is then the median forecast.

The coverage reported is measured the way the interval is used (:func:`interval_coverage`):
each backtest origin's interval is calibrated only on the errors of the earlier origins
whose outcomes were known at it, as the interval shown is calibrated on the errors known
today.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, InsufficientDataError, ParameterError

MODELS = ("ets", "sarima")
LEVELS = (0.80, 0.95)
INTERVAL_METHOD = "backtest_scaled"  # the model's standard errors × the backtest's RMS standardised error, t quantiles
MIN_COVERAGE_ORIGINS = 3  # earlier origins needed before an origin's calibrated interval is counted
_Z95 = float(__import__("scipy.stats", fromlist=["norm"]).norm.ppf(0.975))


def mape(actual, predicted) -> float:
    """Mean absolute percentage error, as a rate (0.05 = 5 %); actual values ≤ 0 are left out.

    Examples
    --------
    >>> mape([100, 200], [110, 180])
    0.1
    """
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = (a > 0) & np.isfinite(p)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(a[ok] - p[ok]) / a[ok]))


def seasonal_naive(y, h: int, period: int = 12) -> np.ndarray:
    """Forecast ``h`` steps ahead as the value one season earlier.

    Examples
    --------
    >>> seasonal_naive([1, 2, 3, 4, 5, 6], 3, period=4).tolist()
    [3.0, 4.0, 5.0]
    """
    a = np.asarray(y, dtype=float)
    if len(a) < period:
        raise InsufficientDataError(f"A seasonal-naive forecast needs {period} periods; got {len(a)}.")
    return np.array([a[len(a) - period + (k % period)] for k in range(h)], dtype=float)


def sarima_spec(seasonal: bool, period: int = 12) -> tuple:
    """(order, seasonal_order, trend) of the SARIMA candidate.

    Seasonal: SARIMA(1,0,0)(0,1,0)_12 with a constant, i.e. the change on the same month last
    year follows an AR(1) around a drift. With the 3–5 years of monthly data a sales team
    has, the "airline" model (0,1,1)(0,1,1)_12 estimates two MA terms from about two dozen
    differenced points and, on moving holidays such as Spring Festival, can produce wild
    forecasts; this simpler form stays stable. Non-seasonal (< 2 years): ARIMA(0,1,1).
    """
    if seasonal:
        return (1, 0, 0), (0, 1, 0, period), "c"
    return (0, 1, 1), (0, 0, 0, 0), None


def _one_blas_thread():
    """Limit BLAS to one thread: the models' matrices are tiny, and multi-threaded BLAS on a
    busy machine makes the fits several times slower (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _fit_predict(y: np.ndarray, model: str, h: int, period: int, seasonal: bool) -> pd.DataFrame:
    """Fit ``model`` on ``y`` and return mean and 80/95 % intervals for h steps."""
    with warnings.catch_warnings(), _one_blas_thread():
        # statsmodels warns freely about optimiser convergence and frequency; the backtest
        # judges the forecasts, and stderr of a report must stay clean.
        warnings.simplefilter("ignore")
        if model == "ets":
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            # a Series with a monthly index: statsmodels' ETS prediction fails on bare arrays
            ys = pd.Series(y, index=pd.period_range("2000-01", periods=len(y), freq="M"))
            m = ETSModel(
                ys, error="add", trend="add", damped_trend=True,
                seasonal="add" if seasonal else None, seasonal_periods=period if seasonal else None,
            )
            fit = m.fit(disp=False, maxiter=200)
            pred = fit.get_prediction(start=len(y), end=len(y) + h - 1)
            out = {"mean": np.asarray(pred.predicted_mean, dtype=float)}
            for lv in LEVELS:
                sf = pred.summary_frame(alpha=1 - lv)
                out[f"lo{int(lv * 100)}"] = sf["pi_lower"].to_numpy(dtype=float)
                out[f"hi{int(lv * 100)}"] = sf["pi_upper"].to_numpy(dtype=float)
        elif model == "sarima":
            from statsmodels.tsa.statespace.sarimax import SARIMAX

            order, sorder, trend = sarima_spec(seasonal, period)
            fit = SARIMAX(y, order=order, seasonal_order=sorder, trend=trend).fit(disp=False)
            fc = fit.get_forecast(h)
            out = {"mean": np.asarray(fc.predicted_mean, dtype=float)}
            for lv in LEVELS:
                ci = np.asarray(fc.conf_int(alpha=1 - lv), dtype=float)
                out[f"lo{int(lv * 100)}"] = ci[:, 0]
                out[f"hi{int(lv * 100)}"] = ci[:, 1]
        else:
            raise ParameterError(f"The 'model' parameter must be one of {', '.join(MODELS)}. Got {model!r} instead.")
    res = pd.DataFrame(out)
    if not np.isfinite(res.to_numpy()).all():
        warnings.warn(f"{model} produced non-finite forecasts.", ConvergenceWarning, stacklevel=3)
    return res


def fit_forecast(y, model: str, h: int, period: int = 12, log: bool = False) -> pd.DataFrame:
    """Forecast ``h`` steps with ``model`` ("ets" or "sarima").

    Seasonal terms are used when the series holds at least two seasons. With ``log`` the
    model is fitted to ``log(y)`` (every value must be > 0) and the mean and bounds are
    returned as ``exp`` of the log-scale ones (the mean is then the median forecast).

    Returns
    -------
    pd.DataFrame
        ``mean, lo80, hi80, lo95, hi95`` for steps 1…h: the model's own intervals (not
        calibrated; :func:`forecast_best` calibrates them).

    Examples
    --------
    >>> y = 100 + np.arange(36.0) + 10 * np.sin(np.arange(36) * np.pi / 6)
    >>> fit_forecast(y, "ets", 3).shape
    (3, 5)
    """
    a = np.asarray(y, dtype=float)
    if h < 1:
        raise ParameterError(f"The 'h' parameter of fit_forecast must be ≥ 1. Got {h!r} instead.")
    if len(a) < 8 or np.isnan(a).any():
        raise InsufficientDataError(f"A forecast needs at least 8 periods without gaps; got {len(a)}.")
    if log:
        if not (a > 0).all():
            raise ParameterError("The 'log' parameter of fit_forecast needs every value > 0. Got a value ≤ 0 instead.")
        return np.exp(fit_forecast(np.log(a), model, h, period))
    seasonal = len(a) >= 2 * period
    return _fit_predict(a, model, h, period, seasonal)[["mean", "lo80", "hi80", "lo95", "hi95"]]


def regressor_effects(y, x, period: int = 12) -> np.ndarray:
    """Effects of calendar regressors (e.g. pre-festival days in each month) on ``y``,
    estimated on seasonal differences: Δy_t = drift + Δx_t·β + error, Δ = t − period.

    Seasonal differencing removes the seasonal pattern and turns a linear trend into the
    drift, so β is what moves when the regressor moves between years (the Spring Festival
    falling in January one year and February the next). A regressor that never changes
    between years has no estimable effect (0).

    Examples
    --------
    >>> x = np.zeros((36, 1)); x[[1, 13, 24], 0] = 10  # the event in month 1, 13, then 24
    >>> y = 100 + np.arange(36.0) + 5 * x[:, 0]
    >>> regressor_effects(y, x).round(6).tolist()
    [5.0]
    """
    a = np.asarray(y, dtype=float)
    X = np.asarray(x, dtype=float).reshape(len(a), -1)
    if len(a) <= period + X.shape[1] + 1:
        return np.zeros(X.shape[1])
    d = a[period:] - a[:-period]
    dx = X[period:] - X[:-period]
    beta = np.zeros(X.shape[1])
    live = np.flatnonzero(np.abs(dx).sum(axis=0) > 0)
    if len(live) == 0:
        return beta
    A = np.column_stack([np.ones(len(d)), dx[:, live]])
    coef = np.linalg.lstsq(A, d, rcond=None)[0]
    beta[live] = coef[1:]
    return beta


def _forecast_adjusted(y: np.ndarray, model: str, h: int, period: int, x_hist, x_future,
                       log: bool = False) -> pd.DataFrame:
    """fit_forecast on y − x·β, with x_future·β added back to the mean and the bounds (on the
    log scale with ``log``: the regressors' effects are then relative)."""
    if log:
        return np.exp(_forecast_adjusted(np.log(y), model, h, period, x_hist, x_future))
    if x_hist is None:
        return fit_forecast(y, model, h, period)
    beta = regressor_effects(y, x_hist, period)
    xh = np.asarray(x_hist, dtype=float).reshape(len(y), -1)
    xf = np.asarray(x_future, dtype=float).reshape(h, -1)
    f = fit_forecast(y - xh @ beta, model, h, period)
    add = xf @ beta
    for c in ("mean", "lo80", "hi80", "lo95", "hi95"):
        f[c] = f[c].to_numpy(dtype=float) + add
    return f


def rolling_origin_backtest(y, h: int, models=MODELS, n_origins: int = 6, period: int = 12,
                            min_train: int | None = None, exog=None, log: bool = False) -> pd.DataFrame:
    """Rolling-origin evaluation: refit at each origin, forecast h steps, compare.

    Origins are the last ``n_origins`` positions that leave h actual values after them
    (and at least ``min_train`` values before; default two seasons). Every model and the
    seasonal-naive baseline are scored on the same origins. With ``exog`` (one row per
    value of ``y``, one column per calendar regressor) the models forecast y − x·β and add
    the regressors' effect back, β estimated at each origin from its training data only
    (:func:`regressor_effects`); the baseline ignores them. With ``log`` the models are
    fitted to log(y) (:func:`fit_forecast`).

    Returns
    -------
    pd.DataFrame
        One row per (model, origin, step): ``model, origin, step, actual, predicted, ape``,
        the model's own intervals ``lo80, hi80, lo95, hi95``, its standard error ``sd`` (the
        95 % half-width ÷ z₀.₉₇₅) and the ``error`` actual − predicted, both on the scale the
        model was fitted on (log with ``log``); the baseline is model ``"seasonal_naive"``,
        without intervals (NaN).

    Examples
    --------
    >>> y = 100 + np.arange(40.0) + 10 * np.sin(np.arange(40) * np.pi / 6)
    >>> bt = rolling_origin_backtest(y, 2, n_origins=2)
    >>> sorted(bt["model"].unique())
    ['ets', 'sarima', 'seasonal_naive']
    """
    a = np.asarray(y, dtype=float)
    n = len(a)
    min_train = 2 * period if min_train is None else min_train
    last = n - h
    first = max(min_train, last - n_origins + 1)
    if last < first or n_origins < 1:
        raise InsufficientDataError(
            f"A backtest with horizon {h} needs at least {min_train + h} periods; got {n}."
        )
    if log and not (a > 0).all():
        raise ParameterError("The 'log' parameter of rolling_origin_backtest needs every value > 0. "
                             "Got a value ≤ 0 instead.")
    tf = np.log if log else (lambda v: np.asarray(v, dtype=float))
    rows = []
    nan = np.full(h, np.nan)
    for origin in range(first, last + 1):
        train, test = a[:origin], a[origin:origin + h]
        preds = {"seasonal_naive": (seasonal_naive(train, h, period), nan, nan, nan, nan)}
        for m in models:
            if exog is None:
                f = fit_forecast(train, m, h, period, log=log)
            else:
                X = np.asarray(exog, dtype=float).reshape(n, -1)
                f = _forecast_adjusted(train, m, h, period, X[:origin], X[origin:origin + h], log=log)
            preds[m] = tuple(f[c].to_numpy() for c in ("mean", "lo80", "hi80", "lo95", "hi95"))
        for m, (p, lo80, hi80, lo95, hi95) in preds.items():
            with np.errstate(divide="ignore", invalid="ignore"):
                sd = (tf(hi95) - tf(lo95)) / (2 * _Z95)
                err = tf(test) - tf(p)
            for k in range(h):
                ape = abs(test[k] - p[k]) / test[k] if test[k] > 0 else np.nan
                rows.append((m, origin, k + 1, test[k], p[k], ape, lo80[k], hi80[k], lo95[k], hi95[k], sd[k], err[k]))
    return pd.DataFrame(rows, columns=["model", "origin", "step", "actual", "predicted", "ape",
                                       "lo80", "hi80", "lo95", "hi95", "sd", "error"])


def _standardised_errors(bt: pd.DataFrame) -> pd.DataFrame:
    """origin, step and u = error ÷ sd of the backtest rows that have a usable sd (``error``:
    actual − predicted on the model's scale; without that column, on the values' scale)."""
    err = bt["error"] if "error" in bt.columns else bt["actual"] - bt["predicted"]
    ok = np.isfinite(bt["sd"]) & (bt["sd"] > 0) & np.isfinite(err)
    b = bt.loc[ok]
    return pd.DataFrame({"origin": b["origin"].to_numpy(), "step": b["step"].to_numpy(),
                         "u": (err[ok] / b["sd"]).to_numpy(dtype=float)})


def interval_scale(bt: pd.DataFrame) -> float:
    """The factor that calibrates a model's intervals on its backtest: √mean(u²), with
    u = (actual − predicted) ÷ the model's standard error, over every origin and step.

    1 means the model's intervals were as wide as its errors; 2 means its errors were twice
    what it claimed. NaN when no backtest row has a usable standard error.

    Examples
    --------
    >>> bt = pd.DataFrame({"origin": [1, 2], "step": [1, 1], "actual": [13.0, 6.0], "predicted": [10.0, 10.0],
    ...                    "sd": [1.0, 2.0]})
    >>> round(interval_scale(bt), 6)  # u = 3 and −2
    2.54951
    """
    u = _standardised_errors(bt)["u"].to_numpy()
    return float(np.sqrt(np.mean(u ** 2))) if len(u) else float("nan")


def _quantile(level: float, df: float | None) -> float:
    """Two-sided quantile of a central ``level`` interval: Student t with ``df`` degrees of
    freedom (the scale is estimated from a few origins), the normal one without ``df``."""
    from scipy import stats as sps

    q = 0.5 + level / 2
    return float(sps.t.ppf(q, df)) if df is not None and np.isfinite(df) and df > 0 else float(sps.norm.ppf(q))


def calibrate_intervals(forecast: pd.DataFrame, scale: float, levels=LEVELS, df: float | None = None,
                        log: bool = False) -> pd.DataFrame:
    """Intervals mean ± q·scale·sd, where sd is the model's standard error (from its 95 %
    interval), ``scale`` comes from :func:`interval_scale` and q is the Student-t quantile
    with ``df`` degrees of freedom (the number of backtest origins the scale came from;
    normal when ``df`` is None). A scale that is not finite leaves the model's own intervals.
    With ``log`` (a forecast of :func:`fit_forecast` with ``log=True``) the same on the log
    scale: ``exp(log mean ± q·scale·sd_log)``.

    Examples
    --------
    >>> f = pd.DataFrame({"mean": [10.0], "lo80": [8.0], "hi80": [12.0], "lo95": [10 - 1.959964], "hi95": [10 + 1.959964]})
    >>> calibrate_intervals(f, 2.0).round(3).to_dict("records")
    [{'mean': 10.0, 'lo80': 7.437, 'hi80': 12.563, 'lo95': 6.08, 'hi95': 13.92}]
    >>> calibrate_intervals(f, 2.0, df=10).round(3)["hi95"].item()  # t with 10 df: 2.228
    14.456
    """
    out = forecast.copy()
    if not (np.isfinite(scale) and scale > 0):
        return out
    tf = np.log if log else (lambda v: v)
    back = np.exp if log else (lambda v: v)
    f = {c: tf(forecast[c].to_numpy(dtype=float)) for c in ("mean", "lo95", "hi95")}
    sd = (f["hi95"] - f["lo95"]) / (2 * _Z95)
    for lv in levels:
        half = _quantile(lv, df) * scale * sd
        out[f"lo{int(lv * 100)}"] = back(f["mean"] - half)
        out[f"hi{int(lv * 100)}"] = back(f["mean"] + half)
    return out


def interval_coverage(bt: pd.DataFrame, h: int, levels=LEVELS, min_origins: int = MIN_COVERAGE_ORIGINS) -> dict:
    """Backtest coverage of the model's own intervals and of the calibrated ones.

    Own: the share of backtest actuals inside the model's intervals. Calibrated: measured the
    way the interval shown is used. For each origin o the scale (:func:`interval_scale`) is
    estimated from the earlier origins whose outcomes were all known at o (o' ≤ o − h), when
    there are at least ``min_origins`` of them, and the share of o's actuals inside
    ``predicted ± q·scale·sd`` (on the model's scale; q: Student t with as many degrees of
    freedom as origins behind the scale, as in :func:`forecast_best`) is counted. So no actual
    is judged by a scale that saw it or anything after it.

    Returns
    -------
    dict
        ``{"model": {"80": share, "95": share}, "calibrated": {...}, "n": outcomes,
        "n_calibrated": outcomes behind the calibrated shares}``; shares are NaN when not defined.

    Examples
    --------
    >>> bt = pd.DataFrame({"origin": [1, 2, 3, 4], "step": 1, "actual": [11.0, 9.0, 13.0, 7.0],
    ...                    "predicted": 10.0, "sd": 1.0, "lo80": 8.7, "hi80": 11.3, "lo95": 8.04, "hi95": 11.96})
    >>> c = interval_coverage(bt, 1)
    >>> c["model"]["80"], c["calibrated"]["80"], c["n_calibrated"]  # origin 4: u = −3 against the scale of 1–3 × t(3 df)
    (0.5, 1.0, 1)
    """
    out = {"model": {}, "calibrated": {}, "n": 0, "n_calibrated": 0}
    ok = np.isfinite(bt["sd"]) & (bt["sd"] > 0)
    b = bt.loc[ok]
    u = _standardised_errors(bt)
    out["n"] = int(len(u))
    orig = u["origin"].to_numpy()
    uu = u["u"].to_numpy()
    scales = np.full(len(u), np.nan)
    dfs = np.full(len(u), np.nan)
    for o in np.unique(orig):
        keep = orig <= o - h
        if len(np.unique(orig[keep])) >= max(1, min_origins):
            scales[orig == o] = math.sqrt(float(np.mean(uu[keep] ** 2)))
            dfs[orig == o] = len(np.unique(orig[keep]))
    has = np.isfinite(scales)
    out["n_calibrated"] = int(has.sum())
    for lv in levels:
        key = str(int(lv * 100))
        lo, hi = b[f"lo{key}"].to_numpy(dtype=float), b[f"hi{key}"].to_numpy(dtype=float)
        act = b["actual"].to_numpy(dtype=float)
        out["model"][key] = float(np.mean((act >= lo) & (act <= hi))) if len(b) else float("nan")
        q = np.array([_quantile(lv, d) for d in dfs[has]])
        out["calibrated"][key] = float(np.mean(np.abs(uu[has]) <= q * scales[has])) if has.any() else float("nan")
    return out


@dataclass
class ForecastResult:
    """The chosen model's forecast and the backtest that chose it."""

    model: str
    forecast: pd.DataFrame  # period, mean, lo80, hi80, lo95, hi95
    backtest: pd.DataFrame  # model, mape, origins
    backtest_mape: float
    baseline_mape: float
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # period, value
    skip: Any = None  # set by the caller when the forecast could not run (an object with .text)
    interval_method: str = INTERVAL_METHOD  # "backtest_scaled", or "model" when no scale could be estimated
    interval_scale: float = float("nan")  # factor on the model's standard errors
    interval_df: int = 0  # backtest origins behind the scale (degrees of freedom of the t quantile)
    coverage: dict = field(default_factory=dict)  # {"80": share, "95": share}: backtest coverage of the intervals shown
    coverage_model: dict = field(default_factory=dict)  # the same for the model's own intervals
    coverage_n: int = 0  # backtest outcomes behind the coverage figures
    model_forecast: pd.DataFrame = field(default_factory=pd.DataFrame)  # the model's own intervals
    coverage_ok: bool = True  # the shown intervals' backtest coverage is within the tolerance of nominal
    regressors: bool = False  # calendar regressors (Spring Festival days) were adjusted for
    log_scale: bool = False  # the models, errors and intervals are on the log scale (relative)

    @property
    def skipped_reason(self) -> str | None:
        return None if self.skip is None else getattr(self.skip, "text", str(self.skip))

    @property
    def beats_baseline(self) -> bool:
        return bool(np.isfinite(self.backtest_mape) and self.backtest_mape < self.baseline_mape)

    def records(self) -> list[dict]:
        """Forecast rows as [{period: "YYYY-MM", mean, lo80, hi80, lo95, hi95}] for metrics.json."""
        f = self.forecast.copy()
        f["period"] = f["period"].astype(str)
        return f[["period", "mean", "lo80", "hi80", "lo95", "hi95"]].to_dict(orient="records")


def forecast_best(series: pd.Series, h: int, n_origins: int = 12, period: int = 12,
                  models=MODELS, exog=None, coverage_tolerance: float = 0.10,
                  log: bool | None = None) -> ForecastResult:
    """Choose ETS or SARIMA by backtest MAPE and forecast ``h`` periods with it, with
    intervals calibrated on the chosen model's backtest errors (:func:`calibrate_intervals`)
    and their backtest coverage (:func:`interval_coverage`).

    The choice is the lowest MAPE among the models whose calibrated intervals covered
    within ``coverage_tolerance`` of nominal at both levels in the backtest; when neither
    did, the lowest MAPE (``coverage_ok`` is then False and the report says so).
    ``exog``: calendar regressors, one row per month of ``series`` followed by one per
    forecast month (see :func:`rolling_origin_backtest`). ``log``: model the log of the
    series (errors, calibration and intervals relative to the level; module docstring);
    default: when every value is > 0.

    Parameters
    ----------
    series : pd.Series
        Monthly values indexed by ``pd.Period`` (freq "M"), complete months only.
    h : int
        Forecast horizon (also the backtest horizon).
    n_origins : int
        Backtest origins.

    Examples
    --------
    >>> idx = pd.period_range("2023-01", periods=36, freq="M")
    >>> s = pd.Series(100 + np.arange(36.0) + 10 * np.sin(np.arange(36) * np.pi / 6), index=idx)
    >>> forecast_best(s, 2, n_origins=2).forecast["period"].astype(str).tolist()
    ['2026-01', '2026-02']
    """
    if h < 1:
        raise ParameterError(f"The 'h' parameter of forecast_best must be ≥ 1. Got {h!r} instead.")
    s = pd.Series(series, dtype=float)
    n = len(s)
    X = None
    if exog is not None:
        X = np.asarray(exog, dtype=float).reshape(n + h, -1) if np.ndim(exog) == 2 else \
            np.asarray(exog, dtype=float).reshape(n + h, 1)
    if log is None:
        log = bool(n and np.isfinite(s.to_numpy()).all() and (s.to_numpy() > 0).all())
    bt = rolling_origin_backtest(s.to_numpy(), h, models=models, n_origins=n_origins, period=period,
                                 exog=None if X is None else X[:n], log=log)
    scores = bt.groupby("model").apply(lambda g: mape(g["actual"], g["predicted"]), include_groups=False)
    origins = bt.groupby("model")["origin"].nunique()
    table = pd.DataFrame({"model": scores.index, "mape": scores.to_numpy(), "origins": origins.loc[scores.index].to_numpy()})
    covs = {m: interval_coverage(bt[bt["model"] == m], h) for m in models}

    def honest(m: str) -> bool:
        c = covs[m]["calibrated"]
        return all(np.isfinite(c.get(str(int(lv * 100)), np.nan))
                   and abs(c[str(int(lv * 100))] - lv) <= coverage_tolerance + 1e-12 for lv in LEVELS)

    ok = [m for m in models if honest(m)]
    table["coverage_80"] = [covs[m]["calibrated"].get("80", np.nan) if m in covs else np.nan for m in table["model"]]
    table["coverage_95"] = [covs[m]["calibrated"].get("95", np.nan) if m in covs else np.nan for m in table["model"]]
    cand = table[table["model"].isin(ok or list(models))].sort_values(["mape", "model"])
    best = str(cand["model"].iloc[0])
    own = _forecast_adjusted(s.to_numpy(), best, h, period, None if X is None else X[:n], None if X is None else X[n:],
                             log=log)
    bt_best = bt[bt["model"] == best]
    scale = interval_scale(bt_best)
    n_orig = int(_standardised_errors(bt_best)["origin"].nunique())
    cov = covs[best]
    fc = calibrate_intervals(own, scale, df=n_orig, log=log)
    last = s.index[-1]
    periods = [last + k for k in range(1, h + 1)]
    fc.insert(0, "period", periods)
    own.insert(0, "period", periods)
    hist = pd.DataFrame({"period": s.index, "value": s.to_numpy()})
    calibrated = bool(np.isfinite(scale) and scale > 0)
    return ForecastResult(
        model=best, forecast=fc, backtest=table.reset_index(drop=True),
        backtest_mape=float(cand["mape"].iloc[0]),
        baseline_mape=float(table.loc[table["model"] == "seasonal_naive", "mape"].iloc[0]),
        history=hist,
        interval_method=INTERVAL_METHOD if calibrated else "model",
        interval_scale=scale,
        interval_df=n_orig,
        coverage=cov["calibrated"] if calibrated else cov["model"],
        coverage_model=cov["model"],
        coverage_n=cov["n"],
        model_forecast=own,
        coverage_ok=best in ok,
        regressors=X is not None,
        log_scale=log,
    )

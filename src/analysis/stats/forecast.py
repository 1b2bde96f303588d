"""Monthly forecast: ETS or SARIMA (statsmodels), chosen by a rolling-origin backtest.

The backtest refits each candidate at several forecast origins near the end of the
series, forecasts ``h`` steps, and scores the mean absolute percentage error (MAPE)
over all origins and steps. A seasonal-naive forecast (the value 12 months earlier) is
scored on the same origins and shown beside it, so a reader sees whether the model
beats the simplest honest baseline.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, InsufficientDataError, ParameterError

MODELS = ("ets", "sarima")
LEVELS = (0.80, 0.95)


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


def fit_forecast(y, model: str, h: int, period: int = 12) -> pd.DataFrame:
    """Forecast ``h`` steps with ``model`` ("ets" or "sarima").

    Seasonal terms are used when the series holds at least two seasons.

    Returns
    -------
    pd.DataFrame
        ``mean, lo80, hi80, lo95, hi95`` for steps 1…h.

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
    seasonal = len(a) >= 2 * period
    return _fit_predict(a, model, h, period, seasonal)[["mean", "lo80", "hi80", "lo95", "hi95"]]


def rolling_origin_backtest(y, h: int, models=MODELS, n_origins: int = 6, period: int = 12,
                            min_train: int | None = None) -> pd.DataFrame:
    """Rolling-origin evaluation: refit at each origin, forecast h steps, compare.

    Origins are the last ``n_origins`` positions that leave h actual values after them
    (and at least ``min_train`` values before; default two seasons). Every model and the
    seasonal-naive baseline are scored on the same origins.

    Returns
    -------
    pd.DataFrame
        One row per (model, origin, step): ``model, origin, step, actual, predicted, ape``;
        the baseline is model ``"seasonal_naive"``.

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
    rows = []
    for origin in range(first, last + 1):
        train, test = a[:origin], a[origin:origin + h]
        preds = {"seasonal_naive": seasonal_naive(train, h, period)}
        for m in models:
            preds[m] = fit_forecast(train, m, h, period)["mean"].to_numpy()
        for m, p in preds.items():
            for k in range(h):
                ape = abs(test[k] - p[k]) / test[k] if test[k] > 0 else np.nan
                rows.append((m, origin, k + 1, test[k], p[k], ape))
    return pd.DataFrame(rows, columns=["model", "origin", "step", "actual", "predicted", "ape"])


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


def forecast_best(series: pd.Series, h: int, n_origins: int = 6, period: int = 12,
                  models=MODELS) -> ForecastResult:
    """Choose ETS or SARIMA by backtest MAPE and forecast ``h`` periods with it.

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
    bt = rolling_origin_backtest(s.to_numpy(), h, models=models, n_origins=n_origins, period=period)
    scores = bt.groupby("model").apply(lambda g: mape(g["actual"], g["predicted"]), include_groups=False)
    origins = bt.groupby("model")["origin"].nunique()
    table = pd.DataFrame({"model": scores.index, "mape": scores.to_numpy(), "origins": origins.loc[scores.index].to_numpy()})
    cand = table[table["model"].isin(models)].sort_values(["mape", "model"])
    best = str(cand["model"].iloc[0])
    fc = fit_forecast(s.to_numpy(), best, h, period)
    last = s.index[-1]
    fc.insert(0, "period", [last + k for k in range(1, h + 1)])
    hist = pd.DataFrame({"period": s.index, "value": s.to_numpy()})
    return ForecastResult(
        model=best, forecast=fc, backtest=table.reset_index(drop=True),
        backtest_mape=float(cand["mape"].iloc[0]),
        baseline_mape=float(table.loc[table["model"] == "seasonal_naive", "mape"].iloc[0]),
        history=hist,
    )

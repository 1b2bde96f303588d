"""Correlations of features with a binary outcome, bootstrap CIs and Benjamini–Hochberg.

Examples
--------
>>> bh_adjust([0.01, 0.04, 0.03]).round(3).tolist()
[0.03, 0.04, 0.04]
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InsufficientDataError, ParameterError

METHODS = ("auto", "spearman", "pointbiserial")


def bh_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), NaN kept in place.

    Examples
    --------
    >>> bh_adjust([0.5, float("nan")]).tolist()
    [0.5, nan]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q)
    ranked = q[order] * m / np.arange(1, m + 1)
    # enforce monotonicity from the largest p downwards
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    return sps.rankdata(a, axis=-1)


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xm = x - x.mean(axis=-1, keepdims=True)
    ym = y - y.mean(axis=-1, keepdims=True)
    num = (xm * ym).sum(axis=-1)
    den = np.sqrt((xm * xm).sum(axis=-1) * (ym * ym).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _is_binary(v: np.ndarray) -> bool:
    u = np.unique(v[~np.isnan(v)])
    return len(u) <= 2 and set(u.tolist()) <= {0.0, 1.0}


def correlate(
    df: pd.DataFrame,
    features: Sequence[str],
    outcome: str,
    method: str = "auto",
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Correlation of each feature with a 0/1 outcome, with bootstrap CIs and BH p-values.

    ``method="auto"`` uses the point-biserial (Pearson) correlation for a 0/1 feature and
    Spearman's rank correlation otherwise. CIs are percentile bootstrap intervals
    (resampling rows, ``n_boot`` draws, fixed ``seed``); ``p`` is the analytic test
    (scipy) and ``p_adj`` its Benjamini–Hochberg adjustment across the features.

    Returns
    -------
    DataFrame
        ``feature``, ``method``, ``n``, ``rho``, ``lo``, ``hi``, ``p``, ``p_adj``.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6], "y": [0, 0, 0, 1, 1, 1]})
    >>> correlate(df, ["x"], "y", n_boot=200)["rho"].round(3).tolist()
    [0.878]
    """
    if method not in METHODS:
        raise ParameterError(f"The 'method' parameter of correlate must be one of {METHODS}. Got {method!r} instead.")
    if n_boot < 1:
        raise ParameterError(f"The 'n_boot' parameter of correlate must be a positive integer. Got {n_boot!r} instead.")
    rng = np.random.default_rng(seed)
    rows = []
    for f in features:
        sub = df[[f, outcome]].apply(pd.to_numeric, errors="coerce").astype(float).dropna()
        x = sub[f].to_numpy()
        y = sub[outcome].to_numpy()
        n = len(x)
        m = method
        if m == "auto":
            m = "pointbiserial" if _is_binary(x) else "spearman"
        if n < 4 or np.std(x) == 0 or np.std(y) == 0:
            rows.append((f, m, n, np.nan, np.nan, np.nan, np.nan))
            continue
        if m == "spearman":
            rho, p = sps.spearmanr(x, y)
        else:
            rho, p = sps.pearsonr(x, y)
        idx = rng.integers(0, n, size=(n_boot, n))
        xb, yb = x[idx], y[idx]
        if m == "spearman":
            xb, yb = _rank_rows(xb), _rank_rows(yb)
        boots = _pearson_rows(xb, yb)
        boots = boots[~np.isnan(boots)]
        lo, hi = (np.quantile(boots, [alpha / 2, 1 - alpha / 2]) if len(boots) else (np.nan, np.nan))
        rows.append((f, m, n, float(rho), float(lo), float(hi), float(p)))
    out = pd.DataFrame(rows, columns=["feature", "method", "n", "rho", "lo", "hi", "p"])
    if out.empty:
        raise InsufficientDataError("No feature to correlate.")
    out["p_adj"] = bh_adjust(out["p"].to_numpy())
    return out


def correlation_matrix(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Spearman correlation matrix of ``columns`` (pairwise complete rows).

    Examples
    --------
    >>> correlation_matrix(pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]}), ["a", "b"]).loc["a", "b"].item()
    -1.0
    """
    data = df[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)
    return data.corr(method="spearman")

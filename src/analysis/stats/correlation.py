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


def matched_rank_correlation(
    df: pd.DataFrame,
    features: Sequence[str],
    event: str,
    strata: Sequence[str],
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rank correlation of each feature with an event, comparing like with like: each event
    with the rows at risk in the same stratum (for instance the same calendar month and
    tenure band).

    For an event row in stratum s, u is the mid-rank percentile of its feature value among the
    n_s rows of s with a value ((rank − ½) ÷ n_s, ties sharing their mean rank), so u has mean ½
    over the stratum. The statistic is D = Σ (2u − 1) ÷ (number of events), between −1 (the
    events always have the lowest value of their stratum) and +1 (always the highest); 0 when
    they sit where their stratum's rows do. Under the hypothesis that the d_s events of a
    stratum are a random draw of its rows (without replacement), Σ u has mean d_s ÷ 2 and
    variance d_s (n_s − d_s) ÷ (n_s − 1) · var_s(u) exactly, so z = Σ (u − ½) ÷ √(Σ var) is a
    normal score test (a rank-based stratified log-rank test when the strata are risk sets;
    rows of one person in different strata enter as the discrete-time hazard's likelihood
    factorises over person-months). Strata where everybody or nobody had the event carry no
    information and are left out. ``lo``/``hi``: D ± z₁₋α/₂ · se(D), with se from the same
    variance.

    Parameters
    ----------
    df : DataFrame
        One row per unit at risk per stratum (person-months).
    features : sequence of str
    event : str
        0/1 column.
    strata : sequence of str
        Columns whose combination defines the comparison groups.
    alpha : float
        1 − confidence level of ``lo``/``hi``.

    Returns
    -------
    DataFrame
        ``feature``, ``method`` ("matched_rank"), ``n`` (events compared), ``rho`` (D),
        ``lo``, ``hi``, ``p``, ``p_adj`` (Benjamini–Hochberg across the features).

    Examples
    --------
    >>> df = pd.DataFrame({"m": [1, 1, 1, 2, 2, 2], "x": [1, 2, 3, 1, 2, 3], "e": [0, 0, 1, 0, 0, 1]})
    >>> matched_rank_correlation(df, ["x"], "e", ["m"])["rho"].round(3).tolist()
    [0.667]
    """
    if not strata:
        raise ParameterError("The 'strata' parameter of matched_rank_correlation must name at least one column. "
                             "Got [] instead.")
    z_crit = sps.norm.ppf(1 - alpha / 2)
    rows = []
    for f in features:
        sub = df[list(strata) + [f, event]].copy()
        sub[f] = pd.to_numeric(sub[f], errors="coerce")
        sub = sub.dropna()
        e = sub[event].astype(float).to_numpy()
        keys = sub.groupby(list(strata), sort=False, dropna=False).ngroup()
        g = sub.assign(_k=keys.to_numpy(), _e=e)
        n_s = g.groupby("_k")["_e"].transform("size").to_numpy(float)
        d_s = g.groupby("_k")["_e"].transform("sum").to_numpy(float)
        inform = (d_s > 0) & (d_s < n_s)
        g, n_s, d_s = g[inform], n_s[inform], d_s[inform]
        if not len(g) or g["_e"].sum() == 0:
            rows.append((f, "matched_rank", 0, np.nan, np.nan, np.nan, np.nan))
            continue
        rank = g.groupby("_k")[f].rank(method="average").to_numpy(float)
        u = (rank - 0.5) / n_s
        var_u = pd.Series((u - 0.5) ** 2).groupby(g["_k"].to_numpy()).transform("mean").to_numpy()
        ev = g["_e"].to_numpy() > 0
        # one variance term per stratum: d (n − d) / (n − 1) · var(u), on its first event row
        first = ~pd.Series(g["_k"].to_numpy()).duplicated().to_numpy()
        var = float((d_s * (n_s - d_s) / np.maximum(n_s - 1, 1) * var_u)[first].sum())
        n_ev = int(ev.sum())
        score = float((u[ev] - 0.5).sum())
        d_stat = 2.0 * score / n_ev
        if var <= 0:
            rows.append((f, "matched_rank", n_ev, d_stat, np.nan, np.nan, np.nan))
            continue
        se = 2.0 * np.sqrt(var) / n_ev
        p = float(2 * sps.norm.sf(abs(score) / np.sqrt(var)))
        rows.append((f, "matched_rank", n_ev, d_stat, max(-1.0, d_stat - z_crit * se), min(1.0, d_stat + z_crit * se), p))
    out = pd.DataFrame(rows, columns=["feature", "method", "n", "rho", "lo", "hi", "p"])
    if out.empty:
        raise InsufficientDataError("No feature to correlate.")
    out["p_adj"] = bh_adjust(out["p"].to_numpy())
    return out

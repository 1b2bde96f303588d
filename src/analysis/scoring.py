"""Scores of the monthly assessment (月度综合考核): points, totals, ranks, rank intervals,
the territory check and the payout.

All functions take small pandas frames (one row per rep, or per rep and customer/day for
the bootstrap) and a validated :class:`~analysis.scheme.Scheme`; none reads a store.

Rules stated once
-----------------
* **Indicator values** come from per-rep sums (:func:`indicator_values`): ratios are
  fractions (1.0 = 100 %), ``price_class_mix`` is in percentage points. A zero
  denominator (no target, no active customers, nobody guided) gives NaN.
* **Skipped indicator** (its column absent or NaN for every rep, as when the store lacks
  its table): the remaining weights are re-normalised to sum to 100, so totals stay on
  the 100-point scale (:func:`effective_weights`). **A single rep's missing value** (NaN)
  gives that rep 0 points for the indicator and counts in its ``n_missing``.
* **Total** = the correctly rounded sum (``math.fsum``) of the indicator points plus the
  rep's adjustments (加减分, summed over its rows).
* **Ranks** are on the total rounded to 0.01 (the published precision), higher first;
  ties share the best place (min rank: 1, 2, 2, 4). ``rank`` is over all ranked reps,
  ``rank_region`` within the region. ``rank_change`` = previous rank − rank (positive:
  moved up).
* **Part-month reps** (``employed_share`` < 1; reps who left before the month's end are
  to be excluded by the caller) are **listed apart**: scored like everyone (their
  indicators are rates), flagged ``part_month``, but not ranked (rank NaN) and their
  payout prorated by ``employed_share``. They do count as peers in a ``rank`` rule.
* **rank rule**: percentile = (average rank − 1) ÷ (n − 1) among the reps of the region
  with a value (lowest 0, highest 1, ties share the middle; a region with one rep: 1).
  It is non-decreasing in the rep's own value, so raising any indicator never lowers a
  rep's total.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats as sps

from .allocation import _exact, _r, _units, largest_remainder_units
from .errors import InsufficientDataError, ParameterError, SchemeError
from .scheme import Indicator, Rule, Scheme
from .sections import Table

# indicator id → (numerator, denominator[, extra]) columns of the per-rep sums
INDICATOR_INPUTS: dict[str, tuple[str, ...]] = {
    "amount_attainment": ("amount", "amount_target"),
    "qty_attainment": ("qty", "qty_target"),
    "price_class_mix": ("mix_top", "mix_total", "mix_top_ly", "mix_total_ly"),
    "key_brand_distribution": ("key_brand_customers", "active_customers"),
    "new_brand_distribution": ("new_brand_customers", "active_customers"),
    "ordering_rate": ("ordering_customers", "active_customers"),
    "guidance_coverage": ("guided_customers", "active_customers"),
    "effective_guidance": ("effective_guided", "guided_customers"),
    "visit_attainment": ("visits", "active_customers"),
}
"""The per-rep sums each indicator is computed from (see :func:`indicator_values`)."""

FIXED_COLUMNS = ("region", "amount_target", "qty_target", "employed_share")
"""Per-rep columns that are not sums over customers or days (not resampled)."""


# ----------------------------------------------------------------------------- values
def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype(float)
    den = den.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(den > 0)


def indicator_values(sums: pd.DataFrame, visit_plan: float | None = None) -> pd.DataFrame:
    """Indicator values from per-rep sums.

    Parameters
    ----------
    sums : DataFrame
        One row per rep: ``rep_id``, ``region`` and any of the input columns of
        :data:`INDICATOR_INPUTS`: ``amount``/``amount_target``, ``qty``/``qty_target``;
        ``mix_top``/``mix_total`` (the top price classes' amount or qty and the total,
        this month) and ``mix_top_ly``/``mix_total_ly`` (same month last year);
        ``active_customers`` (customers served), ``ordering_customers``,
        ``key_brand_customers``, ``new_brand_customers``, ``guided_customers``,
        ``effective_guided``, ``visits``. Other columns (``employed_share``) pass through.
    visit_plan : float, optional
        Planned visits per active customer; required for ``visit_attainment``.

    Returns
    -------
    DataFrame
        ``rep_id``, ``region``, the pass-through columns and one column per indicator
        whose inputs are all present:

        * ``amount_attainment`` = amount ÷ amount_target (NaN when the target <= 0);
        * ``qty_attainment`` = qty ÷ qty_target;
        * ``price_class_mix`` = (mix_top ÷ mix_total − mix_top_ly ÷ mix_total_ly) × 100 (pp);
        * ``key_brand_distribution``, ``new_brand_distribution``, ``ordering_rate``,
          ``guidance_coverage`` = the count ÷ active_customers;
        * ``effective_guidance`` = effective_guided ÷ guided_customers;
        * ``visit_attainment`` = visits ÷ active_customers ÷ visit_plan.

    Examples
    --------
    >>> df = pd.DataFrame({"rep_id": ["a"], "region": ["N"], "amount": [90.0], "amount_target": [100.0]})
    >>> indicator_values(df)["amount_attainment"].tolist()
    [0.9]
    """
    for c in ("rep_id", "region"):
        if c not in sums.columns:
            raise ParameterError(f"The 'sums' frame must have a '{c}' column. Got columns "
                                 f"{', '.join(map(str, sums.columns))} instead.")
    inputs = {c for cols in INDICATOR_INPUTS.values() for c in cols}
    keep = [c for c in sums.columns if c not in inputs]
    out = sums[keep].copy()
    for iid, cols in INDICATOR_INPUTS.items():
        if not all(c in sums.columns for c in cols):
            continue
        if iid == "price_class_mix":
            v = (_ratio(sums["mix_top"], sums["mix_total"]) - _ratio(sums["mix_top_ly"], sums["mix_total_ly"])) * 100
        elif iid == "visit_attainment":
            if visit_plan is None:
                continue
            if not (float(visit_plan) > 0):
                raise ParameterError(f"The 'visit_plan' must be > 0. Got {_r(visit_plan)} instead.")
            v = _ratio(sums["visits"], sums["active_customers"]) / float(visit_plan)
        else:
            v = _ratio(sums[cols[0]], sums[cols[1]])
        out[iid] = v.to_numpy()
    return out


# ----------------------------------------------------------------------------- rules
def linear_points(values: Any, weight: float, floor: float, target: float, cap: float | None = None,
                  bonus: float = 0.0) -> np.ndarray:
    """Points of the ``linear`` rule (NaN stays NaN).

    0 at or below ``floor``; ``weight × (v − floor) / (target − floor)`` up to ``target``;
    above it ``weight + bonus × (v − target) / (cap − target)``, at most ``weight + bonus``.

    Examples
    --------
    >>> linear_points([0.7, 0.9, 1.0, 1.1, 1.5], 30, 0.8, 1.0, 1.2, 3).round(6).tolist()
    [0.0, 15.0, 30.0, 31.5, 33.0]
    """
    v = np.asarray(values, dtype=float)
    cap = target if cap is None else cap
    below = weight * np.clip((v - floor) / (target - floor), 0.0, 1.0)
    if bonus > 0 and cap > target:
        above = bonus * np.clip((v - target) / (cap - target), 0.0, 1.0)
    else:
        above = np.zeros_like(v)
    out = np.where(v >= target, weight + above, below)
    return np.where(np.isnan(v), np.nan, out)


def threshold_points(values: Any, weight: float, level: float) -> np.ndarray:
    """Points of the ``threshold`` rule: ``weight`` at or above ``level``, else 0 (NaN stays NaN).

    Examples
    --------
    >>> threshold_points([0.59, 0.6, 0.9], 8, 0.6).tolist()
    [0.0, 8.0, 8.0]
    """
    v = np.asarray(values, dtype=float)
    return np.where(np.isnan(v), np.nan, np.where(v >= level, float(weight), 0.0))


def rank_percentile(values: Any, groups: Any = None) -> np.ndarray:
    """Percentile of each value within its group: (average rank − 1) ÷ (n − 1).

    The lowest value gets 0, the highest 1, tied values share the mean of their places;
    a group with one value gets 1. NaN values are left out of the comparison and get NaN.

    Examples
    --------
    >>> rank_percentile([1, 2, 2, 5], ["a", "a", "a", "a"]).tolist()
    [0.0, 0.5, 0.5, 1.0]
    """
    v = pd.Series(np.asarray(values, dtype=float))
    g = np.zeros(len(v)) if groups is None else np.asarray(list(groups), dtype=object)
    r = v.groupby(g).rank(method="average")
    n = v.notna().groupby(g).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 1, (r - 1) / (n - 1), 1.0)
    return np.where(v.isna(), np.nan, pct)


def rule_points(values: Any, indicator: Indicator, groups: Any = None) -> np.ndarray:
    """Points of one indicator by its rule (``groups``: the region of each rep, for ``rank``)."""
    r: Rule = indicator.rule
    if r.kind == "linear":
        return linear_points(values, indicator.weight, r.floor, r.target, r.cap, r.bonus)
    if r.kind == "threshold":
        return threshold_points(values, indicator.weight, r.level)
    return indicator.weight * rank_percentile(values, groups)


# ----------------------------------------------------------------------------- score
def effective_weights(scheme: Scheme, values: pd.DataFrame) -> tuple[dict[str, float], list[str]]:
    """The weights used after skipped indicators, and the skipped indicator ids.

    An indicator is skipped when its column is absent from ``values`` or NaN for every
    rep; the remaining weights are scaled by 100 ÷ their sum.

    Raises
    ------
    InsufficientDataError
        Every indicator of the scheme is skipped.
    """
    present = [i for i in scheme.indicators if i.id in values.columns and values[i.id].notna().any()]
    skipped = [i.id for i in scheme.indicators if i not in present]
    if not present:
        raise InsufficientDataError(f"None of the indicators of scheme '{scheme.name}' has a value, so no "
                                    f"score can be made. Skipped: {', '.join(skipped)}.")
    s = math.fsum(i.weight for i in present)
    return {i.id: i.weight * 100.0 / s for i in present}, skipped


def _scale(scheme: Scheme, weights: Mapping[str, float]) -> dict[str, float]:
    return {iid: w / scheme.indicator(iid).weight for iid, w in weights.items()}


def _adjustment_sums(adjustments: pd.DataFrame | None, reps: pd.Series) -> pd.Series:
    if adjustments is None or len(adjustments) == 0:
        return pd.Series(0.0, index=reps.index)
    for c in ("rep_id", "points"):
        if c not in adjustments.columns:
            raise SchemeError(f"The adjustments must have a '{c}' column. Got columns "
                              f"{', '.join(map(str, adjustments.columns))} instead.")
    a = adjustments.assign(rep_id=adjustments["rep_id"].astype(str))
    unknown = sorted(set(a["rep_id"]) - set(reps.astype(str)))
    if unknown:
        raise SchemeError(f"The 'rep_id' of an adjustment must be a rep scored this month. Got {_r(unknown[0])} instead.")
    per = a.groupby("rep_id")["points"].apply(lambda x: math.fsum(x.astype(float)))
    return reps.astype(str).map(per).fillna(0.0).astype(float)


def _min_rank(total: pd.Series, groups: pd.Series | None, ranked: pd.Series) -> pd.Series:
    t = total.round(2).where(ranked)
    if groups is None:
        r = t.rank(method="min", ascending=False)
    else:
        r = t.groupby(groups.to_numpy()).rank(method="min", ascending=False)
    return r.astype("Int64")


def _points_frame(values: pd.DataFrame, scheme: Scheme, weights: Mapping[str, float],
                  group_cols: list[str]) -> pd.DataFrame:
    """Points per indicator (scaled to the effective weights, NaN = missing) for each row."""
    scale = _scale(scheme, weights)
    if len(group_cols) > 1:
        groups = np.zeros(len(values), dtype=np.int64)      # one integer code per combination
        for c in group_cols:
            codes, uniques = pd.factorize(values[c])
            groups = groups * (len(uniques) + 1) + codes
    elif group_cols:
        groups = values[group_cols[0]].to_numpy()
    else:
        groups = None
    pts = {}
    for iid in weights:
        ind = scheme.indicator(iid)
        pts[iid] = rule_points(values[iid].to_numpy(dtype=float), ind, groups) * scale[iid]
    return pd.DataFrame(pts, index=values.index)


def score(values: pd.DataFrame, scheme: Scheme, adjustments: pd.DataFrame | None = None,
          previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every rep by the scheme.

    Parameters
    ----------
    values : DataFrame
        One row per rep: ``rep_id``, ``region``, one column per indicator (as from
        :func:`indicator_values`; absent columns are skipped indicators) and optionally
        ``employed_share`` (fraction of the month employed, default 1).
    scheme : Scheme
    adjustments : DataFrame, optional
        ``rep_id``, ``points`` (as from :func:`analysis.scheme.load_adjustments`).
    previous : DataFrame, optional
        Last month's scores: ``rep_id`` and ``rank``.

    Returns
    -------
    DataFrame
        One row per rep, sorted by rank (part-month reps last): ``rep_id``, ``region``,
        ``part_month``, for each scored indicator ``<id>`` (value) and ``<id>_points``,
        ``n_missing``, ``adjustment``, ``total``, ``rank``, ``rank_region``,
        ``rank_prev``, ``rank_change`` (nullable integers). ``attrs`` holds ``weights``
        (effective) and ``skipped`` (indicator ids).

    Raises
    ------
    ParameterError
        A missing ``rep_id``/``region`` column or a repeated rep.
    SchemeError
        An adjustment for a rep not in ``values``.
    """
    for c in ("rep_id", "region"):
        if c not in values.columns:
            raise ParameterError(f"The 'values' frame must have a '{c}' column. Got columns "
                                 f"{', '.join(map(str, values.columns))} instead.")
    if values["rep_id"].duplicated().any():
        dup = values["rep_id"][values["rep_id"].duplicated()].iloc[0]
        raise ParameterError(f"The 'values' frame must have one row per rep. Got rep {_r(dup)} twice.")
    v = values.reset_index(drop=True)
    if v["region"].isna().any():
        raise ParameterError(f"The 'region' of rep {_r(v.loc[v['region'].isna(), 'rep_id'].iloc[0])} must not be "
                             f"empty (ranks and the rank rule are within the region). Got None instead.")
    weights, skipped = effective_weights(scheme, v)
    share = v["employed_share"].astype(float) if "employed_share" in v.columns else pd.Series(1.0, index=v.index)
    if ((share < 0) | (share > 1) | share.isna()).any():
        bad = share[(share < 0) | (share > 1) | share.isna()].iloc[0]
        raise ParameterError(f"The 'employed_share' must be from 0 to 1. Got {_r(bad)} instead.")
    pts = _points_frame(v, scheme, weights, ["region"])
    out = v[["rep_id", "region"]].copy()
    out["part_month"] = (share < 1).to_numpy()
    for iid in weights:
        out[iid] = v[iid].astype(float)
        out[f"{iid}_points"] = pts[iid].fillna(0.0)
    out["n_missing"] = pts.isna().sum(axis=1).astype(int)
    out["adjustment"] = _adjustment_sums(adjustments, v["rep_id"])
    comps = [f"{iid}_points" for iid in weights]
    out["total"] = [math.fsum(row) for row in out[comps + ["adjustment"]].to_numpy(dtype=float)]
    ranked = ~out["part_month"]
    out["rank"] = _min_rank(out["total"], None, ranked)
    out["rank_region"] = _min_rank(out["total"], out["region"], ranked)
    if previous is not None and len(previous):
        prev = previous.drop_duplicates("rep_id").set_index(previous["rep_id"].drop_duplicates().astype(str))["rank"]
        out["rank_prev"] = out["rep_id"].astype(str).map(prev).astype("Int64")
    else:
        out["rank_prev"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["rank_change"] = (out["rank_prev"] - out["rank"]).astype("Int64")
    out = out.sort_values(["part_month", "rank", "rep_id"], na_position="last", kind="mergesort")
    out = out.reset_index(drop=True)
    out.attrs["weights"] = dict(weights)
    out.attrs["skipped"] = list(skipped)
    return out


# ----------------------------------------------------------------------------- bootstrap
def pairwise_rank_bounds(total: np.ndarray, boot: np.ndarray, ranked: np.ndarray | None = None,
                         alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Confidence intervals for ranks from simultaneous intervals for the differences of totals.

    For each ranked rep ``j`` (Mogstad, Romano, Shaikh & Wilhelm 2024, marginal rank
    intervals): the differences ``d_k = T_k − T_j`` to every other ranked rep get
    simultaneous ``1 − alpha`` intervals ``d̂_k ± c_j · σ_k``, with ``σ_k`` the bootstrap
    standard deviation of ``d_k`` and ``c_j`` the ``1 − alpha`` quantile over the resamples
    of ``max_k |d*_k − d̂_k| / σ_k`` (a difference that never varies is taken as known). The
    rank interval is ``[1 + #{k: interval above 0}, n − #{k: interval below 0}]``: the reps
    surely ahead and surely behind. It always contains the rank shown (min rank of the
    totals: an interval is centred on its estimate) and covers the true rank with at least
    the nominal probability also when reps are nearly tied, where percentiles of the
    bootstrap ranks do not (at the extremes they covered about two thirds).

    Parameters
    ----------
    total : array of shape (n,)
        The totals as ranked (rounded to the published precision).
    boot : array of shape (n_boot, n)
        The totals of each resample.
    ranked : array of bool, optional
        The reps that are ranked (the others get NaN and are not compared).
    alpha : float
        1 − confidence.

    Returns
    -------
    (rank_lo, rank_hi) : arrays of float (NaN for reps not ranked)

    Examples
    --------
    >>> boot = np.array([[3.0, 2.0, 1.0], [3.1, 2.2, 0.9], [2.9, 1.8, 1.1]])
    >>> [x.tolist() for x in pairwise_rank_bounds(np.array([3.0, 2.0, 1.0]), boot)]
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """
    t = np.asarray(total, dtype=float)
    b = np.asarray(boot, dtype=float)
    n = len(t)
    ok = np.ones(n, dtype=bool) if ranked is None else np.asarray(ranked, dtype=bool) & ~np.isnan(t)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    idx = np.flatnonzero(ok)
    m = len(idx)
    if m == 0:
        return lo, hi
    tt, bb = t[idx], b[:, idx]
    for pos, j in enumerate(idx):
        others = np.arange(m) != pos
        d_hat = tt[others] - tt[pos]
        d_b = bb[:, others] - bb[:, [pos]]
        sd = d_b.std(axis=0, ddof=1) if len(d_b) > 1 else np.zeros(m - 1)
        var = sd > 1e-12
        if var.any():
            stat = np.abs(d_b[:, var] - d_hat[var]) / sd[var]
            c = float(np.quantile(stat.max(axis=1), 1 - alpha, method="higher"))
        else:
            c = 0.0
        half = np.where(var, c * sd, 0.0)
        ahead = d_hat - half > 0
        behind = d_hat + half < 0
        lo[j] = 1 + int(ahead.sum())
        hi[j] = m - int(behind.sum())
    return lo, hi


def rank_intervals(contributions: pd.DataFrame, fixed: pd.DataFrame, scheme: Scheme, *,
                   unit: str = "customer_id", adjustments: pd.DataFrame | None = None,
                   n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Bootstrap rank intervals: resample each rep's customers (or days) and re-score.

    Each resample draws, for every rep separately, as many of its units (rows of
    ``contributions``) as it has, with replacement; sums them; recomputes the indicator
    values (:func:`indicator_values`) and the scores (the ``rank`` rule and the ranks
    within the resample), adjustments unchanged. ``rank_lo``/``rank_hi`` come from
    simultaneous intervals for the differences between the rep's total and every other
    rep's (:func:`pairwise_rank_bounds`), overall and within the region: they always
    contain the rank shown and keep their coverage when reps are nearly tied.

    Parameters
    ----------
    contributions : DataFrame
        One row per rep and unit: ``rep_id``, ``unit`` and the additive input columns of
        :data:`INDICATOR_INPUTS` (per customer: amount, qty, ordering_customers 0/1,
        active_customers 1, guided_customers 0/1, visits …).
    fixed : DataFrame
        One row per rep: ``rep_id``, ``region`` and the non-additive columns
        (``amount_target``, ``qty_target``, ``employed_share``). Reps here without
        contributions have no values (0 points).
    scheme, adjustments
        As in :func:`score`.
    n_boot : int
        Resamples (>= 100).
    alpha : float
        1 − confidence of the interval.
    seed : int
        Seed of the random generator (same seed, same intervals).

    Returns
    -------
    DataFrame
        ``rep_id``, ``region``, ``total``, ``rank`` (of the full data), ``rank_lo``,
        ``rank_hi``, ``rank_region_lo``, ``rank_region_hi``, ``overlaps_next`` (this rep's
        interval overlaps that of the rep ranked just below), ``within_noise`` (overlaps
        the neighbour above or below), sorted by rank. Part-month reps have no intervals.
    """
    if int(n_boot) < 100:
        raise ParameterError(f"The 'n_boot' must be at least 100. Got {_r(n_boot)} instead.")
    if not (0 < float(alpha) < 1):
        raise ParameterError(f"The 'alpha' must be between 0 and 1. Got {_r(alpha)} instead.")
    for c in ("rep_id", unit):
        if c not in contributions.columns:
            raise ParameterError(f"The 'contributions' frame must have a '{c}' column. Got columns "
                                 f"{', '.join(map(str, contributions.columns))} instead.")
    fx = fixed.reset_index(drop=True).copy()
    fx["rep_id"] = fx["rep_id"].astype(str)
    inputs = {c for cols in INDICATOR_INPUTS.values() for c in cols}
    add_cols = [c for c in contributions.columns if c in inputs and c not in fx.columns]
    contrib = contributions.assign(rep_id=contributions["rep_id"].astype(str))
    full_sums = contrib.groupby("rep_id")[add_cols].sum()
    base = fx.merge(full_sums, left_on="rep_id", right_index=True, how="left")
    base[add_cols] = base[add_cols].fillna(0.0)
    point = score(indicator_values(base, scheme.visit_plan), scheme, adjustments)
    weights = point.attrs["weights"]

    rng = np.random.default_rng(seed)
    nb = int(n_boot)
    n_reps = len(fx)
    sums = np.zeros((nb, n_reps, len(add_cols)))
    groups = {k: g[add_cols].to_numpy(dtype=float) for k, g in contrib.groupby("rep_id", sort=True)}
    for j, rep in enumerate(fx["rep_id"]):
        x = groups.get(rep)
        if x is None or len(x) == 0:
            continue
        n = len(x)
        draws = rng.integers(0, n, size=(nb, n)) + (np.arange(nb) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=nb * n).reshape(nb, n).astype(float)
        sums[:, j, :] = np.einsum("bn,nc->bc", counts, x)   # einsum: no BLAS threads
    big = pd.DataFrame(sums.reshape(nb * n_reps, len(add_cols)), columns=add_cols)
    big["boot"] = np.repeat(np.arange(nb), n_reps)
    rep_fixed = pd.concat([fx] * nb, ignore_index=True)
    for c in fx.columns:
        big[c] = rep_fixed[c].to_numpy()
    vals = indicator_values(big, scheme.visit_plan)
    for iid in weights:
        if iid not in vals.columns:
            vals[iid] = np.nan
    pts = _points_frame(vals, scheme, weights, ["boot", "region"]).fillna(0.0)
    adj = _adjustment_sums(adjustments, fx["rep_id"]).to_numpy()
    comp = pts[list(weights)].to_numpy()
    total = np.round(comp.sum(axis=1) + np.tile(adj, nb), 2)
    share = fx["employed_share"].astype(float).to_numpy() if "employed_share" in fx.columns else np.ones(n_reps)
    boot_total = total.reshape(nb, n_reps)
    obs = point.set_index(point["rep_id"].astype(str))["total"].reindex(fx["rep_id"]).round(2).to_numpy()
    ranked_rep = share >= 1
    region = fx["region"].astype(str).to_numpy()
    lo_all, hi_all = pairwise_rank_bounds(obs, boot_total, ranked_rep, alpha)
    lo_reg = np.full(n_reps, np.nan)
    hi_reg = np.full(n_reps, np.nan)
    for reg in pd.unique(region):
        m = region == reg
        a, b = pairwise_rank_bounds(obs[m], boot_total[:, m], ranked_rep[m], alpha)
        lo_reg[m], hi_reg[m] = a, b
    res = pd.DataFrame({"rep_id": fx["rep_id"], "region": fx["region"], "rank_lo": lo_all, "rank_hi": hi_all,
                        "rank_region_lo": lo_reg, "rank_region_hi": hi_reg})
    for c in ("rank_lo", "rank_hi", "rank_region_lo", "rank_region_hi"):
        res[c] = pd.array([pd.NA if np.isnan(x) else int(x) for x in res[c]], dtype="Int64")
    res = point[["rep_id", "total", "rank"]].merge(res, on="rep_id", how="left")
    res = res[["rep_id", "region", "total", "rank", "rank_lo", "rank_hi", "rank_region_lo", "rank_region_hi"]]
    res = res.sort_values(["rank", "rep_id"], na_position="last", kind="mergesort").reset_index(drop=True)
    ok = res["rank"].notna().to_numpy()
    lo = res["rank_lo"].to_numpy(dtype=float, na_value=np.nan)
    hi = res["rank_hi"].to_numpy(dtype=float, na_value=np.nan)
    nxt = np.zeros(len(res), dtype=bool)
    idx = np.flatnonzero(ok)
    for a, b in zip(idx[:-1], idx[1:]):
        nxt[a] = max(lo[a], lo[b]) <= min(hi[a], hi[b])
    prev = np.zeros(len(res), dtype=bool)
    prev[idx[1:]] = nxt[idx[:-1]]
    res["overlaps_next"] = nxt
    res["within_noise"] = nxt | prev
    return res


# ----------------------------------------------------------------------------- territory
@dataclass(frozen=True)
class TerritoryCheck:
    """Spearman correlation of scores with territory potential and its confidence interval."""

    rho: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    alpha: float = 0.05


def territory_check(scores: Any, potential: Any, alpha: float = 0.05) -> TerritoryCheck:
    """Spearman's ρ of the scores with the territories' potential, with a Fisher-z interval.

    The interval is ``tanh(atanh(ρ) ± z · sqrt((1 + ρ²/2) / (n − 3)))`` (Bonett & Wright's
    variance for Spearman's ρ); ``p_value`` is scipy's test of ρ = 0. Pairs with a NaN are
    dropped. A clearly positive ρ means the score partly measures the territory.

    Raises
    ------
    InsufficientDataError
        Fewer than 4 complete pairs, or a constant series.
    """
    s = np.asarray(scores, dtype=float)
    p = np.asarray(potential, dtype=float)
    if s.shape != p.shape:
        raise ParameterError(f"The 'scores' and 'potential' must have the same length. Got {len(s)} and {len(p)}.")
    ok = ~(np.isnan(s) | np.isnan(p))
    s, p = s[ok], p[ok]
    n = len(s)
    if n < 4:
        raise InsufficientDataError(f"The territory check needs at least 4 reps with a score and a potential. Got {n}.")
    if np.ptp(s) == 0 or np.ptp(p) == 0:
        raise InsufficientDataError("The territory check needs scores and potentials that vary. Got a constant series.")
    rho, pval = sps.spearmanr(s, p)
    rho = float(rho)
    z = sps.norm.ppf(1 - alpha / 2)
    se = math.sqrt((1 + rho * rho / 2) / (n - 3))
    zr = math.atanh(max(min(rho, 1 - 1e-12), -1 + 1e-12))
    return TerritoryCheck(rho, math.tanh(zr - z * se), math.tanh(zr + z * se), float(pval), n, alpha)


def potential_adjusted(frame: pd.DataFrame) -> pd.DataFrame:
    """Potential-adjusted attainment: actual ÷ the actual expected from the territory's potential.

    The expectation is a log-log least-squares line over the reps,
    ``log(actual) = a + b · log(potential)``, so ``expected = exp(a) · potential ** b``;
    ``adjusted_attainment = actual ÷ expected`` is 1.0 for a rep who sells what reps with
    that potential typically sell (their geometric mean is exactly 1), above 1 for better.

    Parameters
    ----------
    frame : DataFrame
        ``rep_id``, ``actual``, ``potential`` (for instance the customers' sales in the same
        month last year) and optionally ``target`` (then ``attainment`` = actual ÷ target
        is returned beside it).

    Returns
    -------
    DataFrame
        The input columns plus ``expected``, ``adjusted_attainment`` (NaN where actual or
        potential <= 0) and ``attainment`` when ``target`` is given; ``attrs["slope"]``
        and ``attrs["intercept"]``.

    Raises
    ------
    InsufficientDataError
        Fewer than 3 reps with positive actual and potential, or a constant potential.
    """
    for c in ("rep_id", "actual", "potential"):
        if c not in frame.columns:
            raise ParameterError(f"The frame must have a '{c}' column. Got columns "
                                 f"{', '.join(map(str, frame.columns))} instead.")
    out = frame.copy()
    a = out["actual"].astype(float).to_numpy()
    p = out["potential"].astype(float).to_numpy()
    ok = (a > 0) & (p > 0)
    if ok.sum() < 3:
        raise InsufficientDataError(f"The potential adjustment needs at least 3 reps with positive actual and "
                                    f"potential. Got {int(ok.sum())}.")
    x, y = np.log(p[ok]), np.log(a[ok])
    if np.ptp(x) == 0:
        raise InsufficientDataError("The potential adjustment needs potentials that vary. Got a constant potential.")
    b, c = np.polyfit(x, y, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(p > 0, np.exp(c) * np.power(np.where(p > 0, p, 1.0), b), np.nan)
        adj = np.where(ok, a / expected, np.nan)
    out["expected"] = expected
    out["adjusted_attainment"] = adj
    if "target" in out.columns:
        out["attainment"] = _ratio(out["actual"], out["target"]).to_numpy()
    out.attrs["slope"] = float(b)
    out.attrs["intercept"] = float(c)
    return out


# ----------------------------------------------------------------------------- payout
def payout(scores: pd.DataFrame, pool: float, individual_share: float = 0.7,
           team_attainment_by_region: Mapping[Any, float] | None = None) -> pd.DataFrame:
    """Split a bonus pool: ``individual_share`` by score, the rest by the region's attainment.

    The individual part goes to the reps in proportion to ``max(total, 0) ×
    employed_share``; the team part in proportion to ``max(region attainment, 0) ×
    employed_share`` (every full-month rep of a region gets the same team amount). The
    pool is counted in fen: the individual part is ``round(pool × individual_share)`` fen
    (half to even), the team part the rest, and each is split by the largest-remainder
    method, so the amounts sum **exactly** to the pool.

    Parameters
    ----------
    scores : DataFrame
        ``rep_id``, ``region``, ``total`` and optionally ``employed_share`` (as from
        :func:`score`, plus the column if part-month reps are paid).
    pool : float
        Yuan, at most 2 decimals (whole fen), > 0.
    individual_share : float
        From 0 to 1 (default 0.7: the 70/30 split).
    team_attainment_by_region : mapping, optional
        Region → attainment (1.0 = 100 %); required when ``individual_share`` < 1.

    Returns
    -------
    DataFrame
        ``rep_id``, ``region``, ``individual``, ``team``, ``amount`` (yuan, 2 decimals) and
        ``amount_fen`` (int); ``amount_fen`` sums to the pool in fen.

    Raises
    ------
    ParameterError
        A bad pool or share, a region without attainment, or no positive weight for a
        non-empty part (no rep with a positive score).
    """
    for c in ("rep_id", "region", "total"):
        if c not in scores.columns:
            raise ParameterError(f"The 'scores' frame must have a '{c}' column. Got columns "
                                 f"{', '.join(map(str, scores.columns))} instead.")
    if not float(pool) > 0:
        raise ParameterError(f"The 'pool' must be > 0 yuan. Got {_r(pool)} instead.")
    try:
        pool_fen, _ = _units(pool, 0.01)
    except ParameterError:
        raise ParameterError(f"The 'pool' must be whole fen (at most 2 decimals). Got {_r(pool)} instead.") from None
    sh = _exact(individual_share, "individual_share")
    if not (0 <= sh <= 1):
        raise ParameterError(f"The 'individual_share' must be from 0 to 1. Got {_r(individual_share)} instead.")
    ind_fen = round(Fraction(pool_fen) * sh)
    team_fen = pool_fen - ind_fen
    s = scores.reset_index(drop=True)
    es = s["employed_share"].astype(float) if "employed_share" in s.columns else pd.Series(1.0, index=s.index)
    w_ind = s["total"].astype(float).clip(lower=0).fillna(0.0) * es
    if ind_fen > 0 and not w_ind.sum() > 0:
        raise ParameterError("The individual part of the pool needs at least one rep with a positive score. Got none.")
    ind = largest_remainder_units(w_ind.to_numpy(), ind_fen)
    if team_fen > 0:
        if team_attainment_by_region is None:
            raise ParameterError(f"The 'team_attainment_by_region' is required when 'individual_share' is below 1. "
                                 f"Got None with share {_r(individual_share)}.")
        att = dict(team_attainment_by_region)
        missing = sorted({str(r) for r in s["region"] if r not in att})
        if missing:
            raise ParameterError(f"The 'team_attainment_by_region' must give every region's attainment. "
                                 f"Got none for {_r(missing[0])}.")
        w_team = s["region"].map(att).astype(float).clip(lower=0).fillna(0.0) * es
        if not w_team.sum() > 0:
            raise ParameterError("The team part of the pool needs at least one region with a positive attainment. "
                                 "Got none.")
        team = largest_remainder_units(w_team.to_numpy(), team_fen)
    else:
        team = np.zeros(len(s), dtype=np.int64)
    total_fen = ind + team
    return pd.DataFrame({
        "rep_id": s["rep_id"], "region": s["region"],
        "individual": ind / 100.0, "team": team / 100.0, "amount": total_fen / 100.0,
        "amount_fen": total_fen.astype(np.int64),
    })


#: columns of a ranking that a part-month unit has no value in
RANK_COLUMNS = ("rank", "rank_region", "rank_change", "rank_lo", "rank_hi", "within_noise")


def ranking_tables(scores: pd.DataFrame, cols: Mapping[str, str], labels: Mapping[str, str],
                   max_rows: int) -> list[Table]:
    """The ranking of the full-month units, and apart the part-month units (no ranks; their
    share of the month employed): the tables of a scorecard's scores section (reps or agents).

    Parameters
    ----------
    scores : DataFrame
        :func:`score`'s table (a ``part_month`` column).
    cols, labels : mapping
        The ranking's columns with their formats, and their catalogue labels.
    max_rows : int
        Rows shown of the ranking.
    """
    full = scores[~scores["part_month"]].reset_index(drop=True)
    out = [Table.of("ranking", full, labels=dict(labels), max_rows=max_rows, **cols)]
    part = scores[scores["part_month"]].reset_index(drop=True)
    if len(part):
        pc = {k: v for k, v in cols.items() if k not in RANK_COLUMNS}
        pc["employed_share"] = "rate"
        out.append(Table.of("part_month", part, labels={**labels, "employed_share": "rep_scorecard.column.employed_share"},
                            title="rep_scorecard.table.part_month", max_rows=100, **pc))
    return out

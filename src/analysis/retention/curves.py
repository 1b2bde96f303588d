"""Kaplan–Meier retention curves: of everyone, and by tiers of a feature (time-dependent tiers on
the panel: Simon–Makuch curves, Mantel–Byar log-rank).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..sections import Reason, SectionResult
from ..stats import survival as sv
from .data import BOOL_FEATURES, REPORT, RetentionData
from .panel import TIME_VARYING


SHARE_TIERS = ("share_0_10", "share_20_40", "share_50_plus")


DELAY_TIERS = ("delay_0_3", "delay_4_7", "delay_over_7")


#: every tier code with a label (``incentive_retention.tier.<code>``), in the order shown
TIER_ORDER = ("all", "no", "yes", *SHARE_TIERS, *DELAY_TIERS, "low", "mid", "high")


def feature_tiers(values: pd.Series, feature: str) -> pd.Series:
    """Tier labels of a person-level feature for Kaplan–Meier curves.

    The tiers are codes (shown through the labels ``incentive_retention.tier.<code>``):
    0/1 features: "yes"/"no"; team_bonus_share: "share_0_10" (< 15 %), "share_20_40"
    (15–45 %), "share_50_plus"; payout_delay_days: "delay_0_3" / "delay_4_7" / "delay_over_7"
    (days); other numerics: thirds ("low"/"mid"/"high"), or the values themselves when there
    are at most four.

    Examples
    --------
    >>> feature_tiers(pd.Series([0.0, 0.31, 0.5]), "team_bonus_share").tolist()
    ['share_0_10', 'share_20_40', 'share_50_plus']
    """
    v = pd.to_numeric(values, errors="coerce")
    u = v.dropna().unique()
    if feature in BOOL_FEATURES or (len(u) <= 2 and set(np.round(u, 6)) <= {0.0, 1.0}):
        return v.map(lambda x: None if pd.isna(x) else ("yes" if x > 0.5 else "no"))
    if feature == "team_bonus_share":
        return pd.cut(v, [-np.inf, 0.15, 0.45, np.inf], labels=list(SHARE_TIERS), right=False).astype(object)
    if feature == "payout_delay_days":
        return pd.cut(v, [-np.inf, 3, 7, np.inf], labels=list(DELAY_TIERS)).astype(object)
    if len(u) <= 4:
        return v.map(lambda x: None if pd.isna(x) else f"{x:g}")
    q = v.quantile([1 / 3, 2 / 3]).to_numpy()
    if q[0] == q[1]:
        return pd.Series(np.where(v <= q[0], "low", "high"), index=v.index).where(v.notna())
    return pd.cut(v, [-np.inf, q[0], q[1], np.inf], labels=["low", "mid", "high"]).astype(object)


@dataclass(kw_only=True)
class CurvesResult(SectionResult):
    """Kaplan–Meier curves of one feature's tiers (groups below the minimum left out), or of
    everyone (``feature`` = "all", section ``retention_curves``).

    The section of a feature's curves is ``curves_<feature>`` for the store's features
    (``curves_team_bonus_share``) and ``curves_by_feature`` for any other (a snapshot's column).
    """

    report = REPORT
    default_code = "retention_curves"

    feature: str = ""
    curves: dict[str, sv.KMResult] = field(default_factory=dict)
    #: tier (code), people, exits, median_tenure, ci_low, ci_high (months; inf: not reached)
    medians: pd.DataFrame = field(default_factory=pd.DataFrame)
    logrank: sv.LogRankResult | None = None
    min_group_size: int = 5
    suppressed_cells: int = 0
    #: the Benjamini–Hochberg-adjusted p of the log-rank test in the report's family (set by
    #: the section function; None outside it)
    p_adj: float | None = None
    #: "time-dependent" (panel: each person-month in the tier of the value known at its start;
    #: Simon–Makuch curves and Mantel–Byar log-rank), "baseline" (snapshot: one value per
    #: person) or "overall"
    method: str = "overall"
    #: tenure (months) the curves start from: 0, or for time-dependent tiers the first tenure
    #: at which every shown tier has min_group_size people at risk (curves are conditional on
    #: being employed then)
    start: float = 0.0


CURVE_FEATURES = ("team_bonus_share", "payout_delay_days", "promoted_last_12m")


def curves_code(feature: str) -> str:
    """The section code of a feature's curves: ``curves_<feature>`` for the store's features,
    ``curves_by_feature`` for any other name (or none)."""
    return f"curves_{feature}" if feature in TIME_VARYING else "curves_by_feature"


def curve_feature(data: RetentionData, i: int) -> str:
    """The i-th feature to draw retention curves for: team share, payout delay and promotion
    when present, then the other features in their order ("" when there are fewer).

    Examples
    --------
    >>> curve_feature(data, 0)  # doctest: +SKIP
    'team_bonus_share'
    """
    order = [f for f in CURVE_FEATURES if f in data.features] + [f for f in data.features if f not in CURVE_FEATURES]
    return order[i] if i < len(order) else ""


def km_overall(data: RetentionData) -> CurvesResult:
    """Kaplan–Meier curve of everyone (with left truncation on the panel path).

    Examples
    --------
    >>> km_overall(data).medians  # doctest: +SKIP
    """
    p = data.people
    km = sv.kaplan_meier(p["tenure"], p["left"], entry=p["entry"])
    med = pd.DataFrame([{"tier": "all", "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                         "ci_low": km.median_lo, "ci_high": km.median_hi}])
    return CurvesResult(feature="all", curves={"all": km}, medians=med, min_group_size=data.min_group_size)


def km_by_feature(data: RetentionData, feature: str) -> CurvesResult:
    """Kaplan–Meier curves by tiers of ``feature``, medians with CIs and a log-rank test
    across the shown tiers.

    On the panel the grouping is time-dependent: each person-month counts in the tier of the
    value known at its start (Simon–Makuch curves; the log-rank test on those intervals is the
    Mantel–Byar test), so a person who is promoted after two years is "not promoted" for those
    two years; ``people`` per tier counts everyone who spent a month in it. On a snapshot each
    person has one value (``method`` = "baseline").

    Examples
    --------
    >>> km_by_feature(data, "team_bonus_share").logrank.p_value  # doctest: +SKIP
    """
    if data.panel is not None:
        # time-dependent grouping: each person-month counts in the tier of the value known at
        # its start (Simon–Makuch curves, Mantel–Byar log-rank): nobody is put in the
        # "promoted" tier for the months before the promotion (no immortal time)
        p = data.panel.rename(columns={data.id_col: "person_id"}).assign(entry=data.panel["start"],
                                                                       tenure=data.panel["stop"],
                                                                       left=data.panel["event"])
        method = "time-dependent"
    else:
        p = data.people
        method = "baseline"
    code = curves_code(feature)
    if not feature:
        return CurvesResult(code=code, min_group_size=data.min_group_size).skipped(Reason.NO_MORE_FEATURES)
    if feature not in data.features or feature not in p.columns:
        return CurvesResult(code=code, feature=feature, min_group_size=data.min_group_size).skipped(
            Reason.NO_FEATURE, name=feature)
    tiers = feature_tiers(p[feature], feature)
    sub = p.assign(tier=tiers).dropna(subset=["tier"])
    sizes = sub.groupby("tier")["person_id"].nunique()
    shown = sizes[sizes >= data.min_group_size].index.tolist()
    n_sup = int((sizes < data.min_group_size).sum())
    # complementary: with one tier hidden, the total would reveal it: hide the next smallest too
    if n_sup == 1 and len(shown) > 1:
        shown.remove(sizes[shown].idxmin())
        n_sup += 1
    sub = sub[sub["tier"].isin(shown)]
    def too_few() -> CurvesResult:
        return CurvesResult(code=code, feature=feature, min_group_size=data.min_group_size, suppressed_cells=n_sup,
                            method=method).skipped(Reason.BELOW_MIN_GROUP, name=feature,
                                                   min_group_size=data.min_group_size)

    if len(shown) < 2:
        return too_few()
    ids = (lambda s: s["person_id"]) if method == "time-dependent" else (lambda s: None)  # noqa: E731
    start = 0.0
    if method == "time-dependent":
        # a tier such as "promoted" has nobody at short tenures; compared from tenure 0 its curve
        # would skip the early months everyone else lives through. Curves and test start at the
        # first tenure at which every shown tier has min_group_size people at risk: they show
        # the share still employed among those employed then.
        start = _common_start(sub, shown, data.min_group_size)
        if not math.isfinite(start):
            return too_few()
        sub = sub[sub["tenure"] > start].assign(entry=lambda d: d["entry"].clip(lower=start))
    curves, rows = {}, []
    for t in sorted(shown, key=_tier_key):
        s = sub[sub["tier"] == t]
        km = sv.kaplan_meier(s["tenure"], s["left"], entry=s["entry"], ids=ids(s))
        if method == "time-dependent":
            km = _while_enough_at_risk(km, data.min_group_size)
        curves[t] = km
        rows.append({"tier": t, "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                     "ci_low": km.median_lo, "ci_high": km.median_hi})
    lr = sv.logrank_test(sub["tenure"], sub["left"], sub["tier"], entry=sub["entry"], ids=ids(sub))
    return CurvesResult(code=code, feature=feature, curves=curves, medians=pd.DataFrame(rows), logrank=lr,
                        min_group_size=data.min_group_size, suppressed_cells=n_sup, method=method, start=start)


def _while_enough_at_risk(km: sv.KMResult, k: int) -> sv.KMResult:
    """The curve up to the first time fewer than ``k`` people are at risk in its tier (people
    move between tiers, so a tier can thin out and fill again; steps on a handful of people
    say little), with the medians read on that part only (inf: not reached there)."""
    import dataclasses

    tab = km.table
    low = np.nonzero(tab["n_at_risk"].to_numpy() < k)[0]
    if not len(low):
        return km
    tab = tab.iloc[: low[0]].reset_index(drop=True)

    def first_below(col: str) -> float:
        idx = np.nonzero(tab[col].to_numpy() <= 0.5)[0]
        return float(tab["time"].iloc[idx[0]]) if len(idx) else math.inf

    return dataclasses.replace(km, table=tab, median=first_below("survival"), median_lo=first_below("lo"),
                               median_hi=first_below("hi"))


def _common_start(sub: pd.DataFrame, tiers: Sequence[str], k: int) -> float:
    """First tenure at which every tier has at least ``k`` people at risk (intervals
    (entry, tenure] of one person do not overlap, so rows at risk = people at risk); inf when
    some tier never has ``k``."""
    out = 0.0
    for t in tiers:
        s = sub[sub["tier"] == t]
        grid = np.unique(s["entry"].to_numpy(float))
        n = (np.searchsorted(np.sort(s["entry"].to_numpy(float)), grid, side="right")
             - np.searchsorted(np.sort(s["tenure"].to_numpy(float)), grid, side="right"))
        ok = np.nonzero(n >= k)[0]
        if not len(ok):
            return math.inf
        out = max(out, float(grid[ok[0]]))
    return out


def _tier_key(t: str) -> tuple:
    if t in TIER_ORDER:
        return (0, TIER_ORDER.index(t), t)
    try:
        return (1, float(str(t).rstrip("%")), t)
    except ValueError:
        return (2, 0, t)

"""Correlations of the features with leaving, like compared with like (same calendar month and
tenure band on the panel; Spearman / point-biserial with bootstrap CIs on a snapshot).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..sections import Reason, SectionResult
from ..stats import correlation as corr_mod
from .data import REPORT, RetentionData


@dataclass(kw_only=True)
class CorrelationResult(SectionResult):
    """Correlations of each feature with leaving within the horizon (section ``correlations``)."""

    report = REPORT
    default_code = "correlations"

    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # feature, method, n, rho, lo, hi, p, p_adj
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_people: int = 0
    #: features the person-level frame leaves out (event features: see :func:`_horizon_frame`)
    left_out: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"correlations": self.as_dict() if not self.table.empty else {}}

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {r.feature: {"rho": r.rho, "lo": r.lo, "hi": r.hi, "p_adj": r.p_adj} for r in self.table.itertuples()}


#: the strata of the logistic check (categories of the model, not shown as findings)
LOGISTIC_STRATA = ("calendar_year", "tenure_band")


#: tenure bands (months) within which the correlations and the logistic check compare people:
#: the first year, the second, years three and four, longer
TENURE_BANDS = (0.0, 12.0, 24.0, 48.0, math.inf)


def tenure_band(tenure: pd.Series) -> pd.Series:
    """The tenure band (``TENURE_BANDS``) of tenures in months, as the band's lower end ("0",
    "12", "24", "48").

    Examples
    --------
    >>> tenure_band(pd.Series([0.0, 11.9, 12.0, 60.0])).tolist()
    ['0', '0', '12', '48']
    """
    edges = list(TENURE_BANDS)
    return pd.cut(tenure, edges, right=False, labels=[f"{e:g}" for e in edges[:-1]]).astype(object)


def _matched_frame(data: RetentionData) -> pd.DataFrame:
    """The panel's person-months with their comparison strata: ``calendar_month`` (the
    period), ``calendar_year`` and ``tenure_band`` (of the tenure at the month's start:
    ``TENURE_BANDS``, or the panel's own ``tenure_band`` column when it has one, for a
    workforce whose risk of leaving moves by finer steps)."""
    p = data.panel
    band = p["tenure_band"].astype(str) if "tenure_band" in p.columns else tenure_band(p["start"])
    return p.assign(calendar_month=p["period"].dt.strftime("%Y-%m"), calendar_year=p["period"].dt.year.astype(str),
                    tenure_band=band, event=p["event"].astype(float))


def correlations(data: RetentionData, n_boot: int = 1000, seed: int = 0) -> CorrelationResult:
    """Correlation of each feature with leaving, like compared with like.

    On the panel (``method`` "matched_rank", :func:`~analysis.stats.correlation.matched_rank_correlation`):
    each exit's feature, as known when its month began, is ranked among everyone employed in
    the same calendar month and the same tenure band (``TENURE_BANDS``); rho runs from −1
    (leavers always had the lowest value of their colleagues then) to +1 (always the highest).
    People of different years (when pay practice differed) and of different tenure (when the
    risk of leaving differs) are never compared, and nobody's value is an average over a
    window whose length depends on when they left. Event features are ranked the same way.

    On a snapshot (one row per person, no calendar): Spearman / point-biserial correlation
    with ``left``, bootstrap 95 % CIs (fixed seed). p-values are Benjamini–Hochberg adjusted
    within the section here and in the report's family (:func:`family_of_tests`).

    Examples
    --------
    >>> correlations(data).table  # doctest: +SKIP
    """
    if data.panel is not None:
        m = _matched_frame(data)
        feats = [f for f in data.features if f in m.columns]
        if int(m["event"].sum()) < max(10, data.min_group_size) or not feats:
            return CorrelationResult(n_people=int(m[data.id_col].nunique())).skipped(Reason.TOO_FEW_PEOPLE)
        tab = corr_mod.matched_rank_correlation(m, feats, "event", ["calendar_month", "tenure_band"])
        cols = feats + [c for c in data.controls if c not in data.categorical and c in m.columns]
        # how the features move together (person-months, values known at each month's start)
        mat = corr_mod.correlation_matrix(m, cols)
        return CorrelationResult(table=tab, matrix=mat, n_people=int(m[data.id_col].nunique()))
    h = data.horizon
    feats = [f for f in data.features if f in h.columns]
    if len(h) < max(10, data.min_group_size) or not feats:
        return CorrelationResult(n_people=len(h)).skipped(Reason.TOO_FEW_PEOPLE)
    tab = corr_mod.correlate(h, feats, "left_within_horizon", n_boot=n_boot, seed=seed)
    cols = feats + [c for c in data.controls if c not in data.categorical and c in h.columns] + ["left_within_horizon"]
    mat = corr_mod.correlation_matrix(h, cols)
    return CorrelationResult(table=tab, matrix=mat, n_people=len(h))

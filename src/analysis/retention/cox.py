"""Cox models of leaving: raw (one feature at a time) and adjusted, the proportional-hazards check
and the logistic check (a discrete-time model on the person-months).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from ..errors import InsufficientDataError, ProportionalHazardsWarning, StatsWarning
from ..sections import Note, Reason, SectionResult
from ..stats import survival as sv
from .correlation import LOGISTIC_STRATA, _matched_frame
from .data import REPORT, RetentionData
from .family import FamilyOfTests
from .panel import COVARIATE_TIMING


@dataclass(kw_only=True)
class EffectsResult(SectionResult):
    """Raw (one feature at a time) and adjusted (all features + controls) Cox models,
    the proportional-hazards check and the logistic robustness check (section
    ``adjusted_effects``; the checks are shown as section ``model_checks``)."""

    report = REPORT
    default_code = "adjusted_effects"

    adjusted: sv.CoxResult | None = None
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)  # term, hr, lo, hi, p (univariable Cox)
    side_by_side: pd.DataFrame = field(default_factory=pd.DataFrame)  # term, raw_/adj_ hr, lo, hi, p, hr_sd, …
    logistic: sv.LogitResult | None = None
    ph: pd.DataFrame = field(default_factory=pd.DataFrame)
    ph_violations: list[str] = field(default_factory=list)
    #: "previous_month" (panel: covariates known at each month's start) or "baseline" (snapshot)
    covariate_timing: str = COVARIATE_TIMING
    #: person-months left out because the previous month is not in the data (hire month,
    #: first month of the data), and rows left out for another missing covariate
    rows_without_previous_month: int = 0
    rows_missing_covariate: int = 0
    #: the report's family of tests (set by the section function: the Cox terms' adjusted p)
    family: FamilyOfTests | None = None

    def metrics(self) -> dict[str, Any]:
        adj, fam = self.adjusted, self.family
        return {
            "hazard_ratios": self.hazard_ratios(),
            "hazard_ratios_per_sd": self.hazard_ratios_per_sd(),
            "covariate_timing": self.covariate_timing,
            "cox_fit": None if adj is None else {
                "method": adj.method, "converged": bool(adj.converged), "ties": adj.ties, "aliased": list(adj.aliased),
                "diverging": list(adj.diverging), "rows": int(adj.n_obs), "events": int(adj.n_events),
                "rows_without_previous_month": int(self.rows_without_previous_month),
                "rows_missing_covariate": int(self.rows_missing_covariate),
            },
            "multiple_testing": None if fam is None else {"method": fam.method, "alpha": fam.alpha,
                                                          "tests": fam.records()},
            "significant_features": [] if fam is None else fam.significant_features,
            "ph_violations": list(self.ph_violations),
        }

    @property
    def converged(self) -> bool:
        """False when the adjusted Cox model did not converge (no hazard ratio is reported)."""
        return self.adjusted is None or self.adjusted.converged

    @property
    def fit_method(self) -> str | None:
        return self.adjusted.method if self.adjusted is not None else None

    def hazard_ratios(self) -> dict[str, dict[str, float]]:
        return self.adjusted.hazard_ratios() if self.adjusted is not None else {}

    def hazard_ratios_per_sd(self) -> dict[str, dict[str, float]]:
        if self.adjusted is None:
            return {}
        if not self.adjusted.converged:
            return {}
        t = self.adjusted.table.dropna(subset=["sd", "hr_per_sd", "lo_per_sd", "hi_per_sd", "p"])
        return {r.term: {"hr": float(r.hr_per_sd), "lo": float(r.lo_per_sd), "hi": float(r.hi_per_sd), "p": float(r.p),
                         "sd": float(r.sd)} for r in t.itertuples()}


def _cox_frame(data: RetentionData) -> tuple[pd.DataFrame, str | None]:
    if data.panel is not None:
        return data.panel, "start"
    # one row per person observed from tenure 0: tenure-0 people stay in (at risk at t = 0)
    p = data.people.assign(start=data.people["entry"], stop=data.people["tenure"], event=data.people["left"])
    return p, "start"


def _logistic_check(data: RetentionData, covs: Sequence[str], reference: dict) -> sv.LogitResult:
    """The logistic check of the Cox model.

    On the panel: a discrete-time model of leaving in a month (pooled logistic regression on
    the person-months) with the covariates as known at the month's start, as in the Cox model,
    and calendar year and tenure band (``TENURE_BANDS``) as categories, so each feature is
    compared among people of the same year and tenure (the Cox model compares people of the
    same tenure but any date). On a snapshot: leaving (``left``) on the person's values.
    """
    if data.panel is not None:
        m = _matched_frame(data)
        # the strata first: a feature that is the calendar itself (aliased with the years) is
        # the one left out, not the years
        lcovs = list(LOGISTIC_STRATA) + [c for c in covs if c in m.columns]
        cat = list(LOGISTIC_STRATA) + [c for c in data.categorical if c in lcovs]
        ref = dict(reference)
        # the first tenure band (the panel's own bands, when it gives them, may not start at "0")
        first_band = "0" if (m["tenure_band"] == "0").any() else str(m["tenure_band"].mode().iloc[0])
        ref.update({"calendar_year": str(m["calendar_year"].mode().iloc[0]), "tenure_band": first_band})
        return sv.logistic(m, "event", lcovs, categorical=cat, reference=ref)
    h = data.horizon
    lcovs = [c for c in covs if c in h.columns]
    return sv.logistic(h, "left_within_horizon", lcovs, categorical=[c for c in data.categorical if c in lcovs],
                       reference=reference)


def adjusted_effects(data: RetentionData) -> EffectsResult:
    """Cox PH hazard ratios (statsmodels PHReg; time-varying covariates with counting-process
    entry on the panel), raw vs adjusted, PH check, and a logistic model of leaving within
    the horizon.

    Proportional-hazards warnings are caught and returned in ``ph_violations``/``notes`` so
    the notebook shows them without printing to stderr.

    Examples
    --------
    >>> eff = adjusted_effects(data); eff.hazard_ratios()["payout_delay_days"]  # doctest: +SKIP
    """
    df, entry = _cox_frame(data)
    covs = list(data.features) + [c for c in data.controls if c not in data.features]
    notes: list[Note] = []
    timing = COVARIATE_TIMING if data.panel is not None else "baseline"
    if not data.features:
        return EffectsResult(covariate_timing=timing).skipped(Reason.NO_FEATURES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatsWarning)
        try:
            adj = sv.cox_ph(df, covs, duration_col="stop", event_col="event", entry_col=entry,
                            categorical=data.categorical)
        except InsufficientDataError as exc:
            return EffectsResult(covariate_timing=timing).skipped(Reason.FAILED, error=str(exc))
        raw_rows = []
        for f in data.features:
            try:
                r = sv.cox_ph(df, [f], duration_col="stop", event_col="event", entry_col=entry, check_ph=False)
            except InsufficientDataError:
                continue
            if r.converged:
                raw_rows.extend(r.table[["term", "hr", "lo", "hi", "p", "hr_per_sd", "lo_per_sd", "hi_per_sd"]]
                                .to_dict("records"))
        logit = None
        try:
            logit = _logistic_check(data, covs, adj.reference_levels)
        except InsufficientDataError as exc:
            notes.append(Note("model_skipped", {"error": str(exc)}))
    for w in caught:
        if issubclass(w.category, StatsWarning) and not issubclass(w.category, ProportionalHazardsWarning):
            if "Cox model" in str(w.message):
                continue  # carried by EffectsResult.converged and said by the narrative
            notes.append(Note("stats_warning", {"warning": str(w.message)}))
    raw = pd.DataFrame(raw_rows).reset_index(drop=True)
    t = adj.table
    sd_names = {"hr_per_sd": "hr_sd", "lo_per_sd": "lo_sd", "hi_per_sd": "hi_sd"}
    sbs = t[["term", "hr", "lo", "hi", "p", "hr_per_sd", "lo_per_sd", "hi_per_sd"]].rename(
        columns={"hr": "adj_hr", "lo": "adj_lo", "hi": "adj_hi", "p": "adj_p",
                 **{k: f"adj_{v}" for k, v in sd_names.items()}})
    if not raw.empty:
        sbs = raw.rename(columns={"hr": "raw_hr", "lo": "raw_lo", "hi": "raw_hi", "p": "raw_p",
                                  **{k: f"raw_{v}" for k, v in sd_names.items()}}).merge(sbs, on="term", how="right")
    ph = adj.ph if adj.ph is not None else pd.DataFrame()
    missing = df[[c for c in covs if c in df.columns] + ["stop", "event"]].isna().any(axis=1)
    no_prev = ~df["has_previous_month"] if "has_previous_month" in df.columns else pd.Series(False, index=df.index)
    n_first = int((missing & no_prev).sum())
    n_other = int((missing & ~no_prev).sum())
    return EffectsResult(adjusted=adj, raw=raw, side_by_side=sbs, logistic=logit, ph=ph,
                         ph_violations=list(adj.ph_violations), notes=notes, covariate_timing=timing,
                         rows_without_previous_month=n_first, rows_missing_covariate=n_other)

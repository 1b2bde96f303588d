"""The report's sections: ``prepare(con, params) -> Scope``; ``section(scope) -> SectionResult``
(codes, frames and figures; no text), and the run's metrics without a notebook.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..params.incentive_retention import IncentiveRetentionParams
from ..sections import Column, Figure, Note, SectionResult, Table, section_metrics
from .attrition import AttritionTables, attrition_tables, headline
from .correlation import LOGISTIC_STRATA, CorrelationResult, correlations
from .cox import EffectsResult, adjusted_effects
from .curves import CURVE_FEATURES, CurvesResult, curve_feature, km_by_feature, km_overall
from .data import DAYS_PER_MONTH, REPORT, RetentionData, headline_window_start
from .dose import DOSE_FEATURES, DoseResult, dose_response
from .family import FamilyOfTests, claim_terms, family_of_tests
from .panel import TIME_VARYING
from .source import load


#: label prefix of the categories the tables show (total row, merged levels, exit reasons, roles)
VALUES = "incentive_retention.value"


#: label prefix of the tiers of the curves and bands
TIERS = "incentive_retention.tier"


#: label prefix of covariate names (a snapshot's own columns have none and are shown as they are)
NAMES = "column"


@dataclass
class Scope:
    """What every section of a run needs: the data, and the figures more than one section uses
    (each computed once, on first use).

    Examples
    --------
    >>> scope = prepare(con, {"as_of": "2026-10-31"})  # doctest: +SKIP
    >>> scope.family.significant_features  # doctest: +SKIP
    """

    data: RetentionData
    n_boot: int = 1000
    seed: int = 0
    #: label prefixes of the covariate names and of the categories (model levels) the tables show
    #: (another report built on these computations names its own)
    names: str = NAMES
    values: str = VALUES

    @functools.cached_property
    def head(self) -> dict[str, Any]:
        return headline(self.data)

    @functools.cached_property
    def attrition(self) -> AttritionTables:
        return attrition_tables(self.data)

    @functools.cached_property
    def overall(self) -> CurvesResult:
        return km_overall(self.data)

    @functools.cached_property
    def feature_curves(self) -> list[CurvesResult]:
        return [km_by_feature(self.data, curve_feature(self.data, i)) for i in range(len(CURVE_FEATURES))]

    @functools.cached_property
    def corr(self) -> CorrelationResult:
        return correlations(self.data, n_boot=self.n_boot, seed=self.seed)

    @functools.cached_property
    def effects(self) -> EffectsResult:
        return adjusted_effects(self.data)

    @functools.cached_property
    def family(self) -> FamilyOfTests:
        return family_of_tests(self.effects, self.feature_curves, claim_terms(self.data), corr=self.corr)

    @functools.cached_property
    def doses(self) -> dict[str, DoseResult]:
        return {f: dose_response(self.data, f) for f in DOSE_FEATURES}

    @property
    def suppressed_cells(self) -> int:
        """Cells hidden for small groups over the attrition tables, the curves and the bands."""
        return suppressed_total(self.attrition, *self.feature_curves, *self.doses.values())

    @property
    def notes(self) -> list[Note]:
        """The run's remarks: on the data, then on the models (metrics.json ``notes``)."""
        return list(self.data.notes) + list(self.effects.notes)


def prepare(con: Any, params: IncentiveRetentionParams | None = None, n_boot: int = 1000, seed: int = 0) -> Scope:
    """Load the report's data (:func:`load`) for the section functions.

    Parameters
    ----------
    con : Ibis backend or None
    params : IncentiveRetentionParams, optional
        The report's parameters, validated (``IncentiveRetentionParams.of(as_of=...)``); None:
        the defaults.
    n_boot : int, default 1000
        Bootstrap resamples of the correlation intervals.
    seed : int, default 0

    Examples
    --------
    >>> scope = prepare(ctx.con, ctx.params)  # doctest: +SKIP
    >>> ctx.present.show(headcount_attrition(scope))  # doctest: +SKIP
    """
    return Scope(load(con, params), n_boot=n_boot, seed=seed)


def data_window(scope: Scope) -> dict[str, str | None]:
    """The first month of the data and as_of (a snapshot: as_of only)."""
    return scope.data.data_window


def split_term(term: str) -> tuple[str, str | None]:
    """A model term as (covariate, level): ``"region[城东]"`` → ``("region", "城东")``,
    ``"team_bonus_share"`` → ``("team_bonus_share", None)``.

    Examples
    --------
    >>> split_term("role[senior_account_manager]")
    ('role', 'senior_account_manager')
    """
    if "[" in term and term.endswith("]"):
        col, lev = term.split("[", 1)
        return col, lev[:-1]
    return term, None


def _with_terms(frame: pd.DataFrame, col: str = "term") -> pd.DataFrame:
    parts = [split_term(str(t)) for t in frame[col]]
    return frame.assign(variable=[p[0] for p in parts], level=[p[1] for p in parts])


def _shown(code: str, frame: pd.DataFrame, columns: Sequence[Column], title: str | None = None) -> list[Table]:
    """A table of the columns ``frame`` has ([] for an empty frame)."""
    if frame is None or frame.empty:
        return []
    return [Table(code, frame, [c for c in columns if c.name in frame.columns], title=title)]


def _copy(res: SectionResult, cls: type | None = None, **changes: Any) -> Any:
    """A copy of a section result (the scope's results stay as computed), as ``cls`` if given."""
    import dataclasses

    values = {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.init}
    values.update(notes=list(res.notes), tables=list(res.tables), figures=list(res.figures))
    values.update(changes)
    return (cls or type(res))(**values)


@dataclass(kw_only=True)
class Headcount(SectionResult):
    """Headline figures and the attrition tables (section ``headcount_attrition``).

    The cards (people, headcount, exits, attrition = exits ÷ people) and the tables by region
    and by reason cover one period, the headline window ``window_start`` … ``window_end`` (a
    snapshot: its people), and the total row of the table by region is the cards; the first
    note says so (``headline_window``, or ``headline_snapshot``), then come the remarks on the
    data (skipped features or controls, merged levels, a snapshot's outcome)."""

    report = REPORT
    default_code = "headcount_attrition"

    period: str = ""
    data_window: dict[str, Any] = field(default_factory=dict)
    source: str = "store"
    people: int = 0
    headcount: int = 0
    exits: int = 0
    attrition_rate: float = math.nan
    first_year_people: int = 0
    first_year_exits: int = 0
    first_year_attrition: float = math.nan
    median_tenure: float = math.nan
    #: the period of the cards and of the tables by region and by reason (None for a snapshot)
    window_start: str | None = None
    window_end: str | None = None

    def metrics(self) -> dict[str, Any]:
        return {"period": self.period, "data_window": dict(self.data_window), "source": self.source,
                "people": self.people, "headcount": self.headcount, "exits": self.exits,
                "attrition_rate": self.attrition_rate, "first_year_attrition": self.first_year_attrition}


def headline_note(data: RetentionData, people: int) -> Note:
    """The note that states the period and the denominator the cards and the tables by region
    and by reason share: ``headline_window`` (start, end, months, people) on the store's panel,
    ``headline_snapshot`` (people) on a snapshot."""
    if data.panel is None:
        return Note("headline_snapshot", {"people": people})
    start = headline_window_start(data.as_of, data.data_start)
    months = round(((data.as_of - start).days + 1) / DAYS_PER_MONTH)
    return Note("headline_window", {"start": start.isoformat(), "end": data.as_of.isoformat(), "months": months,
                                    "people": people})


def headcount_attrition(scope: Scope) -> Headcount:
    """Headcount, exits and attrition on the people of the 12 months to as_of, the same people
    by region and by exit reason; annualised attrition by year and first-year attrition by
    hiring cohort (groups below min_group_size hidden)."""
    h, t, data = scope.head, scope.attrition, scope.data
    med = scope.overall.medians
    window = headline_note(data, h["people"])
    res = Headcount(period=data.as_of.isoformat(), data_window=data.data_window, source=data.source,
                    median_tenure=float(med["median_tenure"].iloc[0]) if not med.empty else math.nan,
                    window_start=window.values.get("start"), window_end=window.values.get("end"),
                    notes=[window, *data.notes], **h)
    count = ("people", "hires", "exits", "headcount", "months", "exits_first_year")
    cols = [Column("region", "name", codes=VALUES), Column("year", "text"), Column("exit_reason", "name", codes=VALUES),
            Column("hire_cohort", "text"), *(Column(c, "count") for c in count),
            Column("avg_headcount", "f1"), Column("attrition_rate", "rate"), Column("share", "rate"),
            Column("first_year_attrition", "rate")]
    # the cards' period first (by region, by reason), then the whole data by year and by cohort
    for code, frame, title in (("by_region", t.by_region, f"{REPORT}.table.by_region"),
                               ("by_reason", t.by_reason, f"{REPORT}.table.by_reason"),
                               ("by_year", t.by_year, f"{REPORT}.table.by_year"),
                               ("by_cohort", t.by_cohort, f"{REPORT}.table.first_year_by_cohort")):
        order = {"by_region": ["region", "people", "hires", "exits", "headcount", "attrition_rate"],
                 "by_year": ["year", "months", "people", "exits", "avg_headcount", "attrition_rate"],
                 "by_reason": ["exit_reason", "exits", "share"],
                 "by_cohort": ["hire_cohort", "people", "exits_first_year", "first_year_attrition"]}[code]
        by_name = {c.name: c for c in cols}
        res.tables += _shown(code, frame, [by_name[n] for n in order], title)
    return res


def _median_columns() -> list[Column]:
    return [Column("tier", "name", codes=TIERS), Column("people", "count"), Column("exits", "count"),
            Column("median_tenure", "f1"), Column("ci_low", "f1"), Column("ci_high", "f1")]


def _curves_figure(c: CurvesResult) -> Figure:
    return Figure("retention.km_curves", {"curves": c.curves, "min_group_size": c.min_group_size, "start": c.start,
                                          "feature": None if c.feature == "all" else c.feature})


@dataclass(kw_only=True)
class OverallCurves(CurvesResult):
    """The curve of everyone (section ``retention_curves``); its metrics also carry each shown
    feature's curves (method, log-rank test and its adjusted p)."""

    by_feature: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        km = self.medians.iloc[0] if not self.medians.empty else None
        return {"km_median_tenure": None if km is None else {"median": km["median_tenure"], "lo": km["ci_low"],
                                                              "hi": km["ci_high"]},
                "curves": self.by_feature}


def retention_curves(scope: Scope) -> OverallCurves:
    """The Kaplan–Meier curve of everyone (left truncation on the panel), its median tenure."""
    fam = scope.family
    by_feature = {c.feature: {"method": c.method,
                              "logrank": None if c.logrank is None else {
                                  "statistic": c.logrank.statistic, "df": c.logrank.df, "p": c.logrank.p_value,
                                  "p_adj": fam.p_adj("logrank", c.feature)}}
                  for c in scope.feature_curves if c.feature and c.ok}
    o = scope.overall
    return _copy(o, OverallCurves, code="retention_curves", by_feature=by_feature,
                 tables=_shown("medians", o.medians, _median_columns()), figures=[_curves_figure(o)])


def feature_curves(scope: Scope, i: int) -> CurvesResult:
    """The i-th feature's curves (:func:`curve_feature`): tiers, medians, the log-rank test
    with its Benjamini–Hochberg-adjusted p in the report's family (section
    ``curves_<feature>``)."""
    c = scope.feature_curves[i]
    if not c.ok:
        return _copy(c)
    return _copy(c, p_adj=scope.family.p_adj("logrank", c.feature),
                 tables=_shown("medians", c.medians, _median_columns()), figures=[_curves_figure(c)])


def correlation_section(scope: Scope) -> CorrelationResult:
    """Correlations with leaving (:func:`correlations`): the table (95 % CIs, p adjusted in the
    report's family) and the heatmap of how the features move together (section
    ``correlations``)."""
    c = scope.corr
    if not c.ok:
        return _copy(c)
    fam = scope.family
    table = c.table.assign(p_adj=[fam.p_adj("correlation", f) if fam.p_adj("correlation", f) is not None
                                  else np.nan for f in c.table["feature"]])
    c = _copy(c, table=table)
    t = table.rename(columns={"n": "people", "lo": "ci_low", "hi": "ci_high"})
    cols = [Column("feature", "name", codes=scope.names), Column("method", "code", codes=f"{REPORT}.method", label=f"{REPORT}.column.method"),
            Column("people", "count"), Column("rho", "f3", label=f"{REPORT}.column.rho"),
            Column("ci_low", "f2", label=f"{REPORT}.column.boot_low"),
            Column("ci_high", "f2", label=f"{REPORT}.column.boot_high"),
            Column("p_adj", "p_value", label=f"{REPORT}.column.p_adj")]
    return _copy(c, tables=_shown("correlations", t, cols),
                 figures=[Figure("retention.correlation_heatmap", {"matrix": c.matrix})])


def _term_columns(scope: Scope) -> list[Column]:
    return [Column("variable", "name", codes=scope.names, label="column.term"),
            Column("level", "name", codes=scope.values, label=f"{REPORT}.column.level")]


def effects_section(scope: Scope) -> EffectsResult:
    """Raw vs adjusted hazard ratios (per unit as stored and per SD, the BH-adjusted p of each
    feature term) and the forest plot (section ``adjusted_effects``). When the model did not
    converge, no estimate is shown (the text says so)."""
    e, fam = scope.effects, scope.family
    if not e.ok or not e.converged:
        return _copy(e, family=fam)
    sbs = _with_terms(e.side_by_side)
    claims = claim_terms(scope.data)
    # controls adjust the comparison; the report states nothing about them (no p shown)
    about = sbs["variable"].isin(claims)
    sbs = sbs.assign(adj_p=sbs["adj_p"].where(about))
    if not fam.table.empty:
        sbs = sbs.assign(p_adj=[fam.p_adj("cox", t) for t in sbs["term"]])
    c = f"{REPORT}.column"
    cols = _term_columns(scope) + [
        Column("raw_hr", "f3", label=f"{c}.raw_hr"), Column("raw_lo", "f3", label=f"{c}.raw_lo"),
        Column("raw_hi", "f3", label=f"{c}.raw_hi"), Column("adj_hr", "f3", label=f"{c}.adj_hr"),
        Column("adj_lo", "f3", label=f"{c}.adj_lo"), Column("adj_hi", "f3", label=f"{c}.adj_hi"),
        Column("adj_p", "p_value", label="column.p_value"), Column("p_adj", "p_value", label=f"{c}.p_adj"),
        Column("adj_hr_sd", "f2", label=f"{c}.hr_per_sd")]
    fig = Figure("retention.hazard_ratio_forest", {"side_by_side": e.side_by_side, "terms": forest_terms(scope.data)})
    res = _copy(e, family=fam, tables=_shown("effects", sbs, cols), figures=[fig])
    res.note("associations")
    return res


@dataclass(kw_only=True)
class ModelChecks(SectionResult):
    """The proportional-hazards check of the adjusted Cox model and the logistic robustness
    check (section ``model_checks``)."""

    report = REPORT
    default_code = "model_checks"

    ph_violations: list[str] = field(default_factory=list)
    converged: bool = True
    logistic: bool = False
    #: the logistic check on person-months (True) or on a snapshot's people (False)
    panel: bool = True


def model_checks(scope: Scope) -> ModelChecks:
    """Schoenfeld-residual rank correlations with time (PH check), and odds ratios of leaving
    within the horizon (logistic model, a person-level check of the Cox model)."""
    e = scope.effects
    res = ModelChecks(ph_violations=list(e.ph_violations), converged=e.converged, logistic=e.logistic is not None,
                      panel=scope.data.panel is not None)
    if not e.ok:
        res.skip = e.skip
        return res
    if not e.converged:
        return res
    c = f"{REPORT}.column"
    if e.ph is not None and not e.ph.empty:
        res.tables += _shown("ph", _with_terms(e.ph), _term_columns(scope) + [
            Column("rho", "f3", label=f"{c}.rho_time"), Column("p", "p_value", label="column.p_value"),
            Column("violated", "flag", label=f"{c}.violated")], title=f"{REPORT}.table.ph")
    if e.logistic is not None:
        fam = scope.family
        lt = _with_terms(e.logistic.table)
        # calendar year and tenure band are the comparison's strata, not findings
        lt = lt[~lt["variable"].isin(LOGISTIC_STRATA)]
        about = lt["variable"].isin(claim_terms(scope.data))
        lt = lt.assign(p=lt["p"].where(about), p_adj=[fam.p_adj("logistic", t) for t in lt["term"]])
        res.tables += _shown("logistic", lt, _term_columns(scope) + [
            Column("or", "f3", label="column.odds_ratio"), Column("lo", "f3", label="column.ci_low"),
            Column("hi", "f3", label="column.ci_high"), Column("p", "p_value", label="column.p_value"),
            Column("p_adj", "p_value", label=f"{c}.p_adj")],
            title=f"{REPORT}.table.logistic")
    return res


def dose_section(scope: Scope, feature: str) -> DoseResult:
    """Monthly exit rate by bands of ``feature`` (team bonus share in 10 % steps, payout delay
    0 | 1–7 | 8–14 | 15–30 | > 30 days), Wilson 95 % intervals, and its chart (section
    ``dose_<feature>``)."""
    d = scope.doses[feature] if feature in scope.doses else dose_response(scope.data, feature)
    if not d.ok:
        return _copy(d)
    band_label = f"column.{feature}" if feature in TIME_VARYING else "column.band"
    cols = [Column("band", "name", codes=TIERS, label=band_label), Column("people", "count"),
            Column("exits", "count"), Column("exit_rate", "rate"), Column("ci_low", "rate"),
            Column("ci_high", "rate"), Column("annualised_attrition", "rate")]
    return _copy(d, tables=_shown("bands", d.table, cols),
                 figures=[Figure("retention.dose_response", {"table": d.table, "feature": feature})])


@dataclass(kw_only=True)
class Summary(SectionResult):
    """What the written summary says (section ``written_summary``): the headline, the adjusted
    associations judged on the family of tests, raw vs adjusted, the PH check. Its metrics
    are the run's own: features, controls, notes (codes and values), cells suppressed."""

    report = REPORT
    default_code = "written_summary"

    head: dict[str, Any] = field(default_factory=dict)
    effects: EffectsResult | None = None
    family: FamilyOfTests | None = None
    features: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    source: str = "store"
    run_notes: list[Note] = field(default_factory=list)
    suppressed_cells: int = 0

    def metrics(self) -> dict[str, Any]:
        return {"suppressed_cells": int(self.suppressed_cells), "features": list(self.features),
                "controls": list(self.controls), "notes": [n.as_dict() for n in self.run_notes]}


def written_summary(scope: Scope) -> Summary:
    """The figures of the written summary."""
    d = scope.data
    return Summary(head=dict(scope.head), effects=scope.effects, family=scope.family, features=list(d.features),
                   controls=list(d.controls), source=d.source, run_notes=scope.notes,
                   suppressed_cells=scope.suppressed_cells)


def sections(scope: Scope) -> list[SectionResult]:
    """Every section of the report, in the order of its spec (``analysis.params.REPORTS``)."""
    from ..params import REPORTS
    from ..spec import run_step

    return [run_step(step, scope) for step in REPORTS[REPORT].sections]


def report_metrics(con: Any, params: IncentiveRetentionParams | None = None, n_boot: int = 1000) -> dict[str, Any]:
    """The report's metrics.json figures from a connection, without the notebook: every
    section's metrics (:func:`sections`), ``skipped_sections`` and ``skipped_details``.
    ``significant_features`` is the key a check of a world without effects looks at.

    Examples
    --------
    >>> report_metrics(con, IncentiveRetentionParams.of(as_of="2026-10-31"))["significant_features"]  # doctest: +SKIP
    []
    """
    return section_metrics(sections(prepare(con, params, n_boot=n_boot)))


def forest_terms(data: RetentionData) -> list[str]:
    """Model terms shown in the hazard-ratio chart: the features and numeric controls."""
    return list(data.features) + [c for c in data.controls if c not in data.categorical and c not in data.features]


def suppressed_total(*results: Any) -> int:
    """Total suppressed cells over section results (each with ``suppressed_cells``)."""
    return int(sum(int(getattr(r, "suppressed_cells", 0) or 0) for r in results))

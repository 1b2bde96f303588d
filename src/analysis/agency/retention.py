"""Agent retention (新人留存): retention by hiring cohort, Kaplan–Meier by cohort, and the
incentive-vs-retention analysis of :mod:`analysis.retention` run on agents.

Built on the retention package, not a copy of it: the agent-month panel
(:mod:`analysis.agency.panel`) becomes a :class:`analysis.retention.RetentionData`, and the
retention package's computations run on it unchanged — the adjusted and one-feature Cox models
with the proportional-hazards and logistic checks (:func:`analysis.retention.adjusted_effects`),
the matched correlations (:func:`analysis.retention.correlations`), one family of tests adjusted
by Benjamini–Hochberg (:func:`analysis.retention.family_of_tests`) — and its section functions
shape the tables.

Definitions:

- **h-month retention** (h = 3, 6, 13) of a hiring cohort: among its agents hired on or after the
  data's first month whose hire day + h calendar months is on or before ``as_of`` (observed), the
  share still in force then (``exit_date`` NULL or after that day; ``exit_date`` is the first day
  out). The table's total row pools the observed agents of every cohort (Wilson 95 % interval in
  metrics.json). Agents hired before the data are left out: the agents table keeps only those in
  force in the data, so their cohorts would count only those who stayed.
- **Kaplan–Meier by cohort**: time in force since the hire day in months (days ÷ 365.25/12),
  censored at ``as_of``, by hiring year (or quarter), cohorts below ``min_group_size`` left out.
- **Incentives vs retention**: the features (leads given, allowance, training hours, activities
  attended, the recruiter's tenure, the recruiter having left) as known at each month's start
  (:mod:`analysis.agency.panel`), adjusted for early production (``early_fyc``), direct hire and
  team; on the new agents (hired on or after ``cohort_start``, by default the data's first month).
  The family of claims: every Cox term of a feature (adjusted and one at a time), each matched
  correlation and each logistic term — no log-rank test is shown, so none is in the family.

Examples
--------
>>> scope = prepare(con, AgentRetentionParams())  # doctest: +SKIP
>>> cohort_retention(scope).metrics()["retention"]["13m"]["rate"]  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import privacy, retention
from ..errors import ParameterError
from ..sections import Column, Figure, Note, Reason, SectionResult, Table, section_metrics
from ..stats import survival as sv
from ..stats.proportions import wilson_ci
from . import panel as agent_panel

REPORT = "agent_retention"
HORIZONS = (3, 6, 13)
DAYS_PER_MONTH = retention.DAYS_PER_MONTH
#: the controls that are categories
CATEGORICAL_CONTROLS = ("team",)
#: label prefixes: covariate names, model levels and cohorts
NAMES = f"{REPORT}.feature"
VALUES = f"{REPORT}.value"
TOTAL = "total"


def _get(params: Any, name: str, default: Any) -> Any:
    if params is None:
        return default
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


# ------------------------------------------------------------------------------ cohorts
def cohort_label(day: pd.Series, grain: str) -> pd.Series:
    """The hiring cohort of hire days: ``"2024Q1"`` (quarter), ``"2024-01"`` (month), ``"2024"`` (year).

    Examples
    --------
    >>> cohort_label(pd.Series(pd.to_datetime(["2024-02-10", "2024-11-30"])), "quarter").tolist()
    ['2024Q1', '2024Q4']
    """
    day = pd.to_datetime(day)
    if grain == "quarter":
        return day.dt.year.astype(str) + "Q" + day.dt.quarter.astype(str)
    if grain == "month":
        return day.dt.strftime("%Y-%m")
    if grain == "year":
        return day.dt.year.astype(str)
    raise ParameterError(f"The 'grain' parameter of cohort_label must be 'quarter', 'month' or 'year'. "
                         f"Got {grain!r} instead.")


def new_agents(agents: pd.DataFrame, data_start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """The agents hired from the data's first month to ``as_of`` (every one of them is in the
    agents table, whether they stayed or not)."""
    hd = agents["hire_date"]
    return agents[(hd >= pd.Timestamp(data_start)) & (hd <= pd.Timestamp(as_of))].reset_index(drop=True)


def retention_table(agents: pd.DataFrame, as_of: dt.date, grain: str = "quarter",
                    horizons: Sequence[int] = HORIZONS) -> pd.DataFrame:
    """h-month retention by hiring cohort (module docstring), one row per cohort and a total row.

    Columns: cohort, hires, and for each h: ``observed_<h>m`` (hire day + h months ≤ as_of),
    ``retained_<h>m`` (still in force then), ``retention_<h>m`` (retained ÷ observed; NaN when none
    is observed).

    Examples
    --------
    >>> a = pd.DataFrame({"hire_date": pd.to_datetime(["2024-01-10", "2024-02-01"]),
    ...                   "exit_date": pd.to_datetime(["2024-03-01", None])})
    >>> retention_table(a, dt.date(2024, 12, 31), horizons=[3])[["cohort", "hires", "retention_3m"]].values.tolist()
    [['2024Q1', 2, 0.5], ['total', 2, 0.5]]
    """
    a = agents.assign(cohort=cohort_label(agents["hire_date"], grain))
    end = pd.Timestamp(as_of)
    cols = {}
    for h in horizons:
        day = a["hire_date"] + pd.DateOffset(months=h)
        obs = day <= end
        cols[f"observed_{h}m"] = obs
        cols[f"retained_{h}m"] = obs & (a["exit_date"].isna() | (a["exit_date"] > day))
    a = a.assign(**cols)
    agg = {"hires": ("hire_date", "size")}
    for h in horizons:
        agg[f"observed_{h}m"] = (f"observed_{h}m", "sum")
        agg[f"retained_{h}m"] = (f"retained_{h}m", "sum")
    t = a.groupby("cohort").agg(**agg).reset_index()
    total = {"cohort": TOTAL, **{c: int(t[c].sum()) for c in t.columns if c != "cohort"}}
    t = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
    for h in horizons:
        o, r = t[f"observed_{h}m"].astype(float), t[f"retained_{h}m"].astype(float)
        t[f"retention_{h}m"] = np.where(o > 0, r / o.where(o > 0, 1.0), np.nan)
    order = ["cohort", "hires"] + [f"{k}_{h}m" for h in horizons for k in ("observed", "retained", "retention")]
    return t[order]


def km_by_cohort(agents: pd.DataFrame, as_of: dt.date, grain: str = "year",
                 min_group_size: int = 5) -> tuple[dict[str, sv.KMResult], pd.DataFrame, int]:
    """Kaplan–Meier curves of time in force (months since the hire day) by hiring cohort.

    Returns (curves by cohort, medians table: tier, people, exits, median_tenure, ci_low,
    ci_high, retention_<h>m read on the curve, cohorts left out for size).
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    out_day = agents["exit_date"].fillna(end).clip(upper=end)
    dur = (out_day - agents["hire_date"]).dt.days.to_numpy(float) / DAYS_PER_MONTH
    a = agents.assign(duration=dur, left=agents["exit_date"].notna(), cohort=cohort_label(agents["hire_date"], grain))
    curves, rows, n_sup = {}, [], 0
    for c, s in a.groupby("cohort", sort=True):
        if len(s) < min_group_size:
            n_sup += 1
            continue
        km = sv.kaplan_meier(s["duration"], s["left"])
        curves[str(c)] = km
        row = {"tier": str(c), "people": km.n, "exits": km.n_events, "median_tenure": km.median,
               "ci_low": km.median_lo, "ci_high": km.median_hi}
        for h in HORIZONS:
            row[f"retention_{h}m"] = survival_at(km, h) if float(s["duration"].max()) >= h else math.nan
        rows.append(row)
    return curves, pd.DataFrame(rows), n_sup


def survival_at(km: sv.KMResult, t: float) -> float:
    """The Kaplan–Meier estimate at time ``t`` (1 before the first event)."""
    tab = km.table
    before = tab[tab["time"] <= t]
    return float(before["survival"].iloc[-1]) if len(before) else 1.0


# ------------------------------------------------------------------------------ the data
def load(con: Any, params: Any = None) -> tuple[retention.RetentionData, pd.DataFrame]:
    """The incentive analysis' data (a :class:`analysis.retention.RetentionData` on the agent-month
    panel of the new agents) and the new agents (for the cohort tables).

    Examples
    --------
    >>> data, agents = load(con, {"as_of": "2026-10-31"})  # doctest: +SKIP
    """
    from ..params.agent_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    data_start, as_of_d = agent_panel.window(con, _get(params, "as_of", ""))
    cohort = _get(params, "cohort_start", "") or data_start.isoformat()
    k = int(_get(params, "min_group_size", 5))
    all_agents = agent_panel.agents_frame(con, as_of_d)
    panel = agent_panel.build_panel(con, as_of_d.isoformat(), cohort, agents=all_agents)
    notes: list[Note] = []
    if not panel.attrs["agent_month"]:
        notes.append(Note("no_agent_month"))
    avail = [c for c in panel.columns if panel[c].notna().any() and not c.startswith("own_month_")]
    feats = retention.data._resolve(list(_get(params, "features", DEFAULT_FEATURES)), avail, "feature", notes)
    ctrls = retention.data._resolve(list(_get(params, "controls", DEFAULT_CONTROLS)), avail, "control", notes)
    # a control without variation (every agent a direct hire, or none) says nothing: left out
    for c in list(ctrls):
        if panel[c].nunique(dropna=True) < 2:
            ctrls.remove(c)
            notes.append(Note("constant_control", {"name": c}))
    categorical = [c for c in ctrls if c in CATEGORICAL_CONTROLS]
    attrs = dict(panel.attrs)
    panel = retention.data._lump_small_levels(panel, categorical, "agent_id", k, notes)
    panel.attrs.update(attrs)
    people = agent_panel.people(panel)
    empty = pd.DataFrame(columns=["person_id", "tenure", "left"])
    data = retention.RetentionData(
        source="store", as_of=as_of_d, data_start=data_start, people=people, window=empty, horizon=empty,
        panel=panel, features=feats, controls=ctrls, categorical=categorical, horizon_months=13,
        min_group_size=k, notes=notes, id_col="agent_id")
    agents = new_agents(all_agents, data_start, as_of_d)
    return data, agents


@dataclass
class Scope(retention.Scope):
    """The retention scope on the agents' data, with the cohort tables. No feature curves are
    shown, so no log-rank test is in the family (:attr:`family`)."""

    agents: pd.DataFrame = field(default_factory=pd.DataFrame)
    cohort: str = "quarter"
    curve_cohort: str = "year"
    names: str = NAMES
    values: str = VALUES

    @functools.cached_property
    def feature_curves(self) -> list:  # type: ignore[override]
        return []

    @functools.cached_property
    def cohort_table(self) -> tuple[pd.DataFrame, int]:
        t = retention_table(self.agents, self.data.as_of, self.cohort)
        body, total = t.iloc[:-1], t.iloc[-1:]
        s = privacy.suppress_small(body, "hires", self.data.min_group_size, dims=["cohort"])
        return pd.concat([s.frame, total], ignore_index=True), s.n_suppressed

    @functools.cached_property
    def cohort_curves(self) -> tuple[dict, pd.DataFrame, int]:
        return km_by_cohort(self.agents, self.data.as_of, self.curve_cohort, self.data.min_group_size)

    @property
    def suppressed_cells(self) -> int:
        return int(self.cohort_table[1] + self.cohort_curves[2])


def prepare(con: Any, params: Any = None, n_boot: int = 1000, seed: int = 0) -> Scope:
    """The report's data for the section functions.

    ``params``: an :class:`~analysis.params.agent_retention.AgentRetentionParams` (validated,
    ``AgentRetentionParams.of(as_of=...)``) or None for the defaults; ``n_boot`` and ``seed``: the
    bootstrap of the correlations.

    Examples
    --------
    >>> scope = prepare(ctx.con, ctx.params)  # doctest: +SKIP
    >>> ctx.present.show(cohort_retention(scope))  # doctest: +SKIP
    """
    from ..params.agent_retention import AgentRetentionParams
    from ..params.base import as_params

    params = as_params(AgentRetentionParams, params, f"{REPORT}.prepare")
    data, agents = load(con, params)
    return Scope(data, n_boot=n_boot, seed=seed, agents=agents, cohort=_get(params, "cohort", "quarter"),
                 curve_cohort=_get(params, "curve_cohort", "year"))


# ------------------------------------------------------------------------------ sections
def _shown(code: str, frame: pd.DataFrame, columns: Sequence[Column], title: str | None = None) -> list[Table]:
    if frame is None or frame.empty:
        return []
    return [Table(code, frame, [c for c in columns if c.name in frame.columns], title=title)]


@dataclass(kw_only=True)
class CohortRetention(SectionResult):
    """3-, 6- and 13-month retention by hiring cohort (section ``cohort_retention``)."""

    report = REPORT
    default_code = "cohort_retention"

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: str = ""
    data_window: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        pooled, by_cohort = {}, {}
        t = self.table
        for h in HORIZONS:
            row = t[t["cohort"] == TOTAL] if not t.empty else t
            o = int(row[f"observed_{h}m"].iloc[0]) if len(row) else 0
            r = int(row[f"retained_{h}m"].iloc[0]) if len(row) else 0
            lo, hi = wilson_ci(r, o) if o else (math.nan, math.nan)
            pooled[f"{h}m"] = {"rate": r / o if o else None, "lo": lo, "hi": hi, "observed": o, "retained": r}
        for row in (t[t["cohort"] != TOTAL].itertuples() if not t.empty else ()):
            by_cohort[row.cohort] = {"hires": None if pd.isna(row.hires) else int(row.hires),
                                     **{f"{h}m": getattr(row, f"retention_{h}m") for h in HORIZONS}}
        return {"as_of": self.as_of, "data_window": dict(self.data_window), "retention": pooled,
                "retention_by_cohort": by_cohort}


def cohort_retention(scope: Scope) -> CohortRetention:
    """h-month retention (3, 6, 13) by hiring cohort, with the pooled total row."""
    t, _ = scope.cohort_table
    d = scope.data
    res = CohortRetention(table=t, as_of=d.as_of.isoformat(), data_window=d.data_window)
    if scope.agents.empty:
        return res.skipped(Reason.TOO_FEW_PEOPLE)
    cols = [Column("cohort", "name", codes=VALUES, label=f"{REPORT}.column.cohort"), Column("hires", "count",
                                                                                             label="column.hires")]
    for h in HORIZONS:
        cols += [Column(f"observed_{h}m", "count", label=f"{REPORT}.column.observed_{h}m"),
                 Column(f"retention_{h}m", "rate", label=f"{REPORT}.column.retention_{h}m")]
    res.tables += _shown("by_cohort", t, cols, title=f"{REPORT}.table.by_cohort_{scope.cohort}")
    res.note("cohort_definition", start=d.data_window["start"], end=d.as_of.isoformat(), hires=int(len(scope.agents)))
    total = t[t["cohort"] == TOTAL]
    if len(total) and int(total["observed_13m"].iloc[0]) > 0:
        res.note("retention_13m", rate=float(total["retention_13m"].iloc[0]),
                 observed=int(total["observed_13m"].iloc[0]))
    return res


@dataclass(kw_only=True)
class CohortCurves(retention.CurvesResult):
    """Kaplan–Meier curves of time in force by hiring cohort (section ``cohort_curves``)."""

    report = REPORT
    default_code = "cohort_curves"

    def metrics(self) -> dict[str, Any]:
        m = self.medians
        return {"km_by_cohort": {} if m.empty else {
            r.tier: {"median": r.median_tenure, "lo": r.ci_low, "hi": r.ci_high,
                     **{f"{h}m": getattr(r, f"retention_{h}m") for h in HORIZONS}} for r in m.itertuples()}}


def cohort_curves(scope: Scope) -> CohortCurves:
    """Kaplan–Meier curves by hiring year (or quarter), medians with 95 % intervals and the
    retention read on each curve at 3, 6 and 13 months."""
    curves, med, n_sup = scope.cohort_curves
    res = CohortCurves(feature="cohort", curves=curves, medians=med, min_group_size=scope.data.min_group_size,
                       suppressed_cells=n_sup, method="baseline")
    if len(curves) < 1:
        return res.skipped(Reason.BELOW_MIN_GROUP, name="cohort", min_group_size=scope.data.min_group_size)
    cols = [Column("tier", "name", codes=VALUES, label=f"{REPORT}.column.cohort"), Column("people", "count"),
            Column("exits", "count"), Column("median_tenure", "f1"), Column("ci_low", "f1"), Column("ci_high", "f1"),
            *(Column(f"retention_{h}m", "rate", label=f"{REPORT}.column.km_{h}m") for h in HORIZONS)]
    res.tables += _shown("medians", med, cols)
    res.figures.append(Figure("retention.km_curves", {"curves": curves, "min_group_size": res.min_group_size,
                                                      "start": 0.0, "feature": None}))
    res.note("km_definition")
    return res


def _as(res: SectionResult, cls: type, **changes: Any) -> Any:
    """A retention section's result as this report's (its title and notes under ``agent_retention``)."""
    values = {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.init}
    values.update(notes=list(res.notes), tables=list(res.tables), figures=list(res.figures))
    values.update(changes)
    return cls(**values)


@dataclass(kw_only=True)
class Incentives(retention.EffectsResult):
    """Raw and adjusted Cox hazard ratios of the features (section ``incentives``), the family
    of tests in metrics.json (``multiple_testing``, ``significant_features``)."""

    report = REPORT
    default_code = "incentives"


def incentives(scope: Scope) -> Incentives:
    """The retention report's adjusted-effects section on the agents (tables only: the forest
    chart names the terms with the sales profile's labels), with a note naming what the family
    of tests finds."""
    res = _as(retention.effects_section(scope), Incentives, code="incentives",
              covariate_timing=agent_panel.COVARIATE_TIMING, figures=[])
    if res.ok and res.converged:
        fam = scope.family
        res.note("timing")
        if fam.significant_features:
            res.note("significant", features=list(fam.significant_features), tests=int(len(fam.table)))
        else:
            res.note("none_significant", tests=int(len(fam.table)))
    return res


@dataclass(kw_only=True)
class Correlations(retention.CorrelationResult):
    """Matched correlations of the features with leaving (section ``correlations``)."""

    report = REPORT


def correlations(scope: Scope) -> Correlations:
    """Each feature's matched rank correlation with leaving (same calendar month and tenure month
    band), its p adjusted in the family."""
    # the heatmap names the features with the sales profile's labels: the table alone
    return _as(retention.correlation_section(scope), Correlations, figures=[])


@dataclass(kw_only=True)
class ModelChecks(retention.ModelChecks):
    """The proportional-hazards check and the logistic check (section ``model_checks``)."""

    report = REPORT


def model_checks(scope: Scope) -> ModelChecks:
    """The retention report's model checks on the agents."""
    return _as(retention.model_checks(scope), ModelChecks)


@dataclass(kw_only=True)
class Summary(SectionResult):
    """The run's own figures (section ``written_summary``): features, controls, notes, cells
    suppressed."""

    report = REPORT
    default_code = "written_summary"

    features: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    run_notes: list[Note] = field(default_factory=list)
    suppressed_cells: int = 0

    def metrics(self) -> dict[str, Any]:
        return {"suppressed_cells": int(self.suppressed_cells), "features": list(self.features),
                "controls": list(self.controls), "notes": [n.as_dict() for n in self.run_notes]}


def written_summary(scope: Scope) -> Summary:
    """The run's notes (data and models) as the closing section."""
    d = scope.data
    res = Summary(features=list(d.features), controls=list(d.controls), run_notes=scope.notes,
                  suppressed_cells=scope.suppressed_cells)
    res.notes = list(scope.notes)
    return res


def sections(scope: Scope) -> list[SectionResult]:
    """Every section of the report, in the order of the notebook."""
    return [cohort_retention(scope), cohort_curves(scope), incentives(scope), correlations(scope),
            model_checks(scope), written_summary(scope)]


def report_metrics(con: Any, params: Any = None, n_boot: int = 200) -> dict[str, Any]:
    """The report's metrics.json figures without the notebook (``significant_features`` is what a
    check of a world without effects looks at).

    Examples
    --------
    >>> report_metrics(con)["significant_features"]  # doctest: +SKIP
    []
    """
    return section_metrics(sections(prepare(con, params, n_boot=n_boot)))


__all__ = ["REPORT", "HORIZONS", "cohort_label", "new_agents", "retention_table", "km_by_cohort", "survival_at",
           "load", "Scope", "prepare", "CohortRetention", "cohort_retention", "CohortCurves", "cohort_curves",
           "Incentives", "incentives", "Correlations", "correlations", "ModelChecks", "model_checks", "Summary",
           "written_summary", "sections", "report_metrics"]

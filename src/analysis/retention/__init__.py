"""Incentives vs retention: the data and the figures of the incentive_retention report.

The package, by concept (``from analysis import retention`` gives every public name below):

- :mod:`~analysis.retention.data`: the data of a run (``RetentionData``), shared constants;
- :mod:`~analysis.retention.source`: ``load`` (store panel or snapshot);
- :mod:`~analysis.retention.panel`: the person-month panel, roles, covariates known at each month's start;
- :mod:`~analysis.retention.snapshot`: staff and pay snapshots (file, ``hr_snapshot``, or derived);
- computations: :mod:`~analysis.retention.attrition` (headline, attrition tables),
  :mod:`~analysis.retention.curves` (Kaplan–Meier), :mod:`~analysis.retention.correlation`,
  :mod:`~analysis.retention.cox` (raw and adjusted Cox, PH and logistic checks),
  :mod:`~analysis.retention.dose` (exit rate by bands), :mod:`~analysis.retention.family`
  (the family of tests, Benjamini–Hochberg);
- :mod:`~analysis.retention.report`: ``prepare``, the section functions and their result types.

Two inputs give the same person-level frame:

- **store** (``source="store"``): reps (hire/exit dates) + compensation + rep attainment
  (orders ÷ rep targets), turned into a person-month panel through Ibis (orders are
  aggregated in the engine; only rep-month rows come back);
- **snapshot** (``source="snapshot"``): an hr_snapshot table in the store, or a CSV/XLSX/
  Parquet file, one row per person with tenure, a left flag and any covariates.

Definitions (docs/DEMO_WORLD.md):

- attainment(m) = Σ orders.amount of the rep in month m ÷ targets.value(level="rep",
  key=rep_id, measure="amount", period=m);
- team_bonus_share(m) = team_bonus ÷ (individual_bonus + team_bonus), 0 when both are 0;
- payout_delay_days(m) = max(0, paid_date − due_date) in days;
- promoted_last_12m(m) = any promoted in months m-11 … m;
- bonus_per_month(m) = individual_bonus + team_bonus;
- tenure in months = days employed (hire day to the end day, both counted) ÷ (365.25/12);
  a person-month row runs from the tenure at the start of the month (or the hire day) to
  the tenure at its end (or the exit day / as_of); ``event`` = exit in that month.

Covariate timing (metrics.json ``covariate_timing`` = "previous_month"): the models, curves
and bands use, for each month, the values known when it began (:func:`known_at_start`): the
previous month's attainment, pay, training and promotions, and the delay of the last bonus
that fell due before it. The exit month's own figures never explain the exit (sales stop on
the exit day while the month's target does not). Curves of a time-varying feature put each
person-month in the tier of that value (Simon–Makuch), so nobody counts as "promoted" before
the promotion. Every p-value on which the report calls a feature (or attainment) significant,
correlated, different or a driver (adjusted and one-feature Cox models, log-rank tests,
correlations, the logistic check) forms one family, adjusted by Benjamini–Hochberg
(:func:`family_of_tests`, metrics.json ``significant_features``). The correlations and the
logistic check compare like with like: people of the same calendar month (year) and tenure band,
with the values known at each month's start. A month's role is what was known when it began
(:func:`_role_history`).

Headline figures (the same on both paths, on the people employed at any time in the 12
months to ``as_of``, not before the data start): ``people``, ``exits`` (left in those months), ``headcount``
(employed at ``as_of`` = people − exits), ``attrition_rate`` = exits ÷ people, and
``first_year_attrition`` = share who left among the people whose tenure at exit or at
``as_of`` was under 12 months.

Examples
--------
>>> data = load(con, IncentiveRetentionParams())  # doctest: +SKIP
>>> headline(data)["attrition_rate"]  # doctest: +SKIP
"""
from __future__ import annotations

from .data import (
    BOOL_FEATURES, CATEGORICAL_CONTROLS, DAYS_PER_MONTH, HEADLINE_MONTHS, PANEL_FEATURES, REPORT, RetentionData,
    headline_window_start,
)
from .source import load
from .panel import (
    COVARIATE_TIMING, ROLE_NOT_RECORDED, TIME_VARYING, build_panel, data_bounds, known_at_start, load_panel,
    previous_month_values,
)
from .snapshot import SNAPSHOT_ALIASES, load_snapshot, read_snapshot, snapshot_from_store
from .attrition import TOTAL, AttritionTables, attrition_tables, headline
from .curves import (
    CURVE_FEATURES, DELAY_TIERS, SHARE_TIERS, TIER_ORDER, CurvesResult, curve_feature, curves_code, feature_tiers,
    km_by_feature, km_overall,
)
from .correlation import LOGISTIC_STRATA, TENURE_BANDS, CorrelationResult, correlations, tenure_band
from .cox import EffectsResult, adjusted_effects
from .dose import DOSE_FEATURES, DoseResult, dose_code, dose_response
from .family import FAMILY_TESTS, SIGNIFICANCE, STATED_CONTROLS, FamilyOfTests, claim_terms, family_of_tests
from .report import (
    NAMES, TIERS, VALUES, Headcount, ModelChecks, OverallCurves, Scope, Summary, correlation_section, data_window,
    dose_section, effects_section, feature_curves, forest_terms, headcount_attrition, model_checks, prepare,
    report_metrics, retention_curves, sections, split_term, suppressed_total, written_summary,
)

__all__ = [
    "BOOL_FEATURES", "CATEGORICAL_CONTROLS", "DAYS_PER_MONTH", "HEADLINE_MONTHS", "PANEL_FEATURES", "REPORT",
    "RetentionData", "headline_window_start", "load", "COVARIATE_TIMING", "ROLE_NOT_RECORDED", "TIME_VARYING",
    "build_panel", "data_bounds", "known_at_start", "load_panel", "previous_month_values", "SNAPSHOT_ALIASES",
    "load_snapshot",
    "read_snapshot", "snapshot_from_store", "TOTAL", "AttritionTables", "attrition_tables", "headline",
    "CURVE_FEATURES", "DELAY_TIERS", "SHARE_TIERS", "TIER_ORDER", "CurvesResult", "curve_feature", "curves_code",
    "feature_tiers", "km_by_feature", "km_overall", "LOGISTIC_STRATA", "TENURE_BANDS", "CorrelationResult",
    "correlations", "tenure_band", "EffectsResult", "adjusted_effects", "DOSE_FEATURES", "DoseResult", "dose_code",
    "dose_response", "FAMILY_TESTS", "SIGNIFICANCE", "STATED_CONTROLS", "FamilyOfTests", "claim_terms",
    "family_of_tests", "NAMES", "TIERS", "VALUES", "Headcount", "ModelChecks", "OverallCurves", "Scope", "Summary",
    "correlation_section", "data_window", "dose_section", "effects_section", "feature_curves", "forest_terms",
    "headcount_attrition", "model_checks", "prepare", "report_metrics", "retention_curves", "sections",
    "split_term", "suppressed_total", "written_summary",
]

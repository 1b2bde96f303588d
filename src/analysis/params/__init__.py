"""Report parameter models: one per report, declared once.

``REPORTS`` maps a report name to its notebook and parameter model. ``analysis.reports``
validates parameters with these models before any kernel starts; a test checks each
notebook's ``parameters`` cell holds the same defaults.
"""
from __future__ import annotations

from ..spec import Figure, Headline, ReportSpec, Step, launch_period, period_from
from .agency_monthly import AgencyMonthlyParams
from .agency_scorecard import AgencyScorecardParams
from .agency_target_plan import AgencyTargetPlanParams
from .agent_retention import AgentRetentionParams
from .base import ReportParams, validate_params
from .incentive_retention import IncentiveRetentionParams
from .launch_review import LaunchReviewParams
from .rep_scorecard import RepScorecardParams
from .sales_trends import SalesTrendsParams
from .target_plan import TargetPlanParams

T, L, R, S, P = "analysis.trends", "analysis.launch", "analysis.retention", "analysis.scorecard", "analysis.target_plan"
A, AR = "analysis.agency.monthly", "analysis.agency.retention"
AS, AP = "analysis.agency.scorecard", "analysis.agency.plan"


def as_of_period(parameters: dict, metrics: dict | None = None) -> str:
    """The period key of a report dated by ``as_of``: the day the run recorded, else the parameter."""
    return str((metrics or {}).get("as_of") or parameters.get("as_of") or "latest")

#: Every report, declared once: parameters, prepare, the ordered sections, what the last cell adds
#: to metrics.json, the index's headline figures and the period key (see :mod:`analysis.spec`).
REPORTS: dict[str, ReportSpec] = {
    "sales_trends": ReportSpec(
        "sales_trends", "notebooks/sales_trends.ipynb", SalesTrendsParams,
        prepare=f"{T}:prepare", narrative="analysis.narrative.trends",
        sections=tuple(Step(f"{T}:{s}") for s in (
            "headline", "attainment_by_level", "underperformers", "trend", "spring_festival", "mix", "contribution",
            "customers", "process_indicators", "forecast")),
        finish="analysis.reports.finish:sales_trends",
        headline=Headline(
            (Figure("total_amount", "amount", "money_wan"), Figure("attainment", "attainment", "rate"),
             Figure("time_elapsed", "time_elapsed", "rate"), Figure("yoy", "yoy", "change")),
            history="total_amount"),
        period=period_from("month"),
    ),
    "launch_review": ReportSpec(
        "launch_review", "notebooks/launch_review.ipynb", LaunchReviewParams,
        prepare=f"{L}:prepare", narrative="analysis.narrative.launch",
        sections=tuple(Step(f"{L}:{s}") for s in (
            "headline", "sales_trend", "retailers", "retailer_segments", "opinions", "cannibalization", "benchmarks")),
        headline=Headline(
            (Figure("distribution_rate", "distribution_rate", "rate"), Figure("repeat_rate", "repeat_rate", "rate"),
             Figure("rating_mean", "rating", "f2")),
            history="distribution_rate", order_by="launch_date"),
        period=launch_period,
    ),
    "incentive_retention": ReportSpec(
        "incentive_retention", "notebooks/incentive_retention.ipynb", IncentiveRetentionParams,
        prepare=f"{R}:prepare", narrative="analysis.narrative.retention",
        sections=(Step(f"{R}:headcount_attrition"), Step(f"{R}:retention_curves"),
                  *(Step(f"{R}:feature_curves", (i,), name=f"feature_curves_{i + 1}") for i in range(3)),
                  Step(f"{R}:correlation_section"), Step(f"{R}:effects_section"), Step(f"{R}:model_checks"),
                  *(Step(f"{R}:dose_section", (f,), name=f"dose_{f}") for f in ("team_bonus_share", "payout_delay_days")),
                  Step(f"{R}:written_summary")),
        headline=Headline(
            (Figure("attrition_rate", "attrition_rate", "rate"),
             Figure("first_year_attrition", "first_year_attrition", "rate")),
            history="attrition_rate"),
        period=period_from("as_of"),
    ),
    "rep_scorecard": ReportSpec(
        "rep_scorecard", "notebooks/rep_scorecard.ipynb", RepScorecardParams,
        prepare=f"{S}:prepare", narrative="analysis.narrative.scorecard",
        sections=(*(Step(f"{S}:{s}") for s in (
            "headline", "scores", "indicators", "rank_intervals", "territory", "underperformers", "adjustments")),
            Step(f"{S}:payout", optional=True)),
        finish="analysis.reports.finish:rep_scorecard",
        headline=Headline(
            (Figure("leader", "leader", "text"), Figure("below_target", "below_target", "int")),
            history="below_target"),
        period=period_from("month"),
    ),
    "target_plan": ReportSpec(
        "target_plan", "notebooks/target_plan.ipynb", TargetPlanParams,
        prepare=f"{P}:prepare", narrative="analysis.narrative.target_plan",
        sections=tuple(Step(f"{P}:{s}") for s in ("overview", "regions", "reps", "products", "backtest")),
        finish="analysis.reports.finish:target_plan",
        headline=Headline((Figure("total", "plan_total", "measure"),), history="total"),
        period=period_from("month"),
    ),
    # the agency profile (life-insurance agents; docs/AGENCY.md)
    "agency_monthly": ReportSpec(
        "agency_monthly", "notebooks/agency_monthly.ipynb", AgencyMonthlyParams,
        prepare=f"{A}:prepare", narrative="analysis.agency.monthly_text",
        sections=tuple(Step(f"{A}:{s}") for s in (
            "headline", "manpower", "activity", "production", "persistency", "attainment", "off_plan", "recruiting",
            "inputs")),
        finish="analysis.reports.finish:agency_monthly",
        headline=Headline(
            (Figure("fyc", "fyc", "money_wan"), Figure("headcount_end", "headcount_end", "int"),
             Figure("active_rate", "active_rate", "rate"), Figure("fyc_yoy", "yoy", "change")),
            history="fyc"),
        period=period_from("month"),
    ),
    "agent_retention": ReportSpec(
        "agent_retention", "notebooks/agent_retention.ipynb", AgentRetentionParams,
        prepare=f"{AR}:prepare", narrative=AR,  # no text functions: the sections speak through their notes
        sections=tuple(Step(f"{AR}:{s}") for s in (
            "cohort_retention", "cohort_curves", "incentives", "correlations", "model_checks", "written_summary")),
        headline=Headline(
            (Figure("retention.13m.rate", "retention_13m", "rate"), Figure("retention.3m.rate", "retention_3m", "rate")),
            history="retention.13m.rate"),
        period=as_of_period,
    ),
    "agency_scorecard": ReportSpec(
        "agency_scorecard", "notebooks/agency_scorecard.ipynb", AgencyScorecardParams,
        prepare=f"{AS}:prepare", narrative=AS,  # no text functions: the sections speak through their notes
        sections=tuple(Step(f"{AS}:{s}") for s in ("headline", "scores", "indicators")),
        finish="analysis.reports.finish:agency_scorecard",
        headline=Headline((Figure("leader", "leader", "text"), Figure("median_total", "median_total", "f1")),
                          history="median_total"),
        period=period_from("month"),
    ),
    "agency_target_plan": ReportSpec(
        "agency_target_plan", "notebooks/agency_target_plan.ipynb", AgencyTargetPlanParams,
        prepare=f"{AP}:prepare", narrative=AP,
        sections=tuple(Step(f"{AP}:{s}") for s in ("overview", "teams", "agents")),
        finish="analysis.reports.finish:agency_target_plan",
        headline=Headline((Figure("total_fyc", "plan_total", "money_wan"),), history="total_fyc"),
        period=period_from("month"),
    ),
}

__all__ = [
    "REPORTS", "ReportParams", "ReportSpec", "validate_params",
    "SalesTrendsParams", "LaunchReviewParams", "IncentiveRetentionParams", "RepScorecardParams",
    "AgencyMonthlyParams", "AgentRetentionParams", "AgencyScorecardParams", "AgencyTargetPlanParams",
]

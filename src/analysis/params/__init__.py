"""Report parameter models: one per report, declared once.

``REPORTS`` maps a report name to its notebook and parameter model. ``analysis.reports``
validates parameters with these models before any kernel starts; a test checks each
notebook's ``parameters`` cell holds the same defaults.
"""
from __future__ import annotations

from .agent_retention import AgentRetentionParams
from .base import ReportParams, ReportSpec, validate_params
from .incentive_retention import IncentiveRetentionParams
from .launch_review import LaunchReviewParams
from .rep_scorecard import RepScorecardParams
from .sales_trends import SalesTrendsParams
from .target_plan import TargetPlanParams

REPORTS: dict[str, ReportSpec] = {
    "sales_trends": ReportSpec("sales_trends", "notebooks/sales_trends.ipynb", SalesTrendsParams),
    "launch_review": ReportSpec("launch_review", "notebooks/launch_review.ipynb", LaunchReviewParams),
    "incentive_retention": ReportSpec(
        "incentive_retention", "notebooks/incentive_retention.ipynb", IncentiveRetentionParams
    ),
    "target_plan": ReportSpec("target_plan", "notebooks/target_plan.ipynb", TargetPlanParams),
    "rep_scorecard": ReportSpec("rep_scorecard", "notebooks/rep_scorecard.ipynb", RepScorecardParams),
    "agent_retention": ReportSpec("agent_retention", "notebooks/agent_retention.ipynb", AgentRetentionParams),
}

__all__ = [
    "REPORTS", "ReportParams", "ReportSpec", "validate_params",
    "SalesTrendsParams", "LaunchReviewParams", "IncentiveRetentionParams", "RepScorecardParams",
    "AgentRetentionParams",
]

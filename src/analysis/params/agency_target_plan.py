"""Parameters of the agency target plan (营业部任务分解, the agency profile)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .base import Money, ReportParams


class AgencyTargetPlanParams(ReportParams):
    """Parameters of ``notebooks/agency_target_plan.ipynb`` (see :mod:`analysis.agency.plan`).

    month: the plan month, "YYYY-MM" or "next" (the month after the last complete month of the
    policies, the default).
    branch: one branch (营业部) of the agents table; None: every agent of the store.
    method: how the agents' shares come from their history (:mod:`analysis.allocation`):
    "last_12", "same_month" or "blend" (half each, the default).
    total_fyc / total_fyp: the branch's totals (元); None: the store's branch target of the month
    (agency_targets), else the same month last year × (1 + growth).
    growth: the growth on last year's same month when neither a total nor a target is given.
    unit: the rounding unit (元); every level sums exactly to the one above.
    new_agent_months / ramp_share: agents hired within that many months before the plan month
    get ramp_share × their team's average agent share.

    Examples
    --------
    >>> AgencyTargetPlanParams(total_fyc="50万").total_fyc
    500000.0
    """

    report: ClassVar[str] = "agency_target_plan"

    month: str = "next"
    branch: str | None = None
    method: Literal["last_12", "same_month", "blend"] = "blend"
    total_fyc: Money | None = Field(None, gt=0)
    total_fyp: Money | None = Field(None, gt=0)
    growth: float = Field(0.0, ge=-0.9, le=5.0)
    unit: Money = Field(100.0, gt=0)
    new_agent_months: int = Field(3, ge=0, le=12)
    ramp_share: float = Field(0.5, gt=0, le=1)

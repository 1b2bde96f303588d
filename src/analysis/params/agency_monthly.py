"""Parameters of the agency monthly report (营业部月报)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Money, ReportParams


class AgencyMonthlyParams(ReportParams):
    """Parameters of ``notebooks/agency_monthly.ipynb``.

    month: "YYYY-MM", "last" (the last complete month of the policies, the default), "last-N" or
    "current".
    branch: one branch (营业部) of the agents table; None: every agent of the store.
    active_threshold: the company's bar for an agent counted as 实动 (FYP of the month ≥ it, in 元;
    default 5,000).
    grace: False: 13- and 25-month persistency; True: the 14- and 26-month variants (a 60-day grace
    period for the renewal premium).
    lookback_months: the months shown in the trend tables (the month included).
    top_n: the agents furthest off plan and the recruiters shown.

    Examples
    --------
    >>> AgencyMonthlyParams(active_threshold="5,000").active_threshold
    5000.0
    """

    month: str = "last"
    branch: str | None = None
    active_threshold: Money = Field(5000.0, ge=0)
    grace: bool = False
    lookback_months: int = Field(13, ge=2, le=60)
    top_n: int = Field(10, ge=1, le=100)

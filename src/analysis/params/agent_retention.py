"""Parameters of the agent retention report (新人留存, the agency profile)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import ReportParams, iso_date_or_empty

DEFAULT_FEATURES = ["leads_given", "allowance", "training_hours", "activities_attended", "recruiter_tenure",
                    "recruiter_exited"]
DEFAULT_CONTROLS = ["early_fyc", "direct_hire", "team"]


class AgentRetentionParams(ReportParams):
    """Parameters of notebooks/agent_retention.ipynb (see analysis.agency.retention).

    as_of: "YYYY-MM-DD" or "" (the last issue day of the policies). cohort_start: the incentive
    analysis covers agents hired on or after this day ("" = the data's first month: the new agents
    whose every month is in the data). cohort: the hiring cohorts of the retention table (quarter,
    month or year); curve_cohort: those of the Kaplan–Meier curves. features / controls: column
    names of the agent-month panel (analysis.agency.panel); missing ones are skipped with a note.
    min_group_size: smallest group of agents a table or chart shows.
    """

    as_of: str = ""
    cohort_start: str = ""
    cohort: Literal["quarter", "month", "year"] = "quarter"
    curve_cohort: Literal["year", "quarter"] = "year"
    features: list[str] = Field(default_factory=lambda: list(DEFAULT_FEATURES))
    controls: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTROLS))
    min_group_size: int = Field(5, ge=1)

    @field_validator("as_of", "cohort_start")
    @classmethod
    def _date_or_empty(cls, v: str) -> str:
        return iso_date_or_empty(v)

"""Parameters of the incentives vs retention report."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .base import ReportParams

DEFAULT_FEATURES = ["team_bonus_share", "payout_delay_days", "promoted_last_12m", "training_hours", "bonus_per_month"]
DEFAULT_CONTROLS = ["attainment", "region", "role"]


class IncentiveRetentionParams(ReportParams):
    """Parameters of notebooks/incentive_retention.ipynb (see analysis.retention).

    source: "store" (reps + compensation + orders/targets → person-month panel) or
    "snapshot" (one row per person). snapshot: a CSV/XLSX/Parquet path, or "" for the
    store's hr_snapshot table. as_of: "YYYY-MM-DD", "today" or "" (the end of the data).
    cohort_start: keep people hired on or after this day ("" = all). horizon_months: the
    window of "left within the horizon" (correlations, logistic model). tenure_unit: unit
    of a snapshot's tenure column. features / controls: column names; missing ones are
    skipped with a note. min_group_size: smallest group of people a table or chart shows.
    """

    report: ClassVar[str] = "incentive_retention"

    source: Literal["store", "snapshot"] = "store"
    snapshot: str = ""
    as_of: str = ""
    cohort_start: str = ""
    horizon_months: int = Field(12, ge=1, le=120)
    tenure_unit: Literal["years", "months"] = "years"
    features: list[str] = Field(default_factory=lambda: list(DEFAULT_FEATURES))
    controls: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTROLS))
    min_group_size: int = Field(5, ge=1)

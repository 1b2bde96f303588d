"""Parameters of the new brand one-month review."""
from __future__ import annotations

from pydantic import Field

from .base import ReportParams


class LaunchReviewParams(ReportParams):
    """sku or brand selects the new product; launch_date "" = the product's launch_date."""

    sku: str = ""
    brand: str = ""
    launch_date: str = ""
    window_days: int = Field(30, ge=1, le=366)
    benchmarks: str | list[str] = "auto"
    compare_class: str = ""
    min_group_size: int = Field(5, ge=1)

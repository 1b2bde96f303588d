"""Parameters of the monthly sales trends report."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .base import ReportParams


class SalesTrendsParams(ReportParams):
    """month: "YYYY-MM", "last" (last complete month in the data, the default) or "current".

    level: the breakdown of the attainment and contribution sections. filters: {column: [values]}
    applied to the orders in the engine (e.g. {"region": ["市区"]}). action_rows: how many rows
    furthest off plan are flagged as needing an action point.
    """

    report: ClassVar[str] = "sales_trends"

    month: str = "last"
    lookback_months: int = Field(24, ge=3, le=240)
    level: Literal["region", "rep", "brand", "price_class", "customer"] = "region"
    filters: dict[str, list[str]] = Field(default_factory=dict)
    forecast_months: int = Field(3, ge=0, le=24)
    underperform_threshold: float = Field(0.9, gt=0, le=2)
    underperform_streak: int = Field(3, ge=1, le=24)
    action_rows: int = Field(3, ge=0, le=50)
    size_by: Literal["size_class", "grade_band"] = "size_class"

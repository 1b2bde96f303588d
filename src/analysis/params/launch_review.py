"""Parameters of the new brand one-month review."""
from __future__ import annotations

from typing import ClassVar


from pydantic import Field, field_validator

from .base import ReportParams, iso_date_or_empty


class LaunchReviewParams(ReportParams):
    """Parameters of ``notebooks/launch_review.ipynb``.

    sku / brand: the new product (one SKU, or every SKU of a brand; not both). Both empty:
    the SKU with the most recent ``products.launch_date`` that has a full window of data
    (launch + window_days − 1 ≤ the last order date), else the most recent launch (partial).
    launch_date: "YYYY-MM-DD"; "" = the product's ``products.launch_date`` (else its first order).
    window_days: review window [launch_date, launch_date + window_days − 1], day 1 = launch day.
    benchmarks: "auto" (earlier launches with a full window in the same price class; all
    earlier launches when fewer than 3) or a list of sku_ids.
    compare_class: price class whose incumbents are checked for cannibalisation ("" = the
    new product's class).
    min_group_size: retailer groups smaller than this are merged ("other") or suppressed.

    Examples
    --------
    >>> LaunchReviewParams(sku="S043").window_days
    30
    """

    report: ClassVar[str] = "launch_review"

    sku: str = ""
    brand: str = ""
    launch_date: str = ""
    window_days: int = Field(30, ge=1, le=366)
    benchmarks: str | list[str] = "auto"
    compare_class: str = ""
    min_group_size: int = Field(5, ge=1)

    @field_validator("launch_date")
    @classmethod
    def _date_or_empty(cls, v: str) -> str:
        return iso_date_or_empty(v)

    @field_validator("benchmarks")
    @classmethod
    def _auto_or_list(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, str):
            v = v.strip()
            if v not in ("auto", ""):
                return [s.strip() for s in v.split(",") if s.strip()]
            return "auto"
        return [str(s) for s in v]

"""Parameters of the weekly flash (周报): the month so far on any day."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from .base import ReportParams, iso_date_or_empty


class WeeklyFlashParams(ReportParams):
    """Parameters of the weekly flash.

    as_of: "YYYY-MM-DD", "today" or "" (the last order date in the data): the flash covers the
    month of ``as_of`` from its 1st to ``as_of`` (never called the month: month to date).
    measure: "amount" or "qty" (the targets' measure).
    behind_rows: rows of each "furthest behind pace" list (regions, reps).

    Examples
    --------
    >>> WeeklyFlashParams(as_of="2026-10-20").behind_rows
    10
    """

    report: ClassVar[str] = "weekly_flash"

    as_of: str = ""
    measure: Literal["amount", "qty"] = "amount"
    behind_rows: int = Field(10, ge=1, le=500)

    @field_validator("as_of")
    @classmethod
    def _date_or_empty(cls, v: str) -> str:
        return iso_date_or_empty(v, "a date 'YYYY-MM-DD', 'today' or ''")

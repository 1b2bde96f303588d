"""Parameters of the monthly rep scorecard (月度综合考核)."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from .base import ReportParams


class RepScorecardParams(ReportParams):
    """Parameters of ``notebooks/rep_scorecard.ipynb``.

    month: "YYYY-MM" or "last" (the last complete month in the data, the default), or any form of
    :func:`analysis.periods.parse_month_text` (resolved by :func:`analysis.periods.resolve_month`).
    scheme: a packaged scheme name ("default": ``analysis/schemes/default.yml``) or the path of
    the department's YAML file. It is loaded and validated here, before any kernel starts: an
    unknown indicator, weights not summing to 100 or a rule missing a bound stop the run with a
    one-line message.
    adjustments: path of a CSV of manual adjustments (加减分: rep_id, points, reason), or None.
    level: "region" (ranks and the ``rank`` rule within each region, the default) or "company"
    (the whole team as one group).
    audience: "team" (the version announced at the meeting: no money) or "manager" (adds the
    payout table when the scheme has a bonus pool; the page says at the top that it holds pay).
    underperform_threshold / underperform_streak: "below target several months running", the same
    definition as the monthly sales trends report (attainment below the threshold in each of the
    last ``streak`` months).
    n_boot: bootstrap resamples of the rank intervals.
    interval_unit: what the rank intervals resample: "customer" (each rep's customers: how much the
    rank depends on which customers the rep has) or "day" (the days of the month: how much it
    depends on when the orders and visits fell).

    Examples
    --------
    >>> RepScorecardParams().audience
    'team'
    """

    report: ClassVar[str] = "rep_scorecard"

    month: str = "last"
    scheme: str = "default"
    adjustments: str | None = None
    level: Literal["region", "company"] = "region"
    audience: Literal["team", "manager"] = "team"
    underperform_threshold: float = Field(0.9, gt=0, le=2)
    underperform_streak: int = Field(3, ge=1, le=24)
    n_boot: int = Field(1000, ge=100, le=20000)
    interval_unit: Literal["customer", "day"] = "customer"

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, v: str) -> str:
        from ..scheme import load_scheme

        v = v.strip()
        load_scheme(v)  # a SchemeError (one line) stops the run here
        p = Path(v)
        return str(p.resolve()) if p.suffix and p.exists() else v

    @field_validator("adjustments")
    @classmethod
    def _adjustments(cls, v: str | None) -> str | None:
        from ..scheme import load_adjustments

        if v is None or not str(v).strip():
            return None
        load_adjustments(str(v).strip())
        return str(Path(str(v).strip()).resolve())

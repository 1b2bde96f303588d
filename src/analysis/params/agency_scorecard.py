"""Parameters of the agency scorecard (营业部考核, the agency profile)."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import field_validator

from .base import ReportParams


class AgencyScorecardParams(ReportParams):
    """Parameters of ``notebooks/agency_scorecard.ipynb`` (see :mod:`analysis.agency.scorecard`).

    month: "YYYY-MM", "last" (the last complete month of the policies, the default), "last-N".
    branch: one branch (营业部) of the agents table; None: every agent of the store.
    scheme: a packaged scheme of the agency profile ("agency": ``analysis/schemes/agency.yml``) or
    the path of the branch's YAML file (``profile: agency``); checked here, before any kernel.
    level: "agent" (agents ranked within their team, the default) or "team" (the teams ranked
    within the branch). The scorecard holds no pay.

    Examples
    --------
    >>> AgencyScorecardParams().level
    'agent'
    """

    report: ClassVar[str] = "agency_scorecard"

    month: str = "last"
    branch: str | None = None
    scheme: str = "agency"
    level: Literal["agent", "team"] = "agent"

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, v: str) -> str:
        from ..errors import SchemeError
        from ..scheme import load_scheme

        v = v.strip()
        s = load_scheme(v)
        if s.profile != "agency":
            raise SchemeError(f"The 'scheme' parameter of agency_scorecard must be a scheme of the agency profile "
                              f"(profile: agency). Got {v!r}, a scheme of the {s.profile} profile.")
        p = Path(v)
        return str(p.resolve()) if p.suffix and p.exists() else v

"""The meeting pack of the agency profile (营业部月例会材料): which parts, for which month.

On a store of the agency profile (``sales-analysis meeting --profile agency``; ``auto`` picks it when
the store has agents and policies but no order lines) the pack holds, in order:

1. ``summary`` — the agency monthly report (营业部月报): headline, manpower, activity, production,
   persistency, attainment, who is furthest off plan;
2. ``scorecard`` — the agency scorecard at the team level (营业组考核, the version announced: it
   holds no pay);
3. ``target_plan`` — next month's FYC and FYP targets by team and agent;
4. ``retention`` — in the last month of a quarter, agent retention (新人留存) to the month's end.

There is no launch part and no action sheet of the sales summary (its items are regions and reps).
"""
from __future__ import annotations

from typing import Any

from ..i18n import Msg
from ..periods import add_months, month_end, parse_month

PROFILES = ("auto", "sales", "agency")

#: the sections each agency report shows in the pack (None: every section)
SHOWN: dict[str, tuple[str, ...] | None] = {
    "agency_monthly": ("headline", "manpower", "activity", "production", "persistency", "attainment", "off_plan"),
    "agency_scorecard": ("headline", "scores", "indicators"),
    "agency_target_plan": ("overview", "teams", "agents"),
    "agent_retention": ("cohort_retention", "cohort_curves", "incentives", "written_summary"),
}


def detect_profile(con: Any, profile: str = "auto") -> str:
    """``profile`` as "sales" or "agency": ``auto`` is the agency when the store has agents and
    policies and no order lines, else sales.

    Examples
    --------
    >>> detect_profile(None, "agency")
    'agency'
    """
    from ..errors import ParameterError

    if profile not in PROFILES:
        raise ParameterError(f"The 'profile' parameter of build_pack must be one of "
                             f"{', '.join(repr(p) for p in PROFILES)}. Got {profile!r} instead.")
    if profile != "auto":
        return profile
    from .. import store

    agency = store.has_rows(con, "agents") and store.has_rows(con, "policies")
    return "agency" if agency and not store.has_rows(con, "orders") else "sales"


def agency_month(con: Any, month: str) -> str:
    """``month`` as "YYYY-MM": "last" is the last complete month of the policies (the agency
    monthly report's rule)."""
    if str(month).strip().lower() != "last":
        return parse_month(month, "month", "build_pack").strftime("%Y-%m")
    from ..agency import model as am
    from ..agency.monthly import resolve_report_month

    first, last = am.data_window(con)
    return resolve_report_month("last", first, last).strftime("%Y-%m")


def plan(con: Any, month: str) -> tuple[list, list]:
    """The parts of the agency pack of ``month`` ("YYYY-MM") and the parts known missing (none)."""
    from .pack import QUARTER_END_MONTHS, PartSpec

    first = parse_month(month, "month", "plan")
    ym = first.strftime("%Y-%m")
    nxt = add_months(first, 1).strftime("%Y-%m")
    specs = [
        PartSpec("summary", "summary", "agency_monthly", {"month": ym}, Msg("agency.meeting.part.summary", {"month": ym})),
        PartSpec("scorecard", "scorecard", "agency_scorecard", {"month": ym, "level": "team"},
                 Msg("agency.meeting.part.scorecard", {"month": ym})),
        PartSpec("target_plan", "target_plan", "agency_target_plan", {"month": nxt},
                 Msg("agency.meeting.part.target_plan", {"month": nxt})),
    ]
    if first.month in QUARTER_END_MONTHS:
        specs.append(PartSpec("retention", "retention", "agent_retention", {"as_of": month_end(first).isoformat()},
                              Msg("agency.meeting.part.retention", {"month": ym})))
    return specs, []

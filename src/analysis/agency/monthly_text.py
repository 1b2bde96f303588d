"""Text functions of the agency monthly report (营业部月报): each chooses message ids and values only.

The sentences are in ``analysis/locales/<lang>.yml`` under ``agency.monthly.*``; the same function
writes every language. :data:`TEXTS` maps section codes to these functions for ``ctx.present.texts``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..i18n import msg
from ..present import Cards, Caution, Para

__all__ = ["TEXTS"]

P = "agency.monthly"


def _ok(x: Any) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(float(x))


def _dir(x: float) -> str:
    return "none" if not _ok(x) else "up" if x >= 0 else "down"


def headline(res: Any) -> Sequence[Any]:
    """Cards (期末人力, FYP and FYC in 万元, 活动率, persistency, FYC attainment), then the month in two
    sentences: manpower, production against last year."""
    cards = [(f"{P}.card.headcount_end", res.headcount_end, "count"), (f"{P}.card.fyp", res.fyp, "money_wan"),
             (f"{P}.card.fyc", res.fyc, "money_wan"), (f"{P}.card.active_rate", res.active_rate, "rate")]
    if _ok(res.persistency):
        cards.append((f"{P}.card.persistency_{res.persistency_months}", res.persistency, "rate"))
    if _ok(res.fyc_attainment):
        cards.append((f"{P}.card.fyc_attainment", res.fyc_attainment, "rate"))
    sentences = [msg(f"{P}.headline.manpower", month=res.month, headcount=res.headcount_end, recruits=res.recruits),
                 msg(f"{P}.headline.production", _dir(res.fyp_yoy), fyp=res.fyp, fyc=res.fyc,
                     yoy=res.fyp_yoy if _ok(res.fyp_yoy) else float("nan"))]
    if _ok(res.fyc_attainment):
        sentences.append(msg(f"{P}.headline.attainment", "ahead" if res.fyc_attainment >= res.elapsed else "behind",
                             attainment=res.fyc_attainment, elapsed=res.elapsed))
    return [Cards(*cards), Para(sentences)]


def manpower(res: Any) -> Sequence[Any]:
    """期初 → 期末 with 增员 and 脱落; the year's recruits; a note on agents without a team."""
    out: list[Any] = [Para(
        msg(f"{P}.manpower.flow", start=res.headcount_start, end=res.headcount_end, avg=res.headcount_avg,
            recruits=res.recruits, recruit_rate=res.recruit_rate, exits=res.exits, exit_rate=res.exit_rate),
        msg(f"{P}.manpower.year", _dir(res.headcount_end_yoy), recruits=res.recruits_12m,
            change=res.headcount_end_yoy if _ok(res.headcount_end_yoy) else float("nan")))]
    if res.unattributed:
        out.append(Caution(msg(f"{P}.manpower.unattributed")))
    return out


def activity(res: Any) -> Sequence[Any]:
    """活动率 and 实动率 (with the threshold), against last month and last year."""
    return [Para(
        msg(f"{P}.activity.rates", active=res.active, active_rate=res.active_rate, qualified=res.qualified,
            qualified_rate=res.qualified_rate, threshold=res.threshold),
        msg(f"{P}.activity.change", "known" if _ok(res.active_rate_yoy_pp) and _ok(res.active_rate_mom_pp)
            else "unknown", mom=res.active_rate_mom_pp, yoy=res.active_rate_yoy_pp))]


def production(res: Any) -> Sequence[Any]:
    """FYP and FYC with 环比 and 同比; 件数 and 件均; 人均FYC and 人均产能."""
    v = res.values
    g = lambda m, k: v.get(m, {}).get(k, float("nan"))  # noqa: E731
    def ch(x: float) -> float:
        return x if _ok(x) else float("nan")
    return [Para(
        msg(f"{P}.production.fyp", fyp=g("fyp", "current"), mom=ch(g("fyp", "mom")), yoy=ch(g("fyp", "yoy")),
            fyc=g("fyc", "current"), fyc_yoy=ch(g("fyc", "yoy"))),
        msg(f"{P}.production.cases", policies=g("policies", "current"), avg=g("avg_premium", "current"),
            per_head=g("fyc_per_head", "current"), per_active=g("fyp_per_active", "current")))]


def persistency(res: Any) -> Sequence[Any]:
    """The month's two persistency figures with their cohorts; the first against last year."""
    k1, k2 = res.months
    out = [msg(f"{P}.persistency.rates", k1=k1, k2=k2, first=res.first, second=res.second,
               cohort1=res.first_cohort, cohort2=res.second_cohort)]
    if _ok(res.first_yoy_pp):
        out.append(msg(f"{P}.persistency.yoy", k1=k1, change=res.first_yoy_pp))
    if k1 == 14:
        out.append(msg(f"{P}.persistency.grace"))
    return [Para(out)]


def attainment(res: Any) -> Sequence[Any]:
    """FYC, FYP and 增员 against target and time elapsed; the year to date."""
    t = res.month_rows
    out = []
    for r in t.itertuples():
        out.append(msg(f"{P}.attainment.measure", "ahead" if _ok(r.attainment) and r.attainment >= r.time_elapsed
                       else "behind", measure=msg(f"{P}.measure.{r.measure}"), attainment=r.attainment,
                       elapsed=r.time_elapsed))
    fyc = t[t["measure"] == "fyc"]
    if len(fyc) and _ok(float(fyc["ytd_attainment"].iloc[0])):
        yp = float(fyc["year_progress"].iloc[0])
        out.append(msg(f"{P}.attainment.ytd", "year" if _ok(yp) else "ytd", ytd=float(fyc["ytd_attainment"].iloc[0]),
                       progress=yp if _ok(yp) else float("nan"), elapsed=res.year_elapsed))
    items: list[Any] = [Para(out)]
    if _ok(res.elapsed) and res.elapsed < 1:
        items.append(Caution(msg(f"{P}.attainment.month_to_date", last=res.last_day)))
    return items


def off_plan(res: Any) -> Sequence[Any]:
    """How many teams and agents are below plan; the three furthest off."""
    out = [msg(f"{P}.off_plan.counts", teams=res.teams_below, n_teams=res.teams_with_target, agents=res.agents_below,
               n_agents=res.agents_with_target)]
    if res.worst_teams:
        out.append(msg(f"{P}.off_plan.teams", items=[msg(f"{P}.off_plan.team_item", team=w["team"],
                                                             attainment=w["attainment"], gap=-w["gap"])
                                                         for w in res.worst_teams]))
    if res.worst_agents:
        out.append(msg(f"{P}.off_plan.agents", items=[msg(f"{P}.off_plan.agent_item", "named" if w["name"] else "id",
                                                              name=w["name"], agent_id=w["agent_id"], gap=-w["gap"])
                                                          for w in res.worst_agents]))
    return [Para(out)]


def recruiting(res: Any) -> Sequence[Any]:
    """Recruits of the last 12 months (by recruiters, direct), the recruits' 13-month retention, the
    top recruiters by their recruits' FYC, the recruits whose recruiter has left."""
    out = [msg(f"{P}.recruiting.summary", recruits=res.recruits_12m, recruiters=res.recruiters,
               direct=res.direct_hires_12m),
           msg(f"{P}.recruiting.retention", "known" if _ok(res.retention_13) else "unknown",
               rate=res.retention_13 if _ok(res.retention_13) else float("nan"), eligible=res.eligible_13)]
    if res.top:
        out.append(msg(f"{P}.recruiting.top", items=[
            msg(f"{P}.recruiting.top_item", "named" if t["name"] else "id", name=t["name"], agent_id=t["recruiter_id"],
                recruits=t["recruits"], fyc=t["fyc"]) for t in res.top]))
    if _ok(res.orphans_in_force) and res.orphans_in_force > 0:
        out.append(msg(f"{P}.recruiting.orphans", count=res.orphans_in_force))
    return [Para(out)]


def inputs(res: Any) -> Sequence[Any]:
    """Per agent: attendance, leads, training, activities; the allowances paid."""
    return [msg(f"{P}.inputs.summary", attendance=res.attendance_days, leads=res.leads_given,
                training=res.training_hours, activities=res.activities_attended, allowance=res.allowance)]


TEXTS = {"headline": headline, "manpower": manpower, "activity": activity, "production": production,
         "persistency": persistency, "attainment": attainment, "off_plan": off_plan, "recruiting": recruiting,
         "inputs": inputs}

"""Text functions of the monthly rep scorecard: each takes a section result of
:mod:`analysis.scorecard` and returns message ids and values (never text); the sentences are
in ``analysis/locales/<lang>.yml`` under ``rep_scorecard.*``.

``TEXTS`` maps section codes to their text function (the report spec's narrative module).
"""
from __future__ import annotations

import math
from typing import Any

from ..i18n import Msg, msg
from ..present import Cards, Caution, Method, Para, skip_msg

R = "rep_scorecard"


def _ok(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _who(name: Any, rep_id: str) -> Msg:
    """A rep as "name (id)", or the id alone."""
    if isinstance(name, str) and name:
        return msg(f"{R}.who", "named", name=name, rep_id=rep_id)
    return msg(f"{R}.who", "id", name="", rep_id=rep_id)


def headline(res: Any) -> list:
    """The top of the report: the manager banner (pay inside), headline cards and the written
    summary (leader, most improved, below target running, team misses, what to act on)."""
    out: list = []
    if res.audience == "manager":
        out.append(Caution(msg(f"{R}.headline.manager_only")))
    else:
        out.append(Caution(msg(f"{R}.headline.team_version")))
    lead = res.leader
    out.append(Cards((f"{R}.card.reps", res.reps_scored, "count"),
                     (f"{R}.card.leader", lead.get("label", "—"), "text"),
                     (f"{R}.card.leader_total", lead.get("total"), "f1"),
                     (f"{R}.card.median_total", res.median_total, "f1"),
                     (f"{R}.card.below_target", res.below_target, "count"), period=msg("present.month", month=res.month)))
    s = [msg(f"{R}.headline.lead", month=res.month, reps=res.reps_scored, scheme=res.scheme)]
    if lead:
        variant = "tied" if lead.get("tied", 1) > 1 else "alone"
        s.append(msg(f"{R}.headline.leader", variant, who=_who(lead.get("name"), lead["rep_id"]),
                     region=lead["region"], total=lead["total"], tied=lead.get("tied", 1)))
    if res.improved:
        b = res.improved
        s.append(msg(f"{R}.headline.improved", who=_who(b.get("name"), b["rep_id"]), prev=b["rank_prev"],
                     rank=b["rank"], change=b["change"]))
    if res.below_target_streak:
        s.append(msg(f"{R}.headline.streak", "some", count=len(res.below_target_streak), threshold=res.threshold,
                     streak=res.streak, ids=[_who(res.streak_names.get(str(i)), i) for i in res.below_target_streak]))
    else:
        s.append(msg(f"{R}.headline.streak", "none", count=0, threshold=res.threshold, streak=res.streak, ids=[]))
    if res.team_misses:
        s.append(msg(f"{R}.headline.team_misses", "some", indicators=list(res.team_misses)))
    else:
        s.append(msg(f"{R}.headline.team_misses", "none", indicators=[]))
    out.append(Para(s))
    act = []
    if res.below_target_streak:
        act.append(msg(f"{R}.act.streak", count=len(res.below_target_streak)))
    if res.team_misses:
        act.append(msg(f"{R}.act.team_misses", indicators=list(res.team_misses)))
    if res.reps_scored and res.within_noise:
        act.append(msg(f"{R}.act.noise", within=res.within_noise, ranked=res.reps_scored - res.part_month))
    if act:
        out.append(Para(msg(f"{R}.act.lead"), msg("present.sentence", clauses=act)))
    if res.penalty and res.penalised:
        out.append(msg(f"{R}.headline.penalty", points=res.penalty["points"], months=res.penalty["months"],
                       threshold=res.penalty["threshold"], count=len(res.penalised)))
    if "penalty" in res.parts:
        out.append(Caution(msg(f"{R}.headline.no_penalty", reason=skip_msg(res.parts["penalty"]))))
    if res.part_month:
        out.append(msg(f"{R}.headline.part_month", count=res.part_month))
    return out


def scores(res: Any) -> list:
    """How to read the ranking."""
    return [msg(f"{R}.scores.how")]


def indicators(res: Any) -> list:
    """Which indicators the team meets, and those not scored with the reason."""
    t = res.team
    scored = t[t["scored"]]
    met = int((scored["meets"] == True).sum())  # noqa: E712  (None: not comparable)
    comparable = int(scored["meets"].notna().sum())
    out: list = [msg(f"{R}.indicators.summary", met=met, comparable=comparable)]
    for iid, sk in res.skips.items():
        out.append(Caution(msg(f"{R}.indicators.skipped", indicator=iid, reason=skip_msg(sk))))
    return out


def rank_intervals(res: Any) -> list:
    """The plain-language reading of the rank intervals."""
    out: list = [msg(f"{R}.rank_intervals.how", res.unit, n_boot=res.n_boot)]
    if res.ranked:
        variant = "all" if res.within_noise == res.ranked else ("some" if res.within_noise else "none")
        out.append(msg(f"{R}.rank_intervals.noise", variant, within=res.within_noise, ranked=res.ranked,
                       width=res.median_width))
        if res.top_within_noise:
            out.append(Caution(msg(f"{R}.rank_intervals.top")))
    return out


def territory(res: Any) -> list:
    """The territory check in words."""
    if not _ok(res.rho):
        return []
    lo, hi = res.ci_low, res.ci_high
    variant = "positive" if lo > 0 else ("negative" if hi < 0 else "none")
    out: list = [msg(f"{R}.territory.plain", variant)]
    out.append(msg(f"{R}.territory.adjusted"))
    if res.moved:
        out.append(msg(f"{R}.territory.moved", count=len(res.moved)))
    # the rank correlation, its interval and test: the section's method note
    return out + [Method(msg(f"{R}.territory.rho", variant, rho=res.rho, lo=lo, hi=hi, p=res.p_value, n=res.n))]


def underperformers(res: Any) -> list:
    """Who is below target several months running."""
    first, last = (res.months[0], res.months[-1]) if res.months else ("", "")
    if not res.ids:
        return [msg(f"{R}.underperformers.summary", "none", count=0, threshold=res.threshold, streak=res.streak,
                    first=first, last=last, ids=[])]
    return [msg(f"{R}.underperformers.summary", "some", count=len(res.ids), threshold=res.threshold,
                streak=res.streak, first=first, last=last, ids=[_who(n, i) for i, n in _named(res)])]


def _named(res: Any) -> list[tuple[str, Any]]:
    """(rep id, name or None) of a section's ids, names from its table."""
    t = res.table
    names = dict(zip(t["rep_id"].astype(str), t["name"])) if len(t) and {"rep_id", "name"} <= set(t.columns) else {}
    return [(i, names.get(str(i))) for i in res.ids]


def adjustments(res: Any) -> list:
    """The adjustments, announced with their reasons."""
    t = res.table
    manual = int((t["source"] == "manual").sum()) if "source" in t.columns else len(t)
    return [msg(f"{R}.adjustments.summary", rows=len(t), manual=manual, total=float(t["points"].sum()))]


def payout(res: Any) -> list:
    """The pay split (manager version)."""
    return [Caution(msg(f"{R}.payout.confidential")),
            msg(f"{R}.payout.summary", pool=res.pool, individual=res.individual_share,
                team=1 - res.individual_share, paid=float(res.table["amount_fen"].sum()) / 100, reps=len(res.table))]


TEXTS = {"headline": headline, "scores": scores, "indicators": indicators, "rank_intervals": rank_intervals,
         "territory": territory, "underperformers": underperformers, "adjustments": adjustments, "payout": payout}

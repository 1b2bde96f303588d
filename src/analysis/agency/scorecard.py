"""The agency scorecard (营业部考核): agents (or teams) scored by an agency scheme, the way reps are.

The scheme (``profile: agency``, :mod:`analysis.scheme`; ``schemes/agency.yml`` ships) names the
indicators of :data:`analysis.scheme.AGENCY_INDICATORS`; this module computes their values from
:mod:`analysis.agency.model` (in the engine) and scores them with :func:`analysis.scoring.score`
unchanged — the same rules, effective weights after skipped indicators, ranks, part-month
listing and previous-month rank change as the rep scorecard. Agents are ranked within their team
(the ``rank`` rule's group); teams (``level="team"``) within the branch. No pay is computed.

Definitions (month ``M``, docs/AGENCY.md):

- **scored**: agents in force on ``M``'s last day (teams: the teams of those agents); when the
  store has agent-level FYC targets for ``M``, only the agents with one (the producing agents the
  plan gave a target; managers carry team targets). An agent hired during ``M`` is part-month:
  scored, listed apart, not ranked (``employed_share`` = days in force ÷ days of ``M``).
- **fyc_attainment**: FYC of ``M`` ÷ the FYC target of ``M`` (``agency_targets``, level agent or
  team).
- **active_rate** (活动率): over the scheme's ``activity_months`` months ending with ``M``; an agent:
  months with FYP > 0 ÷ months in force on some day; a team: Σ 活动人力 ÷ Σ 平均人力 (with one month,
  the monthly report's 活动率).
- **recruit_attainment** (增员): recruits hired in ``M`` — an agent: those it recruited
  (``recruiter_id``); a team: its new agents — ÷ the recruits target of ``M``.
- **persistency** (13个月继续率): the regular-premium, not cancelled policies of the agent (team)
  issued in the scheme's ``persistency_months`` cohorts whose 13th month ends from ``M −
  persistency_months + 1`` to ``M``: Σ 2nd-year premium received by each cohort's 13th month end
  ÷ Σ first-year premium (:func:`analysis.agency.model.persistency` summed over those months).

An indicator whose table is missing (``agency_targets``, ``premium_receipts``) or that has no
target for the month is skipped with that reason and the other weights re-normalised
(:func:`analysis.scoring.effective_weights`); a single agent's missing value gives it 0 points.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import scoring, store
from ..errors import InsufficientDataError, MissingTableError, ParameterError
from ..periods import add_months, month_end
from ..scheme import Scheme, load_scheme
from ..sections import Reason, SectionResult, Skip, Table
from . import model as am
from .monthly import resolve_report_month

if TYPE_CHECKING:
    from ..params.agency_scorecard import AgencyScorecardParams

REPORT = "agency_scorecard"
INDICATOR_KINDS = {"fyc_attainment": "rate", "active_rate": "rate", "recruit_attainment": "rate",
                   "persistency": "rate"}
TARGETED = {"fyc_attainment": "fyc", "recruit_attainment": "recruits"}


@dataclass
class Scope:
    """The parameters, the scheme, the month, the values and the scores (filled by :func:`prepare`)."""

    con: Any
    params: Any
    scheme: Scheme
    month: dt.date
    first: dt.date
    last: dt.date
    level: str
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    skips: dict[str, Skip] = field(default_factory=dict)
    notes: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def period(self) -> str:
        return f"{self.month:%Y-%m}"


def prepare(con: Any, params: AgencyScorecardParams | None = None) -> Scope:
    """Resolve the month, compute every scored unit's indicator values and score them.

    Parameters
    ----------
    con : ibis backend
    params : AgencyScorecardParams, optional
        Validated (``AgencyScorecardParams.of(month=...)``); None: the defaults.

    Raises
    ------
    MissingTableError
        Without agents or policies.
    InsufficientDataError
        No indicator of the scheme has a value for the month.

    Examples
    --------
    >>> scope = prepare(con, AgencyScorecardParams.of(month="2026-10", level="team"))  # doctest: +SKIP
    """
    from ..params.agency_scorecard import AgencyScorecardParams
    from ..params.base import as_params

    p = as_params(AgencyScorecardParams, params, f"{REPORT}.prepare")
    for t in ("agents", "policies"):
        if not store.has_rows(con, t):
            raise MissingTableError(t, REPORT)
    scheme = load_scheme(p.scheme)
    first, last = am.data_window(con)
    month = resolve_report_month(p.month, first, last)
    scope = Scope(con, p, scheme, month, first, last, p.level)
    scope.values, scope.skips = values_of(scope, month)
    if not any(i in scope.values.columns and scope.values[i].notna().any() for i in scheme.weights):
        raise InsufficientDataError(f"None of the indicators of scheme '{scheme.name}' can be computed from the "
                                    f"store for {scope.period}.")
    previous = None
    pm = add_months(month, -1)
    if pm >= first.replace(day=1):
        try:
            pv, _ = values_of(scope, pm)
            if len(pv):
                previous = _score(scope, pv)[["rep_id", "rank"]]
        except (InsufficientDataError, ParameterError):
            previous = None
    scope.scores = _score(scope, scope.values, previous)
    return scope


# ------------------------------------------------------------------------------ values
def roster(con: Any, month: dt.date, branch: str | None = None) -> pd.DataFrame:
    """The agents in force on ``month``'s last day: agent_id, name, team, employed_share."""
    e = month_end(month)
    a = am.agents(con, branch)
    a = a.filter(am.in_force_on(a, e)).select("agent_id", "name", "team", "hire_date").execute()
    days = (e - month).days + 1
    hire = pd.to_datetime(a["hire_date"]).dt.date
    a["employed_share"] = [((e - max(h, month)).days + 1) / days for h in hire]
    a["team"] = a["team"].astype(object).where(a["team"].notna(), am.UNATTRIBUTED).astype(str)
    return a.drop(columns="hire_date").sort_values("agent_id").reset_index(drop=True)


def _targets(con: Any, month: dt.date, level: str, branch: str | None) -> pd.DataFrame | None:
    if not store.has_rows(con, "agency_targets"):
        return None
    return am.targets(con, [month], level, branch)


def values_of(scope: Scope, month: dt.date) -> tuple[pd.DataFrame, dict[str, Skip]]:
    """The indicator values of ``month``: one row per scored unit (``rep_id``: the agent or team,
    ``region``: the rank group: the team, or ``branch``), ``employed_share``, the inputs and one
    column per indicator; and the skipped indicators with their reasons."""
    con, s, level, branch = scope.con, scope.scheme, scope.level, scope.params.branch
    skips: dict[str, Skip] = {}
    r = roster(con, month, branch)
    tg = _targets(con, month, level, branch)
    if level == "agent" and tg is not None:
        fyc_t = tg[tg["measure"] == "fyc"]
        if len(fyc_t):  # the producing agents the plan gave a target
            r = r[r["agent_id"].isin(set(fyc_t["key"]))]
    if level == "agent":
        v = r.rename(columns={"agent_id": "rep_id", "team": "region"})
    else:
        share = r.groupby("team")["employed_share"].size()
        v = pd.DataFrame({"rep_id": sorted(share.index), "region": "branch", "employed_share": 1.0})
        v["name"] = v["rep_id"]
    keys = set(v["rep_id"])
    fig = am.figures(con, [month], level, branch=branch)
    fig = fig[fig["month"] == month].set_index("key")
    # fyc / recruits against target
    actual = {"fyc": fig["fyc"] if len(fig) else pd.Series(dtype=float)}
    if level == "team":
        actual["recruits"] = fig["recruits"] if len(fig) else pd.Series(dtype=float)
    else:
        a = am.agents(con, branch)
        e = month_end(month)
        rec = a.filter(a.recruiter_id.notnull() & (a.hire_date >= month) & (a.hire_date <= e))
        rc = rec.group_by(key=rec.recruiter_id).aggregate(n=rec.agent_id.count()).execute()
        actual["recruits"] = rc.set_index("key")["n"].astype(float) if len(rc) else pd.Series(dtype=float)
    for iid, measure in TARGETED.items():
        v[measure] = v["rep_id"].map(actual[measure]).astype(float).fillna(0.0)
        if tg is None:
            skips[iid] = Skip(Reason.MISSING_TABLE, {"table": "agency_targets"})
            v[f"{measure}_target"] = np.nan
        else:
            t = tg[tg["measure"] == measure].set_index("key")["target"]
            v[f"{measure}_target"] = v["rep_id"].map(t).astype(float)
            if not v[f"{measure}_target"].gt(0).any():
                skips[iid] = Skip(Reason.NO_TARGETS, {"level": level})
        tgt = v[f"{measure}_target"]
        v[iid] = (v[measure] / tgt.where(tgt > 0)).astype(float)
    # active_rate over the activity months
    months = [add_months(month, -k) for k in range(s.activity_months - 1, -1, -1)]
    f = am.figures(con, months, level, branch=branch)
    if level == "agent":
        f["in_force"] = ((f["headcount_start"] + f["headcount_end"] + f["recruits"] + f["exits"]) > 0).astype(int)
        f["act"] = ((f["active"] > 0) & (f["in_force"] > 0)).astype(int)
        g = f.groupby("key")[["act", "in_force"]].sum()
        v["active_months"] = v["rep_id"].map(g["act"]).fillna(0).astype(float)
        v["months_in_force"] = v["rep_id"].map(g["in_force"]).fillna(0).astype(float)
    else:
        g = f.groupby("key")[["active", "headcount_avg"]].sum()
        v["active_months"] = v["rep_id"].map(g["active"]).fillna(0).astype(float)
        v["months_in_force"] = v["rep_id"].map(g["headcount_avg"]).fillna(0).astype(float)
    m = v["months_in_force"]
    v["active_rate"] = (v["active_months"] / m.where(m > 0)).astype(float)
    # persistency over the cohorts measured in the persistency months
    if "persistency" in s.weights:
        if not store.has_rows(con, "premium_receipts"):
            skips["persistency"] = Skip(Reason.MISSING_TABLE, {"table": "premium_receipts"})
            v["persistency"] = np.nan
        elif "premium_type" not in store.columns(con, "policies"):
            skips["persistency"] = Skip(Reason.MISSING_COLUMN, {"table": "policies", "column": "premium_type"})
            v["persistency"] = np.nan
        else:
            pm = [add_months(month, -k) for k in range(s.persistency_months - 1, -1, -1)]
            ps = am.persistency(con, pm, 13, level, branch)
            g = ps.groupby("key")[["base", "received"]].sum()
            v["persistency_base"] = v["rep_id"].map(g["base"]).fillna(0.0).astype(float)
            v["persistency_received"] = v["rep_id"].map(g["received"]).fillna(0.0).astype(float)
            b = v["persistency_base"]
            v["persistency"] = (v["persistency_received"] / b.where(b > 0)).astype(float)
            if not v["persistency"].notna().any():
                skips["persistency"] = Skip(Reason.NO_DATA, {})
    v = v[v["rep_id"].isin(keys)].sort_values("rep_id").reset_index(drop=True)
    return v, {i: sk for i, sk in skips.items() if i in s.weights}


def _score(scope: Scope, values: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    cols = ["rep_id", "region", "employed_share", *[i for i in scope.scheme.weights if i in values.columns]]
    out = scoring.score(values[cols], scope.scheme, None, previous)
    attrs = dict(out.attrs)
    extra = [c for c in values.columns if c not in out.columns]
    out = out.merge(values[["rep_id", *extra]], on="rep_id", how="left")
    out.attrs.update(attrs)
    return out


# ------------------------------------------------------------------------------ sections
def _nan(x: Any) -> float:
    try:
        return float("nan") if x is None or pd.isna(x) else float(x)
    except (TypeError, ValueError):
        return float("nan")


def _int(x: Any) -> int | None:
    return None if x is None or pd.isna(x) else int(x)


def _unit(scope: Scope) -> dict[str, str]:
    """The id column's header: the agent or the team."""
    return {"rep_id": "agency.column.agent_id" if scope.level == "agent" else "agency.column.team",
            "region": "agency.column.team"}


@dataclass(kw_only=True)
class Headline(SectionResult):
    """Who leads, how many are scored, which indicators the branch as a whole misses."""

    report = REPORT
    default_code = "headline"
    month: str = ""
    scheme: str = ""
    level: str = "agent"
    weights: dict[str, float] = field(default_factory=dict)
    scored: int = 0
    part_month: int = 0
    leader: dict[str, Any] = field(default_factory=dict)
    median_total: float = float("nan")
    team_misses: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"month": self.month, "period": self.month, "scheme": self.scheme, "level": self.level,
                "weights": dict(self.weights), "scored": self.scored, "part_month": self.part_month,
                "leader": self.leader.get("label"), "leader_id": self.leader.get("rep_id"),
                "leader_total": self.leader.get("total"), "median_total": self.median_total,
                "team_misses": list(self.team_misses)}


def branch_values(scope: Scope) -> pd.DataFrame:
    """The branch's value of each indicator (the scored units' inputs summed) beside its rule:
    indicator, weight, weight_used, rule, target, team_value, reps_meeting, meets, scored."""
    v, s = scope.values, scope.scores
    weights = s.attrs.get("weights", {})

    def ratio(a: str, b: str) -> float:
        if a not in v.columns or b not in v.columns:
            return float("nan")
        den = float(v[b].sum(min_count=1)) if v[b].notna().any() else float("nan")
        return float(v[a].sum()) / den if den and math.isfinite(den) and den > 0 else float("nan")

    val = {"fyc_attainment": ratio("fyc", "fyc_target"), "recruit_attainment": ratio("recruits", "recruits_target"),
           "active_rate": ratio("active_months", "months_in_force"),
           "persistency": ratio("persistency_received", "persistency_base")}
    rows = []
    for ind in scope.scheme.indicators:
        r = ind.rule
        target = r.target if r.kind == "linear" else (r.level if r.kind == "threshold" else float("nan"))
        x = val.get(ind.id, float("nan")) if ind.id in weights else float("nan")
        col = s[ind.id] if ind.id in s.columns else pd.Series(dtype=float)
        meeting = float((col >= target).mean()) if len(col) and math.isfinite(target) and ind.id in weights \
            else float("nan")
        rows.append({"indicator": ind.id, "weight": ind.weight, "weight_used": weights.get(ind.id, 0.0),
                     "rule": r.kind, "target": target, "team_value": x, "reps_meeting": meeting,
                     "meets": (x >= target) if math.isfinite(x) and math.isfinite(target) else None,
                     "scored": ind.id in weights})
    return pd.DataFrame(rows)


def headline(scope: Scope) -> Headline:
    """Section 1: the month's leader, the number scored, the indicators the branch misses."""
    s = scope.scores
    res = Headline(month=scope.period, scheme=scope.scheme.name, level=scope.level,
                   weights=dict(s.attrs.get("weights", {})))
    ranked = s[s["rank"].notna()]
    res.scored, res.part_month = int(len(s)), int(s["part_month"].sum())
    if len(ranked):
        top = ranked.iloc[0]
        name = top.get("name")
        lab = name if isinstance(name, str) and name else top["rep_id"]
        res.leader = {"rep_id": str(top["rep_id"]), "label": str(lab), "total": float(top["total"]),
                      "tied": int((ranked["rank"] == 1).sum())}
        res.median_total = float(ranked["total"].median())
        res.note(f"leader_{scope.level}", name=str(lab), total=float(top["total"]), scored=res.scored,
                 month=scope.period)
    bv = branch_values(scope)
    res.team_misses = [r.indicator for r in bv.itertuples() if r.scored and r.meets is False]
    if res.team_misses:
        res.note("misses", indicators=list(res.team_misses))
    for iid, sk in scope.skips.items():
        res.parts[iid] = sk
    skipped = [i for i in scope.scheme.weights if i not in res.weights]
    if skipped:
        res.note("renormalised", indicators=skipped)
    return res


@dataclass(kw_only=True)
class Scores(SectionResult):
    """The ranking: each unit's points per indicator, total, rank and rank change."""

    report = REPORT
    default_code = "scores"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        out = []
        for r in self.table.to_dict("records"):
            out.append({"id": str(r["rep_id"]), "group": str(r["region"]), "total": _nan(r["total"]),
                        "rank": _int(r.get("rank")), "rank_group": _int(r.get("rank_region")),
                        "rank_change": _int(r.get("rank_change")), "part_month": bool(r.get("part_month", False)),
                        "components": {i: _nan(r.get(f"{i}_points")) for i in self.weights},
                        "values": {i: _nan(r.get(i)) for i in self.weights}})
        return {"scores": out}


def scores(scope: Scope) -> Scores:
    """Section 2: the ranking of the full-month agents (teams), the part-month agents apart."""
    s = scope.scores
    weights = dict(s.attrs.get("weights", {}))
    res = Scores(table=s, weights=weights)
    cols: dict[str, str] = dict(rank="int", rep_id="text", name="text", total="f2")
    if scope.level == "agent":
        cols.update(region="text", rank_region="int")
    cols["rank_change"] = "signed"
    cols.update({f"{i}_points": "f1" for i in weights})
    if scope.level == "team":
        cols.pop("name")
    labels = {f"{i}_points": f"{REPORT}.points.{i}" for i in weights}
    labels.update({k: f"rep_scorecard.column.{k}" for k in ("rank", "total", "rank_change")})
    labels["rank_region"] = f"{REPORT}.column.rank_team"
    labels.update(_unit(scope))
    res.tables.extend(scoring.ranking_tables(s, cols, labels, max_rows=400))
    return res


@dataclass(kw_only=True)
class Indicators(SectionResult):
    """The branch's value of each indicator against its rule, and each unit's values."""

    report = REPORT
    default_code = "indicators"
    branch: pd.DataFrame = field(default_factory=pd.DataFrame)
    skips: dict[str, Skip] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        b = self.branch
        return {"branch_values": {r.indicator: _nan(r.team_value) for r in b.itertuples()} if len(b) else {},
                "skipped_indicators": {k: v.as_dict() for k, v in self.skips.items()}}


def indicators(scope: Scope) -> Indicators:
    """Section 3: the branch's value of every indicator against the rule's target (and the share of
    agents or teams meeting it); the indicators not scored and why; each unit's values."""
    bv = branch_values(scope)
    res = Indicators(branch=bv, skips=dict(scope.skips))
    shown = bv.assign(indicator_code=bv["indicator"])
    res.tables.append(Table.of("branch", shown, title=f"{REPORT}.table.branch",
                               labels={"indicator_code": "rep_scorecard.column.indicator",
                                       "weight": "rep_scorecard.column.weight",
                                       "weight_used": "rep_scorecard.column.weight_used",
                                       "rule": "rep_scorecard.column.rule",
                                       "target": "rep_scorecard.column.rule_target",
                                       "team_value": f"{REPORT}.column.branch_value",
                                       "reps_meeting": f"{REPORT}.column.meeting",
                                       "meets": "rep_scorecard.column.meets"},
                               codes={"indicator_code": f"{REPORT}.indicator", "rule": "rep_scorecard.rule"},
                               indicator_code="code", weight="f1", weight_used="f1", rule="code", target="f2",
                               team_value="rate", meets="flag", reps_meeting="rate"))
    for iid, sk in scope.skips.items():
        res.parts[iid] = sk
    s = scope.scores
    weights = s.attrs.get("weights", {})
    cols: dict[str, str] = dict(rep_id="text", name="text")
    if scope.level == "agent":
        cols["region"] = "text"
    else:
        cols.pop("name")
    cols.update({c: "money" for c in ("fyc", "fyc_target") if "fyc_attainment" in weights})
    cols.update({i: INDICATOR_KINDS[i] for i in weights})
    labels = {i: f"{REPORT}.indicator.{i}" for i in weights}
    labels.update({"fyc": "agency.column.fyc", "fyc_target": f"{REPORT}.column.fyc_target"})
    labels.update(_unit(scope))
    res.tables.append(Table.of("values", s, title=f"{REPORT}.table.values", labels=labels, max_rows=400, **cols))
    return res


def data_window(scope: Scope) -> dict[str, str]:
    """The first and last issue day of the policies."""
    return {"start": scope.first.isoformat(), "end": scope.last.isoformat()}

"""The agency target plan (营业部任务分解): next month's FYC and FYP targets split to teams and agents.

The arithmetic is :mod:`analysis.allocation`'s, unchanged (the sales target plan's): shares from
history by a method (``last_12``, ``same_month``, ``blend``), new agents ramped
(:func:`analysis.allocation.new_rep_ramp`), each level rounded to the unit by the largest
remainder so it sums exactly to the level above (:func:`analysis.allocation.plan_level`,
:func:`analysis.allocation.split_down`).

Definitions (plan month ``P``; docs/AGENCY.md):

- **the roster**: the agents in force on the day before ``P`` (the last month's end), in their
  team of the agents table; with agent-level FYC targets in the store, the producing agents are
  those with one in the last month (managers carry team targets), else every agent in force;
- **history**: each roster agent's FYC (FYP) by issue month, the 24 months before ``P``; a team's
  history is its roster agents' (a target follows the agents, not the team's past members);
- **the branch total** per measure: the ``total_fyc`` / ``total_fyp`` parameter, else the store's
  branch target of ``P`` (``agency_targets``, the sum of the branch rows), else the branch's
  roster history in ``P − 12`` × (1 + ``growth``), rounded to the unit;
- **new agents**: hired on or after the first day of ``P − new_agent_months``; each gets
  ``ramp_share`` × its team's average agent share, the rest of the team's share going to the others
  by theirs.

The result is in the ``agency_targets`` shape (period, level, key, measure, value: branch, team and
agent rows), ready to ingest (``sales-analysis ingest agency_targets``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import allocation as al
from .. import store
from ..errors import InsufficientDataError, MissingTableError, ParameterError
from ..periods import add_months, month_end, parse_month
from ..sections import Reason, SectionResult, Skip, Table
from . import model as am
from .monthly import resolve_report_month

if TYPE_CHECKING:
    from ..params.agency_target_plan import AgencyTargetPlanParams

REPORT = "agency_target_plan"
MEASURES = ("fyc", "fyp")
HISTORY_MONTHS = 24


@dataclass
class Scope:
    """The plan: ``teams`` (team, measure, plan, last_year, last_3_avg, change), ``agents``
    (agent_id, name, team, new, measure, plan, last_year, last_3_avg), ``totals`` (measure →
    (value, source)) and ``targets`` (the agency_targets rows)."""

    con: Any
    params: Any
    month: dt.date
    first: dt.date
    last: dt.date
    roster: pd.DataFrame
    teams: pd.DataFrame = field(default_factory=pd.DataFrame)
    agents: pd.DataFrame = field(default_factory=pd.DataFrame)
    totals: dict[str, tuple[float, str]] = field(default_factory=dict)
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def period(self) -> str:
        return f"{self.month:%Y-%m}"


def plan_month(text: str, first: dt.date, last: dt.date) -> dt.date:
    """The plan month: "next" is the month after the last complete month of the policies; a
    "YYYY-MM" must have at least one month of data before it."""
    if str(text).strip().lower() == "next":
        return add_months(resolve_report_month("last", first, last), 1)
    m = parse_month(text, "month", REPORT)
    if m <= first.replace(day=1):
        raise ParameterError(f"The 'month' parameter of {REPORT} must be a month after the data's first "
                             f"({first:%Y-%m}). Got {text!r} instead.")
    return m


def roster(con: Any, month: dt.date, branch: str | None = None) -> pd.DataFrame:
    """The agents planned for ``month``: agent_id, name, team, hire_date (see the module)."""
    day = month - dt.timedelta(days=1)
    a = am.agents(con, branch)
    r = a.filter(am.in_force_on(a, day)).select("agent_id", "name", "team", "hire_date").execute()
    r["team"] = r["team"].astype(object).where(r["team"].notna(), am.UNATTRIBUTED).astype(str)
    r["hire_date"] = pd.to_datetime(r["hire_date"]).dt.date
    if store.has_rows(con, "agency_targets"):
        t = am.targets(con, [add_months(month, -1)], "agent", branch)
        ids = set(t.loc[t["measure"] == "fyc", "key"])
        if ids:
            r = r[r["agent_id"].isin(ids)]
    return r.sort_values("agent_id").reset_index(drop=True)


def prepare(con: Any, params: AgencyTargetPlanParams | None = None) -> Scope:
    """Make the whole plan (every problem is one error before any section).

    Raises
    ------
    MissingTableError
        Without agents or policies.
    InsufficientDataError
        No history before the plan month, or no agent in force.

    Examples
    --------
    >>> scope = prepare(con, AgencyTargetPlanParams.of(month="2026-11"))  # doctest: +SKIP
    """
    from ..params.agency_target_plan import AgencyTargetPlanParams
    from ..params.base import as_params

    p = as_params(AgencyTargetPlanParams, params, f"{REPORT}.prepare")
    for t in ("agents", "policies"):
        if not store.has_rows(con, t):
            raise MissingTableError(t, REPORT)
    first, last = am.data_window(con)
    month = plan_month(p.month, first, last)
    r = roster(con, month, p.branch)
    if r.empty:
        raise InsufficientDataError(f"No agent is in force on {month - dt.timedelta(days=1)}, so {REPORT} has "
                                    f"nobody to plan for {month:%Y-%m}.")
    scope = Scope(con, p, month, first, last, r)
    months = [add_months(month, -k) for k in range(HISTORY_MONTHS, 0, -1)]
    prod = am.production(con, months, "agent", branch=p.branch)
    prod = prod[prod["key"].isin(set(r["agent_id"]))]
    team_of = r.set_index("agent_id")["team"]
    new = al.new_reps(r.set_index("agent_id")["hire_date"], pd.Period(month, "M"), p.new_agent_months) \
        if p.new_agent_months else []
    pm = pd.Period(month, "M")
    team_rows, agent_rows, target_rows = [], [], []
    for measure in MEASURES:
        hist = pd.DataFrame({"key": prod["key"], "month": [pd.Period(m, "M") for m in prod["month"]],
                             "value": prod[measure].astype(float)})
        total, source = _total(scope, measure, hist)
        sh = al.shares(p.method, hist, pm, list(r["agent_id"]))
        if new:
            sh = al.new_rep_ramp(sh, team_of, new, p.ramp_share)
        team_sh = sh.groupby(team_of.reindex(sh.index).to_numpy()).sum()
        tp = al.plan_level(total, team_sh, p.unit).values
        children = pd.DataFrame({"parent": team_of.reindex(sh.index).to_numpy(), "key": sh.index,
                                 "share": sh.to_numpy()})
        ap = al.split_down(tp, children, p.unit)
        ly, l3 = _beside(hist, pm, r)
        team_ly = ly.groupby(team_of.reindex(ly.index).to_numpy()).sum(min_count=1)
        team_l3 = l3.groupby(team_of.reindex(l3.index).to_numpy()).sum(min_count=1)
        ch = al.plan_changes(tp, team_ly.reindex(tp.index), team_l3.reindex(tp.index))
        team_rows.append(ch.rename(columns={"key": "team"}).assign(measure=measure))
        a = ap.rename(columns={"parent": "team", "key": "agent_id", "value": "plan"})
        a["last_year"] = a["agent_id"].map(ly).astype(float)
        a["last_3_avg"] = a["agent_id"].map(l3).astype(float)
        agent_rows.append(a.assign(measure=measure))
        scope.totals[measure] = (float(total), source)
        target_rows += [(scope.period, "branch", p.branch or "all", measure, float(total))]
        target_rows += [(scope.period, "team", str(k), measure, float(v)) for k, v in tp.items()]
        target_rows += [(scope.period, "agent", str(k), measure, float(v)) for k, v in zip(a["agent_id"], a["plan"])]
    scope.teams = pd.concat(team_rows, ignore_index=True)
    ag = pd.concat(agent_rows, ignore_index=True)
    ag = ag.merge(r[["agent_id", "name", "hire_date"]], on="agent_id", how="left")
    ag["new"] = ag["agent_id"].isin(set(new))
    scope.agents = ag
    scope.targets = pd.DataFrame(target_rows, columns=["period", "level", "key", "measure", "value"])
    return scope


def _beside(hist: pd.DataFrame, pm: pd.Period, roster: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per agent of ``roster``: the same month last year and the average of the last 3 months.

    Every agent of the roster is in force at the end of the month before ``pm``, so one without
    sales in the last 3 months averages 0 (not blank); the same month last year is 0 for an agent
    hired by its end without sales in it, blank (NaN) for one hired after it.
    """
    ids = pd.Index(roster["agent_id"], name="key")
    ly = hist[hist["month"] == pm - 12].groupby("key")["value"].sum().reindex(ids)
    hired = pd.to_datetime(roster.set_index("agent_id")["hire_date"]).reindex(ids)
    ly = ly.where(ly.notna() | ~(hired <= (pm - 12).end_time).to_numpy(), 0.0)
    l3 = hist[(hist["month"] >= pm - 3) & (hist["month"] <= pm - 1)].groupby("key")["value"].sum() / 3.0
    return ly.astype(float), l3.reindex(ids, fill_value=0.0).astype(float)


def _total(scope: Scope, measure: str, hist: pd.DataFrame) -> tuple[float, str]:
    """The branch total of ``measure`` and where it comes from: ``parameter``, ``target`` or
    ``history`` (rounded to the unit)."""
    p = scope.params
    given = getattr(p, f"total_{measure}")
    unit = float(p.unit)
    if given is not None:
        return _round(given, unit), "parameter"
    if store.has_rows(scope.con, "agency_targets"):
        t = am.targets(scope.con, [scope.month], "branch", p.branch)
        t = t[t["measure"] == measure]
        if len(t) and float(t["target"].sum()) > 0:
            return _round(float(t["target"].sum()), unit), "target"
    ly = float(hist.loc[hist["month"] == pd.Period(scope.month, "M") - 12, "value"].sum())
    if not ly > 0:
        raise InsufficientDataError(f"The branch total of {measure} for {scope.period} has no source: no "
                                    f"'total_{measure}' parameter, no branch target in agency_targets and no "
                                    f"{measure} in the same month last year.")
    return _round(ly * (1 + float(p.growth)), unit), "history"


def _round(x: float, unit: float) -> float:
    return float(max(1, round(float(x) / unit)) * unit)


# ------------------------------------------------------------------------------ sections
@dataclass(kw_only=True)
class Overview(SectionResult):
    """The branch totals (FYC, FYP), where they come from, against last year; agents planned."""

    report = REPORT
    default_code = "overview"
    month: str = ""
    totals: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    last_year: dict[str, float] = field(default_factory=dict)
    agents: int = 0
    new_agents: int = 0
    teams: int = 0

    def metrics(self) -> dict[str, Any]:
        return {"period": self.month, "plan_month": self.month, "total_fyc": self.totals.get("fyc"),
                "total_fyp": self.totals.get("fyp"), "total_sources": dict(self.sources),
                "last_year_fyc": self.last_year.get("fyc"), "last_year_fyp": self.last_year.get("fyp"),
                "agents_planned": self.agents, "new_agents": self.new_agents, "teams_planned": self.teams}


def overview(scope: Scope) -> Overview:
    """Section 1: the branch's FYC and FYP plan, their source, last year's same month."""
    res = Overview(month=scope.period, agents=int(len(scope.roster)),
                   new_agents=int(scope.agents.drop_duplicates("agent_id")["new"].sum()),
                   teams=int(scope.roster["team"].nunique()))
    for m, (v, src) in scope.totals.items():
        res.totals[m], res.sources[m] = v, src
        ly = scope.teams.loc[scope.teams["measure"] == m, "last_year"].sum(min_count=1)
        res.last_year[m] = float(ly) if pd.notna(ly) else float("nan")
        extra = {"growth": float(scope.params.growth)} if src == "history" else {}
        res.note(f"total_{src}", measure=m, total=v, month=scope.period, **extra)
    res.note("agents", agents=res.agents, new=res.new_agents, teams=res.teams, ramp=float(scope.params.ramp_share))
    t = pd.DataFrame([{"measure": m, "plan": v, "last_year": res.last_year[m], "source": res.sources[m]}
                      for m, v in res.totals.items()])
    t["change"] = (t["plan"] / t["last_year"].where(t["last_year"] > 0) - 1).astype(float)
    res.tables.append(Table.of("totals", t, labels={"measure": f"{REPORT}.column.measure",
                                                     "plan": f"{REPORT}.column.plan",
                                                     "last_year": f"{REPORT}.column.last_year",
                                                     "change": f"{REPORT}.column.change",
                                                     "source": f"{REPORT}.column.source"},
                               codes={"measure": f"{REPORT}.measure", "source": f"{REPORT}.source"},
                               measure="code", plan="money", last_year="money", change="change", source="code"))
    return res


def _wide(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    w = frame.set_index([*keys, "measure"])[["plan", "last_year", "last_3_avg"]].unstack("measure")
    w.columns = [f"{m}_{v}" for v, m in w.columns]
    return w.reset_index()


@dataclass(kw_only=True)
class TeamPlan(SectionResult):
    """Each team's FYC and FYP plan beside last year and the last 3 months' average."""

    report = REPORT
    default_code = "teams"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        t = self.table
        return {"teams": {str(r["team"]): {"fyc": float(r["fyc_plan"]), "fyp": float(r["fyp_plan"])}
                          for r in t.to_dict("records")} if len(t) else {}}


_PLAN_LABELS = {f"{m}_{v}": f"{REPORT}.column.{m}_{v}" for m in MEASURES for v in ("plan", "last_year", "last_3_avg")}


def teams(scope: Scope) -> TeamPlan:
    """Section 2: the teams' plan (sums exactly to the branch total per measure)."""
    w = _wide(scope.teams, ["team"]).sort_values("team").reset_index(drop=True)
    res = TeamPlan(table=w)
    kinds = {"team": "text", **{c: "money" for c in _PLAN_LABELS if c in w.columns}}
    res.tables.append(Table.of("by_team", w, title=f"{REPORT}.table.by_team",
                               labels={"team": "agency.column.team", **_PLAN_LABELS}, **kinds))
    return res


@dataclass(kw_only=True)
class AgentPlan(SectionResult):
    """Each agent's FYC and FYP plan (new agents flagged)."""

    report = REPORT
    default_code = "agents"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        return {"agents_fyc_total": float(self.table["fyc_plan"].sum()) if len(self.table) else None}


def agents(scope: Scope) -> AgentPlan:
    """Section 3: the agents' plan (within each team, sums exactly to the team's)."""
    w = _wide(scope.agents, ["agent_id", "name", "team", "new"]).sort_values(["team", "agent_id"]).reset_index(drop=True)
    res = AgentPlan(table=w)
    kinds = {"agent_id": "text", "name": "text", "team": "text", "new": "flag",
             **{c: "money" for c in ("fyc_plan", "fyc_last_3_avg", "fyp_plan") if c in w.columns}}
    res.tables.append(Table.of("by_agent", w, title=f"{REPORT}.table.by_agent", max_rows=400,
                               labels={"agent_id": "agency.column.agent_id", "team": "agency.column.team",
                                       "new": f"{REPORT}.column.new", **_PLAN_LABELS}, **kinds))
    return res


def data_window(scope: Scope) -> dict[str, str]:
    """The first and last issue day of the policies."""
    return {"start": scope.first.isoformat(), "end": scope.last.isoformat()}

"""The agency monthly report (营业部月报): the branch's month in the agency's own terms.

:func:`prepare` resolves the month against the policies, reads which optional tables the store
has and computes the branch's monthly figures (:mod:`analysis.agency.model`, in the engine);
one function per section then slices them into a :class:`~analysis.sections.SectionResult`
(numbers and codes only; the sentences are in the catalogues under ``agency_monthly.*``).

Sections: ``headline``; ``manpower`` (期初/期末/平均人力, 增员, 增员率, 脱落); ``activity`` (活动率,
实动率); ``production`` (FYP, FYC, 件数, 件均, 人均FYC, 人均产能 with 同比 and 环比);
``persistency`` (13/25-month, or 14/26 with ``grace``; skipped without premium_receipts);
``attainment`` (against agency_targets and time elapsed, month and year to date; skipped
without targets); ``off_plan`` (teams and agents furthest off plan); ``recruiting`` (the
recruiting tree's output); ``inputs`` (the agent_month features; skipped without them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import store
from ..errors import MissingColumnError, MissingTableError, ParameterError
from ..periods import add_months, month_end, parse_month_text, resolve_month
from ..sections import Column, Kind, Reason, SectionResult, Table
from . import model as am

if TYPE_CHECKING:
    from ..params.agency_monthly import AgencyMonthlyParams

REPORT = "agency_monthly"
MEASURES = ("fyc", "fyp", "recruits")
PRODUCTION = ("fyp", "fyc", "policies", "avg_premium", "fyc_per_head", "fyp_per_active")
PRODUCTION_KINDS = {"fyp": Kind.MONEY, "fyc": Kind.MONEY, "policies": Kind.COUNT, "avg_premium": Kind.MONEY,
                    "fyc_per_head": Kind.MONEY, "fyp_per_active": Kind.MONEY}
#: Columns labelled from the catalogues' ``agency.column.<name>`` (the rest: ``column.<name>``).
AGENCY_COLUMNS = frozenset({
    "headcount_start", "headcount_end", "headcount_avg", "recruits", "recruit_rate", "exits", "exit_rate",
    "active", "active_rate", "qualified", "qualified_rate", "fyp", "fyc", "policies", "avg_premium",
    "fyc_per_head", "fyp_per_active", "team", "agent_id", "persistency_first", "base_first", "persistency_second",
    "base_second", "recruiter_id", "in_force", "recruits_recent", "recruits_in_force", "retention_13",
    "recruits_fyc", "attendance_days", "leads_given", "training_hours", "activities_attended", "allowance",
    "agents", "change", "ytd_actual", "ytd_target", "ytd_attainment", "year_target", "year_progress",
    "year_elapsed", "tenure_months", "fyp_yoy", "fyc_yoy", "eligible_13",
})


def labels(*names: str) -> dict[str, str]:
    """The header labels of ``names`` (agency columns: ``agency.column.<name>``)."""
    return {n: f"agency.column.{n}" for n in names if n in AGENCY_COLUMNS}


def _table(code: str, frame: pd.DataFrame, codes: dict[str, str] | None = None, max_rows: int = 60,
            **kinds: Any) -> Table:
    return Table.of(code, frame, title=f"agency.monthly.table.{code}", labels=labels(*kinds), codes=codes,
                    max_rows=max_rows, **kinds)


# ------------------------------------------------------------------------------ scope
@dataclass
class Scope:
    """What every section needs: the parameters, the month, the data window and the figures.

    ``branch``: the branch's figures over the lookback months and the same month a year before
    (:func:`analysis.agency.model.figures`, key ``all``); ``teams``: the teams' figures of the
    month, the month before and the same month a year before.
    """

    con: Any
    params: Any
    month: dt.date
    first: dt.date
    last: dt.date
    months: list[dt.date]
    branch: pd.DataFrame
    teams: pd.DataFrame
    has: dict[str, bool] = field(default_factory=dict)
    persistency_months: tuple[int, int] = (13, 25)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def previous(self) -> dt.date:
        return add_months(self.month, -1)

    @property
    def last_year(self) -> dt.date:
        return add_months(self.month, -12)


def _params(params: Any = None, **kw: Any) -> Any:
    from ..params.agency_monthly import AgencyMonthlyParams
    from ..params.base import coerce_params

    return coerce_params(AgencyMonthlyParams, params, REPORT, **kw)


def resolve_report_month(text: Any, first: dt.date, last: dt.date) -> dt.date:
    """The report month ``text`` means for policies issued from ``first`` to ``last``; it must lie
    inside the data (else a one-line ParameterError)."""
    month = resolve_month(parse_month_text(text, owner=REPORT), first, last, "daily", owner=REPORT)
    if month_end(month) < first or month > last:
        raise ParameterError(f"The 'month' parameter of {REPORT} must be a month inside the data "
                             f"({first:%Y-%m} … {last:%Y-%m}). Got {text!r} ({month:%Y-%m}) instead.")
    return month


def prepare(con: Any, params: AgencyMonthlyParams | None = None) -> Scope:
    """Resolve the month and compute the branch's and the teams' figures (in the engine).

    Parameters
    ----------
    con : ibis backend
    params : AgencyMonthlyParams, optional
        The report's parameters, validated (``AgencyMonthlyParams.of(month=...)``); None: the defaults.

    Raises
    ------
    MissingTableError
        Without agents or policies (the report needs both).
    ParameterError
        A month outside the data, or a branch the agents table does not have.
    """
    from ..params.agency_monthly import AgencyMonthlyParams
    from ..params.base import as_params

    p = as_params(AgencyMonthlyParams, params, f"{REPORT}.prepare")
    for t in ("agents", "policies"):
        if not store.has_rows(con, t):
            raise MissingTableError(t, REPORT)
    if p.branch is not None:
        known = am.agents(con).select("branch").distinct().execute()["branch"].dropna().astype(str).tolist()
        if p.branch not in known:
            raise ParameterError(f"The 'branch' parameter of {REPORT} must be a branch of the agents table "
                                 f"({', '.join(sorted(known)) or 'none'}). Got {p.branch!r} instead.")
    first, last = am.data_window(con)
    month = resolve_report_month(p.month, first, last)
    months = [add_months(month, -k) for k in range(max(p.lookback_months, 13) - 1, -1, -1)]
    thr = float(p.active_threshold)
    branch = am.figures(con, months, "branch", thr, p.branch)
    teams = am.figures(con, [add_months(month, -12), add_months(month, -1), month], "team", thr, p.branch)
    has = {t: store.has_rows(con, t) for t in ("premium_receipts", "agency_targets", "agent_month")}
    pm = (14, 26) if p.grace else (13, 25)
    return Scope(con, p, month, first, last, months, branch, teams, has, pm)


def data_window(scope: Scope) -> dict[str, str]:
    """The first and last issue day of the policies (metrics.json ``data_window``)."""
    return {"start": scope.first.isoformat(), "end": scope.last.isoformat()}


def _at(df: pd.DataFrame, month: dt.date, key: str = "all") -> pd.Series | None:
    r = df[(df["month"] == month) & (df["key"] == key)]
    return r.iloc[0] if len(r) else None


def _get(row: pd.Series | None, col: str) -> float:
    return float(row[col]) if row is not None and pd.notna(row[col]) else float("nan")


def _change(cur: float, base: float) -> float:
    return cur / base - 1.0 if np.isfinite(cur) and np.isfinite(base) and base != 0 else float("nan")


def _trend(scope: Scope, n: int | None = None) -> pd.DataFrame:
    shown = scope.months[-(n or scope.params.lookback_months):]
    return scope.branch[scope.branch["month"].isin(shown)].reset_index(drop=True)


def _team_frame(scope: Scope, month: dt.date) -> pd.DataFrame:
    t = scope.teams[scope.teams["month"] == month].copy()
    return t.rename(columns={"key": "team"}).sort_values("team").reset_index(drop=True)


# ------------------------------------------------------------------------------ sections
@dataclass(kw_only=True)
class AgencySection(SectionResult):
    """A section of the agency monthly report: its title is ``agency.monthly.section.<code>``."""

    report = REPORT

    @property
    def title_key(self) -> str:
        return f"agency.monthly.section.{self.code}"


@dataclass(kw_only=True)
class Headline(AgencySection):
    """The month at a glance. ``persistency`` and ``fyc_attainment`` are NaN when the store lacks
    premium_receipts or targets."""

    report = REPORT
    default_code = "headline"
    month: str = ""
    headcount_end: float = float("nan")
    recruits: float = float("nan")
    fyp: float = float("nan")
    fyc: float = float("nan")
    fyp_yoy: float = float("nan")
    fyc_yoy: float = float("nan")
    active_rate: float = float("nan")
    persistency: float = float("nan")
    persistency_months: int = 13
    fyc_attainment: float = float("nan")
    elapsed: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"period": self.month, "fyp": self.fyp, "fyc": self.fyc, "fyp_yoy": self.fyp_yoy,
                "fyc_yoy": self.fyc_yoy}


def headline(scope: Scope) -> Headline:
    """期末人力, 增员, FYP, FYC (with 同比), 活动率, the first persistency figure and FYC attainment."""
    cur, ly = _at(scope.branch, scope.month), _at(scope.branch, scope.last_year)
    res = Headline(month=scope.label, headcount_end=_get(cur, "headcount_end"), recruits=_get(cur, "recruits"),
                   fyp=_get(cur, "fyp"), fyc=_get(cur, "fyc"), active_rate=_get(cur, "active_rate"),
                   fyp_yoy=_change(_get(cur, "fyp"), _get(ly, "fyp")),
                   fyc_yoy=_change(_get(cur, "fyc"), _get(ly, "fyc")),
                   persistency_months=scope.persistency_months[0])
    if scope.has["premium_receipts"]:
        try:
            p = am.persistency(scope.con, [scope.month], scope.persistency_months[0], "branch", scope.params.branch)
            res.persistency = _get(_at(p, scope.month), "rate")
        except (MissingColumnError, MissingTableError):
            pass
    if scope.has["agency_targets"]:
        a = am.attainment(scope.con, [scope.month], "branch", scope.params.active_threshold, scope.params.branch,
                          last_day=scope.last)
        r = a[a["measure"] == "fyc"]
        if len(r):
            res.fyc_attainment = float(r["attainment"].iloc[0])
            res.elapsed = float(r["elapsed"].iloc[0])
    return res


@dataclass(kw_only=True)
class Manpower(AgencySection):
    """人力: 期初, 期末, 平均, 增员 (增员率), 脱落 (脱落率) of the month; the trend and the teams."""

    report = REPORT
    default_code = "manpower"
    headcount_start: float = float("nan")
    headcount_end: float = float("nan")
    headcount_avg: float = float("nan")
    recruits: float = float("nan")
    recruit_rate: float = float("nan")
    exits: float = float("nan")
    exit_rate: float = float("nan")
    headcount_end_yoy: float = float("nan")
    recruits_12m: float = float("nan")
    unattributed: bool = False  # policies of agents the agents table does not know (no team)

    def metrics(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("headcount_start", "headcount_end", "headcount_avg", "recruits",
                                              "recruit_rate", "exits", "exit_rate")}


MANPOWER_COLS = ("headcount_start", "headcount_end", "headcount_avg", "recruits", "recruit_rate", "exits", "exit_rate")
MANPOWER_KINDS = {"headcount_start": Kind.COUNT, "headcount_end": Kind.COUNT, "headcount_avg": Kind.F1,
                  "recruits": Kind.COUNT, "recruit_rate": Kind.RATE, "exits": Kind.COUNT, "exit_rate": Kind.RATE}


def manpower(scope: Scope) -> Manpower:
    cur, ly = _at(scope.branch, scope.month), _at(scope.branch, scope.last_year)
    res = Manpower(**{c: _get(cur, c) for c in MANPOWER_COLS})
    res.headcount_end_yoy = _change(_get(cur, "headcount_end"), _get(ly, "headcount_end"))
    res.recruits_12m = float(scope.branch[scope.branch["month"].isin(scope.months[-12:])]["recruits"].sum())
    trend = _trend(scope)
    res.tables.append(_table("manpower_trend", trend, month=Kind.MONTH, **MANPOWER_KINDS))
    teams = _team_frame(scope, scope.month)
    res.tables.append(_table("manpower_teams", teams, codes={"team": "column"}, team=Kind.NAME, **MANPOWER_KINDS))
    res.unattributed = bool((teams["team"] == am.UNATTRIBUTED).any())
    return res


@dataclass(kw_only=True)
class Activity(AgencySection):
    """活动人力 and 活动率 (any FYP), 实动人力 and 实动率 (FYP ≥ the threshold), against last month
    and last year (in percentage points)."""

    report = REPORT
    default_code = "activity"
    threshold: float = float("nan")
    active: float = float("nan")
    active_rate: float = float("nan")
    qualified: float = float("nan")
    qualified_rate: float = float("nan")
    active_rate_mom_pp: float = float("nan")
    active_rate_yoy_pp: float = float("nan")
    qualified_rate_yoy_pp: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"active_threshold": self.threshold, "active": self.active, "active_rate": self.active_rate,
                "qualified": self.qualified, "qualified_rate": self.qualified_rate}


ACTIVITY_KINDS = {"headcount_avg": Kind.F1, "active": Kind.COUNT, "active_rate": Kind.RATE, "qualified": Kind.COUNT,
                  "qualified_rate": Kind.RATE}


def activity(scope: Scope) -> Activity:
    cur, prev, ly = (_at(scope.branch, m) for m in (scope.month, scope.previous, scope.last_year))
    pp = lambda a, b: (a - b) * 100 if np.isfinite(a) and np.isfinite(b) else float("nan")  # noqa: E731
    res = Activity(threshold=float(scope.params.active_threshold), active=_get(cur, "active"),
                   active_rate=_get(cur, "active_rate"), qualified=_get(cur, "qualified"),
                   qualified_rate=_get(cur, "qualified_rate"))
    res.active_rate_mom_pp = pp(res.active_rate, _get(prev, "active_rate"))
    res.active_rate_yoy_pp = pp(res.active_rate, _get(ly, "active_rate"))
    res.qualified_rate_yoy_pp = pp(res.qualified_rate, _get(ly, "qualified_rate"))
    res.tables.append(_table("activity_trend", _trend(scope), month=Kind.MONTH, **ACTIVITY_KINDS))
    res.tables.append(_table("activity_teams", _team_frame(scope, scope.month), codes={"team": "column"},
                             team=Kind.NAME, **ACTIVITY_KINDS))
    return res


@dataclass(kw_only=True)
class Production(AgencySection):
    """FYP, FYC, 件数, 件均, 人均FYC, 人均产能 of the month with 环比 and 同比; trend and teams."""

    report = REPORT
    default_code = "production"
    values: dict = field(default_factory=dict)  # measure -> {current, previous, last_year, mom, yoy}

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for m in PRODUCTION:
            v = self.values.get(m, {})
            out[m] = v.get("current", float("nan"))
            out[f"{m}_mom"] = v.get("mom", float("nan"))
            out[f"{m}_yoy"] = v.get("yoy", float("nan"))
        out.pop("fyp_yoy")  # given by the headline
        out.pop("fyc_yoy")
        out.pop("fyp")
        out.pop("fyc")
        return out


def production(scope: Scope) -> Production:
    cur, prev, ly = (_at(scope.branch, m) for m in (scope.month, scope.previous, scope.last_year))
    res = Production()
    rows = []
    for m in PRODUCTION:
        c, p, y = _get(cur, m), _get(prev, m), _get(ly, m)
        res.values[m] = {"current": c, "previous": p, "last_year": y, "mom": _change(c, p), "yoy": _change(c, y)}
        rows.append({"measure": m, "current": c, "previous": p, "mom": _change(c, p), "last_year": y,
                     "yoy": _change(c, y)})
    summary = pd.DataFrame(rows)
    res.tables.append(Table(
        "production_summary", summary,
        [Column("measure", Kind.CODE, "column.measure", codes="agency.column"),
         Column("current", Kind.INT, "column.current"), Column("previous", Kind.INT, "column.previous"),
         Column("mom", Kind.CHANGE, "column.mom"), Column("last_year", Kind.INT, "column.last_year"),
         Column("yoy", Kind.CHANGE, "column.yoy")], title=f"agency.monthly.table.production_summary"))
    res.tables.append(_table("production_trend", _trend(scope), month=Kind.MONTH, **PRODUCTION_KINDS))
    teams = _team_frame(scope, scope.month)
    ly_t = _team_frame(scope, scope.last_year).set_index("team")
    teams["fyp_yoy"] = [_change(float(f), float(ly_t["fyp"].get(t, np.nan))) for t, f in zip(teams["team"], teams["fyp"])]
    teams["fyc_yoy"] = [_change(float(f), float(ly_t["fyc"].get(t, np.nan))) for t, f in zip(teams["team"], teams["fyc"])]
    res.tables.append(_table("production_teams", teams, codes={"team": "column"}, team=Kind.NAME,
                             **PRODUCTION_KINDS, fyp_yoy=Kind.CHANGE, fyc_yoy=Kind.CHANGE))
    return res


@dataclass(kw_only=True)
class Persistency(AgencySection):
    """Premium persistency: the month's 13- and 25-month figures (or 14/26), the trend, the teams."""

    report = REPORT
    default_code = "persistency"
    months: tuple = (13, 25)
    first: float = float("nan")
    second: float = float("nan")
    first_base: float = float("nan")
    second_base: float = float("nan")
    first_cohort: str = ""
    second_cohort: str = ""
    first_yoy_pp: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"persistency_months": list(self.months), "persistency_first": self.first,
                "persistency_second": self.second}


def persistency(scope: Scope) -> Persistency:
    k1, k2 = scope.persistency_months
    res = Persistency(months=(k1, k2))
    if not scope.has["premium_receipts"]:
        return res.skipped(Reason.MISSING_TABLE, table="premium_receipts")
    if "premium_type" not in store.columns(scope.con, "policies"):
        return res.skipped(Reason.MISSING_COLUMN, table="policies", column="premium_type")
    months = scope.months[-scope.params.lookback_months:]
    ask = sorted(set(months) | {scope.last_year})
    a = am.persistency(scope.con, ask, k1, "branch", scope.params.branch)
    b = am.persistency(scope.con, ask, k2, "branch", scope.params.branch)
    ra, rb = _at(a, scope.month), _at(b, scope.month)
    res.first, res.second = _get(ra, "rate"), _get(rb, "rate")
    res.first_base, res.second_base = _get(ra, "base"), _get(rb, "base")
    res.first_cohort = f"{add_months(scope.month, -(k1 - 1)):%Y-%m}"
    res.second_cohort = f"{add_months(scope.month, -(k2 - 1)):%Y-%m}"
    ly = _get(_at(a, scope.last_year), "rate")
    res.first_yoy_pp = (res.first - ly) * 100 if np.isfinite(res.first) and np.isfinite(ly) else float("nan")
    trend = pd.DataFrame({"month": months})
    trend = trend.merge(a[["month", "rate", "base"]].rename(columns={"rate": "persistency_first",
                                                                     "base": "base_first"}), on="month", how="left")
    trend = trend.merge(b[["month", "rate", "base"]].rename(columns={"rate": "persistency_second",
                                                                     "base": "base_second"}), on="month", how="left")
    lab = {"persistency_first": f"agency.column.persistency_{k1}", "persistency_second": f"agency.column.persistency_{k2}",
           "base_first": f"agency.column.base_{k1}", "base_second": f"agency.column.base_{k2}"}
    kinds = {"persistency_first": Kind.RATE, "base_first": Kind.MONEY, "persistency_second": Kind.RATE,
             "base_second": Kind.MONEY}
    res.tables.append(Table.of("persistency_trend", trend, title=f"agency.monthly.table.persistency_trend",
                               labels=lab, month=Kind.MONTH, **kinds))
    ta = am.persistency(scope.con, [scope.month], k1, "team", scope.params.branch)
    tb = am.persistency(scope.con, [scope.month], k2, "team", scope.params.branch)
    teams = ta[["key", "rate", "base"]].rename(columns={"key": "team", "rate": "persistency_first",
                                                      "base": "base_first"}).merge(
        tb[["key", "rate", "base"]].rename(columns={"key": "team", "rate": "persistency_second", "base": "base_second"}),
        on="team", how="outer").sort_values("team").reset_index(drop=True)
    res.tables.append(Table.of("persistency_teams", teams, title=f"agency.monthly.table.persistency_teams",
                               labels={**lab, "team": "agency.column.team"}, codes={"team": "column"},
                               team=Kind.NAME, **kinds))
    if not np.isfinite(res.first) and not np.isfinite(res.second):
        return res.skipped(Reason.NO_DATA)
    return res


@dataclass(kw_only=True)
class Attainment(AgencySection):
    """Actual against target (FYC, FYP, 增员) for the month and the year to date, with time elapsed."""

    report = REPORT
    default_code = "attainment"
    month_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    elapsed: float = float("nan")
    year_elapsed: float = float("nan")
    last_day: str = ""

    def _att(self, measure: str, col: str = "attainment") -> float:
        if self.month_rows.empty:
            return float("nan")
        r = self.month_rows[self.month_rows["measure"] == measure]
        return float(r[col].iloc[0]) if len(r) and pd.notna(r[col].iloc[0]) else float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"fyc_attainment": self._att("fyc"), "fyp_attainment": self._att("fyp"),
                "recruits_attainment": self._att("recruits"), "time_elapsed": self.elapsed,
                "fyc_ytd_attainment": self._att("fyc", "ytd_attainment"),
                "fyc_year_progress": self._att("fyc", "year_progress"), "year_elapsed": self.year_elapsed}


def _year_elapsed(month: dt.date, last: dt.date) -> float:
    y0, y1 = dt.date(month.year, 1, 1), dt.date(month.year, 12, 31)
    done = (min(month_end(month), last, y1) - y0).days + 1
    return max(0.0, min(1.0, done / ((y1 - y0).days + 1)))


def attainment(scope: Scope) -> Attainment:
    res = Attainment()
    if not scope.has["agency_targets"]:
        return res.skipped(Reason.MISSING_TABLE, table="agency_targets")
    p = scope.params
    year = [dt.date(scope.month.year, m, 1) for m in range(1, 13)]
    ytd = [m for m in year if m <= scope.month]
    a = am.attainment(scope.con, ytd, "branch", p.active_threshold, p.branch, last_day=scope.last)
    cur = a[a["month"] == scope.month]
    if cur.empty:
        return res.skipped(Reason.NO_TARGETS, level="branch")
    tg_year = am.targets(scope.con, year, "branch", p.branch)
    rows = []
    for m in MEASURES:
        c = cur[cur["measure"] == m]
        if c.empty:
            continue
        y = a[a["measure"] == m]
        ty = tg_year[tg_year["measure"] == m]
        ytd_actual, ytd_target = float(y["actual"].sum()), float(y["target"].sum())
        year_target = float(ty["target"].sum()) if ty["month"].nunique() == 12 else float("nan")
        rows.append({"measure": m, "actual": float(c["actual"].iloc[0]), "target": float(c["target"].iloc[0]),
                     "attainment": float(c["attainment"].iloc[0]), "time_elapsed": float(c["elapsed"].iloc[0]),
                     "ytd_actual": ytd_actual, "ytd_target": ytd_target,
                     "ytd_attainment": ytd_actual / ytd_target if ytd_target else float("nan"),
                     "year_target": year_target,
                     "year_progress": ytd_actual / year_target if year_target and np.isfinite(year_target)
                     else float("nan"),
                     "year_elapsed": _year_elapsed(scope.month, scope.last)})
    res.month_rows = pd.DataFrame(rows)
    res.elapsed = float(cur["elapsed"].iloc[0])
    res.year_elapsed = _year_elapsed(scope.month, scope.last)
    res.tables.append(Table(
        "attainment_branch", res.month_rows,
        [Column("measure", Kind.CODE, "column.measure", codes="agency.column"),
         Column("actual", Kind.INT, "column.actual"), Column("target", Kind.INT, "column.target"),
         Column("attainment", Kind.RATE, "column.attainment"), Column("time_elapsed", Kind.RATE, "column.time_elapsed"),
         Column("ytd_actual", Kind.INT, "agency.column.ytd_actual"),
         Column("ytd_target", Kind.INT, "agency.column.ytd_target"),
         Column("ytd_attainment", Kind.RATE, "agency.column.ytd_attainment"),
         Column("year_progress", Kind.RATE, "agency.column.year_progress"),
         Column("year_elapsed", Kind.RATE, "agency.column.year_elapsed")],
        title=f"agency.monthly.table.attainment_branch"))
    teams = am.attainment(scope.con, [scope.month], "team", p.active_threshold, p.branch, last_day=scope.last)
    if len(teams):
        wide = teams.pivot_table(index="key", columns="measure", values="attainment", aggfunc="first")
        wide = wide.reindex(columns=list(MEASURES)).reset_index().rename(columns={"key": "team"})
        wide.columns.name = None
        fyc = teams[teams["measure"] == "fyc"].set_index("key")
        wide["actual"] = wide["team"].map(fyc["actual"])
        wide["target"] = wide["team"].map(fyc["target"])
        res.tables.append(Table(
            "attainment_teams", wide.sort_values("team").reset_index(drop=True),
            [Column("team", Kind.NAME, "agency.column.team", codes="column"),
             Column("actual", Kind.MONEY, "agency.column.fyc_actual"),
             Column("target", Kind.MONEY, "agency.column.fyc_target"),
             Column("fyc", Kind.RATE, "agency.column.fyc_attainment"),
             Column("fyp", Kind.RATE, "agency.column.fyp_attainment"),
             Column("recruits", Kind.RATE, "agency.column.recruits_attainment")],
            title=f"agency.monthly.table.attainment_teams"))
    res.last_day = scope.last.isoformat()
    return res


@dataclass(kw_only=True)
class OffPlan(AgencySection):
    """The teams and the agents furthest off their FYC plan (lowest attainment, then largest gap)."""

    report = REPORT
    default_code = "off_plan"
    teams_below: float = float("nan")
    teams_with_target: float = float("nan")
    agents_below: float = float("nan")
    agents_with_target: float = float("nan")
    worst_teams: list = field(default_factory=list)
    worst_agents: list = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"teams_below_plan": self.teams_below, "agents_below_plan": self.agents_below,
                "agents_with_target": self.agents_with_target}


def off_plan(scope: Scope) -> OffPlan:
    res = OffPlan()
    if not scope.has["agency_targets"]:
        return res.skipped(Reason.MISSING_TABLE, table="agency_targets")
    p = scope.params
    t = am.attainment(scope.con, [scope.month], "team", p.active_threshold, p.branch, last_day=scope.last)
    t = t[t["measure"] == "fyc"]
    a = am.attainment(scope.con, [scope.month], "agent", p.active_threshold, p.branch, last_day=scope.last)
    a = a[a["measure"] == "fyc"]
    if t.empty and a.empty:
        return res.skipped(Reason.NO_TARGETS, level="team")
    order = ["attainment", "gap", "key"]
    t = t.sort_values(order, kind="mergesort").rename(columns={"key": "team"}).reset_index(drop=True)
    res.teams_with_target, res.teams_below = float(len(t)), float((t["attainment"] < 1).sum())
    res.worst_teams = [{"team": r.team, "attainment": float(r.attainment), "gap": float(r.gap)}
                       for r in t.head(3).itertuples() if r.attainment < 1]
    if len(t):
        res.tables.append(Table(
            "off_plan_teams", t,
            [Column("team", Kind.NAME, "agency.column.team", codes="column"),
             Column("actual", Kind.MONEY, "agency.column.fyc_actual"),
             Column("target", Kind.MONEY, "agency.column.fyc_target"),
             Column("attainment", Kind.RATE, "column.attainment"), Column("gap", Kind.MONEY, "column.gap")],
            title=f"agency.monthly.table.off_plan_teams"))
    if len(a):
        who = am.agents(scope.con, p.branch).select("agent_id", "name", "team", "hire_date").execute()
        a = a.merge(who, left_on="key", right_on="agent_id", how="left")
        a["tenure_months"] = [(scope.month.year - h.year) * 12 + scope.month.month - h.month + 1 if pd.notna(h) else np.nan
                              for h in pd.to_datetime(a["hire_date"])]
        a["agent_id"] = a["key"]
        a = a.sort_values(order, kind="mergesort").reset_index(drop=True)
        res.agents_with_target, res.agents_below = float(len(a)), float((a["attainment"] < 1).sum())
        worst = a.head(p.top_n)
        res.worst_agents = [{"agent_id": r.agent_id, "name": r.name if isinstance(r.name, str) else "",
                             "gap": float(r.gap)} for r in worst.head(3).itertuples() if r.attainment < 1]
        res.tables.append(Table(
            "off_plan_agents", worst,
            [Column("agent_id", Kind.TEXT, "agency.column.agent_id"), Column("name", Kind.TEXT, "column.name"),
             Column("team", Kind.NAME, "agency.column.team", codes="column"),
             Column("tenure_months", Kind.INT, "agency.column.tenure_months"),
             Column("actual", Kind.MONEY, "agency.column.fyc_actual"),
             Column("target", Kind.MONEY, "agency.column.fyc_target"),
             Column("attainment", Kind.RATE, "column.attainment"), Column("gap", Kind.MONEY, "column.gap")],
            title=f"agency.monthly.table.off_plan_agents"))
    return res


@dataclass(kw_only=True)
class Recruiting(AgencySection):
    """The recruiting tree's output: who recruited whom in the last 12 months, how many recruits are
    still in force, their 13-month retention and their FYC."""

    report = REPORT
    default_code = "recruiting"
    recruiters: float = float("nan")
    recruits_12m: float = float("nan")
    direct_hires_12m: float = float("nan")
    retention_13: float = float("nan")
    eligible_13: float = float("nan")
    orphans_in_force: float = float("nan")
    top: list = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"recruiters_12m": self.recruiters, "recruits_12m": self.recruits_12m,
                "direct_hires_12m": self.direct_hires_12m, "recruits_retention_13": self.retention_13}


def recruiting(scope: Scope) -> Recruiting:
    res = Recruiting()
    cols = store.columns(scope.con, "agents")
    if "recruiter_id" not in cols:
        return res.skipped(Reason.MISSING_COLUMN, table="agents", column="recruiter_id")
    p = scope.params
    r = am.recruiting(scope.con, scope.month, p.branch, since=scope.first)
    if r.empty:
        return res.skipped(Reason.NO_DATA)
    e, lo = month_end(scope.month), add_months(scope.month, -11)
    ag = am.agents(scope.con, p.branch).select("agent_id", "hire_date", "exit_date", "recruiter_id").execute()
    hire = pd.to_datetime(ag["hire_date"]).dt.date
    recent = (hire >= lo) & (hire <= e)
    res.recruits_12m = float((recent & ag["recruiter_id"].notna()).sum())
    res.direct_hires_12m = float((recent & ag["recruiter_id"].isna()).sum())
    res.recruiters = float((r["recruits_recent"] > 0).sum())
    res.eligible_13 = float(r["eligible_13"].sum())
    res.retention_13 = float(r["retained_13"].sum()) / res.eligible_13 if res.eligible_13 else float("nan")
    # recruits in force whose recruiter has left (orphans)
    ex = pd.to_datetime(ag["exit_date"]).dt.date
    alive = (hire <= e) & (ex.isna() | (ex > e))
    gone = set(ag.loc[~alive, "agent_id"])
    res.orphans_in_force = float((alive & ag["recruiter_id"].isin(gone)).sum())
    top = r[r["recruits_recent"] > 0].head(p.top_n).copy()
    if top.empty:
        top = r.head(p.top_n).copy()
    top["in_force"] = top["in_force"].map(lambda v: bool(v) if pd.notna(v) else False)
    res.top = [{"recruiter_id": x.recruiter_id, "name": x.name if isinstance(x.name, str) else "",
                "recruits": int(x.recruits_recent), "fyc": float(x.recruits_fyc)} for x in top.head(3).itertuples()]
    res.tables.append(Table(
        "recruiters", top,
        [Column("recruiter_id", Kind.TEXT, "agency.column.recruiter_id"), Column("name", Kind.TEXT, "column.name"),
         Column("team", Kind.NAME, "agency.column.team", codes="column"),
         Column("in_force", Kind.FLAG, "agency.column.in_force"),
         Column("recruits_recent", Kind.COUNT, "agency.column.recruits_recent"),
         Column("recruits", Kind.COUNT, "agency.column.recruits_all"),
         Column("recruits_in_force", Kind.COUNT, "agency.column.recruits_in_force"),
         Column("eligible_13", Kind.COUNT, "agency.column.eligible_13"),
         Column("retention_13", Kind.RATE, "agency.column.retention_13"),
         Column("recruits_fyc", Kind.MONEY, "agency.column.recruits_fyc")],
        title=f"agency.monthly.table.recruiters"))
    return res


@dataclass(kw_only=True)
class Inputs(AgencySection):
    """What the branch put in per agent (agent_month): attendance, leads, training, activities,
    allowances; the month and the trend."""

    report = REPORT
    default_code = "inputs"
    attendance_days: float = float("nan")
    leads_given: float = float("nan")
    training_hours: float = float("nan")
    activities_attended: float = float("nan")
    allowance: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"attendance_days": self.attendance_days, "leads_given": self.leads_given,
                "training_hours": self.training_hours, "allowance": self.allowance}


def inputs(scope: Scope) -> Inputs:
    res = Inputs()
    if not scope.has["agent_month"]:
        return res.skipped(Reason.MISSING_TABLE, table="agent_month")
    s = am.agent_month_summary(scope.con, scope.months[-scope.params.lookback_months:], scope.params.branch)
    cur = s[s["month"] == scope.month]
    if cur.empty:
        return res.skipped(Reason.NO_DATA)
    for c in ("attendance_days", "leads_given", "training_hours", "activities_attended", "allowance"):
        setattr(res, c, float(cur[c].iloc[0]) if pd.notna(cur[c].iloc[0]) else float("nan"))
    kinds = {"agents": Kind.COUNT, "attendance_days": Kind.F1, "leads_given": Kind.F1, "training_hours": Kind.F1,
             "activities_attended": Kind.F1, "allowance": Kind.MONEY}
    shown = {k: v for k, v in kinds.items() if s[k].notna().any()}
    res.tables.append(_table("inputs_trend", s, month=Kind.MONTH, **shown))
    return res


SECTIONS = {"headline": headline, "manpower": manpower, "activity": activity, "production": production,
            "persistency": persistency, "attainment": attainment, "off_plan": off_plan, "recruiting": recruiting,
            "inputs": inputs}


def compute(con: Any, params: Any = None, **kw: Any) -> list[SectionResult]:
    """Every section of the report, in order (for tests and headless use); ``params`` a model, a
    dict or None, keyword overrides win."""
    scope = prepare(con, _params(params, **kw))
    return [fn(scope) for fn in SECTIONS.values()]

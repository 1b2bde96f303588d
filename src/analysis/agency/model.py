"""The agency model: a branch's monthly figures, computed in the engine (Ibis).

One definition of every figure of the agency profile (docs/AGENCY.md), used by every agency
report. Everything is an Ibis expression aggregated in the engine; only small frames (one row
per month and group) come back to pandas.

Definitions (month ``M`` from its first day ``s`` to its last day ``e``):

- an agent is **in force** on day ``d`` when ``hire_date <= d`` and (``exit_date`` is NULL or
  ``exit_date > d``): the exit day (解约日期) is the first day out;
- **期初人力** (``headcount_start``): in force on the day before ``s``; **期末人力**
  (``headcount_end``): in force on ``e``; **平均人力** (``headcount_avg``): their mean;
- **增员** (``recruits``): hired in ``M``; **脱落** (``exits``): ``exit_date`` in ``M``; so
  期末 = 期初 + 增员 − 脱落; **增员率** = 增员 ÷ 期初; **脱落率** = 脱落 ÷ 期初;
- **FYP**, **FYC**: the sums over the policies issued in ``M`` (fyp is already net of free-look
  cancellations); **件数** (``policies``): the policies issued in ``M`` that were not cancelled;
  **件均** = FYP ÷ 件数;
- **活动人力** (``active``): agents with FYP > 0 in ``M``; **活动率** = 活动人力 ÷ 平均人力;
  **实动人力** (``qualified``): agents with FYP ≥ the threshold (a parameter, default 5,000 元);
  **实动率** = 实动人力 ÷ 平均人力;
- **人均FYC** = FYC ÷ 平均人力; **人均产能** = FYP ÷ 活动人力;
- **K-month persistency** (K = 13, 25; with a 60-day grace period K = 14, 26): the regular-premium
  policies (``premium_type = 'regular'``, not cancelled) issued in month ``M − (K − 1)``; the
  2nd-year (K = 13, 14) or 3rd-year (K = 25, 26) premium received on or before ``e`` ÷ their
  first-year premium. Single-premium policies are left out.

Groups: ``branch`` (every agent, or those of one branch), ``team``, ``agent``. An agent's team is
the one of ``agents_history`` valid on the day (a policy: its issue day; headcount: the month's last
day) when the store has an informative history with a team, else the agents table's; policies of
agents the table does not know go to :data:`UNATTRIBUTED`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

import ibis
import numpy as np
import pandas as pd

from .. import store
from ..errors import MissingColumnError, MissingTableError, ParameterError
from ..periods import add_months, month_end, month_start

__all__ = ["LEVELS", "UNATTRIBUTED", "ACTIVE_THRESHOLD", "PERSISTENCY", "data_window", "months_between",
           "agents", "policies", "manpower", "production", "figures", "persistency", "targets", "attainment",
           "recruiting", "agent_month_summary", "in_force_on", "elapsed"]

LEVELS = ("branch", "team", "agent")
UNATTRIBUTED = "unattributed"
ACTIVE_THRESHOLD = 5000.0
#: K-month persistency: the policy year it reads, and the months between issue and measurement
PERSISTENCY = {13: 2, 14: 2, 25: 3, 26: 3}
GRACE = {13: 14, 25: 26}


def _check_level(level: str, owner: str) -> str:
    if level not in LEVELS:
        raise ParameterError(f"The 'level' parameter of {owner} must be one of {', '.join(LEVELS)}. "
                             f"Got {level!r} instead.")
    return level


def _date(col: Any) -> Any:
    """A date column as DATE (a timestamp column of some stores is cast)."""
    return col.cast("date") if not col.type().is_date() else col


def data_window(con: Any) -> tuple[dt.date, dt.date]:
    """(first, last) issue day of the policies; raises MissingTableError without policies.

    Examples
    --------
    >>> data_window(con)  # doctest: +SKIP
    (datetime.date(2023, 11, 1), datetime.date(2026, 10, 31))
    """
    if not store.has_rows(con, "policies"):
        raise MissingTableError("policies", "the agency reports")
    p = store.table(con, "policies", "the agency reports", required=("issue_date",))
    r = p.aggregate(first=_date(p.issue_date).min(), last=_date(p.issue_date).max()).execute()
    first, last = r["first"].iloc[0], r["last"].iloc[0]
    conv = lambda v: v.date() if isinstance(v, (pd.Timestamp, dt.datetime)) else v  # noqa: E731
    return conv(first), conv(last)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from ``first``'s to ``last``'s (inclusive).

    Examples
    --------
    >>> [str(m) for m in months_between(dt.date(2026, 11, 15), dt.date(2027, 1, 2))]
    ['2026-11-01', '2026-12-01', '2027-01-01']
    """
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def agents(con: Any, branch: str | None = None) -> Any:
    """The agents table (Ibis) with the columns the model uses: agent_id, name, team, branch,
    hire_date, exit_date, recruiter_id (NULL where the store lacks an optional column)."""
    a = store.table(con, "agents", "the agency reports", required=("agent_id", "hire_date"))
    cols = a.columns
    def opt(name: str, typ: str) -> Any:
        return a[name].cast(typ) if name in cols else ibis.null().cast(typ)
    out = a.select(agent_id=a.agent_id.cast("string"), name=opt("name", "string"), team=opt("team", "string"),
                   branch=opt("branch", "string"), hire_date=_date(a.hire_date),
                   exit_date=_date(a.exit_date) if "exit_date" in cols else ibis.null().cast("date"),
                   recruiter_id=opt("recruiter_id", "string"), rank=opt("rank", "string"))
    if branch is not None:
        out = out.filter(out.branch == branch)
    return out


def _team_history(con: Any) -> Any | None:
    """``agents_history`` as (``_hid``, ``_hteam``, ``_from``, ``_to``) without overlaps, when it says
    anything of the past and has a team column; else None."""
    from .. import model

    if not model.informative_history(con, "agents") or "team" not in store.columns(con, "agents_history"):
        return None
    h = con.table("agents_history")
    h = h.select(_k=h.agent_id.cast("string"), _hteam=h.team.cast("string"), _from=_date(h.valid_from),
                 _to=_date(h.valid_to))
    h = model._non_overlapping(h)
    return h.rename(_hid="_k")


def _team_on(t: Any, h: Any | None, day: Any) -> Any:
    """``t`` with its ``team`` replaced by the history's team valid on ``day`` (a column of ``t``),
    where a version covers the day (else the agents table's team is kept)."""
    if h is None:
        return t
    cond = [t.agent_id == h._hid, h._from.isnull() | (h._from <= day), h._to.isnull() | (day < h._to)]
    j = t.left_join(h, cond)
    return j.mutate(team=j._hteam.fill_null(j.team)).drop("_hid", "_hteam", "_from", "_to")


def policies(con: Any, branch: str | None = None) -> Any:
    """The policies (Ibis) with agent_id, issue_date, month (first day of the issue month), fyp, fyc,
    premium_type, status, counted (not cancelled), team (the agent's; NULL for an unknown agent)."""
    p = store.table(con, "policies", "the agency reports", required=("policy_id", "agent_id", "issue_date", "fyp"))
    cols = p.columns
    status = p.status.cast("string") if "status" in cols else ibis.null().cast("string")
    out = p.select(policy_id=p.policy_id.cast("string"), agent_id=p.agent_id.cast("string"),
                   issue_date=_date(p.issue_date), fyp=p.fyp.cast("float64").fill_null(0.0),
                   fyc=p.fyc.cast("float64").fill_null(0.0) if "fyc" in cols else ibis.literal(0.0),
                   premium_type=p.premium_type.cast("string") if "premium_type" in cols else ibis.null().cast("string"),
                   status=status)
    out = out.mutate(month=out.issue_date.truncate("M"),
                     counted=ibis.ifelse(out.status.fill_null("") == "cancelled", 0, 1))
    if store.has_table(con, "agents"):
        a = agents(con).select(_aid="agent_id", team="team", branch="branch")
        out = out.left_join(a, out.agent_id == a._aid).drop("_aid")
        if branch is not None:
            out = out.filter(out.branch == branch)
        out = _team_on(out, _team_history(con), out.issue_date)
    else:
        out = out.mutate(team=ibis.null().cast("string"), branch=ibis.null().cast("string"))
    return out


def _months_table(months: Sequence[dt.date]) -> Any:
    df = pd.DataFrame({"month": list(months), "m_end": [month_end(m) for m in months],
                       "prev_end": [m - dt.timedelta(days=1) for m in months]})
    return ibis.memtable(df, schema={"month": "date", "m_end": "date", "prev_end": "date"})


def in_force_on(a: Any, day: Any) -> Any:
    """The Ibis predicate: agent row ``a`` in force on ``day`` (a date literal or column)."""
    return (a.hire_date <= day) & (a.exit_date.isnull() | (a.exit_date > day))


def _key(t: Any, level: str) -> Any:
    if level == "branch":
        return ibis.literal("all").name("key")
    col = t.team if level == "team" else t.agent_id
    return col.fill_null(UNATTRIBUTED).name("key")


def manpower(con: Any, months: Sequence[dt.date], level: str = "branch", branch: str | None = None) -> pd.DataFrame:
    """Headcount per month (and group): month, key, headcount_start, headcount_end, recruits, exits.

    Computed in the engine: the agents crossed with the months (one row per agent and month).
    """
    _check_level(level, "manpower")
    a = agents(con, branch)
    m = _months_table(months)
    x = a.cross_join(m)
    if level == "team":
        x = _team_on(x, _team_history(con), x.m_end)
    x = x.mutate(_key=_key(x, level))
    g = x.group_by(month=x.month, key=x._key).aggregate(
        headcount_start=in_force_on(x, x.prev_end).ifelse(1, 0).sum(),
        headcount_end=in_force_on(x, x.m_end).ifelse(1, 0).sum(),
        recruits=((x.hire_date >= x.month) & (x.hire_date <= x.m_end)).ifelse(1, 0).sum(),
        exits=(x.exit_date.notnull() & (x.exit_date >= x.month) & (x.exit_date <= x.m_end)).ifelse(1, 0).sum(),
    )
    out = g.execute()
    return _tidy(out, ["headcount_start", "headcount_end", "recruits", "exits"], int_cols=True)


def _tidy(df: pd.DataFrame, cols: Iterable[str], int_cols: bool = False) -> pd.DataFrame:
    df = df.copy()
    df["month"] = pd.to_datetime(df["month"]).dt.date
    df["key"] = df["key"].astype(str)
    for c in cols:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64" if int_cols else "float64")
    return df.sort_values(["month", "key"]).reset_index(drop=True)


def production(con: Any, months: Sequence[dt.date], level: str = "branch", threshold: float = ACTIVE_THRESHOLD,
               branch: str | None = None) -> pd.DataFrame:
    """Production per month (and group): month, key, fyp, fyc, policies, active, qualified.

    ``active``: agents with FYP > 0 in the month; ``qualified``: FYP ≥ ``threshold``.
    """
    _check_level(level, "production")
    p = policies(con, branch)
    lo, hi = min(months), month_end(max(months))
    p = p.filter((p.issue_date >= ibis.literal(lo)) & (p.issue_date <= ibis.literal(hi)))
    per_agent = p.group_by(month=p.month, agent_id=p.agent_id, team=p.team).aggregate(
        fyp=p.fyp.sum(), fyc=p.fyc.sum(), policies=p.counted.sum())
    k = _key(per_agent, level)
    g = per_agent.group_by(month=per_agent.month, key=k).aggregate(
        fyp=per_agent.fyp.sum(), fyc=per_agent.fyc.sum(), policies=per_agent.policies.sum(),
        active=(per_agent.fyp > 0).ifelse(1, 0).sum(),
        qualified=(per_agent.fyp >= float(threshold)).ifelse(1, 0).sum())
    out = g.execute()
    if out.empty:
        out = pd.DataFrame(columns=["month", "key", "fyp", "fyc", "policies", "active", "qualified"])
    out = _tidy(out, ["fyp", "fyc"])
    for c in ("policies", "active", "qualified"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    return out


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(float), b.astype(float)
    return (a / b.where(b != 0)).astype(float)


def figures(con: Any, months: Sequence[dt.date], level: str = "branch", threshold: float = ACTIVE_THRESHOLD,
            branch: str | None = None) -> pd.DataFrame:
    """Every monthly figure per month and group (one row each), with the rates.

    Columns: month, key, headcount_start, headcount_end, headcount_avg, recruits, recruit_rate,
    exits, exit_rate, active, active_rate, qualified, qualified_rate, fyp, fyc, policies,
    avg_premium (件均), fyc_per_head (人均FYC), fyp_per_active (人均产能). A rate whose
    denominator is 0 is NaN.

    Examples
    --------
    >>> f = figures(con, [dt.date(2026, 10, 1)])  # doctest: +SKIP
    >>> f[["headcount_end", "fyp", "active_rate"]]  # doctest: +SKIP
    """
    hc = manpower(con, months, level, branch)
    pr = production(con, months, level, threshold, branch)
    out = hc.merge(pr, on=["month", "key"], how="outer")
    for c in ("headcount_start", "headcount_end", "recruits", "exits", "policies", "active", "qualified"):
        out[c] = out[c].fillna(0).astype("int64")
    for c in ("fyp", "fyc"):
        out[c] = out[c].fillna(0.0).astype(float)
    out["headcount_avg"] = (out["headcount_start"] + out["headcount_end"]) / 2.0
    out["recruit_rate"] = _ratio(out["recruits"], out["headcount_start"])
    out["exit_rate"] = _ratio(out["exits"], out["headcount_start"])
    out["active_rate"] = _ratio(out["active"], out["headcount_avg"])
    out["qualified_rate"] = _ratio(out["qualified"], out["headcount_avg"])
    out["avg_premium"] = _ratio(out["fyp"], out["policies"])
    out["fyc_per_head"] = _ratio(out["fyc"], out["headcount_avg"])
    out["fyp_per_active"] = _ratio(out["fyp"], out["active"])
    cols = ["month", "key", "headcount_start", "headcount_end", "headcount_avg", "recruits", "recruit_rate", "exits",
            "exit_rate", "active", "active_rate", "qualified", "qualified_rate", "fyp", "fyc", "policies",
            "avg_premium", "fyc_per_head", "fyp_per_active"]
    return out[cols].sort_values(["month", "key"]).reset_index(drop=True)


def persistency(con: Any, months: Sequence[dt.date], k: int = 13, level: str = "branch",
                branch: str | None = None) -> pd.DataFrame:
    """K-month premium persistency per report month (and group).

    Parameters
    ----------
    months : sequence of date
        Report months (first days).
    k : {13, 14, 25, 26}
        13/25: measured at the end of the 13th/25th month counted from the issue month (month 1);
        14/26: one month later, for a 60-day grace period.

    Returns
    -------
    DataFrame
        month, key, cohort (the issue month), base (first-year premium of the cohort's
        regular-premium policies), received (their K-th month premium received by the report
        month's end), rate (received ÷ base; NaN without a base).
    """
    if k not in PERSISTENCY:
        raise ParameterError(f"The 'k' parameter of persistency must be one of 13, 14, 25, 26. Got {k!r} instead.")
    _check_level(level, "persistency")
    year = PERSISTENCY[k]
    r = store.table(con, "premium_receipts", "persistency",
                    required=("policy_id", "policy_year", "amount_received", "received_date"))
    p = policies(con, branch)
    if "premium_type" not in store.columns(con, "policies"):
        raise MissingColumnError("policies", "premium_type", store.columns(con, "policies"))
    p = p.filter((p.premium_type == "regular") & (p.counted == 1))
    cm = pd.DataFrame({"_rmonth": list(months), "_cohort": [add_months(m, -(k - 1)) for m in months],
                       "_m_end": [month_end(m) for m in months]})
    cmt = ibis.memtable(cm, schema={"_rmonth": "date", "_cohort": "date", "_m_end": "date"})
    pc = p.join(cmt, p.month == cmt._cohort)
    pc = pc.mutate(_key=_key(pc, level))
    base = pc.group_by(month=pc._rmonth, key=pc._key).aggregate(base=pc.fyp.sum())
    rr = r.filter(r.policy_year.cast("int64") == year).select(
        _pid=r.policy_id.cast("string"), amount_received=r.amount_received.cast("float64").fill_null(0.0),
        received_date=_date(r.received_date))
    j = pc.join(rr, pc.policy_id == rr._pid)
    j = j.filter(j.received_date.notnull() & (j.received_date <= j._m_end))
    got = j.group_by(month=j._rmonth, key=j._key).aggregate(received=j.amount_received.sum())
    b = base.execute()
    g = got.execute()
    if b.empty:
        b = pd.DataFrame(columns=["month", "key", "base"])
    out = b.merge(g, on=["month", "key"], how="left") if not g.empty else b.assign(received=0.0)
    out = _tidy(out, ["base", "received"]) if len(out) else out.assign(received=[])
    if len(out):
        out["cohort"] = [add_months(m, -(k - 1)) for m in out["month"]]
        out["rate"] = _ratio(out["received"], out["base"])
    else:
        out = pd.DataFrame(columns=["month", "key", "cohort", "base", "received", "rate"])
    return out[["month", "key", "cohort", "base", "received", "rate"]]


def targets(con: Any, months: Sequence[dt.date], level: str = "branch", branch: str | None = None) -> pd.DataFrame:
    """Targets per month, group and measure: month, key, measure, target (the sums of
    ``agency_targets`` rows of the level; the branch level sums its rows, of ``branch`` when given)."""
    _check_level(level, "targets")
    t = store.table(con, "agency_targets", "attainment", required=("period", "level", "key", "measure", "value"))
    t = t.filter((t.level == level) & _date(t.period).isin([ibis.literal(m) for m in months]))
    if level == "branch" and branch is not None:
        t = t.filter(t.key == branch)
    key = ibis.literal("all") if level == "branch" else t.key.cast("string")
    g = t.group_by(month=_date(t.period), key=key, measure=t.measure).aggregate(target=t.value.cast("float64").sum())
    out = g.execute()
    if out.empty:
        return pd.DataFrame(columns=["month", "key", "measure", "target"])
    out["month"] = pd.to_datetime(out["month"]).dt.date
    out["key"] = out["key"].astype(str)
    out["target"] = out["target"].astype(float)
    return out.sort_values(["month", "key", "measure"]).reset_index(drop=True)


def attainment(con: Any, months: Sequence[dt.date], level: str = "branch", threshold: float = ACTIVE_THRESHOLD,
               branch: str | None = None, last_day: dt.date | None = None) -> pd.DataFrame:
    """Actual against target per month, group and measure (fyc, fyp, recruits).

    Columns: month, key, measure, actual, target, attainment (actual ÷ target; NaN without a
    target), gap (actual − target), elapsed (the share of the month's days the data cover:
    1 for a complete month; ``last_day`` is the data's last day, default the policies' last
    issue day).
    """
    tg = targets(con, months, level, branch)
    f = figures(con, months, level, threshold, branch)
    long = f.melt(id_vars=["month", "key"], value_vars=["fyc", "fyp", "recruits"], var_name="measure",
                  value_name="actual")
    out = tg.merge(long, on=["month", "key", "measure"], how="left")
    out["actual"] = out["actual"].fillna(0.0).astype(float)
    out["attainment"] = _ratio(out["actual"], out["target"])
    out["gap"] = out["actual"] - out["target"]
    last = last_day or data_window(con)[1]
    out["elapsed"] = [elapsed(m, last) for m in out["month"]]
    return out[["month", "key", "measure", "actual", "target", "attainment", "gap", "elapsed"]]


def elapsed(month: dt.date, last_day: dt.date) -> float:
    """The share of ``month``'s days on or before ``last_day`` (0 … 1).

    Examples
    --------
    >>> elapsed(dt.date(2026, 10, 1), dt.date(2026, 10, 15)), elapsed(dt.date(2026, 9, 1), dt.date(2026, 10, 15))
    (0.4838709677419355, 1.0)
    """
    end = month_end(month)
    days = (end - month).days + 1
    done = (min(end, last_day) - month).days + 1
    return float(min(max(done, 0), days)) / days


def recruiting(con: Any, month: dt.date, branch: str | None = None, window_months: int = 12,
               since: dt.date | None = None) -> pd.DataFrame:
    """The recruiting tree's output on ``month``: one row per recruiter with recruits.

    Columns: recruiter_id, name, team, in_force (the recruiter on the month's last day), recruits
    (all their recruits), recruits_recent (hired in the ``window_months`` up to the month),
    recruits_in_force (on the month's last day), eligible_13 (recruits hired 13 months or more
    before the month's end), retained_13 (of them, still in force 13 months after hire),
    retention_13 (retained_13 ÷ eligible_13), recruits_fyc (the recruits' FYC over the
    ``window_months`` up to the month), recruits_fyp (likewise).

    ``since``: only recruits hired on or after it count for the 13-month retention (an agents
    export that lists the agents in force during the data window holds only the survivors of
    earlier cohorts; the report passes the data's first day).
    """
    a = agents(con, branch)
    e = month_end(month)
    lo = add_months(month, -(window_months - 1))
    rec = a.filter(a.recruiter_id.notnull())
    rr = rec.mutate(
        recent=((rec.hire_date >= ibis.literal(lo)) & (rec.hire_date <= ibis.literal(e))).ifelse(1, 0),
        alive=in_force_on(rec, ibis.literal(e)).ifelse(1, 0),
        h13=rec.hire_date + ibis.interval(months=13))
    rr = rr.filter(rr.hire_date <= ibis.literal(e))
    ok = rr.h13 <= ibis.literal(e)
    if since is not None:
        ok = ok & (rr.hire_date >= ibis.literal(since))
    rr = rr.mutate(eligible=ok.ifelse(1, 0))
    rr = rr.mutate(kept=(rr.eligible == 1) & (rr.exit_date.isnull() | (rr.exit_date > rr.h13.cast("date"))))
    p = policies(con, branch)
    p = p.filter((p.issue_date >= ibis.literal(lo)) & (p.issue_date <= ibis.literal(e)))
    prod = p.group_by(_aid=p.agent_id).aggregate(fyc=p.fyc.sum(), fyp=p.fyp.sum())
    j = rr.left_join(prod, rr.agent_id == prod._aid)
    g = j.group_by(recruiter_id=j.recruiter_id).aggregate(
        recruits=j.agent_id.count(), recruits_recent=j.recent.sum(), recruits_in_force=j.alive.sum(),
        eligible_13=j.eligible.sum(), retained_13=j.kept.ifelse(1, 0).sum(),
        recruits_fyc=j.fyc.fill_null(0.0).sum(), recruits_fyp=j.fyp.fill_null(0.0).sum())
    out = g.execute()
    who = a.select("agent_id", "name", "team", "hire_date", "exit_date").execute()
    who["in_force"] = [(h <= e) and (pd.isna(x) or x > e) for h, x in
                       zip(pd.to_datetime(who["hire_date"]).dt.date, pd.to_datetime(who["exit_date"]).dt.date)]
    out = out.merge(who[["agent_id", "name", "team", "in_force"]], left_on="recruiter_id", right_on="agent_id",
                    how="left").drop(columns="agent_id")
    for c in ("recruits", "recruits_recent", "recruits_in_force", "eligible_13", "retained_13"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    for c in ("recruits_fyc", "recruits_fyp"):
        out[c] = pd.to_numeric(out[c]).fillna(0.0).astype(float)
    out["retention_13"] = _ratio(out["retained_13"], out["eligible_13"])
    out["in_force"] = out["in_force"].astype("boolean")
    cols = ["recruiter_id", "name", "team", "in_force", "recruits", "recruits_recent", "recruits_in_force",
            "eligible_13", "retained_13", "retention_13", "recruits_fyc", "recruits_fyp"]
    return out[cols].sort_values(["recruits_fyc", "recruiter_id"], ascending=[False, True]).reset_index(drop=True)


def agent_month_summary(con: Any, months: Sequence[dt.date], branch: str | None = None) -> pd.DataFrame:
    """Per month, the agent_month inputs per agent with a row: month, agents, attendance_days,
    leads_given, training_hours, activities_attended (means per agent) and allowance (the total)."""
    t = store.table(con, "agent_month", "the agency inputs", required=("agent_id", "month"))
    cols = t.columns
    t = t.filter(_date(t.month).isin([ibis.literal(m) for m in months]))
    if branch is not None:
        a = agents(con, branch).select(_aid="agent_id")
        t = t.semi_join(a, t.agent_id.cast("string") == a._aid)
    aggs = {"agents": t.agent_id.count()}
    for c in ("attendance_days", "leads_given", "training_hours", "activities_attended"):
        if c in cols:
            aggs[c] = t[c].cast("float64").mean()
    if "allowance" in cols:
        aggs["allowance"] = t.allowance.cast("float64").sum()
    out = t.group_by(month=_date(t.month)).aggregate(**aggs).execute()
    out["month"] = pd.to_datetime(out["month"]).dt.date
    for c in ("attendance_days", "leads_given", "training_hours", "activities_attended", "allowance"):
        if c not in out.columns:
            out[c] = np.nan
        out[c] = out[c].astype(float)
    out["agents"] = out["agents"].astype("int64")
    return out.sort_values("month").reset_index(drop=True)[
        ["month", "agents", "attendance_days", "leads_given", "training_hours", "activities_attended", "allowance"]]

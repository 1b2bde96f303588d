"""The agent-month panel of the agent retention report (新人留存), with every covariate as known
when its month begins.

One row per agent per calendar month in force, from the hire month (or the data's first month)
to the month of the last day in force (or ``as_of``), read from ``agents``, ``policies`` and, when
the store has it, ``agent_month`` (the agency model's tables: :mod:`analysis.agency.model`).

Time scale: **tenure months counted as the agency counts them**, the hire month being month 1
(入司第 k 个月). Month ``k`` of an agent is the interval ``(k − 1, k]``, entered at the share of the
month gone before the hire day (hire month) and left at the share gone at the exit
(``exit_date`` is the first day out, as in :func:`analysis.agency.model.in_force_on`). So every risk
set compares agents in the same tenure month, the steps by which the first year's risk of leaving
moves (months 1–3, 4–6, 7–13) and by which allowances and training change.

Covariates of month ``k`` (``COVARIATE_TIMING`` = "month_start"):

- ``leads_given``: the month's own leads (客户资源 are allocated at the month's start);
- ``allowance``, ``training_hours``, ``activities_attended``, ``attendance_days``: the previous
  calendar month's values (earned during a month: the exit month's own are cut by the exit), via
  :func:`analysis.retention.panel.previous_month_values` (0 in the hire month of an agent hired
  within the data: nothing was earned before the hire; missing in the data's first month);
- ``recruiter_tenure``: the recruiter's tenure in months on the agent's hire day (0 for a direct
  hire, with ``direct_hire`` = 1 as a control, so the slope is estimated among recruited agents);
- ``recruiter_exited``: 1 when the recruiter's ``exit_date`` is on or before the month's first day
  (0 for a direct hire);
- ``early_fyc`` (control, early production): ``log1p`` of the FYC (in thousands of yuan) of the
  agent's policies issued in tenure months 1–3 before the month began (missing for an agent hired
  before the data: those months are not in it);
- ``team`` (control): the agent's team.

Without ``agent_month`` (or one of its columns) the features it gives are left out with a note
(``missing_feature``; ``no_agent_month``); production comes from the policies.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import ibis
import numpy as np
import pandas as pd

from .. import store
from ..errors import InsufficientDataError, MissingTableError
from ..periods import month_start, to_date
from ..retention.panel import previous_month_values
from . import model as agency_model

REPORT = "agent_retention"
#: agent_month's features and whether their month's own value is known at its start
AGENT_MONTH_FEATURES = {"leads_given": True, "allowance": False, "training_hours": False,
                        "activities_attended": False, "attendance_days": False}
RECRUITER_FEATURES = ("recruiter_tenure", "recruiter_exited")
COVARIATE_TIMING = "month_start"
#: months of the first production (early_fyc)
EARLY_MONTHS = 3
#: tenure-month bands within which the correlations and the logistic check compare agents: each
#: month of the first 13 (the year in which most leave and allowances and training change month by
#: month), then month 14 on
TENURE_BANDS = tuple(str(k) for k in range(1, 14)) + ("14+",)


def tenure_band(k: pd.Series) -> pd.Series:
    """The tenure band (:data:`TENURE_BANDS`) of tenure months (1 = the hire month).

    Examples
    --------
    >>> tenure_band(pd.Series([1, 13, 14, 30])).tolist()
    ['1', '13', '14+', '14+']
    """
    k = pd.Series(k).astype(int)
    return pd.Series(np.where(k <= 13, k.astype(str), "14+"), index=k.index)


def window(con: Any, as_of: Any = "") -> tuple[dt.date, dt.date]:
    """(first month, as_of) of the panel: the month of the first policy, and ``as_of`` or the last
    issue day of the policies (:func:`analysis.agency.model.data_window`)."""
    first, last = agency_model.data_window(con)
    as_of_d = to_date(as_of, "as_of", REPORT) or last
    return month_start(first), as_of_d


def agents_frame(con: Any, as_of: dt.date) -> pd.DataFrame:
    """One row per agent (a small frame): agent_id, team, hire_date, exit_date (NULL when after
    ``as_of``: not known then), exit_reason, recruiter_id, and the recruiter's hire and exit dates."""
    if not store.has_rows(con, "agents"):
        raise MissingTableError("agents", REPORT)
    a = agency_model.agents(con)
    t = store.table(con, "agents", REPORT)
    reason = t.select(agent_id=t.agent_id.cast("string"),
                      exit_reason=t.exit_reason.cast("string") if "exit_reason" in t.columns else ibis.null("string"))
    df = a.left_join(reason, "agent_id").select(a.agent_id, a.team, a.hire_date, a.exit_date, a.recruiter_id,
                                                reason.exit_reason).to_pandas()
    for c in ("hire_date", "exit_date"):
        df[c] = pd.to_datetime(df[c])
    late = df["exit_date"] > pd.Timestamp(as_of)
    df.loc[late, ["exit_date", "exit_reason"]] = [pd.NaT, None]
    rec = df.set_index("agent_id")[["hire_date", "exit_date"]]
    df["recruiter_hire"] = df["recruiter_id"].map(rec["hire_date"])
    df["recruiter_exit"] = df["recruiter_id"].map(rec["exit_date"])
    return df


def _month_grid(agents: pd.DataFrame, data_start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Agent × month rows in force (hire month or data start … month of the last day in force)."""
    start = pd.Timestamp(data_start)
    last_in = (agents["exit_date"] - pd.Timedelta(days=1)).fillna(pd.Timestamp(as_of))
    a = agents[(agents["hire_date"] <= pd.Timestamp(as_of)) & (last_in >= start) & (last_in >= agents["hire_date"])]
    first_m = a["hire_date"].dt.to_period("M").dt.to_timestamp().clip(lower=start)
    last_m = last_in.loc[a.index].dt.to_period("M").dt.to_timestamp()
    n = ((last_m.dt.year - first_m.dt.year) * 12 + last_m.dt.month - first_m.dt.month + 1).astype(int)
    g = a.loc[a.index.repeat(n)].copy()
    step = g.groupby(level=0).cumcount().to_numpy()
    g["period"] = [p + pd.DateOffset(months=int(s)) for p, s in zip(first_m.loc[g.index], step)]
    g["period"] = pd.to_datetime(g["period"])
    return g.reset_index(drop=True)


def _production(con: Any) -> pd.DataFrame:
    """FYC per agent and issue month (aggregated in the engine)."""
    p = agency_model.policies(con)
    return p.group_by(["agent_id", "month"]).aggregate(fyc=p.fyc.sum()).to_pandas().assign(
        month=lambda d: pd.to_datetime(d["month"]))


def _agent_month(con: Any) -> tuple[pd.DataFrame | None, list[str]]:
    """agent_month's rows (agent_id, month and the feature columns it has), or None."""
    if not store.has_rows(con, "agent_month"):
        return None, []
    t = store.table(con, "agent_month", REPORT, required=("agent_id", "month"))
    cols = [c for c in AGENT_MONTH_FEATURES if c in t.columns]
    df = t.select(agent_id=t.agent_id.cast("string"), month=t.month.cast("date"),
                  **{c: t[c].cast("float64") for c in cols}).to_pandas()
    df["month"] = pd.to_datetime(df["month"])
    return df, cols


def build_panel(con: Any, as_of: Any = "", cohort_start: Any = "", agents: pd.DataFrame | None = None) -> pd.DataFrame:
    """The agent-month panel (module docstring), covariates as known at each month's start.

    Columns: agent_id, period, team, hire_date, exit_date, exit_reason, recruiter_id,
    tenure_month (1 = the hire month), tenure_band, start, stop, event, the features the store
    gives (``attrs["features"]``), direct_hire, early_fyc, has_previous_month and
    ``own_month_<name>`` for the lagged features. ``attrs``: data_start, as_of,
    missing_features, agent_month (whether the store has it), covariate_timing. ``agents``: the
    store's :func:`agents_frame` at ``as_of`` when the caller has read it already.

    Examples
    --------
    >>> panel = build_panel(con, "2026-10-31")  # doctest: +SKIP
    """
    data_start, as_of_d = window(con, as_of)
    agents = agents_frame(con, as_of_d) if agents is None else agents
    cohort_d = to_date(cohort_start, "cohort_start", REPORT)
    if cohort_d:
        agents = agents[agents["hire_date"] >= pd.Timestamp(cohort_d)]
    g = _month_grid(agents, data_start, as_of_d)
    if g.empty:
        raise InsufficientDataError("No agent was in force between the data start and as_of.")
    nxt = g["period"] + pd.offsets.MonthBegin(1)
    dim = (nxt - g["period"]).dt.days.astype(float)
    hire_m = g["hire_date"].dt.to_period("M").dt.to_timestamp()
    k = ((g["period"].dt.year - hire_m.dt.year) * 12 + g["period"].dt.month - hire_m.dt.month + 1).astype(int)
    g["tenure_month"] = k
    g["tenure_band"] = tenure_band(k)
    first_day = g[["period", "hire_date"]].max(axis=1)
    out_day = pd.concat([nxt, g["exit_date"], pd.Series(pd.Timestamp(as_of_d) + pd.Timedelta(days=1), index=g.index)],
                        axis=1).min(axis=1)
    g["start"] = (k - 1) + (first_day - g["period"]).dt.days / dim
    g["stop"] = (k - 1) + (out_day - g["period"]).dt.days / dim
    g["event"] = g["exit_date"].notna() & (g["exit_date"] <= nxt) & (g["exit_date"] > g["period"])
    # recruiter: tenure on the agent's hire day, exit known at the month's start
    direct = g["recruiter_id"].isna()
    g["direct_hire"] = direct.astype(float)
    rec_days = (g["hire_date"] - g["recruiter_hire"]).dt.days.astype(float) + 1.0
    g["recruiter_tenure"] = np.where(direct, 0.0, rec_days / (365.25 / 12))
    g["recruiter_exited"] = np.where(direct, 0.0, (g["recruiter_exit"].notna() & (g["recruiter_exit"] <= g["period"]))
                                     .astype(float))
    g.loc[~direct & g["recruiter_hire"].isna(), ["recruiter_tenure", "recruiter_exited"]] = np.nan
    # early production: FYC of tenure months 1..3 issued before the month began
    prod = _production(con)
    if not prod.empty:
        pa = prod.merge(agents[["agent_id", "hire_date"]], on="agent_id")
        h = pa["hire_date"].dt.to_period("M").dt.to_timestamp()
        pk = (pa["month"].dt.year - h.dt.year) * 12 + pa["month"].dt.month - h.dt.month + 1
        early = pa[(pk >= 1) & (pk <= EARLY_MONTHS)][["agent_id", "month", "fyc"]]
        e = g[["agent_id", "period"]].reset_index().merge(early, on="agent_id")
        e = e[e["month"] < e["period"]].groupby("index")["fyc"].sum()
        g["early_fyc"] = np.log1p(e.reindex(g.index).fillna(0.0).to_numpy() / 1000.0)
    else:
        g["early_fyc"] = 0.0
    am, cols = _agent_month(con)
    missing = [c for c in AGENT_MONTH_FEATURES if c not in cols]
    if am is not None:
        g = g.merge(am.rename(columns={"month": "period"}), on=["agent_id", "period"], how="left")
    lagged = [c for c in cols if not AGENT_MONTH_FEATURES[c]]
    g = previous_month_values(g, lagged, "agent_id")
    # the hire month of an agent hired within the data: nothing was earned before the hire (0 is known)
    hire_month = (g["tenure_month"] == 1) & (g["hire_date"] >= pd.Timestamp(data_start))
    g.loc[hire_month, lagged] = 0.0
    # early production is known only when the first months are in the data
    g.loc[g["hire_date"] < pd.Timestamp(data_start), "early_fyc"] = np.nan
    g = g.drop(columns=["recruiter_hire", "recruiter_exit"]).reset_index(drop=True)
    g["event"] = g["event"].astype(bool)
    g.attrs.update(data_start=data_start, as_of=as_of_d, missing_features=missing, agent_month=am is not None,
                   covariate_timing=COVARIATE_TIMING)
    return g


def people(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per agent of the panel: person_id, entry, tenure (tenure months), left, hire_date,
    exit_date, team."""
    g = panel.groupby("agent_id", sort=True)
    out = g.agg(entry=("start", "min"), tenure=("stop", "max"), left=("event", "max"), hire_date=("hire_date", "first"),
                exit_date=("exit_date", "first"), team=("team", "last")).reset_index()
    out = out.rename(columns={"agent_id": "person_id"})
    out["left"] = out["left"].astype(bool)
    return out


def features_available(panel: pd.DataFrame, requested: Sequence[str]) -> tuple[list[str], list[str]]:
    """(present, absent) among ``requested``: a feature is present when the panel has a value."""
    have = [f for f in requested if f in panel.columns and panel[f].notna().any()]
    return have, [f for f in requested if f not in have]


__all__ = ["REPORT", "AGENT_MONTH_FEATURES", "RECRUITER_FEATURES", "COVARIATE_TIMING", "EARLY_MONTHS",
           "TENURE_BANDS", "tenure_band", "window", "agents_frame", "build_panel", "people", "features_available"]

"""Incentives vs retention: the data and the figures of the incentive_retention report.

Two inputs give the same person-level frame:

- **store** (``source="store"``): reps (hire/exit dates) + compensation + rep attainment
  (orders ÷ rep targets), turned into a person-month panel through Ibis (orders are
  aggregated in the engine; only rep-month rows come back);
- **snapshot** (``source="snapshot"``): an hr_snapshot table in the store, or a CSV/XLSX/
  Parquet file, one row per person with tenure, a left flag and any covariates.

Definitions (docs/DEMO_WORLD.md):

- attainment(m) = Σ orders.amount of the rep in month m ÷ targets.value(level="rep",
  key=rep_id, measure="amount", period=m);
- team_bonus_share(m) = team_bonus ÷ (individual_bonus + team_bonus), 0 when both are 0;
- payout_delay_days(m) = max(0, paid_date − due_date) in days;
- promoted_last_12m(m) = any promoted in months m-11 … m;
- bonus_per_month(m) = individual_bonus + team_bonus;
- tenure in months = days employed (hire day to the end day, both counted) ÷ (365.25/12);
  a person-month row runs from the tenure at the start of the month (or the hire day) to
  the tenure at its end (or the exit day / as_of); ``event`` = exit in that month.

Covariate timing (metrics.json ``covariate_timing`` = "previous_month"): the models, curves
and bands use, for each month, the values known when it began (:func:`known_at_start`): the
previous month's attainment, pay, training and promotions, and the delay of the last bonus
that fell due before it. The exit month's own figures never explain the exit (sales stop on
the exit day while the month's target does not). Curves of a time-varying feature put each
person-month in the tier of that value (Simon–Makuch), so nobody counts as "promoted" before
the promotion. Every p-value on which the report calls a feature (or attainment) significant,
correlated, different or a driver (adjusted and one-feature Cox models, log-rank tests,
correlations, the logistic check) forms one family, adjusted by Benjamini–Hochberg
(:func:`family_of_tests`, metrics.json ``significant_features``). The correlations and the
logistic check compare like with like: people of the same calendar month (year) and tenure band,
with the values known at each month's start. A month's role is what was known when it began
(:func:`_role_history`).

Headline figures (the same on both paths, on the people employed at any time in the 12
months to ``as_of``, not before the data start): ``people``, ``exits`` (left in those months), ``headcount``
(employed at ``as_of`` = people − exits), ``attrition_rate`` = exits ÷ people, and
``first_year_attrition`` = share who left among the people whose tenure at exit or at
``as_of`` was under 12 months.

Examples
--------
>>> data = load(con, IncentiveRetentionParams())  # doctest: +SKIP
>>> headline(data)["attrition_rate"]  # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import ibis
import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

from . import model, privacy, store
from .errors import (
    InsufficientDataError,
    MissingTableError,
    ParameterError,
    ProportionalHazardsWarning,
    StatsWarning,
)
from .periods import add_months as _add_months
from .periods import month_start as _month_start
from .periods import to_date
from .sections import Column, Figure, Note, Reason, SectionResult, Skip, Table, section_metrics
from .stats import correlation as corr_mod
from .stats import survival as sv
from .stats.proportions import wilson_ci

REPORT = "incentive_retention"

DAYS_PER_MONTH = 365.25 / 12
HEADLINE_MONTHS = 12
PANEL_FEATURES = ("team_bonus_share", "payout_delay_days", "promoted_last_12m", "training_hours",
                  "bonus_per_month", "award")
BOOL_FEATURES = ("promoted_last_12m", "award")
CATEGORICAL_CONTROLS = ("region", "role")

# snapshot column aliases (IBM-style HR exports and Chinese headers)
SNAPSHOT_ALIASES = {
    "person_id": ("person_id", "employeenumber", "employee_number", "employee_id", "emp_id", "id", "员工编号", "工号"),
    "tenure": ("tenure", "yearsatcompany", "years_at_company", "tenure_months", "tenure_years", "司龄", "工龄"),
    "left": ("left", "attrition", "exited", "is_left", "离职", "是否离职"),
}


def _table(con: Any, name: str, required: tuple[str, ...] = ()) -> Any:
    """The Ibis table ``name``; MissingTableError when it is absent or empty."""
    if not store.has_rows(con, name):
        raise MissingTableError(name, "incentive_retention")
    return store.table(con, name, "incentive_retention", required)


# --------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------

def _to_date(value: Any, name: str) -> dt.date | None:
    return to_date(value, name, "incentive_retention")


def _tenure_months(start, end) -> np.ndarray:
    """Months between two date arrays with both days counted ((end − start + 1 day) ÷ 30.44)."""
    days = (pd.to_datetime(end) - pd.to_datetime(start)).dt.days.to_numpy(float) + 1.0
    return days / DAYS_PER_MONTH


# --------------------------------------------------------------------------------------
# the data of a report run
# --------------------------------------------------------------------------------------

@dataclass
class RetentionData:
    """Everything the report sections need, from either source.

    ``people``: one row per person: person_id, entry, tenure (months), left (bool),
    exit_reason, region, role, hire_cohort, the person-level features and controls.
    ``panel``: person-month rows (store source only) with start, stop, event and the
    time-varying features. ``window``: the people of the headline window (12 months to
    ``as_of``) with tenure and left. ``horizon``: one row per person observed over
    ``horizon_months`` (or leaving within it) with ``left_within_horizon`` and the person's
    mean features. ``monthly`` (store only): headcount, hires and exits per month and region.
    """

    source: str
    as_of: dt.date
    data_start: dt.date | None
    people: pd.DataFrame
    window: pd.DataFrame
    horizon: pd.DataFrame
    panel: pd.DataFrame | None
    features: list[str]
    controls: list[str]
    categorical: list[str]
    horizon_months: int
    min_group_size: int
    #: remarks on the data (skipped features or controls, merged levels, the snapshot's outcome)
    notes: list[Note] = field(default_factory=list)
    monthly: pd.DataFrame | None = None

    @property
    def data_window(self) -> dict[str, str | None]:
        return {"start": self.data_start.isoformat() if self.data_start else None, "end": self.as_of.isoformat()}


def _params_get(params: Any, name: str, default: Any) -> Any:
    if params is None:
        return default
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def load(con: Any, params: Any = None) -> RetentionData:
    """Load the report's data from the store (panel) or from a snapshot.

    Parameters
    ----------
    con : Ibis backend or None
        The store (None for a snapshot file; the default store is opened when a snapshot
        table is asked for without a connection).
    params : IncentiveRetentionParams or dict
        source, snapshot, as_of, cohort_start, horizon_months, tenure_unit, features,
        controls, min_group_size (``lang`` plays no part: the data carry no language).

    Examples
    --------
    >>> data = load(con, {"as_of": "2026-10-31"})  # doctest: +SKIP
    """
    from .params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    source = _params_get(params, "source", "store")
    kw = dict(
        as_of=_params_get(params, "as_of", ""),
        cohort_start=_params_get(params, "cohort_start", ""),
        horizon_months=int(_params_get(params, "horizon_months", 12)),
        features=list(_params_get(params, "features", DEFAULT_FEATURES)),
        controls=list(_params_get(params, "controls", DEFAULT_CONTROLS)),
        min_group_size=int(_params_get(params, "min_group_size", 5)),
    )
    if source == "store":
        if con is None:
            con = store.connect(_params_get(params, "store", None), read_only=True)
        return load_panel(con, **kw)
    if source == "snapshot":
        snap = _params_get(params, "snapshot", "")
        if not snap and con is None:
            con = store.connect(_params_get(params, "store", None), read_only=True)
        return load_snapshot(snap or con, tenure_unit=_params_get(params, "tenure_unit", "years"), **kw)
    raise ParameterError(f"The 'source' parameter of retention.load must be 'store' or 'snapshot'. Got {source!r} instead.")


# --------------------------------------------------------------------------------------
# store path: the person-month panel
# --------------------------------------------------------------------------------------

def data_bounds(con: Any) -> tuple[dt.date, dt.date]:
    """(first month, last day) of the data: from compensation periods, else orders, else reps."""
    if store.has_rows(con, "compensation"):
        c = con.table("compensation")
        r = c.aggregate(lo=c.period.min(), hi=c.period.max()).to_pandas().iloc[0]
        lo, hi = pd.Timestamp(r["lo"]).date(), pd.Timestamp(r["hi"]).date()
        return _month_start(lo), _add_months(_month_start(hi), 1) - dt.timedelta(days=1)
    if store.has_rows(con, "orders"):
        o = model.sales_lines(con)
        r = o.aggregate(lo=o.order_date.min(), hi=o.order_date.max()).to_pandas().iloc[0]
        return _month_start(pd.Timestamp(r["lo"]).date()), pd.Timestamp(r["hi"]).date()
    if store.has_rows(con, "reps"):
        t = con.table("reps")
        r = t.aggregate(lo=t.hire_date.min()).to_pandas().iloc[0]
        return _month_start(pd.Timestamp(r["lo"]).date()), dt.date.today()
    raise MissingTableError("reps", "incentive_retention")


def _bool_int(col: Any) -> Any:
    """0/1 from a boolean column, null kept (PostgreSQL cannot cast boolean to smallint)."""
    return ibis.ifelse(col.isnull(), ibis.null("int32"), ibis.ifelse(col, 1, 0))


def _rep_attainment(con: Any, start: dt.date, end: dt.date) -> Any | None:
    """Ibis table rep_id, period, attainment (monthly, in the engine); None without data."""
    if not (store.has_rows(con, "orders") and store.has_rows(con, "targets")):
        return None
    # the analysed sales lines: the rep on the line, else the customer's rep at the sale date
    o = model.sales_lines(con)
    if "rep_id" not in o.columns or "amount" not in o.columns:
        return None
    o = o.filter(o.rep_id.notnull(), o.order_date >= start, o.order_date <= end)
    actual = o.group_by(rep_id=o.rep_id, period=o.order_date.truncate("M")).aggregate(actual=o.amount.sum())
    t = con.table("targets")
    t = t.filter(t.level == "rep", t.measure == "amount").select(
        rep_id=t.key, period=t.period.cast("date"), target=t.value
    )
    # only the months of [start, end]: a target of an earlier month has no orders counted here
    t = t.filter(t.period >= _month_start(start), t.period <= end)
    j = t.left_join(actual, ["rep_id", "period"]).select(
        rep_id=t.rep_id, period=t.period, target=t.target, actual=ibis.coalesce(actual.actual, 0.0)
    )
    return j.mutate(attainment=ibis.ifelse(j.target > 0, j.actual / j.target, ibis.null("float64"))).select(
        "rep_id", "period", "attainment"
    )


def build_panel(con: Any, as_of: Any = "", cohort_start: Any = "") -> pd.DataFrame:
    """Person-month panel from reps, compensation and rep attainment (built through Ibis).

    One row per rep per month from the hire month (or the data start) to the exit month
    (or ``as_of``). Columns: rep_id, period, region, role, hire_date, exit_date,
    exit_reason, start, stop (tenure in months), event (exit in that month), attainment,
    team_bonus_share, payout_delay_days, promoted_last_12m, training_hours,
    bonus_per_month, award, promoted (that month) (features absent from the store are left
    out). ``role`` is the role known at each month's start (see ``_role_history``). A row's
    ``start`` equals the previous row's ``stop`` exactly.

    Parameters
    ----------
    con : Ibis backend
    as_of : date or "YYYY-MM-DD" or ""
        End of observation ("" = the end of the data). Exits after it count as stays.
    cohort_start : date or ""
        Keep only reps hired on or after this day.

    Examples
    --------
    >>> panel = build_panel(con, "2026-10-31")  # doctest: +SKIP
    """
    data_start, data_end = data_bounds(con)
    as_of_d = _to_date(as_of, "as_of") or data_end
    cohort_d = _to_date(cohort_start, "cohort_start")
    reps = _table(con, "reps", required=("rep_id", "hire_date"))
    cols = reps.columns
    null_date = ibis.null("date")
    r = reps.select(
        rep_id=reps.rep_id,
        hire_date=reps.hire_date.cast("date"),
        exit_date=reps.exit_date.cast("date") if "exit_date" in cols else null_date,
        exit_reason=reps.exit_reason if "exit_reason" in cols else ibis.null("string"),
        region=reps.region if "region" in cols else ibis.null("string"),
        role=reps.role if "role" in cols else ibis.null("string"),
    )
    # exits after as_of are not known at as_of
    r = r.mutate(exit_date=ibis.ifelse(r.exit_date > as_of_d, null_date, r.exit_date))
    r = r.mutate(exit_reason=ibis.ifelse(r.exit_date.isnull(), ibis.null("string"), r.exit_reason))
    r = r.filter(r.hire_date <= as_of_d, r.exit_date.isnull() | (r.exit_date >= data_start))
    if cohort_d:
        r = r.filter(r.hire_date >= cohort_d)
    months = pd.date_range(data_start, _month_start(as_of_d), freq="MS")
    grid = ibis.memtable(pd.DataFrame({"period": months.date}), schema={"period": "date"})
    g = r.cross_join(grid)
    g = g.filter(
        g.period >= g.hire_date.truncate("M"),
        g.exit_date.isnull() | (g.period <= g.exit_date.truncate("M")),
    )
    if store.has_rows(con, "compensation"):
        c = con.table("compensation")
        ccols = c.columns
        num = lambda name: (c[name].cast("float64") if name in ccols else ibis.null("float64"))  # noqa: E731
        ind, team = num("individual_bonus"), num("team_bonus")
        delay_days = (
            c.paid_date.cast("date").delta(c.due_date.cast("date"), unit="day").cast("float64")
            if {"paid_date", "due_date"} <= set(ccols) else ibis.null("float64")
        )
        comp = c.select(
            rep_id=c.rep_id,
            period=c.period.cast("date"),
            team_bonus_share=ibis.ifelse((ind + team) > 0, team / (ind + team), 0.0)
            if {"individual_bonus", "team_bonus"} <= set(ccols) else ibis.null("float64"),
            payout_delay_days=ibis.greatest(delay_days, 0.0),
            training_hours=num("training_hours"),
            bonus_per_month=(ind + team) if {"individual_bonus", "team_bonus"} <= set(ccols) else ibis.null("float64"),
            promoted_int=_bool_int(c.promoted) if "promoted" in ccols else ibis.null("int32"),
            award_int=_bool_int(c.award) if "award" in ccols else ibis.null("int32"),
            due_date=c.due_date.cast("date") if "due_date" in ccols else ibis.null("date"),
            paid_date=c.paid_date.cast("date") if "paid_date" in ccols else ibis.null("date"),
        )
        g = g.left_join(comp, ["rep_id", "period"]).drop("rep_id_right", "period_right")
        w = ibis.window(group_by="rep_id", order_by="period", preceding=11, following=0)
        g = g.mutate(promoted_last_12m=g.promoted_int.max().over(w), award=g.award_int)
        g = g.mutate(promoted=g.promoted_int).drop("promoted_int", "award_int")
        present = {"team_bonus_share": {"individual_bonus", "team_bonus"}, "bonus_per_month": {"individual_bonus", "team_bonus"},
                   "payout_delay_days": {"paid_date", "due_date"}, "training_hours": {"training_hours"},
                   "promoted_last_12m": {"promoted"}, "award": {"award"}}
        missing = [f for f, need in present.items() if not need <= set(ccols)]
    else:
        missing = list(PANEL_FEATURES)
    att = _rep_attainment(con, data_start, as_of_d)
    if att is not None:
        g = g.left_join(att, ["rep_id", "period"]).drop("rep_id_right", "period_right")
    df = g.to_pandas()
    if df.empty:
        raise InsufficientDataError("No rep was employed between the data start and as_of.")
    df = df.drop(columns=[c for c in missing if c in df.columns])
    df["period"] = pd.to_datetime(df["period"])
    for c in ("hire_date", "exit_date", "due_date", "paid_date"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    nxt = df["period"] + pd.offsets.MonthBegin(1)
    row_start = df[["period", "hire_date"]].max(axis=1)
    end = pd.concat([nxt - pd.Timedelta(days=1), df["exit_date"], pd.Series(pd.Timestamp(as_of_d), index=df.index)],
                    axis=1).min(axis=1)
    # tenure in whole days first: a row's start is then exactly the previous row's stop (the
    # same number of days divided the same way), so the intervals of a rep join without a gap
    # or an overlap of a float's hair (which splits or reorders tied event times)
    df["start"] = (row_start - df["hire_date"]).dt.days.to_numpy(float) / DAYS_PER_MONTH
    df["stop"] = _tenure_months(df["hire_date"], end)
    df["event"] = df["exit_date"].notna() & (df["exit_date"] < nxt) & (df["exit_date"] >= df["period"])
    for b in BOOL_FEATURES + ("promoted",):
        if b in df.columns:
            df[b] = df[b].astype("float64")
    df = _role_history(df, _reps_history(con))
    df = df.sort_values(["rep_id", "period"]).reset_index(drop=True)
    # consecutive months of a rep: the start is the previous stop, exactly
    prev_stop = df.groupby("rep_id")["stop"].shift(1)
    adjacent = df.groupby("rep_id")["period"].shift(1) == df["period"] - pd.offsets.MonthBegin(1)
    df["start"] = prev_stop.where(adjacent, df["start"])
    df.attrs.update(data_start=data_start, as_of=as_of_d, missing_features=missing)
    return df


#: the role of a month of a rep hired before the data when no record says which role they held then
#: (label ``incentive_retention.value.role_not_recorded``)
ROLE_NOT_RECORDED = "role_not_recorded"


def _reps_history(con: Any) -> pd.DataFrame | None:
    """rep_id, role, valid_from, valid_to of the store's ``reps_history`` (None without one)."""
    from . import model

    # open versions only (what a first reps load writes) are today's roles, not the roles at each
    # month's start: no history (the model's rule, analysis.model.informative_history)
    if not model.informative_history(con, "reps"):
        return None
    h = con.table("reps_history")
    if not {"rep_id", "role"} <= set(h.columns):
        return None
    return h.select(h.rep_id, h.role, valid_from=h.valid_from.cast("date"), valid_to=h.valid_to.cast("date")).to_pandas()


def _role_history(df: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Make ``role`` time-varying, each month's role from what was known when the month began.

    ``reps.role`` is the role *now*: read back into the past it is a later event (a rep who
    survived long enough to be promoted shows the new role for the months before it, and a rep
    relabelled from a later promotion shows the old one: immortal time either way). So:

    - with a role history (``reps_history``: ``valid_from`` inclusive, NULL = since before the
      data; ``valid_to`` exclusive), a month's role is the version valid on its first day (the
      hire day for the hire month);
    - otherwise a rep hired inside the data holds the entry role (the most common current role
      of the reps hired inside the data) from the hire, and ``reps.role`` from the month of the
      first promotion in the data on; a rep hired before the data holds "role not recorded"
      (``ROLE_NOT_RECORDED``) until the first promotion in the data, then ``reps.role``.

    No month's role depends on anything after it: a later promotion never relabels an earlier
    month, and two reps alike up to a month have the same role in it.
    """
    if "role" not in df.columns or df["role"].isna().all():
        return df
    df = df.copy()
    data_start = df["period"].min()
    promoted = df["promoted"] > 0 if "promoted" in df.columns else pd.Series(False, index=df.index)
    promo_month = df["period"].where(promoted).groupby(df["rep_id"]).transform("min")
    after_promo = promo_month.notna() & (df["period"] >= promo_month)
    hired_inside = df["hire_date"] >= data_start
    new_hires = df.loc[hired_inside].drop_duplicates("rep_id")["role"].dropna()
    entry = new_hires.mode()
    start_role = pd.Series(ROLE_NOT_RECORDED, index=df.index, dtype=object)
    if not entry.empty:
        start_role[hired_inside] = entry.iloc[0]
    role = df["role"].astype(object).where(after_promo, start_role)
    role = role.where(df["role"].notna())
    if history is not None and not history.empty:
        day = df[["period", "hire_date"]].max(axis=1)
        h = history.dropna(subset=["role"])
        h = h.assign(valid_from=pd.to_datetime(h["valid_from"]), valid_to=pd.to_datetime(h["valid_to"]))
        m = df[["rep_id"]].assign(day=day, _row=np.arange(len(df))).merge(h, on="rep_id", how="inner")
        ok = (m["valid_from"].isna() | (m["valid_from"] <= m["day"])) & (m["valid_to"].isna() | (m["day"] < m["valid_to"]))
        m = m[ok].sort_values(["_row", "valid_from"], na_position="first").drop_duplicates("_row", keep="last")
        known = pd.Series(m["role"].to_numpy(object), index=df.index[m["_row"].to_numpy()])
        role = known.reindex(df.index).where(lambda s: s.notna(), role)
    df["role"] = role
    return df


#: how the covariates of a risk interval are timed (metrics.json ``covariate_timing``)
COVARIATE_TIMING = "previous_month"
TIME_VARYING = PANEL_FEATURES + ("attainment",)


def known_at_start(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with every time-varying covariate of a month's row replaced by the value
    known when that month begins, so no covariate describes the interval it is meant to
    explain (sales stop on the exit day while the month's target does not, so the exit
    month's own attainment falls with the exit itself).

    - attainment, team_bonus_share, bonus_per_month, training_hours, award,
      promoted_last_12m (promotions in months m-12 … m-1) and role: the rep's row of the
      previous calendar month (m-1);
    - payout_delay_days: days late of the most recent bonus that fell due before month m
      began (for a bonus paid on the 10th of the next month: the bonus of m-2), counted up to
      the start of m when it was still unpaid then (0 for a rep hired within the data
      before any bonus fell due).

    Rows without a previous month (the hire month, the first month of the data) keep a missing
    value (models leave them out); role falls back to the month's own. The month's own values
    are kept in ``own_month_<name>`` columns; ``has_previous_month`` marks the rows with a
    previous month. ``attrs["covariate_timing"]`` = ``"previous_month"``.

    Examples
    --------
    >>> p = known_at_start(build_panel(con))  # doctest: +SKIP
    """
    df = panel.sort_values(["rep_id", "period"]).copy()
    prev_period = df.groupby("rep_id")["period"].shift(1)
    has_prev = prev_period.notna() & (prev_period == df["period"] - pd.offsets.MonthBegin(1))
    cols = [c for c in TIME_VARYING if c in df.columns and c != "payout_delay_days"]
    for c in cols:
        df[f"own_month_{c}"] = df[c]
        df[c] = df.groupby("rep_id")[c].shift(1).where(has_prev)
    if "role" in df.columns:
        df["own_month_role"] = df["role"]
        df["role"] = df.groupby("rep_id")["role"].shift(1).where(has_prev).fillna(df["own_month_role"])
    if "payout_delay_days" in df.columns:
        df["own_month_payout_delay_days"] = df["payout_delay_days"]
        df["payout_delay_days"] = _delay_known_at(df)
    df["has_previous_month"] = has_prev
    df.attrs.update(panel.attrs)
    df.attrs["covariate_timing"] = COVARIATE_TIMING
    return df.reset_index(drop=True) if df.index.is_unique else df


def _delay_known_at(df: pd.DataFrame) -> pd.Series:
    """Days late, as known at each row's month start, of the rep's latest bonus due before it."""
    out = pd.Series(np.nan, index=df.index)
    if not {"due_date", "paid_date"} <= set(df.columns):
        return out
    bills = df.loc[df["due_date"].notna(), ["rep_id", "due_date", "paid_date"]].sort_values("due_date")
    if bills.empty:
        return out
    left = df[["rep_id", "period"]].reset_index().sort_values("period")
    m = pd.merge_asof(left, bills, left_on="period", right_on="due_date", by="rep_id",
                      allow_exact_matches=False, direction="backward")
    paid_by_start = m["paid_date"].where(m["paid_date"].notna() & (m["paid_date"] < m["period"]), m["period"])
    days = (paid_by_start - m["due_date"]).dt.days.astype(float).clip(lower=0)
    # no bonus due yet: for a rep hired within the data nothing has been late (0 is known);
    # for a rep hired before the data the earlier bonuses are not in it (unknown)
    hired_inside = (df.loc[m["index"], "hire_date"] >= df["period"].min()).to_numpy()
    days = np.where(m["due_date"].isna() & hired_inside, 0.0, days)
    out.loc[m["index"].to_numpy()] = days
    return out


def _person_level(panel: pd.DataFrame, features: Sequence[str], numeric_controls: Sequence[str]) -> pd.DataFrame:
    g = panel.groupby("rep_id", sort=True)
    agg: dict[str, Any] = {
        "entry": ("start", "min"), "tenure": ("stop", "max"), "left": ("event", "max"),
        "hire_date": ("hire_date", "first"), "exit_date": ("exit_date", "first"),
        "exit_reason": ("exit_reason", "first"), "region": ("region", "last"), "role": ("role", "last"),
        "months": ("period", "size"),
    }
    for f in list(features) + list(numeric_controls):
        if f in panel.columns and f not in agg:
            agg[f] = (f, "max" if f in BOOL_FEATURES else "mean")
    out = g.agg(**agg).reset_index().rename(columns={"rep_id": "person_id"})
    out["left"] = out["left"].astype(bool)
    out["hire_cohort"] = pd.to_datetime(out["hire_date"]).dt.year.astype("Int64").astype(str)
    return out


def _horizon_frame(panel: pd.DataFrame, horizon: int, features: Sequence[str], numeric_controls: Sequence[str],
                   as_of: dt.date) -> pd.DataFrame:
    """Person-level frame for "left within ``horizon`` months of the start of observation".

    Observation starts at a person's first panel month; people neither leaving within the
    horizon nor observed through its end (recent hires) are left out. Numeric features are
    the person's averages of the months' own values over the horizon window, the exit month
    excluded (its attainment and pay fall with the exit itself). Event features
    (promoted_last_12m, award) are left out: a person-level "ever within the horizon" gives
    those who stay longer more chances (immortal time); the curves and the Cox model measure
    them month by month. ``role`` is the role at the start of the window.
    """
    p = panel.copy()
    first = p.groupby("rep_id")["period"].transform("min")
    k = (p["period"].dt.year - first.dt.year) * 12 + (p["period"].dt.month - first.dt.month)
    p = p[k < horizon]
    last_needed = first + pd.DateOffset(months=horizon)  # the first month after the window
    full = (last_needed - pd.Timedelta(days=1)) <= pd.Timestamp(as_of)
    p = p.assign(_full=full.loc[p.index])
    agg: dict[str, Any] = {"left_within_horizon": ("event", "max"), "_full": ("_full", "first"),
                           "region": ("region", "last"), "role": ("role", "first")}
    before_exit = p[~p["event"].astype(bool)]
    h = p.groupby("rep_id").agg(**agg)
    for f in list(features) + list(numeric_controls):
        if f in BOOL_FEATURES:
            continue
        col = f"own_month_{f}" if f"own_month_{f}" in p.columns else f
        if col in p.columns:
            h[f] = before_exit.groupby("rep_id")[col].mean().reindex(h.index)
    h = h.reset_index().rename(columns={"rep_id": "person_id"})
    h = h[h["left_within_horizon"].astype(bool) | h["_full"]].drop(columns="_full")
    h["left_within_horizon"] = h["left_within_horizon"].astype(float)
    return h.reset_index(drop=True)


def headline_window_start(as_of: dt.date, data_start: dt.date | None, months: int = HEADLINE_MONTHS) -> dt.date:
    """First day of the headline window: ``months`` before as_of, not before the data start."""
    w = (pd.Timestamp(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()
    return max(w, data_start) if data_start else w


def _window_from_panel(panel: pd.DataFrame, as_of: dt.date, data_start: dt.date) -> pd.DataFrame:
    """People employed at any time in the 12 months to as_of, from the panel rows."""
    w_start = pd.Timestamp(headline_window_start(as_of, data_start))
    in_window = panel[(panel["period"] + pd.offsets.MonthBegin(1) > w_start)]
    # a person leaving before the window start within the window's first month is not in it
    in_window = in_window[in_window["exit_date"].isna() | (in_window["exit_date"] >= w_start)]
    g = in_window.groupby("rep_id")
    w = g.agg(tenure=("stop", "max"), left=("event", "max")).reset_index().rename(columns={"rep_id": "person_id"})
    w["left"] = w["left"].astype(bool)
    return w


def _lump_small_levels(df: pd.DataFrame, cols: Sequence[str], id_col: str, k: int, notes: list[Note]) -> pd.DataFrame:
    """Merge levels of categorical controls held by fewer than ``k`` distinct people into
    "other", so no model term describes a group below the minimum size."""
    df = df.copy()
    for c in cols:
        if c not in df.columns:
            continue
        n = df.groupby(c)[id_col].nunique()
        small = n[n < k].index.tolist()
        if small:
            df[c] = df[c].where(~df[c].isin(small), "other")
            notes.append(Note("merged", {"control": c, "levels": len(small), "min_group_size": k}))
    return df


def _resolve(requested: Sequence[str], available: Sequence[str], kind: str, notes: list[Note]) -> list[str]:
    out = []
    for name in requested:
        if name in available:
            out.append(name)
        else:
            notes.append(Note(f"missing_{kind}", {"name": name}))
    return out


def load_panel(con: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
               features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
               min_group_size: int = 5) -> RetentionData:
    """Report data from the store: panel, people, horizon frame and headline window.

    Examples
    --------
    >>> data = load_panel(con, "2026-10-31")  # doctest: +SKIP
    """
    from .params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    panel = known_at_start(build_panel(con, as_of, cohort_start))
    notes: list[Note] = []
    avail = [c for c in panel.columns if panel[c].notna().any() and not c.startswith("own_month_")]
    feats = _resolve(features if features is not None else DEFAULT_FEATURES, avail, "feature", notes)
    ctrls = _resolve(controls if controls is not None else DEFAULT_CONTROLS, avail, "control", notes)
    categorical = [c for c in ctrls if c in CATEGORICAL_CONTROLS or is_string_dtype(panel[c])]
    numeric_ctrls = [c for c in ctrls if c not in categorical]
    as_of_d = panel.attrs["as_of"]
    attrs = dict(panel.attrs)
    panel = _lump_small_levels(panel, categorical, "rep_id", min_group_size, notes)
    panel.attrs.update(attrs)
    people = _person_level(panel, feats, numeric_ctrls)
    horizon = _horizon_frame(panel, horizon_months, feats, numeric_ctrls, as_of_d)
    window = _window_from_panel(panel, as_of_d, panel.attrs["data_start"])
    monthly = _monthly(panel)
    return RetentionData(
        source="store", as_of=as_of_d, data_start=panel.attrs["data_start"], people=people, window=window,
        horizon=horizon, panel=panel, features=feats, controls=ctrls, categorical=categorical,
        horizon_months=horizon_months, min_group_size=min_group_size, notes=notes, monthly=monthly,
    )


def _monthly(panel: pd.DataFrame) -> pd.DataFrame:
    """Headcount at month start-ish (people with a row), hires and exits per month and region."""
    p = panel.assign(hired=(panel["hire_date"] >= panel["period"]) & (panel["hire_date"] < panel["period"] + pd.offsets.MonthBegin(1)))
    return p.groupby(["period", "region"], dropna=False).agg(
        headcount=("rep_id", "nunique"), hires=("hired", "sum"), exits=("event", "sum")
    ).reset_index()


# --------------------------------------------------------------------------------------
# snapshot path
# --------------------------------------------------------------------------------------

def snapshot_from_store(con: Any, as_of: Any = "", window_months: int = HEADLINE_MONTHS) -> pd.DataFrame:
    """An hr_snapshot (one row per person) derived from the store's reps and compensation.

    Computed independently of the panel, from reps directly in the engine: the people
    employed at any time in the ``window_months`` to ``as_of``; ``tenure`` in months
    (hire day to exit day or as_of, both counted), ``left`` (exit in the window),
    region, role, and the person's mean features over the window months before the exit
    month (the exit month's attainment and pay fall with the exit itself).

    Examples
    --------
    >>> snap = snapshot_from_store(con, "2026-10-31")  # doctest: +SKIP
    >>> snap.columns[:3].tolist()  # doctest: +SKIP
    ['person_id', 'tenure', 'left']
    """
    data_start, data_end = data_bounds(con)
    as_of_d = _to_date(as_of, "as_of") or data_end
    w_start = headline_window_start(as_of_d, data_start, window_months)
    reps = _table(con, "reps", required=("rep_id", "hire_date"))
    ex = reps.exit_date.cast("date") if "exit_date" in reps.columns else ibis.null("date")
    r = reps.mutate(_exit=ibis.ifelse(ex > as_of_d, ibis.null("date"), ex), _hire=reps.hire_date.cast("date"))
    r = r.filter(r._hire <= as_of_d, r._exit.isnull() | (r._exit >= w_start))
    end = ibis.coalesce(r._exit, ibis.literal(as_of_d, type="date"))
    # the exit month's attainment and pay fall with the exit itself: its months are left out
    exit_month = r.select(person_id=r.rep_id, _exit_month=r._exit.truncate("M"))

    def before_exit(t: Any, id_col: str) -> Any:
        j = t.left_join(exit_month, t[id_col] == exit_month.person_id)
        j = j.filter(j._exit_month.isnull() | (j.period < j._exit_month))
        return j.select(*t.columns)

    r = r.select(
        person_id=r.rep_id,
        tenure=(end.delta(r._hire, unit="day") + 1).cast("float64") / DAYS_PER_MONTH,
        left=r._exit.notnull(),
        region=r.region if "region" in reps.columns else ibis.null("string"),
        role=r.role if "role" in reps.columns else ibis.null("string"),
        exit_reason=r.exit_reason if "exit_reason" in reps.columns else ibis.null("string"),
    )
    if store.has_rows(con, "compensation"):
        c = con.table("compensation")
        c = c.filter(c.period >= _month_start(w_start), c.period <= as_of_d)
        c = before_exit(c.mutate(period=c.period.cast("date")), "rep_id")
        ind, team = c.individual_bonus.cast("float64"), c.team_bonus.cast("float64")
        feats = c.group_by(person_id=c.rep_id).aggregate(
            team_bonus_share=ibis.ifelse((ind + team) > 0, team / (ind + team), 0.0).mean(),
            payout_delay_days=ibis.greatest(c.paid_date.delta(c.due_date, unit="day").cast("float64"), 0.0).mean(),
            training_hours=c.training_hours.cast("float64").mean(),
            bonus_per_month=(ind + team).mean(),
            promoted_last_12m=_bool_int(c.promoted).max().cast("float64"),
        )
        r = r.left_join(feats, "person_id").drop("person_id_right")
    att = _rep_attainment(con, _month_start(w_start), as_of_d)
    if att is not None:
        att = before_exit(att, "rep_id")
        a = att.group_by(person_id=att.rep_id).aggregate(attainment=att.attainment.mean())
        r = r.left_join(a, "person_id").drop("person_id_right")
    out = r.to_pandas().sort_values("person_id").reset_index(drop=True)
    out["left"] = out["left"].astype(bool)
    return out


def _find_col(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def _as_bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    txt = s.astype(str).str.strip().str.lower()
    mapping = {"yes": True, "y": True, "true": True, "1": True, "1.0": True, "是": True, "离职": True,
               "no": False, "n": False, "false": False, "0": False, "0.0": False, "否": False, "在职": False}
    out = txt.map(mapping)
    if out.isna().any():
        bad = s[out.isna()].iloc[0]
        raise ParameterError(f"The 'left' column of the snapshot must be bool or Yes/No. Got {bad!r} instead.")
    return out.astype(bool)


def read_snapshot(source: Any, tenure_unit: str = "years") -> pd.DataFrame:
    """Read an hr_snapshot from a file path or the store's ``hr_snapshot`` table.

    Columns are found by name, case-insensitively, with aliases (EmployeeNumber →
    person_id, YearsAtCompany → tenure, Attrition → left). ``left`` may be bool, 0/1 or
    Yes/No; tenure is converted to months. Yes/No covariates become 0/1.

    Examples
    --------
    >>> snap = read_snapshot("WA_Fn-UseC_-HR-Employee-Attrition.csv", tenure_unit="years")  # doctest: +SKIP
    """
    if tenure_unit not in ("years", "months"):
        raise ParameterError(f"The 'tenure_unit' parameter must be 'years' or 'months'. Got {tenure_unit!r} instead.")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ParameterError(f"The 'snapshot' parameter must be an existing file. Got {str(source)!r} instead.")
        suf = path.suffix.lower()
        if suf in (".xlsx", ".xls"):
            df = pd.read_excel(path)
        elif suf == ".parquet":
            df = pd.read_parquet(path)
        else:
            try:
                df = pd.read_csv(path)
            except UnicodeDecodeError:
                df = pd.read_csv(path, encoding="gbk")
    else:
        t = _table(source, "hr_snapshot", required=())
        df = t.to_pandas()  # one row per person: an HR export, not a fact table
    ren = {}
    for canon, names in SNAPSHOT_ALIASES.items():
        col = _find_col(df, names)
        if col is None:
            raise ParameterError(
                f"The snapshot must have a '{canon}' column (or one of {', '.join(names[1:4])}). "
                f"Got columns {list(df.columns)[:12]} instead."
            )
        ren[col] = canon
    df = df.rename(columns=ren)
    df["person_id"] = df["person_id"].astype(str)
    df["left"] = _as_bool(df["left"])
    df["tenure"] = pd.to_numeric(df["tenure"], errors="coerce").astype(float) * (12.0 if tenure_unit == "years" else 1.0)
    for c in df.columns:
        # text columns are object on pandas 2 and the str dtype on pandas 3
        if c in ("person_id", "left", "tenure") or not (is_object_dtype(df[c].dtype) or is_string_dtype(df[c].dtype)):
            continue
        vals = set(df[c].dropna().astype(str).str.strip().str.lower().unique())
        if vals and vals <= {"yes", "no", "y", "n", "true", "false"}:
            df[c] = _as_bool(df[c]).astype(float)
    return df


def load_snapshot(source: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
                  features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
                  min_group_size: int = 5, tenure_unit: str = "years") -> RetentionData:
    """Report data from an hr_snapshot (file path, or a store connection with table hr_snapshot).

    Features and controls are whatever requested columns exist (missing ones are skipped
    with a note). "Left within the horizon" is the snapshot's own ``left`` flag.

    Examples
    --------
    >>> data = load_snapshot("hr.csv", features=["OverTime"], controls=["JobLevel"])  # doctest: +SKIP
    """
    from .params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    df = read_snapshot(source, tenure_unit)
    notes: list[Note] = []
    df = df.dropna(subset=["tenure"])
    if cohort_start and "hire_date" in df.columns:
        df = df[pd.to_datetime(df["hire_date"]) >= pd.Timestamp(_to_date(cohort_start, "cohort_start"))]
    lower = {str(c).lower(): c for c in df.columns}
    # requested names match columns case-insensitively
    feats_req = [lower.get(f.lower(), f) for f in (features if features is not None else DEFAULT_FEATURES)]
    ctrls_req = [lower.get(c.lower(), c) for c in (controls if controls is not None else DEFAULT_CONTROLS)]
    avail = [c for c in df.columns if c not in ("person_id", "tenure", "left") and df[c].notna().any()]
    feats = _resolve(feats_req, avail, "feature", notes)
    ctrls = _resolve(ctrls_req, avail, "control", notes)
    for c in feats:
        if is_string_dtype(df[c].dtype):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    feats = [f for f in feats if df[f].notna().any()]
    categorical = [c for c in ctrls if is_string_dtype(df[c].dtype) or c in CATEGORICAL_CONTROLS]
    df = _lump_small_levels(df, categorical, "person_id", min_group_size, notes)
    as_of_d = _to_date(as_of, "as_of") or dt.date.today()
    people = df.copy()
    people["entry"] = 0.0
    if "region" not in people.columns:
        people["region"] = None
    if "role" not in people.columns:
        people["role"] = None
    if "exit_reason" not in people.columns:
        people["exit_reason"] = None
    if "hire_cohort" not in people.columns:
        people["hire_cohort"] = None
    horizon = people[["person_id", "region", "role"] + [c for c in feats + ctrls if c not in ("region", "role")]].copy()
    horizon["left_within_horizon"] = people["left"].astype(float)
    notes.append(Note("snapshot"))
    window = people[["person_id", "tenure", "left"]].copy()
    return RetentionData(
        source="snapshot", as_of=as_of_d, data_start=None, people=people.reset_index(drop=True), window=window,
        horizon=horizon.reset_index(drop=True), panel=None, features=feats, controls=ctrls, categorical=categorical,
        horizon_months=horizon_months, min_group_size=min_group_size, notes=notes,
    )


# --------------------------------------------------------------------------------------
# section 1: headcount and attrition
# --------------------------------------------------------------------------------------

def headline(data: RetentionData) -> dict[str, Any]:
    """Headline figures on the people of the 12 months to as_of (both sources alike).

    Returns
    -------
    dict
        people, headcount, exits, attrition_rate, first_year_people, first_year_exits,
        first_year_attrition.

    Examples
    --------
    >>> headline(data)["exits"]  # doctest: +SKIP
    """
    w = data.window
    n = int(len(w))
    exits = int(w["left"].sum())
    fy = w[w["tenure"] < 12.0]
    fy_n, fy_x = int(len(fy)), int(fy["left"].sum())
    return {
        "people": n,
        "headcount": n - exits,
        "exits": exits,
        "attrition_rate": exits / n if n else math.nan,
        "first_year_people": fy_n,
        "first_year_exits": fy_x,
        "first_year_attrition": fy_x / fy_n if fy_n else math.nan,
    }


#: the region of the total row of the attrition table (shown as the label ``incentive_retention.value.total``)
TOTAL = "total"


@dataclass
class AttritionTables:
    """Section 1 tables, each already suppressed for small groups. Categories stay codes:
    ``exit_reason`` as stored (voluntary, involuntary), the total row's region ``"total"``."""

    by_region: pd.DataFrame
    by_cohort: pd.DataFrame
    by_reason: pd.DataFrame
    by_year: pd.DataFrame
    suppressed_cells: int


def attrition_tables(data: RetentionData) -> AttritionTables:
    """Hires, exits, annualised attrition (exits ÷ average headcount) by region and year,
    voluntary vs involuntary, first-year attrition by hiring cohort.

    Annualised attrition = exits over the data months ÷ average monthly headcount ×
    12 ÷ months. Groups below ``min_group_size`` people are suppressed (complementary).

    Examples
    --------
    >>> t = attrition_tables(data); t.by_region.columns.tolist()  # doctest: +SKIP
    """
    k = data.min_group_size
    n_sup = 0
    p = data.people
    if data.panel is not None:
        panel = data.panel
        n_months = panel["period"].nunique()
        by_region = panel.groupby("region", dropna=False).agg(
            people=("rep_id", "nunique"), person_months=("rep_id", "size"), exits=("event", "sum")
        ).reset_index()
        hires = p[pd.to_datetime(p["hire_date"]) >= pd.Timestamp(data.data_start)].groupby("region").size()
        by_region["hires"] = by_region["region"].map(hires).fillna(0).astype(int)
        by_region["avg_headcount"] = by_region["person_months"] / n_months
        by_region["attrition_rate"] = by_region["exits"] / by_region["avg_headcount"] * 12 / n_months
        by_region = by_region[["region", "people", "hires", "exits", "avg_headcount", "attrition_rate"]]
        total = pd.DataFrame([{
            "region": TOTAL, "people": panel["rep_id"].nunique(), "hires": int(by_region["hires"].sum()),
            "exits": int(panel["event"].sum()), "avg_headcount": len(panel) / n_months,
            "attrition_rate": panel["event"].sum() / (len(panel) / n_months) * 12 / n_months,
        }])
        s = privacy.suppress_small(by_region, "people", k, dims=["region"])
        n_sup += s.n_suppressed
        by_region = pd.concat([s.frame, total], ignore_index=True)
        py = panel.assign(year=panel["period"].dt.year)
        by_year = py.groupby("year").agg(
            people=("rep_id", "nunique"), person_months=("rep_id", "size"), exits=("event", "sum"),
            months=("period", "nunique"),
        ).reset_index()
        by_year["avg_headcount"] = by_year["person_months"] / by_year["months"]
        by_year["attrition_rate"] = by_year["exits"] / by_year["avg_headcount"] * 12 / by_year["months"]
        by_year["year"] = by_year["year"].astype(str)
        by_year = by_year[["year", "months", "people", "exits", "avg_headcount", "attrition_rate"]]
        s = privacy.suppress_small(by_year, "people", k, dims=["year"])
        n_sup += s.n_suppressed
        by_year = s.frame
    else:
        by_region = p.groupby("region", dropna=False).agg(people=("person_id", "size"), exits=("left", "sum")).reset_index() \
            if p["region"].notna().any() else pd.DataFrame(columns=["region", "people", "exits"])
        if not by_region.empty:
            by_region["attrition_rate"] = by_region["exits"] / by_region["people"]
            s = privacy.suppress_small(by_region, "people", k, dims=["region"])
            n_sup += s.n_suppressed
            by_region = s.frame
        by_year = pd.DataFrame()
    # voluntary vs involuntary among the exits of the data window
    leavers = p[p["left"]]
    if leavers["exit_reason"].notna().any():
        by_reason = leavers.groupby("exit_reason").agg(exits=("person_id", "size")).reset_index()
        by_reason["share"] = by_reason["exits"] / by_reason["exits"].sum()
        s = privacy.suppress_small(by_reason, "exits", k, dims=["exit_reason"])
        n_sup += s.n_suppressed
        by_reason = s.frame
    else:
        by_reason = pd.DataFrame(columns=["exit_reason", "exits", "share"])
    # first-year attrition by hiring cohort: hired in the data window, first 12 months observed
    if data.panel is not None:
        # only people hired at least 12 months before as_of: their first year is fully observed
        hd = pd.to_datetime(p["hire_date"])
        hired = p[(hd >= pd.Timestamp(data.data_start))
                  & (hd <= pd.Timestamp(data.as_of) - pd.DateOffset(months=12))].copy()
        hired["left_first_year"] = hired["left"] & (hired["tenure"] < 12)
        by_cohort = hired.groupby("hire_cohort").agg(
            people=("person_id", "size"), exits_first_year=("left_first_year", "sum")).reset_index()
        by_cohort["first_year_attrition"] = by_cohort["exits_first_year"] / by_cohort["people"]
        s = privacy.suppress_small(by_cohort, "people", k, dims=["hire_cohort"])
        n_sup += s.n_suppressed
        by_cohort = s.frame
    else:
        by_cohort = pd.DataFrame(columns=["hire_cohort", "people", "exits_first_year", "first_year_attrition"])
    return AttritionTables(by_region=by_region, by_cohort=by_cohort, by_reason=by_reason, by_year=by_year,
                           suppressed_cells=n_sup)


# --------------------------------------------------------------------------------------
# section 2: retention curves
# --------------------------------------------------------------------------------------

SHARE_TIERS = ("share_0_10", "share_20_40", "share_50_plus")
DELAY_TIERS = ("delay_0_3", "delay_4_7", "delay_over_7")
#: every tier code with a label (``incentive_retention.tier.<code>``), in the order shown
TIER_ORDER = ("all", "no", "yes", *SHARE_TIERS, *DELAY_TIERS, "low", "mid", "high")


def feature_tiers(values: pd.Series, feature: str) -> pd.Series:
    """Tier labels of a person-level feature for Kaplan–Meier curves.

    The tiers are codes (shown through the labels ``incentive_retention.tier.<code>``):
    0/1 features: "yes"/"no"; team_bonus_share: "share_0_10" (< 15 %), "share_20_40"
    (15–45 %), "share_50_plus"; payout_delay_days: "delay_0_3" / "delay_4_7" / "delay_over_7"
    (days); other numerics: thirds ("low"/"mid"/"high"), or the values themselves when there
    are at most four.

    Examples
    --------
    >>> feature_tiers(pd.Series([0.0, 0.31, 0.5]), "team_bonus_share").tolist()
    ['share_0_10', 'share_20_40', 'share_50_plus']
    """
    v = pd.to_numeric(values, errors="coerce")
    u = v.dropna().unique()
    if feature in BOOL_FEATURES or (len(u) <= 2 and set(np.round(u, 6)) <= {0.0, 1.0}):
        return v.map(lambda x: None if pd.isna(x) else ("yes" if x > 0.5 else "no"))
    if feature == "team_bonus_share":
        return pd.cut(v, [-np.inf, 0.15, 0.45, np.inf], labels=list(SHARE_TIERS), right=False).astype(object)
    if feature == "payout_delay_days":
        return pd.cut(v, [-np.inf, 3, 7, np.inf], labels=list(DELAY_TIERS)).astype(object)
    if len(u) <= 4:
        return v.map(lambda x: None if pd.isna(x) else f"{x:g}")
    q = v.quantile([1 / 3, 2 / 3]).to_numpy()
    if q[0] == q[1]:
        return pd.Series(np.where(v <= q[0], "low", "high"), index=v.index).where(v.notna())
    return pd.cut(v, [-np.inf, q[0], q[1], np.inf], labels=["low", "mid", "high"]).astype(object)


@dataclass(kw_only=True)
class CurvesResult(SectionResult):
    """Kaplan–Meier curves of one feature's tiers (groups below the minimum left out), or of
    everyone (``feature`` = "all", section ``retention_curves``).

    The section of a feature's curves is ``curves_<feature>`` for the store's features
    (``curves_team_bonus_share``) and ``curves_by_feature`` for any other (a snapshot's column).
    """

    report = REPORT
    default_code = "retention_curves"

    feature: str = ""
    curves: dict[str, sv.KMResult] = field(default_factory=dict)
    #: tier (code), people, exits, median_tenure, ci_low, ci_high (months; inf: not reached)
    medians: pd.DataFrame = field(default_factory=pd.DataFrame)
    logrank: sv.LogRankResult | None = None
    min_group_size: int = 5
    suppressed_cells: int = 0
    #: the Benjamini–Hochberg-adjusted p of the log-rank test in the report's family (set by
    #: the section function; None outside it)
    p_adj: float | None = None
    #: "time-dependent" (panel: each person-month in the tier of the value known at its start;
    #: Simon–Makuch curves and Mantel–Byar log-rank), "baseline" (snapshot: one value per
    #: person) or "overall"
    method: str = "overall"
    #: tenure (months) the curves start from: 0, or for time-dependent tiers the first tenure
    #: at which every shown tier has min_group_size people at risk (curves are conditional on
    #: being employed then)
    start: float = 0.0


CURVE_FEATURES = ("team_bonus_share", "payout_delay_days", "promoted_last_12m")


def curves_code(feature: str) -> str:
    """The section code of a feature's curves: ``curves_<feature>`` for the store's features,
    ``curves_by_feature`` for any other name (or none)."""
    return f"curves_{feature}" if feature in TIME_VARYING else "curves_by_feature"


def curve_feature(data: RetentionData, i: int) -> str:
    """The i-th feature to draw retention curves for: team share, payout delay and promotion
    when present, then the other features in their order ("" when there are fewer).

    Examples
    --------
    >>> curve_feature(data, 0)  # doctest: +SKIP
    'team_bonus_share'
    """
    order = [f for f in CURVE_FEATURES if f in data.features] + [f for f in data.features if f not in CURVE_FEATURES]
    return order[i] if i < len(order) else ""


def km_overall(data: RetentionData) -> CurvesResult:
    """Kaplan–Meier curve of everyone (with left truncation on the panel path).

    Examples
    --------
    >>> km_overall(data).medians  # doctest: +SKIP
    """
    p = data.people
    km = sv.kaplan_meier(p["tenure"], p["left"], entry=p["entry"])
    med = pd.DataFrame([{"tier": "all", "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                         "ci_low": km.median_lo, "ci_high": km.median_hi}])
    return CurvesResult(feature="all", curves={"all": km}, medians=med, min_group_size=data.min_group_size)


def km_by_feature(data: RetentionData, feature: str) -> CurvesResult:
    """Kaplan–Meier curves by tiers of ``feature``, medians with CIs and a log-rank test
    across the shown tiers.

    On the panel the grouping is time-dependent: each person-month counts in the tier of the
    value known at its start (Simon–Makuch curves; the log-rank test on those intervals is the
    Mantel–Byar test), so a person who is promoted after two years is "not promoted" for those
    two years; ``people`` per tier counts everyone who spent a month in it. On a snapshot each
    person has one value (``method`` = "baseline").

    Examples
    --------
    >>> km_by_feature(data, "team_bonus_share").logrank.p_value  # doctest: +SKIP
    """
    if data.panel is not None:
        # time-dependent grouping: each person-month counts in the tier of the value known at
        # its start (Simon–Makuch curves, Mantel–Byar log-rank): nobody is put in the
        # "promoted" tier for the months before the promotion (no immortal time)
        p = data.panel.rename(columns={"rep_id": "person_id"}).assign(entry=data.panel["start"],
                                                                       tenure=data.panel["stop"],
                                                                       left=data.panel["event"])
        method = "time-dependent"
    else:
        p = data.people
        method = "baseline"
    code = curves_code(feature)
    if not feature:
        return CurvesResult(code=code, min_group_size=data.min_group_size).skipped(Reason.NO_MORE_FEATURES)
    if feature not in data.features or feature not in p.columns:
        return CurvesResult(code=code, feature=feature, min_group_size=data.min_group_size).skipped(
            Reason.NO_FEATURE, name=feature)
    tiers = feature_tiers(p[feature], feature)
    sub = p.assign(tier=tiers).dropna(subset=["tier"])
    sizes = sub.groupby("tier")["person_id"].nunique()
    shown = sizes[sizes >= data.min_group_size].index.tolist()
    n_sup = int((sizes < data.min_group_size).sum())
    # complementary: with one tier hidden, the total would reveal it: hide the next smallest too
    if n_sup == 1 and len(shown) > 1:
        shown.remove(sizes[shown].idxmin())
        n_sup += 1
    sub = sub[sub["tier"].isin(shown)]
    def too_few() -> CurvesResult:
        return CurvesResult(code=code, feature=feature, min_group_size=data.min_group_size, suppressed_cells=n_sup,
                            method=method).skipped(Reason.BELOW_MIN_GROUP, name=feature,
                                                   min_group_size=data.min_group_size)

    if len(shown) < 2:
        return too_few()
    ids = (lambda s: s["person_id"]) if method == "time-dependent" else (lambda s: None)  # noqa: E731
    start = 0.0
    if method == "time-dependent":
        # a tier such as "promoted" has nobody at short tenures; compared from tenure 0 its curve
        # would skip the early months everyone else lives through. Curves and test start at the
        # first tenure at which every shown tier has min_group_size people at risk: they show
        # the share still employed among those employed then.
        start = _common_start(sub, shown, data.min_group_size)
        if not math.isfinite(start):
            return too_few()
        sub = sub[sub["tenure"] > start].assign(entry=lambda d: d["entry"].clip(lower=start))
    curves, rows = {}, []
    for t in sorted(shown, key=_tier_key):
        s = sub[sub["tier"] == t]
        km = sv.kaplan_meier(s["tenure"], s["left"], entry=s["entry"], ids=ids(s))
        if method == "time-dependent":
            km = _while_enough_at_risk(km, data.min_group_size)
        curves[t] = km
        rows.append({"tier": t, "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                     "ci_low": km.median_lo, "ci_high": km.median_hi})
    lr = sv.logrank_test(sub["tenure"], sub["left"], sub["tier"], entry=sub["entry"], ids=ids(sub))
    return CurvesResult(code=code, feature=feature, curves=curves, medians=pd.DataFrame(rows), logrank=lr,
                        min_group_size=data.min_group_size, suppressed_cells=n_sup, method=method, start=start)


def _while_enough_at_risk(km: sv.KMResult, k: int) -> sv.KMResult:
    """The curve up to the first time fewer than ``k`` people are at risk in its tier (people
    move between tiers, so a tier can thin out and fill again; steps on a handful of people
    say little), with the medians read on that part only (inf: not reached there)."""
    import dataclasses

    tab = km.table
    low = np.nonzero(tab["n_at_risk"].to_numpy() < k)[0]
    if not len(low):
        return km
    tab = tab.iloc[: low[0]].reset_index(drop=True)

    def first_below(col: str) -> float:
        idx = np.nonzero(tab[col].to_numpy() <= 0.5)[0]
        return float(tab["time"].iloc[idx[0]]) if len(idx) else math.inf

    return dataclasses.replace(km, table=tab, median=first_below("survival"), median_lo=first_below("lo"),
                               median_hi=first_below("hi"))


def _common_start(sub: pd.DataFrame, tiers: Sequence[str], k: int) -> float:
    """First tenure at which every tier has at least ``k`` people at risk (intervals
    (entry, tenure] of one person do not overlap, so rows at risk = people at risk); inf when
    some tier never has ``k``."""
    out = 0.0
    for t in tiers:
        s = sub[sub["tier"] == t]
        grid = np.unique(s["entry"].to_numpy(float))
        n = (np.searchsorted(np.sort(s["entry"].to_numpy(float)), grid, side="right")
             - np.searchsorted(np.sort(s["tenure"].to_numpy(float)), grid, side="right"))
        ok = np.nonzero(n >= k)[0]
        if not len(ok):
            return math.inf
        out = max(out, float(grid[ok[0]]))
    return out


def _tier_key(t: str) -> tuple:
    if t in TIER_ORDER:
        return (0, TIER_ORDER.index(t), t)
    try:
        return (1, float(str(t).rstrip("%")), t)
    except ValueError:
        return (2, 0, t)


# --------------------------------------------------------------------------------------
# section 3: correlations
# --------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class CorrelationResult(SectionResult):
    """Correlations of each feature with leaving within the horizon (section ``correlations``)."""

    report = REPORT
    default_code = "correlations"

    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # feature, method, n, rho, lo, hi, p, p_adj
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_people: int = 0
    #: features the person-level frame leaves out (event features: see :func:`_horizon_frame`)
    left_out: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"correlations": self.as_dict() if not self.table.empty else {}}

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {r.feature: {"rho": r.rho, "lo": r.lo, "hi": r.hi, "p_adj": r.p_adj} for r in self.table.itertuples()}


#: the strata of the logistic check (categories of the model, not shown as findings)
LOGISTIC_STRATA = ("calendar_year", "tenure_band")
#: tenure bands (months) within which the correlations and the logistic check compare people:
#: the first year, the second, years three and four, longer
TENURE_BANDS = (0.0, 12.0, 24.0, 48.0, math.inf)


def tenure_band(tenure: pd.Series) -> pd.Series:
    """The tenure band (``TENURE_BANDS``) of tenures in months, as the band's lower end ("0",
    "12", "24", "48").

    Examples
    --------
    >>> tenure_band(pd.Series([0.0, 11.9, 12.0, 60.0])).tolist()
    ['0', '0', '12', '48']
    """
    edges = list(TENURE_BANDS)
    return pd.cut(tenure, edges, right=False, labels=[f"{e:g}" for e in edges[:-1]]).astype(object)


def _matched_frame(data: RetentionData) -> pd.DataFrame:
    """The panel's person-months with their comparison strata: ``calendar_month`` (the
    period), ``calendar_year`` and ``tenure_band`` (of the tenure at the month's start)."""
    p = data.panel
    return p.assign(calendar_month=p["period"].dt.strftime("%Y-%m"), calendar_year=p["period"].dt.year.astype(str),
                    tenure_band=tenure_band(p["start"]), event=p["event"].astype(float))


def correlations(data: RetentionData, n_boot: int = 1000, seed: int = 0) -> CorrelationResult:
    """Correlation of each feature with leaving, like compared with like.

    On the panel (``method`` "matched_rank", :func:`~analysis.stats.correlation.matched_rank_correlation`):
    each exit's feature, as known when its month began, is ranked among everyone employed in
    the same calendar month and the same tenure band (``TENURE_BANDS``); rho runs from −1
    (leavers always had the lowest value of their colleagues then) to +1 (always the highest).
    People of different years (when pay practice differed) and of different tenure (when the
    risk of leaving differs) are never compared, and nobody's value is an average over a
    window whose length depends on when they left. Event features are ranked the same way.

    On a snapshot (one row per person, no calendar): Spearman / point-biserial correlation
    with ``left``, bootstrap 95 % CIs (fixed seed). p-values are Benjamini–Hochberg adjusted
    within the section here and in the report's family (:func:`family_of_tests`).

    Examples
    --------
    >>> correlations(data).table  # doctest: +SKIP
    """
    if data.panel is not None:
        m = _matched_frame(data)
        feats = [f for f in data.features if f in m.columns]
        if int(m["event"].sum()) < max(10, data.min_group_size) or not feats:
            return CorrelationResult(n_people=int(m["rep_id"].nunique())).skipped(Reason.TOO_FEW_PEOPLE)
        tab = corr_mod.matched_rank_correlation(m, feats, "event", ["calendar_month", "tenure_band"])
        cols = feats + [c for c in data.controls if c not in data.categorical and c in m.columns]
        # how the features move together (person-months, values known at each month's start)
        mat = corr_mod.correlation_matrix(m, cols)
        return CorrelationResult(table=tab, matrix=mat, n_people=int(m["rep_id"].nunique()))
    h = data.horizon
    feats = [f for f in data.features if f in h.columns]
    if len(h) < max(10, data.min_group_size) or not feats:
        return CorrelationResult(n_people=len(h)).skipped(Reason.TOO_FEW_PEOPLE)
    tab = corr_mod.correlate(h, feats, "left_within_horizon", n_boot=n_boot, seed=seed)
    cols = feats + [c for c in data.controls if c not in data.categorical and c in h.columns] + ["left_within_horizon"]
    mat = corr_mod.correlation_matrix(h, cols)
    return CorrelationResult(table=tab, matrix=mat, n_people=len(h))


# --------------------------------------------------------------------------------------
# section 4: adjusted effects
# --------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class EffectsResult(SectionResult):
    """Raw (one feature at a time) and adjusted (all features + controls) Cox models,
    the proportional-hazards check and the logistic robustness check (section
    ``adjusted_effects``; the checks are shown as section ``model_checks``)."""

    report = REPORT
    default_code = "adjusted_effects"

    adjusted: sv.CoxResult | None = None
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)  # term, hr, lo, hi, p (univariable Cox)
    side_by_side: pd.DataFrame = field(default_factory=pd.DataFrame)  # term, raw_/adj_ hr, lo, hi, p, hr_sd, …
    logistic: sv.LogitResult | None = None
    ph: pd.DataFrame = field(default_factory=pd.DataFrame)
    ph_violations: list[str] = field(default_factory=list)
    #: "previous_month" (panel: covariates known at each month's start) or "baseline" (snapshot)
    covariate_timing: str = COVARIATE_TIMING
    #: person-months left out because the previous month is not in the data (hire month,
    #: first month of the data), and rows left out for another missing covariate
    rows_without_previous_month: int = 0
    rows_missing_covariate: int = 0
    #: the report's family of tests (set by the section function: the Cox terms' adjusted p)
    family: FamilyOfTests | None = None

    def metrics(self) -> dict[str, Any]:
        adj, fam = self.adjusted, self.family
        return {
            "hazard_ratios": self.hazard_ratios(),
            "hazard_ratios_per_sd": self.hazard_ratios_per_sd(),
            "covariate_timing": self.covariate_timing,
            "cox_fit": None if adj is None else {
                "method": adj.method, "converged": bool(adj.converged), "ties": adj.ties, "aliased": list(adj.aliased),
                "diverging": list(adj.diverging), "rows": int(adj.n_obs), "events": int(adj.n_events),
                "rows_without_previous_month": int(self.rows_without_previous_month),
                "rows_missing_covariate": int(self.rows_missing_covariate),
            },
            "multiple_testing": None if fam is None else {"method": fam.method, "alpha": fam.alpha,
                                                          "tests": fam.records()},
            "significant_features": [] if fam is None else fam.significant_features,
            "ph_violations": list(self.ph_violations),
        }

    @property
    def converged(self) -> bool:
        """False when the adjusted Cox model did not converge (no hazard ratio is reported)."""
        return self.adjusted is None or self.adjusted.converged

    @property
    def fit_method(self) -> str | None:
        return self.adjusted.method if self.adjusted is not None else None

    def hazard_ratios(self) -> dict[str, dict[str, float]]:
        return self.adjusted.hazard_ratios() if self.adjusted is not None else {}

    def hazard_ratios_per_sd(self) -> dict[str, dict[str, float]]:
        if self.adjusted is None:
            return {}
        if not self.adjusted.converged:
            return {}
        t = self.adjusted.table.dropna(subset=["sd", "hr_per_sd", "lo_per_sd", "hi_per_sd", "p"])
        return {r.term: {"hr": float(r.hr_per_sd), "lo": float(r.lo_per_sd), "hi": float(r.hi_per_sd), "p": float(r.p),
                         "sd": float(r.sd)} for r in t.itertuples()}


def _cox_frame(data: RetentionData) -> tuple[pd.DataFrame, str | None]:
    if data.panel is not None:
        return data.panel, "start"
    # one row per person observed from tenure 0: tenure-0 people stay in (at risk at t = 0)
    p = data.people.assign(start=data.people["entry"], stop=data.people["tenure"], event=data.people["left"])
    return p, "start"


def _logistic_check(data: RetentionData, covs: Sequence[str], reference: dict) -> sv.LogitResult:
    """The logistic check of the Cox model.

    On the panel: a discrete-time model of leaving in a month (pooled logistic regression on
    the person-months) with the covariates as known at the month's start, as in the Cox model,
    and calendar year and tenure band (``TENURE_BANDS``) as categories, so each feature is
    compared among people of the same year and tenure (the Cox model compares people of the
    same tenure but any date). On a snapshot: leaving (``left``) on the person's values.
    """
    if data.panel is not None:
        m = _matched_frame(data)
        # the strata first: a feature that is the calendar itself (aliased with the years) is
        # the one left out, not the years
        lcovs = list(LOGISTIC_STRATA) + [c for c in covs if c in m.columns]
        cat = list(LOGISTIC_STRATA) + [c for c in data.categorical if c in lcovs]
        ref = dict(reference)
        ref.update({"calendar_year": str(m["calendar_year"].mode().iloc[0]), "tenure_band": "0"})
        return sv.logistic(m, "event", lcovs, categorical=cat, reference=ref)
    h = data.horizon
    lcovs = [c for c in covs if c in h.columns]
    return sv.logistic(h, "left_within_horizon", lcovs, categorical=[c for c in data.categorical if c in lcovs],
                       reference=reference)


def adjusted_effects(data: RetentionData) -> EffectsResult:
    """Cox PH hazard ratios (statsmodels PHReg; time-varying covariates with counting-process
    entry on the panel), raw vs adjusted, PH check, and a logistic model of leaving within
    the horizon.

    Proportional-hazards warnings are caught and returned in ``ph_violations``/``notes`` so
    the notebook shows them without printing to stderr.

    Examples
    --------
    >>> eff = adjusted_effects(data); eff.hazard_ratios()["payout_delay_days"]  # doctest: +SKIP
    """
    df, entry = _cox_frame(data)
    covs = list(data.features) + [c for c in data.controls if c not in data.features]
    notes: list[Note] = []
    timing = COVARIATE_TIMING if data.panel is not None else "baseline"
    if not data.features:
        return EffectsResult(covariate_timing=timing).skipped(Reason.NO_FEATURES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatsWarning)
        try:
            adj = sv.cox_ph(df, covs, duration_col="stop", event_col="event", entry_col=entry,
                            categorical=data.categorical)
        except InsufficientDataError as exc:
            return EffectsResult(covariate_timing=timing).skipped(Reason.FAILED, error=str(exc))
        raw_rows = []
        for f in data.features:
            try:
                r = sv.cox_ph(df, [f], duration_col="stop", event_col="event", entry_col=entry, check_ph=False)
            except InsufficientDataError:
                continue
            if r.converged:
                raw_rows.extend(r.table[["term", "hr", "lo", "hi", "p", "hr_per_sd", "lo_per_sd", "hi_per_sd"]]
                                .to_dict("records"))
        logit = None
        try:
            logit = _logistic_check(data, covs, adj.reference_levels)
        except InsufficientDataError as exc:
            notes.append(Note("model_skipped", {"error": str(exc)}))
    for w in caught:
        if issubclass(w.category, StatsWarning) and not issubclass(w.category, ProportionalHazardsWarning):
            if "Cox model" in str(w.message):
                continue  # carried by EffectsResult.converged and said by the narrative
            notes.append(Note("stats_warning", {"warning": str(w.message)}))
    raw = pd.DataFrame(raw_rows).reset_index(drop=True)
    t = adj.table
    sd_names = {"hr_per_sd": "hr_sd", "lo_per_sd": "lo_sd", "hi_per_sd": "hi_sd"}
    sbs = t[["term", "hr", "lo", "hi", "p", "hr_per_sd", "lo_per_sd", "hi_per_sd"]].rename(
        columns={"hr": "adj_hr", "lo": "adj_lo", "hi": "adj_hi", "p": "adj_p",
                 **{k: f"adj_{v}" for k, v in sd_names.items()}})
    if not raw.empty:
        sbs = raw.rename(columns={"hr": "raw_hr", "lo": "raw_lo", "hi": "raw_hi", "p": "raw_p",
                                  **{k: f"raw_{v}" for k, v in sd_names.items()}}).merge(sbs, on="term", how="right")
    ph = adj.ph if adj.ph is not None else pd.DataFrame()
    missing = df[[c for c in covs if c in df.columns] + ["stop", "event"]].isna().any(axis=1)
    no_prev = ~df["has_previous_month"] if "has_previous_month" in df.columns else pd.Series(False, index=df.index)
    n_first = int((missing & no_prev).sum())
    n_other = int((missing & ~no_prev).sum())
    return EffectsResult(adjusted=adj, raw=raw, side_by_side=sbs, logistic=logit, ph=ph,
                         ph_violations=list(adj.ph_violations), notes=notes, covariate_timing=timing,
                         rows_without_previous_month=n_first, rows_missing_covariate=n_other)


# --------------------------------------------------------------------------------------
# section 5: the 70/30 question and payout delay
# --------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class DoseResult(SectionResult):
    """Monthly exit rate by bands of a feature (person-months), with Wilson 95 % CIs
    (sections ``dose_team_bonus_share``, ``dose_payout_delay_days``; ``dose_by_feature`` for
    another feature)."""

    report = REPORT
    default_code = "dose_by_feature"

    feature: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # band, people, exits, exit_rate, ci_low, ci_high, …
    suppressed_cells: int = 0
    #: what a band's rate counts: "person_months" (panel: monthly exit rate) or "people"
    #: (snapshot: share who left)
    unit: str = "person_months"


def dose_code(feature: str) -> str:
    """The section code of a feature's dose–response (``dose_team_bonus_share``,
    ``dose_payout_delay_days``; ``dose_by_feature`` for any other)."""
    return f"dose_{feature}" if feature in DOSE_FEATURES else "dose_by_feature"


def dose_response(data: RetentionData, feature: str, bands: Sequence[float] | None = None,
                  labels: Sequence[str] | None = None) -> DoseResult:
    """Monthly exit rate (exits ÷ person-months) by bands of ``feature``, on the panel
    (snapshot: share who left by band). Bands below min_group_size people are suppressed.
    On the panel a month's band is that of the value known at its start (previous month;
    for payout delay, the last bonus that fell due before it).

    Defaults: payout_delay_days bands 0 | 1–7 | 8–14 | 15–30 | > 30 days;
    team_bonus_share rounded to 10 % steps.

    Examples
    --------
    >>> dose_response(data, "payout_delay_days").table  # doctest: +SKIP
    """
    code = dose_code(feature)
    if feature not in data.features:
        return DoseResult(code=code, feature=feature).skipped(Reason.NO_FEATURE, name=feature)
    if data.panel is not None:
        d = data.panel[["rep_id", feature, "event"]].dropna().rename(columns={"rep_id": "person_id"})
    else:
        d = data.people[["person_id", feature, "left"]].dropna().rename(columns={"left": "event"})
    v = d[feature].astype(float)
    if bands is None and feature == "payout_delay_days":
        bands, labels = [-np.inf, 0.5, 7.5, 14.5, 30.5, np.inf], ["0", "1-7", "8-14", "15-30", "> 30"]
    if bands is None and feature == "team_bonus_share":
        band = v.map(lambda x: f"{int(round(x * 10) * 10)}%")
    elif bands is None:
        band = feature_tiers(v, feature)
    else:
        band = pd.cut(v, list(bands), labels=list(labels) if labels else None).astype(object)
    d = d.assign(band=band).dropna(subset=["band"])
    t = d.groupby("band").agg(people=("person_id", "nunique"), person_months=("person_id", "size"),
                              exits=("event", "sum")).reset_index()
    t["exits"] = t["exits"].astype(int)
    t["exit_rate"] = t["exits"] / t["person_months"]
    t["ci_low"], t["ci_high"] = wilson_ci(t["exits"].to_numpy(), t["person_months"].to_numpy())
    if data.panel is not None:
        t["annualised_attrition"] = 1 - (1 - t["exit_rate"]) ** 12
    t = t.iloc[sorted(range(len(t)), key=lambda i: _band_key(t["band"].iloc[i]))].reset_index(drop=True)
    s = privacy.suppress_small(t, "people", data.min_group_size, dims=["band"])
    # person-months stay out of the shown table: exit_rate = exits ÷ person-months already says it
    return DoseResult(code=code, feature=feature, table=s.frame.drop(columns="person_months"),
                      suppressed_cells=s.n_suppressed, unit="person_months" if data.panel is not None else "people")


def _band_key(b: str) -> tuple:
    s = str(b).replace("> ", "").rstrip("%")
    try:
        return (0, float(s.split("-")[0]))
    except ValueError:
        return _tier_key(b)


# --------------------------------------------------------------------------------------
# the report's family of tests (Benjamini–Hochberg)
# --------------------------------------------------------------------------------------

SIGNIFICANCE = 0.05


#: the numeric controls whose effect the written summary states (they are tested in the family)
STATED_CONTROLS = ("attainment",)
#: the tests of the family, in the order of the table
FAMILY_TESTS = ("cox", "cox_raw", "logrank", "correlation", "logistic")


@dataclass
class FamilyOfTests:
    """Every p-value on which the report calls an incentive feature (or attainment)
    significant, correlated, different or a driver, adjusted together (Benjamini–Hochberg,
    false discovery rate ``alpha``). In a world where nothing affects leaving every hypothesis
    is true, so the chance that the report makes any such claim is at most ``alpha``.

    The family: the adjusted Cox model's Wald test of each feature term and of attainment
    ("cox"), the one-feature Cox models ("cox_raw", behind "a raw association disappears after
    adjustment"), the log-rank test of each feature's retention curves ("logrank"), each
    feature's matched correlation with leaving ("correlation") and each feature term of the
    logistic check ("logistic"). Controls other than attainment are adjustments, not claims:
    no sentence is about them.
    ``table``: feature, test, term, p, p_adj, significant.
    """

    table: pd.DataFrame
    alpha: float = SIGNIFICANCE
    method: str = "benjamini-hochberg"

    @property
    def significant_features(self) -> list[str]:
        """Features with at least one test of the family below ``alpha`` after adjustment
        (in the order of the table)."""
        if self.table.empty:
            return []
        sig = self.table.loc[self.table["significant"], "feature"]
        return list(dict.fromkeys(sig.tolist()))

    def claims(self) -> dict[str, bool]:
        """Test → whether the report calls something significant on it."""
        t = self.table
        return {k: bool(t.loc[t["test"] == k, "significant"].any()) if not t.empty else False for k in FAMILY_TESTS}

    def p_adj(self, test: str, key: str) -> float | None:
        """Adjusted p of one test (``key``: the term of a Cox or logistic test, the feature of a
        log-rank or correlation test); None when it is not in the family."""
        if self.table.empty:
            return None
        col = "term" if test in ("cox", "cox_raw", "logistic") else "feature"
        r = self.table[(self.table["test"] == test) & (self.table[col] == key)]
        return float(r["p_adj"].iloc[0]) if len(r) else None

    def records(self) -> list[dict[str, Any]]:
        return [{"feature": r.feature, "test": r.test, "term": r.term, "p": float(r.p), "p_adj": float(r.p_adj)}
                for r in self.table.itertuples()]


def family_of_tests(effects: "EffectsResult", curves: Sequence["CurvesResult"] = (), features: Sequence[str] = (),
                    alpha: float = SIGNIFICANCE, corr: "CorrelationResult | None" = None) -> FamilyOfTests:
    """The report's family of tests about ``features``, Benjamini–Hochberg adjusted.

    Parameters
    ----------
    effects : EffectsResult
        Its adjusted Cox model gives one Wald test per feature term (none when the model did
        not converge), its one-feature models and its logistic check one each.
    curves : sequence of CurvesResult
        Each shown feature's curves give their log-rank test.
    features : sequence of str
        The terms claims are made about: the incentive features (the report's
        ``data.features``) and the stated controls (attainment).
    corr : CorrelationResult, optional
        Each feature's correlation with leaving.

    Examples
    --------
    >>> fam = family_of_tests(eff, [curves_1, curves_2], data.features)  # doctest: +SKIP
    >>> fam.significant_features  # doctest: +SKIP
    ['payout_delay_days']
    """
    from .stats.correlation import bh_adjust

    rows = []
    feats = list(features)

    def owner(term: str) -> str | None:
        for f in feats:
            if term == f or term.startswith(f + "["):
                return f
        return None

    def add(table: pd.DataFrame | None, test: str) -> None:
        if table is None or table.empty:
            return
        for r in table.itertuples():
            f = owner(r.term)
            if f is not None and np.isfinite(r.p):
                rows.append({"feature": f, "test": test, "term": r.term, "p": float(r.p)})

    if effects is not None and effects.adjusted is not None and effects.adjusted.converged:
        add(effects.adjusted.table, "cox")
        add(getattr(effects, "raw", None), "cox_raw")
    for c in curves:
        if c is not None and c.logrank is not None and c.feature in feats and np.isfinite(c.logrank.p_value):
            rows.append({"feature": c.feature, "test": "logrank", "term": c.feature, "p": float(c.logrank.p_value)})
    if corr is not None and corr.ok and not corr.table.empty:
        for r in corr.table.itertuples():
            if r.feature in feats and np.isfinite(r.p):
                rows.append({"feature": r.feature, "test": "correlation", "term": r.feature, "p": float(r.p)})
    if effects is not None and getattr(effects, "logistic", None) is not None:
        add(effects.logistic.table, "logistic")
    t = pd.DataFrame(rows, columns=["feature", "test", "term", "p"])
    t["p_adj"] = bh_adjust(t["p"].to_numpy()) if len(t) else pd.Series(dtype=float)
    t["significant"] = t["p_adj"] < alpha
    return FamilyOfTests(t, alpha)


def claim_terms(data: RetentionData) -> list[str]:
    """The terms the report's claims are about: its features, then the stated controls it has."""
    return list(data.features) + [c for c in STATED_CONTROLS if c in data.controls and c not in data.features
                                  and c not in data.categorical]


# --------------------------------------------------------------------------------------
# the report's sections: prepare(con, params) -> Scope; section(scope) -> SectionResult
# --------------------------------------------------------------------------------------

#: label prefix of the categories the tables show (total row, merged levels, exit reasons, roles)
VALUES = "incentive_retention.value"
#: label prefix of the tiers of the curves and bands
TIERS = "incentive_retention.tier"
#: label prefix of covariate names (a snapshot's own columns have none and are shown as they are)
NAMES = "column"
#: the features of the dose–response sections, in order
DOSE_FEATURES = ("team_bonus_share", "payout_delay_days")


@dataclass
class Scope:
    """What every section of a run needs: the data, and the figures more than one section uses
    (each computed once, on first use).

    Examples
    --------
    >>> scope = prepare(con, {"as_of": "2026-10-31"})  # doctest: +SKIP
    >>> scope.family.significant_features  # doctest: +SKIP
    """

    data: RetentionData
    n_boot: int = 1000
    seed: int = 0

    @functools.cached_property
    def head(self) -> dict[str, Any]:
        return headline(self.data)

    @functools.cached_property
    def attrition(self) -> AttritionTables:
        return attrition_tables(self.data)

    @functools.cached_property
    def overall(self) -> CurvesResult:
        return km_overall(self.data)

    @functools.cached_property
    def feature_curves(self) -> list[CurvesResult]:
        return [km_by_feature(self.data, curve_feature(self.data, i)) for i in range(len(CURVE_FEATURES))]

    @functools.cached_property
    def corr(self) -> CorrelationResult:
        return correlations(self.data, n_boot=self.n_boot, seed=self.seed)

    @functools.cached_property
    def effects(self) -> EffectsResult:
        return adjusted_effects(self.data)

    @functools.cached_property
    def family(self) -> FamilyOfTests:
        return family_of_tests(self.effects, self.feature_curves, claim_terms(self.data), corr=self.corr)

    @functools.cached_property
    def doses(self) -> dict[str, DoseResult]:
        return {f: dose_response(self.data, f) for f in DOSE_FEATURES}

    @property
    def suppressed_cells(self) -> int:
        """Cells hidden for small groups over the attrition tables, the curves and the bands."""
        return suppressed_total(self.attrition, *self.feature_curves, *self.doses.values())

    @property
    def notes(self) -> list[Note]:
        """The run's remarks: on the data, then on the models (metrics.json ``notes``)."""
        return list(self.data.notes) + list(self.effects.notes)


def prepare(con: Any, params: Any = None, n_boot: int = 1000, seed: int = 0) -> Scope:
    """Load the report's data (:func:`load`) for the section functions.

    Parameters
    ----------
    con : Ibis backend or None
    params : IncentiveRetentionParams or dict, optional
    n_boot : int, default 1000
        Bootstrap resamples of the correlation intervals.
    seed : int, default 0

    Examples
    --------
    >>> scope = prepare(ctx.con, ctx.params)  # doctest: +SKIP
    >>> ctx.present.show(headcount_attrition(scope))  # doctest: +SKIP
    """
    return Scope(load(con, params), n_boot=n_boot, seed=seed)


def data_window(scope: Scope) -> dict[str, str | None]:
    """The first month of the data and as_of (a snapshot: as_of only)."""
    return scope.data.data_window


def split_term(term: str) -> tuple[str, str | None]:
    """A model term as (covariate, level): ``"region[城东]"`` → ``("region", "城东")``,
    ``"team_bonus_share"`` → ``("team_bonus_share", None)``.

    Examples
    --------
    >>> split_term("role[senior_account_manager]")
    ('role', 'senior_account_manager')
    """
    if "[" in term and term.endswith("]"):
        col, lev = term.split("[", 1)
        return col, lev[:-1]
    return term, None


def _with_terms(frame: pd.DataFrame, col: str = "term") -> pd.DataFrame:
    parts = [split_term(str(t)) for t in frame[col]]
    return frame.assign(variable=[p[0] for p in parts], level=[p[1] for p in parts])


def _shown(code: str, frame: pd.DataFrame, columns: Sequence[Column], title: str | None = None) -> list[Table]:
    """A table of the columns ``frame`` has ([] for an empty frame)."""
    if frame is None or frame.empty:
        return []
    return [Table(code, frame, [c for c in columns if c.name in frame.columns], title=title)]


def _copy(res: SectionResult, cls: type | None = None, **changes: Any) -> Any:
    """A copy of a section result (the scope's results stay as computed), as ``cls`` if given."""
    import dataclasses

    values = {f.name: getattr(res, f.name) for f in dataclasses.fields(res) if f.init}
    values.update(notes=list(res.notes), tables=list(res.tables), figures=list(res.figures))
    values.update(changes)
    return (cls or type(res))(**values)


# --------------------------------------------------------------------- headcount and attrition
@dataclass(kw_only=True)
class Headcount(SectionResult):
    """Headline figures and the attrition tables (section ``headcount_attrition``).

    The notes are the remarks on the data (skipped features or controls, merged levels, a
    snapshot's outcome)."""

    report = REPORT
    default_code = "headcount_attrition"

    period: str = ""
    data_window: dict[str, Any] = field(default_factory=dict)
    source: str = "store"
    people: int = 0
    headcount: int = 0
    exits: int = 0
    attrition_rate: float = math.nan
    first_year_people: int = 0
    first_year_exits: int = 0
    first_year_attrition: float = math.nan
    median_tenure: float = math.nan

    def metrics(self) -> dict[str, Any]:
        return {"period": self.period, "data_window": dict(self.data_window), "source": self.source,
                "people": self.people, "headcount": self.headcount, "exits": self.exits,
                "attrition_rate": self.attrition_rate, "first_year_attrition": self.first_year_attrition}


def headcount_attrition(scope: Scope) -> Headcount:
    """Headcount, exits and attrition on the people of the 12 months to as_of; attrition by
    region, year, exit reason and hiring cohort (groups below min_group_size hidden)."""
    h, t, data = scope.head, scope.attrition, scope.data
    med = scope.overall.medians
    res = Headcount(period=data.as_of.isoformat(), data_window=data.data_window, source=data.source,
                    median_tenure=float(med["median_tenure"].iloc[0]) if not med.empty else math.nan,
                    notes=list(data.notes), **h)
    count = ("people", "hires", "exits", "months", "exits_first_year")
    cols = [Column("region", "name", codes=VALUES), Column("year", "text"), Column("exit_reason", "name", codes=VALUES),
            Column("hire_cohort", "text"), *(Column(c, "count") for c in count),
            Column("avg_headcount", "f1"), Column("attrition_rate", "rate"), Column("share", "rate"),
            Column("first_year_attrition", "rate")]
    for code, frame, title in (("by_region", t.by_region, f"{REPORT}.table.by_region"),
                               ("by_year", t.by_year, f"{REPORT}.table.by_year"),
                               ("by_reason", t.by_reason, f"{REPORT}.table.by_reason"),
                               ("by_cohort", t.by_cohort, f"{REPORT}.table.first_year_by_cohort")):
        order = {"by_region": ["region", "people", "hires", "exits", "avg_headcount", "attrition_rate"],
                 "by_year": ["year", "months", "people", "exits", "avg_headcount", "attrition_rate"],
                 "by_reason": ["exit_reason", "exits", "share"],
                 "by_cohort": ["hire_cohort", "people", "exits_first_year", "first_year_attrition"]}[code]
        by_name = {c.name: c for c in cols}
        res.tables += _shown(code, frame, [by_name[n] for n in order], title)
    return res


# ------------------------------------------------------------------------ retention curves
def _median_columns() -> list[Column]:
    return [Column("tier", "name", codes=TIERS), Column("people", "count"), Column("exits", "count"),
            Column("median_tenure", "f1"), Column("ci_low", "f1"), Column("ci_high", "f1")]


def _curves_figure(c: CurvesResult) -> Figure:
    return Figure("retention.km_curves", {"curves": c.curves, "min_group_size": c.min_group_size, "start": c.start,
                                          "feature": None if c.feature == "all" else c.feature})


@dataclass(kw_only=True)
class OverallCurves(CurvesResult):
    """The curve of everyone (section ``retention_curves``); its metrics also carry each shown
    feature's curves (method, log-rank test and its adjusted p)."""

    by_feature: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        km = self.medians.iloc[0] if not self.medians.empty else None
        return {"km_median_tenure": None if km is None else {"median": km["median_tenure"], "lo": km["ci_low"],
                                                              "hi": km["ci_high"]},
                "curves": self.by_feature}


def retention_curves(scope: Scope) -> OverallCurves:
    """The Kaplan–Meier curve of everyone (left truncation on the panel), its median tenure."""
    fam = scope.family
    by_feature = {c.feature: {"method": c.method,
                              "logrank": None if c.logrank is None else {
                                  "statistic": c.logrank.statistic, "df": c.logrank.df, "p": c.logrank.p_value,
                                  "p_adj": fam.p_adj("logrank", c.feature)}}
                  for c in scope.feature_curves if c.feature and c.ok}
    o = scope.overall
    return _copy(o, OverallCurves, code="retention_curves", by_feature=by_feature,
                 tables=_shown("medians", o.medians, _median_columns()), figures=[_curves_figure(o)])


def feature_curves(scope: Scope, i: int) -> CurvesResult:
    """The i-th feature's curves (:func:`curve_feature`): tiers, medians, the log-rank test
    with its Benjamini–Hochberg-adjusted p in the report's family (section
    ``curves_<feature>``)."""
    c = scope.feature_curves[i]
    if not c.ok:
        return _copy(c)
    return _copy(c, p_adj=scope.family.p_adj("logrank", c.feature),
                 tables=_shown("medians", c.medians, _median_columns()), figures=[_curves_figure(c)])


# --------------------------------------------------------------------------- correlations
def correlation_section(scope: Scope) -> CorrelationResult:
    """Correlations with leaving (:func:`correlations`): the table (95 % CIs, p adjusted in the
    report's family) and the heatmap of how the features move together (section
    ``correlations``)."""
    c = scope.corr
    if not c.ok:
        return _copy(c)
    fam = scope.family
    table = c.table.assign(p_adj=[fam.p_adj("correlation", f) if fam.p_adj("correlation", f) is not None
                                  else np.nan for f in c.table["feature"]])
    c = _copy(c, table=table)
    t = table.rename(columns={"n": "people", "lo": "ci_low", "hi": "ci_high"})
    cols = [Column("feature", "name", codes=NAMES), Column("method", "code", codes=f"{REPORT}.method", label=f"{REPORT}.column.method"),
            Column("people", "count"), Column("rho", "f3", label=f"{REPORT}.column.rho"),
            Column("ci_low", "f2", label=f"{REPORT}.column.boot_low"),
            Column("ci_high", "f2", label=f"{REPORT}.column.boot_high"),
            Column("p_adj", "p_value", label=f"{REPORT}.column.p_adj")]
    return _copy(c, tables=_shown("correlations", t, cols),
                 figures=[Figure("retention.correlation_heatmap", {"matrix": c.matrix})])


# ------------------------------------------------------------------------ adjusted effects
def _term_columns() -> list[Column]:
    return [Column("variable", "name", codes=NAMES, label="column.term"),
            Column("level", "name", codes=VALUES, label=f"{REPORT}.column.level")]


def effects_section(scope: Scope) -> EffectsResult:
    """Raw vs adjusted hazard ratios (per unit as stored and per SD, the BH-adjusted p of each
    feature term) and the forest plot (section ``adjusted_effects``). When the model did not
    converge, no estimate is shown (the text says so)."""
    e, fam = scope.effects, scope.family
    if not e.ok or not e.converged:
        return _copy(e, family=fam)
    sbs = _with_terms(e.side_by_side)
    claims = claim_terms(scope.data)
    # controls adjust the comparison; the report states nothing about them (no p shown)
    about = sbs["variable"].isin(claims)
    sbs = sbs.assign(adj_p=sbs["adj_p"].where(about))
    if not fam.table.empty:
        sbs = sbs.assign(p_adj=[fam.p_adj("cox", t) for t in sbs["term"]])
    c = f"{REPORT}.column"
    cols = _term_columns() + [
        Column("raw_hr", "f3", label=f"{c}.raw_hr"), Column("raw_lo", "f3", label=f"{c}.raw_lo"),
        Column("raw_hi", "f3", label=f"{c}.raw_hi"), Column("adj_hr", "f3", label=f"{c}.adj_hr"),
        Column("adj_lo", "f3", label=f"{c}.adj_lo"), Column("adj_hi", "f3", label=f"{c}.adj_hi"),
        Column("adj_p", "p_value", label="column.p_value"), Column("p_adj", "p_value", label=f"{c}.p_adj"),
        Column("adj_hr_sd", "f2", label=f"{c}.hr_per_sd")]
    fig = Figure("retention.hazard_ratio_forest", {"side_by_side": e.side_by_side, "terms": forest_terms(scope.data)})
    res = _copy(e, family=fam, tables=_shown("effects", sbs, cols), figures=[fig])
    res.note("associations")
    return res


@dataclass(kw_only=True)
class ModelChecks(SectionResult):
    """The proportional-hazards check of the adjusted Cox model and the logistic robustness
    check (section ``model_checks``)."""

    report = REPORT
    default_code = "model_checks"

    ph_violations: list[str] = field(default_factory=list)
    converged: bool = True
    logistic: bool = False
    #: the logistic check on person-months (True) or on a snapshot's people (False)
    panel: bool = True


def model_checks(scope: Scope) -> ModelChecks:
    """Schoenfeld-residual rank correlations with time (PH check), and odds ratios of leaving
    within the horizon (logistic model, a person-level check of the Cox model)."""
    e = scope.effects
    res = ModelChecks(ph_violations=list(e.ph_violations), converged=e.converged, logistic=e.logistic is not None,
                      panel=scope.data.panel is not None)
    if not e.ok:
        res.skip = e.skip
        return res
    if not e.converged:
        return res
    c = f"{REPORT}.column"
    if e.ph is not None and not e.ph.empty:
        res.tables += _shown("ph", _with_terms(e.ph), _term_columns() + [
            Column("rho", "f3", label=f"{c}.rho_time"), Column("p", "p_value", label="column.p_value"),
            Column("violated", "flag", label=f"{c}.violated")], title=f"{REPORT}.table.ph")
    if e.logistic is not None:
        fam = scope.family
        lt = _with_terms(e.logistic.table)
        # calendar year and tenure band are the comparison's strata, not findings
        lt = lt[~lt["variable"].isin(LOGISTIC_STRATA)]
        about = lt["variable"].isin(claim_terms(scope.data))
        lt = lt.assign(p=lt["p"].where(about), p_adj=[fam.p_adj("logistic", t) for t in lt["term"]])
        res.tables += _shown("logistic", lt, _term_columns() + [
            Column("or", "f3", label="column.odds_ratio"), Column("lo", "f3", label="column.ci_low"),
            Column("hi", "f3", label="column.ci_high"), Column("p", "p_value", label="column.p_value"),
            Column("p_adj", "p_value", label=f"{c}.p_adj")],
            title=f"{REPORT}.table.logistic")
    return res


# ------------------------------------------------------------------------- dose–response
def dose_section(scope: Scope, feature: str) -> DoseResult:
    """Monthly exit rate by bands of ``feature`` (team bonus share in 10 % steps, payout delay
    0 | 1–7 | 8–14 | 15–30 | > 30 days), Wilson 95 % intervals, and its chart (section
    ``dose_<feature>``)."""
    d = scope.doses[feature] if feature in scope.doses else dose_response(scope.data, feature)
    if not d.ok:
        return _copy(d)
    band_label = f"column.{feature}" if feature in TIME_VARYING else "column.band"
    cols = [Column("band", "name", codes=TIERS, label=band_label), Column("people", "count"),
            Column("exits", "count"), Column("exit_rate", "rate"), Column("ci_low", "rate"),
            Column("ci_high", "rate"), Column("annualised_attrition", "rate")]
    return _copy(d, tables=_shown("bands", d.table, cols),
                 figures=[Figure("retention.dose_response", {"table": d.table, "feature": feature})])


# -------------------------------------------------------------------------- written summary
@dataclass(kw_only=True)
class Summary(SectionResult):
    """What the written summary says (section ``written_summary``): the headline, the adjusted
    associations judged on the family of tests, raw vs adjusted, the PH check. Its metrics
    are the run's own: features, controls, notes (codes and values), cells suppressed."""

    report = REPORT
    default_code = "written_summary"

    head: dict[str, Any] = field(default_factory=dict)
    effects: EffectsResult | None = None
    family: FamilyOfTests | None = None
    features: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    source: str = "store"
    run_notes: list[Note] = field(default_factory=list)
    suppressed_cells: int = 0

    def metrics(self) -> dict[str, Any]:
        return {"suppressed_cells": int(self.suppressed_cells), "features": list(self.features),
                "controls": list(self.controls), "notes": [n.as_dict() for n in self.run_notes]}


def written_summary(scope: Scope) -> Summary:
    """The figures of the written summary."""
    d = scope.data
    return Summary(head=dict(scope.head), effects=scope.effects, family=scope.family, features=list(d.features),
                   controls=list(d.controls), source=d.source, run_notes=scope.notes,
                   suppressed_cells=scope.suppressed_cells)


def sections(scope: Scope) -> list[SectionResult]:
    """Every section of the report, in the order of the notebook."""
    return [headcount_attrition(scope), retention_curves(scope),
            *(feature_curves(scope, i) for i in range(len(CURVE_FEATURES))),
            correlation_section(scope), effects_section(scope), model_checks(scope),
            *(dose_section(scope, f) for f in DOSE_FEATURES), written_summary(scope)]


def report_metrics(con: Any, params: Any = None, n_boot: int = 1000) -> dict[str, Any]:
    """The report's metrics.json figures from a connection, without the notebook: every
    section's metrics (:func:`sections`), ``skipped_sections`` and ``skipped_details``.
    ``significant_features`` is the key a check of a world without effects looks at.

    Examples
    --------
    >>> report_metrics(con, {"as_of": "2026-10-31"})["significant_features"]  # doctest: +SKIP
    []
    """
    return section_metrics(sections(prepare(con, params, n_boot=n_boot)))


def forest_terms(data: RetentionData) -> list[str]:
    """Model terms shown in the hazard-ratio chart: the features and numeric controls."""
    return list(data.features) + [c for c in data.controls if c not in data.categorical and c not in data.features]


def suppressed_total(*results: Any) -> int:
    """Total suppressed cells over section results (each with ``suppressed_cells``)."""
    return int(sum(int(getattr(r, "suppressed_cells", 0) or 0) for r in results))

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
the promotion. The p-values about the features (Cox and log-rank) form one family, adjusted by
Benjamini–Hochberg (:func:`family_of_tests`, metrics.json ``significant_features``).

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
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import ibis
import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype

from . import privacy, store
from .glossary import label
from .errors import (
    InsufficientDataError,
    MissingTableError,
    ParameterError,
    ProportionalHazardsWarning,
    StatsWarning,
)
from .stats import correlation as corr_mod
from .stats import survival as sv

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
# notes and skip reasons (zh/en)
# --------------------------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    "merged": ("控制变量“{c}”中人数少于 {k} 人的 {n} 个类别已合并为“other”。",
               "control '{c}': {n} level(s) with fewer than {k} people merged into 'other'."),
    "missing_feature": ("因素“{name}”不在数据中，已略过。", "feature '{name}' is not in the data: skipped."),
    "missing_control": ("控制变量“{name}”不在数据中，已略过。", "control '{name}' is not in the data: skipped."),
    "snapshot": ("快照数据：“期内离职”即快照中的离职标记；没有随时间变化的协变量。",
                 "snapshot: 'left within the horizon' is the snapshot's own left flag; no time-varying covariates."),
    "no_feature": ("数据中没有因素“{name}”", "feature '{name}' is not in the data"),
    "no_more": ("没有更多可分析的因素", "no further feature"),
    "few_tiers": ("“{name}”中达到 {k} 人的分组少于两个", "fewer than two tiers of '{name}' with at least {k} people"),
    "few_people": ("观察期满的人数太少", "too few people observed over the horizon"),
    "no_features": ("数据中没有任何激励因素", "no feature in the data"),
    "logit_skipped": ("逻辑回归略过：{exc}", "logistic model skipped: {exc}"),
    "dropped": ("{n} 行因缺少协变量未进入 Cox 模型。", "{n} rows with a missing covariate left out of the Cox model."),
}


def _msg(key: str, lang: str = "zh", **kw: Any) -> str:
    zh, en = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**kw)


# --------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------

def _to_date(value: Any, name: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, str) and value.strip().lower() == "today":
        return dt.date.today()
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise ParameterError(f"The '{name}' parameter must be a date 'YYYY-MM-DD', 'today' or ''. Got {value!r} instead.") from None


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


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
    lang: str = "zh"
    notes: list[str] = field(default_factory=list)
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
        controls, min_group_size, lang.

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
        lang=_params_get(params, "lang", "zh"),
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
        o = con.table("orders")
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
    o = con.table("orders")
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
    out). ``role`` is the entry role before a rep's first promotion (see ``_role_history``).

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
    df["start"] = _tenure_months(df["hire_date"], row_start) - 1.0 / DAYS_PER_MONTH
    df["stop"] = _tenure_months(df["hire_date"], end)
    df["event"] = df["exit_date"].notna() & (df["exit_date"] < nxt) & (df["exit_date"] >= df["period"])
    for b in BOOL_FEATURES + ("promoted",):
        if b in df.columns:
            df[b] = df[b].astype("float64")
    df = _role_history(df)
    df = df.sort_values(["rep_id", "period"]).reset_index(drop=True)
    df.attrs.update(data_start=data_start, as_of=as_of_d, missing_features=missing)
    return df


def _role_history(df: pd.DataFrame) -> pd.DataFrame:
    """Make ``role`` time-varying: reps.role is the role *now*, so before a rep's first
    promotion in the data the rep held the entry role (the most common role of the reps
    hired within the data). Without this, a promoted rep would count as senior in months
    when they were not, and "senior" would look protective (immortal-time bias)."""
    if "promoted" not in df.columns or df["role"].isna().all():
        return df
    first_promo = df.loc[df["promoted"] > 0].groupby("rep_id")["period"].min()
    if first_promo.empty:
        return df
    data_start = df["period"].min()
    new_hires = df.loc[df["hire_date"] >= data_start].drop_duplicates("rep_id")["role"].dropna()
    entry_role = (new_hires if not new_hires.empty else df.drop_duplicates("rep_id")["role"].dropna()).mode()
    if entry_role.empty:
        return df
    fp = df["rep_id"].map(first_promo)
    before = fp.notna() & (df["period"] < fp)
    df = df.copy()
    df.loc[before, "role"] = entry_role.iloc[0]
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


def _lump_small_levels(df: pd.DataFrame, cols: Sequence[str], id_col: str, k: int, notes: list[str],
                       lang: str = "zh") -> pd.DataFrame:
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
            notes.append(_msg("merged", lang, c=c, n=len(small), k=k))
    return df


def _resolve(requested: Sequence[str], available: Sequence[str], kind: str, notes: list[str],
             lang: str = "zh") -> list[str]:
    out = []
    for name in requested:
        if name in available:
            out.append(name)
        else:
            notes.append(_msg(f"missing_{kind}", lang, name=name))
    return out


def load_panel(con: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
               features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
               min_group_size: int = 5, lang: str = "zh") -> RetentionData:
    """Report data from the store: panel, people, horizon frame and headline window.

    Examples
    --------
    >>> data = load_panel(con, "2026-10-31")  # doctest: +SKIP
    """
    from .params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    panel = known_at_start(build_panel(con, as_of, cohort_start))
    notes: list[str] = []
    avail = [c for c in panel.columns if panel[c].notna().any() and not c.startswith("own_month_")]
    feats = _resolve(features if features is not None else DEFAULT_FEATURES, avail, "feature", notes, lang)
    ctrls = _resolve(controls if controls is not None else DEFAULT_CONTROLS, avail, "control", notes, lang)
    categorical = [c for c in ctrls if c in CATEGORICAL_CONTROLS or is_string_dtype(panel[c])]
    numeric_ctrls = [c for c in ctrls if c not in categorical]
    as_of_d = panel.attrs["as_of"]
    attrs = dict(panel.attrs)
    panel = _lump_small_levels(panel, categorical, "rep_id", min_group_size, notes, lang)
    panel.attrs.update(attrs)
    people = _person_level(panel, feats, numeric_ctrls)
    horizon = _horizon_frame(panel, horizon_months, feats, numeric_ctrls, as_of_d)
    window = _window_from_panel(panel, as_of_d, panel.attrs["data_start"])
    monthly = _monthly(panel)
    return RetentionData(
        source="store", as_of=as_of_d, data_start=panel.attrs["data_start"], people=people, window=window,
        horizon=horizon, panel=panel, features=feats, controls=ctrls, categorical=categorical,
        horizon_months=horizon_months, min_group_size=min_group_size, lang=lang, notes=notes, monthly=monthly,
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
        if c in ("person_id", "left", "tenure") or df[c].dtype != object:
            continue
        vals = set(df[c].dropna().astype(str).str.strip().str.lower().unique())
        if vals and vals <= {"yes", "no", "y", "n", "true", "false"}:
            df[c] = _as_bool(df[c]).astype(float)
    return df


def load_snapshot(source: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
                  features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
                  min_group_size: int = 5, lang: str = "zh", tenure_unit: str = "years") -> RetentionData:
    """Report data from an hr_snapshot (file path, or a store connection with table hr_snapshot).

    Features and controls are whatever requested columns exist (missing ones are skipped
    with a note). "Left within the horizon" is the snapshot's own ``left`` flag.

    Examples
    --------
    >>> data = load_snapshot("hr.csv", features=["OverTime"], controls=["JobLevel"])  # doctest: +SKIP
    """
    from .params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    df = read_snapshot(source, tenure_unit)
    notes: list[str] = []
    df = df.dropna(subset=["tenure"])
    if cohort_start and "hire_date" in df.columns:
        df = df[pd.to_datetime(df["hire_date"]) >= pd.Timestamp(_to_date(cohort_start, "cohort_start"))]
    lower = {str(c).lower(): c for c in df.columns}
    # requested names match columns case-insensitively
    feats_req = [lower.get(f.lower(), f) for f in (features if features is not None else DEFAULT_FEATURES)]
    ctrls_req = [lower.get(c.lower(), c) for c in (controls if controls is not None else DEFAULT_CONTROLS)]
    avail = [c for c in df.columns if c not in ("person_id", "tenure", "left") and df[c].notna().any()]
    feats = _resolve(feats_req, avail, "feature", notes, lang)
    ctrls = _resolve(ctrls_req, avail, "control", notes, lang)
    for c in feats:
        if df[c].dtype == object:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    feats = [f for f in feats if df[f].notna().any()]
    categorical = [c for c in ctrls if df[c].dtype == object or c in CATEGORICAL_CONTROLS]
    df = _lump_small_levels(df, categorical, "person_id", min_group_size, notes, lang)
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
    notes.append(_msg("snapshot", lang))
    window = people[["person_id", "tenure", "left"]].copy()
    return RetentionData(
        source="snapshot", as_of=as_of_d, data_start=None, people=people.reset_index(drop=True), window=window,
        horizon=horizon.reset_index(drop=True), panel=None, features=feats, controls=ctrls, categorical=categorical,
        horizon_months=horizon_months, min_group_size=min_group_size, lang=lang, notes=notes,
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


@dataclass
class AttritionTables:
    """Section 1 tables, each already suppressed for small groups."""

    by_region: pd.DataFrame
    by_cohort: pd.DataFrame
    by_reason: pd.DataFrame
    by_year: pd.DataFrame
    suppressed_cells: int
    skipped_reason: str | None = None


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
            "region": label("total", data.lang), "people": panel["rep_id"].nunique(), "hires": int(by_region["hires"].sum()),
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
        by_reason["exit_reason"] = [label(str(x), data.lang) for x in by_reason["exit_reason"]]
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

def feature_tiers(values: pd.Series, feature: str) -> pd.Series:
    """Tier labels of a person-level feature for Kaplan–Meier curves.

    0/1 features: "yes"/"no"; team_bonus_share (a person's mean share): "0-10%" (< 15 %),
    "20-40%" (15–45 %), "50%+";
    payout_delay_days (a person's mean delay): "0-3 days" / "4-7 days" / "> 7 days"; other numerics:
    thirds ("low"/"mid"/"high").

    Examples
    --------
    >>> feature_tiers(pd.Series([0.0, 0.31, 0.5]), "team_bonus_share").tolist()
    ['0-10%', '20-40%', '50%+']
    """
    v = pd.to_numeric(values, errors="coerce")
    u = v.dropna().unique()
    if feature in BOOL_FEATURES or (len(u) <= 2 and set(np.round(u, 6)) <= {0.0, 1.0}):
        return v.map(lambda x: None if pd.isna(x) else ("yes" if x > 0.5 else "no"))
    if feature == "team_bonus_share":
        return pd.cut(v, [-np.inf, 0.15, 0.45, np.inf], labels=["0-10%", "20-40%", "50%+"], right=False).astype(object)
    if feature == "payout_delay_days":
        return pd.cut(v, [-np.inf, 3, 7, np.inf], labels=["0-3 days", "4-7 days", "> 7 days"]).astype(object)
    if len(u) <= 4:
        return v.map(lambda x: None if pd.isna(x) else f"{x:g}")
    q = v.quantile([1 / 3, 2 / 3]).to_numpy()
    if q[0] == q[1]:
        return pd.Series(np.where(v <= q[0], "low", "high"), index=v.index).where(v.notna())
    return pd.cut(v, [-np.inf, q[0], q[1], np.inf], labels=["low", "mid", "high"]).astype(object)


@dataclass
class CurvesResult:
    """Kaplan–Meier curves of one feature's tiers (groups below the minimum left out)."""

    feature: str
    curves: dict[str, sv.KMResult]
    medians: pd.DataFrame  # tier, people, exits, median_tenure, ci_low, ci_high (months; inf: not reached)
    logrank: sv.LogRankResult | None
    min_group_size: int
    suppressed_cells: int = 0
    skipped_reason: str | None = None
    #: "time-dependent" (panel: each person-month in the tier of the value known at its start;
    #: Simon–Makuch curves and Mantel–Byar log-rank), "baseline" (snapshot: one value per
    #: person) or "overall"
    method: str = "overall"
    #: tenure (months) the curves start from: 0, or for time-dependent tiers the first tenure
    #: at which every shown tier has min_group_size people at risk (curves are conditional on
    #: being employed then)
    start: float = 0.0


CURVE_FEATURES = ("team_bonus_share", "payout_delay_days", "promoted_last_12m")


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
    med = pd.DataFrame([{"tier": tier_text("all", data.lang), "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                         "ci_low": km.median_lo, "ci_high": km.median_hi}])
    return CurvesResult("all", {"all": km}, med, None, data.min_group_size)


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
    if not feature or feature not in data.features or feature not in p.columns:
        return CurvesResult(feature, {}, pd.DataFrame(), None, data.min_group_size,
                            skipped_reason=_msg("no_feature", data.lang, name=feature) if feature else _msg("no_more", data.lang))
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
    if len(shown) < 2:
        return CurvesResult(feature, {}, pd.DataFrame(), None, data.min_group_size, n_sup,
                            skipped_reason=_msg("few_tiers", data.lang, name=feature, k=data.min_group_size),
                            method=method)
    ids = (lambda s: s["person_id"]) if method == "time-dependent" else (lambda s: None)  # noqa: E731
    start = 0.0
    if method == "time-dependent":
        # a tier such as "promoted" has nobody at short tenures; compared from tenure 0 its curve
        # would skip the early months everyone else lives through. Curves and test start at the
        # first tenure at which every shown tier has min_group_size people at risk: they show
        # the share still employed among those employed then.
        start = _common_start(sub, shown, data.min_group_size)
        if not math.isfinite(start):
            return CurvesResult(feature, {}, pd.DataFrame(), None, data.min_group_size, n_sup,
                                skipped_reason=_msg("few_tiers", data.lang, name=feature, k=data.min_group_size),
                                method=method)
        sub = sub[sub["tenure"] > start].assign(entry=lambda d: d["entry"].clip(lower=start))
    curves, rows = {}, []
    for t in sorted(shown, key=_tier_key):
        s = sub[sub["tier"] == t]
        km = sv.kaplan_meier(s["tenure"], s["left"], entry=s["entry"], ids=ids(s))
        if method == "time-dependent":
            km = _while_enough_at_risk(km, data.min_group_size)
        curves[t] = km
        rows.append({"tier": tier_text(t, data.lang), "people": km.n, "exits": km.n_events, "median_tenure": km.median,
                     "ci_low": km.median_lo, "ci_high": km.median_hi})
    lr = sv.logrank_test(sub["tenure"], sub["left"], sub["tier"], entry=sub["entry"], ids=ids(sub))
    return CurvesResult(feature, curves, pd.DataFrame(rows), lr, data.min_group_size, n_sup, method=method,
                        start=start)


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


TIER_ZH = {"yes": "是", "no": "否", "low": "低", "mid": "中", "high": "高", "all": "全体",
           "0-3 days": "0–3天", "4-7 days": "4–7天", "> 7 days": ">7天"}


def tier_text(t: str, lang: str = "zh") -> str:
    """Display text of a tier label."""
    return TIER_ZH.get(str(t), str(t)) if lang == "zh" else str(t)


def _tier_key(t: str) -> tuple:
    order = {"no": 0, "yes": 1, "0-10%": 0, "20-40%": 1, "50%+": 2, "0-3 days": 0, "4-7 days": 1, "> 7 days": 2, "low": 0, "mid": 1, "high": 2}
    if t in order:
        return (0, order[t], t)
    try:
        return (1, float(str(t).rstrip("%")), t)
    except ValueError:
        return (2, 0, t)


# --------------------------------------------------------------------------------------
# section 3: correlations
# --------------------------------------------------------------------------------------

@dataclass
class CorrelationResult:
    """Correlations of each feature with leaving within the horizon."""

    table: pd.DataFrame  # feature, method, n, rho, lo, hi, p, p_adj
    matrix: pd.DataFrame
    n_people: int
    skipped_reason: str | None = None

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {r.feature: {"rho": r.rho, "lo": r.lo, "hi": r.hi, "p_adj": r.p_adj} for r in self.table.itertuples()}


def correlations(data: RetentionData, n_boot: int = 1000, seed: int = 0) -> CorrelationResult:
    """Spearman / point-biserial correlation of each feature with leaving within the
    horizon, bootstrap 95 % CIs (fixed seed), Benjamini–Hochberg adjusted p-values.

    Examples
    --------
    >>> correlations(data).table  # doctest: +SKIP
    """
    h = data.horizon
    feats = [f for f in data.features if f in h.columns]
    if len(h) < max(10, data.min_group_size) or not feats:
        return CorrelationResult(pd.DataFrame(), pd.DataFrame(), len(h),
                                 skipped_reason=_msg("few_people", data.lang))
    tab = corr_mod.correlate(h, feats, "left_within_horizon", n_boot=n_boot, seed=seed)
    cols = feats + [c for c in data.controls if c not in data.categorical and c in h.columns] + ["left_within_horizon"]
    mat = corr_mod.correlation_matrix(h, cols)
    return CorrelationResult(tab, mat, len(h))


# --------------------------------------------------------------------------------------
# section 4: adjusted effects
# --------------------------------------------------------------------------------------

@dataclass
class EffectsResult:
    """Raw (one feature at a time) and adjusted (all features + controls) Cox models,
    the proportional-hazards check and the logistic robustness check."""

    adjusted: sv.CoxResult | None
    raw: pd.DataFrame  # term, hr, lo, hi, p (univariable Cox)
    side_by_side: pd.DataFrame  # term, raw_/adj_ hr, lo, hi, p, hr_sd, lo_sd, hi_sd
    logistic: sv.LogitResult | None
    ph: pd.DataFrame
    ph_violations: list[str]
    notes: list[str] = field(default_factory=list)
    skipped_reason: str | None = None
    #: "previous_month" (panel: covariates known at each month's start) or "baseline" (snapshot)
    covariate_timing: str = COVARIATE_TIMING
    #: person-months left out because the previous month is not in the data (hire month,
    #: first month of the data), and rows left out for another missing covariate
    rows_without_previous_month: int = 0
    rows_missing_covariate: int = 0

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
    notes: list[str] = []
    if not data.features:
        return EffectsResult(None, pd.DataFrame(), pd.DataFrame(), None, pd.DataFrame(), [], notes,
                             skipped_reason=_msg("no_features", data.lang))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatsWarning)
        try:
            adj = sv.cox_ph(df, covs, duration_col="stop", event_col="event", entry_col=entry,
                            categorical=data.categorical)
        except InsufficientDataError as exc:
            return EffectsResult(None, pd.DataFrame(), pd.DataFrame(), None, pd.DataFrame(), [], notes,
                                 skipped_reason=str(exc))
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
        h = data.horizon
        lcovs = [c for c in covs if c in h.columns]
        try:
            logit = sv.logistic(h, "left_within_horizon", lcovs, categorical=[c for c in data.categorical if c in lcovs],
                                reference=adj.reference_levels)
        except InsufficientDataError as exc:
            notes.append(_msg("logit_skipped", data.lang, exc=exc))
    for w in caught:
        if issubclass(w.category, StatsWarning) and not issubclass(w.category, ProportionalHazardsWarning):
            if "Cox model" in str(w.message):
                continue  # carried by EffectsResult.converged and said by the narrative
            notes.append(str(w.message))
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
    return EffectsResult(adj, raw, sbs, logit, ph, adj.ph_violations, notes,
                         covariate_timing=COVARIATE_TIMING if data.panel is not None else "baseline",
                         rows_without_previous_month=n_first, rows_missing_covariate=n_other)


# --------------------------------------------------------------------------------------
# section 5: the 70/30 question and payout delay
# --------------------------------------------------------------------------------------

@dataclass
class DoseResult:
    """Monthly exit rate by bands of a feature (person-months), with Wilson 95 % CIs."""

    feature: str
    table: pd.DataFrame  # band, people, exits, exit_rate, ci_low, ci_high, annualised_attrition
    suppressed_cells: int
    skipped_reason: str | None = None


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        c = (p + z * z / (2 * n)) / den
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return c - h, c + h


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
    if feature not in data.features:
        return DoseResult(feature, pd.DataFrame(), 0, skipped_reason=_msg("no_feature", data.lang, name=feature))
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
    t["ci_low"], t["ci_high"] = _wilson(t["exits"].to_numpy(), t["person_months"].to_numpy())
    if data.panel is not None:
        t["annualised_attrition"] = 1 - (1 - t["exit_rate"]) ** 12
    t = t.iloc[sorted(range(len(t)), key=lambda i: _band_key(t["band"].iloc[i]))].reset_index(drop=True)
    s = privacy.suppress_small(t, "people", data.min_group_size, dims=["band"])
    # person-months stay out of the shown table: exit_rate = exits ÷ person-months already says it
    return DoseResult(feature, s.frame.drop(columns="person_months"), s.n_suppressed)


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


@dataclass
class FamilyOfTests:
    """Every p-value the report states about an incentive feature, adjusted together
    (Benjamini–Hochberg, false discovery rate ``alpha``).

    The family: the adjusted Cox model's Wald test of each feature term (controls are not
    in it) and the log-rank test of each feature's retention curves that the report shows.
    The correlation section is adjusted within itself (see :func:`correlations`).
    ``table``: feature, test ("cox" | "logrank"), term, p, p_adj, significant.
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

    def p_adj(self, test: str, key: str) -> float | None:
        """Adjusted p of one test (``key``: the term of a Cox test, the feature of a log-rank
        test); None when it is not in the family."""
        if self.table.empty:
            return None
        col = "term" if test == "cox" else "feature"
        r = self.table[(self.table["test"] == test) & (self.table[col] == key)]
        return float(r["p_adj"].iloc[0]) if len(r) else None

    def records(self) -> list[dict[str, Any]]:
        return [{"feature": r.feature, "test": r.test, "term": r.term, "p": float(r.p), "p_adj": float(r.p_adj)}
                for r in self.table.itertuples()]


def family_of_tests(effects: "EffectsResult", curves: Sequence["CurvesResult"] = (), features: Sequence[str] = (),
                   alpha: float = SIGNIFICANCE) -> FamilyOfTests:
    """The report's family of tests about ``features``, Benjamini–Hochberg adjusted.

    Parameters
    ----------
    effects : EffectsResult
        Its adjusted Cox model gives one Wald test per feature term (none when the model did
        not converge).
    curves : sequence of CurvesResult
        Each shown feature's curves give their log-rank test.
    features : sequence of str
        The incentive features (the report's ``data.features``).

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

    if effects is not None and effects.adjusted is not None and effects.adjusted.converged:
        for r in effects.adjusted.table.itertuples():
            f = owner(r.term)
            if f is not None and np.isfinite(r.p):
                rows.append({"feature": f, "test": "cox", "term": r.term, "p": float(r.p)})
    for c in curves:
        if c is not None and c.logrank is not None and c.feature in feats and np.isfinite(c.logrank.p_value):
            rows.append({"feature": c.feature, "test": "logrank", "term": c.feature, "p": float(c.logrank.p_value)})
    t = pd.DataFrame(rows, columns=["feature", "test", "term", "p"])
    t["p_adj"] = bh_adjust(t["p"].to_numpy()) if len(t) else pd.Series(dtype=float)
    t["significant"] = t["p_adj"] < alpha
    return FamilyOfTests(t, alpha)


def _finite(x: Any) -> Any:
    """NaN and inf become None, recursively (metrics.json never carries NaN as a value)."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


# --------------------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------------------

def metrics(data: RetentionData, head: dict, overall: CurvesResult, corr: CorrelationResult,
            eff: EffectsResult, suppressed_cells: int, curves: Sequence[CurvesResult] = (),
            family: FamilyOfTests | None = None) -> dict[str, Any]:
    """The report's metrics.json figures (NaN and inf written as None).

    ``significant_features``: the features whose Benjamini–Hochberg-adjusted p-value is below
    0.05 in the report's family of tests (:func:`family_of_tests` over ``eff`` and ``curves``;
    pass the family when the caller already has it).

    Examples
    --------
    >>> m = metrics(data, headline(data), km_overall(data), correlations(data), adjusted_effects(data), 0)  # doctest: +SKIP
    """
    km = overall.medians.iloc[0] if not overall.medians.empty else None
    fam = family if family is not None else family_of_tests(eff, curves, data.features)
    adj = eff.adjusted
    out = {
        "period": data.as_of.isoformat(),
        "data_window": data.data_window,
        "source": data.source,
        "people": head["people"],
        "headcount": head["headcount"],
        "exits": head["exits"],
        "attrition_rate": head["attrition_rate"],
        "first_year_attrition": head["first_year_attrition"],
        "km_median_tenure": None if km is None else {"median": km["median_tenure"], "lo": km["ci_low"], "hi": km["ci_high"]},
        "hazard_ratios": eff.hazard_ratios(),
        "hazard_ratios_per_sd": eff.hazard_ratios_per_sd(),
        "covariate_timing": eff.covariate_timing if data.panel is not None else "baseline",
        "cox_fit": None if adj is None else {
            "method": adj.method, "converged": bool(adj.converged), "ties": adj.ties, "aliased": list(adj.aliased),
            "diverging": list(adj.diverging),
            "rows": int(adj.n_obs), "events": int(adj.n_events),
            "rows_without_previous_month": int(eff.rows_without_previous_month),
            "rows_missing_covariate": int(eff.rows_missing_covariate),
        },
        "curves": {c.feature: {"method": c.method,
                               "logrank": None if c.logrank is None else {
                                   "statistic": c.logrank.statistic, "df": c.logrank.df, "p": c.logrank.p_value,
                                   "p_adj": fam.p_adj("logrank", c.feature)}}
                   for c in curves if c is not None and c.feature and not c.skipped_reason},
        "multiple_testing": {"method": fam.method, "alpha": fam.alpha, "tests": fam.records()},
        "significant_features": fam.significant_features,
        "correlations": corr.as_dict() if not corr.table.empty else {},
        "ph_violations": list(eff.ph_violations),
        "suppressed_cells": int(suppressed_cells),
        "features": list(data.features),
        "controls": list(data.controls),
        "notes": list(data.notes) + list(eff.notes),
    }
    return _finite(out)


def report_metrics(con: Any, params: Any = None, n_boot: int = 1000) -> dict[str, Any]:
    """The report's metrics.json from a connection, without the notebook: load, the
    headline, the overall curve, the shown features' curves, correlations, the adjusted
    effects, the family of tests. ``significant_features`` is the key a check of a world
    without effects looks at.

    Examples
    --------
    >>> report_metrics(con, {"as_of": "2026-10-31"})["significant_features"]  # doctest: +SKIP
    []
    """
    data = load(con, params)
    head = headline(data)
    overall = km_overall(data)
    curves = [km_by_feature(data, curve_feature(data, i)) for i in range(len(CURVE_FEATURES))]
    corr = correlations(data, n_boot=n_boot)
    eff = adjusted_effects(data)
    return metrics(data, head, overall, corr, eff, suppressed_total(*curves), curves=curves)


# --------------------------------------------------------------------------------------
# display frames (translated, CIs as text; no person-level values)
# --------------------------------------------------------------------------------------

def forest_terms(data: RetentionData) -> list[str]:
    """Model terms shown in the hazard-ratio chart: the features and numeric controls."""
    return list(data.features) + [c for c in data.controls if c not in data.categorical and c not in data.features]


def term_text(term: str, lang: str = "zh") -> str:
    """Display text of a model term: "region[城东]" → "区域: 城东".

    Examples
    --------
    >>> term_text("region[城东]", "en")
    'Region: 城东'
    """
    if "[" in term:
        col, lev = term.split("[", 1)
        return f"{label(col, lang)}: {label(lev.rstrip(']'), lang)}"
    return label(term, lang)


def _ci(lo: Any, hi: Any, code: str = "f2") -> str:
    from .display import fmt

    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return "—"
    return f"{fmt(lo, code)} – {fmt(hi, code)}"


def effects_table(eff: EffectsResult, lang: str = "zh", family: FamilyOfTests | None = None) -> pd.DataFrame:
    """Raw vs adjusted hazard ratios for display (per unit as stored, and per SD); with
    ``family``, the Benjamini–Hochberg-adjusted p of each feature term (controls: —).

    Examples
    --------
    >>> effects_table(adjusted_effects(data), "en").columns[0]  # doctest: +SKIP
    'term'
    """
    t = eff.side_by_side
    zh = lang == "zh"
    rows = []
    for r in t.itertuples():
        raw_hr = getattr(r, "raw_hr", math.nan)
        rows.append({
            "term": term_text(r.term, lang),
            ("未调整风险比" if zh else "Raw HR"): raw_hr,
            ("未调整95%区间" if zh else "Raw 95% CI"): _ci(getattr(r, "raw_lo", None), getattr(r, "raw_hi", None), "f3"),
            ("调整后风险比" if zh else "Adjusted HR"): r.adj_hr,
            ("调整后95%区间" if zh else "Adjusted 95% CI"): _ci(r.adj_lo, r.adj_hi, "f3"),
            "p_value": r.adj_p,
            **({} if family is None else {("校正p值(BH)" if zh else "Adjusted p (BH)"): family.p_adj("cox", r.term)}),
            ("每标准差风险比" if zh else "HR per SD"): r.adj_hr_sd,
        })
    return pd.DataFrame(rows)


EFFECT_FORMATS = {"p_value": "f3"}


def effects_formats(lang: str = "zh") -> dict[str, str]:
    """Formats for :func:`effects_table` columns."""
    zh = lang == "zh"
    return {("未调整风险比" if zh else "Raw HR"): "f3", ("调整后风险比" if zh else "Adjusted HR"): "f3",
            "p_value": "f3", ("校正p值(BH)" if zh else "Adjusted p (BH)"): "f3", ("每标准差风险比" if zh else "HR per SD"): "f2"}


def correlation_table(corr: CorrelationResult, lang: str = "zh") -> pd.DataFrame:
    """Correlations with leaving within the horizon, for display."""
    zh = lang == "zh"
    t = corr.table
    return pd.DataFrame({
        "feature": [label(f, lang) for f in t["feature"]],
        ("方法" if zh else "Method"): [("Spearman" if m == "spearman" else ("点二列" if zh else "point-biserial")) for m in t["method"]],
        "people": t["n"].astype(int),
        ("相关系数" if zh else "Correlation"): t["rho"],
        ("95%区间(自助法)" if zh else "95% CI (bootstrap)"): [_ci(a, b) for a, b in zip(t["lo"], t["hi"])],
        ("校正p值(BH)" if zh else "Adjusted p (BH)"): t["p_adj"],
    })


def correlation_formats(lang: str = "zh") -> dict[str, str]:
    zh = lang == "zh"
    return {"people": "int", ("相关系数" if zh else "Correlation"): "f3", ("校正p值(BH)" if zh else "Adjusted p (BH)"): "f3"}


def ph_table(eff: EffectsResult, lang: str = "zh") -> pd.DataFrame:
    """Proportional-hazards check for display."""
    zh = lang == "zh"
    t = eff.ph
    if t is None or t.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "term": [term_text(x, lang) for x in t["term"]],
        ("与时间的秩相关" if zh else "Rank correlation with time"): t["rho"],
        "p_value": t["p"],
        ("可能违反" if zh else "Possible violation"): [("是" if v else "否") if zh else ("yes" if v else "no") for v in t["violated"]],
    })


def logistic_table(eff: EffectsResult, lang: str = "zh") -> pd.DataFrame:
    """Logistic robustness check (odds ratios of leaving within the horizon) for display."""
    if eff.logistic is None:
        return pd.DataFrame()
    t = eff.logistic.table
    return pd.DataFrame({
        "term": [term_text(x, lang) for x in t["term"]],
        "odds_ratio": t["or"],
        ("95%区间" if lang == "zh" else "95% CI"): [_ci(a, b, "f3") for a, b in zip(t["lo"], t["hi"])],
        "p_value": t["p"],
    })


def kpis(head: dict, overall: CurvesResult, lang: str = "zh") -> dict[str, str]:
    """Headline cards {label: formatted value}."""
    from .display import fmt

    med = overall.medians.iloc[0] if not overall.medians.empty else None
    return {
        label("headcount", lang): fmt(head["headcount"], "int"),
        label("exits", lang): fmt(head["exits"], "int"),
        label("attrition_rate", lang): fmt(head["attrition_rate"], "pct"),
        label("first_year_attrition", lang): fmt(head["first_year_attrition"], "pct"),
        label("median_tenure", lang): fmt(None if med is None else med["median_tenure"], "f1"),
    }


def notes_text(data: RetentionData, eff: EffectsResult | None = None, lang: str = "zh") -> str:
    """Notes on the data (skipped features, merged levels, the snapshot's outcome) as one paragraph."""
    notes = list(data.notes) + (list(eff.notes) if eff is not None else [])
    head = "数据说明：" if lang == "zh" else "Notes on the data: "
    return head + (" ".join(notes) if notes else ("无。" if lang == "zh" else "none."))


TABLE_FORMATS = {"people": "int", "hires": "int", "exits": "int", "avg_headcount": "f1", "attrition_rate": "pct",
                 "months": "int", "exits_first_year": "int", "first_year_attrition": "pct", "share": "pct",
                 "person_months": "int", "exit_rate": "pct", "annualised_attrition": "pct",
                 "median_tenure": "f1", "ci_low": "f1", "ci_high": "f1"}
DOSE_FORMATS = {**TABLE_FORMATS, "ci_low": "pct", "ci_high": "pct"}


def suppressed_total(*results: Any) -> int:
    """Total suppressed cells over section results (each with ``suppressed_cells``)."""
    return int(sum(int(getattr(r, "suppressed_cells", 0) or 0) for r in results))

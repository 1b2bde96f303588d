"""The person-month panel built from the store (reps, compensation, rep attainment; through Ibis),
the role known at each month's start, the covariates known at each month's start
(:func:`known_at_start`) and the person-level, horizon and headline-window frames read from it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import ibis
import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype

from .. import model, store
from ..errors import InsufficientDataError, MissingTableError
from ..periods import add_months as _add_months
from ..periods import month_start as _month_start
from ..sections import Note
from .data import (
    BOOL_FEATURES, CATEGORICAL_CONTROLS, DAYS_PER_MONTH, PANEL_FEATURES, RetentionData, headline_window_start,
    _lump_small_levels, _resolve, _table, _tenure_months, _to_date,
)


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
    from .. import model

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
    cols = [c for c in TIME_VARYING if c in panel.columns and c != "payout_delay_days"]
    df = previous_month_values(panel, cols, "rep_id")
    has_prev = df["has_previous_month"]
    if "role" in df.columns:
        df["own_month_role"] = df["role"]
        df["role"] = df.groupby("rep_id")["role"].shift(1).where(has_prev).fillna(df["own_month_role"])
    if "payout_delay_days" in df.columns:
        df["own_month_payout_delay_days"] = df["payout_delay_days"]
        df["payout_delay_days"] = _delay_known_at(df)
    df.attrs.update(panel.attrs)
    df.attrs["covariate_timing"] = COVARIATE_TIMING
    return df.reset_index(drop=True) if df.index.is_unique else df


def previous_month_values(panel: pd.DataFrame, columns: Sequence[str], id_col: str) -> pd.DataFrame:
    """The panel sorted by person and month, with each of ``columns`` replaced by the person's
    value of the previous calendar month (missing when that month is not in the panel: the hire
    month, the first month of the data); the month's own values kept in ``own_month_<name>``,
    ``has_previous_month`` marking the rows with a previous month. The building block of
    "covariates known at each month's start" (:func:`known_at_start`; the agency's panel).

    Examples
    --------
    >>> p = pd.DataFrame({"id": ["a", "a", "b"], "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]),
    ...                   "x": [1.0, 2.0, 3.0]})
    >>> previous_month_values(p, ["x"], "id")["x"].tolist()
    [nan, 1.0, nan]
    """
    df = panel.sort_values([id_col, "period"]).copy()
    prev_period = df.groupby(id_col)["period"].shift(1)
    has_prev = prev_period.notna() & (prev_period == df["period"] - pd.offsets.MonthBegin(1))
    for c in columns:
        df[f"own_month_{c}"] = df[c]
        df[c] = df.groupby(id_col)[c].shift(1).where(has_prev)
    df["has_previous_month"] = has_prev
    return df


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


def _window_from_panel(panel: pd.DataFrame, as_of: dt.date, data_start: dt.date) -> pd.DataFrame:
    """People employed at any time in the 12 months to as_of, from the panel rows: person_id,
    tenure, left (in the window), region (the last in the window), exit_reason, hire_date."""
    w_start = pd.Timestamp(headline_window_start(as_of, data_start))
    in_window = panel[(panel["period"] + pd.offsets.MonthBegin(1) > w_start)]
    # a person leaving before the window start within the window's first month is not in it
    in_window = in_window[in_window["exit_date"].isna() | (in_window["exit_date"] >= w_start)]
    g = in_window.groupby("rep_id")
    w = g.agg(tenure=("stop", "max"), left=("event", "max"), region=("region", "last"),
              exit_reason=("exit_reason", "first"), hire_date=("hire_date", "first"))
    w = w.reset_index().rename(columns={"rep_id": "person_id"})
    w["left"] = w["left"].astype(bool)
    return w


def load_panel(con: Any, as_of: Any = "", cohort_start: Any = "", horizon_months: int = 12,
               features: Sequence[str] | None = None, controls: Sequence[str] | None = None,
               min_group_size: int = 5) -> RetentionData:
    """Report data from the store: panel, people, horizon frame and headline window.

    Examples
    --------
    >>> data = load_panel(con, "2026-10-31")  # doctest: +SKIP
    """
    from ..params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

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

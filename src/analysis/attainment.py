"""Rep attainment by month and "below target N months running": one definition for the
sales trends report (``underperformers``), the rep scorecard (``below_target_streak``, the
scheme's streak penalty) and the target plan (its watch list).

- :func:`rep_monthly`: each rep's amount attainment per month, computed in the engine from
  the sales lines and the rep targets (targets level ``rep``, measure ``amount`` when the
  targets have a measure column); the rows are the reps' targets, a rep with a target and no
  sales has actual 0, a target ≤ 0 gives an undefined attainment.
- :func:`below`: the reps whose attainment is below the threshold in each of the months of
  the streak (a month without a defined attainment breaks the streak).
- :func:`below_target_streak`: the two together for the ``k`` months ending with a month,
  with the reasons the list cannot be made (too little history, the rep of the lines does not
  resolve, no rep targets) as :class:`~analysis.sections.Skip` codes.

Examples
--------
>>> att = pd.DataFrame({"rep_id": ["a", "a", "b", "b"], "attainment": [0.8, 0.7, 0.8, 1.1],
...                     "month": pd.PeriodIndex(["2026-09", "2026-10"] * 2, freq="M")})
>>> below(att, streak_months(dt.date(2026, 10, 1), 2), 0.9)["below"].to_dict()
{'a': True, 'b': False}
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import pandas as pd

from . import model, store
from .periods import add_months, half_open, month_start
from .sections import Reason, Skip

#: The targets columns the attainment needs (``measure`` is used when present).
TARGET_COLUMNS = ("period", "level", "key", "value")


def streak_months(month: dt.date, k: int) -> list[pd.Period]:
    """The ``k`` months ending with ``month``'s month, oldest first.

    Examples
    --------
    >>> [str(m) for m in streak_months(dt.date(2026, 1, 1), 3)]
    ['2025-11', '2025-12', '2026-01']
    """
    return [pd.Period(add_months(month, -i), "M") for i in range(int(k) - 1, -1, -1)]


def rep_targets(con: Any, start: dt.date, end: dt.date, measure: str = "amount") -> pd.DataFrame | None:
    """The rep targets of months in [start, end): ``month`` (pd.Period), ``key``, ``target``;
    None when the store has no targets with the columns needed, or none of rep level."""
    cols = store.columns(con, "targets") if store.has_rows(con, "targets") else []
    if not set(TARGET_COLUMNS) <= set(cols):
        return None
    t = con.table("targets")
    per = t.period.cast("date")
    cond = (t.level == "rep") & half_open(per, start, end)
    if "measure" in cols:
        cond = cond & (t.measure == measure)
    elif measure != "amount":
        return None
    f = t.filter(cond)
    out = f.group_by(per.truncate("M").name("month"), t.key.cast("string").name("key")).aggregate(
        target=f.value.cast("float64").sum()).execute()
    if out.empty:
        return None
    out["month"] = pd.to_datetime(out["month"]).dt.to_period("M")
    return out


def rep_monthly(con: Any, lines: Any, start: dt.date, end: dt.date) -> pd.DataFrame | None:
    """Each rep's amount attainment per month for months in [start, end).

    Parameters
    ----------
    con : ibis backend
        The store (its ``targets`` table).
    lines : ibis Table
        Sales lines from :func:`analysis.model.sales_lines` (possibly filtered).
    start, end : date
        First days of the first month and of the month after the last.

    Returns
    -------
    pandas.DataFrame or None
        ``rep_id, month`` (pd.Period), ``actual, target, attainment``, sorted by rep and
        month; None without rep targets in the months or without an ``amount`` on the lines.
    """
    tg = rep_targets(con, start, end, "amount")
    if tg is None or "amount" not in lines.columns or "rep_id" not in lines.columns:
        return None
    o = lines.filter(half_open(lines.order_date, start, end) & lines.rep_id.notnull())
    # sum per day first, then the (few thousand) daily rows to months (see BENCHMARKS.md)
    daily = o.group_by(o.order_date.name("day"), o.rep_id.cast("string").name("rep_id")).aggregate(
        amount=o.amount.sum())
    act = daily.group_by(daily.day.truncate("M").name("month"), "rep_id").aggregate(
        actual=daily.amount.sum()).execute()
    act["month"] = pd.to_datetime(act["month"]).dt.to_period("M")
    df = tg.rename(columns={"key": "rep_id"}).merge(act, on=["month", "rep_id"], how="left")
    df["actual"] = df["actual"].astype(float).fillna(0.0)
    tgt = pd.to_numeric(df["target"], errors="coerce")
    df["attainment"] = (df["actual"] / tgt.where(tgt > 0)).astype(float)
    return df[["rep_id", "month", "actual", "target", "attainment"]].sort_values(
        ["rep_id", "month"]).reset_index(drop=True)


def below(att: pd.DataFrame, months: Sequence[pd.Period], threshold: float) -> pd.DataFrame:
    """Who is below ``threshold`` in each of ``months``: the attainment of each rep of ``att``
    (index ``rep_id``, one column per month, in the order given) and ``below`` (True when every
    month's attainment is defined and below the threshold).

    Parameters
    ----------
    att : pandas.DataFrame
        ``rep_id, month, attainment`` (as :func:`rep_monthly` gives; other months are ignored).
    months : sequence of pandas.Period
        The months of the streak (:func:`streak_months`).
    threshold : float
    """
    months = list(months)
    win = att[att["month"].isin(months)]
    wide = win.pivot_table(index="rep_id", columns="month", values="attainment", aggfunc="sum")
    wide = wide.reindex(columns=months)
    wide["below"] = (wide[months] < float(threshold)).all(axis=1) & wide[months].notna().all(axis=1)
    return wide


def targets_missing(con: Any) -> Skip | None:
    """A Skip when the store has no targets table (with rows) or it lacks a column the
    attainment needs."""
    if not store.has_rows(con, "targets"):
        return Skip(Reason.MISSING_TABLE, {"table": "targets"})
    cols = store.columns(con, "targets")
    for c in TARGET_COLUMNS:
        if c not in cols:
            return Skip(Reason.MISSING_COLUMN, {"table": "targets", "column": c})
    return None


def unresolved(cov: model.Coverage) -> Skip:
    """The skip of a part whose dimension resolves for too little of the amount: the share and
    the master table and column it comes from."""
    return model.coverage_skip(cov) or Skip(Reason.UNRESOLVED_CODES, {
        "dimension": cov.dimension, "share": cov.share, "table": model.DIMENSIONS[cov.dimension].master, "codes": []})


def below_target_streak(con: Any, lines: Any, month: dt.date, k: int, threshold: float, *,
                        first: dt.date | None = None, src: Any = None) -> tuple[pd.DataFrame | None, Skip | None]:
    """Reps below ``threshold`` in each of the ``k`` months ending with ``month``.

    Parameters
    ----------
    con : ibis backend
    lines : ibis Table
        Sales lines (:func:`analysis.model.sales_lines`, the rep at the time of sale).
    month : date
        A day of the streak's last month.
    k : int
        Months in the streak.
    threshold : float
        Attainment below it counts.
    first : date, optional
        The data's first day: a streak starting before its month cannot be told (``too_short``).
    src : analysis.model.Sources, optional

    Returns
    -------
    (wide, None) or (None, skip)
        ``wide`` as :func:`below` gives (one column per month, oldest first, and ``below``);
        ``skip`` why the list cannot be made: ``too_short``, the rep's coverage
        (``unresolved_*``), ``missing_table`` / ``missing_column`` (targets), ``no_targets``.
    """
    month = month_start(month)
    months = streak_months(month, k)
    start, end = months[0].start_time.date(), add_months(month, 1)
    if first is not None and start < month_start(first):
        got = (end.year - first.year) * 12 + end.month - first.month
        return None, Skip(Reason.TOO_SHORT, {"needed": int(k), "got": got})
    cov = model.coverage(lines, ["rep_id"], start=start, end=end, src=src)["rep_id"]
    if not cov.sufficient:
        return None, unresolved(cov)
    att = rep_monthly(con, lines, start, end)
    if att is None:
        return None, targets_missing(con) or Skip(Reason.NO_TARGETS, {"level": "rep"})
    return below(att, months, threshold), None

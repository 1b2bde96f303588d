"""The weekly flash (周报) for the weekly meeting: the month so far, on any day of the month.

Numbers and codes only (the sentences: :mod:`analysis.narrative.flash`, catalogue ids
``weekly_flash.*``). Definitions:

- the flash covers the month of ``as_of`` from its 1st to ``as_of`` (both included): *month to
  date*. It never calls that the month: its period is ``2026-10-01..2026-10-20`` and ``partial``
  is true until ``as_of`` is the month's last day;
- working days come from the China calendar of the ``holidays`` package (weekdays that are not
  public holidays, plus the weekend days made working days, 调休), so Spring Festival and
  National Day count as the calendar has them. ``worked`` = working days from the 1st to
  ``as_of``; ``working_days`` = those of the whole month; ``elapsed`` = worked ÷ working_days;
- pace gap = month to date − target × elapsed (negative: behind pace); needed per remaining working
  day = (target − month to date) ÷ remaining working days (undefined when none is left, 0 when the
  target is already met); run rate = month to date ÷ worked working days;
- week on week: the 7 days ending ``as_of`` against the 7 days before them.

Sections: :func:`pace` (the company), :func:`week_on_week`, :func:`behind` (regions, then reps,
furthest behind pace first).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from . import model, store as store_mod
from .params.base import as_params
from .params.weekly_flash import WeeklyFlashParams
from .periods import add_months, half_open, month_start
from .sections import Reason, SectionResult, Table

__all__ = ["REPORT", "Scope", "prepare", "working_days", "pace", "week_on_week", "behind", "Pace", "WeekOnWeek",
           "Behind", "scope_metrics"]

REPORT = "weekly_flash"
LEVELS = {"region": "region", "rep": "rep_id"}
MEASURES = {"amount": "amount", "qty": "qty"}


def _section(cls):
    return dataclass(kw_only=True)(cls)


@lru_cache(maxsize=64)
def _china(year: int) -> Any:
    import holidays

    return holidays.China(years=year)


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """The China working days in [start, end] (both included): weekdays that are not public
    holidays, plus the weekend days made working days (调休).

    Examples
    --------
    >>> len(working_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31)))  # National Day 1–7, Sat 10 worked
    18
    """
    out = []
    d = start
    while d <= end:
        if _china(d.year).is_working_day(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


@dataclass
class Scope:
    """What the sections read: the connection, the lines of the month so far, the calendar."""

    con: Any
    params: Any
    as_of: dt.date
    first: dt.date
    last_day: dt.date
    data_last: dt.date | None
    lines: Any = None  # Ibis: the month's sales lines from the 1st to as_of
    tables: dict[str, list[str]] = field(default_factory=dict)
    qty_kind: str = "qty"  # the unit of quantities (analysis.model.qty_kind)

    @property
    def worked(self) -> int:
        return len(working_days(self.first, self.as_of))

    @property
    def working_days(self) -> int:
        return len(working_days(self.first, self.last_day))

    @property
    def remaining(self) -> int:
        return self.working_days - self.worked

    @property
    def elapsed(self) -> float:
        return self.worked / self.working_days if self.working_days else float("nan")

    @property
    def partial(self) -> bool:
        return self.as_of < self.last_day

    @property
    def period(self) -> str:
        return f"{self.first.isoformat()}..{self.as_of.isoformat()}"

    @property
    def value(self) -> str:
        return MEASURES[self.params.measure]

    @property
    def value_kind(self) -> str:
        """How the measure's values are written: money, or the quantities' unit (``qty_kind``)."""
        return model.measure_kind(self.value, self.qty_kind)


def prepare(con: Any, params: WeeklyFlashParams | None = None) -> Scope:
    """Resolve ``as_of`` (default: the last order date) and select the month's lines so far.

    Parameters
    ----------
    con : Ibis backend
    params : WeeklyFlashParams, optional
        Validated (``WeeklyFlashParams.of(as_of="2026-10-20")``); None: the defaults.

    Raises
    ------
    ParameterError
        ``params`` is not a ``WeeklyFlashParams``.
    """
    params = as_params(WeeklyFlashParams, params, f"{REPORT}.prepare")
    lines = model.sales_lines(con)
    last = lines.order_date.max().execute()
    data_last = pd.Timestamp(last).date() if last is not None and not pd.isna(last) else None
    as_of = dt.date.fromisoformat(params.as_of) if params.as_of else (data_last or dt.date.today())
    first = month_start(as_of)
    last_day = add_months(first, 1) - dt.timedelta(days=1)
    tables = {n: store_mod.columns(con, n) for n in ("targets", "reps")}
    month_lines = lines.filter(half_open(lines.order_date.cast("date"), first, as_of + dt.timedelta(days=1)))
    return Scope(con, params, as_of, first, last_day, data_last, month_lines, tables, model.qty_kind(con))


def _target(scope: Scope, level: str) -> pd.DataFrame | None:
    """The month's targets of ``level`` (key, target); None without any."""
    if not all(c in scope.tables.get("targets", []) for c in ("period", "level", "key", "measure", "value")):
        return None
    t = scope.con.table("targets")
    per = t.period.cast("date")
    f = t.filter((t.level == level) & (t.measure == scope.params.measure) & (per == scope.first))
    out = f.group_by(key=t.key.cast("string")).aggregate(target=f.value.sum()).execute()
    return None if out.empty else out


def _pace_frame(actual: pd.DataFrame, target: pd.DataFrame | None, scope: Scope) -> pd.DataFrame:
    """Per key: target, actual, attainment, expected (target × elapsed), gap, needed per
    remaining working day, run rate per worked day, needed ÷ run rate."""
    df = actual.copy()
    if target is not None:
        df = df.merge(target, on="key", how="outer")
    else:
        df["target"] = np.nan
    df["actual"] = df["actual"].fillna(0.0)
    has = df["target"].notna() & (df["target"] > 0)
    df["attainment"] = np.where(has, df["actual"] / df["target"].where(has), np.nan)
    df["expected"] = df["target"] * scope.elapsed
    df["gap"] = df["actual"] - df["expected"]
    left = (df["target"] - df["actual"]).clip(lower=0)
    df["needed_per_day"] = np.where(has & (scope.remaining > 0), left / max(scope.remaining, 1), np.nan)
    df["run_rate"] = df["actual"] / scope.worked if scope.worked else np.nan
    df["needed_vs_run_rate"] = np.where(df["run_rate"] > 0, df["needed_per_day"] / df["run_rate"].where(df["run_rate"] > 0), np.nan)
    return df


# =============================================================================== pace
@_section
class Pace(SectionResult):
    """The company's month to date against the month's target and against time elapsed."""

    report = REPORT
    default_code = "pace"
    period: str = ""
    as_of: str = ""
    partial: bool = True
    worked: int = 0
    working_days: int = 0
    remaining: int = 0
    elapsed: float = float("nan")
    actual: float = float("nan")
    target: float = float("nan")
    attainment: float = float("nan")
    gap: float = float("nan")
    needed_per_day: float = float("nan")
    run_rate: float = float("nan")
    value_kind: str = "money"  # money, or the quantities' unit (Scope.value_kind)

    def metrics(self) -> dict[str, Any]:
        return {"mtd": self.actual, "month_target": self.target, "mtd_attainment": self.attainment,
                "elapsed": self.elapsed, "worked_days": self.worked, "working_days": self.working_days,
                "remaining_days": self.remaining, "pace_gap": self.gap, "needed_per_day": self.needed_per_day,
                "run_rate": self.run_rate}


def pace(scope: Scope) -> Pace:
    """Section 1: month to date, the month's target, attainment beside time elapsed, the gap to
    pace and what each remaining working day needs."""
    res = Pace(value_kind=scope.value_kind, period=scope.period, as_of=scope.as_of.isoformat(), partial=scope.partial,
               worked=scope.worked, working_days=scope.working_days, remaining=scope.remaining, elapsed=scope.elapsed)
    actual = float(scope.lines[scope.value].sum().execute() or 0.0)
    if scope.data_last is None or scope.data_last < scope.first:
        return res.skipped(Reason.NO_DATA)
    target = _target(scope, "company")
    if target is None:
        regions = _target(scope, "region")
        target = None if regions is None else pd.DataFrame({"key": ["company"], "target": [regions["target"].sum()]})
    row = _pace_frame(pd.DataFrame({"key": ["company"], "actual": [actual]}),
                      None if target is None else target.assign(key="company").groupby("key", as_index=False).sum(),
                      scope).iloc[0]
    res.actual, res.target, res.attainment, res.gap = actual, float(row["target"]), float(row["attainment"]), float(row["gap"])
    res.needed_per_day, res.run_rate = float(row["needed_per_day"]), float(row["run_rate"])
    if target is None:
        res.note("no_target")
    if scope.remaining == 0:
        res.note("no_days_left")
    if scope.data_last < scope.as_of:
        res.note("data_ends", last=scope.data_last.isoformat())
    return res


# ======================================================================== week on week
@_section
class WeekOnWeek(SectionResult):
    """The 7 days ending as_of against the 7 days before, in total and by region."""

    report = REPORT
    default_code = "week_on_week"
    this_start: str = ""
    this_end: str = ""
    last_start: str = ""
    last_end: str = ""
    this_week: float = float("nan")
    last_week: float = float("nan")
    change: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    value_kind: str = "money"  # money, or the quantities' unit (Scope.value_kind)

    def metrics(self) -> dict[str, Any]:
        return {"this_week": self.this_week, "last_week": self.last_week, "wow": self.change}


def week_on_week(scope: Scope) -> WeekOnWeek:
    """Section 2: the last 7 days against the 7 before (they may reach into the previous month)."""
    end = scope.as_of + dt.timedelta(days=1)
    this0, last0 = scope.as_of - dt.timedelta(days=6), scope.as_of - dt.timedelta(days=13)
    res = WeekOnWeek(value_kind=scope.value_kind, this_start=this0.isoformat(), this_end=scope.as_of.isoformat(),
                     last_start=last0.isoformat(), last_end=(this0 - dt.timedelta(days=1)).isoformat())
    lines = model.sales_lines(scope.con)
    d = lines.order_date.cast("date")
    f = lines.filter(half_open(d, last0, end))
    week = (d >= this0).ifelse("this_week", "last_week")
    v = scope.value
    out = f.group_by(week=week, region=f.region.fill_null(model.UNATTRIBUTED)).aggregate(value=f[v].sum()).execute()
    if out.empty:
        return res.skipped(Reason.NO_DATA)
    wide = out.pivot_table(index="region", columns="week", values="value", aggfunc="sum").reindex(
        columns=["this_week", "last_week"]).fillna(0.0).reset_index()
    wide["wow"] = np.where(wide["last_week"] > 0, wide["this_week"] / wide["last_week"].where(wide["last_week"] > 0) - 1, np.nan)
    res.this_week, res.last_week = float(wide["this_week"].sum()), float(wide["last_week"].sum())
    res.change = res.this_week / res.last_week - 1 if res.last_week > 0 else float("nan")
    res.table = wide.sort_values("wow", na_position="last").reset_index(drop=True)
    kind = "money_wan" if v == "amount" else scope.qty_kind
    res.tables.append(Table.of("by_region", res.table, labels=_labels("this_week", "last_week", "wow"),
                               codes={"region": "column"}, region="name", this_week=kind, last_week=kind, wow="change"))
    return res


# =============================================================================== behind
@_section
class Behind(SectionResult):
    """Regions and reps furthest behind pace, with what they need per remaining working day."""

    report = REPORT
    default_code = "behind"
    remaining: int = 0
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    reps: pd.DataFrame = field(default_factory=pd.DataFrame)
    value_kind: str = "money"  # money, or the quantities' unit (Scope.value_kind)

    def metrics(self) -> dict[str, Any]:
        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{"key": str(r.key), "gap": float(r.gap), "needed_per_day": float(r.needed_per_day)}
                    for r in df.itertuples()] if len(df) else []

        return {"behind_regions": rows(self.regions), "behind_reps": rows(self.reps)}


def _labels(*names: str) -> dict[str, str]:
    return {n: f"{REPORT}.column.{n}" for n in names}


def _level(scope: Scope, level: str) -> pd.DataFrame | None:
    col = LEVELS[level]
    t = scope.lines
    actual = t.group_by(key=t[col].cast("string").fill_null(model.UNATTRIBUTED)).aggregate(
        actual=t[scope.value].sum()).execute()
    target = _target(scope, level)
    if target is None:
        return None
    df = _pace_frame(actual, target, scope)
    return df[df["target"].notna()].sort_values(["gap", "key"]).reset_index(drop=True)


def behind(scope: Scope) -> Behind:
    """Section 3: every region, and the ``behind_rows`` reps furthest behind pace (gap < 0)."""
    res = Behind(remaining=scope.remaining, value_kind=scope.value_kind)
    regions = _level(scope, "region")
    reps = _level(scope, "rep")
    if regions is None and reps is None:
        return res.skipped(Reason.NO_TARGETS, level="region")
    kind = "money_wan" if scope.value == "amount" else scope.qty_kind
    per_day = "money" if scope.value == "amount" else scope.qty_kind
    labels = _labels("needed_per_day", "run_rate", "needed_vs_run_rate")
    cols = dict(target=kind, actual=kind, attainment="rate", gap=kind, needed_per_day=per_day, run_rate=per_day,
                needed_vs_run_rate="f2")
    if regions is not None:
        res.regions = regions
        res.tables.append(Table.of("regions", regions.rename(columns={"key": "region"}), title="weekly_flash.table.regions",
                                   labels=labels, codes={"region": "column"}, region="name", **cols))
    if reps is not None:
        late = reps[reps["gap"] < 0].head(int(scope.params.behind_rows)).copy()
        if "name" in scope.tables.get("reps", []) and len(late):
            names = scope.con.table("reps").select("rep_id", "name").execute()
            late = late.merge(names.rename(columns={"rep_id": "key"}).astype({"key": str}), on="key", how="left")
        else:
            late["name"] = None
        res.reps = late.reset_index(drop=True)
        res.tables.append(Table.of("reps", res.reps.rename(columns={"key": "rep_id"}), title="weekly_flash.table.reps",
                                   labels=labels, rep_id="text", name="text", **cols))
    return res


def scope_metrics(scope: Scope) -> dict[str, Any]:
    """The flash's own keys of metrics.json: the period (month to date), partial, as_of."""
    return {"period": scope.period, "month": scope.first.strftime("%Y-%m"), "as_of": scope.as_of.isoformat(),
            "partial": scope.partial, "data_window": {"start": scope.first.isoformat(), "end": scope.as_of.isoformat()}}

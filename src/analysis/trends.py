"""Metrics of the monthly sales trends report (月度销售趋势), computed in the engine through Ibis.

Start with :func:`prepare`, which inspects the store (tables, columns, grain of the dates,
data window), applies the ``filters`` parameter and resolves the report period; every
section function then takes the returned :class:`Scope` and gives back a
:class:`analysis.sections.SectionResult` (numbers, codes, tables with column kinds, figure
specs; never text). A section that cannot run (a table or column is missing, the grain is
too coarse, too little history) is skipped with a :class:`~analysis.sections.Reason` code
and its details; the present layer shows it as a visible note, and metrics.json lists its
code. The sentences are chosen by :mod:`analysis.narrative.trends` from the catalogues.
Section codes: headline, attainment_by_level, underperformers, trend, spring_festival,
mix, contribution, customers, process_indicators, forecast.

Definitions (the glossary of the design):

- attainment = actual ÷ target; a missing, zero or negative target gives NaN (shown "—").
- time_elapsed = days of the period covered by the data ÷ days in the period (1.0 for a
  complete month).
- yoy = current ÷ same period a year earlier − 1; mom = current ÷ previous period − 1. For a
  partial period both compare like for like (the same number of days from the period start).
  Undefined (NaN) when the earlier period is outside the data or not positive.
- gap = actual − target × time_elapsed (the shortfall against schedule).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from . import attainment, model, store
from .errors import InsufficientDataError, MissingColumnError, MissingTableError, ParameterError
from .periods import add_months, detect_grain, half_open, month_in_data, parse_month, resolve_month
from .scopes import ScopeBase, between
from .sections import Figure, Reason, SectionResult, Skip, Table

if TYPE_CHECKING:  # the parameter model (imported when prepare runs)
    from .params import SalesTrendsParams

REPORT = "sales_trends"
LEVEL_COLUMNS = {"region": "region", "rep": "rep_id", "brand": "brand", "price_class": "price_class",
                 "customer": "customer_id"}
TARGET_LEVEL = {"region": "region", "rep": "rep", "brand": "brand", "price_class": "price_class", "customer": None}
GRAINS = ("daily", "weekly", "monthly", "yearly")
CARTONS_PER_CASE = 250  # a case (箱) is 50,000 cigarettes = 250 cartons (条)
UNKNOWN = model.UNATTRIBUTED  # the key of lines whose dimension did not resolve


def _section(cls):
    """A section result class of this report (kw-only dataclass, report = sales_trends)."""
    return dataclass(kw_only=True)(cls)


# ---------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    """A report period: a month or a year, possibly covered only in part by the data.

    ``end`` is exclusive; ``data_end`` (exclusive) is where the data stop inside the period.

    Examples
    --------
    >>> p = Period("month", dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 10, 16))
    >>> p.label, p.time_elapsed
    ('2026-10', 0.4838709677419355)
    """

    kind: str
    start: dt.date
    end: dt.date
    data_end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start:%Y}" if self.kind == "year" else f"{self.start:%Y-%m}"

    @property
    def days_total(self) -> int:
        return (self.end - self.start).days

    @property
    def days_elapsed(self) -> int:
        return (min(self.data_end, self.end) - self.start).days

    @property
    def time_elapsed(self) -> float:
        return self.days_elapsed / self.days_total

    @property
    def complete(self) -> bool:
        return self.data_end >= self.end

    def shifted(self, months: int) -> "Period":
        """The period ``months`` earlier (negative) or later, covering the same number of days."""
        start = add_months(self.start, months)
        end = add_months(self.end, months)
        data_end = min(end, start + dt.timedelta(days=self.days_elapsed)) if not self.complete else end
        return Period(self.kind, start, end, data_end)

    def previous(self) -> "Period":
        return self.shifted(-12 if self.kind == "year" else -1)

    def last_year(self) -> "Period":
        return self.shifted(-12)


def month_period(month: str | dt.date) -> Period:
    """The complete month ``"YYYY-MM"``."""
    d = parse_month(month, "month", REPORT)
    e = add_months(d, 1)
    return Period("month", d, e, e)


def _data_end_exclusive(last: dt.date, grain: str) -> dt.date:
    if grain == "daily":
        return last + dt.timedelta(days=1)
    if grain == "weekly":
        return last + dt.timedelta(days=7)
    if grain == "monthly":
        return add_months(last.replace(day=1), 1)
    return dt.date(last.year + 1, 1, 1)


def resolve_period(month: str, first: dt.date, last: dt.date, grain: str) -> Period:
    """The report period from the ``month`` parameter, by :func:`analysis.periods.resolve_month`
    (every form of the month; a month must overlap the data, :func:`analysis.periods.month_in_data`).

    "last": the last complete month in the data; "current": the month of the latest date
    (possibly partial); "YYYY-MM": that month. At yearly grain the period is the year of that
    month ("last"/"current": the latest year).

    Examples
    --------
    >>> resolve_period("last", dt.date(2023, 11, 1), dt.date(2026, 10, 31), "daily").label
    '2026-10'
    >>> resolve_period("last", dt.date(2023, 11, 1), dt.date(2026, 10, 15), "daily").label
    '2026-09'
    """
    end_x = _data_end_exclusive(last, grain)
    if grain == "yearly":
        y = resolve_month(month, first, last, grain, owner=REPORT).year
        s, e = dt.date(y, 1, 1), dt.date(y + 1, 1, 1)
        return Period("year", s, e, min(e, end_x))
    p = month_period(month_in_data(month, first, last, grain, owner=REPORT))
    return Period(p.kind, p.start, p.end, min(p.end, end_x))


# ------------------------------------------------------------------------------ scope
@dataclass
class Scope(ScopeBase):
    """What every section needs: the filtered orders expression and facts about the data."""

    con: Any
    params: Any
    orders: Any  # Ibis table: filtered orders, order_date as date, dimensions joined
    grain: str
    first: dt.date
    last: dt.date
    period: Period
    measures: tuple  # ("amount", "qty") present
    tables: dict  # table -> list of columns (tables with rows)
    row_counts: dict
    filtered: bool = False
    src: Any = None  # model.Sources: what resolves the dimensions
    coverage: dict = field(default_factory=dict)  # dimension -> share of the period's amount (metrics.json)
    #: the value kind of the quantities (their unit, from the products' pack_unit): qty (条),
    #: qty_case (箱), qty_pack (包), qty_mixed (several units)
    qty_kind: str = "qty"
    #: the measures summed per day over all the data (:func:`_daily`), queried once
    daily: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def value(self) -> str:
        """The main measure: amount when present, else qty."""
        return "amount" if "amount" in self.measures else "qty"

    def kind(self, measure: str) -> str:
        """The value kind of ``measure`` as tables and charts show it (:func:`analysis.model.measure_kind`)."""
        return model.measure_kind(measure, self.qty_kind)

    @property
    def value_kind(self) -> str:
        """The value kind of the main measure (:meth:`kind` of :attr:`value`)."""
        return self.kind(self.value)

    @property
    def data_start(self) -> dt.date:
        """Where the data start: the first date (daily/weekly grain), else the start of the
        first month or year."""
        if self.grain == "yearly":
            return dt.date(self.first.year, 1, 1)
        return self.first.replace(day=1) if self.grain == "monthly" else self.first

    @property
    def full_month_start(self) -> dt.date:
        """Start of the first month the data cover completely."""
        d = self.data_start
        return d if d.day == 1 else add_months(d.replace(day=1), 1)

    @property
    def data_end(self) -> dt.date:
        return _data_end_exclusive(self.last, self.grain)

    def covers(self, p: Period) -> bool:
        return p.start >= self.data_start and p.data_end <= self.data_end

    def has_col(self, col: str) -> bool:
        return col in self.orders.columns

    def resolve(self, res: SectionResult, dim: str, start: dt.date | None = None,
                end: dt.date | None = None) -> bool:
        """Whether ``res`` may group by the sales lines' dimension ``dim`` in [start, end)
        (default: the report period). Below :data:`analysis.model.MIN_COVERAGE` of the amount
        the section is skipped with a reason naming what is missing; below 100 % it gets the
        ``unattributed`` note (the rest is shown as one row). The share goes to metrics.json."""
        if dim == "customer_id":
            if not self.has_col(dim):
                res.skip = Skip(Reason.MISSING_COLUMN, {"table": "orders", "column": dim})
                return False
            return True
        start = start or self.period.start
        end = end or self.period.data_end
        cov = model.coverage(self.orders, [dim], start=start, end=end, src=self.src)[dim]
        self.coverage[dim] = min(cov.share, self.coverage.get(dim, 1.0))
        if (sk := model.coverage_skip(cov)) is not None:
            res.skip = sk
            return False
        if (note := model.coverage_note(cov)) is not None:
            res.notes.append(note)
        if dim == "rep_id" and self.src.by_current_book(dim):
            res.note("rep_by_current_book")
        return True

    def missing(self, table: str, *cols: str) -> Skip | None:
        """A Skip when ``table`` (or one of ``cols`` in it) is missing; for ``orders``, the
        columns of the (resolved, filtered) sales lines (the dimensions: see :meth:`resolve`)."""
        if table == "orders":
            for c in cols:
                if not self.has_col(c):
                    return Skip("missing_column", {"table": "orders", "column": c})
            return None
        return super().missing(table, *cols)

    @property
    def months_of_history(self) -> int:
        """Complete months from the data start to the report period's end."""
        e = self.period.end if self.period.complete else self.period.start
        f = self.full_month_start
        return max(0, (e.year - f.year) * 12 + e.month - f.month)

    @property
    def window_start(self) -> dt.date:
        """Start of the lookback window (lookback_months months ending with the report month)."""
        lb = int(getattr(self.params, "lookback_months", 24))
        return max(self.data_start, add_months(self.period.start, -(lb - 1)))


def prepare(con: Any, params: SalesTrendsParams | None = None) -> Scope:
    """Inspect the store and resolve the report period.

    Parameters
    ----------
    con : ibis backend
        From :func:`analysis.store.connect`.
    params : SalesTrendsParams, optional
        The report's parameters, validated (``SalesTrendsParams.of(month=...)``); None: the defaults.

    Returns
    -------
    Scope

    Examples
    --------
    >>> scope = prepare(con, SalesTrendsParams.of(month="2026-10", level="rep"))  # doctest: +SKIP
    >>> scope.period.label  # doctest: +SKIP
    '2026-10'
    """
    from .params import SalesTrendsParams
    from .params.base import as_params

    p = as_params(SalesTrendsParams, params, f"{REPORT}.prepare")
    if not store.has_rows(con, "orders"):
        raise MissingTableError("orders", REPORT)
    tables: dict[str, list[str]] = {}
    row_counts: dict[str, int] = {}
    for name in ("orders", "customers", "products", "reps", "targets", "visits"):
        if store.has_table(con, name):
            n = int(con.table(name).count().execute())
            row_counts[name] = n
            if n:
                tables[name] = list(con.table(name).columns)
    src = model.sources(con)
    raw = model.sales_lines(con, src=src)
    measures = tuple(m for m in ("amount", "qty") if m in raw.columns)
    if not measures:
        raise MissingColumnError("orders", "amount", list(src.orders))
    o = raw
    filtered = False
    for col, values in (p.filters or {}).items():
        c = LEVEL_COLUMNS.get(col, col)
        if c not in o.columns:
            raise ParameterError(
                f"The 'filters' parameter of {REPORT} must name columns of the orders. Got {col!r} instead; "
                f"columns: {', '.join(sorted(o.columns))}."
            )
        if values:
            o = o.filter(o[c].cast("string").isin([str(v) for v in values]))
            filtered = True
    if filtered and int(o.count().execute()) == 0:
        raise InsufficientDataError("No orders match the filters.")
    # the data window and grain are properties of the store, not of a filter (a region whose
    # first order falls on the 2nd of a month still has that month's data)
    first, last = model.data_window(con)
    dates = model.order_days(con).execute()["order_date"]
    grain = detect_grain(dates)
    period = resolve_period(p.month, first, last, grain)
    return Scope(con=con, params=p, orders=o, grain=grain, first=first, last=last, period=period,
                 measures=measures, tables=tables, row_counts=row_counts, filtered=filtered, src=src,
                 qty_kind=model.qty_kind(con))


# ----------------------------------------------------------------------- aggregation
def _daily(scope: Scope, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The measures summed per day, ``day`` (datetime64) between two dates (end exclusive).

    One engine query per scope sums all the order lines per day (a few thousand rows); every
    total and monthly series without a breakdown is then cut from it, instead of scanning the
    lines again for each (the sections ask for the same totals many times)."""
    if scope.daily is None:
        f = scope.orders
        out = f.group_by(f.order_date.cast("date").name("day")).aggregate(
            **{m: f[m].sum() for m in scope.measures}).execute()
        out["day"] = pd.to_datetime(out["day"])
        scope.daily = out.sort_values("day", kind="mergesort").reset_index(drop=True)
    d = scope.daily
    return d[(d["day"] >= pd.Timestamp(start)) & (d["day"] < pd.Timestamp(end))]


def _totals(scope: Scope, start: dt.date, end: dt.date, by: str | None = None) -> pd.DataFrame:
    """Sums of the measures between two dates (end exclusive), optionally by a column."""
    if by is None:
        d = _daily(scope, start, end)
        return pd.DataFrame({m: [d[m].sum() if len(d) else 0.0] for m in scope.measures})
    f = between(scope.orders, start, end)
    aggs = {m: f[m].sum() for m in scope.measures}
    k = f[by].cast("string").fill_null(UNKNOWN).name("key")
    out = f.group_by(k).aggregate(**aggs).execute()
    return out.fillna({m: 0.0 for m in scope.measures})


def _period_totals(scope: Scope, p: Period, by: str | None = None) -> pd.DataFrame | None:
    """Totals of period ``p`` (its covered part), or None when the data do not cover it."""
    if not scope.covers(p):
        return None
    return _totals(scope, p.start, p.data_end, by)


def _monthly(scope: Scope, start: dt.date, end: dt.date, by: str | None = None) -> pd.DataFrame:
    """Monthly sums between two dates: ``month`` (pd.Period), [key], measures; months without
    orders inside the range are filled with 0."""
    months = pd.period_range(pd.Period(start, "M"), pd.Period(end - dt.timedelta(days=1), "M"), freq="M")
    if by is None:  # cut from the daily sums (one query per scope, see _daily)
        d = _daily(scope, start, end)
        out = d.groupby(d["day"].dt.to_period("M").rename("month"))[list(scope.measures)].sum()
        return out.reindex(months).fillna(0.0).rename_axis("month").reset_index()
    f = between(scope.orders, start, end)
    # Sum per day first, then truncate the (few thousand) daily rows to months: truncating the
    # date of every order line costs several times more in the engine (see BENCHMARKS.md).
    day_keys = [f.order_date.name("day")] + ([f[by].cast("string").fill_null(UNKNOWN).name("key")] if by else [])
    daily = f.group_by(day_keys).aggregate(**{m: f[m].sum() for m in scope.measures})
    keys = [daily.day.truncate("M").name("month")] + (["key"] if by else [])
    out = daily.group_by(keys).aggregate(**{m: daily[m].sum() for m in scope.measures}).execute()
    out["month"] = pd.to_datetime(out["month"]).dt.to_period("M")
    idx = pd.MultiIndex.from_product([months, sorted(out["key"].unique())], names=["month", "key"])
    return out.set_index(["month", "key"]).reindex(idx).fillna(0.0).reset_index()


def _targets(scope: Scope, level: str, start: dt.date, end: dt.date, measure: str = "amount") -> pd.DataFrame | None:
    """Targets of ``level`` for months in [start, end): ``month`` (pd.Period), ``key``, ``target``.
    None when the store has no targets table or none at that level."""
    if not scope.has("targets", "period", "level", "key", "measure", "value"):
        return None
    t = scope.con.table("targets")
    per = t.period.cast("date")
    f = t.filter((t.level == level) & (t.measure == measure) & half_open(per, start, end))
    out = f.group_by(per.truncate("M").name("month"), t.key.cast("string").name("key")).aggregate(
        target=f.value.sum()).execute()
    if out.empty:
        return None
    out["month"] = pd.to_datetime(out["month"]).dt.to_period("M")
    return out


def rate(num: float | None, den: float | None) -> float:
    """num ÷ den, NaN when either is missing or den ≤ 0 (never a division error).

    Examples
    --------
    >>> rate(90, 100), rate(5, 0), rate(5, None)
    (0.9, nan, nan)
    """
    if num is None or den is None:
        return float("nan")
    num, den = float(num), float(den)
    if math.isnan(num) or math.isnan(den) or den <= 0:
        return float("nan")
    return num / den


def change(cur: float | None, prev: float | None) -> float:
    """Relative change cur ÷ prev − 1 (NaN when prev is missing or ≤ 0)."""
    r = rate(cur, prev)
    return r - 1 if not math.isnan(r) else r


def _rates(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = pd.to_numeric(num, errors="coerce"), pd.to_numeric(den, errors="coerce")
    return (num / den.where(den > 0)).astype(float)


# ========================================================================== 1 headline
@_section
class Headline(SectionResult):
    """The period's totals beside last year, the previous month, target and year to date."""

    report = REPORT
    default_code = "headline"
    period: str = ""
    kind: str = "month"
    time_elapsed: float = float("nan")
    ytd_time_elapsed: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per measure
    # the data used (the section's data note): window, grain, whether the period is complete, filters
    data_first: dt.date | None = None
    data_last: dt.date | None = None
    grain: str = ""
    complete: bool = True
    filters: dict = field(default_factory=dict)
    qty_kind: str = "qty"  # the unit of the volume row (Scope.qty_kind)

    def value(self, measure: str, col: str) -> float:
        if "measure" not in self.table:
            return float("nan")
        t = self.table.set_index("measure")
        return float(t.loc[measure, col]) if measure in t.index and col in t.columns else float("nan")

    @property
    def measure(self) -> str:
        """The main measure: amount when present, else qty."""
        return "amount" if "measure" not in self.table or "amount" in set(self.table["measure"]) else "qty"

    def metrics(self) -> dict[str, Any]:
        m = self.measure
        return {"total_amount": self.value("amount", "current"), "total_qty": self.value("qty", "current"),
                "attainment": self.value(m, "attainment"), "time_elapsed": self.time_elapsed,
                "yoy": self.value(m, "yoy"), "mom": self.value(m, "mom"),
                "yoy_qty": self.value("qty", "yoy"), "mom_qty": self.value("qty", "mom")}


HEADLINE_COLUMNS = {"current": "money", "last_year": "money", "yoy": "change", "previous": "money", "mom": "change",
                    "ytd": "money", "ytd_yoy": "change", "target": "money", "attainment": "rate"}


def _show_headline(res: Headline) -> Headline:
    """One table per measure (amount in 万元, volume in its own unit): a column holds one unit."""
    cols = list(HEADLINE_COLUMNS) if res.kind == "month" else ["current", "last_year", "yoy"]
    for measure in res.table.get("measure", pd.Series(dtype=str)):
        kind = model.measure_kind(measure, res.qty_kind)
        kinds = {c: (kind if HEADLINE_COLUMNS[c] == "money" else HEADLINE_COLUMNS[c]) for c in cols}
        rows = res.table[res.table["measure"] == measure].reset_index(drop=True)
        res.tables.append(Table.of(measure, rows, title=f"column.{measure}", **kinds))
    return res


def headline(scope: Scope) -> Headline:
    """Section 1: the period's and year-to-date amount and volume, attainment beside time
    elapsed, yoy and mom with absolute changes.

    The table has one row per measure (amount, qty) with ``current, last_year, yoy,
    yoy_change, previous, mom, mom_change, ytd, ytd_last_year, ytd_yoy, target,
    attainment, ytd_target, ytd_attainment``.

    Examples
    --------
    >>> h = headline(prepare(con))  # doctest: +SKIP
    >>> h.value("amount", "attainment")  # doctest: +SKIP
    """
    p = scope.period
    cur = _period_totals(scope, p)
    ly = _period_totals(scope, p.last_year())
    prev = _period_totals(scope, p.previous()) if p.kind == "month" else None
    ytd_p = Period(p.kind, dt.date(p.start.year, 1, 1), p.end, p.data_end)
    ytd = _totals(scope, max(ytd_p.start, scope.data_start), p.data_end) if p.kind == "month" else None
    ytd_ly = _period_totals(scope, ytd_p.last_year()) if p.kind == "month" else None
    rows = []
    for m in scope.measures:
        c = float(cur[m].iloc[0])
        l = float(ly[m].iloc[0]) if ly is not None else np.nan
        pv = float(prev[m].iloc[0]) if prev is not None else np.nan
        y = float(ytd[m].iloc[0]) if ytd is not None and ytd_p.start >= scope.data_start else np.nan
        yl = float(ytd_ly[m].iloc[0]) if ytd_ly is not None else np.nan
        tgt, ytgt = company_target(scope, m, p), company_target(scope, m, ytd_p) if p.kind == "month" else np.nan
        rows.append({
            "measure": m, "current": c, "last_year": l, "yoy": change(c, l), "yoy_change": c - l,
            "previous": pv, "mom": change(c, pv), "mom_change": c - pv,
            "ytd": y, "ytd_last_year": yl, "ytd_yoy": change(y, yl),
            "target": tgt, "attainment": rate(c, tgt), "ytd_target": ytgt, "ytd_attainment": rate(y, ytgt),
        })
    ytd_days = (p.data_end - ytd_p.start).days
    ytd_total = (dt.date(p.start.year + 1, 1, 1) - ytd_p.start).days
    return _show_headline(Headline(period=p.label, kind=p.kind, time_elapsed=p.time_elapsed,
                                   ytd_time_elapsed=ytd_days / ytd_total if p.kind == "month" else p.time_elapsed,
                                   table=pd.DataFrame(rows), data_first=scope.first, data_last=scope.last,
                                   grain=scope.grain, complete=p.complete, qty_kind=scope.qty_kind,
                                   filters={k: list(v) for k, v in (scope.params.filters or {}).items() if v}))


def company_target(scope: Scope, measure: str, p: Period) -> float:
    """Company target of the period's months; with only a region filter, the sum of the
    filtered regions' targets; other filters leave it undefined."""
    if p.kind != "month" and p.start.month != 1:
        return float("nan")
    fl = {k: v for k, v in (scope.params.filters or {}).items() if v}
    if not fl:
        t = _targets(scope, "company", p.start, p.end, measure)
        return float(t["target"].sum()) if t is not None and t["month"].nunique() == _n_months(p) else float("nan")
    if set(fl) == {"region"}:
        t = _targets(scope, "region", p.start, p.end, measure)
        if t is None:
            return float("nan")
        t = t[t["key"].isin([str(v) for v in fl["region"]])]
        return float(t["target"].sum()) if t["month"].nunique() == _n_months(p) else float("nan")
    return float("nan")


def _n_months(p: Period) -> int:
    return (p.end.year - p.start.year) * 12 + p.end.month - p.start.month


# ========================================================================= 2 attainment
@_section
class LevelAttainment(SectionResult):
    """Target, actual, attainment, gap and yoy at a level, the action points flagged."""

    report = REPORT
    default_code = "attainment_by_level"
    level: str = "region"
    has_targets: bool = False
    time_elapsed: float = 1.0
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # key, target, actual, attainment, gap, yoy, action
    value_kind: str = "money"  # of target, actual and gap (Scope.value_kind)


#: the master table and its name column of a level whose keys are codes (names first in tables)
KEY_NAMES = {"rep": ("reps", "rep_id", "name"), "sku": ("products", "sku_id", "sku_name"),
             "customer": ("customers", "customer_id", "name")}


def _with_names(scope: Scope, level: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``name`` column for a level whose keys are codes (rep, SKU, customer):
    the master's name of each key (None where the master has none)."""
    if level not in KEY_NAMES or table.empty:
        return table
    master, key, name = KEY_NAMES[level]
    if not scope.has(master, key, name):
        return table
    keys = [str(k) for k in table["key"].dropna().unique()]
    t = scope.con.table(master)
    info = t.filter(t[key].cast("string").isin(keys)).select(t[key].cast("string").name("key"), t[name].name("name"))
    names = info.execute().drop_duplicates("key").set_index("key")["name"]
    out = table.copy()
    out["name"] = out["key"].astype(str).map(names)
    return out


def _name_kinds(table: pd.DataFrame) -> dict[str, str]:
    return {"name": "text"} if "name" in table.columns else {}


def _show_attainment(res: LevelAttainment) -> LevelAttainment:
    names = _name_kinds(res.table)  # names first, the code beside them
    res.tables.append(Table.of("by_level", res.table, labels={"key": "column.code" if names else f"level.{res.level}",
                                                               "name": f"level.{res.level}"}, max_rows=40,
                               codes={"key": "column"}, **names, key="name", target=res.value_kind,
                               actual=res.value_kind, attainment="rate",
                               gap="money_signed" if res.value_kind == "money" else res.value_kind,
                               last_year="money", yoy="change", action="flag"))
    if res.has_targets and res.table["attainment"].notna().any():
        res.figures.append(Figure("trends.attainment_bars", {"table": res.table, "time_elapsed": res.time_elapsed}))
    return res


def attainment_by_level(scope: Scope, level: str | None = None, action_rows: int | None = None) -> LevelAttainment:
    """Section 2: target, actual, attainment, gap and yoy at ``level``, sorted by gap.

    Targets come from the targets table rows whose level matches (rep → "rep", region →
    "region", brand, price_class; customer has none). Keys with a target but no sales count
    as actual 0. The ``action_rows`` rows with the largest shortfall are flagged
    (``action`` True); without targets, the largest yoy declines are flagged instead.

    Examples
    --------
    >>> attainment_by_level(prepare(con), "rep").table.head()  # doctest: +SKIP
    """
    level = level or scope.params.level
    if level not in LEVEL_COLUMNS:
        raise ParameterError(
            f"The 'level' parameter of attainment_by_level must be one of {', '.join(LEVEL_COLUMNS)}. Got {level!r} instead."
        )
    k_rows = int(action_rows if action_rows is not None else getattr(scope.params, "action_rows", 3))
    col = LEVEL_COLUMNS[level]
    res = LevelAttainment(level=level, time_elapsed=scope.period.time_elapsed, value_kind=scope.value_kind)
    if scope.period.kind != "month":
        return res.skipped(Reason.GRAIN, grain=scope.grain)
    if not scope.resolve(res, col):
        return res
    p = scope.period
    m = scope.value
    cur = _period_totals(scope, p, col)[["key", m]].rename(columns={m: "actual"})
    ly_p = p.last_year()
    ly = _period_totals(scope, ly_p, col)
    tl = TARGET_LEVEL[level]
    # a filter on another dimension makes the level's targets incomparable: price-class
    # targets are company-wide, not per region (rep targets stay comparable: a rep is the key)
    fl = {LEVEL_COLUMNS.get(k, k) for k, v in (scope.params.filters or {}).items() if v}
    comparable = level == "rep" or fl <= {col}
    tg = _targets(scope, tl, p.start, p.end, "amount") if tl and m == "amount" and comparable else None
    if tl and not comparable:
        res.note("filtered_targets", level=level)
    df = cur.set_index("key")
    if tg is not None:
        tg = tg.groupby("key")["target"].sum()
        if scope.filtered:  # only keys that sold inside the filter during the lookback
            seen = set(_totals(scope, scope.window_start, p.data_end, col)["key"])
            tg = tg[tg.index.isin(seen)]
        df = df.join(tg, how="outer")
        df["actual"] = df["actual"].fillna(0.0)
        res.has_targets = True
    else:
        df["target"] = np.nan
    df["last_year"] = ly.set_index("key")[m].reindex(df.index).fillna(0.0) if ly is not None else np.nan
    df = df.reset_index().rename(columns={"index": "key"})
    df["attainment"] = _rates(df["actual"], df["target"])
    df["gap"] = np.where(df["target"] > 0, df["actual"] - df["target"] * p.time_elapsed, np.nan)
    df["yoy"] = _rates(df["actual"], df["last_year"]) - 1
    df["yoy_change"] = df["actual"] - df["last_year"]
    if df["gap"].notna().any():
        df = df.sort_values(["gap", "key"], na_position="last", kind="mergesort")
        short = df.index[df["gap"] < 0][:k_rows]
    else:
        df = df.sort_values(["yoy_change", "key"], na_position="last", kind="mergesort")
        short = df.index[df["yoy_change"] < 0][:k_rows]
    df["action"] = df.index.isin(short)
    res.table = _with_names(scope, level, df[["key", "target", "actual", "attainment", "gap", "last_year", "yoy",
                                              "action"]].reset_index(drop=True))
    if not res.has_targets and not (tl and not comparable):
        res.note("no_targets", level=level)
    return _show_attainment(res)


# ====================================================================== 3 underperformers
@_section
class Underperformers(SectionResult):
    """Reps below the attainment threshold in each of the last ``streak`` months."""

    report = REPORT
    default_code = "underperformers"
    threshold: float = 0.9
    streak: int = 3
    months: list = field(default_factory=list)  # "YYYY-MM" of the streak window
    ids: list = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, name, region, attainment per month
    series: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, month, actual, target, attainment

    def metrics(self) -> dict[str, Any]:
        return {"underperformers": list(self.ids) if self.skip is None else []}


def _show_underperformers(res: Underperformers) -> Underperformers:
    if len(res.table):
        # one row per rep and month (the scorecard's form): headers stay catalogue labels
        ids = [c for c in ("name", "rep_id", "region") if c in res.table]  # names first, the code beside them
        long = res.table.melt(id_vars=ids, value_vars=list(res.months), var_name="month", value_name="attainment")
        long = long.sort_values(["rep_id", "month"]).reset_index(drop=True)
        res.tables.append(Table.of("reps", long, max_rows=200, **{c: "text" for c in ids}, month="month",
                                   attainment="rate"))
        names = dict(zip(res.table["rep_id"].astype(str), res.table["name"])) if "name" in res.table else {}
        res.figures.append(Figure("trends.underperformer_lines", {"series": res.series, "threshold": res.threshold,
                                                                  "names": names}))
    return res


def rep_attainment(scope: Scope, start: dt.date, end: dt.date) -> pd.DataFrame | None:
    """Monthly attainment per rep for months in [start, end): ``rep_id, month, actual,
    target, attainment``; rows are the reps' targets (a rep with a target and no sales has
    actual 0). None without rep targets (:func:`analysis.attainment.rep_monthly` on the
    report's filtered sales lines)."""
    if "amount" not in scope.measures or not scope.has_col("rep_id"):
        return None
    return attainment.rep_monthly(scope.con, scope.orders, start, end)


def underperformers(scope: Scope, threshold: float | None = None, streak: int | None = None) -> Underperformers:
    """Section 3: reps whose attainment is below ``threshold`` in each of the ``streak``
    months ending with the report month (a month without a defined attainment breaks the
    streak), with their monthly series over the lookback window.

    Examples
    --------
    >>> underperformers(prepare(con)).ids  # doctest: +SKIP
    ['R0012', 'R0077']
    """
    thr = float(threshold if threshold is not None else scope.params.underperform_threshold)
    k = int(streak if streak is not None else scope.params.underperform_streak)
    res = Underperformers(threshold=thr, streak=k)
    p = scope.period
    if p.kind != "month":
        return res.skipped(Reason.GRAIN, grain=scope.grain)
    start = add_months(p.start, -(k - 1))
    if start < scope.first.replace(day=1):  # the streak cannot be told before the data start
        return res.skipped(Reason.TOO_SHORT, needed=k, got=(p.end.year - scope.first.year) * 12
                           + p.end.month - scope.first.month)
    if not scope.resolve(res, "rep_id", start, p.data_end):
        return res
    if (sk := scope.missing("targets", "level", "key", "value")) is not None:
        res.skip = sk
        return res
    months = attainment.streak_months(p.start, k)
    res.months = [str(m) for m in months]
    att = rep_attainment(scope, min(start, scope.window_start), p.end)
    if att is None:
        return res.skipped(Reason.NO_TARGETS, level="rep")
    if p.time_elapsed < 1:
        res.note("partial_month", elapsed=p.time_elapsed)
    if scope.filtered:
        seen = set(_totals(scope, start, p.data_end, "rep_id")["key"])
        att = att[att["rep_id"].isin(seen)]
    wide = attainment.below(att, months, thr)
    ids = sorted(wide.index[wide["below"]].tolist())
    res.ids = ids
    tab = wide.loc[ids].drop(columns="below")
    tab.columns = [str(c) for c in tab.columns]
    tab = tab.reset_index()
    if scope.has("reps", "rep_id") and ids:
        cols = [c for c in ("name", "region") if c in scope.tables["reps"]]
        if cols:
            r = scope.con.table("reps")
            info = r.filter(r.rep_id.cast("string").isin(ids)).select("rep_id", *cols).execute()
            info["rep_id"] = info["rep_id"].astype(str)
            tab = tab.merge(info, on="rep_id", how="left")[["rep_id", *cols, *res.months]]
    res.table = tab
    res.series = att[att["rep_id"].isin(ids)].reset_index(drop=True)
    return _show_underperformers(res)


# =============================================================================== 4 trend
TREND_TEST_MIN_MONTHS = 24  # the seasonal test compares each month with the same month of another year
TREND_TEST_MONTHS = 36  # the test uses at least this many months when the history has them
FESTIVAL_REGRESSOR_DAYS = 21  # the pre-festival buying weeks counted in each month's regressor (trend and forecast)


@_section
class Trend(SectionResult):
    """The monthly series decomposed (STL), the trend test and the months outside the expected range."""

    report = REPORT
    default_code = "trend"
    series: pd.DataFrame = field(default_factory=pd.DataFrame)  # month, observed, trend, seasonal, remainder, expected_*, anomaly
    test: Any = None  # analysis.stats.timeseries.SeasonalMannKendallResult (parts["test"]: why it did not run)
    test_start: str = ""  # first month ("YYYY-MM") of the span the test ran on
    anomalies: pd.DataFrame = field(default_factory=pd.DataFrame)
    measure: str = "amount"
    value_kind: str = "money"  # the unit of the series (Scope.value_kind)
    anomaly_cycles: int = 0  # fewest cycles behind a month's seasonal reference (2: the two-year rule applied)
    festival_adjusted: bool = False  # the trend test took the Spring Festival days of each month out first

    @property
    def p_value(self) -> float:
        """The trend test's p-value (NaN when it did not run)."""
        return float("nan") if self.test is None else float(self.test.p_value)

    def trend_metrics(self) -> dict | None:
        """{"method", "slope", "lo", "hi", "p"} for metrics.json (slope per month in the
        measure's unit, its 95 % interval, two-sided p); None when the test did not run."""
        t = self.test
        if t is None:
            return None
        vals = {"slope": t.slope, "lo": t.slope_low, "hi": t.slope_high, "p": t.p_value}
        if not all(math.isfinite(v) for v in vals.values()):
            return None
        return {"method": t.method, **{k: float(v) for k, v in vals.items()}}

    def metrics(self) -> dict[str, Any]:
        return {"trend": self.trend_metrics() if self.skip is None else None}


def _show_trend(res: Trend) -> Trend:
    res.figures.append(Figure("trends.trend_chart", {"series": res.series, "measure": res.measure,
                                                     "kind": res.value_kind}))
    if len(res.anomalies):
        k = res.value_kind
        res.tables.append(Table.of("anomalies", res.anomalies, month="month", observed=k, expected=k,
                                   expected_low=k, expected_high=k))
    return res


def trend_test(history, span: int | None = None, festival=None, period: int = 12):
    """The report's trend test: seasonal Mann–Kendall on the last ``span`` values of the
    monthly ``history`` (default all), its variance corrected for AR(1) serial correlation
    with φ estimated from the seasonal differences of the whole history.

    ``festival``: a calendar regressor aligned with ``history`` (the pre-festival days of each
    month). Its effect is estimated on seasonal differences and taken out of the series
    before the test, and it is regressed out of the differences φ is estimated from: a
    festival moving between January and February otherwise looks like negative
    autocorrelation and hides the real one.

    Returns
    -------
    analysis.stats.timeseries.SeasonalMannKendallResult

    Examples
    --------
    >>> t = np.arange(36.0)
    >>> trend_test(100 + t + 10 * np.sin(t * np.pi / 6)).trend
    'increasing'
    """
    from .stats import timeseries as ts
    from .stats.forecast import regressor_effects

    y = np.asarray(history, dtype=float)
    X = None
    if festival is not None:
        X = np.asarray(festival, dtype=float).reshape(len(y), -1)
        y = y - X @ regressor_effects(y, X, period)
    phi = ts.ar1_from_seasonal_differences(y, period=period, exog=X)
    tested = y if span is None else y[-int(span):]
    return ts.seasonal_mann_kendall(tested, period=period, ar1=phi)


def trend(scope: Scope, k: float = 3.0) -> Trend:
    """Section 4: STL decomposition of the monthly series over the lookback window
    (complete months up to the report month), a trend test with the seasonal Sen slope,
    and months outside the expected range (trend + seasonal ± k robust σ) flagged.

    The trend test is :func:`trend_test` (seasonal Mann–Kendall, variance corrected for
    autocorrelation, the Spring Festival days of each month adjusted for): a plain
    Mann–Kendall test on a seasonal, autocorrelated monthly series calls far more than 5 %
    of trendless series significant. It runs on the last
    max(lookback, 36) complete months of the history (up to max(lookback, 60)), because with two
    years a seasonal test compares only twelve pairs; it needs 24 months, and with fewer the
    section shows the series without a test (the part ``test`` skipped). The decomposition and expected
    range use up to 60 months (more cycles make the range robust); the lookback window is
    what is shown.

    Examples
    --------
    >>> trend(prepare(con)).p_value  # doctest: +SKIP
    0.031
    """
    from .stats import timeseries as ts

    res = Trend(measure=scope.value, value_kind=scope.value_kind)
    if scope.period.kind != "month":
        return res.skipped(Reason.GRAIN, grain=scope.grain)
    s = _complete_monthly(scope, scope.window_start)
    if len(s) < 8:
        return res.skipped(Reason.TOO_SHORT, needed=8, got=len(s))
    series = s.set_index("month")[scope.value]
    back = max(60, int(getattr(scope.params, "lookback_months", 24)))
    longer = _complete_monthly(scope, add_months(scope.period.start, -(back - 1))).set_index("month")[scope.value]
    span = min(len(longer), max(len(series), TREND_TEST_MONTHS))
    if len(longer) >= TREND_TEST_MIN_MONTHS:
        fest = ts.festival_days_by_month(longer.index, before=FESTIVAL_REGRESSOR_DAYS)
        res.test = trend_test(longer.to_numpy(), span=span, festival=fest)
        if getattr(res.test, "caution", None):  # e.g. high autocorrelation: the test's level is above nominal
            res.note(res.test.caution, phi=res.test.ar1)
        res.festival_adjusted = True
        res.test_start = str(longer.index[-span])
    else:
        res.skipped_part("test", Reason.TOO_SHORT, needed=TREND_TEST_MIN_MONTHS, got=len(longer))
    if len(longer) >= 24:
        parts = ts.flag_anomalies(ts.stl_decompose(longer, period=12), k=k, period=12)
        res.anomaly_cycles = int(min(np.bincount(np.arange(len(longer)) % 12, minlength=12)))
        res.series = parts.loc[parts.index.isin(series.index)].rename_axis("month").reset_index()
        res.anomalies = res.series.loc[res.series["anomaly"], ["month", "observed", "expected", "expected_low",
                                                                "expected_high"]].reset_index(drop=True)
    else:
        res.series = pd.DataFrame({"month": series.index, "observed": series.to_numpy()})
        res.note("no_stl")
    return _show_trend(res)


def _complete_monthly(scope: Scope, start: dt.date) -> pd.DataFrame:
    """Monthly sums of complete months from ``start`` (≥ data start) to the report month."""
    p = scope.period
    end = p.end if p.complete else p.start
    start = max(start, scope.full_month_start)  # a month the data start inside is not complete
    if end <= start:
        return pd.DataFrame(columns=["month", *scope.measures])
    return _monthly(scope, start, end).reset_index(drop=True)


# ===================================================================== 5 spring festival
@_section
class SpringFestival(SectionResult):
    """January+February together, and the seasons aligned on days to Spring Festival."""

    report = REPORT
    default_code = "spring_festival"
    jan_feb: pd.DataFrame = field(default_factory=pd.DataFrame)
    aligned: pd.DataFrame = field(default_factory=pd.DataFrame)  # season, festival, offset, value, cumulative
    aligned_totals: pd.DataFrame = field(default_factory=pd.DataFrame)  # season, festival, amount, yoy
    peaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    before: int = 42
    after: int = 21
    value_kind: str = "money"  # the unit of the totals (Scope.value_kind)


def _show_spring_festival(res: SpringFestival) -> SpringFestival:
    if len(res.jan_feb):
        k = res.value_kind
        res.tables.append(Table.of("jan_feb", res.jan_feb, year="text", festival="date", jan=k, feb=k,
                                   jan_feb=k, jan_yoy="change", feb_yoy="change", jan_feb_yoy="change"))
    if len(res.aligned_totals):
        value = [c for c in res.aligned_totals.columns if c not in ("season", "festival", "yoy")]
        res.tables.append(Table.of("aligned", res.aligned_totals, title="column.aligned_window", season="text",
                                   festival="date", **{c: res.value_kind for c in value}, yoy="change"))
        res.figures.append(Figure("trends.spring_festival_chart", {"aligned": res.aligned, "kind": res.value_kind}))
    return res


def spring_festival(scope: Scope, before: int = 42, after: int = 21) -> SpringFestival:
    """Section 5: January+February combined with yoy, and the seasons aligned on days to
    Spring Festival (春节 dates from ``holidays.China``): daily curves ``before`` days before to
    ``after`` days after, totals of each complete window with yoy, and each season's peak month.

    Examples
    --------
    >>> spring_festival(prepare(con)).peaks  # doctest: +SKIP
    """
    from .stats import timeseries as ts

    res = SpringFestival(before=before, after=after, value_kind=scope.value_kind)
    if scope.period.kind != "month":
        return res.skipped(Reason.GRAIN, grain=scope.grain)
    v = scope.value
    end = scope.period.data_end
    monthly = _monthly(scope, scope.full_month_start, end) if end > scope.full_month_start else \
        pd.DataFrame(columns=["month", v])
    res.jan_feb = ts.jan_feb_combined(monthly, value_col=v)
    res.peaks = ts.spring_festival_peaks(monthly, value_col=v)
    if scope.grain in ("daily", "weekly"):
        o = between(scope.orders, scope.data_start, end)
        daily = o.group_by(o.order_date.name("date")).aggregate(**{v: o[v].sum()}).execute()
        al = ts.align_on_spring_festival(daily, before, after, value_col=v)
        # a window that sticks out of the data is not comparable
        al = al[al["complete"].astype(bool)]  # (an empty object column would select columns)
        res.aligned = al.drop(columns="complete").reset_index(drop=True)
        tot = al.groupby(["season", "festival"], as_index=False)["value"].sum().rename(columns={"value": v})
        prev = tot.set_index("season")[v]
        tot["yoy"] = [change(x, prev.get(s - 1)) for s, x in zip(tot["season"], tot[v])]
        res.aligned_totals = tot
    else:
        res.note("no_daily")
    if res.jan_feb.empty and res.aligned.empty:
        return res.skipped(Reason.TOO_SHORT, needed=2, got=0)
    return _show_spring_festival(res)


# ============================================================================== 6 mix
@_section
class Mix(SectionResult):
    """Price-class shares against last year (shifts in pp) and value per unit."""

    report = REPORT
    default_code = "mix"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    shift_pp: dict = field(default_factory=dict)  # {price_class: pp} (volume share, else amount)
    share_measure: str = "qty"
    unit_value: pd.DataFrame = field(default_factory=pd.DataFrame)  # price_class rows + total: per carton, per case
    per_case: bool = False
    qty_kind: str = "qty"  # the unit of the volumes (Scope.qty_kind)

    def metrics(self) -> dict[str, Any]:
        return {"mix_shift_pp": dict(self.shift_pp) if self.skip is None else {}}


def _show_mix(res: Mix) -> Mix:
    m = res.share_measure
    kinds = {f"{m}_cur": "money" if m == "amount" else res.qty_kind, f"{m}_share": "rate", f"{m}_share_ly": "rate",
             f"{m}_shift_pp": "pp"}
    res.tables.append(Table.of("shares", res.table, labels={f"{m}_cur": f"column.{m}"}, codes={"price_class": "column"}, price_class="name",
                               **{c: k for c, k in kinds.items() if c in res.table}))
    if len(res.unit_value):
        kinds = {c: ("change" if c.endswith("yoy") else "f2") for c in res.unit_value.columns if c != "price_class"}
        res.tables.append(Table.of("unit_value", res.unit_value, title="sales_trends.table.unit_value",
                                   codes={"price_class": "column"}, price_class="name",
                                   **kinds))
    res.figures.append(Figure("trends.mix_chart", {"table": res.table, "measure": m}))
    return res


def mix(scope: Scope) -> Mix:
    """Section 6: price-class mix of the period vs the same period last year, shifts in
    percentage points (volume share when qty exists, else amount share), and value per
    unit (单条批发额; 单箱批发额 = × 250 when products are in cartons 条).

    Examples
    --------
    >>> mix(prepare(con)).shift_pp  # doctest: +SKIP
    {'一类': 2.1, ...}
    """
    res = Mix(qty_kind=scope.qty_kind)
    if not scope.resolve(res, "price_class"):
        return res
    p = scope.period
    cur = _period_totals(scope, p, "price_class")
    ly = _period_totals(scope, p.last_year(), "price_class")
    if cur is None or cur.empty:
        return res.skipped(Reason.NO_DATA)
    df = cur.set_index("key").add_suffix("_cur")
    if ly is not None:
        df = df.join(ly.set_index("key").add_suffix("_ly"), how="outer").fillna(0.0)
    rows = pd.DataFrame(index=df.index)
    for m in scope.measures:
        rows[f"{m}_cur"] = df[f"{m}_cur"]
        rows[f"{m}_share"] = df[f"{m}_cur"] / df[f"{m}_cur"].sum() if df[f"{m}_cur"].sum() else np.nan
        if ly is not None:
            rows[f"{m}_ly"] = df[f"{m}_ly"]
            tot = df[f"{m}_ly"].sum()
            rows[f"{m}_share_ly"] = df[f"{m}_ly"] / tot if tot else np.nan
            rows[f"{m}_shift_pp"] = (rows[f"{m}_share"] - rows[f"{m}_share_ly"]) * 100
    res.share_measure = "qty" if "qty" in scope.measures else "amount"
    rows = rows.rename_axis("price_class").reset_index()
    rows = rows.sort_values("price_class", key=_price_class_order).reset_index(drop=True)
    res.table = rows
    if ly is not None:
        res.shift_pp = {str(k): float(v) for k, v in zip(rows["price_class"], rows[f"{res.share_measure}_shift_pp"])}
    # without last year shift_pp stays empty (the text says so)
    if set(scope.measures) == {"amount", "qty"}:
        uv = rows[["price_class"]].copy()
        uv["unit_value"] = _rates(rows["amount_cur"], rows["qty_cur"])
        uv["unit_value_ly"] = _rates(rows["amount_ly"], rows["qty_ly"]) if ly is not None else np.nan
        total = pd.DataFrame({"price_class": ["total"], "unit_value": [rate(rows["amount_cur"].sum(), rows["qty_cur"].sum())],
                              "unit_value_ly": [rate(rows["amount_ly"].sum(), rows["qty_ly"].sum()) if ly is not None else np.nan]})
        uv = pd.concat([uv, total], ignore_index=True)
        uv["unit_value_yoy"] = _rates(uv["unit_value"], uv["unit_value_ly"]) - 1
        # qty in cartons (条) when the products say so: the value per case follows
        res.per_case = scope.has("products", "pack_unit") and scope.qty_kind == "qty"
        if res.per_case:
            uv["case_value"] = uv["unit_value"] * CARTONS_PER_CASE
            uv["case_value_ly"] = uv["unit_value_ly"] * CARTONS_PER_CASE
        res.unit_value = uv
    return _show_mix(res)


def _price_class_order(s: pd.Series) -> pd.Series:
    from .contracts import PRICE_CLASSES

    order = {c: i for i, c in enumerate(PRICE_CLASSES)}
    return s.map(lambda v: (order.get(v, len(order)), str(v)))


# ========================================================================= 7 contribution
def contribution_parts(current: pd.Series, previous: pd.Series) -> pd.DataFrame:
    """Additive decomposition of a change by key: part_k = current_k − previous_k.

    Keys present in only one period count as 0 in the other, so the parts sum to
    Σcurrent − Σprevious exactly (up to float rounding; exactly for integer values).

    Returns
    -------
    pd.DataFrame
        ``key, current, previous, change, share_of_change`` (share of the total change;
        NaN when the total change is 0), sorted by change.

    Examples
    --------
    >>> contribution_parts(pd.Series({"a": 10, "b": 5}), pd.Series({"a": 4, "c": 3}))["change"].tolist()
    [-3.0, 5.0, 6.0]
    """
    keys = current.index.union(previous.index)
    cur = current.reindex(keys).fillna(0)
    prev = previous.reindex(keys).fillna(0)
    df = pd.DataFrame({"key": keys.astype(str), "current": cur.to_numpy(), "previous": prev.to_numpy()})
    df["change"] = df["current"] - df["previous"]
    total = df["change"].sum()
    df["share_of_change"] = df["change"] / total if total != 0 else np.nan
    return df.sort_values(["change", "key"], kind="mergesort").reset_index(drop=True)


@_section
class Contribution(SectionResult):
    """Which keys of a level explain the change against last year (the parts sum to the total)."""

    report = REPORT
    default_code = "contribution"
    level: str = "region"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    total_current: float = float("nan")
    total_previous: float = float("nan")
    total_change: float = float("nan")
    value_kind: str = "money"  # the unit of the parts (Scope.value_kind)


def _show_contribution(res: Contribution, max_rows: int = 25) -> Contribution:
    t = res.table.reindex(res.table["change"].abs().sort_values(ascending=False, kind="mergesort").index)
    total = pd.DataFrame({"key": ["total"], "current": [res.total_current], "previous": [res.total_previous],
                          "change": [res.total_change], "share_of_change": [1.0 if res.total_change else np.nan]})
    shown = pd.concat([t.head(max_rows), total], ignore_index=True)
    names = _name_kinds(shown)  # names first, the code beside them
    res.tables.append(Table.of("parts", shown, labels={"key": "column.code" if names else f"level.{res.level}",
                                                       "name": f"level.{res.level}", "previous": "column.last_year"},
                               codes={"key": "column"}, **names, key="name", current=res.value_kind, previous=res.value_kind,
                               change="money_signed" if res.value_kind == "money" else res.value_kind,
                               share_of_change="rate"))
    res.figures.append(Figure("trends.contribution_chart", {"table": res.table, "kind": res.value_kind}))
    return res


def contribution(scope: Scope, level: str | None = None) -> Contribution:
    """Section 7: which keys of ``level`` explain the change vs last year (same period a year
    earlier, or the previous year at yearly grain). The parts sum to the total change.

    Examples
    --------
    >>> c = contribution(prepare(con), "region")  # doctest: +SKIP
    >>> c.table["change"].sum() == c.total_change  # doctest: +SKIP
    """
    level = level or scope.params.level
    col = LEVEL_COLUMNS.get(level)
    res = Contribution(level=level, value_kind=scope.value_kind)
    if col is None:
        raise ParameterError(
            f"The 'level' parameter of contribution must be one of {', '.join(LEVEL_COLUMNS)}. Got {level!r} instead."
        )
    if not scope.resolve(res, col):
        return res
    p = scope.period
    cur = _period_totals(scope, p, col)
    prev = _period_totals(scope, p.last_year(), col)
    if prev is None:
        return res.skipped(Reason.TOO_SHORT, needed=13, got=scope.months_of_history)
    m = scope.value
    res.table = _with_names(scope, res.level, contribution_parts(cur.set_index("key")[m], prev.set_index("key")[m]))
    tc = _period_totals(scope, p)[m].iloc[0]
    tp = _period_totals(scope, p.last_year())[m].iloc[0]
    res.total_current, res.total_previous = float(tc), float(tp)
    res.total_change = float(tc - tp)
    return _show_contribution(res)


# =========================================================================== 8 customers
@_section
class Customers(SectionResult):
    """Pareto share and ABC classes of customers, and sales by customer size class."""

    report = REPORT
    default_code = "customers"
    n_customers: int = 0
    top_share: float = float("nan")  # share of amount from the top 20 % of customers
    top_fraction: float = 0.2
    abc: pd.DataFrame = field(default_factory=pd.DataFrame)
    curve: pd.DataFrame = field(default_factory=pd.DataFrame)  # customer_share, amount_share
    big: pd.DataFrame = field(default_factory=pd.DataFrame)  # month, size_class, amount
    big_summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # size_class, current, last_year, yoy, share
    value: str = "amount"  # the measure of ``big``
    value_kind: str = "money"  # its unit (Scope.value_kind)


def _show_customers(res: Customers) -> Customers:
    if len(res.abc):
        res.tables.append(Table.of("abc", res.abc, abc_class="text", customers="count", amount=res.value_kind,
                                   customer_share="rate", amount_share="rate"))
        res.figures.append(Figure("trends.pareto_chart", {"curve": res.curve, "top_fraction": res.top_fraction}))
    if len(res.big_summary):
        res.tables.append(Table.of("size_class", res.big_summary, title="sales_trends.table.size_class",
                                   codes={"size_class": "column"}, size_class="name",
                                   current=res.value_kind, last_year=res.value_kind, yoy="change", share="rate"))
        if len(res.big):
            res.figures.append(Figure("trends.size_class_lines", {"big": res.big, "value": res.value,
                                                                  "kind": res.value_kind}))
    return res


def pareto_abc(values: pd.Series, top_fraction: float = 0.2, a: float = 0.8, b: float = 0.95) -> dict:
    """Pareto share and ABC classes of per-customer amounts.

    Customers are ranked by amount (descending); the top ``ceil(top_fraction·n)`` give
    ``top_share`` of the total; class A holds the customers up to ``a`` of cumulative amount
    (the customer crossing ``a`` included), B up to ``b``, C the rest.

    Examples
    --------
    >>> r = pareto_abc(pd.Series([50.0, 20, 10, 10, 5, 5, 0, 0, 0, 0]))
    >>> round(r["top_share"], 2), r["abc"]["customers"].tolist()
    (0.7, [3, 2, 5])
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").fillna(0.0).sort_values(ascending=False, kind="mergesort")
    n = len(v)
    total = float(v.sum())
    if n == 0 or total <= 0:
        return {"top_share": float("nan"), "abc": pd.DataFrame(), "curve": pd.DataFrame(), "n": n}
    k = max(1, math.ceil(top_fraction * n - 1e-9))
    top_share = float(v.iloc[:k].sum()) / total
    cum = v.cumsum().to_numpy() / total
    prev_cum = np.concatenate([[0.0], cum[:-1]])
    cls = np.where(prev_cum < a - 1e-12, "A", np.where(prev_cum < b - 1e-12, "B", "C"))
    abc = pd.DataFrame({"cls": cls, "amount": v.to_numpy()}).groupby("cls").agg(
        customers=("amount", "size"), amount=("amount", "sum")).reindex(["A", "B", "C"]).fillna(0)
    abc["customers"] = abc["customers"].astype(int)
    abc["customer_share"] = abc["customers"] / n
    abc["amount_share"] = abc["amount"] / total
    step = max(1, n // 200)
    idx = np.unique(np.r_[np.arange(0, n, step), n - 1])
    curve = pd.DataFrame({"customer_share": np.r_[0.0, (idx + 1) / n], "amount_share": np.r_[0.0, cum[idx]]})
    return {"top_share": top_share, "abc": abc.rename_axis("abc_class").reset_index(), "curve": curve, "n": n}


def _size_order(value: Any) -> tuple:
    """Large, medium, small first; grade bands by their lowest grade; the rest (unknown) last."""
    order = {"large": 0, "medium": 1, "small": 2}
    if value in order:
        return (0, order[value], "")
    head = str(value).split("–")[0]
    return (1, int(head), "") if head.isdigit() else (2, 0, str(value))


def customers(scope: Scope, top_fraction: float = 0.2, size_by: str | None = None) -> Customers:
    """Section 8: Pareto/ABC of customers by amount in the period, and monthly amounts by
    customer size class (大户/中户/小户 from the customers table) with yoy.

    ``size_by`` (default the ``size_by`` parameter): ``"size_class"`` groups by the
    customers' size class; ``"grade_band"`` by the band of their tobacco grade (档位 1–30,
    :func:`analysis.contracts.grade_band`: ``1–10``, ``11–20``, ``21–30``). The frames keep
    the column name ``size_class`` either way.

    Examples
    --------
    >>> customers(prepare(con)).top_share  # doctest: +SKIP
    """
    res = Customers(top_fraction=top_fraction, value=scope.value, value_kind=scope.value_kind)
    if not scope.resolve(res, "customer_id"):
        return res
    p = scope.period
    v = scope.value
    per = _period_totals(scope, p, "customer_id")
    r = pareto_abc(per[v], top_fraction)
    res.n_customers, res.top_share, res.abc, res.curve = r["n"], r["top_share"], r["abc"], r["curve"]
    by = size_by or getattr(scope.params, "size_by", "size_class")
    if by not in ("size_class", "grade_band"):
        raise ParameterError(f"The 'size_by' parameter of customers must be 'size_class' or 'grade_band'. Got {by!r} instead.")
    source = "grade" if by == "grade_band" else "size_class"
    cov = model.coverage(scope.orders, [source], start=p.start, end=p.data_end, src=scope.src)[source] \
        if source in scope.orders.columns else None
    if cov is not None and cov.sufficient and p.kind == "month":
        from .contracts import grade_band

        scope.coverage[source] = min(cov.share, scope.coverage.get(source, 1.0))
        if (note := model.coverage_note(cov)) is not None:
            res.notes.append(note)
        o = between(scope.orders, scope.window_start, p.data_end)
        j = o.mutate(size_class=grade_band(o.grade) if by == "grade_band" else o.size_class)
        g = j.group_by(j.order_date.truncate("M").name("month"), j.size_class.fill_null(UNKNOWN).name("size_class")) \
            .aggregate(**{v: j[v].sum()}).execute()
        g["month"] = pd.to_datetime(g["month"]).dt.to_period("M")
        res.big = g.sort_values(["size_class", "month"]).reset_index(drop=True)
        cur = g[g["month"] == pd.Period(p.start, "M")].set_index("size_class")[v]
        ly = None
        if scope.covers(p.last_year()):
            ly_p = p.last_year()
            oj = between(scope.orders, ly_p.start, ly_p.data_end)
            jj = oj.mutate(size_class=grade_band(oj.grade) if by == "grade_band" else oj.size_class)
            ly = jj.group_by(jj.size_class.fill_null(UNKNOWN).name("size_class")).aggregate(
                **{v: jj[v].sum()}).execute().set_index("size_class")[v]
        summ = pd.DataFrame({"current": cur})
        summ["last_year"] = ly.reindex(summ.index) if ly is not None else np.nan
        summ["yoy"] = _rates(summ["current"], summ["last_year"]) - 1
        summ["share"] = summ["current"] / summ["current"].sum()
        summ = summ.rename_axis("size_class").reset_index()
        res.big_summary = summ.sort_values("size_class", key=lambda s: s.map(_size_order)).reset_index(drop=True)
    else:
        res.note("no_size_class")
    return _show_customers(res)


# ==================================================================== 9 process indicators
ASSOCIATION_MIN_REPS = 5  # reps with both coverage and attainment needed for the association


@_section
class Process(SectionResult):
    """Guidance coverage and effective guidance per rep, and their association with attainment."""

    report = REPORT
    default_code = "process_indicators"
    coverage_standard: float = 0.6
    effective_standard: float = 0.8
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # per rep
    summary: dict = field(default_factory=dict)
    association: Any = None  # parts["association"]: why it was not estimated


def _show_process(res: Process) -> Process:
    a = res.association
    if a is not None:
        res.tables.append(Table.of("association", a.to_frame(), title="sales_trends.table.association",
                                   codes={"measure": "column"}, measure="code",
                                   estimate="f3", ci_low="f3", ci_high="f3"))
        res.figures.append(Figure("trends.coverage_scatter", {"table": res.table, "coverage_standard": res.coverage_standard,
                                                               "slope": a.slope, "intercept": a.intercept}))
    res.tables.append(Table.of("by_rep", res.table, max_rows=30, rep_id="text", served="count", guided="count",
                               effective="count", coverage="rate", effective_rate="rate", meets_coverage="flag",
                               meets_effective="flag", attainment="rate"))
    return res


def process_indicators(scope: Scope, coverage_standard: float = 0.6, effective_standard: float = 0.8) -> Process:
    """Section 9: per rep in the report month, guidance coverage (经营指导面 = customers guided
    ÷ customers served) against ``coverage_standard`` and effective guidance (有效指导率 =
    customers effectively guided ÷ customers guided) against ``effective_standard``; and the
    association of coverage with attainment across reps (OLS slope and Pearson r with CIs).

    Customers served = distinct customers who ordered through the rep in the month (from
    orders), else distinct customers the rep visited. Guided customers are counted among
    those served, so coverage lies in [0, 1]. Without a ``kind`` column every visit counts
    as guidance; without ``effective`` the effective rate is not defined.

    Examples
    --------
    >>> process_indicators(prepare(con)).summary["coverage"]  # doctest: +SKIP
    """
    from .stats.association import linear_association
    from .errors import InsufficientDataError as _IDE

    res = Process(coverage_standard=coverage_standard, effective_standard=effective_standard)
    p = scope.period
    if p.kind != "month":
        return res.skipped(Reason.GRAIN, grain=scope.grain)
    if (sk := scope.missing("visits", "visit_date", "rep_id", "customer_id")) is not None:
        res.skip = sk
        return res
    vt = scope.con.table("visits")
    vd = vt.visit_date.cast("date")
    vm = vt.filter(half_open(vd, p.start, p.data_end))
    vm = vm.mutate(rep_id=vm.rep_id.cast("string"), customer_id=vm.customer_id.cast("string"))
    if "kind" in vm.columns:
        g = vm.filter(vm.kind == "guidance")
    else:
        g = vm
        res.note("no_kind")
    eff_col = "effective" in vm.columns
    gc = g.group_by("rep_id", "customer_id").aggregate(
        # ifelse rather than a cast: PostgreSQL cannot cast boolean to bigint
        effective=(ibis.ifelse(g.effective, 1, 0).max() if eff_col else ibis.literal(0).max()))
    if scope.has_col("rep_id") and scope.has_col("customer_id"):
        o = between(scope.orders, p.start, p.data_end)
        served = o.select(rep_id=o.rep_id.cast("string"), customer_id=o.customer_id.cast("string")).distinct()
        served = served.filter(served.rep_id.notnull() & served.customer_id.notnull())
    else:
        served = vm.select("rep_id", "customer_id").distinct()
        res.note("served_from_visits")
    j = served.left_join(gc, [served.rep_id == gc.rep_id, served.customer_id == gc.customer_id])
    per = j.group_by(j.rep_id).aggregate(
        served=j.customer_id.count(),
        guided=ibis.ifelse(j.effective.notnull(), 1, 0).sum(),
        effective=j.effective.fill_null(0).sum(),
    ).execute()
    if scope.filtered:
        seen = set(_totals(scope, p.start, p.data_end, "rep_id")["key"]) if scope.has_col("rep_id") else set(per["rep_id"])
        per = per[per["rep_id"].isin(seen)]
    if per.empty:
        return res.skipped(Reason.NO_DATA)
    # a fixed row order: the bootstrap resamples rows, and engines return groups in any order
    per = per.sort_values("rep_id").reset_index(drop=True)
    per["coverage"] = _rates(per["guided"], per["served"])
    per["effective_rate"] = _rates(per["effective"], per["guided"]) if eff_col else np.nan
    per["meets_coverage"] = per["coverage"] >= coverage_standard
    per["meets_effective"] = per["effective_rate"] >= effective_standard
    att = rep_attainment(scope, p.start, p.end)
    if att is not None:
        per = per.merge(att[["rep_id", "attainment"]], on="rep_id", how="left")
    else:
        per["attainment"] = np.nan
    res.table = per.sort_values(["coverage", "rep_id"]).reset_index(drop=True)
    tot_served, tot_guided, tot_eff = per["served"].sum(), per["guided"].sum(), per["effective"].sum()
    res.summary = {
        "reps": int(len(per)),
        "coverage": rate(tot_guided, tot_served),
        "effective_rate": rate(tot_eff, tot_guided) if eff_col else float("nan"),
        "reps_meeting_coverage": float(per["meets_coverage"].mean()),
        "reps_meeting_effective": float(per["meets_effective"].mean()) if eff_col else float("nan"),
    }
    if att is None:
        res.skipped_part("association", Reason.NO_TARGETS, level="rep")
    else:
        try:
            res.association = linear_association(per["coverage"], per["attainment"], n_boot=2000, seed=0,
                                                 min_n=ASSOCIATION_MIN_REPS)
        except _IDE:
            # too few reps with both figures, or one of them does not vary across reps
            pairs = int((np.isfinite(per["coverage"]) & np.isfinite(per["attainment"])).sum())
            res.skipped_part("association", Reason.TOO_SHORT, needed=ASSOCIATION_MIN_REPS, got=pairs)
    return _show_process(res)


# ============================================================================= 10 forecast
FORECAST_COLUMNS = ["period", "mean", "lo80", "hi80", "lo95", "hi95"]


@_section
class Forecast(SectionResult):
    """The chosen model's forecast with calibrated intervals, and the backtest that chose it
    (the fields of :class:`analysis.stats.forecast.ForecastResult`)."""

    report = REPORT
    default_code = "forecast"
    model: str = ""
    forecast: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FORECAST_COLUMNS))
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)  # model, mape, origins, coverage_80, coverage_95
    backtest_mape: float = float("nan")
    baseline_mape: float = float("nan")
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # period, value
    interval_method: str = "model"
    interval_scale: float = float("nan")
    interval_df: int = 0
    coverage: dict = field(default_factory=dict)
    coverage_model: dict = field(default_factory=dict)
    coverage_n: int = 0
    model_forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage_ok: bool = True
    regressors: bool = False
    log_scale: bool = False  # fitted and calibrated on the log of the series (positive series)
    value_kind: str = "money"  # the unit of the series (Scope.value_kind)

    @classmethod
    def of(cls, fit: Any) -> "Forecast":
        """The section result of a :class:`~analysis.stats.forecast.ForecastResult`."""
        import dataclasses

        names = {f.name for f in dataclasses.fields(cls)} - {"code", "skip", "parts", "notes", "tables", "figures"}
        return cls(**{f.name: getattr(fit, f.name) for f in dataclasses.fields(fit) if f.name in names})

    @property
    def beats_baseline(self) -> bool:
        return bool(np.isfinite(self.backtest_mape) and self.backtest_mape < self.baseline_mape)

    def records(self) -> list[dict]:
        """Forecast rows as [{period: "YYYY-MM", mean, lo80, hi80, lo95, hi95}] for metrics.json."""
        f = self.forecast.copy()
        f["period"] = f["period"].astype(str)
        return f[FORECAST_COLUMNS].to_dict(orient="records")

    def metrics(self) -> dict[str, Any]:
        if self.skip is not None or self.forecast.empty:
            return {"forecast": [], "forecast_model": None, "backtest_mape": None, "baseline_mape": None,
                    "backtest_coverage": None, "forecast_interval_method": None}
        cov = self.coverage or {}
        return {"forecast": self.records(), "forecast_model": self.model, "backtest_mape": self.backtest_mape,
                "baseline_mape": self.baseline_mape,
                "backtest_coverage": {lv: cov.get(lv) for lv in ("80", "95")} if cov else None,
                "forecast_interval_method": self.interval_method}


def _show_forecast(res: Forecast) -> Forecast:
    cov = {c: "rate" for c in ("coverage_80", "coverage_95") if c in res.backtest}
    res.tables.append(Table.of("backtest", res.backtest, codes={"model": "column"},
                               labels={c: f"sales_trends.column.{c}" for c in cov}, model="code", mape="rate",
                               origins="count", **cov))
    res.tables.append(Table.of("forecast", res.forecast, title="sales_trends.table.forecast", period="month",
                               **{c: res.value_kind for c in ("mean", "lo80", "hi80", "lo95", "hi95")}))
    res.figures.append(Figure("trends.forecast_chart", {"history": res.history, "forecast": res.forecast,
                                                        "kind": res.value_kind}))
    return res


def forecast(scope: Scope, horizon: int | None = None, n_origins: int = 12) -> Forecast:
    """Section 10: forecast the monthly series ``horizon`` months past the report month
    (complete months up to it, at most the last 60) with ETS or SARIMA, chosen by a
    rolling-origin backtest; MAPE beside the seasonal-naive baseline's. The days of the 21
    days before Spring Festival in each month enter as a calendar regressor (the festival
    moves between January and February). The intervals are calibrated on the backtest's
    errors and their backtest coverage is measured
    (:func:`analysis.stats.forecast.forecast_best`).

    Returns
    -------
    Forecast
        The fields of :class:`analysis.stats.forecast.ForecastResult`; skipped when it
        cannot run (yearly grain, fewer than 24 + h months).

    Examples
    --------
    >>> forecast(prepare(con)).records()  # doctest: +SKIP
    """
    from .stats import timeseries as ts
    from .stats.forecast import forecast_best

    h = int(horizon if horizon is not None else scope.params.forecast_months)
    empty = Forecast()
    if h == 0:
        return empty.skipped(Reason.DISABLED, param="forecast_months")
    if scope.period.kind != "month":
        return empty.skipped(Reason.GRAIN, grain=scope.grain)
    s = _complete_monthly(scope, add_months(scope.period.start, -59))
    need = 24 + h + 1
    if len(s) < need:
        return empty.skipped(Reason.TOO_SHORT, needed=need, got=len(s))
    series = s.set_index("month")[scope.value]
    # Spring Festival moves between January and February: the pre-festival days of each
    # month (history and forecast months) enter as a calendar regressor
    months = list(series.index) + [series.index[-1] + k for k in range(1, h + 1)]
    exog = ts.festival_days_by_month(months, before=FESTIVAL_REGRESSOR_DAYS).reshape(-1, 1)
    res = Forecast.of(forecast_best(series, h, n_origins=n_origins, exog=exog))
    res.value_kind = scope.value_kind
    return _show_forecast(res)


# ============================================================================== metrics
def data_window(scope: Scope) -> dict:
    """{start, end} of the (filtered) orders as ISO dates."""
    return {"start": scope.first.isoformat(), "end": scope.last.isoformat()}


def scope_metrics(scope: Scope) -> dict:
    """The run's facts for metrics.json: period, grain, data window, row counts, filters, level."""
    return {
        "period": scope.period.label,
        "grain": scope.grain,
        "data_window": data_window(scope),
        "row_counts": dict(scope.row_counts),
        "filters": dict(scope.params.filters or {}),
        "level": scope.params.level,
        "coverage": {k: round(float(v), 6) for k, v in sorted(scope.coverage.items())},
        "conflicts": model.conflicts(scope.con, src=scope.src),
    }

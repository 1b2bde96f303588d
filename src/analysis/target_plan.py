"""The target plan (任务分解): the company's monthly total split to regions, reps and products.

:func:`prepare` reads what the plan needs from the store (per-key monthly sums in the engine
through Ibis; only those aggregates come to pandas), checks the parameters against the data
and makes the whole plan with :mod:`analysis.allocation`, so every bad input (no total, an
override for a key that does not exist, overrides above a parent's plan, a plan month with
no history before it) is one error *before* any section is shown or file written. The
section functions then only slice the plan.

Decisions where practice leaves a choice (docs/metrics/target_plan.md lists the outputs):

- **History** is the complete months before the plan month (a partial last month is left
  out), in the plan's measure, over the 18 months the method and its backtest need.
- **A rep's history is its customer book**: the sales of the customers it serves today
  (``customers.rep_id``), so a target follows the customers. Customers without a serving rep,
  or served by a rep who is not on the roster of the plan month, go to their region's pool
  (``pool:<region>``), which is planned like a rep. Without ``customers.rep_id`` the orders'
  own ``rep_id`` is used (rows without one go to the pool).
- **The roster** is the reps employed in the plan month (``reps``: hired before its end, not
  left before its start), each in its ``reps.region``; new reps (hired within the 3 months
  before) get ``ramp_share`` × their region's average rep share and are not capped.
- **Products**: each rep's plan is split over brands (or price classes) by the rep's own
  product history under the method (capacity: the last 12 months), by its region's mix when
  the rep has none; the targets file carries the company-wide product totals (level brand /
  price_class, the sums over reps), the rep × product detail is in the report's tables.
- **The company total** is the ``total`` parameter, else the store's company-level target of
  the month and measure rounded to the unit (a note says so).
- **The backtest** is made at the rep level (the region level without reps) on the last 6
  complete months before the plan month.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from . import allocation as al
from . import model, periods, store
from .errors import InsufficientDataError, MissingColumnError, MissingTableError, ParameterError, PlanError
from .scopes import ScopeBase, store_tables
from .sections import Reason, SectionResult, Skip, Table

if TYPE_CHECKING:  # the parameter model (imported when prepare runs)
    from .params import TargetPlanParams

REPORT = "target_plan"
HISTORY_MONTHS = 18  # the last 12 months of the earliest of 6 backtest months
BACKTEST_MONTHS = 6
NEW_REP_MONTHS = 3
TABLES = ("orders", "customers", "products", "reps", "targets")  # the store tables the plan reads (scope.tables)
PRODUCT_COLUMN = {"brand": "brand", "price_class": "price_class"}


# ------------------------------------------------------------------------------ scope
@dataclass
class Plan:
    """The whole plan of the month (language-free frames).

    ``regions``: region, plan, last_year, last_3_avg, change, change_3, above_average, share,
    capped, locked. ``reps``: rep_id, name, region, plan, last_year, last_3_avg, change,
    change_3, above_average, capped, locked, new, pool, underperformer, watch.
    ``products``: product, plan, last_year, change (company-wide); ``rep_products``: rep_id,
    region, product, plan. ``targets``: the canonical targets frame. ``backtest``: level,
    method, mae, n_months.
    """

    regions: pd.DataFrame
    reps: pd.DataFrame | None
    products: pd.DataFrame | None
    rep_products: pd.DataFrame | None
    targets: pd.DataFrame
    backtest: pd.DataFrame
    backtest_level: str
    locked: list = field(default_factory=list)
    capped: list = field(default_factory=list)
    relaxed: list = field(default_factory=list)  # {level, parent, cap, keys} where the cap was relaxed
    skips: dict = field(default_factory=dict)    # section code -> Skip (a dimension that does not resolve)
    coverage: dict = field(default_factory=dict)  # dimension -> share of the history's amount it resolves
    backtest_book: str = "current"               # "sale": the book valid at each month; "current": today's


def _unresolved(cov: model.Coverage) -> Skip:
    """The skip of a section whose dimension resolves for too little of the amount."""
    return model.coverage_skip(cov) or Skip(Reason.UNRESOLVED_CODES, {
        "dimension": cov.dimension, "share": cov.share, "table": model.DIMENSIONS[cov.dimension].master, "codes": []})


@dataclass
class Scope(ScopeBase):
    """What every section needs: the parameters, the resolved month and total, and the plan."""

    params: Any
    month: pd.Period
    total: float
    total_source: str  # "parameter" or "store"
    unit: float
    data_first: dt.date
    data_last: dt.date
    history_start: pd.Period
    history_end: pd.Period
    capacity_by: str | None
    underperformers: list
    plan: Plan
    notes: list = field(default_factory=list)  # (code, values)
    tables: dict[str, list[str]] = field(default_factory=dict)  # the store's tables with rows (ScopeBase)
    qty_kind: str = "qty"  # the unit of quantities (analysis.model.qty_kind)

    @property
    def label(self) -> str:
        return str(self.month)


def _columns(con: Any, name: str) -> list[str]:
    return list(con.table(name).columns) if store.has_table(con, name) else []


def _month_start(p: pd.Period) -> dt.date:
    return p.start_time.date()


# ------------------------------------------------------------------------- the engine
def _lines(con: Any, book: str = "current") -> Any:
    """The sales lines of :func:`analysis.model.sales_lines` (``book="current"``: today's customer
    book first, as the plan decomposes next month by who serves each customer now)."""
    return model.sales_lines(con, book=book)


def history(con: Any, measure: str, start: pd.Period, end: pd.Period, product: str | None = None, *,
            lines: Any = None) -> pd.DataFrame:
    """Monthly sums of ``measure`` per region, serving rep (and product) for months start … end.

    Computed in the engine on the sales lines (:func:`analysis.model.sales_lines`,
    ``book="current"`` unless ``lines`` are given); returns ``month`` (Period), ``region``,
    ``rep_id`` (None where no serving rep is known), [``product``], ``value``. A region or
    product that does not resolve is :data:`analysis.model.UNATTRIBUTED`.
    """
    o = _lines(con) if lines is None else lines
    if measure not in o.columns:
        raise MissingColumnError("orders", measure, list(o.columns))
    o = o.filter((o.order_date >= ibis.literal(_month_start(start)))
                 & (o.order_date < ibis.literal(_month_start(end + 1))))
    if "region" not in o.columns:
        raise MissingColumnError("orders", "region", sorted(o.columns))
    if product and product not in o.columns:
        raise MissingColumnError("orders", product, sorted(o.columns))
    rep = o.rep_id.cast("string") if "rep_id" in o.columns else ibis.null().cast("string")
    keys = [o.order_date.truncate("M").name("month"), model.unattributed_key(o.region).name("region"),
            rep.name("rep_id")]
    if product:
        keys.append(model.unattributed_key(o[product]).name("product"))
    out = o.group_by(keys).aggregate(value=o[measure].sum()).execute()
    out["month"] = pd.to_datetime(out["month"]).dt.to_period("M")
    out["value"] = out["value"].astype(float).fillna(0.0)
    out["region"] = out["region"].astype(str)
    out["rep_id"] = out["rep_id"].astype(object).where(out["rep_id"].notna(), None)
    if product:
        out["product"] = out["product"].astype(str)
    return out


def _book_at(con: Any, src: model.Sources, day: dt.date) -> Any | None:
    """Each customer's serving rep on ``day`` (Ibis: ``_cid``, ``_rep``) from
    :func:`analysis.model.book_at`; None without a rep in the customers or their history."""
    b = model.book_at(con, day, src)
    return None if b is None else b.select(_cid=b.customer_id, _rep=b.rep_id)


def _backtest_histories(con: Any, src: model.Sources, measure: str, months: list[pd.Period],
                        level: str) -> tuple[pd.DataFrame, dict]:
    """The backtest without look-ahead: the actual sales of each month by the rep at the time of
    sale (``book="sale"``), and for each backtest month ``m`` the 12 months before it mapped to
    the customer book valid on ``m``'s first day (what a plan made then would have used). Keys:
    the rep, else ``pool:<region>`` (``level="rep"``), or the region."""
    sale = model.sales_lines(con, book="sale", src=src)
    lo, hi = months[0] - 12, months[-1]
    o = sale.filter((sale.order_date >= ibis.literal(_month_start(lo)))
                    & (sale.order_date < ibis.literal(_month_start(hi + 1))))
    def keyed(t: Any, rep: Any) -> Any:
        region = model.unattributed_key(t.region)
        return rep.fill_null(ibis.literal(al.POOL_PREFIX) + region) if level == "rep" else region

    def rep_of(t: Any) -> Any:
        return t.rep_id.cast("string") if "rep_id" in t.columns else ibis.null().cast("string")

    def grouped(t: Any, key: Any) -> pd.DataFrame:
        g = t.group_by(month=t.order_date.truncate("M"), key=key).aggregate(value=t[measure].sum()).execute()
        g["month"] = pd.to_datetime(g["month"]).dt.to_period("M")
        g["value"] = g["value"].astype(float).fillna(0.0)
        return g

    actual = grouped(o, keyed(o, rep_of(o)))
    past: dict = {}
    for m in months:
        w = o.filter((o.order_date >= ibis.literal(_month_start(m - 12))) & (o.order_date < ibis.literal(_month_start(m))))
        if level == "rep" and "customer_id" in w.columns:
            book = _book_at(con, src, _month_start(m))
            if book is not None:
                w = w.left_join(book, w.customer_id == book._cid)
                rep = ibis.coalesce(w._rep, w.rep_id.cast("string")) if "rep_id" in w.columns else w._rep
                past[m] = grouped(w, keyed(w, rep))
                continue
        past[m] = grouped(w, keyed(w, rep_of(w)))
    return actual, past


def roster(con: Any, month: pd.Period) -> pd.DataFrame | None:
    """Reps employed in ``month``: rep_id, region, name, hire_date (None without a reps table)."""
    cols = _columns(con, "reps")
    if "rep_id" not in cols:
        return None
    r = con.table("reps")
    start, end = _month_start(month), _month_start(month + 1)
    f = r
    if "hire_date" in cols:
        f = f.filter(f.hire_date.cast("date") < ibis.literal(end))
    if "exit_date" in cols:
        f = f.filter(f.exit_date.isnull() | (f.exit_date.cast("date") >= ibis.literal(start)))
    sel = [f.rep_id.cast("string").name("rep_id")]
    for c in ("region", "name"):
        sel.append((f[c].cast("string") if c in cols else ibis.null().cast("string")).name(c))
    sel.append((f.hire_date.cast("date") if "hire_date" in cols else ibis.null().cast("date")).name("hire_date"))
    out = f.select(*sel).execute()
    return out.sort_values("rep_id").reset_index(drop=True)


def _capacity_customers(con: Any) -> tuple[pd.DataFrame | None, str | None]:
    cols = _columns(con, "customers")
    by = "grade" if "grade" in cols else ("size_class" if "size_class" in cols else None)
    if by is None or "region" not in cols:
        return None, None
    c = con.table("customers")
    if by == "grade":
        n = int(c.filter(c.grade.notnull()).count().execute())
        if n == 0:
            if "size_class" not in cols:
                return None, None
            by = "size_class"
    sel = [c.region.cast("string").name("region"),
           (c.rep_id.cast("string") if "rep_id" in cols else ibis.null().cast("string")).name("rep_id"),
           c[by].name(by)]
    f = c.filter(c[by].notnull())
    sel = [f.region.cast("string").name("region"),
           (f.rep_id.cast("string") if "rep_id" in cols else ibis.null().cast("string")).name("rep_id"), f[by].name(by)]
    grp = f.group_by(sel).aggregate(n=f.count()).execute()
    return grp, by


def company_target(con: Any, month: pd.Period, measure: str) -> float | None:
    """The store's company-level ``measure`` target of ``month`` (None when it has none)."""
    cols = _columns(con, "targets")
    if not {"period", "level", "measure", "value"} <= set(cols):
        return None
    t = con.table("targets")
    per = t.period.cast("date")
    f = t.filter((t.level == "company") & (t.measure == measure) & (per >= ibis.literal(_month_start(month)))
                 & (per < ibis.literal(_month_start(month + 1))))
    v = f.aggregate(v=f.value.sum(), n=f.count()).execute()
    return float(v["v"].iloc[0]) if int(v["n"].iloc[0]) else None


def _underperformers(con: Any, last: pd.Period, first: dt.date, src: Any = None) -> tuple[list, str | None]:
    """Reps below target several months running up to ``last``, by the trends report's definition
    (:func:`analysis.attainment.below_target_streak` with the trends report's default threshold and
    streak, on the sales lines with the rep at the time of sale).

    Returns the rep ids and ``None``, or an empty list and the reason code why the list could not be
    made (the data cannot say: no rep targets, too short, the rep does not resolve).
    """
    from . import attainment
    from .params import SalesTrendsParams

    fields = SalesTrendsParams.model_fields
    k, thr = int(fields["underperform_streak"].default), float(fields["underperform_threshold"].default)
    lines = model.sales_lines(con, book="sale", src=src)
    wide, skip = attainment.below_target_streak(con, lines, _month_start(last), k, thr, first=first, src=src)
    if wide is None:
        return [], skip.code.value
    return sorted(wide.index[wide["below"]].tolist()), None


# ---------------------------------------------------------------------------- prepare
def _flat_overrides(ov: Mapping[str, Any], regions: list, reps: list) -> tuple[dict, dict]:
    """Overrides split into (region, rep) mappings; an unknown key is a PlanError."""
    if ov and all(isinstance(v, dict) for v in ov.values()):
        reg, rep = dict(ov.get("region", {})), dict(ov.get("rep", {}))
        for k in reg:
            if k not in regions:
                raise PlanError(f"The override region {k!r} is not a region of the plan. Regions: {', '.join(regions)}.")
        for k in rep:
            if k not in reps:
                raise PlanError(f"The override rep {k!r} is not a rep of the plan month's roster.")
        return reg, rep
    reg, rep = {}, {}
    for k, v in (ov or {}).items():
        if k in regions:
            reg[k] = v
        elif k in reps:
            rep[k] = v
        else:
            shown = ", ".join(regions)
            raise PlanError(f"The override key {k!r} is neither a region ({shown}) nor a rep of the plan month's roster.")
    return reg, rep


def _complete_last(con: Any, lines: Any = None) -> tuple[dt.date, dt.date, str]:
    """The data's first and last order days and the grain of the dates."""
    o = _lines(con) if lines is None else lines
    d = o.order_date
    w = o.aggregate(first=d.min(), last=d.max()).execute()
    first, last = pd.Timestamp(w["first"].iloc[0]).date(), pd.Timestamp(w["last"].iloc[0]).date()
    dates = o.select(d=d).distinct().execute()["d"]
    return first, last, periods.detect_grain(dates)


def _window(df: pd.DataFrame, lo: pd.Period, hi: pd.Period, key: str) -> pd.Series:
    sel = df[(df["month"] >= lo) & (df["month"] <= hi)]
    return sel.groupby(key)["value"].sum()


def _beside(df: pd.DataFrame, month: pd.Period, key: str) -> tuple[pd.Series, pd.Series]:
    ly = _window(df, month - 12, month - 12, key)
    a3 = _window(df, month - 3, month - 1, key) / 3.0
    return ly, a3


def prepare(con: Any, params: TargetPlanParams | None = None) -> Scope:
    """Check the parameters against the store and make the plan of the month.

    Raises
    ------
    MissingTableError
        No orders.
    ParameterError, PlanError, InsufficientDataError
        No total, an override for a key that does not exist, overrides above a parent's
        plan, a cap no split can meet, a plan month with no history before it (one line each).

    Examples
    --------
    >>> scope = prepare(con, TargetPlanParams.of(month="2026-11", total=40_000_000))  # doctest: +SKIP
    >>> scope.plan.regions[["region", "plan"]]  # doctest: +SKIP
    """
    from .params import TargetPlanParams
    from .params.base import as_params

    p = as_params(TargetPlanParams, params, f"{REPORT}.prepare")
    if not store.has_rows(con, "orders"):
        raise MissingTableError("orders", REPORT)
    src = model.sources(con)
    lines = model.sales_lines(con, book="current", src=src)
    first, last, grain = _complete_last(con, lines)
    # the month by the one rule (analysis.periods.resolve_month): "next" is the month after the last
    # complete month (complete when the data reach its last day, or monthly data)
    complete = pd.Period(periods.last_complete_month(last, grain), "M")
    month = pd.Period(periods.resolve_month(p.month, first, last, grain, owner=REPORT), "M")
    hist_end = min(month - 1, complete)
    if hist_end < pd.Period(first, "M") or pd.Period(first, "M") >= month:
        raise InsufficientDataError(
            f"The plan month {month} has no complete month of history before it (the data start {first}).")
    hist_start = month - HISTORY_MONTHS
    unit = float(p.unit)
    notes: list = []
    total, source = p.total, "parameter"
    if total is None:
        t = company_target(con, month, p.measure)
        if t is None or not t > 0:
            raise ParameterError(
                f"The 'total' parameter of {REPORT} is required: the store has no company-level {p.measure} "
                f"target for {month}. Got None instead.")
        rounded = round(t / unit) * unit
        rounded = float(f"{rounded:.10g}")
        if abs(rounded - t) > 1e-9:
            notes.append(("total_rounded", {"value": t, "rounded": rounded, "unit": unit}))
        total, source = rounded, "store"
    if not total > 0:
        raise ParameterError(f"The 'total' parameter of {REPORT} must be > 0. Got {total!r} instead.")
    if hist_end < month - 1:
        notes.append(("history_gap", {"last": str(hist_end), "month": str(month)}))

    levels = list(p.levels)
    product = next((lv for lv in levels if lv in PRODUCT_COLUMN), None)
    # ---- coverage of the dimensions the plan splits by (today's book over the history window)
    dims = ["region"] + (["rep_id"] if "rep" in levels else []) + ([PRODUCT_COLUMN[product]] if product else [])
    cov = model.coverage(lines, dims, start=_month_start(hist_start), end=_month_start(hist_end + 1), src=src)
    skips: dict[str, Skip] = {}
    if not cov["region"].sufficient:
        c = cov["region"]
        where = c.missing or {"table": "customers", "column": "region"}
        raise InsufficientDataError(
            f"The region of only {c.share:.1%} of the {p.measure} history resolves (from "
            f"{where.get('table')}.{where.get('column', 'region')}), below {model.MIN_COVERAGE:.0%}: "
            f"no region plan can be made.")
    if "rep" in levels and not cov["rep_id"].sufficient:
        skips["reps"] = _unresolved(cov["rep_id"])
        levels.remove("rep")
    if product and not cov[PRODUCT_COLUMN[product]].sufficient:
        skips["products"] = _unresolved(cov[PRODUCT_COLUMN[product]])
        levels.remove(product)
        product = None
    for d, c in cov.items():
        if c.unresolved_lines and c.sufficient and d != "rep_id":  # unattributed reps go to the pool
            notes.append(("unattributed", {"dimension": d, "share": 1 - c.share, "codes": c.details()["codes"]}))
    h = history(con, p.measure, hist_start, hist_end, PRODUCT_COLUMN.get(product) if product else None,
                lines=lines)
    h = h[h["region"] != model.UNATTRIBUTED]  # shares over the attributed sales (the note says how much)
    if h.empty or not (h["value"].clip(lower=0).sum() > 0):
        raise InsufficientDataError(f"The plan month {month} has no {p.measure} history before it "
                                    f"({hist_start} … {hist_end}).")
    cust, capacity_by = (None, None)
    if p.method == "capacity":
        cust, capacity_by = _capacity_customers(con)
        if cust is None:
            raise ParameterError(f"The 'method' parameter of {REPORT} is 'capacity', but the customers table has no "
                                 f"grade or size_class with a region. Got 'capacity' instead.")

    # ---- keys: roster, pool, one region per rep
    rost = roster(con, month) if "rep" in levels else None
    rep_region: dict[str, str] = {}
    names: dict[str, Any] = {}
    new: list = []
    if "rep" in levels:
        if rost is not None:
            for r in rost.itertuples():
                rep_region[r.rep_id] = r.region if isinstance(r.region, str) else None
                names[r.rep_id] = r.name
            # a rep without a region in reps: the region of most of its customers' sales
            missing = [k for k, v in rep_region.items() if v is None]
            if missing:
                mode = h[h["rep_id"].isin(missing)].groupby(["rep_id", "region"])["value"].sum().reset_index()
                for k, g in mode.groupby("rep_id"):
                    rep_region[k] = g.sort_values("value", ascending=False)["region"].iloc[0]
                rep_region = {k: v for k, v in rep_region.items() if v is not None}
            hired = rost.dropna(subset=["hire_date"]).set_index("rep_id")["hire_date"]
            new = [k for k in al.new_reps(hired, month, NEW_REP_MONTHS) if k in rep_region]
        else:
            mode = h.dropna(subset=["rep_id"]).groupby(["rep_id", "region"])["value"].sum().reset_index()
            for k, g in mode.groupby("rep_id"):
                rep_region[k] = g.sort_values("value", ascending=False)["region"].iloc[0]
    h = h.copy()
    if "rep" in levels:
        ok = h["rep_id"].map(rep_region).eq(h["region"]) & h["rep_id"].notna()
        h.loc[~ok, "rep_id"] = [al.pool_key(r) for r in h.loc[~ok, "region"]]

    # ---- region level
    rh = h.groupby(["month", "region"], as_index=False)["value"].sum().rename(columns={"region": "key"})
    regions = sorted(set(rh["key"]) | set(rep_region.values()))
    reps_all = sorted(rep_region) + sorted({k for k in h["rep_id"].dropna() if str(k).startswith(al.POOL_PREFIX)}) \
        if "rep" in levels else []
    ov_region, ov_rep = _flat_overrides(p.overrides or {}, regions, reps_all)
    ccap = None
    if cust is not None:
        ccap = cust.loc[cust.index.repeat(cust["n"].astype(int))].drop(columns="n").reset_index(drop=True)
    try:
        if p.method == "capacity":
            rs = al.shares_capacity(ccap.rename(columns={"region": "key"}), capacity_by, regions)
        else:
            rs = al.shares(p.method, rh, month, regions, blend_weights=p.blend_weights)
    except InsufficientDataError as exc:
        raise InsufficientDataError(f"The plan month {month}: {exc}") from None
    rly, ra3 = _beside(rh, month, "key")
    try:
        lp = al.plan_level(total, rs, unit, last_year=rly.reindex(regions), growth_cap=p.growth_cap,
                           overrides=ov_region, relax_cap=True)
    except PlanError as exc:
        raise PlanError(f"The region plan of {month}: {exc}") from None
    reg = al.plan_changes(lp.values, rly.reindex(regions), ra3.reindex(regions)).rename(columns={"key": "region"})
    reg["share"] = reg["plan"] / total
    reg["capped"] = reg["region"].isin(lp.capped)
    reg["locked"] = reg["region"].isin(lp.locked)
    locked, capped = list(lp.locked), list(lp.capped)
    relaxed: list = []
    if lp.relaxed_cap is not None:
        relaxed.append({"level": "region", "parent": "company", "cap": lp.relaxed_cap, "keys": list(lp.capped)})
    levels_out: dict[str, Any] = {"company": {"company": total}, "region": lp.values}

    # ---- rep level
    rep_tab = None
    ph = None
    if "rep" in levels:
        ph = h.groupby(["month", "region", "rep_id"], as_index=False)["value"].sum().rename(
            columns={"region": "parent", "rep_id": "key"})
        pools = sorted({k for k in ph["key"] if k.startswith(al.POOL_PREFIX)})
        pairs = pd.DataFrame([{"parent": v, "key": k} for k, v in rep_region.items()]
                             + [{"parent": k[len(al.POOL_PREFIX):], "key": k} for k in pools])
        pairs = pairs[pairs["parent"].isin(regions)]
        if p.method == "capacity":
            cc = ccap.copy()
            ok = cc["rep_id"].map(rep_region).eq(cc["region"]) & cc["rep_id"].notna()
            cc.loc[~ok, "rep_id"] = [al.pool_key(r) for r in cc.loc[~ok, "region"]]
            cc = cc.rename(columns={"region": "parent", "rep_id": "key"})
            pairs = pd.concat([pairs, cc[["parent", "key"]].drop_duplicates()]).drop_duplicates()
            pairs = pairs[pairs["key"].isin(set(rep_region) | set(cc["key"]))]
        children = []
        for reg_name, grp in pairs.groupby("parent", sort=True):
            keys = sorted(grp["key"].unique())
            try:
                if p.method == "capacity":
                    sub = cc[cc["parent"] == reg_name]
                    sh = al.shares_capacity(sub, capacity_by, keys) if len(sub) else pd.Series(1.0 / len(keys), index=keys)
                else:
                    sh = al.shares(p.method, ph[ph["parent"] == reg_name], month, keys, blend_weights=p.blend_weights)
            except InsufficientDataError:
                sh = pd.Series(1.0 / len(keys), index=keys)  # a region without history: an equal split
            children += [{"parent": reg_name, "key": k, "share": float(v)} for k, v in sh.items()]
        ch = pd.DataFrame(children, columns=["parent", "key", "share"])
        if new:
            ramped = al.new_rep_ramp(ch.set_index("key")["share"], ch.set_index("key")["parent"], new, p.ramp_share)
            ch["share"] = ch["key"].map(ramped)
        # ensure every region with a plan has someone to carry it
        empty = [r for r in regions if lp.values.get(r, 0) > 0 and r not in set(ch["parent"])]
        for r in empty:
            ch = pd.concat([ch, pd.DataFrame([{"parent": r, "key": al.pool_key(r), "share": 1.0}])], ignore_index=True)
        ply, pa3 = _beside(ph, month, "key")
        ly_cap = ply.drop([k for k in new if k in ply.index])
        try:
            sd = al.split_down(lp.values, ch, unit, last_year=ly_cap, growth_cap=p.growth_cap, overrides=ov_rep,
                               relax_cap=True)
        except PlanError as exc:
            raise PlanError(f"The rep plan of {month}: {exc}") from None
        rep_tab = al.plan_changes(sd.set_index("key")["value"], ply, pa3).rename(columns={"key": "rep_id"})
        rep_tab.insert(1, "region", sd["parent"].to_numpy())
        rep_tab.insert(1, "name", [names.get(k) for k in rep_tab["rep_id"]])
        rep_tab["capped"] = sd["capped"].to_numpy()
        rep_tab["locked"] = sd["locked"].to_numpy()
        rep_tab["new"] = rep_tab["rep_id"].isin(new)
        rep_tab["pool"] = rep_tab["rep_id"].astype(str).str.startswith(al.POOL_PREFIX)
        under, why = _underperformers(con, hist_end, first, src) if "rep" in levels else ([], None)
        if why is not None:
            notes.append(("no_watch_list", {"reason": why}))
        rep_tab["underperformer"] = rep_tab["rep_id"].isin(under)
        rep_tab["watch"] = rep_tab["underperformer"] & rep_tab["above_average"]
        for parent, c in sd.attrs.get("relaxed_caps", {}).items():
            keys = sd.loc[(sd["parent"] == parent) & sd["capped"], "key"].tolist()
            relaxed.append({"level": "rep", "parent": parent, "cap": c, "keys": keys})
        locked += sd.loc[sd["locked"], "key"].tolist()
        capped += sd.loc[sd["capped"], "key"].tolist()
        levels_out["rep"] = sd.set_index("key")["value"]
    else:
        under = []

    # ---- product level
    prod_tab = rep_prod = None
    if product:
        prod_tab, rep_prod = _products(h, levels_out, rep_tab, lp.values, month, p, unit)
        levels_out[product] = prod_tab.set_index("product")["plan"]

    targets = al.targets_frame(month, p.measure, levels_out)
    # ---- backtest at the finest planned level of people (rep, else region)
    bt_level = "rep" if "rep" in levels else "region"
    bh = (ph.rename(columns={"parent": "_p"}) if bt_level == "rep" else rh)[["month", "key", "value"]]
    bh = bh[bh["month"] <= hist_end]
    bcust = None
    if p.method == "capacity":
        bcust = cc if bt_level == "rep" else ccap.rename(columns={"region": "key"})
    book = "current"
    if p.method != "capacity" and {"customer_id", "rep_id"} <= set(src.histories.get("customers", ())):
        bmonths = sorted(set(bh["month"]))[-BACKTEST_MONTHS:]
        if bmonths:
            actual, past = _backtest_histories(con, src, p.measure, bmonths, bt_level)
            bt = al.share_backtest(actual[actual["month"] <= hist_end], p.method, BACKTEST_MONTHS,
                                   blend_weights=p.blend_weights, past=past)
            book = "sale"
        else:
            bt = al.share_backtest(bh, p.method, BACKTEST_MONTHS, blend_weights=p.blend_weights)
    else:
        bt = al.share_backtest(bh, p.method, BACKTEST_MONTHS, blend_weights=p.blend_weights, customers=bcust,
                               capacity_by=capacity_by or "grade")
    plan = Plan(regions=reg, reps=rep_tab, products=prod_tab, rep_products=rep_prod, targets=targets,
                backtest=bt, backtest_level=bt_level, locked=locked, capped=capped, relaxed=relaxed,
                skips=skips, coverage={d: c.share for d, c in cov.items()}, backtest_book=book)
    return Scope(params=p, month=month, total=float(total), total_source=source, unit=unit, data_first=first,
                 data_last=last, history_start=hist_start, history_end=hist_end, capacity_by=capacity_by,
                 underperformers=under, plan=plan, notes=notes, tables=store_tables(con, TABLES),
                 qty_kind=model.qty_kind(con))


def _products(h: pd.DataFrame, levels_out: dict, rep_tab: pd.DataFrame | None, region_plan: pd.Series,
              month: pd.Period, p: Any, unit: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each rep's (or region's) plan split over products; company-wide product totals."""
    method = "last_12" if p.method == "capacity" else p.method
    owner = "rep_id" if rep_tab is not None else "region"
    parents = levels_out["rep"] if rep_tab is not None else region_plan
    region_of = rep_tab.set_index("rep_id")["region"] if rep_tab is not None else pd.Series(region_plan.index, index=region_plan.index)
    h = h[h["product"] != model.UNATTRIBUTED]  # product shares over the attributed sales
    hp = h.groupby(["month", owner, "product"], as_index=False)["value"].sum()
    hr = h.groupby(["month", "region", "product"], as_index=False)["value"].sum()
    rows = []
    for k, value in parents.items():
        sub = hp[hp[owner] == k].rename(columns={"product": "key"})
        try:
            sh = al.shares(method, sub, month, blend_weights=p.blend_weights)
        except InsufficientDataError:
            reg_sub = hr[hr["region"] == region_of.get(k)].rename(columns={"product": "key"})
            try:
                sh = al.shares(method, reg_sub, month, blend_weights=p.blend_weights)
            except InsufficientDataError:
                sh = al.shares("last_12", hr.rename(columns={"product": "key"}), month)
        rows += [{"parent": k, "key": f"{k}\x1f{prod}", "share": float(v)} for prod, v in sh.items() if v > 0]
    ch = pd.DataFrame(rows, columns=["parent", "key", "share"])
    sd = al.split_down(parents, ch, unit)
    sd["product"] = sd["key"].str.split("\x1f").str[1]
    rep_prod = pd.DataFrame({owner: sd["parent"].to_numpy(), "product": sd["product"].to_numpy(),
                             "plan": sd["value"].to_numpy()})
    if owner == "rep_id":
        rep_prod.insert(1, "region", rep_prod["rep_id"].map(region_of))
    tot = rep_prod.groupby("product")["plan"].sum()
    ly = _window(h, month - 12, month - 12, "product").reindex(tot.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (tot / ly - 1).where(ly > 0)
    prod = pd.DataFrame({"product": tot.index, "plan": tot.to_numpy(), "last_year": ly.to_numpy(),
                         "change": change.to_numpy()})
    prod["share"] = prod["plan"] / prod["plan"].sum()
    return prod.sort_values("plan", ascending=False).reset_index(drop=True), rep_prod


# ---------------------------------------------------------------------------- sections
@dataclass(kw_only=True)
class Overview(SectionResult):
    """The plan's basis: month, total and its source, method, rules; totals beside last year."""

    report = REPORT
    default_code = "overview"
    month: str = ""
    total: float = float("nan")
    total_source: str = ""
    measure: str = ""
    method: str = ""
    blend_weights: dict = field(default_factory=dict)
    unit: float = float("nan")
    growth_cap: float | None = None
    ramp_share: float = float("nan")
    capacity_by: str | None = None
    last_year: float = float("nan")
    last_3_avg: float = float("nan")
    change: float = float("nan")
    n_regions: int = 0
    n_reps: int = 0
    n_new: int = 0
    history: str = ""
    locked: list = field(default_factory=list)
    capped: list = field(default_factory=list)
    relaxed: list = field(default_factory=list)
    coverage: dict = field(default_factory=dict)
    value_kind: str = "money"  # of the total and last year (analysis.model.measure_kind)

    @property
    def relaxed_cap(self) -> float | None:
        """The largest cap applied where the one asked for could not be met (None: not relaxed)."""
        return max(r["cap"] for r in self.relaxed) if self.relaxed else None

    def metrics(self) -> dict[str, Any]:
        return {"period": self.month or None, "month": self.month or None, "total": self.total,
                "total_source": self.total_source or None, "measure": self.measure or None,
                "value_kind": self.value_kind,
                "method": self.method or None, "rounding": self.unit, "locked": list(self.locked),
                "capped": list(self.capped), "growth_cap": self.growth_cap,
                "growth_cap_relaxed": [{"level": r["level"], "parent": str(r["parent"]), "cap": r["cap"],
                                        "keys": [str(k) for k in r["keys"]]} for r in self.relaxed],
                "coverage": dict(self.coverage)}


def overview(scope: Scope) -> Overview:
    """Section 1: what the plan is made of (month, total, method, rules)."""
    p, plan = scope.params, scope.plan
    reg = plan.regions
    ly = float(reg["last_year"].sum(min_count=1)) if reg["last_year"].notna().any() else float("nan")
    a3 = float(reg["last_3_avg"].sum(min_count=1)) if reg["last_3_avg"].notna().any() else float("nan")
    res = Overview(month=scope.label, total=scope.total, total_source=scope.total_source, measure=p.measure,
                   method=p.method, blend_weights=dict(p.blend_weights), unit=scope.unit, growth_cap=p.growth_cap,
                   ramp_share=p.ramp_share, capacity_by=scope.capacity_by, last_year=ly, last_3_avg=a3,
                   change=(scope.total / ly - 1) if ly and ly > 0 else float("nan"), n_regions=len(reg),
                   n_reps=0 if plan.reps is None else int((~plan.reps["pool"]).sum()),
                   n_new=0 if plan.reps is None else int(plan.reps["new"].sum()),
                   history=f"{scope.history_start} … {scope.history_end}", locked=plan.locked, capped=plan.capped,
                   relaxed=list(plan.relaxed), coverage=dict(plan.coverage),
                   value_kind=model.measure_kind(p.measure, scope.qty_kind))
    for code, values in scope.notes:
        res.note(code, **values)
    return res


@dataclass(kw_only=True)
class RegionPlan(SectionResult):
    """Section 2: each region's plan beside the same month last year and the last 3 months' average."""

    report = REPORT
    default_code = "regions"
    measure: str = "amount"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        t = self.table
        return {"by_region": dict(zip(t["region"], t["plan"])) if len(t) else {}}


def regions(scope: Scope) -> RegionPlan:
    """Section 2: the region plan with changes and flags (capped, locked)."""
    t = scope.plan.regions.copy()
    m = scope.params.measure
    res = RegionPlan(measure=m, table=t)
    vk = model.measure_kind(m, scope.qty_kind)
    res.tables.append(Table.of("by_region", t, region="text", plan=vk, share="rate", last_year=vk, change="change",
                               last_3_avg=vk, change_3="change", capped="flag", locked="flag",
                               labels={"plan": "target_plan.column.plan", "last_3_avg": "target_plan.column.last_3_avg",
                                       "change": "target_plan.column.change", "change_3": "target_plan.column.change_3",
                                       "capped": "target_plan.column.capped", "locked": "target_plan.column.locked"}))
    res.figures.append(_bars(t.rename(columns={"region": "key"}), m, scope.qty_kind))
    return res


def _bars(t: pd.DataFrame, measure: str, qty_kind: str = "qty") -> Any:
    from .sections import Figure

    return Figure("target_plan.plan_bars", {"table": t[["key", "plan", "last_year"]].copy(), "measure": measure,
                                            "kind": qty_kind})


@dataclass(kw_only=True)
class RepPlan(SectionResult):
    """Section 3: each rep's plan, with flags: capped, locked, new (ramp), pool, and the reps on
    the several-months-below-target list who get an above-average increase (``watch``)."""

    report = REPORT
    default_code = "reps"
    measure: str = "amount"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    ramp_share: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        t = self.table
        return {"by_rep": dict(zip(t["rep_id"], t["plan"])) if len(t) else {},
                "new_reps": t.loc[t["new"], "rep_id"].tolist() if len(t) else [],
                "watch": t.loc[t["watch"], "rep_id"].tolist() if len(t) else []}


def reps(scope: Scope) -> RepPlan:
    """Section 3: the rep plan (skipped when ``levels`` has no rep)."""
    m = scope.params.measure
    res = RepPlan(measure=m, ramp_share=scope.params.ramp_share)
    if "reps" in scope.plan.skips:
        res.skip = scope.plan.skips["reps"]
        return res
    if scope.plan.reps is None:
        return res.skipped("disabled", param="levels")
    t = scope.plan.reps.copy()
    t = t.sort_values(["region", "rep_id"], kind="mergesort").reset_index(drop=True)
    res.table = t
    vk = model.measure_kind(m, scope.qty_kind)
    res.tables.append(Table.of("by_rep", t, rep_id="text", name="text", region="text", plan=vk, last_year=vk,
                               change="change", last_3_avg=vk, change_3="change", capped="flag", locked="flag",
                               new="flag", watch="flag", max_rows=400,
                               labels={"plan": "target_plan.column.plan", "last_3_avg": "target_plan.column.last_3_avg",
                                       "change": "target_plan.column.change", "change_3": "target_plan.column.change_3",
                                       "capped": "target_plan.column.capped", "locked": "target_plan.column.locked",
                                       "new": "target_plan.column.new", "watch": "target_plan.column.watch"}))
    return res


@dataclass(kw_only=True)
class ProductPlan(SectionResult):
    """Section 4: the plan by brand or price class (company-wide sums of the rep × product split)."""

    report = REPORT
    default_code = "products"
    level: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        t = self.table
        return {"by_product": dict(zip(t["product"], t["plan"])) if len(t) else {}}


def products(scope: Scope) -> ProductPlan:
    """Section 4 (skipped without brand / price_class in ``levels``)."""
    plan, m = scope.plan, scope.params.measure
    lv = next((x for x in scope.params.levels if x in PRODUCT_COLUMN), "")
    res = ProductPlan(level=lv)
    if "products" in plan.skips:
        res.skip = plan.skips["products"]
        return res
    if plan.products is None:
        return res.skipped("disabled", param="levels")
    res.table = plan.products
    vk = model.measure_kind(m, scope.qty_kind)
    res.tables.append(Table.of("by_product", plan.products, product="text", plan=vk, share="rate", last_year=vk,
                               change="change", labels={"product": f"column.{lv}", "plan": "target_plan.column.plan",
                                                         "change": "target_plan.column.change"}))
    if plan.rep_products is not None:
        rp = plan.rep_products
        owner = "rep_id" if "rep_id" in rp else "region"
        kinds = {owner: "text", **({"region": "text"} if owner == "rep_id" else {}), "product": "text", "plan": vk}
        res.tables.append(Table.of("by_rep_product", rp, title="target_plan.table.detail", max_rows=60,
                                   labels={"product": f"column.{lv}", "plan": "target_plan.column.plan"}, **kinds))
    return res


@dataclass(kw_only=True)
class Backtest(SectionResult):
    """Section 5: mean absolute share error of the method over the last 6 complete months,
    beside an equal split and last year's share."""

    report = REPORT
    default_code = "backtest"
    level: str = "rep"
    method: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    book: str = "current"

    def metrics(self) -> dict[str, Any]:
        t = self.table
        return {"backtest_share_mae": dict(zip(t["method"], t["mae"])) if len(t) else {},
                "backtest_level": self.level, "backtest_book": self.book}

    @property
    def best(self) -> str | None:
        t = self.table.dropna(subset=["mae"])
        return None if t.empty else str(t.sort_values(["mae"], kind="mergesort")["method"].iloc[0])


def backtest(scope: Scope) -> Backtest:
    """Section 5: the backtest of the shares (skipped when no month could be made)."""
    bt = scope.plan.backtest.copy()
    res = Backtest(level=scope.plan.backtest_level, method=scope.params.method, table=bt,
                   book=scope.plan.backtest_book)
    made = bt.set_index("method")["n_months"]
    if int(made.get(scope.params.method, 0)) == 0:  # the method itself could not be made for any month
        got = (scope.history_end - scope.history_start).n + 1 if scope.history_end >= scope.history_start else 0
        return res.skipped("too_short", needed=13, got=min(got, int((scope.history_end - pd.Period(scope.data_first, "M")).n + 1)))
    if res.book == "current" and res.level == "rep":
        res.note("backtest_current_book")
    bt["mae_pp"] = bt["mae"] * 100
    bt["method_code"] = bt["method"]
    res.tables.append(Table("backtest", bt, [
        _col("method_code", "code", "target_plan.column.method", codes="target_plan.method"),
        _col("mae_pp", "f3", "target_plan.column.mae_pp"), _col("n_months", "count", "column.months")]))
    return res


def _col(name: str, kind: str, label: str, codes: str | None = None) -> Any:
    from .sections import Column

    return Column(name, kind, label, codes)


# ------------------------------------------------------------------------------ files
def targets_file_names(scope: Scope) -> dict[str, str]:
    """The names of the plan's files in the run folder: ``targets_<month>.csv`` / ``.xlsx``
    (written by :mod:`analysis.reports.targets_file`)."""
    return {"csv": f"targets_{scope.label}.csv", "xlsx": f"targets_{scope.label}.xlsx"}


def data_window(scope: Scope) -> dict[str, str]:
    """The data window for the workbook's about sheet."""
    return {"start": str(scope.data_first), "end": str(scope.data_last),
            "history": f"{scope.history_start} … {scope.history_end}"}

"""Metrics of the monthly rep scorecard (月度综合考核), computed in the engine through Ibis.

:func:`prepare` inspects the store, loads the scheme and the adjustments, resolves the month
and fetches, per account manager and customer, the additive inputs of every indicator
(aggregated in the engine: only per-rep and per-customer rows come to pandas). It then scores
with :mod:`analysis.scoring` (points, totals, ranks, the previous month's ranks, bootstrap rank
intervals, the territory check, the payout). Each section function picks its part of that
scope and returns a :class:`~analysis.sections.SectionResult` (numbers and codes only).

Definitions (month M, a rep r)
------------------------------
* **Reps scored**: reps employed on the last day of M (``reps.hire_date`` ≤ that day and no
  ``exit_date`` before it); reps who left before the month's end are excluded. A rep hired
  during M is *part-month*: scored, listed apart and not ranked; the payout is prorated by
  the share of the month employed. Without a reps table: the reps with orders or a rep target
  in M, all full-month.
* **Active customers** of r: the customers r serves on the month's last day
  (``customers_history`` valid that day, else ``customers.rep_id``; opened on or before the
  month's end); without a rep in the customers, the customers r served in M and the two
  months before.
* **Sales lines** are read through :func:`analysis.model.sales_lines` (``book="sale"``): the rep,
  region, brand, price class and launch date of a line are the line's own, else the master
  valid at the sale date (``customers_history`` / ``products_history``), else the current
  master. An indicator whose dimension resolves for less than 95 % of the month's amount
  (``model.MIN_COVERAGE``) is not scored (reason ``unresolved``); metrics.json carries the
  shares (``coverage``).
* **amount / qty attainment**: r's sales lines in M (the rep at the time of sale, returns
  included) ÷ the rep target of M (targets level ``rep``, measure amount / qty) — the trends
  report's rule.
* **price_class_mix**: the share (qty, or amount: ``mix_measure``) of the scheme's
  ``top_price_classes`` in the orders of r's active customers in M, minus the same share in
  M − 12, in percentage points.
* **key_brand_distribution / new_brand_distribution / ordering_rate**: active customers who
  ordered a key brand / a new brand / anything in M ÷ active customers. Key brands: the
  scheme's list, or the 3 brands with the largest amount in the 12 months before M. New brand:
  a product whose ``launch_date`` is in M or the ``new_brand_months − 1`` months before.
* **guidance_coverage**: active customers given at least one guidance visit by r in M ÷ active
  customers; **effective_guidance**: of those, the customers with an effective guidance visit
  ÷ customers guided (without ``visits.kind`` every visit counts as guidance);
  **visit_attainment**: r's visits in M ÷ active customers ÷ the scheme's ``visit_plan``.
* **Below target several months running**: amount attainment below ``underperform_threshold``
  in each of the ``underperform_streak`` months ending with M (the trends report's definition).
* **Rank intervals**: bootstrap over each rep's customers (rows of the per-customer inputs;
  ``interval_unit="customer"``, the default) or over the days of the month (the rep's daily
  amount, qty and visits resampled, the customer counts fixed; ``interval_unit="day"``),
  1,000 resamples by default, 95 %.
* **Territory potential**: the amount bought in M − 12 by r's active customers.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from . import attainment, model, scoring, store
from . import periods
from .periods import add_months
from .errors import InsufficientDataError, MissingColumnError, MissingTableError, ParameterError
from .scheme import AUTO_KEY_BRANDS, INDICATORS, Scheme, load_adjustments, load_scheme
from .scopes import ScopeBase, between, store_tables
from .sections import Figure, Reason, SectionResult, Skip, Table

if TYPE_CHECKING:  # the parameter model (imported when prepare runs)
    from .params import RepScorecardParams

REPORT = "rep_scorecard"
UNKNOWN = model.UNATTRIBUTED
TABLES = ("orders", "customers", "products", "reps", "targets", "visits")
#: The dimensions of the sales lines each indicator needs (it is not scored when one resolves
#: for less than :data:`analysis.model.MIN_COVERAGE` of the month's amount).
INDICATOR_DIMENSIONS = {"amount_attainment": ("rep_id",), "qty_attainment": ("rep_id",),
                        "key_brand_distribution": ("brand",), "new_brand_distribution": ("brand",),
                        "price_class_mix": ("price_class",)}
# every per-(rep, customer) input column of the indicators (see scoring.INDICATOR_INPUTS)
ADDITIVE = ("amount", "qty", "mix_top", "mix_total", "mix_top_ly", "mix_total_ly", "active_customers",
            "ordering_customers", "key_brand_customers", "new_brand_customers", "guided_customers",
            "effective_guided", "visits")


# ------------------------------------------------------------------------------ scope
@dataclass
class Scope(ScopeBase):
    """What every section needs: the parameters, the scheme, the facts of the store and the
    computed scores (filled by :func:`prepare`)."""

    con: Any
    params: Any
    scheme: Scheme
    month: dt.date
    first: dt.date
    last: dt.date
    tables: dict[str, list[str]]
    src: Any = None
    lines: Any = None
    coverage: dict[str, float] = field(default_factory=dict)
    adjustments: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicator_skips: dict[str, Skip] = field(default_factory=dict)
    notes: list[tuple[str, dict]] = field(default_factory=list)
    key_brands: tuple[str, ...] = ()
    new_skus: tuple[str, ...] = ()
    contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    fixed: pd.DataFrame = field(default_factory=pd.DataFrame)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    intervals: pd.DataFrame | None = None
    streaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    streak_months: list[str] = field(default_factory=list)
    team_attainment: dict[str, float] = field(default_factory=dict)
    parts: dict[str, Skip] = field(default_factory=dict)  # ScopeBase: "intervals", "streaks", "penalty"

    @property
    def period(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def end(self) -> dt.date:
        return add_months(self.month, 1)



def prepare(con: Any, params: RepScorecardParams | None = None) -> Scope:
    """Inspect the store, load the scheme, resolve the month and score every rep.

    Parameters
    ----------
    con : ibis backend
        From :func:`analysis.store.connect`.
    params : RepScorecardParams, optional
        The report's parameters, validated (``RepScorecardParams.of(month=...)``); None: the defaults.

    Returns
    -------
    Scope

    Raises
    ------
    MissingTableError, MissingColumnError
        No orders, or orders without ``order_date`` or ``customer_id``, or no rep for the
        lines anywhere (neither on the lines nor in the customers): nothing can be scored.
    SchemeError
        The scheme or the adjustments are invalid (an adjustment for a rep not scored).

    Examples
    --------
    >>> scope = prepare(con, RepScorecardParams.of(month="2026-10"))  # doctest: +SKIP
    >>> scope.scores[["rep_id", "total", "rank"]].head()  # doctest: +SKIP
    """
    from .params import RepScorecardParams
    from .params.base import as_params

    p = as_params(RepScorecardParams, params, f"{REPORT}.prepare")
    scheme = load_scheme(p.scheme)
    if not store.has_rows(con, "orders"):
        raise MissingTableError("orders", REPORT)
    src = model.sources(con)
    for c in ("order_date", "customer_id"):
        if c not in src.orders:
            raise MissingColumnError("orders", c, list(src.orders))
    if not src.available("rep_id"):
        raise MissingColumnError("orders", "rep_id", list(src.orders))
    lines = model.sales_lines(con, book="sale", src=src)
    tables = store_tables(con, TABLES)
    tables["orders"] = list(lines.columns)  # the resolved sales lines
    w = lines.aggregate(first=lines.order_date.min(), last=lines.order_date.max()).execute()
    first, last = pd.Timestamp(w["first"].iloc[0]).date(), pd.Timestamp(w["last"].iloc[0]).date()
    grain = periods.detect_grain(model.order_days(con).execute()["order_date"])
    month = periods.month_in_data(p.month, first, last, grain, owner=REPORT)
    scope = Scope(con=con, params=p, scheme=scheme, month=month, first=first, last=last, tables=tables,
                  src=src, lines=lines)
    contrib, fixed = month_inputs(scope, month, record=True)
    scope.contributions, scope.fixed = contrib, fixed
    scope.adjustments = load_adjustments(p.adjustments, known_reps=fixed["rep_id"]) if p.adjustments else \
        load_adjustments(None)
    scope.adjustments["source"] = "manual"
    scope.values = values_of(contrib, fixed, scheme)
    if not any(i in scope.values.columns and scope.values[i].notna().any() for i in scheme.weights):
        raise InsufficientDataError(f"None of the indicators of scheme '{scheme.name}' can be computed from the "
                                    f"store for {scope.period}.")
    scope.adjustments = pd.concat([scope.adjustments, _penalties(scope, month, set(fixed["rep_id"]))],
                                  ignore_index=True)
    previous = None
    pm = add_months(month, -1)
    if pm >= first:
        try:
            pc, pf = month_inputs(scope, pm, record=False)
            if len(pf):
                previous = _score(scope, values_of(pc, pf, scheme), _penalties(scope, pm, set(pf["rep_id"])))
                previous = previous[["rep_id", "rank"]]
        except InsufficientDataError:
            previous = None
    scope.scores = _score(scope, scope.values, scope.adjustments, previous)
    _attach_names(scope)
    _intervals(scope)
    _streaks(scope)
    scope.team_attainment = _region_attainment(scope)
    return scope


# ------------------------------------------------------------------------- the inputs
def _orders(scope: Scope) -> Any:
    """The sales lines of :func:`analysis.model.sales_lines` (every dimension resolved; ids as
    strings, measures as float)."""
    if scope.lines is None:
        scope.src = scope.src or model.sources(scope.con)
        scope.lines = model.sales_lines(scope.con, book="sale", src=scope.src)
    return scope.lines


def _unresolved(cov: model.Coverage) -> Skip:
    """The skip of a part whose dimension resolves for too little of the amount: the share and
    the master table and column it comes from."""
    return model.coverage_skip(cov) or Skip(Reason.UNRESOLVED_CODES, {
        "dimension": cov.dimension, "share": cov.share, "table": model.DIMENSIONS[cov.dimension].master, "codes": []})


def _coverage(scope: Scope, dims: list[str], start: dt.date, end: dt.date) -> dict[str, model.Coverage]:
    """Coverage of ``dims`` on the sales lines in [start, end) (dimensions without any source
    count as resolving nothing)."""
    return model.coverage(_orders(scope), dims, start=start, end=end, src=scope.src)


def _book(scope: Scope, month: dt.date) -> Any | None:
    """The customers each rep serves on the month's last day (``customer_id``, ``rep_id``; Ibis):
    :func:`analysis.model.book_at` (the customers history valid that day, else the current
    customers); None without a rep in either. Customers opened after the month are left out."""
    end = add_months(month, 1)
    src = scope.src if scope.src is not None else model.sources(scope.con)
    return model.book_at(scope.con, end - dt.timedelta(days=1), src, opened_before=end)


def roster(scope: Scope, month: dt.date) -> pd.DataFrame:
    """The reps scored for ``month``: ``rep_id``, ``region``, ``name`` (when known) and
    ``employed_share`` (days employed in the month ÷ days in the month)."""
    end = add_months(month, 1)
    last_day = end - dt.timedelta(days=1)
    days = (end - month).days
    o = between(_orders(scope), month, end)
    if scope.has("reps", "rep_id", "hire_date"):
        r = scope.con.table("reps")
        cols = {c: r[c] for c in ("region", "name") if c in r.columns}
        ex = r.exit_date.cast("date") if "exit_date" in r.columns else ibis.null().cast("date")
        r = r.select(rep_id=r.rep_id.cast("string"), hire=r.hire_date.cast("date"), exit=ex, **cols)
        r = r.filter((r.hire <= ibis.literal(last_day)) & (r.exit.isnull() | (r.exit >= ibis.literal(last_day))))
        df = r.execute()
        hire = pd.to_datetime(df["hire"]).dt.date
        start = hire.map(lambda h: max(h, month))
        df["employed_share"] = [(end - s).days / days for s in start]
        df = df.drop(columns=["hire", "exit"])
    else:
        ids = set(o.select("rep_id").distinct().execute()["rep_id"].dropna().astype(str))
        if scope.has("targets", "period", "level", "key", "value"):
            t = between(scope.con.table("targets"), month, end, "period")
            t = t.filter(t.level == "rep")
            ids |= set(t.select(k=t.key.cast("string")).distinct().execute()["k"].dropna())
        df = pd.DataFrame({"rep_id": sorted(ids), "employed_share": 1.0})
    df["rep_id"] = df["rep_id"].astype(str)
    if "region" not in df.columns:
        if "region" in o.columns:
            g = o.filter(o.rep_id.notnull() & o.region.notnull()).group_by(["rep_id", "region"]).aggregate(
                n=o.rep_id.count()).execute()
            g = g.sort_values(["rep_id", "n", "region"], ascending=[True, False, True]).drop_duplicates("rep_id")
            df = df.merge(g[["rep_id", "region"]], on="rep_id", how="left")
        else:
            df["region"] = np.nan
    df["region"] = df["region"].astype(object).where(df["region"].notna(), UNKNOWN).astype(str)
    return df.sort_values("rep_id").reset_index(drop=True)


def _targets(scope: Scope, month: dt.date, level: str, measure: str) -> pd.Series | None:
    """Targets of ``level`` and ``measure`` for ``month`` by key; None when there are none."""
    if not scope.has("targets", "period", "level", "key", "value"):
        return None
    t = between(scope.con.table("targets"), month, add_months(month, 1), "period")
    f = t.level == level
    if "measure" in t.columns:
        f = f & (t.measure == measure)
    elif measure != "amount":
        return None
    df = t.filter(f).group_by(key=t.key.cast("string")).aggregate(value=t.value.cast("float64").sum()).execute()
    return None if df.empty else df.set_index("key")["value"]


def _key_brands(scope: Scope, o: Any, month: dt.date) -> tuple[str, ...]:
    if scope.scheme.key_brands is not None:
        return scope.scheme.key_brands
    m = "amount" if "amount" in o.columns else "qty"
    w = between(o, add_months(month, -12), month).filter(o.brand.notnull())
    df = w.group_by("brand").aggregate(v=w[m].sum()).execute()
    if df.empty:
        w = between(o, month, add_months(month, 1)).filter(o.brand.notnull())
        df = w.group_by("brand").aggregate(v=w[m].sum()).execute()
    df = df.sort_values(["v", "brand"], ascending=[False, True])
    return tuple(str(b) for b in df["brand"].head(AUTO_KEY_BRANDS))


def month_inputs(scope: Scope, month: dt.date, record: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-(rep, customer) additive inputs and the per-rep fixed columns of ``month``.

    Returns
    -------
    (contributions, fixed)
        ``contributions``: one row per rep and customer, ``rep_id``, ``customer_id`` and the
        available input columns of :data:`ADDITIVE` plus ``potential`` (the customer's
        amount in M − 12, on active rows); ``fixed``: one row per scored rep, ``rep_id``,
        ``region``, ``name``, ``employed_share``, ``amount_target``, ``qty_target`` (when the
        store has them). With ``record`` the indicator skips and notes go into ``scope``.
    """
    sk: dict[str, Skip] = {}
    notes: list[tuple[str, dict]] = []
    end = add_months(month, 1)
    ly, ly_end = add_months(month, -12), add_months(month, -11)
    o = _orders(scope)
    om = between(o, month, end)
    fixed = roster(scope, month)
    reps = set(fixed["rep_id"])
    if not scope.has("reps", "rep_id", "hire_date"):
        notes.append(("no_roster", {}))
    measures = [m for m in ("amount", "qty") if m in o.columns]
    # the dimensions the indicators need, resolved for enough of the month's amount?
    dims = ["rep_id", "brand", "price_class"]
    cov = _coverage(scope, dims, month, end)
    if ly >= scope.first and "price_class" in o.columns:
        cov_ly = _coverage(scope, ["price_class"], ly, ly_end)["price_class"]
        if cov_ly.share < cov["price_class"].share:
            cov["price_class"] = cov_ly
    for iid, need in INDICATOR_DIMENSIONS.items():
        for d in need:
            if d in o.columns and not cov[d].sufficient:
                sk.setdefault(iid, _unresolved(cov[d]))
    # targets
    for m in ("amount", "qty"):
        iid = f"{m}_attainment"
        if m not in measures:
            sk[iid] = Skip(Reason.MISSING_COLUMN, {"table": "orders", "column": m})
            continue
        t = _targets(scope, month, "rep", m)
        if t is None:
            sk[iid] = scope.missing("targets", "period", "level", "key", "value") or \
                Skip(Reason.NO_TARGETS, {"level": "rep"})
            continue
        fixed[f"{m}_target"] = fixed["rep_id"].map(t).astype(float)
    # the rep's own sales lines (the rep at the time of sale)
    by_rep = om.filter(om.rep_id.notnull() & om.customer_id.notnull())
    own = by_rep.group_by(["rep_id", "customer_id"]).aggregate(**{m: by_rep[m].sum() for m in measures}).execute()
    # active customers: the book on the month's last day
    book = _book(scope, month)
    if book is not None:
        book = book.filter(book.rep_id.notnull())
        act = book.select("rep_id", "customer_id").distinct().execute()
    else:
        w = between(o, add_months(month, -2), end)
        w = w.filter(w.rep_id.notnull() & w.customer_id.notnull())
        act = w.select("rep_id", "customer_id").distinct().execute()
        notes.append(("active_from_orders", {}))
    act = act[act["rep_id"].isin(reps)].drop_duplicates("customer_id", keep="first")
    act["active_customers"] = 1.0
    # per customer in the month (through any rep): ordered, key brand, new brand, top classes
    cust_aggs: dict[str, Any] = {"ordered": om.customer_id.count()}
    kb: tuple[str, ...] = ()
    if "brand" in o.columns and "key_brand_distribution" not in sk:
        kb = _key_brands(scope, o, month)
        if kb:
            cust_aggs["key"] = ibis.ifelse(om.brand.isin(list(kb)), 1, 0).max()
        else:
            sk["key_brand_distribution"] = Skip(Reason.NO_DATA, {})
    elif "brand" not in o.columns:
        sk["key_brand_distribution"] = _unresolved(cov["brand"]) if "brand" in cov else \
            Skip(Reason.MISSING_COLUMN, {"table": "products", "column": "brand"})
    new_skus: tuple[str, ...] = ()
    if "launch_date" in o.columns and "new_brand_distribution" not in sk:
        lo = add_months(month, -(scope.scheme.new_brand_months - 1))
        ld = om.launch_date.cast("date")
        is_new = ld.notnull() & (ld >= ibis.literal(lo)) & (ld < ibis.literal(end))
        cust_aggs["new"] = ibis.ifelse(is_new, 1, 0).max()
        pr = scope.con.table("products")
        if "launch_date" in pr.columns:
            pl = pr.launch_date.cast("date")
            new_skus = tuple(sorted(pr.filter(pl.notnull() & (pl >= ibis.literal(lo)) & (pl < ibis.literal(end)))
                                    .select(s=pr.sku_id.cast("string")).execute()["s"].astype(str)))
        if not new_skus:
            sk["new_brand_distribution"] = Skip(Reason.NO_DATA, {})
            notes.append(("no_new_brand", {"months": scope.scheme.new_brand_months}))
    elif "launch_date" not in o.columns:
        sk["new_brand_distribution"] = Skip(Reason.MISSING_COLUMN, {"table": "products", "column": "launch_date"})
    mm = scope.scheme.mix_measure if scope.scheme.mix_measure in measures else (measures[0] if measures else None)
    has_mix = "price_class" in o.columns and mm is not None and "price_class_mix" not in sk
    top = list(scope.scheme.top_price_classes)
    if has_mix:
        cust_aggs["mix_top"] = ibis.ifelse(om.price_class.isin(top), om[mm], 0.0).sum()
        cust_aggs["mix_total"] = om[mm].sum()
    elif "price_class" not in o.columns:
        sk["price_class_mix"] = Skip(Reason.MISSING_COLUMN, {"table": "products", "column": "price_class"})
    cm = om.filter(om.customer_id.notnull()).group_by("customer_id").aggregate(**cust_aggs).execute()
    # the same month last year (per customer): the structure's baseline and the territory's potential
    ol = between(o, ly, ly_end).filter(o.customer_id.notnull())
    if ly < scope.first:
        if has_mix:
            sk["price_class_mix"] = Skip(Reason.TOO_SHORT, {"needed": 13, "got": _months_between(scope.first, end)})
        cl = pd.DataFrame(columns=["customer_id"])
    else:
        a = {}
        if has_mix:
            a["mix_top_ly"] = ibis.ifelse(ol.price_class.isin(top), ol[mm], 0.0).sum()
            a["mix_total_ly"] = ol[mm].sum()
        if "amount" in measures:
            a["potential"] = ol.amount.sum()
        cl = ol.group_by("customer_id").aggregate(**a).execute() if a else pd.DataFrame(columns=["customer_id"])
    # visits by the rep to its active customers
    vis = None
    if (s := scope.missing("visits", "visit_date", "rep_id", "customer_id")) is None:
        v = between(scope.con.table("visits"), month, end, "visit_date")
        v = v.mutate(rep_id=v.rep_id.cast("string"), customer_id=v.customer_id.cast("string"))
        guide = (v.kind == "guidance") if "kind" in v.columns else ibis.literal(True)
        if "kind" not in v.columns:
            notes.append(("no_kind", {}))
        va = {"visits": v.rep_id.count(), "guided": ibis.ifelse(guide, 1, 0).max()}
        if "effective" in v.columns:
            va["effective"] = ibis.ifelse(guide & v.effective.fill_null(False), 1, 0).max()
        else:
            sk["effective_guidance"] = Skip(Reason.MISSING_COLUMN, {"table": "visits", "column": "effective"})
        vis = v.filter(v.rep_id.notnull() & v.customer_id.notnull()).group_by(["rep_id", "customer_id"]) \
            .aggregate(**va).execute()
    else:
        for iid in ("guidance_coverage", "effective_guidance", "visit_attainment"):
            sk[iid] = s
    # one frame: (rep, customer) rows from the rep's orders, its active customers and its visits
    key = ["rep_id", "customer_id"]
    frames = [own[key], act[key]] + ([vis[key]] if vis is not None else [])
    rows = pd.concat(frames, ignore_index=True).drop_duplicates()
    rows = rows[rows["rep_id"].isin(reps)]
    df = rows.merge(own, on=key, how="left").merge(act, on=key, how="left")
    df["active_customers"] = df["active_customers"].fillna(0.0)
    a = df["active_customers"].to_numpy()
    cmi = cm.set_index("customer_id")
    cli = cl.set_index("customer_id") if len(cl.columns) > 1 else pd.DataFrame(index=pd.Index([], name="customer_id"))

    def per_cust(frame: pd.DataFrame, col: str) -> np.ndarray:
        return df["customer_id"].map(frame[col]).astype(float).fillna(0.0).to_numpy() if col in frame.columns \
            else np.zeros(len(df))

    df["ordering_customers"] = a * (per_cust(cmi, "ordered") > 0)
    if "key" in cmi.columns:
        df["key_brand_customers"] = a * (per_cust(cmi, "key") > 0)
    if "new" in cmi.columns and "new_brand_distribution" not in sk:
        df["new_brand_customers"] = a * (per_cust(cmi, "new") > 0)
    if "price_class_mix" not in sk:
        for col in ("mix_top", "mix_total"):
            df[col] = a * per_cust(cmi, col)
        for col in ("mix_top_ly", "mix_total_ly"):
            df[col] = a * per_cust(cli, col)
    if "potential" in cli.columns:
        df["potential"] = a * per_cust(cli, "potential")
    if vis is not None:
        df = df.merge(vis, on=key, how="left")
        df["visits"] = df["visits"].fillna(0.0).astype(float)
        df["guided_customers"] = a * (df.pop("guided").fillna(0).to_numpy() > 0)
        if "effective" in df.columns:
            df["effective_guided"] = a * (df.pop("effective").fillna(0).to_numpy() > 0)
        if scope.scheme.visit_plan is None:
            sk.setdefault("visit_attainment", Skip(Reason.DISABLED, {"param": "visit_plan"}))
    for m in measures:
        df[m] = df[m].fillna(0.0).astype(float)
    df = df.sort_values(key).reset_index(drop=True)
    for m in ("amount", "qty"):  # an attainment whose rep does not resolve is not scored
        if f"{m}_attainment" in sk and f"{m}_target" in fixed.columns:
            fixed = fixed.drop(columns=f"{m}_target")
    if record:
        scope.indicator_skips = {i: s for i, s in sk.items() if i in scope.scheme.weights}
        scope.notes = notes
        scope.coverage = {d: c.share for d, c in cov.items() if d in o.columns}
        scope.key_brands = kb
        scope.new_skus = new_skus
    return df, fixed


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def values_of(contrib: pd.DataFrame, fixed: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Indicator values per rep from the per-customer inputs (see :func:`scoring.indicator_values`);
    a rep without any row has NaN values."""
    cols = [c for c in ADDITIVE if c in contrib.columns]
    sums = contrib.groupby("rep_id")[cols].sum()
    base = fixed.merge(sums, left_on="rep_id", right_index=True, how="left")
    base[cols] = base[cols].fillna(0.0)
    vals = scoring.indicator_values(base, scheme.visit_plan)
    for c in ("amount", "qty", "amount_target", "qty_target", "active_customers", "potential"):
        if c in base.columns and c not in vals.columns:
            vals[c] = base[c].to_numpy()
    pot = contrib.groupby("rep_id")["potential"].sum() if "potential" in contrib.columns else None
    if pot is not None:
        vals["potential"] = vals["rep_id"].map(pot).astype(float)
    return vals


def _group_values(scope: Scope, values: pd.DataFrame) -> pd.DataFrame:
    """The values as scored: with level "company" every rep is in one group."""
    if getattr(scope.params, "level", "region") == "company":
        return values.assign(region="all")
    return values


def _score(scope: Scope, values: pd.DataFrame, adjustments: pd.DataFrame | None,
           previous: pd.DataFrame | None = None) -> pd.DataFrame:
    cols = ["rep_id", "region", "employed_share", *[i for i in scope.scheme.weights if i in values.columns]]
    v = _group_values(scope, values[[c for c in cols if c in values.columns]])
    out = scoring.score(v, scope.scheme, adjustments, previous)
    region = values.set_index("rep_id")["region"]
    out["region"] = out["rep_id"].map(region)
    if getattr(scope.params, "level", "region") == "company":
        out["rank_region"] = out["rank"]
    extra = [c for c in ("employed_share", "amount", "amount_target", "potential") if c in values.columns]
    attrs = dict(out.attrs)
    pen = adjustments[adjustments["source"] == "streak_penalty"] if adjustments is not None and \
        "source" in adjustments.columns else None
    out = out.merge(values[["rep_id", *extra]], on="rep_id", how="left")
    out["penalty"] = out["rep_id"].isin(set(pen["rep_id"])) if pen is not None else False
    out.attrs.update(attrs)
    return out


def _attach_names(scope: Scope) -> None:
    names = scope.fixed.set_index("rep_id")["name"] if "name" in scope.fixed.columns else None
    s = scope.scores
    s.insert(1, "name", s["rep_id"].map(names) if names is not None else np.nan)
    scope.scores = s


def _intervals(scope: Scope) -> None:
    s = scope.scores
    ranked = s["rank"].notna().sum()
    if ranked < 3:
        scope.skip_part("intervals", Skip(Reason.TOO_FEW_PEOPLE, {}))
        return
    add = [c for c in ADDITIVE if c in scope.contributions.columns]
    fixed = _group_values(scope, scope.fixed.drop(columns=[c for c in ("name",) if c in scope.fixed.columns]))
    if getattr(scope.params, "interval_unit", "customer") == "day":
        units, unit = day_inputs(scope), "day"
        resampled = [c for c in DAY_INPUTS if c in add]
        per_rep = scope.contributions.groupby("rep_id")[[c for c in add if c not in resampled]].sum()
        fixed = fixed.merge(per_rep, left_on="rep_id", right_index=True, how="left")
        fixed[per_rep.columns] = fixed[per_rep.columns].fillna(0.0)
        units = units[["rep_id", "day", *resampled]]
    else:
        units, unit = scope.contributions[["rep_id", "customer_id", *add]], "customer_id"
    try:
        iv = scoring.rank_intervals(units, fixed, scope.scheme, unit=unit,
                                    adjustments=scope.adjustments, n_boot=int(scope.params.n_boot), seed=0)
    except InsufficientDataError as exc:
        scope.skip_part("intervals", Skip(Reason.FAILED, {"error": str(exc)}))
        return
    keep = ["rep_id", "rank_lo", "rank_hi", "rank_region_lo", "rank_region_hi", "overlaps_next", "within_noise"]
    iv = iv[keep]
    if getattr(scope.params, "level", "region") == "company":
        iv = iv.assign(rank_region_lo=iv["rank_lo"], rank_region_hi=iv["rank_hi"])
    scope.intervals = iv
    attrs = dict(s.attrs)
    scope.scores = s.merge(iv, on="rep_id", how="left")
    scope.scores.attrs.update(attrs)


DAY_INPUTS = ("amount", "qty", "visits")
"""The inputs resampled by day (``interval_unit="day"``); the customer counts stay fixed."""


def day_inputs(scope: Scope) -> pd.DataFrame:
    """Per scored rep and day of the month: ``amount``, ``qty`` (the rep's own orders) and
    ``visits``, every day of the month present (0 on days without any)."""
    month, end = scope.month, scope.end
    o = between(_orders(scope), month, end).filter(lambda x: x.rep_id.notnull())
    measures = [m for m in ("amount", "qty") if m in o.columns]
    od = o.group_by(rep_id=o.rep_id, day=o.order_date).aggregate(**{m: o[m].sum() for m in measures}).execute()
    days = pd.date_range(month, end - dt.timedelta(days=1), freq="D").date
    reps = scope.fixed["rep_id"].tolist()
    grid = pd.DataFrame({"rep_id": np.repeat(reps, len(days)), "day": np.tile(days, len(reps))})
    od["day"] = pd.to_datetime(od["day"]).dt.date
    out = grid.merge(od, on=["rep_id", "day"], how="left")
    if scope.missing("visits", "visit_date", "rep_id") is None:
        v = between(scope.con.table("visits"), month, end, "visit_date")
        v = v.filter(v.rep_id.notnull())
        vd = v.group_by(rep_id=v.rep_id.cast("string"), day=v.visit_date.cast("date")).aggregate(
            visits=v.rep_id.count()).execute()
        vd["day"] = pd.to_datetime(vd["day"]).dt.date
        out = out.merge(vd, on=["rep_id", "day"], how="left")
    num = [c for c in out.columns if c not in ("rep_id", "day")]
    out[num] = out[num].astype(float).fillna(0.0)
    return out


def below_streak(scope: Scope, month: dt.date, k: int, thr: float) -> tuple[pd.DataFrame | None, Skip | None]:
    """Amount attainment of each rep in the ``k`` months ending with ``month`` (columns m0 … m{k-1},
    oldest first) and whether it is below ``thr`` in each of them (column ``below``); or the
    reason it cannot be told (:func:`analysis.attainment.below_target_streak`, the trends
    report's definition)."""
    wide, skip = attainment.below_target_streak(scope.con, _orders(scope), month, k, thr, first=scope.first,
                                                src=scope.src)
    if wide is None:
        return None, skip
    wide.columns = [*(f"m{i}" for i in range(k)), "below"]
    return wide, None


def _penalties(scope: Scope, month: dt.date, reps: set[str]) -> pd.DataFrame:
    """The scheme's streak penalty as adjustment rows (rep_id, points, reason "", source)."""
    cols = {"rep_id": pd.Series(dtype=str), "points": pd.Series(dtype=float), "reason": pd.Series(dtype=str),
            "source": pd.Series(dtype=str)}
    sp = scope.scheme.streak_penalty
    if sp is None:
        return pd.DataFrame(cols)
    wide, skip = below_streak(scope, month, sp.months, sp.threshold)
    if wide is None:
        if month == scope.month:
            scope.skip_part("penalty", skip)
        return pd.DataFrame(cols)
    ids = sorted(set(wide.index[wide["below"]]) & reps)
    return pd.DataFrame({"rep_id": ids, "points": [-sp.points] * len(ids), "reason": [""] * len(ids),
                         "source": ["streak_penalty"] * len(ids)})


def _streaks(scope: Scope) -> None:
    k = int(scope.params.underperform_streak)
    thr = float(scope.params.underperform_threshold)
    months = [add_months(scope.month, -i) for i in range(k - 1, -1, -1)]
    scope.streak_months = [f"{m:%Y-%m}" for m in months]
    wide, skip = below_streak(scope, scope.month, k, thr)
    if wide is None:
        scope.skip_part("streaks", skip)
        return
    ids = sorted(set(wide.index[wide["below"]]) & set(scope.scores["rep_id"]))
    tab = wide.loc[ids].drop(columns="below").reset_index()
    tab.columns = ["rep_id", *[f"m{i}" for i in range(k)]]
    s = scope.scores.set_index("rep_id")
    tab.insert(1, "name", tab["rep_id"].map(s["name"]))
    tab.insert(2, "region", tab["rep_id"].map(s["region"]))
    tab["total"] = tab["rep_id"].map(s["total"])
    tab["rank"] = tab["rep_id"].map(s["rank"]).astype("Int64")
    scope.streaks = tab


def _region_attainment(scope: Scope) -> dict[str, float]:
    """Amount attainment of each region in the month (targets level region, else the sum of its
    reps' targets), for the team part of the payout."""
    s = scope.scores
    if "amount" not in s.columns:
        return {}
    act = s.groupby("region")["amount"].sum()
    t = _targets(scope, scope.month, "region", "amount")
    if t is not None:
        tgt = act.index.to_series().map(t)
    elif "amount_target" in s.columns:
        tgt = s.groupby("region")["amount_target"].sum()
    else:
        return {}
    out = {}
    for r in act.index:
        tv = float(tgt.get(r, np.nan)) if r in tgt.index else float("nan")
        out[str(r)] = float(act[r] / tv) if tv and tv > 0 and math.isfinite(tv) else float("nan")
    return out


# ============================================================================ sections
def _nan(x: Any) -> float:
    try:
        return float("nan") if x is None or pd.isna(x) else float(x)
    except (TypeError, ValueError):
        return float("nan")


def _int(x: Any) -> int | None:
    return None if x is None or pd.isna(x) else int(x)


@dataclass(kw_only=True)
class Headline(SectionResult):
    """Who leads, who improved most, who is below target several months running, which
    indicators the team misses."""

    report = REPORT
    default_code = "headline"
    month: str = ""
    scheme: str = ""
    audience: str = "team"
    weights: dict[str, float] = field(default_factory=dict)
    reps_scored: int = 0
    part_month: int = 0
    leader: dict[str, Any] = field(default_factory=dict)
    improved: dict[str, Any] = field(default_factory=dict)
    median_total: float = float("nan")
    below_target: int = 0
    below_target_streak: list[str] = field(default_factory=list)
    streak_names: dict[str, str] = field(default_factory=dict)  # rep_id → name, for the text (names first)
    streak: int = 3
    threshold: float = 0.9
    team_misses: list[str] = field(default_factory=list)
    within_noise: int = 0
    penalty: dict[str, Any] = field(default_factory=dict)  # parts["penalty"]: why it could not be applied
    penalised: list[str] = field(default_factory=list)
    coverage: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        return {"month": self.month, "period": self.month, "scheme": self.scheme, "audience": self.audience,
                "weights": dict(self.weights), "reps_scored": self.reps_scored, "part_month_reps": self.part_month,
                "leader": self.leader.get("label"), "leader_rep_id": self.leader.get("rep_id"),
                "leader_total": self.leader.get("total"), "median_total": self.median_total,
                "below_target": self.below_target, "below_target_streak": list(self.below_target_streak),
                "team_misses": list(self.team_misses), "reps_within_noise": self.within_noise,
                "coverage": dict(self.coverage)}


def team_values(scope: Scope) -> pd.DataFrame:
    """The team's value of each scored indicator (from the summed inputs of all scored reps) beside
    its rule: indicator, weight, weight_used, rule, target (the linear target or threshold level),
    team_value, reps_meeting (share of reps at or above the target), meets (team value ≥ target)."""
    scheme = scope.scheme
    c = scope.contributions
    cols = [x for x in ADDITIVE if x in c.columns]
    tot = pd.DataFrame([c[cols].sum()])
    tot["rep_id"], tot["region"] = "team", "team"
    for t in ("amount_target", "qty_target"):
        if t in scope.fixed.columns:
            tot[t] = scope.fixed[t].sum(min_count=1)
    tv = scoring.indicator_values(tot, scheme.visit_plan)
    weights = scope.scores.attrs.get("weights", {})
    rows = []
    for ind in scheme.indicators:
        r = ind.rule
        target = r.target if r.kind == "linear" else (r.level if r.kind == "threshold" else float("nan"))
        val = float(tv[ind.id].iloc[0]) if ind.id in tv.columns and ind.id in weights else float("nan")
        s = scope.scores[ind.id] if ind.id in scope.scores.columns else pd.Series(dtype=float)
        meeting = float((s >= target).mean()) if len(s) and math.isfinite(target) and ind.id in weights else float("nan")
        rows.append({"indicator": ind.id, "weight": ind.weight, "weight_used": weights.get(ind.id, 0.0),
                     "rule": r.kind, "target": target, "team_value": val, "reps_meeting": meeting,
                     "meets": (val >= target) if math.isfinite(val) and math.isfinite(target) else None,
                     "scored": ind.id in weights})
    return pd.DataFrame(rows)


def headline(scope: Scope) -> Headline:
    """Section 1: the month's leader, the most improved rank, the reps below target, the indicators
    the team as a whole misses (team value below the rule's target)."""
    s = scope.scores
    res = Headline(month=scope.period, scheme=scope.scheme.name, audience=scope.params.audience,
                   weights=dict(s.attrs.get("weights", {})), streak=int(scope.params.underperform_streak),
                   threshold=float(scope.params.underperform_threshold), coverage=dict(scope.coverage))
    ranked = s[s["rank"].notna()]
    res.reps_scored, res.part_month = int(len(s)), int(s["part_month"].sum())
    if len(ranked):
        top = ranked.iloc[0]
        lab = top["name"] if isinstance(top["name"], str) and top["name"] else top["rep_id"]
        res.leader = {"rep_id": str(top["rep_id"]), "name": top["name"] if isinstance(top["name"], str) else None,
                      "label": str(lab), "total": float(top["total"]), "region": str(top["region"]),
                      "tied": int((ranked["rank"] == 1).sum())}
        res.median_total = float(ranked["total"].median())
        ch = ranked[ranked["rank_change"].notna()]
        if len(ch) and ch["rank_change"].max() > 0:
            b = ch.sort_values(["rank_change", "rank"], ascending=[False, True]).iloc[0]
            res.improved = {"rep_id": str(b["rep_id"]), "name": b["name"] if isinstance(b["name"], str) else None,
                            "change": int(b["rank_change"]), "rank": int(b["rank"]), "rank_prev": int(b["rank_prev"])}
    if "amount_attainment" in s.columns:
        res.below_target = int((s["amount_attainment"] < 1.0).sum())
    res.below_target_streak = list(scope.streaks["rep_id"]) if len(scope.streaks) else []
    if len(scope.streaks) and "name" in scope.streaks:
        res.streak_names = {str(k): n for k, n in zip(scope.streaks["rep_id"], scope.streaks["name"])
                            if isinstance(n, str) and n}
    tv = team_values(scope)
    res.team_misses = [r.indicator for r in tv.itertuples() if r.scored and r.meets is False]
    if "within_noise" in s.columns:
        res.within_noise = int(s["within_noise"].fillna(False).astype(bool).sum())
    sp = scope.scheme.streak_penalty
    if sp is not None:
        res.penalty = {"points": sp.points, "months": sp.months, "threshold": sp.threshold}
        res.penalised = sorted(s.loc[s["penalty"], "rep_id"].astype(str))
    if scope.part_skip("penalty") is not None:
        res.parts["penalty"] = scope.part_skip("penalty")
    if scope.notes:
        for code, values in scope.notes:
            res.note(code, **values)
    return res


@dataclass(kw_only=True)
class Scores(SectionResult):
    """The ranking: each rep's points per indicator, total, ranks, rank change and interval."""

    report = REPORT
    default_code = "scores"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: dict[str, float] = field(default_factory=dict)
    adjustments: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _adjustments_of(self) -> dict[str, list[dict[str, Any]]]:
        a = self.adjustments
        out: dict[str, list[dict[str, Any]]] = {}
        if a is None or not len(a):
            return out
        for r in a.to_dict("records"):
            reason = r.get("reason")
            out.setdefault(str(r["rep_id"]), []).append({
                "points": _nan(r["points"]), "source": str(r.get("source") or "manual"),
                "reason": reason if isinstance(reason, str) else ""})
        return out

    def metrics(self) -> dict[str, Any]:
        out = []
        adj = self._adjustments_of()
        for r in self.table.to_dict("records"):
            out.append({
                "rep_id": str(r["rep_id"]), "region": str(r["region"]), "total": _nan(r["total"]),
                "rank": _int(r.get("rank")), "rank_region": _int(r.get("rank_region")),
                "rank_lo": _int(r.get("rank_lo")), "rank_hi": _int(r.get("rank_hi")),
                "rank_change": _int(r.get("rank_change")), "part_month": bool(r.get("part_month", False)),
                "components": {i: _nan(r.get(f"{i}_points")) for i in self.weights},
                "adjustment": _nan(r.get("adjustment", 0.0)),
                "adjustments": adj.get(str(r["rep_id"]), []),
                "values": {i: _nan(r.get(i)) for i in self.weights},
            })
        return {"scores": out}


def scores(scope: Scope) -> Scores:
    """Section 2: the ranking of the full-month reps and, apart, the part-month reps (scored, not
    ranked); each indicator's points (on the weights used), adjustment, total, rank overall and in
    the region, the change of rank against the previous month, the rank interval."""
    s = scope.scores
    weights = dict(s.attrs.get("weights", {}))
    res = Scores(table=s, weights=weights, adjustments=scope.adjustments)
    pts = {f"{i}_points": "f1" for i in weights}
    cols = dict(rank="int", rep_id="text", name="text", region="text", total="f2", rank_region="int",
                rank_change="signed")
    if "rank_lo" in s.columns:
        cols.update(rank_lo="int", rank_hi="int", within_noise="flag")
    cols.update(pts)
    cols["adjustment"] = "f1" if (s["adjustment"] != 0).any() else None
    cols = {k: v for k, v in cols.items() if v is not None and k in s.columns}
    if s["name"].isna().all():
        cols.pop("name", None)
    labels = {f"{i}_points": f"rep_scorecard.points.{i}" for i in weights}
    labels.update({k: f"rep_scorecard.column.{k}" for k in ("rank", "total", "rank_region", "rank_change",
                                                             "rank_lo", "rank_hi", "within_noise", "adjustment")})
    res.tables.extend(scoring.ranking_tables(s, cols, labels, max_rows=300))
    skipped = [i for i in scope.scheme.weights if i not in weights]
    if skipped:
        res.note("renormalised", indicators=skipped)
    return res


@dataclass(kw_only=True)
class Indicators(SectionResult):
    """Each rep's indicator values and the team's value of each indicator against its rule."""

    report = REPORT
    default_code = "indicators"
    team: pd.DataFrame = field(default_factory=pd.DataFrame)
    skips: dict[str, Skip] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        t = self.team
        return {"team_values": {r.indicator: _nan(r.team_value) for r in t.itertuples()} if len(t) else {},
                "skipped_indicators": {k: v.as_dict() for k, v in self.skips.items()}}


INDICATOR_KINDS = {"amount_attainment": "rate", "qty_attainment": "rate", "price_class_mix": "pp",
                   "key_brand_distribution": "rate", "new_brand_distribution": "rate", "ordering_rate": "rate",
                   "guidance_coverage": "rate", "effective_guidance": "rate", "visit_attainment": "rate"}
"""How each indicator's value is written (fractions as rates, the mix in pp)."""


def indicators(scope: Scope) -> Indicators:
    """Section 3: the team's value of every indicator against its rule's target (and how many reps
    meet it), the indicators not scored and why; each rep's indicator values."""
    tv = team_values(scope)
    res = Indicators(team=tv, skips=dict(scope.indicator_skips))
    tv_shown = tv.assign(indicator_code=tv["indicator"])
    # a table whose rows are indicators: the values are written per row kind, so the team table
    # keeps values as numbers of the row's kind split into rate rows and the pp row
    res.tables.append(Table.of("team", tv_shown, title="rep_scorecard.table.team",
                               labels={"indicator_code": "rep_scorecard.column.indicator",
                                       "weight": "rep_scorecard.column.weight",
                                       "weight_used": "rep_scorecard.column.weight_used",
                                       "rule": "rep_scorecard.column.rule",
                                       "target": "rep_scorecard.column.rule_target",
                                       "team_value": "rep_scorecard.column.team_value",
                                       "reps_meeting": "rep_scorecard.column.reps_meeting",
                                       "meets": "rep_scorecard.column.meets"},
                               codes={"indicator_code": "rep_scorecard.indicator", "rule": "rep_scorecard.rule"},
                               indicator_code="code", weight="f1", weight_used="f1", rule="code", target="f2",
                               team_value="f3", meets="flag", reps_meeting="rate"))
    s = scope.scores
    weights = s.attrs.get("weights", {})
    cols = dict(rep_id="text", name="text", region="text")
    if s["name"].isna().all():
        cols.pop("name")
    cols.update({i: INDICATOR_KINDS[i] for i in weights})
    labels = {i: f"rep_scorecard.column.{i}" for i in weights}
    res.tables.append(Table.of("values", s, title="rep_scorecard.table.values", labels=labels, max_rows=300, **cols))
    return res


@dataclass(kw_only=True)
class HonestRanks(SectionResult):
    """Rank intervals (bootstrap over each rep's customers) and where neighbours are within noise."""

    report = REPORT
    default_code = "rank_intervals"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_boot: int = 0
    unit: str = "customer"
    within_noise: int = 0
    ranked: int = 0
    top_within_noise: bool = False
    median_width: float = float("nan")

    def metrics(self) -> dict[str, Any]:
        return {"rank_interval_median_width": self.median_width}


def rank_intervals(scope: Scope) -> HonestRanks:
    """Section 4: each ranked rep's 95 % rank interval from a bootstrap over its customers, and a
    flag where the intervals of neighbouring ranks overlap (the order between them is noise)."""
    res = HonestRanks(n_boot=int(scope.params.n_boot), unit=str(getattr(scope.params, "interval_unit", "customer")))
    if scope.part_skip("intervals") is not None:
        res.skip = scope.part_skip("intervals")
        return res
    s = scope.scores[scope.scores["rank"].notna()].reset_index(drop=True)
    res.table = s
    res.ranked = int(len(s))
    res.within_noise = int(s["within_noise"].fillna(False).astype(bool).sum())
    res.top_within_noise = bool(len(s) > 1 and bool(s["overlaps_next"].iloc[0]))
    res.median_width = float((s["rank_hi"].astype(float) - s["rank_lo"].astype(float)).median())
    cols = dict(rank="int", rep_id="text", name="text", region="text", total="f2", rank_lo="int", rank_hi="int",
                rank_region="int", rank_region_lo="int", rank_region_hi="int", within_noise="flag")
    if s["name"].isna().all():
        cols.pop("name")
    labels = {k: f"rep_scorecard.column.{k}" for k in cols if k not in ("rep_id", "name", "region")}
    res.tables.append(Table.of("intervals", s, labels=labels, max_rows=300, **cols))
    chart = s[["rep_id", "name", "rank", "rank_lo", "rank_hi"]].assign(
        flag=s["rep_id"].isin(set(scope.streaks["rep_id"]) if len(scope.streaks) else set()))
    res.figures.append(Figure("scorecard.rank_intervals", {"table": chart}))
    return res


@dataclass(kw_only=True)
class Territory(SectionResult):
    """The correlation of scores with the territory's potential and a potential-adjusted attainment."""

    report = REPORT
    default_code = "territory"
    rho: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    p_value: float = float("nan")
    n: int = 0
    slope: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    moved: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {"territory_rho": self.rho, "territory_rho_ci": [self.ci_low, self.ci_high],
                "territory_p": self.p_value}


def territory(scope: Scope) -> Territory:
    """Section 5: Spearman's ρ of the totals with the territory potential (the amount the rep's
    customers bought in the same month last year), with its interval; each rep's attainment beside
    the potential-adjusted one (actual ÷ what reps with that potential typically sell).
    ``moved``: reps in the bottom quarter by raw attainment but not by the adjusted one."""
    res = Territory()
    s = scope.scores
    if "potential" not in s.columns or not (s["potential"] > 0).any():
        res.skip = Skip(Reason.TOO_SHORT, {"needed": 13, "got": _months_between(scope.first, scope.end)}) \
            if scope.month < add_months(scope.first, 12) else Skip(Reason.NO_DATA, {})
        return res
    ranked = s[s["rank"].notna()]
    try:
        tc = scoring.territory_check(ranked["total"], ranked["potential"])
    except InsufficientDataError as exc:
        res.skip = Skip(Reason.FAILED, {"error": str(exc)})
        return res
    res.rho, res.ci_low, res.ci_high, res.p_value, res.n = tc.rho, tc.ci_low, tc.ci_high, tc.p_value, tc.n
    frame = ranked[["rep_id", "name", "region", "total", "rank", "amount", "potential"]].rename(
        columns={"amount": "actual"})
    if "amount_target" in ranked.columns:
        frame["target"] = ranked["amount_target"].to_numpy()
    try:
        pa_ = scoring.potential_adjusted(frame)
    except InsufficientDataError as exc:
        res.note("no_adjustment", error=str(exc))
        return res
    res.slope = float(pa_.attrs["slope"])
    pa_ = pa_.sort_values(["adjusted_attainment", "rep_id"], ascending=[True, True], na_position="last")
    res.table = pa_.reset_index(drop=True)
    if "attainment" in pa_.columns:
        q_raw = pa_["attainment"].rank(pct=True, method="min")
        q_adj = pa_["adjusted_attainment"].rank(pct=True, method="min")
        res.moved = sorted(pa_.loc[(q_raw <= 0.25) & (q_adj > 0.25), "rep_id"].astype(str))
    cols = dict(rep_id="text", name="text", region="text", rank="int", potential="money_wan", actual="money_wan")
    if "attainment" in pa_.columns:
        cols["attainment"] = "rate"
    cols["adjusted_attainment"] = "f2"
    if pa_["name"].isna().all():
        cols.pop("name")
    labels = {"rank": "rep_scorecard.column.rank", "potential": "rep_scorecard.column.potential",
              "adjusted_attainment": "rep_scorecard.column.adjusted_attainment"}
    res.tables.append(Table.of("potential", res.table, labels=labels, max_rows=300, **cols))
    return res


@dataclass(kw_only=True)
class Underperformers(SectionResult):
    """Reps below the threshold of target in each of the streak months ending with the month."""

    report = REPORT
    default_code = "underperformers"
    ids: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    threshold: float = 0.9
    streak: int = 3
    ranked: int = 0
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        return {"underperformers": list(self.ids)}


def underperformers(scope: Scope) -> Underperformers:
    """Section 6: staff below target several months running (the trends report's definition), with
    their attainment in each month, their total and rank this month."""
    res = Underperformers(threshold=float(scope.params.underperform_threshold),
                          streak=int(scope.params.underperform_streak), months=list(scope.streak_months),
                          ranked=int(scope.scores["rank"].notna().sum()))
    if scope.part_skip("streaks") is not None:
        res.skip = scope.part_skip("streaks")
        return res
    res.ids = list(scope.streaks["rep_id"])
    res.table = scope.streaks
    if res.ids:
        wide = scope.streaks
        long = wide.melt(id_vars=["rep_id", "name", "region", "total", "rank"],
                         value_vars=[f"m{i}" for i in range(res.streak)], var_name="step", value_name="attainment")
        long["month"] = long["step"].map({f"m{i}": m for i, m in enumerate(res.months)})
        long = long.sort_values(["rank", "rep_id", "month"], na_position="last").reset_index(drop=True)
        cols = dict(rep_id="text", name="text", region="text", month="month", attainment="rate", total="f2",
                    rank="int")
        if long["name"].isna().all():
            cols.pop("name")
        res.tables.append(Table.of("streaks", long, labels={"total": "rep_scorecard.column.total",
                                                            "rank": "rep_scorecard.column.rank"},
                                   max_rows=200, **cols))
    return res


@dataclass(kw_only=True)
class Adjustments(SectionResult):
    """The manual adjustments (加减分) applied, each with its reason."""

    report = REPORT
    default_code = "adjustments"
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        return {"adjustments_total": float(self.table["points"].sum()) if len(self.table) else 0.0}


def adjustments(scope: Scope) -> Adjustments:
    """Section 7: the manual adjustments with their reasons (skipped without an adjustments file)."""
    res = Adjustments()
    a = scope.adjustments
    if a is None or len(a) == 0:
        res.skip = Skip(Reason.DISABLED, {"param": "adjustments"})
        return res
    names = scope.scores.set_index("rep_id")["name"]
    t = a.assign(name=a["rep_id"].map(names))
    res.table = t
    cols = dict(rep_id="text", name="text", source="code", points="f1", reason="text")
    if t["name"].isna().all():
        cols.pop("name")
    res.tables.append(Table.of("adjustments", t, labels={"points": "rep_scorecard.column.adjustment",
                                                         "reason": "rep_scorecard.column.reason",
                                                         "source": "rep_scorecard.column.source"},
                               codes={"source": "rep_scorecard.source"}, **cols))
    return res


@dataclass(kw_only=True)
class Payout(SectionResult):
    """The bonus pool split (manager version only): individual share by score, team share by the
    region's attainment; sums to the pool to the fen."""

    report = REPORT
    default_code = "payout"
    pool: float = float("nan")
    individual_share: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        total = float(self.table["amount_fen"].sum()) / 100 if len(self.table) else None
        return {"payout_total": total, "payout_pool": None if math.isnan(self.pool) else self.pool}


def payout(scope: Scope) -> Payout | None:
    """Section 8 (``audience="manager"`` only; None for the team version, which holds no money):
    the payout per rep when the scheme has a bonus pool. Part-month reps are paid pro rata."""
    if scope.params.audience != "manager":
        return None
    res = Payout()
    pool = scope.scheme.bonus_pool
    if pool is None:
        res.skip = Skip(Reason.DISABLED, {"param": "bonus_pool"})
        return res
    res.pool, res.individual_share = pool.amount, pool.individual_share
    s = scope.scores
    att = {r: (v if math.isfinite(v) else 0.0) for r, v in scope.team_attainment.items()}
    if pool.individual_share < 1 and not att:
        res.skip = Skip(Reason.NO_TARGETS, {"level": "region"})
        return res
    try:
        p = scoring.payout(s[["rep_id", "region", "total", "employed_share"]], pool.amount, pool.individual_share,
                           att or None)
    except ParameterError as exc:
        res.skip = Skip(Reason.FAILED, {"error": str(exc)})
        return res
    p = p.merge(s[["rep_id", "name", "total", "rank", "employed_share"]], on="rep_id", how="left")
    p["region_attainment"] = p["region"].map(scope.team_attainment)
    res.table = p
    cols = dict(rep_id="text", name="text", region="text", rank="int", total="f2", region_attainment="rate",
                individual="f2", team="f2", amount="f2")
    if p["name"].isna().all():
        cols.pop("name")
    labels = {"rank": "rep_scorecard.column.rank", "total": "rep_scorecard.column.total",
              "region_attainment": "rep_scorecard.column.region_attainment",
              "individual": "rep_scorecard.column.individual_pay", "team": "rep_scorecard.column.team_pay",
              "amount": "rep_scorecard.column.pay"}
    res.tables.append(Table.of("payout", p, labels=labels, max_rows=300, **cols))
    return res


def data_window(scope: Scope) -> dict[str, str]:
    """The first and last order date of the store."""
    return {"first": scope.first.isoformat(), "last": scope.last.isoformat()}

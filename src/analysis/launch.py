"""Metrics of the new brand one-month review (新品牌上市一个月分析), as Ibis expressions.

The report's shape: :func:`prepare` ``(con, params) -> LaunchScope`` computes everything once;
the section functions :func:`headline`, :func:`sales_trend`, :func:`retailers`,
:func:`retailer_segments`, :func:`opinions`, :func:`cannibalization` and :func:`benchmarks`
``(scope) -> SectionResult`` return numbers, codes (a skip is a ``Reason`` with details), tables
with column kinds and figure specs, never text; ``analysis.narrative.launch`` chooses the
sentences and ``analysis.present`` renders them. The computing functions below take an Ibis
backend ``con`` (``analysis.store.connect``) and a :class:`LaunchSpec` (from
:func:`resolve_launch`); only aggregates come back to pandas.

Definitions (the project's glossary), all within the window
``[launch_date, launch_date + window_days - 1]`` (day 1 = launch day), cut at the last
order date of the store when the launch is younger than ``window_days`` (a partial review):

- purchase lines: order lines with ``is_return`` false (or null) and qty (else amount) > 0.
  Volume and amount are *net* sums over all lines of the SKU (returns included, negative).
- ordering_customers (订购户数): distinct customers with ≥ 1 purchase line of the product.
- active_customers (活跃户数): distinct customers with ≥ 1 purchase line of any product.
- distribution_rate (铺货率) = ordering ÷ active; weighted_distribution_rate = all-product
  amount of the ordering customers ÷ all-product amount of the active customers.
- repeat_rate (复购率): customers with ≥ 2 distinct order dates of the product ÷ ordering.
- sell_through_rate (动销率, YC/T 455.3 "this period ÷ previous 3 periods") with a period of
  one week counted back from the window's end: of the customers who ordered the product in
  the 3 weeks before the last week (days end-27 … end-7), the share who ordered it again in the
  last week (days end-6 … end). The numerator is restricted to those customers so the rate
  stays in [0, 1]; with fewer than 14 days covered it is not defined (None). When fewer than
  3 previous weeks exist (partial review) the available ones are used.

Default product: when neither ``sku`` nor ``brand`` is given, the SKU with the most recent
``products.launch_date`` that has a full window of data (launch + window_days - 1 ≤ last order
date); if no launch has a full window, the most recent launch (a partial review). Ties on the
date go to the SKU with the largest window volume, then the smallest id.

Benchmarks "auto": earlier launches (launch_date before this one, a full window of data) in
the same price class; when fewer than 3 exist, all earlier launches with a full window.
"""
from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import ibis
import numpy as np
import pandas as pd

from . import periods, store
from .contracts import QTY_KINDS, qty_unit
from .errors import InsufficientDataError, ParameterError
from .scopes import ScopeBase, between, store_tables
from .sections import Figure, Reason, SectionResult, Skip, Table, section_metrics

REPORT = NEEDED_BY = "launch_review"
SEGMENT_DIMENSIONS = ("area_type", "size_class", "region")
BENCHMARK_DAYS = (7, 14, 30)
MIN_BENCHMARKS_SAME_CLASS = 3
TABLES = ("orders", "customers", "products", "feedback", "targets")  # the store tables a launch review reads (scope.tables)


def _table(con: Any, name: str, required: tuple[str, ...] = ()) -> Any:
    """The Ibis table ``name``; MissingTableError / MissingColumnError when absent."""
    return store.table(con, name, NEEDED_BY, required)


# --------------------------------------------------------------------------- the launch


@dataclass(frozen=True)
class LaunchSpec:
    """Which product is reviewed, and over which days.

    Attributes
    ----------
    sku_ids : tuple of str
        The product's SKUs (one SKU, or every SKU of a brand).
    label : str
        The SKU id, or the brand when a brand was asked for.
    launch_date, window_end, end : datetime.date
        Launch day (day 1), nominal last day (day ``window_days``), last day with data used.
    data_start, data_end : datetime.date
        First and last order date of the store.
    """

    sku_ids: tuple[str, ...]
    label: str
    brand: str
    price_class: str | None
    launch_date: dt.date
    window_days: int
    window_end: dt.date
    end: dt.date
    data_start: dt.date
    data_end: dt.date
    sku_name: str = ""
    #: what a reader calls the product: brand + specification (:func:`product_name`), the brand
    #: for a brand review; the title, the index entry and every table show it, the code beside it
    name: str = ""
    #: the unit of its quantities (:func:`analysis.contracts.qty_unit` of its products' pack_unit):
    #: carton (条), case (箱), pack (包) or mixed (a brand whose SKUs say several units)
    unit: str = "carton"

    @property
    def qty_kind(self) -> str:
        """The value kind of this launch's quantities (``qty``, ``qty_case``, … ``qty_mixed``)."""
        from .contracts import QTY_KINDS

        return QTY_KINDS[self.unit]

    @property
    def days_covered(self) -> int:
        """Days of the window with data (0 when the launch is after the last order date)."""
        return max(0, (self.end - self.launch_date).days + 1)

    @property
    def partial(self) -> bool:
        return self.days_covered < self.window_days

    @property
    def period(self) -> str:
        """The run's folder, ASCII and stable whatever the product is called
        (:func:`analysis.spec.launch_key`), e.g. ``"S041-2026-08-15"``."""
        from .spec import launch_key

        return launch_key(self.label, self.launch_date.isoformat())

    @property
    def shown_name(self) -> str:
        """The product's name for a reader (the code when the products master has none)."""
        return self.name or self.sku_name or self.label

    def day(self, n: int) -> dt.date:
        """The date of day ``n`` (day 1 = launch day)."""
        return self.launch_date + dt.timedelta(days=n - 1)


def _to_date(value: Any) -> dt.date | None:
    """A date value of the data (date, datetime, Timestamp, ISO text) as a date; None when missing."""
    try:
        if value is None or pd.isna(value):  # NaT too (an instance of datetime)
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return periods.to_date(value)


# The resolved lines (and what the store offers) for the duration of one ``prepare``: a review
# reads them about a hundred times, and looking the store up each time (tables, columns, whether
# the histories say anything) costs a query per table, seconds per review on Spark.
_LINES: ContextVar[dict[int, Any] | None] = ContextVar("launch_lines", default=None)


def _orders(con: Any) -> Any:
    """The sales lines of :func:`analysis.model.sales_lines` (dimensions resolved)."""
    memo = _LINES.get()
    if memo is not None and id(con) in memo:
        return memo[id(con)][0]
    from . import model

    src = model.sources(con)
    if "sku_id" not in src.orders:
        from .errors import MissingColumnError

        raise MissingColumnError("orders", "sku_id", list(src.orders))
    lines = model.sales_lines(con, src=src)
    if memo is not None:
        memo[id(con)] = (lines, src)
    return lines


def _sources(con: Any) -> Any:
    """What the store offers (:func:`analysis.model.sources`), looked up once per ``prepare``."""
    _orders(con)
    memo = _LINES.get()
    if memo is not None:
        return memo[id(con)][1]
    from . import model

    return model.sources(con)


def _purchases(t: Any) -> Any:
    """Purchase lines: not returns, positive quantity (or amount)."""
    cond = None
    if "is_return" in t.columns:
        cond = ~t.is_return.fill_null(False)
    measure = "qty" if "qty" in t.columns else "amount"
    pos = t[measure] > 0
    return t.filter(pos if cond is None else cond & pos)


def _between(t: Any, start: dt.date, end: dt.date) -> Any:
    """Lines from ``start`` to ``end``, both days included (a launch window's last day is in it)."""
    return between(t, start, end + dt.timedelta(days=1))


def _data_range(con: Any) -> tuple[dt.date, dt.date]:
    t = _orders(con)
    r = t.aggregate(lo=t.order_date.min(), hi=t.order_date.max()).to_pandas()
    lo, hi = _to_date(r["lo"].iloc[0]), _to_date(r["hi"].iloc[0])
    if lo is None or hi is None:
        raise InsufficientDataError("The store has no orders: a launch review needs order lines.")
    return lo, hi


def _products(con: Any) -> pd.DataFrame:
    """The products table (small: one row per SKU)."""
    p = _table(con, "products", required=("sku_id", "brand"))
    cols = [c for c in ("sku_id", "brand", "sku_name", "price_class", "unit_price", "pack_unit", "launch_date")
            if c in p.columns]
    df = p.select(*cols).to_pandas()
    for c in ("sku_name", "price_class", "pack_unit", "launch_date"):
        if c not in df.columns:
            df[c] = None
    df["launch_date"] = df["launch_date"].map(_to_date)
    return df


def product_name(brand: Any, sku_name: Any, sku_id: Any = "") -> str:
    """What a reader calls a product: its brand and specification (``红梅(软黄)``).

    The products master's ``sku_name`` when it already starts with the brand, else the brand
    followed by the specification in brackets; the brand alone without a ``sku_name``, the
    ``sku_id`` without either.

    Examples
    --------
    >>> product_name("红梅", "红梅(软黄)"), product_name("红梅", "软黄"), product_name("红梅", None)
    ('红梅(软黄)', '红梅(软黄)', '红梅')
    >>> product_name(None, None, "6901028339568")
    '6901028339568'
    """
    def text(v: Any) -> str:
        try:
            if v is None or pd.isna(v):
                return ""
        except (TypeError, ValueError):
            pass
        return str(v).strip()

    b, n = text(brand), text(sku_name)
    if n and (not b or n.startswith(b)):
        return n
    if n:
        return f"{b}({n})"
    return b or text(sku_id)


def product_names(products: pd.DataFrame) -> dict[str, str]:
    """``{sku_id: product name}`` of the products table (:func:`product_name`)."""
    return {str(r.sku_id): product_name(r.brand, r.sku_name, r.sku_id) for r in products.itertuples()}


def _first_order_dates(con: Any, sku_ids: Sequence[str]) -> dict[str, dt.date]:
    t = _purchases(_orders(con))
    t = t.filter(t.sku_id.isin(list(sku_ids)))
    df = t.group_by("sku_id").aggregate(first=t.order_date.min()).to_pandas()
    return {r.sku_id: _to_date(r.first) for r in df.itertuples()}


def make_spec(
    con: Any,
    sku_ids: Sequence[str],
    launch_date: dt.date,
    window_days: int = 30,
    label: str | None = None,
    products: pd.DataFrame | None = None,
    data_range: tuple[dt.date, dt.date] | None = None,
) -> LaunchSpec:
    """Build a :class:`LaunchSpec` for known SKUs and launch date.

    Examples
    --------
    >>> spec = make_spec(con, ["S041"], dt.date(2026, 8, 15))  # doctest: +SKIP
    """
    products = _products(con) if products is None else products
    lo, hi = data_range or _data_range(con)
    rows = products[products["sku_id"].isin(list(sku_ids))]
    brand = str(rows["brand"].iloc[0]) if len(rows) else ""
    pcs = rows["price_class"].dropna()
    price_class = str(pcs.mode().iloc[0]) if len(pcs) else None
    names = rows["sku_name"].dropna()
    window_end = launch_date + dt.timedelta(days=window_days - 1)
    if len(sku_ids) == 1 and len(rows):
        r = rows.iloc[0]
        name = product_name(r["brand"], r["sku_name"], r["sku_id"])
    else:
        name = brand or (label or "")
    return LaunchSpec(
        sku_ids=tuple(sorted(str(s) for s in sku_ids)),
        label=label or (str(sku_ids[0]) if len(sku_ids) == 1 else brand),
        brand=brand,
        price_class=price_class,
        launch_date=launch_date,
        window_days=int(window_days),
        window_end=window_end,
        end=min(window_end, hi),
        data_start=lo,
        data_end=hi,
        sku_name=str(names.iloc[0]) if len(names) == 1 and len(sku_ids) == 1 else "",
        name=name,
        unit=qty_unit(rows["pack_unit"].tolist() if "pack_unit" in rows else []),
    )


def resolve_launch(
    con: Any, sku: str = "", brand: str = "", launch_date: str = "", window_days: int = 30
) -> LaunchSpec:
    """Resolve the report's parameters into a :class:`LaunchSpec`.

    Parameters
    ----------
    con : Ibis backend
    sku, brand : str
        The SKU id, or a brand (all its SKUs). Both empty: the most recent launch with a full
        window of data (see the module docstring).
    launch_date : str
        "YYYY-MM-DD"; "" = ``products.launch_date`` (earliest of the brand's SKUs), else the
        product's first order date.
    window_days : int
        Length of the review window (30).

    Examples
    --------
    >>> spec = resolve_launch(con, sku="S041")  # doctest: +SKIP
    >>> spec.days_covered  # doctest: +SKIP
    30
    """
    where = "launch_review"
    if not isinstance(window_days, (int, np.integer)) or isinstance(window_days, bool) or window_days < 1:
        raise ParameterError(
            f"The 'window_days' parameter of {where} must be a positive integer. Got {window_days!r} instead."
        )
    products = _products(con)
    rng = _data_range(con)
    if sku and brand:
        raise ParameterError(
            f"The 'sku' and 'brand' parameters of {where} must not both be set. Got sku={sku!r}, brand={brand!r} instead."
        )
    if sku:
        if sku not in set(products["sku_id"]):
            raise ParameterError(f"The 'sku' parameter of {where} must be a sku_id of products. Got {sku!r} instead.")
        sku_ids = [sku]
        label = sku
    elif brand:
        sku_ids = sorted(products.loc[products["brand"] == brand, "sku_id"].astype(str))
        if not sku_ids:
            raise ParameterError(f"The 'brand' parameter of {where} must be a brand of products. Got {brand!r} instead.")
        label = brand
    else:
        sku_ids, label = _default_sku(con, products, rng, window_days), None
        label = sku_ids[0]
    if launch_date:
        start = periods.to_date(launch_date, "launch_date", where)
    else:
        known = products.loc[products["sku_id"].isin(sku_ids), "launch_date"].dropna()
        if len(known):
            start = min(known)
        else:
            firsts = _first_order_dates(con, sku_ids)
            if not firsts:
                raise InsufficientDataError(
                    f"{label} has no launch_date in products and no orders: give the 'launch_date' parameter."
                )
            start = min(firsts.values())
    return make_spec(con, sku_ids, start, window_days, label=label, products=products, data_range=rng)


def _default_sku(con: Any, products: pd.DataFrame, rng: tuple[dt.date, dt.date], window_days: int) -> list[str]:
    launched = products.dropna(subset=["launch_date"])
    if launched.empty:
        raise InsufficientDataError(
            "No product has a launch_date: give the 'sku' (or 'brand') and 'launch_date' parameters."
        )
    last_full = rng[1] - dt.timedelta(days=window_days - 1)
    full = launched[launched["launch_date"] <= last_full]
    pool = full if len(full) else launched
    newest = pool["launch_date"].max()
    cands = sorted(pool.loc[pool["launch_date"] == newest, "sku_id"].astype(str))
    if len(cands) > 1:
        t = _orders(con)
        t = _between(t, newest, newest + dt.timedelta(days=window_days - 1))
        t = t.filter(t.sku_id.isin(cands))
        measure = "qty" if "qty" in t.columns else "amount"
        vol = t.group_by("sku_id").aggregate(v=t[measure].sum()).to_pandas()
        vol = vol.set_index("sku_id")["v"].reindex(cands).fillna(0)
        cands = sorted(cands, key=lambda s: (-float(vol[s]), s))
    return [cands[0]]


def earlier_launches(con: Any, spec: LaunchSpec, benchmarks: str | Sequence[str] = "auto") -> list[LaunchSpec]:
    """The benchmark launches of ``spec``.

    ``"auto"``: SKUs launched before ``spec`` (``products.launch_date``) with a full window of
    data, in the same price class; when fewer than 3 exist, all earlier launches. A list of
    SKU ids selects them (each with its own launch_date, else its first order date).

    Examples
    --------
    >>> [b.label for b in earlier_launches(con, spec)]  # doctest: +SKIP
    ['S036', 'S038', 'S039']
    """
    products = _products(con)
    rng = (spec.data_start, spec.data_end)
    if isinstance(benchmarks, str) and benchmarks not in ("auto", ""):
        benchmarks = [b.strip() for b in benchmarks.split(",") if b.strip()]
    if isinstance(benchmarks, str):
        launched = products.dropna(subset=["launch_date"])
        last_full = spec.data_end - dt.timedelta(days=spec.window_days - 1)
        earlier = launched[
            (launched["launch_date"] < spec.launch_date)
            & (launched["launch_date"] <= last_full)
            & ~launched["sku_id"].isin(spec.sku_ids)
        ]
        same = earlier[earlier["price_class"] == spec.price_class] if spec.price_class else earlier.iloc[0:0]
        chosen = same if len(same) >= MIN_BENCHMARKS_SAME_CLASS else earlier
        chosen = chosen.sort_values(["launch_date", "sku_id"])
        return [
            make_spec(con, [r.sku_id], r.launch_date, spec.window_days, products=products, data_range=rng)
            for r in chosen.itertuples()
        ]
    ids = [str(b) for b in benchmarks]
    unknown = [b for b in ids if b not in set(products["sku_id"])]
    if unknown:
        raise ParameterError(
            f"The 'benchmarks' parameter of launch_review must be 'auto' or a list of sku_ids. Got {unknown!r} instead."
        )
    firsts = _first_order_dates(con, ids)
    out = []
    for b in ids:
        ld = products.loc[products["sku_id"] == b, "launch_date"].iloc[0] or firsts.get(b)
        if ld is not None:
            out.append(make_spec(con, [b], ld, spec.window_days, products=products, data_range=rng))
    return out


# --------------------------------------------------------------------------- headline


def _product_lines(con: Any, spec: LaunchSpec, start: dt.date | None = None, end: dt.date | None = None) -> Any:
    t = _orders(con)
    t = t.filter(t.sku_id.isin(list(spec.sku_ids)))
    return _between(t, start or spec.launch_date, end or spec.end)


def _rate(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or not den:
        return None
    return float(num) / float(den)


def _scalar(expr: Any) -> Any:
    v = expr.execute()
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


def sell_through(con: Any, spec: LaunchSpec) -> dict[str, Any]:
    """动销率 with weekly periods counted back from the window's end (module docstring).

    Returns
    -------
    dict
        ``rate`` (None when fewer than 14 days are covered), ``current`` (customers of the
        last week who also ordered in the previous weeks), ``previous`` (customers of the
        previous up-to-3 weeks), ``previous_weeks``.

    Examples
    --------
    >>> sell_through(con, spec)["rate"]  # doctest: +SKIP
    0.84
    """
    days = spec.days_covered
    out: dict[str, Any] = {"rate": None, "current": 0, "previous": 0, "previous_weeks": 0}
    if days < 14:
        return out
    n_prev = min(3, (days - 7) // 7)
    last_start = spec.end - dt.timedelta(days=6)
    prev_start = last_start - dt.timedelta(days=7 * n_prev)
    prev_end = last_start - dt.timedelta(days=1)
    base = _purchases(_product_lines(con, spec, spec.launch_date, spec.end))
    prev = _between(base, prev_start, prev_end).select("customer_id").distinct()
    cur = _between(base, last_start, spec.end).select("customer_id").distinct()
    n_prev_c = int(_scalar(prev.count()) or 0)
    both = prev.join(cur, "customer_id")
    n_cur = int(_scalar(both.count()) or 0)
    out.update(rate=_rate(n_cur, n_prev_c), current=n_cur, previous=n_prev_c, previous_weeks=n_prev)
    return out


def headline_figures(con: Any, spec: LaunchSpec) -> dict[str, Any]:
    """Section 1 figures of the window: volume, amount, 订购户数, 铺货率, 复购率, 动销率, plan.

    Examples
    --------
    >>> h = headline_figures(con, spec)  # doctest: +SKIP
    >>> h["distribution_rate"]  # doctest: +SKIP
    0.42
    """
    out: dict[str, Any] = {
        "volume": None, "amount": None, "ordering_customers": 0, "active_customers": 0,
        "distribution_rate": None, "weighted_distribution_rate": None, "repeat_rate": None,
        "repeat_customers": 0, "sell_through_rate": None, "target_qty": None, "target_amount": None,
        "attainment_qty": None, "attainment_amount": None,
    }
    if spec.days_covered == 0:
        return out
    lines = _product_lines(con, spec)
    aggs = {}
    if "qty" in lines.columns:
        aggs["volume"] = lines.qty.sum()
    if "amount" in lines.columns:
        aggs["amount"] = lines.amount.sum()
    if aggs:
        r = lines.aggregate(**aggs).to_pandas().iloc[0]
        for k in aggs:
            out[k] = None if pd.isna(r[k]) else float(r[k])
            out[k] = out[k] if out[k] is not None else 0.0
    if "customer_id" not in lines.columns:
        return out
    buy = _purchases(lines)
    per_cust = buy.group_by("customer_id").aggregate(n_dates=buy.order_date.nunique())
    c = per_cust.aggregate(
        ordering=per_cust.customer_id.count(), repeat=(per_cust.n_dates >= 2).sum()
    ).to_pandas().iloc[0]
    ordering = int(c["ordering"] or 0)
    repeat = int(0 if pd.isna(c["repeat"]) else c["repeat"])
    all_lines = _purchases(_between(_orders(con), spec.launch_date, spec.end))
    active = int(_scalar(all_lines.customer_id.nunique()) or 0)
    out.update(
        ordering_customers=ordering, active_customers=active, repeat_customers=repeat,
        distribution_rate=_rate(ordering, active), repeat_rate=_rate(repeat, ordering),
    )
    if "amount" in all_lines.columns and active:
        spend = all_lines.group_by("customer_id").aggregate(a=all_lines.amount.sum())
        ordered = buy.select("customer_id").distinct().mutate(o=ibis.literal(1))
        j = spend.left_join(ordered, "customer_id")
        w = j.aggregate(
            total=j.a.sum(), ordering=(j.a * j.o.fill_null(0)).sum()
        ).to_pandas().iloc[0]
        out["weighted_distribution_rate"] = _rate(w["ordering"], w["total"])
    st = sell_through(con, spec)
    out["sell_through_rate"] = st["rate"]
    out["sell_through"] = st
    tq, ta = plan(con, spec)
    out.update(target_qty=tq, target_amount=ta)
    out["attainment_qty"] = _rate(out["volume"], tq) if tq and tq > 0 else None
    out["attainment_amount"] = _rate(out["amount"], ta) if ta and ta > 0 else None
    return out


def plan(con: Any, spec: LaunchSpec) -> tuple[float | None, float | None]:
    """The product's target over the covered window, (qty, amount), or None when absent.

    Monthly targets of level "sku" (key = sku_id) or, failing that, "brand" (key = brand) are
    pro-rated by the covered days of each month.
    """
    if not store.has_table(con, "targets") or spec.days_covered == 0:
        return None, None
    t = con.table("targets")
    if not {"period", "level", "key", "measure", "value"} <= set(t.columns):
        return None, None
    m0 = spec.launch_date.replace(day=1)
    t = t.filter(t.period.cast("date").between(ibis.literal(m0), ibis.literal(spec.end)))
    t = t.filter(
        ((t.level == "sku") & t.key.isin(list(spec.sku_ids))) | ((t.level == "brand") & (t.key == spec.brand))
    )
    df = t.select("period", "level", "measure", "value").to_pandas()
    if df.empty:
        return None, None
    level = "sku" if (df["level"] == "sku").any() else "brand"
    if level == "brand" and len(spec.sku_ids) == 1 and spec.label != spec.brand:
        return None, None  # a brand target is not the plan of one of its SKUs
    df = df[df["level"] == level]
    res: dict[str, float] = {}
    for (period, measure), g in df.groupby(["period", "measure"]):
        p0 = _to_date(period)
        nxt = (pd.Timestamp(p0) + pd.offsets.MonthBegin(1)).date()
        in_month = (nxt - p0).days
        lo, hi = max(p0, spec.launch_date), min(nxt - dt.timedelta(days=1), spec.end)
        share = max(0, (hi - lo).days + 1) / in_month
        res[measure] = res.get(measure, 0.0) + float(g["value"].sum()) * share
    return res.get("qty"), res.get("amount")


# --------------------------------------------------------------------------- section 2: trend


def daily_trend(con: Any, spec: LaunchSpec) -> pd.DataFrame:
    """One row per day of the covered window: day, date, qty, amount, customers, cum_qty, order_size.

    ``order_size`` = qty ÷ ordering customers that day (cartons per ordering customer).

    Examples
    --------
    >>> daily_trend(con, spec).columns.tolist()  # doctest: +SKIP
    ['day', 'date', 'qty', 'amount', 'customers', 'cum_qty', 'cum_amount', 'order_size']
    """
    days = pd.DataFrame({"day": np.arange(1, spec.days_covered + 1)})
    days["date"] = [spec.day(int(d)) for d in days["day"]]
    if spec.days_covered == 0:
        return days.assign(qty=[], amount=[], customers=[], cum_qty=[], cum_amount=[], order_size=[])
    lines = _product_lines(con, spec)
    aggs = {
        "qty": lines.qty.sum() if "qty" in lines.columns else ibis.literal(None, "float64"),
        "amount": lines.amount.sum() if "amount" in lines.columns else ibis.literal(None, "float64"),
    }
    g = lines.group_by("order_date").aggregate(**aggs).to_pandas()
    buy = _purchases(lines)
    if "customer_id" in buy.columns:
        c = buy.group_by("order_date").aggregate(customers=buy.customer_id.nunique()).to_pandas()
    else:
        c = pd.DataFrame({"order_date": pd.Series([], dtype=object), "customers": pd.Series([], dtype=float)})
    g["date"] = g["order_date"].map(_to_date)
    c["date"] = c["order_date"].map(_to_date)
    out = days.merge(g[["date", "qty", "amount"]], on="date", how="left").merge(
        c[["date", "customers"]], on="date", how="left"
    )
    out[["qty", "amount"]] = out[["qty", "amount"]].astype(float).fillna(0.0)
    out["customers"] = out["customers"].fillna(0).astype(int)
    out["cum_qty"] = out["qty"].cumsum()
    out["cum_amount"] = out["amount"].cumsum()
    out["order_size"] = np.where(out["customers"] > 0, out["qty"] / out["customers"].where(out["customers"] > 0, 1), np.nan)
    return out


def weekly_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly totals of :func:`daily_trend` (week 1 = days 1–7; the last week may be shorter).

    Examples
    --------
    >>> weekly_totals(pd.DataFrame({"day": [1, 8], "qty": [2.0, 3.0], "amount": [1.0, 1.0],
    ...                             "customers": [1, 2]}))["qty"].tolist()
    [2.0, 3.0]
    """
    d = daily.assign(week=(daily["day"] - 1) // 7 + 1)
    w = d.groupby("week", as_index=False).agg(
        days=("day", "count"), qty=("qty", "sum"), amount=("amount", "sum"), customer_days=("customers", "sum")
    )
    return w


# --------------------------------------------------------------------------- section 3: retailers


def _nth_order_days(con: Any, spec: LaunchSpec, kmax: int = 4) -> pd.DataFrame:
    """Count of customers by (k, day) where day = the day of the customer's k-th distinct order date."""
    buy = _purchases(_product_lines(con, spec))
    pairs = buy.select("customer_id", "order_date").distinct()
    w = ibis.window(group_by=pairs.customer_id, order_by=pairs.order_date)
    ranked = pairs.mutate(k=ibis.row_number().over(w) + 1)
    ranked = ranked.filter(ranked.k <= kmax)
    df = ranked.group_by("k", "order_date").aggregate(customers=ranked.customer_id.count()).to_pandas()
    df["date"] = df["order_date"].map(_to_date)
    df["day"] = df["date"].map(lambda d: (d - spec.launch_date).days + 1)
    df["k"] = df["k"].astype(int)
    return df[["k", "day", "customers"]]


def ordering_curves(con: Any, spec: LaunchSpec) -> pd.DataFrame:
    """Cumulative trial and repeat curves by day since launch.

    Columns ``day``, ``trial`` (customers with a first order by that day), ``repeat_1``,
    ``repeat_2``, ``repeat_3`` (customers with ≥ 1, 2, 3 reorders: a 2nd, 3rd, 4th distinct
    order date by that day).

    Examples
    --------
    >>> ordering_curves(con, spec).iloc[-1]["trial"]  # doctest: +SKIP
    640
    """
    out = pd.DataFrame({"day": np.arange(1, spec.days_covered + 1)})
    names = {1: "trial", 2: "repeat_1", 3: "repeat_2", 4: "repeat_3"}
    nth = _nth_order_days(con, spec) if spec.days_covered else pd.DataFrame(columns=["k", "day", "customers"])
    for k, name in names.items():
        s = nth[nth["k"] == k].groupby("day")["customers"].sum()
        out[name] = s.reindex(out["day"]).fillna(0).cumsum().astype(int).to_numpy()
    return out


def repeat_depth(con: Any, spec: LaunchSpec) -> pd.DataFrame:
    """Depth of repeat: ordering customers by number of distinct order dates in the window.

    Columns ``orders`` (1, 2, …), ``customers``, ``share``.
    """
    buy = _purchases(_product_lines(con, spec))
    per = buy.group_by("customer_id").aggregate(orders=buy.order_date.nunique())
    df = per.group_by("orders").aggregate(customers=per.customer_id.count()).to_pandas()
    df = df.sort_values("orders").reset_index(drop=True)
    df["orders"] = df["orders"].astype(int)
    df["customers"] = df["customers"].astype(int)
    total = df["customers"].sum()
    df["share"] = df["customers"] / total if total else np.nan
    return df


def segment_counts(con: Any, spec: LaunchSpec, by: str) -> pd.DataFrame:
    """Active, ordering and repeat customers of the window by a customers column.

    Columns ``group``, ``active``, ``ordering``, ``repeat``. A customer's group is the value
    its lines of the window resolve to (:mod:`analysis.model`; the latest when it changed in the
    window); customers whose lines do not resolve it fall in group "—".
    """
    lines = _orders(con)
    if by not in lines.columns:
        from .errors import MissingColumnError

        raise MissingColumnError("customers", by, list(lines.columns))
    all_lines = _purchases(_between(lines, spec.launch_date, spec.end))
    latest = all_lines.select("customer_id", "order_date", group=all_lines[by].cast("string"))
    latest = latest.filter(latest.group.notnull()).mutate(_rn=ibis.row_number().over(
        ibis.window(group_by=latest.customer_id, order_by=[ibis.desc(latest.order_date), latest.group])))
    cust = latest.filter(latest._rn == 0).select("customer_id", "group")
    active = all_lines.select("customer_id").distinct()
    buy = _purchases(_product_lines(con, spec))
    per = buy.group_by("customer_id").aggregate(n=buy.order_date.nunique())
    j = active.left_join(per, active.customer_id == per.customer_id).select(active.customer_id, per.n)
    j = j.left_join(cust, j.customer_id == cust.customer_id).select(j.customer_id, j.n, cust.group)
    j = j.mutate(group=j.group.fill_null("—"), n=j.n.fill_null(0))
    df = j.group_by("group").aggregate(
        active=j.customer_id.count(), ordering=(j.n >= 1).sum(), repeat=(j.n >= 2).sum()
    ).to_pandas()
    for c in ("active", "ordering", "repeat"):
        df[c] = df[c].fillna(0).astype(int)
    return df.sort_values("group").reset_index(drop=True)


def segment_rates(con: Any, spec: LaunchSpec, by: str, min_group_size: int = 5) -> pd.DataFrame:
    """Distribution and repeat rates with 95 % Wilson intervals by ``by`` (area_type, size_class, region).

    Groups with fewer than ``min_group_size`` active customers are merged into "other"
    (其他), which is suppressed (rates shown as "—") if still too small; a repeat rate whose
    group has fewer than ``min_group_size`` ordering customers is suppressed.

    Examples
    --------
    >>> segment_rates(con, spec, "area_type").columns[:3].tolist()  # doctest: +SKIP
    ['group', 'active', 'ordering']
    """
    from .stats import proportions

    counts = segment_counts(con, spec, by)
    merged = proportions.merge_small_groups(counts, "group", "active", min_group_size, ("ordering", "repeat"))
    dist = proportions.rate_table(merged, "ordering", "active", min_group_size, prefix="distribution")
    rep = proportions.rate_table(merged, "repeat", "ordering", min_group_size, prefix="repeat")
    out = pd.concat([dist, rep[[c for c in rep.columns if c.startswith("repeat_")]]], axis=1)
    return out


# --------------------------------------------------------------------------- section 4: opinions


@dataclass(kw_only=True)
class Opinions(SectionResult):
    """Consumers' opinions of one launch (section ``opinions``); ``skip`` when there is no feedback."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "opinions"

    n: int = 0
    distribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    low_comments: list[str] = field(default_factory=list)  # comments of ratings 1–2
    themes: Any = None  # analysis.stats.text.Themes of the comments
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)  # benchmark launches' ratings

    def metrics(self) -> dict[str, Any]:
        ci = self.summary.get("rating_ci", [None, None]) if self.skip is None else [None, None]
        return {"rating_mean": self.summary.get("rating_mean"), "rating_ci": list(ci), "rating_responses": self.n}


def feedback_frame(con: Any, spec: LaunchSpec, max_comments: int = 20000) -> pd.DataFrame | None:
    """The product's feedback rows in the covered window (rating, repurchase_intent, comment), or None.

    Feedback is one-per-respondent and small next to orders; at most ``max_comments`` rows
    (the earliest) come back.
    """
    if not store.has_table(con, "feedback"):
        return None
    f = con.table("feedback")
    if not {"response_date", "sku_id", "rating"} <= set(f.columns):
        return None
    rd = f.response_date.cast("date")
    f = f.filter(f.sku_id.isin(list(spec.sku_ids)) & rd.between(ibis.literal(spec.launch_date), ibis.literal(spec.end)))
    cols = [c for c in ("response_date", "rating", "repurchase_intent", "comment") if c in f.columns]
    df = f.select(*cols).order_by(cols).limit(max_comments).to_pandas()
    # engines order NULLs differently: sort again here so every engine gives the same frame
    df["response_date"] = df["response_date"].map(_to_date)
    return df.sort_values(cols, na_position="last", kind="mergesort").reset_index(drop=True)


def consumer_opinions(con: Any, spec: LaunchSpec) -> Opinions:
    """Rating distribution, mean with 95 % t-interval, shares of 4–5 and 1–2, repurchase intent.

    ``skip`` is set when the store has no feedback for the product in the window.

    Examples
    --------
    >>> op = consumer_opinions(con, spec)  # doctest: +SKIP
    >>> op.summary["rating_mean"]  # doctest: +SKIP
    4.1
    """
    from .stats import proportions

    if spec.days_covered == 0:
        return Opinions(skip=Skip(Reason.NO_DATA_IN_WINDOW))
    df = feedback_frame(con, spec)
    if df is None:
        if not store.has_table(con, "feedback"):
            return Opinions(skip=Skip(Reason.MISSING_TABLE, {"table": "feedback"}))
        return Opinions(skip=Skip(Reason.MISSING_COLUMNS, {"table": "feedback",
                                                           "columns": ["response_date", "sku_id", "rating"]}))
    df = df.dropna(subset=["rating"])
    if df.empty:
        return Opinions(skip=Skip(Reason.NO_FEEDBACK))
    r = df["rating"].astype(int)
    n = len(r)
    dist = pd.DataFrame({"rating": [1, 2, 3, 4, 5]})
    dist["responses"] = [int((r == k).sum()) for k in dist["rating"]]
    dist["share"] = dist["responses"] / n
    mean, lo, hi = proportions.mean_ci(r.to_numpy(dtype=float))
    top = int((r >= 4).sum())
    bottom = int((r <= 2).sum())
    top_ci = proportions.wilson_ci(top, n)
    bottom_ci = proportions.wilson_ci(bottom, n)
    summary: dict[str, Any] = {
        "responses": n, "rating_mean": mean, "rating_ci": [lo, hi],
        "share_top": top / n, "share_top_ci": list(top_ci),
        "share_bottom": bottom / n, "share_bottom_ci": list(bottom_ci),
        "repurchase_intent": None, "repurchase_intent_ci": [None, None],
    }
    if "repurchase_intent" in df.columns:
        ri = df["repurchase_intent"].dropna().astype(bool)
        if len(ri):
            summary["repurchase_intent"] = float(ri.mean())
            summary["repurchase_intent_ci"] = list(proportions.wilson_ci(int(ri.sum()), len(ri)))
    comments: list[str] = []
    low: list[str] = []
    if "comment" in df.columns:
        has = df["comment"].notna() & (df["comment"].astype(str).str.strip() != "")
        comments = df.loc[has, "comment"].astype(str).tolist()
        low = df.loc[has & (r <= 2), "comment"].astype(str).tolist()
    return Opinions(n=n, distribution=dist, summary=summary, comments=comments, low_comments=low)


def comment_themes(op: Opinions, n_terms: int = 10, n_examples: int = 3) -> Any:
    """Themes of the comments of :func:`opinions` (see ``analysis.stats.text.themes``)."""
    from .stats import text

    return text.themes(op.comments, n_terms=n_terms, n_examples=n_examples)


# --------------------------------------------------------------------------- section 5: cannibalisation


def weekly_panel(con: Any, spec: LaunchSpec, pre_weeks: int | None = None) -> pd.DataFrame:
    """Daily-rate volume of every other SKU by launch-aligned week, before and after launch.

    The post period is the full weeks of the covered window (K = days_covered // 7 weeks of
    7 days from launch day), the pre period the K weeks just before launch (``pre_weeks``
    weeks when given, for the pre-trend check), so both cover the same weekdays (customers
    order on fixed weekdays). Week 0 = days 1–7, week −1 = the 7 days before launch.

    Columns ``sku_id``, ``price_class``, ``week``, ``post``, ``qty`` (net volume of the week),
    ``rate`` (qty per day). SKUs launched less than 4 weeks before the K pre weeks are left out
    (still ramping up), whatever ``pre_weeks``.
    """
    k = spec.days_covered // 7
    cols = ["sku_id", "price_class", "week", "post", "qty", "rate"]
    if k == 0:
        return pd.DataFrame(columns=cols)
    n_pre = k if pre_weeks is None else max(int(pre_weeks), 1)
    pre_start = spec.launch_date - dt.timedelta(days=7 * n_pre)
    post_end = spec.launch_date + dt.timedelta(days=7 * k - 1)
    t = _orders(con)
    measure = "qty" if "qty" in t.columns else "amount"
    t = _between(t, pre_start, post_end)
    t = t.filter(~t.sku_id.isin(list(spec.sku_ids)))
    g = t.group_by("sku_id", "order_date").aggregate(qty=t[measure].sum()).to_pandas()
    if g.empty:
        return pd.DataFrame(columns=cols)
    offs = g["order_date"].map(lambda d: (_to_date(d) - spec.launch_date).days).to_numpy()
    g["week"] = np.floor_divide(offs, 7)
    w = g.groupby(["sku_id", "week"], as_index=False)["qty"].sum()
    skus = sorted(w["sku_id"].unique())
    grid = pd.MultiIndex.from_product([skus, range(-n_pre, k)], names=["sku_id", "week"]).to_frame(index=False)
    w = grid.merge(w, on=["sku_id", "week"], how="left").fillna({"qty": 0.0})
    w["post"] = w["week"] >= 0
    w["rate"] = w["qty"].astype(float) / 7.0
    prods = _products(con)[["sku_id", "price_class", "launch_date"]]
    w = w.merge(prods, on="sku_id", how="left")
    settle = spec.launch_date - dt.timedelta(days=7 * k + 28)
    young = w["launch_date"].map(lambda d: d is not None and not pd.isna(d) and d >= settle)
    return w[~young.astype(bool)][cols].reset_index(drop=True)


@dataclass(kw_only=True)
class Cannibalization(SectionResult):
    """Section ``cannibalization``: the DiD of incumbents vs the control and the share of new volume."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "cannibalization"

    did: Any = None
    share: dict[str, float | None] = field(default_factory=lambda: {"estimate": None, "lo": None, "hi": None})
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_sku: pd.DataFrame = field(default_factory=pd.DataFrame)
    treated_class: str | None = None
    new_volume: float | None = None
    #: the pre-period placebo DiD (``analysis.stats.did.PretrendResult``), None when not run
    pretrend: Any = None
    #: why the placebo did not run: "too_few_pre_weeks"
    pretrend_skipped: str | None = None

    def metrics(self) -> dict[str, Any]:
        return {"cannibalization_pct": dict(self.share), "cannibalization_class": self.treated_class,
                "cannibalization_did": _did_metrics(self.did), "cannibalization_pretrend": _pretrend_metrics(self)}


def cannibalization_effect(
    con: Any,
    spec: LaunchSpec,
    compare_class: str = "",
    treated_skus: Sequence[str] | None = None,
    new_volume: float | None = None,
    by_sku: bool = True,
) -> Cannibalization:
    """Difference-in-differences of incumbent volume around the launch.

    Treated: the SKUs of ``compare_class`` (default: the new product's price class), or
    ``treated_skus``; control: the SKUs of the other price classes (never the new product's
    class, which the launch may touch). See ``analysis.stats.did.did`` (clustered WLS panel
    for the class; the aggregate Welch DiD for each single incumbent in ``by_sku``).
    ``share`` is the incumbents' estimated lost volume in the window ÷ the new product's
    window volume (positive = volume taken from incumbents), with the DiD's 95 % CI.

    Pre-trend check (``pretrend``): the same DiD on the weeks before the launch only, with a
    pretend launch K weeks before the real one (``analysis.stats.did.placebo_did``): the K
    pre weeks of the real comparison against the K weeks before them, or half of the history
    there is when it is shorter. SKUs launched less than 4 weeks before the placebo's first
    week are left out of it. ``pretrend.differs`` (p < 0.05) means the two groups were already
    drifting apart before the launch. ``by_sku`` carries each incumbent's own placebo
    (``pretrend_estimate``, ``pretrend_p``, ``pretrend_differs``). ``series`` shows both
    groups over every week used, relative to the K pre weeks of the real comparison.

    Examples
    --------
    >>> c = cannibalization_effect(con, spec)  # doctest: +SKIP
    >>> c.share["estimate"]  # doctest: +SKIP
    0.31
    """
    from .stats import did as did_mod

    cls = compare_class or spec.price_class
    if spec.days_covered < 14:
        return Cannibalization(skip=Skip(Reason.TOO_FEW_DAYS, {"needed": 14}), treated_class=cls)
    # the first pre week must hold data (orders may fall on any of its days)
    if spec.launch_date - dt.timedelta(days=7 * (spec.days_covered // 7) - 6) < spec.data_start:
        return Cannibalization(skip=Skip(Reason.NO_BASELINE), treated_class=cls)
    k = spec.days_covered // 7
    history = (spec.launch_date - spec.data_start).days // 7        # full weeks of data before launch
    panel_all = weekly_panel(con, spec, pre_weeks=max(k, min(2 * k, history)))
    if panel_all.empty or panel_all["price_class"].isna().all():
        return Cannibalization(skip=Skip(Reason.NO_PRICE_CLASS), treated_class=cls)
    if treated_skus:
        treated = panel_all["sku_id"].isin(list(treated_skus))
    else:
        treated = panel_all["price_class"] == cls
    control = ~panel_all["price_class"].isin([c for c in (cls, spec.price_class) if c]) & ~treated
    panel_all = panel_all.assign(treated=treated)[treated | control]
    # the real comparison: the K weeks before and after launch, SKUs selling in them
    in_window = panel_all["week"] >= -k
    selling = set(panel_all.loc[in_window & (panel_all["qty"] != 0), "sku_id"])
    panel_all = panel_all[panel_all["sku_id"].isin(selling)]
    panel = panel_all[panel_all["week"] >= -k]
    if panel.empty or not panel["treated"].any() or panel["treated"].all():
        return Cannibalization(skip=Skip(Reason.NO_COMPARISON), treated_class=cls)
    if new_volume is None:
        new_volume = headline_figures(con, spec)["volume"]
    try:
        res = did_mod.did(panel, unit="sku_id", time="week", outcome="rate", treated="treated", post="post")
    except InsufficientDataError as exc:
        return Cannibalization(skip=Skip(Reason.FAILED, {"error": str(exc)}), treated_class=cls)
    share = did_mod.share_of_new_volume(res, spec.days_covered, new_volume)
    # the pre-trend check on the weeks before launch
    pre = panel_all[~panel_all["post"]]
    first_week = int(pre["week"].min())
    settle = spec.launch_date + dt.timedelta(days=7 * first_week - 28)
    launched = _products(con).set_index("sku_id")["launch_date"]
    young = {u for u in pre["sku_id"].unique()
             if _to_date(launched.get(u)) is not None and _to_date(launched.get(u)) >= settle}
    pre = pre[~pre["sku_id"].isin(young)]

    def _placebo(frame: pd.DataFrame) -> Any:
        try:
            return did_mod.placebo_did(frame, unit="sku_id", time="week", outcome="rate", treated="treated",
                                       post="post", periods=k)
        except InsufficientDataError:
            return None

    pretrend = _placebo(pre) if pre["treated"].any() and not pre["treated"].all() else None
    table = pd.DataFrame()
    if by_sku:
        rows = []
        ctrl = panel[~panel["treated"]]
        ctrl_pre = pre[~pre["treated"]]
        # the headline names an incumbent as cannibalised when any of the class's incumbents
        # lost volume: one claim over m tests, so it is judged on the Bonferroni interval
        # (level 1 − 0.05/m, ``hit_ci_high``); the table shows each SKU's own 95 % interval
        m = max(int(panel.loc[panel["treated"], "sku_id"].nunique()), 1)
        for sku, g in panel[panel["treated"]].groupby("sku_id"):
            try:
                # one treated SKU: cluster-robust errors are not valid, the aggregate DiD is
                r = did_mod.aggregate_did(pd.concat([g, ctrl]), unit="sku_id", time="week", outcome="rate",
                                          treated="treated", post="post")
                fam = r if m == 1 else did_mod.aggregate_did(pd.concat([g, ctrl]), unit="sku_id", time="week",
                                                             outcome="rate", treated="treated", post="post",
                                                             alpha=HIT_ALPHA / m)
            except InsufficientDataError:
                continue
            s = did_mod.share_of_new_volume(r, spec.days_covered, new_volume)
            g_pre = pre[pre["sku_id"] == sku]
            pl = _placebo(pd.concat([g_pre, ctrl_pre])) if len(g_pre) else None
            rows.append({"sku": sku, "estimate": r.estimate, "ci_low": r.lo, "ci_high": r.hi,
                         "share": s["estimate"], "share_lo": s["lo"], "share_hi": s["hi"],
                         "pretrend_estimate": pl.estimate if pl else float("nan"),
                         "pretrend_p": pl.p if pl else float("nan"),
                         "pretrend_differs": bool(pl.differs) if pl else False,
                         # the two references (placebo order statistic, scaled t) are not nested
                         "hit_ci_high": max(fam.hi, r.hi)})
        table = pd.DataFrame(rows)
        if len(table):
            table = table.sort_values("share", ascending=False).reset_index(drop=True)
    series = did_mod.relative_series(panel_all[panel_all["sku_id"].isin(set(panel["sku_id"]))], unit="sku_id",
                                     time="week", outcome="rate", treated="treated", base=range(-k, 0))
    return Cannibalization(did=res, share=share, series=series, by_sku=table, treated_class=cls,
                           new_volume=new_volume, pretrend=pretrend,
                           pretrend_skipped=None if pretrend is not None else "too_few_pre_weeks")


# --------------------------------------------------------------------------- section 6: benchmarks


def launch_curves(con: Any, spec: LaunchSpec, daily: pd.DataFrame | None = None,
                  curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """Curves of one launch by day since launch: cum_qty, distribution and repeat by that day.

    ``distribution`` at day d = customers who ordered the product in days 1…d ÷ customers
    with any order in days 1…d; ``repeat`` = customers with ≥ 2 distinct order dates of the
    product in days 1…d ÷ customers who ordered it in days 1…d.
    """
    daily = (daily_trend(con, spec) if daily is None else daily)[["day", "qty"]]
    curves = ordering_curves(con, spec) if curves is None else curves
    allb = _purchases(_between(_orders(con), spec.launch_date, spec.end))
    first = allb.group_by("customer_id").aggregate(first=allb.order_date.min())
    f = first.group_by("first").aggregate(n=first.customer_id.count()).to_pandas()
    f["day"] = f["first"].map(lambda d: (_to_date(d) - spec.launch_date).days + 1)
    active = f.groupby("day")["n"].sum().reindex(curves["day"]).fillna(0).cumsum().to_numpy()
    out = pd.DataFrame({
        "launch": spec.label, "day": curves["day"], "cum_qty": daily["qty"].cumsum().to_numpy(),
        "ordering": curves["trial"], "active": active.astype(int),
    })
    out["distribution"] = np.where(out["active"] > 0, out["ordering"] / np.maximum(out["active"], 1), np.nan)
    out["repeat"] = np.where(out["ordering"] > 0, curves["repeat_1"] / np.maximum(out["ordering"], 1), np.nan)
    return out


@dataclass(kw_only=True)
class Benchmarks(SectionResult):
    """Section ``benchmarks``: earlier launches aligned on days since launch, this launch's ranks."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "benchmarks"

    launches: list[LaunchSpec] = field(default_factory=list)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    at_days: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranks: dict[str, int | None] = field(default_factory=dict)
    rank: int | None = None
    count: int = 0
    day: int | None = None
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)
    this: str = ""  # the reviewed launch's label in ``curves``
    names: dict[str, str] = field(default_factory=dict)  # launch label -> product name

    def metrics(self) -> dict[str, Any]:
        return {"benchmark_rank": self.rank, "benchmark_ranks": dict(self.ranks), "benchmark_count": self.count,
                "benchmark_skus": [b.label for b in self.launches]}


def benchmark_comparison(con: Any, spec: LaunchSpec, which: str | Sequence[str] = "auto", daily: pd.DataFrame | None = None,
               curves: pd.DataFrame | None = None, opinions_: Opinions | None = None) -> Benchmarks:
    """Earlier launches aligned on days since launch, and this launch's rank among them.

    Values at days 7, 14 and 30 (and at the covered day when shorter) of cumulative volume,
    distribution and repeat; ``rank`` is this launch's rank on distribution at the last day
    it covers (1 = best of the benchmarks and itself); ``ranks`` per measure (also rating
    when feedback exists).

    Examples
    --------
    >>> b = benchmark_comparison(con, spec)  # doctest: +SKIP
    >>> b.rank, b.count  # doctest: +SKIP
    (1, 4)
    """
    if spec.days_covered == 0:
        return Benchmarks(skip=Skip(Reason.NO_DATA_IN_WINDOW))
    others = earlier_launches(con, spec, which)
    if not others:
        return Benchmarks(skip=Skip(Reason.NO_BENCHMARK))
    curves = pd.concat([launch_curves(con, spec, daily, curves)] + [launch_curves(con, s) for s in others],
                       ignore_index=True)
    day = spec.days_covered
    days = sorted({d for d in BENCHMARK_DAYS if d <= day} | {day})
    at = curves[curves["day"].isin(days)][["launch", "day", "cum_qty", "distribution", "repeat"]].reset_index(drop=True)
    last = curves[curves["day"] == day].set_index("launch")
    ranks: dict[str, int | None] = {}
    for m in ("cum_qty", "distribution", "repeat"):
        col = last[m]
        ranks[m] = None if pd.isna(col.get(spec.label)) else int((col > col[spec.label]).sum() + 1)
    rat = pd.DataFrame()
    rows = []
    for s in [spec, *others]:
        op = opinions_ if (s is spec and opinions_ is not None) else consumer_opinions(con, s)
        if op.skip is None:
            rows.append({"launch": s.label, "responses": op.n, "rating_mean": op.summary["rating_mean"],
                         "ci_low": op.summary["rating_ci"][0], "ci_high": op.summary["rating_ci"][1]})
    if rows:
        rat = pd.DataFrame(rows)
        if spec.label in set(rat["launch"]):
            mine = float(rat.loc[rat["launch"] == spec.label, "rating_mean"].iloc[0])
            ranks["rating"] = int((rat["rating_mean"] > mine).sum() + 1)
    names = {s.label: s.shown_name for s in [*others, spec]}
    return Benchmarks(launches=others, curves=curves, at_days=at, ranks=ranks, rank=ranks.get("distribution"),
                      count=len(others), day=day, ratings=rat, this=spec.label, names=names)


# --------------------------------------------------------------------------- the whole review

HIT_ALPHA = 0.05  # family-wise level of "an incumbent lost volume" over the class's incumbents
SEGMENT_GAP = 0.10  # a segment this far (10 points) below the best one is called out in the headline


@dataclass
class LaunchScope(ScopeBase):
    """Everything the sections show, computed once by :func:`prepare` (numbers and codes only)."""

    spec: LaunchSpec
    headline: dict[str, Any]
    daily: pd.DataFrame
    weekly: pd.DataFrame
    curves: pd.DataFrame
    depth: pd.DataFrame
    sell_through: dict[str, Any]
    segments: dict[str, pd.DataFrame]
    opinions: Opinions
    cannibalization: Cannibalization
    benchmarks: Benchmarks
    parts: dict[str, Skip] = field(default_factory=dict)  # ScopeBase: "retailers", "segments"
    min_group_size: int = 5
    coverage: dict[str, float] = field(default_factory=dict)  # segment dimension -> share of the window's amount
    segment_notes: list = field(default_factory=list)  # unattributed notes of the segment dimensions
    tables: dict[str, list[str]] = field(default_factory=dict)  # the store's tables with rows (ScopeBase)
    names: dict[str, str] = field(default_factory=dict)  # sku_id -> product name (brand + specification)

    @property
    def themes(self) -> Any:
        return self.opinions.themes


def prepare(con: Any, params: Any) -> LaunchScope:
    """Compute every section of the review for validated ``LaunchReviewParams``.

    Examples
    --------
    >>> scope = prepare(ctx.con, ctx.params)  # doctest: +SKIP
    >>> headline(scope).ordering_customers  # doctest: +SKIP
    324
    """
    token = _LINES.set({})
    try:
        return _prepare(con, params)
    finally:
        _LINES.reset(token)


def _prepare(con: Any, params: Any) -> LaunchScope:
    spec = resolve_launch(con, params.sku, params.brand, params.launch_date, params.window_days)
    head = headline_figures(con, spec)
    daily = daily_trend(con, spec)
    weekly = weekly_totals(daily) if len(daily) else pd.DataFrame()
    op = consumer_opinions(con, spec)
    if op.skip is None:
        op.themes = comment_themes(op)
    can = cannibalization_effect(con, spec, params.compare_class, new_volume=head["volume"])
    names = product_names(_products(con))
    if not can.by_sku.empty and "product" not in can.by_sku:
        # names first: each incumbent by its product name, its code beside it
        can.by_sku.insert(0, "product", can.by_sku["sku"].astype(str).map(lambda k: names.get(k, k)))
    if "customer_id" not in _orders(con).columns:
        # orders without customers: volume, trend, opinions and cannibalisation only
        no_customers = Skip(Reason.MISSING_COLUMN, {"table": "orders", "column": "customer_id"})
        return LaunchScope(
            spec=spec, headline=head, daily=daily, weekly=weekly, curves=pd.DataFrame(), depth=pd.DataFrame(),
            sell_through={"rate": None}, segments={}, opinions=op,
            cannibalization=can, benchmarks=Benchmarks(skip=no_customers),
            parts={"retailers": no_customers, "segments": no_customers},
            min_group_size=params.min_group_size, tables=store_tables(con, TABLES), names=names,
        )
    segs: dict[str, pd.DataFrame] = {}
    seg_skip = None
    seg_coverage: dict[str, float] = {}
    seg_notes: list = []
    if spec.days_covered == 0:
        seg_skip = Skip(Reason.NO_DATA_IN_WINDOW)
    else:
        from . import model

        src = _sources(con)
        dims = [d for d in SEGMENT_DIMENSIONS if src.available(d)]
        covs = model.coverage(_orders(con), dims, start=spec.launch_date,
                              end=spec.end + dt.timedelta(days=1), src=src) if dims else {}
        for by in dims:
            cov = covs[by]
            seg_coverage[by] = cov.share
            if (sk := model.coverage_skip(cov)) is not None:
                seg_skip = seg_skip or sk
                continue
            if (note := model.coverage_note(cov)) is not None:
                seg_notes.append(note)
            segs[by] = segment_rates(con, spec, by, params.min_group_size)
        if segs:
            seg_skip = None
        elif seg_skip is None:
            seg_skip = Skip(Reason.MISSING_TABLE, {"table": "customers"}) if "customers" not in src.masters else \
                Skip(Reason.MISSING_COLUMNS, {"table": "customers", "columns": list(SEGMENT_DIMENSIONS)})
    curves = ordering_curves(con, spec)
    bm = benchmark_comparison(con, spec, params.benchmarks, daily=daily, curves=curves, opinions_=op)
    st = head.get("sell_through") or sell_through(con, spec)
    return LaunchScope(
        spec=spec, headline=head, daily=daily, weekly=weekly, curves=curves,
        depth=repeat_depth(con, spec) if spec.days_covered else pd.DataFrame(),
        sell_through=st, segments=segs, opinions=op, cannibalization=can, benchmarks=bm,
        parts={k: v for k, v in (("retailers", Skip(Reason.NO_DATA_IN_WINDOW) if spec.days_covered == 0 else None),
                                 ("segments", seg_skip)) if v is not None},
        min_group_size=params.min_group_size, coverage=seg_coverage, segment_notes=seg_notes,
        tables=store_tables(con, TABLES), names=names,
    )


# ------------------------------------------------------------------ facts for the written judgement


def benchmark_medians(scope: LaunchScope) -> dict[str, float | None]:
    """Median of the benchmark launches at this launch's last covered day (cum_qty, distribution, repeat, rating)."""
    b = scope.benchmarks
    out: dict[str, float | None] = {"cum_qty": None, "distribution": None, "repeat": None, "rating": None}
    if b.skip is not None or b.curves.empty:
        return out
    last = b.curves[(b.curves["day"] == b.day) & (b.curves["launch"] != scope.spec.label)]
    for m in ("cum_qty", "distribution", "repeat"):
        v = last[m].dropna()
        out[m] = float(v.median()) if len(v) else None
    if not b.ratings.empty:
        r = b.ratings[b.ratings["launch"] != scope.spec.label]["rating_mean"].dropna()
        out["rating"] = float(r.median()) if len(r) else None
    return out


def segment_gap(scope: LaunchScope) -> dict[str, Any] | None:
    """The largest distribution gap between two groups of one dimension, if ≥ 10 points:
    {dimension, low_group, low_rate, high_group, high_rate} (the merged group "other" left out)."""
    best = None
    for dim in SEGMENT_DIMENSIONS:
        tab = scope.segments.get(dim)
        if tab is None or tab.empty:
            continue
        shown = tab.dropna(subset=["distribution_rate"])
        shown = shown[shown["group"] != "other"]
        if len(shown) < 2:
            continue
        lo = shown.loc[shown["distribution_rate"].idxmin()]
        hi = shown.loc[shown["distribution_rate"].idxmax()]
        gap = hi["distribution_rate"] - lo["distribution_rate"]
        if gap * 100 >= SEGMENT_GAP * 100 and (best is None or gap > best[0]):
            best = (gap, {"dimension": dim, "low_group": str(lo["group"]), "low_rate": float(lo["distribution_rate"]),
                          "high_group": str(hi["group"]), "high_rate": float(hi["distribution_rate"])})
    return None if best is None else best[1]


def hit_incumbents(scope: LaunchScope) -> pd.DataFrame:
    """Incumbent SKUs that lost volume after the launch: their DiD interval at the family's level
    (Bonferroni over the class's m incumbents, 1 − 0.05/m: ``by_sku["hit_ci_high"]``) lies below 0,
    so the chance that a launch taking nothing from its class gets any incumbent named is ≤ 5 %."""
    c = scope.cannibalization
    if c.skip is not None or c.by_sku.empty:
        return pd.DataFrame(columns=["sku", "estimate", "ci_low", "ci_high", "share", "share_lo", "share_hi"])
    bound = c.by_sku["hit_ci_high"] if "hit_ci_high" in c.by_sku else c.by_sku["ci_high"]
    return c.by_sku[bound < 0].sort_values("share", ascending=False).reset_index(drop=True)


def pretrend_differs(c: Cannibalization) -> bool:
    """True when the pre-launch placebo DiD of the class says treated and control trends differ."""
    pt = c.pretrend
    return bool(c.skip is None and pt is not None and pt.differs)


def top_complaint(op: Opinions) -> str | None:
    """The theme most mentioned in ratings of 1–2 (None when fewer than 3 such comments)."""
    from .stats import text

    if len(op.low_comments) < 3:
        return None
    sh = text.theme_shares(op.low_comments)
    sh = sh[sh["comments"] > 0]
    return None if sh.empty else str(sh["theme"].iloc[0])


# --------------------------------------------------------------------------- the sections

THEME_CODES = {"口感": "taste", "香气": "aroma", "劲头": "strength", "包装": "packaging", "价格": "price", "烟灰": "ash"}


def _table_of(table_code: str, frame: pd.DataFrame, /, *, title: str | None = None, codes: dict[str, str] | None = None,
              **kinds: str) -> Table:
    """A Table whose headers are this report's labels (``launch_review.column.<name>``)."""
    labels = {n: f"{REPORT}.column.{n}" for n in kinds}
    return Table.of(table_code, frame, title=title, labels=labels, codes=codes, **kinds)


def _spec_fields(spec: LaunchSpec) -> dict[str, Any]:
    # subject: what the review is of, by name (the page's title and the index entry read it)
    return {"subject": spec.shown_name, "sku": spec.label, "sku_ids": list(spec.sku_ids), "brand": spec.brand, "price_class": spec.price_class,
            "launch_date": spec.launch_date.isoformat(), "period": spec.period,
            "window": {"start": spec.launch_date.isoformat(), "end": spec.window_end.isoformat()},
            "data_window": {"start": spec.data_start.isoformat(), "end": spec.data_end.isoformat()},
            "days_covered": spec.days_covered, "partial": spec.partial}


HEADLINE_KEYS = ("volume", "amount", "ordering_customers", "active_customers", "distribution_rate",
                 "weighted_distribution_rate", "repeat_rate", "sell_through_rate", "target_qty", "target_amount")


@dataclass(kw_only=True)
class Headline(SectionResult):
    """Section ``headline``: the launch, its window figures and the facts of the written judgement."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "headline"

    spec: LaunchSpec
    values: dict[str, Any] = field(default_factory=dict)
    medians: dict[str, float | None] = field(default_factory=dict)
    benchmark_count: int = 0
    opinions: Opinions | None = None
    complaint: str | None = None  # a THEME_CODES code
    gap: dict[str, Any] | None = None
    hits: pd.DataFrame = field(default_factory=pd.DataFrame)
    cannibalization: Cannibalization | None = None

    def metrics(self) -> dict[str, Any]:
        return {**_spec_fields(self.spec), **{k: self.values.get(k) for k in HEADLINE_KEYS}}


def headline(scope: LaunchScope) -> Headline:
    """Section ``headline``: volume, ordering customers, distribution, repeat, sell-through, plan, and the
    facts the written judgement compares (benchmark medians, ratings, segment gap, hit incumbents)."""
    s = scope.spec
    res = Headline(spec=s, values=dict(scope.headline))
    if s.days_covered == 0:
        return res.skipped(Reason.NO_DATA_IN_WINDOW)
    if s.partial:
        res.note("partial", days_covered=s.days_covered, window_days=s.window_days)
    res.medians = benchmark_medians(scope)
    res.benchmark_count = scope.benchmarks.count
    res.opinions = scope.opinions
    theme = top_complaint(scope.opinions) if scope.opinions.skip is None else None
    res.complaint = THEME_CODES.get(theme, theme) if theme else None
    res.gap = segment_gap(scope)
    res.hits = hit_incumbents(scope)
    res.cannibalization = scope.cannibalization
    return res


@dataclass(kw_only=True)
class SalesTrend(SectionResult):
    """Section ``sales_trend``: daily and cumulative volume, weekly totals, customers per day."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "sales_trend"

    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)


def sales_trend(scope: LaunchScope) -> SalesTrend:
    """Section ``sales_trend``."""
    res = SalesTrend()
    if scope.spec.days_covered == 0:
        return res.skipped(Reason.NO_DATA_IN_WINDOW)
    w = scope.weekly[["week", "days", "qty", "amount", "customer_days"]].rename(columns={"qty": "volume"})
    res.weekly = w
    kind = scope.spec.qty_kind
    res.tables.append(_table_of("weekly", w, week="int", days="int", volume=kind, amount="money",
                                customer_days="count"))
    if scope.spec.unit == "mixed":
        res.note("mixed_units")
    # the two daily charts pair: side by side on a wide screen, one under the other on a phone
    res.figures += [Figure("launch.sales_trend", {"daily": scope.daily, "qty_kind": kind}, pair=True),
                    Figure("launch.customers_per_day", {"daily": scope.daily, "qty_kind": kind})]
    return res


@dataclass(kw_only=True)
class Retailers(SectionResult):
    """Section ``retailers``: trial and repeat curves, depth of repeat, sell-through."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "retailers"

    sell_through: dict[str, Any] = field(default_factory=dict)


def retailers(scope: LaunchScope) -> Retailers:
    """Section ``retailers``."""
    res = Retailers(sell_through=dict(scope.sell_through))
    if scope.part_skip("retailers") is not None:
        res.skip = scope.part_skip("retailers")
        return res
    res.figures.append(Figure("launch.ordering_curves", {"curves": scope.curves}))
    if not scope.depth.empty:
        res.tables.append(_table_of("depth", scope.depth, orders="int", customers="count", share="rate"))
    return res


@dataclass(kw_only=True)
class RetailerSegments(SectionResult):
    """Section ``retailer_segments``: distribution and repeat rates with 95 % Wilson intervals by segment."""

    report: ClassVar[str] = REPORT
    default_code: ClassVar[str] = "retailer_segments"

    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        return {"coverage": {k: round(float(v), 6) for k, v in sorted(self.coverage.items())}}


SEGMENT_COLUMNS = ("active", "ordering", "distribution_rate", "distribution_lo", "distribution_hi", "repeat",
                   "repeat_rate", "repeat_lo", "repeat_hi")


def retailer_segments(scope: LaunchScope) -> RetailerSegments:
    """Section ``retailer_segments``: one table per customers column (area_type, size_class, region)."""
    res = RetailerSegments(segments=dict(scope.segments), coverage=dict(scope.coverage))
    res.notes.extend(scope.segment_notes)
    skip = scope.part_skip("retailers") or scope.part_skip("segments")
    if skip is not None:
        res.skip = skip
        return res
    res.note("small_groups", min_group_size=scope.min_group_size)
    for dim, tab in scope.segments.items():
        df = tab[["group", *SEGMENT_COLUMNS]].rename(columns={"group": dim})
        kinds = {dim: "name", "active": "count", "ordering": "count"}
        kinds.update({c: "rate" for c in SEGMENT_COLUMNS if c.endswith(("_rate", "_lo", "_hi"))})
        kinds = {c: kinds.get(c, "count") for c in df.columns}
        res.tables.append(_table_of(f"by_{dim}", df, title=f"{REPORT}.table.by_{dim}",
                                    codes={dim: f"{REPORT}.group"}, **kinds))
    return res


def opinions(scope: LaunchScope) -> Opinions:
    """Section ``opinions``: rating distribution, mean with CI, shares, intent, comment themes, and the
    benchmark launches' ratings."""
    import dataclasses

    op = scope.opinions
    res = dataclasses.replace(op, notes=[], tables=[], figures=[], ratings=scope.benchmarks.ratings)
    if res.skip is not None:
        return res
    sm = res.summary
    shares = pd.DataFrame({
        "measure": ["share_top", "share_bottom", "repurchase_intent"],
        "value": [sm["share_top"], sm["share_bottom"], sm["repurchase_intent"]],
        "ci_low": [sm["share_top_ci"][0], sm["share_bottom_ci"][0], sm["repurchase_intent_ci"][0]],
        "ci_high": [sm["share_top_ci"][1], sm["share_bottom_ci"][1], sm["repurchase_intent_ci"][1]],
    })
    res.tables.append(_table_of("shares", shares, title=f"{REPORT}.table.shares", codes={"measure": f"{REPORT}.column"},
                                measure="code", value="rate", ci_low="rate", ci_high="rate"))
    th = res.themes
    if th is not None and th.n_comments:
        themes = th.themes.assign(theme=th.themes["theme"].map(lambda x: THEME_CODES.get(x, x)))
        res.tables.append(_table_of("themes", themes, title=f"{REPORT}.table.themes", codes={"theme": f"{REPORT}.theme"},
                                    theme="name", comments="count", share="rate"))
        res.tables.append(_table_of("terms", th.terms, title=f"{REPORT}.table.terms", term="text", comments="count",
                                    share="rate"))
        if not th.examples.empty:
            res.tables.append(_table_of("examples", th.examples, title=f"{REPORT}.table.examples",
                                        term="text", comment="text"))
    else:
        res.note("no_comments")
    br = scope.benchmarks.ratings
    if not br.empty and len(br) > 1:
        br = br.copy()
        br.insert(0, "product", br["launch"].map(lambda k: scope.benchmarks.names.get(k, k)))
        br = br.rename(columns={"launch": "sku_code"})
        res.tables.append(_table_of("benchmark_ratings", br, title=f"{REPORT}.table.benchmark_ratings",
                                    product="text", sku_code="text", responses="count", rating_mean="f2", ci_low="f2", ci_high="f2"))
    res.figures.append(Figure("launch.rating_distribution", {"dist": res.distribution}))
    return res


def cannibalization(scope: LaunchScope) -> Cannibalization:
    """Section ``cannibalization``: DiD of same-class incumbents vs other classes, share of new volume, the
    pre-launch placebo check, by incumbent."""
    import dataclasses

    c = scope.cannibalization
    res = dataclasses.replace(c, notes=[], tables=[], figures=[])
    if res.skip is not None:
        return res
    split = res.pretrend.split if res.pretrend is not None else None
    res.figures.append(Figure("launch.cannibalization", {"series": res.series, "placebo_split": split}))
    if not res.by_sku.empty:
        tab = res.by_sku.drop(columns=["hit_ci_high"], errors="ignore").rename(columns={"share": "share_of_new"})
        if "product" not in tab:
            tab.insert(0, "product", tab["sku"].astype(str).map(lambda k: scope.names.get(k, k)))
        tab = tab.rename(columns={"sku": "sku_code"})
        res.tables.append(_table_of("by_sku", tab, title=f"{REPORT}.table.by_sku", product="text", sku_code="text",
                                    estimate="rate",
                                    ci_low="rate", ci_high="rate", share_of_new="rate", share_lo="rate",
                                    share_hi="rate", pretrend_estimate="rate", pretrend_p="f3"))
        res.note("by_sku")
    return res


def benchmarks(scope: LaunchScope) -> Benchmarks:
    """Section ``benchmarks``: earlier launches at days 7, 14, 30 (and the covered day), this launch's ranks."""
    import dataclasses

    b = scope.benchmarks
    res = dataclasses.replace(b, notes=[], tables=[], figures=[])
    if res.skip is not None:
        return res
    units = {scope.spec.unit, *(b.unit for b in res.launches)}
    kind = QTY_KINDS[units.pop() if len(units) == 1 else "mixed"]  # launches in several units: no one unit
    res.tables.append(_table_of("at_days", benchmark_table(res), title=f"{REPORT}.table.at_days", product="text",
                                sku_code="text", day="int", cum_qty=kind, distribution_rate="rate", repeat_rate="rate"))
    res.figures.append(Figure("launch.benchmark_curves", {"curves": res.curves, "this": res.this,
                                                          "names": dict(res.names), "qty_kind": kind}))
    return res


def benchmark_table(b: Benchmarks) -> pd.DataFrame:
    """One row per launch and day (7, 14, 30 and the covered day): cum_qty, distribution_rate, repeat_rate;
    the reviewed launch first, then the benchmarks by launch date."""
    at = b.at_days.rename(columns={"distribution": "distribution_rate", "repeat": "repeat_rate"})
    order = {name: i for i, name in enumerate(dict.fromkeys(at["launch"]))}
    at = at.assign(_o=at["launch"].map(order)).sort_values(["_o", "day"], kind="mergesort").drop(columns="_o")
    # names first, the code (the launch's label) beside it
    at.insert(0, "product", at["launch"].map(lambda k: b.names.get(k, k)))
    return at.rename(columns={"launch": "sku_code"}).reset_index(drop=True)


SECTIONS = (headline, sales_trend, retailers, retailer_segments, opinions, cannibalization, benchmarks)


def sections(scope: LaunchScope) -> list[SectionResult]:
    """Every section of the review, in the report's order."""
    return [f(scope) for f in SECTIONS]


def metrics(scope: LaunchScope) -> dict[str, Any]:
    """The language-free metrics of the whole review (what the notebook's ``ctx.present.metrics()`` gives).

    Examples
    --------
    >>> sorted(metrics(scope))[:3]  # doctest: +SKIP
    ['active_customers', 'amount', 'benchmark_count']
    """
    return section_metrics(sections(scope))


def _num(v: Any) -> float | None:
    """A finite float, else None (metrics.json never carries NaN as if it were a figure)."""
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None


def _did_metrics(d: Any) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"method": d.method, "estimate": _num(d.estimate), "lo": _num(d.lo), "hi": _num(d.hi), "p": _num(d.p),
            "weeks_before": d.n_pre, "weeks_after": d.n_post, "treated_skus": d.n_treated,
            "control_skus": d.n_control}


def _pretrend_metrics(c: Cannibalization) -> dict[str, Any] | None:
    """The placebo DiD of the pre-launch weeks: {"p", "estimate", "lo", "hi", "differs", ...}."""
    if c.did is None:
        return None
    pt = c.pretrend
    if pt is None:
        return {"method": None, "p": None, "estimate": None, "lo": None, "hi": None, "differs": None,
                "weeks_before": None, "weeks_after": None, "skipped": c.pretrend_skipped}
    hits = c.by_sku if not c.by_sku.empty and "pretrend_differs" in c.by_sku else None
    return {"method": pt.method, "p": _num(pt.p), "estimate": _num(pt.estimate), "lo": _num(pt.lo),
            "hi": _num(pt.hi), "differs": bool(pt.differs), "weeks_before": pt.n_pre, "weeks_after": pt.n_post,
            "skipped": None,
            "skus_differing": [] if hits is None else sorted(hits.loc[hits["pretrend_differs"], "sku"].astype(str))}

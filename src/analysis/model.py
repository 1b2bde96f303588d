"""The analysed sales lines: order lines with every dimension resolved from the master data.

Every report, ``check``, the batch's ``for_each`` and the index read order lines through
:func:`sales_lines`; none reads ``con.table("orders")`` itself (``tests/test_model.py`` checks
the source). Order exports are usually slim (order, date, customer, SKU, quantity, amount):
the region and the serving account manager live in the customers export, brand and price
class in the products export. One rule resolves each dimension of a line, in this order:

1. a value written on the line (the state at the time of sale) wins;
2. else the master row valid at the sale date (``<master>_history``: ``valid_from`` ≤ date
   < ``valid_to``);
3. else the current master row (``customers``, ``products``);
4. else the line is *unattributed* for that dimension (NULL here; reports show it as one row
   labelled from the catalogues, with a note, and skip a section whose dimension resolves for
   less than :data:`MIN_COVERAGE` of the amount).

``book="current"`` (the target plan's view: who serves each customer now) swaps the order:
the current master row first, then the history at the sale date, then the line.

Everything is an Ibis expression built in the engine; nothing here loads order lines into
pandas. Masters with a key twice, and history rows whose validity overlaps, are reduced to one
row per key and day before the join, so a join never multiplies a line.

Examples
--------
>>> import ibis
>>> con = ibis.duckdb.connect()
>>> _ = con.create_table("orders", ibis.memtable({
...     "order_date": ["2026-10-01", "2026-10-02", "2026-10-03"], "customer_id": ["C1", "C2", "C9"],
...     "sku_id": ["S1", "S1", "S1"], "region": ["南县", None, None], "amount": [100.0, 50.0, 25.0]}))
>>> _ = con.create_table("customers", ibis.memtable({"customer_id": ["C1", "C2"], "region": ["北县", "北县"]}))
>>> lines = sales_lines(con)
>>> lines.order_by("order_date").region.to_pyarrow().to_pylist()
['南县', '北县', None]
>>> round(coverage(lines, ["region"])["region"].share, 4)
0.8571
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import ibis

from . import store
from .contracts import HISTORY_SUFFIX
from .errors import MissingColumnError, MissingTableError, ParameterError

#: A section whose grouping dimension resolves for less than this share of the amount is skipped.
MIN_COVERAGE = 0.95
#: The key a report groups unattributed lines under; its label is ``column.unattributed``.
UNATTRIBUTED = "unattributed"
#: How many unresolved codes a note or ``check`` names.
SAMPLE_SIZE = 5

BOOKS = ("sale", "current")
MASTER_SUFFIX = "__master"


@dataclass(frozen=True)
class Dimension:
    """A dimension of a sales line and where it comes from.

    Attributes
    ----------
    name : str
        The column of the analysed lines.
    master : str
        The master table that holds it (``customers`` or ``products``).
    key : str
        The line's column that references the master (``customer_id`` or ``sku_id``).
    dtype : str
        Ibis type of the resolved column.
    on_line : bool
        Whether an order line may carry it itself (the orders contract has the column).
    """

    name: str
    master: str
    key: str
    dtype: str = "string"
    on_line: bool = True


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("region", "customers", "customer_id"),
    Dimension("rep_id", "customers", "customer_id"),
    Dimension("channel", "customers", "customer_id"),
    Dimension("area_type", "customers", "customer_id", on_line=False),
    Dimension("size_class", "customers", "customer_id", on_line=False),
    Dimension("grade", "customers", "customer_id", dtype="int64", on_line=False),
    Dimension("brand", "products", "sku_id"),
    Dimension("price_class", "products", "sku_id"),
    Dimension("launch_date", "products", "sku_id", dtype="date", on_line=False),
)}

_IDS = ("order_id", "customer_id", "sku_id")
_DAY_MIN = dt.date(1, 1, 1)
_DAY_MAX = dt.date(9999, 12, 31)
_MEASURES = ("amount", "qty")


def _cols(con: Any, table: str) -> list[str]:
    """Columns of ``table`` when it exists and has rows, else []."""
    return store.columns(con, table) if store.has_rows(con, table) else []


def _one_row_per_key(t: Any, key: str) -> Any:
    """One row per key of a current master (the first by all columns when a key repeats)."""
    w = ibis.window(group_by=t._k, order_by=[t[c] for c in t.columns if c != "_k"])
    return t.mutate(_rn=ibis.row_number().over(w)).filter(lambda x: x._rn == 0).drop("_rn")


def _non_overlapping(h: Any) -> Any:
    """History rows of one key cut so that they never overlap: a version ends where the next
    (by ``valid_from``) begins; two versions from the same day keep the later listed."""
    w_dup = ibis.window(group_by=[h._k, h._from], order_by=[h._to.desc()])
    h = h.mutate(_rn=ibis.row_number().over(w_dup)).filter(lambda x: x._rn == 0).drop("_rn")
    since = h._from.fill_null(ibis.literal(dt.date(1, 1, 1)))  # NULL (since always) first, on every engine
    w = ibis.window(group_by=h._k, order_by=since)
    nxt = h._from.lead().over(w)
    to = ibis.cases((h._to.isnull(), nxt), (nxt.isnull(), h._to), else_=ibis.least(h._to, nxt))
    return h.mutate(_to=to)


@dataclass(frozen=True)
class Sources:
    """What the store offers to resolve the dimensions (which tables and columns exist)."""

    orders: tuple[str, ...]
    masters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    histories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    line_gaps: dict[str, int] = field(default_factory=dict)  # dimension -> order lines without it

    def by_current_book(self, dim: str) -> bool:
        """Whether some lines take ``dim`` from today's master because neither the line nor a
        master history says what it was at the sale date (the reports say so in a note)."""
        d = DIMENSIONS[dim]
        if d.master in self.histories and dim in self.histories[d.master]:
            return False
        if dim not in self.masters.get(d.master, ()) or d.key not in self.orders:
            return False
        return not (d.on_line and dim in self.orders) or self.line_gaps.get(dim, 0) > 0

    def available(self, dim: str) -> bool:
        """Whether any source of ``dim`` exists (a line column, a master or history column)."""
        d = DIMENSIONS[dim]
        if d.on_line and dim in self.orders:
            return True
        if d.key not in self.orders:
            return False
        return dim in self.masters.get(d.master, ()) or dim in self.histories.get(d.master, ())

    def missing(self, dim: str) -> dict[str, str] | None:
        """What is missing to resolve ``dim`` from master data: ``{"table": …}`` when the master
        table is absent, ``{"table": …, "column": …}`` when it lacks the column, ``{"table":
        "orders", "column": key}`` when the lines carry no key; None when a master source exists."""
        d = DIMENSIONS[dim]
        if d.key not in self.orders:
            return {"table": "orders", "column": d.key}
        if d.master not in self.masters and d.master not in self.histories:
            return {"table": d.master}
        if dim not in self.masters.get(d.master, ()) and dim not in self.histories.get(d.master, ()):
            return {"table": d.master, "column": dim}
        return None


def informative_history(con: Any, master: str) -> bool:
    """Whether ``<master>_history`` says anything of the past: it has rows with ``valid_from`` and
    ``valid_to`` and at least one of them bounded. A history of open versions only (what a first
    master load writes from today's export) is today's book, not the state at each sale date."""
    name = master + HISTORY_SUFFIX
    if not {"valid_from", "valid_to"} <= set(_cols(con, name)):
        return False
    t = con.table(name)
    return bool(int(t.filter(t.valid_from.notnull() | t.valid_to.notnull()).count().execute()))


def sources(con: Any) -> Sources:
    """The tables and columns :func:`sales_lines` can use in this store."""
    if not store.has_table(con, "orders"):
        raise MissingTableError("orders", "sales lines")
    orders = tuple(store.columns(con, "orders"))
    masters, histories = {}, {}
    for m in {d.master for d in DIMENSIONS.values()}:
        if c := _cols(con, m):
            masters[m] = tuple(c)
        if (h := _cols(con, m + HISTORY_SUFFIX)) and informative_history(con, m):
            histories[m] = tuple(h)
    on_line = [d for d in DIMENSIONS.values() if d.on_line and d.name in orders]
    gaps: dict[str, int] = {}
    if on_line:
        o = con.table("orders")
        row = o.aggregate(**{d.name: o[d.name].isnull().ifelse(1, 0).sum() for d in on_line}).to_pandas().iloc[0]
        gaps = {d.name: int(row[d.name]) if row[d.name] == row[d.name] and row[d.name] is not None else 0
                for d in on_line}
    return Sources(orders, masters, histories, gaps)


def sales_lines(con: Any, *, book: str = "sale", src: Sources | None = None, keep_master: bool = False) -> Any:
    """The order lines with every dimension resolved (an Ibis table, nothing executed).

    Parameters
    ----------
    con : ibis backend
        From :func:`analysis.store.connect`.
    book : {"sale", "current"}
        ``"sale"``: the line's own value, else the master valid at the sale date, else the
        current master (the state at the time of sale). ``"current"``: the current master
        first (today's customer book), then the history at the sale date, then the line.
    src : Sources, optional
        What the store offers (from :func:`sources`); looked up when omitted.
    keep_master : bool
        Also keep ``<dimension>__master``: the master's value at the sale date (history, else
        current), for :func:`conflicts`.

    Returns
    -------
    ibis Table
        Every column of ``orders`` with ``order_date`` as a date, ``amount``/``qty`` as float,
        ids as strings, and every dimension of :data:`DIMENSIONS` that has a source (NULL where
        unattributed).

    Raises
    ------
    MissingTableError
        The store has no orders.
    MissingColumnError
        The orders have no ``order_date``.
    """
    if book not in BOOKS:
        raise ParameterError(f"The 'book' parameter of sales_lines must be one of {', '.join(BOOKS)}. "
                             f"Got {book!r} instead.")
    src = src or sources(con)
    o = con.table("orders")
    if "order_date" not in src.orders:
        raise MissingColumnError("orders", "order_date", list(src.orders))
    casts: dict[str, Any] = {"order_date": o.order_date.cast("date")}
    casts.update({m: o[m].cast("float64") for m in _MEASURES if m in src.orders})
    casts.update({c: o[c].cast("string") for c in _IDS if c in src.orders})
    line_dims = [d for d in DIMENSIONS.values() if d.name in src.orders]
    casts.update({d.name: o[d.name].cast(d.dtype) for d in line_dims})
    o = o.mutate(**casts)
    resolved: dict[str, Any] = {}
    for master in ("customers", "products"):
        dims = [d for d in DIMENSIONS.values() if d.master == master]
        key = dims[0].key
        if key not in src.orders:
            continue
        cur_cols = [d for d in dims if d.name in src.masters.get(master, ())]
        his_cols = [d for d in dims if d.name in src.histories.get(master, ())]
        if cur_cols:
            m = con.table(master)
            m = m.select(_k=m[key].cast("string"), **{f"_c_{d.name}": m[d.name].cast(d.dtype) for d in cur_cols})
            m = _one_row_per_key(m, key)
            o = o.left_join(m, o[key] == m._k).drop("_k")
        if his_cols:
            h = con.table(master + HISTORY_SUFFIX)
            h = h.select(_k=h[key].cast("string"), _from=h.valid_from.cast("date"), _to=h.valid_to.cast("date"),
                         **{f"_h_{d.name}": h[d.name].cast(d.dtype) for d in his_cols})
            h = _non_overlapping(h)
            # open bounds as sentinel days: plain comparisons keep the join a hash join on the key
            # (an OR in the condition makes DuckDB compare every line with every version)
            h = h.mutate(_from=h._from.fill_null(_DAY_MIN), _to=h._to.fill_null(_DAY_MAX))
            day = o.order_date
            o = o.left_join(h, [o[key] == h._k, h._from <= day, day < h._to]).drop("_k", "_from", "_to")
        for d in dims:
            line = o[d.name] if d.name in src.orders and d.on_line else None
            hist = o[f"_h_{d.name}"] if d in his_cols else None
            cur = o[f"_c_{d.name}"] if d in cur_cols else None
            order = (line, hist, cur) if book == "sale" else (cur, hist, line)
            parts = [p for p in order if p is not None]
            if parts:
                resolved[d.name] = ibis.coalesce(*parts) if len(parts) > 1 else parts[0]
            masters = [p for p in (hist, cur) if p is not None]
            if keep_master and masters and line is not None:
                resolved[d.name + MASTER_SUFFIX] = ibis.coalesce(*masters) if len(masters) > 1 else masters[0]
    if resolved:
        o = o.mutate(**resolved)
    # the join's helpers and the store's bookkeeping (ingest's ``_load_id``) are not sales data
    helpers = [c for c in o.columns if c.startswith("_")]
    return store.reused(o.drop(*helpers) if helpers else o)


# ----------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class Coverage:
    """How much of the sales one dimension attributes.

    Attributes
    ----------
    dimension : str
    share : float
        Share of the amount (absolute values, so returns count as sales do) on lines whose
        dimension resolved; 1.0 when there is no amount at all.
    qty_share : float
        The same for the quantity (NaN without a quantity).
    unresolved_amount : float
        Signed amount of the unattributed lines.
    unresolved_lines : int
    top_codes : list
        Up to :data:`SAMPLE_SIZE` of the most frequent referencing codes (customer or SKU ids)
        of unattributed lines, by amount.
    missing : dict or None
        What is missing to resolve it from master data (see :meth:`Sources.missing`).
    """

    dimension: str
    share: float
    qty_share: float = float("nan")
    unresolved_amount: float = 0.0
    unresolved_lines: int = 0
    top_codes: list = field(default_factory=list)
    missing: dict | None = None
    available: bool = True  # False: neither the lines nor a master carry the dimension at all

    @property
    def complete(self) -> bool:
        return self.unresolved_lines == 0

    @property
    def sufficient(self) -> bool:
        """Whether a section may group by the dimension (at least :data:`MIN_COVERAGE`)."""
        return self.share >= MIN_COVERAGE

    def details(self) -> dict[str, Any]:
        """The values a note or a skip reason takes (``dimension``, ``share``, ``codes``,
        ``table``/``column`` of what is missing)."""
        out: dict[str, Any] = {"dimension": self.dimension, "share": self.share,
                               "codes": [str(c) for c, _ in self.top_codes]}
        out.update(self.missing or {})
        return out


def coverage(lines: Any, dims: Iterable[str], *, start: dt.date | None = None, end: dt.date | None = None,
             src: Sources | None = None) -> dict[str, Coverage]:
    """Share of the amount (and quantity) each dimension attributes, on lines in [start, end).

    Parameters
    ----------
    lines : ibis Table
        From :func:`sales_lines` (possibly filtered).
    dims : iterable of str
        Names of :data:`DIMENSIONS`.
    start, end : date, optional
        Half-open window of ``order_date``.
    src : Sources, optional
        To name what is missing in :attr:`Coverage.missing`.

    Returns
    -------
    dict
        ``{dimension: Coverage}``; a dimension without any source has share 0.
    """
    f = lines
    if start is not None:
        f = f.filter(f.order_date >= ibis.literal(start))
    if end is not None:
        f = f.filter(f.order_date < ibis.literal(end))
    dims = list(dict.fromkeys(dims))
    for d in dims:
        if d not in DIMENSIONS:
            raise ParameterError(f"The 'dims' parameter of coverage must name dimensions of the sales lines "
                                 f"({', '.join(DIMENSIONS)}). Got {d!r} instead.")
    has_amount, has_qty = "amount" in f.columns, "qty" in f.columns
    aggs: dict[str, Any] = {"_lines": f.count()}
    if has_amount:
        aggs["_amount"] = f.amount.abs().sum()
    if has_qty:
        aggs["_qty"] = f.qty.abs().sum()
    present = [d for d in dims if d in f.columns]
    for d in present:
        miss = f[d].isnull()
        aggs[f"{d}__lines"] = miss.ifelse(1, 0).sum()
        if has_amount:
            aggs[f"{d}__amount"] = miss.ifelse(f.amount.abs(), 0.0).sum()
            aggs[f"{d}__signed"] = miss.ifelse(f.amount, 0.0).sum()
        if has_qty:
            aggs[f"{d}__qty"] = miss.ifelse(f.qty.abs(), 0.0).sum()
    row = f.aggregate(**aggs).to_pandas().iloc[0]

    def num(k: str) -> float:
        v = row.get(k)
        return 0.0 if v is None or v != v else float(v)

    total_a, total_q, n = num("_amount"), num("_qty"), int(num("_lines"))
    out: dict[str, Coverage] = {}
    for d in dims:
        missing = src.missing(d) if src is not None else None
        if d not in present:
            out[d] = Coverage(d, 0.0 if n else 1.0, 0.0 if has_qty and n else float("nan"),
                              num("_amount") if has_amount else 0.0, n, [],
                              missing or {"table": DIMENSIONS[d].master, "column": d}, available=False)
            continue
        un_lines = int(num(f"{d}__lines"))
        if has_amount and total_a > 0:
            share = 1.0 - num(f"{d}__amount") / total_a
        elif has_qty and total_q > 0:
            share = 1.0 - num(f"{d}__qty") / total_q
        else:
            share = 1.0 if un_lines == 0 else 1.0 - un_lines / max(n, 1)
        qshare = (1.0 - num(f"{d}__qty") / total_q) if has_qty and total_q > 0 else float("nan")
        top = _top_codes(f, d) if un_lines else []
        out[d] = Coverage(d, share, qshare, num(f"{d}__signed"), un_lines, top, missing if un_lines else None)
    return out


def _top_codes(f: Any, dim: str, n: int = SAMPLE_SIZE) -> list[tuple[Any, float]]:
    """The referencing codes (customer or SKU ids) of the lines ``dim`` left unattributed, most
    amount first; a line without the key counts under None."""
    key = DIMENSIONS[dim].key
    if key not in f.columns:
        return []
    u = f.filter(f[dim].isnull())
    weight = u.amount.abs() if "amount" in u.columns else (u.qty.abs() if "qty" in u.columns else ibis.literal(1.0))
    g = u.group_by(code=u[key]).aggregate(w=weight.sum()).order_by([ibis.desc("w"), "code"]).limit(n).to_pandas()
    return [(None if c is None or c != c else c, float(w) if w == w else 0.0) for c, w in zip(g["code"], g["w"])]


def unattributed_key(column: Any) -> Any:
    """A grouping key: the dimension as text, :data:`UNATTRIBUTED` where it did not resolve."""
    return column.cast("string").fill_null(UNATTRIBUTED)


# ----------------------------------------------------------------------------- references
@dataclass(frozen=True)
class BrokenReference:
    """Rows of ``table`` whose ``column`` names no row of ``references``."""

    table: str
    column: str
    references: str
    count: int
    samples: list

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "references": self.references,
                "count": self.count, "samples": self.samples}


#: The references ``check`` follows: (table, column, referenced table, referenced key).
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("orders", "customer_id", "customers", "customer_id"),
    ("orders", "sku_id", "products", "sku_id"),
    ("orders", "rep_id", "reps", "rep_id"),
    ("customers", "rep_id", "reps", "rep_id"),
)


def broken_references(con: Any, refs: Sequence[tuple[str, str, str, str]] = REFERENCES,
                      n: int = SAMPLE_SIZE) -> list[BrokenReference]:
    """Every reference whose value is missing from the referenced table (count and up to ``n``
    sample values, most frequent first). References to an absent table are not listed here (the
    coverage says what is missing)."""
    out = []
    for table, col, ref, key in refs:
        if col not in _cols(con, table) or key not in _cols(con, ref):
            continue
        t, r = con.table(table), con.table(ref)
        v = t[col].cast("string")
        keys = r.select(_k=r[key].cast("string")).distinct()
        t2 = t.select(_v=v).filter(lambda x: x._v.notnull())
        miss = t2.anti_join(keys, t2._v == keys._k)
        g = miss.group_by("_v").aggregate(n=miss.count())
        tot = g.aggregate(total=g.n.sum()).to_pandas()["total"].iloc[0]
        total = 0 if tot is None or tot != tot else int(tot)
        if total:
            s = g.order_by([ibis.desc("n"), "_v"]).limit(n).to_pandas()["_v"].tolist()
            out.append(BrokenReference(table, col, ref, total, s))
    return out


def conflicts(con: Any, dims: Iterable[str] = ("region", "rep_id", "brand", "price_class", "channel"),
              src: Sources | None = None) -> dict[str, int]:
    """Lines whose own value contradicts the master at the sale date (the line's value is used).

    Returns ``{dimension: count}`` for the dimensions that are both on the lines and in a master.
    """
    src = src or sources(con)
    lines = sales_lines(con, src=src, keep_master=True)
    aggs = {}
    for d in dims:
        m = f"{d}{MASTER_SUFFIX}"
        if d in src.orders and m in lines.columns:
            aggs[d] = (lines[d].notnull() & lines[m].notnull() & (lines[d] != lines[m])).ifelse(1, 0).sum()
    if not aggs:
        return {}
    row = lines.aggregate(**aggs).to_pandas().iloc[0]
    return {d: (0 if row[d] is None or row[d] != row[d] else int(row[d])) for d in aggs}


# ----------------------------------------------------------------------------- for sections
def coverage_skip(cov: Coverage) -> "Skip | None":
    """The skip of a section grouping by ``cov.dimension`` when it resolves for less than
    :data:`MIN_COVERAGE` of the amount (a reason code naming what is missing), else None."""
    from .sections import Reason, Skip

    if cov.sufficient:
        return None
    if not cov.available and (cov.missing or {}).get("table", "orders") == "orders":
        # the lines lack the column and the key to look it up
        return Skip(Reason.MISSING_COLUMN, {"table": "orders", "column": cov.dimension})
    base = {"dimension": cov.dimension, "share": cov.share}
    miss = cov.missing or {}
    if "column" in miss:
        return Skip(Reason.UNRESOLVED_COLUMN, {**base, "table": miss["table"], "column": miss["column"]})
    if "table" in miss:
        return Skip(Reason.UNRESOLVED_TABLE, {**base, "table": miss["table"]})
    codes = [str(c) for c, _ in cov.top_codes if c is not None]
    return Skip(Reason.UNRESOLVED_CODES, {**base, "table": DIMENSIONS[cov.dimension].master, "codes": codes})


def coverage_note(cov: Coverage) -> "Note | None":
    """A note for a section that shows unattributed lines as one row (None when all resolved)."""
    from .sections import Note

    if cov.complete:
        return None
    codes = [str(c) for c, _ in cov.top_codes if c is not None]
    return Note("unattributed", {"dimension": cov.dimension, "share": cov.share,
                                 "amount": cov.unresolved_amount, "codes": codes})


def qty_kind(con: Any) -> str:
    """The value kind of the store's quantities, their unit from the products' ``pack_unit``
    (:func:`analysis.contracts.qty_unit`): ``qty`` (条; also when the products do not say),
    ``qty_case`` (箱), ``qty_pack`` (包) or ``qty_mixed`` (several units: never summed under one)."""
    from .contracts import QTY_KINDS, qty_unit

    if not store.has_rows(con, "products") or "pack_unit" not in _cols(con, "products"):
        return "qty"
    t = con.table("products")
    return QTY_KINDS[qty_unit(t.select(t.pack_unit).distinct().execute()["pack_unit"].tolist())]


def measure_kind(measure: str, qty_kind: str = "qty") -> str:
    """The value kind a measure's figures are written in: ``money`` for the amount, the
    quantities' kind (:func:`qty_kind`) for the volume.

    Examples
    --------
    >>> measure_kind("amount", "qty_case"), measure_kind("qty", "qty_case")
    ('money', 'qty_case')
    """
    return "money" if measure == "amount" else qty_kind


def order_days(con: Any) -> Any:
    """The distinct days with order lines (an Ibis table with one column ``order_date``, a date):
    the data window and the grain of the dates, without resolving any dimension."""
    if not store.has_table(con, "orders"):
        raise MissingTableError("orders", "sales lines")
    o = con.table("orders")
    if "order_date" not in o.columns:
        raise MissingColumnError("orders", "order_date", list(o.columns))
    return o.select(order_date=o.order_date.cast("date")).distinct()


def data_window(con: Any) -> tuple[dt.date, dt.date]:
    """(first, last) order day of the store."""
    import pandas as pd

    d = order_days(con)
    w = d.aggregate(first=d.order_date.min(), last=d.order_date.max()).execute()
    return pd.Timestamp(w["first"].iloc[0]).date(), pd.Timestamp(w["last"].iloc[0]).date()


# ----------------------------------------------------------------------------- check
#: The report sections each dimension feeds (what a poorly resolved dimension costs).
SECTIONS_NEEDING: dict[str, tuple[str, ...]] = {
    "region": ("sales_trends: attainment_by_level and contribution at level=region",
               "target_plan: the regions' split", "launch_review: retailer_segments by region"),
    "rep_id": ("sales_trends: underperformers, attainment_by_level at level=rep",
               "rep_scorecard: every indicator", "target_plan: the reps' split",
               "incentive_retention: attainment"),
    "brand": ("sales_trends: attainment_by_level at level=brand", "target_plan: the brands' split"),
    "price_class": ("sales_trends: mix", "target_plan: the price classes' split",
                    "launch_review: cannibalization"),
    "size_class": ("sales_trends: customers by size class", "launch_review: retailer_segments by size class"),
    "area_type": ("launch_review: retailer_segments by area type",),
    "grade": ("sales_trends: customers by grade band (size_by=grade_band)",),
}
#: Dimensions the reports cannot do without: ``check`` fails when one resolves below MIN_COVERAGE.
REQUIRED_DIMENSIONS = ("region", "rep_id", "brand", "price_class")


@dataclass
class AttributionCheck:
    """What ``check`` says about the sales lines: coverage per dimension, broken references,
    lines contradicting their master."""

    coverage: dict[str, Coverage]
    references: list[BrokenReference]
    conflicts: dict[str, int]
    by_current_book: list[str]

    @property
    def failing(self) -> list[str]:
        """Required dimensions below :data:`MIN_COVERAGE` (check exits non-zero)."""
        return [d for d in REQUIRED_DIMENSIONS if d in self.coverage and not self.coverage[d].sufficient]

    @property
    def ok(self) -> bool:
        return not self.failing

    def lines(self) -> list[str]:
        """The check's text (for the command line)."""
        out = ["sales lines: share of the amount each dimension attributes "
               "(line value, else master at the sale date, else current master)"]
        w = max(len(d) for d in self.coverage) if self.coverage else 10
        for d, c in self.coverage.items():
            need = "required" if d in REQUIRED_DIMENSIONS else "optional"
            if not c.available:
                out.append(f"  {d:<{w}}  {'-':>7}  {need:<8}  not in the data (neither on the lines "
                           f"nor in {DIMENSIONS[d].master})")
                continue
            status = "ok" if c.complete else ("FAIL" if (not c.sufficient and d in REQUIRED_DIMENSIONS) else "partial")
            line = f"  {d:<{w}}  {c.share:>7.2%}  {need:<8}  {status}"
            if not c.complete:
                codes = ", ".join("(none)" if k is None else str(k) for k, _ in c.top_codes)
                line += f"; {c.unresolved_lines:,} lines unattributed"
                if c.missing:
                    what = f"{c.missing['table']}.{c.missing['column']}" if "column" in c.missing else c.missing["table"]
                    line += f" ({what} is missing)"
                if codes:
                    line += f"; most frequent {DIMENSIONS[d].key}: {codes}"
            out.append(line)
        for d in self.by_current_book:
            out.append(f"  note: {d} of lines without it is taken from today's {DIMENSIONS[d].master} "
                       f"(no {DIMENSIONS[d].master}{HISTORY_SUFFIX}): a customer moved or reassigned since "
                       "counts where it is today")
        for r in self.references:
            out.append(f"broken reference: {r.count:,} rows of {r.table}.{r.column} name no {r.references} row "
                       f"(e.g. {', '.join(map(str, r.samples))})")
        for d, n in self.conflicts.items():
            if n:
                out.append(f"{n:,} order lines carry a {d} that differs from the master's at the sale date "
                           "(the line's value is used)")
        for d in self.failing:
            out.append(f"{d} attributes only {self.coverage[d].share:.2%} of the amount (needs "
                       f"{MIN_COVERAGE:.0%}); sections that would not run: {'; '.join(SECTIONS_NEEDING[d])}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"coverage": {d: c.share for d, c in self.coverage.items() if c.available},
                "broken_references": [r.as_dict() for r in self.references],
                "conflicts": dict(self.conflicts), "failing": self.failing}


def check(con: Any) -> AttributionCheck:
    """Coverage of every dimension over all order lines, broken references, and conflicts."""
    src = sources(con)
    lines = sales_lines(con, src=src)
    dims = [d for d in DIMENSIONS if d in SECTIONS_NEEDING]
    return AttributionCheck(coverage(lines, dims, src=src), broken_references(con), conflicts(con, src=src),
                            [d for d in ("region", "rep_id") if src.by_current_book(d)])


def book_at(con: Any, day: dt.date, src: Sources | None = None, opened_before: dt.date | None = None) -> Any | None:
    """Each customer's serving rep on ``day`` (Ibis: ``customer_id``, ``rep_id``): the customers
    history valid that day, else the current customers row; None when neither has a rep.

    ``opened_before``: leave out customers of the current table opened on or after that day.
    Used for what depends on the book rather than on sales (active customers of a rep, the
    target plan's backtest at each month).
    """
    src = src or sources(con)
    cur = his = None
    if {"customer_id", "rep_id"} <= set(src.masters.get("customers", ())):
        c = con.table("customers")
        if opened_before is not None and "opened_on" in c.columns:
            c = c.filter(c.opened_on.isnull() | (c.opened_on.cast("date") < ibis.literal(opened_before)))
        cur = c.select(customer_id=c.customer_id.cast("string"), _cur=c.rep_id.cast("string"))
        cur = cur.group_by("customer_id").aggregate(_cur=cur._cur.max())
    if {"customer_id", "rep_id"} <= set(src.histories.get("customers", ())):
        h = con.table("customers" + HISTORY_SUFFIX)
        f, t = h.valid_from.cast("date"), h.valid_to.cast("date")
        h = h.filter((f.isnull() | (f <= ibis.literal(day))) & (t.isnull() | (ibis.literal(day) < t)))
        his = h.group_by(customer_id=h.customer_id.cast("string")).aggregate(_his=h.rep_id.cast("string").max())
    if cur is None and his is None:
        return None
    if his is None:
        return cur.select("customer_id", rep_id=cur._cur)
    if cur is None:
        return his.select("customer_id", rep_id=his._his)
    j = cur.outer_join(his, cur.customer_id == his.customer_id)
    return j.select(customer_id=ibis.coalesce(j.customer_id, j.customer_id_right), rep_id=ibis.coalesce(j._his, j._cur))

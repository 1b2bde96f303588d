"""Validate: the contract's rules run in SQL, at ingest (on the work database) and by ``check``.

At ingest, :func:`stage` turns the loaded text table ``src`` into ``staged``: typed columns,
the row number, and ``__why``, the list of reason ids of a row that breaks a rule (cell reads
first: a row whose cells do not all read is not checked further). :func:`in_file_duplicates`
then finds, for tables with a key, exact copies of earlier rows (skipped) and later rows with
an earlier row's key (quarantined). Orders without line_no are keyed by order_id + sku_id
(:data:`KEY_FALLBACKS`). Tables without a key (visits, feedback, orders without order_id)
keep identical rows: they are distinct events. A cell holding an Excel error (#N/A, #DIV/0! …)
is quarantined with its own reason, whatever the column's type.

``check`` (:func:`check_table`, :func:`check_store`) runs the same rules
(:func:`analysis.contracts.row_rules`) on stored tables, through the store's own engine.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import contracts
from ..contracts import RULES, Settings, TableSpec, q, row_rules, spec
from ..errors import StoreError
from .normalise import ColumnPlan, parse_sql, typed_sql
from .read import Source, collect_rejects, padded_table


@dataclass
class Reason:
    column: str
    code: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.column}: {self.message}" if self.column and not self.column.startswith("(") else self.message


@dataclass
class Staging:
    """What :func:`stage` built: the plans, the reasons by id, the counts."""

    plans: list[ColumnPlan]
    reasons: list[Reason] = field(default_factory=list)
    keyed: bool = False
    key: tuple[str, ...] = ()
    row_base: int = 2
    shifts: bool = False
    typed: list[str] = field(default_factory=list)  # the table's columns in staged
    raw_source: str = ""  # the relation the raw text comes from again, for rows rejected after staging
    returns_inferred_col: bool = False
    size_derived_col: bool = False

    def rel(self, db: str = "", columns: list[str] | None = None) -> str:
        """The staged rows with ``__rid`` (their rowid) and ``__row`` (the file's row number);
        only ``columns`` of staged besides (default: all)."""
        p = f"{db}." if db else ""
        cols = "st.*" if columns is None else ", ".join(f"st.{q(c)}" for c in dict.fromkeys(["__rowx", *columns]))
        if self.shifts:
            return (f"(SELECT {cols}, st.rowid AS __rid, coalesce(st.__rowx, st.rowid + {self.row_base} + "
                    f"coalesce(sh.cum, 0)) AS __row FROM {p}staged st ASOF LEFT JOIN {p}shifts sh ON st.rowid >= sh.a)")
        return f"(SELECT {cols}, st.rowid AS __rid, coalesce(st.__rowx, st.rowid + {self.row_base}) AS __row FROM {p}staged st)"

    def flags(self) -> list[str]:
        return (["__ret_inferred"] if self.returns_inferred_col else []) + (["__size_derived"] if self.size_derived_col else [])

    def reason_id(self, column: str, code: str, /, **params: Any) -> int:
        msg = RULES[code].format(**params) if params else RULES[code]
        r = Reason(column, code, msg)
        for i, x in enumerate(self.reasons):
            if (x.column, x.code, x.message) == (r.column, r.code, r.message):
                return i
        self.reasons.append(r)
        return len(self.reasons) - 1


def _ids_list(items: list[str]) -> str:
    if not items:
        return "NULL"
    return f"list_filter([{', '.join(items)}], x -> x IS NOT NULL)"


def stage(con: Any, src: Source, plans: list[ColumnPlan], ts: TableSpec, settings: Settings,
          bands_sql: str | None = None, period: tuple[dt.date, dt.date, str] | None = None) -> Staging:
    """Build table ``staged`` in the work database from ``src`` (see the module docstring)."""
    st = Staging(plans=plans)
    n = len(src.headers) + len(src.surplus)
    raw_cols = [f"c{i}" for i in range(n)]
    names = [p.name for p in plans]
    present = set(names)
    st.row_base = src.row_base
    # A: row number (when the reader knows it), blank rows (coalesce stops at the first non-empty cell)
    blank = f"coalesce({', '.join(f'sa_clean(s.c{i})' for i in range(n))}) IS NULL" if n else "TRUE"
    a_cols = ["s.__row AS __rowx", f"({blank}) AS __blank"]
    a_cols += [f"s.{c}" for c in raw_cols]
    # B: first pass (fast path for plain cells); C: typed values and cell reason codes
    b_cols = ["__rowx", "__blank"] + raw_cols + [f"{parse_sql(p, f'c{p.index}')} AS p{j}"
                                                         for j, p in enumerate(plans)]
    c0_cols = ["__rowx", "__blank"] + raw_cols
    cell_items: list[str] = []
    for j, p in enumerate(plans):
        val, why = typed_sql(p, f"p{j}", f"c{p.index}")
        c0_cols.append(f"{val} AS {q(p.name)}")
        c0_cols.append(f"{why} AS e{j}")
        codes = {"int": ["not_a_number", "not_whole"], "float": ["not_a_number"], "date": ["impossible_date", "not_a_date"],
                 "month": ["impossible_date", "not_a_date"], "bool": ["not_a_bool"]}.get(p.dtype, [])
        if p.grade:
            codes = ["not_a_grade"]
        codes = ["excel_error", *codes]
        if codes:
            whens = " ".join(f"WHEN {contracts._lit(c)} THEN {st.reason_id(p.name, c)}" for c in codes)
            cell_items.append(f"(CASE e{j} {whens} END)")
    for i in src.surplus:
        cell_items.append(f"(CASE WHEN sa_clean(c{i}) IS NOT NULL THEN "
                          f"{st.reason_id('(row)', 'beyond_header')} END)")
    # C: derived columns (size class from grade, returns from signs)
    c_cols = ["*"]
    if ts.name == "customers" and "grade" in present and bands_sql:
        derived = bands_sql
        if "size_class" in present:
            c_cols = [f"* REPLACE (coalesce(\"size_class\", {derived}) AS \"size_class\")",
                      f"(\"size_class\" IS NULL AND {derived} IS NOT NULL) AS __size_derived"]
        else:
            c_cols = ["*", f"{derived} AS \"size_class\"", f"({derived} IS NOT NULL) AS __size_derived"]
            present.add("size_class")
        st.size_derived_col = True
    signed = [c for c in ("amount", "qty") if c in present]
    infer_returns = "is_return" in ts.names and "is_return" not in present and bool(signed)
    if infer_returns:
        neg = " OR ".join(f"coalesce({q(c)} < 0, FALSE)" for c in signed)
        mixed = '(coalesce("amount" < 0 AND "qty" > 0, FALSE) OR coalesce("amount" > 0 AND "qty" < 0, FALSE))' \
            if len(signed) == 2 else "FALSE"
        c_cols.append(f"(({neg}) AND NOT {mixed}) AS \"is_return\"")
        c_cols.append(f"(({neg}) AND NOT {mixed}) AS __ret_inferred")
        present.add("is_return")
        st.returns_inferred_col = True
    # D: rules
    rules = row_rules(ts.name, present, settings, return_column=not infer_returns)
    rule_items = [f"(CASE WHEN {r.sql} THEN {st.reason_id(r.column, r.code, **r.params)} END)" for r in rules]
    value = next((p for p in plans if p.name == "value" and p.unit_kind), None)
    if ts.name == "targets" and value is not None and "measure" in present:
        want = "amount" if value.unit_kind == "money" else "qty"
        other = "qty" if want == "amount" else "amount"
        rid = st.reason_id("value", "unit_measure", unit=value.unit, measure=other)
        rule_items.append(f"(CASE WHEN \"measure\" IS DISTINCT FROM '{want}' THEN {rid} END)")
    if period is not None:
        start, end, label = period
        pc = ts.period_column
        rid = st.reason_id(pc, "outside_period", period=label)
        rule_items.append(f"(CASE WHEN {q(pc)} < DATE '{start}' OR {q(pc)} >= DATE '{end}' THEN {rid} END)")
    cell_bad = " OR ".join(f"{x} IS NOT NULL" for x in cell_items) or "FALSE"
    rule_bad = " OR ".join(f"{x} IS NOT NULL" for x in rule_items) or "FALSE"
    st.typed = _typed_columns(present, ts, plans)
    typed_names = [q(c) for c in st.typed]
    extra_flags = (["__size_derived"] if st.size_derived_col else []) + (["__ret_inferred"] if infer_returns else [])
    raw_hash = f"hash({', '.join(raw_cols)})" if raw_cols else "0"
    # raw text is kept for the quarantine file only on rows already rejected here and on rows whose
    # number the reader gave (padded records, spreadsheets, Parquet); a row rejected later (a key,
    # a reference, the store) gets its raw text from the source again (Staging.raw_source)
    st.raw_source = src.relation if src.relation != "src" else "sa_work.src"
    d_cols = ["__rowx", "__blank", *raw_cols, *typed_names, *extra_flags,
              f"({cell_bad}) AS __cellbad",
              f"CASE WHEN {cell_bad} THEN {_ids_list(cell_items)} WHEN {rule_bad} THEN {_ids_list(rule_items)} END "
              "AS __why",
              f"CASE WHEN {cell_bad} THEN {raw_hash} END AS __rawhash"]
    keep = "__why IS NOT NULL OR __rowx IS NOT NULL"
    e_cols = ", ".join(f"CASE WHEN {keep} THEN {c} END AS {c}" for c in raw_cols)

    def select(from_sql: str) -> str:
        return f"""
        SELECT * REPLACE ({e_cols}) FROM (
        SELECT {', '.join(d_cols)} FROM (
          SELECT {', '.join(c_cols)} FROM (
            SELECT {', '.join(c0_cols)} FROM (
              SELECT {', '.join(b_cols)} FROM (
                SELECT {', '.join(a_cols)} FROM {from_sql} s
              )
            )
          )
        ))""" if raw_cols else f"""
        SELECT {', '.join(d_cols)} FROM (
          SELECT {', '.join(c_cols)} FROM (
            SELECT {', '.join(c0_cols)} FROM (
              SELECT {', '.join(b_cols)} FROM (
                SELECT {', '.join(a_cols)} FROM {from_sql} s
              )
            )
          )
        )"""

    con.execute(f"CREATE OR REPLACE TABLE staged AS {select(src.relation)}")
    collect_rejects(con, src)  # a CSV's rejected records are known once DuckDB has scanned it
    padded = padded_table(con, src)
    if padded:
        con.execute(f"INSERT INTO staged {select(padded)}")
    if src.shifts:
        con.execute("CREATE OR REPLACE TABLE shifts (a BIGINT, cum BIGINT)")
        con.executemany("INSERT INTO shifts VALUES (?, ?)", src.shifts)
        st.shifts = True
    st.key, _ = key_of(ts.name, present)
    st.keyed = bool(st.key)
    return st


# A table's key when the file lacks part of the contract's: order exports often have no line
# number, and then an order's line is its order and SKU (an exact copy of a line is a double
# export, skipped and counted). Orders without order_id stay keyless.
KEY_FALLBACKS: dict[str, tuple[tuple[str, ...], ...]] = {"orders": (("order_id", "sku_id"),)}


def key_of(table: str, present: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the key rows of a file of ``table`` with columns ``present`` are checked by — () when
    keyless —, the contract's key when a fallback replaced it, else ()).

    Examples
    --------
    >>> key_of("orders", {"order_id", "sku_id", "order_date", "amount"})
    (('order_id', 'sku_id'), ('order_id', 'line_no'))
    >>> key_of("orders", {"order_date", "sku_id", "amount"})
    ((), ())
    """
    ts = spec(table)
    if ts.key and all(k in present for k in ts.key):
        return ts.key, ()
    for alt in KEY_FALLBACKS.get(table, ()):
        if all(k in present for k in alt):
            return alt, ts.key
    return (), ()


def _typed_columns(present: set[str], ts: TableSpec, plans: list[ColumnPlan]) -> list[str]:
    out = [c for c in ts.names if c in present]
    out += [p.name for p in plans if p.extra and p.name not in out]
    return out


def in_file_duplicates(con: Any, st: Staging, typed: list[str]) -> None:
    """Table ``dup`` (__rid, __row, kind): ``dup`` = an exact copy of an earlier row (skipped),
    ``key`` = an earlier accepted row's key with other values (quarantined). Tables with a key only."""
    con.execute("CREATE OR REPLACE TABLE dup (__rid BIGINT, __row BIGINT, kind VARCHAR)")
    if not st.keyed:
        return
    key = ", ".join(q(k) for k in st.key)
    key_nonnull = " AND ".join(f"{q(k)} IS NOT NULL" for k in st.key)
    key_null = " OR ".join(f"{q(k)} IS NULL" for k in st.key)
    cols = ", ".join(q(c) for c in typed)
    rel = st.rel(columns=[*typed, "__blank", "__cellbad", "__why", "__rawhash"])
    # keys seen more than once among rows whose cells read (one pass over the file's rows);
    # every later step looks only at these few rows
    # (grouped by a 64-bit hash of the key first: a small hash table even for 100M rows; the few
    # candidate keys are then grouped by their real values, so a hash collision costs nothing)
    khash = f"hash({key})"
    con.execute(f"""CREATE OR REPLACE TABLE dupgrp AS
                    WITH h AS (SELECT {khash} AS kh FROM staged WHERE NOT __blank AND NOT __cellbad AND {key_nonnull}
                               GROUP BY kh HAVING count(*) > 1)
                    SELECT {key} FROM staged WHERE NOT __blank AND NOT __cellbad AND {key_nonnull}
                      AND {khash} IN (SELECT kh FROM h)
                    GROUP BY {key} HAVING count(*) > 1""")
    con.execute(f"""
        INSERT INTO dup
        WITH p AS (SELECT * FROM {rel} WHERE NOT __blank AND NOT __cellbad),
             cand AS (SELECT p.* FROM p SEMI JOIN dupgrp USING ({key})
                      UNION ALL SELECT * FROM p WHERE {key_null}),
             x AS (SELECT __rid, __row, row_number() OVER (PARTITION BY {cols} ORDER BY __row) AS k FROM cand)
        SELECT __rid, __row, 'dup' FROM x WHERE k > 1
        UNION ALL
        SELECT __rid, __row, 'dup' FROM (
            SELECT __rid, __row, row_number() OVER (PARTITION BY __rawhash ORDER BY __row) AS k
            FROM {rel} WHERE NOT __blank AND __cellbad) WHERE k > 1
    """)
    # a later row with the key of an earlier row that is accepted so far: quarantined
    con.execute(f"""
        INSERT INTO dup
        WITH c AS (SELECT s.* FROM {rel} s SEMI JOIN dupgrp USING ({key})
                   WHERE NOT s.__blank AND s.__why IS NULL AND s.__rid NOT IN (SELECT __rid FROM dup)),
             x AS (SELECT __rid, __row, row_number() OVER (PARTITION BY {', '.join(q(k) for k in st.key)}
                                                           ORDER BY __row) AS k FROM c)
        SELECT __rid, __row, 'key' FROM x WHERE k > 1
    """)


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------
def _sql_count(con: Any, sql: str) -> Any:
    """Run an aggregate SQL query (DuckDB dialect) on any Ibis backend; a one-row DataFrame."""
    return con.sql(sql, dialect="duckdb").execute()


def check_table(con: Any, table: str, today: dt.date | None = None, settings: Settings | None = None
                ) -> tuple[int, list[str]]:
    """Check a stored table against its contract, in the engine: (rows, [problems]).

    The row rules are the ones ingest runs (:func:`analysis.contracts.row_rules`), counted
    with one aggregate query; then duplicate keys and references to other tables.

    Examples
    --------
    >>> check_table(con, "orders")  # doctest: +SKIP
    (1000000, [])
    """
    from ..store import has_rows, has_table

    s = settings or Settings(today=today)
    if today is not None and s.today is None:
        s = Settings(date_min=s.date_min, today=today, grade_bands=s.grade_bands)
    ts = spec(table)
    t = con.table(table)
    cols = set(t.columns)
    rows = int(t.count().execute())
    problems: list[str] = []
    problems += [f"required column {c} missing" for c in ts.required if c not in cols]
    for group in ts.one_of:
        if not cols.intersection(group):
            problems.append(f"none of the columns {' / '.join(group)}")
    if rows == 0:
        return rows, problems
    rules = row_rules(table, cols & set(ts.names), s)
    labels: dict[str, list[str]] = {}
    for r in rules:
        labels.setdefault(r.check_label(), []).append(r.sql)
    if labels:
        names = list(labels)
        sel = ", ".join(f"sum(CASE WHEN ({' OR '.join('(' + x + ')' for x in labels[n])}) THEN 1 ELSE 0 END) AS c{i}"
                        for i, n in enumerate(names))
        res = _sql_count(con, f"SELECT {sel} FROM {q(table)}")
        for i, n in enumerate(names):
            v = res[f"c{i}"].iloc[0]
            if v is not None and v == v and int(v) > 0:
                problems.append(f"{n}: {int(v)}")
    if ts.key and all(k in cols for k in ts.key):
        key = ", ".join(q(k) for k in ts.key)
        nn = " AND ".join(f"{q(k)} IS NOT NULL" for k in ts.key)
        res = _sql_count(con, f"SELECT sum(n - 1) AS extra FROM (SELECT count(*) AS n FROM {q(table)} WHERE {nn} "
                              f"GROUP BY {key} HAVING count(*) > 1) g")
        v = res["extra"].iloc[0]
        if v is not None and v == v and int(v) > 0:
            problems.append(f"duplicate keys ({', '.join(ts.key)}): {int(v)} rows")
    for c, ref in ts.references.items():
        if c in cols and has_table(con, ref) and c in con.table(ref).columns and has_rows(con, ref):
            res = _sql_count(con, f"SELECT count(*) AS n FROM {q(table)} t WHERE t.{q(c)} IS NOT NULL AND NOT EXISTS "
                                  f"(SELECT 1 FROM {q(ref)} r WHERE r.{q(c)} = t.{q(c)})")
            n = int(res["n"].iloc[0])
            if n > 0:
                problems.append(f"{c} not in {ref}: {n} rows")
    return rows, problems


def check_store(store: Any = None, today: dt.date | None = None, settings: Settings | None = None) -> tuple[bool, str]:
    """Validate every canonical table in the store; (ok, a per-table summary as text).

    ``ok`` is False when any table breaks its contract. Everything is counted in the
    engine; no table is loaded.

    Examples
    --------
    >>> ok, text = check_store("data/warehouse.duckdb")  # doctest: +SKIP
    """
    from .. import store as store_mod
    from ..contracts import TABLES
    from ..store import has_table

    if store is not None and hasattr(store, "list_tables"):
        con, owned, loc = store, False, "(connection)"
    else:
        loc = store_mod.resolve_store(store)
        if not store_mod.is_url(loc) and not loc.endswith(":memory:") and not Path(loc).exists():
            raise StoreError(f"The store file {loc} does not exist. Build it with `sales-analysis demo` "
                             "or load data with `sales-analysis ingest`.")
        # read-only for a DuckDB file, so a check runs beside report runs reading the store
        ro = not store_mod.is_url(loc) and not loc.endswith(":memory:")
        con, owned = store_mod.connect(loc, read_only=ro), True
    try:
        present = [t for t in TABLES if has_table(con, t)]
        results = [(t, *check_table(con, t, today, settings)) for t in present]
    finally:
        if owned:
            try:
                con.disconnect()
            except Exception:  # noqa: BLE001
                pass
    ok = all(not p for _, _, p in results)
    lines = [f"store: {loc}"]
    if not results:
        lines.append("the store holds no canonical tables")
        return True, "\n".join(lines)
    w = max(len("table"), *(len(t) for t, _, _ in results))
    lines.append(f"{'table':<{w}}  {'rows':>12}  status  problems")
    for t, n, p in results:
        lines.append(f"{t:<{w}}  {n:>12,}  {'ok' if not p else 'FAIL':<6}  {'; '.join(p) if p else '-'}")
    absent = [t for t in TABLES if t not in present]
    if absent:
        lines.append(f"absent tables: {', '.join(absent)}")
    lines.append("all tables meet their contracts" if ok else "some tables break their contracts")
    return ok, "\n".join(lines)

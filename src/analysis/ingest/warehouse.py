"""Ingest into a warehouse store: PostgreSQL (the same promises as a DuckDB store); Spark refused.

``ingest TABLE FILE --store postgresql://…`` reads, normalises and validates the file in the
local DuckDB work database exactly as for a DuckDB store (:mod:`.pipeline`). The final step
differs:

1. one PostgreSQL transaction begins and takes the store's ingest lock (an advisory lock: one
   ingest or undo at a time per database) and a SHARE ROW EXCLUSIVE lock on the tables it reads
   (writers wait, readers do not);
2. what the checks need of the store is copied into a local DuckDB file (the *shadow*): every
   table's columns, the ingest log, the rows of the loaded table whose key is one of the file's
   keys or whose date lies in a replaced month (all of a master table and its history), the keys
   of the tables it references. Each copied row keeps its PostgreSQL row id (``ctid``);
3. the DuckDB store's own transaction (:func:`analysis.ingest.pipeline._commit`: duplicates and
   keys against the store, references, ``--replace-period`` and its guards, ``--update`` with
   history, the undo journal, the ingest log, the quarantine file) runs on the shadow;
4. its effect is written into PostgreSQL in the same transaction: new tables and columns, the
   rows the load removed (by row id, into ``_ingest_undo_<table>``) and the rows it added
   (``COPY … FROM STDIN``); then COMMIT. A killed or failed ingest rolls back: PostgreSQL is as
   it was.

``history`` and ``undo`` run on PostgreSQL itself (:mod:`.loads`, through :class:`PgCon`). The
quarantine of a PostgreSQL store is a folder named after its server, database and schema
(:func:`analysis.ingest.append.warehouse_quarantine_dir`), or ``--quarantine DIR``.

A Spark store is refused in one line: a Parquet warehouse has no transaction in which to check
keys against stored rows and undo a load; ingest into a DuckDB store and copy it with
``python -m analysis.engines`` (docs/WAREHOUSE.md).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

from ..contracts import HISTORY_SUFFIX, MASTER_TABLES, q
from ..errors import IngestError, StoreError
from . import append as ap

#: The advisory lock every ingest and undo into a PostgreSQL store takes (one at a time per database).
PG_LOCK_KEY = 0x5A1E5_1A6E57
CHUNK_ROWS = 100_000

_PG_TO_DUCK = {"text": "VARCHAR", "character varying": "VARCHAR", "character": "VARCHAR", "double precision": "DOUBLE",
               "real": "FLOAT", "bigint": "BIGINT", "integer": "INTEGER", "smallint": "SMALLINT", "boolean": "BOOLEAN",
               "date": "DATE", "timestamp without time zone": "TIMESTAMP",
               "timestamp with time zone": "TIMESTAMP WITH TIME ZONE", "numeric": "DECIMAL"}


def scheme(loc: str) -> str:
    """The URL scheme of a store location ('' for a path)."""
    return loc.split("://", 1)[0].lower() if "://" in loc else ""


def is_postgres(loc: str) -> bool:
    return scheme(loc) in ("postgresql", "postgres")


def redact(loc: str) -> str:
    """A store location without its password (it is kept in the ingest log and printed).

    Examples
    --------
    >>> redact("postgresql://sa:secret@db:5432/sales")
    'postgresql://sa@db:5432/sales'
    """
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in loc:
        return loc
    u = urlsplit(loc)
    if u.password is None:
        return loc
    netloc = (u.username or "") + "@" + u.netloc.rsplit("@", 1)[1]
    return urlunsplit(u._replace(netloc=netloc))


def refuse_spark(loc: str) -> None:
    """A Spark store: refused in one line naming the way to load one."""
    if scheme(loc) in ("spark", "pyspark", "sc"):
        raise IngestError(f"ingest does not write into a Spark warehouse ({loc}): ingest into a DuckDB store, then copy "
                          "it there with `python -m analysis.engines STORE.duckdb 'spark://…?warehouse=DIR'` "
                          "(docs/WAREHOUSE.md, Loading exports into a warehouse).")


def pg_type(duck: str) -> str:
    """The PostgreSQL type of a DuckDB column type (the types the stores use).

    Examples
    --------
    >>> pg_type("DOUBLE"), pg_type("VARCHAR"), pg_type("DECIMAL(18,2)")
    ('DOUBLE PRECISION', 'TEXT', 'NUMERIC(18,2)')
    """
    u = duck.upper()
    return {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL"}.get(u, u.replace("DECIMAL", "NUMERIC"))


class PgCon:
    """A PostgreSQL connection (psycopg 3, autocommit: transactions are explicit BEGIN / COMMIT)
    that the store-side code of :mod:`.append` and :mod:`.loads` uses like a DuckDB connection:
    ``execute(sql, params)`` with ``?`` parameters, returning a cursor."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        try:
            self.pg = psycopg.connect("postgresql" + url[len("postgres"):] if scheme(url) == "postgres" else url,
                                      autocommit=True)
        except Exception as exc:  # noqa: BLE001 - the driver's error, made one line
            raise StoreError(f"Cannot open store {url!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc

    def execute(self, sql: str, params: list | tuple | None = None) -> Any:
        if params is not None:
            sql = sql.replace("%", "%%").replace("?", "%s")
        return self.pg.execute(sql, params)

    def columns(self) -> dict[str, dict[str, str]]:
        """{table: {column: DuckDB type name}} of the tables in the connection's current schema."""
        out: dict[str, dict[str, str]] = {}
        for t, c, typ, prec, scale in self.pg.execute(
                "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "ORDER BY table_name, ordinal_position").fetchall():
            d = _PG_TO_DUCK.get(typ, "VARCHAR")
            if d == "DECIMAL":
                d = f"DECIMAL({prec},{scale or 0})" if prec is not None and prec <= 38 else "DOUBLE"
            out.setdefault(t, {})[c] = d
        return out

    def lock(self, timeout: float | None = None) -> None:
        """Take the store's ingest lock until the transaction ends, waiting at most ``timeout``
        seconds (default ``$SALES_ANALYSIS_LOCK_TIMEOUT`` or 30) for it and for table locks."""
        import psycopg

        from ..store import LOCK_TIMEOUT_ENV, lock_timeout

        limit = lock_timeout(timeout)
        self.pg.execute(f"SET LOCAL lock_timeout = '{int(limit * 1000)}ms'")
        try:
            self.pg.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])
        except psycopg.errors.LockNotAvailable:
            raise StoreError(f"The store {redact(self.url)} is in use by another ingest or undo; waited {limit:g} s "
                             f"for it (set {LOCK_TIMEOUT_ENV} to wait longer).") from None

    def close(self) -> None:
        self.pg.close()


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _copy_out(pg: PgCon, sh: Any, table: str, cols: dict[str, str], query: str, work: Path) -> int:
    """Rows of a PostgreSQL query (columns ``cols`` in order) into the shadow table ``table``."""
    f = work / f"pg-{abs(hash(table))}.csv"
    with open(f, "wb") as out, pg.pg.cursor() as cur:
        # NULL is an unquoted empty field, every value quoted: an empty string stays one
        with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)") as cp:
            for data in cp:
                out.write(data)
    spec_ = ", ".join(f"{_sql_str(c)}: {_sql_str(t)}" for c, t in cols.items())
    n = sh.execute(f"INSERT INTO {q(table)} ({', '.join(q(c) for c in cols)}) SELECT * FROM read_csv("
                   f"{_sql_str(str(f))}, header = false, auto_detect = false, delim = ',', quote = '\"', "
                   f"escape = '\"', columns = {{{spec_}}}, allow_quoted_nulls = false, nullstr = '', "
                   "max_line_size = 8388608)").fetchone()[0]
    f.unlink()
    return int(n)


def _copy_in(pg: PgCon, table: str, cols: list[str], reader: Any) -> int:
    """Arrow record batches into the PostgreSQL table ``table`` (COPY … FROM STDIN); rows written."""
    import pyarrow.csv as pacsv

    opts = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    collist = ", ".join(q(c) for c in cols)
    n = 0
    with pg.pg.cursor() as cur:
        with cur.copy(f"COPY {q(table)} ({collist}) FROM STDIN (FORMAT csv)") as cp:
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, opts)
                cp.write(buf.getvalue())
                n += batch.num_rows
    return n


def _mirror(pg: PgCon, sh: Any, cols: dict[str, dict[str, str]], work: Path, ts: Any, st: Any,
            period: tuple | None, update: bool, as_of: Any) -> None:
    """Copy into the shadow what the store-side checks read (module docstring, step 2)."""
    import duckdb

    table = ts.name
    master = table[: -len(HISTORY_SUFFIX)] if table.endswith(HISTORY_SUFFIX) else table
    whole = {ap.LOG_TABLE}
    if master in MASTER_TABLES:
        whole |= {master, master + HISTORY_SUFFIX}
    for t, cs in cols.items():
        extra = {ap.ROW_ID: "VARCHAR"} if t == table or t in whole else {}
        defs = ", ".join(f"{q(c)} {typ}" for c, typ in {**cs, **extra}.items())
        sh.execute(f"CREATE TABLE {q(t)} ({defs})")
    copied = set()

    def rows_of(t: str, where: str = "TRUE") -> None:
        sel = ", ".join(f"t.{q(c)}" for c in cols[t])
        _copy_out(pg, sh, t, {**cols[t], ap.ROW_ID: "VARCHAR"},
                  f"SELECT {sel}, t.ctid::text FROM {q(t)} t WHERE {where}", work)
        copied.add(t)

    for t in sorted(whole & set(cols)):
        rows_of(t)
    if table in cols and table not in whole:
        conds = []
        if st.keyed and st.key and all(k in cols[table] for k in st.key):
            keys = ", ".join(f"CAST({q(k)} AS VARCHAR) AS k{i}" for i, k in enumerate(st.key))
            w = duckdb.connect(str(work / "work.duckdb"), read_only=True)
            try:
                reader = w.sql(f"SELECT DISTINCT {keys} FROM staged WHERE NOT __blank AND "
                               + " AND ".join(f"{q(k)} IS NOT NULL" for k in st.key)).to_arrow_reader(CHUNK_ROWS)
                pg.execute("CREATE TEMP TABLE sa_keys (" + ", ".join(f"k{i} TEXT" for i in range(len(st.key)))
                           + ") ON COMMIT DROP")
                _copy_in(pg, "sa_keys", [f"k{i}" for i in range(len(st.key))], reader)
            finally:
                w.close()
            tup = ", ".join(f"t.{q(k)}::text" for k in st.key)
            conds.append(f"({tup}) IN (SELECT {', '.join(f'k{i}' for i in range(len(st.key)))} FROM sa_keys)")
        if period is not None:
            pc = q(ts.period_column)
            conds.append(f"(t.{pc} >= DATE '{period[0]}' AND t.{pc} < DATE '{period[1]}')")
        if conds:
            rows_of(table, " OR ".join(conds))
    for col, ref in ts.references.items():
        if ref in cols and ref not in copied and col in cols[ref]:
            _copy_out(pg, sh, ref, {col: cols[ref][col]}, f"SELECT DISTINCT {q(col)} FROM {q(ref)}", work)
    if update and as_of is None and "orders" not in copied and "order_date" in cols.get("orders", {}):
        # the default --as-of reads the latest order date: one such row is enough
        _copy_out(pg, sh, "orders", {"order_date": cols["orders"]["order_date"]},
                  'SELECT max("order_date") FROM "orders" HAVING max("order_date") IS NOT NULL', work)


def _apply(pg: PgCon, sh: Any, pg_cols: dict[str, dict[str, str]], lid: int) -> None:
    """Write the load ``lid`` of the shadow into PostgreSQL (module docstring, step 4)."""
    sh_cols: dict[str, dict[str, str]] = {}
    for t, c, typ in sh.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE "
                                "database_name = current_database() AND schema_name = 'main' "
                                "ORDER BY table_name, column_index").fetchall():
        sh_cols.setdefault(t, {})[c] = typ
    for t, cs in sh_cols.items():  # new tables and columns
        data = {c: typ for c, typ in cs.items() if c != ap.ROW_ID}
        if t not in pg_cols:
            pg.execute(f"CREATE TABLE {q(t)} ({', '.join(f'{q(c)} {pg_type(typ)}' for c, typ in data.items())})")
        else:
            for c, typ in data.items():
                if c not in pg_cols[t]:
                    pg.execute(f"ALTER TABLE {q(t)} ADD COLUMN {q(c)} {pg_type(typ)}")
    # the stored rows the load removed (each is in the journal with the row id it had)
    for jt, cs in sh_cols.items():
        base = jt[len(ap.UNDO_PREFIX):]
        if not jt.startswith(ap.UNDO_PREFIX) or ap.ROW_ID not in cs or base not in pg_cols:
            continue
        where = (f"{ap.REPLACED_BY} = {lid} AND {ap.LOAD_COLUMN} IS DISTINCT FROM {lid} "
                 f"AND {ap.ROW_ID} IS NOT NULL")
        n = int(sh.execute(f"SELECT count(DISTINCT {ap.ROW_ID}) FROM {q(jt)} WHERE {where}").fetchone()[0])
        if not n:
            continue
        pg.execute("CREATE TEMP TABLE IF NOT EXISTS sa_gone (c tid) ON COMMIT DROP")
        pg.execute("TRUNCATE sa_gone")
        _copy_in(pg, "sa_gone", ["c"], sh.sql(f"SELECT DISTINCT {ap.ROW_ID} AS c FROM {q(jt)} WHERE {where}")
                 .to_arrow_reader(CHUNK_ROWS))
        gone = pg.execute(f"DELETE FROM {q(base)} WHERE ctid IN (SELECT c FROM sa_gone)").rowcount
        if gone != n:
            raise IngestError(f"internal: {base} changed while the ingest held its lock ({gone} of {n} rows to "
                              "replace found); nothing was stored.")
    # the rows the load added (and the journal lines and the log line it wrote)
    for t, cs in sh_cols.items():
        if t == ap.LOG_TABLE:
            where = f"load_id = {lid}"
        elif t.startswith(ap.UNDO_PREFIX):
            where = f"{ap.REPLACED_BY} = {lid}"
        elif ap.LOAD_COLUMN in cs:
            where = f"{ap.LOAD_COLUMN} = {lid}"
        else:
            continue
        names = [c for c in cs if c != ap.ROW_ID]
        want = int(sh.execute(f"SELECT count(*) FROM {q(t)} WHERE {where}").fetchone()[0])
        if not want:
            continue
        reader = sh.sql(f"SELECT {', '.join(q(c) for c in names)} FROM {q(t)} WHERE {where}").to_arrow_reader(CHUNK_ROWS)
        got = _copy_in(pg, t, names, reader)
        if got != want:
            raise IngestError(f"internal: {got} of {want} rows of {t} written; nothing was stored.")


def commit(url: str, work: Path, ts: Any, st: Any, period: tuple | None, update: bool, as_of: Any, res: Any,
           run: Callable[[Callable[[bool], Any]], None], lock_timeout: float | None = None) -> None:
    """The final step of an ingest into PostgreSQL (module docstring). ``run(open_store)`` runs the
    DuckDB store transaction on the store ``open_store(read_only)`` opens (here: the shadow)."""
    import duckdb

    from .pipeline import _pause

    shadow = work / "shadow.duckdb"
    pg = PgCon(url)
    began = False
    try:
        pg.execute("BEGIN")
        began = True
        pg.lock(lock_timeout)
        cols = pg.columns()
        master = ts.name[: -len(HISTORY_SUFFIX)] if ts.name.endswith(HISTORY_SUFFIX) else ts.name
        import psycopg

        for t in dict.fromkeys([ts.name, master, master + HISTORY_SUFFIX, ap.LOG_TABLE]):
            if t in cols:
                try:
                    pg.execute(f"LOCK TABLE {q(t)} IN SHARE ROW EXCLUSIVE MODE")
                except psycopg.errors.LockNotAvailable:
                    raise StoreError(f"The table {t} of {redact(url)} is being written by another process; the "
                                     "ingest waited for it and changed nothing (set SALES_ANALYSIS_LOCK_TIMEOUT to "
                                     "wait longer).") from None
        _pause("read")
        sh = duckdb.connect(str(shadow))
        try:
            _mirror(pg, sh, cols, work, ts, st, period, update, as_of)
        finally:
            sh.close()
        run(lambda read_only: duckdb.connect(str(shadow), read_only=read_only))
        if res.already_ingested or res.load_id is None:
            return
        sh = duckdb.connect(str(shadow), read_only=True)
        try:
            _apply(pg, sh, cols, res.load_id)
        finally:
            sh.close()
        _pause("insert")
        pg.execute("COMMIT")
        began = False
        _pause("commit")
    except BaseException:
        res.load_id = None
        raise
    finally:
        if began:
            ap.rollback_quietly(pg)
        pg.close()

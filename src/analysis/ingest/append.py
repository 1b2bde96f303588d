"""Append: one file, one transaction on the store; the quarantine file; the ingest log.

The store's write connection is held only for the final step. In one transaction it removes
the replaced period (``--replace-period``), checks the staged rows against the store
(exact duplicates and keys already stored, for tables with a key; references to customers,
products and reps), writes the quarantine lines, appends the accepted rows and records the
file in ``_ingest_log`` (load id, content hash, settings, table, time, accounting). A killed
ingest leaves the store as it was; a report opening the store sees it before or after, never half.

Loads are undoable (:mod:`.loads`): every row a load adds carries its id in the hidden column
``_load_id`` (NULL for rows written otherwise, e.g. by ``demo``), and every row a load removes
(a replaced month, an updated master row, a closed history version) is kept in
``_ingest_undo_<table>`` with ``_replaced_by`` = the load's id.

Quarantine: one line per rejected row in ``<store>.quarantine/<table>.csv`` beside the store file
(UTF-8 with BOM, for Excel): ingested_at, source_file, row, column, code, reason, value (the raw
value of the failing column(s)), values (the whole raw row as JSON, keyed by the file's headers),
load_id.
Cells starting with = + - @ tab or CR are prefixed with ``'`` (CWE-1236). The file is
rewritten atomically (a temporary file renamed over it).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Iterable

from ..contracts import SQL_TYPES, TableSpec, q
from ..errors import IngestError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUARANTINE_COLUMNS = ["ingested_at", "source_file", "row", "column", "code", "reason", "value", "values", "load_id"]
LOG_TABLE = "_ingest_log"
LOAD_COLUMN = "_load_id"  # the load that added a row (hidden column of every table ingest writes)
UNDO_PREFIX = "_ingest_undo_"  # rows a load removed, per table, with the load's id in REPLACED_BY
REPLACED_BY = "_replaced_by"
LOG_COLUMNS = {
    "content_hash": "VARCHAR", "table_name": "VARCHAR", "source_file": "VARCHAR", "ingested_at": "TIMESTAMP",
    "rows_read": "BIGINT", "accepted": "BIGINT", "quarantined": "BIGINT", "duplicates": "BIGINT",
    "identical_kept": "BIGINT", "returns_inferred": "BIGINT", "replace_period": "VARCHAR", "removed": "BIGINT",
    "accounting": "VARCHAR",
    # since loads are undoable (older logs gain these columns; their loads get ids, undoable false)
    "load_id": "BIGINT", "settings_key": "VARCHAR", "settings": "VARCHAR", "mode": "VARCHAR", "as_of": "DATE",
    "updated": "BIGINT", "undoable": "BOOLEAN", "depends_on": "VARCHAR", "undone_at": "TIMESTAMP",
}


def neutralise(value: Any) -> Any:
    """Make a cell safe to open in a spreadsheet (CWE-1236): prefix formula starts with ``'``.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"x\\")"), neutralise("-5"), neutralise("ok")
    ('\\'=HYPERLINK("x")', "'-5", 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


QUARANTINE_DIR_ENV = "SALES_ANALYSIS_QUARANTINE_DIR"


def quarantine_path_for(store_loc: str | None, table: str) -> Path:
    """``<store>.quarantine/<table>.csv`` beside a store file (each store its own); for a warehouse
    URL (PostgreSQL), a folder named after the server, database and schema under
    ``$SALES_ANALYSIS_QUARANTINE_DIR`` or the user's data folder (``$XDG_DATA_HOME``, default
    ``~/.local/share``) ``/sales-analysis/quarantine/``; else data/quarantine/ of the project (an
    in-memory store).

    Examples
    --------
    >>> quarantine_path_for("/srv/sales/warehouse.duckdb", "orders").as_posix()
    '/srv/sales/warehouse.duckdb.quarantine/orders.csv'
    >>> quarantine_path_for("postgresql://sa@db.example:5432/sales?options=-csearch_path%3Dsh", "orders").name
    'orders.csv'
    """
    from ..store import is_url, project_root

    if store_loc and is_url(store_loc):
        return warehouse_quarantine_dir(store_loc) / f"{table}.csv"
    if store_loc and not store_loc.endswith(":memory:"):
        p = Path(store_loc)
        return p.with_name(p.name + ".quarantine") / f"{table}.csv"
    return project_root() / "data" / "quarantine" / f"{table}.csv"


def warehouse_quarantine_dir(url: str) -> Path:
    """The quarantine folder of a warehouse store: ``<base>/<host>-<port>-<database>[-<schema>]``
    (no user name or password in it), ``<base>`` = ``$SALES_ANALYSIS_QUARANTINE_DIR`` or
    ``${XDG_DATA_HOME:-~/.local/share}/sales-analysis/quarantine``.

    Examples
    --------
    >>> warehouse_quarantine_dir("postgresql://sa:pw@127.0.0.1:54329/sales").name
    '127.0.0.1-54329-sales'
    """
    import re
    from urllib.parse import parse_qs, unquote, urlsplit

    u = urlsplit(url)
    db = unquote(u.path.lstrip("/")) or "postgres"
    parts = [u.hostname or "localhost", str(u.port or 5432), db]
    opts = " ".join(parse_qs(u.query).get("options", []))
    m = re.search(r"search_path\s*=\s*([A-Za-z0-9_]+)", unquote(opts))
    if m:
        parts.append(m.group(1))
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))
    base = os.environ.get(QUARANTINE_DIR_ENV)
    if not base:
        base = str(Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
                   / "sales-analysis" / "quarantine")
    return Path(base) / name


def store_file(con: Any) -> str | None:
    """The file of a raw DuckDB connection's current database (None: in memory)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else None


def quarantined_before(path: Path, source: str) -> set[tuple[str, str]]:
    """(row, values) of the lines the quarantine file already holds for ``source``."""
    if not path.exists():
        return set()
    src = neutralise(source)
    seen = set()
    with open(path, encoding="utf-8-sig", newline="") as f:
        for rec in csv.DictReader(f):
            if rec.get("source_file") == src:
                seen.add((rec.get("row", ""), rec.get("values", "")))
    return seen


def write_quarantine(path: Path, rows: Iterable[list[Any]]) -> int:
    """Append lines to the quarantine file atomically (copy + append + rename); lines written."""
    rows = list(rows)
    if not rows:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    old_ok = path.exists() and path.stat().st_size > 0
    if old_ok:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
        if header != QUARANTINE_COLUMNS:  # an older layout: keep it aside, start a new file
            path.replace(path.with_name(f"{path.stem}.old-{dt.datetime.now():%Y%m%d%H%M%S}{path.suffix}"))
            old_ok = False
    with open(tmp, "wb") as out:
        if old_ok:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    out.write(block)
        else:
            out.write("\ufeff".encode())
    with open(tmp, "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        if not old_ok:
            w.writerow(QUARANTINE_COLUMNS)
        for r in rows:
            w.writerow([neutralise(v) for v in r])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return len(rows)


def drop_quarantine_lines(path: Path, load_id: int, ingested_at: str) -> int:
    """Remove the lines one load wrote (its id and time) from a quarantine file, atomically; lines removed."""
    if not path.exists():
        return 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != QUARANTINE_COLUMNS:
        return 0
    i_load, i_when = QUARANTINE_COLUMNS.index("load_id"), QUARANTINE_COLUMNS.index("ingested_at")
    keep = [r for r in rows[1:] if not (len(r) > i_load and r[i_load] == str(load_id) and r[i_when] == ingested_at)]
    gone = len(rows) - 1 - len(keep)
    if gone:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows([rows[0], *keep])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return gone


# ---------------------------------------------------------------------------------------------
# the store side
# ---------------------------------------------------------------------------------------------
def stored_columns(con: Any, table: str, schema: str = "main") -> dict[str, str] | None:
    """{column: SQL type} of a stored table (None when absent). ``con`` is a raw DuckDB connection
    or a :class:`analysis.ingest.warehouse.PgCon` (types then named as DuckDB names them)."""
    if getattr(con, "dialect", "duckdb") == "postgres":
        return con.columns().get(table)
    # (no exception inside the ingest's transaction: an error would abort it)
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name = ? AND table_name = ?", [schema, table]).fetchone()[0]
    if not exists:
        return None
    rows = con.execute(f"DESCRIBE {q(schema)}.{q(table)}").fetchall()
    return {r[0]: r[1] for r in rows} if rows else None


class Catalog:
    """The store's tables and their columns, read once (the store's write lock keeps them still)."""

    def __init__(self, con: Any) -> None:
        self._cols: dict[str, dict[str, str]] = {}
        if getattr(con, "dialect", "duckdb") == "postgres":
            self._cols = con.columns()
            self._rows: dict[str, int] = {}
            return
        for t, c, typ in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = 'main' ORDER BY table_name, column_index").fetchall():
            self._cols.setdefault(t, {})[c] = typ
        self._rows: dict[str, int] = {}

    def columns(self, table: str) -> dict[str, str] | None:
        return self._cols.get(table)

    def tables(self) -> list[str]:
        return list(self._cols)

    def set_columns(self, table: str, cols: dict[str, str]) -> None:
        self._cols[table] = dict(cols)

    def rows(self, con: Any, table: str, fresh: bool = False) -> int:
        """0 or 1: whether the table holds a row."""
        if table not in self._cols:
            return 0
        if fresh or table not in self._rows:
            self._rows[table] = int(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(table)} LIMIT 1) AS x").fetchone()[0])
        return self._rows[table]


def table_rows(con: Any, table: str) -> int:
    if stored_columns(con, table) is None:
        return 0
    return int(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(table)} LIMIT 1) AS x").fetchone()[0])


def ensure_table(con: Any, ts: TableSpec, extras: dict[str, str], notes: list[str],
                 catalog: "Catalog | None" = None) -> dict[str, str]:
    """Create the table (contract + extra columns + ``_load_id``) or add the contract columns and
    ``_load_id`` it lacks; its columns (``_load_id`` included)."""
    have = catalog.columns(ts.name) if catalog is not None else stored_columns(con, ts.name)
    have = dict(have) if have is not None else None
    if have is None:
        cols = {c.name: SQL_TYPES[c.dtype] for c in ts.columns}
        for name, t in extras.items():
            cols.setdefault(name, SQL_TYPES[t])
        cols[LOAD_COLUMN] = "BIGINT"
        con.execute(f"CREATE TABLE {q(ts.name)} ({', '.join(f'{q(n)} {t}' for n, t in cols.items())})")
        if catalog is not None:
            catalog.set_columns(ts.name, cols)
        return cols
    added = []
    for c in ts.columns:
        if c.name not in have:
            con.execute(f"ALTER TABLE {q(ts.name)} ADD COLUMN {q(c.name)} {SQL_TYPES[c.dtype]}")
            have[c.name] = SQL_TYPES[c.dtype]
            added.append(c.name)
    if LOAD_COLUMN not in have:  # rows stored before loads were recorded: no load (NULL), not undoable
        con.execute(f"ALTER TABLE {q(ts.name)} ADD COLUMN {LOAD_COLUMN} BIGINT")
        have[LOAD_COLUMN] = "BIGINT"
    if added:
        notes.append(f"the stored table '{ts.name}' gained the contract column(s) {', '.join(added)}")
    if catalog is not None:
        catalog.set_columns(ts.name, have)
    return have


ROW_ID = "_pg_ctid"  # a warehouse row's id in the local copy an ingest checks against (warehouse.py)


def data_columns(cols: dict[str, str]) -> dict[str, str]:
    """A stored table's columns without the bookkeeping ones (``_load_id``, a warehouse row's id)."""
    return {c: t for c, t in cols.items() if c not in (LOAD_COLUMN, ROW_ID)}


def ensure_log(con: Any, catalog: "Catalog | None" = None) -> None:
    """Create ``_ingest_log``, or add the columns an older log lacks (its loads get ids, not undoable)."""
    have = catalog.columns(LOG_TABLE) if catalog is not None else stored_columns(con, LOG_TABLE)
    if have is None:
        con.execute(f"CREATE TABLE {LOG_TABLE} (" + ", ".join(f"{n} {t}" for n, t in LOG_COLUMNS.items()) + ")")
    else:
        missing = [n for n in LOG_COLUMNS if n not in have]
        for n in missing:
            con.execute(f"ALTER TABLE {LOG_TABLE} ADD COLUMN {n} {LOG_COLUMNS[n]}")
        if "load_id" in missing:
            con.execute(f"""UPDATE {LOG_TABLE} l SET load_id = x.n, undoable = FALSE FROM (
                              SELECT rowid AS r, row_number() OVER (ORDER BY ingested_at, rowid) AS n FROM {LOG_TABLE}) x
                            WHERE l.rowid = x.r""")
    if catalog is not None:
        catalog.set_columns(LOG_TABLE, dict(LOG_COLUMNS))


def next_load_id(con: Any, catalog: "Catalog | None" = None) -> int:
    """The id the next load gets (one more than the largest so far; ids are never reused)."""
    have = catalog.columns(LOG_TABLE) if catalog is not None else stored_columns(con, LOG_TABLE)
    if have is None:
        return 1
    if "load_id" not in have:
        return int(con.execute(f"SELECT count(*) FROM {LOG_TABLE}").fetchone()[0]) + 1
    return int(con.execute(f"SELECT coalesce(max(load_id), count(*)) + 1 FROM {LOG_TABLE}").fetchone()[0])


def already_ingested(con: Any, content_hash: str, table: str, catalog: "Catalog | None" = None,
                     settings_key: str | None = None) -> tuple[str, int | None] | None:
    """(time, load id) of a load of this file's content into ``table`` with the same settings that
    is not undone (None: never). Loads logged before settings were recorded match any settings."""
    have = catalog.columns(LOG_TABLE) if catalog is not None else stored_columns(con, LOG_TABLE)
    if have is None:
        return None
    where = "content_hash = ? AND table_name = ? AND replace_period IS NULL"
    args: list[Any] = [content_hash, table]
    if "settings_key" in have:
        where += " AND (settings_key IS NULL OR settings_key = ?) AND undone_at IS NULL"
        args.append(settings_key or "")
    lid = "load_id" if "load_id" in have else "NULL"
    row = con.execute(f"SELECT ingested_at, {lid} FROM {LOG_TABLE} WHERE {where} ORDER BY ingested_at LIMIT 1",
                      args).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0].isoformat(sep=" ", timespec="seconds"), row[1]


def same_file_other_settings(con: Any, content_hash: str, table: str, settings_key: str,
                             catalog: "Catalog | None" = None) -> list[int]:
    """Ids of live loads of this file's content into ``table`` with other settings."""
    have = catalog.columns(LOG_TABLE) if catalog is not None else stored_columns(con, LOG_TABLE)
    if have is None or "settings_key" not in have:
        return []
    return [r[0] for r in con.execute(
        f"SELECT load_id FROM {LOG_TABLE} WHERE content_hash = ? AND table_name = ? AND settings_key <> ? "
        "AND undone_at IS NULL ORDER BY load_id", [content_hash, table, settings_key]).fetchall()]


def log_ingest(con: Any, res: Any, when: dt.datetime, catalog: "Catalog | None" = None) -> None:
    ensure_log(con, catalog)
    values = {
        "content_hash": res.content_hash, "table_name": res.table, "source_file": res.source, "ingested_at": when,
        "rows_read": res.rows_read, "accepted": res.accepted, "quarantined": res.quarantined,
        "duplicates": res.duplicates, "identical_kept": res.identical_kept, "returns_inferred": res.returns_inferred,
        "replace_period": res.replace_period, "removed": res.removed,
        "accounting": json.dumps(res.to_dict(), ensure_ascii=False, default=str),
        "load_id": res.load_id, "settings_key": res.settings_key,
        "settings": json.dumps(res.settings, ensure_ascii=False, default=str, sort_keys=True),
        "mode": res.mode, "as_of": res.as_of, "updated": res.updated, "undoable": True,
        "depends_on": json.dumps(sorted(res.depends_on)), "undone_at": None,
    }
    con.execute(f"INSERT INTO {LOG_TABLE} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()))


def journal(con: Any, table: str, where: str, load_id: int, catalog: "Catalog | None" = None) -> int:
    """Move the rows of ``table`` matching ``where`` (SQL on its columns) into its undo journal
    (``_ingest_undo_<table>``, with ``_replaced_by`` = ``load_id``) and delete them; rows moved."""
    jt = UNDO_PREFIX + table
    cols = catalog.columns(table) if catalog is not None else stored_columns(con, table)
    jcols = catalog.columns(jt) if catalog is not None else stored_columns(con, jt)
    if jcols is None:
        con.execute(f"CREATE TABLE {q(jt)} AS SELECT *, CAST(NULL AS BIGINT) AS {REPLACED_BY} FROM {q(table)} LIMIT 0")
        jcols = {**cols, REPLACED_BY: "BIGINT"}
    else:
        for c, t in cols.items():
            if c not in jcols:
                con.execute(f"ALTER TABLE {q(jt)} ADD COLUMN {q(c)} {t}")
                jcols[c] = t
    if catalog is not None:
        catalog.set_columns(jt, jcols)
    n = int(con.execute(f"SELECT count(*) FROM {q(table)} WHERE {where}").fetchone()[0])
    if n:
        con.execute(f"INSERT INTO {q(jt)} BY NAME SELECT *, {int(load_id)} AS {REPLACED_BY} FROM {q(table)} WHERE {where}")
        con.execute(f"DELETE FROM {q(table)} WHERE {where}")
    return n


def rollback_quietly(con: Any) -> None:
    """Roll back the open transaction of ``con`` (after an error or a refusal); a connection that
    lost it already (closed, or the error ended it) is left as it is."""
    try:
        con.execute("ROLLBACK")
    except Exception:  # noqa: BLE001
        pass


def refuse_other_engines(con: Any) -> None:
    if getattr(con, "name", "duckdb") != "duckdb":
        raise IngestError(f"ingest writes to a DuckDB store given as a connection; the store given is a {con.name} "
                          "backend (give a PostgreSQL store as its URL, postgresql://…; see docs/WAREHOUSE.md).")

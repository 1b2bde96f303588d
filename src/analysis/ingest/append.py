"""Append: one file, one transaction on the store; the quarantine file; the ingest log.

The store's write connection is held only for the final step. In one transaction it removes
the replaced period (``--replace-period``), checks the staged rows against the store
(exact duplicates and keys already stored, for tables with a key; references to customers,
products and reps), writes the quarantine lines, appends the accepted rows and records the
file in ``_ingest_log`` (content hash, table, time, accounting). A killed ingest leaves the
store as it was; a report opening the store sees it before or after, never half.

Quarantine: one line per rejected row in ``<store folder>/quarantine/<table>.csv`` (UTF-8 with
BOM, for Excel): ingested_at, source_file, row, column, code, reason, value (the raw value of
the failing column(s)), values (the whole raw row as JSON, keyed by the file's headers).
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
QUARANTINE_COLUMNS = ["ingested_at", "source_file", "row", "column", "code", "reason", "value", "values"]
LOG_TABLE = "_ingest_log"
LOG_COLUMNS = {
    "content_hash": "VARCHAR", "table_name": "VARCHAR", "source_file": "VARCHAR", "ingested_at": "TIMESTAMP",
    "rows_read": "BIGINT", "accepted": "BIGINT", "quarantined": "BIGINT", "duplicates": "BIGINT",
    "identical_kept": "BIGINT", "returns_inferred": "BIGINT", "replace_period": "VARCHAR", "removed": "BIGINT",
    "accounting": "VARCHAR",
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


def quarantine_path_for(store_loc: str | None, table: str) -> Path:
    """``<store folder>/quarantine/<table>.csv`` for a file store, else data/quarantine/ of the project."""
    from ..store import is_url, project_root

    if store_loc and not is_url(store_loc) and not store_loc.endswith(":memory:"):
        return Path(store_loc).parent / "quarantine" / f"{table}.csv"
    return project_root() / "data" / "quarantine" / f"{table}.csv"


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


# ---------------------------------------------------------------------------------------------
# the store side
# ---------------------------------------------------------------------------------------------
def stored_columns(con: Any, table: str, schema: str = "main") -> dict[str, str] | None:
    """{column: SQL type} of a stored table (None when absent). ``con`` is a raw DuckDB connection."""
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
        for t, c, typ in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = 'main' ORDER BY table_name, column_index").fetchall():
            self._cols.setdefault(t, {})[c] = typ
        self._rows: dict[str, int] = {}

    def columns(self, table: str) -> dict[str, str] | None:
        return self._cols.get(table)

    def set_columns(self, table: str, cols: dict[str, str]) -> None:
        self._cols[table] = dict(cols)

    def rows(self, con: Any, table: str, fresh: bool = False) -> int:
        """0 or 1: whether the table holds a row."""
        if table not in self._cols:
            return 0
        if fresh or table not in self._rows:
            self._rows[table] = int(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(table)} LIMIT 1)").fetchone()[0])
        return self._rows[table]


def table_rows(con: Any, table: str) -> int:
    if stored_columns(con, table) is None:
        return 0
    return int(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(table)} LIMIT 1)").fetchone()[0])


def ensure_table(con: Any, ts: TableSpec, extras: dict[str, str], notes: list[str],
                 catalog: "Catalog | None" = None) -> dict[str, str]:
    """Create the table (contract + extra columns) or add contract columns it lacks; its columns."""
    have = catalog.columns(ts.name) if catalog is not None else stored_columns(con, ts.name)
    have = dict(have) if have is not None else None
    if have is None:
        cols = {c.name: SQL_TYPES[c.dtype] for c in ts.columns}
        for name, t in extras.items():
            cols.setdefault(name, SQL_TYPES[t])
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
    if added:
        notes.append(f"the stored table '{ts.name}' gained the contract column(s) {', '.join(added)}")
    if catalog is not None:
        catalog.set_columns(ts.name, have)
    return have


def ensure_log(con: Any) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
                + ", ".join(f"{n} {t}" for n, t in LOG_COLUMNS.items()) + ")")


def already_ingested(con: Any, content_hash: str, table: str, catalog: "Catalog | None" = None) -> str | None:
    """The time this file's content was ingested into ``table`` before (None: never)."""
    if (catalog.columns(LOG_TABLE) if catalog is not None else stored_columns(con, LOG_TABLE)) is None:
        return None
    row = con.execute(f"SELECT min(ingested_at) FROM {LOG_TABLE} WHERE content_hash = ? AND table_name = ? "
                      "AND replace_period IS NULL", [content_hash, table]).fetchone()
    return None if row is None or row[0] is None else row[0].isoformat(sep=" ", timespec="seconds")


def log_ingest(con: Any, res: Any, when: dt.datetime) -> None:
    ensure_log(con)
    con.execute(f"INSERT INTO {LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        res.content_hash, res.table, res.source, when, res.rows_read, res.accepted, res.quarantined, res.duplicates,
        res.identical_kept, res.returns_inferred, res.replace_period, res.removed,
        json.dumps(res.to_dict(), ensure_ascii=False, default=str)])


def refuse_other_engines(con: Any) -> None:
    if getattr(con, "name", "duckdb") != "duckdb":
        raise IngestError(f"ingest writes to a DuckDB store; the store given is a {con.name} backend "
                          "(load warehouse tables there with the warehouse's own tools, see docs/WAREHOUSE.md).")

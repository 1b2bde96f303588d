"""Loads: the store's record of ingests, taking one back (undo), and master data that changes.

Every ingest that stores something is a *load* with an id in ``_ingest_log``. The rows it adds
carry the id in the hidden column ``_load_id``; the rows it removes (a replaced month, the old
version of an updated master row, a history version it closed) are moved to
``_ingest_undo_<table>`` with ``_replaced_by`` = its id (:func:`analysis.ingest.append.journal`).
:func:`undo` reverses one load in one transaction: it deletes the rows tagged with the id and
puts back the rows the load removed, and marks the load undone in the log (the same file can
then be ingested again).

A load another live load depends on is not undone: a later load removed or updated rows it
added (they sit in the later load's journal), or skipped or quarantined rows because its rows
held their key. Undo the later loads first (latest first). References are not dependencies:
undoing a customers load may leave order lines whose customer is no longer stored; the output
says how many, and ``check`` lists them.

Master updates (``ingest customers FILE --update``, also products and reps): new keys are
added, stored keys with other values in the file's columns are updated (columns the file lacks
keep their values), keys absent from the file are kept. ``<master>_history`` keeps every
version with ``valid_from`` (inclusive, NULL = since before the data) and ``valid_to``
(exclusive, NULL = still valid): the version valid before the update is closed at the update's
``as_of`` day and the new version starts there. Every row a master load adds also enters the
history as a version valid since before the data (``valid_from`` NULL).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contracts import HISTORY_SUFFIX, MASTER_TABLES, TABLES, q, spec
from ..errors import IngestError, ParameterError
from . import append as ap


# ---------------------------------------------------------------------------------------------
# master updates
# ---------------------------------------------------------------------------------------------
def first_of_next_month(d: dt.date) -> dt.date:
    """The first day of the month after ``d``.

    Examples
    --------
    >>> first_of_next_month(dt.date(2026, 12, 31))
    datetime.date(2027, 1, 1)
    """
    return dt.date(d.year + (d.month == 12), 1 if d.month == 12 else d.month + 1, 1)


def default_as_of(con: Any, catalog: ap.Catalog, today: dt.date | None = None) -> tuple[dt.date, str]:
    """(day, why): the first day of the month after the latest order date in the store, so that an
    update never changes the attribution of sales already stored; without orders, the first day
    of the current month."""
    cols = catalog.columns("orders")
    if cols and "order_date" in cols:
        last = con.execute('SELECT max("order_date") FROM "orders"').fetchone()[0]
        if last is not None:
            last = last.date() if isinstance(last, dt.datetime) else last
            return first_of_next_month(last), (f"the first day after the month of the latest stored order, "
                                               f"{last.isoformat()}; --as-of sets another day")
    t = today or dt.date.today()
    return t.replace(day=1), "the first day of this month, the store holds no orders; --as-of sets another day"


def parse_as_of(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"The 'as_of' parameter of ingest must be a date like 2026-02-01. "
                             f"Got {value!r} instead.") from None


def is_master(table: str) -> bool:
    return table in MASTER_TABLES


def history_columns(table: str) -> list[str]:
    """The master's columns as kept in its history (without valid_from / valid_to)."""
    return [c.name for c in spec(table + HISTORY_SUFFIX).columns if c.name not in ("valid_from", "valid_to")]


def _history(con: Any, table: str, notes: list[str], catalog: ap.Catalog) -> str:
    hist = table + HISTORY_SUFFIX
    ap.ensure_table(con, TABLES[hist], {}, notes, catalog)
    return hist


def apply_update(con: Any, table: str, upd_rel: str, cols: list[str], stored: dict[str, str], load_id: int,
                 as_of: dt.date, res: Any, catalog: ap.Catalog) -> None:
    """Update the stored rows of master ``table`` whose key ``upd_rel`` (rows of the file, columns
    ``cols``) holds with other values; keep every version in the history (module docstring)."""
    ts = spec(table)
    (key,) = ts.key
    k = q(key)
    changed = [c for c in cols if c != key]
    con.execute(f"CREATE OR REPLACE TEMP TABLE sa_new AS SELECT "
                + ", ".join(f"CAST(c.{q(c)} AS {stored[c]}) AS {q(c)}" for c in cols) + f" FROM ({upd_rel}) c")
    if changed:
        counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE t.{q(c)} IS DISTINCT FROM n.{q(c)})"
                                                    for c in changed)
                             + f" FROM sa_new n JOIN {q(table)} t ON t.{k} = n.{k}").fetchone()
        for c, n in zip(changed, counts):
            if n:
                res.changes[c] += int(n)
    hist = _history(con, table, res.notes, catalog)
    day = f"DATE '{as_of.isoformat()}'"
    later = con.execute(f"SELECT count(DISTINCT h.{k}), max(greatest(h.valid_from, h.valid_to)) FROM {q(hist)} h "
                        f"SEMI JOIN sa_new n ON h.{k} = n.{k} WHERE h.valid_from > {day} OR h.valid_to > {day}").fetchone()
    if later[0]:
        raise IngestError(f"--as-of {as_of} is before changes already applied to {later[0]} {table} (the latest "
                          f"takes effect on {later[1]}): apply updates in date order (undo the later load first) "
                          "or give a later --as-of; nothing was changed.")
    con.execute(f"CREATE OR REPLACE TEMP TABLE sa_old AS SELECT t.* FROM {q(table)} t SEMI JOIN sa_new n ON t.{k} = n.{k}")
    in_new = f"{k} IN (SELECT {k} FROM sa_new)"
    ap.journal(con, table, in_new, load_id, catalog)
    repl = ", ".join([f"n.{q(c)} AS {q(c)}" for c in changed] + [f"{load_id} AS {ap.LOAD_COLUMN}"])
    con.execute(f"INSERT INTO {q(table)} BY NAME SELECT o.* REPLACE ({repl}) FROM sa_old o JOIN sa_new n ON o.{k} = n.{k}")
    res.updated = int(con.execute("SELECT count(*) FROM sa_new").fetchone()[0])
    # the history: a same-day version is replaced; the open version is closed at as_of; a key
    # without a version before as_of gets the old row as one; then the new versions
    hcols = history_columns(table)
    hsel = ", ".join(q(c) for c in hcols)
    ap.journal(con, hist, f"{in_new} AND valid_from = {day}", load_id, catalog)
    open_where = f"{in_new} AND valid_to IS NULL AND (valid_from IS NULL OR valid_from < {day})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE sa_hopen AS SELECT * FROM {q(hist)} WHERE {open_where}")
    ap.journal(con, hist, open_where, load_id, catalog)
    con.execute(f"INSERT INTO {q(hist)} BY NAME SELECT * REPLACE ({day} AS valid_to, {load_id} AS {ap.LOAD_COLUMN}) "
                "FROM sa_hopen")
    con.execute(f"""INSERT INTO {q(hist)} BY NAME
                    SELECT {', '.join(f'o.{q(c)}' for c in hcols)}, m.last_to AS valid_from, {day} AS valid_to,
                           {load_id} AS {ap.LOAD_COLUMN}
                    FROM sa_old o LEFT JOIN (SELECT {k}, max(valid_to) AS last_to FROM {q(hist)} GROUP BY {k}) m
                      ON m.{k} = o.{k}
                    WHERE o.{k} NOT IN (SELECT {k} FROM sa_hopen) AND (m.last_to IS NULL OR m.last_to < {day})""")
    con.execute(f"INSERT INTO {q(hist)} BY NAME SELECT {hsel}, {day} AS valid_from, NULL AS valid_to, "
                f"{load_id} AS {ap.LOAD_COLUMN} FROM {q(table)} WHERE {ap.LOAD_COLUMN} = {load_id} AND {in_new}")


def add_new_versions(con: Any, table: str, load_id: int, res: Any, catalog: ap.Catalog, exclude_updated: bool) -> int:
    """Rows of master ``table`` this load added as new keys enter the history, valid since before the data."""
    ts = spec(table)
    (key,) = ts.key
    hist = _history(con, table, res.notes, catalog)
    hsel = ", ".join(q(c) for c in history_columns(table))
    cond = f"{ap.LOAD_COLUMN} = {load_id}"
    if exclude_updated:
        cond += f" AND {q(key)} NOT IN (SELECT {q(key)} FROM sa_new)"
    n = int(con.execute(f"SELECT count(*) FROM {q(table)} WHERE {cond}").fetchone()[0])
    if n:
        con.execute(f"INSERT INTO {q(hist)} BY NAME SELECT {hsel}, NULL::DATE AS valid_from, NULL::DATE AS valid_to, "
                    f"{load_id} AS {ap.LOAD_COLUMN} FROM {q(table)} WHERE {cond}")
    return n


def close_superseded_versions(con: Any, hist: str, load_id: int, catalog: ap.Catalog) -> int:
    """A history file ingested directly (``customers_history``: key, valid_from and some columns):
    each earlier open version of a key is closed where the file's first new version begins, and the
    new versions take the columns the file lacks from the version they follow (else the current
    master row). Returns the versions closed."""
    master = hist[: -len(HISTORY_SUFFIX)]
    (key,) = spec(master).key
    k = q(key)
    cols = catalog.columns(hist) or {}
    # a key whose whole history the file gives (a version valid since before the data) replaces
    # the versions stored for it since before the data (e.g. the one the first customers load
    # wrote): the file says what it was then, today's row does not
    con.execute(f"""CREATE OR REPLACE TEMP TABLE sa_hwhole AS SELECT DISTINCT {k} FROM {q(hist)}
                    WHERE {ap.LOAD_COLUMN} = {load_id} AND valid_from IS NULL""")
    ap.journal(con, hist, f"{ap.LOAD_COLUMN} IS DISTINCT FROM {load_id} AND valid_from IS NULL "
                          f"AND {k} IN (SELECT {k} FROM sa_hwhole)", load_id, catalog)
    day = "n.first_from"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE sa_hnew AS SELECT {k}, min(valid_from) AS first_from FROM {q(hist)}
                    WHERE {ap.LOAD_COLUMN} = {load_id} AND valid_from IS NOT NULL GROUP BY {k}""")
    where = (f"{ap.LOAD_COLUMN} IS DISTINCT FROM {load_id} AND valid_to IS NULL AND EXISTS (SELECT 1 FROM sa_hnew n "
             f"WHERE n.{k} = {q(hist)}.{k} AND ({q(hist)}.valid_from IS NULL OR {q(hist)}.valid_from < {day}))")
    con.execute(f"CREATE OR REPLACE TEMP TABLE sa_hopen AS SELECT * FROM {q(hist)} WHERE {where}")
    n = ap.journal(con, hist, where, load_id, catalog)
    if n:
        con.execute(f"""INSERT INTO {q(hist)} BY NAME SELECT o.* REPLACE (n.first_from AS valid_to,
                          {load_id} AS {ap.LOAD_COLUMN}) FROM sa_hopen o JOIN sa_hnew n ON n.{k} = o.{k}""")
    return n


def fill_from_previous(con: Any, hist: str, load_id: int, present: list[str], catalog: ap.Catalog) -> None:
    """Columns a directly ingested history file lacks: taken from the version each new version
    follows (by valid_from), else from the current master row."""
    master = hist[: -len(HISTORY_SUFFIX)]
    (key,) = spec(master).key
    k = q(key)
    missing = [c for c in history_columns(master) if c not in present and c != key]
    if not missing:
        return
    mcols = catalog.columns(master) or {}
    fill = []
    for c in missing:
        prev = (f"(SELECT p.{q(c)} FROM {q(hist)} p WHERE p.{k} = h.{k} AND p.{ap.LOAD_COLUMN} IS DISTINCT FROM "
                f"{load_id} AND (p.valid_from IS NULL OR p.valid_from < h.valid_from) "
                "ORDER BY p.valid_from DESC NULLS LAST LIMIT 1)")
        cur = f"(SELECT m.{q(c)} FROM {q(master)} m WHERE m.{k} = h.{k} LIMIT 1)" if c in mcols else "NULL"
        fill.append(f"{q(c)} = coalesce({prev}, {cur})")
    con.execute(f"UPDATE {q(hist)} h SET {', '.join(fill)} WHERE h.{ap.LOAD_COLUMN} = {load_id}")


# ---------------------------------------------------------------------------------------------
# the record of loads, and undo
# ---------------------------------------------------------------------------------------------
@dataclass
class Load:
    """One row of the store's ingest log."""

    load_id: int
    table: str
    source: str
    ingested_at: dt.datetime
    mode: str
    added: int
    removed: int
    updated: int
    replace_period: str | None
    as_of: dt.date | None
    undoable: bool
    undone_at: dt.datetime | None
    depends_on: list[int]

    @property
    def live(self) -> bool:
        return self.undone_at is None


def _open(store: Any, read_only: bool, lock_timeout: float | None = None) -> tuple[Any, bool, str]:
    from .. import store as store_mod
    from .pipeline import _store_target

    from . import warehouse as wh

    raw, loc, _ = _store_target(store)
    if raw is not None:
        return raw, False, ap.store_file(raw) or ""
    if wh.is_postgres(loc):
        return wh.PgCon(loc), True, loc
    if loc.endswith(":memory:") or not Path(loc).exists():
        from ..errors import StoreError

        raise StoreError(f"The store file {loc} does not exist. Build it with `sales-analysis demo` "
                         "or load data with `sales-analysis ingest`.")
    return store_mod.duckdb_connect(loc, read_only=read_only, timeout=lock_timeout), True, loc


def _loads(con: Any) -> list[Load]:
    cols = ap.stored_columns(con, ap.LOG_TABLE)
    if cols is None:
        return []
    if "load_id" not in cols:  # a log from before loads had ids: numbered in order, not undoable
        rows = con.execute(f"SELECT row_number() OVER (ORDER BY ingested_at, rowid), table_name, source_file, "
                           f"ingested_at, CASE WHEN replace_period IS NULL THEN 'append' ELSE 'replace' END, "
                           f"accepted, removed, 0, replace_period, NULL, FALSE, NULL, '[]' FROM {ap.LOG_TABLE} "
                           "ORDER BY 1").fetchall()
    else:
        rows = con.execute(f"SELECT load_id, table_name, source_file, ingested_at, coalesce(mode, CASE WHEN "
                           f"replace_period IS NULL THEN 'append' ELSE 'replace' END), accepted, removed, "
                           f"coalesce(updated, 0), replace_period, as_of, coalesce(undoable, FALSE), undone_at, "
                           f"coalesce(depends_on, '[]') FROM {ap.LOG_TABLE} ORDER BY load_id").fetchall()
    return [Load(int(r[0]), r[1], r[2], r[3], r[4], int(r[5] or 0), int(r[6] or 0), int(r[7] or 0), r[8], r[9],
                 bool(r[10]), r[11], list(json.loads(r[12] or "[]"))) for r in rows]


def history(store: Any = None) -> list[Load]:
    """The loads of a store, oldest first (undone ones included, with the time they were undone)."""
    con, owned, _ = _open(store, read_only=True)
    try:
        return _loads(con)
    finally:
        if owned:
            con.close()


def history_text(loads: list[Load]) -> str:
    """``sales-analysis history``: one line per load."""
    if not loads:
        return "no loads: nothing has been ingested into this store"
    head = f"{'load':>5}  {'time':<19}  {'table':<18} {'mode':<18} {'added':>10} {'replaced':>9}  file"
    out = [head]
    for ld in loads:
        mode = ld.mode + (f" {ld.replace_period}" if ld.replace_period else "") + (f" {ld.as_of}" if ld.as_of else "")
        replaced = ld.removed + ld.updated
        state = "" if ld.live else f"  (undone {ld.undone_at:%Y-%m-%d %H:%M:%S})"
        if ld.live and not ld.undoable:
            state = "  (not undoable: loaded before loads were recorded)"
        out.append(f"{ld.load_id:>5}  {ld.ingested_at:%Y-%m-%d %H:%M:%S}  {ld.table:<18} {mode:<18} {ld.added:>10,} "
                   f"{replaced:>9,}  {Path(ld.source).name}{state}")
    return "\n".join(out)


@dataclass
class UndoResult:
    load: Load
    removed: dict[str, int]  # table -> rows the load had added, removed now
    restored: dict[str, int]  # table -> rows the load had removed, put back
    quarantine_lines: int = 0
    orphans: dict[str, int] | None = None  # "orders.customer_id" -> rows now referencing nothing

    def summary(self) -> str:
        ld = self.load
        lines = [f"undone load {ld.load_id}: {ld.table} <- {Path(ld.source).name} ({ld.ingested_at:%Y-%m-%d %H:%M:%S})"]
        for t in sorted(set(self.removed) | set(self.restored)):
            lines.append(f"  {t}: removed {self.removed.get(t, 0):,} rows it added, restored "
                         f"{self.restored.get(t, 0):,} rows it had replaced")
        if self.quarantine_lines:
            lines.append(f"  its {self.quarantine_lines:,} quarantine lines removed")
        for ref, n in (self.orphans or {}).items():
            lines.append(f"note: {n:,} rows of {ref.split('.')[0]} now reference a {ref.split('.')[1]} no longer "
                         "stored (sales-analysis check lists them)")
        lines.append("the file can be ingested again")
        return "\n".join(lines)


def undo(store: Any = None, load_id: int | None = None, lock_timeout: float | None = None) -> UndoResult:
    """Take back one load (default: the latest live one) in one transaction.

    Parameters
    ----------
    store : str, path or Ibis DuckDB backend, optional
        The store (default: the project store).
    load_id : int, optional
        The load (``sales-analysis history``); default the latest load not undone.

    Returns
    -------
    UndoResult
        Rows removed and restored per table.

    Raises
    ------
    IngestError
        No such load, already undone, not undoable (loaded before loads were recorded), or a
        later live load depends on it (named, to undo first).
    """
    con, owned, loc = _open(store, read_only=False, lock_timeout=lock_timeout)
    began = False
    try:
        loads = _loads(con)
        live = [ld for ld in loads if ld.live and ld.undoable]
        if load_id is None:
            if not live:
                raise IngestError("There is no load to undo: no live load in this store's ingest log "
                                  "(sales-analysis history lists the loads).")
            ld = live[-1]
        else:
            ld = next((x for x in loads if x.load_id == int(load_id)), None)
            if ld is None:
                raise IngestError(f"There is no load {load_id} in this store (loads: "
                                  f"{', '.join(str(x.load_id) for x in loads) or 'none'}).")
            if not ld.live:
                raise IngestError(f"Load {load_id} was undone on {ld.undone_at:%Y-%m-%d %H:%M:%S}; nothing to do.")
            if not ld.undoable:
                raise IngestError(f"Load {load_id} was ingested before loads were recorded: its rows are not "
                                  "marked and it cannot be undone (replace its month instead).")
        lid = ld.load_id
        con.execute("BEGIN TRANSACTION")
        began = True
        if getattr(con, "dialect", "duckdb") == "postgres":
            con.lock(lock_timeout)  # one ingest or undo at a time (warehouse.py)
        qrec = con.execute(f"SELECT accounting FROM {ap.LOG_TABLE} WHERE load_id = ?", [lid]).fetchone()
        recorded_q = (json.loads(qrec[0] or "{}").get("quarantine_path") if qrec and qrec[0] else None)
        catalog = ap.Catalog(con)
        tables = [t for t in catalog.tables() if ap.LOAD_COLUMN in (catalog.columns(t) or {}) and not t.startswith("_")]
        journals = {t[len(ap.UNDO_PREFIX):]: t for t in catalog.tables() if t.startswith(ap.UNDO_PREFIX)}
        # who depends on this load: its rows in a later live load's journal, or in its log's depends_on
        later: set[int] = set()
        for jt in journals.values():
            later |= {int(r[0]) for r in con.execute(
                f"SELECT DISTINCT {ap.REPLACED_BY} FROM {q(jt)} WHERE {ap.LOAD_COLUMN} = {lid}").fetchall()}
        later |= {x.load_id for x in loads if x.live and x.load_id > lid and lid in x.depends_on}
        later.discard(lid)
        if later:
            ids = sorted(later, reverse=True)
            raise IngestError(f"Load {lid} cannot be undone: later load(s) {', '.join(map(str, sorted(later)))} "
                              f"replaced, updated or matched rows it added; undo them first, latest first "
                              f"(sales-analysis undo {ids[0]}).")
        removed, restored = {}, {}
        for t in tables:
            n = int(con.execute(f"SELECT count(*) FROM {q(t)} WHERE {ap.LOAD_COLUMN} = {lid}").fetchone()[0])
            if n:
                con.execute(f"DELETE FROM {q(t)} WHERE {ap.LOAD_COLUMN} = {lid}")
                removed[t] = n
        for t, jt in journals.items():
            if catalog.columns(t) is None:
                continue
            n = int(con.execute(f"SELECT count(*) FROM {q(jt)} WHERE {ap.REPLACED_BY} = {lid}").fetchone()[0])
            if n:
                cols = [c for c in catalog.columns(jt) if c != ap.REPLACED_BY and c in catalog.columns(t)]
                sel = ", ".join(q(c) for c in cols)
                con.execute(f"INSERT INTO {q(t)} ({sel}) SELECT {sel} FROM {q(jt)} WHERE {ap.REPLACED_BY} = {lid}")
                con.execute(f"DELETE FROM {q(jt)} WHERE {ap.REPLACED_BY} = {lid}")
                restored[t] = n
        orphans = _orphans(con, catalog, ld.table) if removed.get(ld.table) else {}
        con.execute(f"UPDATE {ap.LOG_TABLE} SET undone_at = ? WHERE load_id = ?",
                    [dt.datetime.now().replace(microsecond=0), lid])
        con.execute("COMMIT")
        began = False
    finally:
        if began:
            ap.rollback_quietly(con)
        if owned:
            con.close()
    res = UndoResult(ld, removed, restored, orphans=orphans)
    if loc:
        when = ld.ingested_at.isoformat()
        # the load's quarantine file as recorded (it may have been given, --quarantine), else the store's
        paths = {ap.quarantine_path_for(loc, t) for t in {ld.table, *removed}}
        if recorded_q:
            paths.add(Path(recorded_q))
        for p in paths:
            res.quarantine_lines += ap.drop_quarantine_lines(p, lid, when)
    return res


def _orphans(con: Any, catalog: ap.Catalog, table: str) -> dict[str, int]:
    """Rows of other tables whose reference to ``table`` no longer finds a row (after an undo)."""
    out = {}
    for name, ts in TABLES.items():
        for col, ref in ts.references.items():
            cols = catalog.columns(name)
            if ref != table or not cols or col not in cols or col not in (catalog.columns(ref) or {}):
                continue
            if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(ref)} LIMIT 1) AS x").fetchone()[0]:
                continue  # an empty master: references are not checked (as at ingest)
            n = int(con.execute(f"SELECT count(*) FROM {q(name)} t WHERE t.{q(col)} IS NOT NULL AND NOT EXISTS "
                                f"(SELECT 1 FROM {q(ref)} r WHERE r.{q(col)} = t.{q(col)})").fetchone()[0])
            if n:
                out[f"{name}.{col}"] = n
    return out

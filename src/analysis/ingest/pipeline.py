"""``ingest_file``: read → normalise → validate → append, in DuckDB.

All parsing and checking happens in a temporary DuckDB work database; the store's write
connection is held only for the final transaction (:mod:`.append`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..contracts import HISTORY_SUFFIX, SQL_TYPES, GradeBands, Settings, q, spec
from ..errors import IngestError, ParameterError
from . import append as ap
from . import loads as ld
from .normalise import ColumnPlan, conversion_text, install_macros, load_mapping, missing_required, plan_columns
from .read import Source, content_hash, file_kind, load_source
from .result import IngestResult
from .validate import Staging, in_file_duplicates, stage

WORK_MEMORY_ENV = "SALES_ANALYSIS_INGEST_MEMORY_LIMIT"
DEFAULT_WORK_MEMORY = "800MB"  # with Python's own, the process stays under 1.5 GB


def parse_period(text: str | None) -> tuple[dt.date, dt.date, str] | None:
    """``"2026-10"`` (also 2026年10月, 202610) → (first day, first day of next month, "2026-10")."""
    import re

    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?\s*", str(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ParameterError(f"The 'replace_period' parameter of ingest must be a month like 2026-10. Got {text!r} instead.")
    y, mo = int(m.group(1)), int(m.group(2))
    start = dt.date(y, mo, 1)
    end = dt.date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return start, end, f"{y:04d}-{mo:02d}"


def _store_target(store: Any) -> tuple[Any, str, bool]:
    """(raw DuckDB connection or None, location, owned): where the rows go."""
    from .. import store as store_mod

    if store is not None and hasattr(store, "list_tables"):
        ap.refuse_other_engines(store)
        return store.con, "", False
    loc = store_mod.resolve_store(store)
    if store_mod.is_url(loc):
        from . import warehouse as wh

        wh.refuse_spark(loc)
        if wh.is_postgres(loc):
            return None, loc, True
        scheme, rest = loc.split("://", 1)
        if scheme.lower() != "duckdb" or not rest.startswith("/"):
            raise IngestError(f"ingest writes to a DuckDB or PostgreSQL store; {loc!r} is neither "
                              "(docs/WAREHOUSE.md, Loading exports into a warehouse).")
        loc = rest
    return None, loc, True


def _work_config() -> dict[str, Any]:
    from ..store import duckdb_config

    cfg: dict[str, Any] = dict(duckdb_config())
    cfg["memory_limit"] = os.environ.get(WORK_MEMORY_ENV) or cfg.get("memory_limit") or DEFAULT_WORK_MEMORY
    cfg["preserve_insertion_order"] = True
    return cfg


def ingest_file(
    table: str,
    path: str | os.PathLike,
    store: Any = None,
    mapping: str | os.PathLike | dict | None = None,
    *,
    today: dt.date | None = None,
    quarantine_path: str | os.PathLike | None = None,
    replace_period: str | None = None,
    sheet: str | None = None,
    date_min: dt.date | str | None = None,
    grade_bands: str | GradeBands | None = None,
    lock_timeout: float | None = None,
    force: bool = False,
    update: bool = False,
    as_of: dt.date | str | None = None,
    header_row: int | str | None = None,
) -> IngestResult:
    """Read, normalise and validate a file; append accepted rows in one transaction; quarantine the rest.

    Parameters
    ----------
    table : str
        Canonical table (see :data:`analysis.contracts.TABLES`).
    path : str or path
        CSV/text (UTF-8, UTF-8 with BOM, GB18030/GBK, UTF-16 with BOM; comma, tab, semicolon or
        bar separated), XLSX, XLS, XLSB, ODS or Parquet file. Never modified.
    store : str, path, Ibis DuckDB backend or None
        Where to append (default: the project store).
    mapping : YAML path or dict, optional
        ``{source header: canonical column}``, applied before the built-in aliases.
    today : datetime.date, optional
        The day "after tomorrow" is counted from (default: today).
    quarantine_path : path, optional
        Where rejected rows go (default ``<store>.quarantine/<table>.csv``, beside the store file).
    replace_period : str, optional
        A month (``2026-10``): that month's rows of the table are replaced by the file's, in the
        same transaction; rows of the file outside the month are quarantined. Refused when no
        row of the file lies in the month, and when the month would keep less than half its
        rows (unless ``force``).
    sheet : str, optional
        The sheet of a spreadsheet (default: the first).
    date_min : date or ISO string, optional
        Start of the plausibility window for dates (default 1990-01-01).
    grade_bands : str or GradeBands, optional
        Grade bands deriving customers' size class (default ``1-10:small,11-20:medium,21-30:large``).
    lock_timeout : float, optional
        Seconds to wait for a store held by another process (default ``$SALES_ANALYSIS_LOCK_TIMEOUT`` or 30).
    force : bool
        Replace a month even when it would lose more than half its rows.
    update : bool
        Master tables (customers, products, reps): apply a newer export. New keys are added,
        stored keys with other values are updated, absent keys kept; ``<table>_history`` keeps
        every version (see :mod:`.loads`).
    as_of : date or ISO string, optional
        With ``update``: the day the changes take effect (default: the first day of the month
        after the latest stored order date; without orders, the first day of this month).
    header_row : int or str, optional
        The header's row as the sheet numbers it (``3``, or ``2-3`` for a header over two rows);
        default: found (:mod:`analysis.ingest.header`). Part of the load's settings.

    Returns
    -------
    IngestResult
        Accounting (``rows_read == accepted + quarantined + duplicates``), reasons, notes.

    Raises
    ------
    IngestError
        The file cannot be read as a table, a required column is missing, a unit is unknown, a
        replaced month would be emptied or lose most of its rows, an update is older than one
        already applied. The store is then unchanged.

    Examples
    --------
    >>> r = ingest_file("orders", "orders.csv", store="/tmp/s.duckdb")  # doctest: +SKIP
    >>> r.rows_read == r.accepted + r.quarantined + r.duplicates  # doctest: +SKIP
    True
    """
    from .. import store as store_mod

    ts = spec(table)
    path = Path(path)
    period = parse_period(replace_period)
    if period is not None and ts.period_column is None:
        raise ParameterError(f"The 'replace_period' parameter of ingest applies to tables with a date "
                             f"(orders, targets, visits, feedback, compensation). Got {replace_period!r} for "
                             f"'{table}' instead.")
    if update and not ld.is_master(table):
        raise ParameterError(f"The 'update' parameter of ingest applies to the master tables "
                             f"({', '.join(ld.MASTER_TABLES)}). Got it for '{table}' instead.")
    if as_of is not None and not update:
        raise ParameterError(f"The 'as_of' parameter of ingest applies with --update. Got {as_of!r} without it instead.")
    as_of = ld.parse_as_of(as_of)
    if isinstance(date_min, str):
        try:
            date_min = dt.date.fromisoformat(date_min)
        except ValueError:
            raise ParameterError(f"The 'date_min' parameter of ingest must be a date like 1990-01-01. "
                                 f"Got {date_min!r} instead.") from None
    settings = Settings(date_min=date_min or Settings().date_min, today=today, grade_bands=GradeBands.parse(grade_bands))
    user_map = load_mapping(mapping)
    if not path.is_file():
        raise IngestError(f"{path} cannot be read as a table: no such file.")
    raw_con, loc, owned = _store_target(store)
    from . import warehouse as wh

    res = IngestResult(table=table, source=str(path), store=wh.redact(loc),
                       replace_period=period[2] if period else None)
    res.mode = "replace" if period else "update" if update else "append"
    if raw_con is not None and not loc:
        loc_q = ap.store_file(raw_con)
    else:
        loc_q = loc or None
    qpath = Path(quarantine_path) if quarantine_path else ap.quarantine_path_for(loc_q, table)
    res.quarantine_path = str(qpath)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        res.timings[name] = round(now - clock, 3)
        clock = now

    res.content_hash = content_hash(path) + _sheet_key(path, sheet)
    res.file_format = file_kind(path)
    pg = wh.is_postgres(loc)
    file_store = owned and not pg and not loc.endswith(":memory:")

    def open_store(read_only: bool):
        if raw_con is not None:
            return raw_con
        if pg:
            return wh.PgCon(loc)
        return store_mod.duckdb_connect(loc, read_only=read_only, timeout=lock_timeout,
                                        config={"memory_limit": _work_config()["memory_limit"]})

    # what the store already holds (briefly, read-only): the ingest log and the table's columns
    stored_cols: dict[str, str] | None = None
    known_file = False
    if raw_con is not None or pg or (file_store and Path(loc).exists()):
        con = open_store(read_only=True)
        try:
            stored_cols = ap.stored_columns(con, table)
            log_cols = ap.stored_columns(con, ap.LOG_TABLE)
            known_file = bool(log_cols) and con.execute(
                f"SELECT count(*) FROM {ap.LOG_TABLE} WHERE content_hash = ? AND table_name = ?",
                [res.content_hash, table]).fetchone()[0] > 0
        finally:
            if raw_con is None:
                con.close()

    work = Path(tempfile.mkdtemp(prefix="sales-ingest-"))
    try:
        import duckdb

        w = duckdb.connect(str(work / "work.duckdb"), config=_work_config())
        try:
            w.execute(f"SET temp_directory = '{work / 'spill'}'")
            install_macros(w)
            lap("hash")
            src = load_source(w, path, work, sheet, materialise=ts.keep_extra or ts.name == "customers",
                              table=table, mapping=user_map, header_row=header_row)
            lap("read")
            res.file_format, res.encoding, res.sheet = src.format, src.encoding, src.sheet
            res.notes += src.notes

            def sample(i: int) -> list[str]:
                if src.relation != "src":
                    return []
                return [r[0] for r in w.execute(f"SELECT c{i} FROM src WHERE trim(c{i}) <> '' LIMIT 200").fetchall()]

            plans, unused = plan_columns(table, src.headers, user_map, source=path.name, sample=sample)
            missing = missing_required(ts, {p.name for p in plans})
            if missing:
                raise IngestError(
                    f"{path.name}: required column {missing} of table '{table}' is missing; "
                    f"columns found: {', '.join(src.headers) or '(none)'}.")
            plans = _type_extras(w, plans, stored_cols, res)
            res.columns = {p.header: p.name for p in plans if not p.extra}
            res.extra_columns = [p.name for p in plans if p.extra]
            res.conversions = {p.header: conversion_text(p) for p in plans if p.factor}
            used = {p.header for p in plans}
            res.dropped_columns = [h for h in unused if h not in used]
            if res.extra_columns:
                res.notes.append(f"extra columns kept: {', '.join(res.extra_columns)}")
            _settings(res, sheet=src.sheet or sheet, header_row=header_row, mapping=user_map, settings=settings,
                      plans=plans, update=update)
            if known_file and period is None:  # the same file with the same settings: nothing to do
                con = open_store(read_only=True)
                try:
                    hit = ap.already_ingested(con, res.content_hash, table, settings_key=res.settings_key)
                finally:
                    if raw_con is None:
                        con.close()
                if hit:
                    res.already_ingested, res.already_ingested_load = hit
                    return res
            bands = settings.grade_bands.size_class_sql('"grade"')
            st = stage(w, src, plans, ts, settings, bands_sql=bands, period=period)
            lap("stage")
            typed = st.typed
            in_file_duplicates(w, st, typed)
            n_all, n_blank = w.execute("SELECT count(*), count(*) FILTER (WHERE __blank) FROM staged").fetchone()
            res.blank_rows = int(n_blank)
            if n_blank:
                res.notes.append("entirely blank rows are skipped (not counted as read)")
            res.rows_read = int(n_all) - int(n_blank) + len(src.rejects)
            if period is not None:
                _refuse_an_empty_period(w, ts, period, path)
            w.execute("CHECKPOINT")
        finally:
            w.close()
        lap("duplicates")
        if pg:  # checked in a local copy of what the checks read, written in one PostgreSQL transaction
            wh.commit(loc, work, ts, st, period, update, as_of, res, run=lambda open_shadow: _commit(
                open_shadow, None, work, ts, src, st, typed, plans, period, res, qpath, force=force,
                update=update, as_of=as_of, today=today, pauses=False), lock_timeout=lock_timeout)
        else:
            _commit(open_store, raw_con, work, ts, src, st, typed, plans, period, res, qpath,
                    force=force, update=update, as_of=as_of, today=today)
        lap("commit")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if res.rows_read == 0:
        res.notes.append("the file has a header but no data rows: nothing to ingest")
    return res


def _accepts(fn: Any, name: str) -> bool:
    """Whether ``fn`` takes the keyword ``name`` (the reader's options grow on their own)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _settings(res: IngestResult, *, sheet: str | None, header_row: int | None, mapping: dict, settings: Settings,
              plans: list[ColumnPlan], update: bool) -> None:
    """What besides the file's content makes a load: the sheet, the header row, the mapping, the
    columns and units as read, the plausibility window and grade bands, an update. A file loaded
    again with other settings is another load; with the same settings it is "already ingested"."""
    res.settings = {
        "sheet": sheet, "header_row": header_row, "mapping": dict(sorted(mapping.items())),
        "columns": {p.header: p.name for p in plans},
        "units": {p.header: [p.unit, p.factor] for p in plans if p.factor or p.unit},
        "date_min": settings.date_min.isoformat(), "grade_bands": settings.grade_bands.bands, "update": update,
    }
    text = json.dumps(res.settings, ensure_ascii=False, sort_keys=True, default=str)
    res.settings_key = hashlib.sha256(text.encode()).hexdigest()[:16]


def _refuse_an_empty_period(w: Any, ts: Any, period: tuple, path: Path) -> None:
    """``--replace-period``: no row of the file in the month would only delete it. Refused."""
    start, end, label = period
    pc = q(ts.period_column)
    n_in, lo, hi = w.execute(f"SELECT count(*) FILTER (WHERE {pc} >= DATE '{start}' AND {pc} < DATE '{end}'), "
                             f"min({pc}), max({pc}) FROM staged WHERE NOT __blank").fetchone()
    if n_in:
        return
    n_rows = w.execute("SELECT count(*) FROM staged WHERE NOT __blank").fetchone()[0]
    found = (f"its {ts.period_column} values run from {lo} to {hi}" if lo is not None else
             f"no {ts.period_column} of its {n_rows:,} rows reads as a date" if n_rows else "it has no data rows")
    raise IngestError(f"{path.name} has no row in {label} ({found}): replacing {label} with it would only delete "
                      f"that month; nothing was changed. Check --replace-period and the file.")


def _sheet_key(path: Path, sheet: str | None) -> str:
    """``#<sheet>`` for a spreadsheet (each sheet of a workbook is its own file for the log), else ''."""
    from .read import SPREADSHEETS, file_kind, sheet_names

    kind = file_kind(path)
    if kind not in SPREADSHEETS:
        if sheet is not None:
            raise IngestError(f"The 'sheet' parameter of ingest applies to spreadsheets. Got {sheet!r} for "
                              f"{path.name}, a {kind} file, instead.")
        return ""
    names = sheet_names(path)
    if sheet is not None and sheet not in names:
        raise IngestError(f"The 'sheet' parameter of ingest must be a sheet of {path.name} "
                          f"({', '.join(names)}). Got {sheet!r} instead.")
    return "#" + (sheet if sheet is not None else (names[0] if names else ""))


def _type_extras(w: Any, plans: list[ColumnPlan], stored: dict[str, str] | None, res: IngestResult) -> list[ColumnPlan]:
    """Extra columns (hr_snapshot): typed as stored; new ones as float when every value is a number, else text.
    A new extra column that the stored table lacks is not used (the table's schema is not altered)."""
    from ..contracts import logical_type  # noqa: F401 - documented counterpart for Ibis types

    out = []
    back = {"VARCHAR": "str", "DOUBLE": "float", "BIGINT": "int", "INTEGER": "int", "BOOLEAN": "bool", "DATE": "date"}
    for p in plans:
        if not p.extra:
            out.append(p)
            continue
        if stored is not None:
            if p.name in stored:
                p.dtype = back.get(stored[p.name].upper(), "str")
                out.append(p)
            else:
                res.dropped_columns.append(p.header)
            continue
        ok = w.execute(f"SELECT bool_and(sa_num(sa_clean(c{p.index})) IS NOT NULL OR sa_clean(c{p.index}) IS NULL) "
                       "FROM src").fetchone()[0]
        p.dtype = "float" if ok in (True, None) else "str"
        out.append(p)
    return out


def _commit(open_store, raw_con, work: Path, ts, src: Source, st: Staging, typed: list[str], plans, period,
            res: IngestResult, qpath: Path, *, force: bool = False, update: bool = False,
            as_of: dt.date | None = None, today: dt.date | None = None, pauses: bool = True) -> None:
    """The one transaction on the store (see :mod:`.append`); ``pauses``: the test hook's points
    (:data:`STOP_ENV`) are here (off when the store is a warehouse's local copy)."""
    pause = _pause if pauses else (lambda point: None)
    con = open_store(read_only=False)
    table = ts.name
    stamp = dt.datetime.now().replace(microsecond=0)
    attached = False
    began = False
    try:
        # the store's tables, read before the work database is attached (listing the catalog
        # with it attached is slow) and while this connection holds the store's write lock
        catalog = ap.Catalog(con)
        wpath = str(work / "work.duckdb").replace("'", "''")
        con.execute(f"ATTACH '{wpath}' AS sa_work (READ_ONLY)")
        attached = True
        pause("read")
        con.execute("BEGIN TRANSACTION")
        began = True
        if period is None:
            hit = ap.already_ingested(con, res.content_hash, table, catalog, res.settings_key)
            if hit:  # another ingest of the same file committed while this one was reading
                con.execute("ROLLBACK")
                began = False
                _reset(res)
                res.already_ingested, res.already_ingested_load = hit
                return
        res.other_loads = ap.same_file_other_settings(con, res.content_hash, table, res.settings_key, catalog)
        load_id = ap.next_load_id(con, catalog)
        res.load_id = load_id
        extras = {p.name: p.dtype for p in plans if p.extra}
        stored = ap.ensure_table(con, ts, extras, res.notes, catalog)
        has_rows = catalog.rows(con, table) > 0
        if update:
            if as_of is None:
                res.as_of, res.as_of_rule = ld.default_as_of(con, catalog, today)
            else:
                res.as_of, res.as_of_rule = as_of, "--as-of"
        if period is not None:
            start, end, _ = period
            pc = q(ts.period_column)
            res.removed = ap.journal(con, table, f"{pc} >= DATE '{start}' AND {pc} < DATE '{end}'", load_id, catalog)
            has_rows = catalog.rows(con, table, fresh=True) > 0
        cols = [c for c in typed if c in stored]
        lost = [c for c in typed if c not in stored]
        if lost:
            res.notes.append(f"the stored table '{table}' has no column {', '.join(lost)}: not stored")
        rel = st.rel("sa_work", columns=[*typed, *st.flags(), "__blank", "__why"])
        base = (f"SELECT * FROM {rel} s WHERE NOT s.__blank AND s.__why IS NULL "
                "AND s.__rid NOT IN (SELECT __rid FROM sa_work.dup)")
        # kind: dup (an exact copy of a stored row: skipped), key (key stored with other values:
        # quarantined), upd (the same, with --update: applied), ref:<column> (no such reference);
        # src_load: the load whose stored row it met (this load then depends on it)
        con.execute("CREATE OR REPLACE TEMP TABLE sa_fail (__rid BIGINT, __row BIGINT, kind VARCHAR, src_load BIGINT)")
        if st.keyed and has_rows:
            key_eq = " AND ".join(f"t.{q(k)} = CAST(c.{q(k)} AS {stored[k]})" for k in st.key)
            if update:  # the file's columns decide; columns it lacks keep their stored values
                same = " AND ".join(f"t.{q(c)} IS NOT DISTINCT FROM CAST(c.{q(c)} AS {stored[c]})"
                                    for c in cols if c not in st.key) or "TRUE"
            else:
                same = " AND ".join(
                    (f"t.{q(c)} IS NOT DISTINCT FROM CAST(c.{q(c)} AS {stored[c]})" if c in cols else f"t.{q(c)} IS NULL")
                    for c in ap.data_columns(stored))
            clash = "'upd'" if update else "'key'"
            con.execute(f"""INSERT INTO sa_fail SELECT c.__rid, c.__row,
                              CASE WHEN bool_or({same}) THEN 'dup' ELSE {clash} END, any_value(t.{ap.LOAD_COLUMN})
                            FROM ({base}) c JOIN {q(table)} t ON {key_eq} GROUP BY c.__rid, c.__row""")
        for col, ref in ts.references.items():
            if col not in cols:
                continue
            ref_cols = catalog.columns(ref)
            if not ref_cols or col not in ref_cols or catalog.rows(con, ref) == 0:
                continue
            con.execute(f"""INSERT INTO sa_fail SELECT c.__rid, c.__row, 'ref:{col}', NULL FROM ({base}) c
                            WHERE c.{q(col)} IS NOT NULL
                              AND c.__rid NOT IN (SELECT __rid FROM sa_fail WHERE kind = 'dup')
                              AND NOT EXISTS (SELECT 1 FROM {q(ref)} r
                                              WHERE CAST(r.{q(col)} AS VARCHAR) = CAST(c.{q(col)} AS VARCHAR))""")
        # quarantine
        key_id = st.reason_id("+".join(st.key), "unique_key", key=", ".join(st.key)) if st.key else -1
        clash_id = st.reason_id("+".join(st.key), "key_in_store", key=", ".join(st.key)) if st.key else -1
        ref_ids = {col: st.reason_id(col, "reference", column=col, table=ref) for col, ref in ts.references.items()}
        ref_case = " ".join(f"WHEN 'ref:{c}' THEN {i}" for c, i in ref_ids.items())
        con.execute(f"""CREATE OR REPLACE TEMP TABLE sa_q AS
            SELECT __rid, any_value(__row) AS __row, flatten(list(ids)) AS ids FROM (
              SELECT __rid, __row, __why AS ids FROM {st.rel('sa_work', columns=['__blank', '__why'])}
                WHERE NOT __blank AND __why IS NOT NULL
                  AND __rid NOT IN (SELECT __rid FROM sa_work.dup WHERE kind = 'dup')
              UNION ALL SELECT __rid, __row, [{key_id}] FROM sa_work.dup WHERE kind = 'key'
              UNION ALL SELECT __rid, __row, [CASE kind WHEN 'key' THEN {clash_id} {ref_case} END]
                FROM sa_fail WHERE kind NOT IN ('dup', 'upd')
            ) GROUP BY __rid""")
        # accepted: new rows (appended) and, with --update, changed rows of stored keys (applied)
        acc = f"{base} AND s.__rid NOT IN (SELECT __rid FROM sa_fail WHERE kind <> 'upd')"
        upd = "s.__rid IN (SELECT __rid FROM sa_fail WHERE kind = 'upd')"
        flags = []
        if st.returns_inferred_col:
            flags.append("count(*) FILTER (WHERE __ret_inferred)")
        if st.size_derived_col:
            flags.append("count(*) FILTER (WHERE __size_derived)")
        if not st.keyed and cols:
            flags.append(f"count(*) - count(DISTINCT row({', '.join(q(c) for c in cols)}))")
        stats = con.execute(f"SELECT count(*), {', '.join(flags) or '0'} FROM ({acc})").fetchone()
        res.accepted = int(stats[0])
        i = 1
        if st.returns_inferred_col:
            res.returns_inferred = int(stats[i])
            i += 1
        if st.size_derived_col:
            res.sizes_derived = int(stats[i])
            i += 1
        if not st.keyed and cols:
            res.identical_kept = int(stats[i] or 0)
        res.duplicates_in_file = int(con.execute(
            "SELECT count(*) FROM sa_work.dup WHERE kind = 'dup'").fetchone()[0])
        res.duplicates_in_store = int(con.execute("SELECT count(*) FROM sa_fail WHERE kind = 'dup'").fetchone()[0])
        res.depends_on = [int(r[0]) for r in con.execute(
            "SELECT DISTINCT src_load FROM sa_fail WHERE src_load IS NOT NULL AND kind IN ('dup', 'key') "
            "ORDER BY 1").fetchall()]
        if period is not None and not force and res.accepted * 2 < res.removed:
            raise IngestError(
                f"--replace-period {period[2]} would remove {res.removed:,} rows of {table} and add {res.accepted:,}: "
                f"the month would lose more than half its rows; nothing was changed. Check the month and the file, "
                f"or pass --force to replace it anyway.")
        _write_quarantine_rows(con, src, st, plans, res, qpath, stamp)
        # append
        if res.accepted:
            new = f"{acc} AND NOT {upd}" if update else acc
            sel = ", ".join(f"CAST({q(c)} AS {stored[c]})" for c in cols)
            # in the file's order: the scan keeps it (preserve_insertion_order), no sort needed
            con.execute(f"INSERT INTO {q(table)} ({', '.join(q(c) for c in cols)}, {ap.LOAD_COLUMN}) "
                        f"SELECT {sel}, {load_id} FROM ({new})")
            n_upd = int(con.execute(f"SELECT count(*) FROM ({acc} AND {upd})").fetchone()[0]) if update else 0
            res.new_keys = res.accepted - n_upd
            if n_upd:
                ld.apply_update(con, table, f"{acc} AND {upd}", cols, stored, load_id, res.as_of, res, catalog)
        if update:
            (k,) = ts.key
            res.kept_keys = int(con.execute(
                f"SELECT count(*) FROM {q(table)} WHERE {q(k)} IS NOT NULL AND {q(k)} NOT IN "
                f"(SELECT CAST({q(k)} AS {stored[k]}) FROM sa_work.staged WHERE {q(k)} IS NOT NULL)").fetchone()[0])
        if ld.is_master(table) and res.accepted:
            ld.add_new_versions(con, table, load_id, res, catalog, exclude_updated=update and res.updated > 0)
        if table.endswith(HISTORY_SUFFIX) and res.accepted:
            closed = ld.close_superseded_versions(con, table, load_id, catalog)
            ld.fill_from_previous(con, table, load_id, cols, catalog)
            master = table[: -len(HISTORY_SUFFIX)]
            res.notes.append(f"{closed:,} earlier open version(s) closed where the new ones begin; columns the file "
                             f"lacks are taken from the version before; the current {master} table is unchanged "
                             f"(a newer {master} export applies with --update)")
        if not res.balanced:  # a bug, never data: leave the store as it was
            raise IngestError(f"internal: the accounting does not balance (read {res.rows_read}, accepted "
                              f"{res.accepted}, quarantined {res.quarantined}, duplicates {res.duplicates}); "
                              "nothing was stored.")
        if ld.is_master(table) and res.codes.get("key_in_store"):
            res.notes.append(f"{res.codes['key_in_store']:,} rows have a key already stored with other values: to "
                             f"apply a newer export of {table}, ingest it with --update (changes are kept as history)")
        ap.log_ingest(con, res, stamp, catalog)
        pause("insert")
        con.execute("COMMIT")
        began = False
        pause("commit")
    except BaseException:
        res.load_id = None
        raise
    finally:
        if began:
            ap.rollback_quietly(con)
        if attached:
            try:
                con.execute("DETACH sa_work")
            except Exception:  # noqa: BLE001
                pass
        if raw_con is None:
            con.close()


#: Test hook: ``SALES_ANALYSIS_INGEST_STOP_AT=read|insert|commit`` stops the process (SIGSTOP)
#: there, so that a test kills it at a known point of the transaction, without timing.
STOP_ENV = "SALES_ANALYSIS_INGEST_STOP_AT"


def _pause(point: str) -> None:
    if os.environ.get(STOP_ENV) == point:
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


def _reset(res: IngestResult) -> None:
    res.rows_read = res.accepted = res.quarantined = 0


def _write_quarantine_rows(con: Any, src: Source, st: Staging, plans: list[ColumnPlan], res: IngestResult,
                           qpath: Path, stamp: dt.datetime) -> None:
    seen = ap.quarantined_before(qpath, str(src.path.resolve()))
    header_of = {p.name: p for p in plans}
    n = len(src.headers)
    source = str(src.path.resolve())
    when = stamp.isoformat()
    lines: list[list[Any]] = []

    def add(row: int, values: dict, reasons: list) -> None:
        codes = list(dict.fromkeys(r.code for r in reasons))
        columns = list(dict.fromkeys(r.column for r in reasons))
        for m in dict.fromkeys(r.message for r in reasons):
            res.reasons[m] += 1
        for c in codes:
            res.codes[c] += 1
        res.quarantined += 1
        vj = json.dumps(values, ensure_ascii=False)
        if (str(row), vj) in seen:
            res.already_quarantined += 1
            return
        parts = dict.fromkeys(p for c in columns for p in c.split("+"))
        value = "; ".join(str(values.get(header_of[p].header) or "") for p in parts if p in header_of)
        lines.append([when, source, row, "; ".join(columns), "; ".join(codes),
                      "; ".join(dict.fromkeys(r.text for r in reasons)), value, vj, res.load_id])

    for rj in src.rejects:
        from .validate import Reason
        from ..contracts import RULES

        add(rj.row, rj.values, [Reason("(row)", rj.code, RULES[rj.code].format(**rj.params))])
    # rows rejected after staging (keys, references, the store) have no raw text in staged: read
    # the source again (in file order, so its rowids are staged's) for those rows only
    later = con.execute("SELECT count(*) FROM sa_q qq JOIN sa_work.staged s ON s.rowid = qq.__rid "
                        "WHERE s.__why IS NULL AND s.__rowx IS NULL").fetchone()[0]
    if later and n:
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"CREATE OR REPLACE TEMP TABLE sa_raw AS SELECT {', '.join(f'c{i}' for i in range(n))} "
                    f"FROM {st.raw_source}")
        # (rows written inside a transaction get rowids from a large offset: count from the first)
        first = con.execute("SELECT min(rowid) FROM sa_raw").fetchone()[0] or 0
        raw = ", ".join(f"coalesce(s.c{i}, r.c{i})" for i in range(n))
        join = f"LEFT JOIN sa_raw r ON r.rowid - {int(first)} = qq.__rid AND s.__rowx IS NULL"
    else:
        raw = ", ".join(f"s.c{i}" for i in range(n))
        join = ""
    cur = con.execute(f"SELECT qq.__row, qq.ids{', ' + raw if raw else ''} FROM sa_q qq "
                      f"JOIN sa_work.staged s ON s.rowid = qq.__rid {join} ORDER BY qq.__row")
    while True:
        batch = cur.fetchmany(10_000)
        if not batch:
            break
        for rec in batch:
            row, ids, vals = rec[0], rec[1], rec[2:]
            reasons = [st.reasons[i] for i in dict.fromkeys(ids) if i is not None and i >= 0]
            add(int(row), dict(zip(src.headers, vals)), reasons)
    ap.write_quarantine(qpath, lines)

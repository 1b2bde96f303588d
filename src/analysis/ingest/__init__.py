"""Ingest exports into the store: read → normalise → validate → append, in DuckDB.

``ingest_file(table, path)`` loads a CSV/text, spreadsheet or Parquet file into a temporary
DuckDB work database as text columns (:mod:`.read`), maps its headers and types its cells with
SQL expressions (:mod:`.normalise`), runs the contract's rules and finds duplicates
(:mod:`.validate`), then appends the accepted rows to the store in one transaction and writes
the rejected ones to the quarantine file (:mod:`.append`). A PostgreSQL store gets the same
checks and one PostgreSQL transaction (:mod:`.warehouse`); a Spark store is refused.
``check_store`` runs the same rules on the stored tables.

Decisions (the tests hold them; docs/INGEST.md has the user's view):

* **Accounting**: rows read = accepted + quarantined + duplicates skipped. Identical rows kept,
  returns inferred and size classes derived are breakdowns of accepted. Entirely blank rows
  are not data (not counted as read).
* **Duplicates**: for tables with a key (orders with order_id + line_no, customers, products,
  reps, targets, compensation, hr_snapshot) an exact copy of an earlier row of the file or of a
  stored row is skipped; a later row with an accepted row's key, or a key stored with other
  values, is quarantined. Tables without a key (visits, feedback, orders without order_id +
  line_no) keep identical rows: they are distinct events.
* **Re-ingesting the same file** (same content hash, same table, same settings: sheet, header
  row, mapping, columns and units as read, date window, grade bands, update) adds nothing: the
  store's ``_ingest_log`` says when it was ingested. Other settings make another load.
  ``replace_period`` replaces a month instead; it refuses a file with no row in the month, and
  one that would leave the month less than half its rows (unless ``force``).
* **Loads** (:mod:`.loads`): every ingest that stores rows is a load with an id; ``history``
  lists them, ``undo`` takes one back in one transaction (refused while a later live load
  depends on it). ``update`` applies a newer master export and keeps ``<master>_history``.
* **Returns**: with no is_return column, a line with negative qty and/or amount (none positive)
  is a return; mixed signs are quarantined. With an is_return column, negative values on a
  row not flagged as a return are quarantined.
* **Rows that do not fit the header** are quarantined whole (too many non-empty fields) or
  padded (too few).
* **Extra columns** are listed as not used, except for hr_snapshot (kept, typed as float when
  every value is a number, else text; an extra column the stored table lacks is not used).

Examples
--------
>>> res = ingest_file("orders", "exports/orders_2024.csv", store="data/warehouse.duckdb")  # doctest: +SKIP
>>> print(res.summary())  # doctest: +SKIP
"""
from __future__ import annotations

from ..store import has_rows, has_table
from .append import FORMULA_PREFIXES, LOAD_COLUMN, LOG_TABLE, QUARANTINE_COLUMNS, neutralise, quarantine_path_for
from .loads import Load, UndoResult, history, history_text, undo
from .normalise import ColumnPlan, load_mapping, map_headers, plan_columns
from .pipeline import ingest_file, parse_period
from .read import detect_encoding, file_kind
from .result import IngestResult
from .validate import check_store, check_table

__all__ = [
    "FORMULA_PREFIXES", "LOAD_COLUMN", "LOG_TABLE", "Load", "UndoResult", "history", "history_text", "undo", "QUARANTINE_COLUMNS", "ColumnPlan", "IngestResult", "check_store", "check_table",
    "detect_encoding", "file_kind", "has_rows", "has_table", "ingest_file", "load_mapping", "map_headers",
    "neutralise", "parse_period", "plan_columns", "quarantine_path_for",
]

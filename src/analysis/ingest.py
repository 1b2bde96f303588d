"""Ingest exports into the store: read → map headers → normalise → validate → accept or quarantine.

``ingest_file(table, path)`` reads a CSV (strict UTF-8, with or without BOM, else strict
GB18030; never with replacement characters), XLSX (first sheet, header in row 1) or Parquet
file, in chunks of :data:`CHUNK_ROWS` rows so memory stays bounded.

Decisions (documented here because the tests hold them):

* **Headers** are mapped by the user's mapping first (YAML ``{source header: canonical}``),
  then by the built-in aliases of :mod:`analysis.aliases`, compared after NFKC/trim/lower case.
  When several headers mean one column, the canonical name wins, then the alias listed first.
* **Missing required column** (or none of a "one of" group, orders: amount or qty) and a file
  that cannot be read as a table raise :class:`~analysis.errors.IngestError` (CLI: one line,
  exit 2). An empty file (0 bytes, or only a BOM/blank lines) cannot be read as a table.
  A header-only file reads 0 rows: nothing changes, exit 0, with a note.
* **Extra columns** (not in the contract) are dropped with a note, except for tables whose
  spec has ``keep_extra`` (hr_snapshot): they are kept, typed as float when every value is a
  number, else as text. An extra column that the stored table lacks is dropped with a note
  (the table's schema is not altered).
* **Normalisation**: NFKC (full-width digits and punctuation) and trimming for codes, numbers,
  dates and categories; thousands separators; ``¥``/``元``; ``(123)`` = -123; dates as
  2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105, Excel serial numbers (1–99999, days
  after 1899-12-30), datetime values of XLSX/Parquet; months also as 2024-01, 2024年1月, 202401.
  Chinese category values map to the contract's (城镇 → urban …). Free-text columns
  (``free_text`` in the contract: comment, names) are stored exactly as given.
* **Records that do not fit the header**: a CSV record with more fields than headers (an
  unquoted comma in free text, say) is quarantined whole ("row has N fields, the header has
  M"); surplus fields that are all empty are ignored; short records are padded with empty
  cells. XLSX: values beyond the last header quarantine the row. (CSV is read with the csv
  module: pandas' chunked reader silently drops surplus fields of a record starting a chunk.)
* **Row numbers** in the quarantine file count the header as row 1, so the first data row
  is row 2 (what a spreadsheet shows; a CSV record spanning lines still counts as one row).
  Entirely blank rows are not data: they are skipped and noted, not counted as read.
* **Accounting**: rows read = accepted + quarantined + duplicates skipped. A duplicate is an
  exact copy of an earlier row of the same file (raw values, or the same values after
  normalisation) or of a row already in the store (all stored columns equal, nulls equal).
  So re-ingesting a file adds nothing: its accepted rows count as duplicates, its rejected
  rows are counted as quarantined again but not written twice to the quarantine file
  (same source file, row and raw values).
* **Quarantine**: one line per rejected row in ``<store folder>/quarantine/<table>.csv``
  (UTF-8 with BOM, for Excel): ingested_at, source_file, row, column, reason, value (the raw
  value of the failing column), values (the whole raw row as JSON, keyed by the file's headers). Cells starting with = + - @ tab or CR are prefixed with ``'`` (CWE-1236).
* **Rules** (names in :data:`analysis.contracts.RULES`): types, allowed values, ranges,
  required non-null, key unique (first row kept; later rows with the same key, or a key
  already stored with other values, are quarantined); negative amount/qty only on returns;
  dates from 1990-01-01 to tomorrow (plans and due dates may be later); orders referencing a
  customer/sku/rep missing from a non-empty customers/products/reps table (checked in the
  engine with an anti-join on the distinct ids of the chunk).

Examples
--------
>>> res = ingest_file("orders", "exports/orders_2024.csv", store="data/warehouse.duckdb")  # doctest: +SKIP
>>> print(res.summary())  # doctest: +SKIP
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from . import aliases
from .contracts import (
    DATE_MIN, RULES, TABLES, TableSpec, ibis_schema, logical_type, pandera_schema, spec, tomorrow,
)
from .errors import IngestError, StoreError
from .store import has_rows, has_table

CHUNK_ROWS = 200_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUARANTINE_COLUMNS = ["ingested_at", "source_file", "row", "column", "reason", "value", "values"]
_ROW = "__row__"  # row number column of the frames passed to the engine


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------
@dataclass
class IngestResult:
    """What an ingest did. ``rows_read == accepted + quarantined + duplicates`` always."""

    table: str
    source: str
    file_format: str = ""
    encoding: str | None = None
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates_in_file: int = 0
    duplicates_in_store: int = 0
    blank_rows: int = 0
    already_quarantined: int = 0  # quarantined rows whose line the quarantine file already held
    columns: dict[str, str] = field(default_factory=dict)  # source header -> canonical
    dropped_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)  # kept (hr_snapshot)
    reasons: Counter = field(default_factory=Counter)  # rule reason -> rows
    notes: list[str] = field(default_factory=list)
    quarantine_path: str | None = None
    store: str = ""

    @property
    def duplicates(self) -> int:
        return self.duplicates_in_file + self.duplicates_in_store

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates

    def summary(self) -> str:
        """A few lines for the terminal: source, accounting, reasons, notes."""
        enc = f", encoding {self.encoding}" if self.encoding else ""
        lines = [
            f"ingest {self.table} <- {self.source} ({self.file_format}{enc})",
            f"rows read {self.rows_read} = accepted {self.accepted} + quarantined {self.quarantined}"
            f" + duplicates skipped {self.duplicates} (in file {self.duplicates_in_file},"
            f" already in store {self.duplicates_in_store})",
        ]
        if self.columns:
            lines.append("columns: " + ", ".join(
                h if h == c else f"{h} -> {c}" for h, c in self.columns.items()))
        if self.quarantined:
            again = f" ({self.already_quarantined} already there from an earlier ingest)" if self.already_quarantined else ""
            lines.append(f"quarantined rows written to {self.quarantine_path}{again}")
            for reason, n in self.reasons.most_common():
                lines.append(f"  {n} × {reason}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
_MAGIC = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip archive", b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office file",
    b"7z\xbc\xaf": "a 7z archive", b"Rar!": "a RAR archive",
}


def _file_kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise IngestError(f"{path.name} cannot be read as a table: it is {what}.")
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xlsm", ".parquet", ".pq"):
        raise IngestError(f"{path.name} cannot be read as a table: it is not a valid {ext[1:]} file.")
    return "csv"


def detect_encoding(path: str | os.PathLike) -> str:
    """The encoding a text file decodes with, strictly: ``utf-8-sig``, ``utf-8`` or ``gb18030``.

    No statistical guessing (detectors misread short GBK files) and no replacement
    characters: the whole file is decoded strictly, in blocks, first as UTF-8 then as GB18030.

    Examples
    --------
    >>> p = Path(tempfile.mkdtemp()) / "a.csv"; _ = p.write_bytes("日期\\n".encode("gbk"))  # doctest: +SKIP
    >>> detect_encoding(p)  # doctest: +SKIP
    'gb18030'
    """
    path = Path(path)
    with open(path, "rb") as f:
        bom = f.read(3) == codecs.BOM_UTF8
    for enc in ("utf-8", "gb18030"):
        dec = codecs.getincrementaldecoder(enc)(errors="strict")
        try:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    if b"\x00" in block:
                        raise IngestError(f"{path.name} cannot be read as a table: it is a binary file (holds NUL bytes).")
                    dec.decode(block)
                dec.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return "utf-8-sig" if enc == "utf-8" and bom else enc
    raise IngestError(f"{path.name} cannot be read as a table: it is neither UTF-8 nor GB18030/GBK text.")


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, info: dict) -> tuple[list[str], Iterator[tuple[pd.DataFrame, list]]]:
    # The csv module, not pandas' chunked C reader: with chunksize, pandas silently drops the
    # surplus fields of a too-long record that starts a chunk (data lost without a word).
    enc = detect_encoding(path)
    info["encoding"] = enc
    with open(path, encoding=enc, newline="") as f:
        text_head = f.read(4096)
    if not text_head.strip():
        raise IngestError(f"{path.name} cannot be read as a table: the file is empty.")
    sep = _sniff_delimiter(path, enc)
    csv.field_size_limit(1 << 30)  # long free text (comments) is data, not an error
    f = open(path, encoding=enc, newline="")
    reader = csv.reader(f, delimiter=sep)
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)  # leading blank lines
    except csv.Error as exc:
        f.close()
        raise IngestError(f"{path.name} cannot be read as a table: {exc}") from None
    if header is None:
        f.close()
        raise IngestError(f"{path.name} cannot be read as a table: no header row.")
    while len(header) > 1 and header[-1].strip() == "":
        header.pop()  # trailing separators after the last header
    headers = _unique_headers([h.lstrip("\ufeff") for h in header])
    n = len(headers)
    first_row = reader.line_num + 1  # the header is row 1 even when blank lines precede it

    def chunks() -> Iterator[tuple[pd.DataFrame, list]]:
        rows: list[list[str]] = []
        numbers: list[int] = []
        bad: list[tuple[int, dict, str]] = []
        row = first_row - 1
        try:
            for rec in reader:
                row += 1
                if len(rec) > n:
                    if any(v.strip() for v in rec[n:]):
                        raw = dict(zip(headers, rec))
                        raw.update({f"(field {i + 1})": v for i, v in enumerate(rec[n:], start=n)})
                        bad.append((row, raw, f"row has {len(rec)} fields, the header has {n}"))
                        continue
                    rec = rec[:n]
                elif len(rec) < n:
                    rec = rec + [""] * (n - len(rec))
                rows.append(rec)
                numbers.append(row)
                if len(rows) >= CHUNK_ROWS:
                    yield pd.DataFrame(rows, columns=headers, index=numbers, dtype=object), bad
                    rows, numbers, bad = [], [], []
        except csv.Error as exc:
            raise IngestError(f"{path.name} cannot be read as a table: row {row}: {exc}") from None
        finally:
            f.close()
        yield pd.DataFrame(rows, columns=headers, index=pd.Index(numbers, dtype="int64"), dtype=object), bad

    return headers, chunks()


def _unique_headers(headers: list[str]) -> list[str]:
    """Repeated headers get ``.1``, ``.2`` … as pandas does for CSV (the first keeps its name)."""
    seen: Counter = Counter()
    out = []
    for h in headers:
        out.append(h if not seen[h] else f"{h}.{seen[h]}")
        seen[h] += 1
    return out


def _read_xlsx(path: Path, info: dict) -> tuple[list[str], Iterator[pd.DataFrame]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zip/xml errors of a broken file
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None or all(v is None or str(v).strip() == "" for v in header_row):
        wb.close()
        raise IngestError(f"{path.name} cannot be read as a table: the first sheet is empty.")
    headers = [str(v) if v is not None else f"Unnamed: {i}" for i, v in enumerate(header_row)]
    while headers and headers[-1].startswith("Unnamed: "):
        headers.pop()
    headers = _unique_headers(headers)
    n = len(headers)
    if len(wb.worksheets) > 1:
        info["notes"].append(f"read the first sheet '{ws.title}' of {len(wb.worksheets)}")

    def chunks() -> Iterator[tuple[pd.DataFrame, list]]:
        buf: list[tuple] = []
        numbers: list[int] = []
        bad: list[tuple[int, dict, str]] = []
        row = 1
        for r in rows:
            row += 1
            r = tuple(r)
            if len(r) > n and any(not _is_blank(v) and str(v).strip() != "" for v in r[n:]):
                raw = {h: _scalar_text(v) for h, v in zip(headers, r)}
                raw.update({f"(column {i + 1})": _scalar_text(v) for i, v in enumerate(r[n:], start=n)})
                bad.append((row, raw, "row has values beyond the last header"))
                continue
            buf.append(r[:n] + (None,) * (n - len(r)))
            numbers.append(row)
            if len(buf) >= CHUNK_ROWS:
                yield pd.DataFrame(buf, columns=headers, index=numbers, dtype=object), bad
                buf, numbers, bad = [], [], []
        wb.close()
        yield pd.DataFrame(buf, columns=headers, index=pd.Index(numbers, dtype="int64"), dtype=object), bad

    return headers, chunks()


def _read_parquet(path: Path, info: dict) -> tuple[list[str], Iterator[pd.DataFrame]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    headers = _unique_headers(list(pf.schema_arrow.names))

    def chunks() -> Iterator[tuple[pd.DataFrame, list]]:
        start = 2
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            df = batch.to_pandas().astype(object)
            df.columns = headers
            df.index = pd.RangeIndex(start, start + len(df))
            start += len(df)
            yield df, []

    return headers, chunks()


def read_table(path: str | os.PathLike) -> tuple[list[str], Iterator[tuple[pd.DataFrame, list]], dict]:
    """Open a CSV/XLSX/Parquet file: (headers, chunks, info).

    Each chunk is ``(frame, bad_rows)``: the frame holds the file's values as read (text for
    CSV; cell values for XLSX/Parquet) with the index set to the row number (header = row 1);
    ``bad_rows`` lists ``(row, raw values, reason)`` of records that do not fit the header
    (more fields than headers). ``info`` has ``format``, ``encoding`` and ``notes``.
    Raises IngestError when the file cannot be read as a table.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path} cannot be read as a table: no such file.")
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name} cannot be read as a table: the file is empty.")
    kind = _file_kind(path)
    info: dict[str, Any] = {"format": kind, "encoding": None, "notes": []}
    headers, chunks = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet}[kind](path, info)
    return headers, chunks, info


# ---------------------------------------------------------------------------------------------
# headers
# ---------------------------------------------------------------------------------------------
def load_mapping(mapping: str | os.PathLike | dict | None) -> dict[str, str]:
    """Read a user's mapping ``{source header: canonical name}`` (YAML file or dict)."""
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        data = mapping
    else:
        import yaml

        p = Path(mapping)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeError, yaml.YAMLError) as exc:
            raise IngestError(f"The mapping file {p} cannot be read: {str(exc).splitlines()[0]}") from None
        data = data or {}
    if not isinstance(data, dict) or not all(isinstance(k, (str, int)) and isinstance(v, str) for k, v in data.items()):
        raise IngestError("The mapping must be a YAML mapping {source column: canonical column}.")
    return {str(k): v for k, v in data.items()}


def map_headers(table: str, headers: list[str], mapping: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers to canonical names: ({header: canonical}, [unmapped headers]).

    Examples
    --------
    >>> map_headers("orders", ["订单日期", "金额（元）", "备注X"])
    ({'订单日期': 'order_date', '金额（元）': 'amount'}, ['备注X'])
    """
    ts = spec(table)
    user = {aliases.header_key(k): v for k, v in (mapping or {}).items()}
    for target in user.values():
        if target not in ts.names and not ts.keep_extra:
            raise IngestError(
                f"The mapping names '{target}', which is not a column of table '{table}' "
                f"(columns: {', '.join(ts.names)})."
            )
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for i, h in enumerate(headers):
        k = aliases.header_key(h)
        if k in user:
            name, rank = user[k], -1
        else:
            name = aliases.canonical_header(table, h)
            if name is None:
                continue
            rank = aliases.header_priority(table, name, h)
        candidates.setdefault(name, []).append((rank, i, h))
    mapped: dict[str, str] = {}
    for name, cands in candidates.items():
        mapped[min(cands)[2]] = name
    unmapped = [h for h in headers if h not in mapped]
    return mapped, unmapped


def _missing_required(ts: TableSpec, present: set[str]) -> str | None:
    for name in ts.required:
        if name not in present:
            return f"'{name}'"
    for group in ts.one_of:
        if not present.intersection(group):
            return " or ".join(f"'{n}'" for n in group)
    return None


# ---------------------------------------------------------------------------------------------
# normalisation (vectorised over a column)
# ---------------------------------------------------------------------------------------------
def _is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NaT or (isinstance(v, (pd.Timestamp, np.datetime64)) and pd.isna(v)):
        return True
    return False


def _scalar_text(v: Any) -> str | None:
    """A cell value (any type from CSV/XLSX/Parquet) as text; None when blank."""
    if _is_blank(v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _raw_text(s: pd.Series) -> pd.Series:
    """Cell values as text exactly as given (None for blanks)."""
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        out = s.astype(object).where(s.notna(), None)
    else:
        out = s.map(_scalar_text).astype(object)
    return out.where(out != "", None)


def _clean_text(s: pd.Series) -> pd.Series:
    """NFKC, trimmed text; None for blanks."""
    t = _raw_text(s)
    mask = t.notna()
    if mask.any():
        t = t.copy()
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(t[mask].to_numpy(dtype=object), type=pa.string())
        arr = pc.utf8_trim_whitespace(pc.utf8_normalize(arr, form="NFKC"))
        t[mask] = arr.to_numpy(zero_copy_only=False)
    return t.where(t.notna() & (t != ""), None)


def _tidy(reasons: pd.Series) -> pd.Series:
    """Reasons as an object Series with None (not NaN) where a cell parsed."""
    return reasons.astype(object).where(reasons.notna(), None)


_NUM_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NUM_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _parse_numbers(text: pd.Series, integer: bool) -> tuple[pd.Series, pd.Series]:
    """Parse numbers: (values, reasons) where reasons is None on success."""
    t = text.dropna().astype(str)
    reasons = pd.Series(None, index=text.index, dtype=object)
    out = pd.Series(np.nan, index=text.index, dtype="float64")
    # fast path: plain numbers (most cells); the rest go through the forms below
    direct = pd.to_numeric(t, errors="coerce")
    plain = direct.notna() & np.isfinite(direct.fillna(0))
    out[plain[plain].index] = direct[plain]
    if integer:
        frac = plain & (direct.fillna(0) % 1 != 0)
        reasons[frac[frac].index] = "not a whole number"
    t = t[~plain]
    t = t.str.replace(r"^[¥$]\s*", "", regex=True).str.replace(r"\s*元$", "", regex=True).str.replace(" ", "", regex=False)
    neg_paren = t.str.fullmatch(r"\(\s*[^()]+\s*\)")
    t = t.where(~neg_paren, "-" + t.str.slice(1, -1))
    thousands = t.str.fullmatch(_NUM_THOUSANDS.pattern)
    t = t.where(~thousands, t.str.replace(",", "", regex=False))
    ok = t.str.fullmatch(_NUM_PLAIN.pattern)
    vals = pd.to_numeric(t.where(ok), errors="coerce")
    bad = ~ok | ~np.isfinite(vals.fillna(0))
    reasons[bad[bad].index] = "not a number"
    if integer:
        frac = ok & np.isfinite(vals.fillna(0)) & (vals.fillna(0) % 1 != 0)
        reasons[frac[frac].index] = "not a whole number"
    good = reasons.loc[t.index].isna()
    out[good[good].index] = vals[good]
    if integer:
        return out.round().astype("Int64"), _tidy(reasons)
    return out, _tidy(reasons)


_DATE_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_MONTH_YM = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"
_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_SERIAL = r"^\d{1,5}(?:\.\d+)?$"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_dates(text: pd.Series, month: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse dates written in the common export forms: (datetime64 values, reasons).

    Unlike ``pd.to_datetime(errors="coerce")`` nothing is silently dropped: a form that
    is not understood gives "not a date", an impossible day (2024-02-30) "impossible date".

    Examples
    --------
    >>> v, r = parse_dates(pd.Series(["2024年3月5日", "2024/1/5", "20240105", "45296", "2024-02-30"]))
    >>> [str(x.date()) if pd.notna(x) else None for x in v]
    ['2024-03-05', '2024-01-05', '2024-01-05', '2024-01-05', None]
    >>> list(r)
    [None, None, None, None, 'impossible date']
    """
    t = text.dropna().astype(str)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    reasons = pd.Series(None, index=text.index, dtype=object)
    # fast path: ISO dates (most cells); impossible ones fall through and are named below
    iso = pd.to_datetime(t.where(t.str.len() == 10), format="%Y-%m-%d", errors="coerce")
    done = iso.notna()
    out[done[done].index] = iso[done]
    t = t[~done]
    parts = pd.DataFrame(index=t.index, columns=["y", "m", "d"], dtype=object)
    pats = [(_DATE_YMD, 3), (_DATE_COMPACT, 3)] + ([(_MONTH_YM, 2), (_MONTH_COMPACT, 2)] if month else [])
    for pat, n in pats:
        todo = parts["y"].isna()
        if not todo.any():
            break
        ex = t[todo].str.extract(pat)
        hit = ex[0].notna()
        idx = ex.index[hit]
        parts.loc[idx, "y"] = ex.loc[idx, 0]
        parts.loc[idx, "m"] = ex.loc[idx, 1]
        parts.loc[idx, "d"] = ex.loc[idx, 2] if n == 3 else "1"
    have = parts["y"].notna()
    if have.any():
        p = parts[have].astype(int)
        d = pd.to_datetime(pd.DataFrame({"year": p["y"], "month": p["m"], "day": p["d"]}), errors="coerce")
        out[d.index] = d
        reasons[d.index[d.isna()]] = "impossible date"
    rest = ~have
    if rest.any():
        r = t[rest]
        serial = r.str.fullmatch(_SERIAL)
        num = pd.to_numeric(r.where(serial), errors="coerce")
        okser = serial & (num >= 1)
        out[okser[okser].index] = EXCEL_EPOCH + pd.to_timedelta(np.floor(num[okser]), unit="D")
        reasons[okser[~okser].index] = "not a date"
    return out, _tidy(reasons)


def _parse_bools(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    t = text.dropna().astype(str).str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    reasons = pd.Series(None, index=text.index, dtype=object)
    yes, no = t.isin(aliases.TRUE_WORDS), t.isin(aliases.FALSE_WORDS)
    out[yes[yes].index] = True
    out[no[no].index] = False
    bad = ~(yes | no)
    reasons[bad[bad].index] = "not a yes/no value"
    return out, _tidy(reasons)


def normalise_column(raw: pd.Series, dtype: str, *, free_text: bool = False, column: str = "") -> tuple[pd.Series, pd.Series]:
    """Turn one raw column into its contract type: (typed values, reasons for failed cells).

    Examples
    --------
    >>> v, r = normalise_column(pd.Series(["１２３", "1,234.5", "x"]), "float")
    >>> list(v[:2]), list(r)
    ([123.0, 1234.5], [None, None, 'not a number'])
    """
    if dtype == "str":
        vals = _raw_text(raw) if free_text else _clean_text(raw)
        if column in aliases.VALUES or column in _ALLOWED_COLUMNS:
            m = vals.notna()
            vals = vals.copy()
            vals[m] = vals[m].map(lambda v: aliases.canonical_value(column, v))
        return vals.astype(object), pd.Series(None, index=raw.index, dtype=object)
    text = _clean_text(raw)
    if dtype in ("int", "float"):
        return _parse_numbers(text, integer=dtype == "int")
    if dtype in ("date", "month"):
        return parse_dates(text, month=dtype == "month")
    if dtype == "bool":
        return _parse_bools(text)
    raise ValueError(f"unknown logical type {dtype!r}")


_ALLOWED_COLUMNS = {c.name for t in TABLES.values() for c in t.columns if c.allowed}


def _infer_extra_type(raw: pd.Series) -> str:
    vals, reasons = normalise_column(raw, "float")
    return "float" if reasons.isna().all() else "str"


# ---------------------------------------------------------------------------------------------
# quarantine
# ---------------------------------------------------------------------------------------------
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
    from .store import is_url, project_root

    if store_loc and not is_url(store_loc) and not store_loc.endswith(":memory:"):
        return Path(store_loc).parent / "quarantine" / f"{table}.csv"
    return project_root() / "data" / "quarantine" / f"{table}.csv"


def _quarantined_before(path: Path, source: str) -> set[tuple[str, str]]:
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


def _write_quarantine(path: Path, rows: list[list[Any]]) -> None:
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(QUARANTINE_COLUMNS)
        for r in rows:
            w.writerow([neutralise(v) for v in r])


# ---------------------------------------------------------------------------------------------
# the store side (in the engine)
# ---------------------------------------------------------------------------------------------
def _memtable(df: pd.DataFrame, schema: Any) -> Any:
    import ibis

    m = ibis.memtable(df)
    return m.select(**{c: m[c].cast(schema[c]) if c in schema else m[c] for c in df.columns})


def _rows_in_store(con: Any, table: str, frame: pd.DataFrame, schema: Any, on: list[str], nonnull: bool) -> set[int]:
    """Row numbers of ``frame`` that match a stored row on columns ``on``.

    ``nonnull``: match only rows whose ``on`` values are all non-null (key check), else
    nulls compare equal (exact-duplicate check)."""
    if frame.empty or not on:
        return set()
    sub = frame[[_ROW, *on]]
    if nonnull:
        sub = sub[sub[on].notna().all(axis=1)]
        if sub.empty:
            return set()
    m = _memtable(sub, schema)
    t = con.table(table)
    if nonnull:
        preds = [m[c] == t[c] for c in on]
    else:
        preds = [m[c].identical_to(t[c]) for c in on]
    hit = m.semi_join(t, preds).select(_ROW).execute()
    return set(int(x) for x in hit[_ROW])


def _orphans(con: Any, frame: pd.DataFrame, column: str, ref_table: str, ref_column: str) -> set[Any]:
    """Distinct values of ``frame[column]`` that ``ref_table`` lacks (only the ids come back)."""
    import ibis

    ids = frame[column].dropna().drop_duplicates()
    if ids.empty:
        return set()
    m = ibis.memtable(pd.DataFrame({"id": ids.astype(str).to_numpy()}))
    r = con.table(ref_table)
    missing = m.anti_join(r, m.id == r[ref_column].cast("string")).execute()
    return set(missing["id"])


# ---------------------------------------------------------------------------------------------
# ingest
# ---------------------------------------------------------------------------------------------
def _open(store: Any) -> tuple[Any, str, bool]:
    from . import store as store_mod

    if store is not None and hasattr(store, "list_tables"):
        return store, "", False
    loc = store_mod.resolve_store(store)
    return store_mod.connect(loc), loc, True


def ingest_file(
    table: str,
    path: str | os.PathLike,
    store: Any = None,
    mapping: str | os.PathLike | dict | None = None,
    *,
    today: dt.date | None = None,
    quarantine_path: str | os.PathLike | None = None,
) -> IngestResult:
    """Read, normalise and validate a file; append accepted rows; quarantine the rest.

    Parameters
    ----------
    table : str
        Canonical table (see :data:`analysis.contracts.TABLES`).
    path : str or path
        CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX or Parquet file. Never modified.
    store : str, path, Ibis backend or None
        Where to append (default: the project store).
    mapping : YAML path or dict, optional
        ``{source header: canonical column}``, applied before the built-in aliases.
    today : datetime.date, optional
        The day "after tomorrow" is counted from (default: today).
    quarantine_path : path, optional
        Where rejected rows go (default ``<store folder>/quarantine/<table>.csv``).

    Returns
    -------
    IngestResult
        Accounting (``rows_read == accepted + quarantined + duplicates``), reasons, notes.

    Raises
    ------
    IngestError
        The file cannot be read as a table, or a required column is missing.

    Examples
    --------
    >>> r = ingest_file("orders", "orders.csv", store="/tmp/s.duckdb")  # doctest: +SKIP
    >>> r.rows_read == r.accepted + r.quarantined + r.duplicates  # doctest: +SKIP
    True
    """
    ts = spec(table)
    path = Path(path)
    user_map = load_mapping(mapping)
    headers, chunks, info = read_table(path)
    mapped, unmapped = map_headers(table, headers, user_map)
    missing = _missing_required(ts, set(mapped.values()))
    if missing:
        raise IngestError(
            f"{path.name}: required column {missing} of table '{table}' is missing; "
            f"columns found: {', '.join(headers) or '(none)'}."
        )
    res = IngestResult(table=table, source=str(path), file_format=info["format"], encoding=info["encoding"],
                       columns=dict(mapped), notes=list(info["notes"]))
    con, loc, owned = _open(store)
    res.store = loc
    qpath = Path(quarantine_path) if quarantine_path else quarantine_path_for(loc, table)
    res.quarantine_path = str(qpath)
    try:
        _ingest_chunks(con, ts, path, headers, chunks, mapped, unmapped, res, qpath, today)
    finally:
        if owned:
            try:
                con.disconnect()
            except Exception:  # noqa: BLE001
                pass
    if res.rows_read == 0:
        res.notes.append("the file has a header but no data rows: nothing to ingest")
    return res


def _blank_rows(chunk: pd.DataFrame) -> pd.Series:
    """True for rows whose every cell is empty or white space."""
    blank = pd.Series(True, index=chunk.index)
    for col in chunk.columns:
        s = chunk[col]
        blank &= s.isna() | s.astype(str).str.strip().eq("")
    return blank


def _ingest_chunks(con, ts: TableSpec, path: Path, headers, chunks, mapped, unmapped, res: IngestResult,
                   qpath: Path, today) -> None:
    table = ts.name
    # decide on extra columns once, from the first chunk
    stored_schema = con.table(table).schema() if has_table(con, table) else None
    extra_types: dict[str, str] = {}
    ref_ok = {c: (has_rows(con, ref)) for c, ref in ts.references.items() if c in mapped.values()}
    ref_key = {c: c for c in ts.references}  # the referenced column has the same name (customer_id ...)
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    seen = _quarantined_before(qpath, str(path.resolve()))
    first = True
    for chunk, bad_rows in chunks:
        if bad_rows:
            res.rows_read += len(bad_rows)
            _quarantine_bad_rows(path, bad_rows, res, qpath, stamp, seen)
        # drop entirely blank rows (not data)
        blank = _blank_rows(chunk)
        if blank.any():
            if not res.blank_rows:
                res.notes.append("entirely blank rows are skipped (not counted as read)")
            res.blank_rows += int(blank.sum())
            chunk = chunk[~blank]
        if first:
            first = False
            if ts.keep_extra:
                for h in unmapped:
                    name = unicodedata.normalize("NFKC", str(h)).strip()
                    if stored_schema is not None:
                        if name in stored_schema:
                            extra_types[h] = logical_type(stored_schema[name])
                        else:
                            res.dropped_columns.append(h)
                    else:
                        extra_types[h] = _infer_extra_type(chunk[h]) if len(chunk) else "str"
                res.extra_columns = [unicodedata.normalize("NFKC", str(h)).strip() for h in extra_types]
            else:
                res.dropped_columns = list(unmapped)
            if res.dropped_columns:
                res.notes.append(
                    f"columns outside the contract of '{table}' dropped: {', '.join(res.dropped_columns)}")
            if res.extra_columns:
                res.notes.append(f"extra columns kept: {', '.join(res.extra_columns)}")
            planned = ibis_schema(table, dict(zip(res.extra_columns, extra_types.values())))
            store_schema = stored_schema if stored_schema is not None else planned
            lost = [c for c in mapped.values() if c not in store_schema]
            if lost:
                res.notes.append(f"the stored table '{table}' has no column {', '.join(lost)}: not stored")
        if not len(chunk):
            continue
        res.rows_read += len(chunk)
        _process_chunk(con, ts, path, chunk, mapped, extra_types, ref_ok, ref_key, store_schema, res, qpath, today, stamp,
                       seen)


def _quarantine_bad_rows(path: Path, bad_rows: list, res: IngestResult, qpath: Path, stamp: str, seen: set) -> None:
    """Quarantine records that do not fit the header (counted as read and quarantined)."""
    lines = []
    for row, raw, reason in bad_rows:
        values = json.dumps(raw, ensure_ascii=False)
        res.reasons[reason] += 1
        if (str(row), values) in seen:
            res.already_quarantined += 1
        else:
            lines.append([stamp, str(path.resolve()), row, "(row)", reason, "", values])
    _write_quarantine(qpath, lines)
    res.quarantined += len(bad_rows)


def _process_chunk(con, ts, path, chunk, mapped, extra_types, ref_ok, ref_key, store_schema, res, qpath, today, stamp,
                   seen):
    table = ts.name
    # 1. normalise every contract/extra column, collecting per-cell failures
    norm = pd.DataFrame(index=chunk.index)
    reasons: dict[int, list[tuple[str, str]]] = {}

    def fail(idx, column: str, reason: str) -> None:
        for i in idx:
            reasons.setdefault(int(i), []).append((column, reason))

    for h, name in mapped.items():
        c = ts.column(name)
        vals, why = normalise_column(chunk[h], c.dtype, free_text=c.free_text, column=name)
        norm[name] = vals
        bad = why.dropna()
        for r in bad.unique():
            fail(bad.index[bad == r], name, f"{r}")
    for h, t in extra_types.items():
        name = unicodedata.normalize("NFKC", str(h)).strip()
        vals, why = normalise_column(chunk[h], t, column=name)
        norm[name] = vals
        bad = why.dropna()
        for r in bad.unique():
            fail(bad.index[bad == r], name, f"{r}")
    cell_error = pd.Series(chunk.index.isin(list(reasons)), index=chunk.index)

    # 2. exact duplicates within the chunk: raw values, or the same normalised values
    raw_cols = [h for h in chunk.columns if h in mapped or h in extra_types]
    # (64-bit row hashes: a false match needs a collision, ~n²/2^64)
    dup = pd.util.hash_pandas_object(chunk[raw_cols].astype(object), index=False).duplicated(keep="first")
    ok_rows = ~cell_error & ~dup
    if ok_rows.any():
        ndup = pd.util.hash_pandas_object(norm[ok_rows], index=False).duplicated(keep="first")
        dup[ndup[ndup].index] = True
    res.duplicates_in_file += int(dup.sum())
    # drop failure notes of duplicate rows (they are skipped, not quarantined)
    for i in dup[dup].index:
        reasons.pop(int(i), None)

    # 3. contract rules (pandera) on rows whose cells all parsed
    cand = norm[~cell_error & ~dup]
    if len(cand):
        extra_logical = {unicodedata.normalize("NFKC", str(h)).strip(): t for h, t in extra_types.items()}
        schema = pandera_schema(table, columns=list(cand.columns), today=today, extra=extra_logical)
        found = _pandera_failures(ts, schema, cand)
        other = {idx for idx, _, rule in found if rule != "unique_key"}
        for idx, column, rule in found:
            if rule == "unique_key":
                continue
            fail([idx], column, _rule_reason(ts, rule, column, today))
        if any(rule == "unique_key" for _, _, rule in found):
            # a key repeats only an earlier row that is itself accepted, not a rejected one
            key = list(ts.key)
            rest = cand.loc[[i for i in cand.index if i not in other], key]
            dupkey = rest.notna().all(axis=1) & rest.duplicated(key, keep="first")
            fail(dupkey[dupkey].index, "+".join(key), _rule_reason(ts, "unique_key", "", today))

    # 4. against the store: exact duplicates, stored keys, orphans (in the engine)
    keep = [i for i in cand.index if int(i) not in reasons]
    frame = norm.loc[keep].copy()
    frame.insert(0, _ROW, frame.index.astype("int64"))
    for c in store_schema.names:
        if c not in frame.columns:
            frame[c] = None
    store_cols = [c for c in store_schema.names]
    if len(frame) and has_rows(con, table):
        dups = _rows_in_store(con, table, frame[[_ROW, *store_cols]], store_schema, store_cols, nonnull=False)
        if dups:
            res.duplicates_in_store += len(dups)
            frame = frame[~frame[_ROW].isin(dups)]
        key = list(ts.key)
        if key and all(k in mapped.values() for k in key) and len(frame):
            clash = _rows_in_store(con, table, frame, store_schema, key, nonnull=True)
            fail(sorted(clash), "+".join(key), f"key ({', '.join(key)}) already in the store with other values")
    for col, ok in ref_ok.items():
        if not ok or not len(frame):
            continue
        ref = ts.references[col]
        missing = _orphans(con, frame, col, ref, ref_key[col])
        if missing:
            hit = frame[_ROW][frame[col].isin(missing)]
            fail(hit.tolist(), col, f"{col} not found in table '{ref}'")
    frame = frame[~frame[_ROW].isin(list(reasons))]

    # 5. append accepted rows (typed as the stored table)
    if len(frame):
        out = frame[store_cols].copy()
        for c in store_cols:
            if out[c].dtype == object:
                out[c] = out[c].where(out[c].notna(), None)
        if not has_table(con, table):
            con.create_table(table, schema=store_schema)
        con.insert(table, _memtable(out.reset_index(drop=True), store_schema))
        res.accepted += len(out)

    # 6. quarantine
    if reasons:
        lines = []
        for i in sorted(reasons):
            items = reasons[i]
            cols = "; ".join(dict.fromkeys(c for c, _ in items))
            why = "; ".join(dict.fromkeys(f"{c}: {r}" for c, r in items))
            for r in dict.fromkeys(r for _, r in items):
                res.reasons[r] += 1
            raw = {str(h): _scalar_text(v) for h, v in chunk.loc[i].items()}
            values = json.dumps(raw, ensure_ascii=False)
            # the raw value(s) of the failing column(s), as found in the file
            back = {name: h for h, name in mapped.items()}
            parts = dict.fromkeys(p for c, _ in items for p in re.split(r"; |\+", c))
            value = "; ".join(str(raw.get(back.get(c, c)) or "") for c in parts if back.get(c, c) in raw)
            if (str(i), values) in seen:
                res.already_quarantined += 1
            else:
                lines.append([stamp, str(path.resolve()), i, cols, why, value, values])
        _write_quarantine(qpath, lines)
        res.quarantined += len(reasons)


def _pandera_failures(ts: TableSpec, schema, df: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(row, column, rule) for every row-level failure pandera reports on ``df``."""
    import pandera.pandas as pa

    try:
        schema.validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
    out = []
    for rec in fc.itertuples(index=False):
        if rec.index is None or (isinstance(rec.index, float) and math.isnan(rec.index)):
            # a column-level failure (dtype): a bug in normalisation, not the data
            raise IngestError(f"internal: column {rec.column} failed {rec.check}: {rec.failure_case}")
        check = str(rec.check)
        rule = "not_nullable" if check == "not_nullable" else check.split("(")[0]
        rule = {"isin": "allowed", "greater_than_or_equal_to": "min_value", "less_than_or_equal_to": "max_value"}.get(rule, rule)
        column = str(rec.column) if rec.schema_context == "Column" else _frame_rule_column(ts, rule, df, int(rec.index))
        out.append((int(rec.index), column, rule))
    return list(dict.fromkeys(out))


def _frame_rule_column(ts: TableSpec, rule: str, df: pd.DataFrame, idx: int) -> str:
    row = df.loc[idx]
    if rule == "return_sign":
        return "; ".join(c for c in ("amount", "qty") if c in df and pd.notna(row[c]) and row[c] < 0)
    if rule == "unique_key":
        return "+".join(ts.key)
    if rule == "one_of":
        return "+".join(c for grp in ts.one_of for c in grp if c in df)
    return ""


def _rule_reason(ts: TableSpec, rule: str, column: str, today) -> str:
    tmpl = RULES.get(rule, rule)
    kw: dict[str, Any] = {"tomorrow": tomorrow(today).isoformat(), "key": ", ".join(ts.key),
                          "column": column.replace("; ", " and "),
                          "columns": " and ".join(g for grp in ts.one_of for g in grp)}
    if column in ts.names:
        c = ts.column(column)
        kw.update(allowed=", ".join(c.allowed or ()), min_value=c.min_value, max_value=c.max_value)
    try:
        return tmpl.format(**kw)
    except (KeyError, IndexError):
        return tmpl


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------
def check_table(con: Any, table: str, today: dt.date | None = None) -> tuple[int, list[str]]:
    """Check a stored table against its contract, in the engine: (rows, [problems]).

    Examples
    --------
    >>> check_table(con, "orders")  # doctest: +SKIP
    (1000000, [])
    """
    import ibis

    ts = spec(table)
    t = con.table(table)
    cols = set(t.columns)
    rows = int(t.count().execute())
    problems: list[str] = []
    missing = [c for c in ts.required if c not in cols]
    problems += [f"required column {c} missing" for c in missing]
    for group in ts.one_of:
        if not cols.intersection(group):
            problems.append(f"none of the columns {' / '.join(group)}")
    if rows == 0:
        return rows, problems
    last = tomorrow(today)
    first = dt.date.fromisoformat(DATE_MIN)
    aggs: dict[str, Any] = {}
    for c in ts.columns:
        if c.name not in cols:
            continue
        col = t[c.name]
        if not c.nullable:
            aggs[f"empty {c.name}"] = col.isnull()
        if c.allowed is not None:
            aggs[f"{c.name} not in allowed values"] = col.notnull() & ~col.isin(list(c.allowed))
        if c.min_value is not None:
            aggs[f"{c.name} below {c.min_value:g}"] = col < c.min_value
        if c.max_value is not None:
            aggs[f"{c.name} above {c.max_value:g}"] = col > c.max_value
        if c.dtype in ("date", "month"):
            d = col.cast("date")
            aggs[f"{c.name} before {DATE_MIN}"] = d < first
            if not c.future_ok:
                aggs[f"{c.name} after tomorrow"] = d > last
            if c.dtype == "month":
                aggs[f"{c.name} not the first day of a month"] = d.day() != 1
    signed = [n for n in ("amount", "qty") if n in cols and n in ts.names]
    if "is_return" in ts.names and signed:
        ret = t["is_return"].fill_null(False) if "is_return" in cols else ibis.literal(False)
        neg = ibis.literal(False)
        for n in signed:
            neg = neg | (t[n] < 0).fill_null(False)
        aggs["negative amount/qty not flagged as return"] = neg & ~ret
    for group in ts.one_of:
        have = [g for g in group if g in cols]
        if have:
            cond = ibis.literal(True)
            for g in have:
                cond = cond & t[g].isnull()
            aggs[f"all of {' / '.join(have)} empty"] = cond
    if aggs:
        names = list(aggs)
        res = t.aggregate([aggs[n].fill_null(False).cast("int64").sum().name(f"c{i}") for i, n in enumerate(names)]).execute()
        for i, n in enumerate(names):
            v = res[f"c{i}"].iloc[0]
            if pd.notna(v) and int(v) > 0:
                problems.append(f"{n}: {int(v)}")
    if ts.key and all(k in cols for k in ts.key):
        key = list(ts.key)
        full = t
        for k in key:
            full = full.filter(full[k].notnull())
        g = full.group_by(key).aggregate(n=full.count()).filter(lambda x: x.n > 1)
        extra = g.aggregate(rows=(g.n - 1).sum()).execute()["rows"].iloc[0]
        if pd.notna(extra) and int(extra) > 0:
            problems.append(f"duplicate keys ({', '.join(key)}): {int(extra)} rows")
    for c, ref in ts.references.items():
        if c in cols and has_table(con, ref) and c in con.table(ref).columns and has_rows(con, ref):
            r = con.table(ref)
            n = t.filter(t[c].notnull()).anti_join(r, t[c] == r[c]).count().execute()
            if int(n) > 0:
                problems.append(f"{c} not in {ref}: {int(n)} rows")
    return rows, problems


def check_store(store: Any = None, today: dt.date | None = None) -> tuple[bool, str]:
    """Validate every canonical table in the store; (ok, a per-table summary as text).

    ``ok`` is False when any table breaks its contract. Everything is counted in the
    engine; no table is loaded.

    Examples
    --------
    >>> ok, text = check_store("data/warehouse.duckdb")  # doctest: +SKIP
    """
    from . import store as store_mod

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
        results = [(t, *check_table(con, t, today)) for t in present]
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

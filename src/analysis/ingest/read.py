"""Read a file into the work database as text columns.

Every format ends as one relation of text columns ``c0 … c{n-1}`` (the file's columns in
order) plus ``__row`` (the row number, header = row 1, when the reader knows it), loaded
into a DuckDB work database by :func:`load_source`:

* **CSV / text** (comma, tab, semicolon or bar separated): UTF-8 (with or without BOM) is read
  by DuckDB directly; GB18030/GBK is transcoded to UTF-8 first by ``iconv`` (else Python's
  codec), streaming; UTF-16 with a BOM (Excel's "Unicode text") likewise. Decoding is strict:
  never a replacement character. DuckDB reads every field as text (``all_varchar``); records
  that do not fit the header come back from its rejects table: too many non-empty fields →
  quarantined whole, too few → padded with empty cells.
* **Spreadsheets** (.xlsx, .xlsm, .xls, .xlsb, .ods) through python-calamine: the first sheet
  by default (or ``sheet``); the first non-empty row is the header; cell values become text
  (dates as ISO dates, whole numbers without ``.0``).
* **Parquet** through DuckDB's reader, each column cast to text the same way.

Row numbers: for spreadsheets and Parquet the sheet's row (header = 1). For CSV, DuckDB skips
empty lines, so a row number counts the records before it (header = 1), not empty lines.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import os
import shutil
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts import q
from ..errors import IngestError

SPREADSHEETS = ("xlsx", "xls", "xlsb", "ods")
_MAGIC = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7z archive", b"Rar!": "a RAR archive",
}
BATCH_ROWS = 50_000


@dataclass
class Reject:
    """A record that does not fit the header: quarantined whole, counted as read."""

    row: int
    values: dict[str, str | None]
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class Source:
    """A file loaded into the work database as table ``src_table`` (text columns c0…, ``__row``)."""

    path: Path
    format: str
    headers: list[str]
    encoding: str | None = None
    sheet: str | None = None
    sha256: str = ""
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # SQL relation with c0… and __row; when __row is NULL the row is ``rowid + row_base`` + shift
    relation: str = ""
    row_base: int = 2
    # (accepted rows before a reject, rejects so far): rows after a reject move down by one
    shifts: list[tuple[int, int]] = field(default_factory=list)
    padded: list[tuple[int, list[str | None]]] = field(default_factory=list)  # short records, padded
    surplus: list[int] = field(default_factory=list)  # columns c{i} beyond the last header (must be empty)
    csv: dict = field(default_factory=dict)  # CSV reading settings, for the rejects of the scan


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (the key of the store's ingest log)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_kind(path: Path) -> str:
    """csv, xlsx, xls, xlsb, ods or parquet, from the file's first bytes (and name for zips)."""
    with open(path, "rb") as f:
        head = f.read(8)
    ext = path.suffix.lower().lstrip(".")
    if head.startswith(b"PK\x03\x04"):
        if ext in ("ods", "xlsb"):
            return ext
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            raise IngestError(f"{path.name} cannot be read as a table: it is not a valid {ext or 'zip'} file.") from None
        if "content.xml" in names:
            return "ods"
        if "xl/workbook.bin" in names:
            return "xlsb"
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise IngestError(f"{path.name} cannot be read as a table: it is {what}.")
    if ext in ("xlsx", "xlsm", "xls", "xlsb", "ods", "parquet", "pq"):
        raise IngestError(f"{path.name} cannot be read as a table: it is not a valid {ext} file.")
    return "csv"


# ---------------------------------------------------------------------------------------------
# text: encodings
# ---------------------------------------------------------------------------------------------
def detect_encoding(path: str | os.PathLike) -> str:
    """The encoding of a text file: ``utf-8``, ``utf-8-sig``, ``utf-16`` (with a BOM) or ``gb18030``.

    UTF-8 is decided on the first MiB (DuckDB checks the rest, and a record that is not valid
    UTF-8 is quarantined, never altered); GB18030 is checked over the whole file while it is
    transcoded. No statistical guessing, no replacement characters.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise IngestError(f"{path.name} cannot be read as a table: it is a binary file (holds NUL bytes).")
    bom = head.startswith(codecs.BOM_UTF8)
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=len(head) < (1 << 20))
        return "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=len(head) < (1 << 20))
        return "gb18030"
    except UnicodeDecodeError:
        raise IngestError(f"{path.name} cannot be read as a table: it is neither UTF-8 nor GB18030/GBK text.") from None


def _transcode(path: Path, encoding: str, out: Path) -> None:
    """Write ``path`` decoded from ``encoding`` as UTF-8 to ``out``, streaming, strictly."""
    iconv = shutil.which("iconv")
    if iconv and encoding == "gb18030" and _iconv_chunks(iconv, path, out):
        return
    dec = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            while block := src.read(1 << 22):
                dst.write(dec.decode(block))
            dst.write(dec.decode(b"", final=True))
    except UnicodeDecodeError:
        what = "GB18030/GBK" if encoding == "gb18030" else encoding.upper()
        raise IngestError(f"{path.name} cannot be read as a table: it is neither UTF-8 nor {what} text "
                          "(an undecodable byte sequence).") from None


ICONV_CHUNK = 32 << 20


def _iconv_chunks(iconv: str, path: Path, out: Path) -> bool:
    """GB18030 → UTF-8 with ``iconv``, one bounded chunk at a time (the iconv program reads its
    whole input into memory). Chunks end after a newline byte, which never occurs inside a
    GB18030 character. False when iconv refuses a chunk (the caller decodes in Python, strictly)."""
    with open(path, "rb") as src, open(out, "wb") as dst:
        while True:
            block = src.read(ICONV_CHUNK)
            if not block:
                return True
            cut = block.rfind(b"\n")
            if 0 <= cut < len(block) - 1 and len(block) == ICONV_CHUNK:
                src.seek(cut + 1 - len(block), 1)
                block = block[: cut + 1]
            r = subprocess.run([iconv, "-f", "GB18030", "-t", "UTF-8"], input=block, stdout=dst, stderr=subprocess.PIPE)
            if r.returncode != 0:
                return False


def unique_headers(headers: list[str]) -> list[str]:
    """Repeated headers get ``.1``, ``.2`` … (the first keeps its name)."""
    seen: Counter = Counter()
    out = []
    for h in headers:
        out.append(h if not seen[h] else f"{h}.{seen[h]}")
        seen[h] += 1
    return out


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _csv_header(text_path: Path, name: str) -> tuple[list[str], list[str], str, int]:
    """(unique headers, header as read, delimiter, lines before the data) of a UTF-8 text file."""
    with open(text_path, encoding="utf-8-sig", newline="", errors="strict") as f:
        try:
            head = f.read(1 << 16)
        except UnicodeDecodeError:
            raise IngestError(f"{name} cannot be read as a table: it is neither UTF-8 nor GB18030/GBK text.") from None
    if not head.strip():
        raise IngestError(f"{name} cannot be read as a table: the file is empty.")
    lines = head.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    first = lines[skip] if skip < len(lines) else ""
    sep = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO("".join(lines[skip:])), delimiter=sep)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise IngestError(f"{name} cannot be read as a table: {exc or 'no header row'}") from None
    skip += reader.line_num
    raw = list(header)
    while len(header) > 1 and header[-1].strip() == "":
        header.pop()  # trailing separators after the last header
    return unique_headers([h.strip() for h in header]), raw, sep, skip


def _load_csv(con: Any, src: Source, work: Path, materialise: bool = False) -> None:
    path = src.path
    enc = detect_encoding(path)
    src.encoding = enc
    text_path = path
    if enc in ("gb18030", "utf-16"):
        text_path = work / "transcoded.csv"
        _transcode(path, enc, text_path)
    headers, raw_header, sep, skip = _csv_header(text_path, path.name)
    src.headers = headers
    n = len(raw_header)  # declared fields, trailing empty headers included (must stay empty)
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n))
    fq = str(text_path).replace("'", "''")
    sepq = sep.replace("'", "''")
    src.row_base = skip + 1
    src.csv = {"sep": sep, "fields": n}
    src.surplus = list(range(len(headers), n))
    src.relation = (f"(SELECT *, NULL::BIGINT AS __row FROM read_csv('{fq}', header = false, skip = {skip}, "
                    f"auto_detect = false, delim = '{sepq}', quote = '\"', escape = '\"', columns = {{{cols}}}, "
                    f"store_rejects = true, max_line_size = 8388608, encoding = 'utf-8'))")
    if materialise:  # small tables whose values are looked at before staging (grades, extra columns)
        con.execute(f"CREATE TABLE src AS SELECT * FROM {src.relation}")
        src.relation = "src"
        collect_rejects(con, src)


def collect_rejects(con: Any, src: Source) -> None:
    """After DuckDB scanned a CSV: rejected records become quarantined rejects (too many fields,
    invalid text) or padded rows (too few fields); every one moves the later rows down by one."""
    if not src.csv or src.csv.get("done"):
        return
    src.csv["done"] = True
    sep, n, headers = src.csv["sep"], src.csv["fields"], src.headers
    try:
        rej = con.execute("""
            SELECT line, min(error_type) AS err, any_value(csv_line) AS text FROM reject_errors
            GROUP BY line ORDER BY line""").fetchall()
    except Exception:  # noqa: BLE001 - no rejects table: the scan rejected nothing
        rej = []
    for j, (line, err, text) in enumerate(rej):
        line = int(line)
        src.shifts.append((line - src.row_base - j, j + 1))
        fields = _parse_record(text.lstrip("\r\n") if text else "", sep)
        if str(err).upper().startswith("INVALID"):
            src.rejects.append(Reject(line, {"(text)": text}, "bad_text"))
        elif fields is None:
            src.rejects.append(Reject(line, {"(text)": text}, "too_many_fields", {"fields": "?", "header": len(headers)}))
        elif len(fields) > len(headers) and any(v.strip() for v in fields[len(headers):]):
            vals = {h: v for h, v in zip(headers, fields)}
            vals.update({f"(field {i + 1})": v for i, v in enumerate(fields[len(headers):], start=len(headers))})
            src.rejects.append(Reject(line, vals, "too_many_fields", {"fields": len(fields), "header": len(headers)}))
        else:
            fields = (fields + [""] * n)[:n]
            src.padded.append((line, [v if v != "" else None for v in fields]))


def padded_table(con: Any, src: Source) -> str | None:
    """Register the padded short records as table ``padded`` (c0…, __row); its name, or None."""
    if not src.padded:
        return None
    import pyarrow as pa

    n = src.csv["fields"]
    cols = list(zip(*[vals + [line] for line, vals in src.padded]))
    batch = pa.table({**{f"c{i}": pa.array(cols[i], pa.string()) for i in range(n)},
                      "__row": pa.array(cols[n], pa.int64())})
    con.register("padded_view", batch)
    con.execute("CREATE OR REPLACE TABLE padded AS SELECT * FROM padded_view")
    con.unregister("padded_view")
    return "padded"


def _parse_record(text: str, sep: str) -> list[str] | None:
    try:
        recs = list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error:
        return None
    recs = [r for r in recs if r]
    return recs[0] if len(recs) == 1 else None


# ---------------------------------------------------------------------------------------------
# spreadsheets
# ---------------------------------------------------------------------------------------------
def cell_text(v: Any) -> str | None:
    """A cell value (any type from a spreadsheet) as text; None when blank."""
    if v is None:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def sheet_names(path: Path) -> list[str]:
    """The sheets of a spreadsheet, in order (IngestError when it cannot be opened)."""
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # noqa: BLE001 - zip/xml/ole errors of a broken file
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def _load_spreadsheet(con: Any, src: Source, sheet: str | None) -> None:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    path = src.path
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as exc:  # noqa: BLE001 - zip/xml/ole errors of a broken file
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    if sheet is not None:
        if sheet not in names:
            raise IngestError(f"The 'sheet' parameter of ingest must be a sheet of {path.name} "
                              f"({', '.join(names)}). Got {sheet!r} instead.")
        name = sheet
    else:
        if not names:
            raise IngestError(f"{path.name} cannot be read as a table: it has no sheets.")
        name = names[0]
        if len(names) > 1:
            src.notes.append(f"read the first sheet '{name}' of {len(names)} (choose another with --sheet)")
    src.sheet = name
    try:
        rows = wb.get_sheet_by_name(name).iter_rows()
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    header, row = None, 0
    for r in rows:
        row += 1
        if any(cell_text(v) is not None and str(v).strip() for v in r):
            header = [cell_text(v) for v in r]
            break
    if header is None:
        raise IngestError(f"{path.name} cannot be read as a table: the sheet '{name}' is empty.")
    headers = [h.strip() if h is not None else f"Unnamed: {i}" for i, h in enumerate(header)]
    while headers and headers[-1].startswith("Unnamed: "):
        headers.pop()
    headers = unique_headers(headers)
    src.headers = headers
    n = len(headers)
    schema = pa.schema([(f"c{i}", pa.string()) for i in range(n)] + [("__row", pa.int64())])
    con.execute("CREATE TABLE src (" + ", ".join(f"c{i} VARCHAR" for i in range(n)) + ", __row BIGINT)")
    buf: list[list] = []

    def flush() -> None:
        if not buf:
            return
        cols = list(zip(*buf))
        batch = pa.table([pa.array(c, type=t.type) for c, t in zip(cols, schema)], schema=schema)
        con.register("batch", batch)
        con.execute("INSERT INTO src SELECT * FROM batch")
        con.unregister("batch")
        buf.clear()

    for r in rows:
        row += 1
        texts = [cell_text(v) for v in r]
        if len(texts) > n and any(t is not None and t.strip() for t in texts[n:]):
            vals = dict(zip(headers, texts))
            vals.update({f"(column {i + 1})": t for i, t in enumerate(texts[n:], start=n)})
            src.rejects.append(Reject(row, vals, "beyond_header"))
            continue
        texts = (texts + [None] * n)[:n]
        buf.append(texts + [row])
        if len(buf) >= BATCH_ROWS:
            flush()
    flush()
    src.relation = "src"


# ---------------------------------------------------------------------------------------------
# parquet
# ---------------------------------------------------------------------------------------------
def _as_text_sql(col: str, dtype: str) -> str:
    t = dtype.upper()
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return (f"CASE WHEN {col} IS NULL OR isnan({col}::DOUBLE) THEN NULL "
                f"WHEN {col} = trunc({col}) AND abs({col}) < 1e15 THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({col} AS VARCHAR) END")
    if t.startswith("TIMESTAMP"):
        return f"strftime({col}::TIMESTAMP, '%Y-%m-%d %H:%M:%S')"
    return f"nullif(CAST({col} AS VARCHAR), '')"


def _load_parquet(con: Any, src: Source) -> None:
    fq = str(src.path).replace("'", "''")
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{fq}')").fetchall()
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"{src.path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    names = [d[0] for d in desc]
    src.headers = unique_headers(names)
    sel = ", ".join(f"{_as_text_sql(q(nm), typ)} AS c{i}" for i, (nm, typ, *_) in enumerate(desc))
    con.execute(f"CREATE TABLE src AS SELECT {sel}, file_row_number + 2 AS __row "
                f"FROM read_parquet('{fq}', file_row_number = true)")
    src.relation = "src"


def load_source(con: Any, path: str | os.PathLike, work: Path, sheet: str | None = None,
                materialise: bool = False) -> Source:
    """Open a CSV/text, spreadsheet or Parquet file as ``Source.relation`` in the work database.

    Spreadsheets and Parquet are loaded into table ``src``; a CSV stays a ``read_csv`` scan
    (staging reads it once) unless ``materialise``.

    Raises IngestError (one line) when the file cannot be read as a table.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path} cannot be read as a table: no such file.")
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name} cannot be read as a table: the file is empty.")
    kind = file_kind(path)
    src = Source(path=path, format=kind, headers=[])
    if sheet is not None and kind not in SPREADSHEETS:
        raise IngestError(f"The 'sheet' parameter of ingest applies to spreadsheets. Got {sheet!r} for "
                          f"{path.name}, a {kind} file, instead.")
    if kind == "csv":
        _load_csv(con, src, work, materialise)
    elif kind == "parquet":
        _load_parquet(con, src)
    else:
        _load_spreadsheet(con, src, sheet)
    return src

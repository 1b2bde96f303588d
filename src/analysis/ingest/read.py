"""Read a file into the work database as text columns.

Every format ends as one relation of text columns ``c0 … c{n-1}`` (the file's columns in
order) plus ``__row`` (the row number, header = row 1, when the reader knows it), loaded
into a DuckDB work database by :func:`load_source`:

The header is found in the first rows (:mod:`.header`: title rows skipped, two-row headers
flattened, a unit row applied; ``header_row`` overrides), and a wide targets file is melted to
the long form (:mod:`.wide`).

* **CSV / text** (comma, tab, semicolon or bar separated; the encoding decided on the whole
  file, see :func:`detect_encoding`; the line end given to DuckDB): UTF-8 (with or without BOM) is read
  by DuckDB directly; GB18030/GBK is transcoded to UTF-8 first by ``iconv`` (else Python's
  codec), streaming; UTF-16 with a BOM (Excel's "Unicode text") likewise. Decoding is strict:
  never a replacement character. DuckDB reads every field as text (``all_varchar``); records
  that do not fit the header come back from its rejects table: too many non-empty fields →
  quarantined whole, too few → padded with empty cells.
* **Spreadsheets** (.xlsx, .xlsm, .xls, .xlsb, .ods) through python-calamine: the first sheet
  by default (or ``sheet``); merged ranges filled with their value, Excel error cells as their
  error text (from the XLSX sheet's XML); cell values become text (dates as ISO dates, whole
  numbers without ``.0``). A required column missing on the sheet: one line listing every
  sheet and its columns, and ``--sheet``.
* **Parquet** through DuckDB's reader, each column cast to text the same way.

Row numbers: for spreadsheets and Parquet the sheet's row. For CSV, the records before the data
(empty lines above the header included) plus the data records before it: DuckDB skips empty
lines among the data, so those are not counted.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
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
UTF8_EVIDENCE = 8  # bytes of UTF-8 characters beyond ASCII that make a file UTF-8 with a bad record


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

    Decided on the whole file, never on its beginning alone: a file is UTF-8 when all of it
    decodes as UTF-8, or when it holds UTF-8 text (a few characters beyond ASCII) before its
    first byte that does not (then that record is quarantined as not valid text); otherwise it
    is GB18030 (a superset of GBK
    and GB2312), which is transcoded strictly. UTF-16 needs its BOM (Excel's "Unicode text").
    No statistical guessing, no replacement characters. The scan is one pass at the speed of
    Python's UTF-8 decoder; it stops at the first byte that is not UTF-8.

    Examples
    --------
    >>> detect_encoding("exports/2026-10订单.csv")  # doctest: +SKIP
    'gb18030'
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head:
            raise IngestError(f"{path.name} cannot be read as a table: it is a binary file (holds NUL bytes).")
        bom = head.startswith(codecs.BOM_UTF8)
        dec = codecs.getincrementaldecoder("utf-8")("strict")
        extra = 0  # bytes of valid UTF-8 beyond one per character (evidence of UTF-8 text)
        block = head
        while True:
            try:
                text = dec.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                pre = block[: exc.start]
                extra += len(pre) - len(pre.decode("utf-8", "ignore"))
                if extra >= UTF8_EVIDENCE:
                    return "utf-8-sig" if bom else "utf-8"  # UTF-8 text with a bad record: that record is quarantined
                break
            if not block:
                return "utf-8-sig" if bom else "utf-8"
            extra += len(block) - len(text)
            block = f.read(1 << 22)
    try:  # the beginning must read as GB18030 (the rest is decoded strictly when transcoded)
        codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=len(head) < (1 << 20))
    except UnicodeDecodeError:
        raise IngestError(f"{path.name} cannot be read as a table: it is neither UTF-8 nor GB18030/GBK text.") from None
    return "gb18030"


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


HEAD_TEXT = 1 << 20  # text read to find a CSV's header and delimiter


def _csv_records(text: str, sep: str, whole: bool, limit: int) -> list[list[str]]:
    """The first ``limit`` records of ``text`` (an empty line is an empty record; a record cut by
    the end of a partial text is left out)."""
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        for rec in reader:
            out.append(rec)
            if len(out) > limit:
                break
    except csv.Error:
        pass
    if not whole and len(out) <= limit and out:
        out.pop()
    return out[:limit]


def _csv_header(text_path: Path, name: str, table: str | None, user: dict[str, str] | None,
                header_row: object) -> tuple[list[str], int, str, int, list[str], str]:
    """(unique headers, declared fields, delimiter, records before the data, notes, line end)
    of a UTF-8 text file. The header is found by :func:`.header.detect` for each delimiter; the
    delimiter whose header names the most columns wins (ties: the one of the first line)."""
    from .header import SCAN_ROWS, detect

    with open(text_path, "rb") as f:
        raw = f.read(HEAD_TEXT)
        whole = not f.read(1)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    # only to find the header and delimiter: a bad record among the first is quarantined later
    head = raw.decode("utf-8", "replace")
    if not head.strip():
        raise IngestError(f"{name} cannot be read as a table: the file is empty.")
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    sniffed = _sniff_delimiter(first)
    best = None
    for sep in dict.fromkeys([sniffed, ",", "\t", ";", "|"]):
        recs = _csv_records(head, sep, whole, SCAN_ROWS + 5)
        if not recs:
            continue
        hd = detect([list(r) for r in recs], table or "", user, header_row) if table else _first_nonblank(recs)
        if best is None or hd.score > best[1].score:
            best = (sep, hd, recs)
    if best is None:
        raise IngestError(f"{name} cannot be read as a table: no header row")
    sep, hd, recs = best
    width = max((len(recs[k]) for k in range(hd.first, min(hd.data, len(recs)))), default=0)
    names = [h if h is not None else "" for h in hd.names] + [""] * max(0, width - len(hd.names))
    while len(names) > 1 and names[-1].strip() == "":
        names.pop()  # trailing separators after the last header
    return unique_headers(names), max(width, len(names)), sep, hd.data, hd.notes, _newline(head)


def _newline(text: str) -> str:
    """The line end of a text ('\\r\\n', '\\n' or '\\r', as DuckDB's ``new_line`` takes it): most line
    ends in ``text``. Given explicitly: DuckDB's own detection takes a line break inside a quoted
    header cell of a CRLF file for the line end, and then reads no rows at all."""
    crlf, lf, cr = text.count("\r\n"), text.count("\n"), text.count("\r")
    if crlf and crlf * 2 >= lf:
        return "\\r\\n"
    if cr > lf:
        return "\\r"
    return "\\n"


def _first_nonblank(recs: list[list[str]]):
    from .header import Header, header_text

    i = next((k for k, r in enumerate(recs) if any(header_text(v) for v in r)), 0)
    return Header([header_text(v) for v in recs[i]], i, i + 1)


def _load_csv(con: Any, src: Source, work: Path, materialise: bool = False, table: str | None = None,
              user: dict[str, str] | None = None, header_row: object = None) -> None:
    path = src.path
    enc = detect_encoding(path)
    src.encoding = enc
    text_path = path
    if enc in ("gb18030", "utf-16"):
        text_path = work / "transcoded.csv"
        _transcode(path, enc, text_path)
    headers, n, sep, skip, notes, newline = _csv_header(text_path, path.name, table, user, header_row)
    src.notes += notes
    src.headers = headers
    if table:
        from .wide import plan_wide

        plan = plan_wide(table, headers, user, path.name)
        if plan is not None:
            _load_wide_csv(con, src, text_path, sep, skip, n, plan)
            return
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n))
    fq = str(text_path).replace("'", "''")
    sepq = sep.replace("'", "''")
    src.row_base = skip + 1
    src.csv = {"sep": sep, "fields": n}
    src.surplus = list(range(len(headers), n))
    src.relation = (f"(SELECT *, NULL::BIGINT AS __row FROM read_csv('{fq}', header = false, skip = {skip}, "
                    f"auto_detect = false, delim = '{sepq}', quote = '\"', escape = '\"', columns = {{{cols}}}, "
                    f"new_line = '{newline}', store_rejects = true, max_line_size = 8388608, encoding = 'utf-8'))")
    if materialise:  # small tables whose values are looked at before staging (grades, extra columns)
        con.execute(f"CREATE TABLE src AS SELECT * FROM {src.relation}")
        src.relation = "src"
        collect_rejects(con, src)


def _load_wide_csv(con: Any, src: Source, text_path: Path, sep: str, skip: int, n: int, plan: Any) -> None:
    """A wide targets CSV (small): read in Python, melted, loaded as table ``src``."""
    def rows():
        with open(text_path, encoding="utf-8-sig", newline="") as f:
            for k, rec in enumerate(csv.reader(f, delimiter=sep)):
                if k < skip:
                    continue
                texts = [v if v.strip() else None for v in rec]
                if not any(texts):
                    continue
                yield k + 1, texts

    _load_melted(con, src, rows(), plan, n)


def _load_melted(con: Any, src: Source, rows: Any, plan: Any, n: int) -> None:
    """Melt wide rows into table ``src`` (five text columns, the file's row numbers); rows with
    values beyond the header are quarantined whole."""
    import pyarrow as pa

    from .wide import melt

    wide_headers = src.headers

    def fitting():
        for row, texts in rows:
            if len(texts) > n and any(t is not None and t.strip() for t in texts[n:]):
                vals = dict(zip(wide_headers, texts))
                vals.update({f"(column {i + 1})": t for i, t in enumerate(texts[n:], start=n)})
                src.rejects.append(Reject(row, vals, "beyond_header"))
                continue
            yield row, texts

    long = list(melt(plan, fitting()))
    src.notes.append(plan.note(wide_headers))
    src.headers = plan.headers
    cols = list(zip(*[vals + [row] for row, vals in long])) if long else [[] for _ in range(6)]
    table = pa.table({**{f"c{i}": pa.array(cols[i], pa.string()) for i in range(5)},
                      "__row": pa.array(cols[5], pa.int64())})
    con.register("melted", table)
    con.execute("CREATE TABLE src AS SELECT * FROM melted")
    con.unregister("melted")
    src.relation = "src"
    src.csv = {}
    src.surplus = []


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


def _open_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        return wb, list(wb.sheet_names)
    except Exception as exc:  # noqa: BLE001 - zip/xml/ole errors of a broken file
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def _xlsx_sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of an XLSX sheet (through workbook.xml and its relationships)."""
    import xml.etree.ElementTree as ET

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    try:
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return None
    rid = next((el.get(f"{{{ns['r']}}}id") for el in wb.iter(f"{{{ns['m']}}}sheet") if el.get("name") == sheet), None)
    target = next((el.get("Target") for el in rels.iter(f"{{{ns['p']}}}Relationship") if el.get("Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


_ERROR_CELL = re.compile(rb"""<c\b[^>]*\bt=["']e["'][^>]*>.*?</c>""", re.S)
_CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3})(\d+)["']""")
_CELL_V = re.compile(rb"<v>([^<]*)</v>")


def excel_error_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """Error cells of an XLSX sheet: {(row, column) 0-based: '#N/A' …}. The spreadsheet reader
    gives them as empty cells; Excel shows the error, so ingest must see it. Scans the sheet's
    XML (one streaming pass) for cells of type ``e``."""
    out: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as z:
            part = _xlsx_sheet_part(z, sheet)
            if part is None or part not in z.namelist():
                return out
            carry = b""
            with z.open(part) as f:
                while True:
                    chunk = f.read(1 << 22)
                    data = carry + chunk
                    cut = data.rfind(b"<c ") if chunk else -1  # the last cell may go on in the next chunk
                    body, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"") if not chunk else (b"", data)
                    if b't="e"' in body or b"t='e'" in body:
                        for m in _ERROR_CELL.finditer(body):
                            ref, v = _CELL_REF.search(m.group(0)), _CELL_V.search(m.group(0))
                            if ref and v:
                                col = 0
                                for ch in ref.group(1):
                                    col = col * 26 + ch - 64
                                out[(int(ref.group(2)) - 1, col - 1)] = v.group(1).decode("utf-8", "replace")
                    if not chunk:
                        break
    except (zipfile.BadZipFile, OSError, KeyError):
        return out
    return out


def _sheet_rows(wb: Any, path: Path, kind: str, name: str, filled: list | None = None):
    """The rows of a sheet: (row number as the sheet shows it, [cell text]), merged ranges filled with
    their value (as Excel displays them), error cells as their error text (#N/A …). ``filled``
    collects (top row number, first column, last column) of each merged range filled."""
    try:
        sh = wb.get_sheet_by_name(name)
        start = sh.start or (0, 0)
        merged = sh.merged_cell_ranges or []
        rows = sh.iter_rows()
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"{path.name} cannot be read as a table: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    r0, c0 = start
    errors: dict[int, list[tuple[int, str]]] = {}
    if kind == "xlsx":
        for (r, c), v in excel_error_cells(path, name).items():
            errors.setdefault(r - r0, []).append((c - c0, v))
    ranges = sorted((a[0] - r0, a[1] - c0, b[0] - r0, b[1] - c0) for a, b in merged
                    if (b[0] - a[0]) + (b[1] - a[1]) > 0)
    active: list[list] = []  # [top, left, bottom, right, value]
    nxt = 0
    for i, r in enumerate(rows):
        texts = [cell_text(v) for v in r]
        for ci, v in errors.get(i, ()):
            if 0 <= ci and (ci >= len(texts) or texts[ci] is None):
                texts += [None] * (ci + 1 - len(texts))
                texts[ci] = v
        while nxt < len(ranges) and ranges[nxt][0] <= i:
            t, lft, bt, rt = ranges[nxt]
            nxt += 1
            if t == i and 0 <= lft:
                active.append([t, lft, bt, rt, texts[lft] if lft < len(texts) else None])
                if filled is not None and active[-1][4] is not None:
                    filled.append((r0 + i + 1, lft, rt))
        if active:
            active = [a for a in active if a[2] >= i]
            for t, lft, bt, rt, v in active:
                if v is None:
                    continue
                if len(texts) <= rt:
                    texts += [None] * (rt + 1 - len(texts))
                for c in range(lft, rt + 1):
                    if texts[c] is None:
                        texts[c] = v
        yield r0 + i + 1, texts


def _sheet_head(wb: Any, path: Path, kind: str, name: str, filled: list | None = None
                ) -> tuple[list[tuple[int, list]], Any]:
    from .header import SCAN_ROWS

    it = _sheet_rows(wb, path, kind, name, filled)
    head = []
    for row in it:
        head.append(row)
        if len(head) >= SCAN_ROWS + 5:
            break
    return head, it


def _load_spreadsheet(con: Any, src: Source, sheet: str | None, table: str | None = None,
                      user: dict[str, str] | None = None, header_row: object = None) -> None:
    import itertools

    import pyarrow as pa

    from .header import Header, detect

    path = src.path
    wb, names = _open_workbook(path)
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
    filled: list[tuple[int, int, int]] = []
    head, rest = _sheet_head(wb, path, src.format, name, filled)
    if not any(any(t is not None and t.strip() for t in texts) for _, texts in head):
        raise IngestError(f"{path.name} cannot be read as a table: the sheet '{name}' is empty.")
    first_row = head[0][0]
    grid = [texts for _, texts in head]
    if table:
        hd = detect(grid, table, user, header_row, first_row=first_row)
    else:
        from .header import header_text

        i = next(k for k, t in enumerate(grid) if any(header_text(v) for v in t))
        hd = Header([header_text(v) for v in grid[i]], i, i + 1)
    src.notes += hd.notes
    headers = [h if h is not None else f"Unnamed: {i}" for i, h in enumerate(hd.names)]
    while headers and headers[-1].startswith("Unnamed: "):
        headers.pop()
    headers = unique_headers(headers)
    src.headers = headers
    n = len(headers)
    data = itertools.chain(head[hd.data:], rest)
    if table:
        from .wide import plan_wide

        plan = plan_wide(table, headers, user, path.name)
        if plan is not None:
            _load_melted(con, src, ((r, t) for r, t in data if any(x is not None and x.strip() for x in t)), plan, n)
            return
        _refuse_missing_on_sheet(wb, path, src.format, names, name, table, user, headers)
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

    for row, texts in data:
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
    _note_filled(src, filled, first_row + hd.data)


def _note_filled(src: Source, filled: list[tuple[int, int, int]], data_row: int) -> None:
    """Say which columns merged cells were filled in, below the header (an amount merged over an
    order's lines is then on every line: the user should know)."""
    ranges = [(lft, rt) for top, lft, rt in filled if top >= data_row]
    if not ranges:
        return
    cols = sorted({c for lft, rt in ranges for c in range(lft, rt + 1) if c < len(src.headers)})
    src.notes.append(f"merged cells filled with their value on every row they span, as Excel shows them: "
                     f"{len(ranges)} ranges in {', '.join(src.headers[c] for c in cols)}")


def _refuse_missing_on_sheet(wb: Any, path: Path, kind: str, names: list[str], name: str, table: str,
                             user: dict[str, str] | None, headers: list[str]) -> None:
    """A required column missing on the sheet read: one line listing every sheet and the columns
    found on it, and ``--sheet``."""
    from ..contracts import spec
    from .header import detect
    from .normalise import header_candidate, missing_required

    present = {c[0] for i, h in enumerate(headers) if (c := header_candidate(table, h, user, headers[:i]))}
    missing = missing_required(spec(table), present)
    if missing is None:
        return

    def found(sheet: str) -> str:
        if sheet == name:
            cols = [h for h in headers if not h.startswith("Unnamed: ")]
        else:
            head, _ = _sheet_head(wb, path, kind, sheet)
            grid = [t for _, t in head]
            if not any(any(x is not None and x.strip() for x in t) for t in grid):
                return "empty"
            cols = [h for h in detect(grid, table, user).names if h]
        return ", ".join(cols[:8]) + (", …" if len(cols) > 8 else "") if cols else "no columns"

    sheets = "; ".join(f"'{s}' ({found(s)})" for s in names)
    hint = "choose another with --sheet" if len(names) > 1 else "check the header row (--header-row N)"
    raise IngestError(f"{path.name}: required column {missing} of table '{table}' is missing on sheet '{name}'; "
                      f"sheets and the columns found on each: {sheets}; {hint}.")


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
                materialise: bool = False, *, table: str | None = None, mapping: dict[str, str] | None = None,
                header_row: object = None) -> Source:
    """Open a CSV/text, spreadsheet or Parquet file as ``Source.relation`` in the work database.

    Spreadsheets and Parquet are loaded into table ``src``; a CSV stays a ``read_csv`` scan
    (staging reads it once) unless ``materialise``. With ``table`` (and the user's ``mapping``),
    the header is found as :mod:`.header` describes (``header_row`` overrides it) and a wide
    targets file is melted (:mod:`.wide`); without, the first non-empty row is the header.

    Raises IngestError (one line) when the file cannot be read as a table.
    """
    from .. import aliases

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
    user = {aliases.header_key(k): v for k, v in (mapping or {}).items()}
    if header_row is not None and kind == "parquet":
        raise IngestError(f"The 'header_row' parameter of ingest applies to text files and spreadsheets. "
                          f"Got {header_row!r} for {path.name}, a parquet file, instead.")
    if kind == "csv":
        _load_csv(con, src, work, materialise, table, user, header_row)
    elif kind == "parquet":
        _load_parquet(con, src)
    else:
        _load_spreadsheet(con, src, sheet, table, user, header_row)
    if table:
        _note_key(src, table, user)
    return src


def _note_key(src: Source, table: str, user: dict[str, str]) -> None:
    """Orders without line_no are keyed by order_id + sku_id (see :data:`.validate.KEY_FALLBACKS`): say so."""
    from .normalise import header_candidate
    from .validate import key_of

    present = {c[0] for i, h in enumerate(src.headers) if (c := header_candidate(table, h, user, src.headers[:i]))}
    key, fallback = key_of(table, present)
    if fallback:
        src.notes.append(f"key: {' + '.join(key)} (the file has no {', '.join(c for c in fallback if c not in key)}); "
                         "exact copies of a line are skipped")

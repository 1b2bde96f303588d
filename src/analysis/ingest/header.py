"""Find a table's header in the first rows of a sheet or text file, as exports lay it out.

Exports from ordering systems, FineReport, WPS and Excel put the header where it suits the
page, not on row 1. :func:`detect` looks at the first :data:`SCAN_ROWS` rows and takes the row
(or pair of rows) whose cells name the most columns of the table:

* **title and blank rows** above the header are skipped (``2026年10月订单明细`` on row 1);
* **two-row headers** with group cells (``销售情况`` over ``数量`` and ``金额``) are flattened
  to ``销售情况/数量``, ``销售情况/金额``: the aliases match the last part, and the group keeps
  two columns with the same name apart (``本期/金额``, ``同期/金额``). A group cell spans the
  columns to its right whose own top cell is empty (a CSV export of a merged cell) or repeats
  it (an XLSX merged range, filled);
* **a unit row** under the header (``万元`` under ``金额``) becomes the column's unit, as if the
  header were ``金额(万元)``;
* **line breaks inside a header cell** (Alt+Enter in Excel) are read as spaces.

Scores count the distinct canonical columns a row's cells stand for
(:func:`analysis.ingest.normalise.header_candidate`; for targets, months as columns count too,
see :mod:`.wide`). The earliest row with the best score wins; a pair of rows wins over its
lower row alone only when it names more columns, or as many and its top row is a group row.
When no row names a column the first non-empty row is the header (the caller's messages then
list what it found). ``header_row`` (``3`` or ``2-3``, as the sheet numbers its rows) overrides
the search; a unit row under it still applies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import aliases
from ..contracts import spec
from ..errors import ParameterError

SCAN_ROWS = 30


@dataclass
class Header:
    """Where the header is in the rows given, and the column names it gives."""

    names: list[str | None]  # one per column (None: no header), flattened, units applied
    first: int  # index of the first header row in the rows given
    data: int  # index of the first data row
    unit_row: int | None = None  # index of a unit row applied
    score: int = 0
    notes: list[str] = field(default_factory=list)


def header_text(v: object) -> str | None:
    """A header cell as text: line breaks and runs of white space become one space; None when blank.

    Examples
    --------
    >>> header_text("数量\\r\\n(条)")
    '数量 (条)'
    """
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None


def _blank(row: list[str | None]) -> bool:
    return not any(header_text(v) for v in row)


_UNIT_PREFIX = re.compile(r"^(?:单位|unit)\s*[:：]\s*", re.I)
_BRACKETS = re.compile(r"^[(\[【〔（]\s*(.+?)\s*[)\]】〕）]$")


def unit_of(cell: object) -> str | None:
    """The unit a unit-row cell gives (``万元``, ``(万元)``, ``单位：箱``), or None.

    Examples
    --------
    >>> unit_of("（万元）"), unit_of("单位:箱"), unit_of("合计")
    ('万元', '箱', None)
    """
    t = header_text(cell)
    if t is None:
        return None
    k = _UNIT_PREFIX.sub("", aliases.header_key(t))
    m = _BRACKETS.match(k)
    if m:
        k = m.group(1)
    if aliases.unit_factor("money|volume", k) or aliases.unit_factor("money/volume", k):
        return k
    return None


def _is_unit_row(row: list[str | None]) -> bool:
    cells = [header_text(v) for v in row]
    given = [c for c in cells if c]
    return bool(given) and all(unit_of(c) for c in given)


def join_rows(top: list[str | None], bottom: list[str | None]) -> tuple[list[str | None], bool]:
    """Flatten two header rows: (names, whether the top row is a group row).

    A top cell spans the columns to its right whose top cell is empty while their bottom cell
    is not (a merged group cell exported to CSV); names are ``top/bottom`` where both differ.

    Examples
    --------
    >>> join_rows(["订单编号", "销售情况", None], [None, "数量", "金额"])
    (['订单编号', '销售情况/数量', '销售情况/金额'], True)
    """
    n = max(len(top), len(bottom))
    t = [header_text(v) for v in top] + [None] * (n - len(top))
    b = [header_text(v) for v in bottom] + [None] * (n - len(bottom))
    filled = list(t)
    for i in range(1, n):
        if filled[i] is None and b[i] is not None and filled[i - 1] is not None and b[i - 1] is not None:
            filled[i] = filled[i - 1]
    names: list[str | None] = []
    for x, y in zip(filled, b):
        names.append(f"{x}/{y}" if x and y and x != y else (y or x))
    # a group row: two or more distinct cells, one spanning columns with different names below
    spans = False
    i = 0
    while i < n:
        j = i
        while j + 1 < n and filled[j + 1] == filled[i]:
            j += 1
        below = {b[k] for k in range(i, j + 1) if b[k]}
        if filled[i] and j > i and len(below) > 1 and not re.search(r"[:：]", filled[i]):
            spans = True
        i = j + 1
    # (a title's unit cell, 金额单位:万元, is not a group: it sits beside the title)
    group = spans and len({v for v in filled if v and not _TITLE_UNIT.search(aliases.header_key(v))}) >= 2
    return names, group


def _score(table: str, names: list[str | None], user: dict[str, str]) -> int:
    from .normalise import header_candidate
    from .wide import month_of

    found: set[str] = set()
    months = 0
    seen: list[str] = []
    for h in names:
        if not h:
            continue
        c = header_candidate(table, h, user, seen)
        seen.append(h)
        if c is not None:
            found.add(c[0])
        elif table == "targets" and month_of(h):
            months += 1
    return len(found) + (2 if months >= 2 else 0)


def parse_header_row(value: object) -> tuple[int, int] | None:
    """``3`` → (3, 3); ``"2-3"`` → (2, 3); None → None (rows as the sheet numbers them)."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:[-–~]\s*(\d+)\s*)?", str(value))
    a, b = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, 0)
    if not m or a < 1 or b < a or b - a > 3:
        raise ParameterError(f"The 'header_row' parameter of ingest must be a row number like 3 (or rows like 2-3 "
                             f"for a header over two rows). Got {value!r} instead.")
    return a, b


def detect(rows: list[list[str | None]], table: str, user: dict[str, str] | None = None,
           header_row: object = None, first_row: int = 1) -> Header:
    """Find the header in ``rows`` (the first rows of the file; ``rows[i]`` is row ``first_row + i``).

    Raises ParameterError when ``header_row`` is not a row of ``rows``.
    """
    user = user or {}
    spec(table)  # an unknown table fails here, before any scoring
    forced = parse_header_row(header_row)
    if forced is not None:
        a, b = forced[0] - first_row, forced[1] - first_row
        if a < 0 or b >= len(rows) or _blank(rows[a]):
            raise ParameterError(f"The 'header_row' parameter of ingest must be a non-empty row among the first "
                                 f"{len(rows) + first_row - 1} rows of the file. Got {header_row!r} instead.")
        names = [header_text(v) for v in rows[a]]
        for k in range(a + 1, b + 1):
            names, _ = join_rows(names, rows[k])
        head = Header(names, a, b + 1, score=_score(table, names, user))
        head.notes.append(f"header on {_rows_text(a + first_row, b + first_row)} (--header-row)")
    else:
        head = _search(rows, table, user)
        if head.first > 0 or head.data - head.first > 1:
            head.notes.append(f"header found on {_rows_text(head.first + first_row, head.data - 1 + first_row)}"
                              + (f" (rows above it skipped: {head.first})" if head.first else ""))
    _apply_unit_row(rows, head, table, user, first_row)
    _apply_title_unit(rows, head, table, user, first_row)
    return head


# ``单位：万元``, ``金额单位:元``, ``(单位：万元)`` in a title cell above the header
_TITLE_UNIT = re.compile(r"(?:金额|货币)?单位\s*[:：]\s*([^\s,，;；:：)）\]】]+)")


def title_unit(rows: list[list[str | None]]) -> tuple[int, str] | None:
    """(row index, unit) of the first money unit a title row names (``单位：万元``), or None.

    Examples
    --------
    >>> title_unit([["2026年10月销售明细"], ["", "金额单位:元"]])
    (1, '元')
    >>> title_unit([["单位：箱"]]) is None
    True
    """
    for i, row in enumerate(rows):
        for v in row:
            t = header_text(v)
            if not t:
                continue
            m = _TITLE_UNIT.search(aliases.header_key(t))
            if m and aliases.unit_factor("money", m.group(1)):
                return i, m.group(1)
    return None


def _apply_title_unit(rows: list[list[str | None]], head: Header, table: str, user: dict[str, str],
                      first_row: int) -> None:
    """A title row above the header naming a money unit (``单位：万元``) is the unit of the money
    columns (amount, pay …) that carry no unit of their own (in brackets or from a unit row);
    prices (money per volume) and volumes are left as given."""
    from .normalise import header_candidate

    found = title_unit(rows[: head.first])
    if found is None:
        return
    k, u = found
    ts = spec(table)
    applied, own = [], []
    names = list(head.names)
    for i, h in enumerate(names):
        if not h:
            continue
        cand = header_candidate(table, h, user)
        if cand is None or cand[0] not in {c.name for c in ts.columns} or ts.column(cand[0]).unit != "money":
            continue
        if aliases.split_unit(h)[1] is not None:
            own.append(h)
            continue
        names[i] = f"{h}({u})"
        applied.append(h)
    head.names = names
    if applied:
        head.notes.append(f"unit {u} from the title on row {k + first_row} applied to {', '.join(applied)}"
                          + (f" ({', '.join(own)} name their own unit)" if own else ""))
    elif own:
        head.notes.append(f"unit {u} from the title on row {k + first_row} not applied: {', '.join(own)} name their own unit")


def _rows_text(a: int, b: int) -> str:
    return f"row {a}" if a == b else f"rows {a}–{b}"


def _search(rows: list[list[str | None]], table: str, user: dict[str, str]) -> Header:
    best: Header | None = None
    first_nonblank = None
    for i, row in enumerate(rows[:SCAN_ROWS]):
        if _blank(row):
            continue
        if first_nonblank is None:
            first_nonblank = i
        single = [header_text(v) for v in row]
        cand = Header(single, i, i + 1, score=_score(table, single, user))
        nxt = i + 1
        if nxt < len(rows) and not _blank(rows[nxt]) and not _is_unit_row(rows[nxt]):
            pair, group = join_rows(row, rows[nxt])
            ps = _score(table, pair, user)
            lower = _score(table, [header_text(v) for v in rows[nxt]], user)
            if ps > max(cand.score, lower) or (group and ps == max(cand.score, lower) and ps > 0):
                cand = Header(pair, i, i + 2, score=ps)
        if best is None or cand.score > best.score:
            best = cand
    if best is None:
        return Header([], 0, len(rows), score=0)
    if best.score == 0:  # nothing recognised: the first non-empty row, as read
        i = first_nonblank if first_nonblank is not None else 0
        return Header([header_text(v) for v in rows[i]], i, i + 1, score=0)
    return best


def _apply_unit_row(rows: list[list[str | None]], head: Header, table: str, user: dict[str, str],
                    first_row: int) -> None:
    """A row of units right under the header: each unit joins its column's header (``金额`` + ``万元``
    → ``金额(万元)``) where the column takes a unit; the row is not data."""
    from .normalise import header_candidate

    k = head.data
    if k >= len(rows) or not _is_unit_row(rows[k]):
        return
    names = list(head.names) + [None] * max(0, len(rows[k]) - len(head.names))
    applied, ignored = [], []
    for i, cell in enumerate(rows[k]):
        u = unit_of(cell)
        h = names[i]
        if u is None or not h:
            continue
        if aliases.split_unit(h)[1] is not None:
            ignored.append(f"{u} under {h}")
            continue
        with_unit = f"{h}({u})"
        if header_candidate(table, with_unit, user) is None and header_candidate(table, h, user) is not None:
            ignored.append(f"{u} under {h}")
            continue
        names[i] = with_unit
        applied.append(f"{h} ({u})")
    head.names = names[: len(head.names)]
    head.unit_row = k
    head.data = k + 1
    if applied:
        head.notes.append(f"unit row {k + first_row} applied: {', '.join(applied)}")
    if ignored:
        head.notes.append(f"unit row {k + first_row}: {', '.join(ignored)} not applied (the column takes no unit "
                          "or names its own)")

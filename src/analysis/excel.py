"""The Excel workbook of a report run: an about sheet, then one sheet per displayed table.

The first sheet (说明 / About) lists the report, its period, parameters, data window and
definitions. Each table gets a sheet named after its title (at most 31 characters, none of
``[]:*?/\\``, unique in the workbook) with headers in the report's language, the header row
frozen, widths fitted and real number formats taken from the catalogue (thousands
separators, ``0.0%`` for rates, dates as dates, 万元 where a column is ``money_wan``). Cell
values stay numbers: a ``rate`` cell holds 0.123 shown as 12.3 %; a ``money_wan`` cell
holds yuan ÷ 10,000 with the unit in the header. Text that a spreadsheet would read as a
formula (beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
with a leading apostrophe (CWE-1236, OWASP "CSV injection").

Examples
--------
>>> import pandas as pd
>>> from analysis.sections import Table
>>> t = Table.of("by_region", pd.DataFrame({"region": ["East"], "attainment": [0.93]}), region="text",
...              attainment="rate")
>>> write_workbook("run.xlsx", {"report": "sales_trends", "period": "2026-10"}, [("按区域", t)], "zh")  # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .errors import ParameterError
from .i18n import DEFAULT_LANG, check_lang, excel_format, format_value, header_label, label, name_label, table_unit
from .sections import Kind, Table

ABOUT_KEYS = ("report", "period", "parameters", "data_window", "definitions", "generated_at", "language")
SHEET_MAX = 31
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula.

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("@SUM(A1)"), neutralise("East")
    ("'=1+1", "'@SUM(A1)", 'East')
    """
    return "'" + text if text.startswith(_FORMULA_START) else text


def sheet_name(title: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique sheet name from a title: forbidden characters replaced, at most 31
    characters, a counter appended when taken (compared case-insensitively, as Excel does).

    Examples
    --------
    >>> sheet_name("A/B: [x]?")
    'A_B_ _x__'
    >>> sheet_name("总体情况", ["总体情况"])
    '总体情况 (2)'
    """
    base = _BAD_SHEET.sub("_", str(title)).strip().strip("'") or "Sheet"
    taken_l = {t.lower() for t in taken}
    name, n = base[:SHEET_MAX], 2
    while name.lower() in taken_l:
        suffix = f" ({n})"
        name, n = base[: SHEET_MAX - len(suffix)] + suffix, n + 1
    return name


def column_header(column: Any, lang: str = DEFAULT_LANG, unit: Mapping[str, Any] | None = None) -> str:
    """The header of a column in ``lang``: its label with the unit of its kind or of the
    column's own ``unit`` (``金额（万元）``, ``销量（条）``), or its message when the header is made
    from data."""
    if column.label is not None and not isinstance(column.label, str) and hasattr(column.label, "render"):
        return column.label.render(lang)
    return header_label(column.label_key, column.value_kind, lang, unit)


def _column_unit(column: Any, frame: pd.DataFrame, lang: str) -> Mapping[str, Any] | None:
    if column.kind in (Kind.CODE, Kind.NAME) or column.name not in frame.columns:
        return None
    return table_unit(column.value_kind, frame[column.name].tolist(), lang)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _undefined(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and not math.isfinite(v):
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (str, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _as_date(v: Any) -> dt.date:
    if isinstance(v, pd.Period):
        return v.start_time.date()
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v)
    return pd.Timestamp(s + "-01" if re.fullmatch(r"\d{4}-\d{2}", s) else s).date()


def cell_value(value: Any, column: Any, lang: str, unit: Mapping[str, Any] | None = None) -> Any:
    """The value written to a cell for a column (numbers scaled, dates as dates, text neutralised)."""
    kind = column.kind
    if _undefined(value):
        return None
    if kind is Kind.CODE:
        return neutralise(label(f"{column.codes}.{value}", lang))
    if kind is Kind.NAME:
        return neutralise(name_label(column.codes, value, lang))
    if kind is Kind.FLAG:
        return format_value(value, "flag", lang) or None
    if kind in (Kind.DATE, Kind.MONTH):
        return _as_date(value)
    if kind is Kind.TEXT or isinstance(value, str):
        return neutralise(str(value))
    _, scale = excel_format(kind.value, lang, unit)
    return float(value) / scale if scale != 1 else (int(value) if isinstance(value, int) else float(value))


def _about_rows(about: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    unknown = [k for k in about if k not in ABOUT_KEYS]
    if unknown:
        raise ParameterError(f"The keys of the 'about' parameter of write_workbook must be among "
                             f"{', '.join(ABOUT_KEYS)}. Got {', '.join(map(str, unknown))} instead.")
    rows: list[tuple[str, str]] = []
    for key in ABOUT_KEYS:
        if key not in about or about[key] is None:
            continue
        v = about[key]
        head = label(f"about.{key}", lang)
        if key == "report":
            rows.append((head, label(f"report.{v}", lang)))
        elif key == "data_window" and isinstance(v, Mapping):
            rows.append((head, f"{v.get('start', '')} – {v.get('end', '')}"))
        elif isinstance(v, Mapping):
            rows.append((head, ""))
            rows.extend((f"  {k}", _plain_text(x)) for k, x in v.items())
        elif isinstance(v, (list, tuple)):
            rows.append((head, ""))
            rows.extend(("", _plain_text(x)) for x in v)
        else:
            rows.append((head, _plain_text(v)))
    return rows


def _plain_text(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, Mapping):
        return "; ".join(f"{k}={x}" for k, x in v.items())
    return "" if v is None else str(v)


def _fit(ws: Any, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(60, w + 2))


def _items(tables: Iterable[Any]) -> list[tuple[str, Table]]:
    out = []
    for t in tables:
        if isinstance(t, Table):
            raise ParameterError("The 'tables' parameter of write_workbook must hold (title, Table) pairs or "
                                 "ShownTable objects. Got a bare Table instead.")
        title, table = (t.title, t.table) if hasattr(t, "table") else t
        if not isinstance(table, Table):
            raise ParameterError(f"The 'tables' parameter of write_workbook must hold Table objects. "
                                 f"Got {type(table).__name__} instead.")
        out.append((str(title), table))
    return out


def write_workbook(path: str | os.PathLike, about: Mapping[str, Any], tables: Iterable[Any],
                   lang: str = DEFAULT_LANG) -> Path:
    """Write the workbook of a run.

    Parameters
    ----------
    path : str or path-like
        The ``.xlsx`` file; written to a temporary name, then moved into place.
    about : mapping
        Keys among :data:`ABOUT_KEYS`: ``report`` (its ASCII name), ``period``,
        ``parameters`` (mapping), ``data_window`` ({start, end}), ``definitions`` (list of
        sentences or {term: definition}), ``generated_at``, ``language``.
    tables : iterable
        :class:`analysis.present.ShownTable` objects or ``(title, Table)`` pairs, in order;
        every row of each frame is written (the HTML page may show fewer).
    lang : str
        The report's language (headers, the about sheet, category labels).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> write_workbook("run.xlsx", {"report": "sales_trends"}, [], "en")  # doctest: +SKIP
    PosixPath('run.xlsx')
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    check_lang(lang, "write_workbook")
    items = _items(tables)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(label("about.sheet", lang))
    bold = Font(bold=True)
    ws.append([label("about.item", lang), label("about.value", lang)])
    for c in ws[1]:
        c.font = bold
    widths = [_width(label("about.item", lang)), _width(label("about.value", lang))]
    for k, v in _about_rows(about, lang):
        ws.append([neutralise(k), neutralise(v)])
        for cell in ws[ws.max_row]:
            cell.data_type = "s"
        widths = [max(widths[0], _width(k)), max(widths[1], _width(v))]
    ws.freeze_panes = "A2"
    _fit(ws, widths)
    names = [ws.title]
    for title, table in items:
        sh = wb.create_sheet(sheet_name(title, names))
        names.append(sh.title)
        cols = list(table.columns)
        units = [_column_unit(c, table.frame, lang) for c in cols]
        heads = [column_header(c, lang, u) for c, u in zip(cols, units)]
        sh.append([neutralise(h) for h in heads])
        for c in sh[1]:
            c.font = bold
            c.alignment = Alignment(wrap_text=False)
        widths = [_width(h) for h in heads]
        frame = table.frame
        formats = [excel_format(c.value_kind, lang, u)[0] for c, u in zip(cols, units)]
        for row in frame[[c.name for c in cols]].itertuples(index=False, name=None):
            sh.append([cell_value(v, c, lang, u) for v, c, u in zip(row, cols, units)])
            r = sh.max_row
            for j, (cell, c) in enumerate(zip(sh[r], cols)):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
                cell.number_format = formats[j]
                shown = format_value(row[j], c.value_kind, lang, table=True, unit=units[j]) \
                    if c.kind not in (Kind.CODE, Kind.NAME) else str(cell.value or "")
                widths[j] = max(widths[j], _width(shown))
        sh.freeze_panes = "A2"
        _fit(sh, widths)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path

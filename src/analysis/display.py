"""Safe display helpers for report notebooks.

Every string that comes from data is HTML-escaped here: pandas Styler does not escape
unless asked, and IPython's Markdown/HTML displays pass text through as it is.
Numbers are formatted with fixed precision so executed notebooks are deterministic.

Format codes for :func:`table`: ``"int"`` (thousands separators), ``"money"`` (yuan,
thousands separators, no decimals), ``"wan"`` (万元, 1 decimal), ``"pct"`` (a rate shown
as a percentage with one decimal), ``"pp"`` (percentage points, signed, one decimal),
``"f1"``/``"f2"``/``"f3"`` (fixed decimals), ``"signed"`` (signed, thousands separators).
Missing or undefined values show as "—".
"""
from __future__ import annotations

import html
import math
from typing import Any, Mapping

import pandas as pd

from .glossary import label
from .i18n import message

DASH = "—"



def fmt(value: Any, code: str = "f2") -> str:
    """Format one value.

    Examples
    --------
    >>> fmt(1234567.8, "money")
    '1,234,568'
    >>> fmt(0.1234, "pct")
    '12.3%'
    >>> fmt(None, "pct")
    '—'
    """
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return DASH
    try:
        if pd.isna(value):
            return DASH
    except (TypeError, ValueError):
        pass
    if code == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if code == "int":
        return f"{v:,.0f}"
    if code == "money":
        return f"{v:,.0f}"
    if code == "wan":
        return f"{v / 1e4:,.1f}"
    if code == "pct":
        return f"{v * 100:.1f}%"
    if code == "pp":
        return f"{v:+.1f}"
    if code == "signed":
        return f"{v:+,.0f}"
    if code.startswith("f") and code[1:].isdigit():
        return f"{v:,.{int(code[1:])}f}"
    raise ValueError(f"The 'code' parameter of fmt must be a known format code. Got {code!r} instead.")


def esc(value: Any) -> str:
    """HTML-escape any value as text."""
    return html.escape("" if value is None else str(value), quote=True)


def table_html(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    lang: str = "zh",
    caption: str | None = None,
    index: bool = False,
    max_rows: int = 60,
) -> str:
    """Render ``df`` as an escaped HTML table; column names are translated with the glossary.

    Examples
    --------
    >>> table_html(pd.DataFrame({"region": ["<b>x</b>"], "attainment": [0.5]}), {"attainment": "pct"})[:30]
    '<div class="tbl"><table><thead>'
    """
    formats = dict(formats or {})
    if df is None or len(df) == 0:
        # an empty table says so, instead of showing bare headers (e.g. per-year tables of a snapshot)
        text = message("present.no_rows", lang)
        cap = f"{caption}: " if caption else ""
        return f'<p class="note">{esc(cap + text)}</p>'
    data = df.reset_index() if index else df
    data = data.head(max_rows)
    heads = "".join(f"<th>{esc(label(str(c), lang))}</th>" for c in data.columns)
    rows = []
    for _, r in data.iterrows():
        cells = []
        for c in data.columns:
            code = formats.get(str(c))
            v = r[c]
            if code is None:
                code = "text" if not isinstance(v, (int, float)) or isinstance(v, bool) else "f2"
                if isinstance(v, (int,)) and not isinstance(v, bool):
                    code = "int"
            num = code not in ("text",)
            cells.append(f'<td class="{"num" if num else "txt"}">{esc(fmt(v, code))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{esc(message("present.more_rows", lang, rows=len(df) - max_rows))}</p>'
    return (
        f'<div class="tbl"><table>{cap}<thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _show(html_text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html_text))


def table(df: pd.DataFrame, formats: Mapping[str, str] | None = None, lang: str = "zh", **kw: Any) -> None:
    """Display ``df`` as an escaped, formatted HTML table (see :func:`table_html`)."""
    _show(table_html(df, formats, lang, **kw))


def heading(text: str, level: int = 2) -> None:
    """Display an escaped heading (collected into the report's table of contents)."""
    _show(f"<h{level}>{esc(text)}</h{level}>")


def paragraph(text: str) -> None:
    """Display escaped text as a paragraph; blank lines separate paragraphs."""
    parts = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    _show("".join(f"<p>{esc(p)}</p>" for p in parts))


def bullets(items: list[str]) -> None:
    """Display escaped items as a bullet list."""
    _show("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")


def note(text: str) -> None:
    """Display an escaped, visibly styled note (used for skipped sections and cautions)."""
    _show(f'<p class="note">{esc(text)}</p>')


def skipped(section: str, reason: str, lang: str = "zh") -> None:
    """Display the visible note of a skipped section."""
    note(f"{label('section_skipped', lang)} — {section}: {reason}")


def kpis(items: Mapping[str, str]) -> None:
    """Display headline figures as cards: {label: formatted value}, both escaped."""
    cards = "".join(
        f'<div class="kpi"><div class="kpi-v">{esc(v)}</div><div class="kpi-l">{esc(k)}</div></div>'
        for k, v in items.items()
    )
    _show(f'<div class="kpis">{cards}</div>')


def figure_output(fig: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The display data of a chart: a PNG fitted for a phone (``analysis.charts.fit_for_phone``)
    at twice its display size, with its display width and height as metadata (the exported
    ``<img>`` gets them, so it is sharp on high-density screens and never wider than its box).

    Returns
    -------
    (dict, dict)
        The data (``image/png`` base64, ``text/plain``) and the metadata.
    """
    import base64

    from . import charts

    plain = repr(fig)  # as matplotlib's own display shows it, before fitting
    charts.fit_for_phone(fig)
    png, w, h = charts.render_png(fig)
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": plain}
    return data, {"image/png": {"width": w, "height": h}}


def figure(fig: Any) -> None:
    """Display a matplotlib figure inline (a 2× PNG fitted for a phone) and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    data, metadata = figure_output(fig)
    display(data, raw=True, metadata=metadata)
    plt.close(fig)

"""Safe display helpers for report notebooks: escaping, tables as HTML, and the two outputs a
report shows (:func:`html`, a block rendered by :mod:`analysis.present`; :func:`figure`, a chart).
:func:`heading_html`, :func:`paragraph_html`, :func:`note_html`, :func:`kpis_html` and
:func:`table_html` are that markup, written once (a notebook without a spec, the pipeline's fixture
report, shows them with :func:`html` too).

Every string that comes from data is HTML-escaped here: pandas Styler does not escape
unless asked, and IPython's Markdown/HTML displays pass text through as it is.
Numbers are formatted with fixed precision so executed notebooks are deterministic.

Format codes for :func:`table_html` name value kinds of the message catalogues
(``analysis/locales/<lang>.yml``, :data:`CODES`), written in their table form (the unit
belongs in the header): ``"int"`` (thousands separators), ``"money"`` (yuan), ``"wan"``
(万元), ``"pct"`` (a rate as a percentage), ``"pp"`` (percentage points, signed),
``"f1"``/``"f2"``/``"f3"`` (fixed decimals), ``"signed"`` (signed amount). Missing or
undefined values show as the catalogue's undefined value ("—"). Column names are looked up
as ``column.<name>`` labels (else shown as they are); no text lives here.
"""
from __future__ import annotations

import html as _html
import math
from typing import Any, Mapping

import pandas as pd

from . import i18n
from .i18n import DEFAULT_LANG, message

DASH = "—"

#: Format code → value kind of the catalogues (``format.kinds``).
CODES: dict[str, str] = {
    "int": "int", "money": "money", "wan": "money_wan", "pct": "rate", "pp": "pp", "signed": "signed",
    "f1": "f1", "f2": "f2", "f3": "f3", "text": "text",
}


def fmt(value: Any, code: str = "f2", lang: str = DEFAULT_LANG) -> str:
    """Format one value as a table cell: the catalogue's table form of the code's kind.

    Examples
    --------
    >>> fmt(1234567.8, "money")
    '1,234,568'
    >>> fmt(0.1234, "pct")
    '12.3%'
    >>> fmt(None, "pct")
    '—'
    """
    if code not in CODES:
        raise ValueError(f"The 'code' parameter of fmt must be a known format code. Got {code!r} instead.")
    undefined = i18n.catalogue(lang).format.get("undefined", DASH)
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return undefined
    try:
        if pd.isna(value):
            return undefined
    except (TypeError, ValueError):
        pass
    if code == "text" or isinstance(value, str):
        return str(value)
    return i18n.format_value(float(value), CODES[code], lang, table=True)


def esc(value: Any) -> str:
    """HTML-escape any value as text."""
    return _html.escape("" if value is None else str(value), quote=True)


def table_html(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    lang: str = DEFAULT_LANG,
    caption: str | None = None,
    index: bool = False,
    max_rows: int = 60,
) -> str:
    """Render ``df`` as an escaped HTML table; a column name with a catalogue label
    ``column.<name>`` is shown as that label, any other as it is.

    Examples
    --------
    >>> table_html(pd.DataFrame({"region": ["<b>x</b>"], "attainment": [0.5]}), {"attainment": "pct"})[:31]
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
    heads = "".join(f"<th>{esc(i18n.name_label('column', c, lang))}</th>" for c in data.columns)
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
            cells.append(f'<td class="{"num" if num else "txt"}">{esc(fmt(v, code, lang))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{esc(message("present.more_rows", lang, rows=len(df) - max_rows))}</p>'
    return (
        f'<div class="tbl"><table>{cap}<thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def html(text: str) -> None:
    """Display ``text``, HTML already escaped (a rendered block of :mod:`analysis.present`), in
    the notebook: the one way a report shows text."""
    from IPython.display import HTML, display

    display(HTML(text))


def heading_html(text: str, level: int = 2) -> str:
    """An escaped heading (collected into the report's table of contents)."""
    return f"<h{level}>{esc(text)}</h{level}>"


def paragraph_html(text: str) -> str:
    """Escaped text as paragraphs; blank lines separate paragraphs."""
    return "".join(f"<p>{esc(p.strip())}</p>" for p in str(text).split("\n\n") if p.strip())


def note_html(text: str) -> str:
    """An escaped, visibly styled note."""
    return f'<p class="note">{esc(text)}</p>'


def kpis_html(items: Mapping[str, str]) -> str:
    """Headline figures as cards: {label: formatted value}, both escaped."""
    cards = "".join(
        f'<div class="kpi"><div class="kpi-v">{esc(v)}</div><div class="kpi-l">{esc(k)}</div></div>'
        for k, v in items.items()
    )
    return f'<div class="kpis">{cards}</div>'


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

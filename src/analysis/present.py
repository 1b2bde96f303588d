"""The one present layer: any section result rendered in a report's language.

A section is shown as: its heading (the catalogue label ``<report>.section.<code>``);
then, when it was skipped, one visible note (``present.skipped`` around the message
``skip.<reason>``) and nothing else; otherwise the written text, its tables, its charts
and its notes. The written text comes from a per-report *text function*
``text(result) -> list[Msg | Para | Cards]``, which chooses message ids and values only;
the same code path writes it in every language. Tables go through the escaping table
helper of :mod:`analysis.display`, with every cell written by
:func:`analysis.i18n.format_value`; each shown table is also collected, with its title and
column kinds, for the run's Excel workbook (:mod:`analysis.excel`).

Examples
--------
>>> pres = Presenter("sales_trends", lang="en")                      # doctest: +SKIP
>>> pres.show(trends.headline(scope), text=trends_text.headline)      # doctest: +SKIP
>>> pres.metrics()["skipped_sections"]                                # doctest: +SKIP
['process_indicators']
"""
from __future__ import annotations

import base64
import importlib
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import pandas as pd

from . import display
from .excel import column_header
from .i18n import (DEFAULT_LANG, NUMERIC_KINDS, Msg, check_lang, format_value, join_sentences, label, message,
                   name_label, table_unit)
from .sections import Figure, Kind, Note, SectionResult, Skip, Table, section_metrics


# ------------------------------------------------------------------------ text items
@dataclass(frozen=True)
class Para:
    """One paragraph made of several sentences (joined as the language joins sentences)."""

    sentences: tuple[Msg, ...]

    def __init__(self, *sentences: Msg | Iterable[Msg]) -> None:
        flat: list[Msg] = []
        for s in sentences:
            flat.extend([s] if isinstance(s, Msg) else list(s))
        object.__setattr__(self, "sentences", tuple(flat))


@dataclass(frozen=True)
class Cards:
    """Headline figures shown as cards: ``(label key, value, kind)`` triples; ``period`` (a
    message) is the period every card's figure is of, stated in a line above the cards (one
    period per figure: the same as the table beside them)."""

    items: tuple[tuple[str, Any, str], ...]
    period: Any = None

    def __init__(self, *items: tuple[str, Any, str], period: Any = None) -> None:
        object.__setattr__(self, "items", tuple(items))
        object.__setattr__(self, "period", period)


@dataclass(frozen=True)
class Caution:
    """A sentence shown as a visible note rather than as running text."""

    msg: Msg


@dataclass(frozen=True)
class Method:
    """The section's method note (方法说明): how a figure was obtained — the test, its
    statistic, the method's name — shown below the section's plain text as a visible note
    (``present.method`` around the message), so the main text stays in the manager's words."""

    sentences: tuple[Msg, ...]

    def __init__(self, *sentences: Msg | Iterable[Msg]) -> None:
        flat: list[Msg] = []
        for m in sentences:
            flat.extend([m] if isinstance(m, Msg) else list(m))
        object.__setattr__(self, "sentences", tuple(flat))


TextItem = Union[Msg, Para, Cards, Caution, Method]
TextFn = Callable[[Any], Sequence[TextItem]]


@dataclass(frozen=True)
class Block:
    """One piece of a rendered section: ``kind`` in heading, paragraph, cards, note, table, figure."""

    kind: str
    payload: Any


@dataclass(frozen=True)
class ShownTable:
    """A displayed table, kept for the workbook: its section, its title in the report's
    language and the table itself (frame and column kinds)."""

    section: str
    title: str
    table: Table


# ------------------------------------------------------------------------- rendering
#: Errors a method raises on the data, as catalogue messages: (pattern of the error's one line,
#: message id); the pattern's named groups are the message's values. An error not listed is
#: shown as ``error.other`` (its English line stays in metrics.json ``skipped_details``).
ERROR_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"The Cox model needs more events \((?P<events>\d+)\) than covariates \((?P<covariates>\d+)\)", "error.cox_events"),
    (r"did not converge|failed to converge|not converge", "error.not_converged"),
    (r"[Ss]ingular|collinear", "error.singular"),
)


def error_msg(error: Any) -> Msg:
    """An error's one line (as a skip's ``error`` detail holds it) as a catalogue message."""
    import re

    text = str(error or "")
    for pattern, msg_id in ERROR_MESSAGES:
        m = re.search(pattern, text)
        if m:
            return Msg(msg_id, {k: int(v) if v.isdigit() else v for k, v in m.groupdict().items()})
    return Msg("error.other", {})


def skip_values(skip: Skip) -> dict[str, Any]:
    """The values of a skip's message: its details, an ``error`` as a catalogue message."""
    values = dict(skip.details)
    if "error" in values and not isinstance(values["error"], Msg):
        values["error"] = error_msg(values["error"])
    return values


def skip_text(skip: Skip, lang: str = DEFAULT_LANG) -> str:
    """The reason of a skip in ``lang`` (message ``skip.<reason>`` with the details)."""
    return message(skip.message_id, lang, **skip_values(skip))


def skip_msg(skip: Skip) -> Msg:
    """A skip as a message, for a text function that reports a part of a section that did
    not run (``Caution(skip_msg(res.parts["association"]))``)."""
    return Msg(skip.message_id, skip_values(skip))


def note_text(note: Note, report: str, lang: str = DEFAULT_LANG) -> str:
    """A note in ``lang`` (message ``<report>.note.<code>`` with its values)."""
    return message(note.message_id(report), lang, **dict(note.values))


def text_block(item: TextItem, lang: str) -> Block:
    """A text item as a rendered block."""
    if isinstance(item, Msg):
        return Block("paragraph", item.render(lang))
    if isinstance(item, Para):
        return Block("paragraph", join_sentences((m.render(lang) for m in item.sentences), lang))
    if isinstance(item, Cards):
        return Block("cards", {label(k, lang): format_value(v, kind, lang) for k, v, kind in item.items})
    if isinstance(item, Caution):
        return Block("note", item.msg.render(lang))
    if isinstance(item, Method):
        text = join_sentences((m.render(lang) for m in item.sentences), lang)
        return Block("note", message("present.method", lang, text=text))
    raise TypeError(f"A text function must return Msg, Para, Cards, Caution or Method items. "
                    f"Got {type(item).__name__} instead.")


def cell_text(value: Any, column: Any, lang: str, unit: Mapping[str, Any] | None = None) -> str:
    """One table cell in ``lang`` (the table form of the column's kind, in the column's
    ``unit`` when given, see :func:`column_units`)."""
    if column.kind is Kind.CODE:
        return format_value(value, "text", lang) if _blank(value) else label(f"{column.codes}.{value}", lang)
    if column.kind is Kind.NAME:
        return format_value(value, "text", lang) if _blank(value) else name_label(column.codes, value, lang)
    return format_value(value, column.kind.value, lang, table=True, unit=unit)


def column_units(table: Table, lang: str) -> dict[str, Mapping[str, Any] | None]:
    """The unit of each column of ``table`` in ``lang`` (:func:`analysis.i18n.table_unit`):
    one unit per column, written in its header and used by every cell (HTML, Word, Excel)."""
    frame = table.frame
    out: dict[str, Mapping[str, Any] | None] = {}
    for c in table.columns:
        if c.kind in (Kind.CODE, Kind.NAME) or c.name not in frame.columns:
            out[c.name] = None
        else:
            out[c.name] = table_unit(c.kind.value, frame[c.name].tolist(), lang)
    return out


def _blank(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def headers(table: Table, lang: str) -> list[str]:
    """The column headers of ``table`` in ``lang`` (made unique by a counter if two coincide)."""
    out: list[str] = []
    units = column_units(table, lang)
    for c in table.columns:
        h = column_header(c, lang, units.get(c.name))
        base, n = h, 2
        while h in out:
            h, n = f"{base} ({n})", n + 1
        out.append(h)
    return out


def table_html(table: Table, lang: str = DEFAULT_LANG, caption: str | None = None) -> str:
    """``table`` as escaped HTML in ``lang``: headers from the catalogue, cells by
    :func:`format_value`, at most ``table.max_rows`` rows with a note on the rest."""
    check_lang(lang, "table_html")
    frame = table.shown()
    if len(frame) == 0:
        text = message("present.no_rows", lang)
        return f'<p class="note">{display.esc(f"{caption}: {text}" if caption else text)}</p>'
    heads = headers(table, lang)
    data = frame.head(table.max_rows)
    units = column_units(table, lang)
    cells = pd.DataFrame({h: [cell_text(v, c, lang, units[c.name]) for v in data[c.name]]
                          for h, c in zip(heads, table.columns)})
    # every cell is already text; the code only sets the alignment class (num / txt)
    codes = {h: ("f2" if c.kind.value in NUMERIC_KINDS else "text") for h, c in zip(heads, table.columns)}
    html = display.table_html(cells, codes, lang=lang, caption=caption, max_rows=len(cells))
    if len(frame) > len(data):
        html += f'<p class="note">{display.esc(message("present.more_rows", lang, rows=len(frame) - len(data)))}</p>'
    return html


def draw(figure: Figure, lang: str = DEFAULT_LANG) -> Any:
    """Draw a :class:`~analysis.sections.Figure` with its chart function of :mod:`analysis.charts`."""
    module, func = figure.chart.split(".")
    try:
        fn = getattr(importlib.import_module(f"analysis.charts.{module}"), func)
    except (ImportError, AttributeError):
        raise display_error(figure.chart) from None
    return fn(**dict(figure.data), lang=lang)


def display_error(chart: str) -> Exception:
    from .errors import ParameterError

    return ParameterError(f"The 'chart' parameter of Figure must name a function of analysis.charts. Got {chart!r} instead.")


def table_title(result: SectionResult, table: Table, lang: str) -> str:
    """The title of a table: its own label, else the section's title."""
    return label(table.title, lang) if table.title else label(result.title_key, lang)


def render(result: SectionResult, lang: str = DEFAULT_LANG, text: TextFn | None = None,
           heading_level: int = 2) -> list[Block]:
    """The blocks of a section in ``lang``: heading, then the skip note, or text, tables,
    figures (drawn) and notes.

    Parameters
    ----------
    result : SectionResult
        What a section function returned.
    lang : str
        A language with a catalogue.
    text : callable, optional
        The report's text function for this section: ``text(result)`` returns Msg, Para,
        Cards or Caution items. Not called when the section was skipped.
    heading_level : int, default 2
    """
    check_lang(lang, "render")
    if not isinstance(result, SectionResult):
        raise TypeError(f"The 'result' parameter of render must be a SectionResult. Got {type(result).__name__} instead.")
    title = label(result.title_key, lang)
    blocks = [Block("heading", (heading_level, title))]
    if result.skip is not None:
        blocks.append(Block("note", message("present.skipped", lang, section=title, reason=skip_text(result.skip, lang))))
        return blocks
    for item in (text(result) if text is not None else ()):
        if isinstance(item, Cards) and item.period is not None:
            blocks.append(Block("paragraph", message("present.cards_period", lang, period=item.period)))
        blocks.append(text_block(item, lang))
    for t in result.tables:
        caption = label(t.title, lang) if t.title else None
        blocks.append(Block("table", (t, table_html(t, lang, caption))))
    figs = list(result.figures)
    for i, f in enumerate(figs):
        fig = draw(f, lang)
        # a pair the section marks (Figure.pair on the first): side by side on a wide screen
        if (getattr(f, "pair", False) and i + 1 < len(figs)) or (i > 0 and getattr(figs[i - 1], "pair", False)):
            setattr(fig, PAIR_ATTR, True)
        blocks.append(Block("figure", fig))
    for n in result.notes:
        blocks.append(Block("note", note_text(n, result.report, lang)))
    return blocks


def _figure_html(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}"/>'


def block_html(block: Block) -> str:
    """One block as escaped HTML (figures as embedded PNG); the markup is :mod:`analysis.display`'s."""
    if block.kind == "heading":
        level, text = block.payload
        return display.heading_html(text, level)
    if block.kind == "paragraph":
        return display.paragraph_html(block.payload)
    if block.kind == "note":
        return display.note_html(block.payload)
    if block.kind == "cards":
        return display.kpis_html(block.payload)
    if block.kind == "table":
        return block.payload[1]
    if block.kind == "figure":
        return _figure_html(block.payload)
    raise ValueError(f"Unknown block kind {block.kind!r}.")


#: set on a drawn figure that pairs with its neighbour (:func:`render`)
PAIR_ATTR = "_sales_analysis_pair"


def pair_html(first: Any, second: Any) -> str:
    """Two charts that pair, as one ``<div class="pair">`` of two ``img.chart`` (each a 2× PNG
    fitted for a phone with its display size, as ``analysis.display.figure`` shows one): the
    report's CSS sets them side by side on a wide screen (≥ 1000 px), one under the other on a
    phone. The figures are closed."""
    import matplotlib.pyplot as plt

    imgs = []
    for fig in (first, second):
        data, meta = display.figure_output(fig)
        size = meta.get("image/png", {})
        imgs.append(f'<img class="chart" alt="" width="{int(size.get("width", 0))}" height="{int(size.get("height", 0))}" '
                    f'src="data:image/png;base64,{data["image/png"]}"/>')
        plt.close(fig)
    return f'<div class="pair">{"".join(imgs)}</div>'


def show_pair(first: Any, second: Any) -> None:
    """Display two charts that pair (:func:`pair_html`) in the notebook."""
    display.html(pair_html(first, second))


def _paired(block: Block) -> bool:
    return block.kind == "figure" and bool(getattr(block.payload, PAIR_ATTR, False))


def _show_blocks(blocks: Sequence[Block]) -> None:
    """Display blocks in the notebook: each as its HTML (:func:`block_html`), a figure as a chart
    output (:func:`analysis.display.figure`, a PNG fitted for a phone), two figures that pair side
    by side (:func:`show_pair`)."""
    skip = False
    for i, b in enumerate(blocks):
        if skip:
            skip = False
            continue
        if _paired(b) and i + 1 < len(blocks) and _paired(blocks[i + 1]):
            show_pair(b.payload, blocks[i + 1].payload)
            skip = True
        elif b.kind == "figure":
            display.figure(b.payload)
        else:
            display.html(block_html(b))


# ------------------------------------------------------------------------ a report run
@dataclass
class Presenter:
    """Renders the sections of one report run and keeps what the run must write.

    Parameters
    ----------
    report : str
        The report's ASCII name (``"sales_trends"``); every section shown must belong to it.
    texts : mapping, optional
        ``{section code: text function}``, the report's written text.
    lang : str
        The report's language.

    Attributes
    ----------
    sections : list of SectionResult
        Every section shown, in order.
    tables : list of ShownTable
        Every table shown, with its title in ``lang`` (the workbook's sheets).

    Examples
    --------
    >>> p = Presenter("sales_trends", lang="en")
    >>> p.report, p.lang
    ('sales_trends', 'en')
    """

    report: str
    texts: Mapping[str, TextFn] = field(default_factory=dict)
    lang: str = DEFAULT_LANG
    sections: list[SectionResult] = field(default_factory=list)
    tables: list[ShownTable] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_lang(self.lang, "Presenter")
        label(f"report.{self.report}", self.lang)  # an unknown report is an error here

    def blocks(self, result: SectionResult, text: TextFn | None = None) -> list[Block]:
        """Render ``result`` and record it (its skip, its tables)."""
        if result.report and result.report != self.report:
            from .errors import ParameterError

            raise ParameterError(f"The section {result.code!r} belongs to report {result.report!r}, not {self.report!r}.")
        blocks = render(result, self.lang, text or self.texts.get(result.code))
        self.sections.append(result)
        if result.skip is None:
            for t in result.tables:
                self.tables.append(ShownTable(result.code, table_title(result, t, self.lang), t))
        return blocks

    def show(self, result: SectionResult, text: TextFn | None = None) -> SectionResult:
        """Render, record and display ``result`` in the notebook; return it."""
        _show_blocks(self.blocks(result, text))
        return result

    def note(self, msg: Msg) -> None:
        """Display a message as a visible note of the page, outside any section (the sales
        trends report's data note, the launch review's definitions)."""
        _show_blocks([Block("note", msg.render(self.lang))])

    def metrics(self) -> dict[str, Any]:
        """The language-free metrics of the sections shown (see :func:`analysis.sections.section_metrics`)."""
        return section_metrics(self.sections)

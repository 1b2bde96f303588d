"""Rendered sections → a Word document (DOCX) a manager edits into the summary.

The document holds what the HTML page shows, block by block (:class:`analysis.present.Block`):
headings as Word's own heading styles (``Heading 1`` … so the navigation pane and the outline
work), paragraphs and notes as text, headline cards as lines, tables as Word tables (headers
from the catalogues with their units, ``金额（万元）``, the header row repeated on each page,
numbers right-aligned), charts as PNG images at :data:`PRINT_DPI` (sharp when printed). Every
style names an installed CJK font for East Asian text (``w:eastAsia``), so Word and WPS show
Chinese in it rather than guessing; the language of the text is set for spelling. A4 portrait,
page numbers in the footer.

HTML heading levels map to Word levels one below (the page's ``h1`` is the document's title):
``h2`` → ``Heading 1``, ``h3`` → ``Heading 2``.

Examples
--------
>>> from analysis.present import Block
>>> write_docx("/tmp/x.docx", "月度销售趋势", [Block("heading", (2, "总体情况")),
...            Block("paragraph", "本月销售额1.2亿元。")], "zh")          # doctest: +SKIP
PosixPath('/tmp/x.docx')

A report's sections (as :func:`analysis.reports.compute.compute` returns them) render with the
report's own text functions:

>>> out = compute("sales_trends", store, {"month": "2026-10"})            # doctest: +SKIP
>>> write_docx("trends.docx", "月度销售趋势", out.sections, "zh")          # doctest: +SKIP
"""
from __future__ import annotations

import importlib
import io
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .i18n import DEFAULT_LANG, NUMERIC_KINDS, check_lang, message
from .present import Block, cell_text, column_units, headers, render
from .sections import SectionResult

__all__ = ["PRINT_DPI", "FALLBACK_FONT", "write_docx", "section_blocks", "report_texts", "figure_png",
           "docx_level", "LANG_TAGS"]

PRINT_DPI = 300
"""Resolution of chart images in the document (dots per inch at their printed size)."""
FALLBACK_FONT = "WenQuanYi Micro Hei"
"""The CJK font named when matplotlib finds none installed (scripts/sysdeps.sh installs it)."""
LANG_TAGS = {"zh": "zh-CN", "en": "en-GB"}
"""The language tag written for the text of a document in each report language."""

PAGE_MM = (210, 297)  # A4 portrait
MARGIN_MM = 20
TEXT_WIDTH_MM = PAGE_MM[0] - 2 * MARGIN_MM
TABLE_FONT_PT = 9
WIDE_TABLE_COLUMNS = 12
"""A table with more columns is set in 7.5 pt on a landscape page (then the pages turn back)."""
NOTE_FONT_PT = 9

# the report → its text-function module under analysis.narrative
NARRATIVE = {"sales_trends": "trends", "launch_review": "launch", "incentive_retention": "retention",
             "rep_scorecard": "scorecard", "target_plan": "target_plan"}


# ------------------------------------------------------------------------- content
def report_texts(report: str) -> Mapping[str, Any]:
    """The text functions of ``report`` (``{section code: text function}``; empty when the
    report has none)."""
    module = NARRATIVE.get(report)
    if module is None:
        return {}
    return getattr(importlib.import_module(f"analysis.narrative.{module}"), "TEXTS", {})


def section_blocks(result: SectionResult, lang: str = DEFAULT_LANG, heading_level: int = 2) -> list[Block]:
    """The blocks of one section, written by its report's text function (as the report page shows it)."""
    return render(result, lang, report_texts(result.report).get(result.code), heading_level=heading_level)


def figure_png(fig: Any, dpi: int = PRINT_DPI, close: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes at ``dpi`` (closed afterwards unless ``close`` is False)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return buf.getvalue()


def docx_level(html_level: int) -> int:
    """The Word heading level of an HTML heading level (``h2`` → 1, ``h3`` → 2, at least 1).

    Examples
    --------
    >>> [docx_level(n) for n in (1, 2, 3, 4)]
    [1, 1, 2, 3]
    """
    return max(1, min(9, int(html_level) - 1))


def _blocks(items: Iterable[Block | SectionResult], lang: str) -> list[Block]:
    out: list[Block] = []
    for item in items:
        if isinstance(item, Block):
            out.append(item)
        elif isinstance(item, SectionResult):
            out.extend(section_blocks(item, lang))
        else:
            raise TypeError(f"The 'content' parameter of write_docx must hold Block or SectionResult items. "
                            f"Got {type(item).__name__} instead.")
    return out


# -------------------------------------------------------------------------- styling
def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _set_fonts(rpr: Any, font: str, lang_tag: str | None = None) -> None:
    """Name ``font`` for every script in a run-properties element (theme fonts removed, so
    the explicit names win) and set the East Asian language."""
    from docx.oxml import OxmlElement

    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(_qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(_qn(attr), font)
    if lang_tag:
        lang = rpr.find(_qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            later = [rpr.find(_qn(t)) for t in ("w:eastAsianLayout", "w:specVanish", "w:oMath")]
            later = [e for e in later if e is not None]
            if later:
                later[0].addprevious(lang)
            else:
                rpr.append(lang)
        lang.set(_qn("w:val"), lang_tag)
        lang.set(_qn("w:eastAsia"), "zh-CN")


def _style_document(doc: Any, font: str, lang: str) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.shared import Mm, Pt, RGBColor

    tag = LANG_TAGS.get(lang, lang)
    # document defaults (what any text without a style of its own takes)
    styles_el = doc.styles.element
    defaults = styles_el.find(_qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles_el.insert(0, defaults)
    rpr_default = defaults.find(_qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(_qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    _set_fonts(rpr, font, tag)
    names = ["Normal", "Title", "Subtitle", "Caption", "Table Grid"] + [f"Heading {i}" for i in range(1, 4)]
    for name in names:
        try:
            style = doc.styles[name]
        except KeyError:
            continue
        _set_fonts(style.element.get_or_add_rPr(), font, tag)
    doc.styles["Normal"].font.size = Pt(10.5)  # 五号
    for i in range(1, 4):
        h = doc.styles[f"Heading {i}"]
        h.font.color.rgb = RGBColor(0x1F, 0x2A, 0x44)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))
    _page_numbers(section)


def _field(paragraph: Any, instruction: str, shown: str = "1") -> None:
    """A field (``PAGE``, ``NUMPAGES``) in ``paragraph``: Word and WPS fill it in when they lay out."""
    from docx.oxml import OxmlElement

    def fld(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(_qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()
    run._r.append(fld("begin"))
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(_qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    run = paragraph.add_run()
    run._r.append(fld("separate"))
    paragraph.add_run(shown)
    run = paragraph.add_run()
    run._r.append(fld("end"))


def _page_numbers(section: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = section.footer.paragraphs[0] if section.footer.paragraphs else section.footer.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p, "PAGE")
    p.add_run(" / ")
    _field(p, "NUMPAGES")


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(_qn("w:val"), "true")
    trpr.append(el)


# ------------------------------------------------------------------------ the blocks
def _add_table(doc: Any, table: Any, lang: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    frame = table.shown()
    wide = len(frame) > 0 and len(table.columns) > WIDE_TABLE_COLUMNS
    if wide:
        _turn(doc, landscape=True)
    if table.title:
        from .i18n import label

        doc.add_paragraph(label(table.title, lang), style="Caption")
    if len(frame) == 0:
        _add_note(doc, message("present.no_rows", lang))
        return
    size = Pt(7.5 if wide else (8 if len(table.columns) > 8 else TABLE_FONT_PT))
    heads = headers(table, lang)
    units = column_units(table, lang)
    data = frame.head(table.max_rows)
    t = doc.add_table(rows=1, cols=len(heads))
    t.style = doc.styles["Table Grid"]
    numeric = [c.kind.value in NUMERIC_KINDS for c in table.columns]
    for cell, text, num in zip(t.rows[0].cells, heads, numeric):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = size
        if num:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _repeat_header(t.rows[0])
    for _, row in data.iterrows():
        cells = t.add_row().cells
        for cell, col, num in zip(cells, table.columns, numeric):
            run = cell.paragraphs[0].add_run(cell_text(row[col.name], col, lang, units[col.name]))
            run.font.size = size
            if num:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if len(frame) > len(data):
        _add_note(doc, message("present.more_rows", lang, rows=len(frame) - len(data)))
    if wide:
        _turn(doc, landscape=False)


def _turn(doc: Any, landscape: bool) -> None:
    """Start a new section on a new page, A4 landscape or portrait (footer and margins kept)."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Mm

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    w, h = (PAGE_MM[1], PAGE_MM[0]) if landscape else PAGE_MM
    section.page_width, section.page_height = Mm(w), Mm(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))


def _add_note(doc: Any, text: str) -> None:
    from docx.shared import Pt, RGBColor

    p = doc.add_paragraph()
    run = p.add_run(str(text))
    run.italic = True
    run.font.size = Pt(NOTE_FONT_PT)
    run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _add_picture(doc: Any, png: bytes) -> None:
    from docx.shared import Mm

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        width_px, _ = im.size
        dpi = (im.info.get("dpi") or (PRINT_DPI, PRINT_DPI))[0] or PRINT_DPI
    width_mm = min(TEXT_WIDTH_MM, width_px / float(dpi) * 25.4)
    doc.add_picture(io.BytesIO(png), width=Mm(width_mm))


def add_blocks(doc: Any, blocks: Sequence[Block], lang: str) -> None:
    """Append rendered blocks to a python-docx document (see the module docstring for the forms)."""
    for b in blocks:
        if b.kind == "heading":
            level, text = b.payload
            doc.add_heading(str(text), level=docx_level(level))
        elif b.kind == "paragraph":
            for part in str(b.payload).split("\n\n"):
                if part.strip():
                    doc.add_paragraph(part.strip())
        elif b.kind == "note":
            _add_note(doc, b.payload)
        elif b.kind == "cards":
            for k, v in b.payload.items():
                p = doc.add_paragraph()
                p.add_run(f"{k}：" if lang == "zh" else f"{k}: ")
                p.add_run(str(v)).bold = True
        elif b.kind == "table":
            _add_table(doc, b.payload[0], lang)
        elif b.kind == "figure":
            png = b.payload if isinstance(b.payload, (bytes, bytearray)) else figure_png(b.payload)
            _add_picture(doc, bytes(png))
        else:
            raise ValueError(f"Unknown block kind {b.kind!r}.")


def write_docx(
    path: str | os.PathLike,
    title: str,
    content: Iterable[Block | SectionResult],
    lang: str = DEFAULT_LANG,
    *,
    meta: Sequence[tuple[str, str]] = (),
    font: str | None = None,
) -> Path:
    """Write a DOCX of rendered sections.

    Parameters
    ----------
    path : path
        The file to write (its folder must exist).
    title : str
        The document's title (first line, ``Title`` style, and the file's title property).
    content : iterable of Block or SectionResult
        What the page shows, in order: blocks as :func:`analysis.present.render` gives them (a
        figure block may carry the PNG bytes instead of the figure), or section results, which
        are rendered with their report's text functions (heading ``h2``).
    lang : str
        The language of the text (cards' separator, the messages for empty tables, the
        language tag).
    meta : sequence of (str, str), optional
        Lines under the title (period, data window, generated at), shown as ``key: value``.
    font : str, optional
        The font named for every script (default: the installed CJK font matplotlib finds,
        else :data:`FALLBACK_FONT`).

    Returns
    -------
    Path
        ``path``.
    """
    import docx

    check_lang(lang, "write_docx")
    if font is None:
        from .charts import cjk_font

        font = cjk_font() or FALLBACK_FONT
    blocks = _blocks(content, lang)
    doc = docx.Document()
    _style_document(doc, font, lang)
    doc.core_properties.title = str(title)
    doc.core_properties.language = LANG_TAGS.get(lang, lang)
    doc.core_properties.author = "sales-analysis"
    doc.add_paragraph(str(title), style="Title")
    for k, v in meta:
        _add_note(doc, f"{k}：{v}" if lang == "zh" else f"{k}: {v}")
    add_blocks(doc, blocks, lang)
    path = Path(path)
    doc.save(str(path))
    return path

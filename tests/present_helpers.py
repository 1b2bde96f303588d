"""Rendering helpers for tests: a section's HTML and its written text, through the production
renderer (:func:`analysis.present.render`, :meth:`analysis.present.Presenter.blocks` and
:func:`analysis.present.block_html`, the path a notebook's ``ctx.section`` and the meeting pack use)."""
from __future__ import annotations

from typing import Any

from analysis.present import block_html, render, text_block


def section_html(result: Any, lang: str = "zh", text: Any = None) -> str:
    """A section as one HTML string in ``lang``."""
    return "".join(block_html(b) for b in render(result, lang, text))


def shown_html(presenter: Any, result: Any, text: Any = None) -> str:
    """Render and record ``result`` with ``presenter`` (its tables kept for the workbook); its HTML."""
    return "".join(block_html(b) for b in presenter.blocks(result, text))


def summary(res: Any, lang: str = "zh") -> str:
    """A sales trends section's written text in ``lang``: its paragraphs and cautions (not its
    cards), separated by blank lines; "" for a skipped section."""
    from analysis.narrative.trends import TEXTS

    if res.skip is not None:
        return ""
    blocks = [text_block(item, lang) for item in TEXTS[res.code](res)]
    return "\n\n".join(str(b.payload) for b in blocks if b.kind in ("paragraph", "note"))

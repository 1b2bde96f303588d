"""The weekly flash (周报) for the weekly meeting, written like the monthly pack: HTML, PDF, DOCX.

``sales-analysis meeting --weekly [--as-of 2026-10-20]`` writes
``<out>/weekly_flash/2026-10-20/weekly_flash.{html,pdf,docx,json}``: the month to date against the
month's target and against time elapsed in working days, week on week, and the regions and reps
furthest behind pace with what they need per remaining working day (:mod:`analysis.flash`). It
runs on any day, on the data so far, and calls that the month to date, never the month.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from ..i18n import DEFAULT_LANG, check_lang, label, message
from .pack import _jsonable, pack_html

__all__ = ["build_flash", "FLASH_STEM"]

FLASH_STEM = "weekly_flash"


def build_flash(
    as_of: str = "",
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = "reports",
    lang: str = DEFAULT_LANG,
    pdf: bool = True,
) -> dict[str, Any]:
    """Compute the flash on ``as_of`` ("" = the last order date) and write it.

    Returns
    -------
    dict
        ``folder``, ``html``, ``docx``, ``pdf`` (None when not written), ``pdf_note``, ``metrics``.
    """
    from .. import flash, store as store_mod
    from ..narrative import flash as texts
    from ..params.weekly_flash import WeeklyFlashParams
    from ..present import Presenter
    from ..word import write_docx

    check_lang(lang, "build_flash")
    con = store_mod.connect(store_mod.resolve_store(store), read_only=True)
    try:
        scope = flash.prepare(con, WeeklyFlashParams.of(as_of=as_of, lang=lang))
        sections = [flash.pace(scope), flash.week_on_week(scope), flash.behind(scope)]
    finally:
        con.disconnect()
    pres = Presenter(flash.REPORT, texts.TEXTS, lang)
    blocks = [b for s in sections for b in pres.blocks(s)]
    metrics = {"report": flash.REPORT, "parameters": {"as_of": as_of, "lang": lang}, **flash.scope_metrics(scope),
               **pres.metrics()}
    first, last = scope.period.split("..")
    title = message("meeting.flash_title", lang, first=first, last=last)
    generated = dt.datetime.now().isoformat(timespec="seconds")
    meta = [(label("meeting.as_of", lang), scope.as_of.isoformat()),
            (label("meeting.generated_at", lang), generated.replace("T", " "))]
    folder = Path(out) / FLASH_STEM / scope.as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"{FLASH_STEM}.html"
    html_path.write_text(pack_html(title, blocks, lang, meta), encoding="utf-8")
    docx_path = write_docx(folder / f"{FLASH_STEM}.docx", title, blocks, lang, meta=meta)
    pdf_path, note = folder / f"{FLASH_STEM}.pdf", None
    if pdf_path.exists():
        pdf_path.unlink()
    if pdf:
        from ..reports.pdf import write_pdf

        note = write_pdf(html_path, pdf_path)
    else:
        note = "PDF not written: --no-pdf"
    metrics["generated_at"] = generated
    (folder / f"{FLASH_STEM}.json").write_text(json.dumps(_jsonable(metrics), ensure_ascii=False, indent=1),
                                               encoding="utf-8")
    return {"folder": folder, "html": html_path, "docx": docx_path, "pdf": pdf_path if note is None else None,
            "pdf_note": note, "metrics": metrics}

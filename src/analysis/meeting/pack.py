"""The monthly meeting pack (月例会材料): one document, in HTML, PDF and Word.

``sales-analysis meeting --month 2026-10`` writes ``<out>/meeting/2026-10/``:

============== ==========================================================================
meeting.html   one self-contained page (contents list, readable on a phone)
meeting.pdf    the page printed by headless Chromium (A4), when Chromium is installed
meeting.docx   the same content as a Word document to edit into the month's summary
meeting.xlsx   the 改善行动点 sheet (the items flagged for action, to fill and ingest back with
               ``sales-analysis ingest actions``), then next month's targets
meeting.json   the record: each part's report, parameters, status, reason and metrics
============== ==========================================================================

The parts, in order (:func:`plan`):

1. ``summary`` — the month's summary from the sales trends report: the headline, attainment
   against time elapsed by region with the items needing action, staff below target;
2. ``launch`` — one short review per launch whose first window (30 days from
   ``products.launch_date``) ended in the month (:func:`~analysis.meeting.launches.launches_ending`);
3. ``scorecard`` — the rep scorecard, team version (no pay);
4. ``target_plan`` — next month's 任务分解表;
5. ``retention`` — in the last month of a quarter, the incentive and retention review.

On a store of the agency profile (``profile="agency"``, or ``"auto"`` on a store with agents and
policies and no order lines) the parts are the agency's (:mod:`analysis.meeting.agency`): the agency
monthly report, the team scorecard, next month's agency targets and, at a quarter's end, agent
retention.

When action points were ingested for the month before, the pack opens with them beside each
item's figure now (:mod:`analysis.meeting.actions`).

Each part is computed once, headlessly (:func:`analysis.reports.compute.compute`: the report's
own notebook cells, so its metrics are the stand-alone report's), then rendered by the one
presenter. A part whose computation fails, or whose every section was skipped, is listed
under "parts not in this pack" with the reason — and keeps its place in the order with the
reason under its heading; the pack is written all the same. A section a parameter switched
off (skip reason ``disabled``) is left out quietly: it is a choice, not missing data.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import display
from ..errors import ParameterError
from ..i18n import DEFAULT_LANG, Msg, check_lang, label, message
from ..periods import add_months, month_end, parse_month
from ..present import Block, block_html, render
from ..sections import SectionResult
from . import agency as agency_pack
from .actions import flagged_items, review_previous, write_workbook
from .launches import Launch, launch_params, launches_ending

__all__ = ["PartSpec", "Part", "Pack", "PARTS", "QUARTER_END_MONTHS", "plan", "build_pack", "resolve_month",
           "pack_blocks", "FILE_STEM"]

FILE_STEM = "meeting"
QUARTER_END_MONTHS = (3, 6, 9, 12)
WINDOW_DAYS = 30
PARTS = ("summary", "launch", "scorecard", "target_plan", "retention")
"""The part codes, in the pack's order."""

# the sections each part shows (None: every section the report shows)
SHOWN: dict[str, tuple[str, ...] | None] = {
    "summary": ("headline", "attainment_by_level", "underperformers"),
    "launch": ("headline", "sales_trend"),  # the written judgement (vs earlier launches) and the weekly curve
    # the assessment as announced; the rank intervals and the territory check (240 rows each) stay
    # in the stand-alone report (its scores table already carries each rep's rank interval)
    "scorecard": ("headline", "scores", "indicators", "underperformers", "adjustments"),
    "target_plan": ("overview", "regions", "reps", "products"),
    "retention": None,
}
QUIET_SKIPS = {"disabled"}


@dataclass(frozen=True)
class PartSpec:
    """One part of the pack: what to compute and how it is titled.

    Attributes
    ----------
    key : str
        Unique within the pack (``launch_S044``).
    part : str
        The part code (:data:`PARTS`).
    report : str
        The report computed.
    params : dict
        Its parameters (without the store).
    title : Msg
        Its heading (``meeting.part.<part>``).
    """

    key: str
    part: str
    report: str
    params: dict[str, Any]
    title: Msg


@dataclass
class Part:
    """A part as computed: its sections (those shown) and metrics, or the reason it is missing."""

    spec: PartSpec
    metrics: dict[str, Any] = field(default_factory=dict)
    sections: list[SectionResult] = field(default_factory=list)
    reason: Msg | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class Pack:
    """What :func:`build_pack` wrote."""

    month: str
    folder: Path
    html: Path
    docx: Path
    record: Path
    xlsx: Path
    pdf: Path | None
    pdf_note: str | None
    parts: list[Part]
    missing: list[tuple[Msg, Msg]]  # (part title, reason)

    def summary(self) -> str:
        """Lines for the command's output: the files, then each missing part with its reason."""
        lines = [f"meeting {self.month}: {self.html}", f"  docx: {self.docx}",
                 f"  xlsx: {self.xlsx}", f"  pdf: {self.pdf}" if self.pdf else f"  {self.pdf_note}"]
        ok = sum(1 for p in self.parts if p.ok)
        lines.append(f"  parts: {ok} included, {len(self.missing)} missing")
        lines += [f"  missing: {t.render('en')}: {r.render('en')}" for t, r in self.missing]
        return "\n".join(lines)


# -------------------------------------------------------------------------- the plan
def resolve_month(con: Any, month: str) -> str:
    """``month`` as "YYYY-MM" by the rule of every report (:func:`analysis.periods.resolve_month`):
    "last" is the last complete month of the order lines, "last-N" N months before it,
    "current" the month of the last order day; a written month (``2026-10``, ``2026年10月``) is
    that month, without reading the store."""
    from .. import model, periods

    text = periods.parse_month_text(month, "month", "build_pack")
    if not periods.is_relative_month(text):
        return text
    try:
        first, last = model.data_window(con)
    except (ValueError, TypeError):  # an orders table without rows: no window
        raise ParameterError(f"The 'month' parameter of build_pack is {month!r} but the store has no order lines.") \
            from None
    grain = periods.detect_grain(model.order_days(con).execute()["order_date"])
    return f"{periods.resolve_month(text, first, last, grain, owner='build_pack'):%Y-%m}"


def plan(con: Any, month: str) -> tuple[list[PartSpec], list[tuple[Msg, Msg]]]:
    """The parts of ``month``'s pack, and the parts known missing before computing.

    Parameters
    ----------
    con : Ibis backend
        The store (read for the launches).
    month : str
        "YYYY-MM".

    Returns
    -------
    (list of PartSpec, list of (Msg, Msg))
        The parts in order; (part title, reason) of the launch part when no launch can be
        reviewed (none ended in the month, or the store has no launch dates).
    """
    first = parse_month(month, "month", "plan")
    ym = first.strftime("%Y-%m")
    specs: list[PartSpec] = [PartSpec("summary", "summary", "sales_trends", {"month": ym, "level": "region"},
                                      Msg("meeting.part.summary", {"month": ym}))]
    missing: list[tuple[Msg, Msg]] = []
    launches_title = Msg("meeting.part.launches", {})
    try:
        launches: list[Launch] = launches_ending(con, ym, WINDOW_DAYS)
    except Exception as exc:  # noqa: BLE001 - no products table or no launch_date: listed, not raised
        launches = []
        missing.append((launches_title, Msg("meeting.missing.no_launch_dates", {"error": _one_line(exc)})))
    else:
        if not launches:
            missing.append((launches_title, Msg("meeting.missing.no_launch", {"month": ym, "days": WINDOW_DAYS})))
    for la in launches:
        specs.append(PartSpec(f"launch_{la.sku_id}", "launch", "launch_review", launch_params(la, WINDOW_DAYS),
                              Msg("meeting.part.launch", {"brand": la.brand or la.sku_id, "sku": la.sku_id,
                                                          "launch_date": la.launch_date.isoformat()})))
    specs.append(PartSpec("scorecard", "scorecard", "rep_scorecard", {"month": ym, "audience": "team"},
                          Msg("meeting.part.scorecard", {"month": ym})))
    nxt = add_months(first, 1).strftime("%Y-%m")
    specs.append(PartSpec("target_plan", "target_plan", "target_plan", {"month": nxt},
                          Msg("meeting.part.target_plan", {"month": nxt})))
    if first.month in QUARTER_END_MONTHS:
        specs.append(PartSpec("retention", "retention", "incentive_retention",
                              {"as_of": month_end(first).isoformat()}, Msg("meeting.part.retention", {"month": ym})))
    return specs, missing


def _one_line(exc: BaseException) -> str:
    from ..reports.export import redact_paths

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact_paths(text)


# ----------------------------------------------------------------------- computing
def compute_part(spec: PartSpec, store: Any, lang: str, compute: Callable[..., Any] | None = None) -> Part:
    """Compute one part (once) and keep the sections it shows; a failure becomes its reason."""
    if compute is None:
        from ..reports.compute import compute
    try:
        out = compute(spec.report, store, {**spec.params, "lang": lang})
    except Exception as exc:  # noqa: BLE001 - a part that fails is listed with the reason, never raised
        return Part(spec, reason=Msg("meeting.missing.failed", {"error": _one_line(exc)}))
    from .agency import SHOWN as AGENCY_SHOWN

    wanted = AGENCY_SHOWN[spec.report] if spec.report in AGENCY_SHOWN else SHOWN.get(spec.part)
    shown = [s for s in out.sections
             if (wanted is None or s.code in wanted)
             and not (s.skip is not None and s.skip.code.value in QUIET_SKIPS)]
    part = Part(spec, metrics=dict(out.metrics), sections=shown)
    if not shown:
        part.reason = Msg("meeting.missing.nothing_shown", {})
    elif all(s.skip is not None for s in shown):
        s = shown[0]
        part.reason = Msg(s.skip.message_id, dict(s.skip.details))
    return part


# ------------------------------------------------------------------------ rendering
@dataclass(frozen=True)
class Picture:
    """A chart drawn twice: for the screen (fitted for a phone, 2×) and for print (:data:`word.PRINT_DPI`)."""

    screen: bytes
    width: int
    height: int
    printed: bytes


def _picture(fig: Any) -> Picture:
    from .. import charts
    from ..word import figure_png

    charts.fit_for_phone(fig)
    png, w, h = charts.render_png(fig)
    return Picture(png, w, h, figure_png(fig))


def pack_blocks(parts: Sequence[Part], missing: Sequence[tuple[Msg, Msg]], lang: str,
                previous: SectionResult | None = None) -> list[Block]:
    """The pack's content as blocks (charts drawn once, as :class:`Picture`): last month's
    action points (when ingested), the parts not in this pack with their reasons (when any),
    then each part — its heading (``h2``), then its sections (``h3``) or the reason it is
    missing."""
    from ..word import report_texts
    from .actions import summary_text

    blocks: list[Block] = []
    if previous is not None:
        blocks += render(previous, lang, summary_text, heading_level=2)
    if missing:
        blocks.append(Block("heading", (2, label("meeting.missing.title", lang))))
        for title, reason in missing:
            blocks.append(Block("note", message("meeting.missing.item", lang, part=title.render(lang),
                                                reason=reason.render(lang))))
    for p in parts:
        blocks.append(Block("heading", (2, p.spec.title.render(lang))))
        if not p.ok:
            blocks.append(Block("note", message("meeting.missing.here", lang, reason=p.reason.render(lang))))
            continue
        texts = report_texts(p.spec.report) or _spec_texts(p.spec.report)
        for s in p.sections:
            for b in render(s, lang, texts.get(s.code), heading_level=3):
                blocks.append(Block("figure", _picture(b.payload)) if b.kind == "figure" else b)
    return blocks


def _spec_texts(report: str) -> dict[str, Any]:
    """The text functions a report's spec names (the agency reports' are not under analysis.narrative)."""
    from ..params import REPORTS

    return REPORTS[report].texts() if report in REPORTS else {}


def _html_body(blocks: Sequence[Block]) -> tuple[str, list[dict[str, Any]]]:
    esc = display.esc
    toc: list[dict[str, Any]] = []
    out: list[str] = []
    n = 0
    for b in blocks:
        if b.kind == "heading":
            level, text = b.payload
            n += 1
            hid = f"sec-{n}"
            item = {"id": hid, "text": str(text), "children": []}
            if level <= 2 or not toc:
                toc.append(item)
            else:
                toc[-1]["children"].append(item)
            out.append(f'<h{level} id="{hid}">{esc(text)}</h{level}>')
        elif b.kind == "figure":
            pic = b.payload
            src = base64.b64encode(pic.screen).decode("ascii")
            out.append(f'<img class="chart" alt="" width="{pic.width}" height="{pic.height}" '
                       f'src="data:image/png;base64,{src}"/>')
        else:
            out.append(block_html(b))
    return "\n".join(out), toc


def pack_html(title: str, blocks: Sequence[Block], lang: str, meta: Sequence[tuple[str, str]]) -> str:
    """The pack's page: the report template (title block, contents list, the report CSS)."""
    from ..reports.export import jinja_env, report_css

    body, toc = _html_body(blocks)
    return jinja_env().get_template("report.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else lang, title=title, period=None, meta=list(meta), toc=toc,
        contents_label=label("meeting.contents", lang), css=report_css(), body=body,
        footer="sales-analysis · meeting")


def _jsonable(v: Any) -> Any:
    """``v`` as plain JSON values (NaN and infinities as null, as metrics.json writes them)."""
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {str(k): clean(y) for k, y in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(y) for y in x]
        return x

    return clean(json.loads(json.dumps(v, ensure_ascii=False, default=str)))


# --------------------------------------------------------------------------- the pack
def build_pack(
    month: str = "last",
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = "reports",
    lang: str = DEFAULT_LANG,
    pdf: bool = True,
    compute: Callable[..., Any] | None = None,
    profile: str = "auto",
) -> Pack:
    """Compute the month's parts and write the pack (HTML, PDF, DOCX, record).

    Parameters
    ----------
    month : str
        "YYYY-MM" or "last" (the last complete month of the data).
    store : str or path, optional
        The store (default: the project's).
    out : path
        The output root; the pack goes to ``<out>/meeting/<month>/``.
    lang : str
        The language of the pack.
    pdf : bool
        Also print the PDF (headless Chromium; without it the pack is written and
        :attr:`Pack.pdf_note` says why there is no PDF).
    compute : callable, optional
        ``compute(report, store, params) -> Computed`` (default
        :func:`analysis.reports.compute.compute`).
    profile : {"auto", "sales", "agency"}
        Whose pack: the sales team's or the agency's (:mod:`analysis.meeting.agency`); "auto": the
        agency's on a store with agents and policies and no order lines.

    Returns
    -------
    Pack
    """
    from .. import charts, store as store_mod
    from ..word import write_docx

    check_lang(lang, "build_pack")
    loc = store_mod.resolve_store(store)
    con = store_mod.connect(loc, read_only=True)
    try:
        profile = agency_pack.detect_profile(con, profile)
        month = agency_pack.agency_month(con, month) if profile == "agency" else month
        ym = resolve_month(con, month)
        specs, missing = plan(con, ym) if profile == "sales" else agency_pack.plan(con, ym)
        previous = review_previous(con, ym) if profile == "sales" else None
    finally:
        con.disconnect()
    charts.setup()
    parts = [compute_part(s, loc, lang, compute) for s in specs]
    # the missing list keeps the order of the pack: the launches' line first when it is theirs
    missing = list(missing) + [(p.spec.title, p.reason) for p in parts if not p.ok]
    missing.sort(key=lambda m: _order(m[0]))
    blocks = pack_blocks(parts, missing, lang, previous)

    title = message("meeting.title", lang, month=ym)
    generated = dt.datetime.now().isoformat(timespec="seconds")
    meta = [(label("meeting.period", lang), message("meeting.month", lang, month=ym)),
            (label("meeting.generated_at", lang), generated.replace("T", " "))]
    folder = Path(out) / "meeting" / ym
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"{FILE_STEM}.html"
    html_path.write_text(pack_html(title, blocks, lang, meta), encoding="utf-8")
    docx_path = write_docx(folder / f"{FILE_STEM}.docx", title,
                           [Block("figure", b.payload.printed) if b.kind == "figure" else b for b in blocks],
                           lang, meta=meta)
    items = flagged_items(next((p.sections for p in parts if p.spec.part == "summary" and p.ok), ()), ym)
    xlsx_path = write_workbook(folder / f"{FILE_STEM}.xlsx", items, lang,
                               {"report": "meeting", "period": ym, "generated_at": generated, "language": lang},
                               _plan_tables(parts, lang))
    pdf_path: Path | None = None
    note: str | None = None
    old_pdf = folder / f"{FILE_STEM}.pdf"
    if old_pdf.exists():
        old_pdf.unlink()
    if pdf:
        from ..reports.pdf import write_pdf

        note = write_pdf(html_path, old_pdf)
        pdf_path = old_pdf if note is None else None
    else:
        note = "PDF not written: --no-pdf"
    record = folder / f"{FILE_STEM}.json"
    record.write_text(json.dumps(_jsonable({
        "report": "meeting", "month": ym, "lang": lang, "generated_at": generated, "profile": profile,
        "parts": [{"key": p.spec.key, "part": p.spec.part, "report": p.spec.report, "params": p.spec.params,
                   "title": p.spec.title.render(lang), "status": "ok" if p.ok else "missing",
                   "reason": None if p.ok else p.reason.render(lang),
                   "sections": [s.code for s in p.sections], "metrics": p.metrics} for p in parts],
        "missing": [{"part": t.render(lang), "reason": r.render(lang)} for t, r in missing],
        "actions": {"flagged": [{k: v for k, v in r.items() if k not in ("action", "due_date")}
                                for r in items.to_dict("records")],
                    "previous": previous.metrics() if previous is not None else None},
        "outputs": {"html": html_path.name, "docx": docx_path.name, "xlsx": xlsx_path.name,
                    "pdf": pdf_path.name if pdf_path else None},
        "pdf_note": note,
    }), ensure_ascii=False, indent=1), encoding="utf-8")
    return Pack(ym, folder, html_path, docx_path, record, xlsx_path, pdf_path, note, parts, missing)


def _plan_tables(parts: Sequence[Part], lang: str) -> list[tuple[str, Any]]:
    """The target plan part's tables (regions, reps, products) as (sheet title, Table) pairs."""
    out: list[tuple[str, Any]] = []
    for p in parts:
        if p.spec.part != "target_plan" or not p.ok:
            continue
        for s in p.sections:
            if s.skip is not None:
                continue
            for t in s.tables:
                if t.code in ("by_region", "by_rep", "by_product", "by_team", "by_agent"):
                    out.append((label(t.title, lang) if t.title else label(s.title_key, lang), t))
    return out


def _order(title: Msg) -> int:
    """The position in the pack of the part a missing line is about."""
    part = title.id.removeprefix("agency.").removeprefix("meeting.part.")
    part = "launch" if part == "launches" else part
    return PARTS.index(part) if part in PARTS else len(PARTS)

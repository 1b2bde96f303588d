"""``<out>/index.html``: the page a manager starts from.

Runs are grouped by report, then by output name (a variant such as ``sales_trends_市区`` is its own
series), newest period first. Each series shows the headline figures of its latest run (read from
its metrics.json), links to the HTML, the Excel workbook and the PDF when they exist, a small chart
of its headline figure across the periods run, and its earlier periods. A report that was not
produced is never left out: a failed run (its ``.FAILED.ipynb``) or a report the last batch could
not start (:data:`BATCH_RECORD`) newer than the series' last good run is shown at the top of the
series, in red, with its reason and a link to the failed notebook.

Every word and number format comes from the message catalogues (``index.*`` labels and
messages, value kinds), in any language that has a catalogue.

Which figures are headlines is one small table per report (:data:`HEADLINES`): a new report plugs
in by adding an entry. Every text on the page is escaped (Jinja autoescaping); the chart is an
inline SVG drawn from numbers only.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..params import REPORTS
from ..spec import Figure, Headline
from .export import jinja_env, report_css, report_lang, report_name, report_title
from .outputs import read_json, recorded_outputs, shown_period


#: The headline figures of each report, as its spec declares them (:data:`analysis.params.REPORTS`).
HEADLINES: dict[str, Headline] = {name: spec.headline for name, spec in REPORTS.items() if spec.headline is not None}
REPORT_ORDER = list(HEADLINES)
#: The record of the last batch (:func:`record_batch`): the reports it could not produce.
BATCH_RECORD = ".last_batch.json"
#: Where a failed run's notebook keeps what went wrong (``nb.metadata[FAILURE_KEY]``).
FAILURE_KEY = "sales_analysis_failure"


def text(key: str, lang: str) -> str:
    """The index's word ``key`` in ``lang``: the catalogue label ``index.<key>``.

    Raises
    ------
    MessageError
        When the catalogues have no such label (a silent echo would hide a typo).
    """
    from .. import i18n

    return i18n.label(f"index.{key}", lang)


def lookup(metrics: Mapping[str, Any], key: str) -> Any:
    """``metrics[key]``, where dots reach into mappings (``leader.name``); None when missing.

    Examples
    --------
    >>> lookup({"a": {"b": 2}}, "a.b"), lookup({}, "x")
    (2, None)
    """
    value: Any = metrics
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def number(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def format_figure(value: Any, kind: str, lang: str) -> str:
    """A headline value as text, written by the catalogue of ``lang`` (``kind``: a value kind).

    Examples
    --------
    >>> format_figure(12345678, "money_wan", "zh"), format_figure(0.032, "change", "en"), format_figure(None, "rate", "zh")
    ('1,234.6万元', '+3.2%', '—')
    """
    from .. import i18n

    if kind == "text":
        return i18n.format_value(None if value in (None, "") else str(value), "text", lang)
    return i18n.format_value(number(value), kind, lang)


def measure_code(metrics: Mapping[str, Any]) -> str:
    """The kind of a figure in the run's measure: money in 万元 (``measure: amount``), or a
    quantity in the products' unit (the run's ``value_kind``). A run written before runs
    recorded their ``value_kind`` does not say its unit: a bare number (``int``), never a guess.

    Examples
    --------
    >>> measure_code({"measure": "amount"}), measure_code({"measure": "qty", "value_kind": "qty_case"})
    ('money_wan', 'qty_case')
    >>> measure_code({"measure": "qty"})
    'int'
    """
    if metrics.get("measure", "amount") == "amount":
        return "money_wan"
    kind = metrics.get("value_kind")
    return kind if isinstance(kind, str) and kind.startswith("qty") else "int"


def sparkline(points: list[tuple[str, float | None]], width: int = 320, height: int = 64, pad: int = 6) -> dict[str, Any] | None:
    """The geometry of a small line chart of ``points`` (oldest first), or None with fewer than
    two numbers: ``polyline`` (SVG points), ``dots`` (x, y, label index) and the view box."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if len(known) < 2:
        return None
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    span = hi - lo or abs(hi) or 1.0
    n = len(points)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)
        y = height - pad - (height - 2 * pad) * ((v - lo) / span if hi != lo else 0.5)
        return round(x, 1), round(y, 1)

    dots = [(*xy(i, v), i) for i, v in known]
    return {
        "width": width, "height": height,
        "polyline": " ".join(f"{x},{y}" for x, y, _ in dots),
        "dots": dots,
    }


@dataclass
class Run:
    """One good run found under the output folder."""

    report: str
    name: str
    period: str
    folder: Path
    page: Path
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    generated: str
    failed_since: bool = False
    files: dict[str, Path] = field(default_factory=dict)
    failure: "Failure | None" = None

    @property
    def lang(self) -> str:
        return report_lang(self.parameters, self.metrics)

    @property
    def mtime(self) -> float:
        return self.page.stat().st_mtime

    def order_key(self) -> tuple[str, str]:
        spec = HEADLINES.get(self.report)
        key = lookup(self.metrics, spec.order_by) if spec else None
        return (str(key or self.metrics.get("period") or self.period), self.generated)


@dataclass
class Failure:
    """A report the index must show as not produced: a run that failed (its FAILED notebook
    is kept, ``kind="failed"``) or a report of the last batch that left no folder
    (``kind="missing"``, for instance a parameter the store refused)."""

    report: str
    name: str
    period: str | None
    reason: str
    when: str
    mtime: float
    kind: str = "failed"
    notebook: Path | None = None


def read_failure(path: Path) -> dict[str, Any]:
    """What a FAILED notebook says about its failure (``metadata.sales_analysis_failure``, written
    by the run), else its first error output, else {}."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(nb, dict):
        return {}
    meta = (nb.get("metadata") or {}).get(FAILURE_KEY)
    if isinstance(meta, dict):
        return meta
    for cell in nb.get("cells") or []:
        for o in cell.get("outputs") or [] if isinstance(cell, dict) else []:
            if isinstance(o, dict) and o.get("output_type") == "error":
                return {"error": f"{o.get('ename', 'Error')}: {str(o.get('evalue', '')).splitlines()[0] if o.get('evalue') else ''}"}
    return {}


def _stamp(mtime: float) -> str:
    return dt.datetime.fromtimestamp(mtime).isoformat(timespec="seconds")


def find_failures(out: Path) -> list[Failure]:
    """Every FAILED notebook under ``out`` (``<name>/<period>/<name>.FAILED.ipynb``), and every
    report of the last batch (:data:`BATCH_RECORD`) that failed without leaving a folder."""
    found = []
    for path in sorted(out.glob("*/*/*.FAILED.ipynb")):
        folder = path.parent
        if folder.parent.name.startswith(".") or folder.name.startswith("."):
            continue
        info = read_failure(path)
        name = path.name[: -len(".FAILED.ipynb")]
        mtime = path.stat().st_mtime
        found.append(Failure(
            report=str(info.get("report") or name), name=name, period=folder.name,
            reason=str(info.get("error") or ""), when=str(info.get("failed_at") or _stamp(mtime)),
            mtime=mtime, notebook=path,
        ))
    record = out / BATCH_RECORD
    if record.exists():
        data = read_json(record)
        mtime = record.stat().st_mtime
        for job in data.get("reports") or []:
            if not isinstance(job, dict) or job.get("status") == "ok" or job.get("failed_notebook"):
                continue
            found.append(Failure(
                report=str(job.get("report") or job.get("name")), name=str(job.get("name") or job.get("report")),
                period=job.get("period"), reason=str(job.get("error") or ""),
                when=str(job.get("started_at") or data.get("started_at") or _stamp(mtime)), mtime=mtime,
                kind="missing",
            ))
    return found


def record_batch(out: str | os.PathLike, header: Mapping[str, Any], reports: list[Mapping[str, Any]]) -> Path:
    """Write the record of a batch (``<out>/.last_batch.json``): its header and one entry per report
    (name, report, status, period, error, failed_notebook); the index shows what it could not produce."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / BATCH_RECORD
    tmp = out / f".batch.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps({**dict(header), "reports": list(reports)}, ensure_ascii=False, default=str, indent=1),
                   encoding="utf-8")
    os.replace(tmp, target)
    return target


def find_runs(out: Path) -> list[Run]:
    """Every good run under ``out`` (a folder ``<name>/<period>/`` with metrics.json and HTML)."""
    runs = []
    for mpath in sorted(out.glob("*/*/metrics.json")):
        folder = mpath.parent
        if folder.parent.name.startswith(".") or folder.name.startswith("."):
            continue
        metrics = read_json(mpath)
        record: dict[str, Any] = {}
        pfile = folder / "params.yml"
        if pfile.exists():
            try:
                loaded = yaml.safe_load(pfile.read_text(encoding="utf-8"))
                record = loaded if isinstance(loaded, dict) else {}
            except yaml.YAMLError:
                record = {}
        name = str(record.get("name") or folder.parent.name)
        page = folder / f"{name}.html"
        if not page.exists():
            pages = sorted(folder.glob("*.html"))
            if not pages:
                continue
            page = pages[0]
        params = record.get("parameters") or metrics.get("parameters") or {}
        params = params if isinstance(params, dict) else {}
        generated = str(metrics.get("generated_at") or
                        dt.datetime.fromtimestamp(page.stat().st_mtime).isoformat(timespec="seconds"))
        failed = folder / f"{name}.FAILED.ipynb"
        files = {kind: folder / f"{name}.{ext}" for kind, ext in (("excel", "xlsx"), ("pdf", "pdf"))
                 if (folder / f"{name}.{ext}").exists()}
        standard = {f"{name}.{ext}" for ext in ("html", "ipynb", "xlsx", "pdf")} | {"metrics.json", "params.yml"}
        for extra in recorded_outputs(folder):  # files of the report's own (a target plan's CSV)
            if extra not in standard and (folder / extra).is_file():
                files[f"file:{extra}"] = folder / extra
        runs.append(Run(
            report=str(metrics.get("report") or record.get("report") or name), name=name, period=folder.name,
            folder=folder, page=page, metrics=metrics, parameters=params, generated=generated,
            failed_since=failed.exists() and failed.stat().st_mtime >= page.stat().st_mtime, files=files,
        ))
    return runs


def _run_view(run: Run, out: Path, lang: str) -> dict[str, Any]:
    spec = HEADLINES.get(run.report)
    figures = []
    for f in (spec.figures if spec else ()):
        code = measure_code(run.metrics) if f.fmt == "measure" else f.fmt
        figures.append({"label": text(f"figure.{f.label}", lang),
                        "value": format_figure(lookup(run.metrics, f.key), code, lang)})
    links = [{"href": run.page.relative_to(out).as_posix(), "text": text("open", lang), "kind": "html"}]
    for kind, path in run.files.items():
        own = kind.startswith("file:")
        links.append({"href": path.relative_to(out).as_posix(), "text": path.name if own else text(kind, lang),
                      "kind": "file" if own else kind})
    last_failed = None
    if run.failed_since:
        from .. import i18n

        reason = run.failure.reason if run.failure and run.failure.reason else text("unknown_reason", lang)
        last_failed = i18n.message("index.last_failed", lang, reason=reason)
    return {
        "href": links[0]["href"],
        "title": report_title(run.report, run.lang, run.metrics, run.parameters),
        "period": shown_period(run.period, run.metrics),
        "subject": str(run.metrics.get("subject") or ""),
        "generated_at": run.generated.replace("T", " "),
        "figures": figures,
        "links": links,
        "failed_since": run.failed_since,
        "last_failed": last_failed,
        "failed_href": (run.failure.notebook.relative_to(out).as_posix()
                        if run.failed_since and run.failure and run.failure.notebook else None),
    }


def _point_name(run: Run) -> str:
    """A run's name on the history chart: what it is of (a launch's product), else its period."""
    return str(run.metrics.get("subject") or run.period)


def _failure_view(f: Failure, out: Path, lang: str) -> dict[str, Any]:
    from .. import i18n

    reason = f.reason or text("unknown_reason", lang)
    when = f.when.replace("T", " ")
    if f.kind == "missing":
        line = i18n.message("index.missing_run", lang, when=when, reason=reason)
    else:
        line = i18n.message("index.failed_run", lang, period=f.period or "", when=when, reason=reason)
    return {
        "kind": f.kind, "label": text(f.kind, lang), "text": line, "period": f.period or "",
        "href": f.notebook.relative_to(out).as_posix() if f.notebook is not None else None,
    }


def build_groups(runs: list[Run], out: Path, lang: str, failures: list[Failure] | None = None) -> list[dict[str, Any]]:
    """The page's model: report groups → series (one per output name) → runs, newest first.

    A failure (:class:`Failure`) newer than every good run of its series is shown at the top of
    that series, in red with its reason; a series with failures only is listed all the same.
    """
    by_report: dict[str, dict[str, list[Run]]] = {}
    for r in runs:
        by_report.setdefault(r.report, {}).setdefault(r.name, []).append(r)
    fails: dict[tuple[str, str], list[Failure]] = {}
    for f in failures or []:
        by_report.setdefault(f.report, {}).setdefault(f.name, [])
        fails.setdefault((f.report, f.name), []).append(f)
    groups = []
    for report, series_runs in by_report.items():
        series = []
        for name, rs in series_runs.items():
            rs.sort(key=Run.order_key, reverse=True)
            own_fails = fails.get((report, name), [])
            for r in rs:  # the FAILED notebook beside a good run: the note on that run
                r.failure = next((f for f in own_fails if f.notebook is not None and f.notebook.parent == r.folder), None)
            newest_good = max((r.mtime for r in rs), default=float("-inf"))
            shown = sorted((f for f in own_fails if f.mtime >= newest_good
                            and not any(r.failure is f for r in rs)), key=lambda f: f.mtime, reverse=True)
            spec = HEADLINES.get(report)
            history = None
            if rs and spec and spec.history:
                points = [(_point_name(r), number(lookup(r.metrics, spec.history))) for r in reversed(rs)]
                geom = sparkline(points)
                if geom is not None:
                    fig = next((f for f in spec.figures if f.key == spec.history), Figure(spec.history, spec.history, "f2"))
                    vals = [v for _, v in points if v is not None]
                    code = measure_code(rs[0].metrics) if fig.fmt == "measure" else fig.fmt
                    fig = Figure(fig.key, fig.label, code)
                    history = {
                        **geom,
                        "label": text(f"figure.{fig.label}", lang),
                        "titles": [f"{p}: {format_figure(v, fig.fmt, lang)}" for p, v in points],
                        "first": points[0][0], "last": points[-1][0],
                        "high": format_figure(max(vals), fig.fmt, lang), "low": format_figure(min(vals), fig.fmt, lang),
                    }
            if not rs and not shown:
                continue
            newest = max([r.generated for r in rs] + [f.when for f in shown])
            series.append({
                "name": name, "latest": _run_view(rs[0], out, lang) if rs else None,
                "earlier": [_run_view(r, out, lang) for r in rs[1:]],
                "history": history, "newest": newest,
                "failures": [_failure_view(f, out, lang) for f in shown],
                "title": report_name(report, lang) if name == report else f"{report_name(report, lang)} · {name}",
            })
        if not series:
            continue
        series.sort(key=lambda s: s["newest"], reverse=True)
        series.sort(key=lambda s: s["name"] != report)  # the report's own series first (stable)
        title = report_name(report, lang)
        groups.append({"report": report, "id": f"g-{report}", "title": title, "series": series,
                       "newest": max(s["newest"] for s in series)})
    groups.sort(key=lambda g: g["newest"], reverse=True)
    groups.sort(key=lambda g: REPORT_ORDER.index(g["report"]) if g["report"] in REPORT_ORDER else len(REPORT_ORDER))
    return groups


INDEX_TEXTS = ("title", "updated", "count", "failed_count", "latest", "earlier", "history", "highest", "lowest",
               "generated_at", "none", "failed_notebook", "packs")

#: The files of a meeting pack the index links (its record's ``outputs`` keys), in order.
PACK_FILES = ("html", "docx", "pdf", "xlsx")


def find_packs(out: Path, lang: str) -> list[dict[str, Any]]:
    """The meeting packs under ``<out>/meeting/`` (newest month first), from their records:
    title, links to the page, the Word document, the PDF and the workbook, and the parts not in
    the pack. A record that cannot be read is listed as such, never skipped."""
    import json

    from .. import i18n

    packs = []
    for rec in sorted((out / "meeting").glob("*/meeting.json"), reverse=True):
        folder = rec.parent
        try:
            m = json.loads(rec.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            packs.append({"month": folder.name, "title": folder.name, "href": None, "links": [],
                          "missing": [], "generated_at": "", "unreadable": True})
            continue
        outputs = m.get("outputs") or {}
        links = [{"href": (folder / outputs[k]).relative_to(out).as_posix(), "text": text(f"pack_{k}", lang), "kind": k}
                 for k in PACK_FILES if outputs.get(k) and (folder / outputs[k]).exists()]
        packs.append({
            "month": m.get("month", folder.name),
            "title": i18n.message("meeting.title", lang, month=m.get("month", folder.name)),
            "href": links[0]["href"] if links else None,
            "links": links,
            "missing": [i18n.message("meeting.missing.item", lang, part=str(x.get("part", "")),
                                     reason=str(x.get("reason", ""))) for x in m.get("missing", [])],
            "generated_at": str(m.get("generated_at", "")).replace("T", " "),
            "unreadable": False,
        })
    return packs


def write_index(out: str | os.PathLike, lang: str | None = None) -> Path:
    """Write ``<out>/index.html`` (atomically) from the runs found under ``out``.

    Parameters
    ----------
    out : path
        The output root of the runs.
    lang : str, optional
        The page's language (any language with a catalogue); default: the language of the
        runs when they all share one, else the default language (Chinese).

    Returns
    -------
    Path
        The index file.
    """
    from .. import i18n

    out = Path(out)
    runs = find_runs(out)
    failures = find_failures(out)
    if lang is None:
        langs = {r.lang for r in runs}
        lang = langs.pop() if len(langs) == 1 else i18n.DEFAULT_LANG
    lang = i18n.check_lang(lang, "write_index")
    groups = build_groups(runs, out, lang, failures)
    n_failed = sum(len(s["failures"]) + bool(s["latest"] and s["latest"]["failed_since"])
                   for g in groups for s in g["series"])
    page = jinja_env().get_template("index.html.j2").render(
        html_lang=i18n.html_lang(lang),
        t={k: text(k, lang) for k in INDEX_TEXTS},
        groups=groups,
        packs=find_packs(out, lang),
        count=sum(len(s["earlier"]) + (s["latest"] is not None) for g in groups for s in g["series"]),
        failed=n_failed,
        updated=dt.datetime.now().isoformat(timespec="seconds").replace("T", " "),
        css=report_css(),
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    tmp = out / f".index.{uuid.uuid4().hex}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target

"""``<out>/index.html``: the page a manager starts from.

Runs are grouped by report, then by output name (a variant such as ``sales_trends_市区`` is its own
series), newest period first. Each series shows the headline figures of its latest run (read from
its metrics.json), links to the HTML, the Excel workbook and the PDF when they exist, a small chart
of its headline figure across the periods run, and its earlier periods.

Which figures are headlines is one small table per report (:data:`HEADLINES`): a new report plugs
in by adding an entry. Every text on the page is escaped (Jinja autoescaping); the chart is an
inline SVG drawn from numbers only.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .export import jinja_env, report_css, report_lang, report_name, report_title
from .outputs import read_json, recorded_outputs


@dataclass(frozen=True)
class Figure:
    """One headline figure: a metrics.json key (dots reach into mappings), its label id and
    its format (a :func:`analysis.display.fmt` code, ``"spct"`` for a signed percentage,
    ``"yuan"`` for money shown in 万元 / yuan, ``"measure"`` for money or volume as the run's
    metrics.json ``measure`` says, ``"text"``)."""

    key: str
    label: str
    fmt: str


@dataclass(frozen=True)
class Headline:
    """The headline figures of one report, the figure charted across periods (``history``) and
    the metrics.json key that orders its periods (``order_by``)."""

    figures: tuple[Figure, ...]
    history: str | None = None
    order_by: str = "period"


HEADLINES: dict[str, Headline] = {
    "sales_trends": Headline(
        (Figure("total_amount", "amount", "yuan"), Figure("attainment", "attainment", "pct"),
         Figure("time_elapsed", "time_elapsed", "pct"), Figure("yoy", "yoy", "spct")),
        history="total_amount",
    ),
    "launch_review": Headline(
        (Figure("distribution_rate", "distribution_rate", "pct"), Figure("repeat_rate", "repeat_rate", "pct"),
         Figure("rating_mean", "rating", "f2")),
        history="distribution_rate", order_by="launch_date",
    ),
    "incentive_retention": Headline(
        (Figure("attrition_rate", "attrition_rate", "pct"),
         Figure("first_year_attrition", "first_year_attrition", "pct")),
        history="attrition_rate",
    ),
    # the two reports to come: their metrics.json must carry these keys (or change them here)
    "rep_scorecard": Headline(
        (Figure("leader", "leader", "text"), Figure("below_target", "below_target", "int")),
        history="below_target",
    ),
    "target_plan": Headline((Figure("total", "plan_total", "measure"),), history="total"),
}
REPORT_ORDER = list(HEADLINES)

# the index's own words (the report pages take theirs from the glossary)
TEXT: dict[str, tuple[str, str]] = {
    "index_title": ("报告目录", "Reports"),
    "updated": ("更新时间", "Updated"),
    "count": ("报告数", "Reports"),
    "latest": ("最新一期", "Latest"),
    "earlier": ("往期", "Earlier periods"),
    "history": ("历次走势", "History"),
    "highest": ("最高", "high"),
    "lowest": ("最低", "low"),
    "open": ("报告", "Report"),
    "excel": ("Excel", "Excel"),
    "pdf": ("PDF", "PDF"),
    "generated_at": ("生成于", "generated"),
    "last_failed": ("本期最近一次运行失败，显示的是上一次成功运行的结果",
                    "The latest run of this period failed; this is the last good run"),
    "leader": ("第一名", "Leader"),
    "below_target": ("未达标人数", "Below target"),
    "plan_total": ("任务总量", "Plan total"),
    "none": ("尚无报告", "No reports yet"),
    "wan_yuan": ("万元", "10k yuan"),
}


def text(key: str, lang: str) -> str:
    """The index's word ``key`` in ``lang``, else the glossary label.

    Raises
    ------
    KeyError
        When neither knows ``key`` (a silent echo would hide a typo).
    """
    if key in TEXT:
        return TEXT[key][0 if lang == "zh" else 1]
    from ..glossary import LABELS

    if key in LABELS:
        return LABELS[key][0 if lang == "zh" else 1]
    raise KeyError(f"The index has no text {key!r}.")


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


def format_figure(value: Any, code: str, lang: str) -> str:
    """A headline value as text.

    Examples
    --------
    >>> format_figure(12345678, "yuan", "zh"), format_figure(0.032, "spct", "en"), format_figure(None, "pct", "zh")
    ('1,234.6 万元', '+3.2%', '—')
    """
    from ..display import DASH, fmt

    if code == "text":
        return DASH if value in (None, "") else str(value)
    v = number(value)
    if v is None:
        return DASH
    if code == "yuan":
        return f"{fmt(v, 'wan')} {text('wan_yuan', lang)}" if lang == "zh" else f"{fmt(v, 'money')} yuan"
    if code == "spct":
        return f"{v * 100:+.1f}%"
    return fmt(v, code)


def measure_code(metrics: Mapping[str, Any]) -> str:
    """The format of a figure in the run's measure: money (``measure: amount``) or a count of units."""
    return "yuan" if metrics.get("measure", "amount") == "amount" else "int"


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

    @property
    def lang(self) -> str:
        return report_lang(self.parameters, self.metrics)

    def order_key(self) -> tuple[str, str]:
        spec = HEADLINES.get(self.report)
        key = lookup(self.metrics, spec.order_by) if spec else None
        return (str(key or self.metrics.get("period") or self.period), self.generated)


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
        figures.append({"label": text(f.label, lang), "value": format_figure(lookup(run.metrics, f.key), code, lang)})
    links = [{"href": run.page.relative_to(out).as_posix(), "text": text("open", lang), "kind": "html"}]
    for kind, path in run.files.items():
        own = kind.startswith("file:")
        links.append({"href": path.relative_to(out).as_posix(), "text": path.name if own else text(kind, lang),
                      "kind": "file" if own else kind})
    return {
        "href": links[0]["href"],
        "title": report_title(run.report, run.lang, run.metrics, run.parameters),
        "period": run.period,
        "generated_at": run.generated.replace("T", " "),
        "figures": figures,
        "links": links,
        "failed_since": run.failed_since,
    }


def build_groups(runs: list[Run], out: Path, lang: str) -> list[dict[str, Any]]:
    """The page's model: report groups → series (one per output name) → runs, newest first."""
    by_report: dict[str, dict[str, list[Run]]] = {}
    for r in runs:
        by_report.setdefault(r.report, {}).setdefault(r.name, []).append(r)
    groups = []
    for report, series_runs in by_report.items():
        series = []
        for name, rs in series_runs.items():
            rs.sort(key=Run.order_key, reverse=True)
            spec = HEADLINES.get(report)
            history = None
            if spec and spec.history:
                points = [(r.period, number(lookup(r.metrics, spec.history))) for r in reversed(rs)]
                geom = sparkline(points)
                if geom is not None:
                    fig = next((f for f in spec.figures if f.key == spec.history), Figure(spec.history, spec.history, "f2"))
                    vals = [v for _, v in points if v is not None]
                    code = measure_code(rs[0].metrics) if fig.fmt == "measure" else fig.fmt
                    fig = Figure(fig.key, fig.label, code)
                    history = {
                        **geom,
                        "label": text(fig.label, lang),
                        "titles": [f"{p}: {format_figure(v, fig.fmt, lang)}" for p, v in points],
                        "first": points[0][0], "last": points[-1][0],
                        "high": format_figure(max(vals), fig.fmt, lang), "low": format_figure(min(vals), fig.fmt, lang),
                    }
            series.append({
                "name": name, "latest": _run_view(rs[0], out, lang),
                "earlier": [_run_view(r, out, lang) for r in rs[1:]],
                "history": history, "newest": max(r.generated for r in rs),
            })
        series.sort(key=lambda s: s["newest"], reverse=True)
        series.sort(key=lambda s: s["name"] != report)  # the report's own series first (stable)
        title = report_name(report, lang)
        groups.append({"report": report, "id": f"g-{report}", "title": title, "series": series,
                       "newest": max(s["newest"] for s in series)})
    groups.sort(key=lambda g: g["newest"], reverse=True)
    groups.sort(key=lambda g: REPORT_ORDER.index(g["report"]) if g["report"] in REPORT_ORDER else len(REPORT_ORDER))
    return groups


def write_index(out: str | os.PathLike, lang: str | None = None) -> Path:
    """Write ``<out>/index.html`` (atomically) from the runs found under ``out``.

    Parameters
    ----------
    out : path
        The output root of the runs.
    lang : {"zh", "en"}, optional
        The page's language; default Chinese, English when every run is English.

    Returns
    -------
    Path
        The index file.
    """
    out = Path(out)
    runs = find_runs(out)
    if lang is None:
        lang = "en" if runs and all(r.lang == "en" for r in runs) else "zh"
    groups = build_groups(runs, out, lang)
    page = jinja_env().get_template("index.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        t={k: text(k, lang) for k in TEXT},
        groups=groups,
        count=sum(len(s["earlier"]) + 1 for g in groups for s in g["series"]),
        updated=dt.datetime.now().isoformat(timespec="seconds").replace("T", " "),
        css=report_css(),
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    tmp = out / f".index.{uuid.uuid4().hex}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target

"""An executed notebook → one self-contained HTML page for managers.

The page holds the notebook's outputs only (no code, prompts, parameters cells, stderr or analysts'
markdown notes), sanitised (:mod:`analysis.reports.sanitize`), with images inline, a title block
(title, period, data window, generated at — from metrics.json), a table of contents built from the
h2/h3 headings, and nothing of the server's file system (:func:`redact_paths`).
"""
from __future__ import annotations

import copy
import datetime as dt
import html
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from .sanitize import sanitize_html

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REMOVED_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
REDACTED = "…"
# absolute paths under the usual top-level folders of a server, wherever they come from
_SYSTEM_PATH = re.compile(
    r"(?<![\w.:/])/(?:home|root|tmp|var|srv|opt|usr|mnt|media|data|work|private|Users|Volumes)/(?:[^\s<>\"'`),;]*[^\s<>\"'`),;.])?"
)


def jinja_env() -> Any:
    """The Jinja environment of the templates (autoescaping on)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))


def report_css() -> str:
    """The CSS shared by report pages and the index."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def machine_paths(*extra: str | os.PathLike | None) -> list[str]:
    """Absolute folders of this machine that must not appear in a report: ``extra`` (the run's
    work and output folders), the project folder, the home folder, the temp folder, the Python
    prefix. Longest first."""
    from .. import store as store_mod

    found = {str(p) for p in extra if p}
    found |= {str(store_mod.project_root()), os.path.expanduser("~"), tempfile.gettempdir(), sys.prefix,
              sys.base_prefix, os.getcwd()}
    real = {os.path.realpath(p) for p in found}
    return sorted({p.rstrip("/") for p in found | real if p and p not in ("/", ".")}, key=len, reverse=True)


def redact_paths(text: str, paths: Iterable[str] = ()) -> str:
    """Replace the machine's absolute paths in ``text`` by "…".

    ``paths`` (as given, and HTML-escaped) are replaced wherever they occur; then any absolute
    path under a usual server folder (/home, /tmp, /srv, /var, …) is replaced whole.

    Examples
    --------
    >>> redact_paths("saved to /srv/sa/reports/.tmp/x/metrics.json.", ["/srv/sa"])
    'saved to ….'
    >>> redact_paths("see /tmp/x/metrics.json. Then")
    'see …. Then'
    >>> redact_paths("rate 3/4 and 2026/10")
    'rate 3/4 and 2026/10'
    """
    for p in paths:
        for form in {p, html.escape(p, quote=True)}:
            text = re.sub(r"(?<![\w.:/])" + re.escape(form) + r"(?![\w.\-])(?:/(?:[^\s<>\"'`),;]*[^\s<>\"'`),;.])?)?", REDACTED, text)
    return _SYSTEM_PATH.sub(REDACTED, text)


def redact_soup(soup: Any, paths: Iterable[str] = ()) -> None:
    """:func:`redact_paths` on every text and attribute of ``soup`` (in place), except image
    data (a base64 PNG may hold "/tmp/" by chance and must stay intact)."""
    from bs4 import NavigableString

    paths = list(paths)
    for node in list(soup.find_all(string=True)):
        new = redact_paths(str(node), paths)
        if new != str(node):
            node.replace_with(NavigableString(new))
    for tag in soup.find_all(True):
        for k, v in list(tag.attrs.items()):
            if k == "src" or not isinstance(v, str):
                continue
            tag[k] = redact_paths(v, paths)


def strip_for_export(nb: Any) -> Any:
    """A copy of the executed notebook as managers see it: outputs only.

    Dropped: code (inputs), the parameters and injected-parameters cells, stderr, and markdown
    cells — they are the analyst's notes (in one language, about the notebook); the report's own
    text comes from the message catalogues in the report's language. A markdown cell tagged ``report``
    is kept.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_CELL_TAGS:
            continue
        if cell.cell_type == "raw" or (cell.cell_type == "markdown" and "report" not in tags):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            if not cell.outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def data_window_text(value: Any) -> str:
    """The data window of metrics.json as text.

    Examples
    --------
    >>> data_window_text({"start": "2026-10-01", "end": "2026-10-31"})
    '2026-10-01 – 2026-10-31'
    >>> data_window_text({"first": "2023-11-01", "last": "2026-10-31"})
    '2023-11-01 – 2026-10-31'
    """
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        start = value.get("start", value.get("first"))
        end = value.get("end", value.get("last"))
        if start or end:
            return f"{start or '…'} – {end or '…'}"
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " – ".join(str(v) for v in value)
    return str(value)


def report_lang(parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
    """The language of a run: the parameters' or metrics' ``lang`` when it has a catalogue,
    else the default language."""
    from .. import i18n

    lang = str(parameters.get("lang") or (metrics or {}).get("lang") or i18n.DEFAULT_LANG)
    return lang if lang in i18n.languages() else i18n.DEFAULT_LANG


def report_name(report: str, lang: str) -> str:
    """The name of a report in ``lang``: the catalogues' ``report.<name>``, else the report's own id
    (a report registered without a catalogue entry, such as a test's fixture)."""
    from .. import i18n

    lang_ = lang if lang in i18n.languages() else i18n.DEFAULT_LANG
    key = f"report.{report}"
    return i18n.label(key, lang_) if i18n.has_label(key, lang_) else report


def report_title(report: str, lang: str, metrics: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """The title of a report page: metrics.json ``title``, else the report's name in ``lang``
    followed by the filter values (``月度销售趋势 · 市区``)."""
    title = metrics.get("title") or report_name(report, lang)
    if metrics.get("subject") and not metrics.get("title"):  # what the report is of, by name (a launch's product)
        title = f"{title} · {metrics['subject']}"
    filters = parameters.get("filters") or {}
    if isinstance(filters, Mapping) and filters and not metrics.get("title"):
        parts = [", ".join(str(x) for x in (v if isinstance(v, list) else [v])) for v in filters.values()]
        title = f"{title} · {' · '.join(parts)}"
    return str(title)


def export_html(
    nb: Any,
    report: str,
    metrics: Mapping[str, Any],
    parameters: Mapping[str, Any],
    period: str | None = None,
    private_paths: Iterable[str] | None = None,
) -> str:
    """Render an executed notebook as one self-contained HTML page for managers.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    report : str
        Report name (its title when metrics.json has none).
    metrics : mapping
        The run's metrics.json (period, data window, generated at, title).
    parameters : mapping
        The run's parameters (``lang``, ``filters``).
    period : str, optional
        The period shown in the title block.
    private_paths : iterable of str, optional
        Folders of this machine to keep out of the page (default :func:`machine_paths`).

    Returns
    -------
    str
        The page.
    """
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from ..i18n import html_lang, label

    lang = report_lang(parameters, metrics)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.anchor_link_text = ""
    body, _ = exporter.from_notebook_node(strip_for_export(nb))
    body = sanitize_html(body)
    soup = BeautifulSoup(body, "html.parser")
    redact_soup(soup, machine_paths() if private_paths is None else list(private_paths))
    toc: list[dict[str, Any]] = []
    n = 0
    for h in soup.find_all(["h2", "h3"]):
        text = h.get_text(" ", strip=True)
        if not text:
            continue
        n += 1
        h["id"] = f"sec-{n}"
        item = {"id": h["id"], "text": text, "children": []}
        if h.name == "h2" or not toc:
            toc.append(item)
        else:
            toc[-1]["children"].append(item)
    for img in soup.find_all("img"):
        if img.get("width") and not img.get("class"):
            img["class"] = ["chart"]
    body = str(soup)

    from .outputs import shown_period

    meta = []
    if period:
        meta.append((label("present.period", lang), shown_period(period, metrics)))
    window = data_window_text(metrics.get("data_window"))
    if window:
        meta.append((label("present.data_window", lang), window))
    generated = str(metrics.get("generated_at") or dt.datetime.now().isoformat(timespec="seconds"))
    meta.append((label("present.generated_at", lang), generated.replace("T", " ")))

    return jinja_env().get_template("report.html.j2").render(
        html_lang=html_lang(lang),
        title=report_title(report, lang, metrics, parameters),
        period=period,
        meta=meta,
        toc=toc,
        contents_label=label("present.contents", lang),
        css=report_css(),
        body=body,
        footer=f"sales-analysis · {report}",
    )

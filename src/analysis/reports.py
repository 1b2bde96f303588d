"""Running report notebooks and exporting them for managers.

One run (:func:`run_report`)::

    parameters (-p name=value, -f file.yml, a dict)
      → validated with the report's model BEFORE any kernel starts (unknown names, wrong types)
      → papermill executes notebooks/<report>.ipynb in the "sales-analysis" kernel
        (per-cell timeout, working directory = project root, $SALES_ANALYSIS_METRICS set)
      → every code cell checked: executed, no error output (papermill misses sys.exit(0),
        cell timeouts and dead kernels) and metrics.json written
      → HTML without code (self-contained, sanitised, title block, table of contents)
      → moved into place: <out>/<name>/<period>/{<name>.ipynb, <name>.html, metrics.json, params.yml}
      → <out>/index.html lists every report, newest first.

On failure the executed notebook is kept as ``<name>.FAILED.ipynb`` beside the outputs of the
last good run (which stay untouched), no HTML is written and :attr:`RunResult.ok` is False.

A batch (:func:`run_batch`) runs a YAML schedule, ``jobs`` reports at a time, each in its own
worker process (``python -m analysis.reports JOB.json``) and kernel, keeps going past a failure
and prints a summary table.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from . import store as store_mod
from .errors import ParameterError, ReportRunError
from .params import REPORTS, ReportSpec
from .params.base import ReportParams, coerce_text_value, load_param_file, resolve_relative, validate_params
from .recorder import ENV_VAR as METRICS_ENV

KERNEL_NAME = "sales-analysis"
DEFAULT_TIMEOUT = 600
REMOVED_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
TEMPLATES = Path(__file__).resolve().parent / "templates"
TMP_DIRNAME = ".tmp"


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """The outcome of one report run.

    ``ok`` is True only when every code cell ran without error, metrics.json was written and
    the HTML was exported. Paths point at the final files (None when not produced).
    """

    report: str
    name: str
    ok: bool
    parameters: dict[str, Any] = field(default_factory=dict)
    period: str | None = None
    out_dir: Path | None = None
    html: Path | None = None
    notebook: Path | None = None
    metrics: Path | None = None
    params_file: Path | None = None
    failed_notebook: Path | None = None
    cell: int | None = None
    error: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: where the HTML is, or which cell failed with which error.

        Examples
        --------
        >>> RunResult("sales_trends", "sales_trends", False, cell=7, error="ValueError: boom").summary()
        'sales_trends: FAILED at cell 7: ValueError: boom'
        """
        if self.ok:
            return f"{self.name}: ok in {self.seconds:.1f}s → {self.html}"
        where = f" at cell {self.cell}" if self.cell is not None else ""
        kept = f" (executed notebook kept: {self.failed_notebook})" if self.failed_notebook else ""
        return f"{self.name}: FAILED{where}: {self.error}{kept}"

    def to_dict(self) -> dict[str, Any]:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunResult":
        paths = {"out_dir", "html", "notebook", "metrics", "params_file", "failed_notebook"}
        kw = {k: (Path(v) if k in paths and v else v) for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**kw)


# --------------------------------------------------------------------------- parameters


def report_spec(report: str) -> ReportSpec:
    """The registered :class:`ReportSpec` of ``report`` (ParameterError when unknown)."""
    if report not in REPORTS:
        allowed = ", ".join(repr(r) for r in sorted(REPORTS))
        raise ParameterError(f"The 'report' parameter of run must be one of {allowed}. Got {report!r} instead.")
    return REPORTS[report]


def parse_assignments(model: type[ReportParams], items: Iterable[str], where: str) -> dict[str, Any]:
    """Parse ``name=value`` strings, typing each value by the model field's annotation.

    A value for a ``str`` field stays the raw text ("01234" stays "01234", unlike papermill's
    ``-p`` guessing); other fields read the value as YAML (``12``, ``true``, ``[a, b]``,
    ``{region: [市区]}``). Unknown names are rejected with the model's message.

    Examples
    --------
    >>> from analysis.params import LaunchReviewParams
    >>> parse_assignments(LaunchReviewParams, ["sku=01234", "window_days=30"], "launch_review")
    {'sku': '01234', 'window_days': 30}
    """
    values: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(
                f"The parameters of {where} must be written name=value. Got {item!r} instead."
            )
        name, raw = item.split("=", 1)
        name = name.strip()
        if name in model.model_fields:
            values[name] = coerce_text_value(model.model_fields[name].annotation, raw)
        else:
            values[name] = raw  # rejected by validate_params with the list of allowed names
    return values


def prepare_parameters(
    spec: ReportSpec,
    params: Iterable[str] | Mapping[str, Any] | None = None,
    param_file: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    today: dt.date | None = None,
) -> ReportParams:
    """Merge -f file, then -p values (they win), then ``store``; resolve and validate.

    Raises ParameterError before anything runs when a name is unknown or a value has the wrong type.
    """
    values: dict[str, Any] = {}
    if param_file is not None:
        values.update(load_param_file(spec.params, param_file, spec.name))
    if params:
        if isinstance(params, Mapping):
            values.update(dict(params))
        else:
            values.update(parse_assignments(spec.params, list(params), spec.name))
    if store is not None and str(store) != "":
        values["store"] = str(store)
    if values.get("store"):
        values["store"] = store_mod.resolve_store(values["store"])
    values = resolve_relative(spec.params, values, today=today)
    return validate_params(spec.params, values, spec.name)


def papermill_parameters(model: ReportParams) -> dict[str, Any]:
    """The values handed to papermill: only names the model declares (papermill writes
    ``name = value`` into code, so a name must never come from the caller unchecked)."""
    declared = type(model).model_fields
    dumped = model.model_dump(mode="json")
    out = {}
    for k, v in dumped.items():
        if k not in declared or not k.isidentifier():  # pragma: no cover - guarded by the model
            raise ParameterError(f"'{k!r}' is not a parameter of {type(model).__name__}.")
        out[k] = v
    return out


# --------------------------------------------------------------------------- execution


def _kernel_manager_class(extra_env: Mapping[str, str], ipc_dir: str | None = None):
    """A kernel manager that starts its kernel with ``extra_env`` (per run, thread-safe:
    os.environ of this process is not touched). With ``ipc_dir`` the kernel talks over
    Unix sockets in that (private, per run) folder instead of TCP ports."""
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kw: Any) -> None:
            if ipc_dir:
                kw.setdefault("transport", "ipc")
                kw.setdefault("ip", os.path.join(ipc_dir, "k"))
            super().__init__(**kw)

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            env = dict(os.environ)
            env.update(kw.pop("env", None) or {})
            env.update(extra_env)
            kw["env"] = env
            await AsyncKernelManager.start_kernel(self, **kw)

    return RunKernelManager


def _execute(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    env: Mapping[str, str],
    timeout: int,
    progress: bool,
) -> BaseException | None:
    """Execute with papermill; return the exception it raised (None when it returned)."""
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    # a short private folder for the kernel's sockets (Unix socket paths are limited to ~100 bytes)
    ipc_dir = tempfile.mkdtemp(prefix="sa-k-") if os.name == "posix" else None
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            execution_timeout=timeout,
            progress_bar=progress,
            request_save_on_cell_execute=True,
            log_output=False,
            cwd=None,  # papermill's cwd chdirs the whole process; the kernel gets it below instead
            resources={"metadata": {"path": str(store_mod.project_root())}},
            kernel_manager_class=_kernel_manager_class(env, ipc_dir),
        )
    except BaseException as exc:  # noqa: BLE001 - every way a run can end is inspected below
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc
    finally:
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    return None


def _cell_label(nb: Any, index: int) -> int:
    """1-based position of cell ``index`` in the source notebook (the injected cell not counted)."""
    added = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill inserted
    inserted = [i for i, c in enumerate(nb.cells) if added & set(c.get("metadata", {}).get("tags", []))]
    return index + 1 - sum(1 for i in inserted if i < index)


def _first_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text or "")).strip()
    return text.splitlines()[0] if text else ""


def check_executed(nb: Any, exc: BaseException | None = None, timeout: int | None = None) -> tuple[int | None, str | None]:
    """Find the first problem in an executed notebook: (cell number, error line) or (None, None).

    A code cell is a problem when it has an ``error`` output, or when it never ran
    (no execution_count: the run stopped early through sys.exit(), a dead kernel or a timeout).
    ``exc`` (what papermill raised) refines the message.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # nbclient skips empty cells
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            e = errors[0]
            ename, evalue = e.get("ename", "Error"), _first_line(e.get("evalue", ""))
            if isinstance(exc, CellTimeoutError) or (ename == "KeyboardInterrupt" and exc is not None):
                return _cell_label(nb, i), f"the cell timed out after {timeout} s (execution_timeout)"
            if ename == "SystemExit":
                return _cell_label(nb, i), f"the cell called sys.exit({evalue}); the remaining cells did not run"
            return _cell_label(nb, i), f"{ename}: {evalue}" if evalue else ename
        if cell.get("execution_count") is None:
            # a cell that never finished. When the run was stopped (dead kernel, timeout), the
            # culprit is the last cell papermill started (its start_time is set), which may already
            # have an execution count if the kernel died after acknowledging it.
            if exc is not None:
                started = [
                    j for j, c in enumerate(nb.cells)
                    if c.cell_type == "code" and c.get("metadata", {}).get("papermill", {}).get("start_time")
                ]
                if started:
                    i = started[-1]
            if isinstance(exc, DeadKernelError):
                why = "the kernel died while the cell ran (killed, os._exit or out of memory)"
            elif isinstance(exc, CellTimeoutError):
                why = f"the cell timed out after {timeout} s (execution_timeout)"
            elif exc is not None:
                why = f"{type(exc).__name__}: {_first_line(str(exc))}"
            else:
                why = "the cell did not run (the run ended early)"
            return _cell_label(nb, i), why
    if exc is not None:
        return None, f"{type(exc).__name__}: {_first_line(str(exc))}"
    return None, None


def _culprit_for_stopped_run(nb: Any) -> int | None:
    """Index of the last code cell with an execution count (the cell running when a run stopped)."""
    last = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            last = i
    return last


# --------------------------------------------------------------------------- HTML export


_DROP_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
    "base", "form", "input", "button", "textarea", "select", "option", "svg", "math", "template",
    "noscript", "audio", "video", "source", "track", "canvas", "portal", "title", "head",
}
_KEEP_TAGS = {
    "div", "span", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt",
    "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col", "img",
    "pre", "code", "b", "strong", "i", "em", "small", "sub", "sup", "a", "blockquote", "figure",
    "figcaption", "section", "abbr", "del", "ins", "s", "u", "mark", "kbd", "samp", "var", "q", "cite",
}
_KEEP_ATTRS = {"class", "id", "title", "alt", "colspan", "rowspan", "width", "height", "align", "scope", "start"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


def sanitize_html(fragment: str) -> str:
    """Allow-list sanitiser for exported outputs: no scripts, handlers, styles or remote URLs.

    Dangerous elements are removed with their content; unknown elements are unwrapped (their
    text kept, escaped); only harmless attributes stay; images only as inline data URIs; links
    only to anchors in the page or http(s)/mailto.

    Examples
    --------
    >>> sanitize_html('<p onclick="x()">a<script>alert(1)</script></p><img src="http://e/x.png">')
    '<p>a</p><img/>'
    """
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(fragment, "html.parser")
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for tag in list(soup.find_all(True)):
        if getattr(tag, "decomposed", False):  # inside an element already removed
            continue
        name = (tag.name or "").lower()
        if name in _DROP_TAGS:
            tag.decompose()
            continue
        if name not in _KEEP_TAGS:
            tag.unwrap()
            continue
        attrs = {}
        for k, v in list(tag.attrs.items()):
            k_l = k.lower()
            val = " ".join(v) if isinstance(v, list) else str(v)
            if k_l in _KEEP_ATTRS:
                attrs[k] = v
            elif k_l == "src" and name == "img" and _DATA_IMAGE.match(val.strip()):
                attrs[k] = val.strip()
            elif k_l == "href" and name == "a" and re.match(r"^(#|https?://|mailto:)", val.strip(), re.I):
                attrs[k] = val.strip()
        tag.attrs = attrs
    return str(soup)


def _strip_for_export(nb: Any) -> Any:
    """A copy of the executed notebook as managers see it: outputs only.

    Dropped: code (inputs), the parameters and injected-parameters cells, stderr, and markdown
    cells — they are the analyst's notes (in one language, about the notebook); the report's own
    text comes from analysis.display in the report's language. A markdown cell tagged ``report``
    is kept.
    """
    import copy

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


def _data_window_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        start, end = value.get("start"), value.get("end")
        if start or end:
            return f"{start or '…'} – {end or '…'}"
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " – ".join(str(v) for v in value)
    return str(value)


def _report_title(report: str, lang: str, metrics: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    from .glossary import label

    title = metrics.get("title") or label(report, lang if lang in ("zh", "en") else "zh")
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
) -> str:
    """Render an executed notebook as one self-contained HTML page for managers.

    No code cells, no prompts, no parameters cells, outputs sanitised, images inline, a title block
    (title, period, data window, generated at — from metrics.json) and a table of contents built
    from the h2/h3 headings.
    """
    from bs4 import BeautifulSoup
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from nbconvert import HTMLExporter

    from .glossary import label

    lang = str(parameters.get("lang") or metrics.get("lang") or "zh")
    lang = lang if lang in ("zh", "en") else "zh"
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.anchor_link_text = ""
    body, _ = exporter.from_notebook_node(_strip_for_export(nb))
    body = sanitize_html(body)

    soup = BeautifulSoup(body, "html.parser")
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
    body = str(soup)

    meta = []
    if period:
        meta.append((label("period", lang), period))
    window = _data_window_text(metrics.get("data_window"))
    if window:
        meta.append((label("data_window", lang), window))
    generated = str(metrics.get("generated_at") or dt.datetime.now().isoformat(timespec="seconds"))
    meta.append((label("generated_at", lang), generated.replace("T", " ")))

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))
    page = env.get_template("report.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=_report_title(report, lang, metrics, parameters),
        period=period,
        meta=meta,
        toc=toc,
        contents_label=label("contents", lang),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        body=body,
        footer=f"sales-analysis · {report}",
    )
    return page


# --------------------------------------------------------------------------- output folders


_UNSAFE = re.compile(r"[^\w.\-+=@\u3400-\u9fff]+", re.UNICODE)


def safe_component(text: Any) -> str:
    """A file-name-safe folder component (keeps letters, digits, CJK, ``.-_+=@``).

    Examples
    --------
    >>> safe_component("../a b/市区")
    'a_b_市区'
    """
    s = _UNSAFE.sub("_", str(text)).strip("._")
    s = re.sub(r"_+", "_", s)
    return s[:80] or "run"


def run_period(report: str, parameters: Mapping[str, Any], metrics: Mapping[str, Any] | None = None) -> str:
    """The period folder of a run: metrics.json ``period`` if the notebook recorded one, else
    from the parameters (sales_trends: month; launch_review: sku/brand + launch date;
    incentive_retention: as_of)."""
    metrics = metrics or {}
    if metrics.get("period"):
        return safe_component(metrics["period"])
    if report == "launch_review":
        what = parameters.get("sku") or parameters.get("brand") or "launch"
        when = parameters.get("launch_date") or "auto"
        return safe_component(f"{what}_{when}")
    if report == "incentive_retention":
        return safe_component(parameters.get("as_of") or "latest")
    value = parameters.get("month") or parameters.get("as_of") or parameters.get("period") or "latest"
    return safe_component(value)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_index(out: str | os.PathLike) -> Path:
    """Write ``<out>/index.html``: every report produced under ``out``, newest first (escaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    out = Path(out)
    entries = []
    for mpath in sorted(out.glob("*/*/metrics.json")):
        folder = mpath.parent
        if folder.parent.name.startswith("."):
            continue
        metrics = _read_json(mpath)
        record = {}
        pfile = folder / "params.yml"
        if pfile.exists():
            try:
                record = yaml.safe_load(pfile.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                record = {}
        name = str(record.get("name") or folder.parent.name)
        page = folder / f"{name}.html"
        if not page.exists():
            pages = sorted(folder.glob("*.html"))
            if not pages:
                continue
            page = pages[0]
        report = str(metrics.get("report") or record.get("report") or name)
        params = record.get("parameters") or metrics.get("parameters") or {}
        lang = params.get("lang", "zh") if isinstance(params, dict) else "zh"
        generated = str(metrics.get("generated_at") or dt.datetime.fromtimestamp(page.stat().st_mtime).isoformat(timespec="seconds"))
        entries.append({
            "href": page.relative_to(out).as_posix(),
            "title": _report_title(report, lang if lang in ("zh", "en") else "zh", metrics, params if isinstance(params, dict) else {}),
            "report": report,
            "name": name,
            "period": folder.name,
            "generated_at": generated.replace("T", " "),
            "_sort": (generated, page.stat().st_mtime),
        })
    entries.sort(key=lambda e: e["_sort"], reverse=True)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))
    text = env.get_template("index.html.j2").render(
        entries=entries,
        updated=dt.datetime.now().isoformat(timespec="seconds").replace("T", " "),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    tmp = out / f".index.{uuid.uuid4().hex}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


# --------------------------------------------------------------------------- one run


def run_report(
    name: str,
    params: Iterable[str] | Mapping[str, Any] | None = None,
    param_file: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = Path("reports"),
    timeout: int = DEFAULT_TIMEOUT,
    *,
    output_name: str | None = None,
    progress: bool = True,
    update_index: bool = True,
    today: dt.date | None = None,
) -> RunResult:
    """Run one report notebook and export it.

    Parameters
    ----------
    name : str
        Report name (``sales_trends``, ``launch_review``, ``incentive_retention``).
    params : list of "name=value" strings, or a mapping
        Parameter values; strings are typed by the model's annotations (str fields stay text).
    param_file : path, optional
        YAML mapping of parameters (lists and mappings go here); ``params`` override it.
    store : str, optional
        Store path or URL passed to the notebook as its ``store`` parameter.
    out : path
        Output root; results go to ``out/<output_name>/<period>/``.
    timeout : int
        Per-cell execution timeout in seconds.
    output_name : str, optional
        Name of the outputs (default: the report name); schedules use it for variants.
    progress : bool
        Show papermill's cell progress bar.

    Returns
    -------
    RunResult
        ``.ok``, ``.summary()`` and the paths. Parameter errors raise ParameterError before any
        kernel starts.

    Examples
    --------
    >>> r = run_report("sales_trends", ["month=2026-10", "lang=en"])  # doctest: +SKIP
    >>> r.ok, r.html  # doctest: +SKIP
    (True, PosixPath('reports/sales_trends/2026-10/sales_trends.html'))
    """
    t0 = time.monotonic()
    spec = report_spec(name)
    model = prepare_parameters(spec, params, param_file, store, today=today)
    pm_params = papermill_parameters(model)
    out_name = safe_component(output_name or spec.name)
    if output_name is not None and out_name != output_name:
        raise ParameterError(
            f"The 'name' parameter of run must be a plain file name (letters, digits, -_.). Got {output_name!r} instead."
        )
    root = store_mod.project_root()
    notebook = Path(spec.notebook)
    notebook = notebook if notebook.is_absolute() else root / notebook
    if not notebook.exists():
        raise ReportRunError(f"The notebook of {spec.name} does not exist: {notebook}")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ParameterError(f"The 'timeout' parameter of run_report must be a positive integer. Got {timeout!r} instead.")
    out = Path(out)
    if not out.is_absolute():
        out = Path.cwd() / out
    tmp_root = out / TMP_DIRNAME
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{out_name}-", dir=tmp_root))
    started = dt.datetime.now().astimezone()
    executed = work / f"{out_name}.ipynb"
    metrics_path = work / "metrics.json"
    env = {METRICS_ENV: str(metrics_path), "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "")}
    env = {k: v for k, v in env.items() if v != "" or k == METRICS_ENV}
    result = RunResult(report=spec.name, name=out_name, ok=False, parameters=pm_params)
    try:
        exc = _execute(notebook, executed, pm_params, env, timeout, progress)
        import nbformat

        nb = nbformat.read(str(executed), as_version=4) if executed.exists() else None
        cell, error = (None, None)
        if nb is None:
            error = f"{type(exc).__name__}: {_first_line(str(exc))}" if exc else "the notebook was not written"
        else:
            cell, error = check_executed(nb, exc, timeout)
            if error and cell is None and exc is not None:
                culprit = _culprit_for_stopped_run(nb)
                cell = _cell_label(nb, culprit) if culprit is not None else None
        metrics = _read_json(metrics_path) if metrics_path.exists() else None
        if error is None and metrics is None:
            error = "the notebook did not write metrics.json (no ctx.finish() / recorder.save() ran)"
        period = run_period(spec.name, pm_params, metrics)
        final = out / out_name / period
        result.period = period
        result.out_dir = final
        if error is not None:
            result.cell, result.error = cell, error
            if nb is not None:
                final.mkdir(parents=True, exist_ok=True)
                failed = final / f"{out_name}.FAILED.ipynb"
                os.replace(executed, failed)
                result.failed_notebook = failed
            return result
        try:
            page = export_html(nb, spec.name, metrics or {}, pm_params, period)
        except Exception as exc2:  # noqa: BLE001 - an export failure is a failed run, not a crash
            result.error = f"HTML export failed: {type(exc2).__name__}: {_first_line(str(exc2))}"
            final.mkdir(parents=True, exist_ok=True)
            failed = final / f"{out_name}.FAILED.ipynb"
            os.replace(executed, failed)
            result.failed_notebook = failed
            return result
        html_tmp = work / f"{out_name}.html"
        html_tmp.write_text(page, encoding="utf-8")
        finished = dt.datetime.now().astimezone()
        record = {
            "report": spec.name,
            "name": out_name,
            "notebook": str(spec.notebook),
            "status": "ok",
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - t0, 1),
            "kernel": KERNEL_NAME,
            "timeout": timeout,
            "inputs": {
                "params": (dict(params) if isinstance(params, Mapping) else list(params or [])),
                "param_file": str(param_file) if param_file else None,
                "store": str(store) if store else None,
            },
            "parameters": pm_params,
        }
        (work / "params.yml").write_text(
            yaml.safe_dump(_plain(record), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        # move into place: every file replaced atomically; files of the last good run are
        # replaced only now that the new run has succeeded
        final.mkdir(parents=True, exist_ok=True)
        moves = [
            (executed, final / f"{out_name}.ipynb"),
            (metrics_path, final / "metrics.json"),
            (work / "params.yml", final / "params.yml"),
            (html_tmp, final / f"{out_name}.html"),
        ]
        for src, dst in moves:
            os.replace(src, dst)
        stale = final / f"{out_name}.FAILED.ipynb"
        if stale.exists():
            stale.unlink()
        result.ok = True
        result.notebook, result.metrics, result.params_file, result.html = (m[1] for m in moves)
        if update_index:
            write_index(out)
        return result
    finally:
        result.seconds = round(time.monotonic() - t0, 1)
        shutil.rmtree(work, ignore_errors=True)
        try:
            tmp_root.rmdir()
        except OSError:
            pass


def _plain(value: Any) -> Any:
    """Only plain YAML types in the run record."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --------------------------------------------------------------------------- batch


@dataclass
class Job:
    report: str
    params: dict[str, Any]
    name: str


def load_schedule(path: str | os.PathLike) -> list[Job]:
    """Read a schedule: a YAML list of ``{report, params (mapping), name?}`` (or ``{reports: [...]}``).

    Parameter values are typed by each report's model like ``-p`` values (a str field keeps
    "01234"); every entry is validated before anything runs.
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"Cannot read the schedule {path}: {_first_line(str(exc))}") from None
    if isinstance(raw, dict) and "reports" in raw:
        raw = raw["reports"]
    if not isinstance(raw, list) or not raw:
        raise ParameterError(f"The schedule {path} must be a non-empty YAML list of {{report, params, name}}.")
    jobs: list[Job] = []
    names: set[str] = set()
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or "report" not in item:
            raise ParameterError(f"Entry {i} of the schedule {path} must be a mapping with a 'report' key. Got {item!r} instead.")
        unknown = set(item) - {"report", "params", "name"}
        if unknown:
            raise ParameterError(
                f"Entry {i} of the schedule {path} has unknown keys {sorted(unknown)}; allowed: name, params, report."
            )
        spec = report_spec(str(item["report"]))
        pvals = item.get("params") or {}
        if not isinstance(pvals, dict):
            raise ParameterError(f"The 'params' of entry {i} of the schedule {path} must be a mapping. Got {pvals!r} instead.")
        from .params.base import coerce_loaded_value

        typed = {
            k: (coerce_loaded_value(spec.params.model_fields[k].annotation, v) if k in spec.params.model_fields else v)
            for k, v in pvals.items()
        }
        validate_params(spec.params, resolve_relative(spec.params, dict(typed)), spec.name)
        name = str(item.get("name") or spec.name)
        if safe_component(name) != name:
            raise ParameterError(
                f"The 'name' of entry {i} of the schedule {path} must be a plain file name. Got {name!r} instead."
            )
        if name in names:
            raise ParameterError(f"Entry {i} of the schedule {path} repeats the name {name!r}; give each entry its own name.")
        names.add(name)
        jobs.append(Job(report=spec.name, params=typed, name=name))
    return jobs


def _run_job_in_worker(job: Job, store: str | None, out: Path, timeout: int, workdir: Path) -> RunResult:
    """Run one job in its own Python process (own env, cwd and kernel; a crash stays there)."""
    spec = REPORTS[job.report]
    job_file = workdir / f"{job.name}.job.json"
    res_file = workdir / f"{job.name}.result.json"
    job_file.write_text(json.dumps({
        "report": job.report,
        "params": job.params,
        "name": job.name,
        "store": store,
        "out": str(out),
        "timeout": timeout,
        "notebook": str(spec.notebook),
        "model": f"{spec.params.__module__}:{spec.params.__qualname__}",
        "result": str(res_file),
    }, ensure_ascii=False), encoding="utf-8")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.reports", str(job_file)],
        capture_output=True, text=True, cwd=str(store_mod.project_root()),
    )
    if res_file.exists():
        return RunResult.from_dict(json.loads(res_file.read_text(encoding="utf-8")))
    err = _first_line(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"worker exited {proc.returncode}")
    return RunResult(report=job.report, name=job.name, ok=False, parameters=job.params,
                     error=err, seconds=round(time.monotonic() - t0, 1))


def _worker_main(job_path: str) -> int:
    """Entry of ``python -m analysis.reports JOB.json`` (used by run_batch)."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    report = job["report"]
    if report not in REPORTS:
        module, qual = job["model"].split(":")
        model = getattr(importlib.import_module(module), qual)
        REPORTS[report] = ReportSpec(report, job["notebook"], model)
    try:
        res = run_report(report, params=job["params"], store=job.get("store"), out=job["out"],
                         timeout=int(job["timeout"]), output_name=job["name"], progress=False,
                         update_index=False)
    except Exception as exc:  # noqa: BLE001 - reported in the summary table
        res = RunResult(report=report, name=job["name"], ok=False, parameters=job["params"],
                        error=f"{type(exc).__name__}: {_first_line(str(exc))}")
    Path(job["result"]).write_text(json.dumps(res.to_dict(), ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if res.ok else 1


def summary_table(results: list[tuple[Job, RunResult]], out: Path | None = None) -> str:
    """A plain-text table: report, params, status, seconds, output (or the error)."""
    rows = [("report", "params", "status", "seconds", "output")]
    for job, r in results:
        ptxt = ", ".join(f"{k}={v}" for k, v in job.params.items()) or "(defaults)"
        if job.name != job.report:
            ptxt = f"[{job.name}] {ptxt}"
        target = r.html if r.ok else (f"cell {r.cell}: " if r.cell else "") + str(r.error)
        if r.ok and out is not None and r.html is not None:
            try:
                target = Path(r.html).resolve().relative_to(Path.cwd().resolve())
            except ValueError:
                target = r.html
        rows.append((job.report, ptxt, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}", str(target)))

    def width(s: str) -> int:
        import unicodedata

        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    cols = [max(width(r[i]) for r in rows) for i in range(4)]
    lines = []
    for j, r in enumerate(rows):
        cells = [r[i] + " " * (cols[i] - width(r[i])) for i in range(4)] + [r[4]]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * c for c in cols) + "  " + "-" * 6)
    return "\n".join(lines)


def run_batch(
    schedule_path: str | os.PathLike,
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = Path("reports"),
    jobs: int = 2,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    file: Any = None,
) -> bool:
    """Run every report of a schedule, ``jobs`` at a time; keep going past failures.

    Prints a summary table (report, params, status, seconds, output or error) and returns
    False if any report failed (the CLI exits 1).

    Examples
    --------
    >>> run_batch("schedules/demo.yml")  # doctest: +SKIP
    True
    """
    from tqdm import tqdm

    file = file or sys.stdout
    if not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"The 'jobs' parameter of run_batch must be a positive integer. Got {jobs!r} instead.")
    todo = load_schedule(schedule_path)
    out = Path(out)
    out = out if out.is_absolute() else Path.cwd() / out
    store_s = store_mod.resolve_store(store) if store else None
    (out / TMP_DIRNAME).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="batch-", dir=out / TMP_DIRNAME))
    results: dict[int, RunResult] = {}
    try:
        with tqdm(total=len(todo), desc="reports", unit="report", disable=not progress, file=sys.stderr) as bar:
            with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
                futs = {pool.submit(_run_job_in_worker, j, store_s, out, timeout, workdir): i for i, j in enumerate(todo)}
                for fut in cf.as_completed(futs):
                    i = futs[fut]
                    try:
                        results[i] = fut.result()
                    except Exception as exc:  # noqa: BLE001
                        results[i] = RunResult(report=todo[i].report, name=todo[i].name, ok=False,
                                               parameters=todo[i].params, error=f"{type(exc).__name__}: {exc}")
                    r = results[i]
                    bar.set_postfix_str(f"{r.name} {'ok' if r.ok else 'FAILED'}")
                    bar.update(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            (out / TMP_DIRNAME).rmdir()
        except OSError:
            pass
    write_index(out)
    ordered = [(todo[i], results[i]) for i in range(len(todo))]
    n_failed = sum(1 for _, r in ordered if not r.ok)
    print(summary_table(ordered, out), file=file)
    print(f"{len(ordered) - n_failed} ok, {n_failed} failed · index: {out / 'index.html'}", file=file)
    return n_failed == 0


if __name__ == "__main__":  # worker entry used by run_batch
    sys.exit(_worker_main(sys.argv[1]))

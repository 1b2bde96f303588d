"""One report run (:func:`run_report`)::

    parameters (-p name=value, -f file.yml, a dict)
      → validated with the report's model BEFORE any kernel starts (unknown names, wrong types),
        then checked against the store (it exists, the month is inside the data, filter values,
        SKUs and brands exist; :mod:`analysis.reports.params`): a ParameterError, no folder
      → papermill executes the report's notebook in a kernel of this Python
        (per-cell timeout, working directory = project folder, $SALES_ANALYSIS_METRICS and
        $SALES_ANALYSIS_WORKBOOK pointing into a private work folder)
      → every code cell checked: executed, no error output (papermill misses sys.exit(0),
        cell timeouts and dead kernels) and metrics.json written
      → HTML without code (self-contained, sanitised, no machine paths), a PDF on request
      → moved into place: <out>/<name>/<period>/{<name>.html, .ipynb, metrics.json, params.yml,
        <name>.xlsx when the notebook wrote one, <name>.pdf when asked}
      → <out>/index.html rebuilt.

On failure the executed notebook is kept as ``<name>.FAILED.ipynb`` beside the outputs of the
last good run (which stay untouched), with what went wrong in its metadata
(``sales_analysis_failure``: report, name, period, cell, error, failed_at; the index shows it),
no HTML is written and :attr:`RunResult.ok` is False.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import ParameterError
from ..recorder import ENV_VAR as METRICS_ENV
from ..recorder import DOCX_ENV, WORKBOOK_ENV
from . import execute as execute_mod
from .export import export_html, machine_paths
from .index import FAILURE_KEY, write_index
from .outputs import TMP_DIRNAME, move_into_place, plain, read_json, run_period, safe_component
from .params import notebook_path, papermill_parameters, prepare_parameters, report_spec

DEFAULT_TIMEOUT = 600


@dataclass
class RunResult:
    """The outcome of one report run.

    ``ok`` is True only when every code cell ran without error, metrics.json was written and
    the HTML was exported. Paths point at the final files (None when not produced); ``notes``
    are one-line remarks that did not fail the run (a PDF that could not be written).
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
    workbook: Path | None = None
    pdf: Path | None = None
    docx: Path | None = None
    failed_notebook: Path | None = None
    cell: int | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    started_at: str | None = None

    _PATHS = ("out_dir", "html", "notebook", "metrics", "params_file", "workbook", "pdf", "docx", "failed_notebook")

    def summary(self) -> str:
        """One line: where the HTML is, or which cell failed with which error.

        Examples
        --------
        >>> RunResult("sales_trends", "sales_trends", False, cell=7, error="ValueError: boom").summary()
        'sales_trends: FAILED at cell 7: ValueError: boom'
        """
        if self.ok:
            extra = "".join(f"; {n}" for n in self.notes)
            return f"{self.name}: ok in {self.seconds:.1f}s → {self.html}{extra}"
        where = f" at cell {self.cell}" if self.cell is not None else ""
        kept = f" (executed notebook kept: {self.failed_notebook})" if self.failed_notebook else ""
        return f"{self.name}: FAILED{where}: {self.error}{kept}"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (paths as text), for the batch worker's result file."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunResult":
        """The inverse of :meth:`to_dict`."""
        kw = {k: (Path(v) if k in cls._PATHS and v else v) for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**kw)


def show_progress() -> bool:
    """Progress bars only for a person watching: stdout and stderr are both a terminal
    (a scheduler's log gets one line per report, not hundreds of bar updates)."""
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Run:
    """The state one run carries from step to step (papermill's ``execute_notebook`` reads the
    same way: name, parameterise, execute, check, export, record, index)."""

    spec: Any
    model: Any
    parameters: dict[str, Any]
    out_name: str
    notebook: Path
    out: Path
    work: Path
    timeout: int
    started: dt.datetime
    t0: float
    result: RunResult
    nb: Any = None
    metrics: dict[str, Any] | None = None
    final: Path | None = None
    moves: list[tuple[Path, Path]] = field(default_factory=list)

    def file(self, suffix: str) -> Path:
        """``<work>/<name><suffix>``: where the run writes a file before it is moved into place."""
        return self.work / f"{self.out_name}{suffix}"

    @property
    def executed(self) -> Path:
        return self.file(".ipynb")

    @property
    def metrics_path(self) -> Path:
        return self.work / "metrics.json"


def _failed(result: RunResult, executed: Path, final: Path, name: str, nb: Any = None) -> RunResult:
    """Keep the executed notebook as ``<name>.FAILED.ipynb``, with the failure in its metadata."""
    final.mkdir(parents=True, exist_ok=True)
    failed = final / f"{name}.FAILED.ipynb"
    if nb is not None:
        import nbformat

        nb.metadata[FAILURE_KEY] = {
            "report": result.report, "name": result.name, "period": result.period, "cell": result.cell,
            "error": result.error, "failed_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        nbformat.write(nb, str(executed))
    os.replace(executed, failed)
    result.failed_notebook = failed
    return result


# --------------------------------------------------------------------------------- the steps
def name_run(report: str, output_name: str | None) -> tuple[Any, str]:
    """Step 1, *name*: the report's spec and the output name (a plain file name)."""
    spec = report_spec(report)
    out_name = safe_component(output_name or spec.name)
    if output_name is not None and out_name != output_name:
        raise ParameterError(
            f"The 'name' parameter of run must be a plain file name (letters, digits, -_.). Got {output_name!r} instead."
        )
    return spec, out_name


def parameterise(spec: Any, params: Any, param_file: Any, store: Any, today: dt.date | None) -> tuple[Any, dict[str, Any]]:
    """Step 2, *parameterise*: the validated model (checked against the store before any kernel
    starts) and the values injected into the notebook."""
    model = prepare_parameters(spec, params, param_file, store, today=today, check_store=True)
    return model, papermill_parameters(model)


def open_work(out: str | os.PathLike, out_name: str) -> tuple[Path, Path]:
    """The output root (absolute) and a private work folder under ``<out>/.tmp``."""
    out = Path(out)
    if not out.is_absolute():
        out = Path.cwd() / out
    tmp_root = out / TMP_DIRNAME
    tmp_root.mkdir(parents=True, exist_ok=True)
    return out, Path(tempfile.mkdtemp(prefix=f"{out_name}-", dir=tmp_root))


def execute(run: Run, progress: bool, docx: bool) -> BaseException | None:
    """Step 3, *execute*: papermill runs the notebook in a kernel of this Python, with
    metrics.json, the workbook (and the Word document) pointed into the work folder."""
    env = {METRICS_ENV: str(run.metrics_path), WORKBOOK_ENV: str(run.file(".xlsx"))}
    if docx:
        env[DOCX_ENV] = str(run.file(".docx"))
    if os.environ.get("PYTHONWARNINGS"):
        env["PYTHONWARNINGS"] = os.environ["PYTHONWARNINGS"]
    return execute_mod.execute_notebook(run.notebook, run.executed, run.parameters, env, run.timeout, progress)


def check(run: Run, exc: BaseException | None) -> tuple[int | None, str | None]:
    """Step 4, *check*: every code cell ran without error and metrics.json was written (what
    papermill misses); the run's period folder is known from here on. Returns (cell, error)."""
    import nbformat

    run.nb = nbformat.read(str(run.executed), as_version=4) if run.executed.exists() else None
    cell, error = (None, None)
    if run.nb is None:
        error = f"{type(exc).__name__}: {execute_mod.first_line(str(exc))}" if exc else "the notebook was not written"
    else:
        cell, error = execute_mod.check_executed(run.nb, exc, run.timeout)
        if error and cell is None and exc is not None:
            culprit = execute_mod.last_executed_cell(run.nb)
            cell = execute_mod.cell_label(run.nb, culprit) if culprit is not None else None
    run.metrics = read_json(run.metrics_path) if run.metrics_path.exists() else None
    if error is None and run.metrics is None:
        error = "the notebook did not write metrics.json (no ctx.finish() / recorder.save() ran)"
    period = run_period(run.spec.name, run.parameters, run.metrics)
    run.final = run.out / run.out_name / period
    run.result.period, run.result.out_dir = period, run.final
    return cell, error


def export(run: Run, pdf: bool) -> Path:
    """Step 5, *export*: the HTML page without code (a PDF on request), and the list of the
    run's files to move into place: notebook, metrics.json, workbook, the report's own files,
    Word document. Raises what the HTML export raised."""
    private = machine_paths(run.work, run.out, run.final, run.notebook.parent)
    page = export_html(run.nb, run.spec.name, run.metrics or {}, run.parameters, run.result.period,
                       private_paths=private)
    name, final, result = run.out_name, run.final, run.result
    html_tmp = run.file(".html")
    html_tmp.write_text(page, encoding="utf-8")
    run.moves = [(run.executed, final / f"{name}.ipynb"), (run.metrics_path, final / "metrics.json")]
    # the Excel workbook is written by the notebook itself (ctx.finish(), which holds the
    # report's frames) to $SALES_ANALYSIS_WORKBOOK; it is moved into place with the rest
    if run.file(".xlsx").exists():
        run.moves.append((run.file(".xlsx"), final / f"{name}.xlsx"))
        result.workbook = final / f"{name}.xlsx"
    # files of the report's own (a target plan's targets CSV), listed in metrics.json outputs
    for extra in (run.metrics or {}).get("outputs") or []:
        src = run.work / str(extra)
        if Path(str(extra)).name == str(extra) and src.is_file() and str(extra) not in (
                "metrics.json", "params.yml", f"{name}.html", f"{name}.ipynb", f"{name}.xlsx"):
            run.moves.append((src, final / str(extra)))
    if run.file(".docx").exists():
        run.moves.append((run.file(".docx"), final / f"{name}.docx"))
        result.docx = final / f"{name}.docx"
    if pdf:
        from .pdf import write_pdf

        why = write_pdf(html_tmp, run.file(".pdf"))
        if why is None:
            run.moves.append((run.file(".pdf"), final / f"{name}.pdf"))
            result.pdf = final / f"{name}.pdf"
        else:
            result.notes.append(why)
    return html_tmp


def record(run: Run, html_tmp: Path, inputs: Mapping[str, Any]) -> None:
    """Step 6, *record*: params.yml (the run record), then every file moved into place; files of
    the last good run are replaced only now that the new run has succeeded, and the HTML goes
    last, so a page never sits beside the figures of another run."""
    name, final = run.out_name, run.final
    finished = dt.datetime.now().astimezone()
    entry = {
        "report": run.spec.name,
        "name": name,
        "notebook": str(run.spec.notebook),
        "status": "ok",
        "started_at": run.started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - run.t0, 1),
        "kernel": execute_mod.KERNEL_NAME,
        "timeout": run.timeout,
        "inputs": dict(inputs),
        "parameters": run.parameters,
        "outputs": sorted([dst.name for _, dst in run.moves] + [f"{name}.html", "params.yml"]),
    }
    (run.work / "params.yml").write_text(
        yaml.safe_dump(plain(entry), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    moves = run.moves + [(run.work / "params.yml", final / "params.yml"), (html_tmp, final / f"{name}.html")]
    move_into_place(moves, final, name)
    result = run.result
    result.ok = True
    result.notebook, result.metrics = final / f"{name}.ipynb", final / "metrics.json"
    result.params_file, result.html = final / "params.yml", final / f"{name}.html"


def run_report(
    name: str,
    params: Iterable[str] | Mapping[str, Any] | None = None,
    param_file: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = Path("reports"),
    timeout: int = DEFAULT_TIMEOUT,
    *,
    output_name: str | None = None,
    progress: bool | None = None,
    update_index: bool = True,
    pdf: bool = False,
    docx: bool = False,
    today: dt.date | None = None,
) -> RunResult:
    """Run one report notebook and export it.

    The steps, each a function of this module: :func:`name_run`, :func:`parameterise`,
    :func:`execute`, :func:`check`, :func:`export`, :func:`record`, then the index
    (:func:`analysis.reports.index.write_index`).

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
    progress : bool, optional
        Show papermill's cell progress bar (default: only when stdout and stderr are a terminal).
    update_index : bool
        Rebuild ``out/index.html`` after a good run.
    pdf : bool
        Also print the HTML to ``<name>.pdf`` with headless Chromium (a note, not a failure,
        when Chromium is missing).
    docx : bool
        Also write ``<name>.docx``: the sections shown, as a Word document a manager edits
        (:mod:`analysis.word`: real headings, Word tables, charts, CJK font, A4, page numbers).
    today : datetime.date, optional
        The date relative values (``as_of: today``) resolve against (tests).

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
    spec, out_name = name_run(name, output_name)
    model, parameters = parameterise(spec, params, param_file, store, today)
    notebook = notebook_path(spec)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ParameterError(f"The 'timeout' parameter of run_report must be a positive integer. Got {timeout!r} instead.")
    progress = show_progress() if progress is None else progress
    out, work = open_work(out, out_name)
    started = dt.datetime.now().astimezone()
    result = RunResult(report=spec.name, name=out_name, ok=False, parameters=parameters,
                       started_at=started.isoformat(timespec="seconds"))
    run = Run(spec=spec, model=model, parameters=parameters, out_name=out_name, notebook=notebook, out=out,
              work=work, timeout=timeout, started=started, t0=t0, result=result)
    try:
        exc = execute(run, progress, docx)
        cell, error = check(run, exc)
        if error is not None:
            result.cell, result.error = cell, error
            return _failed(result, run.executed, run.final, out_name, run.nb) if run.nb is not None else result
        try:
            html_tmp = export(run, pdf)
        except Exception as exc2:  # noqa: BLE001 - an export failure is a failed run, not a crash
            result.error = f"HTML export failed: {type(exc2).__name__}: {execute_mod.first_line(str(exc2))}"
            return _failed(result, run.executed, run.final, out_name, run.nb)
        record(run, html_tmp, {
            "params": (dict(params) if isinstance(params, Mapping) else list(params or [])),
            "param_file": str(param_file) if param_file else None,
            "store": str(store) if store else None,
        })
        if update_index:
            write_index(out)
        return result
    finally:
        result.seconds = round(time.monotonic() - t0, 1)
        shutil.rmtree(work, ignore_errors=True)
        try:
            (out / TMP_DIRNAME).rmdir()
        except OSError:
            pass

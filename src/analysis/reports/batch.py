"""Batches: a YAML schedule of reports, run by one command (``sales-analysis run-batch``).

A schedule is a YAML list of entries::

    - report: sales_trends          # required
      name: sales_trends_all        # optional: output name (variants of one report)
      params: {month: last}         # optional: the report's parameters, typed by its model
    - report: sales_trends
      for_each: region              # one run per value of orders.region in the store
      params: {month: last, level: rep}

``for_each: COLUMN`` (or ``{column: COLUMN, table: TABLE}``, default table ``orders``) expands
the entry when the batch starts into one run per distinct value of that column in the store, each
with ``filters: {COLUMN: [value]}`` added to its parameters and named ``<name>_<value>`` (or the
``name`` with ``{value}`` replaced). So one schedule fits any department's regions.

:func:`run_batch` runs the jobs ``jobs`` at a time, each in its own worker process
(``python -m analysis.reports JOB.json``) and kernel, keeps going past a failure, prints a
summary table (one line per report) and returns False if any failed.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .. import store as store_mod
from ..errors import ParameterError
from ..params import REPORTS, ReportSpec
from ..params.base import coerce_loaded_value, resolve_relative, validate_params
from .execute import first_line
from .index import write_index
from .outputs import TMP_DIRNAME, safe_component
from .params import report_spec
from .run import DEFAULT_TIMEOUT, RunResult, run_report, show_progress

ENTRY_KEYS = ("for_each", "name", "params", "report")
FOR_EACH_TABLE = "orders"


@dataclass
class Job:
    """One run of a schedule: the report, its (typed) parameters and its output name."""

    report: str
    params: dict[str, Any]
    name: str


@dataclass
class ForEach:
    """A ``for_each`` of a schedule entry: one run per distinct value of ``table.column``."""

    column: str
    table: str = FOR_EACH_TABLE


def _for_each(value: Any, where: str) -> ForEach:
    if isinstance(value, str) and value.strip():
        return ForEach(value.strip())
    if isinstance(value, dict) and isinstance(value.get("column"), str) and set(value) <= {"column", "table"}:
        return ForEach(value["column"], str(value.get("table") or FOR_EACH_TABLE))
    raise ParameterError(
        f"The 'for_each' of {where} must be a column name or {{column, table}}. Got {value!r} instead."
    )


def store_values(con: Any, fe: ForEach) -> list[str]:
    """The distinct non-empty values of ``fe.table.fe.column`` in the store, sorted, as text
    (computed in the engine: only the distinct values come back)."""
    if fe.table == FOR_EACH_TABLE:  # the sales lines, dimensions resolved from the master data
        from .. import model

        t = model.sales_lines(con)
        if fe.column not in t.columns:
            from ..errors import MissingColumnError

            raise MissingColumnError("orders", fe.column, list(t.columns))
    else:
        t = store_mod.table(con, fe.table, needed_by="for_each", required=(fe.column,))
    col = t[fe.column]
    values = t.filter(col.notnull()).select(v=col.cast("string")).distinct().to_pandas()["v"].tolist()
    return sorted({str(v) for v in values if str(v).strip()})


def _expand(entry_name: str | None, report: str, params: dict[str, Any], fe: ForEach, values: list[str],
            where: str) -> list[tuple[str, dict[str, Any]]]:
    if "filters" not in REPORTS[report].params.model_fields:
        raise ParameterError(f"The 'for_each' of {where} needs a report with a 'filters' parameter; {report} has none.")
    out = []
    for v in values:
        p = copy.deepcopy(params)
        filters = dict(p.get("filters") or {})
        filters[fe.column] = [v]
        p["filters"] = filters
        base = entry_name or report
        tag = safe_component(v)
        if "{value}" in base or "{" + fe.column + "}" in base:
            name = base.replace("{value}", tag).replace("{" + fe.column + "}", tag)
        else:
            name = f"{base}_{tag}"
        out.append((name, p))
    return out


def load_schedule(path: str | os.PathLike, store: str | os.PathLike | None = None, con: Any = None) -> list[Job]:
    """Read a schedule and validate every entry before anything runs.

    Parameters
    ----------
    path : path
        The YAML schedule: a list of ``{report, params?, name?, for_each?}`` (or ``{reports: [...]}``).
    store : str, optional
        The store ``for_each`` entries expand against (default: the default store).
    con : Ibis backend, optional
        An open connection to use instead of ``store``.

    Returns
    -------
    list of Job
        One per run; names unique. Parameter values are typed by each report's model like
        ``-p`` values (a str field keeps "01234").
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"Cannot read the schedule {path}: {first_line(str(exc))}") from None
    if isinstance(raw, dict) and "reports" in raw:
        raw = raw["reports"]
    if not isinstance(raw, list) or not raw:
        raise ParameterError(f"The schedule {path} must be a non-empty YAML list of {{report, params, name}}.")
    jobs: list[Job] = []
    names: set[str] = set()
    opened = None
    try:
        for i, item in enumerate(raw, start=1):
            where = f"entry {i} of the schedule {path}"
            if not isinstance(item, dict) or "report" not in item:
                raise ParameterError(f"Entry {i} of the schedule {path} must be a mapping with a 'report' key. Got {item!r} instead.")
            unknown = set(item) - set(ENTRY_KEYS)
            if unknown:
                raise ParameterError(
                    f"Entry {i} of the schedule {path} has unknown keys {sorted(unknown)}; allowed: {', '.join(ENTRY_KEYS)}."
                )
            spec = report_spec(str(item["report"]))
            pvals = item.get("params") or {}
            if not isinstance(pvals, dict):
                raise ParameterError(f"The 'params' of entry {i} of the schedule {path} must be a mapping. Got {pvals!r} instead.")
            typed = {
                k: (coerce_loaded_value(spec.params.model_fields[k].annotation, v) if k in spec.params.model_fields else v)
                for k, v in pvals.items()
            }
            entry_name = str(item["name"]) if item.get("name") else None
            if "for_each" in item:
                fe = _for_each(item["for_each"], where)
                if "filters" not in spec.params.model_fields:
                    raise ParameterError(f"The 'for_each' of {where} needs a report with a 'filters' parameter; {spec.name} has none.")
                if con is None and opened is None:
                    opened = store_mod.connect(store, read_only=True)
                values = store_values(con if con is not None else opened, fe)
                if not values:
                    raise ParameterError(f"The 'for_each' of {where} found no values of {fe.table}.{fe.column} in the store.")
                runs = _expand(entry_name, spec.name, typed, fe, values, where)
            else:
                runs = [(entry_name or spec.name, typed)]
            for name, p in runs:
                validate_params(spec.params, resolve_relative(spec.params, dict(p)), spec.name)
                if safe_component(name) != name:
                    raise ParameterError(f"The 'name' of {where} must be a plain file name. Got {name!r} instead.")
                if name in names:
                    raise ParameterError(f"Entry {i} of the schedule {path} repeats the name {name!r}; give each entry its own name.")
                names.add(name)
                jobs.append(Job(report=spec.name, params=p, name=name))
    finally:
        if opened is not None:
            try:
                opened.disconnect()
            except Exception:  # noqa: BLE001
                pass
    return jobs


def _run_job_in_worker(job: Job, store: str | None, out: Path, timeout: int, workdir: Path, pdf: bool) -> RunResult:
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
        "pdf": pdf,
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
    err = first_line(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"worker exited {proc.returncode}")
    return RunResult(report=job.report, name=job.name, ok=False, parameters=job.params,
                     error=err, seconds=round(time.monotonic() - t0, 1))


def worker_main(job_path: str) -> int:
    """Entry of ``python -m analysis.reports JOB.json`` (one job of :func:`run_batch`)."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    report = job["report"]
    if report not in REPORTS:
        module, qual = job["model"].split(":")
        model = getattr(importlib.import_module(module), qual)
        REPORTS[report] = ReportSpec(report, job["notebook"], model)
    try:
        res = run_report(report, params=job["params"], store=job.get("store"), out=job["out"],
                         timeout=int(job["timeout"]), output_name=job["name"], progress=False,
                         update_index=False, pdf=bool(job.get("pdf")))
    except Exception as exc:  # noqa: BLE001 - reported in the summary table
        res = RunResult(report=report, name=job["name"], ok=False, parameters=job["params"],
                        error=f"{type(exc).__name__}: {first_line(str(exc))}")
    Path(job["result"]).write_text(json.dumps(res.to_dict(), ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if res.ok else 1


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def summary_table(results: list[tuple[Job, RunResult]], out: Path | None = None) -> str:
    """A plain-text table, one line per report: report, params, status, seconds, output (or the error)."""
    rows = [("report", "params", "status", "seconds", "output")]
    for job, r in results:
        ptxt = ", ".join(f"{k}={v}" for k, v in job.params.items()) or "(defaults)"
        if job.name != job.report:
            ptxt = f"[{job.name}] {ptxt}"
        target: Any = r.html if r.ok else (f"cell {r.cell}: " if r.cell else "") + str(r.error)
        if r.ok and out is not None and r.html is not None:
            try:
                target = Path(r.html).resolve().relative_to(Path.cwd().resolve())
            except ValueError:
                target = r.html
        if r.ok and r.notes:
            target = f"{target} ({'; '.join(r.notes)})"
        rows.append((job.report, ptxt, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}", str(target)))
    cols = [max(_width(r[i]) for r in rows) for i in range(4)]
    lines = []
    for j, r in enumerate(rows):
        cells = [r[i] + " " * (cols[i] - _width(r[i])) for i in range(4)] + [r[4]]
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
    progress: bool | None = None,
    file: Any = None,
    pdf: bool = False,
) -> bool:
    """Run every report of a schedule, ``jobs`` at a time; keep going past failures.

    Parameters
    ----------
    schedule_path : path
        The YAML schedule (see the module docstring).
    store : str, optional
        Store path or URL for every report (and for ``for_each``).
    out : path
        Output root.
    jobs : int
        Reports run at once, each in its own process.
    timeout : int
        Per-cell timeout in seconds.
    progress : bool, optional
        A progress bar on stderr (default: only when stdout and stderr are a terminal).
    file : file, optional
        Where the summary goes (default stdout).
    pdf : bool
        Also write each report's PDF (headless Chromium).

    Returns
    -------
    bool
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
    store_s = store_mod.resolve_store(store) if store else None
    todo = load_schedule(schedule_path, store=store_s)
    progress = show_progress() if progress is None else progress
    out = Path(out)
    out = out if out.is_absolute() else Path.cwd() / out
    (out / TMP_DIRNAME).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="batch-", dir=out / TMP_DIRNAME))
    results: dict[int, RunResult] = {}
    try:
        with tqdm(total=len(todo), desc="reports", unit="report", disable=not progress, file=sys.stderr) as bar:
            with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
                futs = {pool.submit(_run_job_in_worker, j, store_s, out, timeout, workdir, pdf): i
                        for i, j in enumerate(todo)}
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
    print(f"{len(ordered) - n_failed} ok, {n_failed} failed · index: {out / 'index.html'}", file=file, flush=True)
    return n_failed == 0



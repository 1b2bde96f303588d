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
(``python -m analysis.reports JOB.json``) and kernel, keeps going past a failure and returns
False if any failed. Its log (stdout) is made for a scheduler's appended log file:

- a header line: the time, the schedule, the store (a URL's password hidden) and the output folder;
- one line per report as it ends: its start time, duration, status, name, report and parameters,
  then the HTML or, on failure, the error's one line and the path of the ``.FAILED.ipynb``;
- an end line: the time, the counts, the index.

``log_format="json"`` writes the same as JSON Lines (``event``: ``batch_start``, ``report``,
``batch_end``) for log collectors. The batch's record (``<out>/.last_batch.json``) lets the
index show a report that could not even start (a parameter the store refused) as missing.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import datetime as dt
import importlib
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .. import store as store_mod
from ..errors import ParameterError
from ..params import REPORTS, ReportSpec
from ..params.base import coerce_loaded_value, resolve_relative, validate_params
from .execute import first_line
from .index import record_batch, write_index
from .outputs import TMP_DIRNAME, safe_component
from .params import _month_placeholder, report_spec
from .run import DEFAULT_TIMEOUT, RunResult, run_report, show_progress
from ..meeting.schedule import is_launch_for_each, launch_runs

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
            if str(item["report"]) == "meeting":  # the monthly meeting pack: not a notebook report
                from ..meeting.schedule import check_params

                if "for_each" in item:
                    raise ParameterError(f"The 'for_each' of {where} does not apply to report meeting.")
                name = str(item.get("name") or "meeting")
                if safe_component(name) != name or name in names:
                    raise ParameterError(f"The 'name' of {where} must be a plain file name, unique in the schedule. "
                                         f"Got {name!r} instead.")
                names.add(name)
                jobs.append(Job(report="meeting", params=check_params(item.get("params"), where), name=name))
                continue
            spec = report_spec(str(item["report"]))
            pvals = item.get("params") or {}
            if not isinstance(pvals, dict):
                raise ParameterError(f"The 'params' of entry {i} of the schedule {path} must be a mapping. Got {pvals!r} instead.")
            typed = {
                k: (coerce_loaded_value(spec.params.model_fields[k].annotation, v) if k in spec.params.model_fields else v)
                for k, v in pvals.items()
            }
            entry_name = str(item["name"]) if item.get("name") else None
            if "for_each" in item and is_launch_for_each(item["for_each"]):
                if con is None and opened is None:
                    opened = store_mod.connect(store, read_only=True)
                runs = launch_runs(con if con is not None else opened, item["for_each"], typed, entry_name, spec.name)
            elif "for_each" in item:
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
                # a relative month (last-1) is resolved against the store by the run itself
                validate_params(spec.params, _month_placeholder(spec, resolve_relative(spec.params, dict(p))), spec.name)
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
    spec = REPORTS.get(job.report)  # None for the meeting pack
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
        "notebook": str(spec.notebook) if spec else None,
        "model": f"{spec.params.__module__}:{spec.params.__qualname__}" if spec else None,
        "result": str(res_file),
    }, ensure_ascii=False), encoding="utf-8")
    t0, started = time.monotonic(), _now()
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.reports", str(job_file)],
        capture_output=True, text=True, cwd=str(store_mod.project_root()),
    )
    if res_file.exists():
        return RunResult.from_dict(json.loads(res_file.read_text(encoding="utf-8")))
    err = first_line(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"worker exited {proc.returncode}")
    return RunResult(report=job.report, name=job.name, ok=False, parameters=job.params,
                     error=err, seconds=round(time.monotonic() - t0, 1), started_at=started)


def worker_main(job_path: str) -> int:
    """Entry of ``python -m analysis.reports JOB.json`` (one job of :func:`run_batch`)."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    report = job["report"]
    if report == "meeting":
        from ..meeting.schedule import run_scheduled

        res = run_scheduled(job["params"], job.get("store"), job["out"], pdf=bool(job.get("pdf")), name=job["name"])
        Path(job["result"]).write_text(json.dumps(res.to_dict(), ensure_ascii=False, default=str), encoding="utf-8")
        return 0 if res.ok else 1
    if report not in REPORTS:
        module, qual = job["model"].split(":")
        model = getattr(importlib.import_module(module), qual)
        REPORTS[report] = ReportSpec(report, job["notebook"], model)
    started, t0 = _now(), time.monotonic()
    try:
        res = run_report(report, params=job["params"], store=job.get("store"), out=job["out"],
                         timeout=int(job["timeout"]), output_name=job["name"], progress=False,
                         update_index=False, pdf=bool(job.get("pdf")))
    except Exception as exc:  # noqa: BLE001 - reported in the batch log
        res = RunResult(report=report, name=job["name"], ok=False, parameters=job["params"],
                        error=f"{type(exc).__name__}: {first_line(str(exc))}", started_at=started,
                        seconds=round(time.monotonic() - t0, 1))
    Path(job["result"]).write_text(json.dumps(res.to_dict(), ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if res.ok else 1


LOG_FORMATS = ("text", "json")


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def shown_store(location: str) -> str:
    """A store location for a log: a URL's password replaced by ``***``.

    Examples
    --------
    >>> shown_store("postgresql://sales:s3cret@db:5432/sales")
    'postgresql://sales:***@db:5432/sales'
    """
    return re.sub(r"(://[^/:@]+):[^/@]*@", r"\1:***@", location)


def _params_text(job: Job) -> str:
    return ", ".join(f"{k}={v}" for k, v in job.params.items()) or "(defaults)"


def report_event(job: Job, r: RunResult) -> dict[str, Any]:
    """One report of a batch as a log event (the JSON line; the text line says the same)."""
    return {
        "event": "report", "name": job.name, "report": job.report, "params": job.params,
        "started_at": r.started_at, "seconds": r.seconds, "status": "ok" if r.ok else "FAILED",
        "period": r.period, "html": str(r.html) if r.html else None,
        "failed_notebook": str(r.failed_notebook) if r.failed_notebook else None,
        "cell": r.cell, "error": None if r.ok else first_line(str(r.error or "")), "notes": list(r.notes),
    }


def format_event(event: Mapping[str, Any], log_format: str = "text") -> str:
    """One line of the batch log: ``event`` as JSON, or as text.

    Examples
    --------
    >>> format_event({"event": "batch_start", "time": "2026-11-02T08:00:00+08:00", "schedule": "m.yml",
    ...               "store": "w.duckdb", "out": "reports"})
    '2026-11-02T08:00:00+08:00 batch start · schedule m.yml · store w.duckdb · out reports'
    """
    if log_format == "json":
        return json.dumps(dict(event), ensure_ascii=False, default=str)
    e = event
    if e["event"] == "batch_start":
        return f"{e['time']} batch start · schedule {e['schedule']} · store {e['store']} · out {e['out']}"
    if e["event"] == "batch_end":
        return (f"{e['time']} batch end · {e['ok']} ok, {e['failed']} failed · {e['seconds']:.1f}s · "
                f"index: {e['index']}")
    name = e["name"] if e["name"] == e["report"] else f"{e['name']} ({e['report']})"
    head = f"{e['started_at'] or '-'} {e['status']:<6} {e['seconds']:>7.1f}s  {name} [{_params_text(Job(e['report'], e['params'], e['name']))}]"
    if e["status"] == "ok":
        notes = f" ({'; '.join(e['notes'])})" if e.get("notes") else ""
        return f"{head} → {e['html']}{notes}"
    cell = f"cell {e['cell']}: " if e.get("cell") is not None else ""
    kept = f" · failed notebook: {e['failed_notebook']}" if e.get("failed_notebook") else " · no output folder"
    return f"{head} · {cell}{e['error']}{kept}"


def run_batch(
    schedule_path: str | os.PathLike,
    store: str | os.PathLike | None = None,
    out: str | os.PathLike = Path("reports"),
    jobs: int = 2,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    file: Any = None,
    pdf: bool = False,
    log_format: str = "text",
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
        Where the log goes (default stdout).
    pdf : bool
        Also write each report's PDF (headless Chromium).
    log_format : {"text", "json"}
        The log's lines as text or as JSON Lines (see the module docstring).

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
    if log_format not in LOG_FORMATS:
        raise ParameterError(f"The 'log_format' parameter of run_batch must be 'text' or 'json'. Got {log_format!r} instead.")
    t0 = time.monotonic()
    store_s = store_mod.resolve_store(store) if store else None
    out = Path(out)
    out = out if out.is_absolute() else Path.cwd() / out
    header = {"event": "batch_start", "time": _now(), "schedule": str(Path(schedule_path).resolve()),
              "store": shown_store(store_s or store_mod.resolve_store(None)), "out": str(out)}
    print(format_event(header, log_format), file=file, flush=True)
    todo = load_schedule(schedule_path, store=store_s)
    progress = show_progress() if progress is None else progress
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
                    line = format_event(report_event(todo[i], r), log_format)
                    if progress:
                        bar.write(line, file=file)
                    else:
                        print(line, file=file, flush=True)
                    bar.set_postfix_str(f"{r.name} {'ok' if r.ok else 'FAILED'}")
                    bar.update(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            (out / TMP_DIRNAME).rmdir()
        except OSError:
            pass
    ordered = [(todo[i], results[i]) for i in range(len(todo))]
    record_batch(out, header, [report_event(j, r) for j, r in ordered])
    write_index(out)
    n_failed = sum(1 for _, r in ordered if not r.ok)
    end = {"event": "batch_end", "time": _now(), "ok": len(ordered) - n_failed, "failed": n_failed,
           "seconds": round(time.monotonic() - t0, 1), "index": str(out / "index.html")}
    print(format_event(end, log_format), file=file, flush=True)
    return n_failed == 0

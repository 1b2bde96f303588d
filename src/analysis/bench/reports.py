"""The ``reports`` variant: the five reports headless on DuckDB, PostgreSQL and a Spark cluster.

``sales-analysis bench --variants reports --engines duckdb,postgresql,spark --sizes 1M,20M``
starts what the engines need once (a throwaway PostgreSQL server with ``scripts/pg.sh``, a Spark
standalone master and worker, and a Spark Connect server for ``spark-connect``; all on
127.0.0.1, in a temporary folder, stopped at the end by the ids they were started with), then
for each size copies the benchmark world (``<workdir>/<size>/warehouse.duckdb``) into each
engine (:func:`analysis.engines.copy_store`: PostgreSQL tables; Parquet files in
``<workdir>/<size>/spark/`` for Spark) and runs each report in a fresh process, one at a time::

    python -m analysis.bench report DIR STORE REPORT METRICS_JSON OUT_JSON

which imports :func:`analysis.reports.compute.compute`, computes the report with its default
parameters (the last complete month of the world) and writes its metrics. For each run the
parent records:

- the process's whole wall time (start to exit: imports, the store's connection — a Spark
  driver for ``spark://``, a Connect session for ``sc://`` —, the report) and, inside it, the
  time of ``compute`` alone;
- the report process's peak RSS (``VmHWM`` at its end, :func:`analysis.bench.own_peak_gb`), and the peak of the summed RSS of
  its process tree (for ``spark://`` the driver's JVM is a child of the report's process);
- the engine's processes (PostgreSQL: the postmaster and its children, the backends serving the
  report among them; Spark: master, worker, the executors the worker starts, the Connect
  server): the peak of their summed RSS and PSS (shared pages, e.g. PostgreSQL's shared
  buffers, counted once across the processes sharing them), their RSS before the run, and the
  CPU seconds they used; sampled from ``/proc`` every 0.25 s (:class:`TreeSampler`);
- the machine's load average (1 minute) before and after the run;
- whether the metrics equal DuckDB's (floats to 1e-9 relative, ``generated_at`` and the
  store's URL left out).

DuckDB runs in the report's process: it has no engine processes.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ENGINES = ("duckdb", "postgresql", "spark", "spark-connect")
REPORTS = ("sales_trends", "launch_review", "incentive_retention", "rep_scorecard", "target_plan")
GB = 1024**3
RTOL, ATOL = 1e-9, 1e-12
# The Spark worker's resources: the machine's cores, and memory for the executors of one report
# (Spark's default executor memory, 1 GB) with room for a Connect server's executor beside it.
SPARK_WORKER_MEMORY = "4g"


def parse_engines(engines: str) -> list[str]:
    """``"duckdb,postgresql,spark"`` → the names, checked.

    Examples
    --------
    >>> parse_engines("duckdb, spark")
    ['duckdb', 'spark']
    """
    from ..errors import ParameterError

    names = [e.strip() for e in str(engines).split(",") if e.strip()]
    bad = [e for e in names if e not in ENGINES]
    if bad or not names:
        raise ParameterError(f"The 'engines' parameter of bench must be some of {', '.join(ENGINES)}. "
                             f"Got {engines!r} instead.")
    return list(dict.fromkeys(names))


class Engines:
    """Starts the servers the engines need (once), gives each world's store URL, stops them."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.root: Path | None = None
        self.pg = None
        self.cluster = None
        self.start_s: dict[str, float] = {}

    def __enter__(self) -> "Engines":
        from .servers import PostgresServer, SparkCluster, connect_jar

        self.root = Path(tempfile.mkdtemp(prefix="sa-bench-engines-"))
        try:
            if "postgresql" in self.names:
                t0 = time.perf_counter()
                # its own folder directly under /tmp: as root, PostgreSQL runs as the 'postgres'
                # user, who must enter it (pg.sh hands the folder to that user)
                self.pg = PostgresServer(Path(tempfile.mkdtemp(prefix="sa-bench-pg-")))
                self.pg.start()
                self.start_s["postgresql"] = time.perf_counter() - t0
                print(f"[bench] PostgreSQL at {self.pg.url} ({self.start_s['postgresql']:.1f} s)", flush=True)
            if any(e.startswith("spark") for e in self.names):
                if "spark-connect" in self.names and connect_jar() is None:
                    raise RuntimeError("the installed pyspark ships no Spark Connect server (pyspark >= 4.0 does)")
                t0 = time.perf_counter()
                self.cluster = SparkCluster(self.root / "spark", cores=os.cpu_count() or 2,
                                            memory=SPARK_WORKER_MEMORY,
                                            with_connect="spark-connect" in self.names).start()
                self.start_s["spark"] = time.perf_counter() - t0
                print(f"[bench] Spark master at {self.cluster.master_url} ({self.start_s['spark']:.1f} s)", flush=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self.cluster is not None:
                self.cluster.stop()
                self.cluster = None
        finally:
            if self.pg is not None:
                self.pg.stop()
                shutil.rmtree(self.pg.root, ignore_errors=True)
                self.pg = None
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    def pids(self, engine: str) -> Callable[[], list[int]]:
        """The engine's server processes now (their children are followed by the sampler)."""
        if engine == "postgresql":
            return self.pg.pids
        if engine.startswith("spark"):
            return self.cluster.pids
        return lambda: []

    def store(self, engine: str, d: Path) -> tuple[str, dict[str, Any]]:
        """The store URL of world ``d`` on ``engine`` (copied there now) and the copy's figures."""
        from ..engines import copy_store

        src = d / "warehouse.duckdb"
        if engine == "duckdb":
            return str(src), {}
        if engine == "postgresql":
            target = self.pg.url
        else:
            wh = d / "spark"
            shutil.rmtree(wh, ignore_errors=True)
            wh.mkdir()
            base = self.cluster.master_url if engine == "spark" else self.cluster.connect_url
            target = f"{base}?warehouse={wh}"
        t0 = time.perf_counter()
        rows = copy_store(str(src), target)
        return target, {"copy_s": time.perf_counter() - t0, "rows": int(sum(rows.values()))}


# --------------------------------------------------------------------------- one report in a process


def report_child(d: Path, store: str, report: str, metrics_path: Path) -> dict[str, Any]:
    """In the child: import, compute ``report`` on ``store``, write its metrics; the times."""
    t0 = time.perf_counter()
    from ..reports.compute import compute

    t1 = time.perf_counter()
    out = compute(report, store)
    t2 = time.perf_counter()
    metrics_path.write_text(json.dumps(out.metrics, ensure_ascii=False, default=str), encoding="utf-8")
    return {"import_s": t1 - t0, "compute_s": t2 - t1}


def run_report(d: Path, engine: str, store: str, report: str, engine_pids: Callable[[], list[int]],
               timeout: float) -> dict[str, Any]:
    """Run one report in a fresh process; its times, memory, the engine's memory and CPU, the load."""
    from .servers import TreeSampler

    runs = d / "reports"
    (runs / "logs").mkdir(parents=True, exist_ok=True)
    metrics = runs / f"{engine}-{report}.metrics.json"
    out_json = runs / f".result-{engine}-{report}-{os.getpid()}-{time.time_ns()}.json"
    metrics.unlink(missing_ok=True)
    log = runs / "logs" / f"{engine}-{report}.log"
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        p = subprocess.Popen([sys.executable, "-m", "analysis.bench", "report", str(d), store, report, str(metrics),
                              str(out_json)], stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=runs)
    sampler = TreeSampler({"report": lambda: [p.pid], "engine": engine_pids}).start()
    timed_out = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > timeout:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            timed_out = True
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    sampler.stop()
    p.returncode = os.waitstatus_to_exitcode(status)
    res: dict[str, Any] = {
        "wall_s": wall, "peak_gb": ru.ru_maxrss * 1024 / GB, "cpu_s": ru.ru_utime + ru.ru_stime,
        "tree_gb": sampler.peak_rss.get("report", 0) / GB, "tree_cpu_s": sampler.cpu_s("report"),
        "engine_gb": sampler.peak_rss.get("engine", 0) / GB, "engine_pss_gb": sampler.peak_pss.get("engine", 0) / GB,
        "engine_idle_gb": sampler.start_rss.get("engine", 0) / GB, "engine_cpu_s": sampler.cpu_s("engine"),
        "engine_procs": sampler.procs.get("engine", 0),
        "load": [round(load0, 1), round(os.getloadavg()[0], 1)], "log": str(log),
    }
    from . import child_result

    res.update(child_result(out_json))
    if timed_out:
        res.update(status="timeout", error=f"stopped after {timeout:.0f} s")
    elif p.returncode != 0 or res.get("status") != "ok":
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        res.update(status="failed", error=res.get("error") or (tail or [f"exit {p.returncode}"])[-1])
    res["metrics"] = str(metrics) if metrics.exists() else None
    return res


# --------------------------------------------------------------------------- the same metrics


def _comparable(m: dict) -> dict:
    m = {k: v for k, v in m.items() if k != "generated_at"}
    if isinstance(m.get("parameters"), dict):
        m["parameters"] = {k: v for k, v in m["parameters"].items() if k != "store"}
    return m


def metrics_diff(a: Any, b: Any, path: str = "") -> str | None:
    """The first difference between two metrics.json structures (floats to 1e-9 relative), or None.

    Examples
    --------
    >>> metrics_diff({"x": [1, 2.0]}, {"x": [1.0, 2.0 + 1e-12]}) is None
    True
    >>> metrics_diff({"x": 1.0}, {"x": 1.1})
    '.x: 1.0 != 1.1'
    """
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys differ ({sorted(set(a) ^ set(b))[:3]})"
        for k in a:
            d = metrics_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = metrics_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        if math.isnan(a) and math.isnan(b) or math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL):
            return None
        return f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: {a!r} != {b!r}"


def same_as(base: dict | None, other: dict | None) -> str:
    """'yes', 'no (<where>)' or 'n/a' (either run failed or wrote no metrics)."""
    if not base or not other or not base.get("metrics") or not other.get("metrics"):
        return "n/a"
    a = json.loads(Path(base["metrics"]).read_text(encoding="utf-8"))
    b = json.loads(Path(other["metrics"]).read_text(encoding="utf-8"))
    d = metrics_diff(_comparable(a), _comparable(b))
    return "yes" if d is None else f"no ({d[:80]})"


# --------------------------------------------------------------------------- one size


def run_size(d: Path, engines: Engines, reports: tuple[str, ...] = REPORTS, repeat: int = 1,
             timeout: float = 1800.0) -> dict[str, Any]:
    """Every report on every engine for world ``d``, one run at a time; {engine: {...}}."""
    out: dict[str, Any] = {}
    for engine in engines.names:
        store, copy = engines.store(engine, d)
        entry: dict[str, Any] = {"store": store, **copy, "reports": {}}
        if engine in engines.start_s:
            entry["engine_start_s"] = engines.start_s[engine]
        elif engine == "spark-connect":
            entry["engine_start_s"] = engines.start_s.get("spark")
        for report in reports:
            best: dict | None = None
            for _ in range(max(1, repeat)):
                r = run_report(d, engine, store, report, engines.pids(engine), timeout)
                if best is None or (r["status"] == "ok" and (best["status"] != "ok" or r["wall_s"] < best["wall_s"])):
                    keep = best
                    best = dict(r)
                    if keep:
                        for k in ("peak_gb", "tree_gb", "engine_gb", "engine_pss_gb"):
                            best[k] = max(best[k], keep[k])
                else:
                    for k in ("peak_gb", "tree_gb", "engine_gb", "engine_pss_gb"):
                        best[k] = max(best[k], r[k])
                if r["status"] != "ok":
                    break
            entry["reports"][report] = best
            print(f"[bench] {d.name} {engine} {report}: {_fmt(best)} s, report {best['tree_gb']:.2f} GB, "
                  f"engine {best['engine_gb']:.2f} GB, load {best['load'][0]:g} → {best['load'][1]:g}", flush=True)
        out[engine] = entry
    base = out.get("duckdb")
    for engine, entry in out.items():
        for report, r in entry["reports"].items():
            r["same_as_duckdb"] = "(base)" if engine == "duckdb" else \
                same_as(base["reports"].get(report) if base else None, r)
    return out


def _fmt(r: dict) -> str:
    if r["status"] != "ok":
        return f"{r['status']}: {str(r.get('error', ''))[:60]}"
    return f"{r['wall_s']:.1f}"


# --------------------------------------------------------------------------- tables


def table_rows(rows: list[dict]) -> list[tuple]:
    """One line per size, engine and report (first row: the header)."""
    head = ("order lines", "engine", "report", "wall s (compute s)", "report GB: process / tree",
            "engine GB: RSS / PSS (idle RSS)", "CPU s: report / engine", "load", "same as DuckDB")
    table = [head]
    for row in rows:
        for engine, entry in (row.get("reports") or {}).items():
            for report, r in entry["reports"].items():
                if r["status"] == "ok":
                    t = f"{r['wall_s']:.1f} ({r['compute_s']:.1f})"
                else:
                    t = _fmt(r)
                if engine == "duckdb":
                    eng = "— (in the report's process)"
                else:
                    eng = f"{r['engine_gb']:.2f} / {r['engine_pss_gb']:.2f} ({r['engine_idle_gb']:.2f})"
                cpu = f"{r['tree_cpu_s']:.1f} / " + ("—" if engine == "duckdb" else f"{r['engine_cpu_s']:.1f}")
                table.append((f"{row['lines']:,}", engine, report, t, f"{r['peak_gb']:.2f} / {r['tree_gb']:.2f}", eng,
                              cpu, f"{r['load'][0]:g} → {r['load'][1]:g}", r.get("same_as_duckdb", "—")))
    return table


def growth_rows(rows: list[dict]) -> list[tuple]:
    """Per engine and report: the wall time at each size and its ratio to the smallest size's."""
    sized = [r for r in rows if r.get("reports")]
    if len(sized) < 2:
        return []
    sized.sort(key=lambda r: r["lines"])
    first = sized[0]
    head = ("engine", "report", *[f"{r['size']} s" for r in sized],
            *[f"{r['size']}/{first['size']} time (lines ×{r['lines'] / first['lines']:.1f})" for r in sized[1:]])
    table = [head]
    for engine in first["reports"]:
        for report in first["reports"][engine]["reports"]:
            runs = [r["reports"].get(engine, {}).get("reports", {}).get(report) for r in sized]
            cells = [f"{x['wall_s']:.1f}" if x and x["status"] == "ok" else "—" for x in runs]
            ratios = []
            for x in runs[1:]:
                ok = x and x["status"] == "ok" and runs[0] and runs[0]["status"] == "ok"
                ratios.append(f"{x['wall_s'] / runs[0]['wall_s']:.2f}×" if ok else "—")
            table.append((engine, report, *cells, *ratios))
    return table


def notes(rows: list[dict]) -> list[str]:
    """Per size and engine: the copy into the engine and the engine's start."""
    out = []
    for row in rows:
        for engine, entry in (row.get("reports") or {}).items():
            parts = []
            if entry.get("engine_start_s") is not None:
                parts.append(f"servers started in {entry['engine_start_s']:.1f} s")
            if entry.get("copy_s") is not None:
                parts.append(f"world copied ({entry['rows']:,} rows) in {entry['copy_s']:.1f} s")
            if parts:
                out.append(f"{row['size']} {engine}: " + "; ".join(parts))
    return out


def print_tables(rows: list[dict]) -> None:
    from . import print_markdown

    print_markdown(table_rows(rows))
    print("wall s: the report's process from start to exit (imports, connection, report); compute s: "
          "analysis.reports.compute.compute alone.\nreport GB: the process's peak RSS / the peak summed RSS of "
          "its process tree (a spark:// driver's JVM included).\nengine GB: the engine's processes (PostgreSQL "
          "server and backends; Spark master, worker, executors, Connect server),\npeak summed RSS / PSS, and "
          "their RSS before the run. CPU s: user + system of the report's tree / of the engine's processes.")
    growth = growth_rows(rows)
    if growth:
        print()
        print_markdown(growth)
    for line in notes(rows):
        print(line)
    print()

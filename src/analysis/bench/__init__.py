"""Benchmark: the trends metrics against pandas, Polars and a hand-written DuckDB query; ingest
against DuckDB's plain ``read_csv``.

``sales-analysis bench --sizes 1M,20M,100M --workdir data/bench`` builds (or reuses) the demo
world at each size in ``<workdir>/<size>/`` (``warehouse.duckdb`` + ``orders.parquet``), then
runs the variants, each in its own subprocess so that its wall time and peak memory
(``ru_maxrss`` of that process) are its own:

``project``
    the trends report's sections through :mod:`analysis.trends` (``prepare`` + the sections
    that query the store: Ibis on the DuckDB store, read-only; the statistics they run on the
    small results included, the forecast left out);
``pandas``
    the way an analyst does it without this project: ``pandas.read_parquet`` of the order
    lines (the columns needed), then ``groupby``; run under an address-space cap
    (``resource.RLIMIT_AS``, default 16 GB) and a timeout, so that it fails rather than
    take the machine down;
``polars``
    the modern analyst's way: Polars ``scan_parquet`` (lazy) + ``group_by`` for the same
    aggregates (the bench extra, ``pip install sales-analysis[bench]``; skipped when absent);
``floor``
    the same aggregates as one hand-written DuckDB SQL query on the same store;
``ingest``
    :func:`analysis.ingest.ingest_file` of the world's order lines written as a GBK CSV with
    Chinese headers, returns as negative lines and no is_return column (``orders_gbk.csv``,
    built once per world), into a fresh store; its accounting is checked against the file;
``ingest_floor``
    DuckDB's plain ``read_csv`` of the same file into a table of a fresh database file (read as
    latin-1: DuckDB cannot decode GBK without its ``encodings`` extension, so the floor
    parses the bytes without decoding them, which flatters it);
``reports``
    the five reports headless (:func:`analysis.reports.compute.compute`), each in a fresh
    process, on the engines of ``--engines`` (duckdb, postgresql, spark, spark-connect): the
    servers are started for the run (PostgreSQL by ``scripts/pg.sh``, a Spark standalone
    master and worker, a Spark Connect server) and the world copied into them; wall time and
    peak memory of the report's process and of the engine's processes, and the metrics
    compared with DuckDB's (:mod:`analysis.bench.reports`).

``pandas`` and ``floor`` compute the order-line aggregates the report needs (:data:`AGGREGATES`);
the pandas results and the project's monthly series are compared with the floor's (floats to
1e-9 relative) and the table says whether they agree. Times are for the work (open + query +
results in pandas), after imports; memory is the process's peak RSS. Results go to
``<workdir>/results.json``; BENCHMARKS.md records a run.

Examples
--------
>>> parse_sizes("1M,20M")
[1000000, 20000000]
"""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

GB = 1024**3
SEED = 42
# Order lines of the demo world per unit of ``scale`` (about 4.15M measured: world.json has the count).
LINES_PER_SCALE = 4_150_000
PANDAS_CAP_GB = 16.0
TIMEOUT_S = 1800


# --------------------------------------------------------------------------- sizes and worlds


def parse_sizes(sizes: str) -> list[int]:
    """``"1M,20M,100M"`` → ``[1_000_000, 20_000_000, 100_000_000]`` (also ``k`` and plain ints).

    Examples
    --------
    >>> parse_sizes("500k, 2M")
    [500000, 2000000]
    """
    from ..errors import ParameterError

    out = []
    for part in str(sizes).split(","):
        p = part.strip().upper().replace("_", "")
        if not p:
            continue
        mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(p[-1], 1)
        num = p[:-1] if p[-1] in "KMG" else p
        try:
            n = int(float(num) * mult)
        except ValueError:
            n = 0
        if n <= 0:
            raise ParameterError(
                f"The 'sizes' parameter of bench must be order-line counts like 1M,20M. Got {part!r} instead."
            )
        out.append(n)
    if not out:
        raise ParameterError(f"The 'sizes' parameter of bench must name at least one size. Got {sizes!r} instead.")
    return out


def label(n: int) -> str:
    """Short label of a size: 1000000 → '1M'."""
    for unit, div in (("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def world(n: int, workdir: Path) -> tuple[Path, dict]:
    """The benchmark world of ``n`` order lines in ``workdir/<label>``, built once (cached)."""
    d = Path(workdir) / label(n)
    info_path = d / "world.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("requested_lines") == n and "end" in info and (d / "customers.parquet").exists() \
                and _readable(d / "warehouse.duckdb"):
            return d, info
    d.mkdir(parents=True, exist_ok=True)
    scale = n / LINES_PER_SCALE
    print(f"[bench] building the demo world at scale {scale:g} in {d} …", flush=True)
    res = _run_child(["build", str(d), repr(scale)], cap_gb=None, timeout=4 * 3600)
    if res["status"] != "ok":
        raise RuntimeError(f"building the world for {label(n)} failed: {res.get('error')}")
    info = json.loads(info_path.read_text())
    info.update(requested_lines=n, build_seconds=res["wall_s"], build_peak_gb=res["peak_gb"])
    info_path.write_text(json.dumps(info, indent=1))
    return d, info


def _readable(path: Path) -> bool:
    """True when this DuckDB version can open the store (its file format changes across versions)."""
    import duckdb

    try:
        duckdb.connect(str(path), read_only=True).close()
        return True
    except Exception:  # noqa: BLE001
        return False


def _build_child(d: Path, scale: float) -> None:
    import duckdb

    from .. import demo

    # DuckDB keeps written pages in its buffer pool up to memory_limit (default 80 % of RAM):
    # a cap keeps the build's footprint bounded at any scale
    os.environ.setdefault("SALES_ANALYSIS_DUCKDB_MEMORY_LIMIT", "4GB")
    store_path = d / "warehouse.duckdb"
    for stale in (store_path, d / "orders.parquet", d / "world.json"):
        stale.unlink(missing_ok=True)
    demo.build(store=str(store_path), seed=SEED, scale=scale, truth_path=d / "demo_truth.json")
    con = duckdb.connect(str(store_path), read_only=True)
    tmp = d / "orders.parquet.tmp"
    con.execute(f"COPY orders TO '{tmp}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)")
    tmp.replace(d / "orders.parquet")
    con.execute(f"COPY customers TO '{d / 'customers.parquet'}' (FORMAT parquet)")
    lines = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    end = con.execute("SELECT max(order_date) FROM orders").fetchone()[0]
    con.close()
    info = {
        "end": str(end),
        "scale": scale,
        "seed": SEED,
        "lines": int(lines),
        "duckdb_bytes": store_path.stat().st_size,
        "parquet_bytes": (d / "orders.parquet").stat().st_size,
    }
    (d / "world.json").write_text(json.dumps(info, indent=1))


# --------------------------------------------------------------------------- the aggregates

# The order-line aggregates the trends report takes from the store (its sections work on these
# small results): monthly totals, overall and by region, price class, rep and customer size
# class; daily totals (Spring Festival); the report month by customer (Pareto / big customers).
# ``pandas`` and ``floor`` compute exactly these; ``project`` runs the report's sections.
INGEST_HEADERS = {  # the export's Chinese headers for the ingest benchmark
    "order_id": "订单编号", "line_no": "行号", "order_date": "订单日期", "customer_id": "客户编码",
    "sku_id": "卷烟编码", "rep_id": "客户经理编码", "region": "区域", "brand": "品牌", "price_class": "价类",
    "channel": "渠道", "qty": "数量(条)", "amount": "金额(元)",
}
AGGREGATES = ("monthly", "by_region", "by_price_class", "by_rep", "by_size_class", "daily", "month_by_customer")
TRENDS_SECTIONS = ("headline", "attainment_by_level", "underperformers", "trend", "spring_festival", "mix",
                   "contribution", "customers", "process_indicators")
_KEYS = {"monthly": ["month"], "by_region": ["month", "region"], "by_price_class": ["month", "price_class"],
         "by_rep": ["month", "rep_id"], "by_size_class": ["month", "size_class"], "daily": ["order_date"],
         "month_by_customer": ["customer_id"]}


def _report_month(d: Path) -> tuple[str, str]:
    """First day of the last complete month of the world and of the month after (the trends
    report's default period: the demo world ends on a month end)."""
    info = json.loads((d / "world.json").read_text())
    end = info["end"]
    y, m = int(end[:4]), int(end[5:7])
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-01", f"{ny:04d}-{nm:02d}-01"


class _EngineClock:
    """Adds up the time spent in Ibis ``execute``/``to_pandas`` (compile + run + fetch)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._depth = 0

    def install(self) -> None:
        import ibis.expr.types as ir

        # to_pandas calls execute; to_pyarrow is the other way results leave the engine
        for cls in (ir.Expr, ir.Table, ir.Column, ir.Scalar):
            for name in ("execute", "to_pyarrow"):
                if name in cls.__dict__:
                    setattr(cls, name, self._wrap(cls.__dict__[name]))

    def _wrap(self, fn: Callable) -> Callable:
        clock = self

        def timed(*a: Any, **k: Any) -> Any:
            if clock._depth:
                return fn(*a, **k)
            clock._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock.seconds += time.perf_counter() - t0
                clock.calls += 1
                clock._depth -= 1

        return timed


ENGINE_CLOCK = _EngineClock()


def _project(d: Path) -> dict[str, Any]:
    import pandas as pd

    from .. import store, trends

    con = store.connect(str(d / "warehouse.duckdb"), read_only=True)
    scope = trends.prepare(con)
    res = {name: getattr(trends, name)(scope) for name in TRENDS_SECTIONS}
    con.disconnect()
    skipped = [n for n, r in res.items() if getattr(r, "skip", None) is not None]
    if skipped:
        raise RuntimeError(f"trends sections skipped on the benchmark world: {skipped}")
    # the monthly series the trend section fetched, to check against the other variants
    s = res["trend"].series
    col = "observed" if "observed" in s else scope.value
    monthly = pd.DataFrame({"month": s["month"].dt.to_timestamp() if hasattr(s["month"], "dt") else s["month"],
                            "amount": s[col].astype(float)})
    return {"trend_monthly": monthly}


def _pandas(d: Path) -> dict[str, Any]:
    import pandas as pd

    month_start, month_end = _report_month(d)
    cols = ["order_date", "customer_id", "region", "price_class", "rep_id", "qty", "amount"]
    df = pd.read_parquet(d / "orders.parquet", columns=cols)
    cust = pd.read_parquet(d / "customers.parquet", columns=["customer_id", "size_class"])
    df = df.merge(cust, on="customer_id", how="left")
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["month"] = df["order_date"].dt.to_period("M").dt.to_timestamp()
    out = {}
    for name, keys in _KEYS.items():
        src = df
        if name == "month_by_customer":
            src = df[(df["order_date"] >= month_start) & (df["order_date"] < month_end)]
        g = src.groupby(keys, dropna=False, sort=False)
        out[name] = g.agg(amount=("amount", "sum"), qty=("qty", "sum"), lines=("amount", "size")).reset_index()
    return out


def _polars(d: Path) -> dict[str, Any]:
    import polars as pl

    month_start, month_end = _report_month(d)
    start, end = (pl.lit(x).str.to_date() for x in (month_start, month_end))
    o = pl.scan_parquet(d / "orders.parquet").select(
        "order_date", "customer_id", "region", "price_class", "rep_id", "qty", "amount")
    c = pl.scan_parquet(d / "customers.parquet").select("customer_id", "size_class")
    o = o.join(c, on="customer_id", how="left").with_columns(
        pl.col("order_date").cast(pl.Date), pl.col("order_date").cast(pl.Date).dt.truncate("1mo").alias("month"))
    aggs = [pl.col("amount").sum().alias("amount"), pl.col("qty").sum().alias("qty"), pl.len().alias("lines")]
    plans = {}
    for name, keys in _KEYS.items():
        src = o.filter((pl.col("order_date") >= start) & (pl.col("order_date") < end)) if name == "month_by_customer" else o
        plans[name] = src.group_by(keys).agg(aggs)
    frames = pl.collect_all(list(plans.values()))
    out = {}
    for name, f in zip(plans, frames):
        df = f.to_pandas()
        for k in ("month", "order_date"):
            if k in df:
                df[k] = df[k].astype("datetime64[ns]")
        out[name] = df
    return out


def _gbk_file(d: Path) -> tuple[Path, dict]:
    """``orders_gbk.csv`` of a world (built once) and its expected counts (lines, returns)."""
    import duckdb

    path, info_path = d / "orders_gbk.csv", d / "orders_gbk.json"
    if path.exists() and info_path.exists():
        return path, json.loads(info_path.read_text())
    con = duckdb.connect(str(d / "warehouse.duckdb"), read_only=True)
    con.execute("SET enable_progress_bar = false")
    cols = ", ".join(f'{c} AS "{h}"' for c, h in INGEST_HEADERS.items())
    utf8 = d / "orders_utf8.csv.tmp"
    con.execute(f"COPY (SELECT {cols} FROM orders) TO '{utf8}' (HEADER, DELIMITER ',')")
    lines, returns = con.execute("SELECT count(*), count(*) FILTER (WHERE qty < 0 OR amount < 0) FROM orders").fetchone()
    con.close()
    tmp = d / "orders_gbk.csv.tmp"
    with open(tmp, "wb") as f:
        subprocess.run(["iconv", "-f", "UTF-8", "-t", "GB18030", str(utf8)], stdout=f, check=True)
    utf8.unlink()
    tmp.replace(path)
    info = {"lines": int(lines), "returns": int(returns), "bytes": path.stat().st_size}
    info_path.write_text(json.dumps(info))
    return path, info


def _ingest(d: Path) -> dict[str, Any]:
    from ..ingest import ingest_file

    path, info = _gbk_file(d)
    store = d / "ingest_store.duckdb"
    for f in (store, d / "ingest_quarantine.csv"):
        f.unlink(missing_ok=True)
    res = ingest_file("orders", path, store=str(store), quarantine_path=d / "ingest_quarantine.csv")
    _RESULT.update(rows_read=res.rows_read, accepted=res.accepted, quarantined=res.quarantined,
                   duplicates=res.duplicates, returns_inferred=res.returns_inferred, expected=info,
                   phases=res.timings,
                   accounted=res.rows_read == info["lines"] == res.accepted + res.quarantined + res.duplicates
                   and res.returns_inferred == info["returns"])
    store.unlink(missing_ok=True)
    return {}


def _ingest_floor(d: Path) -> dict[str, Any]:
    import duckdb

    path, info = _gbk_file(d)
    db = d / "floor_store.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{path}', encoding = 'latin-1')")
    n = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    con.close()
    db.unlink(missing_ok=True)
    _RESULT.update(rows_read=int(n), expected=info, accounted=int(n) == info["lines"])
    return {}


_RESULT: dict[str, Any] = {}  # extra fields a variant reports to the parent


FLOOR_SQL = """
WITH o AS (
  SELECT o.order_date, date_trunc('month', o.order_date) AS month, o.region, o.price_class, o.rep_id,
         c.size_class, o.qty, o.amount
  FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
)
SELECT 'g' AS part, grouping(month, order_date, region, price_class, rep_id, size_class) AS gid,
       month, order_date, region, price_class, rep_id, size_class, NULL AS customer_id,
       sum(amount) AS amount, sum(qty) AS qty, count(*) AS lines
FROM o
GROUP BY GROUPING SETS ((month), (month, region), (month, price_class), (month, rep_id), (month, size_class),
                        (order_date))
UNION ALL
SELECT 'c', 0, NULL, NULL, NULL, NULL, NULL, NULL, customer_id, sum(amount), sum(qty), count(*)
FROM orders
WHERE order_date >= DATE '{start}' AND order_date < DATE '{end}'
GROUP BY customer_id
"""


def _floor(d: Path) -> dict[str, Any]:
    import duckdb

    month_start, month_end = _report_month(d)
    con = duckdb.connect(str(d / "warehouse.duckdb"), read_only=True)
    con.execute("SET enable_progress_bar = false")
    df = con.execute(FLOOR_SQL.format(start=month_start, end=month_end)).df()
    con.close()
    # split the grouping sets back into the results (gid bit i set = column i not grouped)
    allcols = ["month", "order_date", "region", "price_class", "rep_id", "size_class"]
    out = {}
    for name, keys in _KEYS.items():
        if name == "month_by_customer":
            part = df[df["part"] == "c"]
        else:
            gid = sum(1 << (len(allcols) - 1 - i) for i, c in enumerate(allcols) if c not in keys)
            part = df[(df["part"] == "g") & (df["gid"] == gid)]
        out[name] = part[keys + ["amount", "qty", "lines"]].reset_index(drop=True)
    return out


VARIANTS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "project": _project, "pandas": _pandas, "polars": _polars, "floor": _floor,
    "ingest": _ingest, "ingest_floor": _ingest_floor}
INGEST_VARIANTS = ("ingest", "ingest_floor")
# the five reports headless on each engine (analysis.bench.reports; --engines)
REPORT_VARIANTS = ("reports",)


# --------------------------------------------------------------------------- subprocesses


def _run_child(args: list[str], cap_gb: float | None, timeout: float) -> dict[str, Any]:
    """Run ``python -m analysis.bench <args>``; wall time, peak RSS and the child's own JSON."""
    out_json = Path(args[1]) / f".result-{os.getpid()}-{time.time_ns()}.json"

    def limit() -> None:
        if cap_gb:
            cap = int(cap_gb * GB)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    load0 = os.getloadavg()[0]  # the machine's load (1-minute average) around the run, for the record
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, "-m", "analysis.bench", *args, str(out_json)],
        preexec_fn=limit, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    status, ru = None, None
    while True:
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            status = st
            break
        if time.perf_counter() - t0 > timeout:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = p.stdout.read(), p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    res: dict[str, Any] = {"wall_s": wall, "peak_gb": ru.ru_maxrss * 1024 / GB,
                           "cpu_s": ru.ru_utime + ru.ru_stime,  # all threads, and the children it waited for
                           "load": [round(load0, 1), round(os.getloadavg()[0], 1)]}
    res.update(child_result(out_json))
    if wall > timeout:
        res.update(status="timeout", error=f"stopped after {timeout:.0f} s")
    elif p.returncode != 0 or res.get("status") != "ok":
        err = res.get("error") or (stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
        oom = "MemoryError" in err or "bad_alloc" in err or "Cannot allocate" in err or p.returncode in (-9, 137)
        res.update(status="oom" if oom and cap_gb else "failed", error=err)
    return res


def _child(argv: list[str]) -> None:
    kind, d, *rest = argv
    out_json = Path(rest[-1])
    result: dict[str, Any] = {"status": "ok"}
    try:
        if kind == "build":
            _build_child(Path(d), float(rest[0]))
        elif kind == "report":
            from .reports import report_child

            result.update(report_child(Path(d), rest[0], rest[1], Path(rest[2])))
        else:
            variant = rest[0]
            # imports outside the timed part, for every variant
            if variant == "project":
                import statsmodels.api  # noqa: F401

                from .. import store, trends  # noqa: F401
                from ..stats import association, forecast, timeseries  # noqa: F401

                ENGINE_CLOCK.install()
            elif variant == "polars":
                import polars  # noqa: F401
            elif variant in INGEST_VARIANTS:
                import duckdb  # noqa: F401

                from .. import ingest  # noqa: F401
                from ..ingest import pipeline  # noqa: F401
                from python_calamine import CalamineWorkbook  # noqa: F401

                _gbk_file(Path(d))  # the file is the input, built before the clock starts
            else:
                import duckdb  # noqa: F401
                import pandas  # noqa: F401
                import pyarrow.parquet  # noqa: F401
            t0 = time.perf_counter()
            frames = VARIANTS[variant](Path(d))
            result["work_s"] = time.perf_counter() - t0
            result.update(_RESULT)
            if variant == "project":
                result["engine_s"] = ENGINE_CLOCK.seconds
                result["queries"] = ENGINE_CLOCK.calls
            res_dir = Path(d) / "results"
            res_dir.mkdir(exist_ok=True)
            for name, df in frames.items():
                df.to_parquet(res_dir / f"{variant}-{name}.parquet")
    except MemoryError:
        result = {"status": "oom", "error": "MemoryError"}
    except Exception as exc:  # noqa: BLE001
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    result["child_peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB
    own = own_peak_gb()
    if own is not None:
        result["own_peak_gb"] = own
    out_json.write_text(json.dumps(result))


def child_result(out_json: Path) -> dict[str, Any]:
    """What a child process wrote to ``out_json`` (the file is removed), with its own peak RSS
    (:func:`own_peak_gb`) as ``peak_gb`` in place of ``wait4``'s; {} when it wrote nothing."""
    if not out_json.exists():
        return {}
    res = json.loads(out_json.read_text())
    out_json.unlink()
    if "own_peak_gb" in res:
        res["peak_gb"] = res.pop("own_peak_gb")
    return res


def own_peak_gb() -> float | None:
    """This process's peak RSS since its ``exec`` (``VmHWM`` of ``/proc/self/status``), in GB;
    None where there is no ``/proc``.

    Not ``ru_maxrss``: Linux carries the forked parent's resident size over the ``exec`` into
    the child's ``ru_maxrss``, so a child of a bench process holding 3.8 GB reports at least
    3.8 GB whatever it used itself."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / GB
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- comparison and report


def _load_sorted(f: Path, keys: list[str]):
    import pandas as pd

    x = pd.read_parquet(f)
    for k in ("month", "order_date"):
        if k in x:
            x[k] = pd.to_datetime(x[k]).dt.tz_localize(None)
    return x.sort_values(keys, na_position="first").reset_index(drop=True)


def _agree(d: Path, a: str, b: str) -> str:
    """'yes' when variants a and b gave the same aggregates (sorted rows, floats to 1e-9).

    The project variant is checked on the monthly series its trend section fetched."""
    import numpy as np

    res = d / "results"
    if a == "project":
        fa, fb = res / "project-trend_monthly.parquet", res / f"{b}-monthly.parquet"
        if not (fa.exists() and fb.exists()):
            return "n/a"
        x, y = _load_sorted(fa, ["month"]), _load_sorted(fb, ["month"])
        y = y[y["month"].isin(x["month"])].reset_index(drop=True)
        if len(x) == 0 or len(x) != len(y) or not np.allclose(x["amount"], y["amount"], rtol=1e-9, atol=0):
            return "no (monthly)"
        return "yes"
    for name, keys in _KEYS.items():
        fa, fb = res / f"{a}-{name}.parquet", res / f"{b}-{name}.parquet"
        if not (fa.exists() and fb.exists()):
            return "n/a"
        x, y = _load_sorted(fa, keys), _load_sorted(fb, keys)
        if sorted(x.columns) != sorted(y.columns) or len(x) != len(y):
            return f"no ({name}: shape {x.shape} vs {y.shape})"
        for k in keys:
            if not (x[k].astype(str).fillna("∅") == y[k].astype(str).fillna("∅")).all():
                return f"no ({name}: {k})"
        for c in ("amount", "qty", "lines"):
            if not np.allclose(x[c].astype(float), y[c].astype(float), rtol=1e-9, atol=1e-9, equal_nan=True):
                return f"no ({name}: {c})"
    return "yes"


def machine() -> str:
    """'N cores, X GB, CPU model, OS' of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    return f"{os.cpu_count()} cores, {mem:.1f} GB RAM, {model}, {platform.system()} {platform.release()}"


def _fmt_res(r: dict) -> tuple[str, str]:
    if r["status"] != "ok":
        if r["status"] == "oom":
            return f"out of memory at {r.get('cap_gb', PANDAS_CAP_GB):g} GB", f"≥{r['peak_gb']:.2f}"
        return r["status"] + ": " + str(r.get("error", ""))[:60], f"{r['peak_gb']:.2f}"
    return f"{r['work_s']:.2f}", f"{r['peak_gb']:.2f}"


def main(sizes: str = "1M,20M,100M", workdir: Path = Path("data/bench"),
         variants: str = "project,pandas,polars,floor,ingest,ingest_floor",
         pandas_cap_gb: float = PANDAS_CAP_GB, repeat: int = 0, timeout: float = TIMEOUT_S,
         engines: str = "duckdb", reports: tuple[str, ...] | None = None) -> list[dict]:
    """Build or reuse the worlds, run the variants, print the tables; return the rows.

    ``repeat`` runs per variant (the best time is kept; peak memory is the largest); 0 means
    2 (the first run reads the files from disk, the second from the page cache), but 1 for
    pandas above 20M lines (minutes per run, or out of memory), and 1 for ``reports``.
    ``engines`` (for the ``reports`` variant only): some of duckdb, postgresql, spark (a
    standalone cluster), spark-connect; the servers they need are started for the run and
    stopped after it (:mod:`analysis.bench.reports`); ``reports`` limits that variant to some
    of the five reports (default: all).
    """
    from contextlib import nullcontext

    from ..errors import ParameterError
    from .reports import REPORTS, Engines, parse_engines, print_tables, run_size

    workdir = Path(workdir).resolve()
    names = [v.strip() for v in variants.split(",") if v.strip()]
    known = (*VARIANTS, *REPORT_VARIANTS)
    unknown = [v for v in names if v not in known]
    if unknown or not names:
        raise ParameterError(f"The 'variants' parameter of bench must be some of {', '.join(known)}. "
                             f"Got {variants!r} instead.")
    engine_names = parse_engines(engines)
    if "polars" in names:
        try:
            import polars  # noqa: F401
        except ImportError:
            print("[bench] polars is not installed (pip install 'sales-analysis[bench]'): variant skipped", flush=True)
            names.remove("polars")
    size_list = parse_sizes(sizes)
    rows = []
    print(f"machine: {machine()}", flush=True)
    with (Engines(engine_names) if "reports" in names else nullcontext()) as servers:
        for n in size_list:
            d, info = world(n, workdir)
            res: dict[str, dict] = {}
            for v in (v for v in names if v in VARIANTS):
                res[v] = _best_of(d, n, v, repeat, pandas_cap_gb, timeout)
            row: dict[str, Any] = {"size": label(n), "lines": info["lines"], "results": res}
            if "reports" in names:
                row["reports"] = run_size(d, servers, reports=tuple(reports or REPORTS), repeat=repeat or 1,
                                          timeout=timeout)
            if "project" in res and "floor" in res:
                row["project_vs_floor_agree"] = _agree(d, "project", "floor")
            if "pandas" in res and "floor" in res:
                row["pandas_vs_floor_agree"] = _agree(d, "pandas", "floor")
            if "polars" in res and "floor" in res:
                row["polars_vs_floor_agree"] = _agree(d, "polars", "floor")
            rows.append(row)
            # written after every size: a long run that fails later keeps what it measured
            (workdir / "results.json").write_text(
                json.dumps({"machine": machine(), "rows": rows}, indent=1, default=str))
    if any(v in ("project", "pandas", "polars", "floor") for v in names):
        _print_table(rows)
    if any(v in INGEST_VARIANTS for r in rows for v in r["results"]):
        _print_ingest_table(rows)
    if "reports" in names:
        print_tables(rows)
    return rows


def _best_of(d: Path, n: int, v: str, repeat: int, pandas_cap_gb: float, timeout: float) -> dict:
    """The best of ``repeat`` runs of variant ``v`` (its largest peak memory)."""
    reps = repeat or (1 if v == "pandas" and n > 20_000_000 else 2)
    best: dict | None = None
    for _ in range(reps):
        cap = pandas_cap_gb if v == "pandas" else None
        r = _run_child(["run", str(d), v], cap_gb=cap, timeout=timeout)
        r["cap_gb"] = cap
        if best is None or (r["status"] == "ok" and (best["status"] != "ok" or r["work_s"] < best["work_s"])):
            peak = max(best["peak_gb"], r["peak_gb"]) if best else r["peak_gb"]
            best = dict(r, peak_gb=peak)
        else:
            best["peak_gb"] = max(best["peak_gb"], r["peak_gb"])
        if r["status"] != "ok":
            break
    print(f"[bench] {label(n)} {v}: {_fmt_res(best)[0]} s, peak {_fmt_res(best)[1]} GB", flush=True)
    return best


def print_markdown(table: list[tuple]) -> None:
    """Print rows of cells (the first: the header) as a Markdown table."""
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _ratio(a: dict | None, b: dict | None, key: str, key_b: str | None = None) -> str:
    if not a or not b or a["status"] != "ok" or b["status"] != "ok":
        return "—"
    r = a[key] / b[key_b or key]
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def table_rows(rows: list[dict]) -> list[tuple]:
    """The printed table, as rows of cells (first row: the header)."""
    head = ("order lines", "project s (engine s)", "project GB", "pandas s", "pandas GB", "polars s", "polars GB",
            "floor s", "floor GB", "pandas/project time", "polars/project time", "project/floor time (engine)",
            "same results")
    table = [head]
    for r in rows:
        res = r["results"]
        cells = [f"{r['lines']:,}"]
        for v in ("project", "pandas", "polars", "floor"):
            if v not in res:
                cells += ["—", "—"]
                continue
            t, m = _fmt_res(res[v])
            if v == "project" and res[v]["status"] == "ok":
                t = f"{t} ({res[v]['engine_s']:.2f})"
            cells += [t, m]
        pr, fl = res.get("project"), res.get("floor")
        cells += [_ratio(res.get("pandas"), pr, "work_s"),
                  _ratio(res.get("polars"), pr, "work_s"),
                  f"{_ratio(pr, fl, 'work_s')} ({_ratio(pr, fl, 'engine_s', 'work_s')})",
                  "/".join(x for x in (r.get("project_vs_floor_agree"), r.get("pandas_vs_floor_agree"),
                                       r.get("polars_vs_floor_agree")) if x) or "—"]
        table.append(tuple(cells))
    return table


def _print_table(rows: list[dict]) -> None:
    table = table_rows(rows)
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    print()
    for i, row in enumerate(table):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("project: the trends report's sections (prepare + " + ", ".join(TRENDS_SECTIONS) + ") through Ibis on")
    print("DuckDB; engine s = time inside Ibis execute (compile, run, fetch). pandas: read_parquet + groupby.")
    print("floor: one hand-written DuckDB query. Times exclude imports; memory is each process's peak RSS.")
    print("polars: scan_parquet (lazy) + group_by. same results: project vs floor (monthly series) / pandas vs")
    print("floor / polars vs floor (every aggregate).")
    print()


def ingest_table_rows(rows: list[dict]) -> list[tuple]:
    """The ingest table, as rows of cells (first row: the header)."""
    head = ("order lines", "GBK file GB", "ingest s", "ingest GB", "read_csv floor s", "floor GB", "ingest/floor time",
            "rows read = accepted + quarantined + duplicates", "returns inferred", "all rows accounted for")
    table = [head]
    for r in rows:
        res = r["results"]
        ig, fl = res.get("ingest"), res.get("ingest_floor")
        if not ig and not fl:
            continue
        exp = (ig or fl).get("expected", {})
        cells = [f"{exp.get('lines', r['lines']):,}", f"{exp.get('bytes', 0) / GB:.2f}"]
        for v in (ig, fl):
            cells += list(_fmt_res(v)) if v else ["—", "—"]
        cells.append(_ratio(ig, fl, "work_s"))
        if ig and ig["status"] == "ok":
            cells += [f"{ig['rows_read']:,} = {ig['accepted']:,} + {ig['quarantined']:,} + {ig['duplicates']:,}",
                      f"{ig['returns_inferred']:,} of {exp.get('returns', 0):,}", "yes" if ig.get("accounted") else "NO"]
        else:
            cells += ["—", "—", "—"]
        table.append(tuple(cells))
    return table


def _print_ingest_table(rows: list[dict]) -> None:
    table = ingest_table_rows(rows)
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("ingest: analysis.ingest.ingest_file of the GBK CSV (Chinese headers, returns as negative lines, no")
    print("is_return column) into a fresh store. floor: DuckDB read_csv of the same file into a table (as latin-1).")
    for line in ingest_notes(rows):
        print(line)
    print()


def ingest_notes(rows: list[dict]) -> list[str]:
    """Per size: the ingest's phases and the machine's load average around each run (times on a
    shared machine say little without it)."""
    out = []
    for r in rows:
        res = r["results"]
        parts = []
        ig = res.get("ingest")
        if ig and ig.get("phases"):
            parts.append("ingest phases (s): " + ", ".join(f"{k} {v:.1f}" for k, v in ig["phases"].items()))
        fl = res.get("ingest_floor")
        if ig and fl and ig.get("cpu_s") and fl.get("cpu_s"):
            parts.append(f"CPU s (whole process, every thread): ingest {ig['cpu_s']:.1f}, floor {fl['cpu_s']:.1f}, "
                         f"ratio {ig['cpu_s'] / fl['cpu_s']:.2f}×")
        for v in INGEST_VARIANTS:
            if res.get(v) and res[v].get("load"):
                a, b = res[v]["load"]
                parts.append(f"load average during {v}: {a:g} → {b:g}")
        if parts:
            out.append(f"{r['size']}: " + "; ".join(parts))
    return out


"""The same metric code on DuckDB, PostgreSQL and Spark gives the same answers.

A session fixture starts a throwaway PostgreSQL server (scripts/pg.sh: Debian's binaries, a
temp folder, 127.0.0.1:54329+), builds a small demo world in DuckDB, copies it to PostgreSQL
and to a Spark warehouse folder (analysis.engines), and stops the server afterwards. Spark
runs in local mode. Every metric call is made on the three engines and the results compared:
rows sorted, floats to 1e-9 relative.

Every report (metrics.json) is also computed on PostgreSQL, a Spark standalone cluster (a master
and a worker started as separate processes on 127.0.0.1 by tests/spark_cluster.py) and Spark Connect
(a Connect server on that cluster), and must equal DuckDB's.

Run: ``.venv/bin/pytest -m engines tests/test_engines.py``; without the cluster:
``-m "engines and not cluster"``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import math
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import engines, store
from analysis.params import SalesTrendsParams
from analysis.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
PG_SH = ROOT / "scripts" / "pg.sh"
DEMO_SCALE = 0.05
RTOL = 1e-9
# Absolute floor for values that are zero in exact arithmetic but come out as ±1e-17 after a
# sum in another order (shares that cancel, differences of equal sums).
ATOL = 1e-12

# every engine test in one xdist group: one worker starts the servers once (pytest -n 2 --dist loadgroup)
pytestmark = [pytest.mark.engines, pytest.mark.xdist_group("engines")]


# --------------------------------------------------------------------------- comparing results


def normalize(x: Any) -> Any:
    """A plain structure: frames become sorted lists of row tuples, objects dicts of fields."""
    if isinstance(x, pd.DataFrame):
        df = x
        if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
            df = df.reset_index()
        cols = [str(c) for c in df.columns]
        rows = [tuple(_scalar(v) for v in row) for row in df.itertuples(index=False, name=None)]
        rows.sort(key=_sort_key)
        return {"__frame__": cols, "rows": rows}
    if isinstance(x, pd.Series):
        return normalize(x.to_frame(name=x.name if x.name is not None else "value"))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: normalize(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): normalize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [normalize(v) for v in x]
    if hasattr(x, "model_dump"):
        return normalize(x.model_dump())
    if isinstance(x, np.ndarray):
        return [normalize(v) for v in x.tolist()]
    return _scalar(x)


def _scalar(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime, np.datetime64)):
        ts = pd.Timestamp(v)
        if ts is pd.NaT:
            return None
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts
        return ("date", ts.isoformat())
    if isinstance(v, dt.date):
        return ("date", pd.Timestamp(v).isoformat())
    if isinstance(v, pd.Period):
        return ("period", str(v))
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return float(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, (pd.DataFrame, pd.Series, dict, list, tuple, np.ndarray)) or dataclasses.is_dataclass(v):
        return normalize(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _sort_key(row: tuple) -> tuple:
    # Keys (non-float cells) first, then floats rounded far above the tolerance, so that rows
    # sort the same on every engine.
    keys = []
    for v in row:
        if isinstance(v, float):
            keys.append((1, f"{v:.6e}"))
        elif v is None:
            keys.append((0, ""))
        else:
            keys.append((2, repr(v)))
    return tuple(k for k in keys if k[0] != 1) + tuple(keys)


def diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two normalised results (empty list: the same)."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        if "__frame__" in a or "__frame__" in b:
            if a.get("__frame__") != b.get("__frame__"):
                return [f"{path}: columns {a.get('__frame__')} != {b.get('__frame__')}"]
            ra, rb = a["rows"], b["rows"]
            if len(ra) != len(rb):
                return [f"{path}: {len(ra)} rows != {len(rb)} rows"]
            for i, (x, y) in enumerate(zip(ra, rb)):
                for c, u, w in zip(a["__frame__"], x, y):
                    out += diff(u, w, f"{path}[row {i}].{c}")
                if len(out) > 10:
                    return out
            return out
        if set(a) != set(b):
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        for k in a:
            out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL) else [f"{path}: {a!r} != {b!r}"]
    if a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


def test_compare_helpers_catch_differences():
    a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]})
    assert diff(normalize(a), normalize(a.iloc[::-1])) == []  # order does not matter
    assert diff(normalize(a), normalize(a.assign(v=[1.0, 2.0 * (1 + 1e-8)])))  # 1e-8 is too far
    assert diff(normalize(a), normalize(a.assign(v=[1.0, 2.0 * (1 + 1e-11)]))) == []
    assert diff(normalize(a), normalize(a.assign(k=["x", "z"])))
    assert diff(normalize({"r": 0.5, "n": 3}), normalize({"r": 0.5, "n": 4}))
    assert diff(normalize(dt.date(2024, 1, 1)), normalize(pd.Timestamp("2024-01-01"))) == []


# --------------------------------------------------------------------------- the engines


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory):
    pytest.importorskip("pyspark")
    return tmp_path_factory.mktemp("spark")


def spark_url(warehouse: Path) -> str:
    return f"spark://local?warehouse={warehouse}"


# --------------------------------------------------------------------------- copying tables


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    """A DuckDB store with one awkward table: NULLs, empty strings, quotes, Chinese, dates."""
    import ibis

    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    con = ibis.duckdb.connect(str(path))
    df = pd.DataFrame(
        {
            "d": [dt.date(2024, 1, 31), dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)],
            "s": ["C1", "", None, 'a "quoted", comma\nand newline 中文'],
            "x": [0.1 + 0.2, 1e-17, None, -123456789.125],
            "n": [1, 2, 3, -(2**40)],
            "b": [True, False, None, True],
        }
    )
    con.create_table("roundtrip", df.astype({"b": "boolean"}))
    con.disconnect()
    return path, df


@pytest.fixture(scope="session")
def tiny_rows(tiny_store):
    import duckdb

    con = duckdb.connect(str(tiny_store[0]), read_only=True)
    rows = con.execute("SELECT * FROM roundtrip").df()
    con.close()
    return normalize(rows)


def test_copy_to_postgres_keeps_every_value(tiny_store, tiny_rows, pg_url):
    counts = engines.copy_store(tiny_store[0], pg_url, tables=["roundtrip"], chunk_rows=2)
    assert counts == {"roundtrip": 4}
    con = store.connect(pg_url)
    t = con.table("roundtrip")
    assert [str(v) for v in t.schema().types] == ["date", "string", "float64", "int64", "boolean"]
    got = normalize(t.execute())
    assert diff(tiny_rows, got) == []
    # empty string and NULL stay different
    assert t.filter(t.s == "").count().execute() == 1
    assert t.filter(t.s.isnull()).count().execute() == 1
    # exact float round trip, not merely close
    assert t.filter(t.n == 1).x.max().execute() == 0.1 + 0.2
    # copying again replaces the table
    engines.copy_store(tiny_store[0], pg_url, tables=["roundtrip"])
    assert con.table("roundtrip").count().execute() == 4
    con.disconnect()


def test_copy_to_spark_keeps_every_value(tiny_store, tiny_rows, spark_warehouse):
    counts = engines.copy_store(tiny_store[0], spark_url(spark_warehouse), tables=["roundtrip"])
    assert counts == {"roundtrip": 4}
    con = store.connect(spark_url(spark_warehouse))
    assert store.has_table(con, "roundtrip")
    t = con.table("roundtrip")
    assert [str(v) for v in t.schema().types] == ["date", "string", "float64", "int64", "boolean"]
    assert diff(tiny_rows, normalize(t.execute())) == []
    assert t.filter(t.s == "").count().execute() == 1
    assert t.filter(t.n == 1).x.max().execute() == 0.1 + 0.2


def test_copy_store_rejects_bad_arguments(tiny_store):
    with pytest.raises(ParameterError, match="'target' parameter"):
        engines.copy_store(tiny_store[0], "mysql://x@y/z")
    with pytest.raises(ParameterError, match="'chunk_rows' parameter"):
        engines.copy_store(tiny_store[0], "postgresql://x@127.0.0.1:1/z", chunk_rows=0)
    with pytest.raises(Exception, match="no table 'nope'"):
        engines.copy_store(tiny_store[0], "postgresql://x@127.0.0.1:1/z", tables=["nope"])


def test_spark_location_parses_urls(tmp_path):
    assert store.spark_location(f"spark://local?warehouse={tmp_path}") == ("local[2]", tmp_path.resolve())
    assert store.spark_location("spark://local[4]")[0] == "local[4]"
    assert store.spark_location("spark://node1:7077?warehouse=/srv/wh") == ("spark://node1:7077", Path("/srv/wh"))
    assert store.spark_location("sc://node1:15002?warehouse=/srv/wh") == ("sc://node1:15002", Path("/srv/wh"))
    # Spark Connect's own options stay in the URL given to SparkSession.builder.remote
    assert store.spark_location("sc://node1:15002/;token=t;use_ssl=true")[0] == "sc://node1:15002/;token=t;use_ssl=true"
    assert store.resolve_store("sc://h:15002?warehouse=wh").endswith(f"warehouse={Path.cwd() / 'wh'}")


def test_a_second_spark_master_in_one_process_is_refused_in_one_line():
    """Spark runs one driver per process: a store on another master is refused, not silently swapped."""
    pytest.importorskip("pyspark")
    from pyspark import SparkContext

    from analysis.errors import StoreError

    class Running:
        master = "local[2]"

    old = SparkContext._active_spark_context
    SparkContext._active_spark_context = Running()
    try:
        with pytest.raises(StoreError, match=r"already runs a Spark session on local\[2\]; .*spark://127.0.0.1:1 cannot"):
            store.connect("spark://127.0.0.1:1?warehouse=/nonexistent")
    finally:
        SparkContext._active_spark_context = old


def test_postgres_store_error_is_one_line():
    from analysis.errors import StoreError

    with pytest.raises(StoreError, match="Cannot open store"):
        store.connect("postgresql://nobody@127.0.0.1:1/none")


# --------------------------------------------------------------------------- the reports' metrics


@pytest.fixture(scope="session")
def engine_stores(pg_url, spark_warehouse, tmp_path_factory):
    """A small demo world in DuckDB, copied to PostgreSQL and Spark: ({engine: store}, truth)."""
    import json

    from analysis import demo

    d = tmp_path_factory.mktemp("engines-demo")
    src = d / "warehouse.duckdb"
    demo.build(store=str(src), seed=42, scale=DEMO_SCALE, truth_path=d / "demo_truth.json")
    truth = json.loads((d / "demo_truth.json").read_text(encoding="utf-8"))
    counts_pg = engines.copy_store(src, pg_url)
    counts_spark = engines.copy_store(src, spark_url(spark_warehouse))
    assert counts_pg == counts_spark == {k: v for k, v in truth["row_counts"].items() if k in counts_pg}
    return {"duckdb": str(src), "postgresql": pg_url, "spark": spark_url(spark_warehouse)}, truth


@pytest.fixture(scope="session")
def engine_world(engine_stores):
    """({engine: Ibis backend}, truth) on the small demo world."""
    stores, truth = engine_stores
    cons = {
        "duckdb": store.connect(stores["duckdb"], read_only=True),
        "postgresql": store.connect(stores["postgresql"]),
        "spark": store.connect(stores["spark"]),
    }
    yield cons, truth
    for con in cons.values():
        try:
            con.disconnect()
        except Exception:  # noqa: BLE001 - Spark's session may already be gone at exit
            pass


_CACHE: dict = {}


def _on_all(engine_world, key: str, fn) -> dict[str, Any]:
    """fn(con, truth) on the three engines (cached per key), normalised."""
    if key not in _CACHE:
        cons, truth = engine_world
        _CACHE[key] = {name: fn(con, truth) for name, con in cons.items()}
    return _CACHE[key]


def _assert_same(results: dict[str, Any]) -> None:
    base = normalize(results["duckdb"])
    for engine in ("postgresql", "spark"):
        d = diff(base, normalize(results[engine]))
        assert not d, f"{engine} differs from DuckDB:\n" + "\n".join(d[:10])


def _trends_scope(con, truth):
    from analysis import trends

    key = ("trends-scope", id(con))
    if key not in _CACHE:
        _CACHE[key] = trends.prepare(con, SalesTrendsParams.of(month=truth["end"][:7]))
    return _CACHE[key]


TRENDS_SECTIONS = ("headline", "attainment_by_level", "underperformers", "trend", "spring_festival", "mix",
                   "contribution", "customers", "process_indicators", "forecast")


@pytest.mark.parametrize("section", TRENDS_SECTIONS)
def test_trends_sections_same_on_all_engines(engine_world, section):
    from analysis import trends

    res = _on_all(engine_world, f"trends.{section}", lambda con, truth: getattr(trends, section)(_trends_scope(con, truth)))
    # the section ran on this world (a skipped section would compare nothing)
    assert getattr(res["duckdb"], "skip", None) is None, res["duckdb"].skip
    _assert_same(res)


def test_trends_by_rep_and_filtered_same_on_all_engines(engine_world):
    from analysis import trends

    def run(con, truth):
        scope = trends.prepare(con, SalesTrendsParams.of(month=truth["end"][:7], level="rep", filters={"region": ["市区", "北县"]}))
        return {"attainment": trends.attainment_by_level(scope), "contribution": trends.contribution(scope),
                "headline": trends.headline(scope)}

    _assert_same(_on_all(engine_world, "trends.rep-filtered", run))


@pytest.mark.parametrize("which", ["strong", "default"])
def test_launch_review_same_on_all_engines(engine_world, which):
    from analysis import launch
    from analysis.params import LaunchReviewParams

    def run(con, truth):
        sku = "" if which == "default" else truth["launches"][which]["sku_id"]
        return launch.prepare(con, LaunchReviewParams(sku=sku))

    res = _on_all(engine_world, f"launch.{which}", run)
    rv = res["duckdb"]
    assert rv.headline["ordering_customers"] > 0
    assert rv.opinions.skip is None and rv.segments
    _assert_same(res)


def test_launch_earlier_launches_same_on_all_engines(engine_world):
    from analysis import launch

    def run(con, truth):
        spec = launch.resolve_launch(con, truth["launches"]["strong"]["sku_id"])
        return {"earlier": launch.earlier_launches(con, spec), "curves": launch.launch_curves(con, spec),
                "panel": launch.weekly_panel(con, spec)}

    res = _on_all(engine_world, "launch.earlier", run)
    assert len(res["duckdb"]["earlier"]) >= 3
    _assert_same(res)


RETENTION_CALLS = ("build_panel", "snapshot_from_store", "downstream")


@pytest.mark.parametrize("call", RETENTION_CALLS)
def test_retention_same_on_all_engines(engine_world, call):
    from analysis import retention
    from analysis.params import IncentiveRetentionParams

    def run(con, truth):
        if call == "build_panel":
            return retention.build_panel(con)
        if call == "snapshot_from_store":
            return retention.snapshot_from_store(con)
        data = retention.load(con, IncentiveRetentionParams())
        return {"data": data, "headline": retention.headline(data), "tables": retention.attrition_tables(data),
                "km": retention.km_overall(data), "effects": retention.adjusted_effects(data)}

    res = _on_all(engine_world, f"retention.{call}", run)
    base = res["duckdb"]
    if isinstance(base, pd.DataFrame):
        assert len(base) > 0
    _assert_same(res)


# --------------------------------------------------------------------------- the command line


@pytest.mark.slow
def test_report_from_the_command_line_same_on_all_engines(engine_stores, tmp_path):
    """``sales-analysis run sales_trends --store URL`` gives the same metrics.json everywhere."""
    import json
    import sys

    stores, truth = engine_stores
    month = truth["end"][:7]
    exe = Path(sys.executable).with_name("sales-analysis")
    metrics = {}
    for engine, loc in stores.items():
        out = tmp_path / engine
        proc = subprocess.run(
            [str(exe), "run", "sales_trends", "--store", loc, "--out", str(out), "-p", f"month={month}"],
            capture_output=True, text=True, timeout=900, cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        m = json.loads((out / "sales_trends" / month / "metrics.json").read_text(encoding="utf-8"))
        assert m["parameters"]["store"] == loc
        for k in ("generated_at",):
            m.pop(k, None)
        m["parameters"].pop("store")
        metrics[engine] = m
    assert metrics["duckdb"]["total_amount"] > 0
    _assert_same(metrics)


# --------------------------------------------------------------------------- every report on every engine
#
# A Spark standalone cluster (master + one worker, separate processes on 127.0.0.1) and a Spark
# Connect server on it are started once per session (tests/spark_cluster.py) and stopped by the
# process groups they were started in. Every report is computed headless (the notebook's own cells,
# analysis.reports.compute) on each engine and its metrics.json must equal DuckDB's. A Spark
# driver is one per process, so each Spark engine's reports run in a process of their own, as a
# report run by a user would.

REPORT_NAMES = ("sales_trends", "launch_review", "incentive_retention", "rep_scorecard", "target_plan")
# keys of metrics.json that differ between two runs by design: the time of the run, the store's URL
RUN_KEYS = ("generated_at",)

_COMPUTE = r"""
import json, sys
from analysis.reports.compute import compute
store, out, reports = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {}
for r in reports:
    try:
        res[r] = compute(r, store).metrics
    except Exception as e:  # one report's failure is that report's test failure, not the others'
        res[r] = {"__error__": f"{type(e).__name__}: {e}"}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(res, fh, ensure_ascii=False, default=str)
"""


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A standalone Spark cluster with a Spark Connect server, on loopback; stopped after the session."""
    pytest.importorskip("pyspark")
    if not shutil.which("java"):
        pytest.skip("Java is not installed (make install-test installs it: scripts/sysdeps.sh java)")
    from spark_cluster import SparkCluster, connect_jar

    cluster = SparkCluster(tmp_path_factory.mktemp("spark-cluster"), with_connect=connect_jar() is not None)
    cluster.start()
    started = [p.popen.pid for p in cluster.procs]
    yield cluster
    cluster.stop()
    for pgid in started:  # stopped by the ids it started, and gone
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)


def _engine_store(engine: str, engine_stores, spark_cluster, spark_warehouse) -> str:
    stores, _ = engine_stores
    if engine in stores:
        return stores[engine]
    if engine == "spark-standalone":
        return f"{spark_cluster.master_url}?warehouse={spark_warehouse}"
    if engine == "spark-connect":
        if not spark_cluster.with_connect:
            pytest.skip("the installed pyspark ships no Spark Connect server (pyspark >= 4.0 does)")
        return f"{spark_cluster.connect_url}?warehouse={spark_warehouse}"
    raise AssertionError(engine)


_METRICS: dict[str, dict] = {}


def _metrics_on(engine: str, loc: str, tmp: Path) -> dict[str, dict]:
    """{report: metrics} of every report on one store, computed once per session in a process of its own."""
    import json
    import sys

    if engine not in _METRICS:
        out = tmp / f"{engine}.json"
        proc = subprocess.run([sys.executable, "-c", _COMPUTE, loc, str(out), *REPORT_NAMES],
                              capture_output=True, text=True, timeout=3000, cwd=tmp)
        assert proc.returncode == 0 and out.exists(), proc.stdout[-2000:] + proc.stderr[-3000:]
        _METRICS[engine] = json.loads(out.read_text(encoding="utf-8"))
    return _METRICS[engine]


def _comparable(m: dict) -> dict:
    m = {k: v for k, v in m.items() if k not in RUN_KEYS}
    if isinstance(m.get("parameters"), dict):
        m["parameters"] = {k: v for k, v in m["parameters"].items() if k != "store"}
    return m


@pytest.mark.slow
@pytest.mark.parametrize("report", REPORT_NAMES)
@pytest.mark.parametrize("engine", [
    "postgresql",
    pytest.param("spark-standalone", marks=pytest.mark.cluster),
    pytest.param("spark-connect", marks=pytest.mark.cluster),
])
def test_every_report_same_on_every_engine(engine, report, request, engine_stores, spark_warehouse,
                                           tmp_path_factory):
    """metrics.json of each report on PostgreSQL, a standalone Spark cluster and Spark Connect = DuckDB's."""
    cluster = request.getfixturevalue("spark_cluster") if engine.startswith("spark-") else None
    tmp = tmp_path_factory.mktemp(f"metrics-{engine}")
    base = _metrics_on("duckdb", engine_stores[0]["duckdb"], tmp)[report]
    got = _metrics_on(engine, _engine_store(engine, engine_stores, cluster, spark_warehouse), tmp)[report]
    assert "__error__" not in base, base
    assert "__error__" not in got, f"{report} on {engine}: {got['__error__']}"
    d = diff(normalize(_comparable(base)), normalize(_comparable(got)))
    assert not d, f"{report} on {engine} differs from DuckDB:\n" + "\n".join(d[:10])

"""The same metric code on DuckDB and PostgreSQL gives the same answers; copies to Spark keep every value.

A session fixture starts a throwaway PostgreSQL server (scripts/pg.sh: Debian's binaries, a
temp folder, a free port on 127.0.0.1), builds a small demo world (both profiles) in DuckDB and
copies it to PostgreSQL (analysis.engines). Every section of the reports is computed on both in
this process and the results compared: rows sorted, floats to 1e-9 relative
(tests/engine_compare.py). Every report's metrics.json, computed headless in a process of its
own, must equal DuckDB's, and so must the command line's.

Spark is checked where it runs for real: tests/test_engines_cluster.py starts a standalone
cluster and a Spark Connect server and requires every report's metrics.json to equal DuckDB's.
Here only the copy to a Spark warehouse (Parquet written by DuckDB, read back by Spark in local
mode) and the store's one-line errors are tested.

Run: ``.venv/bin/pytest -m engines tests/test_engines.py``.
"""
from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis import engines, store
from analysis.params import REPORTS, SalesTrendsParams
from analysis.errors import ParameterError
from engine_compare import build_engine_world, comparable, diff, metrics_in_subprocess, normalize

ROOT = Path(__file__).resolve().parents[1]
PG_SH = ROOT / "scripts" / "pg.sh"

# every engine test in one xdist group: one worker starts the servers once (pytest -n 2 --dist loadgroup)
pytestmark = [pytest.mark.engines, pytest.mark.xdist_group("engines")]


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
def engine_stores(pg_url, tmp_path_factory):
    """A small demo world (the tobacco and the agency profile) in DuckDB, copied to PostgreSQL: ({engine: store}, truth)."""
    stores, truth = build_engine_world(tmp_path_factory.mktemp("engines-demo"))
    counts = engines.copy_store(stores["duckdb"], pg_url)
    assert {k: v for k, v in counts.items() if k in truth["row_counts"]} == \
        {k: v for k, v in truth["row_counts"].items() if k in counts}
    return {**stores, "postgresql": pg_url}, truth


@pytest.fixture(scope="session")
def engine_world(engine_stores):
    """({engine: Ibis backend}, truth) on the small demo world."""
    stores, truth = engine_stores
    cons = {
        "duckdb": store.connect(stores["duckdb"], read_only=True),
        "postgresql": store.connect(stores["postgresql"]),
    }
    yield cons, truth
    for con in cons.values():
        con.disconnect()


_CACHE: dict = {}


def _on_all(engine_world, key: str, fn) -> dict[str, Any]:
    """fn(con, truth) on the three engines (cached per key), normalised."""
    if key not in _CACHE:
        cons, truth = engine_world
        _CACHE[key] = {name: fn(con, truth) for name, con in cons.items()}
    return _CACHE[key]


def _assert_same(results: dict[str, Any]) -> None:
    base = normalize(results["duckdb"])
    for engine in ("postgresql",):
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
def test_report_from_the_command_line_same_on_postgresql(engine_stores, tmp_path_factory):
    """``sales-analysis run sales_trends --store postgresql://…`` (kernel, export) writes the metrics.json
    DuckDB's headless run gives (which equals the notebook's own run: tests/test_reports_compute.py)."""
    import json
    import sys

    stores, truth = engine_stores
    month = truth["end"][:7]
    tmp = tmp_path_factory.mktemp("cli")
    exe = Path(sys.executable).with_name("sales-analysis")
    proc = subprocess.run(
        [str(exe), "run", "sales_trends", "--store", stores["postgresql"], "--out", str(tmp / "out"), "-p", f"month={month}"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    got = json.loads((tmp / "out" / "sales_trends" / month / "metrics.json").read_text(encoding="utf-8"))
    assert got["parameters"]["store"] == stores["postgresql"]
    from analysis.reports.compute import compute

    base = json.loads(json.dumps(compute("sales_trends", stores["duckdb"], {"month": month}).metrics,
                                 ensure_ascii=False, default=str))
    assert base["total_amount"] > 0
    d = diff(normalize(comparable(base)), normalize(comparable(got)))
    assert not d, "sales_trends from the command line on postgresql differs from DuckDB:\n" + "\n".join(d[:10])


# --------------------------------------------------------------------------- every report


_METRICS: dict[str, dict] = {}


def _metrics_on(engine: str, loc: str, tmp: Path) -> dict[str, dict]:
    """{report: metrics} of every report on one store, computed once per session."""
    if engine not in _METRICS:
        _METRICS[engine] = metrics_in_subprocess(loc, tmp / f"{engine}.json", tuple(REPORTS))
    return _METRICS[engine]


@pytest.mark.slow
@pytest.mark.parametrize("report", tuple(REPORTS))
def test_every_report_same_on_postgresql(report, engine_stores, tmp_path_factory):
    """metrics.json of each report on PostgreSQL = DuckDB's (headless, a process of its own)."""
    stores, _ = engine_stores
    tmp = tmp_path_factory.mktemp("metrics")
    base = _metrics_on("duckdb", stores["duckdb"], tmp)[report]
    got = _metrics_on("postgresql", stores["postgresql"], tmp)[report]
    assert "__error__" not in base, base
    assert "__error__" not in got, f"{report} on postgresql: {got['__error__']}"
    d = diff(normalize(comparable(base)), normalize(comparable(got)))
    assert not d, f"{report} on postgresql differs from DuckDB:\n" + "\n".join(d[:10])

"""Every report on a real Spark cluster: a standalone master and worker, and Spark Connect.

The session fixture starts a Spark master and one worker as separate processes on 127.0.0.1, and
a Spark Connect server on that cluster (tests/spark_cluster.py: the scripts and jars pyspark
ships, Java from the Makefile), and stops them by the process groups it started. A small demo
world (both profiles) is built in DuckDB and written to a warehouse folder as Parquet
(analysis.engines), where the executors read it. Every report of the registry is computed
headless (analysis.reports.compute) with ``--store spark://127.0.0.1:PORT?warehouse=…`` and with
``sc://127.0.0.1:PORT?warehouse=…``, each in a process of its own, and its metrics.json must
equal DuckDB's (floats to 1e-9 relative, tests/engine_compare.py).

Minutes on two cores; skip locally with ``-m "not cluster"``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analysis import engines
from analysis.params import REPORTS
from engine_compare import build_engine_world, comparable, diff, metrics_in_subprocess, normalize

pytestmark = [pytest.mark.engines, pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="session")
def cluster_world(tmp_path_factory):
    """({"duckdb": path, "warehouse": folder}, truth): the demo world in DuckDB and as Parquet."""
    pytest.importorskip("pyspark")
    d = tmp_path_factory.mktemp("cluster-demo")
    stores, truth = build_engine_world(d)
    warehouse = d / "warehouse"
    engines.copy_store(stores["duckdb"], f"spark://local?warehouse={warehouse}")
    return {**stores, "warehouse": str(warehouse)}, truth


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


_METRICS: dict[str, dict] = {}


def _metrics_on(engine: str, loc: str, tmp: Path) -> dict[str, dict]:
    if engine not in _METRICS:
        _METRICS[engine] = metrics_in_subprocess(loc, tmp / f"{engine}.json", tuple(REPORTS))
    return _METRICS[engine]


def _store_url(engine: str, cluster, warehouse: str) -> str:
    if engine == "spark-standalone":
        return f"{cluster.master_url}?warehouse={warehouse}"
    if not cluster.with_connect:
        pytest.skip("the installed pyspark ships no Spark Connect server (pyspark >= 4.0 does)")
    return f"{cluster.connect_url}?warehouse={warehouse}"


@pytest.mark.parametrize("report", tuple(REPORTS))
@pytest.mark.parametrize("engine", ["spark-standalone", "spark-connect"])
def test_every_report_same_on_the_cluster(engine, report, cluster_world, spark_cluster, tmp_path_factory):
    """metrics.json of each report on a standalone Spark cluster and through Spark Connect = DuckDB's."""
    stores, _ = cluster_world
    tmp = tmp_path_factory.mktemp(f"metrics-{engine}")
    base = _metrics_on("duckdb", stores["duckdb"], tmp)[report]
    got = _metrics_on(engine, _store_url(engine, spark_cluster, stores["warehouse"]), tmp)[report]
    assert "__error__" not in base, base
    assert "__error__" not in got, f"{report} on {engine}: {got['__error__']}"
    d = diff(normalize(comparable(base)), normalize(comparable(got)))
    assert not d, f"{report} on {engine} differs from DuckDB:\n" + "\n".join(d[:10])

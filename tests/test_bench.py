"""The benchmark harness (analysis.bench): sizes, and one small run whose three variants agree."""
from __future__ import annotations

import json

import pytest

from analysis import bench
from analysis.errors import ParameterError


def test_parse_sizes_and_labels():
    assert bench.parse_sizes("1M,20M,100M") == [1_000_000, 20_000_000, 100_000_000]
    assert bench.parse_sizes(" 500k, 2_000 ,1.5M") == [500_000, 2_000, 1_500_000]
    assert [bench.label(n) for n in (1_000_000, 20_000_000, 500_000, 1234)] == ["1M", "20M", "500k", "1234"]
    for bad in ("", "abc", "-1M", "0"):
        with pytest.raises(ParameterError, match="'sizes' parameter of bench"):
            bench.parse_sizes(bad)


def test_machine_names_cores_and_memory():
    m = bench.machine()
    assert "cores" in m and "GB RAM" in m


@pytest.mark.slow
def test_small_run_agrees_with_the_floor(tmp_path, capsys):
    """A 60k-line world: the three variants run, pandas and the project agree with the floor."""
    rows = bench.main(sizes="60k", workdir=tmp_path, repeat=1)
    out = capsys.readouterr().out
    assert "| order lines" in out
    (row,) = rows
    for v in ("project", "pandas", "polars", "floor", "ingest", "ingest_floor"):
        r = row["results"][v]
        assert r["status"] == "ok", r
        assert r["work_s"] > 0 and r["peak_gb"] > 0
    assert row["results"]["project"]["queries"] > 10  # the engine clock saw the report's queries
    assert row["project_vs_floor_agree"] == "yes"
    assert row["pandas_vs_floor_agree"] == "yes"
    assert row["polars_vs_floor_agree"] == "yes"
    # ingest: every line of the GBK file accounted for, the returns inferred from the signs
    ing = row["results"]["ingest"]
    assert ing["accounted"] is True
    assert ing["rows_read"] == ing["expected"]["lines"] == row["results"]["ingest_floor"]["rows_read"]
    assert ing["returns_inferred"] == ing["expected"]["returns"] > 0
    assert "| order lines | GBK file GB | ingest s" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"][0]["lines"] == row["lines"] > 30_000
    # a second run reuses the world
    info = json.loads((tmp_path / "60k" / "world.json").read_text())
    bench.world(60_000, tmp_path)
    assert json.loads((tmp_path / "60k" / "world.json").read_text()) == info


def test_unknown_variant_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match=r"^The 'variants' parameter of bench must be some of project, pandas"):
        bench.main(sizes="1k", workdir=tmp_path, variants="project,spark")


def test_ingest_table_formats_the_accounting():
    rows = [{"size": "1M", "lines": 10, "results": {
        "ingest": {"status": "ok", "work_s": 3.0, "peak_gb": 0.5, "rows_read": 10, "accepted": 9, "quarantined": 1,
                   "duplicates": 0, "returns_inferred": 2, "accounted": True,
                   "expected": {"lines": 10, "returns": 2, "bytes": 1024**3}},
        "ingest_floor": {"status": "ok", "work_s": 1.5, "peak_gb": 0.2, "rows_read": 10}}}]
    head, row = bench.ingest_table_rows(rows)
    assert head[0] == "order lines" and row[0] == "10" and row[1] == "1.00"
    assert row[2:7] == ("3.00", "0.50", "1.50", "0.20", "2.00×")
    assert row[7:] == ("10 = 9 + 1 + 0", "2 of 2", "yes")


def test_ingest_notes_give_the_phases_and_the_load():
    rows = [{"size": "20M", "lines": 10, "results": {
        "ingest": {"status": "ok", "phases": {"hash": 1.25, "stage": 80.0}, "load": [3.5, 6.0], "cpu_s": 300.0},
        "ingest_floor": {"status": "ok", "load": [6.0, 5.5], "cpu_s": 120.0}}}]
    assert bench.ingest_notes(rows) == [
        "20M: ingest phases (s): hash 1.2, stage 80.0; CPU s (whole process, every thread): ingest 300.0, floor "
        "120.0, ratio 2.50×; load average during ingest: 3.5 → 6; load average during ingest_floor: 6 → 5.5"]


def test_agree_detects_a_wrong_aggregate(tmp_path):
    import pandas as pd

    res = tmp_path / "results"
    res.mkdir()
    for name, keys in bench._KEYS.items():
        df = pd.DataFrame({k: ["a", "b"] for k in keys})
        if "month" in keys:
            df["month"] = pd.to_datetime(["2026-01-01", "2026-02-01"])
        if "order_date" in keys:
            df["order_date"] = pd.to_datetime(["2026-01-01", "2026-01-02"])
        df["amount"], df["qty"], df["lines"] = [1.0, 2.0], [3.0, 4.0], [1, 1]
        df.to_parquet(res / f"floor-{name}.parquet")
        df.iloc[::-1].to_parquet(res / f"pandas-{name}.parquet")
    assert bench._agree(tmp_path, "pandas", "floor") == "yes"
    bad = pd.read_parquet(res / "pandas-by_rep.parquet")
    bad.loc[0, "amount"] += 1e-6
    bad.to_parquet(res / "pandas-by_rep.parquet")
    assert bench._agree(tmp_path, "pandas", "floor").startswith("no (by_rep")


# --------------------------------------------------------------------------- the reports variant


def test_engines_are_checked():
    from analysis.bench.reports import parse_engines

    assert parse_engines("duckdb, postgresql,spark,duckdb") == ["duckdb", "postgresql", "spark"]
    for bad in ("", "oracle", "duckdb,mysql"):
        with pytest.raises(ParameterError, match=r"^The 'engines' parameter of bench must be some of duckdb, postgresql"):
            parse_engines(bad)


def test_metrics_diff_tolerates_1e9_and_finds_the_first_difference():
    from analysis.bench.reports import metrics_diff

    a = {"n": 3, "x": [1.0, {"y": 2.5, "z": None}], "s": "a"}
    assert metrics_diff(a, {"n": 3.0, "x": [1.0 + 1e-12, {"y": 2.5 * (1 + 5e-10), "z": None}], "s": "a"}) is None
    assert metrics_diff(a, {**a, "x": [1.0, {"y": 2.5 * (1 + 1e-8), "z": None}]}).startswith(".x[1].y:")
    assert metrics_diff(a, {**a, "s": "b"}) == ".s: 'a' != 'b'"
    assert metrics_diff(a, {**a, "x": [1.0]}) == ".x: length 2 != 1"
    assert metrics_diff(a, {"n": 3}).startswith(": keys differ")


def test_tree_sampler_adds_up_a_process_tree():
    """A child holding 200 MB under a parent that holds little: the tree's peak RSS counts both."""
    import subprocess
    import sys

    from analysis.bench.servers import TreeSampler

    code = ("import subprocess, sys; c = subprocess.Popen([sys.executable, '-c', "
            "'b = bytearray(200 * 2**20); import time; time.sleep(0.8)']); c.wait()")
    p = subprocess.Popen([sys.executable, "-c", code])
    s = TreeSampler({"tree": lambda: [p.pid], "none": lambda: []}, interval=0.05).start()
    p.wait()
    s.stop()
    assert s.peak_rss["tree"] >= 200 * 2**20
    assert s.peak_pss["tree"] >= 190 * 2**20
    assert s.procs["tree"] == 2
    assert s.cpu_s("tree") >= 0 and s.peak_rss["none"] == 0 and s.cpu_s("none") == 0


def test_report_tables_format_runs_and_growth():
    from analysis.bench.reports import growth_rows, notes, table_rows

    def run(wall, gb=0.0):
        return {"status": "ok", "wall_s": wall, "compute_s": wall - 1, "peak_gb": 0.4, "tree_gb": 0.5,
                "engine_gb": gb, "engine_pss_gb": gb / 2, "engine_idle_gb": 0.1, "tree_cpu_s": 3.0,
                "engine_cpu_s": 1.5, "load": [2.0, 2.5], "same_as_duckdb": "yes"}

    rows = [{"size": s, "lines": n, "reports": {
        "duckdb": {"reports": {"target_plan": run(w)}},
        "postgresql": {"copy_s": 2.0, "rows": 10, "engine_start_s": 3.0, "reports": {"target_plan": run(2 * w, 1.0)}}}}
        for s, n, w in (("1M", 1_000_000, 5.0), ("4M", 4_000_000, 10.0))]
    head, duck, pg = table_rows(rows)[:3]
    assert head[:4] == ("order lines", "engine", "report", "wall s (compute s)")
    assert duck[:5] == ("1,000,000", "duckdb", "target_plan", "5.0 (4.0)", "0.40 / 0.50")
    assert duck[5] == "— (in the report's process)"
    assert pg[5:8] == ("1.00 / 0.50 (0.10)", "3.0 / 1.5", "2 → 2.5")
    g = growth_rows(rows)
    assert g[0] == ("engine", "report", "1M s", "4M s", "4M/1M time (lines ×4.0)")
    assert g[1] == ("duckdb", "target_plan", "5.0", "10.0", "2.00×")
    assert g[2] == ("postgresql", "target_plan", "10.0", "20.0", "2.00×")
    assert growth_rows(rows[:1]) == []
    assert notes(rows)[0] == "1M postgresql: servers started in 3.0 s; world copied (10 rows) in 2.0 s"


def test_reports_variant_runs_a_report_in_a_process_of_its_own(tmp_path, capsys):
    """A tiny world, DuckDB only, one report: figures of its own process, and its metrics written."""
    rows = bench.main(sizes="20k", workdir=tmp_path, variants="reports", engines="duckdb", reports=("target_plan",))
    (row,) = rows
    r = row["reports"]["duckdb"]["reports"]["target_plan"]
    assert r["status"] == "ok", r
    assert r["wall_s"] > r["compute_s"] > 0 and r["import_s"] > 0
    assert r["peak_gb"] > 0.05 and r["tree_gb"] > 0.05 and r["tree_cpu_s"] > 0
    assert r["engine_gb"] == 0 and r["same_as_duckdb"] == "(base)"
    assert json.loads(open(r["metrics"], encoding="utf-8").read())["report"] == "target_plan"
    out = capsys.readouterr().out
    assert "| order lines | engine | report" in out and "target_plan" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"][0]["reports"]["duckdb"]["reports"]["target_plan"]["status"] == "ok"


def test_unknown_engine_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match=r"^The 'engines' parameter of bench"):
        bench.main(sizes="1k", workdir=tmp_path, variants="reports", engines="duckdb,oracle")


def test_a_childs_own_peak_replaces_wait4s(tmp_path):
    """wait4's ru_maxrss carries the forked parent's size over exec; the child's own VmHWM is its peak."""
    from analysis.bench import child_result, own_peak_gb

    out = tmp_path / "r.json"
    out.write_text(json.dumps({"status": "ok", "own_peak_gb": 0.3}))
    assert child_result(out) == {"status": "ok", "peak_gb": 0.3} and not out.exists()
    assert child_result(out) == {}
    assert 0 < own_peak_gb() < 64

"""The target plan as a report run: the notebook on a fixture store, its files beside the
report, metrics.json as documented and language-free, and a bad input leaving no report."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import store, target_plan as tp
from analysis.params import TargetPlanParams
from analysis.errors import ParameterError
from analysis.narrative import target_plan as texts
from analysis.present import Presenter
from present_helpers import shown_html

from test_target_plan import make_store

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = (tp.overview, tp.regions, tp.reps, tp.products, tp.backtest)


def documented_keys() -> list[str]:
    doc = (ROOT / "docs" / "metrics" / "target_plan.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([a-z_]+)` \|", doc, flags=re.M)


def test_metrics_are_language_free_and_documented(tmp_path):
    from analysis import charts

    charts.setup()
    con = store.connect(str(make_store(tmp_path / "w.duckdb")), read_only=True)
    scope = tp.prepare(con, TargetPlanParams.of(total=38200, rounding=1, method="last_12", growth_cap=None))
    runs = {}
    for lang in ("zh", "en"):
        p = Presenter("target_plan", texts.TEXTS, lang=lang)
        for section in SECTIONS:
            shown_html(p, section(scope))
        runs[lang] = p.metrics()
    con.disconnect()
    assert runs["zh"] == runs["en"]
    m = runs["zh"]
    assert m["by_region"] == {"A": 20200.0, "B": 18000.0} and m["total"] == 38200.0
    assert m["skipped_sections"] == ["products"]
    # every key a section gives is documented (the notebook adds report, parameters, files, window, time)
    doc = set(documented_keys())
    assert set(m) <= doc, set(m) - doc


def test_bad_total_fails_before_any_kernel(tmp_path):
    from analysis.reports import run_report

    with pytest.raises(ParameterError, match="'total' parameter of target_plan"):
        run_report("target_plan", {"total": 0}, out=tmp_path / "r")
    assert not (tmp_path / "r" / "target_plan").exists()


@pytest.mark.slow
def test_a_run_writes_the_targets_beside_the_report(tmp_path):
    from analysis.reports import run_report

    path = make_store(tmp_path / "w.duckdb")
    out = tmp_path / "reports"
    r = run_report("target_plan", {"total": 38200, "rounding": 1, "method": "last_12", "growth_cap": None},
                   store=str(path), out=out)
    assert r.ok, r.summary()
    final = out / "target_plan" / "2026-01"
    m = json.loads((final / "metrics.json").read_text(encoding="utf-8"))
    assert m["targets_file"] == "targets_2026-01.csv" and m["targets_workbook"] == "targets_2026-01.xlsx"
    assert (final / m["targets_file"]).is_file() and (final / m["targets_workbook"]).is_file()
    assert (final / "target_plan.xlsx").is_file() and (final / "target_plan.html").is_file()
    assert sorted(m) == sorted(documented_keys())
    csv = pd.read_csv(final / m["targets_file"], encoding="utf-8-sig")
    assert csv.groupby("level")["value"].sum().to_dict() == {"company": 38200, "region": 38200, "rep": 38200}
    assert m["by_rep"] == {"r1": 13000.0, "r2": 6000.0, "pool:A": 1200.0, "r3": 18000.0}
    html = (final / "target_plan.html").read_text(encoding="utf-8")
    assert "任务分解" in html and "分解依据" in html


@pytest.mark.slow
def test_a_bad_override_leaves_no_report(tmp_path):
    from analysis.reports import run_report

    path = make_store(tmp_path / "w.duckdb")
    out = tmp_path / "reports"
    r = run_report("target_plan", {"total": 38200, "rounding": 1, "overrides": {"Z": 100}}, store=str(path), out=out)
    assert not r.ok
    assert "PlanError: The override key 'Z' is neither a region" in r.error
    written = [p.name for p in out.rglob("*") if p.is_file()]
    assert not [n for n in written if n.endswith((".html", ".csv", ".xlsx")) or n == "metrics.json"], written


def test_output_path_is_beside_metrics_and_listed(tmp_path, monkeypatch):
    from analysis import notebook
    from analysis.recorder import ENV_VAR

    path = make_store(tmp_path / "w.duckdb")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "run" / "metrics.json"))
    ctx = notebook.start("target_plan", {"store": str(path), "total": 38200, "rounding": 1})
    assert ctx.output_path("targets_2026-01.csv") == tmp_path / "run" / "targets_2026-01.csv"
    for bad in ("../x.csv", "a/b.csv", "metrics.json", ""):
        with pytest.raises(ParameterError, match="plain file name"):
            ctx.output_path(bad)
    ctx.finish()
    m = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert m["outputs"] == ["targets_2026-01.csv"]
    ctx.con.disconnect()


@pytest.mark.slow
def test_the_plan_runs_on_slim_orders_of_a_demo_world(tmp_path):
    # issue 18: order lines without region, rep, brand, price class or channel (they are in the
    # customers and products), and a total 36 % above last year with the default cap of 30 %
    import duckdb

    from analysis import demo
    from analysis.reports import run_report

    path = tmp_path / "w.duckdb"
    demo.build(store=str(path), seed=7, scale=0.02, truth_path=tmp_path / "truth.json")
    raw = duckdb.connect(str(path))
    raw.execute("CREATE OR REPLACE TABLE orders AS SELECT * EXCLUDE (region, rep_id, brand, price_class, channel) "
                "FROM orders")
    raw.close()
    con = store.connect(str(path), read_only=True)
    scope = tp.prepare(con)
    ly = float(scope.plan.regions["last_year"].sum())
    con.disconnect()
    total = round(ly * 1.36, -2)
    r = run_report("target_plan", {"total": total, "levels": ["region", "rep", "brand"]}, store=str(path),
                   out=tmp_path / "reports", update_index=False, progress=False)
    assert r.ok, r.summary()
    m = json.loads(r.metrics.read_text(encoding="utf-8"))
    assert m["coverage"]["region"] == 1.0 and m["coverage"]["brand"] == 1.0 and m["coverage"]["rep_id"] >= 0.95
    assert sum(m["by_region"].values()) == total and sum(m["by_rep"].values()) == total
    assert "unattributed" not in m["by_region"] and "unattributed" not in m["by_product"]
    relaxed = [x for x in m["growth_cap_relaxed"] if x["level"] == "region"]
    assert relaxed and relaxed[0]["cap"] > 0.3 and sorted(relaxed[0]["keys"]) == sorted(m["by_region"])
    assert m["backtest_book"] == "sale" and m["skipped_sections"] == []

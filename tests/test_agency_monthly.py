"""The agency monthly report (营业部月报) on the agency demo world: its sections, the skips of a store
without the optional tables, both languages, and the same figures after an export and ingest."""
from __future__ import annotations

import math
import shutil

import duckdb
import ibis
import pytest

from analysis import demo_export
from analysis.agency import demo as agency_demo
from analysis.agency import model as am
from analysis.agency import monthly
from analysis.agency import monthly_text
from analysis.errors import MissingTableError, ParameterError
from analysis.ingest import ingest_file
from analysis.params import AgencyMonthlyParams
from analysis.present import Presenter
from present_helpers import shown_html
from analysis.sections import section_metrics

SCALE = 0.2
SEED = 11


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("agency_monthly")
    path = d / "world.duckdb"
    agency_demo.build(store=str(path), seed=SEED, scale=SCALE, truth_path=d / "truth.json")
    return path


@pytest.fixture(scope="module")
def results(world):
    con = ibis.duckdb.connect(str(world), read_only=True)
    try:
        yield monthly.compute(con)
    finally:
        con.disconnect()


def _by_code(results):
    return {r.code: r for r in results}


def test_every_section_runs_on_the_demo(results):
    assert [r.code for r in results] == list(monthly.SECTIONS)
    assert all(r.ok for r in results), [(r.code, r.skip) for r in results if not r.ok]
    m = section_metrics(results)
    assert m["period"] == "2026-10" and m["skipped_sections"] == []
    # 期末 = 期初 + 增员 − 脱落; rates within their bounds
    assert m["headcount_end"] == m["headcount_start"] + m["recruits"] - m["exits"]
    assert 0 < m["active_rate"] <= 1.5 and 0 <= m["qualified_rate"] <= m["active_rate"]
    assert 0.4 < m["persistency_first"] <= 1 and 0.2 < m["persistency_second"] <= 1
    assert m["persistency_months"] == [13, 25]
    assert m["fyc_attainment"] > 0 and m["time_elapsed"] == 1.0


def test_sections_agree_with_the_model(world, results):
    con = ibis.duckdb.connect(str(world), read_only=True)
    try:
        f = am.figures(con, [am.months_between(*am.data_window(con))[-1]]).iloc[0]
    finally:
        con.disconnect()
    r = _by_code(results)
    assert r["production"].values["fyp"]["current"] == f.fyp
    assert r["manpower"].headcount_avg == f.headcount_avg
    assert r["activity"].active == f.active


def test_both_languages_render_every_section(results):
    for lang in ("zh", "en"):
        p = Presenter(monthly.REPORT, texts=monthly_text.TEXTS, lang=lang)
        html = "".join(shown_html(p, r) for r in results)
        assert "{" not in html.replace("{}", "")
        assert ("万元" in html) == (lang == "zh")
        assert len(p.tables) == sum(len(r.tables) for r in results)


def test_grace_variant_and_threshold(world):
    con = ibis.duckdb.connect(str(world), read_only=True)
    try:
        scope = monthly.prepare(con, AgencyMonthlyParams.of(grace=True, active_threshold="1万"))
        p = monthly.persistency(scope)
        a = monthly.activity(scope)
        base = monthly.activity(monthly.prepare(con))
    finally:
        con.disconnect()
    assert p.months == (14, 26) and p.metrics()["persistency_months"] == [14, 26]
    assert a.threshold == 10000.0 and a.qualified <= base.qualified and a.active == base.active


def _copy_without(world, tmp_path, drop):
    path = tmp_path / "part.duckdb"
    shutil.copyfile(world, path)
    db = duckdb.connect(str(path))
    for t in drop:
        db.execute(f"DROP TABLE {t}")
    db.close()
    return path


def test_a_store_without_the_optional_tables_skips_those_parts(world, tmp_path):
    path = _copy_without(world, tmp_path, ["agent_month", "agency_targets", "premium_receipts"])
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        res = _by_code(monthly.compute(con))
    finally:
        con.disconnect()
    skipped = {c: (r.skip.code.value, dict(r.skip.details)) for c, r in res.items() if not r.ok}
    assert skipped == {"persistency": ("missing_table", {"table": "premium_receipts"}),
                       "attainment": ("missing_table", {"table": "agency_targets"}),
                       "off_plan": ("missing_table", {"table": "agency_targets"}),
                       "inputs": ("missing_table", {"table": "agent_month"})}
    h = res["headline"]
    assert h.ok and math.isnan(h.persistency) and math.isnan(h.fyc_attainment)
    m = section_metrics(res.values())
    assert m["skipped_sections"] == ["persistency", "attainment", "off_plan", "inputs"]
    for lang in ("zh", "en"):  # the skips render as one visible note each
        p = Presenter(monthly.REPORT, texts=monthly_text.TEXTS, lang=lang)
        assert "agency_targets" in "".join(shown_html(p, r) for r in res.values())


def test_no_policies_or_a_bad_month_or_branch_are_one_line_errors(world, tmp_path):
    con = ibis.duckdb.connect(str(world), read_only=True)
    try:
        with pytest.raises(ParameterError, match=r"^The 'month' parameter of agency_monthly must be a month inside"):
            monthly.prepare(con, AgencyMonthlyParams.of(month="2019-01"))
        with pytest.raises(ParameterError, match=r"^The 'branch' parameter of agency_monthly must be a branch"):
            monthly.prepare(con, AgencyMonthlyParams.of(branch="西城营业部"))
        assert monthly.prepare(con, AgencyMonthlyParams.of(branch=agency_demo.BRANCH, month="last-1")).label == "2026-09"
    finally:
        con.disconnect()
    path = _copy_without(world, tmp_path, ["policies"])
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(MissingTableError, match="policies"):
            monthly.prepare(con)
    finally:
        con.disconnect()


def test_the_exported_and_ingested_world_gives_the_same_metrics(world, results, tmp_path):
    files = tmp_path / "files"
    demo_export.export_agency(world, files)
    back = tmp_path / "back.duckdb"
    for f in demo_export.AGENCY_LAYOUT:
        res = ingest_file(f.table, files / f.name, store=str(back))
        assert res.quarantined == 0, res.summary()
    con = ibis.duckdb.connect(str(back), read_only=True)
    try:
        again = section_metrics(monthly.compute(con))
    finally:
        con.disconnect()
    first = section_metrics(results)
    assert again.keys() == first.keys()
    for k, v in first.items():
        if isinstance(v, float):
            assert (v is None and again[k] is None) or again[k] == pytest.approx(v, rel=1e-12, nan_ok=True), k
        else:
            assert again[k] == v, k


def test_parameters_are_checked_against_the_store_before_any_kernel(world, tmp_path):
    from analysis.params import REPORTS
    from analysis.reports.params import prepare_parameters

    spec = REPORTS["agency_monthly"]
    m = prepare_parameters(spec, ["month=last-2", f"branch={agency_demo.BRANCH}"], store=str(world), check_store=True)
    assert m.month == "2026-08" and m.branch == agency_demo.BRANCH
    with pytest.raises(ParameterError, match=r"^No branch matches '西城' .*branches: 城东营业部"):
        prepare_parameters(spec, ["branch=西城"], store=str(world), check_store=True)
    with pytest.raises(ParameterError, match=r"^The 'month' parameter of agency_monthly must be a month inside"):
        prepare_parameters(spec, ["month=2019-05"], store=str(world), check_store=True)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).execute("CREATE TABLE agents (agent_id VARCHAR)").close()
    with pytest.raises(ParameterError, match=r"must be a store with the agency tables"):
        prepare_parameters(spec, [], store=str(empty), check_store=True)

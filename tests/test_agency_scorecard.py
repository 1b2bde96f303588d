"""The agency scorecard and target plan against a hand-worked world, the agency reports on stores
missing a table, and the agency meeting plan.

The world (branch BR; teams T1, T2; scored month March 2026; the scheme below: activity over 3
months, persistency over 3 cohorts):

    agent  team  hired       recruiter   Jan FYP/FYC   Feb FYP/FYC   Mar FYP/FYC
    A1     T1    2024-01-10  —           —             1000 / 300    6000 / 1800
    A2     T1    2025-01-15  —           1000 / 200    —             2000 / 500
    A3     T2    2024-06-01  —           —             3000 / 900    —
    A4     T2    2026-03-16  A3          (no FYC target: not scored at the agent level)
    A5     T1    2026-03-02  A1          —             —             —            (part-month 30/31)

13-month cohorts (regular premium): Q3 A3 2025-01 5,000 paid 2026-01-10 (by Jan's end ✓); Q2 A2
2025-02 4,000 paid 2026-03-20 (after Feb's end ✗); Q1 A1 2025-03 10,000 paid 2026-03-05 ✓; Q4 A1
2025-03 single premium (left out). March targets: agents FYC A1 2,000, A2 1,000, A3 1,000,
A5 500; recruits A1 1; teams FYC T1 3,000, T2 1,000; recruits T1 1, T2 2.
"""
from __future__ import annotations

import datetime as dt
import math
import shutil

import duckdb
import ibis
import pandas as pd
import pytest

from analysis.agency import monthly, plan, retention, scorecard
from analysis.contracts import ibis_schema
from analysis.errors import MissingTableError, ParameterError
from analysis.meeting import agency as agency_pack
from analysis.params import (AgencyMonthlyParams, AgencyScorecardParams, AgencyTargetPlanParams,
                             AgentRetentionParams)
from analysis.present import Presenter
from analysis.scheme import load_scheme
from analysis.sections import section_metrics
from present_helpers import shown_html

D = dt.date
AGENTS = [
    ("A1", "甲", "T1", "BR", D(2024, 1, 10), None, None, "业务员", None, None),
    ("A2", "乙", "T1", "BR", D(2025, 1, 15), None, None, "业务员", None, "A1"),
    ("A3", "丙", "T2", "BR", D(2024, 6, 1), None, None, "业务员", None, None),
    ("A4", "丁", "T2", "BR", D(2026, 3, 16), None, None, "业务员", "A3", "A3"),
    ("A5", "戊", "T1", "BR", D(2026, 3, 2), None, None, "业务员", "A1", "A1"),
]
POLICIES = [
    ("P1", "A1", D(2026, 3, 2), "年金", "regular", 6000.0, 1800.0, "in_force", None),
    ("P2", "A2", D(2026, 3, 20), "重疾", "regular", 2000.0, 500.0, "in_force", None),
    ("P3", "A1", D(2026, 2, 10), "意外", "regular", 1000.0, 300.0, "in_force", None),
    ("P4", "A3", D(2026, 2, 12), "年金", "regular", 3000.0, 900.0, "in_force", None),
    ("P5", "A2", D(2026, 1, 20), "意外", "regular", 1000.0, 200.0, "in_force", None),
    ("Q1", "A1", D(2025, 3, 10), "年金", "regular", 10000.0, 0.0, "in_force", None),
    ("Q2", "A2", D(2025, 2, 10), "重疾", "regular", 4000.0, 0.0, "in_force", None),
    ("Q3", "A3", D(2025, 1, 15), "年金", "regular", 5000.0, 0.0, "in_force", None),
    ("Q4", "A1", D(2025, 3, 20), "两全", "single", 20000.0, 0.0, "in_force", None),
]
RECEIPTS = [
    ("Q1", 2, D(2026, 3, 10), 10000.0, 10000.0, D(2026, 3, 5)),
    ("Q2", 2, D(2026, 2, 10), 4000.0, 4000.0, D(2026, 3, 20)),
    ("Q3", 2, D(2026, 1, 15), 5000.0, 5000.0, D(2026, 1, 10)),
]
MAR = D(2026, 3, 1)
TARGETS = [
    (MAR, "agent", "A1", "fyc", 2000.0), (MAR, "agent", "A2", "fyc", 1000.0), (MAR, "agent", "A3", "fyc", 1000.0),
    (MAR, "agent", "A5", "fyc", 500.0), (MAR, "agent", "A1", "recruits", 1.0),
    (MAR, "team", "T1", "fyc", 3000.0), (MAR, "team", "T2", "fyc", 1000.0),
    (MAR, "team", "T1", "recruits", 1.0), (MAR, "team", "T2", "recruits", 2.0),
]
SCHEME = """name: test
profile: agency
activity_months: 3
persistency_months: 3
indicators:
  fyc_attainment: {weight: 40, rule: {kind: linear, floor: 0.0, target: 1.0}}
  active_rate: {weight: 20, rule: {kind: linear, floor: 0.0, target: 1.0}}
  recruit_attainment: {weight: 20, rule: {kind: threshold, level: 1.0}}
  persistency: {weight: 20, rule: {kind: linear, floor: 0.0, target: 1.0}}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("agency_scorecard")
    path = d / "w.duckdb"
    con = ibis.duckdb.connect(str(path))
    for name, rows in (("agents", AGENTS), ("policies", POLICIES), ("premium_receipts", RECEIPTS),
                       ("agency_targets", TARGETS)):
        sch = ibis_schema(name)
        con.create_table(name, ibis.memtable(pd.DataFrame(rows, columns=list(sch.names)), schema=sch))
    con.disconnect()
    scheme = d / "scheme.yml"
    scheme.write_text(SCHEME, encoding="utf-8")
    return path, str(scheme)


def _copy_without(path, tmp_path, drop):
    out = tmp_path / "part.duckdb"
    shutil.copyfile(path, out)
    db = duckdb.connect(str(out))
    for t in drop:
        db.execute(f"DROP TABLE {t}")
    db.close()
    return out


def _scope(path, **kw):
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        return scorecard.prepare(con, AgencyScorecardParams.of(month="2026-03", **kw))
    finally:
        con.disconnect()


@pytest.fixture(scope="module")
def con(world):
    """One read-only connection to the world, shared by the module's tests."""
    c = ibis.duckdb.connect(str(world[0]), read_only=True)
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def agent_scope(world, con):
    """March 2026 at the agent level under the test scheme (computed once for the module)."""
    return scorecard.prepare(con, AgencyScorecardParams.of(month="2026-03", scheme=world[1]))


@pytest.fixture(scope="module")
def team_scope(world, con):
    """March 2026 at the team level under the test scheme (computed once for the module)."""
    return scorecard.prepare(con, AgencyScorecardParams.of(month="2026-03", scheme=world[1], level="team"))


def test_the_agency_scheme_ships_and_is_checked():
    s = load_scheme("agency")
    assert s.profile == "agency" and sum(s.weights.values()) == 100
    assert set(s.weights) == {"fyc_attainment", "active_rate", "recruit_attainment", "persistency"}
    with pytest.raises(ParameterError, match="profile"):
        AgencyScorecardParams.of(scheme="default")
    with pytest.raises(Exception, match="not known"):
        load_scheme({"indicators": {"fyc_attainment": {"weight": 100, "rule": {"kind": "rank"}}}})


def test_agents_scored_by_hand(agent_scope):
    s = agent_scope.scores.set_index("rep_id")
    assert set(s.index) == {"A1", "A2", "A3", "A5"}           # A4 has no FYC target
    v = s[["fyc_attainment", "active_rate", "recruit_attainment", "persistency"]]
    assert v.loc["A1"].tolist() == pytest.approx([0.9, 2 / 3, 1.0, 1.0])
    assert v.loc["A2", "fyc_attainment"] == 0.5 and v.loc["A2", "active_rate"] == pytest.approx(2 / 3)
    assert math.isnan(v.loc["A2", "recruit_attainment"]) and v.loc["A2", "persistency"] == 0.0
    assert v.loc["A3"].fillna(-1).tolist() == pytest.approx([0.0, 1 / 3, -1, 1.0])
    assert v.loc["A5", "active_rate"] == 0.0 and math.isnan(v.loc["A5", "persistency"])
    assert s.loc["A1", "total"] == pytest.approx(36 + 40 / 3 + 20 + 20)
    assert s.loc["A2", "total"] == pytest.approx(20 + 40 / 3)
    assert s.loc["A3", "total"] == pytest.approx(20 / 3 + 20)
    assert [s.loc[a, "rank"] for a in ("A1", "A2", "A3")] == [1, 2, 3]
    assert [s.loc[a, "rank_region"] for a in ("A1", "A2", "A3")] == [1, 2, 1]
    assert bool(s.loc["A5", "part_month"]) and pd.isna(s.loc["A5", "rank"])
    assert s.loc["A5", "employed_share"] == pytest.approx(30 / 31)


def test_teams_scored_by_hand(team_scope):
    sc = team_scope
    s = sc.scores.set_index("rep_id")
    assert s.loc["T1", ["fyc_attainment", "active_rate", "recruit_attainment", "persistency"]].tolist() == \
        pytest.approx([2300 / 3000, 4 / 6.5, 1.0, 10000 / 14000])
    assert s.loc["T2", ["fyc_attainment", "active_rate", "recruit_attainment", "persistency"]].tolist() == \
        pytest.approx([0.0, 1 / 3.5, 0.5, 1.0])
    assert s.loc["T1", "total"] == pytest.approx(40 * 2300 / 3000 + 20 * 4 / 6.5 + 20 + 20 * 10 / 14)
    assert s.loc["T2", "total"] == pytest.approx(20 / 3.5 + 20)
    assert (s.loc["T1", "rank"], s.loc["T2", "rank"]) == (1, 2)
    b = scorecard.branch_values(sc).set_index("indicator")["team_value"]
    assert b["fyc_attainment"] == pytest.approx(2300 / 4000) and b["persistency"] == pytest.approx(15000 / 19000)
    res = [scorecard.headline(sc), scorecard.scores(sc), scorecard.indicators(sc)]
    for lang in ("zh", "en"):
        html = "".join(shown_html(Presenter(scorecard.REPORT, lang=lang), r) for r in res)
        assert "T1" in html
    assert section_metrics(res)["leader"] == "T1"


def test_a_store_without_receipts_or_targets_skips_those_indicators(world, tmp_path):
    path, scheme = world
    s = _scope(_copy_without(path, tmp_path, ["premium_receipts", "agency_targets"]), scheme=scheme)
    assert {k: v.code.value for k, v in s.skips.items()} == {
        "persistency": "missing_table", "fyc_attainment": "missing_table", "recruit_attainment": "missing_table"}
    assert s.skips["persistency"].details == {"table": "premium_receipts"}
    assert s.scores.attrs["weights"] == {"active_rate": 100.0}          # the rest renormalised
    assert set(s.scores["rep_id"]) == {"A1", "A2", "A3", "A4", "A5"}    # without targets: everyone in force
    assert "persistency" not in s.scores.attrs["weights"]


@pytest.mark.parametrize("drop", ["agents", "policies"])
def test_every_agency_report_names_a_missing_required_table(world, tmp_path, drop):
    path = _copy_without(world[0], tmp_path, [drop])
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        for prep, params in ((monthly.prepare, AgencyMonthlyParams.of(month="2026-03")),
                             (scorecard.prepare, AgencyScorecardParams.of(month="2026-03")),
                             (plan.prepare, AgencyTargetPlanParams.of(month="2026-04")),
                             (retention.prepare, AgentRetentionParams.of())):
            with pytest.raises(MissingTableError, match=drop):
                prep(con, params)
    finally:
        con.disconnect()


def test_prepare_takes_the_validated_model(con):
    for prep in (monthly.prepare, scorecard.prepare, plan.prepare, retention.prepare):
        with pytest.raises(ParameterError, match="must be a"):
            prep(con, {"month": "2026-03"})


def test_the_plan_by_hand(con):
    """April 2026, FYC 10,000 (unit 100), last 12 months: A1 2,100, A2 700, A3 900, A5 new (0).
    A5 gets ½ × T1's average share (2800/3700 ÷ 3); T1 = 8400/11100 of 10,000 → 7,600 (largest
    remainder), T2 2,400; in T1 A1 : A2 : A5 = 5250 : 1750 : 1400 → 4,700, 1,600, 1,300."""
    s = plan.prepare(con, AgencyTargetPlanParams.of(month="2026-04", method="last_12", total_fyc=10000,
                                                    total_fyp=20000))
    t = s.teams[s.teams["measure"] == "fyc"].set_index("team")["plan"]
    assert t.to_dict() == {"T1": 7600.0, "T2": 2400.0}
    a = s.agents[s.agents["measure"] == "fyc"].set_index("agent_id")
    assert a["plan"].to_dict() == {"A1": 4700.0, "A2": 1600.0, "A3": 2400.0, "A5": 1300.0}
    assert a.loc["A5", "new"] and not a.loc["A1", "new"]
    # no sales in Jan–Mar: a 0 average, not a blank; April 2025: 0 for A1 (hired), blank for A5 (not yet)
    assert a.loc["A5", "last_3_avg"] == 0.0 and a.loc["A1", "last_3_avg"] == pytest.approx(2100 / 3)
    assert a.loc["A1", "last_year"] == 0.0 and math.isnan(a.loc["A5", "last_year"])
    assert s.totals["fyc"] == (10000.0, "parameter")
    tg = s.targets
    for m in ("fyc", "fyp"):   # every level sums exactly to the one above
        assert tg[(tg.level == "team") & (tg.measure == m)]["value"].sum() == \
            tg[(tg.level == "branch") & (tg.measure == m)]["value"].sum()
        assert tg[(tg.level == "agent") & (tg.measure == m)]["value"].sum() == \
            tg[(tg.level == "team") & (tg.measure == m)]["value"].sum()
    res = [plan.overview(s), plan.teams(s), plan.agents(s)]
    for lang in ("zh", "en"):
        assert "A1" in "".join(shown_html(Presenter(plan.REPORT, lang=lang), r) for r in res)


def test_the_agency_meeting_plan(con):
    assert agency_pack.detect_profile(con) == "agency"
    specs, missing = agency_pack.plan(con, "2026-03")
    assert agency_pack.agency_month(con, "last") == "2026-02"
    assert [(s.part, s.report) for s in specs] == [
        ("summary", "agency_monthly"), ("scorecard", "agency_scorecard"), ("target_plan", "agency_target_plan"),
        ("retention", "agent_retention")] and missing == []
    assert specs[1].params == {"month": "2026-03", "level": "team"} and specs[2].params == {"month": "2026-04"}
    assert "retention" not in [s.part for s in agency_pack.plan(None, "2026-02")[0]]


def test_the_scorecard_and_plan_parameters_are_checked_against_the_store(world):
    """Before any kernel: the month inside the policies' window, a plan month with history, the branch."""
    from analysis.params import REPORTS
    from analysis.reports.params import prepare_parameters

    def check(report, *params):
        return prepare_parameters(REPORTS[report], list(params), store=str(world[0]), check_store=True)

    assert check("agency_scorecard", "month=last-1", f"scheme={world[1]}").month == "2026-01"  # last: 2026-02
    assert check("agency_target_plan", "month=current").month == "2026-03"
    with pytest.raises(ParameterError, match=r"^The 'month' parameter of agency_scorecard must be a month inside "
                                             r"the data \(2025-01 … 2026-03\)\. Got '2024-12' instead\.$"):
        check("agency_scorecard", "month=2024-12", f"scheme={world[1]}")
    with pytest.raises(ParameterError, match=r"^The 'month' parameter of agency_target_plan must be a month after"):
        check("agency_target_plan", "month=2025-01")
    with pytest.raises(ParameterError, match=r"^No branch matches 'XX' in the agents table of agency_target_plan's "
                                             r"store; branches: BR\.$"):
        check("agency_target_plan", "branch=XX")

"""analysis.agency.retention (agent retention, 新人留存) and analysis.agency.panel on a hand-made
agency store (every figure worked out below), against lifelines, and on the agency demo world:
the planted effects are recovered, and worlds without effects find nothing beyond the nominal
rate."""
from __future__ import annotations

import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd
import pytest

from analysis.agency import panel as ap
from analysis.agency import retention as ar
from analysis.errors import ParameterError
from analysis.params import AgentRetentionParams
from analysis.sections import section_metrics
from analysis.stats import survival

DPM = 365.25 / 12
T = pd.Timestamp

AGENTS = pd.DataFrame([
    # agent_id, hire, exit (first day out), reason, recruiter, team
    ("A1", "2023-06-01", None, None, None, "甲组"),          # hired before the data; a recruiter
    ("A2", "2024-01-15", "2024-04-10", "voluntary", "A1", "甲组"),
    ("A3", "2024-02-01", None, None, "A1", "甲组"),
    ("A4", "2024-02-20", "2024-03-01", "voluntary", "A3", "乙组"),
    ("A5", "2024-03-10", "2024-10-05", "involuntary", "A2", "乙组"),
    ("A6", "2024-05-01", None, None, None, "乙组"),          # a direct hire
    ("A7", "2023-12-20", "2024-02-15", "voluntary", "A1", "甲组"),  # hired before the data
], columns=["agent_id", "hire_date", "exit_date", "exit_reason", "recruiter_id", "team"])


def _agents() -> pd.DataFrame:
    a = AGENTS.copy()
    a["hire_date"] = pd.to_datetime(a["hire_date"]).dt.date
    a["exit_date"] = pd.to_datetime(a["exit_date"]).dt.date
    return a.assign(name=a["agent_id"], branch="城东营业部", rank="业务员", manager_id="A1")


def _policies() -> pd.DataFrame:
    rows = [("P1", "A1", "2024-01-05", 3000.0), ("P2", "A5", "2024-03-20", 1000.0), ("P3", "A5", "2024-04-15", 2000.0),
            ("P4", "A5", "2024-05-05", 4000.0), ("P5", "A5", "2024-06-10", 8000.0), ("P6", "A3", "2024-02-10", 500.0),
            ("P7", "A1", "2024-12-31", 3000.0)]
    p = pd.DataFrame(rows, columns=["policy_id", "agent_id", "issue_date", "fyc"])
    p["issue_date"] = pd.to_datetime(p["issue_date"]).dt.date
    return p.assign(product="康宁重疾", premium_type="regular", fyp=p["fyc"] * 3, status="in_force",
                    lapse_date=pd.Series([None] * len(p), dtype="datetime64[s]"))


def _agent_month() -> pd.DataFrame:
    """A5: leads = the month's number, allowance = 100 × it; everyone else 1 lead, 50 yuan."""
    rows = []
    for m in pd.date_range("2024-01-01", "2024-12-01", freq="MS"):
        for a in AGENTS.itertuples():
            hire, out = T(a.hire_date), T(a.exit_date) if a.exit_date else T("2099-01-01")
            if hire < m + pd.offsets.MonthBegin(1) and out > m:
                five = a.agent_id == "A5"
                rows.append((a.agent_id, m.date(), m.month if five else 1, 100.0 * m.month if five else 50.0,
                             2.0, 1, 20))
    return pd.DataFrame(rows, columns=["agent_id", "month", "leads_given", "allowance", "training_hours",
                                       "activities_attended", "attendance_days"])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("agency") / "a.duckdb"
    con = ibis.duckdb.connect(str(path))
    con.create_table("agents", _agents())
    con.create_table("policies", _policies())
    con.create_table("agent_month", _agent_month())
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """The same store without agent_month."""
    path = tmp_path_factory.mktemp("agency_bare") / "b.duckdb"
    con = ibis.duckdb.connect(str(path))
    con.create_table("agents", _agents())
    con.create_table("policies", _policies())
    yield con
    con.disconnect()


# ------------------------------------------------------------------ cohorts by hand
def test_retention_by_cohort_by_hand(store):
    scope = ar.prepare(store, AgentRetentionParams.of(min_group_size=1), n_boot=10)
    # the new agents: hired 2024-01-01 … as_of (the last policy day, 2024-12-31); A1 and A7 are not
    assert sorted(scope.agents["agent_id"]) == ["A2", "A3", "A4", "A5", "A6"]
    t = scope.cohort_table[0].set_index("cohort")
    # 3 months after the hire day: A2 (2024-04-15) had left on 04-10; A4 had left; A3, A5 (06-10,
    # out on 10-05), A6 in force. 6 months: A5 still in force on 09-10. 13 months: nobody yet.
    assert t.loc["2024Q1", ["hires", "observed_3m", "retained_3m"]].tolist() == [4, 4, 2]
    assert t.loc["2024Q1", "retention_3m"] == pytest.approx(0.5)
    assert t.loc["2024Q1", "retention_6m"] == pytest.approx(0.5)
    assert t.loc["2024Q2", ["hires", "retained_3m", "retained_6m"]].tolist() == [1, 1, 1]
    assert t.loc["total", "retention_3m"] == pytest.approx(3 / 5)
    assert t.loc["total", "observed_13m"] == 0 and math.isnan(t.loc["total", "retention_13m"])
    m = ar.cohort_retention(scope).metrics()
    assert m["retention"]["3m"]["rate"] == pytest.approx(0.6) and m["retention"]["13m"]["rate"] is None
    assert m["retention_by_cohort"]["2024Q1"]["3m"] == pytest.approx(0.5)
    # grains
    assert ar.cohort_label(pd.Series(pd.to_datetime(["2024-03-31"])), "month").tolist() == ["2024-03"]
    assert ar.cohort_label(pd.Series(pd.to_datetime(["2024-03-31"])), "year").tolist() == ["2024"]
    with pytest.raises(ParameterError, match="'grain' parameter of cohort_label"):
        ar.cohort_label(pd.Series(pd.to_datetime(["2024-03-31"])), "week")


def test_small_cohorts_are_hidden(store):
    scope = ar.prepare(store, AgentRetentionParams.of(min_group_size=2), n_boot=10)
    t = scope.cohort_table[0].set_index("cohort")
    assert pd.isna(t.loc["2024Q2", "hires"]) and t.loc["total", "hires"] == 5
    assert scope.suppressed_cells >= 1


def test_km_by_cohort_equals_lifelines(store):
    from lifelines import KaplanMeierFitter

    scope = ar.prepare(store, AgentRetentionParams.of(min_group_size=1, curve_cohort="year"), n_boot=10)
    curves, med, _ = scope.cohort_curves
    a = scope.agents
    end = T("2025-01-01")  # as_of + 1 day: the first day not observed
    dur = (a["exit_date"].fillna(end) - a["hire_date"]).dt.days / DPM
    ref = KaplanMeierFitter().fit(dur, a["exit_date"].notna())
    km = curves["2024"]
    t = km.table["time"]
    np.testing.assert_allclose(km.table["survival"], ref.survival_function_.iloc[:, 0].loc[t], atol=1e-9)
    np.testing.assert_allclose(km.table["lo"], ref.confidence_interval_.iloc[:, 0].loc[t], atol=1e-6)
    assert med.set_index("tier").loc["2024", "people"] == 5


# ------------------------------------------------------------------ the panel by hand
def test_panel_by_hand(store):
    p = ap.build_panel(store)
    assert p.attrs["data_start"] == dt.date(2024, 1, 1) and p.attrs["as_of"] == dt.date(2024, 12, 31)
    a5 = p[p["agent_id"] == "A5"].set_index("period")
    # March (hire month, month 1) to October (the last day in force, 10-04)
    assert a5.index.min() == T("2024-03-01") and a5.index.max() == T("2024-10-01")
    assert a5["tenure_month"].tolist() == list(range(1, 9))
    assert a5.loc[T("2024-03-01"), "start"] == pytest.approx(9 / 31)  # entered on the 10th
    assert a5.loc[T("2024-03-01"), "stop"] == pytest.approx(1.0)
    assert a5.loc[T("2024-10-01"), "start"] == pytest.approx(7.0)
    assert a5.loc[T("2024-10-01"), "stop"] == pytest.approx(7 + 4 / 31)  # out on the 5th
    assert a5["event"].tolist() == [False] * 7 + [True]
    # leads allocated at the month's start: the month's own; allowance: the previous month's (0 in
    # the hire month of an agent hired within the data)
    assert a5["leads_given"].tolist() == [3, 4, 5, 6, 7, 8, 9, 10]
    assert a5["allowance"].tolist() == [0.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0]
    # the recruiter A2 (hired 2024-01-15) left on 2024-04-10: known from May's start
    assert a5["recruiter_exited"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert a5["recruiter_tenure"].iloc[0] == pytest.approx(56 / DPM)
    # early production: FYC of tenure months 1-3 (March, April, May) issued before the month
    early = [0, 1000, 3000, 7000, 7000, 7000, 7000, 7000]
    np.testing.assert_allclose(a5["early_fyc"], np.log1p(np.array(early) / 1000))
    # a direct hire: no recruiter to lose
    a6 = p[p["agent_id"] == "A6"]
    assert (a6["direct_hire"] == 1).all() and (a6["recruiter_exited"] == 0).all()
    # an agent hired before the data: early production unknown, and its first data month has no
    # previous month
    a1 = p[p["agent_id"] == "A1"].set_index("period")
    assert a1["early_fyc"].isna().all() and math.isnan(a1.loc[T("2024-01-01"), "allowance"])
    # consecutive rows join: a row's start is the previous row's stop
    prev = p.groupby("agent_id")["stop"].shift(1)
    ok = prev.notna()
    np.testing.assert_allclose(p.loc[ok, "start"], prev[ok])
    # the incentive analysis: new agents only
    data, _ = ar.load(store, {"min_group_size": 1})
    assert set(data.panel["agent_id"]) == {"A2", "A3", "A4", "A5", "A6"}


def test_a_store_without_agent_month_skips_those_features_with_codes(bare):
    data, _ = ar.load(bare, {"min_group_size": 1})
    assert data.features == ["recruiter_tenure", "recruiter_exited"]
    codes = [(n.code, dict(n.values)) for n in data.notes]
    assert ("no_agent_month", {}) in codes
    for f in ("leads_given", "allowance", "training_hours", "activities_attended"):
        assert ("missing_feature", {"name": f}) in codes
    m = section_metrics(ar.sections(ar.prepare(bare, AgentRetentionParams.of(min_group_size=1), n_boot=10)))
    assert m["features"] == ["recruiter_tenure", "recruiter_exited"]
    assert {"code": "no_agent_month", "values": {}} in m["notes"]
    assert m["retention"]["3m"]["observed"] == 5


def test_notes_render_in_every_language(store):
    from analysis.present import render

    scope = ar.prepare(store, AgentRetentionParams.of(min_group_size=1), n_boot=10)
    for res in ar.sections(scope):
        for lang in ("zh", "en"):
            render(res, lang)


# ------------------------------------------------------------------ the demo world
@pytest.fixture(scope="module")
def demo_con():
    from analysis.agency import demo

    w = demo.simulate(seed=42, scale=1.0)
    con = ibis.duckdb.connect()
    for name in ("agents", "policies", "agent_month"):
        con.create_table(name, obj=demo._to_arrow(name, w["tables"][name]))
    return con, w["truth"]


def test_cox_equals_lifelines_on_the_panel(demo_con):
    from lifelines import CoxPHFitter

    con, _ = demo_con
    data, _ = ar.load(con, {})
    covs = ["leads_given", "recruiter_exited", "early_fyc", "allowance"]
    p = data.panel
    ours = survival.cox_ph(p, covs, duration_col="stop", event_col="event", entry_col="start", check_ph=False)
    d = p[["start", "stop", "event"] + covs].dropna().assign(event=lambda x: x["event"].astype(int))
    cph = CoxPHFitter().fit(d, duration_col="stop", event_col="event", entry_col="start")
    mine = ours.table.set_index("term").loc[covs]
    np.testing.assert_allclose(mine["coef"], cph.params_.reindex(covs), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mine["p"], cph.summary["p"].reindex(covs), rtol=1e-3, atol=1e-8)


def test_the_planted_effects_are_recovered(demo_con):
    con, truth = demo_con
    scope = ar.prepare(con, AgentRetentionParams.of(), n_boot=10)
    hr = scope.effects.hazard_ratios()
    planted = truth["hazard_ratios"]
    leads = planted["leads_given"]["hr_per_unit"]
    assert hr["leads_given"]["lo"] <= leads <= hr["leads_given"]["hi"]
    assert hr["recruiter_exited"]["lo"] <= planted["recruiter_exited"]["hr"] <= hr["recruiter_exited"]["hi"]
    sig = scope.family.significant_features
    assert "leads_given" in sig and "recruiter_exited" in sig
    assert not set(sig) & set(truth["no_effect"])
    # the 13-month retention of the hiring years the truth record gives (the agents whose 13 months
    # are observed); the curve gives the same where every hire of the year is observed
    by_year = ar.retention_table(scope.agents, scope.data.as_of, "year").set_index("cohort")
    km = ar.cohort_curves(scope).metrics()["km_by_cohort"]
    for year, r in truth["retention_13m_by_hire_year"].items():
        assert by_year.loc[year, "observed_13m"] == r["hires"]
        assert by_year.loc[year, "retention_13m"] == pytest.approx(r["retention_13m"], abs=1e-4)
        if by_year.loc[year, "observed_13m"] == by_year.loc[year, "hires"]:
            assert km[year]["13m"] == pytest.approx(r["retention_13m"], abs=1e-4)


NULL_WORLDS = 20
NULL_SCALE = 0.2


def test_worlds_without_effects_find_nothing_beyond_the_nominal_rate():
    """In null worlds (no incentive affects leaving) the share of worlds where the report calls any
    feature significant stays within the family-wise rate (α = 0.05, which Benjamini–Hochberg
    gives when every hypothesis is true) plus sampling error: with 20 worlds, P(X ≥ 4) < 0.016
    under Binomial(20, 0.05)."""
    from analysis.agency import demo

    claims = 0
    for seed in range(NULL_WORLDS):
        w = demo.simulate(seed=1000 + seed, scale=NULL_SCALE, null=True)
        con = ibis.duckdb.connect()
        for name in ("agents", "policies", "agent_month"):
            con.create_table(name, obj=demo._to_arrow(name, w["tables"][name]))
        data, agents = ar.load(con, {})
        scope = ar.Scope(data, agents=agents)
        claims += bool(scope.family.significant_features)
        con.disconnect()
    assert claims <= 3, f"{claims} of {NULL_WORLDS} null worlds made a claim"

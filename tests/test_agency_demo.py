"""The agency demo world: deterministic, the tables of the contracts, realistic drop-out, the planted
effect of leads on leaving (and none in the null world), and the CLI's --profile switch."""
from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from analysis.agency import demo
from analysis.contracts import AGENCY_TABLES, spec
from analysis.errors import ParameterError


@pytest.fixture(scope="module")
def worlds():
    return {null: demo.simulate(seed=5, null=null) for null in (False, True)}


def _agent_months(world):
    """Agent months with whether the agent left in the month."""
    t = world["tables"]
    a = t["agents"].set_index("agent_id")
    am = t["agent_month"].copy()
    ex = pd.to_datetime(am["agent_id"].map(a["exit_date"]))
    am["left"] = ex.notna() & (ex.dt.to_period("M").dt.to_timestamp() == pd.to_datetime(am["month"]))
    return am


def test_same_seed_same_world():
    a, b = demo.simulate(seed=3, scale=0.2), demo.simulate(seed=3, scale=0.2)
    for name in demo.TABLE_ORDER:
        pd.testing.assert_frame_equal(a["tables"][name], b["tables"][name])
    assert a["truth"] == b["truth"]
    c = demo.simulate(seed=4, scale=0.2)
    assert not a["tables"]["policies"].equals(c["tables"]["policies"])


def test_tables_follow_the_contracts(worlds):
    t = worlds[False]["tables"]
    assert set(t) == set(AGENCY_TABLES)
    for name, df in t.items():
        assert list(df.columns) == spec(name).names, name
    p = t["policies"]
    assert set(p["premium_type"]) == {"regular", "single"}
    assert set(p["status"]) <= {"in_force", "lapsed", "surrendered", "cancelled"}
    assert (p.loc[p["status"] == "cancelled", "fyp"] == 0).all()
    assert p["agent_id"].isin(t["agents"]["agent_id"]).all()
    r = t["premium_receipts"]
    assert set(r["policy_year"]) == {2, 3} and r["policy_id"].isin(p["policy_id"]).all()
    assert (r["amount_received"] <= r["amount_due"]).all()


def test_a_branch_of_about_300_with_a_recruiting_tree(worlds):
    t = worlds[False]["tables"]
    a = t["agents"]
    end = pd.Timestamp("2026-10-31").date()
    in_force = a[(a["hire_date"] <= end) & a["exit_date"].map(lambda d: d is None or pd.isna(d) or d > end)]
    assert 240 <= len(in_force) <= 360
    assert 4 <= a["team"].nunique() <= 8
    has = a["recruiter_id"].notna()
    assert 0.6 < has.mean() < 0.95 and a.loc[has, "recruiter_id"].isin(a["agent_id"]).all()
    assert set(a["rank"]) <= set(demo.RANKS) and len(t["agents_history"]) > 0


@pytest.mark.parametrize("null", [False, True])
def test_thirteen_month_retention_near_30_percent(worlds, null):
    ret = worlds[null]["truth"]["retention_13m_by_hire_year"]
    hires = sum(v["hires"] for v in ret.values())
    pooled = sum(v["hires"] * v["retention_13m"] for v in ret.values()) / hires
    assert hires > 200 and 0.2 < pooled < 0.42


def test_leads_lower_leaving_and_the_null_world_has_no_effect(worlds):
    """Agent months with more leads than the median: far fewer exits in the planted world (HR 0.6 per 3
    leads); about as many in the null world."""
    ratio = {}
    for null, w in worlds.items():
        am = _agent_months(w)
        hi = am["leads_given"] > am["leads_given"].median()
        ratio[null] = am.loc[hi, "left"].mean() / am.loc[~hi, "left"].mean()
    assert ratio[False] < 0.6
    assert 0.75 < ratio[True] < 1.4
    truth = worlds[True]["truth"]["hazard_ratios"]
    assert truth["leads_given"]["hr_per_unit"] == 1.0 and truth["recruiter_exited"]["hr"] == 1.0
    assert truth["early_fyp"]["hr_per_unit"] == 1.0
    planted = worlds[False]["truth"]["hazard_ratios"]
    assert planted["recruiter_exited"]["hr"] == 2.0 and planted["leads_given"]["hr_per_design_sd"] == 0.6


def test_calendar_drift_in_both_worlds(worlds):
    for w in worlds.values():
        am = w["tables"]["agent_month"]
        year = pd.to_datetime(am["month"]).dt.year
        new = am[am["allowance"] > 0]
        assert new.groupby(year.loc[new.index])["allowance"].max().is_monotonic_increasing
        assert am.groupby(year)["training_hours"].mean().iloc[-1] > am.groupby(year)["training_hours"].mean().iloc[0]


def test_build_keeps_the_other_tables_and_writes_the_truth(tmp_path):
    path = tmp_path / "w.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE orders AS SELECT DATE '2026-01-05' AS order_date, 10.0 AS amount")
    db.close()
    out = demo.build(store=str(path), seed=1, scale=0.1)
    assert out["profile"] == "agency" and (tmp_path / "agency_truth.json").is_file()
    db = duckdb.connect(str(path), read_only=True)
    names = {r[0] for r in db.execute("SHOW TABLES").fetchall()}
    db.close()
    assert {"orders", *AGENCY_TABLES} <= names
    truth = json.loads((tmp_path / "agency_truth.json").read_text(encoding="utf-8"))
    assert truth["profile"] == "agency" and truth["scale"] == 0.1


@pytest.mark.parametrize("kw", [{"seed": -1}, {"scale": 0}, {"end": "2026-10-30"}, {"end": "x"}])
def test_bad_parameters(tmp_path, kw):
    with pytest.raises(ParameterError, match=r"^The '\w+' parameter of build must be"):
        demo.build(store=str(tmp_path / "w.duckdb"), **kw)


def test_cli_profile(tmp_path):
    store = tmp_path / "a.duckdb"
    r = subprocess.run([sys.executable, "-m", "analysis", "demo", "--profile", "agency", "--scale", "0.1", "--null",
                        "--store", str(store)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "profile: agency" in r.stdout and "null: True" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "analysis", "demo", "--profile", "bank", "--store", str(store)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "The 'profile' parameter of demo must be one of tobacco, agency" in bad.stderr

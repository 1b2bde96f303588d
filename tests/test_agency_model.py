"""The agency model against a hand-worked world: five agents, a dozen policies, every number by hand.

The world (branch BR, teams T1 and T2; the report month is March 2026: s = 03-01, e = 03-31,
the day before s = 02-28):

    agent  team  hired       exit        recruiter
    A1     T1    2024-01-10  —           —
    A2     T1    2025-01-15  2026-03-15  A1
    A3     T2    2026-03-05  —           A1
    A4     T2    2025-01-20  2026-03-01  A2      (exit on the 1st: out on March 1, in on Feb 28)
    A5     T2    2024-06-01  2026-01-31  —       (out on Jan 31: not in February's 期初)

March:  期初 (in force 02-28) = A1, A2, A4 = 3;  期末 (03-31) = A1, A3 = 2;  平均 = 2.5
        增员 = A3 = 1 (增员率 1/3);  脱落 = A2, A4 = 2 (脱落率 2/3);  3 + 1 − 2 = 2 ✓
        T1: 期初 A1, A2 = 2, 期末 A1 = 1, 增员 0, 脱落 1 (A2);  T2: 期初 A4 = 1, 期末 A3 = 1, 增员 1, 脱落 1
February: 期初 (01-31) = A1, A2, A4 = 3 (A5 left on 01-31);  期末 (02-28) = 3;  增员 0, 脱落 0
"""
from __future__ import annotations

import datetime as dt
import math

import ibis
import pandas as pd
import pytest

from analysis.agency import model as am
from analysis.contracts import ibis_schema
from analysis.errors import MissingTableError, ParameterError

D = dt.date
MAR, FEB, APR = D(2026, 3, 1), D(2026, 2, 1), D(2026, 4, 1)

AGENTS = [
    # agent_id, name, team, branch, hire, exit, exit_reason, rank, recruiter, manager
    ("A1", "甲", "T1", "BR", D(2024, 1, 10), None, None, "业务经理", None, None),
    ("A2", "乙", "T1", "BR", D(2025, 1, 15), D(2026, 3, 15), "voluntary", "业务员", "A1", "A1"),
    ("A3", "丙", "T2", "BR", D(2026, 3, 5), None, None, "业务员", "A1", "A1"),
    ("A4", "丁", "T2", "BR", D(2025, 1, 20), D(2026, 3, 1), "involuntary", "业务员", "A2", "A1"),
    ("A5", "戊", "T2", "BR", D(2024, 6, 1), D(2026, 1, 31), "voluntary", "业务员", None, "A1"),
]
POLICIES = [
    # policy_id, agent_id, issue_date, product, premium_type, fyp, fyc, status, lapse_date
    # March 2026: A1 56,000 (P1 + P2), A2 3,000, A3 0 (cancelled in the free-look period)
    ("P1", "A1", D(2026, 3, 2), "年金", "regular", 6000.0, 1800.0, "in_force", None),
    ("P2", "A1", D(2026, 3, 20), "两全", "single", 50000.0, 1500.0, "in_force", None),
    ("P3", "A2", D(2026, 3, 10), "重疾", "regular", 3000.0, 900.0, "in_force", None),
    ("P4", "A3", D(2026, 3, 25), "重疾", "regular", 0.0, 0.0, "cancelled", None),
    # February 2026: an agent the agents table does not know (team: unattributed)
    ("P5", "A9", D(2026, 2, 15), "意外", "regular", 1000.0, 250.0, "in_force", None),
    # the 13/14-month cohort: March 2025
    ("Q1", "A4", D(2025, 3, 10), "年金", "regular", 10000.0, 3000.0, "in_force", None),
    ("Q2", "A1", D(2025, 3, 15), "年金", "regular", 6000.0, 1800.0, "in_force", None),
    ("Q3", "A1", D(2025, 3, 20), "两全", "single", 40000.0, 1200.0, "in_force", None),
    ("Q4", "A4", D(2025, 3, 25), "重疾", "regular", 4000.0, 1600.0, "lapsed", D(2026, 5, 24)),
    ("Q5", "A1", D(2025, 3, 28), "重疾", "regular", 0.0, 0.0, "cancelled", None),
    # the 25/26-month cohort: March 2024
    ("R1", "A1", D(2024, 3, 5), "年金", "regular", 8000.0, 2400.0, "in_force", None),
    ("R2", "A1", D(2024, 3, 18), "重疾", "regular", 2000.0, 800.0, "in_force", None),
]
RECEIPTS = [
    # policy_id, policy_year, due_date, amount_due, amount_received, received_date
    ("Q1", 2, D(2026, 3, 10), 10000.0, 10000.0, D(2026, 3, 5)),
    ("Q2", 2, D(2026, 3, 15), 6000.0, 6000.0, D(2026, 4, 20)),   # late, within the grace period
    ("Q4", 2, D(2026, 3, 25), 4000.0, 0.0, None),                 # never paid
    ("R1", 2, D(2025, 3, 5), 8000.0, 8000.0, D(2025, 3, 1)),
    ("R2", 2, D(2025, 3, 18), 2000.0, 2000.0, D(2025, 3, 18)),
    ("R1", 3, D(2026, 3, 5), 8000.0, 8000.0, D(2026, 3, 4)),
    ("R2", 3, D(2026, 3, 18), 2000.0, 2000.0, D(2026, 4, 10)),
]
AGENT_MONTH = [
    ("A1", MAR, 20, 0.0, 5, 2.0, 1),
    ("A2", MAR, 10, 1000.0, 3, 4.0, 2),
    ("A3", MAR, 8, 2000.0, 7, 12.0, 0),
]
TARGETS = [
    (MAR, "branch", "BR", "fyc", 6000.0), (MAR, "branch", "BR", "fyp", 50000.0), (MAR, "branch", "BR", "recruits", 2.0),
    (MAR, "team", "T1", "fyc", 3000.0), (MAR, "team", "T2", "fyc", 2000.0),
    (MAR, "agent", "A1", "fyc", 2000.0), (MAR, "agent", "A3", "fyc", 1000.0),
]


def _table(name, rows):
    sch = ibis_schema(name)
    df = pd.DataFrame(rows, columns=list(sch.names))
    return ibis.memtable(df, schema=sch)


@pytest.fixture(scope="module")
def con():
    c = ibis.duckdb.connect()
    for name, rows in (("agents", AGENTS), ("policies", POLICIES), ("premium_receipts", RECEIPTS),
                       ("agent_month", AGENT_MONTH), ("agency_targets", TARGETS)):
        c.create_table(name, _table(name, rows))
    return c


def row(df, month, key="all"):
    r = df[(df["month"] == month) & (df["key"] == key)]
    assert len(r) == 1, (month, key, df)
    return r.iloc[0]


# ---- manpower --------------------------------------------------------------------------------------
def test_branch_manpower_by_hand(con):
    f = am.figures(con, [FEB, MAR])
    m = row(f, MAR)
    assert (m.headcount_start, m.headcount_end, m.headcount_avg) == (3, 2, 2.5)
    assert (m.recruits, m.exits) == (1, 2)
    assert m.recruit_rate == pytest.approx(1 / 3) and m.exit_rate == pytest.approx(2 / 3)
    assert m.headcount_end == m.headcount_start + m.recruits - m.exits
    f2 = row(f, FEB)
    assert (f2.headcount_start, f2.headcount_end, f2.recruits, f2.exits) == (3, 3, 0, 0)


def test_team_manpower_by_hand(con):
    f = am.figures(con, [MAR], level="team")
    t1, t2 = row(f, MAR, "T1"), row(f, MAR, "T2")
    assert (t1.headcount_start, t1.headcount_end, t1.recruits, t1.exits) == (2, 1, 0, 1)
    assert (t2.headcount_start, t2.headcount_end, t2.recruits, t2.exits) == (1, 1, 1, 1)


# ---- production ------------------------------------------------------------------------------------
def test_branch_production_by_hand(con):
    """March: FYP 6,000 + 50,000 + 3,000 + 0 = 59,000; FYC 1,800 + 1,500 + 900 = 4,200; 件数 3 (P4 was
    cancelled); 活动 A1, A2 = 2 (A3's only policy was cancelled: FYP 0); 实动 (≥ 5,000) A1 = 1."""
    m = row(am.figures(con, [MAR]), MAR)
    assert (m.fyp, m.fyc, m.policies, m.active, m.qualified) == (59000.0, 4200.0, 3, 2, 1)
    assert m.active_rate == pytest.approx(2 / 2.5)          # 0.8
    assert m.qualified_rate == pytest.approx(1 / 2.5)       # 0.4
    assert m.avg_premium == pytest.approx(59000 / 3)        # 件均 19,666.67
    assert m.fyc_per_head == pytest.approx(4200 / 2.5)      # 人均FYC 1,680
    assert m.fyp_per_active == pytest.approx(59000 / 2)     # 人均产能 29,500


def test_threshold_is_a_parameter(con):
    # at 3,000: A1 (56,000) and A2 (3,000, the bound included)
    assert row(am.figures(con, [MAR], threshold=3000), MAR).qualified == 2


def test_team_production_and_undefined_rates(con):
    f = am.figures(con, [MAR], level="team")
    t1, t2 = row(f, MAR, "T1"), row(f, MAR, "T2")
    assert (t1.fyp, t1.fyc, t1.policies, t1.active) == (59000.0, 4200.0, 3, 2)
    assert t1.active_rate == pytest.approx(2 / 1.5)  # A2 sold, then left: 活动人力 counts any FYP in the month
    assert (t2.fyp, t2.policies, t2.active) == (0.0, 0, 0)
    assert t2.active_rate == 0.0
    assert math.isnan(t2.avg_premium) and math.isnan(t2.fyp_per_active)  # no policy, no active agent


def test_unknown_agent_counts_for_the_branch_and_is_unattributed_by_team(con):
    b = row(am.figures(con, [FEB]), FEB)
    assert (b.fyp, b.fyc, b.policies, b.active) == (1000.0, 250.0, 1, 1)
    u = row(am.figures(con, [FEB], level="team"), FEB, am.UNATTRIBUTED)
    assert (u.fyp, u.headcount_start, u.headcount_end) == (1000.0, 0, 0)
    assert math.isnan(u.active_rate)


def test_agent_level(con):
    f = am.figures(con, [MAR], level="agent")
    assert row(f, MAR, "A1").fyp == 56000.0 and row(f, MAR, "A1").fyc == 3300.0
    assert row(f, MAR, "A3").recruits == 1 and row(f, MAR, "A3").policies == 0


# ---- persistency -----------------------------------------------------------------------------------
def test_persistency_13_and_14_by_hand(con):
    """Cohort March 2025, regular premium and not cancelled: Q1 10,000 + Q2 6,000 + Q4 4,000 = 20,000
    (Q3 is single premium, Q5 cancelled). 13 months (report month 2026-03): received by 03-31 is Q1's
    10,000 → 0.5. 14 months (2026-04): Q2's 6,000 came on 04-20 → 16,000 / 20,000 = 0.8."""
    p13 = row(am.persistency(con, [MAR], 13), MAR)
    assert (p13.cohort, p13.base, p13.received) == (D(2025, 3, 1), 20000.0, 10000.0)
    assert p13.rate == pytest.approx(0.5)
    p14 = row(am.persistency(con, [APR], 14), APR)
    assert (p14.cohort, p14.base, p14.received) == (D(2025, 3, 1), 20000.0, 16000.0)
    assert p14.rate == pytest.approx(0.8)


def test_persistency_by_team(con):
    """T2 (A4): Q1 + Q4 = 14,000, received 10,000 → 5/7; T1 (A1): Q2 6,000, nothing by 03-31 → 0."""
    p = am.persistency(con, [MAR], 13, level="team")
    assert row(p, MAR, "T2").rate == pytest.approx(10000 / 14000)
    assert row(p, MAR, "T1").rate == 0.0


def test_persistency_25_and_26_by_hand(con):
    """Cohort March 2024: R1 8,000 + R2 2,000 = 10,000; 3rd-year premium by 2026-03-31: R1's 8,000
    → 0.8; by 2026-04-30 also R2's 2,000 → 1.0."""
    assert row(am.persistency(con, [MAR], 25), MAR).rate == pytest.approx(0.8)
    assert row(am.persistency(con, [APR], 26), APR).rate == pytest.approx(1.0)


def test_persistency_without_a_cohort_has_no_row(con):
    assert am.persistency(con, [D(2026, 2, 1)], 13).empty  # nothing was issued in February 2025


def test_persistency_k_is_checked(con):
    with pytest.raises(ParameterError, match=r"^The 'k' parameter of persistency must be one of"):
        am.persistency(con, [MAR], 12)


# ---- attainment ------------------------------------------------------------------------------------
def test_attainment_by_hand(con):
    a = am.attainment(con, [MAR], last_day=D(2026, 3, 31))
    got = {r.measure: (r.actual, r.target, r.attainment) for r in a.itertuples()}
    assert got["fyc"] == (4200.0, 6000.0, pytest.approx(0.7))
    assert got["fyp"] == (59000.0, 50000.0, pytest.approx(1.18))
    assert got["recruits"] == (1.0, 2.0, pytest.approx(0.5))
    assert set(a["elapsed"]) == {1.0}
    t = am.attainment(con, [MAR], level="team", last_day=D(2026, 3, 31)).set_index("key")
    assert t.loc["T1", "attainment"] == pytest.approx(1.4) and t.loc["T2", "gap"] == -2000.0
    ag = am.attainment(con, [MAR], level="agent", last_day=D(2026, 3, 31)).set_index("key")
    assert ag.loc["A1", "attainment"] == pytest.approx(3300 / 2000) and ag.loc["A3", "attainment"] == 0.0


def test_time_elapsed(con):
    a = am.attainment(con, [MAR], last_day=D(2026, 3, 15))
    assert a["elapsed"].tolist() == pytest.approx([15 / 31] * len(a))
    assert am.elapsed(MAR, D(2026, 2, 20)) == 0.0


# ---- the recruiting tree ---------------------------------------------------------------------------
def test_recruiting_tree_by_hand(con):
    """On March 2026 (window 2025-04-01 … 2026-03-31): A1 recruited A2 (2025-01-15, left 03-15) and A3
    (2026-03-05): 2 recruits, 1 recent (A3), 1 in force (A3); A2 is 13 months in on 2026-02-15 and was
    still there → retained 1 of 1; the recruits' FYC in the window: A2's 900 + A3's 0. A2 recruited A4
    (2025-01-20, left 2026-03-01, after its 13th month on 02-20): 1 of 1 retained; A4's policies (March
    2025) lie before the window → 0."""
    r = am.recruiting(con, MAR).set_index("recruiter_id")
    a1 = r.loc["A1"]
    assert (a1.recruits, a1.recruits_recent, a1.recruits_in_force, a1.eligible_13, a1.retained_13) == (2, 1, 1, 1, 1)
    assert (a1.recruits_fyc, a1.recruits_fyp, bool(a1.in_force)) == (900.0, 3000.0, True)
    a2 = r.loc["A2"]
    assert (a2.recruits, a2.recruits_in_force, a2.retention_13, a2.recruits_fyc, bool(a2.in_force)) == \
        (1, 0, 1.0, 0.0, False)
    assert set(r.index) == {"A1", "A2"}


# ---- inputs ----------------------------------------------------------------------------------------
def test_agent_month_summary_by_hand(con):
    s = am.agent_month_summary(con, [MAR]).iloc[0]
    assert s.agents == 3 and s.allowance == 3000.0
    assert s.attendance_days == pytest.approx(38 / 3) and s.leads_given == pytest.approx(5.0)
    assert s.training_hours == pytest.approx(6.0) and s.activities_attended == pytest.approx(1.0)


def test_missing_tables_are_one_line_errors():
    c = ibis.duckdb.connect()
    c.create_table("agents", _table("agents", AGENTS))
    with pytest.raises(MissingTableError, match="policies"):
        am.data_window(c)
    c.create_table("policies", _table("policies", POLICIES))
    with pytest.raises(MissingTableError, match="premium_receipts"):
        am.persistency(c, [MAR], 13)
    with pytest.raises(ParameterError, match=r"^The 'level' parameter of manpower must be one of"):
        am.manpower(c, [MAR], level="region")


def test_data_window(con):
    assert am.data_window(con) == (D(2024, 3, 5), D(2026, 3, 25))


# ---- invariants ------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from analysis.periods import month_end  # noqa: E402

_day = st.integers(0, 400).map(lambda k: D(2025, 6, 1) + dt.timedelta(days=k))


@st.composite
def _staff(draw):
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        hire = draw(_day)
        gap = draw(st.one_of(st.none(), st.integers(1, 300)))
        exit_ = None if gap is None else hire + dt.timedelta(days=gap)
        rows.append((f"X{i}", None, draw(st.sampled_from(["T1", "T2"])), "BR", hire, exit_, None, None, None, None))
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_staff())
def test_headcount_identity_and_teams_sum_to_the_branch(rows):
    """For any staff: 期末 = 期初 + 增员 − 脱落 each month; the teams add up to the branch; and the
    counts equal a plain count of who is in force on the day before the month and on its last day."""
    c = ibis.duckdb.connect()
    c.create_table("agents", _table("agents", rows))
    months = am.months_between(D(2025, 6, 1), D(2026, 6, 1))
    b = am.manpower(c, months)
    t = am.manpower(c, months, level="team")
    assert (b.headcount_end == b.headcount_start + b.recruits - b.exits).all()
    summed = t.groupby("month")[["headcount_start", "headcount_end", "recruits", "exits"]].sum()
    got = b.set_index("month")[["headcount_start", "headcount_end", "recruits", "exits"]]
    pd.testing.assert_frame_equal(summed.reindex(got.index).fillna(0).astype("int64"), got, check_names=False)
    for m in months[:3] + months[-2:]:
        def alive(d):
            return sum(1 for r in rows if r[4] <= d and (r[5] is None or r[5] > d))
        row_ = b[b["month"] == m].iloc[0]
        assert row_.headcount_start == alive(m - dt.timedelta(days=1))
        assert row_.headcount_end == alive(month_end(m))


def test_team_at_the_time_from_the_history():
    """A2 moved from T1 to T2 on 2026-03-12 (the agents table shows today's T2): P3, issued on 03-10,
    is T1's; at the month's end A2 (left on 03-15) belongs to T2 for the headcount. Without the
    history, every figure takes today's team."""
    c = ibis.duckdb.connect()
    agents = [r if r[0] != "A2" else (*r[:2], "T2", *r[3:]) for r in AGENTS]
    c.create_table("agents", _table("agents", agents))
    c.create_table("policies", _table("policies", POLICIES))
    a2 = next(r for r in agents if r[0] == "A2")
    hist = [(*a2[:2], "T1", *a2[3:], None, D(2026, 3, 12)), (*a2[:2], "T2", *a2[3:], D(2026, 3, 12), None)]
    f = am.figures(c, [MAR], level="team")
    assert row(f, MAR, "T2").fyp == 3000.0 and row(f, MAR, "T1").fyp == 56000.0  # today's team: P3 in T2
    c.create_table("agents_history", _table("agents_history", hist))
    f = am.figures(c, [MAR], level="team")
    assert row(f, MAR, "T1").fyp == 59000.0 and row(f, MAR, "T2").fyp == 0.0
    t2 = row(f, MAR, "T2")
    assert (t2.headcount_start, t2.exits) == (2, 2)  # A2 and A4, by the team on 03-31
    assert row(am.figures(c, [MAR]), MAR).fyp == 59000.0  # the branch does not change

"""analysis.retention on a hand-written fixture store (every figure worked out below) and on
the demo world (planted hazard ratios, confounded bonus, snapshot agreement, privacy scan)."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import retention as rt
from analysis.errors import MissingTableError, ParameterError
from analysis.params import IncentiveRetentionParams as Params
from analysis.present import render, text_block
from analysis.sections import section_metrics
from analysis.stats import survival
from present_helpers import shown_html


def _text(items, lang):
    """The text items of a text function as one string in ``lang``."""
    return " ".join(text_block(i, lang).payload if not isinstance(text_block(i, lang).payload, dict)
                    else str(text_block(i, lang).payload) for i in items)

D = dt.date
DPM = 365.25 / 12  # days per month


def _months(rep, a, b):
    """Month starts from month a to month b (inclusive) for one rep."""
    return [(rep, d.date()) for d in pd.date_range(a, b, freq="MS")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Data months 2024-01 … 2024-06 (from compensation); as_of defaults to 2024-06-30.

    R1 hired before the data, promoted (to senior) in Feb; R2 leaves 2024-04-20; R3 leaves
    2024-01-10; R4 hired 2024-03-10; R5 left before the data (out); R6 hired after as_of
    (out); R7 leaves after as_of (counts as staying).
    """
    path = tmp_path_factory.mktemp("ret") / "tiny.duckdb"
    con = ibis.duckdb.connect(str(path))
    reps = pd.DataFrame({
        "rep_id": ["R1", "R2", "R3", "R4", "R5", "R6", "R7"],
        "name": ["甲一", "乙二", "丙三", "丁四", "戊五", "己六", "庚七"],
        "hire_date": [D(2023, 6, 15), D(2024, 2, 1), D(2023, 12, 1), D(2024, 3, 10), D(2022, 1, 1), D(2024, 7, 5),
                      D(2023, 1, 1)],
        "exit_date": [None, D(2024, 4, 20), D(2024, 1, 10), None, D(2023, 12, 15), None, D(2024, 8, 1)],
        "exit_reason": [None, "voluntary", "involuntary", None, "voluntary", None, "voluntary"],
        "region": ["A", "A", "B", "B", "A", "B", "A"],
        "role": ["senior", "am", "am", "am", "am", "am", "senior"],
    })
    reps["hire_date"] = pd.to_datetime(reps["hire_date"]).dt.date
    reps["exit_date"] = pd.to_datetime(reps["exit_date"]).dt.date
    keys = (_months("R1", "2024-01", "2024-06") + _months("R2", "2024-02", "2024-04")
            + _months("R3", "2024-01", "2024-01") + _months("R4", "2024-03", "2024-06")
            + _months("R7", "2024-01", "2024-06"))
    comp = pd.DataFrame(keys, columns=["rep_id", "period"])
    comp["base_pay"] = 4200.0
    comp["individual_bonus"] = 700.0
    comp["team_bonus"] = 300.0
    comp["due_date"] = [D(p.year + (p.month == 12), p.month % 12 + 1, 10) for p in comp["period"]]
    comp["paid_date"] = comp["due_date"]
    comp["training_hours"] = 4.0
    comp["promoted"] = False
    comp["award"] = False
    r1 = comp["rep_id"] == "R1"
    jan = comp["period"] == D(2024, 1, 1)
    comp.loc[r1 & jan, ["individual_bonus", "team_bonus"]] = 0.0            # share 0 when both 0
    comp.loc[r1 & jan, "paid_date"] = D(2024, 2, 15)                         # 5 days late
    comp.loc[r1 & (comp["period"] == D(2024, 3, 1)), "paid_date"] = D(2024, 4, 8)  # early: 0
    comp.loc[r1 & (comp["period"] == D(2024, 2, 1)), "promoted"] = True
    comp.loc[comp["rep_id"] == "R4", ["individual_bonus", "team_bonus"]] = [500.0, 500.0]
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4"], "line_no": [1, 1, 1, 1],
        "order_date": [D(2024, 1, 5), D(2024, 1, 20), D(2024, 2, 3), D(2024, 3, 5)],
        "rep_id": ["R1", "R1", "R1", "R4"], "amount": [900.0, 100.0, 500.0, 300.0], "qty": [1.0, 1.0, 1.0, 1.0],
    })
    targets = pd.DataFrame({
        "period": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 3, 1), D(2024, 1, 1)],
        "level": ["rep", "rep", "rep", "rep", "region"], "key": ["R1", "R1", "R1", "R4", "A"],
        "measure": ["amount"] * 5, "value": [800.0, 1000.0, 1000.0, 600.0, 5000.0],
    })
    for name, df in {"reps": reps, "compensation": comp, "orders": orders, "targets": targets}.items():
        con.create_table(name, df)
    return con


def test_panel_rows_events_and_tenure_by_hand(tiny):
    p = rt.build_panel(tiny)
    assert p.attrs["data_start"] == D(2024, 1, 1) and p.attrs["as_of"] == D(2024, 6, 30)
    assert p.groupby("rep_id").size().to_dict() == {"R1": 6, "R2": 3, "R3": 1, "R4": 4, "R7": 6}
    ev = p[p["event"]]
    assert sorted(zip(ev["rep_id"], ev["period"].dt.month)) == [("R2", 4), ("R3", 1)]
    row = lambda r, m: p[(p["rep_id"] == r) & (p["period"].dt.month == m)].iloc[0]  # noqa: E731
    # R2: hired 1 Feb, left 20 Apr: April runs from day 60 to day 80 (both days counted)
    assert row("R2", 4)["start"] == pytest.approx((D(2024, 4, 1) - D(2024, 2, 1)).days / DPM)
    assert row("R2", 4)["stop"] == pytest.approx(((D(2024, 4, 20) - D(2024, 2, 1)).days + 1) / DPM)
    # R1 entered the data with tenure already: left truncation
    assert row("R1", 1)["start"] == pytest.approx((D(2024, 1, 1) - D(2023, 6, 15)).days / DPM)
    # R4 hired 10 Mar: the first row starts at 0 and ends 31 Mar
    assert row("R4", 3)["start"] == pytest.approx(0.0, abs=1e-12)
    assert row("R4", 3)["stop"] == pytest.approx(22 / DPM)
    # consecutive rows join up
    r1 = p[p["rep_id"] == "R1"]
    np.testing.assert_allclose(r1["start"].to_numpy()[1:], r1["stop"].to_numpy()[:-1])
    # R7 leaves after as_of: no event, runs to as_of
    assert not p.loc[p["rep_id"] == "R7", "event"].any()
    assert p.loc[p["rep_id"] == "R7", "exit_date"].isna().all()


def test_panel_features_by_hand(tiny):
    p = rt.build_panel(tiny).set_index(["rep_id", "period"])
    r1 = p.loc["R1"]
    m = lambda k: pd.Timestamp(2024, k, 1)  # noqa: E731
    assert r1.loc[m(1), "team_bonus_share"] == 0.0         # both bonuses 0
    assert r1.loc[m(2), "team_bonus_share"] == pytest.approx(0.3)
    assert p.loc[("R4", m(3)), "team_bonus_share"] == pytest.approx(0.5)
    assert r1.loc[m(2), "bonus_per_month"] == pytest.approx(1000.0)
    assert r1.loc[m(1), "payout_delay_days"] == 5.0         # paid 15 Feb, due 10 Feb
    assert r1.loc[m(3), "payout_delay_days"] == 0.0         # paid early: max(0, -2)
    assert r1["promoted_last_12m"].tolist() == [0, 1, 1, 1, 1, 1]
    # attainment = orders of the month ÷ rep target of the month
    assert r1.loc[m(1), "attainment"] == pytest.approx(1000 / 800)
    assert r1.loc[m(2), "attainment"] == pytest.approx(500 / 1000)
    assert r1.loc[m(3), "attainment"] == 0.0                # target, no orders
    assert np.isnan(r1.loc[m(4), "attainment"])             # no target
    assert p.loc[("R4", m(3)), "attainment"] == pytest.approx(300 / 600)
    # R1 and R7 were hired before the data and the store has no role history: their role before
    # a promotion in the data is not recorded (reps.role is the role now); R1 holds reps.role
    # from the promotion on. A later promotion never relabels an earlier month.
    assert r1["role"].tolist() == [rt.ROLE_NOT_RECORDED] + ["senior"] * 5
    assert (p.loc["R7", "role"] == rt.ROLE_NOT_RECORDED).all()
    # R2 and R4 were hired inside the data: the entry role (the role of the data's hires)
    assert (p.loc["R2", "role"] == "am").all() and (p.loc["R4", "role"] == "am").all()
    assert "base_pay" not in p.columns and "name" not in p.columns


def test_as_of_and_cohort(tiny):
    p = rt.build_panel(tiny, as_of="2024-03-31")
    assert p["period"].max() == pd.Timestamp(2024, 3, 1)
    assert not p.loc[p["rep_id"] == "R2", "event"].any()   # R2 leaves in April: after as_of
    assert p.loc[p["rep_id"] == "R4", "stop"].max() == pytest.approx(22 / DPM)
    c = rt.build_panel(tiny, cohort_start="2024-01-01")
    assert sorted(c["rep_id"].unique()) == ["R2", "R4"]
    with pytest.raises(ParameterError):
        rt.build_panel(tiny, as_of="not a date")


def test_headline_by_hand(tiny):
    data = rt.load_panel(tiny)
    h = rt.headline(data)
    # window: 2024-01-01 (data start) … 2024-06-30: R1, R2, R3, R4, R7; R2 and R3 left
    assert (h["people"], h["exits"], h["headcount"]) == (5, 2, 3)
    assert h["attrition_rate"] == pytest.approx(2 / 5)
    # first year (tenure < 12 months at exit/as_of): R2 (80 days), R3 (41), R4 (113); R2, R3 left
    assert (h["first_year_people"], h["first_year_exits"]) == (3, 2)
    assert h["first_year_attrition"] == pytest.approx(2 / 3)


def test_snapshot_from_store_agrees_and_round_trips(tiny, tmp_path):
    snap = rt.snapshot_from_store(tiny)
    assert snap["person_id"].tolist() == ["R1", "R2", "R3", "R4", "R7"]
    assert snap.loc[snap["person_id"] == "R2", "tenure"].iloc[0] == pytest.approx(80 / DPM)
    assert snap["left"].tolist() == [False, True, True, False, False]
    assert "name" not in snap.columns and "base_pay" not in snap.columns
    # a file with Yes/No and tenure in years goes through the snapshot path
    f = snap.assign(tenure=snap["tenure"] / 12, left=np.where(snap["left"], "Yes", "No"))
    f = f.rename(columns={"person_id": "EmployeeNumber", "left": "Attrition", "tenure": "YearsAtCompany"})
    f.to_csv(tmp_path / "hr.csv", index=False)
    data = rt.load_snapshot(str(tmp_path / "hr.csv"), tenure_unit="years")
    assert rt.headline(data) == rt.headline(rt.load_panel(tiny))
    assert data.source == "snapshot"


def test_snapshot_features_skipped_with_note_and_store_table(tmp_path):
    con = ibis.duckdb.connect(str(tmp_path / "s.duckdb"))
    rng = np.random.default_rng(1)
    n = 60
    df = pd.DataFrame({
        "person_id": [f"P{i}" for i in range(n)], "tenure": rng.integers(1, 120, n).astype(float),
        "left": rng.random(n) < 0.3, "OverTime": rng.choice(["Yes", "No"], n),
        "JobLevel": rng.integers(1, 4, n), "Department": rng.choice(["Sales", "R&D", "HR"], n, p=[.45, .5, .05]),
    })
    con.create_table("hr_snapshot", df)
    data = rt.load_snapshot(con, tenure_unit="months", features=["OverTime", "team_bonus_share"],
                            controls=["JobLevel", "Department", "region"], min_group_size=5)
    assert data.features == ["OverTime"] and data.controls == ["JobLevel", "Department"]
    notes = [n.as_dict() for n in data.notes]
    assert {"code": "missing_feature", "values": {"name": "team_bonus_share"}} in notes
    assert {"code": "missing_control", "values": {"name": "region"}} in notes
    assert {"code": "snapshot", "values": {}} in notes
    assert set(data.people["OverTime"].unique()) <= {0.0, 1.0}
    h = rt.headline(data)
    assert h["people"] == n and h["exits"] == int(df["left"].sum())
    with pytest.raises(ParameterError):
        rt.load_snapshot(str(tmp_path / "missing.csv"))
    with pytest.raises(MissingTableError):
        rt.load_snapshot(ibis.duckdb.connect())


def test_sections_run_on_tiny_world(tiny):
    data = rt.load_panel(tiny, min_group_size=2)
    tabs = rt.attrition_tables(data)
    reg = tabs.by_region.set_index("region")
    # the headline window (the data's six months): region A holds R1, R2, R7; R2 left
    assert reg.loc["A", "people"] == 3 and reg.loc["A", "exits"] == 1 and reg.loc["A", "headcount"] == 2
    assert reg.loc["A", "attrition_rate"] == pytest.approx(1 / 3)
    # one voluntary and one involuntary leaver: groups of 1 person are below 2, hidden
    assert tabs.by_reason["exits"].isna().all() and tabs.by_reason["share"].isna().all()
    shown = rt.attrition_tables(rt.load_panel(tiny, min_group_size=1)).by_reason
    assert shown.set_index("exit_reason")["exits"].to_dict() == {"voluntary": 1, "involuntary": 1}
    # min_group_size 3: B (2 people) is merged into "other" for the models, still too small,
    # so it is hidden, and A with it (the total row would give it away)
    d3 = rt.load_panel(tiny, min_group_size=3)
    merged = [n for n in d3.notes if n.code == "merged"]
    # region B (2 people) and the roles senior (R1 from February) and am (R2, R4) are below 3;
    # role not recorded (R1 in January, R3, R7) is not
    assert [n.values for n in merged] == [{"control": "region", "levels": 1, "min_group_size": 3},
                                          {"control": "role", "levels": 2, "min_group_size": 3}]
    from analysis.present import note_text

    assert "合并" in note_text(merged[0], "incentive_retention", "zh")
    assert "'Region'" in note_text(merged[0], "incentive_retention", "en")
    big = rt.attrition_tables(d3)
    body = big.by_region.iloc[:-1].set_index("region")
    assert sorted(body.index) == ["A", "other"]
    assert body["people"].isna().all() and body["attrition_rate"].isna().all()
    assert big.by_region.iloc[-1]["people"] == 5 and big.suppressed_cells >= 2
    km = rt.km_overall(data)
    assert km.medians.loc[0, "people"] == 5 and km.medians.loc[0, "exits"] == 2


def test_cards_and_tables_beside_them_state_one_period_and_one_denominator(tiny, tmp_path):
    """issue 21 item 5: the cards and the tables by region and by reason count the same people
    of the same period (attrition = exits ÷ people); the total row is the cards; a note states
    the period in both languages."""
    from analysis.present import note_text

    # the window (twelve months to as_of) is clipped to the data start 2024-01-01:
    # as_of 2024-04-30: window 2024-01-01 … 2024-04-30; R2 (left 2024-04-20) and R3 (2024-01-10) left in it
    scope = rt.prepare(tiny, Params.of(as_of="2024-04-30", min_group_size=1), n_boot=10)
    res = rt.headcount_attrition(scope)
    tables = {t.code: t.frame for t in res.tables}
    assert [t.code for t in res.tables][:2] == ["by_region", "by_reason"]
    total = tables["by_region"].iloc[-1]
    assert total["region"] == rt.TOTAL
    assert (total["people"], total["exits"], total["headcount"]) == (res.people, res.exits, res.headcount)
    assert total["attrition_rate"] == pytest.approx(res.attrition_rate)
    assert tables["by_region"].iloc[:-1]["exits"].sum() == res.exits
    assert tables["by_reason"]["exits"].sum() == res.exits
    assert (res.window_start, res.window_end) == ("2024-01-01", "2024-04-30")
    note = res.notes[0]
    assert note.code == "headline_window"
    assert note.values == {"start": "2024-01-01", "end": "2024-04-30", "months": 4, "people": res.people}
    zh, en = note_text(note, rt.REPORT, "zh"), note_text(note, rt.REPORT, "en")
    assert "2024-01-01" in zh and "2024-04-30" in zh and "2024-01-01" in en
    # a full year of data: twelve months to as_of
    w = rt.headline_window_start(dt.date(2026, 10, 31), dt.date(2020, 1, 1))
    assert w == dt.date(2025, 11, 1)
    # a snapshot: its people
    rt.snapshot_from_store(tiny).to_csv(tmp_path / "hr.csv", index=False)
    snap = rt.load_snapshot(str(tmp_path / "hr.csv"), tenure_unit="months")
    note = rt.report.headline_note(snap, rt.headline(snap)["people"])
    assert note.as_dict() == {"code": "headline_snapshot", "values": {"people": 5}}
    assert "5" in note_text(note, rt.REPORT, "zh")


def test_feature_tiers():
    assert rt.feature_tiers(pd.Series([0.0, 1.0, 1.0]), "promoted_last_12m").tolist() == ["no", "yes", "yes"]
    assert rt.feature_tiers(pd.Series([0.04, 0.149, 0.15, 0.31, 0.45, 0.6]), "team_bonus_share").tolist() == [
        "share_0_10", "share_0_10", "share_20_40", "share_20_40", "share_50_plus", "share_50_plus"]
    assert rt.feature_tiers(pd.Series([0.0, 3.0, 5.0, 12.0]), "payout_delay_days").tolist() == [
        "delay_0_3", "delay_0_3", "delay_4_7", "delay_over_7"]
    # thirds, and the values themselves when there are at most four
    assert rt.feature_tiers(pd.Series(np.arange(9.0)), "training_hours").tolist() == ["low"] * 3 + ["mid"] * 3 + ["high"] * 3
    assert rt.feature_tiers(pd.Series([1.0, 2.0, 3.0]), "JobLevel").tolist() == ["1", "2", "3"]


def test_load_takes_the_model_only(tiny):
    """One prepare contract: the parameters are the report's model (its defaults, not copies)."""
    with pytest.raises(ParameterError, match="The 'source' parameter of incentive_retention"):
        Params.of(source="ftp")
    with pytest.raises(ParameterError, match="must be a IncentiveRetentionParams"):
        rt.load(tiny, {"source": "store"})
    with pytest.raises(ParameterError, match="must be a IncentiveRetentionParams"):
        rt.prepare(tiny, {})


# ------------------------------------------------------------------ the demo world

@pytest.fixture(scope="module")
def demo_data(demo_con):
    return rt.load(demo_con)


@pytest.fixture(scope="module")
def demo_effects(demo_data):
    return rt.adjusted_effects(demo_data)


@pytest.mark.slow
def test_demo_adjusted_hazard_ratios_contain_planted(demo_world, demo_effects):
    truth = demo_world[1]
    hrs = demo_effects.hazard_ratios()
    for feature, planted in truth["hazard_ratios"].items():
        est = hrs[feature]
        assert est["lo"] <= planted <= est["hi"], (feature, planted, est)
    # controls are in the model as dummies against a reference level
    assert any(k.startswith("region[") for k in hrs) and any(k.startswith("role[") for k in hrs)


@pytest.mark.slow
def test_demo_naive_bonus_is_protective_but_not_adjusted(demo_world, demo_data, demo_effects):
    truth = demo_world[1]
    assert truth["confounded"]["feature"] == "bonus_per_month"
    corr = rt.correlations(demo_data).table.set_index("feature")
    naive = corr.loc["bonus_per_month"]
    assert naive["rho"] < 0 and naive["hi"] < 0 and naive["p_adj"] < 0.05  # clearly protective
    raw = demo_effects.raw.set_index("term").loc["bonus_per_month"]
    assert raw["hi"] < 1.0
    adj = demo_effects.hazard_ratios()["bonus_per_month"]
    assert adj["lo"] <= truth["confounded"]["hazard_ratio"] <= adj["hi"]


@pytest.mark.slow
def test_demo_snapshot_path_agrees_with_panel(demo_con, demo_data, tmp_path):
    snap = rt.snapshot_from_store(demo_con)
    path = tmp_path / "snap.parquet"
    snap.to_parquet(path)
    sdata = rt.load_snapshot(str(path), tenure_unit="months")
    h_panel, h_snap = rt.headline(demo_data), rt.headline(sdata)
    for key in ("people", "headcount", "exits", "attrition_rate", "first_year_attrition"):
        assert h_snap[key] == pytest.approx(h_panel[key], rel=1e-12), key
    assert h_panel["exits"] > 30 and h_panel["first_year_people"] > 30
    # headcount at as_of equals the reps employed that day, counted straight from reps
    reps = demo_con.table("reps")
    as_of = demo_data.as_of
    n = reps.filter(reps.hire_date <= as_of, reps.exit_date.isnull() | (reps.exit_date > as_of)).count().execute()
    assert h_panel["headcount"] == n


@pytest.mark.slow
def test_demo_metrics_keys(demo_data, demo_effects):
    m = section_metrics(rt.sections(rt.Scope(demo_data, n_boot=200)))
    for k in ("headcount", "exits", "attrition_rate", "first_year_attrition", "km_median_tenure", "hazard_ratios",
              "correlations", "ph_violations", "suppressed_cells", "period", "data_window"):
        assert k in m
    assert set(m["hazard_ratios"]["payout_delay_days"]) == {"hr", "lo", "hi", "p"}
    assert set(m["correlations"]["team_bonus_share"]) == {"rho", "lo", "hi", "p_adj"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", m["period"])
    json.dumps(m, default=str)


# ------------------------------------------------------------------ notebook and privacy

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_parameters_cell_holds_the_defaults():
    import nbformat

    from analysis.params import IncentiveRetentionParams

    nb = nbformat.read(ROOT / "notebooks" / "incentive_retention.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(cell.source, ns)  # noqa: S102 - our own notebook's parameters cell
    values = {k: v for k, v in ns.items() if not k.startswith("__")}
    assert values == IncentiveRetentionParams().model_dump()


def _html_of_run(store_path: Path, out_dir: Path) -> str:
    import nbformat
    import papermill as pm

    out = out_dir / "out.ipynb"
    env_metrics = out_dir / "metrics.json"
    import os

    os.environ["SALES_ANALYSIS_METRICS"] = str(env_metrics)
    try:
        pm.execute_notebook(str(ROOT / "notebooks" / "incentive_retention.ipynb"), str(out),
                            parameters={"store": str(store_path)}, kernel_name="sales-analysis", cwd=str(ROOT),
                            progress_bar=False)
    finally:
        os.environ.pop("SALES_ANALYSIS_METRICS", None)
    nb = nbformat.read(out, as_version=4)
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error"
            assert o.get("name") != "stderr", o.get("text")
    metrics = json.loads(env_metrics.read_text(encoding="utf-8"))
    try:
        from analysis import reports

        return reports.export_html(nb, "incentive_retention", metrics, metrics.get("parameters", {}))
    except (ImportError, AttributeError):
        from nbconvert import HTMLExporter

        return HTMLExporter(exclude_input=True).from_notebook_node(nb)[0]


@pytest.mark.slow
def test_demo_report_html_has_no_names_or_pay(demo_world, demo_con, tmp_path):
    html = _html_of_run(Path(demo_world[0]), tmp_path)
    assert "incentive" in html or "激励" in html
    reps = demo_con.table("reps").select("name").to_pandas()
    names = sorted(set(reps["name"].dropna()))
    assert len(names) > 100
    found = [n for n in names if n in html]
    assert not found, f"rep names in the HTML: {found[:5]}"
    comp = demo_con.table("compensation").select("base_pay", "individual_bonus", "team_bonus").to_pandas()
    values = set(np.unique(comp.to_numpy().ravel()))
    from analysis.display import fmt

    pats = set()
    for v in values:
        # as a report would print a person's pay: yuan with separators, or with fen; small
        # amounts printed as whole yuan ("538") would collide with any count, so they are
        # looked for with their decimals only
        if v >= 1000:
            pats.add(fmt(v, "money"))
        if v >= 100:
            pats.update({f"{v:.2f}", f"{v:,.2f}"})
    assert len(pats) > 1000
    leaked = _numbers_in(html) & pats
    assert not leaked, f"pay values in the HTML: {sorted(leaked)[:10]}"
    # the scan does catch a pay value written the way a table would show it
    some = max(v for v in values if v >= 1000)
    assert _numbers_in(html + f"<td>{fmt(some, 'money')}</td>") & pats


def _numbers_in(html: str) -> set[str]:
    """Every number written in the page, whole (so "14,200.50" is not read as "4,200");
    embedded images are not text."""
    text = re.sub(r"data:image/[^\"']+", "", html)
    return set(re.findall(r"(?<![\d.,])\d[\d,]*(?:\.\d+)?", text))


def test_charts_hide_small_at_risk_counts(tiny):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import matplotlib.table
    from matplotlib.figure import Figure

    from analysis import charts
    from analysis.charts import retention as ch

    charts.setup()
    data = rt.load_panel(tiny, min_group_size=3)
    overall = rt.km_overall(data)
    fig = ch.km_curves(overall.curves, overall.min_group_size, overall.start, None, "en", tick_step=0.5)
    assert isinstance(fig, Figure)
    table = next(o for o in fig.findobj() if isinstance(o, matplotlib.table.Table))
    texts = [c.get_text().get_text() for (r, k), c in table.get_celld().items() if r > 0 and k >= 0]
    # the curve stops at R3's exit (1.35 months, 3 at risk: R2, R3, R4); under observation at
    # tenure 0, 0.5 and 1.0 are only R2 and R4 (R3 enters at 1.02): shown as "<3"
    assert texts == ["<3", "<3", "<3"]
    plt.close(fig)
    eff_like = pd.DataFrame({"term": ["x"], "adj_hr_sd": [0.8], "adj_lo_sd": [0.6], "adj_hi_sd": [1.1]})
    plt.close(ch.hazard_ratio_forest(eff_like, ["x"], "zh"))
    plt.close(ch.correlation_heatmap(pd.DataFrame([[1, 0.2], [0.2, 1.0]], index=["a", "b"], columns=["a", "b"]), "zh"))
    bands = pd.DataFrame({"band": ["0", "1-7"], "exit_rate": [0.02, 0.05], "ci_low": [0.01, 0.03],
                          "ci_high": [0.04, 0.08]})
    plt.close(ch.dose_response(bands, "payout_delay_days", "en"))
    # the tiers and names on a chart come from the catalogues; a snapshot's own column as it is
    fig = ch.km_curves({"yes": overall.curves["all"], "no": overall.curves["all"]}, 1, 0.0, "OverTime", "zh")
    assert fig.axes[0].get_title() == "OverTime"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["是", "否"]
    plt.close(fig)


def test_narrative_sentences():
    from types import SimpleNamespace as NS

    from analysis.narrative import retention as nr

    sbs = pd.DataFrame({"term": ["bonus_per_month", "payout_delay_days"], "raw_lo": [0.9990, 1.02],
                        "raw_hi": [0.9998, 1.06], "adj_lo": [0.9995, 1.02], "adj_hi": [1.0004, 1.06]})
    hrs = {"bonus_per_month": {"hr": 1.0, "lo": 0.9995, "hi": 1.0004, "p": 0.9},
           "payout_delay_days": {"hr": 1.04, "lo": 1.02, "hi": 1.06, "p": 0.001}}
    eff = NS(hazard_ratios=lambda: hrs, side_by_side=sbs, ph_violations=["region[东县]"])
    head = {"people": 300, "exits": 90, "attrition_rate": 0.3, "first_year_attrition": 0.5}
    res = rt.Summary(head=head, effects=eff, features=["bonus_per_month", "payout_delay_days"],
                     controls=["attainment", "region", "role"])
    items = nr.written_summary(res)
    en = _text(items, "en")
    assert "300 people" in en and "30.0%" in en and "+4.0% (95% CI +2.0% to +6.0%)" in en
    assert "Looked at alone, bonus per month goes with staying" in en
    assert "region 东县" in en and "not proof of cause" in en and "(attainment, region, role)" in en
    zh = _text(items, "zh")
    assert "奖金兑现每晚 1 天" in zh and "不是因果" in zh and "区域“东县”" in zh and "（完成率、区域、岗位）" in zh
    # one call path for every language: the same items, no language in them
    assert "lang" not in repr(items)
    with pytest.raises(ParameterError):
        render(res, "fr", nr.written_summary)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(0, 240, allow_nan=False), st.booleans(), st.sampled_from(["甲区", "乙区"])),
                min_size=1, max_size=40))
def test_snapshot_headline_invariants(rows):
    con = ibis.duckdb.connect()
    df = pd.DataFrame(rows, columns=["tenure", "left", "region"])
    df.insert(0, "person_id", [f"P{i}" for i in range(len(df))])
    con.create_table("hr_snapshot", df)
    data = rt.load_snapshot(con, tenure_unit="months", features=[], controls=["region"], min_group_size=1)
    h = rt.headline(data)
    assert h["headcount"] + h["exits"] == h["people"] == len(df)
    assert 0 <= h["attrition_rate"] <= 1
    assert h["first_year_exits"] <= min(h["exits"], h["first_year_people"])
    assert np.isnan(h["first_year_attrition"]) or 0 <= h["first_year_attrition"] <= 1
    reg = rt.attrition_tables(data).by_region
    body, total = reg.iloc[:-1], reg.iloc[-1]
    assert body["people"].sum() == len(df) and body["exits"].sum() == h["exits"]
    assert (total["people"], total["exits"], total["headcount"]) == (h["people"], h["exits"], h["headcount"])
    assert reg["attrition_rate"].between(0, 1).all()


# ------------------------------------------------------------------ a world where nothing affects leaving

def _null_world(path: Path, seed: int, n_slots: int = 220, n_months: int = 30) -> None:
    """A store in which leaving is a constant monthly hazard, whatever a rep's attainment,
    pay, promotions or training; promotions come with a tenure-dependent chance and do
    nothing; sales stop on the exit day while the month's target is for the whole month."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2023-01-01", periods=n_months, freq="MS")
    reps, comp, orders, targets = [], [], [], []
    occupant = []

    def hire(day):
        rid = f"R{len(reps):04d}"
        reps.append({"rep_id": rid, "hire_date": day, "exit_date": None, "exit_reason": None,
                     "region": rng.choice(["甲区", "乙区", "丙区"]), "role": "am",
                     "level": float(rng.normal(1.0, 0.12)), "share": float(rng.choice([0.1, 0.2, 0.3, 0.4, 0.5])),
                     "pool": float(rng.uniform(1500, 3500)),
                     "promos": []})
        return len(reps) - 1

    for _ in range(n_slots):
        occupant.append(hire((months[0] - pd.Timedelta(days=int(rng.integers(20, 1500)))).date()))
    for m, ms in enumerate(months):
        me = (ms + pd.offsets.MonthEnd(0)).date()
        for s in range(n_slots):
            if occupant[s] is None:
                occupant[s] = hire(ms.date())
            r = occupant[s]
            rep = reps[r]
            tenure = (ms.date() - rep["hire_date"]).days / DPM
            leaves = rng.random() < 0.035  # no covariate has any effect
            exit_day = dt.date(ms.year, ms.month, int(rng.integers(1, me.day + 1))) if leaves else None
            promoted = tenure >= 6 and not rep["promos"] and rng.random() < 0.06
            if promoted:
                rep["promos"].append(m)
            att_plan = float(np.clip(rep["level"] + rng.normal(0, 0.1), 0.5, 1.6))
            order_days = [d for d in (1, 8, 15, 22, 29) if d <= me.day]
            per_order = 1000.0 * att_plan
            sold = 0.0
            for d in order_days:
                day = dt.date(ms.year, ms.month, d)
                if day < rep["hire_date"] or (exit_day and day > exit_day):
                    continue  # sales stop on the exit day
                amt = per_order * float(rng.uniform(0.9, 1.1))
                orders.append({"order_id": f"O{len(orders)}", "line_no": 1, "order_date": day, "rep_id": rep["rep_id"],
                               "amount": amt, "qty": 1.0})
                sold += amt
            targets.append({"period": ms.date(), "level": "rep", "key": rep["rep_id"], "measure": "amount",
                            "value": 1000.0 * len(order_days)})
            bonus = rep["pool"] * (0.5 + 0.5 * sold / (1000.0 * len(order_days)))  # paid on the month's attainment
            due = (ms + pd.offsets.MonthBegin(1)).date().replace(day=10)
            comp.append({"rep_id": rep["rep_id"], "period": ms.date(), "base_pay": 4000.0,
                         "individual_bonus": round(bonus * (1 - rep["share"]), 2), "team_bonus": round(bonus * rep["share"], 2),
                         "due_date": due, "paid_date": due + dt.timedelta(days=int(rng.integers(0, 12))),
                         "training_hours": float(rng.choice([0, 4, 8])), "promoted": bool(promoted),
                         "award": bool(rng.random() < 0.05)})
            if leaves:
                rep["exit_date"], rep["exit_reason"] = exit_day, "voluntary"
                occupant[s] = None
    con = ibis.duckdb.connect(str(path))
    con.create_table("reps", pd.DataFrame(reps).drop(columns=["level", "share", "pool", "promos"]))
    con.create_table("compensation", pd.DataFrame(comp))
    con.create_table("orders", pd.DataFrame(orders))
    con.create_table("targets", pd.DataFrame(targets))
    con.disconnect()


@pytest.fixture(scope="module", params=[3, 17])
def null_con(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("null") / f"null{request.param}.duckdb"
    _null_world(path, request.param)
    con = ibis.duckdb.connect(str(path), read_only=True)
    yield con
    con.disconnect()


NULL_FEATURES = ["team_bonus_share", "payout_delay_days", "promoted_last_12m", "training_hours", "bonus_per_month"]


@pytest.fixture(scope="module")
def null_data(null_con):
    return rt.load_panel(null_con, features=NULL_FEATURES, controls=["attainment", "region"])


def test_exit_month_attainment_does_not_leak_into_the_hazard(null_data):
    p = null_data.panel
    # the mechanics are there: the exit month's own attainment falls (sales stop, target does not)
    assert p.loc[p["event"], "own_month_attainment"].mean() < 0.75 < p.loc[~p["event"], "own_month_attainment"].mean()
    # the model uses the previous month's values, which know nothing of the exit
    assert null_data.panel.attrs["covariate_timing"] == "previous_month"
    eff = rt.adjusted_effects(null_data)
    hrs = eff.hazard_ratios()
    # per 0.1 of attainment and per 100 yuan of bonus: no effect (bounds are ±4.5 SE)
    assert 0.80 < hrs["attainment"]["hr"] ** 0.1 < 1.25, hrs["attainment"]
    assert 0.85 < hrs["bonus_per_month"]["hr"] ** 100 < 1.18, hrs["bonus_per_month"]
    assert eff.covariate_timing == "previous_month" and eff.rows_without_previous_month > 0


def test_promotion_curves_have_no_immortal_time(null_data):
    # "ever promoted" people must stay long to be promoted; counted only from the promotion on
    # (each month in the tier known at its start), the curves do not differ
    c = rt.km_by_feature(null_data, "promoted_last_12m")
    assert c.method == "time-dependent" and c.skip is None and c.code == "curves_promoted_last_12m"
    assert c.logrank.statistic < 15.1  # chi-square(1) beyond 15.1: p < 1e-4
    people = null_data.panel.groupby("rep_id")["promoted_last_12m"].max()
    assert c.medians.set_index("tier").loc["yes", "people"] == int((people > 0).sum())
    # nobody is promoted before 6 months of tenure: both curves start where the promoted tier
    # has enough people at risk, and stop where a tier thins out below the minimum
    assert c.start > 6
    for km in c.curves.values():
        assert km.table["time"].min() > c.start
        assert (km.table["n_at_risk"] >= null_data.min_group_size).all()


def test_known_at_start_by_hand():
    P = pd.Timestamp
    panel = pd.DataFrame({
        "rep_id": ["A"] * 4 + ["B"] * 2,
        "period": [P("2024-01-01"), P("2024-02-01"), P("2024-03-01"), P("2024-04-01"), P("2024-03-01"), P("2024-05-01")],
        "hire_date": [P("2023-05-01")] * 4 + [P("2024-03-05")] * 2,
        "attainment": [1.2, 0.5, 0.9, 0.3, 0.7, 0.8],
        "payout_delay_days": [9.0, 0.0, 3.0, 0.0, 0.0, 0.0],
        "due_date": [P("2024-02-10"), P("2024-03-10"), P("2024-04-10"), P("2024-05-10"), P("2024-04-10"), P("2024-06-10")],
        "paid_date": [P("2024-02-19"), P("2024-03-10"), P("2024-04-13"), P("2024-05-10"), P("2024-04-10"), P("2024-06-10")],
        "role": ["am", "am", "senior", "senior", "am", "am"],
    })
    panel.loc[2, "paid_date"] = P("2024-04-13")
    k = rt.known_at_start(panel)
    a = k[k["rep_id"] == "A"]
    assert a["attainment"].tolist()[1:] == [1.2, 0.5, 0.9] and np.isnan(a["attainment"].iloc[0])
    assert a["own_month_attainment"].tolist() == [1.2, 0.5, 0.9, 0.3]
    # A was hired before the data: January's and February's last due bonus is not in the data;
    # March: January's bonus (due 10 Feb, paid 19 Feb) was 9 days late; April: February's, on time
    d = a["payout_delay_days"].tolist()
    assert np.isnan(d[0]) and np.isnan(d[1]) and d[2:] == [9.0, 0.0]
    assert a["role"].tolist() == ["am", "am", "am", "senior"]  # promoted during March: senior from April
    b = k[k["rep_id"] == "B"]
    # B hired in the data: nothing was due yet (0 known); May does not follow March: no previous month
    assert b["payout_delay_days"].tolist() == [0.0, 0.0] and b["attainment"].isna().all()
    assert b["has_previous_month"].tolist() == [False, False]
    # a bonus still unpaid at the month start counts the days late so far
    late = panel.iloc[:2].assign(paid_date=[P("2024-03-20"), P("2024-03-10")], hire_date=P("2023-12-01"))
    late = pd.concat([late, late.iloc[[1]].assign(period=P("2024-03-01"))], ignore_index=True)
    kk = rt.known_at_start(late)
    d = kk["payout_delay_days"].tolist()  # hired before the data: nothing known in Jan and Feb
    assert np.isnan(d[0]) and np.isnan(d[1]) and d[2] == 20.0  # due 10 Feb, unpaid on 1 Mar: 20 days


def test_family_is_benjamini_hochberg_over_cox_and_logrank(null_data):
    from statsmodels.stats.multitest import multipletests

    scope = rt.Scope(null_data, n_boot=50)
    fam, curves = scope.family, scope.feature_curves
    t = fam.table
    # every claim the report can make: the Cox test of each feature and of attainment (the other
    # controls are not in the family), each one-feature Cox model, each shown curve's log-rank,
    # each correlation, each feature term of the logistic check
    assert rt.claim_terms(null_data) == list(null_data.features) + ["attainment"]
    assert sorted(t.loc[t["test"] == "cox", "term"]) == sorted(rt.claim_terms(null_data))
    assert sorted(t.loc[t["test"] == "cox_raw", "term"]) == sorted(null_data.features)
    assert sorted(t.loc[t["test"] == "logrank", "feature"]) == sorted(c.feature for c in curves if c.ok)
    assert sorted(t.loc[t["test"] == "correlation", "feature"]) == sorted(null_data.features)
    assert set(t.loc[t["test"] == "logistic", "feature"]) <= set(rt.claim_terms(null_data))
    ref = multipletests(t["p"].to_numpy(), alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(t["p_adj"].to_numpy(), ref[1], rtol=1e-12)
    assert fam.significant_features == list(dict.fromkeys(t.loc[ref[0], "feature"]))
    m = section_metrics(rt.sections(rt.Scope(null_data, n_boot=50)))
    assert m["significant_features"] == fam.significant_features
    assert m["multiple_testing"]["method"] == "benjamini-hochberg" and len(m["multiple_testing"]["tests"]) == len(t)
    assert m["covariate_timing"] == "previous_month" and m["cox_fit"]["converged"] is True
    assert all(c["method"] == "time-dependent" for c in m["curves"].values())
    text = json.dumps(m, default=str, allow_nan=False)  # no NaN or inf anywhere
    assert "NaN" not in text


def test_hand_family_adjustment():
    from types import SimpleNamespace as NS

    sv_table = pd.DataFrame({"term": ["a", "b", "ctrl", "c[x]"], "p": [0.01, 0.04, 0.001, 0.03]})
    adjusted = NS(converged=True, table=sv_table)
    eff = NS(adjusted=adjusted)
    curve = NS(feature="a", logrank=NS(p_value=0.2))
    fam = rt.family_of_tests(eff, [curve], ["a", "b", "c"])
    t = fam.table.set_index(["test", "term"])
    # p sorted: 0.01, 0.03, 0.04, 0.2 (m = 4) → p·m/rank: 0.04, 0.06, 0.0533, 0.2; then the
    # running minimum from the largest: 0.04, 0.0533, 0.0533, 0.2
    assert t.loc[("cox", "a"), "p_adj"] == pytest.approx(0.04)
    assert t.loc[("cox", "c[x]"), "p_adj"] == pytest.approx(0.04 * 4 / 3)
    assert t.loc[("cox", "b"), "p_adj"] == pytest.approx(0.04 * 4 / 3)
    assert t.loc[("logrank", "a"), "p_adj"] == pytest.approx(0.2)
    assert ("cox", "ctrl") not in t.index  # controls are not in the family
    assert fam.significant_features == ["a"]  # b (p = 0.04) is not, once adjusted
    # a model that did not converge gives no test
    assert rt.family_of_tests(NS(adjusted=NS(converged=False, table=sv_table)), [], ["a"]).table.empty


def test_snapshot_from_store_features_leave_the_exit_month_out(null_con):
    snap = rt.snapshot_from_store(null_con)
    # sales stop on the exit day: with the exit month in, leavers' mean attainment would drop;
    # and a target month before the window must not count as a month with no sales
    for left in (True, False):
        assert 0.9 < snap.loc[snap["left"] == left, "attainment"].mean() < 1.1


def test_snapshot_path_with_tenure_zero_matches_lifelines(tmp_path):
    """An HR export in whole years (many people with tenure 0): the report's curves, log-rank
    test and Cox model equal lifelines' on the same frame, tenure-0 people included."""
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    rng = np.random.default_rng(21)
    n = 300
    df = pd.DataFrame({
        "EmployeeNumber": np.arange(n), "YearsAtCompany": rng.integers(0, 10, n),
        "Attrition": np.where(rng.random(n) < 0.3, "Yes", "No"), "OverTime": rng.choice(["Yes", "No"], n),
        "JobLevel": rng.integers(1, 4, n),
    })
    df.loc[:40, "YearsAtCompany"] = 0
    df.to_csv(tmp_path / "hr.csv", index=False)
    data = rt.load_snapshot(str(tmp_path / "hr.csv"), features=["OverTime"], controls=["JobLevel"], min_group_size=5)
    months = df["YearsAtCompany"].to_numpy(float) * 12
    left = (df["Attrition"] == "Yes").to_numpy()
    ot = (df["OverTime"] == "Yes").to_numpy(float)
    assert ((months == 0) & left).any()
    km = rt.km_overall(data).curves["all"]
    ref = KaplanMeierFitter().fit(months, left)
    t = km.table["time"]
    np.testing.assert_allclose(km.table["survival"], ref.survival_function_.iloc[:, 0].loc[t], atol=1e-6)
    np.testing.assert_allclose(km.table["lo"], ref.confidence_interval_.iloc[:, 0].loc[t], atol=1e-6)
    c = rt.km_by_feature(data, "OverTime")
    assert c.method == "baseline"
    lr = logrank_test(months[ot == 1], months[ot == 0], left[ot == 1], left[ot == 0])
    assert c.logrank.statistic == pytest.approx(lr.test_statistic, abs=1e-6)
    eff = rt.adjusted_effects(data)
    assert eff.adjusted.n_obs == n  # tenure-0 people are in the model
    frame = pd.DataFrame({"T": months, "E": left, "OverTime": ot, "JobLevel": df["JobLevel"].astype(float)})
    cph = CoxPHFitter().fit(frame, "T", "E").summary
    got = eff.adjusted.table.set_index("term")
    for term in ("OverTime", "JobLevel"):
        assert got.loc[term, "coef"] == pytest.approx(cph.loc[term, "coef"], abs=1e-6)
        assert got.loc[term, "se"] == pytest.approx(cph.loc[term, "se(coef)"], abs=1e-6)
    assert eff.covariate_timing == "baseline"


def test_non_convergence_is_visible_and_metrics_carry_no_nan(tmp_path):
    from analysis.narrative import retention as nr

    rng = np.random.default_rng(2)
    n = 80
    left = rng.random(n) < 0.4
    df = pd.DataFrame({"person_id": range(n), "tenure": rng.integers(1, 60, n), "left": left,
                       "sep": left.astype(float)})  # leaving is perfectly predicted: no finite maximum
    df.to_csv(tmp_path / "hr.csv", index=False)
    data = rt.load_snapshot(str(tmp_path / "hr.csv"), tenure_unit="months", features=["sep"], controls=[])
    eff = rt.adjusted_effects(data)
    assert not eff.converged and eff.hazard_ratios() == {} and eff.hazard_ratios_per_sd() == {}
    scope = rt.Scope(data, n_boot=50)
    m = section_metrics(rt.sections(scope))
    json.dumps(m, allow_nan=False)
    assert m["cox_fit"]["converged"] is False and m["hazard_ratios"] == {}
    # no Cox test enters the family (the log-rank test of the curves still does)
    tests = [t["test"] for t in m["multiple_testing"]["tests"]]
    assert "logrank" in tests and not {"cox", "cox_raw"} & set(tests)
    # the section shows the warning and no estimate; the checks say why they are missing
    sec = rt.effects_section(scope)
    assert sec.ok and sec.tables == [] and sec.figures == []
    assert "did not converge" in _text(nr.adjusted_effects(sec), "en")
    assert "未能收敛" in _text(nr.adjusted_effects(sec), "zh")
    checks = rt.model_checks(scope)
    assert checks.tables == [] and "did not converge" in _text(nr.model_checks(checks), "en")


def test_report_text_names_its_methods(null_data):
    from analysis.narrative import retention as nr

    scope = rt.Scope(null_data, n_boot=50)
    fam = scope.family
    sec = rt.effects_section(scope)
    assert sec.family is not None and len(sec.family.table) == len(fam.table)
    en = _text(nr.adjusted_effects(sec), "en")
    assert "known when the month began" in en and "Benjamini–Hochberg" in en and "Efron" in en
    assert f"{len(fam.table)} tests" in en
    zh = _text(nr.adjusted_effects(sec), "zh")
    assert "月初已知" in zh and "Benjamini–Hochberg" in zh
    c = rt.feature_curves(scope, 0)
    assert c.p_adj == fam.p_adj("logrank", c.feature)
    s = _text(nr.feature_curves(c), "en")
    assert "Mantel–Byar" in s and "adjusted p" in s and "Simon–Makuch" in s
    assert "Simon–Makuch" in _text(nr.feature_curves(c), "zh")
    assert "promoted_last_12m" not in null_data.horizon.columns
    corr = rt.correlation_section(scope)
    # compared within the month, event features are ranked like the others
    assert corr.left_out == [] and "promoted_last_12m" in set(corr.table["feature"])
    assert "same calendar month" in _text(nr.correlations(corr), "en")
    assert "同一自然月" in _text(nr.correlations(corr), "zh")
    checks = rt.model_checks(scope)
    assert "calendar year and tenure band" in _text(nr.model_checks(checks), "en")


def test_logrank_sentence_decides_on_the_adjusted_p():
    from types import SimpleNamespace as NS

    from analysis.narrative import retention as nr

    c = NS(logrank=NS(statistic=5.0, df=1, p_value=0.03), method="time-dependent", start=0.0,
           code="curves_promoted_last_12m", feature="promoted_last_12m", p_adj=None)
    assert _text(nr.feature_curves(c), "en").endswith("the curves differ.")
    c.p_adj = 0.09
    assert _text(nr.feature_curves(c), "en").endswith("no clear difference.")
    assert _text(nr.feature_curves(c), "zh").endswith("未见明确差异。")
    assert "adjusted p = 0.090" in _text(nr.feature_curves(c), "en")


# ------------------------------------------------------------------ one shape, two languages

def _render_all(scope, lang):
    import matplotlib

    matplotlib.use("agg")
    from analysis import charts
    from analysis.narrative import retention as nr
    from analysis.present import Presenter

    charts.setup()

    p = Presenter("incentive_retention", nr.TEXTS, lang)
    html = "".join(shown_html(p, r) for r in rt.sections(scope))
    return p, html


def test_every_section_renders_in_both_languages_from_the_same_results(tiny):
    scope = rt.prepare(tiny, Params.of(min_group_size=2), n_boot=50)
    zh, html_zh = _render_all(scope, "zh")
    en, html_en = _render_all(scope, "en")
    assert [s.code for s in zh.sections] == [s.code for s in en.sections] == [
        "headcount_attrition", "retention_curves", "curves_team_bonus_share", "curves_payout_delay_days",
        "curves_promoted_last_12m", "correlations", "adjusted_effects", "model_checks", "dose_team_bonus_share",
        "dose_payout_delay_days", "written_summary"]
    assert zh.metrics() == en.metrics() == rt.report_metrics(tiny, Params.of(min_group_size=2), n_boot=50)
    assert all(s.isascii() for s in zh.metrics()["skipped_sections"])
    # the total row and the exit reasons are codes in the data, words on the page
    assert "合计" in html_zh and "Total" in html_en and "主动离职" in html_zh and "Voluntary" in html_en
    assert "在岗与流失" in html_zh and "Headcount and attrition" in html_en
    # no language leaks into the other page
    assert "Headcount and attrition" not in html_zh and "在岗与流失" not in html_en


def test_snapshot_sections_skip_with_codes_and_show_its_own_names(tmp_path):
    rng = np.random.default_rng(5)
    n = 80
    df = pd.DataFrame({"person_id": [f"P{i}" for i in range(n)], "tenure": rng.integers(1, 90, n).astype(float),
                       "left": rng.random(n) < 0.35, "OverTime": rng.choice(["Yes", "No"], n)})
    df.to_csv(tmp_path / "hr.csv", index=False)
    scope = rt.prepare(None, Params.of(source="snapshot", snapshot=str(tmp_path / "hr.csv"), tenure_unit="months",
                                       features=["OverTime", "team_bonus_share"], controls=[]), n_boot=50)
    zh, html_zh = _render_all(scope, "zh")
    en, html_en = _render_all(scope, "en")
    m = zh.metrics()
    assert m == en.metrics()
    # a snapshot's own column has its own section code and is shown as it is
    assert [s.code for s in zh.sections][2:5] == ["curves_by_feature", "curves_by_feature", "curves_by_feature"]
    assert m["skipped_sections"] == ["curves_by_feature", "curves_by_feature", "dose_team_bonus_share",
                                     "dose_payout_delay_days"]
    assert [d["reason"] for d in m["skipped_details"]] == ["no_more_features", "no_more_features", "no_feature",
                                                            "no_feature"]
    assert m["skipped_details"][2]["details"] == {"name": "team_bonus_share"}
    assert {"code": "missing_feature", "values": {"name": "team_bonus_share"}} in m["notes"]
    assert "因素：OverTime。" in html_zh and "Factor: OverTime." in html_en
    # the skip note names the feature through its label
    import html as html_lib

    assert "数据中没有因素“团队奖金占比”" in html_zh
    assert "feature 'Team bonus share' is not in the data" in html_lib.unescape(html_en)


# ---------------------------------------------------------------------------------------------
# issue 25: role known at each month's start, panel intervals that join, like with like
# ---------------------------------------------------------------------------------------------
def _role_panel() -> pd.DataFrame:
    """X and Y: hired before the data, role "senior" now, alike up to March; X is promoted (again)
    in March, Y never. Z hired inside the data, promoted in April; W hired inside, never."""
    P = pd.Timestamp
    months = pd.date_range("2024-01-01", "2024-05-01", freq="MS")
    rows = []
    for rep, hire, promo, role in (("X", P("2019-05-01"), P("2024-03-01"), "senior"),
                                   ("Y", P("2019-05-01"), None, "senior"),
                                   ("Z", P("2024-01-01"), P("2024-04-01"), "senior"),
                                   ("W", P("2024-01-01"), None, "am")):
        for m in months:
            rows.append({"rep_id": rep, "period": m, "hire_date": hire, "role": role,
                         "promoted": float(promo is not None and m == promo)})
    return pd.DataFrame(rows)


def test_role_never_relabels_the_past_from_a_later_event():
    """The minimal case of issue 25: a rep senior before the data and promoted again inside it
    has, before that promotion, the role of an identical rep who is not promoted."""
    r = rt.panel._role_history(_role_panel())
    role = {k: g["role"].tolist() for k, g in r.groupby("rep_id")}
    assert role["X"][:2] == role["Y"][:2]           # before X's promotion: alike
    assert role["X"][2:] == ["senior"] * 3          # from the promotion on: the role now
    assert role["Z"] == ["am", "am", "am", "senior", "senior"]  # hired as am (the entry role)
    assert role["W"] == ["am"] * 5
    # with a record of the role (reps_history), X was senior before the data and stays senior
    hist = pd.DataFrame({"rep_id": ["X", "Y", "Z", "Z", "W"], "role": ["senior", "senior", "am", "senior", "am"],
                         "valid_from": [None, None, "2024-01-01", "2024-04-01", "2024-01-01"],
                         "valid_to": [None, None, "2024-04-01", None, None]})
    h = rt.panel._role_history(_role_panel(), hist)
    role = {k: g["role"].tolist() for k, g in h.groupby("rep_id")}
    assert role["X"] == role["Y"] == ["senior"] * 5
    assert role["Z"] == ["am", "am", "am", "senior", "senior"]


def test_build_panel_reads_the_role_history(tiny, tmp_path):
    con = ibis.duckdb.connect(str(tmp_path / "h.duckdb"))
    for name in ("reps", "compensation", "orders", "targets", "customers"):
        if name in tiny.list_tables():
            con.create_table(name, tiny.table(name).to_pandas())
    # a history with a dated change says what each role was; open versions only (what a first reps
    # load writes from today's export) would say nothing of the past and are not read as history
    con.create_table("reps_history", pd.DataFrame({
        "rep_id": ["R1", "R7", "R9", "R9"], "role": ["senior", "senior", "account_manager", "senior"],
        "valid_from": [None, None, None, "2020-01-01"], "valid_to": [None, None, "2020-01-01", None],
    }).astype({"valid_from": "datetime64[s]", "valid_to": "datetime64[s]"}))
    p = rt.build_panel(con).set_index(["rep_id", "period"])
    assert (p.loc["R1", "role"] == "senior").all() and (p.loc["R7", "role"] == "senior").all()
    con.create_table("reps_history", pd.DataFrame({
        "rep_id": ["R1", "R7"], "role": ["senior", "senior"], "valid_from": [None, None], "valid_to": [None, None],
    }).astype({"valid_from": "datetime64[s]", "valid_to": "datetime64[s]"}), overwrite=True)
    assert rt.panel._reps_history(con) is None


def test_panel_intervals_join_exactly(tiny):
    p = rt.build_panel(tiny).sort_values(["rep_id", "period"])
    prev_stop = p.groupby("rep_id")["stop"].shift(1)
    adjacent = p.groupby("rep_id")["period"].shift(1) == p["period"] - pd.offsets.MonthBegin(1)
    assert adjacent.any()
    assert (p.loc[adjacent, "start"] == prev_stop[adjacent]).all()  # equal, not approximately


def test_panel_cox_matches_lifelines(null_data):
    """The adjusted Cox model on the panel equals lifelines' time-varying Cox model (Efron ties)
    on the same rows: with starts a float hair below the previous stop the two differed."""
    from lifelines import CoxTimeVaryingFitter

    p = null_data.panel.sort_values(["rep_id", "period"])
    prev_stop = p.groupby("rep_id")["stop"].shift(1)
    adjacent = p.groupby("rep_id")["period"].shift(1) == p["period"] - pd.offsets.MonthBegin(1)
    assert (p.loc[adjacent, "start"] == prev_stop[adjacent]).all()
    covs = ["team_bonus_share", "payout_delay_days", "attainment"]
    ours = survival.cox_ph(p, covs, duration_col="stop", event_col="event", entry_col="start", check_ph=False)
    d = p[["rep_id", "start", "stop", "event"] + covs].dropna().assign(event=lambda x: x["event"].astype(int))
    ctv = CoxTimeVaryingFitter().fit(d, id_col="rep_id", start_col="start", stop_col="stop", event_col="event")
    theirs = ctv.params_.reindex(covs).to_numpy()
    mine = ours.table.set_index("term").loc[covs, "coef"].to_numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


def _calendar_world(seed: int = 0) -> rt.RetentionData:
    """Person-months where payout delay is set by the calendar year alone (2 days in 2024, 9 in
    2025) and the risk of leaving by the calendar year alone (a market shock in 2025), not by
    the delay: people compared within a month all have the same delay."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    rows = []
    for i in range(300):
        hire = pd.Timestamp("2020-01-01") if i < 200 else months[rng.integers(0, 24)]
        for m in months:
            if m < hire.replace(day=1):
                continue
            p_exit = 0.01 if m.year == 2024 else 0.05
            ev = bool(rng.random() < p_exit)
            start = (m - hire).days / rt.DAYS_PER_MONTH if m > hire else 0.0
            rows.append({"rep_id": f"R{i:03d}", "period": m, "hire_date": hire, "start": start,
                         "stop": start + 1.0, "event": ev, "region": "A", "role": "am", "exit_reason": None,
                         "payout_delay_days": 2.0 if m.year == 2024 else 9.0,
                         "training_hours": float(rng.integers(0, 5) * 4),
                         "exit_date": m + pd.Timedelta(days=10) if ev else pd.NaT})
            if ev:
                break
    panel = pd.DataFrame(rows)
    panel["own_month_payout_delay_days"] = panel["payout_delay_days"]
    panel["own_month_training_hours"] = panel["training_hours"]
    feats = ["payout_delay_days", "training_hours"]
    as_of = dt.date(2025, 12, 31)
    horizon = rt.panel._horizon_frame(panel, 12, feats, [], as_of)
    people = rt.panel._person_level(panel, feats, [])
    return rt.RetentionData(source="store", as_of=as_of, data_start=dt.date(2024, 1, 1), people=people,
                            window=people[["person_id", "tenure", "left"]], horizon=horizon, panel=panel,
                            features=feats, controls=["region"], categorical=["region"], horizon_months=12,
                            min_group_size=5)


def test_correlations_compare_within_the_calendar_month():
    """Delay and leaving both follow the calendar, not each other: a per-person average over
    windows of different dates found a correlation; compared within the month there is none."""
    data = _calendar_world()
    c = rt.correlations(data, n_boot=50)
    t = c.table.set_index("feature")
    assert set(t["method"]) == {"matched_rank"}
    d = t.loc["payout_delay_days"]
    assert d["rho"] == pytest.approx(0.0, abs=1e-12)  # everyone of a month has the same delay
    assert not (d["p_adj"] < 0.05)


def test_logistic_check_compares_within_the_calendar_year():
    data = _calendar_world()
    e = rt.adjusted_effects(data)
    assert e.logistic is not None
    lt = e.logistic.table.set_index("term")
    # the delay is the calendar year itself here: aliased with it, it has no estimate of its own
    assert "payout_delay_days" not in lt.index or not (lt.loc["payout_delay_days", "p"] < 0.05)
    assert any(t.startswith("calendar_year[") for t in lt.index)

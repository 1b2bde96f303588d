"""The monthly rep scorecard against hand-computed answers on a small store written here.

The store (month M = 2026-03):

- reps A, B (region N), C, D (region S), E (N, hired 2026-03-16: part-month 16/31), F (S, left
  2026-03-20: excluded);
- customers c1, c2 → A; c3, c4 → B; c5, c6 → C; c7, c8 → D; c9 → E;
- products p1 brand K 一类, p2 brand L 三类, p3 brand NEW 二类 launched 2026-02-10;
- orders, targets and visits chosen so that every indicator has a value worked out below.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import charts, scoring, store
from analysis import scorecard as sc
from analysis.errors import ParameterError, SchemeError
from analysis.narrative import scorecard as text
from analysis.params import RepScorecardParams, validate_params
from analysis.i18n import label
from analysis.present import Presenter
from analysis.scheme import load_scheme
from present_helpers import shown_html

ROOT = Path(__file__).resolve().parents[1]
charts.setup()  # the CJK font, as a report run sets it

SCHEME = {
    "name": "fixture",
    "visit_plan": 2,
    "top_price_classes": ["一类", "二类"],
    "mix_measure": "qty",
    "key_brands": ["K"],
    "new_brand_months": 3,
    "indicators": {
        "amount_attainment": {"weight": 30, "rule": {"kind": "linear", "floor": 0.8, "target": 1.0, "cap": 1.2,
                                                     "bonus": 3}},
        "qty_attainment": {"weight": 10, "rule": {"kind": "linear", "floor": 0.8, "target": 1.0}},
        "price_class_mix": {"weight": 10, "rule": {"kind": "linear", "floor": -2, "target": 1, "cap": 3, "bonus": 1}},
        "key_brand_distribution": {"weight": 10, "rule": {"kind": "linear", "floor": 0.2, "target": 0.8}},
        "new_brand_distribution": {"weight": 5, "rule": {"kind": "rank"}},
        "ordering_rate": {"weight": 10, "rule": {"kind": "threshold", "level": 0.9}},
        "guidance_coverage": {"weight": 10, "rule": {"kind": "threshold", "level": 0.6}},
        "effective_guidance": {"weight": 10, "rule": {"kind": "threshold", "level": 0.8}},
        "visit_attainment": {"weight": 5, "rule": {"kind": "linear", "floor": 0.5, "target": 1.0}},
    },
}

# hand-computed: value and points of every indicator (see the module docstring of each step)
EXPECTED_VALUES = {
    #        amount qty   mix(pp)  key  new  order cov  eff   visit
    "A": (1.5, 1.0, 50.0, 0.5, 0.5, 1.0, 1.0, 0.5, 1.25),
    "B": (0.5, 2.0, -50.0, 0.0, 0.0, 0.5, 0.5, 1.0, 0.25),
    "C": (1.0, 0.5, 40.0, 0.5, 0.0, 1.0, 1.0, 1.0, 1.5),
    "D": (0.8, 1.0, (2 / 15 - 0.5) * 100, 0.0, 0.5, 1.0, 0.0, float("nan"), 0.0),
    "E": (0.5, 0.5, float("nan"), 1.0, 0.0, 1.0, 0.0, float("nan"), 0.5),
}
EXPECTED_POINTS = {
    "A": (33.0, 10.0, 11.0, 5.0, 5.0, 10.0, 10.0, 0.0, 5.0),     # 89
    "B": (0.0, 10.0, 0.0, 0.0, 1.25, 0.0, 0.0, 10.0, 0.0),       # 21.25
    "C": (30.0, 0.0, 11.0, 5.0, 0.0, 10.0, 10.0, 10.0, 5.0),     # 81
    "D": (0.0, 10.0, 0.0, 0.0, 5.0, 10.0, 0.0, 0.0, 0.0),        # 25
    "E": (0.0, 0.0, 0.0, 10.0, 1.25, 10.0, 0.0, 0.0, 0.0),       # 21.25 (part-month)
}
IDS = list(SCHEME["indicators"])


def _write_store(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("""CREATE TABLE reps (rep_id VARCHAR, name VARCHAR, region VARCHAR, hire_date DATE, exit_date DATE)""")
    con.executemany("INSERT INTO reps VALUES (?, ?, ?, ?, ?)", [
        ("A", "甲", "N", "2020-01-01", None), ("B", "乙", "N", "2020-01-01", None),
        ("C", "丙", "S", "2020-01-01", None), ("D", "丁", "S", "2020-01-01", None),
        ("E", "戊", "N", "2026-03-16", None), ("F", "己", "S", "2020-01-01", "2026-03-20")])
    con.execute("CREATE TABLE customers (customer_id VARCHAR, rep_id VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?)", [
        ("c1", "A", "N"), ("c2", "A", "N"), ("c3", "B", "N"), ("c4", "B", "N"), ("c5", "C", "S"),
        ("c6", "C", "S"), ("c7", "D", "S"), ("c8", "D", "S"), ("c9", "E", "N")])
    con.execute("CREATE TABLE products (sku_id VARCHAR, brand VARCHAR, price_class VARCHAR, launch_date DATE)")
    con.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", [
        ("p1", "K", "一类", None), ("p2", "L", "三类", None), ("p3", "NEW", "二类", "2026-02-10")])
    con.execute("""CREATE TABLE orders (order_id VARCHAR, line_no INTEGER, order_date DATE, customer_id VARCHAR,
                   sku_id VARCHAR, rep_id VARCHAR, qty DOUBLE, amount DOUBLE)""")
    rows = [
        # the month
        ("2026-03-05", "c1", "p1", "A", 10, 1000), ("2026-03-12", "c2", "p3", "A", 5, 500),
        ("2026-03-07", "c3", "p2", "B", 20, 400),
        ("2026-03-09", "c5", "p1", "C", 4, 400), ("2026-03-09", "c6", "p2", "C", 6, 120),
        ("2026-03-10", "c7", "p2", "D", 10, 200), ("2026-03-11", "c8", "p3", "D", 2, 200),
        ("2026-03-20", "c9", "p1", "E", 1, 100),
        ("2026-03-05", "c8", "p2", "F", 3, 60),      # the leaver's line: counts for c8's mix, not for D
        # the same month last year
        ("2025-03-01", "c1", "p1", "A", 5, 500), ("2025-03-01", "c2", "p2", "A", 5, 100),
        ("2025-03-02", "c3", "p2", "B", 10, 200), ("2025-03-02", "c4", "p1", "B", 10, 1000),
        ("2025-03-03", "c5", "p2", "C", 10, 200), ("2025-03-03", "c6", "p2", "C", 10, 200),
        ("2025-03-04", "c7", "p1", "D", 5, 500), ("2025-03-04", "c8", "p2", "D", 5, 100),
    ]
    for m in ("2026-01-15", "2026-02-15"):
        rows += [(m, "c1", "p2", "A", 1, 100), (m, "c3", "p2", "B", 1, 100), (m, "c5", "p2", "C", 1, 100),
                 (m, "c7", "p2", "D", 1, 100)]
    con.executemany("INSERT INTO orders VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
                    [(f"o{i}", *r) for i, r in enumerate(rows)])
    con.execute("CREATE TABLE targets (period DATE, level VARCHAR, key VARCHAR, measure VARCHAR, value DOUBLE)")
    t = []
    for rep, amt, qty in (("A", 1000, 15), ("B", 800, 10), ("C", 520, 20), ("D", 500, 12), ("E", 200, 2),
                          ("F", 100, 5)):
        t += [("2026-03-01", "rep", rep, "amount", amt), ("2026-03-01", "rep", rep, "qty", qty)]
    for month, d_target in (("2026-01-01", 100), ("2026-02-01", 125)):
        t += [(month, "rep", "A", "amount", 100), (month, "rep", "B", "amount", 200),
              (month, "rep", "C", "amount", 100), (month, "rep", "D", "amount", d_target)]
    con.executemany("INSERT INTO targets VALUES (?, ?, ?, ?, ?)", t)
    con.execute("CREATE TABLE visits (visit_date DATE, rep_id VARCHAR, customer_id VARCHAR, kind VARCHAR, "
                "effective BOOLEAN)")
    con.executemany("INSERT INTO visits VALUES (?, ?, ?, ?, ?)", [
        ("2026-03-02", "A", "c1", "guidance", True), ("2026-03-03", "A", "c1", "visit", False),
        ("2026-03-04", "A", "c2", "guidance", False), ("2026-03-05", "A", "c2", "visit", False),
        ("2026-03-06", "A", "c5", "guidance", True),   # not A's customer: a visit, never coverage
        ("2026-03-02", "B", "c3", "guidance", True),
        ("2026-03-02", "C", "c5", "guidance", True), ("2026-03-02", "C", "c6", "guidance", True),
        ("2026-03-09", "C", "c5", "visit", False), ("2026-03-09", "C", "c6", "visit", False),
        ("2026-03-19", "C", "c5", "visit", False), ("2026-03-19", "C", "c6", "visit", False),
        ("2026-03-20", "E", "c9", "visit", False)])
    con.close()
    return path


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("scorecard")
    path = _write_store(d / "s.duckdb")
    (d / "scheme.yml").write_text(json.dumps(SCHEME, ensure_ascii=False), encoding="utf-8")
    return path, d / "scheme.yml"


def _prepare(fixture_store, **kw):
    path, scheme = fixture_store
    con = store.connect(str(path), read_only=True)
    params = {"store": str(path), "scheme": str(scheme), "month": "2026-03", "n_boot": 200, **kw}
    return sc.prepare(con, RepScorecardParams.of(**params))


@pytest.fixture(scope="module")
def scope(fixture_store):
    return _prepare(fixture_store)


def _row(scope, rep):
    return scope.scores.set_index("rep_id").loc[rep]


# ---------------------------------------------------------------------- indicators and rules
def test_roster_excludes_the_leaver_and_prorates_the_new_hire(scope):
    s = scope.scores.set_index("rep_id")
    assert sorted(s.index) == ["A", "B", "C", "D", "E"]
    assert s.loc["E", "employed_share"] == pytest.approx(16 / 31)
    assert bool(s.loc["E", "part_month"]) and pd.isna(s.loc["E", "rank"])


@pytest.mark.parametrize("rep", sorted(EXPECTED_VALUES))
def test_every_indicator_value_by_hand(scope, rep):
    r = _row(scope, rep)
    for iid, want in zip(IDS, EXPECTED_VALUES[rep]):
        got = r[iid]
        if math.isnan(want):
            assert pd.isna(got), (rep, iid, got)
        else:
            assert got == pytest.approx(want), (rep, iid)


@pytest.mark.parametrize("rep", sorted(EXPECTED_POINTS))
def test_every_rule_points_by_hand(scope, rep):
    r = _row(scope, rep)
    for iid, want in zip(IDS, EXPECTED_POINTS[rep]):
        assert r[f"{iid}_points"] == pytest.approx(want), (rep, iid)
    assert r["total"] == pytest.approx(sum(EXPECTED_POINTS[rep]))


def test_total_is_the_sum_of_components_and_weights_sum_to_100(scope):
    s = scope.scores
    w = s.attrs["weights"]
    assert math.fsum(w.values()) == pytest.approx(100)
    comp = s[[f"{i}_points" for i in w]].sum(axis=1) + s["adjustment"]
    assert np.allclose(comp, s["total"])
    assert load_scheme(SCHEME).weights == {i: float(SCHEME["indicators"][i]["weight"]) for i in IDS}


def test_ranks_overall_and_in_region(scope):
    s = scope.scores.set_index("rep_id")
    assert [int(s.loc[r, "rank"]) for r in "ACDB"] == [1, 2, 3, 4]
    assert {r: int(s.loc[r, "rank_region"]) for r in "ABCD"} == {"A": 1, "B": 2, "C": 1, "D": 2}
    assert s.loc["D", "n_missing"] == 1 and s.loc["E", "n_missing"] == 2


def test_rank_change_is_last_months_rank_minus_this(fixture_store, scope):
    feb = _prepare(fixture_store, month="2026-02").scores.set_index("rep_id")["rank"]
    s = scope.scores.set_index("rep_id")
    for r in "ABCD":
        assert s.loc[r, "rank_prev"] == feb[r]
        assert s.loc[r, "rank_change"] == feb[r] - s.loc[r, "rank"]


def test_below_target_running_uses_the_trends_definition(scope):
    # B: 0.5, 0.5, 0.5; D: 1.0, 0.8, 0.8 (January at target breaks the run)
    assert list(scope.streaks["rep_id"]) == ["B"]
    res = sc.underperformers(scope)
    assert res.ids == ["B"] and res.months == ["2026-01", "2026-02", "2026-03"]
    assert res.table[["m0", "m1", "m2"]].iloc[0].tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_streak_penalty_and_adjustments(fixture_store, tmp_path):
    scheme = dict(SCHEME, streak_penalty={"points": 10, "months": 3, "threshold": 0.9})
    p = tmp_path / "pen.yml"
    p.write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    adj = tmp_path / "adj.csv"
    adj.write_text("客户经理编码,加减分,原因\nA,-5,迟报\nC,+2,竞赛第一\n", encoding="utf-8")
    s = _prepare(fixture_store, scheme=str(p), adjustments=str(adj)).scores.set_index("rep_id")
    assert s.loc["B", "total"] == pytest.approx(21.25 - 10) and bool(s.loc["B", "penalty"])
    assert s.loc["A", "total"] == pytest.approx(89 - 5) and s.loc["C", "total"] == pytest.approx(83)
    assert [int(s.loc[r, "rank"]) for r in "ACDB"] == [1, 2, 3, 4]


def test_adjustment_for_an_unscored_rep_is_refused(fixture_store, tmp_path):
    adj = tmp_path / "bad.csv"
    adj.write_text("rep_id,points,reason\nF,3,left\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="must be a rep scored this month"):
        _prepare(fixture_store, adjustments=str(adj))


def test_territory_check_is_spearman_of_totals_on_last_years_customers(scope):
    res = sc.territory(scope)
    # potential = the rep's customers' amount in 2025-03: A 600, B 1200, C 400, D 600
    want = scoring.territory_check([89, 21.25, 81, 25], [600, 1200, 400, 600])
    assert res.rho == pytest.approx(want.rho) and res.n == 4
    t = res.table.set_index("rep_id")
    assert t.loc["A", "potential"] == 600 and t.loc["A", "attainment"] == pytest.approx(1.5)


def test_team_values_from_summed_inputs(scope):
    tv = sc.team_values(scope).set_index("indicator")
    # amount 1500+400+520+400+100 = 2920 over targets 1000+800+520+500+200 = 3020
    assert tv.loc["amount_attainment", "team_value"] == pytest.approx(2920 / 3020)
    # customers guided 2+1+2 of 9 active
    assert tv.loc["guidance_coverage", "team_value"] == pytest.approx(5 / 9)
    # qty 58/59; key brand 3/9; ordering 8/9; visits 13/9/2; the mix (+2.7 pp) and effective guidance
    # (4/5) meet their targets; the rank rule has none
    assert sc.headline(scope).team_misses == ["amount_attainment", "qty_attainment", "key_brand_distribution",
                                              "ordering_rate", "guidance_coverage", "visit_attainment"]
    assert tv.loc["price_class_mix", "team_value"] == pytest.approx((22 / 61 - 20 / 60) * 100)


def test_rank_intervals_contain_the_rank(scope):
    s = scope.scores[scope.scores["rank"].notna()]
    assert (s["rank_lo"] <= s["rank"]).all() and (s["rank"] <= s["rank_hi"]).all()
    assert sc.rank_intervals(scope).ranked == 4


def test_payout_sums_to_the_pool_and_is_only_for_managers(fixture_store, tmp_path):
    scheme = dict(SCHEME, bonus_pool={"amount": 1000.01, "individual_share": 0.7})
    p = tmp_path / "pool.yml"
    p.write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    team = _prepare(fixture_store, scheme=str(p))
    assert sc.payout(team) is None
    mgr = _prepare(fixture_store, scheme=str(p), audience="manager")
    res = sc.payout(mgr)
    t = res.table.set_index("rep_id")
    assert int(t["amount_fen"].sum()) == 100001
    assert res.metrics()["payout_total"] == pytest.approx(1000.01)
    # team part by region attainment (sum of the reps' targets): N 2000/2000, S 920/1020; E prorated
    w = {"A": 1.0, "B": 1.0, "E": 16 / 31, "C": 920 / 1020, "D": 920 / 1020}
    team_fen = 100001 - round(100001 * 0.7)
    for r, x in w.items():
        assert abs(t.loc[r, "team"] * 100 - team_fen * x / sum(w.values())) < 1
    ind = {"A": 89, "B": 21.25, "C": 81, "D": 25, "E": 21.25 * 16 / 31}
    for r, x in ind.items():
        assert abs(t.loc[r, "individual"] * 100 - round(100001 * 0.7) * x / sum(ind.values())) < 1


# ------------------------------------------------------------------------ skipped indicators
def test_missing_visits_table_skips_behaviour_and_renormalises(tmp_path):
    path = _write_store(tmp_path / "nv.duckdb")
    duckdb.connect(str(path)).execute("DROP TABLE visits").close()
    (tmp_path / "s.yml").write_text(json.dumps(SCHEME, ensure_ascii=False), encoding="utf-8")
    s = _prepare((path, tmp_path / "s.yml"))
    assert set(s.indicator_skips) == {"guidance_coverage", "effective_guidance", "visit_attainment"}
    assert s.indicator_skips["guidance_coverage"].as_dict() == {"reason": "missing_table",
                                                                "details": {"table": "visits"}}
    w = s.scores.attrs["weights"]
    assert math.fsum(w.values()) == pytest.approx(100) and w["amount_attainment"] == pytest.approx(30 / 0.75)
    assert s.scores.set_index("rep_id").loc["A", "amount_attainment_points"] == pytest.approx(33 / 0.75)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(rep=st.integers(0, 4), ind=st.integers(0, 8), bump=st.floats(0.001, 2.0))
def test_raising_one_indicator_never_lowers_a_total(rep, ind, bump):
    vals = pd.DataFrame({"rep_id": list("ABCDE"), "region": list("NNSSN"),
                         "employed_share": [1, 1, 1, 1, 16 / 31]})
    for j, iid in enumerate(IDS):
        vals[iid] = [EXPECTED_VALUES[r][j] for r in "ABCDE"]
    scheme = load_scheme(SCHEME)
    before = scoring.score(vals, scheme).set_index("rep_id")["total"]
    up = vals.copy()
    iid = IDS[ind]
    v = up.loc[rep, iid]
    up.loc[rep, iid] = (0.0 if pd.isna(v) else v) + bump * (100 if iid == "price_class_mix" else 1)
    after = scoring.score(up, scheme).set_index("rep_id")["total"]
    r = "ABCDE"[rep]
    assert after[r] >= before[r] - 1e-9


# ------------------------------------------------------------------------ params and reports
def test_scheme_error_refused_before_any_kernel(tmp_path, monkeypatch):
    from analysis import reports

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(reports.execute, "execute_notebook", boom)
    bad = dict(SCHEME, indicators={**SCHEME["indicators"], "smiles": {"weight": 5, "rule": {"kind": "rank"}}})
    p = tmp_path / "bad.yml"
    p.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ParameterError) as e:
        reports.run_report("rep_scorecard", [f"scheme={p}"], out=tmp_path)
    assert str(e.value).startswith("The indicator 'smiles' of scheme 'fixture' is not known. Allowed indicators:")
    w = dict(SCHEME, indicators={**SCHEME["indicators"], "visit_attainment": {"weight": 4, "rule": {
        "kind": "linear", "floor": 0.5, "target": 1.0}}})
    p.write_text(json.dumps(w), encoding="utf-8")
    with pytest.raises(ParameterError, match="must sum to 100. Got 99 instead"):
        validate_params(RepScorecardParams, {"scheme": str(p)}, "rep_scorecard")
    assert not list(tmp_path.rglob("*.ipynb"))


def test_notebook_parameters_cell_matches_the_model():
    nb = (ROOT / "notebooks" / "rep_scorecard.py").read_text(encoding="utf-8")
    cell = nb.split('# %% tags=["parameters"]')[1].split("# %%")[0]
    ns: dict = {}
    exec(cell, ns)
    defaults = RepScorecardParams().model_dump()
    assert {k: ns[k] for k in defaults} == defaults


# ---------------------------------------------------------------------------- presentation
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_renders_and_team_version_holds_no_pay(fixture_store, tmp_path, lang):
    scheme = dict(SCHEME, bonus_pool={"amount": 5000, "individual_share": 0.7})
    p = tmp_path / "pool.yml"
    p.write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    for audience in ("team", "manager"):
        s = _prepare(fixture_store, scheme=str(p), audience=audience, lang=lang)
        pres = Presenter("rep_scorecard", text.TEXTS, lang)
        results = [f(s) for f in (sc.headline, sc.scores, sc.indicators, sc.rank_intervals, sc.territory,
                                  sc.underperformers, sc.adjustments, sc.payout)]
        html = "".join(shown_html(pres, r) for r in results if r is not None)
        m = pres.metrics()
        if audience == "team":
            assert "payout" not in [r.code for r in results if r is not None]
            assert "payout_total" not in m
            assert ("奖金" not in html) if lang == "zh" else ("bonus" not in html.lower())
        else:
            assert m["payout_total"] == pytest.approx(5000)
            assert ("仅供管理人员" in html) if lang == "zh" else ("managers only" in html)
        assert m["leader"] == "甲" and m["leader_rep_id"] == "A" and m["below_target"] == 3


def test_metrics_are_the_same_in_both_languages(fixture_store):
    out = {}
    for lang in ("zh", "en"):
        s = _prepare(fixture_store, lang=lang)
        pres = Presenter("rep_scorecard", text.TEXTS, lang)
        for f in (sc.headline, sc.scores, sc.indicators, sc.rank_intervals, sc.territory, sc.underperformers,
                  sc.adjustments):
            shown_html(pres, f(s))
        out[lang] = json.loads(json.dumps(pres.metrics(), default=str))
    assert out["zh"] == out["en"]
    scores = out["zh"]["scores"]
    assert {"rep_id", "region", "total", "rank", "rank_region", "rank_lo", "rank_hi", "components",
            "values"} <= set(scores[0])


def test_metrics_doc_lists_every_key(fixture_store):
    doc = (ROOT / "docs" / "metrics" / "rep_scorecard.md").read_text(encoding="utf-8")
    documented = {line.split("|")[1].strip().strip("`") for line in doc.splitlines()
                  if line.startswith("| `")}
    s = _prepare(fixture_store, audience="manager",
                 scheme=str(fixture_store[1]))
    pres = Presenter("rep_scorecard", text.TEXTS, "zh")
    for f in (sc.headline, sc.scores, sc.indicators, sc.rank_intervals, sc.territory, sc.underperformers,
              sc.adjustments, sc.payout):
        r = f(s)
        if r is not None:
            shown_html(pres, r)
    keys = set(pres.metrics()) | {"report", "parameters", "data_window", "generated_at"}
    assert keys == documented


def test_level_company_ranks_everyone_as_one_group(fixture_store):
    s = _prepare(fixture_store, level="company").scores.set_index("rep_id")
    assert (s["rank_region"].dropna() == s["rank"].dropna()).all()
    # the rank rule over all five reps: new-brand values A .5, D .5, B C E 0
    assert s.loc["A", "new_brand_distribution_points"] == pytest.approx(5 * 3.5 / 4)
    assert s.loc["B", "new_brand_distribution_points"] == pytest.approx(5 * 1 / 4)
    assert s.loc["C", "region"] == "S"


def test_day_bootstrap_of_the_rank_intervals(fixture_store):
    s = _prepare(fixture_store, interval_unit="day")
    r = s.scores[s.scores["rank"].notna()]
    assert (r["rank_lo"] <= r["rank"]).all() and (r["rank"] <= r["rank_hi"]).all()
    days = sc.day_inputs(s)
    assert len(days) == 5 * 31 and days.groupby("rep_id")["amount"].sum()["A"] == 1500
    assert days.groupby("rep_id")["visits"].sum()["A"] == 5
    assert sc.rank_intervals(s).unit == "day"


@pytest.mark.parametrize("drop, skipped, sections", [
    (["reps"], set(), set()),
    (["customers"], set(), set()),
    (["targets"], {"amount_attainment", "qty_attainment"}, {"underperformers"}),
    (["products"], {"key_brand_distribution", "new_brand_distribution", "price_class_mix"}, set()),
    (["visits"], {"guidance_coverage", "effective_guidance", "visit_attainment"}, set()),
])
def test_a_missing_table_skips_its_indicators_with_a_visible_note(tmp_path, drop, skipped, sections):
    path = _write_store(tmp_path / "m.duckdb")
    con = duckdb.connect(str(path))
    for t in drop:
        con.execute(f"DROP TABLE {t}")
    con.close()
    (tmp_path / "s.yml").write_text(json.dumps(SCHEME, ensure_ascii=False), encoding="utf-8")
    s = _prepare((path, tmp_path / "s.yml"))
    assert set(s.indicator_skips) == skipped
    pres = Presenter("rep_scorecard", text.TEXTS, "en")
    html = "".join(shown_html(pres, f(s)) for f in (sc.headline, sc.scores, sc.indicators, sc.underperformers))
    assert set(pres.metrics()["skipped_sections"]) == sections
    for iid in skipped:
        assert f"{label('rep_scorecard.indicator.' + iid, 'en')} not scored:" in html
    if drop == ["reps"]:
        assert "No rep roster" in html
    if drop == ["customers"]:
        assert "The customers table has no rep_id" in html


# ------------------------------------------------------------------ slim orders (issue 18.6)
def _slim(path: Path, null: bool) -> Path:
    """The fixture's orders as a department exports them: no rep on the lines (the rep, region,
    brand and price class are in the customers and products), or the columns there but NULL."""
    con = duckdb.connect(str(path))
    if null:
        con.execute("ALTER TABLE orders ADD COLUMN region VARCHAR")
        con.execute("ALTER TABLE orders ADD COLUMN brand VARCHAR")
        con.execute("ALTER TABLE orders ADD COLUMN price_class VARCHAR")
        con.execute("ALTER TABLE orders ADD COLUMN channel VARCHAR")
        con.execute("UPDATE orders SET rep_id = NULL")
    else:
        con.execute("ALTER TABLE orders DROP COLUMN rep_id")
    con.close()
    return path


@pytest.mark.parametrize("null", [False, True], ids=["dropped", "null"])
def test_slim_orders_score_through_the_customers_and_products(tmp_path, null):
    # the crash of issue 18: "'IntegerScalar' object has no attribute 'max'"
    path = _slim(_write_store(tmp_path / "slim.duckdb"), null)
    (tmp_path / "s.yml").write_text(json.dumps(SCHEME, ensure_ascii=False), encoding="utf-8")
    s = _prepare((path, tmp_path / "s.yml"))
    assert s.coverage == {"rep_id": 1.0, "brand": 1.0, "price_class": 1.0}
    assert s.indicator_skips == {}
    r = s.scores.set_index("rep_id")
    # the leaver F's line to c8 is D's now (c8's rep in the customers): amount 460 / 500, qty 15 / 12
    assert r.loc["D", "amount_attainment"] == pytest.approx(460 / 500)
    assert r.loc["D", "qty_attainment"] == pytest.approx(15 / 12)
    for rep in "ABCE":
        for iid, want in zip(IDS, EXPECTED_VALUES[rep]):
            assert (pd.isna(r.loc[rep, iid]) if math.isnan(want) else r.loc[rep, iid] == pytest.approx(want)), \
                (rep, iid)
    pres = Presenter("rep_scorecard", text.TEXTS, "en")
    shown_html(pres, sc.headline(s))
    assert pres.metrics()["coverage"] == {"rep_id": 1.0, "brand": 1.0, "price_class": 1.0}


def test_an_unresolved_dimension_skips_its_indicators_with_the_share(tmp_path):
    # p2 (brand L, 三类) is missing from the products: in March 1,320 of 2,980 yuan have no brand
    path = _slim(_write_store(tmp_path / "u.duckdb"), null=False)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM products WHERE sku_id = 'p2'")
    con.close()
    (tmp_path / "s.yml").write_text(json.dumps(SCHEME, ensure_ascii=False), encoding="utf-8")
    s = _prepare((path, tmp_path / "s.yml"))
    share = 1 - (400 + 120 + 200 + 60) / 2980
    assert s.coverage["brand"] == pytest.approx(share) and s.coverage["rep_id"] == 1.0
    for iid in ("key_brand_distribution", "new_brand_distribution"):
        d = s.indicator_skips[iid].as_dict()
        assert d["reason"] == "unresolved_codes"
        assert d["details"] == {"dimension": "brand", "share": pytest.approx(share), "table": "products",
                                "codes": ["p2"]}
    assert s.indicator_skips["price_class_mix"].as_dict()["details"]["dimension"] == "price_class"
    assert "key_brand_distribution" not in s.scores.attrs["weights"]
    pres = Presenter("rep_scorecard", text.TEXTS, "en")
    html = shown_html(pres, sc.indicators(s))
    assert "of the amount can be attributed to a" in html and "these codes are not in the products table: p2" in html

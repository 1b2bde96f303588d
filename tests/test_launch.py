"""analysis.launch on hand-written fixture stores (every figure computed by hand below),
and on the demo world (planted launches, cannibalisation)."""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from analysis import launch
from analysis.errors import ParameterError
from analysis.params import LaunchReviewParams

from launch_helpers import D, build_cannib, build_small


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    con = build_small(tmp_path_factory.mktemp("launch") / "small.duckdb")
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def spec(small):
    return launch.resolve_launch(small, sku="S1")


def test_window_and_default(small, spec):
    assert spec.launch_date == D(2026, 3, 10)
    assert spec.window_end == D(2026, 4, 8)
    assert spec.end == D(2026, 4, 8)
    assert spec.days_covered == 30 and not spec.partial
    assert spec.data_end == D(2026, 4, 10)
    assert spec.price_class == "三类" and spec.period == "S1-2026-03-10"
    # default: the most recent launch with a full window (Y1 is younger than 30 days)
    assert launch.resolve_launch(small).sku_ids == ("S1",)
    # with a 5-day window Y1 (2026-04-01, data to 04-10) has a full window and is the newest
    assert launch.resolve_launch(small, window_days=5).sku_ids == ("Y1",)


def test_headline_by_hand(small, spec):
    h = launch.headline_figures(small, spec)
    # S1 lines in days 1..30: A 2+1+1, D 2+1, E 1-1, B 3 (B's day-0 and C's day-31 lines excluded)
    assert h["volume"] == pytest.approx(10.0)
    assert h["amount"] == pytest.approx(1500.0)
    assert h["ordering_customers"] == 4              # A, B, D, E
    assert h["active_customers"] == 6                # A..F (G only before the window)
    assert h["distribution_rate"] == pytest.approx(4 / 6)
    # purchase amount in the window: A 600 + I1 150 + Y1 100, B 450, D 450, E 150 (ordering) + C 300, F 400
    assert h["weighted_distribution_rate"] == pytest.approx(1900 / 2600)
    assert h["repeat_customers"] == 1                # only A has ≥ 2 dates (D: two lines, one date)
    assert h["repeat_rate"] == pytest.approx(0.25)
    # last week days 24..30: A, B; previous 3 weeks days 3..23: A, D, E -> A / 3
    assert h["sell_through_rate"] == pytest.approx(1 / 3)
    # targets pro-rated: March 31 × 22/31 + April 30 × 8/30
    assert h["target_qty"] == pytest.approx(30.0)
    assert h["target_amount"] is None


def test_window_edges_move_with_launch_date(small):
    # launching a day later drops A's day-1 order; day 31 (C, 04-09) becomes day 30
    s = launch.resolve_launch(small, sku="S1", launch_date="2026-03-11")
    h = launch.headline_figures(small, s)
    assert s.end == D(2026, 4, 9)
    assert h["volume"] == pytest.approx(10 - 2 + 5)
    assert h["ordering_customers"] == 5              # A (later dates), B, C, D, E
    # a day earlier (window 03-09 … 04-07): B's 03-09 line (4) is day 1, the 04-08 lines (A 1, B 3) day 31
    s0 = launch.resolve_launch(small, sku="S1", launch_date="2026-03-09")
    h0 = launch.headline_figures(small, s0)
    assert s0.end == D(2026, 4, 7)
    assert h0["volume"] == pytest.approx(10 + 4 - 1 - 3)
    assert h0["ordering_customers"] == 4 and h0["repeat_customers"] == 1   # A: 03-10, 03-20


def test_daily_trend_and_weeks(small, spec):
    d = launch.daily_trend(small, spec)
    assert len(d) == 30 and d["day"].iloc[0] == 1 and d["date"].iloc[-1] == D(2026, 4, 8)
    q = dict(zip(d["day"], d["qty"]))
    assert q[1] == 2 and q[3] == 1 and q[4] == -1 and q[6] == 3 and q[11] == 1 and q[30] == 4
    assert d["qty"].sum() == pytest.approx(10)
    c = dict(zip(d["day"], d["customers"]))
    assert c[4] == 0 and c[6] == 1 and c[30] == 2
    assert d["cum_qty"].iloc[-1] == pytest.approx(10)
    assert d.loc[d["day"] == 30, "order_size"].iloc[0] == pytest.approx(2.0)
    w = launch.weekly_totals(d)
    assert w["days"].tolist() == [7, 7, 7, 7, 2]
    assert w["qty"].tolist() == pytest.approx([5, 1, 0, 0, 4])
    assert w["qty"].sum() == pytest.approx(d["qty"].sum())


def test_ordering_curves_and_depth(small, spec):
    c = launch.ordering_curves(small, spec).set_index("day")
    assert c.loc[1, "trial"] == 1 and c.loc[2, "trial"] == 1 and c.loc[3, "trial"] == 2
    assert c.loc[6, "trial"] == 3 and c.loc[29, "trial"] == 3 and c.loc[30, "trial"] == 4
    assert c.loc[10, "repeat_1"] == 0 and c.loc[11, "repeat_1"] == 1
    assert c.loc[29, "repeat_2"] == 0 and c.loc[30, "repeat_2"] == 1
    assert c["repeat_3"].max() == 0
    dep = launch.repeat_depth(small, spec)
    assert dict(zip(dep["orders"], dep["customers"])) == {1: 3, 3: 1}
    assert dep["share"].sum() == pytest.approx(1.0)


def test_sell_through_parts(small, spec):
    st = launch.sell_through(small, spec)
    assert st == {"rate": pytest.approx(1 / 3), "current": 1, "previous": 3, "previous_weeks": 3}


def test_segments_merge_and_suppress(small, spec):
    counts = launch.segment_counts(small, spec, "area_type").set_index("group")
    # active: urban A, B, E, F; rural C, D. Ordering: urban A, B, E; rural D. Repeat: A.
    assert counts.loc["urban"].tolist() == [4, 3, 1]
    assert counts.loc["rural"].tolist() == [2, 1, 0]
    t = launch.segment_rates(small, spec, "area_type", min_group_size=3).set_index("group")
    assert t.loc["urban", "distribution_rate"] == pytest.approx(0.75)
    assert math.isnan(t.loc["urban", "repeat_rate"]) is False
    assert t.loc["urban", "repeat_rate"] == pytest.approx(1 / 3)
    assert bool(t.loc["other", "suppressed"]) and math.isnan(t.loc["other", "distribution_rate"])
    assert t["active"].sum() == 6
    t1 = launch.segment_rates(small, spec, "area_type", min_group_size=1).set_index("group")
    assert t1.loc["rural", "distribution_rate"] == pytest.approx(0.5)
    # repeat among rural ordering customers: 1 customer < min 2 -> suppressed
    t2 = launch.segment_rates(small, spec, "area_type", min_group_size=2).set_index("group")
    assert t2.loc["rural", "distribution_rate"] == pytest.approx(0.5)
    assert math.isnan(t2.loc["rural", "repeat_rate"])


def test_opinions_by_hand(small, spec):
    op = launch.consumer_opinions(small, spec)
    assert op.skip is None and op.n == 4            # 04-09 response is day 31
    assert op.summary["rating_mean"] == pytest.approx(3.75)
    sd = np.std([5, 4, 4, 2], ddof=1)
    from scipy import stats
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert op.summary["rating_ci"] == pytest.approx([3.75 - half, 3.75 + half])
    assert op.summary["share_top"] == pytest.approx(0.75)
    assert op.summary["share_bottom"] == pytest.approx(0.25)
    assert op.summary["repurchase_intent"] == pytest.approx(2 / 3)
    assert op.distribution["responses"].tolist() == [0, 1, 0, 2, 1]
    assert "<script>alert(1)</script>" in op.comments and "太贵" not in op.comments


def test_young_launch_is_partial(small):
    s = launch.resolve_launch(small, sku="Y1")
    assert s.days_covered == 10 and s.partial and s.end == D(2026, 4, 10)
    h = launch.headline_figures(small, s)
    assert h["volume"] == pytest.approx(3) and h["ordering_customers"] == 2
    assert h["sell_through_rate"] is None                      # < 14 days
    assert launch.consumer_opinions(small, s).skip            # no feedback for Y1
    assert launch.cannibalization_effect(small, s).skip
    rv = launch.prepare(small, LaunchReviewParams(sku="Y1"))
    m = launch.metrics(rv)
    assert m["days_covered"] == 10 and m["partial"] and m["rating_mean"] is None
    assert m["window"] == {"start": "2026-04-01", "end": "2026-04-30"}


def test_launch_after_data_end_does_not_crash(small):
    rv = launch.prepare(small, LaunchReviewParams(sku="Y1", launch_date="2026-05-01"))
    m = launch.metrics(rv)
    assert m["days_covered"] == 0 and m["ordering_customers"] == 0 and m["distribution_rate"] is None
    # every section skipped for want of data, with the same keys as a full review
    assert set(m["skipped_sections"]) == {"headline", "sales_trend", "retailers", "retailer_segments", "opinions",
                                         "cannibalization", "benchmarks"}
    assert {d["reason"] for d in m["skipped_details"]} == {"no_data_in_window", "too_few_days"}
    full = launch.metrics(launch.prepare(small, LaunchReviewParams(sku="S1")))
    assert set(m) == set(full)


def test_segment_skips_are_codes(tmp_path):
    con = build_small(tmp_path / "s.duckdb")
    con.drop_table("customers")
    rv = launch.prepare(con, LaunchReviewParams(sku="S1"))
    seg = launch.retailer_segments(rv)
    assert seg.skip.as_dict() == {"reason": "missing_table", "details": {"table": "customers"}}
    assert launch.retailers(rv).skip is None
    con.disconnect()


def test_benchmarks_auto_and_rank(small, spec):
    others = launch.earlier_launches(small, spec)
    # only 2 earlier launches in 三类 (< 3): all earlier launches with a full window
    assert [o.label for o in others] == ["E1", "E2", "E3"]
    b = launch.benchmark_comparison(small, spec)
    last = b.curves[b.curves["day"] == 30].set_index("launch")
    assert last.loc["E1", "distribution"] == pytest.approx(3 / 4)   # A, B, C of A, B, C, D
    assert last.loc["E2", "distribution"] == pytest.approx(1 / 4)
    assert last.loc["E3", "distribution"] == pytest.approx(1 / 2)   # F of F, G (window 02-01..03-02)
    assert last.loc["S1", "distribution"] == pytest.approx(4 / 6)
    assert b.rank == 2 and b.count == 3
    assert sorted(b.at_days["day"].unique()) == [7, 14, 30]
    s7 = b.curves[(b.curves["launch"] == "S1") & (b.curves["day"] == 7)].iloc[0]
    # days 1..7: active A (d1), C (d2), E (d3), D (d6); ordering A, E, D
    assert s7["distribution"] == pytest.approx(3 / 4) and s7["cum_qty"] == pytest.approx(5)
    assert launch.earlier_launches(small, spec, ["E2"])[0].launch_date == D(2026, 1, 5)
    with pytest.raises(ParameterError):
        launch.earlier_launches(small, spec, ["NOPE"])


def test_parameters_errors(small):
    with pytest.raises(ParameterError, match="'sku' parameter"):
        launch.resolve_launch(small, sku="NOPE")
    with pytest.raises(ParameterError, match="'launch_date' parameter"):
        launch.resolve_launch(small, sku="S1", launch_date="2026-13-01")
    with pytest.raises(ParameterError):
        launch.resolve_launch(small, sku="S1", brand="新牌")
    assert launch.resolve_launch(small, brand="老牌").sku_ids == ("I1", "I2")


def test_metrics_keys(small):
    rv = launch.prepare(small, LaunchReviewParams(sku="S1"))
    m = launch.metrics(rv)
    for k in ["sku", "window", "days_covered", "volume", "amount", "ordering_customers", "active_customers",
              "distribution_rate", "weighted_distribution_rate", "repeat_rate", "sell_through_rate",
              "rating_mean", "rating_ci", "cannibalization_pct", "benchmark_rank", "benchmark_count",
              "period", "data_window"]:
        assert k in m
    assert m["window"] == {"start": "2026-03-10", "end": "2026-04-08"}
    assert set(m["cannibalization_pct"]) == {"estimate", "lo", "hi"}
    assert m["rating_mean"] == pytest.approx(3.75) and len(m["rating_ci"]) == 2


# ------------------------------------------------------------------ cannibalisation fixture

@pytest.fixture(scope="module")
def cannib(tmp_path_factory):
    con, day = build_cannib(tmp_path_factory.mktemp("cannib") / "c.duckdb")
    yield con, day
    con.disconnect()


def test_cannibalization_by_hand(cannib):
    con, day = cannib
    s = launch.resolve_launch(con, sku="N", window_days=28)
    c = launch.cannibalization_effect(con, s)
    # treated I: post mean 6.5 of pre 10 -> -0.35; control K1+K2: 32 of 30 -> +1/15
    assert c.did.estimate == pytest.approx(-0.35 - 1 / 15)
    # lost = 0.41667 × 10 per week × 4 weeks = 16.667 of N's 20
    assert c.share["estimate"] == pytest.approx((0.35 + 1 / 15) * 40 / 20)
    assert c.share["lo"] < c.share["estimate"] < c.share["hi"]
    assert c.by_sku["sku"].tolist() == ["I"]
    assert c.treated_class == "X"
    assert c.by_sku["hit_ci_high"].tolist() == c.by_sku["ci_high"].tolist()  # one incumbent: no family


def test_incumbent_hit_is_judged_on_the_family_interval():
    """The headline names an incumbent when any of the class's m incumbents lost volume: one claim
    over m tests. A SKU whose own 95 % interval lies below 0 but whose Bonferroni interval
    (1 − 0.05/m) does not is not named (in null worlds the unadjusted rule named one in 4 of 20,
    tests/test_null_worlds.py)."""
    import types

    by_sku = pd.DataFrame({"sku": ["A", "B", "C"], "estimate": [-0.2, -0.5, 0.1], "ci_low": [-0.4, -0.7, -0.1],
                           "ci_high": [-0.01, -0.3, 0.3], "hit_ci_high": [0.05, -0.1, 0.4],
                           "share": [0.2, 0.5, -0.1], "share_lo": [0.01, 0.3, -0.3], "share_hi": [0.4, 0.7, 0.1]})
    c = launch.Cannibalization(by_sku=by_sku, treated_class="X")
    assert launch.hit_incumbents(types.SimpleNamespace(cannibalization=c))["sku"].tolist() == ["B"]


# ------------------------------------------------------------------ the notebook, executed

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "launch_review.ipynb"


def _run_notebook(tmp_path, monkeypatch, **params):
    import nbformat
    import papermill as pm

    metrics = tmp_path / "metrics.json"
    monkeypatch.setenv("SALES_ANALYSIS_METRICS", str(metrics))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters=params, kernel_name="sales-analysis",
                        cwd=str(NOTEBOOK.parents[1]), progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    html_out = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    stderr = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    return html_out, stderr, json.loads(metrics.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_notebook_escapes_comments_and_writes_metrics(tmp_path, monkeypatch):
    build_small(tmp_path / "s.duckdb").disconnect()
    html_out, stderr, m = _run_notebook(tmp_path, monkeypatch, store=str(tmp_path / "s.duckdb"), sku="S1")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_out
    assert "<script>alert" not in html_out
    assert not stderr
    assert m["sku"] == "S1" and m["days_covered"] == 30 and m["ordering_customers"] == 4
    assert m["distribution_rate"] == pytest.approx(4 / 6) and m["rating_mean"] == pytest.approx(3.75)
    assert m["period"] == "S1-2026-03-10" and m["window"] == {"start": "2026-03-10", "end": "2026-04-08"}
    assert m["benchmark_rank"] == 2 and m["benchmark_count"] == 3


@pytest.mark.slow
def test_notebook_partial_launch_without_feedback(tmp_path, monkeypatch):
    build_small(tmp_path / "s.duckdb", feedback_rows=False).disconnect()
    html_out, stderr, m = _run_notebook(tmp_path, monkeypatch, store=str(tmp_path / "s.duckdb"), sku="Y1", lang="en")
    assert not stderr
    assert m["days_covered"] == 10 and m["partial"] is True and m["rating_mean"] is None
    assert "Partial review" in html_out and "10 of 30 days" in html_out
    assert "opinions" in m["skipped_sections"] and "cannibalization" in m["skipped_sections"]
    details = {d["section"]: (d["reason"], d["details"]) for d in m["skipped_details"]}
    assert details["opinions"] == ("missing_table", {"table": "feedback"})
    assert details["cannibalization"] == ("too_few_days", {"needed": 14})


@pytest.mark.slow
def test_notebook_metrics_are_language_free(tmp_path, monkeypatch):
    build_small(tmp_path / "s.duckdb").disconnect()
    runs = {}
    for lang in ("zh", "en"):
        d = tmp_path / lang
        d.mkdir()
        runs[lang] = _run_notebook(d, monkeypatch, store=str(tmp_path / "s.duckdb"), sku="S1", lang=lang)[2]
    for m in runs.values():
        m.pop("parameters", None), m.pop("generated_at", None), m.pop("outputs", None)
    assert runs["zh"] == runs["en"]
    assert all(s.isascii() for s in runs["zh"]["skipped_sections"])


# ------------------------------------------------------------------ the demo world

@pytest.fixture(scope="module")
def demo_reviews(demo_con, demo_world):
    truth = demo_world[1]["launches"]
    return {k: launch.prepare(demo_con, LaunchReviewParams(sku=truth[k]["sku_id"])) for k in ("strong", "weak")}


@pytest.mark.slow
def test_demo_launches_near_planted_values(demo_reviews, demo_world):
    truth = demo_world[1]["launches"]
    for k in ("strong", "weak"):
        m = launch.metrics(demo_reviews[k])
        assert m["launch_date"] == truth[k]["launch_date"] and m["days_covered"] == 30
        assert m["distribution_rate"] == pytest.approx(truth[k]["distribution_rate"], abs=0.005)
        assert m["repeat_rate"] == pytest.approx(truth[k]["repeat_rate"], abs=0.005)
        assert m["rating_mean"] == pytest.approx(truth[k]["rating_mean"], abs=0.01)
    s, w = (launch.metrics(demo_reviews[k]) for k in ("strong", "weak"))
    assert s["distribution_rate"] > w["distribution_rate"]
    assert s["repeat_rate"] > w["repeat_rate"]
    assert s["rating_mean"] > w["rating_mean"] and s["rating_ci"][0] > w["rating_ci"][1]
    assert s["benchmark_rank"] < w["benchmark_rank"]


@pytest.mark.slow
def test_demo_earlier_launches_near_planted(demo_con, demo_world):
    for e in demo_world[1]["launches"]["earlier"]:
        spec = launch.resolve_launch(demo_con, sku=e["sku_id"])
        h = launch.headline_figures(demo_con, spec)
        assert h["distribution_rate"] == pytest.approx(e["distribution_rate"], abs=0.005)
        assert h["repeat_rate"] == pytest.approx(e["repeat_rate"], abs=0.005)


@pytest.mark.slow
def test_demo_cannibalization_detected_and_untouched_class_clean(demo_con, demo_world, demo_reviews):
    truth = demo_world[1]["cannibalization"]
    c = demo_reviews["strong"].cannibalization
    assert c.skip is None and c.treated_class == truth["price_class"]
    row = c.by_sku.set_index("sku").loc[truth["sku_id"]]
    assert row["ci_high"] < 0                                   # the incumbent lost volume
    assert row["share_lo"] > 0                                  # share of new volume: CI excludes 0
    assert row["share_lo"] <= truth["share_of_new_volume"] <= row["share_hi"]
    assert row["share"] == pytest.approx(truth["share_of_new_volume"], abs=0.1)
    # the incumbent is the SKU that lost the most
    assert c.by_sku["sku"].iloc[0] == truth["sku_id"]
    spec = demo_reviews["strong"].spec
    u = launch.cannibalization_effect(demo_con, spec, compare_class=truth["untouched_class"], by_sku=False)
    assert u.did.lo <= 0 <= u.did.hi
    assert u.share["lo"] <= 0 <= u.share["hi"]


@pytest.mark.slow
def test_demo_default_is_the_most_recent_full_window_launch(demo_con, demo_world):
    truth = demo_world[1]["launches"]
    launches = [truth["strong"], truth["weak"], *truth["earlier"]]
    newest = max(launches, key=lambda x: x["launch_date"])
    assert launch.resolve_launch(demo_con).sku_ids == (newest["sku_id"],)


def test_brand_review_uses_first_order_when_no_launch_date(small):
    s = launch.resolve_launch(small, brand="老牌", window_days=10)
    # I1/I2 have no launch_date: the first I1 order (2025-12-10, customer D) starts the window
    assert s.sku_ids == ("I1", "I2") and s.label == "老牌" and s.launch_date == D(2025, 12, 10)
    h = launch.headline_figures(small, s)
    assert h["volume"] == pytest.approx(1) and h["ordering_customers"] == 1


def test_params_model_validates_before_any_query():
    from analysis.params import validate_params

    with pytest.raises(ParameterError, match="'launch_date' parameter of launch_review"):
        validate_params(LaunchReviewParams, {"launch_date": "2026-02-30"}, "launch_review")
    with pytest.raises(ParameterError, match="'window_days'"):
        validate_params(LaunchReviewParams, {"window_days": 0}, "launch_review")
    assert LaunchReviewParams(benchmarks="E1, E2").benchmarks == ["E1", "E2"]
    assert LaunchReviewParams(benchmarks="").benchmarks == "auto"


# ------------------------------------------------------------------ invariants on random small stores

from hypothesis import given, settings, strategies as st  # noqa: E402

_LAUNCH = D(2026, 3, 10)
_line = st.tuples(st.integers(-6, 40), st.sampled_from(list("ABCDEF")), st.sampled_from(["S1", "I1"]),
                  st.integers(-2, 5))


@settings(max_examples=20, deadline=None)
@given(lines=st.lists(_line, min_size=1, max_size=40))
def test_headline_matches_pandas_reference(lines):
    rows = [(_LAUNCH + dt.timedelta(days=d), c, s, float(q), q < 0) for d, c, s, q in lines if q != 0]
    rows.append((_LAUNCH + dt.timedelta(days=45), "A", "I1", 1.0, False))  # data run past day 30
    df = pd.DataFrame(rows, columns=["order_date", "customer_id", "sku_id", "qty", "is_return"])
    df["amount"] = df["qty"] * 10
    con = ibis.duckdb.connect()
    con.create_table("orders", df)
    con.create_table("products", pd.DataFrame({"sku_id": ["S1", "I1"], "brand": ["n", "o"],
                                               "price_class": ["三类", "三类"],
                                               "launch_date": [_LAUNCH, pd.NaT]}))
    spec = launch.resolve_launch(con, sku="S1")
    h = launch.headline_figures(con, spec)
    # independent reference in pandas
    win = df[(df["order_date"] >= _LAUNCH) & (df["order_date"] <= _LAUNCH + dt.timedelta(days=29))]
    buy = win[(~win["is_return"]) & (win["qty"] > 0)]
    new = buy[buy["sku_id"] == "S1"]
    dates = new.groupby("customer_id")["order_date"].nunique()
    ordering, active = len(dates), buy["customer_id"].nunique()
    assert h["ordering_customers"] == ordering and h["active_customers"] == active
    assert h["repeat_customers"] == int((dates >= 2).sum())
    assert h["volume"] == pytest.approx(win.loc[win["sku_id"] == "S1", "qty"].sum())
    if active:
        assert h["distribution_rate"] == pytest.approx(ordering / active)
        spend = buy.groupby("customer_id")["amount"].sum()
        assert h["weighted_distribution_rate"] == pytest.approx(spend[dates.index].sum() / spend.sum())
    for r in ("distribution_rate", "weighted_distribution_rate", "repeat_rate", "sell_through_rate"):
        assert h[r] is None or 0 <= h[r] <= 1
    daily = launch.daily_trend(con, spec)
    assert daily["qty"].sum() == pytest.approx(h["volume"])
    assert launch.weekly_totals(daily)["qty"].sum() == pytest.approx(h["volume"])
    curves = launch.ordering_curves(con, spec)
    assert curves["trial"].iloc[-1] == ordering and curves["repeat_1"].iloc[-1] == h["repeat_customers"]
    assert (curves["trial"] >= curves["repeat_1"]).all() and (curves["repeat_1"] >= curves["repeat_2"]).all()
    con.disconnect()


def test_minimal_orders_without_customers_or_qty(tmp_path):
    """Only the required columns (order_date, amount) plus sku_id: no crash, customer sections skipped."""
    con = ibis.duckdb.connect(str(tmp_path / "m.duckdb"))
    con.create_table("orders", pd.DataFrame({
        "order_date": [D(2026, 3, 1), D(2026, 3, 10), D(2026, 3, 12), D(2026, 4, 20)],
        "sku_id": ["I1", "S1", "S1", "I1"], "amount": [10.0, 30.0, 20.0, 5.0]}))
    con.create_table("products", pd.DataFrame({"sku_id": ["S1", "I1"], "brand": ["n", "o"],
                                               "launch_date": [D(2026, 3, 10), pd.NaT]}))
    rv = launch.prepare(con, LaunchReviewParams())
    m = launch.metrics(rv)
    assert m["sku"] == "S1" and m["amount"] == pytest.approx(50.0) and m["volume"] is None
    assert m["ordering_customers"] == 0 and m["distribution_rate"] is None
    assert rv.part_skip("retailers") and rv.benchmarks.skip and rv.opinions.skip
    assert rv.cannibalization.skip
    assert rv.part_skip("retailers").as_dict() == {"reason": "missing_column",
                                           "details": {"table": "orders", "column": "customer_id"}}
    assert rv.opinions.skip.as_dict() == {"reason": "missing_table", "details": {"table": "feedback"}}
    assert m["skipped_sections"] == ["retailers", "retailer_segments", "opinions", "cannibalization", "benchmarks"]
    con.disconnect()


# ------------------------------------------------------------------ pre-trend (placebo) check


def test_cannibalization_pretrend_parallel_by_hand(cannib):
    from analysis.stats import did as dd

    con, day = cannib
    s = launch.resolve_launch(con, sku="N", window_days=28)
    c = launch.cannibalization_effect(con, s)
    # 4 weeks of history: the placebo is weeks -2, -1 against -4, -3; I, K1, K2 are flat there: exactly 0
    pt = c.pretrend
    assert isinstance(pt, dd.PretrendResult) and pt.method == "aggregate"
    assert (pt.n_pre, pt.n_post, pt.start, pt.split) == (2, 2, -4, -2)
    assert pt.estimate == pytest.approx(0.0, abs=1e-12) and pt.p == 1.0 and not pt.differs
    assert c.by_sku.loc[0, "pretrend_p"] == 1.0 and not c.by_sku.loc[0, "pretrend_differs"]
    # the chart series covers every week used, relative to the 4 pre weeks
    assert c.series["time"].tolist() == list(range(-4, 4))
    assert c.series.loc[c.series["time"] >= 0, "treated"].tolist() == pytest.approx([0.6, 0.7, 0.6, 0.7])


@pytest.mark.parametrize("slope", [1.0, -1.0])
def test_cannibalization_pretrend_fires_when_the_incumbent_was_already_drifting(tmp_path, slope):
    from launch_helpers import build_pretrend
    from scipy import stats

    con, day = build_pretrend(tmp_path / "p.duckdb", slope)
    s = launch.resolve_launch(con, sku="N", window_days=28)
    c = launch.cannibalization_effect(con, s)
    pt = c.pretrend
    # the placebo: weeks -4..-1 against -8..-5, by hand (I moves by `slope` a week, K1 + K2 alternate ±0.2)
    i = {w: 15 + slope * (w + 4) for w in range(-8, 0)}
    k = {w: 30 + (0.2 if w % 2 else -0.2) for w in range(-8, 0)}
    i0, k0 = sum(i[w] for w in range(-8, -4)) / 4, sum(k[w] for w in range(-8, -4)) / 4
    d = [i[w] / i0 - k[w] / k0 for w in range(-8, 0)]
    assert pt.estimate == pytest.approx(sum(d[4:]) / 4 - sum(d[:4]) / 4)
    assert pt.p == pytest.approx(stats.ttest_ind(d[4:], d[:4], equal_var=False).pvalue)
    assert pt.differs and pt.p < 0.01 and np.sign(pt.estimate) == np.sign(slope)
    assert bool(c.by_sku.loc[0, "pretrend_differs"])


def test_cannibalization_pretrend_skipped_with_too_little_history(cannib):
    con, day = cannib
    s = launch.make_spec(con, ["N"], day, 14)
    short = launch.make_spec(con, ["N"], day, 14, data_range=(day - dt.timedelta(days=14), s.data_end))
    c = launch.cannibalization_effect(con, short)
    assert c.skip is None and c.did is not None
    # 2 weeks of history, 1 treated SKU: a Welch placebo needs 2 weeks on each side
    assert c.pretrend is None and c.pretrend_skipped == "too_few_pre_weeks"


def test_metrics_carry_the_pretrend(tmp_path):
    import json

    from launch_helpers import build_pretrend

    con, day = build_pretrend(tmp_path / "p.duckdb", 1.0)
    rv = launch.prepare(con, LaunchReviewParams(sku="N", window_days=28))
    m = launch.metrics(rv)
    pt = m["cannibalization_pretrend"]
    assert set(pt) >= {"p", "estimate", "lo", "hi", "differs", "method", "weeks_before", "weeks_after"}
    assert pt["differs"] is True and pt["p"] == pytest.approx(rv.cannibalization.pretrend.p)
    assert pt["weeks_before"] == pt["weeks_after"] == 4 and pt["skus_differing"] == ["I"]
    assert m["cannibalization_did"]["p"] == pytest.approx(rv.cannibalization.did.p)
    json.dumps(m, allow_nan=False)

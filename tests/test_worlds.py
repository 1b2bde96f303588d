"""Null worlds and planted effects across seeds.

A demo world that plants its effects exactly the way the reports measure them cannot catch a
leak. The demo world therefore carries the traps of real data (docs/DEMO_WORLD.md): sales stop
on the exit day while targets stay monthly, promotions and awards grow more likely with tenure,
monthly demand carries AR(1) shocks. These tests build many small worlds and check the reports'
error rates, not one lucky seed.

How the bounds are set
----------------------
Each world gives one yes/no outcome per check ("the retention report calls some feature
significant", "the trend test rejects at 5 %", "a planted HR falls outside its 95 % CI"). If the
report's method has the error rate it claims, alpha, the number of such outcomes over n
independent worlds (different seeds) is at most Binomial(n, alpha). A check fails when the
count exceeds ``binomial_limit(n, alpha)``: the largest count c with P(X > c) <= 1 % under
Binomial(n, alpha), a one-sided binomial bound, so a correct method fails a check in fewer than
1 run in 100 whatever the seeds. Family-wise: the retention report adjusts its features' p-values
with Benjamini–Hochberg at 5 %; in a null world every hypothesis is true, so the false discovery
rate equals the family-wise error rate and P(any feature called significant) <= 5 %.
For 20 worlds at alpha = 5 % the limit is 4 (P(X >= 5) = 0.3 %).

Run ``python tests/test_worlds.py --null 20 --planted 20`` to measure the shares on more seeds
(it prints one line per world and the totals).
"""
from __future__ import annotations

import gc
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

SCALE = 0.01  # 300 retailers (the minimum); the workforce (≈ 600 reps, ≈ 400 exits) is the same at every scale
ALPHA = 0.05
FALSE_ALARM = 0.01
NULL_SEEDS = tuple(range(101, 121))  # 20 null worlds
PLANTED_SEEDS = (42, 7, 1234, 2027, 31337)  # a handful; the measured share over 20 seeds is in the docs
PLANTED = ("payout_delay_days", "team_bonus_share", "promoted_last_12m", "attainment")


def binomial_limit(n: int, alpha: float = ALPHA, false_alarm: float = FALSE_ALARM) -> int:
    """Largest count c with P(X > c) <= ``false_alarm`` for X ~ Binomial(n, alpha).

    Parameters
    ----------
    n : int
        Number of independent trials (worlds, or world × feature pairs).
    alpha : float
        Error rate per trial that the method claims.
    false_alarm : float
        Chance that a correct method exceeds the limit.

    Returns
    -------
    int

    Examples
    --------
    >>> binomial_limit(20, 0.05)
    4
    """
    from scipy.stats import binom

    c = 0
    while binom.sf(c, n, alpha) > false_alarm:
        c += 1
    return c


# ---------------------------------------------------------------------------------------------
# running the reports on one world
# ---------------------------------------------------------------------------------------------
@dataclass
class WorldResult:
    seed: int
    null: bool
    truth: dict
    significant_features: list[str] | None = None  # the retention report's (None: not reported)
    hazard_ratios: dict[str, dict[str, float]] = field(default_factory=dict)  # report's adjusted HRs
    logrank_p: dict[str, float] = field(default_factory=dict)  # report's KM curves by feature
    trend: dict[str, Any] | None = None  # the trends report's trend test (metrics["trend"])
    mk_p: float | None = None  # the plain Mann–Kendall p of the trend section (older reports)
    independent: pd.DataFrame | None = None  # PHReg on the demo-world definitions (test_demo)
    naive_bonus_hi: float | None = None
    adjusted_null: pd.DataFrame | None = None  # PHReg with the plants + bonus + training hours
    errors: list[str] = field(default_factory=list)


def build_world(tmp: Path, seed: int, null: bool) -> tuple[Path, dict]:
    """Build a small world into ``tmp``; (store path, truth record)."""
    import json

    from analysis import demo

    store = tmp / f"w{seed}{'n' if null else 'p'}.duckdb"
    truth = tmp / f"t{seed}{'n' if null else 'p'}.json"
    demo.build(store=str(store), seed=seed, scale=SCALE, truth_path=truth, null=null)
    return store, json.loads(truth.read_text(encoding="utf-8"))


def retention_metrics(con: Any) -> tuple[dict, dict[str, float]]:
    """The retention report's metrics.json figures with its default parameters (as its notebook
    computes them: ``retention.report_metrics``), and the log-rank p of each curve section."""
    from analysis import retention as rt

    m = rt.report_metrics(con, n_boot=100)  # the default parameters; the bootstrap only sets correlation CIs
    lr = {f: c["logrank"]["p"] for f, c in (m.get("curves") or {}).items()
          if c.get("logrank") and c["logrank"].get("p") is not None}
    return m, lr


def trend_metrics(con: Any) -> tuple[dict | None, float | None]:
    """The trends report's trend test as metrics.json carries it (``trend``), default parameters,
    and the plain Mann–Kendall p of its trend section when it has one."""
    from analysis import trends

    scope = trends.prepare(con)
    tr = trends.trend(scope)
    mk = getattr(tr, "mk", None)
    mk_p = float(mk.p_value) if mk is not None and hasattr(mk, "p_value") else None
    t = tr.metrics().get("trend")
    return (t if isinstance(t, dict) else None), mk_p


def run_world(tmp: Path, seed: int, null: bool, independent: bool = True) -> WorldResult:
    """Build one world, run the retention and trends reports' figures on it, then delete it."""
    import duckdb

    from analysis import store as store_mod

    path, truth = build_world(tmp, seed, null)
    res = WorldResult(seed, null, truth)
    con = store_mod.connect(str(path), read_only=True)
    try:
        try:
            m, res.logrank_p = retention_metrics(con)
            res.significant_features = m.get("significant_features")
            res.hazard_ratios = m.get("hazard_ratios", {})
        except Exception as exc:  # noqa: BLE001 - recorded, the test says which world failed
            res.errors.append(f"retention: {type(exc).__name__}: {exc}")
        try:
            res.trend, res.mk_p = trend_metrics(con)
        except Exception as exc:  # noqa: BLE001
            res.errors.append(f"trends: {type(exc).__name__}: {exc}")
    finally:
        con.disconnect()
    if independent:
        from test_demo import HAZARD_FEATURES, fit_hazard, hazard_panel

        db = duckdb.connect(str(path), read_only=True)
        try:
            panel = hazard_panel(db)
            res.independent = fit_hazard(panel, HAZARD_FEATURES)
            res.naive_bonus_hi = float(fit_hazard(panel, ["bonus_per_month"]).loc["bonus_per_month", "hi"])
            res.adjusted_null = fit_hazard(panel, HAZARD_FEATURES + ["bonus_per_month", "training_hours"])
        finally:
            db.close()
    for f in path.parent.glob(path.name + "*"):
        f.unlink()
    gc.collect()
    return res


def _p_ok(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(float(x))


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def null_worlds(tmp_path_factory) -> list[WorldResult]:
    tmp = tmp_path_factory.mktemp("null_worlds")
    return [run_world(tmp, s, True, independent=False) for s in NULL_SEEDS]


@pytest.fixture(scope="module")
def planted_worlds(tmp_path_factory) -> list[WorldResult]:
    tmp = tmp_path_factory.mktemp("planted_worlds")
    return [run_world(tmp, s, False) for s in PLANTED_SEEDS]


def test_binomial_limit():
    from scipy.stats import binom

    assert binomial_limit(20) == 4
    assert binom.sf(4, 20, 0.05) <= 0.01 < binom.sf(3, 20, 0.05)
    assert binomial_limit(20, 0.05, 0.05) == 3


def test_null_truth_record(tmp_path):
    """The null world says what it is: every planted hazard ratio is 1, no cannibalisation."""
    import duckdb

    path, truth = build_world(tmp_path, 3, True)
    assert truth["null"] is True
    assert truth["hazard_ratios"] == {k: 1.0 for k in PLANTED}
    assert truth["confounded"] == {"feature": "bonus_per_month", "hazard_ratio": 1.0}
    assert truth["cannibalization"]["share_of_new_volume"] == 0.0
    # no growth: the amount of the last 12 months is that of the first 12 (the difference of two
    # 12-month means of AR(1) shocks has sd ≈ 2.5 %; the planted world grows by about 20 %)
    db = duckdb.connect(str(path), read_only=True)
    first, last = db.execute("""SELECT sum(amount) FILTER (WHERE order_date < DATE '2024-11-01'),
                                       sum(amount) FILTER (WHERE order_date >= DATE '2025-11-01') FROM orders""").fetchone()
    db.close()
    assert abs(last / first - 1) < 0.08, last / first


# ---------------------------------------------------------------------------------------------
# null worlds: the reports hold their error rates
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_null_worlds_retention_calls_nothing_significant(null_worlds):
    """Over 20 null worlds, the share in which the retention report calls any feature significant
    (Benjamini–Hochberg, 5 %) stays within the family-wise 5 % plus sampling error."""
    errors = [(w.seed, e) for w in null_worlds for e in w.errors if e.startswith("retention")]
    assert not errors, errors
    assert all(w.significant_features is not None for w in null_worlds), "metrics lack significant_features"
    hits = [(w.seed, w.significant_features) for w in null_worlds if w.significant_features]
    limit = binomial_limit(len(null_worlds))
    assert len(hits) <= limit, (f"{len(hits)} of {len(null_worlds)} null worlds had a significant feature "
                                f"(limit {limit}): {hits}")


@pytest.mark.slow
def test_null_worlds_no_estimate_is_nan(null_worlds):
    """Every hazard ratio the report carries is a number (a failed fit is not an estimate)."""
    bad = [(w.seed, k) for w in null_worlds for k, v in w.hazard_ratios.items()
           if not all(_p_ok(v.get(c)) for c in ("hr", "lo", "hi", "p"))]
    assert not bad, bad


@pytest.mark.slow
def test_null_worlds_attainment_does_not_leak(null_worlds):
    """Attainment (a control) has no effect on leaving in the null world: its p-value is below 5 %
    in no more worlds than a 5 % test allows. Attainment measured in the exit month (sales stop on
    the exit day, the target is for the month) would come out hugely 'protective' every time."""
    ps = [(w.seed, w.hazard_ratios.get("attainment", {}).get("p")) for w in null_worlds]
    ps = [(s, p) for s, p in ps if p is not None]
    assert len(ps) == len(null_worlds)
    hits = [(s, p) for s, p in ps if not _p_ok(p) or p < ALPHA]
    limit = binomial_limit(len(ps))
    assert len(hits) <= limit, (hits, limit)


@pytest.mark.slow
def test_null_worlds_trend_test_holds_its_level(null_worlds):
    """Sales have no trend in the null world but carry AR(1) shocks and the Spring Festival
    season: the trends report's trend test rejects at 5 % in no more worlds than its level allows."""
    errors = [(w.seed, e) for w in null_worlds for e in w.errors if e.startswith("trends")]
    assert not errors, errors
    assert all(w.trend is not None for w in null_worlds), "metrics lack trend"
    for w in null_worlds:
        assert {"method", "slope", "lo", "hi", "p"} <= set(w.trend), w.trend
        assert w.trend["lo"] <= w.trend["slope"] <= w.trend["hi"], w.trend
    hits = [(w.seed, w.trend["p"]) for w in null_worlds if w.trend["p"] < ALPHA]
    limit = binomial_limit(len(null_worlds))
    assert len(hits) <= limit, (f"{len(hits)} of {len(null_worlds)} trendless worlds called a trend "
                                f"(limit {limit}): {hits}")


# ---------------------------------------------------------------------------------------------
# planted worlds on several seeds
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_planted_hazards_recovered_across_seeds(planted_worlds):
    """The planted HRs (independent PHReg on the demo-world definitions, previous month's
    attainment): over seeds × 4 features, the 95 % CIs miss the planted value no more often than
    5 % allows, and every planted effect is detected (CI excludes 1) but for a binomial allowance."""
    misses, undetected = [], []
    for w in planted_worlds:
        fit = w.independent
        for f in PLANTED:
            hr = w.truth["hazard_ratios"][f]
            if not fit.loc[f, "lo"] <= hr <= fit.loc[f, "hi"]:
                misses.append((w.seed, f, fit.loc[f].round(3).to_dict()))
            if fit.loc[f, "lo"] <= 1.0 <= fit.loc[f, "hi"]:
                undetected.append((w.seed, f, fit.loc[f].round(3).to_dict()))
    n = len(planted_worlds) * len(PLANTED)
    assert len(misses) <= binomial_limit(n), misses
    assert len(undetected) <= binomial_limit(n), undetected


@pytest.mark.slow
def test_planted_hazards_in_report_across_seeds(planted_worlds):
    """The retention report's adjusted HRs hold the planted values (95 % CIs, binomial allowance
    over seeds × features) and call the planted features significant."""
    errors = [(w.seed, e) for w in planted_worlds for e in w.errors if e.startswith("retention")]
    assert not errors, errors
    misses = []
    for w in planted_worlds:
        for f in PLANTED:
            est, hr = w.hazard_ratios[f], w.truth["hazard_ratios"][f]
            if not est["lo"] <= hr <= est["hi"]:
                misses.append((w.seed, f, est))
    assert len(misses) <= binomial_limit(len(planted_worlds) * len(PLANTED)), misses
    # the features among the plants (attainment is a control) are found in most worlds
    feats = [f for f in PLANTED if f != "attainment"]
    found = sum(f in (w.significant_features or []) for w in planted_worlds for f in feats)
    assert found >= len(planted_worlds) * len(feats) - binomial_limit(len(planted_worlds) * len(feats)), found


@pytest.mark.slow
def test_bonus_confounded_across_seeds(planted_worlds):
    """Bonus has no effect of its own but follows attainment: naively protective (95 % CI below 1;
    19 of 20 seeds measured, so the same binomial allowance as for a 5 % miss rate); adjusted for
    the plants, bonus and training hours hold HR 1 (95 % CIs, binomial allowance over seeds × 2)."""
    not_protective = [(w.seed, w.naive_bonus_hi) for w in planted_worlds if not w.naive_bonus_hi < 1.0]
    assert len(not_protective) <= binomial_limit(len(planted_worlds)), not_protective
    misses = [(w.seed, f, w.adjusted_null.loc[f].round(4).to_dict()) for w in planted_worlds
              for f in ("bonus_per_month", "training_hours")
              if not w.adjusted_null.loc[f, "lo"] <= 1.0 <= w.adjusted_null.loc[f, "hi"]]
    assert len(misses) <= binomial_limit(2 * len(planted_worlds)), misses


@pytest.mark.slow
def test_planted_trend_found_across_seeds(planted_worlds):
    """The planted growth (5 % a year, a drift to dearer classes, new brands) is found by the trends
    report's trend test on most seeds, with a positive slope."""
    assert all(w.trend is not None for w in planted_worlds), "metrics lack trend"
    found = [w.seed for w in planted_worlds if w.trend["p"] < ALPHA and w.trend["slope"] > 0]
    missed = len(planted_worlds) - len(found)
    assert missed <= binomial_limit(len(planted_worlds)), [(w.seed, w.trend) for w in planted_worlds]


# ---------------------------------------------------------------------------------------------
# measuring the shares on more seeds
# ---------------------------------------------------------------------------------------------
def _summary_line(w: WorldResult) -> str:
    sig = w.significant_features
    hr = w.hazard_ratios
    unadj = sorted(k for k, v in hr.items() if "[" not in k and k != "attainment" and _p_ok(v.get("p"))
                   and v["p"] < ALPHA)
    nan = sorted(k for k, v in hr.items() if not _p_ok(v.get("p")))
    att_p = hr.get("attainment", {}).get("p")
    lr = {k: round(v, 4) for k, v in w.logrank_p.items()}
    parts = [f"seed={w.seed}", f"null={w.null}", f"significant_features={sig}", f"unadjusted_p<.05={unadj}",
             f"nan={nan}", f"attainment_p={att_p if att_p is None else round(att_p, 5)}", f"logrank_p={lr}",
             f"trend={w.trend}", f"mk_p={w.mk_p if w.mk_p is None else round(w.mk_p, 5)}"]
    if w.independent is not None:
        fit = w.independent
        cover = [f for f in PLANTED if fit.loc[f, "lo"] <= w.truth["hazard_ratios"][f] <= fit.loc[f, "hi"]]
        detect = [f for f in PLANTED if not fit.loc[f, "lo"] <= 1.0 <= fit.loc[f, "hi"]]
        rep_cover = [f for f in PLANTED if f in hr and hr[f]["lo"] <= w.truth["hazard_ratios"][f] <= hr[f]["hi"]]
        parts += [f"independent_cover={len(cover)}/4", f"independent_detect={len(detect)}/4",
                  f"report_cover={len(rep_cover)}/4", f"naive_bonus_hi={w.naive_bonus_hi:.5f}"]
    if w.errors:
        parts.append(f"errors={w.errors}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> None:
    """Measure the null and planted shares over more seeds (prints one line per world)."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--null", type=int, default=20, help="null worlds (seeds 1001…)")
    ap.add_argument("--planted", type=int, default=20, help="planted worlds (seeds 2001…)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        results = []
        for i in range(args.null):
            results.append(run_world(Path(d), 1001 + i, True, independent=True))
            print(_summary_line(results[-1]), flush=True)
        for i in range(args.planted):
            results.append(run_world(Path(d), 2001 + i, False))
            print(_summary_line(results[-1]), flush=True)
    nulls = [w for w in results if w.null]
    planted = [w for w in results if not w.null]

    def share(k: int, n: int) -> str:
        return f"{k}/{n} = {k / n:.0%}" if n else "-"

    if nulls:
        print("NULL worlds:", len(nulls), "limit at 5 %:", binomial_limit(len(nulls)))
        print("  significant_features non-empty:",
              share(sum(bool(w.significant_features) for w in nulls), len(nulls)),
              "(None = not reported:", sum(w.significant_features is None for w in nulls), ")")
        print("  any feature unadjusted p < .05:", share(sum(any(
            _p_ok(v.get("p")) and v["p"] < ALPHA for k, v in w.hazard_ratios.items()
            if "[" not in k and k != "attainment") for w in nulls), len(nulls)))
        print("  any HR NaN:", share(sum(any(not _p_ok(v.get("p")) for v in w.hazard_ratios.values())
                                         for w in nulls), len(nulls)))
        print("  attainment p < .05:", share(sum(not _p_ok(w.hazard_ratios.get("attainment", {}).get("p", 0.0))
                                                 or w.hazard_ratios["attainment"]["p"] < ALPHA for w in nulls
                                                 if "attainment" in w.hazard_ratios), len(nulls)))
        for f in sorted({k for w in nulls for k in w.logrank_p}):
            print(f"  log-rank {f} p < .05:", share(sum(w.logrank_p.get(f, 1.0) < ALPHA for w in nulls), len(nulls)))
        print("  trend p < .05:", share(sum(w.trend is not None and w.trend["p"] < ALPHA for w in nulls), len(nulls)),
              "(None:", sum(w.trend is None for w in nulls), ")")
        print("  plain Mann-Kendall p < .05:", share(sum(w.mk_p is not None and w.mk_p < ALPHA for w in nulls),
                                                     len(nulls)))
        print("  independent PHReg (lagged attainment), any of 4 CIs excludes 1:",
              share(sum(any(not w.independent.loc[f, "lo"] <= 1.0 <= w.independent.loc[f, "hi"] for f in PLANTED)
                        for w in nulls), len(nulls)))
    if planted:
        n = len(planted)
        print("PLANTED worlds:", n)
        ind_all = sum(all(w.independent.loc[f, "lo"] <= w.truth["hazard_ratios"][f] <= w.independent.loc[f, "hi"]
                          and not w.independent.loc[f, "lo"] <= 1.0 <= w.independent.loc[f, "hi"] for f in PLANTED)
                      for w in planted)
        print("  independent PHReg: all 4 CIs hold the plant and exclude 1:", share(ind_all, n))
        miss = sum(not w.independent.loc[f, "lo"] <= w.truth["hazard_ratios"][f] <= w.independent.loc[f, "hi"]
                   for w in planted for f in PLANTED)
        print("  independent PHReg: CI misses over seeds x 4:", share(miss, 4 * n),
              "limit", binomial_limit(4 * n))
        rep_all = sum(all(f in w.hazard_ratios and w.hazard_ratios[f]["lo"] <= w.truth["hazard_ratios"][f]
                          <= w.hazard_ratios[f]["hi"] for f in PLANTED) for w in planted)
        print("  report: all 4 CIs hold the plant:", share(rep_all, n))
        print("  naive bonus protective:", share(sum(w.naive_bonus_hi < 1 for w in planted), n))
        print("  adjusted bonus / training CI holds 1:",
              share(sum(w.adjusted_null.loc["bonus_per_month", "lo"] <= 1 <= w.adjusted_null.loc["bonus_per_month", "hi"]
                        for w in planted), n), "/",
              share(sum(w.adjusted_null.loc["training_hours", "lo"] <= 1 <= w.adjusted_null.loc["training_hours", "hi"]
                        for w in planted), n))
        print("  trend found (p < .05, slope > 0):", share(sum(w.trend is not None and w.trend["p"] < ALPHA
                                                               and w.trend["slope"] > 0 for w in planted), n),
              "| plain MK:", share(sum(w.mk_p is not None and w.mk_p < ALPHA for w in planted), n))


if __name__ == "__main__":
    main()

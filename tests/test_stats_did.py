"""analysis.stats.did against hand-computed 2×2 means, a numpy sandwich estimator and scipy's Welch test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import InsufficientDataError, ParameterError
from analysis.stats import did as dd


def _panel(values: dict[str, list[float]], treated: set[str], n_pre: int) -> pd.DataFrame:
    rows = []
    for u, ys in values.items():
        for t, y in enumerate(ys):
            rows.append({"unit": u, "time": t - n_pre, "y": y, "treated": u in treated, "post": t >= n_pre})
    return pd.DataFrame(rows)


VALUES = {
    "t1": [10, 12, 11, 7, 8, 6],
    "t2": [20, 19, 21, 18, 16, 17],
    "c1": [30, 31, 29, 33, 32, 31],
    "c2": [5, 6, 4, 5, 6, 5],
    "c3": [12, 11, 13, 12, 14, 13],
}


def test_aggregate_equals_hand_2x2():
    p = _panel(VALUES, {"t1", "t2"}, 3)
    r = dd.aggregate_did(p)
    t_pre, t_post = (10 + 12 + 11 + 20 + 19 + 21) / 3, (7 + 8 + 6 + 18 + 16 + 17) / 3
    c_pre, c_post = (30 + 31 + 29 + 5 + 6 + 4 + 12 + 11 + 13) / 3, (33 + 32 + 31 + 5 + 6 + 5 + 12 + 14 + 13) / 3
    hand = (t_post / t_pre - 1) - (c_post / c_pre - 1)
    assert r.estimate == pytest.approx(hand)
    assert r.baseline_treated == pytest.approx(t_pre) and r.baseline_control == pytest.approx(c_pre)
    # the CI is a Welch interval of the weekly differences, post vs pre
    d = r.series["diff"].to_numpy()
    welch = stats.ttest_ind(d[3:], d[:3], equal_var=False).confidence_interval(0.95)
    assert (r.lo, r.hi) == pytest.approx((welch.low, welch.high))
    assert r.series.loc[~r.series["post"], "treated"].mean() == pytest.approx(1.0)


def test_panel_estimate_equals_2x2_and_sandwich_by_hand():
    p = _panel(VALUES, {"t1", "t2"}, 3)
    r = dd.panel_did(p)
    assert r.method == "panel"
    assert r.estimate == pytest.approx(dd.aggregate_did(p).estimate)
    # independent cluster-robust (CR1) sandwich with numpy
    units = list(VALUES)
    base = {u: np.mean(VALUES[u][:3]) for u in units}
    rows, y, w, g = [], [], [], []
    for i, u in enumerate(units):
        for t in range(6):
            x = np.zeros(len(units) + 5 + 1)
            x[i] = 1
            if t > 0:
                x[len(units) + t - 1] = 1
            x[-1] = float(u.startswith("t") and t >= 3)
            rows.append(x)
            y.append(VALUES[u][t] / base[u])
            w.append(base[u])
            g.append(i)
    X, y, w, g = np.array(rows), np.array(y), np.array(w), np.array(g)
    W = np.diag(w)
    bread = np.linalg.inv(X.T @ W @ X)
    beta = bread @ X.T @ W @ y
    u_ = y - X @ beta
    meat = sum(np.outer(X[g == k].T @ (w[g == k] * u_[g == k]), X[g == k].T @ (w[g == k] * u_[g == k]))
               for k in range(len(units)))
    n, k, G = len(y), X.shape[1], len(units)
    V = bread @ meat @ bread * (G / (G - 1)) * ((n - 1) / (n - k))
    se = np.sqrt(V[-1, -1])
    assert r.estimate == pytest.approx(beta[-1])
    assert r.se == pytest.approx(se, rel=1e-6)
    tq = stats.t.ppf(0.975, G - 1)
    assert (r.lo, r.hi) == pytest.approx((beta[-1] - tq * se, beta[-1] + tq * se), rel=1e-6)


def test_dispatch_and_single_unit():
    p = _panel(VALUES, {"t1"}, 3)
    r = dd.did(p)
    assert r.method == "aggregate" and r.n_treated == 1
    assert dd.did(_panel(VALUES, {"t1", "t2"}, 3)).method == "panel"


def test_no_effect_ci_covers_zero_and_planted_effect_found():
    rng = np.random.default_rng(0)
    vals = {f"u{i}": list(100 + rng.normal(0, 2, 8)) for i in range(10)}
    r0 = dd.did(_panel(vals, {"u0", "u1", "u2"}, 4))
    assert r0.lo < 0 < r0.hi
    hit = {k: (v[:4] + [x * 0.7 for x in v[4:]] if k in {"u0", "u1", "u2"} else v) for k, v in vals.items()}
    r1 = dd.did(_panel(hit, {"u0", "u1", "u2"}, 4))
    assert r1.hi < 0 and r1.estimate == pytest.approx(-0.3, abs=0.03)


def test_share_of_new_volume():
    r = dd.DidResult(-0.1, -0.15, -0.05, 0.02, 5, 4, 4, 1, 9, 100.0, 900.0)
    s = dd.share_of_new_volume(r, 30, 600.0)
    # lost = 0.1 × 100 per day × 30 days = 300 of 600
    assert s == pytest.approx({"estimate": 0.5, "lo": 0.25, "hi": 0.75})
    assert dd.share_of_new_volume(r, 30, 0.0)["estimate"] is None


def test_errors():
    p = _panel(VALUES, {"t1"}, 3)
    with pytest.raises(ParameterError):
        dd.aggregate_did(p.drop(columns="post"))
    with pytest.raises(InsufficientDataError):
        dd.aggregate_did(p, min_periods=4)
    bad = p.copy()
    bad.loc[0, "treated"] = False
    with pytest.raises(ParameterError):
        dd.aggregate_did(bad)
    with pytest.raises(InsufficientDataError):
        dd.panel_did(p)

"""analysis.stats.correlation against scipy / statsmodels and a plain-loop bootstrap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analysis.errors import ParameterError
from analysis.stats import correlation as cm


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30))
def test_bh_matches_statsmodels(ps):
    ref = multipletests(ps, method="fdr_bh")[1]
    np.testing.assert_allclose(cm.bh_adjust(ps), ref, rtol=1e-12, atol=1e-15)


def test_bh_by_hand_and_nan():
    # sorted p: .01 .02 .03 .04 (m = 4): .04, .04, .04, .04 after monotone step-up
    assert cm.bh_adjust([0.04, 0.01, 0.03, 0.02]).tolist() == pytest.approx([0.04] * 4)
    assert cm.bh_adjust([0.001, 0.5]).tolist() == pytest.approx([0.002, 0.5])
    out = cm.bh_adjust([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)


def _frame(seed=0, n=200):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 0.5)))).astype(float)
    b = (rng.random(n) < 0.3).astype(float)
    return pd.DataFrame({"x": x, "b": b, "noise": rng.normal(size=n), "y": y})


def test_estimates_match_scipy():
    df = _frame()
    out = cm.correlate(df, ["x", "b", "noise"], "y", n_boot=200).set_index("feature")
    rho, p = sps.spearmanr(df["x"], df["y"])
    assert out.loc["x", "method"] == "spearman"
    assert out.loc["x", "rho"] == pytest.approx(rho, rel=1e-12)
    assert out.loc["x", "p"] == pytest.approx(p, rel=1e-9)
    r, p = sps.pointbiserialr(df["b"], df["y"])
    assert out.loc["b", "method"] == "pointbiserial"
    assert out.loc["b", "rho"] == pytest.approx(r, rel=1e-12)
    assert out.loc["b", "p"] == pytest.approx(p, rel=1e-9)
    np.testing.assert_allclose(out["p_adj"].to_numpy(), multipletests(out["p"].to_numpy(), method="fdr_bh")[1])


def test_bootstrap_equals_a_plain_loop_and_is_reproducible():
    df = _frame(seed=4, n=80)
    a = cm.correlate(df, ["x"], "y", n_boot=300, seed=9)
    b = cm.correlate(df, ["x"], "y", n_boot=300, seed=9)
    pd.testing.assert_frame_equal(a, b)
    # the same resamples drawn by hand, one scipy call per resample
    rng = np.random.default_rng(9)
    idx = rng.integers(0, len(df), size=(300, len(df)))
    x, y = df["x"].to_numpy(), df["y"].to_numpy()
    boots = np.array([sps.spearmanr(x[i], y[i])[0] for i in idx])
    lo, hi = np.quantile(boots[~np.isnan(boots)], [0.025, 0.975])
    assert a.loc[0, "lo"] == pytest.approx(lo, rel=1e-10)
    assert a.loc[0, "hi"] == pytest.approx(hi, rel=1e-10)
    assert a.loc[0, "lo"] < a.loc[0, "rho"] < a.loc[0, "hi"]
    c = cm.correlate(df, ["x"], "y", n_boot=300, seed=10)
    assert c.loc[0, "lo"] != a.loc[0, "lo"]


def test_constant_feature_gives_nan_not_error():
    df = _frame().assign(k=1.0)
    out = cm.correlate(df, ["k", "x"], "y", n_boot=50).set_index("feature")
    assert np.isnan(out.loc["k", "rho"]) and np.isnan(out.loc["k", "p_adj"])
    assert not np.isnan(out.loc["x", "p_adj"])


def test_errors():
    with pytest.raises(ParameterError):
        cm.correlate(_frame(), ["x"], "y", method="kendall")
    with pytest.raises(ParameterError):
        cm.correlate(_frame(), ["x"], "y", n_boot=0)


def test_correlation_matrix_is_spearman():
    df = _frame()
    m = cm.correlation_matrix(df, ["x", "noise", "y"])
    assert m.loc["x", "noise"] == pytest.approx(sps.spearmanr(df["x"], df["noise"])[0], rel=1e-12)

"""analysis.privacy: small-group suppression with complementary suppression; identifying columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import privacy
from analysis.errors import ParameterError


def test_one_way_primary_and_complementary():
    df = pd.DataFrame({"region": list("abcd"), "people": [3, 12, 40, 9], "exits": [1, 4, 10, 2],
                       "rate": [1 / 3, 4 / 12, 10 / 40, 2 / 9]})
    out = privacy.suppress_small(df, "people", 5, dims=["region"])
    f = out.frame.set_index("region")
    # a (3 people) is hidden with its exits and rate; d (9, the smallest shown) hides too,
    # otherwise a = total - b - c - d could be worked out
    assert f.loc["a"].isna().all() and f.loc["d"].isna().all()
    assert f.loc["b", "people"] == 12 and f.loc["c", "rate"] == pytest.approx(0.25)
    assert (out.n_suppressed, out.n_primary, out.n_complementary) == (2, 1, 1)


def test_two_hidden_need_no_complement_and_no_total_needs_none():
    df = pd.DataFrame({"g": list("abc"), "people": [2, 4, 30]})
    assert privacy.suppress_small(df, "people", 5, dims=["g"]).n_suppressed == 2
    one = pd.DataFrame({"g": list("ab"), "people": [2, 30]})
    assert privacy.suppress_small(one, "people", 5, dims=["g"], has_total=False).n_suppressed == 1
    assert privacy.suppress_small(one, "people", 5, dims=["g"]).n_suppressed == 2


def test_zero_cells_are_not_small_groups():
    df = pd.DataFrame({"g": list("abc"), "people": [0, 6, 7]})
    assert privacy.suppress_small(df, "people", 5, dims=["g"]).n_suppressed == 0


def test_two_way_rows_and_columns():
    # region x cohort; (a, 2024) = 2 is hidden; its row and column each need a second hidden cell
    df = pd.DataFrame({
        "region": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
        "cohort": ["2023", "2024", "2025"] * 3,
        "people": [10, 2, 8, 20, 9, 30, 15, 25, 6],
    })
    out = privacy.suppress_small(df, "people", 5, dims=["region", "cohort"])
    hidden = out.frame["people"].isna().to_numpy()
    grid = pd.DataFrame(hidden.reshape(3, 3), index=list("abc"), columns=["2023", "2024", "2025"])
    assert grid.loc["a", "2024"]
    # no row or column is left with exactly one hidden cell
    assert not (grid.sum(axis=1) == 1).any()
    assert not (grid.sum(axis=0) == 1).any()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=12), st.integers(1, 10))
def test_invariants_one_way(sizes, k):
    df = pd.DataFrame({"g": [f"g{i}" for i in range(len(sizes))], "people": sizes})
    out = privacy.suppress_small(df, "people", k, dims=["g"])
    shown = out.frame["people"].dropna().astype(int)
    assert ((shown >= k) | (shown == 0)).all()
    n_hidden = int(out.frame["people"].isna().sum())
    assert n_hidden == out.n_suppressed
    assert n_hidden != 1 or len(sizes) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=9, max_size=9), st.integers(2, 8))
def test_invariants_two_way(sizes, k):
    df = pd.DataFrame({"r": np.repeat(list("abc"), 3), "c": list("xyz") * 3, "people": sizes})
    out = privacy.suppress_small(df, "people", k, dims=["r", "c"])
    grid = out.frame["people"].isna().to_numpy().reshape(3, 3)
    shown = out.frame["people"].dropna().astype(int)
    assert ((shown >= k) | (shown == 0)).all()
    assert not (grid.sum(axis=1) == 1).any() and not (grid.sum(axis=0) == 1).any()


def test_errors_and_identifying_columns():
    with pytest.raises(ParameterError):
        privacy.suppress_small(pd.DataFrame({"n": [1]}), "people")
    with pytest.raises(ParameterError):
        privacy.suppress_small(pd.DataFrame({"n": [1]}), "n", 0)
    df = pd.DataFrame({"rep_id": ["R1"], "name": ["张三"], "base_pay": [4200.0], "individual_bonus": [1.0],
                       "team_bonus": [1.0], "MonthlyIncome": [5000], "region": ["市区"], "team_bonus_share": [0.3]})
    assert list(privacy.drop_identifying(df).columns) == ["region", "team_bonus_share"]
    assert privacy.min_people_ok(5, 5) and not privacy.min_people_ok(4, 5)

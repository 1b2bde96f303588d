"""metrics.json recorder (analysis.recorder)."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from analysis.recorder import ENV_VAR, Recorder, to_jsonable


def test_to_jsonable_plain_types():
    got = to_jsonable({
        "nan": float("nan"), "inf": np.float64("inf"), "i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True),
        "d": dt.date(2026, 10, 31), "ts": pd.Timestamp("2026-10-31 08:00"), "nat": pd.NaT,
        "arr": np.array([1, 2]), "s": pd.Series({"a": 1.5}), "df": pd.DataFrame({"x": [1], "y": ["甲"]}),
        "t": (1, None), 7: "key made str",
    })
    assert got == {
        "nan": None, "inf": None, "i": 3, "f": 0.5, "b": True, "d": "2026-10-31", "ts": "2026-10-31T08:00:00",
        "nat": None, "arr": [1, 2], "s": {"a": 1.5}, "df": [{"x": 1, "y": "甲"}], "t": [1, None], "7": "key made str",
    }
    assert type(got["i"]) is int and type(got["b"]) is bool


def test_recorder_writes_to_env_path(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "metrics.json"
    monkeypatch.setenv(ENV_VAR, str(target))
    rec = Recorder("sales_trends")
    assert rec.record("attainment", np.float64(0.953)) == 0.953  # returns the value for chaining
    rec.update({"region": "市区", "missing": float("nan")})
    path = rec.save()
    assert path == target
    text = target.read_text(encoding="utf-8")
    assert "市区" in text  # not \\u escaped
    assert json.loads(text) == {"report": "sales_trends", "attainment": 0.953, "region": "市区", "missing": None}
    assert not list(target.parent.glob("*.tmp"))


def test_recorder_explicit_path_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env.json"))
    rec = Recorder("x", path=tmp_path / "explicit.json")
    rec.save()
    assert (tmp_path / "explicit.json").exists() and not (tmp_path / "env.json").exists()


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.none()),
                       max_size=8))
def test_output_is_strict_json(values):
    text = json.dumps(to_jsonable(values), allow_nan=False)  # raises if a NaN/inf slipped through
    back = json.loads(text)
    for k, v in values.items():
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            assert back[str(k)] is None


def test_finish_returns_nothing_so_the_last_cell_shows_no_path(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from analysis.notebook import Context

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "m" / "metrics.json"))
    monkeypatch.delenv("SALES_ANALYSIS_WORKBOOK", raising=False)
    ctx = Context("sales_trends", SimpleNamespace(lang="zh"), None, Recorder("sales_trends"))
    from analysis.trends import Forecast

    ctx.present.sections.append(Forecast().skipped("too_short", needed=8, got=3))
    assert ctx.finish(total_amount=1.5) is None
    data = json.loads((tmp_path / "m" / "metrics.json").read_text(encoding="utf-8"))
    assert data["total_amount"] == 1.5 and data["skipped_sections"] == ["forecast"]
    assert ctx.metrics_path == tmp_path / "m" / "metrics.json"
    assert not list(tmp_path.rglob("*.xlsx"))  # no tables shown, no workbook

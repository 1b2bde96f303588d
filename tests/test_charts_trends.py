"""analysis.charts.trends: figures from small frames, labelled in the report's language."""
from __future__ import annotations

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis import charts  # noqa: E402
from analysis.charts import trends as ch  # noqa: E402
from analysis.errors import ParameterError  # noqa: E402


@pytest.fixture(autouse=True)
def _setup():
    charts.setup()
    yield
    plt.close("all")


def _texts(fig: Figure) -> str:
    ax = fig.axes[0]
    parts = [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
    parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    parts += [t.get_text() for t in ax.texts]
    leg = ax.get_legend()
    if leg:
        parts += [t.get_text() for t in leg.get_texts()]
    return " ".join(parts)


def test_attainment_bars_counts_and_labels():
    t = pd.DataFrame({"key": ["A", "B", "C", "D"], "attainment": [0.5, 0.8, np.nan, 1.1],
                      "action": [True, False, False, False]})
    fig = ch.attainment_bars(t, 0.6, "zh")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 3  # the undefined attainment is left out
    assert "完成率" in _texts(fig) and "时间进度" in _texts(fig)
    reds = [p for p in ax.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#d62728")]
    assert len(reds) == 1
    assert ax.lines[0].get_xdata()[0] == 0.6
    assert "Attainment" in _texts(ch.attainment_bars(t, 0.6, "en"))


def test_underperformer_lines():
    s = pd.DataFrame({"rep_id": ["R1"] * 3 + ["R2"] * 3, "month": pd.period_range("2026-08", periods=3, freq="M").tolist() * 2,
                      "attainment": [0.7, 0.8, 0.85, 0.6, 0.7, 0.8]})
    fig = ch.underperformer_lines(s, 0.9, "en")
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # two reps + the threshold
    assert "R1" in _texts(fig) and "Attainment" in _texts(fig)


def test_trend_chart_marks_anomalies():
    m = pd.period_range("2024-01", periods=24, freq="M")
    s = pd.DataFrame({"month": m, "observed": np.arange(24.0) * 1e5, "trend": np.arange(24.0) * 1e5,
                      "expected_low": np.arange(24.0) * 1e5 - 1, "expected_high": np.arange(24.0) * 1e5 + 1,
                      "anomaly": [False] * 23 + [True]})
    fig = ch.trend_chart(s, "zh")
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # the band and the anomaly markers
    assert ax.collections[1].get_offsets().shape[0] == 1
    assert "趋势" in _texts(fig) and "万元" in _texts(fig)


def test_spring_festival_chart_one_line_per_season():
    a = pd.DataFrame({"season": [2025] * 3 + [2026] * 3, "offset": [-1, 0, 1] * 2, "cumulative": [1, 2, 3, 2, 3, 5]})
    fig = ch.spring_festival_chart(a, "en")
    assert len(fig.axes[0].lines) == 3  # two seasons + the festival day
    assert "Days to festival" in _texts(fig)


def test_mix_chart_bars():
    t = pd.DataFrame({"price_class": ["一类", "二类"], "qty_share": [0.4, 0.6], "qty_share_ly": [0.5, 0.5]})
    fig = ch.mix_chart(t, "qty", "zh")
    assert len(fig.axes[0].patches) == 4
    assert "一类" in _texts(fig) and "销量占比" in _texts(fig)


def test_contribution_chart_signs():
    t = pd.DataFrame({"key": ["a", "b", "c"], "change": [-5.0, 2.0, 10.0]})
    fig = ch.contribution_chart(t, "en", max_rows=2)
    ax = fig.axes[0]
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == [-5.0, 10.0]  # the two largest absolute changes


def test_pareto_and_scatter_and_forecast():
    curve = pd.DataFrame({"customer_share": [0, 0.2, 1.0], "amount_share": [0, 0.6, 1.0]})
    assert "Share of customers" in _texts(ch.pareto_chart(curve, 0.2, "en"))
    t = pd.DataFrame({"coverage": [0.2, 0.5, 0.9], "attainment": [0.8, 0.9, 1.0]})
    fig = ch.coverage_scatter(t, 0.6, 0.3, 0.7, "zh")
    assert "经营指导面" in _texts(fig) and len(fig.axes[0].lines) == 2
    hist = pd.DataFrame({"period": pd.period_range("2025-01", periods=12, freq="M"), "value": np.arange(12.0)})
    f = pd.DataFrame({"period": pd.period_range("2026-01", periods=2, freq="M"), "mean": [12.0, 13],
                      "lo80": [11.0, 11], "hi80": [13.0, 15], "lo95": [10.0, 10], "hi95": [14.0, 16]})
    fig = ch.forecast_chart(hist, f, "en")
    assert len(fig.axes[0].collections) == 2 and "Forecast" in _texts(fig)


def test_bad_lang():
    with pytest.raises(ParameterError):
        ch.mix_chart(pd.DataFrame({"price_class": ["a"], "qty_share": [1.0]}), "qty", "fr")


def test_size_class_lines():
    m = pd.period_range("2026-01", periods=3, freq="M").tolist()
    big = pd.DataFrame({"month": m * 2, "size_class": ["small"] * 3 + ["large"] * 3, "amount": np.arange(6.0)})
    fig = ch.size_class_lines(big, "amount", "zh")
    assert len(fig.axes[0].lines) == 2
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["大户", "小户"]

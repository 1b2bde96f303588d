"""analysis.narrative.trends: written summaries (zh/en) and section rendering."""
from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from analysis import display
from analysis.errors import ParameterError
from analysis.narrative import trends as nt
from analysis.trends import Contribution, Headline, LevelAttainment, Mix, Skip, Underperformers


def _headline(attainment=0.775, ly=2000.0):
    rows = [
        {"measure": "amount", "current": 3100.0, "last_year": ly, "yoy": 3100 / ly - 1 if ly else np.nan,
         "yoy_change": 3100 - ly, "previous": 1100.0, "mom": 3100 / 1100 - 1, "mom_change": 2000.0,
         "ytd": 5200.0, "ytd_last_year": np.nan, "ytd_yoy": np.nan, "target": 4000.0, "attainment": attainment,
         "ytd_target": 6000.0, "ytd_attainment": 5200 / 6000},
        {"measure": "qty", "current": 13.0, "last_year": 9.0, "yoy": 13 / 9 - 1, "yoy_change": 4.0, "previous": 5.0,
         "mom": 1.6, "mom_change": 8.0, "ytd": 21.0, "ytd_last_year": np.nan, "ytd_yoy": np.nan, "target": np.nan,
         "attainment": np.nan, "ytd_target": np.nan, "ytd_attainment": np.nan},
    ]
    return Headline(period="2025-03", kind="month", time_elapsed=1.0, ytd_time_elapsed=90 / 365,
                    table=pd.DataFrame(rows))


def test_headline_summary_zh():
    s = nt.headline_summary(_headline(), "zh")
    assert s.startswith("2025年3月金额0.3万元")
    assert "同比增长55.0%（增加0.1万元）" in s
    assert "环比增长181.8%（增加0.2万元）" in s
    assert "完成率77.5%，时间进度100.0%，落后进度22.5个百分点" in s
    assert "累计完成率86.7%" in s
    assert "累计同比" not in s  # undefined: left out, never "nan"


def test_headline_summary_en():
    s = nt.headline_summary(_headline(), "en")
    assert s.startswith("March 2025: amount 3,100 yuan, +55.0% on last year (+1,100 yuan)")
    assert "Attainment 77.5% against 100.0% of time elapsed: 22.5 pp behind schedule." in s
    assert "nan" not in s.lower()


def test_headline_undefined_attainment_shows_dash():
    s = nt.headline_summary(_headline(attainment=np.nan), "zh")
    assert "完成率不适用（—）" in s
    k = nt.headline_kpis(_headline(attainment=np.nan), "en")
    assert k["Attainment"] == "—" and k["Amount"] == "3,100 yuan" and k["Year on year"] == "+55.0%"


def test_skip_text():
    assert nt.skip_text(Skip("missing_column", {"table": "orders", "column": "rep_id"}), "zh") == "「orders」表没有「rep_id」列"
    assert nt.skip_text(Skip("grain", {"grain": "yearly"}), "en") == "the data are at yearly grain"
    assert "年" in nt.skip_text(Skip("grain", {"grain": "yearly"}), "zh")
    with pytest.raises(ParameterError):
        nt.skip_text(Skip("no_data"), "fr")


def test_attainment_summary_names_action_points():
    t = pd.DataFrame({"key": ["A", "B"], "target": [2500.0, 0.0], "actual": [1600.0, 1500.0],
                      "attainment": [0.64, np.nan], "gap": [-900.0, np.nan], "last_year": [700.0, 1300.0],
                      "yoy": [1600 / 700 - 1, 1500 / 1300 - 1], "action": [True, False]})
    r = LevelAttainment(level="region", has_targets=True, table=t)
    zh = nt.attainment_summary(r, "zh")
    assert "共 2 项，其中 1 项有目标，1 项目标缺失或不大于零" in zh and "A（完成率64.0%，差额-0.1万元）" in zh
    en = nt.attainment_summary(r, "en")
    assert "A (attainment 64.0%, gap -900 yuan)" in en


def test_underperformers_and_mix_and_contribution_text():
    u = Underperformers(threshold=0.9, streak=3, months=["2025-01", "2025-02", "2025-03"], ids=["R1", "R3"])
    assert nt.underperformers_summary(u, "zh") == "2 名客户经理连续 3 个月（2025-01 至 2025-03）完成率低于90.0%：R1、R3。"
    m = Mix(shift_pp={"一类": 16.2, "二类": -16.2}, share_measure="qty")
    assert "一类 gained +16.2 pp" in nt.mix_summary(m, "en")
    assert "二类占比下降16.2个百分点" in nt.mix_summary(m, "zh")
    c = Contribution(level="region", table=pd.DataFrame({"key": ["B", "A"], "change": [200.0, 900.0]}),
                     total_current=3100.0, total_previous=2000.0, total_change=1100.0)
    en = nt.contribution_summary(c, "en")
    assert "+1,100 yuan" in en and en.index("A (+900 yuan)") < en.index("B (+200 yuan)")


class _Ctx:
    def __init__(self, lang="zh"):
        self.lang = lang
        self.skipped = []

    def skip(self, section, reason):
        self.skipped.append((section, reason))


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(display, "_show", out.append)
    monkeypatch.setattr(display, "figure", lambda fig: out.append("<figure>"))
    return out


def test_show_skipped_section_records_visible_note(shown):
    ctx = _Ctx("en")
    nt.show_mix(ctx, Mix(skip=Skip("missing_column", {"table": "orders", "column": "price_class"})))
    assert ctx.skipped == [("Price-class mix", "table 'orders' has no column 'price_class'")]
    assert shown == ["<h2>Price-class mix</h2>"]


def test_show_escapes_data(shown):
    ctx = _Ctx("zh")
    t = pd.DataFrame({"key": ["<script>x</script>"], "target": [np.nan], "actual": [1.0], "attainment": [np.nan],
                      "gap": [np.nan], "last_year": [2.0], "yoy": [-0.5], "action": [True]})
    nt.show_attainment(ctx, LevelAttainment(level="brand", has_targets=False, table=t), 1.0)
    html = "".join(shown)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "需制定措施" in html and "—" in html
    assert ctx.skipped == []


def test_show_headline(shown):
    ctx = _Ctx("zh")
    nt.show_headline(ctx, _headline())
    html = "".join(shown)
    assert "总体情况" in html and "77.5%" in html and "时间进度" in html and "3,100" in html


def _trend(anomalies, measure="qty", cycles=3):
    from analysis.stats.timeseries import seasonal_mann_kendall
    from analysis.trends import Trend

    x = 100 + 2.0 * np.arange(36) + np.tile([0.0, 5, 3, 1, 4, 2, 6, 3, 1, 0, 2, 5], 3)
    return Trend(test=seasonal_mann_kendall(x, ar1=0.4), test_start="2023-11", anomalies=anomalies, measure=measure,
                 anomaly_cycles=cycles)


def test_trend_summary_points_at_spring_festival():
    an = pd.DataFrame({"month": [pd.Period("2025-01", "M"), pd.Period("2026-02", "M")]})
    zh = nt.trend_summary(_trend(an), "zh")
    assert "显著上升" in zh and "2025-01、2026-02" in zh and "春节" in zh
    r2 = _trend(pd.DataFrame({"month": [pd.Period("2025-06", "M")]}))
    assert "Spring Festival" not in nt.trend_summary(r2, "en") and "2025-06" in nt.trend_summary(r2, "en")


def test_trend_summary_names_the_test_and_its_correction():
    r = _trend(pd.DataFrame({"month": []}))
    en, zh = nt.trend_summary(r, "en"), nt.trend_summary(r, "zh")
    assert "seasonal Mann–Kendall" in en and "lag-1 autocorrelation" in en and "φ = 0.40" in en
    assert "季节性 Mann–Kendall" in zh and "一阶自相关" in zh and "季节性 Sen 斜率" in zh
    assert "Over the last 36 months (from 2023-11)" in en and "近 36 个月（2023-11 起）" in zh
    assert "per month (95% CI 2 to 2)" in en  # a noiseless slope of 2 per month
    # the two-year rule is stated only when a month has two years and something was flagged
    two = _trend(pd.DataFrame({"month": [pd.Period("2025-06", "M")]}), cycles=2)
    assert "only two years" in nt.trend_summary(two, "en") and "只有两年" in nt.trend_summary(two, "zh")
    assert "only two years" not in en
    r.festival_adjusted = True
    assert "adjusted for the Spring Festival weeks" in nt.trend_summary(r, "en")
    assert "已扣除春节前三周" in nt.trend_summary(r, "zh")


def test_trend_summary_without_test():
    from analysis.trends import Skip, Trend

    r = Trend(test_skip=Skip("too_short", {"needed": 24, "got": 20}), anomalies=pd.DataFrame({"month": []}),
              notes=["no_stl"])
    assert nt.trend_summary(r, "en").startswith("Less than 24 months of history: no trend test")
    assert "未做趋势检验" in nt.trend_summary(r, "zh")


def _forecast(scaled=True):
    from analysis.stats.forecast import ForecastResult

    f = pd.DataFrame({"period": [pd.Period("2026-11", "M")], "mean": [1.0e7], "lo80": [9.0e6], "hi80": [1.1e7],
                      "lo95": [8.5e6], "hi95": [1.15e7]})
    return ForecastResult(model="sarima", forecast=f, backtest=pd.DataFrame(), backtest_mape=0.05, baseline_mape=0.08,
                          interval_method="backtest_scaled" if scaled else "model", interval_scale=1.43,
                          coverage={"80": 0.8, "95": 0.9333}, coverage_model={"80": 0.5667, "95": 0.7667},
                          coverage_n=30)


def test_forecast_summary_states_calibration_and_coverage():
    en, zh = nt.forecast_summary(_forecast(), "en"), nt.forecast_summary(_forecast(), "zh")
    assert "calibrated on the backtest's errors" in en and "× 1.43" in en
    assert "80% intervals covered 80.0%" in en and "95% intervals 93.3%" in en and "56.7% and 76.7%" in en
    assert "按回测误差校准" in zh and "乘以 1.43" in zh and "覆盖了 80.0%" in zh and "93.3%" in zh
    assert "model's own" in nt.forecast_summary(_forecast(scaled=False), "en")


def test_forecast_summary_names_festival_regressor_and_warns_when_coverage_is_off():
    r = _forecast()
    r.regressors, r.coverage_ok = True, False
    en, zh = nt.forecast_summary(r, "en"), nt.forecast_summary(r, "zh")
    assert "three weeks before Spring Festival" in en and "春节前三周" in zh
    assert "Caution" in en and "仅供参考" in zh
    assert "Caution" not in nt.forecast_summary(_forecast(), "en")


def test_forecast_summary_says_why_a_lower_error_model_was_passed_over():
    r = _forecast()
    r.model = "ets"
    r.backtest = pd.DataFrame({"model": ["ets", "sarima", "seasonal_naive"], "mape": [0.032, 0.031, 0.147]})
    assert "not chosen" in nt.forecast_summary(r, "en") and "故未选用" in nt.forecast_summary(r, "zh")
    r.model = "sarima"
    assert "not chosen" not in nt.forecast_summary(r, "en")

"""analysis.narrative.trends: the text functions (message ids and values), rendered in zh and en
through the present layer, and the sections rendered whole (heading, text, tables, charts)."""
from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from analysis import display, present
from analysis.errors import ParameterError
from analysis.i18n import Msg
from analysis.narrative import trends as nt
from analysis.present import Cards, Para, Presenter
from analysis.sections import Note
from analysis.trends import Contribution, Headline, LevelAttainment, Mix, Skip, Underperformers
from present_helpers import summary


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
    s = summary(_headline(), "zh")
    # money in Chinese text: yuan below 10,000, 万元 from 10,000 on (the catalogue's rule)
    assert s.startswith("2025年3月金额3,100元")
    assert "同比增长55.0%（增加1,100元）" in s
    assert "环比增长181.8%（增加2,000元）" in s
    assert "完成率77.5%，时间进度100.0%，落后进度22.5个百分点" in s
    assert "累计完成率86.7%" in s
    assert "累计同比" not in s  # undefined: left out, never "nan"


def test_a_volume_store_writes_every_figure_in_the_products_unit():
    """Orders without amounts, products sold by the case: the headline, the action items, the
    contribution and the forecast say 箱 / cases, never 万元 or yuan."""
    h = _headline()
    h.table = h.table[h.table["measure"] == "qty"].reset_index(drop=True)
    h.table.loc[0, ["current", "yoy_change", "ytd"]] = [41632.0, -1200.0, 90000.0]
    h.qty_kind = "qty_case"
    zh, en = summary(h, "zh"), summary(h, "en")
    assert zh.startswith("2025年3月销量41,632箱") and "（减少1,200箱）" in zh and "年累计90,000箱" in zh
    assert en.startswith("March 2025: volume 41,632 cases") and "(−1,200 cases)" in en
    assert "万元" not in zh and "元" not in zh and "yuan" not in en
    cards = next(present.text_block(i, "zh").payload for i in nt.headline(h) if isinstance(i, Cards))
    assert cards["销量"] == "41,632箱"
    t = pd.DataFrame({"key": ["市区"], "target": [5000.0], "actual": [3800.0], "attainment": [0.76], "gap": [-1200.0],
                      "last_year": [4000.0], "action": [True]})
    att = LevelAttainment(level="region", has_targets=True, table=t, value_kind="qty_case")
    assert "市区（完成率76.0%，差额-1,200箱）" in summary(att, "zh")
    c = Contribution(level="region", total_change=-1200.0, value_kind="qty_pack",
                     table=pd.DataFrame({"key": ["市区", "县区"], "change": [-1500.0, 300.0]}))
    assert "总额减少1,200包" in summary(c, "zh") and "市区（-1,500包）" in summary(c, "zh")
    assert "-1,200 packs" in summary(c, "en")
    from analysis.trends import Customers

    cu = Customers(value="qty", value_kind="qty_case", n_customers=300, top_share=0.61,
                   abc=pd.DataFrame({"abc_class": ["A"], "customers": [60], "customer_share": [0.2], "amount_share": [0.61]}),
                   big_summary=pd.DataFrame({"size_class": ["large"], "current": [9000.0], "last_year": [8000.0],
                                             "yoy": [0.125], "share": [0.4]}))
    zh, en = summary(cu, "zh"), summary(cu, "en")
    assert "销量前 20% 的客户贡献了61.0%的销量" in zh and "大户销量9,000箱" in zh and "金额" not in zh
    assert "of the volume" in en and "9,000 cases" in en and "amount" not in en


def test_headline_summary_en():
    s = summary(_headline(), "en")
    assert s.startswith("March 2025: amount 3,100 yuan, +55.0% on last year (+1,100 yuan)")
    assert "Attainment 77.5% against 100.0% of time elapsed: 22.5 pp behind schedule." in s
    assert "nan" not in s.lower()


def test_headline_undefined_attainment_shows_dash():
    s = summary(_headline(attainment=np.nan), "zh")
    assert "完成率不适用（—）" in s
    cards = present.text_block(nt.headline(_headline(attainment=np.nan))[0], "en").payload
    assert cards["Attainment"] == "—" and cards["Amount"] == "3,100 yuan" and cards["Year on year"] == "+55.0%"


def test_text_functions_choose_messages_only():
    # no text and no language in what a text function returns: messages, paragraphs, cards
    items = nt.headline(_headline())
    assert isinstance(items[0], Cards) and isinstance(items[1], Para)
    assert all(isinstance(m, Msg) for m in items[1].sentences)
    assert set(nt.TEXTS) == {"headline", "attainment_by_level", "underperformers", "trend", "spring_festival", "mix",
                             "contribution", "customers", "process_indicators", "forecast"}


def test_skip_text():
    assert present.skip_text(Skip("missing_column", {"table": "orders", "column": "rep_id"}), "zh") == "「orders」表没有「rep_id」列"
    assert present.skip_text(Skip("grain", {"grain": "yearly"}), "en") == "the data are at yearly grain"
    assert "年" in present.skip_text(Skip("grain", {"grain": "yearly"}), "zh")
    with pytest.raises(ParameterError):
        present.skip_text(Skip("no_data"), "fr")


def test_attainment_summary_names_action_points():
    t = pd.DataFrame({"key": ["A", "B"], "target": [2500.0, 0.0], "actual": [1600.0, 1500.0],
                      "attainment": [0.64, np.nan], "gap": [-900.0, np.nan], "last_year": [700.0, 1300.0],
                      "yoy": [1600 / 700 - 1, 1500 / 1300 - 1], "action": [True, False]})
    r = LevelAttainment(level="region", has_targets=True, table=t)
    zh = summary(r, "zh")
    assert "按区域共 2 项，其中 1 项有目标，1 项目标缺失或不大于零" in zh and "A（完成率64.0%，差额-900元）" in zh
    assert "距计划最远、需制定措施的是：A" in zh and "B（" not in zh
    en = summary(r, "en")
    assert "2 items by region, 1 with a target" in en and "A (attainment 64.0%, gap -900 yuan)" in en
    # without targets the largest declines on last year are the action points
    r2 = LevelAttainment(level="brand", has_targets=False, table=t.assign(attainment=np.nan, gap=np.nan))
    assert summary(r2, "en") == "Largest declines on last year, each needing an action point: A (900 yuan)."


def test_underperformers_and_mix_and_contribution_text():
    u = Underperformers(threshold=0.9, streak=3, months=["2025-01", "2025-02", "2025-03"], ids=["R1", "R3"])
    assert summary(u, "zh") == "2 名客户经理连续 3 个月（2025-01 至 2025-03）完成率低于90.0%：R1、R3。"
    m = Mix(shift_pp={"一类": 16.2, "二类": -16.2}, share_measure="qty")
    assert "一类 gained +16.2 pp" in summary(m, "en")
    assert "二类占比下降16.2个百分点" in summary(m, "zh")
    assert summary(Mix(), "en") == "No same period last year to compare the mix with."
    c = Contribution(level="region", table=pd.DataFrame({"key": ["C", "B", "A"], "change": [-50.0, 200.0, 900.0]}),
                     total_current=3100.0, total_previous=2000.0, total_change=1100.0)
    en = summary(c, "en")
    assert "+1,100 yuan" in en and en.index("A (+900 yuan)") < en.index("B (+200 yuan)")
    assert "Largest drags: C (-50 yuan)." in en
    zh = summary(c, "zh")
    assert zh.startswith("与上年同期相比总额增加1,100元，按区域分解") and "拖累最多：C（-50元）" in zh


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(display, "html", out.append)
    monkeypatch.setattr(display, "figure", lambda fig: out.append("<figure>"))
    return out


def test_show_skipped_section_records_visible_note(shown):
    p = Presenter("sales_trends", nt.TEXTS, lang="en")
    p.show(Mix(skip=Skip("missing_column", {"table": "orders", "column": "price_class"})))
    html = "".join(shown)
    assert "<h2>Price-class mix</h2>" in html and "Section skipped — Price-class mix: table" in html
    assert "has no column" in html and "price_class" in html
    assert p.metrics()["skipped_sections"] == ["mix"]
    assert p.metrics()["skipped_details"] == [{"section": "mix", "reason": "missing_column",
                                    "details": {"table": "orders", "column": "price_class"}}]


def test_show_escapes_data(shown):
    t = pd.DataFrame({"key": ["<script>x</script>"], "target": [np.nan], "actual": [1.0], "attainment": [np.nan],
                      "gap": [np.nan], "last_year": [2.0], "yoy": [-0.5], "action": [True]})
    from analysis import trends

    res = trends._show_attainment(LevelAttainment(level="brand", has_targets=False, table=t))
    res.note("no_targets", level="brand")
    p = Presenter("sales_trends", nt.TEXTS, lang="zh")
    p.show(res)
    html = "".join(shown)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "需制定措施" in html and "—" in html and "<th>品牌</th>" in html
    assert "没有「品牌」层级的目标" in html
    assert p.metrics()["skipped_sections"] == []


def test_show_headline(shown):
    from analysis import trends

    p = Presenter("sales_trends", nt.TEXTS, lang="zh")
    p.show(trends._show_headline(_headline()))
    html = "".join(shown)
    assert "总体情况" in html and "77.5%" in html and "时间进度" in html and "3,100" in html
    assert "<th>同比</th>" in html and "<th>本期（元）</th>" in html
    # one table per measure, each column in one unit: the volume in its own unit, never in yuan
    assert "<caption>金额</caption>" in html and "<caption>销量</caption>" in html
    assert "<th>本期（条）</th>" in html


def test_show_headline_in_cases(shown):
    """Products whose pack unit is the case (箱): the volume table says 箱."""
    from analysis import trends

    p = Presenter("sales_trends", nt.TEXTS, lang="zh")
    h = _headline()
    h.qty_kind = "qty_case"
    p.show(trends._show_headline(h))
    html = "".join(shown)
    assert "<th>本期（箱）</th>" in html and "<th>本期（条）</th>" not in html


def test_data_note():
    """The data note is a field set of the headline result, rendered first in its text."""
    res = types.SimpleNamespace(
        data_first=pd.Timestamp("2023-11-01").date(), data_last=pd.Timestamp("2026-10-15").date(), grain="daily",
        period="2026-10", kind="month", complete=False, filters={"region": ["市区", "县区"]})
    zh, en = nt.data_note(res).render("zh"), nt.data_note(res).render("en")
    assert zh == "数据范围：2023-11-01 至 2026-10-15（按日）；报告期：2026年10月（截至 2026-10-15，不完整）；筛选：区域 = 市区、县区。"
    assert en == ("Data window: 2023-11-01 to 2026-10-15 (daily); report period: October 2026 (to 2026-10-15, incomplete); "
                  "filters: Region = 市区, 县区.")


def _trend(anomalies, measure="qty", cycles=3):
    from analysis.stats.timeseries import seasonal_mann_kendall
    from analysis.trends import Trend

    x = 100 + 2.0 * np.arange(36) + np.tile([0.0, 5, 3, 1, 4, 2, 6, 3, 1, 0, 2, 5], 3)
    return Trend(test=seasonal_mann_kendall(x, ar1=0.4), test_start="2023-11", anomalies=anomalies, measure=measure,
                 anomaly_cycles=cycles, value_kind="money" if measure == "amount" else "qty")


def test_trend_summary_points_at_spring_festival():
    an = pd.DataFrame({"month": [pd.Period("2025-01", "M"), pd.Period("2026-02", "M")]})
    zh = summary(_trend(an), "zh")
    assert "显著上升" in zh and "2025-01、2026-02" in zh and "春节" in zh
    assert "有 2 个月超出预期范围" in zh
    r2 = _trend(pd.DataFrame({"month": [pd.Period("2025-06", "M")]}))
    assert "Spring Festival" not in summary(r2, "en") and "2025-06" in summary(r2, "en")


def test_trend_summary_names_the_test_and_its_correction():
    r = _trend(pd.DataFrame({"month": []}))
    en, zh = summary(r, "en"), summary(r, "zh")
    assert "seasonal Mann–Kendall" in en and "lag-1 autocorrelation" in en and "φ = 0.40" in en
    assert "季节性 Mann–Kendall" in zh and "一阶自相关" in zh and "季节性 Sen 斜率" in zh
    assert "Over the last 36 months (from 2023-11)" in en and "近 36 个月（2023-11 起）" in zh
    assert "per month (95% CI 2 cartons to 2 cartons)" in en  # a noiseless slope of 2 per month
    # the two-year rule is stated only when a month has two years and something was flagged
    two = _trend(pd.DataFrame({"month": [pd.Period("2025-06", "M")]}), cycles=2)
    assert "only two years" in summary(two, "en") and "只有两年" in summary(two, "zh")
    assert "only two years" not in en
    r.festival_adjusted = True
    assert "adjusted for the Spring Festival weeks" in summary(r, "en")
    assert "已扣除春节前三周" in summary(r, "zh")


def test_trend_plain_words_above_the_method_below():
    import re

    r = _trend(pd.DataFrame({"month": []}), measure="amount")
    import dataclasses

    r.test = dataclasses.replace(r.test, slope=358000.0, slope_low=300000.0, slope_high=400000.0)
    blocks = present.render(r, "zh", nt.trend)
    paras = [b.payload for b in blocks if b.kind == "paragraph"]
    notes = [b.payload for b in blocks if b.kind == "note"]
    assert "销售额呈上升趋势，每月约增加 35.8万元" in paras[0]
    # no test, statistic or method name in the main text: they are in the method note below
    assert not re.search(r"[A-Za-zφρ]", "".join(paras)), paras
    method = [n for n in notes if n.startswith("方法说明：")]
    assert len(method) == 1 and "Mann–Kendall" in method[0] and "STL" in method[0] and "φ = 0.40" in method[0]
    en = [b.payload for b in present.render(r, "en", nt.trend) if b.kind in ("paragraph", "note")]
    assert any("the amount has been rising, by about 358,000 yuan a month" in t for t in en)
    assert any(t.startswith("Method: ") and "Mann–Kendall" in t for t in en)


def test_trend_summary_without_test():
    from analysis.trends import Skip, Trend

    r = Trend(parts={"test": Skip("too_short", {"needed": 24, "got": 20})}, anomalies=pd.DataFrame({"month": []}),
              notes=[Note("no_stl")])
    assert summary(r, "en") == "Less than 24 months of history: no trend test (a seasonal test needs at least two years)."
    assert "未做趋势检验" in summary(r, "zh")
    # the missing decomposition is the section's note, shown under it
    blocks = present.render(r, "en", nt.trend)
    assert blocks[-1].payload == "Less than 24 months of history: no seasonal decomposition."


def _forecast(scaled=True):
    from analysis.stats.forecast import ForecastResult

    f = pd.DataFrame({"period": [pd.Period("2026-11", "M")], "mean": [1.0e7], "lo80": [9.0e6], "hi80": [1.1e7],
                      "lo95": [8.5e6], "hi95": [1.15e7]})
    from analysis.trends import Forecast

    return Forecast.of(ForecastResult(model="sarima", forecast=f, backtest=pd.DataFrame(), backtest_mape=0.05,
                                      baseline_mape=0.08, interval_method="backtest_scaled" if scaled else "model",
                                      interval_scale=1.43, coverage={"80": 0.8, "95": 0.9333},
                                      coverage_model={"80": 0.5667, "95": 0.7667}, coverage_n=30))


def test_forecast_summary_states_calibration_and_coverage():
    en, zh = summary(_forecast(), "en"), summary(_forecast(), "zh")
    assert "calibrated on the backtest's out-of-sample errors" in en and "× 1.43" in en
    assert "logarithm" not in en  # a series fitted on its own scale says nothing of logarithms
    assert "80% intervals covered 80.0%" in en and "95% intervals 93.3%" in en and "56.7% and 76.7%" in en
    assert "按回测的样本外误差校准" in zh and "乘以 1.43" in zh and "覆盖了 80.0%" in zh and "93.3%" in zh
    assert "model's own" in summary(_forecast(scaled=False), "en")


def test_forecast_summary_names_festival_regressor_and_warns_when_coverage_is_off():
    r = _forecast()
    r.regressors, r.coverage_ok = True, False
    en, zh = summary(r, "en"), summary(r, "zh")
    assert "three weeks before Spring Festival" in en and "春节前三周" in zh
    assert "Caution" in en and "仅供参考" in zh
    assert "Caution" not in summary(_forecast(), "en")


def test_forecast_summary_says_why_a_lower_error_model_was_passed_over():
    r = _forecast()
    r.model = "ets"
    r.backtest = pd.DataFrame({"model": ["ets", "sarima", "seasonal_naive"], "mape": [0.032, 0.031, 0.147]})
    assert "not chosen" in summary(r, "en") and "故未选用" in summary(r, "zh")
    r.model = "sarima"
    assert "not chosen" not in summary(r, "en")

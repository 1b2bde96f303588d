"""analysis.narrative.launch: the written analysis (zh/en) and the section renderers."""
from __future__ import annotations

import pytest

from analysis import launch
from analysis.narrative import launch as nl
from analysis.params import LaunchReviewParams
from launch_helpers import build_small


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_small(tmp_path_factory.mktemp("narr") / "s.duckdb")
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def rv(con):
    return launch.review(con, LaunchReviewParams(sku="S1"))


def test_summary_zh_reports_the_figures_and_three_parts(rv):
    text = nl.summary(rv)
    assert text.startswith("S1（S1，新牌，三类）于2026-03-10上市。上市30天内（2026-03-10至2026-04-08）销量10条")
    assert "订购户数4户" in text and "铺货率" in text and "66.7%" in text and "复购率25.0%" in text
    parts = text.split("\n\n")
    assert [p[:4] for p in parts[1:]] == ["做得好的", "存在的问题"[:4], "下步建议"]
    # benchmarks E1, E2, E3 at day 30: distribution 75%, 25%, 50% -> median 50%, S1 66.7% above
    assert "铺货率66.7%，高于以往3个新品的中位数50.0%" in parts[1]
    # sell-through 1/3 < 40%: a problem with its action
    assert "动销率仅33.3%" in parts[2] and "加强终端动销指导" in parts[3]
    # plan: 30 cartons, 10 sold
    assert "销量计划30条，完成33.3%" in parts[0]


def test_summary_en(rv):
    text = nl.summary(rv, "en")
    assert "S1 (S1, brand 新牌, class 三类) launched on 2026-03-10" in text
    assert "What went well:" in text and "What did not:" in text and "Next steps: 1." in text
    assert "sell-through only 33.3%" in text
    with pytest.raises(ValueError):
        nl.summary(rv, "fr")


def test_partial_and_empty_texts(con):
    young = launch.review(con, LaunchReviewParams(sku="Y1"))
    assert "仅覆盖10天" in nl.summary(young)
    assert "10 of 30 days" in nl.partial_text(young, "en")
    late = launch.review(con, LaunchReviewParams(sku="Y1", launch_date="2026-06-01"))
    assert "晚于数据截止日" in nl.summary(late)
    assert nl.partial_text(late).startswith("上市日晚于")


def test_labels_and_reasons():
    assert nl.t("s4") == "四、消费者评价" and nl.t("s4", "en") == "4. Consumers' opinions"
    assert nl.t("attainment") == "完成率"          # falls back to the glossary
    assert nl.reason_text("no feedback rows for S1 in the window") == "窗口内没有该新品的消费者评价"
    assert nl.reason_text("the store has no feedback table", "en") == "the store has no feedback table"


class FakeCtx:
    def __init__(self, lang="zh"):
        self.params = LaunchReviewParams(lang=lang)
        self.lang = lang
        self.skipped = []

    def skip(self, section, reason):
        self.skipped.append((section, reason))


def test_show_functions_skip_what_cannot_run(con, capsys):
    young = launch.review(con, LaunchReviewParams(sku="Y1"))
    ctx = FakeCtx()
    for f in (nl.show_title, nl.show_headline, nl.show_trend, nl.show_retailers, nl.show_opinions,
              nl.show_cannibalization, nl.show_benchmarks):
        f(ctx, young)
    sections = [s for s, _ in ctx.skipped]
    assert nl.t("s4") in sections and nl.t("s5") in sections
    assert nl.t("s1") not in sections and nl.t("s2") not in sections


def test_show_headline_html_is_escaped(rv, monkeypatch):
    from analysis import display

    shown = []
    monkeypatch.setattr(display, "_show", shown.append)
    nl.show_opinions(FakeCtx(), rv)
    html = "".join(shown)
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_show_functions_on_orders_without_customers(tmp_path):
    import ibis
    import pandas as pd

    from launch_helpers import D

    c = ibis.duckdb.connect(str(tmp_path / "m.duckdb"))
    c.create_table("orders", pd.DataFrame({
        "order_date": [D(2026, 3, 1), D(2026, 3, 10), D(2026, 3, 12), D(2026, 4, 20)],
        "sku_id": ["I1", "S1", "S1", "I1"], "amount": [10.0, 30.0, 20.0, 5.0]}))
    c.create_table("products", pd.DataFrame({"sku_id": ["S1", "I1"], "brand": ["n", "o"],
                                             "launch_date": [D(2026, 3, 10), pd.NaT]}))
    rv = launch.review(c, LaunchReviewParams())
    ctx = FakeCtx("en")
    for f in (nl.show_title, nl.show_headline, nl.show_trend, nl.show_retailers, nl.show_opinions,
              nl.show_cannibalization, nl.show_benchmarks, nl.show_method):
        f(ctx, rv)
    assert [s for s, _ in ctx.skipped] == [nl.t(k, "en") for k in ("s3", "s4", "s5", "s6")]
    assert "What went well" in nl.summary(rv, "en")
    c.disconnect()


# ------------------------------------------------------------------ pre-trend (placebo) check


def _shown(monkeypatch, f, ctx, rv):
    from analysis import display

    shown = []
    monkeypatch.setattr(display, "_show", shown.append)
    f(ctx, rv)
    return "".join(shown)


@pytest.fixture
def drifting(tmp_path):
    from launch_helpers import build_pretrend

    out = {}
    for slope in (1.0, -1.0):
        c, _ = build_pretrend(tmp_path / f"p{slope}.duckdb", slope)
        out[slope] = launch.review(c, LaunchReviewParams(sku="N", window_days=28))
        c.disconnect()
    return out


def test_pretrend_warning_is_shown_beside_the_did(drifting, monkeypatch):
    rv = drifting[1.0]
    assert nl.pretrend_differs(rv)
    html = _shown(monkeypatch, nl.show_cannibalization, FakeCtx(), rv)
    assert "上市前走势检验（安慰剂检验）" in html and "注意：上市前同价类在销品牌与对照组的走势已经不同" in html
    assert nl.t("pretrend_p") in html
    html_en = _shown(monkeypatch, nl.show_cannibalization, FakeCtx("en"), rv)
    assert "Pre-trend (placebo) check" in html_en and "Warning: before the launch" in html_en
    txt, warn = nl.pretrend_text(rv, "en")
    assert f"p = {rv.cannibalization.pretrend.p:.3f}" in txt and warn


def test_summary_does_not_trust_a_did_with_differing_pretrends(drifting):
    up, down = drifting[1.0], drifting[-1.0]
    # no loss found, but the trends differed before: not "no clear loss", a warning instead
    parts = nl.summary(up).split("\n\n")
    assert "未发现对同价类在销品牌的明显挤占" not in parts[1]
    assert "上市前同价类在销品牌与对照组的走势已经不同，挤占分析的结论不可靠" in parts[2]
    assert "cannot be trusted" in nl.summary(up, "en")
    # a loss found on a SKU that was already falling: said, with the caveat
    assert len(nl.hit_incumbents(down)) == 1
    assert "存在内部替代（但上市前走势已与对照组不同" in nl.summary(down)
    assert "already drifting from the control before the launch" in nl.summary(down, "en")


def test_parallel_pretrends_say_so_and_no_warning(tmp_path, monkeypatch):
    from launch_helpers import build_cannib

    c, _ = build_cannib(tmp_path / "c.duckdb")
    rv = launch.review(c, LaunchReviewParams(sku="N", window_days=28))
    c.disconnect()
    assert not nl.pretrend_differs(rv)
    txt, warn = nl.pretrend_text(rv)
    assert warn is None and "平行趋势假设未被否定" in txt
    assert "parallel-trends assumption is not rejected" in nl.pretrend_text(rv, "en")[0]
    html = _shown(monkeypatch, nl.show_cannibalization, FakeCtx(), rv)
    assert "注意：" not in html


def test_pretrend_not_run_is_said(tmp_path, monkeypatch):
    from launch_helpers import build_cannib

    c, day = build_cannib(tmp_path / "c.duckdb")
    rv = launch.review(c, LaunchReviewParams(sku="N", window_days=28))
    rv.cannibalization.pretrend, rv.cannibalization.pretrend_skipped = None, "too_few_pre_weeks"
    c.disconnect()
    txt, warn = nl.pretrend_text(rv)
    assert "未做上市前走势检验" in txt and warn is None
    assert "untested" in nl.pretrend_text(rv, "en")[0]
    assert "未做上市前走势检验" in _shown(monkeypatch, nl.show_cannibalization, FakeCtx(), rv)


def test_method_text_names_the_methods(rv):
    assert "野聚类自助法" in nl.method_text(rv) and "安慰剂检验" in nl.method_text(rv)
    assert "wild cluster bootstrap" in nl.method_text(rv, "en") and "placebo" in nl.method_text(rv, "en")

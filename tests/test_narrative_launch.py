"""analysis.narrative.launch: the written analysis (zh/en) through the catalogues and the present layer."""
from __future__ import annotations

import pytest

from analysis import launch, present
from analysis.errors import ParameterError
from analysis.narrative import launch as nl
from analysis.params import LaunchReviewParams
from launch_helpers import build_small
from present_helpers import section_html


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_small(tmp_path_factory.mktemp("narr") / "s.duckdb")
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def rv(con):
    return launch.prepare(con, LaunchReviewParams(sku="S1"))


def blocks(res, lang="zh", kinds=("paragraph", "note", "cards")):
    """The rendered blocks of a section (no charts drawn), as (kind, payload)."""
    res.figures = []
    return [(b.kind, b.payload) for b in present.render(res, lang, nl.TEXTS.get(res.code)) if b.kind in kinds]


def paragraphs(res, lang="zh"):
    return [p for k, p in blocks(res, lang) if k == "paragraph"]


def page(res, lang="zh"):
    """The section's HTML as the report shows it (charts left out)."""
    res.figures = []
    return section_html(res, lang, nl.TEXTS.get(res.code))


def summary(scope, lang="zh"):
    """The written analysis of the headline: the figures, then well / not well / next steps."""
    ps = paragraphs(launch.headline(scope), lang)
    return "\n\n".join(ps[2:])  # ps[0] states the cards' period, ps[1] is the scope line


def test_the_cards_state_their_period(rv):
    ps = paragraphs(launch.headline(rv))
    assert ps[0].startswith("以下数字均为上市后30天（2026-03-10至2026-04-08）")
    assert paragraphs(launch.headline(rv), "en")[0].startswith("Figures for the first 30 days after the launch")


def test_summary_zh_reports_the_figures_and_three_parts(rv):
    text = summary(rv)
    assert text.startswith("新牌（S1，新牌，三类）于2026-03-10上市。上市30天内（2026-03-10至2026-04-08）销量10条")
    assert "订购户数4户" in text and "铺货率" in text and "66.7%" in text and "复购率25.0%" in text
    parts = text.split("\n\n")
    assert [p[:4] for p in parts[1:]] == ["做得好的", "存在的问题"[:4], "下步建议"]
    # benchmarks E1, E2, E3 at day 30: distribution 75%, 25%, 50% -> median 50%, S1 66.7% above
    assert "铺货率66.7%，高于以往3个新品的中位数50.0%" in parts[1]
    # sell-through 1/3 < 40%: a problem with its action
    assert "动销率仅33.3%" in parts[2] and "加强终端动销指导" in parts[3]
    assert parts[3] == "下步建议：1. 加强终端动销指导，防止压货，按实际动销补货。"
    # plan: 30 cartons, 10 sold
    assert "销量计划30条，完成33.3%" in parts[0]
    # amount below 10,000 yuan is written in yuan (万元 from 10,000 on)
    assert "金额1,500元" in parts[0]


def test_summary_en(rv):
    text = summary(rv, "en")
    assert "新牌 (S1, brand 新牌, class 三类) launched on 2026-03-10" in text
    assert "What went well:" in text and "What did not:" in text and "Next steps: 1." in text
    assert "sell-through only 33.3%" in text
    assert "Next steps: 1. Coach retailers on selling it through and restock on real sales, not pushed stock." in text
    with pytest.raises(ParameterError):
        present.render(launch.headline(rv), "fr", nl.headline)


def test_headline_cards_and_scope(rv):
    kinds = blocks(launch.headline(rv))
    cards = dict(kinds)["cards"]
    assert cards["销量"] == "10条" and cards["订购户数"] == "4" and cards["铺货率"] == "66.7%"
    assert cards["完成率(销量)"] == "33.3%"
    assert paragraphs(launch.headline(rv))[1].startswith("新品：新牌（S1，新牌，三类）；上市日2026-03-10")
    assert "Launch: 新牌 (S1, brand 新牌, class 三类)" in paragraphs(launch.headline(rv), "en")[1]


def test_partial_and_empty_texts(con):
    young = launch.prepare(con, LaunchReviewParams(sku="Y1"))
    assert "仅覆盖10天" in summary(young)
    notes = [p for k, p in blocks(launch.headline(young), "en") if k == "note"]
    assert any("10 of 30 days" in n for n in notes)
    assert any(n.startswith("部分分析：上市仅10天") for k, n in blocks(launch.headline(young)) if k == "note")
    late = launch.prepare(con, LaunchReviewParams(sku="Y1", launch_date="2026-06-01"))
    res = launch.headline(late)
    assert res.skip.code.value == "no_data_in_window"
    assert blocks(res) == [("note", "本节略过 — 总体情况：窗口内没有数据")]


def test_skips_are_reason_codes_rendered_from_the_catalogues(con):
    young = launch.prepare(con, LaunchReviewParams(sku="Y1"))
    op = launch.opinions(young)
    assert op.skip.code.value == "no_feedback" and op.skip.details == {}
    assert blocks(op) == [("note", "本节略过 — 消费者评价：窗口内没有该新品的消费者评价")]
    assert blocks(op, "en") == [("note", "Section skipped — Consumers' opinions: no consumer feedback for the "
                                         "launch in the window")]
    can = launch.cannibalization(young)
    assert can.skip.code.value == "too_few_days" and can.skip.details == {"needed": 14}
    assert "上市不足14天，无法比较" in blocks(can)[0][1]


def test_section_skips_of_a_young_launch(con):
    young = launch.prepare(con, LaunchReviewParams(sku="Y1"))
    results = launch.sections(young)
    skipped = [r.code for r in results if r.skip is not None]
    assert "opinions" in skipped and "cannibalization" in skipped
    assert "headline" not in skipped and "sales_trend" not in skipped


def test_comments_are_escaped(rv):
    html = page(launch.opinions(rv))
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_themes_and_groups_are_labelled_per_language(con, rv):
    op = launch.opinions(rv)
    zh, en = page(op), page(op, "en")
    assert "价格" in zh and ">price<" in en
    seg = launch.retailer_segments(rv)
    assert ">其他(合并)<" in page(seg) and ">Other (merged)<" in page(seg, "en")  # 7 customers, groups < 5
    small = launch.prepare(con, LaunchReviewParams(sku="S1", min_group_size=1))
    seg1 = launch.retailer_segments(small)
    assert ">城镇<" in page(seg1) and ">Urban<" in page(seg1, "en") and ">北县<" in page(seg1, "en")
    assert "少于5户的分组合并为“其他”" in page(seg)


def test_sections_on_orders_without_customers(tmp_path):
    import ibis
    import pandas as pd

    from launch_helpers import D

    c = ibis.duckdb.connect(str(tmp_path / "m.duckdb"))
    c.create_table("orders", pd.DataFrame({
        "order_date": [D(2026, 3, 1), D(2026, 3, 10), D(2026, 3, 12), D(2026, 4, 20)],
        "sku_id": ["I1", "S1", "S1", "I1"], "amount": [10.0, 30.0, 20.0, 5.0]}))
    c.create_table("products", pd.DataFrame({"sku_id": ["S1", "I1"], "brand": ["n", "o"],
                                             "launch_date": [D(2026, 3, 10), pd.NaT]}))
    rv = launch.prepare(c, LaunchReviewParams())
    results = launch.sections(rv)
    for r in results:
        page(r, "en")
    assert [r.code for r in results if r.skip is not None] == [
        "retailers", "retailer_segments", "opinions", "cannibalization", "benchmarks"]
    assert launch.retailers(rv).skip.details == {"table": "orders", "column": "customer_id"}
    assert blocks(launch.retailers(rv), "en")[0][1].endswith("table 'orders' has no column 'customer_id'")
    assert "What went well" in summary(rv, "en")
    c.disconnect()


# ------------------------------------------------------------------ pre-trend (placebo) check


@pytest.fixture
def drifting(tmp_path):
    from launch_helpers import build_pretrend

    out = {}
    for slope in (1.0, -1.0):
        c, _ = build_pretrend(tmp_path / f"p{slope}.duckdb", slope)
        out[slope] = launch.prepare(c, LaunchReviewParams(sku="N", window_days=28))
        c.disconnect()
    return out


def test_pretrend_warning_is_shown_beside_the_did(drifting):
    rv = drifting[1.0]
    assert launch.pretrend_differs(rv.cannibalization)
    res = launch.cannibalization(rv)
    html = page(res)
    assert "上市前走势检验（安慰剂检验）" in html and "注意：上市前同价类在销品牌与对照组的走势已经不同" in html
    assert "走势检验p值" in html
    html_en = page(res, "en")
    assert "Pre-trend (placebo) check" in html_en and "Warning: before the launch" in html_en
    txt, warn = nl.pretrend_text(res)
    assert f"p = {rv.cannibalization.pretrend.p:.3f}" in txt.render("en") and warn is not None


def test_summary_does_not_trust_a_did_with_differing_pretrends(drifting):
    up, down = drifting[1.0], drifting[-1.0]
    # no loss found, but the trends differed before: not "no clear loss", a warning instead
    parts = summary(up).split("\n\n")
    assert "未发现对同价类在销品牌的明显挤占" not in parts[1]
    assert "上市前同价类在销品牌与对照组的走势已经不同，挤占分析的结论不可靠" in parts[2]
    assert "cannot be trusted" in summary(up, "en")
    # a loss found on a SKU that was already falling: said, with the caveat
    assert len(launch.hit_incumbents(down)) == 1
    assert "存在内部替代（但上市前走势已与对照组不同" in summary(down)
    assert "already drifting from the control before the launch" in summary(down, "en")


def test_parallel_pretrends_say_so_and_no_warning(tmp_path):
    from launch_helpers import build_cannib

    c, _ = build_cannib(tmp_path / "c.duckdb")
    rv = launch.prepare(c, LaunchReviewParams(sku="N", window_days=28))
    c.disconnect()
    assert not launch.pretrend_differs(rv.cannibalization)
    res = launch.cannibalization(rv)
    txt, warn = nl.pretrend_text(res)
    assert warn is None and "平行趋势假设未被否定" in txt.render("zh")
    assert "parallel-trends assumption is not rejected" in txt.render("en")
    assert "注意：" not in page(res)


def test_pretrend_not_run_is_said(tmp_path):
    from launch_helpers import build_cannib

    c, day = build_cannib(tmp_path / "c.duckdb")
    rv = launch.prepare(c, LaunchReviewParams(sku="N", window_days=28))
    rv.cannibalization.pretrend, rv.cannibalization.pretrend_skipped = None, "too_few_pre_weeks"
    c.disconnect()
    res = launch.cannibalization(rv)
    txt, warn = nl.pretrend_text(res)
    assert "未做上市前走势检验" in txt.render("zh") and warn is None
    assert "untested" in txt.render("en")
    assert "未做上市前走势检验" in page(res)


def test_method_text_names_the_methods(rv):
    zh, en = nl.method(30).render("zh"), nl.method(30).render("en")
    assert "野聚类自助法" in zh and "安慰剂检验" in zh
    assert "wild cluster bootstrap" in en and "placebo" in en
    assert "第30天" in zh


def test_no_language_branch_in_the_report_modules():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "src" / "analysis"
    for rel in ("launch.py", "narrative/launch.py", "charts/launch.py"):
        text = (root / rel).read_text(encoding="utf-8")
        hits = [ln for ln in text.splitlines()
                if re.search(r"""lang ?==|== ?lang|"zh"|'zh'|"en"|'en'""", ln) and "lang: str = " not in ln]
        assert not hits, (rel, hits)

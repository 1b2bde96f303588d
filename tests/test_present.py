"""The present layer: one code path renders any section in any language.

The proof on real text: the headline paragraph and the skip notes of the monthly sales
trends report, ported from analysis.narrative.trends into catalogue ids, give the same
sentences as today's zh/en code, from one language-free text function.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from analysis import present
from analysis.errors import MessageError, ParameterError
from analysis.i18n import Measured, Msg, languages, msg
from analysis import trends as old_trends
from analysis.present import Cards, Caution, Para, Presenter, render, skip_text
from analysis.sections import Column, Figure, Reason, SectionResult, Skip, Table
from present_helpers import section_html, shown_html, summary


# ------------------------------------------------------------------ the ported section
@dataclass(kw_only=True)
class Headline(SectionResult):
    """The trends headline in the new shape (what trends.headline will return)."""

    report = "sales_trends"
    default_code = "headline"
    period: str = ""
    kind: str = "month"
    time_elapsed: float = float("nan")
    ytd_time_elapsed: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, Any]:
        # the same keys when skipped (empty table): undefined values become null in metrics.json
        t = self.table.set_index("measure") if "measure" in self.table else pd.DataFrame()
        r = t.loc["amount"] if "amount" in t.index else {}
        return {"total_amount": r.get("current"), "attainment": r.get("attainment"), "time_elapsed": self.time_elapsed}


def _ok(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x))


def headline_text(res: Headline) -> list:
    """The headline paragraph: chooses message ids and values only (no language, no text)."""
    t = res.table.set_index("measure")
    m = "amount" if "amount" in t.index else "qty"
    r = t.loc[m]

    def change(v: float) -> Msg:
        return msg("sales_trends.headline.change", "up" if v >= 0 else "down", value=Measured(v, kind))

    kind = "money" if m == "amount" else res.qty_kind
    clauses = [msg("sales_trends.headline.lead", m, period=res.period, value=Measured(r["current"], kind))]
    if _ok(r["yoy"]):
        clauses.append(msg("sales_trends.headline.yoy", "up" if r["yoy"] >= 0 else "down", rate=r["yoy"],
                           change=change(r["yoy_change"])))
    if res.kind == "month" and _ok(r["mom"]):
        clauses.append(msg("sales_trends.headline.mom", "up" if r["mom"] >= 0 else "down", rate=r["mom"],
                           change=change(r["mom_change"])))
    sentences = [msg("present.sentence", clauses=clauses)]
    if _ok(r["attainment"]):
        gap = (r["attainment"] - res.time_elapsed) * 100
        sentences.append(msg("sales_trends.headline.attainment", "ahead" if gap >= 0 else "behind",
                             attainment=r["attainment"], elapsed=res.time_elapsed, gap_pp=gap))
    else:
        sentences.append(msg("sales_trends.headline.no_target", elapsed=res.time_elapsed))
    if res.kind == "month" and _ok(r["ytd"]):
        ytd = [msg("sales_trends.headline.ytd", value=Measured(r["ytd"], kind))]
        if _ok(r["ytd_yoy"]):
            ytd.append(msg("sales_trends.headline.ytd_yoy", rate=r["ytd_yoy"]))
        if _ok(r["ytd_attainment"]):
            ytd.append(msg("sales_trends.headline.ytd_attainment", attainment=r["ytd_attainment"],
                           elapsed=res.ytd_time_elapsed))
        sentences.append(msg("present.sentence", clauses=ytd))
    return [Para(sentences)]


def _table(**over: float) -> pd.DataFrame:
    row = dict(measure="amount", current=35649026.0, last_year=31979593.0, yoy=0.11474, yoy_change=3669433.0,
               previous=36250000.0, mom=-0.01658, mom_change=-600974.0, ytd=352000000.0, ytd_last_year=330000000.0,
               ytd_yoy=0.0667, target=38000000.0, attainment=0.93813, ytd_target=360000000.0, ytd_attainment=0.97778)
    row.update(over)
    qty = dict(row, measure="qty", current=125000.0, yoy_change=5000.0, mom_change=-1200.0, ytd=1250000.0)
    return pd.DataFrame([row, qty])


CASES = {
    "ahead": dict(),
    "behind_and_down": dict(attainment=0.41, yoy=-0.052, yoy_change=-1850000.0),
    "no_target": dict(attainment=float("nan"), target=float("nan"), ytd_attainment=float("nan")),
    "no_last_year": dict(yoy=float("nan"), ytd_yoy=float("nan")),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ported_headline_paragraph_equals_todays_text(case, lang):
    table = _table(**CASES[case])
    old = old_trends.Headline(period="2026-10", kind="month", time_elapsed=0.4839, ytd_time_elapsed=0.8301, table=table)
    new = Headline(period="2026-10", kind="month", time_elapsed=0.4839, ytd_time_elapsed=0.8301, table=table)
    html = section_html(new, lang, text=headline_text)
    paragraph = present.render(new, lang, text=headline_text)[1].payload
    assert paragraph == summary(old, lang)
    assert f"<p>{present.display.esc(paragraph)}</p>" in html


def test_one_text_function_for_every_language():
    calls = []

    def text(res):
        calls.append(res)
        return headline_text(res)

    new = Headline(period="2026-10", time_elapsed=0.5, ytd_time_elapsed=0.8, table=_table())
    out = {lang: section_html(new, lang, text=text) for lang in languages()}
    assert len(calls) == len(languages())  # the same function, called without a language
    assert "2026年10月金额3,564.9万元" in out["zh"] and "October 2026: amount 35,649,026 yuan" in out["en"]


TRENDS_SKIPS = [
    ("missing_table", {"table": "visits"}),
    ("missing_column", {"table": "orders", "column": "rep_id"}),
    ("grain", {"grain": "yearly"}),
    ("too_short", {"needed": 24, "got": 10}),
    ("no_targets", {"level": "rep"}),
    ("no_data", {}),
    ("disabled", {"param": "forecast_months"}),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("code, details", TRENDS_SKIPS)
def test_ported_skip_reasons_equal_todays_text(code, details, lang):
    from analysis.i18n import message

    assert skip_text(Skip(code, details), lang) == message(f"skip.{code}", lang, **details)


def test_skipped_section_shows_heading_and_one_note_only():
    res = Headline().skipped(Reason.GRAIN, grain="yearly")
    blocks = render(res, "zh", text=lambda r: pytest.fail("text of a skipped section"))
    assert [b.kind for b in blocks] == ["heading", "note"]
    assert blocks[0].payload == (2, "总体情况")
    assert blocks[1].payload == "本节略过 — 总体情况：数据为按年汇总，本节需要按月或更细的数据"
    en = render(res, "en")
    assert en[1].payload == "Section skipped — Headline: the data are at yearly grain"


def test_tables_are_escaped_formatted_and_labelled_from_the_catalogue():
    frame = pd.DataFrame({"region": ["<b>East</b>", "West"], "amount": [35649026.0, float("nan")],
                          "attainment": [0.93, 0.5], "size_class": ["large", "small"], "shift": [1.25, -0.4]})
    t = Table("by_region", frame, [Column("region"), Column("amount", "money_wan"), Column("attainment", "rate"),
                                   Column("size_class", "code", codes="column"), Column("shift", "pp", "column.change_pp")])
    res = Headline(tables=[t])
    zh = section_html(res, "zh")
    assert "&lt;b&gt;East&lt;/b&gt;" in zh and "<b>East" not in zh
    for s in ("<th>区域</th>", "<th>金额（万元）</th>", "<th>变化（百分点）</th>", '<td class="num">3,564.9</td>',
              '<td class="num">93.0%</td>', '<td class="txt">大户</td>', '<td class="num">—</td>',
              '<td class="num">+1.2</td>'):
        assert s in zh, s
    en = section_html(res, "en")
    for s in ("<th>Amount (10k yuan)</th>", "<th>Change (pp)</th>", '<td class="txt">Large</td>'):
        assert s in en, s


def test_long_table_note_and_empty_table_note_are_in_the_report_language():
    t = Table.of("rows", pd.DataFrame({"region": [f"r{i}" for i in range(5)]}), region="text", max_rows=2)
    zh = present.table_html(t, "zh")
    assert zh.count("<tr>") == 3 and "另有 3 行未显示" in zh and "more rows" not in zh
    assert "3 more rows not shown" in present.table_html(t, "en")
    empty = Table.of("rows", pd.DataFrame({"region": []}), region="text")
    assert present.table_html(empty, "zh") == '<p class="note">（无数据）</p>'


def test_cards_cautions_and_notes():
    res = Headline(period="2026-10", table=_table()).note("no_stl")
    blocks = render(res, "en", text=lambda r: [Cards(("column.amount", 35649026.0, "money"), ("column.attainment", 0.938, "rate")),
                                               Caution(msg("skip.no_data"))])
    kinds = [b.kind for b in blocks]
    assert kinds == ["heading", "cards", "note", "note"]
    assert blocks[1].payload == {"Amount": "35,649,026 yuan", "Attainment": "93.8%"}
    assert blocks[3].payload == "Less than 24 months of history: no seasonal decomposition."
    with pytest.raises(TypeError, match="must return Msg, Para, Cards, Caution or Method"):
        render(res, "en", text=lambda r: ["a plain string"])


def test_figures_are_drawn_by_chart_functions_in_the_language():
    frame = pd.DataFrame({"key": ["East", "West"], "attainment": [0.9, 1.1]})
    res = Headline(figures=[Figure("trends.attainment_bars", {"table": frame, "time_elapsed": 0.5})])
    blocks = render(res, "en")
    assert blocks[-1].kind == "figure"
    html = present.block_html(blocks[-1])
    assert html.startswith('<img alt="" src="data:image/png;base64,')
    with pytest.raises(ParameterError, match="must name a function of analysis.charts"):
        render(Headline(figures=[Figure("trends.no_such_chart")]), "en")


@dataclass(kw_only=True)
class Process(SectionResult):
    report = "sales_trends"
    default_code = "process_indicators"


def test_presenter_records_sections_tables_and_language_free_metrics():
    t = Table.of("by_region", pd.DataFrame({"region": ["East"], "amount": [1.0]}), region="text", amount="money")
    runs = {}
    for lang in ("zh", "en"):
        p = Presenter("sales_trends", {"headline": headline_text}, lang=lang)
        shown_html(p, Headline(period="2026-10", time_elapsed=0.5, ytd_time_elapsed=0.8, table=_table(), tables=[t]))
        shown_html(p, Process().skipped("missing_table", table="visits"))
        runs[lang] = p
    assert runs["zh"].metrics() == runs["en"].metrics()
    m = runs["zh"].metrics()
    assert m["skipped_sections"] == ["process_indicators"]
    assert m["skipped_details"] == [{"section": "process_indicators", "reason": "missing_table",
                                     "details": {"table": "visits"}}]
    assert m["total_amount"] == 35649026.0
    assert [s.title for s in runs["zh"].tables] == ["总体情况"]
    assert [s.title for s in runs["en"].tables] == ["Headline"]


def test_presenter_refuses_another_reports_section_and_unknown_report():
    @dataclass(kw_only=True)
    class Other(SectionResult):
        report = "launch_review"
        default_code = "headline"

    with pytest.raises(ParameterError, match="belongs to report 'launch_review'"):
        shown_html(Presenter("sales_trends"), Other())
    with pytest.raises(MessageError, match="report.no_such_report"):
        Presenter("no_such_report")


def test_show_displays_the_same_blocks_in_the_notebook(monkeypatch):
    """The notebook shows each block as the HTML the meeting pack and the tests render
    (present.block_html), a chart as a chart output."""
    shown = []
    monkeypatch.setattr(present.display, "html", lambda text: shown.append(("html", text)))
    monkeypatch.setattr(present.display, "figure", lambda fig: shown.append(("figure", fig)))
    t = Table.of("rows", pd.DataFrame({"region": ["East"]}), region="text")
    p = Presenter("sales_trends", {"headline": headline_text}, lang="zh")
    res = Headline(period="2026-10", time_elapsed=0.5, ytd_time_elapsed=0.8, table=_table(), tables=[t]).note("no_stl")
    assert p.show(res) is res
    assert [k for k, _ in shown] == ["html"] * 4
    assert "".join(h for _, h in shown) == section_html(res, "zh", headline_text)
    assert shown[0][1] == "<h2>总体情况</h2>"
    assert "<th>区域</th>" in shown[2][1]
    assert p.sections == [res] and len(p.tables) == 1


def test_a_page_note_is_shown_through_the_presenter(monkeypatch):
    shown = []
    monkeypatch.setattr(present.display, "html", shown.append)
    Presenter("sales_trends", lang="en").note(Msg("skip.no_data", {}))
    assert shown == ['<p class="note">' + present.display.esc(Msg("skip.no_data", {}).render("en")) + "</p>"]


# ------------------------------------------------------------ a whole section, ported
@dataclass(kw_only=True)
class Underperformers(SectionResult):
    """Staff below target several months running, in the new shape: frames, a table spec and
    a chart spec, no text (what trends.underperformers will return)."""

    report = "sales_trends"
    default_code = "underperformers"
    threshold: float = 0.9
    streak: int = 3
    months: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.skip is None and len(self.table):
            cols = [Column("rep_id"), Column("name"), Column("region")]
            cols += [Column(m, "rate", msg("present.month", month=m)) for m in self.months]  # headers from data
            self.tables.append(Table("reps", self.table, cols))
            self.figures.append(Figure("trends.underperformer_lines", {"series": self.series, "threshold": self.threshold}))

    def metrics(self) -> dict[str, Any]:
        return {"underperformers": list(self.ids) if self.skip is None else []}


def underperformers_text(res: Underperformers) -> list:
    return [msg("sales_trends.underperformers.summary", "some" if res.ids else "none", count=len(res.ids),
                streak=res.streak, first=res.months[0], last=res.months[-1], threshold=res.threshold, ids=res.ids)]


@dataclass(kw_only=True)
class Mix(SectionResult):
    report = "sales_trends"
    default_code = "mix"
    shift_pp: dict = field(default_factory=dict)
    share_measure: str = "qty"


def mix_text(res: Mix) -> list:
    if not res.shift_pp:
        return [msg("sales_trends.mix.no_last_year")]
    up = max(res.shift_pp, key=lambda k: res.shift_pp[k])
    dn = min(res.shift_pp, key=lambda k: res.shift_pp[k])
    direction = "down" if res.shift_pp[dn] < 0 else "up"
    return [msg("sales_trends.mix.summary", f"{res.share_measure}_{direction}", gainer=up, gain=res.shift_pp[up],
                loser=dn, loss=res.shift_pp[dn])]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ids", [[], ["R01", "R07"]])
def test_ported_underperformers_text_equals_todays(ids, lang):
    months = ["2026-08", "2026-09", "2026-10"]
    old = old_trends.Underperformers(threshold=0.9, streak=3, months=months, ids=ids)
    new = Underperformers(threshold=0.9, streak=3, months=months, ids=ids)
    assert render(new, lang, text=underperformers_text)[1].payload == summary(old, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("shift, measure", [({}, "qty"), ({"一类": 1.25, "三类": -0.84, "五类": 0.1}, "qty"),
                                            ({"一类": 0.4, "二类": 0.2}, "amount")])
def test_ported_mix_text_equals_todays(shift, measure, lang):
    old = old_trends.Mix(shift_pp=shift, share_measure=measure)
    new = Mix(shift_pp=shift, share_measure=measure)
    assert render(new, lang, text=mix_text)[1].payload == summary(old, lang)


def test_a_ported_section_renders_text_table_and_chart_and_feeds_the_workbook(tmp_path):
    months = ["2026-08", "2026-09", "2026-10"]
    table = pd.DataFrame({"rep_id": ["R01"], "name": ["张三"], "region": ["East"], "2026-08": [0.8], "2026-09": [0.7],
                          "2026-10": [0.85]})
    series = pd.DataFrame({"rep_id": ["R01"] * 3, "month": pd.PeriodIndex(months, freq="M").to_timestamp(),
                           "actual": [8.0, 7.0, 8.5], "target": [10.0] * 3, "attainment": [0.8, 0.7, 0.85]})
    res = Underperformers(months=months, ids=["R01"], table=table, series=series)
    p = Presenter("sales_trends", {"underperformers": underperformers_text}, lang="en")
    blocks = p.blocks(res)
    assert [b.kind for b in blocks] == ["heading", "paragraph", "table", "figure"]
    assert "<td class=\"num\">85.0%</td>" in blocks[2].payload[1]
    assert "<th>October 2026</th>" in blocks[2].payload[1]
    assert p.metrics()["underperformers"] == ["R01"]
    import openpyxl

    from analysis.excel import write_workbook

    wb = openpyxl.load_workbook(write_workbook(tmp_path / "run.xlsx", {"report": "sales_trends", "period": "2026-10"},
                                               p.tables, "en"))
    assert wb.sheetnames == ["About", "Staff below target"]
    assert wb["Staff below target"]["F2"].value == pytest.approx(0.85)
    assert wb["Staff below target"]["F1"].value == "October 2026"


def test_a_money_column_takes_one_unit_named_in_its_header():
    from analysis.present import table_html
    from analysis.sections import Column, Table

    big = Table("t", pd.DataFrame({"amount": [35133743.0, 1200.0]}), [Column("amount", "money")])
    html = table_html(big, "zh")
    assert "金额（万元）" in html and "3,513.4" in html and "0.1" in html and "35,133,743" not in html
    small = Table("t", pd.DataFrame({"amount": [1200.0, 9999.0]}), [Column("amount", "money")])
    assert "金额（元）" in table_html(small, "zh") and "9,999" in table_html(small, "zh")
    assert "Amount (yuan)" in table_html(big, "en") and "35,133,743" in table_html(big, "en")


def test_a_method_note_and_an_error_in_the_page_language():
    from analysis.i18n import msg
    from analysis.present import Method, skip_text, text_block
    from analysis.sections import Skip

    b = text_block(Method(msg("skip.no_data")), "zh")
    assert b.kind == "note" and b.payload.startswith("方法说明：")
    sk = Skip("failed", {"error": "The Cox model needs more events (1) than covariates (5)."})
    assert skip_text(sk, "zh") == "计算未能完成：离职人数（1）不多于模型中的因素个数（5），无法拟合比例风险模型"
    assert "(1)" in skip_text(sk, "en") and "Cox" in skip_text(sk, "en")
    other = Skip("failed", {"error": "ValueError: something odd"})
    assert "something" not in skip_text(other, "zh") and "something" not in skip_text(other, "en")

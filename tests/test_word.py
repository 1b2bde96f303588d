"""analysis.word: rendered blocks → a DOCX (headings, CJK font, Word tables, images, page numbers, A4)."""
from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

docx = pytest.importorskip("docx")

from analysis.present import Block, table_html  # noqa: E402
from analysis.sections import Table  # noqa: E402
from analysis.word import LANG_TAGS, PRINT_DPI, docx_level, figure_png, write_docx  # noqa: E402

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _table() -> Table:
    frame = pd.DataFrame({"region": ["市区", "城东", "北县"], "actual": [1_234_567.0, 987_654.0, 55_000.0],
                          "attainment": [0.93, 1.02, None]})
    return Table.of("by_region", frame, region="text", actual="money_wan", attainment="rate")


def _figure():
    import matplotlib.pyplot as plt

    from analysis import charts

    charts.setup()

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], [3, 1, 2])
    ax.set_title("销售额")
    return fig


@pytest.fixture(scope="module", params=["zh", "en"])
def written(request, tmp_path_factory):
    lang = request.param
    t = _table()
    blocks = [
        Block("heading", (2, "总体情况")),
        Block("paragraph", "本月销售额1.2亿元，完成率93%。\n\n第二段。"),
        Block("cards", {"销售额": "1.2亿元", "完成率": "93%"}),
        Block("heading", (3, "分区域")),
        Block("table", (t, table_html(t, lang))),
        Block("figure", _figure()),
        Block("note", "说明：时间进度按工作日计。"),
    ]
    path = tmp_path_factory.mktemp("word") / f"x_{lang}.docx"
    out = write_docx(path, "月度销售趋势", blocks, lang, meta=[("月份", "2026年10月")], font="WenQuanYi Micro Hei")
    return lang, out, docx.Document(str(out))


def test_headings_are_word_heading_styles(written):
    _, _, d = written
    heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert heads == [("Heading 1", "总体情况"), ("Heading 2", "分区域")]
    assert d.paragraphs[0].style.name == "Title" and d.paragraphs[0].text == "月度销售趋势"
    assert d.core_properties.title == "月度销售趋势"


def test_text_paragraphs_cards_and_notes(written):
    _, _, d = written
    text = "\n".join(p.text for p in d.paragraphs)
    assert "本月销售额1.2亿元，完成率93%。" in text and "第二段。" in text
    assert "1.2亿元" in text and "时间进度按工作日计" in text and "2026年10月" in text


def test_table_is_a_word_table_with_units_in_headers(written):
    lang, _, d = written
    assert len(d.tables) == 1
    t = d.tables[0]
    rows = [[c.text for c in r.cells] for r in t.rows]
    assert len(rows) == 4  # header + 3 rows
    from analysis.present import headers

    assert rows[0] == headers(_table(), lang)
    assert ("（万元）" if lang == "zh" else "(10k yuan)") in rows[0][1]  # the unit is in the header
    assert rows[1][1] == "123.5"  # the cell in the table form of its kind (scaled, unit in the header)
    assert rows[1][0] == "市区"
    # the header row repeats on every page
    assert t.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None


def test_image_at_print_resolution(written):
    _, out, d = written
    assert len(d.inline_shapes) == 1
    with zipfile.ZipFile(out) as z:
        pngs = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(pngs) == 1
        from PIL import Image

        with Image.open(io.BytesIO(z.read(pngs[0]))) as im:
            assert round(im.info["dpi"][0]) == PRINT_DPI
    assert d.inline_shapes[0].width.mm <= 170 + 1e-6


def test_east_asian_font_named_in_styles_and_defaults(written):
    lang, _, d = written
    styles = d.styles.element
    fonts = styles.findall(f".//{W}rFonts")
    assert fonts, "no fonts named"
    default = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    assert default.get(f"{W}eastAsia") == "WenQuanYi Micro Hei"
    for name in ("Normal", "Heading 1", "Heading 2", "Title"):
        rf = d.styles[name].element.find(f"{W}rPr/{W}rFonts")
        assert rf is not None and rf.get(f"{W}eastAsia") == "WenQuanYi Micro Hei", name
        assert rf.get(f"{W}eastAsiaTheme") is None, name  # a theme font would win over the name
    lang_el = d.styles["Normal"].element.find(f"{W}rPr/{W}lang")
    assert lang_el.get(f"{W}val") == LANG_TAGS[lang] and lang_el.get(f"{W}eastAsia") == "zh-CN"


def test_a4_and_page_numbers(written):
    _, _, d = written
    s = d.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    instr = [e.text.strip() for e in s.footer._element.iter(f"{W}instrText")]
    assert instr == ["PAGE", "NUMPAGES"]


def test_docx_level():
    assert [docx_level(n) for n in (1, 2, 3, 4, 12)] == [1, 1, 2, 3, 9]


def test_empty_table_and_bytes_figure(tmp_path):
    t = Table.of("empty", pd.DataFrame({"region": pd.Series([], dtype=str)}), region="text")
    png = figure_png(_figure())
    out = write_docx(tmp_path / "e.docx", "T", [Block("table", (t, "")), Block("figure", png)], "en")
    d = docx.Document(str(out))
    assert len(d.tables) == 0 and len(d.inline_shapes) == 1
    assert any(p.text for p in d.paragraphs[1:])  # the "no rows" note


def test_bad_content_is_one_line_error(tmp_path):
    with pytest.raises(TypeError, match="must hold Block or SectionResult"):
        write_docx(tmp_path / "x.docx", "T", ["text"], "zh")


def test_wide_table_on_a_landscape_page_then_portrait_again(tmp_path):
    names = ["target", "actual", "attainment", "gap", "yoy", "mom", "ytd", "retention", "attrition", "role", "tenure",
             "price_class", "repeat_rate", "lo80"]
    from analysis.sections import Column

    t = Table("wide", pd.DataFrame({n: [1.0] for n in names}), [Column(n, "f1") for n in names])
    blocks = [Block("paragraph", "前"), Block("table", (t, "")), Block("paragraph", "后")]
    d = docx.Document(str(write_docx(tmp_path / "w.docx", "T", blocks, "zh")))
    sizes = [(round(s.page_width.mm), round(s.page_height.mm)) for s in d.sections]
    assert sizes == [(210, 297), (297, 210), (210, 297)]
    assert all(s.footer.is_linked_to_previous for s in d.sections[1:])  # page numbers run on
    assert len(d.tables) == 1 and len(d.tables[0].columns) == 14


@pytest.mark.slow
def test_a_report_run_with_docx_writes_the_sections_as_word(demo_world, tmp_path):
    """``run REPORT --docx``: the Word document holds the page's section headings and tables."""
    import re

    import docx

    from analysis.reports import run_report

    res = run_report("rep_scorecard", {}, store=str(demo_world[0]), out=tmp_path, update_index=False, docx=True)
    assert res.ok, res.summary()
    assert res.docx is not None and res.docx.exists()
    d = docx.Document(str(res.docx))
    heads = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    html = res.html.read_text(encoding="utf-8")
    h2 = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, flags=re.S)]
    assert heads and [h for h in h2 if h in heads] == heads
    assert len(d.tables) >= 3

"""Safe display helpers (analysis.display): formats computed by hand, every data string escaped."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import display

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "value, code, expected",
    [
        (1234567.8, "money", "1,234,568"),
        (1234567.8, "int", "1,234,568"),
        (123456.0, "wan", "12.3"),
        (0.1234, "pct", "12.3%"),
        (0.0005, "pct", "0.1%"),
        (1.25, "pp", "+1.2"),  # banker's rounding of the float 1.25 → 1.2
        (-0.04, "pp", "-0.0"),
        (-1500, "signed", "-1,500"),
        (2.0, "f3", "2.000"),
        (None, "pct", "—"),
        (float("nan"), "money", "—"),
        (float("inf"), "f1", "—"),
        (pd.NA, "int", "—"),
        ("市区", "money", "市区"),
    ],
)
def test_fmt(value, code, expected):
    assert display.fmt(value, code) == expected


def test_fmt_unknown_code():
    with pytest.raises(ValueError, match="The 'code' parameter of fmt must be a known format code. Got 'zz' instead."):
        display.fmt(1, "zz")


def test_table_escapes_cells_columns_and_caption():
    df = pd.DataFrame({SCRIPT: ["<b>x</b>", "&"], "attainment": [0.5, np.nan]})
    html = display.table_html(df, {"attainment": "pct"}, caption=SCRIPT)
    assert "<script" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "<td class=\"txt\">&lt;b&gt;x&lt;/b&gt;</td>" in html and "&amp;" in html
    assert "<th>完成率</th>" in html and "50.0%" in html and "—" in html


def test_table_escapes_index_values():
    df = pd.DataFrame({"amount": [1.0]}, index=pd.Index([SCRIPT], name="region"))
    html = display.table_html(df, {"amount": "money"}, index=True)
    assert "<script" not in html and "&lt;script&gt;" in html


def test_table_truncates_with_note_in_the_report_language():
    zh = display.table_html(pd.DataFrame({"x": range(5)}), max_rows=2)
    assert zh.count("<tr>") == 3 and "另有 3 行未显示" in zh and "more rows" not in zh
    en = display.table_html(pd.DataFrame({"x": range(1205)}), max_rows=2, lang="en")
    assert "1,203 more rows" in en


def test_figure_is_a_sharp_phone_sized_png(monkeypatch):
    """A chart drawn 10 inches wide with 6 pt text is shown at most charts.MAX_WIDTH_IN (5.2 in, ≈ 374 CSS px) wide,
    its text at least 11 pt, rendered at 2x its display size (the PNG's pixels ÷ the width)."""
    import base64
    import struct

    import matplotlib
    import matplotlib.pyplot as plt

    from analysis import charts

    matplotlib.use("agg")
    charts.setup()
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot([1, 2, 3], [3, 1, 2])
    ax.set_title("销售趋势", fontsize=6)
    ax.tick_params(labelsize=5)
    data, meta = display.figure_output(fig)
    assert data["text/plain"].startswith("<Figure size 720x288")
    png = base64.b64decode(data["image/png"])
    w_px, h_px = struct.unpack(">II", png[16:24])
    width, height = meta["image/png"]["width"], meta["image/png"]["height"]
    assert width <= charts.MAX_WIDTH_IN * charts.CSS_PX_PER_INCH
    assert w_px == pytest.approx(2 * width, abs=1) and h_px == pytest.approx(2 * height, abs=1)
    texts = [ax.title, *ax.get_xticklabels(), *ax.get_yticklabels()]
    assert min(t.get_fontsize() for t in texts if t.get_text()) >= charts.MIN_FONT_PT
    plt.close(fig)


@pytest.mark.parametrize(
    "fn, args",
    [
        (display.heading_html, (SCRIPT, 2)),
        (display.paragraph_html, (SCRIPT + "\n\n" + SCRIPT,)),
        (display.note_html, (SCRIPT,)),
        (display.kpis_html, ({SCRIPT: SCRIPT},)),
    ],
)
def test_every_helper_escapes(fn, args):
    shown = fn(*args)
    assert "<script" not in shown and "&lt;script&gt;" in shown


@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_no_text_escapes_the_table(texts):
    html = display.table_html(pd.DataFrame({"comment": texts}))
    cells = html.split("<tbody>")[1]
    assert "<script" not in cells.lower().replace("&lt;script", "")
    for t in texts:
        assert display.esc(t) in cells


def test_charts_find_the_cjk_font_even_with_a_stale_font_cache(monkeypatch):
    """Fonts installed after matplotlib built its cache (a fresh machine running sysdeps after the
    first import) must still be found, or Chinese chart labels draw as empty boxes."""
    import subprocess

    from matplotlib import font_manager

    from analysis import charts

    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        pytest.skip("no CJK font installed (scripts/sysdeps.sh fonts)")
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    assert charts.cjk_font() in charts.CJK_FONTS


def test_empty_table_says_so_in_the_report_language():
    import pandas as pd

    from analysis.display import table_html

    empty = pd.DataFrame({"region": [], "attainment": []})
    assert table_html(empty, lang="zh") == '<p class="note">（无数据）</p>'
    assert table_html(empty, lang="en", caption="<by year>") == '<p class="note">&lt;by year&gt;: (no rows)</p>'


def test_headers_and_formats_come_from_the_catalogues():
    df = pd.DataFrame({"attainment": [0.5], "amount": [1234567.8], "OverTime": [1]})
    en = display.table_html(df, {"attainment": "pct", "amount": "money"}, lang="en")
    assert "<th>Attainment</th><th>Amount</th><th>OverTime</th>" in en  # a name without a label stays as it is
    assert "<th>完成率</th><th>金额</th>" in display.table_html(df, lang="zh")
    from analysis import i18n

    for code, kind in display.CODES.items():
        if code != "text":
            assert display.fmt(-1234.5, code, "en") == i18n.format_value(-1234.5, kind, "en", table=True)

"""What a manager reads in a launch review (issue 21): the product by its name, quantities in the
unit the products master says (条, 箱, 包; never one unit over mixed units), chart axes with
their units, an ASCII and stable folder, and every report's headline on a store of 20 days."""
from __future__ import annotations

import datetime as dt
import shutil
import warnings

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import contracts, i18n, present  # noqa: E402
from analysis.charts import axis_label  # noqa: E402
from analysis.charts import launch as launch_charts  # noqa: E402
from analysis.launch import product_name  # noqa: E402
from analysis.reports.outputs import run_period, shown_period  # noqa: E402
from analysis.spec import launch_key  # noqa: E402
from present_helpers import section_html  # noqa: E402


# ------------------------------------------------------------------ names and folders
def test_product_name_is_brand_and_specification():
    assert product_name("红梅", "红梅(软黄)") == "红梅(软黄)"
    assert product_name("红梅", "软黄") == "红梅(软黄)"
    assert product_name("红梅", None, "S1") == "红梅"
    assert product_name(None, float("nan"), "6901028339568") == "6901028339568"


@pytest.mark.parametrize("what", ["6901028339568", "S044", "红梅", "Marlboro Gold", "a/b\\c", "x" * 90])
def test_launch_folder_is_ascii_safe_and_stable(what):
    key = launch_key(what, "2026-09-15")
    assert key.isascii() and key.endswith("-2026-09-15")
    assert key == launch_key(what, "2026-09-15")  # the same launch files to the same folder
    assert run_period("launch_review", {}, {"period": key}) == key  # nothing left to make safe
    assert "/" not in key and "\\" not in key and len(key) <= 80


def test_launch_folder_keeps_a_plain_code_and_separates_brands():
    assert launch_key("6901028339568", "2026-09-15") == "6901028339568-2026-09-15"
    assert launch_key("红梅", "d") != launch_key("红塔山", "d")
    assert run_period("launch_review", {"brand": "红梅", "launch_date": "2026-09-15"}).isascii()


def test_title_and_index_period_name_the_product():
    from analysis.reports.export import report_title

    m = {"subject": "海韵(中支)", "window": {"start": "2026-09-08", "end": "2026-10-07"}, "period": "S044-2026-09-08"}
    assert report_title("launch_review", "zh", m, {}).endswith("· 海韵(中支)")
    assert "S044" not in report_title("launch_review", "en", m, {})
    assert shown_period("S044-2026-09-08", m) == "2026-09-08 – 2026-10-07"
    assert shown_period("2026-10", {"period": "2026-10"}) == "2026-10"


# ------------------------------------------------------------------ units
def test_pack_unit_words_and_one_unit_of_several_products():
    assert contracts.qty_unit(["箱", "case", None]) == "case"
    assert contracts.qty_unit(["条", "条"]) == "carton"
    assert contracts.qty_unit([None]) == "carton"  # no unit said: the trade's 条
    assert contracts.qty_unit(["条", "箱"]) == "mixed"
    assert contracts.qty_unit(["瓶"]) == "mixed"  # a unit not known: never headed 条
    assert set(contracts.QTY_KINDS.values()) <= set(i18n.KINDS)
    assert contracts.spec("products").column("pack_unit")
    from analysis.aliases import canonical_header

    for header in ("单位", "包装单位", "计量单位"):
        assert canonical_header("products", header) == "pack_unit"


@pytest.mark.parametrize("lang,unit,case,mixed", [("zh", "（条）", "（箱）", "（单位不一）"),
                                                  ("en", "(cartons)", "(cases)", "(mixed units)")])
def test_quantity_headers_say_their_unit(lang, unit, case, mixed):
    from analysis.sections import Table

    frame = pd.DataFrame({"volume": [1200.0, 30.0]})
    for kind, word in (("qty", unit), ("qty_case", case), ("qty_mixed", mixed)):
        t = Table.of("t", frame, labels={"volume": "launch_review.column.volume"}, volume=kind)
        assert present.headers(t, lang)[0].endswith(word)
        assert present.headers(t, lang)[0].count("(") + present.headers(t, lang)[0].count("（") == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_axes_say_their_units(lang):
    daily = pd.DataFrame({"day": [1, 2, 3], "qty": [3.0, 1.0, 2.0], "cum_qty": [3.0, 4.0, 6.0],
                          "customers": [2, 1, 0], "order_size": [1.5, 1.0, None]})
    case = i18n.table_unit("qty_case", (), lang)["header"].format(label="").strip()
    fig = launch_charts.sales_trend(daily, lang=lang, qty_kind="qty_case")
    labels = [ax.get_ylabel() for ax in fig.axes]
    plt.close(fig)
    assert all(lab.endswith(case) for lab in labels), labels
    assert axis_label("column.amount", "money", lang) == i18n.header_label("column.amount", "money_wan", lang)
    assert ("万元" if lang == "zh" else "10k yuan") in axis_label("column.amount", "money", lang)
    curves = pd.DataFrame({"launch": ["S1", "S1", "S2", "S2"], "day": [1, 2, 1, 2], "cum_qty": [1, 2, 1, 3],
                           "distribution": [.1, .2, .1, .3], "repeat": [0, .1, 0, .2]})
    fig = launch_charts.benchmark_curves(curves, "S1", lang=lang, names={"S1": "红梅(软黄)", "S2": "金桥(典藏)"})
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)
    assert legend == ["红梅(软黄)", "金桥(典藏)"]  # names, never codes


# ------------------------------------------------------------------ a launch in cases, on a tiny store
@pytest.fixture(scope="module")
def case_store(tmp_path_factory):
    """A tiny store: two products in 箱 (one launched), one in 条 of the same brand."""
    import duckdb

    path = tmp_path_factory.mktemp("cases") / "w.duckdb"
    con = duckdb.connect(str(path))
    days = pd.date_range("2026-01-01", "2026-03-31", freq="D")
    rows = []
    for i, d in enumerate(days):
        for c in range(6):
            for sku in ("N1", "O1", "O2"):
                if sku == "N1" and d < pd.Timestamp("2026-03-01"):
                    continue
                if (i + c + len(sku)) % 3:
                    continue
                rows.append((f"{sku}-{i}-{c}", 1, d.date(), f"C{c}", sku, 2.0 + c % 2, 500.0 * (1 + c % 2)))
    orders = pd.DataFrame(rows, columns=["order_id", "line_no", "order_date", "customer_id", "sku_id", "qty", "amount"])
    products = pd.DataFrame({"sku_id": ["N1", "O1", "O2"], "brand": ["海韵", "海韵", "红梅"],
                             "sku_name": ["海韵(中支)", "海韵(硬)", "软黄"], "price_class": ["三类", "三类", "四类"],
                             "pack_unit": ["箱", "条", "箱"],
                             "launch_date": [dt.date(2026, 3, 1), None, None]})
    customers = pd.DataFrame({"customer_id": [f"C{c}" for c in range(6)], "region": ["市区", "北县"] * 3})
    for name, df in (("orders", orders), ("products", products), ("customers", customers)):
        con.register("df", df)
        con.execute(f"create table {name} as select * from df")
        con.unregister("df")
    con.close()
    return path


def _launch(store, **params):
    from analysis.reports.compute import compute

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute("launch_review", str(store), params)


def test_a_launch_in_cases_says_cases_and_its_name(case_store):
    out = _launch(case_store, sku="N1", window_days=28)
    assert out.metrics["subject"] == "海韵(中支)"
    assert out.metrics["period"] == "N1-2026-03-01"
    trend = next(s for s in out.sections if s.code == "sales_trend")
    assert trend.skip is None
    html = section_html(trend, "zh")
    assert "销量（箱）" in html and "（条）" not in html
    head = next(s for s in out.sections if s.code == "headline")
    from analysis.narrative import launch as texts

    zh = section_html(head, "zh", texts.headline)
    assert ">140箱<" in zh and "销量（条）" not in zh and "海韵(中支)" in zh and "箱、金额" in zh
    assert "cases" in section_html(head, "en", texts.headline)


def test_a_brand_in_mixed_units_never_sums_under_one_unit(case_store):
    out = _launch(case_store, brand="海韵", launch_date="2026-03-01", window_days=28)
    trend = next(s for s in out.sections if s.code == "sales_trend")
    assert [n.code for n in trend.notes] == ["mixed_units"]
    html = section_html(trend, "zh")
    assert "（单位不一）" in html and "销量（条）" not in html and "销量（箱）" not in html
    assert out.metrics["period"].isascii()


# ------------------------------------------------------------------ a store of 20 days
@pytest.fixture(scope="module")
def store_of_20_days(tmp_path_factory):
    """The small demo world cut to its first 20 days of orders (visits and feedback alike)."""
    import duckdb

    from analysis import demo

    folder = tmp_path_factory.mktemp("d20")
    full = folder / "full.duckdb"
    demo.build(str(full), scale=0.02, truth_path=folder / "truth.json")
    path = folder / "w20.duckdb"
    shutil.copy(full, path)
    con = duckdb.connect(str(path))
    lo = con.execute("select min(order_date) from orders").fetchone()[0]
    end = lo + dt.timedelta(days=20)
    con.execute("delete from orders where order_date >= ?", [end])
    con.execute("delete from visits where visit_date >= ?", [end])
    con.execute("delete from feedback where response_date >= ?", [end])
    con.close()
    return path, lo


@pytest.mark.parametrize("report,params", [
    ("sales_trends", {"month": "{month}", "level": "rep"}), ("rep_scorecard", {"month": "{month}"}),
    ("launch_review", {"sku": "S001", "launch_date": "{day}"}),
])
def test_every_headline_on_a_store_of_20_days(store_of_20_days, report, params):
    """Every report's sections (and their sentences in both languages) compute on 20 days of
    data: a section may skip with its reason, none may fail with a TypeError."""
    from analysis.params import REPORTS
    from analysis.reports.compute import compute

    path, lo = store_of_20_days
    values = {k: v.format(month=lo.strftime("%Y-%m"), day=lo.isoformat()) for k, v in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = compute(report, str(path), values)
        texts = REPORTS[report].texts()
        for s in out.sections:
            for lang in ("zh", "en"):
                present.render(s, lang, texts.get(s.code))
    plt.close("all")
    assert out.sections

"""The run's Excel workbook: about sheet, one sheet per shown table, real formats, no formulas from data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import openpyxl
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.excel import neutralise, sheet_name, write_workbook
from analysis.present import Presenter
from analysis.sections import Column, SectionResult, Table

ABOUT = {"report": "sales_trends", "period": "2026-10",
         "parameters": {"month": "2026-10", "level": "region", "lang": "zh"},
         "data_window": {"start": "2024-01-01", "end": "2026-10-31"},
         "definitions": ["完成率 = 实际 ÷ 目标"], "generated_at": "2026-11-02T08:00:00"}


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "region": ["East", "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab"],
        "amount": [35649026.0, 1200.0, 0.0, 5.0, 6.0, float("nan")],
        "amount_wan": [35649026.0, 1200.0, 0.0, 5.0, 6.0, 7.0],
        "qty": [125000, 3, 4, 5, 6, 7],
        "attainment": [0.9381, 0.5, 1.2, float("nan"), 0.1, 0.2],
        "shift": [1.25, -0.4, 0.0, 1.0, 2.0, 3.0],
        "day": [dt.date(2026, 10, 1)] * 6,
        "month": ["2026-10"] * 6,
        "size_class": ["large", "small", "medium", "large", "small", "medium"],
    })


def _table(frame: pd.DataFrame, code: str = "by_region", title: str | None = None) -> Table:
    return Table(code, frame, [
        Column("region"), Column("amount", "money"), Column("amount_wan", "money_wan", "column.amount"),
        Column("qty", "qty"), Column("attainment", "rate"), Column("shift", "pp", "column.change_pp"),
        Column("day", "date", "column.period"), Column("month", "month"),
        Column("size_class", "code", codes="column"),
    ], title=title)


def test_about_sheet_then_one_sheet_per_table_with_headers_in_the_language(tmp_path, frame):
    path = write_workbook(tmp_path / "run.xlsx", ABOUT, [("按区域", _table(frame)), ("趋势", _table(frame.head(2)))], "zh")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "按区域", "趋势"]
    about = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    assert about[0] == ["项目", "内容"]
    assert ["报告", "月度销售趋势"] in about and ["报告期", "2026-10"] in about
    assert ["数据范围", "2024-01-01 – 2026-10-31"] in about
    assert ["  level", "region"] in about and [None, "完成率 = 实际 ÷ 目标"] in about
    ws = wb["按区域"]
    assert [c.value for c in ws[1]] == ["区域", "金额（万元）", "金额（万元）", "销量（条）", "完成率", "变化（百分点）", "期间", "月份",
                                      "客户档位"]
    assert ws.freeze_panes == "A2" and wb["说明"].freeze_panes == "A2"
    assert ws.max_row == len(frame) + 1

    en = openpyxl.load_workbook(write_workbook(tmp_path / "en.xlsx", dict(ABOUT, parameters={}), [("By region", _table(frame))], "en"))
    assert en.sheetnames == ["About", "By region"]
    assert [c.value for c in en["By region"][1]][:6] == ["Region", "Amount (yuan)", "Amount (10k yuan)", "Volume (cartons)",
                                                        "Attainment", "Change (pp)"]
    assert en["By region"]["I2"].value == "Large"


def test_number_formats_and_one_figure_per_column_against_the_frame(tmp_path, frame):
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "run.xlsx", ABOUT, [("按区域", _table(frame))], "zh"))["按区域"]
    r = 2
    # full-precision amounts; the format shows them in the column's unit (万元: ÷1,000 and a literal point)
    assert ws[f"B{r}"].value == frame.loc[0, "amount"] and ws[f"B{r}"].number_format == '0!.0,"万元"'
    assert ws[f"C{r}"].value == frame.loc[0, "amount_wan"] and ws[f"C{r}"].number_format == '0!.0,"万元"'
    assert ws[f"D{r}"].value == frame.loc[0, "qty"] and ws[f"D{r}"].number_format == '#,##0"条"'
    assert ws[f"E{r}"].value == pytest.approx(frame.loc[0, "attainment"]) and ws[f"E{r}"].number_format == "0.0%"
    assert ws[f"F{r}"].value == pytest.approx(1.25) and ws[f"F{r}"].number_format == "+0.0;-0.0;0.0"
    assert ws[f"G{r}"].value.date() == dt.date(2026, 10, 1) and ws[f"G{r}"].number_format == "yyyy-mm-dd"
    assert ws[f"H{r}"].value.date() == dt.date(2026, 10, 1) and ws[f"H{r}"].number_format == "yyyy-mm"
    assert ws[f"I{r}"].value == "大户"
    assert ws["B7"].value is None and ws["E5"].value is None  # undefined values are empty cells
    assert all(isinstance(ws.cell(i, 2).value, (int, float, type(None))) for i in range(2, ws.max_row + 1))
    # widths fitted to the content (the amount column is wider than the minimum)
    assert ws.column_dimensions["B"].width >= len("3,565.0")


def test_formula_like_text_is_neutralised(tmp_path, frame):
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "run.xlsx", ABOUT, [("=evil", _table(frame))], "zh"))
    ws = wb[wb.sheetnames[1]]
    values = [ws.cell(i, 1).value for i in range(2, ws.max_row + 1)]
    assert values == ["East", "'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTab"]
    for i in range(2, ws.max_row + 1):
        assert ws.cell(i, 1).data_type == "s"
    assert wb.sheetnames[1] == "=evil"  # a sheet name is never evaluated
    assert neutralise("\rx") == "'\rx" and neutralise("ok") == "ok"


def test_sheet_names_are_valid_short_and_unique():
    assert sheet_name("a[b]c:d*e?f/g\\h") == "a_b_c_d_e_f_g_h"
    long = "一" * 40
    assert len(sheet_name(long)) == 31
    taken = [sheet_name(long)]
    second = sheet_name(long, taken)
    assert len(second) <= 31 and second.endswith("(2)") and second not in taken
    assert sheet_name("About", ["about"]) == "About (2)"


def test_many_tables_with_the_same_title_get_unique_sheets(tmp_path, frame):
    items = [("价类结构", _table(frame, f"t{i}")) for i in range(3)]
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "run.xlsx", {"report": "sales_trends"}, items, "zh"))
    assert wb.sheetnames == ["说明", "价类结构", "价类结构 (2)", "价类结构 (3)"]


def test_bad_arguments_are_one_line_errors(tmp_path, frame):
    with pytest.raises(ParameterError, match="The keys of the 'about' parameter of write_workbook must be among"):
        write_workbook(tmp_path / "x.xlsx", {"reprot": "x"}, [], "zh")
    with pytest.raises(ParameterError, match="must hold \\(title, Table\\) pairs"):
        write_workbook(tmp_path / "x.xlsx", {}, [_table(frame)], "zh")
    with pytest.raises(ParameterError, match="The 'lang' parameter of write_workbook"):
        write_workbook(tmp_path / "x.xlsx", {}, [], "fr")
    assert not (tmp_path / "x.xlsx").exists()


def test_presenter_writes_the_tables_it_showed(tmp_path, frame):
    @dataclass(kw_only=True)
    class Mix(SectionResult):
        report = "sales_trends"
        default_code = "mix"

    p = Presenter("sales_trends", lang="zh")
    p.blocks(Mix(tables=[_table(frame)]))
    p.blocks(Mix(code="contribution", tables=[_table(frame, "by_brand", title="column.brand")]))
    p.blocks(Mix(code="forecast", tables=[_table(frame)]).skipped("disabled", param="forecast_months"))
    path = write_workbook(tmp_path / "run.xlsx", {"report": "sales_trends", "period": "2026-10"}, p.tables, "zh")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "价类结构", "品牌"]  # a skipped section shows no table
    assert wb["价类结构"]["B2"].value == frame.loc[0, "amount"]


def test_a_small_amount_column_is_in_yuan_and_says_so(tmp_path):
    frame = pd.DataFrame({"region": ["East", "West"], "amount": [1200.0, 9999.0]})
    t = Table("small", frame, [Column("region"), Column("amount", "money")])
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "run.xlsx", ABOUT, [("小额", t)], "zh"))["小额"]
    assert [c.value for c in ws[1]] == ["区域", "金额（元）"]
    assert ws["B2"].value == 1200.0 and ws["B2"].number_format == '#,##0"元"'

"""Ingest of the layouts departments actually send (issue 19): title rows, two-row headers with
merged group cells, unit rows, line breaks in header cells (CRLF CSV), merged key cells, Excel
error cells, the same header twice, data on another sheet, GB18030 text after the first MiB,
wide plans, order exports without line numbers, ``--header-row``.

Files are made the way the tools make them: openpyxl merged ranges and error cells, Python's
csv writer with CRLF line ends and quoted line breaks, GB18030 bytes. Every ingest goes through
``run()``, which checks that the file is unchanged and the accounting holds (rows read =
accepted + quarantined + duplicates); each test also checks the exact rows and sums stored.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import ingest as ing
from pipeline_helpers import quarantine
from analysis.errors import IngestError, ParameterError
from analysis.ingest import ingest_file
from analysis.ingest.header import detect, join_rows, unit_of
from analysis.ingest.read import detect_encoding
from analysis.ingest.wide import month_of

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 15)


def run(table, path, store, **kw):
    before = Path(path).read_bytes()
    res = ingest_file(table, path, store=str(store), today=kw.pop("today", TODAY), **kw)
    assert Path(path).read_bytes() == before, "the input file was modified"
    assert res.balanced and res.rows_read == res.accepted + res.quarantined + res.duplicates
    return res


def sql(store: Path, query: str):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", crlf: bool = False) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "s.duckdb"


# ---- header detection (units) ----------------------------------------------------------------
def test_detect_finds_the_header_below_a_title_and_blank_rows():
    rows = [["2026年10月订单明细", None, None], [None, None, None], ["订单编号", "订单日期", "金额"], ["A1", "2026-10-01", "5"]]
    h = detect(rows, "orders")
    assert (h.first, h.data, h.names) == (2, 3, ["订单编号", "订单日期", "金额"])
    assert h.notes == ["header found on row 3 (rows above it skipped: 2)"]


def test_join_rows_and_unit_cells():
    assert join_rows(["订单编号", "销售情况", None], [None, "数量", "金额"]) == (
        ["订单编号", "销售情况/数量", "销售情况/金额"], True)
    # a title over every column is not a group row
    assert join_rows(["标题", None], ["订单编号", "金额"])[1] is False
    assert [unit_of(x) for x in ("万元", "（万元）", "单位：箱", "元/条", "金额", None)] == [
        "万元", "万元", "箱", "元/条", None, None]
    assert [month_of(x) for x in ("2025年9月", "2025-09", "2025/9", "202509", "2025-09-01 00:00:00", "2025年13月")] == [
        "2025-09", "2025-09", "2025-09", "2025-09", "2025-09", None]


def test_header_row_parameter_is_checked():
    rows = [["订单日期", "金额"], ["2026-10-01", "5"]]
    with pytest.raises(ParameterError, match=r"^The 'header_row' parameter of ingest must be a row number like 3"):
        detect(rows, "orders", header_row="x")
    with pytest.raises(ParameterError, match=r"^The 'header_row' parameter of ingest must be a non-empty row among"):
        detect(rows, "orders", header_row=9)
    two = [["x"], ["订单日期", "销售"], [None, "金额"], ["2026-10-01", "5"]]
    h = detect(two, "orders", header_row="2-3")
    assert (h.names, h.first, h.data) == (["订单日期", "销售/金额"], 1, 3)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.integers(0, 3), blanks=st.integers(0, 2), crlf=st.booleans(), broken=st.booleans(),
       unit_row=st.booleans(), amounts=st.lists(st.integers(-50, 500), min_size=1, max_size=6))
def test_any_layout_reads_every_row(tmp_path_factory, titles, blanks, crlf, broken, unit_row, amounts):
    """Title rows, blank rows, line ends, a line break in a header cell, a unit row: every data row
    is read, accepted, and the sums are exact."""
    d = tmp_path_factory.mktemp("layout")
    rows = [[f"标题{i}"] for i in range(titles)] + [[""]] * blanks
    rows.append(["订单编号", "行号", "订单\n日期" if broken else "订单日期", "金额"])
    if unit_row:
        rows.append(["", "", "", "千元"])
    rows += [[f"A{i}", "1", "2026-10-01", str(a)] for i, a in enumerate(amounts)]
    p = write_csv(d / "o.csv", rows, crlf=crlf)
    res = run("orders", p, d / "s.duckdb")
    assert (res.rows_read, res.accepted) == (len(amounts), len(amounts))
    factor = 1000 if unit_row else 1
    assert sql(d / "s.duckdb", "SELECT sum(amount) FROM orders") == [(float(sum(amounts) * factor),)]


# ---- a unit row under the header ---------------------------------------------------------------
def test_unit_row_under_the_header_csv(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "行号", "订单日期", "数量", "金额"],
        ["", "", "", "箱", "万元"],
        ["A1", "1", "2026-10-01", "2", "1.5"],
        ["A2", "1", "2026-10-02", "1", "0.25"],
    ])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (2, 2, 0)
    assert res.conversions == {"金额(万元)": "amount × 10,000", "数量(箱)": "qty × 250"}
    assert "unit row 2 applied: 数量 (箱), 金额 (万元)" in res.notes
    assert sql(store, "SELECT order_id, qty, amount FROM orders ORDER BY order_id") == [
        ("A1", 500.0, 15000.0), ("A2", 250.0, 2500.0)]


def test_unit_row_under_the_header_xlsx(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "行号", "订单日期", "金额"])
    ws.append([None, None, None, "(万元)"])
    ws.append(["A1", 1, dt.date(2026, 10, 1), 2])
    ws.append(["A2", 1, dt.date(2026, 10, 2), 0.5])
    wb.save(tmp_path / "o.xlsx")
    res = run("orders", tmp_path / "o.xlsx", store)
    assert (res.rows_read, res.accepted) == (2, 2)
    assert sql(store, "SELECT sum(amount) FROM orders") == [(25000.0,)]


# ---- line breaks inside header cells (Alt+Enter), CRLF CSV --------------------------------------
@pytest.mark.parametrize("crlf", [True, False])
def test_line_breaks_in_header_cells(tmp_path, store, crlf):
    p = write_csv(tmp_path / "o.csv", [
        ["订单\n编号", "行号", "订单日期", "数量\n(条)", "金额\n（元）", "备注"],
        ["A1", "1", "2026-10-01", "5", "100", "第一行\n第二行"],
        ["A2", "1", "2026-10-02", "3", "50", ""],
        ["A3", "1", "2026-10-03", "1", "10", "x"],
    ], crlf=crlf)
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (3, 3, 0, 0)
    assert res.columns == {"订单 编号": "order_id", "行号": "line_no", "订单日期": "order_date",
                           "数量 (条)": "qty", "金额 （元）": "amount"}
    assert sql(store, "SELECT count(*), sum(qty), sum(amount) FROM orders") == [(3, 9.0, 160.0)]


def test_crlf_rows_quarantined_keep_their_row_numbers(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "行号", "订单日期", "数量\n(条)"],
        ["A1", "1", "2026-10-01", "5"],
        ["A2", "1", "2026-10-02", "abc"],
        ["A3", "1", "2026-10-03", "1"],
    ], crlf=True)
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (3, 2, 1)
    assert quarantine(store, "orders")["row"].tolist() == ["3"]


# ---- Excel error cells --------------------------------------------------------------------------
def _error_cell(ws, ref: str, value: str) -> None:
    ws[ref] = value
    ws[ref].data_type = "e"  # how openpyxl (and Excel) store an error: <c t="e"><v>#N/A</v></c>


def test_excel_error_cells_are_quarantined(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "行号", "订单日期", "客户编码", "金额"])
    for i in range(1, 6):
        ws.append([f"A{i}", 1, dt.date(2026, 10, i), f"C{i}", 10 * i])
    _error_cell(ws, "E3", "#N/A")
    _error_cell(ws, "E4", "#DIV/0!")
    _error_cell(ws, "D5", "#REF!")
    wb.save(tmp_path / "o.xlsx")
    res = run("orders", tmp_path / "o.xlsx", store)
    assert (res.rows_read, res.accepted, res.quarantined) == (5, 2, 3)
    assert res.codes == {"excel_error": 3}
    q = quarantine(store, "orders")
    assert q["row"].tolist() == ["3", "4", "5"]
    assert q["column"].tolist() == ["amount", "amount", "customer_id"]
    assert q["value"].tolist() == ["#N/A", "#DIV/0!", "#REF!"]
    assert sql(store, "SELECT sum(amount) FROM orders") == [(60.0,)]


def test_excel_error_text_in_a_csv(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "行号", "订单日期", "金额"],
        ["A1", "1", "2026-10-01", "#VALUE!"], ["A2", "1", "#NAME?", "3"], ["A3", "1", "2026-10-03", "4"]])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (3, 1, 2)
    assert res.codes == {"excel_error": 2}
    assert sql(store, "SELECT sum(amount) FROM orders") == [(4.0,)]


def test_excel_errors_saved_from_excel_to_csv_are_quarantined_with_their_code(tmp_path, store):
    """Every error value Excel writes into a CSV (also padded, or full-width as WPS may save it)
    is quarantined as excel_error, in any column type; the other rows' sums are exact."""
    errors = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", " #N/A ", "＃Ｎ／Ａ"]
    rows = [["订单编号", "行号", "订单日期", "客户编码", "数量", "金额"]]
    for i, e in enumerate(errors):
        col = i % 4  # amount, qty, order_date, customer_id in turn
        r = [f"E{i}", "1", "2026-10-01", "C1", "2", "10"]
        r[[5, 4, 2, 3][col]] = e
        rows.append(r)
    rows += [["G1", "1", "2026-10-02", "C1", "1", "2.5"], ["G2", "1", "2026-10-03", "C2", "3", "4.25"]]
    p = write_csv(tmp_path / "o.csv", rows, crlf=True)
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (11, 2, 9)
    assert res.codes == {"excel_error": 9}
    q = quarantine(store, "orders")
    assert q["code"].tolist() == ["excel_error"] * 9
    assert q["column"].tolist() == ["amount", "qty", "order_date", "customer_id"] * 2 + ["amount"]
    assert sql(store, "SELECT sum(amount), sum(qty), count(*) FROM orders") == [(6.75, 4.0, 2)]


@pytest.mark.parametrize("title, unit_factor", [
    ([["2026年10月订单明细"], ["单位：万元"]], 10_000),
    ([["2026年10月订单明细", "", "", "金额单位:千元"]], 1_000),
    ([["单位:元"]], 1),
])
def test_a_unit_in_the_title_applies_to_money_columns_without_their_own(tmp_path, store, title, unit_factor):
    rows = [*title, ["订单编号", "行号", "订单日期", "数量(箱)", "金额"],
            ["A1", "1", "2026-10-01", "2", "1.2345"], ["A2", "1", "2026-10-02", "1", "0.5"]]
    p = write_csv(tmp_path / "o.csv", rows)
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted) == (2, 2)
    [(amount, qty)] = sql(store, "SELECT sum(amount), sum(qty) FROM orders")
    assert amount == pytest.approx(1.7345 * unit_factor, rel=1e-12)
    assert qty == 750.0  # the volume keeps its own unit (箱), the title's money unit is not its
    assert any("from the title on row" in n and "applied to 金额" in n for n in res.notes), res.notes
    assert "from the title" in res.summary()


def test_a_title_unit_leaves_a_column_with_its_own_unit(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["单位：万元"], ["订单编号", "行号", "订单日期", "金额(元)"],
                                       ["A1", "1", "2026-10-01", "12.5"]])
    res = run("orders", p, store)
    assert sql(store, "SELECT amount FROM orders") == [(12.5,)]
    assert any("not applied: 金额(元) name their own unit" in n for n in res.notes), res.notes


# ---- merged key cells, title rows and two-row headers in XLSX ------------------------------------
def test_key_cells_merged_down_an_orders_lines(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "订单日期", "客户编码", "行号", "卷烟编码", "数量(条)", "金额(元)"])
    lines = [("O1", 3), ("O2", 4), ("O3", 1), ("O4", 2)]  # 10 lines
    r = 2
    for oid, n in lines:
        for k in range(1, n + 1):
            first = k == 1
            ws.append([oid if first else None, dt.date(2026, 10, r) if first else None, f"C{oid}" if first else None,
                       k, f"S{k}", k, 100 * k])
        if n > 1:
            for col in "ABC":
                ws.merge_cells(f"{col}{r}:{col}{r + n - 1}")
        r += n
    wb.save(tmp_path / "o.xlsx")
    res = run("orders", tmp_path / "o.xlsx", store)
    assert (res.rows_read, res.accepted, res.quarantined) == (10, 10, 0)
    assert ("merged cells filled with their value on every row they span, as Excel shows them: "
            "9 ranges in 订单编号, 订单日期, 客户编码") in res.notes
    got = sql(store, "SELECT order_id, count(*), count(DISTINCT order_date), min(customer_id), sum(amount) "
                     "FROM orders GROUP BY order_id ORDER BY order_id")
    assert got == [("O1", 3, 1, "CO1", 600.0), ("O2", 4, 1, "CO2", 1000.0), ("O3", 1, 1, "CO3", 100.0),
                   ("O4", 2, 1, "CO4", 300.0)]


def test_title_row_and_two_row_header_with_merged_group_cells(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年10月销售明细"])
    ws.merge_cells("A1:F1")
    ws.append(["订单编号", "行号", "订单日期", "本期", None, "同期"])
    ws.append([None, None, None, "数量", "金额", "金额"])
    for col in "ABC":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("D2:E2")
    ws.append(["A1", 1, dt.date(2026, 10, 1), 5, 100, 90])
    ws.append(["A2", 1, dt.date(2026, 10, 2), 2, 40, 35])
    wb.save(tmp_path / "o.xlsx")
    # 金额 under 本期 and under 同期: refused, naming both
    with pytest.raises(IngestError, match=r"^o\.xlsx: columns 5 '本期/金额' and 6 '同期/金额' both read as amount; "
                                          r"choose one with --mapping"):
        run("orders", tmp_path / "o.xlsx", store)
    res = run("orders", tmp_path / "o.xlsx", store, mapping={"本期/金额": "amount"})
    assert (res.rows_read, res.accepted) == (2, 2)
    assert res.columns == {"订单编号": "order_id", "行号": "line_no", "订单日期": "order_date",
                           "本期/数量": "qty", "本期/金额": "amount"}
    assert res.dropped_columns == ["同期/金额"]
    assert "header found on rows 2–3 (rows above it skipped: 1)" in res.notes
    assert sql(store, "SELECT sum(qty), sum(amount) FROM orders") == [(7.0, 140.0)]


def test_two_row_header_exported_to_csv(tmp_path, store):
    # FineReport / WPS save a merged group cell as its value then empty cells, a vertical merge as
    # the value then an empty cell below
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "行号", "订单日期", "销售情况", ""],
        ["", "", "", "数量(箱)", "金额(万元)"],
        ["A1", "1", "2026-10-01", "2", "1.2"],
        ["A2", "1", "2026-10-02", "1", "0.3"],
    ])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted) == (2, 2)
    assert res.conversions == {"销售情况/数量(箱)": "qty × 250", "销售情况/金额(万元)": "amount × 10,000"}
    assert sql(store, "SELECT sum(qty), sum(amount) FROM orders") == [(750.0, 15000.0)]


def test_header_row_overrides_detection(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "订单日期", "金额"],          # a stale header the export left on top
        ["导出说明", "", ""],
        ["订单编号", "订单日期", "金额(万元)"],
        ["A1", "2026-10-01", "1"],
    ])
    res = run("orders", p, store, header_row=3)
    assert (res.rows_read, res.accepted) == (1, 1)
    assert "header on row 3 (--header-row)" in res.notes
    assert sql(store, "SELECT amount FROM orders") == [(10000.0,)]


# ---- data on another sheet ---------------------------------------------------------------------
def test_data_on_another_sheet_names_the_sheets_and_sheet_option(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["区域", "金额"])
    ws.append(["东区", 100])
    ws2 = wb.create_sheet("明细")
    ws2.append(["订单编号", "行号", "订单日期", "金额"])
    ws2.append(["A1", 1, dt.date(2026, 10, 1), 100])
    wb.save(tmp_path / "o.xlsx")
    with pytest.raises(IngestError) as e:
        run("orders", tmp_path / "o.xlsx", store)
    assert str(e.value) == (
        "o.xlsx: required column 'order_date' of table 'orders' is missing on sheet '汇总'; sheets and the columns "
        "found on each: '汇总' (区域, 金额); '明细' (订单编号, 行号, 订单日期, 金额); choose another with --sheet.")
    res = run("orders", tmp_path / "o.xlsx", store, sheet="明细")
    assert (res.rows_read, res.accepted) == (1, 1)


# ---- GB18030 text after the first MiB -----------------------------------------------------------
def test_gb18030_text_after_the_first_mib(tmp_path, store):
    rows = [["order_id", "line_no", "order_date", "region", "amount"]]  # an ASCII header, ASCII rows
    n_ascii = 40_000
    rows += [[f"A{i:06d}", "1", "2026-10-01", "east", "1"] for i in range(n_ascii)]
    late = ["东区", "西区", "𠮷野家"]  # the last is outside GBK: GB18030 four-byte sequences
    rows += [[f"B{i}", "1", "2026-10-02", late[i], str(10 + i)] for i in range(3)]
    p = write_csv(tmp_path / "o.csv", rows, encoding="gb18030")
    assert p.read_bytes().index("东区".encode("gb18030")) > (1 << 20)
    assert detect_encoding(p) == "gb18030"
    res = run("orders", p, store)
    assert res.encoding == "gb18030"
    assert (res.rows_read, res.accepted, res.quarantined) == (n_ascii + 3, n_ascii + 3, 0)
    assert sql(store, "SELECT region, amount FROM orders WHERE order_id LIKE 'B%' ORDER BY order_id") == [
        ("东区", 10.0), ("西区", 11.0), ("𠮷野家", 12.0)]
    assert sql(store, "SELECT sum(amount) FROM orders") == [(n_ascii + 33.0,)]


def test_utf8_with_one_bad_record_stays_utf8(tmp_path, store):
    text = "订单编号,行号,订单日期,区域,金额\nA1,1,2026-10-01,东区,1\nA2,1,2026-10-02,西区,2\n".encode("utf-8")
    text += b"A3,1,2026-10-03,\xff\xfe,3\n"
    p = tmp_path / "o.csv"
    p.write_bytes(text)
    assert detect_encoding(p) == "utf-8"
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (3, 2, 1)
    assert res.codes == {"bad_text": 1}


# ---- wide plans --------------------------------------------------------------------------------
def test_wide_targets_xlsx_with_units_in_the_headers(tmp_path, store):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年任务分解表"])
    months = ["2025年9月", "2025年10月", "2025年11月", "2025年12月"]
    ws.append(["工号", "姓名", *[f"{m}(万元)" for m in months], "合计"])
    ws.append(["R001", "张三", 10, 12, None, 14, 36])
    ws.append(["R002", "李四", 5, 5, 5, 5, 20])
    ws.append(["合计", None, 15, 17, 5, 19, 56])
    wb.save(tmp_path / "plan.xlsx")
    res = run("targets", tmp_path / "plan.xlsx", store)
    assert (res.rows_read, res.accepted, res.quarantined) == (7, 7, 0)
    note = next(n for n in res.notes if n.startswith("read as a wide table"))
    assert note == ("read as a wide table: 4 month columns (2025-09 … 2025-12) × 2 rows → one target row per month "
                    "(level rep, key 工号; measure amount (unit 万元)); empty month cells skipped: 1; "
                    "totals rows not read: 5; not used: 姓名, 合计")
    got = sql(store, "SELECT strftime(period, '%Y-%m'), level, key, measure, value FROM targets ORDER BY key, period")
    assert got == [("2025-09", "rep", "R001", "amount", 100000.0), ("2025-10", "rep", "R001", "amount", 120000.0),
                   ("2025-12", "rep", "R001", "amount", 140000.0),
                   ("2025-09", "rep", "R002", "amount", 50000.0), ("2025-10", "rep", "R002", "amount", 50000.0),
                   ("2025-11", "rep", "R002", "amount", 50000.0), ("2025-12", "rep", "R002", "amount", 50000.0)]


def test_wide_targets_csv_with_a_unit_row_and_a_measure_column(tmp_path, store):
    p = write_csv(tmp_path / "plan.csv", [
        ["区域", "指标", "2026-01", "2026-02"],
        ["", "", "箱", "箱"],
        ["东区", "销量", "10", "12"],
        ["西区", "销量", "8", ""],
    ])
    res = run("targets", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (3, 3, 0)
    assert sql(store, "SELECT key, measure, sum(value) FROM targets GROUP BY ALL ORDER BY key") == [
        ("东区", "qty", 5500.0), ("西区", "qty", 2000.0)]
    assert all(lvl == "region" for (lvl,) in sql(store, "SELECT level FROM targets"))


def test_wide_targets_without_a_measure_is_refused(tmp_path, store):
    p = write_csv(tmp_path / "plan.csv", [["工号", "姓名", "2026年1月", "2026年2月"], ["R1", "张三", "1", "2"]])
    with pytest.raises(IngestError, match=r"^plan\.csv: read as a wide table of targets \(2 month columns: 2026-01 … "
                                          r"2026-02\) but not which measure; give the unit in the month headers"):
        run("targets", p, store)


# ---- keys that fit order exports ------------------------------------------------------------------
def test_orders_without_line_no_are_keyed_by_order_and_sku(tmp_path, store):
    head = ["订单编号", "订单日期", "卷烟编码", "数量(条)", "金额(元)"]
    p = write_csv(tmp_path / "o.csv", [head,
                                       ["A1", "2026-10-01", "S1", "2", "200"],
                                       ["A1", "2026-10-01", "S2", "1", "50"],
                                       ["A1", "2026-10-01", "S1", "2", "200"],   # a double export: skipped
                                       ["A1", "2026-10-01", "S2", "9", "450"],   # same key, other values
                                       ["A2", "2026-10-02", "S1", "1", "100"]])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates_in_file) == (5, 3, 1, 1)
    assert "key: order_id + sku_id (the file has no line_no); exact copies of a line are skipped" in res.notes
    assert quarantine(store, "orders")["reason"].tolist() == [
        "order_id+sku_id: duplicate key (order_id, sku_id) in the file"]
    assert sql(store, "SELECT count(*), sum(amount) FROM orders") == [(3, 350.0)]
    # the same lines again in another file: already in the store
    p2 = write_csv(tmp_path / "o2.csv", [head, ["A2", "2026-10-02", "S1", "1", "100"], ["A3", "2026-10-03", "S1", "1", "7"]])
    res = run("orders", p2, store)
    assert (res.rows_read, res.accepted, res.duplicates_in_store) == (2, 1, 1)


def test_orders_without_order_id_stay_keyless(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "卷烟编码", "金额(元)"],
                                       ["2026-10-01", "S1", "200"], ["2026-10-01", "S1", "200"]])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.identical_kept) == (2, 2, 1)
    assert not any(n.startswith("key:") for n in res.notes)


# ---- the command line --------------------------------------------------------------------------
def test_cli_header_row_and_one_line_errors(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["说明"], ["订单编号", "订单日期", "金额"], ["A1", "2026-10-01", "3"]])
    cmd = [sys.executable, "-m", "analysis.cli", "ingest", "orders", str(p), "--store", str(store)]
    r = subprocess.run([*cmd, "--header-row", "2"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "rows read 1 = accepted 1" in r.stdout
    cmd[-1] = str(tmp_path / "other.duckdb")
    r = subprocess.run([*cmd, "--header-row", "0"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "The 'header_row' parameter of ingest must be a row number like 3" in r.stderr

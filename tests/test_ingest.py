"""Ingest: reading, header mapping, normalisation, rules, quarantine, accounting, check.

Every ingest here goes through ``run()``, which also asserts that the input file is unchanged
(hash) and that the accounting holds (read = accepted + quarantined + duplicates skipped).
Fixture files are written by the tests themselves (GBK bytes included) into tmp_path.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import ingest as ing
from pipeline_helpers import quarantine
from analysis import store as store_mod
from analysis.contracts import ibis_schema
from analysis.errors import IngestError, StoreError
from analysis.ingest import check_store, ingest_file

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2024, 6, 30)
ORDER_HEADER = ["订单编号", "行号", "订单日期", "客户编码", "卷烟规格", "数量(条)", "金额(元)", "是否退货"]


# ---- helpers -----------------------------------------------------------------------------------
def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(table: str, path: Path, store: Path, **kw) -> ing.IngestResult:
    before = sha(path)
    res = ingest_file(table, path, store=str(store), today=kw.pop("today", TODAY), **kw)
    assert sha(path) == before, "the input file was modified"
    assert res.balanced
    assert res.rows_read == res.accepted + res.quarantined + res.duplicates
    return res


def stored(store: Path, table: str) -> pd.DataFrame:
    con = store_mod.connect(str(store))
    try:
        return con.table(table).execute()
    finally:
        con.disconnect()


def count(store: Path, table: str) -> int:
    con = store_mod.connect(str(store))
    try:
        return int(con.table(table).count().execute()) if ing.has_table(con, table) else 0
    finally:
        con.disconnect()


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "s.duckdb"


def order(oid="O1", line="1", date="2024-01-05", cust="C1", sku="S1", qty="2", amount="100", ret="否"):
    return [oid, line, date, cust, sku, qty, amount, ret]


def add_table(store: Path, table: str, df: pd.DataFrame) -> None:
    con = store_mod.connect(str(store))
    try:
        con.create_table(table, df)
    finally:
        con.disconnect()


# ---- encodings -----------------------------------------------------------------------------------
def test_utf8_with_chinese_headers(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order(), order("O1", "2", sku="S2", amount="50")])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (2, 2, 0, 0)
    assert res.encoding == "utf-8" and res.file_format == "csv"
    df = stored(store, "orders").sort_values("line_no")
    assert list(df["sku_id"]) == ["S1", "S2"]
    assert list(df["amount"]) == [100.0, 50.0]
    assert list(df["order_date"].astype(str)) == ["2024-01-05", "2024-01-05"]
    assert list(df["is_return"]) == [False, False]


def test_utf8_with_bom(tmp_path, store):
    p = tmp_path / "o.csv"
    write_csv(p, [ORDER_HEADER, order()], encoding="utf-8-sig")
    assert p.read_bytes()[:3] == b"\xef\xbb\xbf"
    res = run("orders", p, store)
    assert res.encoding == "utf-8-sig"
    # the BOM is not glued to the first header: 订单编号 is still recognised as order_id
    assert res.columns["订单编号"] == "order_id"
    assert (res.rows_read, res.accepted) == (1, 1)
    assert stored(store, "orders")["order_id"].tolist() == ["O1"]


def test_short_gbk_file(tmp_path, store):
    # a short GBK export: statistical detectors often call this another code page
    p = write_csv(tmp_path / "c.csv", [["客户编码", "客户名称", "城乡", "客户档位"], ["C1", "城东烟酒店", "城镇", "大户"]],
                  encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")
    res = run("customers", p, store)
    assert res.encoding == "gb18030"
    assert (res.rows_read, res.accepted) == (1, 1)
    row = stored(store, "customers").iloc[0]
    assert (row["customer_id"], row["name"], row["area_type"], row["size_class"]) == ("C1", "城东烟酒店", "urban", "large")
    assert "\ufffd" not in row["name"]


def test_neither_utf8_nor_gb18030_is_not_a_table(tmp_path, store):
    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\n\xff\xfe\xff,1\n")
    with pytest.raises(IngestError, match=r"^x\.csv cannot be read as a table: it is neither UTF-8 nor GB18030/GBK text\.$"):
        ingest_file("orders", p, store=str(store))


# ---- required columns, empty files, not a table ------------------------------------------------
def test_missing_required_column_message(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["客户编码", "金额(元)"], ["C1", "5"]])
    before = sha(p)
    with pytest.raises(IngestError) as e:
        ingest_file("orders", p, store=str(store))
    assert str(e.value) == ("o.csv: required column 'order_date' of table 'orders' is missing; "
                            "columns found: 客户编码, 金额(元).")
    assert sha(p) == before
    assert not store.exists() or count(store, "orders") == 0


def test_missing_one_of_amount_or_qty(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "客户编码"], ["2024-01-05", "C1"]])
    with pytest.raises(IngestError, match=r"required column 'amount' or 'qty' of table 'orders' is missing; "
                                          r"columns found: 订单日期, 客户编码\.$"):
        ingest_file("orders", p, store=str(store))


def test_empty_file_cannot_be_read(tmp_path, store):
    p = tmp_path / "e.csv"
    p.write_bytes(b"")
    with pytest.raises(IngestError, match=r"^e\.csv cannot be read as a table: the file is empty\.$"):
        ingest_file("orders", p, store=str(store))
    p.write_bytes(b"\xef\xbb\xbf\n\n")
    with pytest.raises(IngestError, match=r"the file is empty"):
        ingest_file("orders", p, store=str(store))


def test_header_only_reads_zero_rows(tmp_path, store):
    p = write_csv(tmp_path / "h.csv", [ORDER_HEADER])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (0, 0, 0, 0)
    assert "the file has a header but no data rows: nothing to ingest" in res.notes
    assert count(store, "orders") == 0
    assert "rows read 0 = accepted 0 + quarantined 0 + duplicates skipped 0" in res.summary()


def test_png_is_not_a_table(tmp_path, store):
    p = tmp_path / "orders.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(IngestError, match=r"^orders\.csv cannot be read as a table: it is a PNG image\.$"):
        ingest_file("orders", p, store=str(store))


def test_random_binary_is_not_a_table(tmp_path, store):
    import random

    rnd = random.Random(7)
    p = tmp_path / "blob.dat"
    p.write_bytes(bytes(rnd.randrange(256) for _ in range(4096)))
    with pytest.raises(IngestError, match=r"^blob\.dat cannot be read as a table: "):
        ingest_file("orders", p, store=str(store))


def test_broken_xlsx_is_not_a_table(tmp_path, store):
    p = tmp_path / "o.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(IngestError, match=r"^o\.xlsx cannot be read as a table: "):
        ingest_file("orders", p, store=str(store))


def test_missing_file(tmp_path, store):
    with pytest.raises(IngestError, match="no such file"):
        ingest_file("orders", tmp_path / "nope.csv", store=str(store))


# ---- types and normalisation ---------------------------------------------------------------------
def test_wrong_types_are_quarantined_not_nulled(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ORDER_HEADER,
        order("O1", "1"),
        order("O2", "1", amount="abc"),            # not a number (pandera would check the raw string)
        order("O3", "1.5"),                         # line_no must be whole
        order("O4", "1", ret="maybe"),              # not a yes/no
        order("O5", "1", date="yesterday"),         # not a date
    ])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (5, 1, 4, 0)
    q = quarantine(store, "orders")
    assert list(q["row"]) == ["3", "4", "5", "6"]
    assert list(q["reason"]) == ["amount: not a number", "line_no: not a whole number",
                                 "is_return: not a yes/no value", "order_date: not a date"]
    assert list(q["column"]) == ["amount", "line_no", "is_return", "order_date"]
    assert list(q["value"]) == ["abc", "1.5", "maybe", "yesterday"]
    assert json.loads(q["values"][0])["金额(元)"] == "abc"
    assert all(s.endswith("o.csv") for s in q["source_file"])
    assert stored(store, "orders")["order_id"].tolist() == ["O1"]


def test_full_width_digits_and_thousands(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ORDER_HEADER,
        ["Ｏ１", "１", "２０２４－０１－０５", "Ｃ１", "Ｓ１", "１２", "１，２３４．５０", "否"],
        ["O2", "1", "2024-01-06", "C1", "S1", "3", "12,345,678", "否"],
    ])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (2, 0)
    df = stored(store, "orders").sort_values("order_id")
    assert df["order_id"].tolist() == ["O1", "O2"]
    assert df["customer_id"].tolist() == ["C1", "C1"]
    assert df["qty"].tolist() == [12.0, 3.0]
    assert df["amount"].tolist() == [1234.5, 12345678.0]
    assert df["order_date"].astype(str).tolist() == ["2024-01-05", "2024-01-06"]


def test_bad_thousands_separator_is_not_a_number(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order(amount="1,23,4")])
    res = run("orders", p, store)
    assert res.quarantined == 1 and res.reasons == {"not a number": 1}


def test_date_forms_including_chinese(tmp_path, store):
    dates = ["2024-01-05", "2024/1/5", "2024.1.5", "2024年1月5日", "20240105", "45296", "2024-01-05 00:00:00"]
    # pandas' coerce would silently turn the Chinese form into NaT
    assert pd.isna(pd.to_datetime(pd.Series(["2024年3月5日"]), errors="coerce")[0])
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER] + [order("O1", str(i + 1), date=d) for i, d in enumerate(dates)])
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (7, 7, 0)
    assert set(stored(store, "orders")["order_date"].astype(str)) == {"2024-01-05"}


def test_impossible_date_is_quarantined_not_nulled(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1", date="2024-02-30"), order("O2", date="2024-02-29")])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (1, 1)
    q = quarantine(store, "orders")
    assert q["reason"].tolist() == ["order_date: impossible date"] and q["row"].tolist() == ["2"]
    assert stored(store, "orders")["order_date"].astype(str).tolist() == ["2024-02-29"]


def test_excel_serial_dates_in_csv_and_xlsx(tmp_path, store):
    import openpyxl

    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1", date="45296"), order("O2", date="45296.75")])
    assert run("orders", p, store).accepted == 2
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ORDER_HEADER)
    ws.append(["O3", 1, 45297, "C1", "S1", 2, 100.5, "否"])                  # a number-formatted serial
    ws.append([None] * len(ORDER_HEADER))                                     # a blank row: not data
    ws.append(["O4", 1, dt.datetime(2024, 1, 8), "C1", "S1", 2, 100, False])  # a real date cell
    x = tmp_path / "o.xlsx"
    wb.save(x)
    res = run("orders", x, store)
    assert res.file_format == "xlsx" and res.encoding is None
    assert (res.rows_read, res.accepted, res.blank_rows) == (2, 2, 1)
    df = stored(store, "orders").sort_values("order_id")
    assert df["order_date"].astype(str).tolist() == ["2024-01-05", "2024-01-05", "2024-01-06", "2024-01-08"]
    assert df["line_no"].tolist() == [1, 1, 1, 1]


def test_parquet(tmp_path, store):
    df = pd.DataFrame({"order_date": pd.to_datetime(["2024-01-05", "2024-01-06"]), "amount": [1.5, -2.0],
                       "is_return": [False, False], "sku_id": ["S1", "S2"]})
    p = tmp_path / "o.parquet"
    df.to_parquet(p)
    res = run("orders", p, store)
    assert res.file_format == "parquet"
    assert (res.rows_read, res.accepted, res.quarantined) == (2, 1, 1)
    assert quarantine(store, "orders")["row"].tolist() == ["3"]


def test_allowed_values_with_chinese_synonyms(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码", "城乡", "客户档位"], ["C1", "农村", "小户"], ["C2", "Urban", "medium"],
                                       ["C3", "郊区", "小户"]])
    res = run("customers", p, store)
    assert (res.accepted, res.quarantined) == (2, 1)
    df = stored(store, "customers").sort_values("customer_id")
    assert df["area_type"].tolist() == ["rural", "urban"]
    assert quarantine(store, "customers")["reason"].tolist() == [
        "area_type: value not allowed (allowed: urban, rural)"]


def test_required_value_empty(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order(date=""), order(qty="", amount="")])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (0, 2)
    assert quarantine(store, "orders")["reason"].tolist() == [
        "order_date: required value is empty", "amount+qty: all of amount and qty are empty"]


def test_months(tmp_path, store):
    rows = [["月份", "层级", "对象", "指标", "目标值"],
            ["2024-01", "客户经理", "R1", "金额", "1,000"], ["2024年2月", "rep", "R1", "amount", "1000"],
            ["202403", "rep", "R1", "amount", "1000"], ["2024-04-01", "rep", "R1", "amount", "1000"],
            ["2024-05-15", "rep", "R1", "amount", "1000"], ["2030-01", "rep", "R1", "amount", "1000"]]
    res = run("targets", write_csv(tmp_path / "t.csv", rows), store)
    assert (res.accepted, res.quarantined) == (5, 1)  # plans may lie in the future
    assert quarantine(store, "targets")["reason"].tolist() == [
        "period: month must be given as a month (YYYY-MM) or its first day"]
    df = stored(store, "targets")
    assert sorted(df["period"].astype(str)) == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2030-01-01"]
    assert set(df["level"]) == {"rep"} and set(df["measure"]) == {"amount"}


# ---- rules ---------------------------------------------------------------------------------------
def test_dates_out_of_range(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ORDER_HEADER, order("O1", date="1989-12-31"), order("O2", date="1990-01-01"),
        order("O3", date="2024-07-01"), order("O4", date="2024-07-02")])
    res = run("orders", p, store)  # today = 2024-06-30: tomorrow is the last accepted day
    assert (res.accepted, res.quarantined) == (2, 2)
    q = quarantine(store, "orders")
    assert q["reason"].tolist() == ["order_date: date before 1990-01-01", "order_date: date after tomorrow (2024-07-01)"]
    assert q["row"].tolist() == ["2", "5"]


def test_negative_amounts_only_on_returns(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ORDER_HEADER, order("O1", qty="-1", amount="-100", ret="是"), order("O2", amount="-100"),
        order("O3", qty="-1", amount="100"), order("O4", qty="-1", amount="-100", ret="")])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (1, 3)
    q = quarantine(store, "orders")
    assert q["row"].tolist() == ["3", "4", "5"]
    assert q["column"].tolist() == ["amount; amount+qty", "qty; amount+qty", "amount+qty"]
    assert q["code"].tolist() == ["return_sign; mixed_sign", "return_sign; mixed_sign", "return_sign"]
    assert set(res.reasons) == {"negative amount on a row not flagged as a return (is_return)",
                                "negative qty on a row not flagged as a return (is_return)",
                                "negative amount and qty on a row not flagged as a return (is_return)",
                                "qty and amount have opposite signs (a return has both negative)"}
    # the quarantine cell of a negative number is neutralised, like any formula start
    assert q["value"].tolist() == ["'-100; 2", "'-1; 100", "'-100; -1"]


def test_returns_inferred_without_a_return_column(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "数量", "金额"], ["2024-01-05", "-3", "-30"],
                                       ["2024-01-05", "3", "30"], ["2024-01-05", "-1", "10"], ["2024-01-06", "", "-5"]])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined, res.returns_inferred) == (3, 1, 2)
    assert quarantine(store, "orders")["code"].tolist() == ["mixed_sign"]
    df = stored(store, "orders").sort_values(["order_date", "amount"])
    assert df["is_return"].tolist() == [True, False, True]
    assert "returns inferred from negative qty and amount 2" in res.summary()


def test_orphans_against_the_store(tmp_path, store):
    add_table(store, "customers", pd.DataFrame({"customer_id": ["C1"]}))
    con = store_mod.connect(str(store))
    con.create_table("products", schema=ibis_schema("products"))  # present but empty: no check
    con.disconnect()
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1", cust="C1", sku="S9"), order("O2", cust="C2"),
                                       order("O3", cust="")])
    res = run("orders", p, store)
    # C2 is not a customer; S9 is fine because products is empty; an empty customer_id is no reference
    assert (res.accepted, res.quarantined) == (2, 1)
    assert quarantine(store, "orders")["reason"].tolist() == ["customer_id: customer_id not found in table 'customers'"]
    assert sorted(stored(store, "orders")["order_id"]) == ["O1", "O3"]


def test_orphan_rep(tmp_path, store):
    add_table(store, "reps", pd.DataFrame({"rep_id": ["R1"], "hire_date": [dt.date(2020, 1, 1)]}))
    p = write_csv(tmp_path / "o.csv", [["订单日期", "客户经理编码", "金额"], ["2024-01-05", "R1", "1"], ["2024-01-05", "R2", "1"]])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert quarantine(store, "orders")["column"].tolist() == ["rep_id"]


def test_duplicates_in_file_exact_and_after_normalising(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [
        ORDER_HEADER, order("O1"), order("O1"), order("O1", date="2024/1/5"), order("O2"), order("O2", amount="x"),
        order("O2", amount="x")])
    res = run("orders", p, store)
    # O1 thrice (2 exact copies, one only after normalising) and one repeated bad row
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates_in_file) == (6, 2, 1, 3)


def test_key_clash_in_file_and_store(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1", amount="100"), order("O1", amount="200")])
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert quarantine(store, "orders")["reason"].tolist() == ["order_id+line_no: duplicate key (order_id, line_no) in the file"]
    p2 = write_csv(tmp_path / "o2.csv", [ORDER_HEADER, order("O1", amount="300")])
    res = run("orders", p2, store)
    assert (res.accepted, res.quarantined) == (0, 1)
    assert quarantine(store, "orders")["reason"].tolist()[-1] == (
        "order_id+line_no: key (order_id, line_no) already in the store with other values")
    assert stored(store, "orders")["amount"].tolist() == [100.0]


def test_reingest_adds_nothing(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1"), order("O2", amount="-1"), order("O3", sku="")])
    first = run("orders", p, store)
    assert (first.accepted, first.quarantined) == (2, 1)
    n, q = count(store, "orders"), len(quarantine(store, "orders"))
    again = run("orders", p, store)
    assert again.already_ingested and (again.rows_read, again.accepted) == (0, 0)
    assert "already ingested on " in again.summary()
    assert count(store, "orders") == n
    assert len(quarantine(store, "orders")) == q
    # the same rows in another file: key-based duplicates (skipped), the bad row quarantined again
    p2 = write_csv(tmp_path / "o2.csv", [ORDER_HEADER, order("O1"), order("O2", amount="-1"), order("O3", sku=""),
                                         order("O4")])
    res = run("orders", p2, store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates_in_store) == (4, 1, 1, 2)
    assert count(store, "orders") == n + 1


def test_identical_rows_without_a_key_are_kept(tmp_path, store):
    rows = [["反馈日期", "卷烟编码", "评分", "评价"]] + [["2024-03-01", "S1", "5", "好"]] * 3 + [["2024-03-01", "S1", "4", ""]]
    res = run("feedback", write_csv(tmp_path / "f.csv", rows), store)
    assert (res.rows_read, res.accepted, res.duplicates, res.identical_kept) == (4, 4, 0, 2)
    assert count(store, "feedback") == 4
    assert "identical rows kept 2" in res.summary()
    # the same file again adds nothing; a new file with the same answers adds them (new events)
    assert run("feedback", tmp_path / "f.csv", store).already_ingested
    res = run("feedback", write_csv(tmp_path / "f2.csv", rows[:2]), store)
    assert (res.accepted, res.duplicates_in_store) == (1, 0)
    assert count(store, "feedback") == 5


# ---- free text, extra columns, injection ---------------------------------------------------------
def test_long_comment_stored_exactly(tmp_path, store):
    long = ("  口感醇和，" + "价格偏高 " * 2000)[:10_000] + "\n第二行 "
    assert len(long) > 10_000
    p = write_csv(tmp_path / "f.csv", [["反馈日期", "卷烟编码", "评分", "评价"], ["2024-01-05", "S1", "4", long]])
    res = run("feedback", p, store)
    assert res.accepted == 1
    assert stored(store, "feedback")["comment"].iloc[0] == long


def test_html_comment_stored_exactly(tmp_path, store):
    html = '<script>alert(1)</script> &amp; <b>"好"</b>'
    full_width = "ＡＢＣ１２３"  # free text is not NFKC-normalised either
    p = write_csv(tmp_path / "f.csv", [["反馈日期", "卷烟编码", "评分", "评价"], ["2024-01-05", "S1", "4", html],
                                       ["2024-01-06", "S1", "4", full_width]])
    assert run("feedback", p, store).accepted == 2
    assert sorted(stored(store, "feedback")["comment"]) == sorted([html, full_width])


def test_extra_columns_dropped_with_note(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER + ["备注", "仓库"], order() + ["加急", "W1"]])
    res = run("orders", p, store)
    assert res.accepted == 1
    assert res.dropped_columns == ["备注", "仓库"]
    assert "not used: 备注, 仓库" in res.summary()
    assert "备注" not in stored(store, "orders").columns


def test_extra_columns_kept_for_hr_snapshot(tmp_path, store):
    p = write_csv(tmp_path / "h.csv", [["工号", "司龄", "是否离职", "团队奖金占比", "学历"],
                                       ["P1", "1.5", "是", "0.3", "本科"], ["P2", "3", "否", "0.25", "大专"]])
    res = run("hr_snapshot", p, store)
    assert res.accepted == 2 and res.extra_columns == ["团队奖金占比", "学历"]
    df = stored(store, "hr_snapshot").sort_values("person_id")
    assert df["团队奖金占比"].tolist() == [0.3, 0.25]
    assert df["学历"].tolist() == ["本科", "大专"]
    assert df["left"].tolist() == [True, False]
    # a later file: the known extra is typed as stored; a new one is dropped (schema not altered)
    p2 = write_csv(tmp_path / "h2.csv", [["工号", "司龄", "是否离职", "团队奖金占比", "新列"],
                                         ["P3", "2", "否", "abc", "x"], ["P4", "2", "否", "0.5", "y"]])
    res = run("hr_snapshot", p2, store)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert res.dropped_columns == ["新列"]
    assert quarantine(store, "hr_snapshot")["reason"].tolist() == ["团队奖金占比: not a number"]


def test_formula_injection_neutralised(tmp_path, store):
    evil = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "\tTAB", "-2+3"]
    rows = [["客户编码", "客户档位"]] + [[f"C{i}", e] for i, e in enumerate(evil)]  # none is an allowed size
    run("customers", write_csv(tmp_path / "c.csv", rows), store)
    q = quarantine(store, "customers")
    assert len(q) == 5
    for cell in list(q["value"]) + list(q["column"]) + list(q["reason"]) + list(q["source_file"]):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    # the raw row keeps the values as found in the file
    assert {json.loads(v)["客户档位"] for v in q["values"]} == set(evil)
    # and the value cell holds them, neutralised with a leading quote
    assert sorted(q["value"]) == sorted("'" + e for e in evil)


def test_neutralise():
    assert ing.neutralise("=1+1") == "'=1+1"
    assert ing.neutralise("\r=1") == "'\r=1"
    assert ing.neutralise("a=1") == "a=1"
    assert ing.neutralise(3) == 3


# ---- mapping -------------------------------------------------------------------------------------
def test_user_mapping(tmp_path, store):
    m = tmp_path / "map.yml"
    m.write_text("单据日期: order_date\n实收: amount\n日期: region\n", encoding="utf-8")
    p = write_csv(tmp_path / "o.csv", [["单据日期", "实收", "日期"], ["2024-01-05", "5", "城东"]])
    res = run("orders", p, store, mapping=m)
    assert res.columns == {"单据日期": "order_date", "实收": "amount", "日期": "region"}
    assert stored(store, "orders")["region"].tolist() == ["城东"]


def test_user_mapping_to_unknown_column(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["单据日期", "实收"], ["2024-01-05", "5"]])
    with pytest.raises(IngestError, match=r"^The mapping names 'revenue', which is not a column of table 'orders'"):
        ingest_file("orders", p, store=str(store), mapping={"实收": "revenue"})


def test_header_priority_when_two_headers_mean_one_column(tmp_path, store):
    # both 卷烟编码 and 卷烟规格 mean sku_id in orders: the code wins, the name is an extra column
    p = write_csv(tmp_path / "o.csv", [["订单日期", "卷烟规格", "卷烟编码", "金额"], ["2024-01-05", "中华(硬)", "S1", "5"]])
    res = run("orders", p, store)
    assert res.columns == {"订单日期": "order_date", "卷烟编码": "sku_id", "金额": "amount"}
    assert res.dropped_columns == ["卷烟规格"]
    assert stored(store, "orders")["sku_id"].tolist() == ["S1"]


def test_products_sku_name_alias(tmp_path, store):
    p = write_csv(tmp_path / "p.csv", [["卷烟编码", "品牌", "卷烟规格", "单价(元/条)"], ["S1", "中华", "中华(硬)", "450"]])
    run("products", p, store)
    row = stored(store, "products").iloc[0]
    assert (row["sku_id"], row["sku_name"], row["unit_price"]) == ("S1", "中华(硬)", 450.0)


# ---- chunks and the accounting invariant ---------------------------------------------------------
def test_row_numbers_and_duplicates_across_the_file(tmp_path, store):
    rows = [ORDER_HEADER] + [order(f"O{i}") for i in range(7)] + [order("O1"), order("O9", amount="bad")]
    res = run("orders", write_csv(tmp_path / "o.csv", rows), store)
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates_in_file) == (9, 7, 1, 1)
    assert quarantine(store, "orders")["row"].tolist() == ["10"]


CELL = st.sampled_from(["2024-01-05", "2024/1/6", "2024-02-30", "1980-01-01", "x", ""])
AMOUNT = st.sampled_from(["1", "-1", "1,000", "abc", "", "２"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["O1", "O2", "O3", ""]), CELL, AMOUNT,
                               st.sampled_from(["是", "否", "", "?"])), min_size=0, max_size=12))
def test_accounting_invariant(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("acc")
    store = d / "s.duckdb"
    p = write_csv(d / "o.csv", [["订单编号", "订单日期", "金额", "是否退货"]] + [list(r) for r in rows])
    res = run("orders", p, store)
    blank = sum(1 for r in rows if all(v == "" for v in r))
    assert res.rows_read == len(rows) - blank
    assert count(store, "orders") == res.accepted
    assert len(quarantine(store, "orders")) == res.quarantined
    # identical rows of a table without a key are kept (distinct events), a breakdown of accepted
    assert 0 <= res.identical_kept <= res.accepted and 0 <= res.returns_inferred <= res.accepted
    again = run("orders", p, store)
    assert again.already_ingested and count(store, "orders") == res.accepted
    assert len(quarantine(store, "orders")) == res.quarantined


# ---- CLI -----------------------------------------------------------------------------------------
def _cli(*args, cwd):
    exe = ROOT / ".venv" / "bin" / "sales-analysis"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "analysis.cli"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "SALES_ANALYSIS_STORE": ""})


def test_cli_one_line_errors(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["客户编码", "金额(元)"], ["C1", "5"]])
    r = _cli("ingest", "orders", str(p), "--store", str(store), cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "sales-analysis: error: o.csv: required column 'order_date' of table 'orders' is missing; "
        "columns found: 客户编码, 金额(元)."]
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    r = _cli("ingest", "orders", str(png), "--store", str(store), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_ingest_and_check(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1"), order("O2", amount="-5")])
    r = _cli("ingest", "orders", str(p), "--store", str(store), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "rows read 2 = accepted 1 + quarantined 1 + duplicates skipped 0" in r.stdout
    r = _cli("check", "--store", str(store), cwd=tmp_path)
    # the order lines meet their contract, but without customers and products no line has a
    # region, rep, brand or price class: check says so and fails
    assert r.returncode == 1, r.stdout + r.stderr
    assert "orders" in r.stdout and "all tables meet their contracts" in r.stdout
    assert "region attributes only 0.00% of the amount" in r.stdout and "(customers is missing)" in r.stdout


# ---- check ---------------------------------------------------------------------------------------
def test_check_store_finds_every_kind_of_problem(tmp_path, store):
    add_table(store, "customers", pd.DataFrame({"customer_id": ["C1", "C1", None], "area_type": ["urban", "town", None]}))
    add_table(store, "orders", pd.DataFrame({
        "order_id": ["O1", "O1", "O2", "O3"], "line_no": [1, 1, 1, 1],
        "order_date": [dt.date(2024, 1, 5), dt.date(1980, 1, 1), None, dt.date(2030, 1, 1)],
        "customer_id": ["C1", "C1", "C9", None], "amount": [1.0, -1.0, None, 2.0],
        "qty": [None, None, None, None], "is_return": [False, False, None, True]}).astype({"qty": "float64"}))
    add_table(store, "targets", pd.DataFrame({"period": [dt.date(2024, 1, 15)], "level": ["rep"], "key": ["R1"],
                                              "measure": ["amount"], "value": [1.0]}))
    ok, text = check_store(str(store), today=TODAY)
    assert not ok
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.split() and ln.split()[0] in ("orders", "customers", "targets")}
    assert "FAIL" in lines["orders"]
    for part in ["empty order_date: 1", "order_date before 1990-01-01: 1", "order_date after tomorrow: 1",
                 "negative amount/qty not flagged as return: 1", "all of amount and qty empty: 1",
                 "duplicate keys (order_id, line_no): 1 rows", "customer_id not in customers: 1 rows"]:
        assert part in lines["orders"], part
    for part in ["empty customer_id: 1", "area_type not in allowed values: 1", "duplicate keys (customer_id): 1 rows"]:
        assert part in lines["customers"], part
    assert "period not the first day of a month: 1" in lines["targets"]
    assert "some tables break their contracts" in text


def test_check_store_clean_after_ingest(tmp_path, store):
    run("orders", write_csv(tmp_path / "o.csv", [ORDER_HEADER, order("O1"), order("O2", amount="-5")]), store)
    ok, text = check_store(str(store), today=TODAY)
    assert ok, text
    assert re.search(r"^orders\s+1\s+ok\s+-$", text, re.M), text
    assert "all tables meet their contracts" in text


def test_check_store_missing_store(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        check_store(str(tmp_path / "none.duckdb"))


def test_check_store_missing_required_column(tmp_path, store):
    add_table(store, "reps", pd.DataFrame({"rep_id": ["R1"]}))
    ok, text = check_store(str(store), today=TODAY)
    assert not ok and "required column hire_date missing" in text


# ---- the demo world ------------------------------------------------------------------------------
@pytest.mark.slow
def test_check_store_on_the_demo_world(demo_con):
    ok, text = check_store(demo_con)
    assert ok, text
    for table in ("orders", "customers", "products", "reps", "targets", "visits", "feedback", "compensation"):
        assert re.search(rf"^{table}\s+[\d,]+\s+ok\s+-$", text, re.M), text


@pytest.mark.slow
def test_ingest_into_a_copy_of_the_demo_world(demo_world, tmp_path):
    store = tmp_path / "w.duckdb"
    shutil.copy(demo_world[0], store)
    before = count(store, "orders")
    p = write_csv(tmp_path / "o.csv", [
        ["订单编号", "行号", "订单日期", "客户编码", "卷烟编码", "客户经理编码", "数量(条)", "金额(元)"],
        ["X1", "1", "2026-10-05", "C00001", "S001", "R0001", "1", "100"],
        ["X1", "2", "2026-10-05", "C99999", "S001", "R0001", "1", "100"],
        ["X1", "3", "2026-10-05", "C00001", "S999", "R0001", "1", "100"],
        ["X1", "4", "2026-10-05", "C00001", "S001", "R9999", "1", "100"]])
    res = run("orders", p, store, today=dt.date(2026, 10, 31))
    assert (res.accepted, res.quarantined) == (1, 3)
    assert quarantine(store, "orders")["column"].tolist() == ["customer_id", "sku_id", "rep_id"]
    assert count(store, "orders") == before + 1
    assert run("orders", p, store, today=dt.date(2026, 10, 31)).already_ingested
    assert count(store, "orders") == before + 1


def test_repeated_xlsx_headers(tmp_path, store):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单日期", "金额", "金额"])
    ws.append([dt.date(2024, 1, 5), 5, 7])
    x = tmp_path / "o.xlsx"
    wb.save(x)
    # the same header twice: refused naming both columns (which one is meant is the user's call)
    with pytest.raises(IngestError, match=r"^o\.xlsx: columns 2 and 3 are both headed '金额' \(read as amount\); "
                                          r"choose one with --mapping"):
        run("orders", x, store)
    assert count(store, "orders") == 0
    # an explicit mapping takes one; the other is not used
    res = run("orders", x, store, mapping={"金额.1": "amount"})
    assert res.accepted == 1 and res.dropped_columns == ["金额"]
    assert stored(store, "orders")["amount"].tolist() == [7.0]
    assert "columns: 订单日期 -> order_date, 金额.1 -> amount" in res.summary()


def test_rows_that_do_not_fit_the_header(tmp_path, store):
    text = ("订单日期,金额,备注\n"
            "2024-01-05,1,a\n"
            "2024-01-06,2,b\n"
            "2024-01-07,3,口感好,价格高\n"      # an unquoted comma in free text: 4 fields
            "2024-01-08,4\n"                   # a short record: padded
            "2024-01-09,5,c,,\n"               # trailing empty fields: fine
            "\n"                               # an empty line: not data (and not counted)
            '2024-01-10,6,"多行\n备注"\n'       # one record over two lines
            "2024-01-11,7,d,x\n")
    p = tmp_path / "o.csv"
    p.write_text(text, encoding="utf-8")
    res = run("orders", p, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (7, 5, 2)
    q = quarantine(store, "orders")
    # rows count records (header = 1): the two-line record is one row, the empty line counts too
    assert q["row"].tolist() == ["4", "9"]
    assert q["reason"].tolist() == ["row has 4 fields, the header has 3", "row has 4 fields, the header has 3"]
    assert q["code"].tolist() == ["too_many_fields", "too_many_fields"]
    assert json.loads(q["values"][0]) == {"订单日期": "2024-01-07", "金额": "3", "备注": "口感好", "(field 4)": "价格高"}
    assert sorted(stored(store, "orders")["amount"]) == [1.0, 2.0, 4.0, 5.0, 6.0]


def test_xlsx_values_beyond_the_last_header(tmp_path, store):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单日期", "金额"])
    ws.append(["2024-01-05", 1])
    ws.append(["2024-01-06", 2, "多出来的值"])
    x = tmp_path / "o.xlsx"
    wb.save(x)
    res = run("orders", x, store)
    assert (res.rows_read, res.accepted, res.quarantined) == (2, 1, 1)
    q = quarantine(store, "orders")
    assert (q["row"].tolist(), q["reason"].tolist()) == (["3"], ["row has values beyond the last header"])
    assert q["code"].tolist() == ["beyond_header"]


def test_cli_check_exits_1_on_a_broken_store(tmp_path, store):
    add_table(store, "reps", pd.DataFrame({"rep_id": ["R1", "R1"], "hire_date": [dt.date(2020, 1, 1)] * 2}))
    r = _cli("check", "--store", str(store), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "duplicate keys (rep_id): 1 rows" in r.stdout


def test_prose_is_not_a_table_of_orders(tmp_path, store):
    p = tmp_path / "notes.txt"
    p.write_text("本月销售情况良好\n下月继续努力\n", encoding="utf-8")
    with pytest.raises(IngestError) as e:
        ingest_file("orders", p, store=str(store))
    assert str(e.value) == ("notes.txt: required column 'order_date' of table 'orders' is missing; "
                            "columns found: 本月销售情况良好.")

"""Ingest in the engine: units in headers, grades, formats, the ingest log, replacing a period,
one transaction per file (SIGKILL mid-file, a reader at the same time, two ingests at once) and
the accounting identity under hypothesis. Every fixture is written here."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import ingest as ing
from pipeline_helpers import quarantine
from analysis import store as store_mod
from analysis.errors import IngestError, ParameterError, StoreError
from analysis.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 15)
HEAD = ["订单编号", "行号", "订单日期", "客户编码", "卷烟编码", "数量(条)", "金额(元)"]


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", delimiter=delimiter).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(table, path, store, **kw):
    before = Path(path).read_bytes()
    res = ingest_file(table, path, store=str(store), today=kw.pop("today", TODAY), **kw)
    assert Path(path).read_bytes() == before, "the input file was modified"
    assert res.rows_read == res.accepted + res.quarantined + res.duplicates
    return res


def sql(store: Path, query: str):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "s.duckdb"


# ---- units -----------------------------------------------------------------------------------
def test_money_and_volume_units_are_converted(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "销量(箱)", "金额（万元）"], ["2026-10-01", "2", "1.2345"],
                                       ["2026-10-02", "0.5", "0.01"]])
    res = run("orders", p, store)
    assert res.accepted == 2
    assert res.conversions == {"销量(箱)": "qty × 250", "金额（万元）": "amount × 10,000"}
    assert "unit: 金额（万元） → amount × 10,000" in res.summary()
    assert sql(store, "SELECT qty, amount FROM orders ORDER BY order_date") == [(500.0, 12345.0), (125.0, 100.0)]


@pytest.mark.parametrize("header,factor", [("数量(盒)", 0.1), ("数量(支)", 0.005), ("数量(件)", 250.0),
                                           ("数量(条)", 1.0), ("数量(万支)", 50.0)])
def test_volume_units(tmp_path, store, header, factor):
    p = write_csv(tmp_path / "o.csv", [["订单日期", header], ["2026-10-01", "200"]])
    run("orders", p, store)
    assert sql(store, "SELECT qty FROM orders") == [(pytest.approx(200 * factor, rel=1e-12),)]


def test_money_units_and_price_per_case(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "金额(千元)"], ["2026-10-01", "3.5"]])
    run("orders", p, store)
    assert sql(store, "SELECT amount FROM orders") == [(3500.0,)]
    p = write_csv(tmp_path / "p.csv", [["卷烟编码", "品牌", "单价(元/箱)"], ["S1", "中华", "25000"]])
    res = run("products", p, tmp_path / "p.duckdb")
    assert res.conversions == {"单价(元/箱)": "unit_price × 0.004"}
    assert sql(tmp_path / "p.duckdb", "SELECT unit_price FROM products") == [(100.0,)]


def test_unknown_unit_is_refused_with_one_line(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "金额(美元)"], ["2026-10-01", "3"]])
    with pytest.raises(IngestError) as e:
        ingest_file("orders", p, store=str(store))
    assert str(e.value).startswith("o.csv: the unit '美元' of column '金额(美元)' is not known for amount; known units: 元")
    assert "\n" not in str(e.value)
    assert not store.exists() or sql(store, "SELECT count(*) FROM information_schema.tables "
                                            "WHERE table_name = 'orders'") == [(0,)]


def test_a_required_column_in_a_form_not_recognised_is_an_error(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "数量(条)", "金额万元"], ["2026-10-01", "2", "3"]])
    with pytest.raises(IngestError, match=r"^o\.csv: column '金额万元' looks like 'amount' of table 'orders' but is "
                                          r"not recognised"):
        ingest_file("orders", p, store=str(store))


def test_unused_columns_are_listed(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "金额", "备注", "仓库"], ["2026-10-01", "3", "x", "W1"]])
    res = run("orders", p, store)
    assert res.dropped_columns == ["备注", "仓库"]
    assert "not used: 备注, 仓库" in res.summary()


def test_target_value_unit_follows_the_measure(tmp_path, store):
    p = write_csv(tmp_path / "t.csv", [["月份", "层级", "对象", "指标", "目标值(万元)"],
                                       ["2026-10", "rep", "R1", "amount", "12"], ["2026-10", "rep", "R2", "qty", "5"]])
    res = run("targets", p, store)
    assert (res.accepted, res.quarantined) == (1, 1)
    assert sql(store, "SELECT key, value FROM targets") == [("R1", 120000.0)]
    assert quarantine(store, "targets")["code"].tolist() == ["unit_measure"]


# ---- grades ----------------------------------------------------------------------------------
def test_grades_and_size_class_from_the_default_bands(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码", "档位"], ["C1", "25档"], ["C2", "3"], ["C3", "第11档"],
                                       ["C4", "31"], ["C5", "二十五档"], ["C6", ""]])
    res = run("customers", p, store)
    assert (res.accepted, res.quarantined, res.sizes_derived) == (4, 2, 3)
    assert sql(store, "SELECT customer_id, grade, size_class FROM customers ORDER BY customer_id") == [
        ("C1", 25, "large"), ("C2", 3, "small"), ("C3", 11, "medium"), ("C6", None, None)]
    q = quarantine(store, "customers")
    assert q["code"].tolist() == ["max_value", "not_a_grade"]


def test_grade_bands_set_by_the_user_and_the_files_own_size_class(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码", "档位", "客户规模"], ["C1", "25", ""], ["C2", "8", "大户"],
                                       ["C3", "6", ""]])
    res = run("customers", p, store, grade_bands="1-5:small,6-20:medium,21-30:large")
    assert res.sizes_derived == 2
    assert sql(store, "SELECT customer_id, size_class FROM customers ORDER BY 1") == [
        ("C1", "large"), ("C2", "large"), ("C3", "medium")]


def test_a_grade_header_holding_size_classes_is_a_size_class(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码", "客户档位"], ["C1", "大户"], ["C2", "小户"]])
    res = run("customers", p, store)
    assert res.columns["客户档位"] == "size_class"
    assert sql(store, "SELECT size_class, grade FROM customers ORDER BY customer_id") == [("large", None), ("small", None)]


def test_bad_grade_bands_are_one_line_errors(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码", "档位"], ["C1", "25"]])
    with pytest.raises(ParameterError, match=r"^The 'grade_bands' parameter must be bands"):
        ingest_file("customers", p, store=str(store), grade_bands="1-10:small")


def test_grade_column_added_to_a_stored_table_without_it(tmp_path, store):
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE customers (customer_id VARCHAR, size_class VARCHAR)")
    con.execute("INSERT INTO customers VALUES ('C0', 'small')")
    con.close()
    p = write_csv(tmp_path / "c.csv", [["客户编码", "档位"], ["C1", "22"]])
    res = run("customers", p, store)
    assert any("gained the contract column(s)" in n and "grade" in n for n in res.notes)
    assert sql(store, "SELECT customer_id, grade, size_class FROM customers ORDER BY 1") == [
        ("C0", None, "small"), ("C1", 22, "large")]


def test_reports_can_group_by_grade_band(tmp_path, store):
    from analysis.contracts import grade_band

    p = write_csv(tmp_path / "c.csv", [["客户编码", "档位"]] + [[f"C{g}", str(g)] for g in (1, 5, 12, 30)])
    run("customers", p, store)
    con = store_mod.connect(str(store), read_only=True)
    c = con.table("customers")
    got = c.group_by(grade_band(c.grade).name("grade_band")).aggregate(n=c.count()).to_pandas()
    con.disconnect()
    assert dict(zip(got["grade_band"], got["n"])) == {"1–10": 2, "11–20": 1, "21–30": 1}


# ---- formats -----------------------------------------------------------------------------------
def test_utf16_unicode_text_tab_separated(tmp_path, store):
    rows = [["订单日期", "客户编码", "金额"], ["2026-10-01", "C1", "12.5"], ["2026-10-02", "城东店", "3"]]
    p = tmp_path / "u.txt"
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
    p.write_bytes(buf.getvalue().encode("utf-16"))  # with a BOM, as Excel's "Unicode text"
    assert p.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    res = run("orders", p, store)
    assert (res.encoding, res.accepted) == ("utf-16", 2)
    assert sql(store, "SELECT customer_id, amount FROM orders ORDER BY order_date") == [("C1", 12.5), ("城东店", 3.0)]


def test_utf16_comma_separated(tmp_path, store):
    p = tmp_path / "u.csv"
    p.write_bytes("订单日期,金额\n2026-10-01,1\n".encode("utf-16-le").join([b"\xff\xfe", b""]))
    assert run("orders", p, store).accepted == 1


def test_gbk_with_chinese_headers_and_returns(tmp_path, store):
    p = write_csv(tmp_path / "g.csv", [HEAD, ["O1", "1", "2026-10-01", "C1", "S1", "2", "200"],
                                       ["O2", "1", "2026-10-02", "C1", "S1", "-1", "-100"]], encoding="gbk")
    res = run("orders", p, store)
    assert (res.encoding, res.accepted, res.returns_inferred) == ("gb18030", 2, 1)


def test_ods_second_sheet(tmp_path, store):
    pytest.importorskip("odf")
    p = tmp_path / "o.ods"
    with pd.ExcelWriter(p, engine="odf") as xw:
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="说明", index=False)
        pd.DataFrame({"订单日期": ["2026-10-01"], "金额": [3]}).to_excel(xw, sheet_name="订单", index=False)
    res = run("orders", p, store, sheet="订单")
    assert (res.file_format, res.accepted) == ("ods", 1)


def test_xlsx_sheet_choice_and_first_sheet_note(tmp_path, store):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表为订单导出"])
    ws2 = wb.create_sheet("订单")
    ws2.append(["订单日期", "金额"])
    ws2.append([dt.date(2026, 10, 1), 3])
    x = tmp_path / "o.xlsx"
    wb.save(x)
    with pytest.raises(IngestError, match="required column 'order_date'"):
        ingest_file("orders", x, store=str(store))
    res = run("orders", x, store, sheet="订单")
    assert (res.sheet, res.accepted) == ("订单", 1)
    assert run("orders", x, store, sheet="订单").already_ingested  # each sheet is its own file for the log
    with pytest.raises(IngestError, match=r"^The 'sheet' parameter of ingest must be a sheet of o\.xlsx \(说明, 订单\)\. "
                                          r"Got '订单2' instead\.$"):
        ingest_file("orders", x, store=str(store), sheet="订单2")


def test_xls_and_xlsb_are_read_through_calamine(tmp_path, store, monkeypatch):
    """calamine reads .xls/.xlsb; here its reader is given a workbook it can open (no writer for
    those formats is installed), to check the path through the file kind and the sheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["订单日期", "金额"])
    wb.active.append(["2026-10-01", 2])
    x = tmp_path / "real.xlsx"
    wb.save(x)
    fake = tmp_path / "o.xls"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert ing.file_kind(fake) == "xls"
    import python_calamine

    real = python_calamine.CalamineWorkbook.from_path
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path",
                        staticmethod(lambda p: real(str(x)) if str(p).endswith(".xls") else real(p)))
    res = run("orders", fake, store)
    assert (res.file_format, res.accepted) == ("xls", 1)


def test_a_broken_xls_is_one_line(tmp_path, store):
    p = tmp_path / "o.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(IngestError, match=r"^o\.xls cannot be read as a table: "):
        ingest_file("orders", p, store=str(store))


# ---- the ingest log and replacing a period ---------------------------------------------------
def test_the_ingest_log_records_each_file(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [HEAD, ["O1", "1", "2026-10-01", "C1", "S1", "2", "200"]])
    res = run("orders", p, store)
    rows = sql(store, f"SELECT content_hash, table_name, rows_read, accepted, accounting FROM {ing.LOG_TABLE}")
    assert len(rows) == 1 and rows[0][0] == res.content_hash and rows[0][1:4] == ("orders", 1, 1)
    assert json.loads(rows[0][4])["accepted"] == 1
    again = run("orders", p, store)
    assert again.already_ingested and again.summary().count("already ingested on") == 1
    # the same content under another name is the same file
    copy = tmp_path / "copy.csv"
    copy.write_bytes(p.read_bytes())
    assert run("orders", copy, store).already_ingested
    # ... but not for another table
    assert sql(store, f"SELECT count(*) FROM {ing.LOG_TABLE}") == [(1,)]


def test_replace_a_month(tmp_path, store):
    oct1 = write_csv(tmp_path / "10.csv", [HEAD, ["O1", "1", "2026-10-01", "C1", "S1", "2", "200"],
                                          ["O2", "1", "2026-10-20", "C1", "S1", "1", "100"]])
    sep = write_csv(tmp_path / "09.csv", [HEAD, ["O0", "1", "2026-09-30", "C1", "S1", "1", "100"]])
    run("orders", oct1, store)
    run("orders", sep, store)
    fixed = write_csv(tmp_path / "10b.csv", [HEAD, ["O1", "1", "2026-10-01", "C1", "S1", "2", "250"],
                                            ["O3", "1", "2026-10-21", "C1", "S1", "4", "400"],
                                            ["O4", "1", "2026-11-01", "C1", "S1", "4", "400"]])
    res = run("orders", fixed, store, replace_period="2026-10")
    assert (res.removed, res.accepted, res.quarantined) == (2, 2, 1)
    assert "period 2026-10 replaced: removed 2 rows, added 2" in res.summary()
    assert quarantine(store, "orders")["code"].tolist() == ["outside_period"]
    assert sql(store, "SELECT order_id, amount FROM orders ORDER BY order_id") == [
        ("O0", 100.0), ("O1", 250.0), ("O3", 400.0)]
    # replacing again with the same file gives the same store
    res = run("orders", fixed, store, replace_period="2026-10")
    assert (res.removed, res.accepted) == (2, 2)
    assert sql(store, "SELECT count(*) FROM orders") == [(3,)]


def test_replace_period_parameters(tmp_path, store):
    p = write_csv(tmp_path / "c.csv", [["客户编码"], ["C1"]])
    with pytest.raises(ParameterError, match=r"^The 'replace_period' parameter of ingest applies to tables with a date"):
        ingest_file("customers", p, store=str(store), replace_period="2026-10")
    with pytest.raises(ParameterError, match=r"^The 'replace_period' parameter of ingest must be a month like 2026-10\. "
                                             r"Got '2026-13' instead\.$"):
        ingest_file("orders", p, store=str(store), replace_period="2026-13")
    assert ing.parse_period("2026年3月")[:2] == (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert ing.parse_period("202612")[1] == dt.date(2027, 1, 1)


def test_plausibility_window_is_a_setting(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["订单日期", "金额"], ["1985-06-01", "1"], ["1969-12-31", "1"]])
    res = run("orders", p, store)
    assert res.quarantined == 2
    res = run("orders", write_csv(tmp_path / "o2.csv", [["订单日期", "金额"], ["1985-06-01", "1"],
                                                        ["1969-12-31", "2"]]), store, date_min="1970-01-01")
    assert (res.accepted, res.quarantined) == (1, 1)
    assert quarantine(store, "orders")["reason"].tolist()[-1] == "order_date: date before 1970-01-01"
    from analysis.contracts import Settings

    ok, text = ing.check_store(str(store), today=TODAY)
    assert not ok and "order_date before 1990-01-01: 1" in text
    ok, text = ing.check_store(str(store), settings=Settings(date_min=dt.date(1970, 1, 1), today=TODAY))
    assert ok, text


# ---- one file, one transaction -------------------------------------------------------------
def _big_file(path: Path, n: int, prefix: str = "O") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEAD) + "\n")
        for i in range(n):
            f.write(f"{prefix}{i},1,2026-10-{1 + i % 28:02d},C{i % 50},S{i % 7},{1 + i % 3},{10 + i % 90}\n")
    return path


def _ingest_cmd(table: str, path: Path, store: Path, *extra: str) -> list[str]:
    exe = ROOT / ".venv" / "bin" / "sales-analysis"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "analysis.cli"]
    return cmd + ["ingest", table, str(path), "--store", str(store), *extra]


def _snapshot(store: Path) -> list:
    con = duckdb.connect(str(store), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return [(t, con.execute(f"SELECT * FROM \"{t}\" ORDER BY ALL").fetchall() if t != ing.LOG_TABLE else
                 con.execute(f"SELECT content_hash, accepted FROM \"{t}\" ORDER BY ALL").fetchall()) for t in tables]
    finally:
        con.close()


def _kill(cmd: list[str], env: dict, stop_at: str | None = None, delay: float = 0.0) -> int:
    """Start an ingest and SIGKILL it: where it stops itself (``stop_at``, the pipeline's test hook:
    no timing involved), or after ``delay`` seconds wherever it is. Its return code."""
    from analysis.ingest.pipeline import STOP_ENV

    env = {**env, STOP_ENV: stop_at} if stop_at else env
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if stop_at:
        _, status = os.waitpid(p.pid, os.WUNTRACED)  # returns once the ingest has stopped itself
        assert os.WIFSTOPPED(status), f"the ingest did not reach '{stop_at}' (status {status})"
    else:
        time.sleep(delay)
    p.kill()
    return p.wait()


def test_sigkill_mid_file_leaves_the_store_as_it_was(tmp_path):
    """A kill leaves the store exactly as it was or with the whole file, never in between."""
    import shutil

    base = tmp_path / "base.duckdb"
    first = write_csv(tmp_path / "first.csv", [HEAD, ["A1", "1", "2026-09-01", "C1", "S1", "1", "10"]])
    run("orders", first, base)
    before = _snapshot(base)
    big = _big_file(tmp_path / "big.csv", 60_000)
    clean = tmp_path / "clean.duckdb"
    shutil.copy(base, clean)
    ref = run("orders", big, clean)
    assert (ref.accepted, ref.quarantined) == (60_000, 0)
    after = _snapshot(clean)
    assert after != before
    env = {**os.environ, "SALES_ANALYSIS_STORE": ""}
    # at known points of the transaction: before it begins, after every row is in it but before
    # COMMIT (as it was), after COMMIT (the whole file)
    stores = {}
    for point, expect in (("read", before), ("insert", before), ("commit", after)):
        store = stores[point] = tmp_path / f"{point}.duckdb"
        shutil.copy(base, store)
        assert _kill(_ingest_cmd("orders", big, store), env, stop_at=point) == -signal.SIGKILL
        assert _snapshot(store) == expect, f"killed at '{point}'"
        assert not ing.quarantine_path_for(str(store), "orders").exists()
    # and wherever a kill lands (any moment, from the start to after the end): one of the two
    for i, delay in enumerate((0.5, 2.0)):
        store = tmp_path / f"d{i}.duckdb"
        shutil.copy(base, store)
        _kill(_ingest_cmd("orders", big, store), env, delay=delay)
        assert _snapshot(store) in (before, after), f"killed after {delay} s: the store is neither before nor after"
    # a re-run after a kill mid-transaction gives the uninterrupted run's store
    res = run("orders", big, stores["insert"])
    assert (res.accepted, res.quarantined) == (60_000, 0)
    assert _snapshot(stores["insert"]) == after


def test_a_reader_sees_before_or_after_never_half(tmp_path):
    store = tmp_path / "r.duckdb"
    run("orders", write_csv(tmp_path / "a.csv", [HEAD, ["A1", "1", "2026-09-01", "C1", "S1", "1", "10"]]), store)
    big = _big_file(tmp_path / "big.csv", 200_000)
    env = {**os.environ, "SALES_ANALYSIS_STORE": ""}
    p = subprocess.Popen(_ingest_cmd("orders", big, store), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = set()
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        con = store_mod.connect(str(store), read_only=True)  # waits (bounded) while the ingest commits
        seen.add(int(con.table("orders").count().execute()))
        con.disconnect()
        time.sleep(0.05)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    con = store_mod.connect(str(store), read_only=True)
    seen.add(int(con.table("orders").count().execute()))
    con.disconnect()
    assert seen <= {1, 200_001} and 200_001 in seen, seen


def test_two_ingests_at_once_the_second_waits_or_fails_with_one_line(tmp_path):
    store = tmp_path / "t.duckdb"
    a = _big_file(tmp_path / "a.csv", 150_000, prefix="A")
    b = _big_file(tmp_path / "b.csv", 150_000, prefix="B")
    env = {**os.environ, "SALES_ANALYSIS_STORE": ""}
    pa_ = subprocess.Popen(_ingest_cmd("orders", a, store), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    pb = subprocess.Popen(_ingest_cmd("orders", b, store), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    outs = [pa_.communicate(timeout=300), pb.communicate(timeout=300)]
    codes = [pa_.returncode, pb.returncode]
    for (out, err), rc in zip(outs, codes):
        assert "Traceback" not in err
        if rc != 0:
            assert rc == 2 and len(err.strip().splitlines()) == 1 and "in use by another process" in err
    n = sql(store, "SELECT count(*) FROM orders")[0][0]
    assert n == 150_000 * sum(1 for rc in codes if rc == 0)
    assert 0 in codes


def test_lock_timeout_gives_one_line(tmp_path, monkeypatch):
    store = tmp_path / "l.duckdb"
    run("orders", write_csv(tmp_path / "a.csv", [["订单日期", "金额"], ["2026-10-01", "1"]]), store)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)"),
        str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        p = write_csv(tmp_path / "b.csv", [["订单日期", "金额"], ["2026-10-02", "1"]])
        t0 = time.monotonic()
        with pytest.raises(StoreError, match=r"^The store file .* is in use by another process.*; waited 1 s"):
            ingest_file("orders", p, store=str(store), lock_timeout=1)
        assert time.monotonic() - t0 < 15
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert sql(store, "SELECT count(*) FROM orders") == [(1,)]


# ---- the accounting identity ---------------------------------------------------------------
CELL_ID = st.sampled_from(["O1", "O2", "O3", "Ｏ1", ""])
CELL_LINE = st.sampled_from(["1", "2", "1.5", "x", ""])
CELL_DATE = st.sampled_from(["2026-10-05", "2026/10/6", "2026年10月7日", "2026-02-30", "1980-01-01", "x", ""])
CELL_NUM = st.sampled_from(["1", "-1", "1,000", "(2)", "abc", "", "２", "0"])
CELL_RET = st.sampled_from(["是", "否", "", "?"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL_ID, CELL_LINE, CELL_DATE, CELL_NUM, CELL_NUM, CELL_RET), min_size=0, max_size=14),
       with_key=st.booleans(), with_return=st.booleans(), extra_field=st.booleans())
def test_accounting_identity(tmp_path_factory, rows, with_key, with_return, extra_field):
    d = tmp_path_factory.mktemp("acc")
    store = d / "s.duckdb"
    header = ["订单编号", "行号", "订单日期", "数量", "金额", "是否退货"]
    keep = [i for i in range(6) if (with_key or i > 1) and (with_return or i != 5)]
    data = [[r[i] for i in keep] for r in rows]
    if extra_field and data:
        data[0] = data[0] + ["surplus"]
    p = write_csv(d / "o.csv", [[header[i] for i in keep]] + data)
    res = run("orders", p, store)
    blank = sum(1 for r in data if all(v == "" for v in r))
    assert res.rows_read == len(data) - blank
    assert res.rows_read == res.accepted + res.quarantined + res.duplicates
    assert 0 <= res.returns_inferred <= res.accepted and 0 <= res.identical_kept <= res.accepted
    if not with_key:
        assert res.duplicates == 0  # no key: identical rows are events, all kept
    if with_return:
        assert res.returns_inferred == 0
    n = sql(store, "SELECT count(*) FROM orders")[0][0] if res.accepted else 0
    assert n == res.accepted
    assert len(quarantine(store, "orders")) == res.quarantined
    assert sum(res.codes.values()) >= res.quarantined
    again = run("orders", p, store)
    assert again.already_ingested and again.accepted == 0


def test_rows_rejected_after_staging_keep_their_raw_values(tmp_path, store):
    """Key clashes in the file and in the store, and orphans, are found after the cells are typed:
    their quarantine lines still hold the values as written in the file."""
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE customers (customer_id VARCHAR)")
    con.execute("INSERT INTO customers VALUES ('C1')")
    con.close()
    run("orders", write_csv(tmp_path / "a.csv", [HEAD, ["O9", "1", "2026-10-01", "C1", "S1", "1", "10"]]), store)
    p = write_csv(tmp_path / "b.csv", [HEAD, ["O1", "1", "2026/10/1", "C1", "S1", "1", "1,000"],
                                       ["O1", "1", "2026年10月2日", "C1", "S1", "1", "5"],
                                       ["O2", "1", "20261003", "C7", "S1", "１", "6"],
                                       ["O9", "1", "2026.10.01", "C1", "S1", "1", "11"]], encoding="gbk")
    res = run("orders", p, store)
    assert (res.accepted, res.quarantined) == (1, 3)
    q = quarantine(store, "orders")
    assert q["code"].tolist() == ["unique_key", "reference", "key_in_store"]
    vals = [json.loads(v) for v in q["values"]]
    assert [v["订单日期"] for v in vals] == ["2026年10月2日", "20261003", "2026.10.01"]
    assert vals[1]["数量(条)"] == "１" and vals[1]["客户编码"] == "C7"

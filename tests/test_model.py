"""analysis.model: the one model of the analysed sales lines.

Hand-worked fixtures for each precedence rule (line value, master valid at the sale date, current
master, unattributed), coverage and its skip/note, broken references, conflicts, ``check``'s exit
code, the source rule that no report reads the orders table itself, and an invariant: whatever the
assignment of customers to regions, the by-region amounts plus the unattributed amount equal the total.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import model
from analysis.params import SalesTrendsParams
from analysis.sections import Reason

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "analysis"


def _con(**tables: pd.DataFrame):
    con = ibis.duckdb.connect()
    for name, df in tables.items():
        con.create_table(name, ibis.memtable(df))
    return con


def _orders(**cols):
    base = {"order_date": pd.to_datetime(["2026-01-10", "2026-02-10", "2026-03-10", "2026-03-11"]).date,
            "customer_id": ["C1", "C1", "C1", "C9"], "sku_id": ["S1", "S1", "S2", "S1"],
            "amount": [100.0, 200.0, 300.0, 400.0], "qty": [1.0, 2.0, 3.0, 4.0]}
    base.update(cols)
    return pd.DataFrame(base)


CUSTOMERS = pd.DataFrame({"customer_id": ["C1"], "region": ["北县"], "rep_id": ["R2"], "size_class": ["large"]})
HISTORY = pd.DataFrame({
    "customer_id": ["C1", "C1"], "region": ["南县", "北县"], "rep_id": ["R1", "R2"],
    "valid_from": [None, dt.date(2026, 2, 1)], "valid_to": [dt.date(2026, 2, 1), None]})
PRODUCTS = pd.DataFrame({"sku_id": ["S1", "S2"], "brand": ["红河", "玉溪"], "price_class": ["三类", None]})


def _by_date(lines, col):
    df = lines.select("order_date", "customer_id", col).to_pandas().sort_values(["order_date", "customer_id"])
    return [None if pd.isna(v) else v for v in df[col]]


# ------------------------------------------------------------------- precedence, one rule each
def test_a_value_written_on_the_line_wins_over_every_master():
    con = _con(orders=_orders(rep_id=["R7", None, None, None]), customers=CUSTOMERS, customers_history=HISTORY)
    assert _by_date(model.sales_lines(con), "rep_id") == ["R7", "R2", "R2", None]


def test_else_the_master_valid_at_the_sale_date():
    con = _con(orders=_orders(), customers=CUSTOMERS, customers_history=HISTORY)
    lines = model.sales_lines(con)
    assert _by_date(lines, "rep_id") == ["R1", "R2", "R2", None]
    assert _by_date(lines, "region") == ["南县", "北县", "北县", None]
    # a column the history lacks comes from the current master
    assert _by_date(lines, "size_class") == ["large", "large", "large", None]


def test_else_the_current_master_and_a_missing_value_there_stays_unattributed():
    con = _con(orders=_orders(), customers=CUSTOMERS, products=PRODUCTS)
    lines = model.sales_lines(con)
    assert _by_date(lines, "rep_id") == ["R2", "R2", "R2", None]
    assert _by_date(lines, "brand") == ["红河", "红河", "玉溪", "红河"]
    assert _by_date(lines, "price_class") == ["三类", "三类", None, "三类"]


def test_book_current_puts_todays_master_first():
    con = _con(orders=_orders(rep_id=["R7", None, None, None]), customers=CUSTOMERS, customers_history=HISTORY)
    assert _by_date(model.sales_lines(con, book="current"), "rep_id") == ["R2", "R2", "R2", None]
    with pytest.raises(Exception, match="The 'book' parameter of sales_lines must be one of sale, current"):
        model.sales_lines(con, book="later")


def test_a_null_column_on_the_lines_does_not_hide_the_master():
    """The failure of real exports: ingest creates every contract column, NULL where the file had none."""
    null = pd.Series([None] * 4, dtype="string")
    con = _con(orders=_orders(region=null, rep_id=null), customers=CUSTOMERS)
    assert _by_date(model.sales_lines(con), "region") == ["北县", "北县", "北县", None]


def test_masters_with_a_key_twice_or_overlapping_history_never_multiply_a_line():
    cust = pd.concat([CUSTOMERS, CUSTOMERS.assign(rep_id="R3")], ignore_index=True)
    hist = pd.concat([HISTORY, HISTORY.assign(valid_from=dt.date(2026, 1, 1), valid_to=None, rep_id="R5")],
                     ignore_index=True)
    con = _con(orders=_orders(), customers=cust, customers_history=hist)
    lines = model.sales_lines(con)
    assert lines.count().execute() == 4
    assert float(lines.amount.sum().execute()) == 1000.0


# ------------------------------------------------------------------------------ coverage
def test_coverage_shares_codes_and_what_is_missing():
    con = _con(orders=_orders(), customers=CUSTOMERS)
    src = model.sources(con)
    cov = model.coverage(model.sales_lines(con, src=src), ["region", "brand"], src=src)
    assert cov["region"].share == pytest.approx(600 / 1000)
    assert cov["region"].qty_share == pytest.approx(6 / 10)
    assert cov["region"].top_codes == [("C9", 400.0)]
    assert cov["region"].unresolved_amount == 400.0 and cov["region"].unresolved_lines == 1
    assert cov["brand"].share == 0.0 and cov["brand"].missing == {"table": "products"}
    sk = model.coverage_skip(cov["region"])
    assert sk.code == Reason.UNRESOLVED_CODES and sk.details["codes"] == ["C9"] and sk.details["table"] == "customers"
    assert model.coverage_skip(cov["brand"]).code == Reason.UNRESOLVED_TABLE
    assert model.coverage_skip(cov["brand"]).details["table"] == "products"


def test_coverage_skip_names_a_missing_master_column_and_a_note_below_100_percent():
    con = _con(orders=_orders(), customers=CUSTOMERS, products=PRODUCTS.drop(columns="price_class"))
    src = model.sources(con)
    lines = model.sales_lines(con, src=src)
    cov = model.coverage(lines, ["price_class"], src=src)["price_class"]
    assert model.coverage_skip(cov).code == Reason.UNRESOLVED_COLUMN
    assert model.coverage_skip(cov).details == {"dimension": "price_class", "share": 0.0, "table": "products",
                                                "column": "price_class"}
    con2 = _con(orders=_orders(amount=[1.0, 1.0, 1.0, 97.0]), products=PRODUCTS)
    c2 = model.coverage(model.sales_lines(con2), ["price_class"])["price_class"]
    assert c2.share == pytest.approx(0.99) and c2.sufficient and not c2.complete
    note = model.coverage_note(c2)
    assert note.code == "unattributed" and note.values["codes"] == ["S2"] and note.message_id("x") == "note.unattributed"


def test_returns_count_by_their_size_in_the_share():
    con = _con(orders=_orders(amount=[100.0, -100.0, 300.0, 400.0]), customers=CUSTOMERS)
    cov = model.coverage(model.sales_lines(con), ["region"])["region"]
    assert cov.share == pytest.approx(500 / 900)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["东", "西", "南", None]), min_size=6, max_size=6),
       st.lists(st.integers(-50, 500), min_size=12, max_size=12))
def test_by_region_amounts_plus_unattributed_equal_the_total(regions, amounts):
    custs = [f"C{i}" for i in range(6)]
    cust = pd.DataFrame({"customer_id": custs[:5], "region": regions[:5]})  # C5 is not in the master
    orders = pd.DataFrame({"order_date": [dt.date(2026, 1, 1 + i) for i in range(12)],
                           "customer_id": [custs[i % 6] for i in range(12)], "amount": [float(a) for a in amounts]})
    con = _con(orders=orders, customers=cust)
    lines = model.sales_lines(con)
    g = lines.group_by(k=model.unattributed_key(lines.region)).aggregate(a=lines.amount.sum()).to_pandas()
    assert g["a"].sum() == pytest.approx(sum(amounts))
    un = float(g.loc[g["k"] == model.UNATTRIBUTED, "a"].sum())
    assert un == pytest.approx(model.coverage(lines, ["region"])["region"].unresolved_amount)


# --------------------------------------------------------------------- references, conflicts
def test_broken_references_count_and_sample():
    con = _con(orders=_orders(rep_id=["R1", "RX", "RX", "RY"]), customers=CUSTOMERS, products=PRODUCTS,
               reps=pd.DataFrame({"rep_id": ["R1", "R2"], "hire_date": [dt.date(2020, 1, 1)] * 2}))
    refs = {(r.table, r.column): r for r in model.broken_references(con)}
    assert refs[("orders", "customer_id")].count == 1 and refs[("orders", "customer_id")].samples == ["C9"]
    assert refs[("orders", "rep_id")].count == 3 and refs[("orders", "rep_id")].samples == ["RX", "RY"]
    assert ("orders", "sku_id") not in refs and ("customers", "rep_id") not in refs


def test_conflicts_count_lines_that_contradict_the_master_at_the_sale_date():
    con = _con(orders=_orders(region=["南县", "南县", None, None]), customers=CUSTOMERS, customers_history=HISTORY)
    assert model.conflicts(con)["region"] == 1  # February's line says 南县, the master then says 北县
    assert _by_date(model.sales_lines(con), "region") == ["南县", "南县", "北县", None]  # the line wins


# ------------------------------------------------------------------------------ check
def _slim_store(tmp_path: Path, demo_world, drop_products: bool = False) -> Path:
    import duckdb

    path = tmp_path / "slim.duckdb"
    shutil.copy(demo_world[0], path)
    c = duckdb.connect(str(path))
    c.execute("create or replace table orders as select order_id, line_no, order_date, customer_id, sku_id, "
              "NULL::VARCHAR as rep_id, NULL::VARCHAR as region, NULL::VARCHAR as brand, NULL::VARCHAR as price_class, "
              "NULL::VARCHAR as channel, qty, amount, is_return from orders")
    if drop_products:
        c.execute("drop table products")
    c.close()
    return path


def _check(store: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "check", "--store", str(store)],
                          capture_output=True, text=True, cwd=ROOT)


def test_check_fails_when_a_required_dimension_does_not_resolve(demo_world, tmp_path):
    (tmp_path / "a").mkdir()
    ok = _check(_slim_store(tmp_path / "a", demo_world))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"region\s+100\.00%\s+required\s+ok", ok.stdout)
    (tmp_path / "b").mkdir()
    bad = _check(_slim_store(tmp_path / "b", demo_world, drop_products=True))
    assert bad.returncode == 1, bad.stdout
    assert "brand attributes only 0.00% of the amount" in bad.stdout
    assert "sales_trends: mix" in bad.stdout and "(products is missing)" in bad.stdout


def test_the_slim_store_gives_the_full_stores_regions_and_classes(demo_con, demo_world, tmp_path):
    from analysis import store, trends

    slim = store.connect(str(_slim_store(tmp_path, demo_world)), read_only=True)
    try:
        for level in ("region", "brand", "price_class"):
            a = trends.attainment_by_level(trends.prepare(demo_con, SalesTrendsParams.of(level=level))).table
            b = trends.attainment_by_level(trends.prepare(slim, SalesTrendsParams.of(level=level))).table
            pd.testing.assert_frame_equal(a, b)
        assert trends.mix(trends.prepare(slim)).shift_pp == trends.mix(trends.prepare(demo_con)).shift_pp
    finally:
        slim.disconnect()


def test_a_store_without_products_skips_what_needs_them_and_runs_the_rest(demo_world, tmp_path):
    from analysis import store, trends

    con = store.connect(str(_slim_store(tmp_path, demo_world, drop_products=True)), read_only=True)
    try:
        s = trends.prepare(con, SalesTrendsParams.of(level="brand"))
        att, mx = trends.attainment_by_level(s), trends.mix(s)
        assert att.skip.code == Reason.UNRESOLVED_TABLE and att.skip.details["table"] == "products"
        assert mx.skip.code == Reason.UNRESOLVED_TABLE
        assert trends.headline(s).skip is None
        assert trends.attainment_by_level(s, "region").skip is None
        assert s.coverage["brand"] == 0.0 and s.coverage["region"] == 1.0
    finally:
        con.disconnect()


# ------------------------------------------------------------------------- the source rule
ALLOWED = {"model.py", "demo.py", "demo_export.py", "bench.py"}


def test_no_report_reads_the_orders_table_itself():
    """Order lines are read through analysis.model.sales_lines; ingest and the demo write them."""
    pat = re.compile(r"""(\.table\(\s*["']orders["']|table\(\s*con\s*,\s*["']orders["'])""")
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("ingest", "demo") or rel.name in ALLOWED:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pat.search(line) and "doctest: +SKIP" not in line:
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "read the sales lines through analysis.model.sales_lines:\n" + "\n".join(offenders)

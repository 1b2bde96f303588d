"""Loads: replacing a month safely, the record of loads, undo, settings that make a load, the
quarantine beside its store, master updates with history, and the model reading that history.
Every fixture is written here."""
from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import ingest as ing
from analysis import model
from analysis import store as store_mod
from analysis.errors import IngestError, ParameterError
from analysis.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 15)
HEAD = ["订单编号", "行号", "订单日期", "客户编码", "金额"]
CUST = ["客户编码", "客户名称", "区域", "客户经理"]


def write_csv(path: Path, rows: list[list]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def run(table, path, store, **kw) -> ing.IngestResult:
    res = ingest_file(table, path, store=str(store), today=kw.pop("today", TODAY), **kw)
    assert res.rows_read == res.accepted + res.quarantined + res.duplicates
    return res


def snapshot(store: Path) -> dict:
    """Every user table (bookkeeping aside) with its rows, sorted, without the load ids."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            if t.startswith("_"):
                continue
            cols = [c for (c,) in con.execute(f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{t}' "
                                              "ORDER BY column_index").fetchall() if c != ing.LOAD_COLUMN]
            rows = con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM \"{t}\" "
                               "ORDER BY ALL").fetchall()
            if rows:
                out[t] = rows
        return out
    finally:
        con.close()


def sql(store: Path, query: str):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def orders(tmp_path: Path, name: str, rows: list[tuple]) -> Path:
    return write_csv(tmp_path / name, [HEAD, *[list(map(str, r)) for r in rows]])


OCT = [("O1", 1, "2026-10-01", "C1", 10), ("O2", 1, "2026-10-02", "C1", 20), ("O3", 1, "2026-10-03", "C2", 30),
       ("O4", 1, "2026-10-04", "C2", 40)]


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "s.duckdb"


# ---- --replace-period refuses destructive replacements ----------------------------------------
def test_replace_with_a_file_of_another_month_is_refused(tmp_path, store):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    before = snapshot(store)
    nov = orders(tmp_path, "11.csv", [("N1", 1, "2026-11-01", "C1", 5), ("N2", 1, "2026-11-30", "C1", 6)])
    with pytest.raises(IngestError, match=r"^11\.csv has no row in 2026-10 \(its order_date values run from "
                                          r"2026-11-01 to 2026-11-30\).*nothing was changed"):
        run("orders", nov, store, replace_period="2026-10")
    assert snapshot(store) == before
    assert not ing.quarantine_path_for(str(store), "orders").exists()
    assert [ld.load_id for ld in ing.history(str(store))] == [1]


def test_replace_that_would_lose_most_of_the_month_needs_force(tmp_path, store):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    before = snapshot(store)
    one = orders(tmp_path, "10b.csv", [("O1", 1, "2026-10-01", "C1", 11), ("X", 1, "2026-11-02", "C1", 1)])
    with pytest.raises(IngestError, match=r"^--replace-period 2026-10 would remove 4 rows of orders and add 1: the "
                                          r"month would lose more than half its rows; .*--force"):
        run("orders", one, store, replace_period="2026-10")
    assert snapshot(store) == before
    assert not ing.quarantine_path_for(str(store), "orders").exists()
    res = run("orders", one, store, replace_period="2026-10", force=True)
    assert (res.removed, res.accepted, res.quarantined) == (4, 1, 1)
    assert sql(store, "SELECT order_id, amount FROM orders") == [("O1", 11.0)]
    # exactly half is not "more than half": replaced without --force
    run("orders", orders(tmp_path, "10c.csv", OCT[:2]), store, replace_period="2026-10", force=True)
    res = run("orders", orders(tmp_path, "10d.csv", OCT[:1]), store, replace_period="2026-10")
    assert (res.removed, res.accepted) == (2, 1)


def cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """Run ``sales-analysis ARGS`` in this process (its entry point): (exit code, stdout, stderr)."""
    from analysis import cli as cli_mod

    monkeypatch.setattr(sys, "argv", ["sales-analysis", *args])
    capsys.readouterr()
    try:
        cli_mod.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_replace_refusal_exits_2_with_one_line(tmp_path, store, capsys, monkeypatch):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    nov = orders(tmp_path, "11.csv", [("N1", 1, "2026-11-01", "C1", 5)])
    code, out, err = cli(capsys, monkeypatch, "ingest", "orders", str(nov), "--replace-period", "2026-10",
                         "--store", str(store))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "has no row in 2026-10" in err


# ---- history and undo ---------------------------------------------------------------------------
def test_history_lists_the_loads(tmp_path, store):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    run("orders", orders(tmp_path, "10b.csv", OCT[:3]), store, replace_period="2026-10")
    loads = ing.history(str(store))
    assert [(x.load_id, x.table, x.mode, x.added, x.removed, Path(x.source).name) for x in loads] == [
        (1, "orders", "append", 4, 0, "10.csv"), (2, "orders", "replace", 3, 4, "10b.csv")]
    text = ing.history_text(loads)
    assert text.splitlines()[0].split() == ["load", "time", "table", "mode", "added", "replaced", "file"]
    assert "replace 2026-10" in text.splitlines()[2] and text.splitlines()[2].endswith("10b.csv")


def test_undo_an_append_then_ingest_the_file_again(tmp_path, store):
    run("orders", orders(tmp_path, "09.csv", [("S1", 1, "2026-09-30", "C1", 1)]), store)
    before = snapshot(store)
    bad = write_csv(tmp_path / "10.csv", [HEAD, *[list(map(str, r)) for r in OCT], ["O5", "1", "x", "C1", "1"]])
    res = run("orders", bad, store)
    assert res.load_id == 2 and res.quarantined == 1
    assert "sales-analysis undo 2" in res.summary()
    u = ing.undo(str(store))  # the latest
    assert (u.load.load_id, u.removed, u.restored, u.quarantine_lines) == (2, {"orders": 4}, {}, 1)
    assert snapshot(store) == before
    assert len(ing.history(str(store))) == 2 and ing.history(str(store))[1].undone_at is not None
    with pytest.raises(IngestError, match=r"^Load 2 was undone on "):
        ing.undo(str(store), 2)
    again = run("orders", bad, store)  # an undone load is not "already ingested"
    assert not again.already_ingested and again.accepted == 4 and again.load_id == 3


def test_undo_a_replaced_month_restores_it(tmp_path, store):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    run("orders", orders(tmp_path, "11.csv", [("N1", 1, "2026-11-01", "C1", 5)]), store)
    before = snapshot(store)
    run("orders", orders(tmp_path, "10b.csv", [(*OCT[0][:4], 99), *OCT[1:3]]), store, replace_period="2026-10")
    assert sql(store, "SELECT count(*), sum(amount) FROM orders WHERE order_date < DATE '2026-11-01'") == [(3, 149.0)]
    u = ing.undo(str(store), 3)
    assert (u.removed, u.restored) == ({"orders": 3}, {"orders": 4})
    assert snapshot(store) == before


def test_undo_is_refused_while_a_later_load_depends_on_it(tmp_path, store):
    run("orders", orders(tmp_path, "10.csv", OCT), store)  # load 1
    run("orders", orders(tmp_path, "10b.csv", OCT[:2]), store, replace_period="2026-10", force=True)  # load 2 replaced 1's rows
    with pytest.raises(IngestError, match=r"^Load 1 cannot be undone: later load\(s\) 2 replaced, updated or matched "
                                          r"rows it added; undo them first, latest first \(sales-analysis undo 2\)\.$"):
        ing.undo(str(store), 1)
    # a later file that met load 1's rows as duplicates also depends on it
    s2 = tmp_path / "t.duckdb"
    run("orders", orders(tmp_path, "a.csv", OCT[:2]), s2)
    run("orders", orders(tmp_path, "b.csv", OCT[1:3]), s2)
    with pytest.raises(IngestError, match=r"later load\(s\) 2 "):
        ing.undo(str(s2), 1)
    ing.undo(str(s2), 2)
    ing.undo(str(s2), 1)
    assert sql(s2, "SELECT count(*) FROM orders") == [(0,)]


def test_undo_errors_are_one_line(tmp_path, store):
    with pytest.raises(Exception, match=r"does not exist"):
        ing.undo(str(store))
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    with pytest.raises(IngestError, match=r"^There is no load 7 in this store \(loads: 1\)\.$"):
        ing.undo(str(store), 7)
    ing.undo(str(store))
    with pytest.raises(IngestError, match=r"^There is no load to undo"):
        ing.undo(str(store))


def test_loads_of_an_older_store_are_listed_not_undone(tmp_path, store):
    """A store whose log predates load ids: its loads are numbered, listed, and not undoable."""
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE orders (order_id VARCHAR, order_date DATE, amount DOUBLE)")
    con.execute("INSERT INTO orders VALUES ('Z1', DATE '2026-09-01', 1)")
    con.execute("CREATE TABLE _ingest_log (content_hash VARCHAR, table_name VARCHAR, source_file VARCHAR, "
                "ingested_at TIMESTAMP, rows_read BIGINT, accepted BIGINT, quarantined BIGINT, duplicates BIGINT, "
                "identical_kept BIGINT, returns_inferred BIGINT, replace_period VARCHAR, removed BIGINT, "
                "accounting VARCHAR)")
    con.execute("INSERT INTO _ingest_log VALUES ('h', 'orders', '/x/old.csv', TIMESTAMP '2026-09-02 10:00:00', "
                "1, 1, 0, 0, 0, 0, NULL, 0, '{}')")
    con.close()
    assert "not undoable" in ing.history_text(ing.history(str(store)))
    with pytest.raises(IngestError, match=r"^There is no load to undo"):
        ing.undo(str(store))
    res = run("orders", orders(tmp_path, "10.csv", OCT), store)
    assert res.load_id == 2
    with pytest.raises(IngestError, match=r"^Load 1 was ingested before loads were recorded"):
        ing.undo(str(store), 1)
    ing.undo(str(store), 2)
    assert sql(store, "SELECT order_id FROM orders") == [("Z1",)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(st.tuples(st.sampled_from(["A", "B", "C", ""]), st.integers(1, 3), st.integers(1, 40)),
                      min_size=1, max_size=6),
       second=st.lists(st.tuples(st.sampled_from(["A", "B", "D", ""]), st.integers(1, 3), st.integers(1, 40)),
                       min_size=0, max_size=6),
       replace=st.booleans())
def test_ingest_then_undo_gives_the_store_back(tmp_path_factory, first, second, replace):
    """Invariant: whatever the files (keyed or not, duplicates, clashes), undoing the latest load
    gives back exactly the store before it."""
    d = tmp_path_factory.mktemp("u")
    s = d / "s.duckdb"

    def rows(spec):
        return [(oid, 1 if oid else "", f"2026-10-{day:02d}", "C1", amt) for oid, day, amt in spec]

    run("orders", orders(d, "a.csv", rows(first)), s)
    before = snapshot(s)
    try:
        res = run("orders", orders(d, "b.csv", rows(second)), s, replace_period="2026-10" if replace else None,
                  force=True)
    except IngestError:  # a replacement without any row in the month: refused, nothing changed
        assert replace and not second
        assert snapshot(s) == before
        return
    if res.load_id is None:
        assert snapshot(s) == before
        return
    ing.undo(str(s))
    assert snapshot(s) == before


def test_cli_history_and_undo(tmp_path, store, capsys, monkeypatch):
    run("orders", orders(tmp_path, "10.csv", OCT), store)
    code, out, _ = cli(capsys, monkeypatch, "history", "--store", str(store))
    assert code == 0 and "10.csv" in out
    code, out, _ = cli(capsys, monkeypatch, "undo", "1", "--store", str(store))
    assert code == 0 and out.startswith("undone load 1: orders <- 10.csv")
    code, out, err = cli(capsys, monkeypatch, "undo", "--store", str(store))
    assert code == 2 and "There is no load to undo" in err


# ---- what makes a load ------------------------------------------------------------------------
def test_other_settings_make_another_load(tmp_path, store):
    p = write_csv(tmp_path / "o.csv", [["票号", "行号", "订单日期", "金额"], ["O1", "1", "2026-10-01", "5"]])
    first = run("orders", p, store)
    assert first.accepted == 1 and "票号" not in first.columns  # 票号 is not an alias: not used
    assert run("orders", p, store).already_ingested_load == 1
    # a corrected mapping is another load (not "already ingested")
    fixed = run("orders", p, store, mapping={"票号": "order_id"})
    assert not fixed.already_ingested and fixed.load_id == 2 and fixed.columns["票号"] == "order_id"
    assert fixed.other_loads == [1]
    assert "the same file is also in the store as load 1, with other settings; if this load corrects it, undo " \
           "that one: sales-analysis undo 1" in fixed.summary()
    assert run("orders", p, store, mapping={"票号": "order_id"}).already_ingested_load == 2
    # another plausibility window is another load too
    assert not run("orders", p, store, date_min="2000-01-01").already_ingested


def test_each_store_has_its_own_quarantine(tmp_path):
    bad = write_csv(tmp_path / "o.csv", [HEAD, ["O1", "1", "x", "C1", "1"]])
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    run("orders", bad, a)
    res = run("orders", bad, b)
    assert res.already_quarantined == 0
    assert res.quarantine_path == str(tmp_path / "b.duckdb.quarantine" / "orders.csv")
    assert (tmp_path / "a.duckdb.quarantine" / "orders.csv").exists()
    assert not (tmp_path / "quarantine").exists()


# ---- master data that changes -----------------------------------------------------------------
def _jan_feb(tmp_path):
    jan = write_csv(tmp_path / "jan.csv", [CUST, ["C1", "甲", "北区", "R1"], ["C2", "乙", "北区", "R1"],
                                           ["C3", "丙", "南区", "R2"]])
    feb = write_csv(tmp_path / "feb.csv", [CUST, ["C1", "甲", "北区", "R2"], ["C2", "乙", "南区", "R3"],
                                           ["C4", "丁", "南区", "R2"]])
    return jan, feb


def test_first_master_load_writes_the_history(tmp_path, store):
    jan, _ = _jan_feb(tmp_path)
    run("customers", jan, store)
    assert sql(store, "SELECT customer_id, rep_id, valid_from, valid_to FROM customers_history ORDER BY 1") == [
        ("C1", "R1", None, None), ("C2", "R1", None, None), ("C3", "R2", None, None)]


def test_changed_master_rows_without_update_say_to_use_it(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    res = run("customers", feb, store)
    assert (res.accepted, res.quarantined) == (1, 2)
    assert res.codes == {"key_in_store": 2}
    assert any("ingest it with --update" in n for n in res.notes)


def test_update_applies_a_newer_master_export(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    res = run("customers", feb, store, update=True, as_of="2026-02-01")
    assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (3, 3, 0, 0)
    assert (res.new_keys, res.updated, res.kept_keys) == (1, 2, 1)
    assert dict(res.changes) == {"rep_id": 2, "region": 1}
    text = res.summary()
    assert "update as of 2026-02-01 (--as-of); changes:" in text
    assert "  2 customers reassigned (rep_id)" in text and "  1 customers moved (region)" in text
    assert sql(store, "SELECT customer_id, region, rep_id FROM customers ORDER BY 1") == [
        ("C1", "北区", "R2"), ("C2", "南区", "R3"), ("C3", "南区", "R2"), ("C4", "南区", "R2")]
    feb1 = dt.date(2026, 2, 1)
    assert sql(store, "SELECT customer_id, region, rep_id, valid_from, valid_to FROM customers_history "
                      "ORDER BY 1, valid_from NULLS FIRST") == [
        ("C1", "北区", "R1", None, feb1), ("C1", "北区", "R2", feb1, None),
        ("C2", "北区", "R1", None, feb1), ("C2", "南区", "R3", feb1, None),
        ("C3", "南区", "R2", None, None), ("C4", "南区", "R2", None, None)]
    # the same export again: nothing changes (every row unchanged)
    again = run("customers", write_csv(tmp_path / "feb2.csv", [CUST, ["C1", "甲", "北区", "R2"]]), store,
                update=True, as_of="2026-02-01")
    assert (again.accepted, again.duplicates_in_store, again.updated) == (0, 1, 0)


def test_update_keeps_columns_the_file_lacks(tmp_path, store):
    run("customers", write_csv(tmp_path / "a.csv", [["客户编码", "区域", "客户经理", "档位"], ["C1", "北区", "R1", "25"]]),
        store)
    run("customers", write_csv(tmp_path / "b.csv", [["客户编码", "客户经理"], ["C1", "R2"]]), store, update=True,
        as_of="2026-03-01")
    assert sql(store, "SELECT region, rep_id, grade, size_class FROM customers") == [("北区", "R2", 25, "large")]
    assert sql(store, "SELECT rep_id, grade, valid_from FROM customers_history ORDER BY valid_from NULLS FIRST") == [
        ("R1", 25, None), ("R2", 25, dt.date(2026, 3, 1))]


def test_update_default_as_of_follows_the_stored_orders(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    run("orders", orders(tmp_path, "o.csv", [("O1", 1, "2026-01-20", "C1", 1)]), store)
    res = run("customers", feb, store, update=True)
    assert res.as_of == dt.date(2026, 2, 1)
    assert "update as of 2026-02-01 (the first day after the month of the latest stored order, 2026-01-20" in res.summary()


def test_update_older_than_one_applied_is_refused(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    run("customers", feb, store, update=True, as_of="2026-03-01")
    before = snapshot(store)
    older = write_csv(tmp_path / "old.csv", [CUST, ["C1", "甲", "北区", "R7"]])
    with pytest.raises(IngestError, match=r"^--as-of 2026-02-01 is before changes already applied to 1 customers"):
        run("customers", older, store, update=True, as_of="2026-02-01")
    assert snapshot(store) == before


def test_update_parameters(tmp_path, store):
    p = orders(tmp_path, "o.csv", OCT)
    with pytest.raises(ParameterError, match=r"^The 'update' parameter of ingest applies to the master tables"):
        ingest_file("orders", p, store=str(store), update=True)
    with pytest.raises(ParameterError, match=r"^The 'as_of' parameter of ingest must be a date like 2026-02-01\. "
                                             r"Got 'Feb' instead\.$"):
        ingest_file("customers", p, store=str(store), update=True, as_of="Feb")


def test_undo_an_update_restores_master_and_history(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    before = snapshot(store)
    res = run("customers", feb, store, update=True, as_of="2026-02-01")
    with pytest.raises(IngestError, match=r"^Load 1 cannot be undone: later load\(s\) 2 "):
        ing.undo(str(store), 1)
    u = ing.undo(str(store), res.load_id)
    assert u.restored == {"customers": 2, "customers_history": 2}
    assert snapshot(store) == before


def test_sales_lines_take_the_rep_valid_at_the_sale_date(tmp_path, store):
    jan, feb = _jan_feb(tmp_path)
    run("customers", jan, store)
    run("customers", feb, store, update=True, as_of="2026-02-01")
    run("orders", orders(tmp_path, "o.csv", [("O1", 1, "2026-01-10", "C1", 10), ("O2", 1, "2026-02-10", "C1", 20),
                                              ("O3", 1, "2026-01-31", "C2", 5), ("O4", 1, "2026-02-01", "C2", 7),
                                              ("O5", 1, "2026-02-02", "C3", 1)]), store)
    con = store_mod.connect(str(store), read_only=True)
    try:
        lines = model.sales_lines(con).select("order_id", "rep_id", "region").order_by("order_id").to_pandas()
    finally:
        con.disconnect()
    assert lines.values.tolist() == [["O1", "R1", "北区"], ["O2", "R2", "北区"], ["O3", "R1", "北区"],
                                     ["O4", "R3", "南区"], ["O5", "R2", "南区"]]


def test_a_reassignment_list_ingested_as_history(tmp_path, store):
    jan, _ = _jan_feb(tmp_path)
    run("customers", jan, store)
    lst = write_csv(tmp_path / "re.csv", [["customer_id", "rep_id", "valid_from"], ["C1", "R9", "2026-03-01"]])
    res = run("customers_history", lst, store)
    assert res.accepted == 1 and any("1 earlier open version(s) closed" in n for n in res.notes)
    mar = dt.date(2026, 3, 1)
    assert sql(store, "SELECT customer_id, name, region, rep_id, valid_from, valid_to FROM customers_history "
                      "WHERE customer_id = 'C1' ORDER BY valid_from NULLS FIRST") == [
        ("C1", "甲", "北区", "R1", None, mar), ("C1", "甲", "北区", "R9", mar, None)]
    run("orders", orders(tmp_path, "o.csv", [("O1", 1, "2026-02-28", "C1", 1), ("O2", 1, "2026-03-01", "C1", 1)]),
        store)
    con = store_mod.connect(str(store), read_only=True)
    try:
        reps = model.sales_lines(con).order_by("order_id").rep_id.to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert reps == ["R1", "R9"]
    ing.undo(str(store), 3)  # the orders
    ing.undo(str(store), 2)  # the list: the closed version is open again
    assert sql(store, "SELECT rep_id, valid_from, valid_to FROM customers_history WHERE customer_id = 'C1'") == [
        ("R1", None, None)]

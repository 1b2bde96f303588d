"""Ingest into a PostgreSQL store (issue 24, item 3): the promises of a DuckDB store kept on a
real server (the session's ``pg_url``): accounting, duplicates and keys against stored rows,
quarantine in the store's own folder, ``--replace-period`` and its guards, ``--update`` with
history, ``history`` / ``undo``, and a kill before COMMIT leaving the tables as they were. A
Spark store is refused in one line. Each test works in its own schema."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from analysis import ingest as ing
from analysis.errors import IngestError
from analysis.ingest import ingest_file

pytestmark = pytest.mark.engines
psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[1]
HEAD = ["订单编号", "行号", "订单日期", "客户编码", "商品编码", "数量", "金额"]


@pytest.fixture
def pg_store(pg_url, tmp_path, monkeypatch):
    """A PostgreSQL store in a schema of its own; its quarantine under tmp_path."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    monkeypatch.setenv(ing.append.QUARANTINE_DIR_ENV, str(tmp_path / "quarantine"))
    yield f"{pg_url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def write_csv(path: Path, rows: list[list]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def run(table: str, path: Path, store: str, **kw):
    res = ingest_file(table, path, store=store, **kw)
    assert res.balanced and res.rows_read == res.accepted + res.quarantined + res.duplicates
    return res


def pg(store: str, sql: str) -> list[tuple]:
    with psycopg.connect(store) as c:
        return c.execute(sql).fetchall()


def snapshot(store: str) -> dict[str, list]:
    """Every table of the store's schema, its rows sorted (the log without its times)."""
    out = {}
    for (t,) in pg(store, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"):
        rows = pg(store, f'SELECT * FROM "{t}"' if t != ing.LOG_TABLE else
                  f'SELECT load_id, content_hash, accepted, removed, undone_at IS NULL FROM "{t}"')
        out[t] = sorted(map(repr, rows))
    return out


def test_orders_keep_accounting_keys_quarantine_and_history(tmp_path, pg_store):
    a = write_csv(tmp_path / "a.csv", [
        HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "2", "100.5"], ["A2", "1", "2026-10-02", "C1", "S1", "1", "#N/A"],
        ["A3", "1", "2026-10-03", "C2", "S2", "3", "20.25"], ["A3", "1", "2026-10-03", "C2", "S2", "3", "20.25"],
        ["A4", "1", "2026-10-04", "C2", "S2", "1", ""]])
    r1 = run("orders", a, pg_store)
    assert (r1.rows_read, r1.accepted, r1.quarantined, r1.duplicates_in_file) == (5, 3, 1, 1)
    assert r1.load_id == 1 and r1.codes == {"excel_error": 1}
    qpath = Path(r1.quarantine_path)
    assert qpath.parent.parent == tmp_path / "quarantine" and qpath.parent.name.endswith(pg_store.rsplit("%3D", 1)[1])
    assert pg(pg_store, "SELECT count(*), sum(amount), sum(qty) FROM orders") == [(3, 120.75, 6.0)]
    # the same file again: nothing added
    again = ingest_file("orders", a, store=pg_store)
    assert again.already_ingested and again.accepted == 0
    # a second export: an exact copy of a stored line (skipped), a stored key with another amount
    # (quarantined), a new line (added)
    b = write_csv(tmp_path / "b.csv", [
        HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "2", "100.5"], ["A3", "1", "2026-10-03", "C2", "S2", "3", "99"],
        ["A5", "1", "2026-10-05", "C3", "S1", "1", "7.125"]])
    r2 = run("orders", b, pg_store)
    assert (r2.accepted, r2.quarantined, r2.duplicates_in_store) == (1, 1, 1)
    assert r2.codes == {"key_in_store": 1} and r2.depends_on == [1]
    assert pg(pg_store, "SELECT order_id, amount, _load_id FROM orders ORDER BY order_id") == [
        ("A1", 100.5, 1), ("A3", 20.25, 1), ("A4", None, 1), ("A5", 7.125, 2)]
    with open(qpath, encoding="utf-8-sig", newline="") as f:
        assert [(r["code"], r["load_id"]) for r in csv.DictReader(f)] == [("excel_error", "1"), ("key_in_store", "2")]
    loads = ing.history(pg_store)
    assert [(x.load_id, x.added, x.live) for x in loads] == [(1, 3, True), (2, 1, True)]
    assert "b.csv" in ing.history_text(loads)
    with pytest.raises(IngestError, match="later load"):
        ing.undo(pg_store, 1)
    u = ing.undo(pg_store)
    assert u.load.load_id == 2 and u.removed == {"orders": 1} and u.quarantine_lines == 1
    assert pg(pg_store, "SELECT count(*), sum(amount) FROM orders") == [(3, 120.75)]
    assert run("orders", b, pg_store).accepted == 1  # undone: the file can be loaded again


def test_replace_period_guards_and_undo(tmp_path, pg_store):
    oct_rows = [["A%d" % i, "1", f"2026-10-{1 + i:02d}", "C1", "S1", "1", str(10 * i)] for i in range(6)]
    run("orders", write_csv(tmp_path / "a.csv", [HEAD, *oct_rows, ["N1", "1", "2026-11-02", "C1", "S1", "1", "5"]]),
        pg_store)
    before = snapshot(pg_store)
    fix = write_csv(tmp_path / "fix.csv", [HEAD, ["B1", "1", "2026-10-02", "C1", "S1", "1", "70"],
                                           ["B2", "1", "2026-10-03", "C1", "S1", "1", "80"]])
    with pytest.raises(IngestError, match="has no row in 2026-09"):
        ingest_file("orders", fix, store=pg_store, replace_period="2026-09")
    with pytest.raises(IngestError, match="more than half"):
        ingest_file("orders", fix, store=pg_store, replace_period="2026-10")
    assert snapshot(pg_store) == before
    r = run("orders", fix, pg_store, replace_period="2026-10", force=True)
    assert (r.removed, r.accepted) == (6, 2)
    assert pg(pg_store, "SELECT order_id, amount FROM orders ORDER BY order_id") == [
        ("B1", 70.0), ("B2", 80.0), ("N1", 5.0)]
    u = ing.undo(pg_store)
    assert (u.removed, u.restored) == ({"orders": 2}, {"orders": 6})
    after = snapshot(pg_store)
    assert after.pop("_ingest_log") != before.pop("_ingest_log")  # load 2 is in the log, undone
    assert {k: v for k, v in after.items() if not k.startswith("_ingest_undo")} == before


def test_master_update_keeps_history_in_postgres(tmp_path, pg_store):
    head = ["客户编码", "客户名称", "区域", "客户经理"]
    run("customers", write_csv(tmp_path / "c1.csv", [head, ["C1", "甲店", "东区", "R1"], ["C2", "乙店", "西区", "R2"]]),
        pg_store)
    c2 = write_csv(tmp_path / "c2.csv", [head, ["C1", "甲店", "东区", "R9"], ["C3", "丙店", "南区", "R2"]])
    clash = run("customers", c2, pg_store)
    assert clash.codes == {"key_in_store": 1}
    ing.undo(pg_store)
    r = run("customers", c2, pg_store, update=True, as_of="2026-11-01")
    assert (r.new_keys, r.updated, r.kept_keys) == (1, 1, 1)
    assert r.changes == {"rep_id": 1}
    assert pg(pg_store, "SELECT customer_id, rep_id FROM customers ORDER BY 1") == [
        ("C1", "R9"), ("C2", "R2"), ("C3", "R2")]
    assert pg(pg_store, "SELECT customer_id, rep_id, valid_from::text, valid_to::text FROM customers_history "
                        "ORDER BY 1, 3 NULLS FIRST") == [
        ("C1", "R1", None, "2026-11-01"), ("C1", "R9", "2026-11-01", None), ("C2", "R2", None, None),
        ("C3", "R2", None, None)]
    ing.undo(pg_store)
    assert pg(pg_store, "SELECT customer_id, rep_id FROM customers ORDER BY 1") == [("C1", "R1"), ("C2", "R2")]
    assert pg(pg_store, "SELECT customer_id, rep_id, valid_from, valid_to FROM customers_history ORDER BY 1") == [
        ("C1", "R1", None, None), ("C2", "R2", None, None)]


def test_a_store_copied_by_engines_takes_ingests(tmp_path, pg_store):
    """Tables copied into PostgreSQL by analysis.engines (no load ids, no ingest log): an ingest
    checks its keys against their rows, adds the load column, and is undoable."""
    from analysis.engines import copy_store

    local = tmp_path / "local.duckdb"
    run("orders", write_csv(tmp_path / "a.csv", [HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "2", "10"],
                                                 ["A2", "1", "2026-10-02", "C1", "S1", "1", "5"]]), str(local))
    import duckdb

    with duckdb.connect(str(local)) as c:  # as a store built by other tools: no bookkeeping
        c.execute(f"ALTER TABLE orders DROP COLUMN {ing.LOAD_COLUMN}")
        c.execute(f"DROP TABLE {ing.LOG_TABLE}")
    copy_store(str(local), pg_store, tables=["orders"])
    b = write_csv(tmp_path / "b.csv", [HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "2", "10"],
                                       ["A2", "1", "2026-10-02", "C1", "S1", "1", "6"],
                                       ["A3", "1", "2026-10-03", "C1", "S1", "1", "7"]])
    r = run("orders", b, pg_store)
    assert (r.accepted, r.quarantined, r.duplicates_in_store, r.load_id) == (1, 1, 1, 1)
    assert pg(pg_store, "SELECT order_id, amount, _load_id FROM orders ORDER BY 1") == [
        ("A1", 10.0, None), ("A2", 5.0, None), ("A3", 7.0, 1)]
    assert ing.undo(pg_store).removed == {"orders": 1}
    assert pg(pg_store, "SELECT count(*) FROM orders") == [(2,)]


def test_a_second_writer_waits_for_the_lock_then_stops_in_one_line(tmp_path, pg_store):
    """While another ingest (or undo) holds the store's lock, an ingest waits at most its lock
    timeout and changes nothing."""
    from analysis.errors import StoreError
    from analysis.ingest.warehouse import PG_LOCK_KEY

    a = write_csv(tmp_path / "a.csv", [HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "1", "10"]])
    with psycopg.connect(pg_store) as holder:  # a transaction holding the lock
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])
        with pytest.raises(StoreError, match="in use by another ingest or undo; waited 0.2 s"):
            ingest_file("orders", a, store=pg_store, lock_timeout=0.2)
    assert pg(pg_store, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()") == [(0,)]
    assert run("orders", a, pg_store).accepted == 1


def _cmd(*args: str) -> list[str]:
    exe = ROOT / ".venv" / "bin" / "sales-analysis"
    return ([str(exe)] if exe.exists() else [sys.executable, "-m", "analysis.cli"]) + list(args)


def test_a_kill_before_commit_leaves_postgres_as_it_was(tmp_path, pg_store):
    """The ingest stops itself just before PostgreSQL's COMMIT (the pipeline's test hook, no
    timing) and is killed: every table is as it was; the lock is gone with it (a re-run loads)."""
    from analysis.ingest.pipeline import STOP_ENV

    run("orders", write_csv(tmp_path / "a.csv", [HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "1", "10"]]), pg_store)
    before = snapshot(pg_store)
    rows = [[f"O{i}", "1", f"2026-10-{1 + i % 28:02d}", f"C{i % 9}", "S1", "1", str(i % 50)] for i in range(3000)]
    big = write_csv(tmp_path / "big.csv", [HEAD, *rows, ["A1", "1", "2026-10-01", "C1", "S1", "1", "11"]])
    env = {**os.environ, "SALES_ANALYSIS_STORE": "", STOP_ENV: "insert"}
    p = subprocess.Popen(_cmd("ingest", "orders", str(big), "--store", pg_store, "--replace-period", "2026-10"),
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status = os.waitpid(p.pid, os.WUNTRACED)  # returns once the ingest has stopped itself
    assert os.WIFSTOPPED(status), f"the ingest did not reach the point before COMMIT (status {status})"
    p.kill()
    p.wait()
    p.stderr.close()
    assert snapshot(pg_store) == before
    r = run("orders", big, pg_store, replace_period="2026-10")
    assert (r.removed, r.accepted, r.quarantined) == (1, 3001, 0)
    assert pg(pg_store, "SELECT count(*), sum(amount) FROM orders") == [(3001, sum(i % 50 for i in range(3000)) + 11)]


def test_cli_into_postgres_and_a_spark_store_refused(tmp_path, pg_store):
    a = write_csv(tmp_path / "a.csv", [HEAD, ["A1", "1", "2026-10-01", "C1", "S1", "1", "10"]])
    env = {**os.environ, "SALES_ANALYSIS_STORE": ""}
    qdir = tmp_path / "q"
    bad = write_csv(tmp_path / "bad.csv", [HEAD, ["A9", "1", "not a date", "C1", "S1", "1", "10"]])
    out = subprocess.run(_cmd("ingest", "orders", str(bad), "--store", pg_store, "--quarantine", str(qdir)),
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "quarantined 1" in out.stdout and (qdir / "orders.csv").exists()
    out = subprocess.run(_cmd("undo", "--store", pg_store), env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "its 1 quarantine lines removed" in out.stdout, out.stdout + out.stderr
    out = subprocess.run(_cmd("ingest", "orders", str(a), "--store", f"spark://local?warehouse={tmp_path / 'wh'}"),
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and "python -m analysis.engines" in err[0], out.stderr
    assert not (tmp_path / "wh").exists()

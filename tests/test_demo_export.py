"""The demo world as a department's files: export (slim and full), ingest file by file, same store.

A small world (scale 0.02) is exported in both shapes; every file is loaded into an empty store
with the project's own ingest pipeline (``analysis.ingest.ingest_file``, what ``sales-analysis
ingest <table> FILE`` runs), in the documented order. The loaded store must hold the directly
built store's tables (rows compared as sorted row hashes, sums per numeric column), and the
analysed sales lines (``analysis.model.sales_lines``) must attribute every yuan to the same region,
rep, brand, price class, channel and month — on slim order lines through the masters and the
customer reassignment list (``customers_history``).
"""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from analysis import aliases, demo, demo_export, model
from analysis import store as store_mod
from analysis.errors import ParameterError
from analysis.ingest import ingest_file

SCALE = 0.02
SEED = 11
# after every date of the world (payroll of the last month is paid in the month after the next):
# the test must not depend on the day it runs
TODAY = dt.date(2027, 12, 31)
LINE_DIMS = ("rep_id", "region", "brand", "price_class", "channel")


def row_hash(db: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> tuple[int, str]:
    """(rows, md5 of the sorted rows of ``cols``) of a table."""
    row = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '∅')" for c in cols)
    sql = f"SELECT count(*), md5(string_agg(r, chr(10) ORDER BY r)) FROM (SELECT {row} AS r FROM \"{table}\")"
    return db.execute(sql).fetchone()


def columns(db: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute(f'DESCRIBE "{table}"').fetchall()}


def sums(db: duckdb.DuckDBPyConnection, table: str, cols: dict[str, str]) -> dict[str, float]:
    num = [c for c, t in cols.items() if t in ("DOUBLE", "BIGINT", "INTEGER")]
    if not num:
        return {}
    aggs = ", ".join(f'sum("{c}")' for c in num)
    row = db.execute(f'SELECT {aggs} FROM "{table}"').fetchone()
    return dict(zip(num, row))


def attributed(con, src=None) -> pd.DataFrame:
    """Amount and quantity by region, rep, brand, price class, channel and month (the model's lines)."""
    lines = model.sales_lines(con, src=src)
    keys = {d: model.unattributed_key(lines[d]) for d in LINE_DIMS}
    g = lines.group_by(month=lines.order_date.truncate("M"), **keys).aggregate(
        amount=lines.amount.sum(), qty=lines.qty.sum(), n=lines.count())
    return g.to_pandas().sort_values(["month", *LINE_DIMS]).reset_index(drop=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("export_world")
    store = d / "direct.duckdb"
    demo.build(store=str(store), seed=SEED, scale=SCALE, truth_path=d / "truth.json")
    return store


@pytest.fixture(scope="module", params=demo_export.SHAPES)
def loaded(request, world, tmp_path_factory):
    """(shape, export summary, export folder, ingested store, {table: IngestResult})."""
    shape = request.param
    d = tmp_path_factory.mktemp(f"export_{shape}")
    summary = demo_export.export(world, d / "files", shape)
    target = d / "ingested.duckdb"
    results = {}
    for f in demo_export.LAYOUT:
        results[f.table] = ingest_file(f.table, d / "files" / f.name, store=str(target), today=TODAY,
                                       quarantine_path=d / "quarantine" / f"{f.table}.csv")
    return shape, summary, d / "files", target, results


@pytest.fixture(scope="module")
def direct_attributed(world) -> pd.DataFrame:
    con = store_mod.connect(str(world), read_only=True)
    try:
        return attributed(con)
    finally:
        con.disconnect()


@pytest.fixture()
def dbs(world, loaded):
    a = duckdb.connect(str(world), read_only=True)
    b = duckdb.connect(str(loaded[3]), read_only=True)
    yield a, b
    a.close()
    b.close()


# ---------------------------------------------------------------------------------------------
# the demo store: the history attributes every slim line to the rep of the line
# ---------------------------------------------------------------------------------------------
def test_demo_store_has_no_conflicts(world):
    """Orders carry the rep serving the customer on the sale date; customers_history says the same,
    so the model's rule (line, else the master valid at the sale date) never meets a contradiction."""
    con = store_mod.connect(str(world), read_only=True)
    try:
        assert model.conflicts(con) == {d: 0 for d in ("region", "rep_id", "brand", "price_class", "channel")}
    finally:
        con.disconnect()


def test_history_is_a_partition_of_time(world):
    db = duckdb.connect(str(world), read_only=True)
    try:
        # versions of a customer do not overlap and leave no gap; the open version is the current row
        assert db.execute("""
            SELECT count(*) FROM (SELECT customer_id, valid_from, valid_to,
                   lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from NULLS FIRST) AS nxt
                   FROM customers_history)
            WHERE valid_to IS DISTINCT FROM nxt OR valid_from >= valid_to""").fetchone()[0] == 0
        cols = [c for c in columns(db, "customers")]
        assert db.execute(f"""
            SELECT count(*) FROM customers c FULL JOIN (SELECT * FROM customers_history WHERE valid_to IS NULL) h
            USING (customer_id) WHERE {" OR ".join(f'c."{x}" IS DISTINCT FROM h."{x}"' for x in cols)}
            """).fetchone()[0] == 0
        # reps leave, so books are reassigned: most customers have more than one version
        many = db.execute("SELECT avg(CAST(n > 1 AS DOUBLE)) FROM (SELECT customer_id, count(*) n FROM customers_history GROUP BY 1)"
                          ).fetchone()[0]
        assert many > 0.5
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------
# the files
# ---------------------------------------------------------------------------------------------
def test_files_and_headers(loaded):
    """GBK CSV for the transaction tables, XLSX for masters, plans and payroll; every header is one
    the ingest aliases map to the column it holds; slim order lines carry no dimension."""
    shape, summary, folder, _, _ = loaded
    assert list(summary["files"]) == [f.name for f in demo_export.LAYOUT]
    for f in demo_export.LAYOUT:
        path = folder / f.name
        if f.fmt == "csv":
            header = path.read_bytes().split(b"\n", 1)[0].decode("gbk").strip().split(",")
        else:
            from python_calamine import CalamineWorkbook

            header = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(nrows=1)[0]
        want = f.columns(shape)
        assert [aliases.canonical_header(f.table, h) for h in header] == want, (f.name, header)
    orders = next(f for f in demo_export.LAYOUT if f.table == "orders")
    assert (set(orders.columns("full")) - set(orders.columns("slim"))) == set(LINE_DIMS)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    pos = [readme.index(f"sales-analysis ingest {f.table} {f.name}") for f in demo_export.LAYOUT]
    assert pos == sorted(pos)
    assert [c.split()[2] for c in summary["commands"]] == [f.table for f in demo_export.LAYOUT]


def test_every_row_is_accepted(loaded, dbs):
    a, _ = dbs
    for table, res in loaded[4].items():
        n = a.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        assert (res.rows_read, res.accepted, res.quarantined, res.duplicates) == (n, n, 0, 0), (table, res.summary())


# ---------------------------------------------------------------------------------------------
# the same store
# ---------------------------------------------------------------------------------------------
def test_tables_equal_the_direct_store(loaded, dbs):
    """Every table but the slim order lines: the same rows (sorted row hashes over the demo's
    columns), the same sums; columns the demo does not write are empty."""
    shape = loaded[0]
    a, b = dbs
    for table in demo.TABLE_ORDER:
        ca, cb = columns(a, table), columns(b, table)
        assert set(ca) <= set(cb), table
        assert {c: cb[c] for c in ca} == ca, table
        for extra in set(cb) - set(ca):
            assert b.execute(f'SELECT count("{extra}") FROM "{table}"').fetchone()[0] == 0, (table, extra)
        assert sums(a, table, ca) == pytest.approx(sums(b, table, ca), rel=1e-12), table
        keep = [c for c in ca if not (table == "orders" and shape == "slim" and c in LINE_DIMS)]
        assert row_hash(a, table, keep) == row_hash(b, table, keep), table
    if shape == "slim":
        assert b.execute(f"SELECT count(*) FROM orders WHERE {' OR '.join(f'{d} IS NOT NULL' for d in LINE_DIMS)}"
                         ).fetchone()[0] == 0


def test_sales_lines_equal(direct_attributed, loaded):
    """The model attributes every yuan of the loaded store as on the directly built one: by region,
    rep (the rep serving the customer at the sale date), brand, price class, channel and month."""
    ingested = store_mod.connect(str(loaded[3]), read_only=True)
    try:
        want, got = direct_attributed, attributed(ingested)
        assert (want[list(LINE_DIMS)] != model.UNATTRIBUTED).all().all()
        pd.testing.assert_frame_equal(got[["month", *LINE_DIMS, "n"]], want[["month", *LINE_DIMS, "n"]])
        assert got["amount"].to_numpy() == pytest.approx(want["amount"].to_numpy(), rel=1e-9)
        assert got["qty"].to_numpy() == pytest.approx(want["qty"].to_numpy(), rel=1e-9)
        assert model.conflicts(ingested) == {d: 0 for d in LINE_DIMS}
        if loaded[0] == "slim":
            # without the reassignment list the slim lines go to today's book: region, brand, price
            # class and channel stay right, the reps of reassigned customers do not
            src = model.sources(ingested)
            no_history = model.Sources(src.orders, src.masters, {})
            cur = attributed(ingested, src=no_history)
            for d in ("region", "brand", "price_class", "channel"):
                assert (cur.groupby(d)["amount"].sum() - want.groupby(d)["amount"].sum()).abs().max() < 1e-6, d
            by_rep = (cur.groupby("rep_id")["amount"].sum() - want.groupby("rep_id")["amount"].sum()).fillna(1.0)
            assert (by_rep.abs() > 1.0).sum() > 10
    finally:
        ingested.disconnect()


# ---------------------------------------------------------------------------------------------
# parameters and the command
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["thin", None, "SLIM"])
def test_bad_shape(tmp_path, world, shape):
    with pytest.raises(ParameterError, match="'shape' parameter"):
        demo_export.export(world, tmp_path, shape)


def test_not_a_store(tmp_path):
    with pytest.raises(ParameterError, match="'store' parameter"):
        demo_export.export(tmp_path / "missing.duckdb", tmp_path / "out")


def test_cli_export(tmp_path):
    """`demo --export DIR --shape full` builds the world (the project store untouched), writes the
    files, the truth record and the README, and prints the ingest commands in order."""
    from typer.testing import CliRunner

    from analysis.cli import app

    out = tmp_path / "exports"
    res = CliRunner().invoke(app, ["demo", "--export", str(out), "--shape", "full", "--seed", "3", "--scale", "0.01"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f.name for f in demo_export.LAYOUT] + ["README.txt", "demo_truth.json"])
    assert json.loads((out / "demo_truth.json").read_text(encoding="utf-8"))["seed"] == 3
    printed = [line for line in res.output.splitlines() if line.startswith("sales-analysis ingest")]
    assert [p.split()[2] for p in printed] == [f.table for f in demo_export.LAYOUT]
    res = CliRunner().invoke(app, ["demo", "--export", str(out), "--shape", "thin"])
    assert res.exit_code != 0

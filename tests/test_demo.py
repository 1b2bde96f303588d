"""The demo world: determinism, sizes, and a truth record that agrees with the tables it describes.

Every planted value is recomputed here straight from the tables with the definitions of
docs/DEMO_WORLD.md (independently of the report modules), with plain DuckDB SQL.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis import demo
from analysis.contracts import TABLES
from analysis.errors import ParameterError

TABLE_NAMES = ("orders", "customers", "customers_history", "products", "reps", "targets", "visits", "feedback",
               "compensation")
SMALL = 0.01  # 300 retailers (the minimum); the workforce is the same at every scale


# ---------------------------------------------------------------------------------------------
# recomputation helpers (DuckDB SQL on the store file)
# ---------------------------------------------------------------------------------------------
def table_hash(db: duckdb.DuckDBPyConnection, name: str) -> str:
    """md5 of the sorted rows of a table (row order in the store does not matter)."""
    cols = [r[0] for r in db.execute(f"DESCRIBE {name}").fetchall()]
    row = " || '|' || ".join(f"coalesce(CAST({c} AS VARCHAR), '∅')" for c in cols)
    return db.execute(f"SELECT md5(string_agg(r, '\n' ORDER BY r)) FROM (SELECT {row} AS r FROM {name})").fetchone()[0]


def rep_attainment(db: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """rep, month, actual, target, attainment (DESIGN definition: sum(amount) ÷ rep amount target)."""
    return db.execute("""
        WITH a AS (SELECT rep_id, date_trunc('month', order_date)::DATE AS period, sum(amount) AS actual
                   FROM orders GROUP BY ALL)
        SELECT t.key AS rep_id, t.period, coalesce(a.actual, 0) AS actual, t.value AS target,
               coalesce(a.actual, 0) / t.value AS attainment
        FROM targets t LEFT JOIN a ON a.rep_id = t.key AND a.period = t.period
        WHERE t.level = 'rep' AND t.measure = 'amount'
    """).df()


def underperformers(db: duckdb.DuckDBPyConnection, end: str) -> tuple[list[str], pd.DataFrame]:
    last = pd.Period(end[:7], "M")
    months = [(last - k).to_timestamp().date() for k in (2, 1, 0)]
    att = rep_attainment(db)
    att["period"] = pd.to_datetime(att["period"]).dt.date
    w = att[att["period"].isin(months)].pivot(index="rep_id", columns="period", values="attainment")
    under = w[(w.notna().sum(axis=1) == 3) & (w < 0.90).all(axis=1)].index.tolist()
    return sorted(under), w


def launch_metrics(db: duckdb.DuckDBPyConnection, sku: str, launch: str, days: int = 30) -> dict:
    """30-day distribution rate, repeat rate and rating mean of a SKU launched on ``launch``."""
    q = f"""
        WITH w AS (SELECT * FROM orders WHERE order_date >= DATE '{launch}'
                   AND order_date < DATE '{launch}' + INTERVAL {days} DAY AND NOT is_return),
        s AS (SELECT customer_id, count(DISTINCT order_date) AS n FROM w WHERE sku_id = '{sku}' GROUP BY 1)
        SELECT (SELECT count(*) FROM s) AS ordering,
               (SELECT count(DISTINCT customer_id) FROM w) AS active,
               (SELECT count(*) FROM s WHERE n >= 2) AS repeaters,
               (SELECT avg(rating) FROM feedback WHERE sku_id = '{sku}' AND response_date >= DATE '{launch}'
                  AND response_date < DATE '{launch}' + INTERVAL {days} DAY) AS rating
    """
    o, a, r, rating = db.execute(q).fetchone()
    return {"distribution_rate": o / a, "repeat_rate": r / o, "rating_mean": rating, "ordering": o}


def class_share(db: duckdb.DuckDBPyConnection, month: str) -> pd.Series:
    df = db.execute(f"""SELECT price_class, sum(qty) AS q FROM orders
                        WHERE date_trunc('month', order_date) = DATE '{month}-01' GROUP BY 1""").df()
    s = df.set_index("price_class")["q"]
    return s / s.sum()


def monthly_amount(db: duckdb.DuckDBPyConnection) -> pd.Series:
    df = db.execute("""SELECT strftime(date_trunc('month', order_date), '%Y-%m') AS m, sum(amount) AS a
                       FROM orders GROUP BY 1 ORDER BY 1""").df()
    return df.set_index("m")["a"]


def hazard_panel(db: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Person-month panel built from reps, compensation, orders and targets (DEMO_WORLD definitions).

    One row per compensation row (the exit month included). The covariates of a month are those
    known when it begins: attainment, team_bonus_share, promoted_last_12m, bonus_per_month and
    training_hours of the rep's previous month (missing in a rep's first month in the data);
    payout_delay_days = days late of the bonus of month m-2 (due on the 10th of m-1), counted up to
    the start of m (0 when that bonus is before the rep's hire month, for reps hired in the data;
    missing for reps hired before it). The month's own values are kept as ``<name>_same_month``.
    entry / time = tenure (days ÷ 30.4375) at the start of the month / at its end or the exit day.
    """
    comp = db.execute("""
        SELECT c.rep_id, c.period, c.individual_bonus, c.team_bonus, c.training_hours, c.due_date, c.paid_date,
               greatest(0, date_diff('day', c.due_date, c.paid_date)) AS payout_delay_days,
               CASE WHEN c.individual_bonus + c.team_bonus > 0
                    THEN c.team_bonus / (c.individual_bonus + c.team_bonus) ELSE 0 END AS team_bonus_share,
               CAST(max(CAST(c.promoted AS INT)) OVER (PARTITION BY c.rep_id ORDER BY c.period
                    RANGE BETWEEN INTERVAL 11 MONTH PRECEDING AND CURRENT ROW) AS DOUBLE) AS promoted_last_12m,
               r.hire_date, r.exit_date
        FROM compensation c JOIN reps r USING (rep_id)
    """).df()
    att = rep_attainment(db)[["rep_id", "period", "attainment"]]
    p = comp.merge(att, on=["rep_id", "period"], how="left")
    p["bonus_per_month"] = (p["individual_bonus"] + p["team_bonus"]) / 1000.0
    p = p.sort_values(["rep_id", "period"]).reset_index(drop=True)
    period = pd.to_datetime(p["period"])
    g = p.groupby("rep_id")
    lagged = ["attainment", "team_bonus_share", "promoted_last_12m", "bonus_per_month", "training_hours"]
    for c in lagged + ["payout_delay_days"]:
        p[f"{c}_same_month"] = p[c]
    has_prev = pd.to_datetime(g["period"].shift(1)) == period - pd.DateOffset(months=1)
    for c in lagged:
        p[c] = g[f"{c}_same_month"].shift(1).where(has_prev)
    # bonus of m-2: due on the 10th of m-1, days late as known on the 1st of m
    two = pd.to_datetime(g["period"].shift(2)) == period - pd.DateOffset(months=2)
    due = pd.to_datetime(g["due_date"].shift(2))
    paid = pd.to_datetime(g["paid_date"].shift(2))
    late = (np.minimum(paid, period) - due).dt.days.clip(lower=0).astype(float)
    hired_inside = pd.to_datetime(p["hire_date"]) >= period.min()
    p["payout_delay_days"] = np.where(two, late, np.where(hired_inside & has_prev, 0.0, np.nan))
    hire = pd.to_datetime(p["hire_date"])
    p["entry"] = (period - hire).dt.days.clip(lower=0) / 30.4375
    ex = pd.to_datetime(p["exit_date"])
    month_end = period + pd.offsets.MonthEnd(0)
    p["status"] = (ex.notna() & (ex.dt.to_period("M") == period.dt.to_period("M"))).astype(int)
    last_day = month_end.where(p["status"] == 0, ex)
    p["time"] = ((last_day - hire).dt.days + 1) / 30.4375
    return p


def fit_hazard(panel: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Cox PH (statsmodels PHReg, Efron ties, counting-process entry) on the rows where every
    feature is known; hazard ratios with 95 % CIs."""
    import statsmodels.api as sm

    panel = panel.dropna(subset=features)
    m = sm.PHReg(panel["time"].to_numpy(), panel[features].to_numpy(dtype=float),
                 status=panel["status"].to_numpy(), entry=panel["entry"].to_numpy(), ties="efron")
    r = m.fit()
    ci = np.exp(r.conf_int())
    return pd.DataFrame({"hr": np.exp(r.params), "lo": ci[:, 0], "hi": ci[:, 1]}, index=features)


HAZARD_FEATURES = ["payout_delay_days", "team_bonus_share", "promoted_last_12m", "attainment"]


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_worlds(tmp_path_factory):
    """Two builds with the same seed and one with another seed, at a small scale."""
    d = tmp_path_factory.mktemp("demo_small")
    out = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        store = d / f"{name}.duckdb"
        t0 = time.perf_counter()
        demo.build(store=str(store), seed=seed, scale=SMALL, truth_path=d / f"{name}.json")
        out[name] = (store, json.loads((d / f"{name}.json").read_text(encoding="utf-8")), time.perf_counter() - t0)
    return out


@pytest.fixture(scope="module")
def db(demo_world):
    con = duckdb.connect(str(demo_world[0]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def truth(demo_world):
    return demo_world[1]


# ---------------------------------------------------------------------------------------------
# determinism and parameters
# ---------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_tables(small_worlds):
    hashes = {}
    for name in ("a", "b", "c"):
        con = duckdb.connect(str(small_worlds[name][0]), read_only=True)
        hashes[name] = {t: table_hash(con, t) for t in TABLE_NAMES}
        con.close()
    assert hashes["a"] == hashes["b"]
    assert small_worlds["a"][1] == small_worlds["b"][1]
    # another seed gives another world (the test above could not fail otherwise)
    assert hashes["a"]["orders"] != hashes["c"]["orders"]
    assert hashes["a"]["reps"] != hashes["c"]["reps"]


def test_rebuild_replaces_tables(tmp_path):
    store = tmp_path / "w.duckdb"
    demo.build(store=str(store), seed=3, scale=SMALL, truth_path=tmp_path / "t.json")
    demo.build(store=str(store), seed=3, scale=SMALL, truth_path=tmp_path / "t.json")
    truth = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(store), read_only=True)
    for t in TABLE_NAMES:
        assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == truth["row_counts"][t]
    con.close()


def test_default_truth_path_and_scale_independent_workforce(tmp_path, demo_world):
    """The truth record lands beside the store; the workforce of seed 42 is the same at scale 0.05
    as at scale 1 (only retailers and order lines scale: 30,000 retailers × scale, at least 300)."""
    store = tmp_path / "sub" / "w.duckdb"
    summary = demo.build(store=str(store), seed=42, scale=0.05)
    assert (tmp_path / "sub" / "demo_truth.json").exists()
    assert summary["truth"] == str(tmp_path / "sub" / "demo_truth.json")
    small = json.loads((tmp_path / "sub" / "demo_truth.json").read_text(encoding="utf-8"))
    big = demo_world[1]
    assert small["underperformers"] == big["underperformers"]
    a = duckdb.connect(str(store), read_only=True)
    b = duckdb.connect(str(demo_world[0]), read_only=True)
    for t in ("reps", "compensation"):
        assert table_hash(a, t) == table_hash(b, t)
    # retailers scale (30,000 × scale), and order lines with them
    assert small["row_counts"]["customers"] == 1500 and big["row_counts"]["customers"] == 30_000
    per_small = small["row_counts"]["orders"] / small["row_counts"]["customers"]
    per_big = big["row_counts"]["orders"] / big["row_counts"]["customers"]
    assert 0.8 < per_small / per_big < 1.25
    a.close()
    b.close()


def test_cli_demo(tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    res = CliRunner().invoke(app, ["demo", "--seed", "5", "--scale", "0.01", "--store", str(tmp_path / "w.duckdb"),
                                   "--truth", str(tmp_path / "t.json")])
    assert res.exit_code == 0, res.output
    assert "orders=" in res.output
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))["seed"] == 5


def test_cli_demo_null(tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    res = CliRunner().invoke(app, ["demo", "--null", "--seed", "5", "--scale", "0.01", "--store",
                                   str(tmp_path / "w.duckdb"), "--truth", str(tmp_path / "t.json")])
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert truth["null"] is True and set(truth["hazard_ratios"].values()) == {1.0}
    assert truth["cannibalization"]["share_of_new_volume"] == 0.0


@pytest.mark.parametrize("kw", [{"scale": 0}, {"scale": -1}, {"seed": -1}, {"seed": 1.5}, {"end": "2026-10-30"},
                                {"end": "31/10/2026"}, {"null": "yes"}, {"null": 1}])
def test_bad_parameters(tmp_path, kw):
    with pytest.raises(ParameterError):
        demo.build(store=str(tmp_path / "w.duckdb"), **kw)


def test_small_world_truth_agrees(small_worlds):
    """The exact plants hold at the smallest scale too (underperformers, launch metrics)."""
    store, truth, _ = small_worlds["c"]
    con = duckdb.connect(str(store), read_only=True)
    under, w = underperformers(con, truth["end"])
    assert under == truth["underperformers"]
    others = w.drop(index=under)
    assert (others[others.notna().sum(axis=1) == 3].max(axis=1) >= 0.92).all()
    for rec in [truth["launches"]["strong"], truth["launches"]["weak"], *truth["launches"]["earlier"]]:
        got = launch_metrics(con, rec["sku_id"], rec["launch_date"])
        assert got["distribution_rate"] == pytest.approx(rec["distribution_rate"], abs=1e-3)
        assert got["repeat_rate"] == pytest.approx(rec["repeat_rate"], abs=1e-3)
    con.close()


# ---------------------------------------------------------------------------------------------
# schema and sizes (scale 1)
# ---------------------------------------------------------------------------------------------
def test_schema_follows_contracts(db):
    for t in TABLE_NAMES:
        cols = [r[0] for r in db.execute(f"DESCRIBE {t}").fetchall()]
        spec = TABLES[t]
        assert set(spec.required) <= set(cols), t
        assert set(cols) <= set(spec.names), (t, set(cols) - set(spec.names))
        logical = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE",
                   "month": "DATE"}
        for name, typ in db.execute(f"SELECT column_name, column_type FROM (DESCRIBE {t})").fetchall():
            assert typ == logical[spec.column(name).dtype], (t, name, typ)
    assert db.execute("SELECT count(*) FROM (SELECT order_id, line_no FROM orders GROUP BY ALL HAVING count(*) > 1)"
                      ).fetchone()[0] == 0


def test_sizes_at_scale_1(db, truth):
    # 30,000 retailers; large and medium ones order weekly, small ones every other week, one
    # regular line per order (plus the launched SKUs' lines)
    assert 3.5e6 <= truth["row_counts"]["orders"] <= 5e6
    for t in TABLE_NAMES:
        assert db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == truth["row_counts"][t]
    regions = db.execute("SELECT region, any_value(area_type) FROM customers GROUP BY 1").fetchall()
    assert len(regions) == 6 and {a for _, a in regions} == {"urban", "rural"}
    assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 30_000
    sizes = dict(db.execute("SELECT size_class, count(*) FROM customers GROUP BY 1").fetchall())
    assert set(sizes) == {"large", "medium", "small"} and sizes["small"] > sizes["medium"] > sizes["large"]
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] >= 40
    assert db.execute("SELECT count(DISTINCT price_class) FROM products").fetchone()[0] == 5
    assert db.execute("SELECT count(*) FROM reps").fetchone()[0] >= 300
    # headcount about 250 on the first of every month; hires and exits throughout
    heads = db.execute("""
        SELECT m, (SELECT count(*) FROM reps WHERE hire_date <= m AND (exit_date IS NULL OR exit_date >= m))
        FROM (SELECT DISTINCT date_trunc('month', order_date)::DATE AS m FROM orders)""").fetchall()
    assert len(heads) == 36 and all(220 <= h <= 252 for _, h in heads)
    assert db.execute("SELECT count(*) FROM reps WHERE hire_date >= DATE '2023-11-01'").fetchone()[0] >= 100
    assert db.execute("SELECT count(*) FROM reps WHERE exit_date IS NOT NULL").fetchone()[0] >= 200


def test_real_proportions(db):
    """An account manager serves a book of 100–300 retailers (tobacco practice), not 7: at the end of
    the data every rep serves at least 100 (a few retailers of a book open during the data), in every
    month the typical book is 100–150 (a rep covering a vacant book a colleague left serves two books
    for a while), and a customer's serving rep changes only when a rep leaves or a position is filled."""
    current = db.execute("SELECT rep_id, count(*) AS n FROM customers GROUP BY 1").df()
    assert current["n"].min() >= 100 and current["n"].median() < 150
    books = db.execute("""
        WITH m AS (SELECT DISTINCT date_trunc('month', order_date)::DATE AS d FROM orders)
        SELECT m.d, h.rep_id, count(*) AS n FROM m JOIN customers_history h
          ON (h.valid_from IS NULL OR h.valid_from <= m.d) AND (h.valid_to IS NULL OR m.d < h.valid_to)
        JOIN customers c ON c.customer_id = h.customer_id AND (c.opened_on IS NULL OR c.opened_on <= m.d)
        GROUP BY ALL""").df()
    med = books.groupby("d")["n"].median()
    assert med.between(100, 150).all() and books["n"].quantile(0.99) <= 300
    per_month = books.groupby("d")["rep_id"].nunique()
    assert len(per_month) == 36 and per_month.between(200, 250).all()
    # reassignments happen on the day after an exit or on a hire date
    changes = db.execute("""
        SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM reps r WHERE r.exit_date = h.valid_from - 1
                                                        OR r.hire_date = h.valid_from))
        FROM customers_history h WHERE valid_from > DATE '2023-11-01' AND valid_from <> (
            SELECT opened_on FROM customers c WHERE c.customer_id = h.customer_id)""").fetchone()
    assert changes[0] > 0 and changes[0] == changes[1]


def test_history_attributes_every_line_to_its_rep(demo_con):
    """The rep on each order line is the rep of the customer's version valid at the sale date, so slim
    lines (no rep on the line) resolve to the same reps: no line contradicts the masters."""
    from analysis import model

    assert model.conflicts(demo_con) == {d: 0 for d in ("region", "rep_id", "brand", "price_class", "channel")}


def test_price_classes_follow_unit_price(db):
    bands = {"一类": (300, 1e9), "二类": (200, 300), "三类": (100, 200), "四类": (60, 100), "五类": (0, 60)}
    for pc, price in db.execute("SELECT price_class, unit_price FROM products").fetchall():
        lo, hi = bands[pc]
        assert lo <= price < hi or (pc == "二类" and price == 300)


def test_orders_are_coherent(db):
    bad = db.execute("""
        SELECT count(*) FROM orders o JOIN products p USING (sku_id) JOIN customers c USING (customer_id)
        WHERE abs(o.amount - o.qty * p.unit_price) > 1e-6 OR o.brand <> p.brand OR o.price_class <> p.price_class
           OR o.region <> c.region OR (o.qty < 0) <> o.is_return OR o.qty = 0""").fetchone()[0]
    assert bad == 0
    # one order per customer-week; the serving rep was employed that day
    assert db.execute("""SELECT count(*) FROM (SELECT customer_id, date_trunc('week', order_date) w,
                         count(DISTINCT order_id) n FROM orders GROUP BY ALL HAVING n > 1)""").fetchone()[0] == 0
    assert db.execute("""SELECT count(*) FROM orders o JOIN reps r USING (rep_id)
                         WHERE o.order_date < r.hire_date OR o.order_date > coalesce(r.exit_date, DATE '2100-01-01')
                      """).fetchone()[0] == 0
    n_ret = db.execute("SELECT count(*) FROM orders WHERE is_return").fetchone()[0]
    assert 0 < n_ret < 0.01 * db.execute("SELECT count(*) FROM orders").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# the truth record agrees with the tables
# ---------------------------------------------------------------------------------------------
def test_truth_keys(truth):
    assert set(truth) == {"seed", "scale", "null", "start", "end", "row_counts", "underperformers", "launches",
                          "cannibalized_sku", "cannibalization", "mix_shift_pp", "spring_festival_peak",
                          "hazard_ratios", "confounded"}
    assert truth["start"] == "2023-11-01" and truth["end"] == "2026-10-31" and truth["null"] is False
    assert set(truth["hazard_ratios"]) == {"payout_delay_days", "team_bonus_share", "promoted_last_12m", "attainment"}
    assert truth["confounded"] == {"feature": "bonus_per_month", "hazard_ratio": 1.0}


def test_underperformers(db, truth):
    under, w = underperformers(db, truth["end"])
    assert under == truth["underperformers"] and len(under) >= 5
    # every other rep employed in all three months reaches 92 % in at least one of them (a clear
    # margin); a rep who left in the window has a truncated exit month and fewer than three months
    others = w.drop(index=under)
    others = others[others.notna().sum(axis=1) == 3]
    assert (others.max(axis=1) >= 0.92).all()
    # and every underperformer is still employed at the end
    ids = ",".join(f"'{r}'" for r in under)
    assert db.execute(f"SELECT count(*) FROM reps WHERE rep_id IN ({ids}) AND exit_date IS NOT NULL").fetchone()[0] == 0


def test_targets_add_up(db):
    assert db.execute("""
        WITH r AS (SELECT t.period, p.region, sum(t.value) v FROM targets t JOIN reps p ON p.rep_id = t.key
                   WHERE t.level = 'rep' GROUP BY ALL)
        SELECT max(abs(r.v - t.value)) FROM r JOIN targets t ON t.level = 'region' AND t.key = r.region
             AND t.period = r.period AND t.measure = 'amount'""").fetchone()[0] < 0.5
    assert db.execute("""
        WITH r AS (SELECT period, sum(value) v FROM targets WHERE level = 'region' GROUP BY ALL)
        SELECT max(abs(r.v - t.value)) FROM r JOIN targets t ON t.level = 'company' AND t.period = r.period
             AND t.measure = 'amount'""").fetchone()[0] < 0.5
    levels = set(db.execute("SELECT DISTINCT level || '/' || measure FROM targets").fetchall())
    assert levels == {("rep/amount",), ("region/amount",), ("company/amount",), ("company/qty",),
                      ("price_class/amount",), ("price_class/qty",)}


def test_launches(db, truth):
    L = truth["launches"]
    end = date.fromisoformat(truth["end"])
    last3 = date(end.year, end.month, 1) - pd.DateOffset(months=2)
    for role in ("strong", "weak"):
        d = date.fromisoformat(L[role]["launch_date"])
        assert d >= last3.date() and d + timedelta(days=30) <= end + timedelta(days=1)
    assert len(L["earlier"]) >= 3
    for rec in [L["strong"], L["weak"], *L["earlier"]]:
        row = db.execute(f"SELECT launch_date, brand, price_class FROM products WHERE sku_id = '{rec['sku_id']}'"
                         ).fetchone()
        assert row == (date.fromisoformat(rec["launch_date"]), rec["brand"], rec["price_class"])
        first = db.execute(f"SELECT min(order_date) FROM orders WHERE sku_id = '{rec['sku_id']}'").fetchone()[0]
        assert first == date.fromisoformat(rec["launch_date"])
        for days in (30, 31, 32):  # window conventions that differ by a day give the same answer
            got = launch_metrics(db, rec["sku_id"], rec["launch_date"], days)
            assert got["distribution_rate"] == pytest.approx(rec["distribution_rate"], abs=0.002)
            assert got["repeat_rate"] == pytest.approx(rec["repeat_rate"], abs=0.002)
        assert got["rating_mean"] == pytest.approx(rec["rating_mean"], abs=0.01)
    s, w = L["strong"], L["weak"]
    assert s["distribution_rate"] > w["distribution_rate"] + 0.2
    assert s["repeat_rate"] > w["repeat_rate"] + 0.2
    assert s["rating_mean"] > 4.0 and w["rating_mean"] < 3.1


def test_cannibalization(db, truth):
    c = truth["cannibalization"]
    s = truth["launches"]["strong"]
    assert c["sku_id"] == truth["cannibalized_sku"] and c["price_class"] == s["price_class"]
    assert c["untouched_class"] != s["price_class"]
    L = s["launch_date"]

    def vol(where: str, a: str, b: str) -> float:
        if where == "true":  # number of orders
            return db.execute(f"""SELECT count(DISTINCT order_id) FROM orders WHERE true
                                  AND order_date >= DATE '{a}' + INTERVAL ({b}) DAY
                                  AND order_date < DATE '{a}' + INTERVAL ({b} + 30) DAY""").fetchone()[0]
        return db.execute(f"""SELECT coalesce(sum(qty), 0) FROM orders WHERE {where}
                              AND order_date >= DATE '{a}' + INTERVAL ({b}) DAY
                              AND order_date < DATE '{a}' + INTERVAL ({b} + 30) DAY""").fetchone()[0]

    # per-day volume 60 days before vs the 30-day window: the incumbent loses about share × new volume
    new = vol(f"sku_id = '{s['sku_id']}'", L, "0")
    before = (vol(f"sku_id = '{c['sku_id']}'", L, "-60") + vol(f"sku_id = '{c['sku_id']}'", L, "-30")) / 2
    after = vol(f"sku_id = '{c['sku_id']}'", L, "0")
    assert (before - after) / new == pytest.approx(c["share_of_new_volume"], abs=0.12)
    # the untouched class keeps its volume per order (within noise and trend)
    u_before = vol(f"price_class = '{c['untouched_class']}'", L, "-30") / vol("true", L, "-30")
    u_after = vol(f"price_class = '{c['untouched_class']}'", L, "0") / vol("true", L, "0")
    assert abs(u_after / u_before - 1) < 0.04


def test_mix_shift(db, truth):
    end = truth["end"][:7]
    prev = str(pd.Period(end, "M") - 12)
    now, before = class_share(db, end), class_share(db, prev)
    planted = truth["mix_shift_pp"]
    assert abs(sum(planted.values())) < 0.05
    for pc, pp in planted.items():
        assert 100 * (now[pc] - before[pc]) == pytest.approx(pp, abs=1.0), pc
    # a shift toward higher price classes
    assert planted["一类"] + planted["二类"] > 1.0 and planted["四类"] + planted["五类"] < -1.0


def test_spring_festival_peaks(db, truth):
    import holidays

    amount = monthly_amount(db)
    fests = sorted({min(d for d, n in holidays.China(years=y, language="en_US").items()
                        if "Spring Festival" in n) for y in (2024, 2025, 2026)})
    peaks = []
    for f in fests:
        months = sorted({(f + timedelta(days=k)).strftime("%Y-%m") for k in range(-45, 46)} & set(amount.index))
        peaks.append(amount[months].idxmax())
        # the peak is clear: at least 5 % above any other month of the season
        others = amount[[m for m in months if m != peaks[-1]]]
        assert amount[peaks[-1]] > 1.05 * others.max()
    assert peaks == truth["spring_festival_peak"]


def test_feedback(db, truth):
    n = db.execute("SELECT count(*) FROM feedback WHERE comment = '<script>alert(1)</script>好抽'").fetchone()[0]
    assert n == 1
    assert db.execute("SELECT count(*) FROM feedback WHERE comment LIKE '%<script>%'").fetchone()[0] == 1
    assert db.execute("SELECT min(rating), max(rating) FROM feedback").fetchone() == (1, 5)
    themes = db.execute("SELECT count(*) FROM feedback WHERE regexp_matches(comment, '口感|包装|价格|香|劲头|烟灰')"
                        ).fetchone()[0]
    assert themes > 500


def test_visits(db):
    cov = db.execute("""
        WITH v AS (SELECT rep_id, date_trunc('month', visit_date) m, customer_id,
                          bool_or(kind = 'guidance') g FROM visits GROUP BY ALL)
        SELECT rep_id, avg(CAST(g AS DOUBLE)) c FROM v GROUP BY 1""").df()
    assert (cov["c"] < 0.6).sum() >= 10 and (cov["c"] >= 0.8).sum() >= 10
    eff = db.execute("SELECT avg(CAST(effective AS DOUBLE)) FROM visits WHERE kind = 'guidance'").fetchone()[0]
    assert 0.7 <= eff <= 0.9
    assert db.execute("SELECT count(*) FROM visits WHERE kind = 'visit' AND effective").fetchone()[0] == 0


def test_compensation(db):
    assert db.execute("""SELECT count(*) FROM compensation c JOIN reps r USING (rep_id)
                         WHERE c.period < date_trunc('month', r.hire_date)
                            OR c.period > date_trunc('month', coalesce(r.exit_date, DATE '2100-01-01'))"""
                      ).fetchone()[0] == 0
    # one row per month employed, including the exit month
    assert db.execute("""SELECT count(*) FROM reps r WHERE exit_date IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM compensation c WHERE c.rep_id = r.rep_id
                         AND c.period = date_trunc('month', r.exit_date))""").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM compensation WHERE day(due_date) <> 10 OR paid_date < due_date"
                      ).fetchone()[0] == 0


# ---------------------------------------------------------------------------------------------
# the hazard plant
# ---------------------------------------------------------------------------------------------
def test_hazard_ratios_recovered(db, truth):
    panel = hazard_panel(db)
    assert panel["attainment_same_month"].notna().all()
    first = ~panel["rep_id"].duplicated()
    assert panel.loc[~first, "attainment"].notna().all() and panel.loc[first, "attainment"].isna().all()
    assert (panel["time"] > panel["entry"]).all()
    assert panel["status"].sum() >= 200
    fit = fit_hazard(panel, HAZARD_FEATURES)
    for f, hr in truth["hazard_ratios"].items():
        assert fit.loc[f, "lo"] <= hr <= fit.loc[f, "hi"], (f, fit.loc[f].to_dict())
    # each planted effect is detected (its CI excludes 1)
    assert (fit["hi"] < 1).sum() + (fit["lo"] > 1).sum() == 4, fit


def test_bonus_is_confounded(db):
    """Naively, more bonus goes with fewer exits (bonus follows attainment). That the adjusted HRs
    of bonus and training hold 1 is a 95 % statement: it is checked over seeds, with a binomial
    allowance, in tests/test_worlds.py (one seed would fail it 1 time in 20 by design)."""
    panel = hazard_panel(db)
    naive = fit_hazard(panel, ["bonus_per_month"])
    assert naive.loc["bonus_per_month", "hi"] < 1.0  # naive: more bonus, fewer exits
    adjusted = fit_hazard(panel, HAZARD_FEATURES + ["bonus_per_month", "training_hours"])
    # adjusted, the protective bonus effect is gone: far weaker than the naive one
    assert adjusted.loc["bonus_per_month", "hi"] > naive.loc["bonus_per_month", "hi"]


def test_exit_month_attainment_is_mechanically_low(db):
    """Sales stop on the exit day while the target is for the whole month: attainment measured in
    the exit month is far below the other months (the trap a retention model must not fall into);
    every other month realises the planned attainment (about 1 on average)."""
    panel = hazard_panel(db)
    exit_month = panel.loc[panel["status"] == 1, "attainment_same_month"]
    other = panel.loc[panel["status"] == 0, "attainment_same_month"]
    assert len(exit_month) >= 200
    assert exit_month.mean() < 0.75 and 0.95 < other.mean() < 1.05
    # the share of the month worked explains it: leavers in the first week sell least
    ex = panel[panel["status"] == 1]
    day = pd.to_datetime(ex["exit_date"]).dt.day
    assert ex.loc[day <= 7, "attainment_same_month"].mean() < ex.loc[day >= 24, "attainment_same_month"].mean() - 0.3


def test_promotions_and_awards_grow_with_tenure(db):
    """Promotions (none before 6 months of tenure) and awards are more frequent later in tenure."""
    panel = hazard_panel(db)
    promoted = db.execute("SELECT rep_id, period, CAST(promoted AS INT) AS promoted, CAST(award AS INT) AS award "
                          "FROM compensation").df()
    p = panel.merge(promoted, on=["rep_id", "period"]).sort_values(["rep_id", "period"])
    assert p.loc[p["entry"] < 5.9, "promoted"].sum() == 0
    # the chance per month among the eligible (no promotion in the 24 months before)
    recent = p.groupby("rep_id")["promoted"].transform(lambda s: s.shift(1).rolling(23, min_periods=1).max()).fillna(0)
    e = p[recent == 0]
    early = e[(e["entry"] >= 6) & (e["entry"] < 12)]
    late = e[e["entry"] >= 24]
    assert late["promoted"].mean() > 1.5 * early["promoted"].mean()
    assert p.loc[p["entry"] >= 24, "award"].mean() > 1.3 * p.loc[p["entry"] < 6, "award"].mean()

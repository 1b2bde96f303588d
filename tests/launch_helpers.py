"""Hand-written fixture stores of the launch review (used by test_launch, test_narrative_launch)."""
from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

D = dt.date
PRICE = {"S1": 150.0, "I1": 150.0, "I2": 120.0, "C1": 400.0, "E1": 150.0, "E2": 130.0, "E3": 350.0, "Y1": 50.0}


def _orders(rows):
    df = pd.DataFrame(rows, columns=["order_date", "customer_id", "sku_id", "qty", "is_return"])
    df["order_id"] = [f"O{i:04d}" for i in range(len(df))]
    df["line_no"] = 1
    df["amount"] = df["qty"] * df["sku_id"].map(PRICE)
    df["qty"] = df["qty"].astype(float)
    return df


def build_small(path, feedback_rows: bool = True):
    """Launch of S1 (三类) on 2026-03-10, window 2026-03-10 … 2026-04-08 (day 30). Returns the connection."""
    con = ibis.duckdb.connect(str(path))
    products = pd.DataFrame({
        "sku_id": ["S1", "I1", "I2", "C1", "E1", "E2", "E3", "Y1"],
        "brand": ["新牌", "老牌", "老牌", "高档", "早一", "早二", "早三", "嫩牌"],
        "price_class": ["三类", "三类", "三类", "一类", "三类", "三类", "一类", "五类"],
        "unit_price": [PRICE[s] for s in ["S1", "I1", "I2", "C1", "E1", "E2", "E3", "Y1"]],
        "launch_date": [D(2026, 3, 10), pd.NaT, pd.NaT, pd.NaT, D(2025, 12, 1), D(2026, 1, 5), D(2026, 2, 1),
                        D(2026, 4, 1)],
    })
    customers = pd.DataFrame({
        "customer_id": list("ABCDEFG"),
        "area_type": ["urban", "urban", "rural", "rural", "urban", "urban", "rural"],
        "size_class": ["large", "large", "small", "small", "medium", "medium", "small"],
        "region": ["市区", "市区", "北县", "北县", "城东", "城东", "北县"],
    })
    f = False
    orders = _orders([
        # the new SKU S1
        (D(2026, 3, 9), "B", "S1", 4, f),    # day 0: before launch, excluded
        (D(2026, 3, 10), "A", "S1", 2, f),   # day 1
        (D(2026, 3, 12), "E", "S1", 1, f),   # day 3
        (D(2026, 3, 13), "E", "S1", -1, True),  # day 4: a return
        (D(2026, 3, 15), "D", "S1", 2, f),   # day 6, two lines on one date
        (D(2026, 3, 15), "D", "S1", 1, f),
        (D(2026, 3, 20), "A", "S1", 1, f),   # day 11
        (D(2026, 4, 8), "A", "S1", 1, f),    # day 30 (last day)
        (D(2026, 4, 8), "B", "S1", 3, f),    # day 30
        (D(2026, 4, 9), "C", "S1", 5, f),    # day 31: excluded
        # other products in the window
        (D(2026, 3, 11), "A", "I1", 1, f),
        (D(2026, 3, 11), "C", "I1", 2, f),
        (D(2026, 3, 25), "F", "C1", 1, f),
        (D(2026, 3, 1), "G", "I1", 1, f),    # before the window: G is not active
        # earlier launches E1 (window 2025-12-01..12-30), E2 (2026-01-05..02-03), E3 (2026-02-01..03-02)
        (D(2025, 12, 1), "A", "E1", 1, f), (D(2025, 12, 2), "B", "E1", 1, f),
        (D(2025, 12, 5), "C", "E1", 1, f), (D(2025, 12, 10), "D", "I1", 1, f),
        (D(2026, 1, 5), "A", "E2", 1, f), (D(2026, 1, 6), "B", "I1", 1, f),
        (D(2026, 1, 7), "C", "I1", 1, f), (D(2026, 1, 8), "D", "I1", 1, f),
        (D(2026, 2, 10), "F", "E3", 1, f),
        # a young launch Y1 (2026-04-01): 10 days of data
        (D(2026, 4, 2), "A", "Y1", 2, f),
        (D(2026, 4, 10), "F", "Y1", 1, f),   # the last order date of the store
    ])
    feedback = pd.DataFrame({
        "response_date": [D(2026, 3, 12), D(2026, 3, 20), D(2026, 4, 1), D(2026, 4, 8), D(2026, 4, 9)],
        "sku_id": ["S1"] * 5,
        "rating": [5, 4, 4, 2, 1],
        "repurchase_intent": [True, True, False, None, False],
        "comment": ["口感顺滑，包装好看", "<script>alert(1)</script>", "价格实惠", "劲头偏淡", "太贵"],
    })
    targets = pd.DataFrame({
        "period": [D(2026, 3, 1), D(2026, 4, 1), D(2026, 3, 1)],
        "level": ["sku", "sku", "sku"], "key": ["S1", "S1", "I1"], "measure": ["qty", "qty", "qty"],
        "value": [31.0, 30.0, 999.0],
    })
    tables = [("products", products), ("customers", customers), ("orders", orders), ("targets", targets)]
    if feedback_rows:
        tables.append(("feedback", feedback))
    for name, df in tables:
        con.create_table(name, df, overwrite=True)
    return con



def build_cannib(path):
    """N (class X) launches 2026-05-04; incumbent I (X) drops; controls K1, K2 (class Y)."""
    con = ibis.duckdb.connect(str(path))
    launch_day = D(2026, 5, 4)
    products = pd.DataFrame({"sku_id": ["N", "I", "K1", "K2"], "brand": ["n", "i", "k", "k"],
                             "price_class": ["X", "X", "Y", "Y"], "launch_date": [launch_day, pd.NaT, pd.NaT, pd.NaT]})
    weekly = {"I": [10, 10, 10, 10, 6, 7, 6, 7], "K1": [20, 20, 20, 20, 22, 22, 22, 22],
              "K2": [10, 10, 10, 10, 10, 10, 10, 10], "N": [0, 0, 0, 0, 5, 5, 5, 5]}
    rows = []
    for sku, qs in weekly.items():
        for w, q in zip(range(-4, 4), qs):
            if q:
                rows.append({"order_date": launch_day + dt.timedelta(days=7 * w + 6), "customer_id": f"c{sku}",
                             "sku_id": sku, "qty": float(q), "amount": float(q)})
    orders = pd.DataFrame(rows)
    con.create_table("products", products, overwrite=True)
    con.create_table("orders", orders, overwrite=True)
    return con, launch_day


def build_pretrend(path, slope: float = 1.0):
    """N (class X) launches 2026-05-04 with 8 weeks of history; incumbent I (X) moves by ``slope``
    cartons a week all along (before and after the launch); controls K1, K2 (class Y) flat up to
    ±0.5. Orders fall on the first day of each launch-aligned week."""
    con = ibis.duckdb.connect(str(path))
    launch_day = D(2026, 5, 4)
    products = pd.DataFrame({"sku_id": ["N", "I", "K1", "K2"], "brand": ["n", "i", "k", "k"],
                             "price_class": ["X", "X", "Y", "Y"], "launch_date": [launch_day, pd.NaT, pd.NaT, pd.NaT]})
    weeks = range(-8, 4)
    weekly = {"I": [15 + slope * (w + 4) for w in weeks],
              "K1": [20 + (0.5 if w % 2 else -0.5) for w in weeks],
              "K2": [10 + (-0.3 if w % 2 else 0.3) for w in weeks],
              "N": [0] * 8 + [5] * 4}
    rows = []
    for sku, qs in weekly.items():
        for w, q in zip(weeks, qs):
            if q:
                rows.append({"order_date": launch_day + dt.timedelta(days=7 * w), "customer_id": f"c{sku}",
                             "sku_id": sku, "qty": float(q), "amount": float(q)})
    # an empty line on day 28 so the data cover the 4 weeks after launch
    rows.append({"order_date": launch_day + dt.timedelta(days=27), "customer_id": "cN", "sku_id": "N",
                 "qty": 0.0, "amount": 0.0})
    con.create_table("products", products, overwrite=True)
    con.create_table("orders", pd.DataFrame(rows), overwrite=True)
    return con, launch_day

"""Contract tests: the TableSpecs, the SQL rules and Ibis schemas generated from them, the
settings (plausibility window, grade bands) and the built-in header/value/unit aliases."""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analysis import aliases, contracts
from analysis.contracts import TABLES, GradeBands, Settings, ibis_schema, row_rules, spec
from analysis.errors import ParameterError

PANDAS_DTYPES = {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean",
                 "date": "datetime64[ns]", "month": "datetime64[ns]"}

TODAY = dt.date(2024, 6, 30)

# one valid value per logical type (dates inside 1990..tomorrow, months on the 1st)
VALID = {"str": "x", "int": 3, "float": 2.5, "bool": False, "date": pd.Timestamp("2024-01-05"),
         "month": pd.Timestamp("2024-01-01")}


def valid_frame(table: str, n: int = 2) -> pd.DataFrame:
    """n valid rows of ``table`` with distinct keys, typed as ingest produces them."""
    ts = spec(table)
    data = {}
    for c in ts.columns:
        if c.allowed:
            v = c.allowed[0]
        elif c.min_value is not None and c.dtype in ("int", "float"):
            v = c.min_value + 1
        else:
            v = VALID[c.dtype]
        vals = [v] * n
        if c.name in ts.key and not c.allowed:
            if c.dtype == "str":
                vals = [f"k{i}" for i in range(n)]
            elif c.dtype == "int":
                vals = list(range(1, n + 1))
        data[c.name] = pd.Series(vals, dtype=PANDAS_DTYPES[c.dtype] if c.dtype != "str" else object)
    return pd.DataFrame(data)


def failures(table, df, columns=None, settings=None) -> set[tuple[int, str]]:
    """(row, rule code) for every row of ``df`` that breaks a rule, evaluated by DuckDB."""
    con = duckdb.connect()
    frame = df.copy()
    for c in frame.columns:
        if str(frame[c].dtype).startswith("datetime64"):
            frame[c] = frame[c].dt.date
    frame.insert(0, "__i", range(len(frame)))
    con.register("f", frame)
    out = set()
    for r in row_rules(table, columns if columns is not None else list(df.columns),
                       settings or Settings(today=TODAY)):
        for (i,) in con.execute(f"SELECT __i FROM f WHERE {r.sql}").fetchall():
            out.add((int(i), r.code))
    return out


@pytest.mark.parametrize("table", list(TABLES))
def test_valid_frame_passes_every_table(table):
    assert failures(table, valid_frame(table)) == set()


@pytest.mark.parametrize("table", list(TABLES))
def test_ibis_schema_follows_the_spec(table):
    sch = ibis_schema(table)
    assert list(sch.names) == spec(table).names
    for c in spec(table).columns:
        assert contracts.logical_type(sch[c.name]) == ("date" if c.dtype == "month" else c.dtype)


def test_every_spec_is_consistent():
    for name, ts in TABLES.items():
        assert ts.name == name
        assert len(set(ts.names)) == len(ts.names)
        assert set(ts.key) <= set(ts.names)
        assert all(not ts.column(r).nullable or ts.column(r).required for r in ts.required if r != "value")
        for group in ts.one_of:
            assert set(group) <= set(ts.names)
        for col, ref in ts.references.items():
            assert col in ts.names and col in spec(ref).names


def test_unknown_table_is_a_parameter_error():
    with pytest.raises(ParameterError, match="The 'table' parameter must be one of"):
        spec("sales")


def test_allowed_values():
    df = valid_frame("customers")
    df.loc[1, "area_type"] = "suburb"
    assert failures("customers", df) == {(1, "allowed")}


def test_min_max_values():
    df = valid_frame("feedback", 3)
    df["rating"] = pd.array([0, 5, 6], dtype="Int64")
    assert failures("feedback", df) == {(0, "min_value"), (2, "max_value")}


def test_required_non_null():
    df = valid_frame("reps")
    df.loc[0, "hire_date"] = pd.NaT
    assert failures("reps", df) == {(0, "not_nullable")}


def test_dates_between_1990_and_tomorrow():
    df = valid_frame("orders", 4)
    df["order_date"] = pd.to_datetime(["1989-12-31", "1990-01-01", "2024-07-01", "2024-07-02"])
    assert failures("orders", df) == {(0, "date_min"), (3, "date_max")}


def test_the_plausibility_window_is_a_setting():
    df = valid_frame("orders", 2)
    df["order_date"] = pd.to_datetime(["1975-06-01", "1969-12-31"])
    old = Settings(date_min=dt.date(1970, 1, 1), today=TODAY)
    assert failures("orders", df, settings=old) == {(1, "date_min")}
    assert {r.message() for r in row_rules("orders", ["order_date"], old)} >= {"date before 1970-01-01"}


def test_future_ok_dates_may_be_later():
    df = valid_frame("targets", 1)
    df["period"] = pd.to_datetime(["2025-01-01"])  # a plan for next year
    assert failures("targets", df) == set()
    df = valid_frame("compensation", 1)
    df["period"] = pd.to_datetime(["2025-01-01"])  # pay for a month not yet started
    assert failures("compensation", df) == {(0, "date_max")}


def test_month_is_the_first_day():
    df = valid_frame("targets", 2)
    df["key"] = ["a", "b"]
    df["period"] = pd.to_datetime(["2024-01-01", "2024-01-15"])
    assert failures("targets", df) == {(1, "first_of_month")}


def test_negative_amount_or_qty_only_on_returns():
    df = valid_frame("orders", 4)
    df["amount"] = [-5.0, -5.0, 5.0, None]
    df["qty"] = [-1.0, -1.0, -1.0, -1.0]
    df["is_return"] = pd.array([True, False, None, True], dtype="boolean")
    # row 2 also has opposite signs
    assert failures("orders", df) == {(1, "return_sign"), (2, "return_sign"), (2, "mixed_sign")}


def test_without_is_return_only_mixed_signs_fail():
    # no is_return column: ingest infers returns from the signs; only opposite signs break a rule
    df = valid_frame("orders", 3).drop(columns=["is_return"])
    df["amount"] = [5.0, -5.0, -5.0]
    df["qty"] = [1.0, -1.0, 1.0]
    assert failures("orders", df, columns=list(df.columns)) == {(2, "mixed_sign")}


def test_amount_or_qty_per_row():
    df = valid_frame("orders", 2)
    df.loc[1, ["amount", "qty"]] = None
    assert failures("orders", df) == {(1, "one_of")}


def test_optional_columns_may_be_absent():
    df = valid_frame("orders", 2)[["order_date", "amount"]]
    assert failures("orders", df, columns=list(df.columns)) == set()
    assert {r.column for r in row_rules("orders", ["order_date", "amount"])} <= {"order_date", "amount"}


def test_every_rule_code_has_a_message_and_check_label():
    codes = {r.code for t in TABLES for r in row_rules(t)}
    assert codes <= set(contracts.RULES)
    assert codes <= set(contracts.CHECK_LABELS)
    for t in TABLES:
        for r in row_rules(t):
            assert r.message() and "{" not in r.message()
            assert r.check_label() and "{" not in r.check_label()


def test_rules_run_on_any_engine_dialect():
    """check transpiles the rules (DuckDB SQL) to the store's dialect: every rule parses."""
    import sqlglot

    for t in TABLES:
        for r in row_rules(t):
            for dialect in ("postgres", "spark"):
                assert sqlglot.transpile(f"SELECT count(*) FROM x WHERE {r.sql}", read="duckdb", write=dialect)


# ---- grade bands ---------------------------------------------------------------------------------
def test_default_grade_bands():
    b = GradeBands()
    assert [b.size_class(g) for g in (1, 10, 11, 20, 21, 30)] == ["small", "small", "medium", "medium", "large", "large"]
    assert b.size_class(31) is None and b.label(25) == "21–30"


def test_grade_bands_set_by_the_user():
    b = GradeBands.parse("1-5:small,6-25:medium,26-30:large")
    assert (b.size_class(5), b.size_class(6), b.size_class(26)) == ("small", "medium", "large")
    con = duckdb.connect()
    got = con.execute(f"SELECT {b.size_class_sql('g')} FROM (VALUES (5), (6), (30), (NULL)) v(g)").fetchall()
    assert [r[0] for r in got] == ["small", "medium", "large", None]


@pytest.mark.parametrize("bad", ["1-10:small,12-30:large", "1-10:small,10-30:large", "1-20:small",
                                 "1-10:tiny,11-30:large", "one-ten:small", "0-30:small"])
def test_bad_grade_bands_are_one_line_errors(bad):
    with pytest.raises(ParameterError, match=r"^The 'grade_bands' parameter must be bands like .* Got '.*' instead\.$"):
        GradeBands.parse(bad)


def test_grade_band_expression_for_reports():
    import ibis

    t = ibis.memtable({"grade": pd.array([1, 10, 11, 30, None], dtype="Int64")})
    got = t.select(b=contracts.grade_band(t.grade)).to_pandas()["b"].tolist()
    assert got[:4] == ["1–10", "1–10", "11–20", "21–30"] and pd.isna(got[4])
    got = t.select(b=contracts.grade_band(t.grade, "1-15:small,16-29:medium,30-30:large")).to_pandas()["b"]
    assert got.tolist()[:4] == ["1–15", "1–15", "1–15", "30–30"]


# ---- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("header,base,unit", [("金额(万元)", "金额", "万元"), ("金额（万元）", "金额", "万元"),
                                              ("销量【箱】", "销量", "箱"), ("单价(元/条)", "单价", "元/条"),
                                              ("订单日期", "订单日期", None)])
def test_split_unit(header, base, unit):
    assert aliases.split_unit(header) == (base, unit)


@pytest.mark.parametrize("kind,unit,factor", [
    ("money", "元", "1"), ("money", "千元", "1000"), ("money", "万元", "10000"), ("money", "亿元", "100000000"),
    ("volume", "条", "1"), ("volume", "箱", "250"), ("volume", "件", "250"), ("volume", "盒", "0.1"),
    ("volume", "支", "0.005"), ("money/volume", "元/箱", "0.004"), ("money/volume", "万元/箱", "40"),
    ("money", "美元", None), ("volume", "吨", None), ("money", "箱", None)])
def test_unit_factors(kind, unit, factor):
    assert aliases.unit_factor(kind, unit) == factor


# ---- aliases -----------------------------------------------------------------------------------# ---- aliases -----------------------------------------------------------------------------------
@pytest.mark.parametrize("table,header,name", [
    ("orders", "订单日期", "order_date"), ("orders", "客户编码", "customer_id"), ("orders", "卷烟规格", "sku_id"),
    ("orders", "数量(条)", "qty"), ("orders", "数量（条）", "qty"), ("orders", "金额(元)", "amount"),
    ("orders", " Order_Date ", "order_date"), ("products", "卷烟规格", "sku_name"), ("products", "卷烟编码", "sku_id"),
    ("customers", "档位", "grade"), ("customers", "客户规模", "size_class"),
    ("reps", "入职日期", "hire_date"), ("feedback", "评价", "comment"), ("hr_snapshot", "工号", "person_id"),
    ("orders", "工号", "rep_id"), ("orders", "备注", None),
])
def test_header_aliases(table, header, name):
    assert aliases.canonical_header(table, header) == name


def test_alias_targets_are_contract_columns():
    all_names = {n for ts in TABLES.values() for n in ts.names}
    assert set(aliases.COMMON) <= all_names
    for table, over in aliases.BY_TABLE.items():
        assert set(over) <= set(spec(table).names) | {"name"}
    for column, values in aliases.VALUES.items():
        allowed = {a for ts in TABLES.values() for c in ts.columns if c.name == column for a in (c.allowed or ())}
        assert set(values.values()) <= allowed, column


def test_value_aliases():
    assert aliases.canonical_value("area_type", "城镇") == "urban"
    assert aliases.canonical_value("size_class", "小户") == "small"
    assert aliases.canonical_value("area_type", "Urban") == "urban"
    assert aliases.canonical_value("area_type", "suburb") == "suburb"

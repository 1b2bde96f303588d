"""Contract tests: the TableSpecs, the pandera schemas and Ibis schemas generated from them,
and the built-in header/value aliases."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.pandas as pa
import pytest

from analysis import aliases, contracts
from analysis.contracts import TABLES, ibis_schema, pandera_schema, spec
from analysis.errors import ParameterError

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
        data[c.name] = pd.Series(vals, dtype=contracts.PANDAS_DTYPES[c.dtype] if c.dtype != "str" else object)
    return pd.DataFrame(data)


def failures(table, df, **kw) -> set[tuple[int, str]]:
    try:
        pandera_schema(table, today=TODAY, **kw).validate(df, lazy=True)
        return set()
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        return {(int(i), str(c)) for i, c in zip(fc["index"], fc["check"])}


@pytest.mark.parametrize("table", list(TABLES))
def test_valid_frame_passes_every_table(table):
    df = valid_frame(table)
    assert len(pandera_schema(table, today=TODAY).validate(df)) == 2


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


def test_key_unique_first_kept_and_empty_keys_ignored():
    df = valid_frame("orders", 4)
    df["order_id"] = ["A", "A", None, None]
    df["line_no"] = pd.array([1, 1, 1, 1], dtype="Int64")
    # row 1 repeats row 0's key; rows 2 and 3 have no order_id: no key, not duplicates
    assert failures("orders", df) == {(1, "unique_key")}


def test_dates_between_1990_and_tomorrow():
    df = valid_frame("orders", 4)
    df["order_date"] = pd.to_datetime(["1989-12-31", "1990-01-01", "2024-07-01", "2024-07-02"])
    assert failures("orders", df) == {(0, "date_min"), (3, "date_max")}


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
    assert failures("orders", df) == {(1, "return_sign"), (2, "return_sign")}


def test_negative_without_is_return_column_fails():
    df = valid_frame("orders", 2).drop(columns=["is_return"])
    df["amount"] = [5.0, -5.0]
    assert failures("orders", df, columns=list(df.columns)) == {(1, "return_sign")}


def test_amount_or_qty_per_row():
    df = valid_frame("orders", 2)
    df.loc[1, ["amount", "qty"]] = None
    assert failures("orders", df) == {(1, "one_of")}


def test_optional_columns_may_be_absent_required_may_not():
    df = valid_frame("orders", 2)[["order_date", "amount"]]
    assert failures("orders", df, columns=list(df.columns)) == set()
    with pytest.raises(pa.errors.SchemaErrors):
        pandera_schema("orders", today=TODAY).validate(df.drop(columns=["order_date"]), lazy=True)


def test_every_reason_has_a_rule():
    names = {"not_nullable", "allowed", "min_value", "max_value", "first_of_month", "date_min", "date_max",
             "unique_key", "return_sign", "one_of"}
    assert names == set(contracts.RULES)


# ---- aliases -----------------------------------------------------------------------------------
@pytest.mark.parametrize("table,header,name", [
    ("orders", "订单日期", "order_date"), ("orders", "客户编码", "customer_id"), ("orders", "卷烟规格", "sku_id"),
    ("orders", "数量(条)", "qty"), ("orders", "数量（条）", "qty"), ("orders", "金额(元)", "amount"),
    ("orders", " Order_Date ", "order_date"), ("products", "卷烟规格", "sku_name"), ("products", "卷烟编码", "sku_id"),
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

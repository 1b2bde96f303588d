"""Canonical tables: column names, types, required columns and keys.

This module is the one place that says what each table of ../shared/DESIGN.md holds.
``ingest`` validates against it, ``demo`` writes it, the metric modules read it.

Types are logical: ``str``, ``int``, ``float``, ``bool``, ``date`` (a calendar day),
``month`` (a date on the first day of its month).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    required: bool = False
    allowed: tuple | None = None
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    # free text (comments, names): stored exactly as given, no NFKC, no trimming
    free_text: bool = False
    # a date that may lie in the future (plans, due dates, launch dates); other dates after
    # tomorrow are quarantined by ingest and flagged by check
    future_ok: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # "one of": at least one of each group must be present (orders: amount or qty)
    one_of: tuple[tuple[str, ...], ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # column -> table
    # keep columns outside the contract on ingest (hr_snapshot: any incentive/control variable)
    keep_extra: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


AREA_TYPES = ("urban", "rural")
SIZE_CLASSES = ("large", "medium", "small")
PRICE_CLASSES = ("一类", "二类", "三类", "四类", "五类")
TARGET_LEVELS = ("company", "region", "rep", "brand", "price_class", "sku")
TARGET_MEASURES = ("amount", "qty")
EXIT_REASONS = ("voluntary", "involuntary")
VISIT_KINDS = ("visit", "guidance")

C = Column
TABLES: dict[str, TableSpec] = {
    "orders": TableSpec(
        "orders",
        (
            C("order_id", "str"), C("line_no", "int"),
            C("order_date", "date", required=True, nullable=False),
            C("customer_id", "str"), C("sku_id", "str"), C("rep_id", "str"),
            C("region", "str"), C("brand", "str"), C("price_class", "str"), C("channel", "str"),
            C("qty", "float"), C("amount", "float"),
            C("is_return", "bool"),
        ),
        key=("order_id", "line_no"),
        one_of=(("amount", "qty"),),
        references={"customer_id": "customers", "sku_id": "products", "rep_id": "reps"},
    ),
    "customers": TableSpec(
        "customers",
        (
            C("customer_id", "str", required=True, nullable=False), C("name", "str", free_text=True), C("region", "str"),
            C("area_type", "str", allowed=AREA_TYPES), C("size_class", "str", allowed=SIZE_CLASSES),
            C("rep_id", "str"), C("opened_on", "date"),
        ),
        key=("customer_id",),
    ),
    "products": TableSpec(
        "products",
        (
            C("sku_id", "str", required=True, nullable=False), C("brand", "str", required=True, nullable=False),
            C("sku_name", "str", free_text=True), C("price_class", "str"), C("unit_price", "float", min_value=0),
            C("pack_unit", "str"), C("launch_date", "date", future_ok=True),
        ),
        key=("sku_id",),
    ),
    "reps": TableSpec(
        "reps",
        (
            C("rep_id", "str", required=True, nullable=False), C("hire_date", "date", required=True, nullable=False),
            C("name", "str", free_text=True), C("region", "str"), C("role", "str"), C("manager_id", "str"),
            C("exit_date", "date"), C("exit_reason", "str", allowed=EXIT_REASONS),
        ),
        key=("rep_id",),
    ),
    "targets": TableSpec(
        "targets",
        (
            C("period", "month", required=True, nullable=False, future_ok=True),
            C("level", "str", required=True, nullable=False, allowed=TARGET_LEVELS),
            C("key", "str", required=True, nullable=False),
            C("measure", "str", required=True, nullable=False, allowed=TARGET_MEASURES),
            C("value", "float", required=True),
        ),
        key=("period", "level", "key", "measure"),
    ),
    "visits": TableSpec(
        "visits",
        (
            C("visit_date", "date", required=True, nullable=False),
            C("rep_id", "str", required=True, nullable=False),
            C("customer_id", "str", required=True, nullable=False),
            C("kind", "str", allowed=VISIT_KINDS), C("effective", "bool"),
        ),
    ),
    "feedback": TableSpec(
        "feedback",
        (
            C("response_date", "date", required=True, nullable=False),
            C("sku_id", "str", required=True, nullable=False),
            C("rating", "int", required=True, nullable=False, min_value=1, max_value=5),
            C("customer_id", "str"), C("region", "str"), C("repurchase_intent", "bool"),
            C("comment", "str", free_text=True),
        ),
    ),
    "compensation": TableSpec(
        "compensation",
        (
            C("period", "month", required=True, nullable=False),
            C("rep_id", "str", required=True, nullable=False),
            C("base_pay", "float", min_value=0), C("individual_bonus", "float", min_value=0),
            C("team_bonus", "float", min_value=0), C("due_date", "date", future_ok=True), C("paid_date", "date"),
            C("training_hours", "float", min_value=0), C("promoted", "bool"), C("award", "bool"),
        ),
        key=("period", "rep_id"),
    ),
    "hr_snapshot": TableSpec(
        "hr_snapshot",
        (
            C("person_id", "str", required=True, nullable=False),
            C("tenure", "float", required=True, nullable=False, min_value=0),
            C("left", "bool", required=True, nullable=False),
        ),
        key=("person_id",),
        keep_extra=True,
    ),
}
del C


def spec(table: str) -> TableSpec:
    """Return the contract of ``table``.

    Examples
    --------
    >>> spec("orders").required
    ['order_date']
    """
    from .errors import ParameterError

    try:
        return TABLES[table]
    except KeyError:
        raise ParameterError(
            f"The 'table' parameter must be one of {', '.join(TABLES)}. Got {table!r} instead."
        ) from None


# ---------------------------------------------------------------------------------------------
# Validators generated from the TableSpecs above (the specs stay the one place for names/types)
# ---------------------------------------------------------------------------------------------

DATE_MIN = "1990-01-01"  # dates before this are impossible for these tables

IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "bool": "boolean",
              "date": "date", "month": "date"}
PANDAS_DTYPES = {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean",
                 "date": "datetime64[ns]", "month": "datetime64[ns]"}

# Rule names used by the generated schema (pandera check names) and their reasons.
RULES = {
    "not_nullable": "required value is empty",
    "allowed": "value not allowed (allowed: {allowed})",
    "min_value": "value below the minimum {min_value}",
    "max_value": "value above the maximum {max_value}",
    "first_of_month": "month must be given as a month (YYYY-MM) or its first day",
    "date_min": "date before " + DATE_MIN,
    "date_max": "date after tomorrow ({tomorrow})",
    "unique_key": "duplicate key ({key}) in the file",
    "return_sign": "negative {column} on a row not flagged as a return (is_return)",
    "one_of": "all of {columns} are empty",
}


def tomorrow(today=None):
    """The last date ingest accepts for event dates (``today`` + 1 day).

    Examples
    --------
    >>> import datetime as dt
    >>> tomorrow(dt.date(2024, 2, 28))
    datetime.date(2024, 2, 29)
    """
    import datetime as dt

    return (today or dt.date.today()) + dt.timedelta(days=1)


def ibis_schema(table: str, extra: dict[str, str] | None = None):
    """The Ibis schema of a canonical table (contract columns, then ``extra`` {name: logical type}).

    Examples
    --------
    >>> ibis_schema("hr_snapshot")["tenure"]
    Float64(nullable=True)
    """
    import ibis

    cols = {c.name: IBIS_TYPES[c.dtype] for c in spec(table).columns}
    for name, dtype in (extra or {}).items():
        cols.setdefault(name, IBIS_TYPES.get(dtype, dtype))
    return ibis.schema(cols)


def logical_type(ibis_dtype) -> str:
    """The logical type (``str``, ``int``, ``float``, ``bool``, ``date``) of an Ibis data type."""
    if ibis_dtype.is_boolean():
        return "bool"
    if ibis_dtype.is_integer():
        return "int"
    if ibis_dtype.is_numeric():
        return "float"
    if ibis_dtype.is_date() or ibis_dtype.is_timestamp():
        return "date"
    return "str"


def pandera_schema(table: str, columns: list[str] | None = None, today=None, extra: dict[str, str] | None = None):
    """A pandera ``DataFrameSchema`` for ``table``, generated from its :class:`TableSpec`.

    The frame it validates is already typed (``PANDAS_DTYPES``: ingest normalises first,
    because pandera would run value checks on raw strings once a conversion fails).
    Column checks: dtype, nullable, allowed values, min/max, month = first day, dates
    between 1990-01-01 and tomorrow (unless ``future_ok``). Frame checks (on rows):
    key unique (first occurrence kept, rows with an empty key part not checked),
    negative amount/qty only on returns, one of ``one_of`` filled. Check names are the keys
    of :data:`RULES`.

    Parameters
    ----------
    table : str
        Canonical table name.
    columns : list of str, optional
        Columns present in the frame (default: all contract columns). Only these get checks.
    today : datetime.date, optional
        The day "tomorrow" is counted from (default: today).
    extra : dict, optional
        Extra columns {name: logical type} kept in the frame (hr_snapshot), checked for type only.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"person_id": ["p1"], "tenure": [2.5], "left": pd.array([False], dtype="boolean")})
    >>> len(pandera_schema("hr_snapshot").validate(df))
    1
    """
    import pandas as pd
    import pandera.pandas as pa

    ts = spec(table)
    present = list(columns) if columns is not None else ts.names
    last = pd.Timestamp(tomorrow(today))
    first = pd.Timestamp(DATE_MIN)
    cols: dict[str, object] = {}
    for c in ts.columns:
        if c.name not in present:
            continue
        checks = []
        # custom checks (not Check.isin/ge/le) so that failures carry the rule names of RULES
        if c.allowed is not None:
            checks.append(pa.Check(lambda s, a=list(c.allowed): s.isin(a), name="allowed"))
        if c.min_value is not None:
            checks.append(pa.Check(lambda s, v=c.min_value: s >= v, name="min_value"))
        if c.max_value is not None:
            checks.append(pa.Check(lambda s, v=c.max_value: s <= v, name="max_value"))
        if c.dtype in ("date", "month"):
            checks.append(pa.Check(lambda s: s >= first, name="date_min"))
            if not c.future_ok:
                checks.append(pa.Check(lambda s: s <= last, name="date_max"))
        if c.dtype == "month":
            checks.append(pa.Check(lambda s: s.dt.day == 1, name="first_of_month"))
        cols[c.name] = pa.Column(
            None if c.dtype == "str" else PANDAS_DTYPES[c.dtype],
            checks=checks, nullable=c.nullable, required=c.required,
        )
    for name, dtype in (extra or {}).items():
        if name not in cols:
            cols[name] = pa.Column(None if dtype == "str" else PANDAS_DTYPES.get(dtype), nullable=True, required=False)

    frame_checks = []
    key = [k for k in ts.key if k in present]
    if key and len(key) == len(ts.key):
        frame_checks.append(pa.Check(
            lambda df, key=key: ~(df[key].notna().all(axis=1) & df.duplicated(key, keep="first")),
            name="unique_key"))
    if "is_return" in ts.names:
        signed = [n for n in ("amount", "qty") if n in present]
        if signed:
            def _return_sign(df, signed=signed):
                ret = df["is_return"].fillna(False).astype(bool) if "is_return" in df else False
                neg = pd.concat([(df[n] < 0).fillna(False).astype(bool) for n in signed], axis=1).any(axis=1)
                return ~(neg & ~ret)
            frame_checks.append(pa.Check(_return_sign, name="return_sign"))
    for group in ts.one_of:
        have = [n for n in group if n in present]
        if have:
            frame_checks.append(pa.Check(lambda df, have=have: df[have].notna().any(axis=1), name="one_of"))
    return pa.DataFrameSchema(cols, checks=frame_checks, strict=False, coerce=False)

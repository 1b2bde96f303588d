"""Canonical tables: column names, types, required columns, keys and the rules rows must meet.

This module is the one place that says what each table holds and which rows are valid.
``ingest`` compiles the rules to SQL and runs them in its DuckDB work database on every file;
``check`` runs the same SQL (transpiled by Ibis/sqlglot to the store's dialect) on stored
tables; ``demo`` writes the tables; the metric modules read them.

Types are logical: ``str``, ``int``, ``float``, ``bool``, ``date`` (a calendar day),
``month`` (a date on the first day of its month).

Settings a user may change (:class:`Settings`): the plausibility window for dates
(``date_min``, default 1990-01-01; event dates after tomorrow are implausible) and the grade
bands that derive a customer's size class from its tobacco grade (:class:`GradeBands`,
default 1–10 small, 11–20 medium, 21–30 large).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    required: bool = False
    allowed: tuple | None = None
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    # free text (comments, names): stored exactly as given, no normalisation, no trimming
    free_text: bool = False
    # a date that may lie in the future (plans, due dates, launch dates); other dates after
    # tomorrow are quarantined by ingest and flagged by check
    future_ok: bool = False
    # the unit kind of a measure: "money" (yuan), "volume" (cartons 条), "money/volume"
    # (a price: yuan per carton) or "money|volume" (either, by the row's measure); headers
    # that carry another unit (万元, 箱 …) are converted by ingest
    unit: str | None = None
    # a tobacco customer grade: also accepts "25档"
    grade: bool = False


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
    # the date column a period (month) of the table is defined by (``--replace-period``)
    period_column: str | None = None

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
#: the products' ``pack_unit`` (the unit of their order lines' ``qty``) as a unit code: the words a
#: department writes for it (a unit not listed is its own, unrecognised unit)
PACK_UNITS = {"carton": ("条", "carton", "cartons"), "case": ("箱", "件", "case", "cases"),
              "pack": ("包", "盒", "pack", "packs")}
#: the value kind of a quantity in each unit (its header: 销量（条）, 销量（箱）, 销量（包）); "mixed":
#: products in several (or unrecognised) units, whose quantities never add under one unit
QTY_KINDS = {"carton": "qty", "case": "qty_case", "pack": "qty_pack", "mixed": "qty_mixed"}
ACTION_ITEM_KINDS = ("region", "rep")  # analysis.meeting.actions.ITEM_KINDS
# the agency profile (life-insurance agents): docs/AGENCY.md
PREMIUM_TYPES = ("regular", "single")
POLICY_STATUSES = ("in_force", "lapsed", "surrendered", "cancelled")
AGENCY_TARGET_LEVELS = ("branch", "team", "agent")
AGENCY_TARGET_MEASURES = ("fyc", "fyp", "recruits")
GRADE_MIN, GRADE_MAX = 1, 30

def pack_unit_code(value: Any) -> str | None:
    """The unit code (:data:`PACK_UNITS`) of a products ``pack_unit`` value; None when it is
    empty, "other" when it names a unit not listed.

    Examples
    --------
    >>> pack_unit_code("箱"), pack_unit_code(" Cartons "), pack_unit_code(None), pack_unit_code("瓶")
    ('case', 'carton', None, 'other')
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    for code, words in PACK_UNITS.items():
        if text in words:
            return code
    return "other"


def qty_unit(values: Any) -> str:
    """The one unit of the quantities of products whose ``pack_unit`` values are ``values``:
    a :data:`PACK_UNITS` code, "mixed" when they say several units or one not listed, and
    "carton" (the tobacco trade's sales unit, 条) when none says any.

    Examples
    --------
    >>> qty_unit(["箱", "箱"]), qty_unit(["条", None]), qty_unit([]), qty_unit(["条", "箱"]), qty_unit(["瓶"])
    ('case', 'carton', 'carton', 'mixed', 'mixed')
    """
    codes = {c for c in (pack_unit_code(v) for v in (values if values is not None else ())) if c is not None}
    if not codes:
        return "carton"
    if len(codes) > 1 or "other" in codes:
        return "mixed"
    return codes.pop()


C = Column
TABLES: dict[str, TableSpec] = {
    "orders": TableSpec(
        "orders",
        (
            C("order_id", "str"), C("line_no", "int"),
            C("order_date", "date", required=True, nullable=False),
            C("customer_id", "str"), C("sku_id", "str"), C("rep_id", "str"),
            C("region", "str"), C("brand", "str"), C("price_class", "str"), C("channel", "str"),
            C("qty", "float", unit="volume"), C("amount", "float", unit="money"),
            C("is_return", "bool"),
        ),
        key=("order_id", "line_no"),
        one_of=(("amount", "qty"),),
        references={"customer_id": "customers", "sku_id": "products", "rep_id": "reps"},
        period_column="order_date",
    ),
    "customers": TableSpec(
        "customers",
        (
            C("customer_id", "str", required=True, nullable=False), C("name", "str", free_text=True), C("region", "str"),
            C("area_type", "str", allowed=AREA_TYPES), C("size_class", "str", allowed=SIZE_CLASSES),
            C("rep_id", "str"), C("opened_on", "date"),
            C("grade", "int", min_value=GRADE_MIN, max_value=GRADE_MAX, grade=True),
            C("channel", "str"),
        ),
        key=("customer_id",),
    ),
    "products": TableSpec(
        "products",
        (
            C("sku_id", "str", required=True, nullable=False), C("brand", "str", required=True, nullable=False),
            C("sku_name", "str", free_text=True), C("price_class", "str"),
            C("unit_price", "float", min_value=0, unit="money/volume"),
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
            C("value", "float", required=True, unit="money|volume"),
        ),
        key=("period", "level", "key", "measure"),
        period_column="period",
    ),
    "visits": TableSpec(
        "visits",
        (
            C("visit_date", "date", required=True, nullable=False),
            C("rep_id", "str", required=True, nullable=False),
            C("customer_id", "str", required=True, nullable=False),
            C("kind", "str", allowed=VISIT_KINDS), C("effective", "bool"),
        ),
        period_column="visit_date",
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
        period_column="response_date",
    ),
    "compensation": TableSpec(
        "compensation",
        (
            C("period", "month", required=True, nullable=False),
            C("rep_id", "str", required=True, nullable=False),
            C("base_pay", "float", min_value=0, unit="money"), C("individual_bonus", "float", min_value=0, unit="money"),
            C("team_bonus", "float", min_value=0, unit="money"), C("due_date", "date", future_ok=True),
            C("paid_date", "date"),
            C("training_hours", "float", min_value=0), C("promoted", "bool"), C("award", "bool"),
        ),
        key=("period", "rep_id"),
        period_column="period",
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
    # the 改善行动点 sheet of a meeting pack, filled in and ingested back (analysis.meeting.actions)
    "actions": TableSpec(
        "actions",
        (
            C("meeting_month", "month", required=True, nullable=False, future_ok=True),
            C("item_kind", "str", required=True, nullable=False, allowed=ACTION_ITEM_KINDS),
            C("item_key", "str", required=True, nullable=False),
            C("item", "str", free_text=True), C("figure", "float"), C("threshold", "float"),
            C("owner", "str", free_text=True), C("action", "str", free_text=True),
            C("due_date", "date", future_ok=True),
        ),
        key=("meeting_month", "item_kind", "item_key"),
        period_column="meeting_month",
    ),
    # ---- the agency profile (life-insurance agents; docs/AGENCY.md) ----------------------------
    "agents": TableSpec(
        "agents",
        (
            C("agent_id", "str", required=True, nullable=False), C("name", "str", free_text=True),
            C("team", "str"), C("branch", "str"),
            C("hire_date", "date", required=True, nullable=False), C("exit_date", "date"),
            C("exit_reason", "str"), C("rank", "str"),
            C("recruiter_id", "str"), C("manager_id", "str"),
        ),
        key=("agent_id",),
    ),
    "policies": TableSpec(
        "policies",
        (
            C("policy_id", "str", required=True, nullable=False),
            C("agent_id", "str", required=True, nullable=False),
            C("issue_date", "date", required=True, nullable=False),
            C("product", "str"), C("premium_type", "str", allowed=PREMIUM_TYPES),
            C("fyp", "float", required=True, min_value=0, unit="money"),
            C("fyc", "float", min_value=0, unit="money"),
            C("status", "str", allowed=POLICY_STATUSES), C("lapse_date", "date"),
        ),
        key=("policy_id",),
        references={"agent_id": "agents"},
        period_column="issue_date",
    ),
    "premium_receipts": TableSpec(
        "premium_receipts",
        (
            C("policy_id", "str", required=True, nullable=False),
            C("policy_year", "int", required=True, nullable=False, allowed=(2, 3)),
            C("due_date", "date", required=True, nullable=False, future_ok=True),
            C("amount_due", "float", min_value=0, unit="money"),
            C("amount_received", "float", min_value=0, unit="money"),
            C("received_date", "date"),
        ),
        key=("policy_id", "policy_year"),
        references={"policy_id": "policies"},
        period_column="due_date",
    ),
    "agent_month": TableSpec(
        "agent_month",
        (
            C("agent_id", "str", required=True, nullable=False),
            C("month", "month", required=True, nullable=False),
            C("attendance_days", "int", min_value=0, max_value=31),
            C("allowance", "float", min_value=0, unit="money"),
            C("leads_given", "int", min_value=0),
            C("training_hours", "float", min_value=0),
            C("activities_attended", "int", min_value=0),
        ),
        key=("agent_id", "month"),
        references={"agent_id": "agents"},
        period_column="month",
    ),
    "agency_targets": TableSpec(
        "agency_targets",
        (
            C("period", "month", required=True, nullable=False, future_ok=True),
            C("level", "str", required=True, nullable=False, allowed=AGENCY_TARGET_LEVELS),
            C("key", "str", required=True, nullable=False),
            C("measure", "str", required=True, nullable=False, allowed=AGENCY_TARGET_MEASURES),
            C("value", "float", required=True, min_value=0),
        ),
        key=("period", "level", "key", "measure"),
        period_column="period",
    ),
}
del C

#: Master tables whose rows change over time. ``<table>_history`` holds every version of a row
#: with the days it was valid: ``valid_from`` (inclusive; NULL = since before the data) and
#: ``valid_to`` (exclusive; NULL = still valid). The plain table holds the current version.
#: ``ingest <table> FILE --update`` maintains both; a history file (for instance a reassignment
#: list) can also be ingested directly. :mod:`analysis.model` attributes a sale to the version
#: valid at the sale date.
MASTER_TABLES = ("customers", "products", "reps", "agents")
HISTORY_SUFFIX = "_history"
#: The tables of the agency profile (life-insurance agents, docs/AGENCY.md); the other tables are
#: the sales (tobacco/FMCG) profile's.
AGENCY_TABLES = ("agents", "agents_history", "policies", "premium_receipts", "agent_month", "agency_targets")


def _history_spec(base: TableSpec) -> TableSpec:
    cols = tuple(Column(c.name, c.dtype, required=c.name in base.key, nullable=c.name not in base.key,
                        allowed=c.allowed, min_value=c.min_value, max_value=c.max_value,
                        free_text=c.free_text, future_ok=c.future_ok, unit=c.unit, grade=c.grade)
                 for c in base.columns)
    cols += (Column("valid_from", "date", future_ok=True), Column("valid_to", "date", future_ok=True))
    return TableSpec(base.name + HISTORY_SUFFIX, cols, key=(*base.key, "valid_from"))


for _m in MASTER_TABLES:
    TABLES[_m + HISTORY_SUFFIX] = _history_spec(TABLES[_m])
del _m


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
# settings: the plausibility window and the grade bands
# ---------------------------------------------------------------------------------------------
DATE_MIN = dt.date(1990, 1, 1)  # default start of the plausibility window for dates


@dataclass(frozen=True)
class GradeBands:
    """Bands of tobacco customer grades (1–30) and the size class each stands for.

    ``bands`` is a tuple of ``(first grade, last grade, size class)`` covering 1–30 without
    gaps or overlaps. The default is 1–10 small, 11–20 medium, 21–30 large.

    Examples
    --------
    >>> GradeBands.parse("1-5:small,6-25:medium,26-30:large").size_class(26)
    'large'
    >>> GradeBands().label(12)
    '11–20'
    """

    bands: tuple[tuple[int, int, str], ...] = ((1, 10, "small"), (11, 20, "medium"), (21, 30, "large"))

    def __post_init__(self) -> None:
        from .errors import ParameterError

        got = ",".join(f"{a}-{b}:{c}" for a, b, c in self.bands)
        expect = GRADE_MIN
        for lo, hi, cls in sorted(self.bands):
            if lo != expect or hi < lo or cls not in SIZE_CLASSES:
                raise ParameterError(
                    "The 'grade_bands' parameter must be bands like 1-10:small,11-20:medium,21-30:large covering "
                    f"grades {GRADE_MIN}–{GRADE_MAX} without gaps or overlaps, each one of {', '.join(SIZE_CLASSES)}."
                    f" Got {got!r} instead.")
            expect = hi + 1
        if expect != GRADE_MAX + 1:
            raise ParameterError(
                "The 'grade_bands' parameter must be bands like 1-10:small,11-20:medium,21-30:large covering "
                f"grades {GRADE_MIN}–{GRADE_MAX} without gaps or overlaps. Got {got!r} instead.")
        object.__setattr__(self, "bands", tuple(sorted(self.bands)))

    @classmethod
    def parse(cls, text: "str | GradeBands | None") -> "GradeBands":
        """``"1-10:small,11-20:medium,21-30:large"`` → GradeBands (None: the default)."""
        from .errors import ParameterError

        if text is None or isinstance(text, GradeBands):
            return text or cls()
        out = []
        for part in str(text).split(","):
            try:
                rng, cls_name = part.split(":")
                lo, hi = rng.replace("–", "-").split("-")
                out.append((int(lo), int(hi), cls_name.strip()))
            except ValueError:
                raise ParameterError(
                    "The 'grade_bands' parameter must be bands like 1-10:small,11-20:medium,21-30:large. "
                    f"Got {text!r} instead.") from None
        return cls(tuple(out))

    def size_class(self, grade: int) -> str | None:
        for lo, hi, cls in self.bands:
            if lo <= grade <= hi:
                return cls
        return None

    def label(self, grade: int) -> str | None:
        for lo, hi, _ in self.bands:
            if lo <= grade <= hi:
                return f"{lo}–{hi}"
        return None

    def size_class_sql(self, column: str) -> str:
        """A SQL CASE expression: the size class of the grade in ``column`` (NULL outside 1–30)."""
        whens = " ".join(f"WHEN {column} BETWEEN {lo} AND {hi} THEN '{cls}'" for lo, hi, cls in self.bands)
        return f"(CASE {whens} END)"


DEFAULT_GRADE_BANDS = GradeBands()


def grade_band(grade: Any, bands: GradeBands | str | None = None) -> Any:
    """The grade band of an Ibis integer column, as a label ``'1–10'``, ``'11–20'`` … (NULL when no grade).

    Reports group customers by it, e.g.
    ``c = con.table("customers"); c.group_by(grade_band(c.grade).name("grade_band"))``.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"grade": [3, 25, None]})
    >>> t.select(b=grade_band(t.grade)).to_pandas()["b"].tolist()
    ['1–10', '21–30', None]
    """
    import ibis

    b = GradeBands.parse(bands)
    return ibis.cases(*[(grade.between(lo, hi), f"{lo}–{hi}") for lo, hi, _ in b.bands], else_=ibis.null("string"))


@dataclass(frozen=True)
class Settings:
    """What ingest and check count as plausible.

    Parameters
    ----------
    date_min : datetime.date
        Dates before it are quarantined by ingest and flagged by check (default 1990-01-01;
        set it earlier to load an archive on purpose).
    today : datetime.date, optional
        Event dates after ``today`` + 1 day are implausible (default: the day it runs).
    grade_bands : GradeBands
        How a customer's grade derives its size class when the file gives none.
    """

    date_min: dt.date = DATE_MIN
    today: dt.date | None = None
    grade_bands: GradeBands = DEFAULT_GRADE_BANDS

    @property
    def date_max(self) -> dt.date:
        return tomorrow(self.today)


def tomorrow(today=None):
    """The last date ingest accepts for event dates (``today`` + 1 day).

    Examples
    --------
    >>> tomorrow(dt.date(2024, 2, 28))
    datetime.date(2024, 2, 29)
    """
    return (today or dt.date.today()) + dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# schemas
# ---------------------------------------------------------------------------------------------
IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "bool": "boolean",
              "date": "date", "month": "date"}
SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE", "month": "DATE"}


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


# ---------------------------------------------------------------------------------------------
# rules: one specification, compiled to SQL
# ---------------------------------------------------------------------------------------------
# Reason codes and their messages. Cell codes come from reading a value as its type (ingest
# only); row codes are the rules below (ingest and check); file codes come from the file's
# shape or the store.
RULES = {
    # cells
    "not_a_number": "not a number",
    "not_whole": "not a whole number",
    "not_a_date": "not a date",
    "impossible_date": "impossible date",
    "not_a_bool": "not a yes/no value",
    "not_a_grade": "not a grade (1–30, as 25 or 25档)",
    "excel_error": "an Excel error value (#N/A, #DIV/0!, #VALUE! …)",
    # rows
    "not_nullable": "required value is empty",
    "allowed": "value not allowed (allowed: {allowed})",
    "min_value": "value below the minimum {min_value}",
    "max_value": "value above the maximum {max_value}",
    "first_of_month": "month must be given as a month (YYYY-MM) or its first day",
    "date_min": "date before {date_min}",
    "date_max": "date after tomorrow ({tomorrow})",
    "return_sign": "negative {column} on a row not flagged as a return (is_return)",
    "mixed_sign": "qty and amount have opposite signs (a return has both negative)",
    "one_of": "all of {columns} are empty",
    "unit_measure": "value given in {unit} but the row's measure is {measure}",
    # keys, references, the store, the file's shape
    "unique_key": "duplicate key ({key}) in the file",
    "key_in_store": "key ({key}) already in the store with other values",
    "reference": "{column} not found in table '{table}'",
    "outside_period": "date outside the replaced period {period}",
    "too_many_fields": "row has {fields} fields, the header has {header}",
    "beyond_header": "row has values beyond the last header",
    "bad_text": "the row is not valid text in the file's encoding",
}

# What check prints per rule (a count follows).
CHECK_LABELS = {
    "not_nullable": "empty {column}",
    "allowed": "{column} not in allowed values",
    "min_value": "{column} below {min_value:g}",
    "max_value": "{column} above {max_value:g}",
    "date_min": "{column} before {date_min}",
    "date_max": "{column} after tomorrow",
    "first_of_month": "{column} not the first day of a month",
    "return_sign": "negative amount/qty not flagged as return",
    "mixed_sign": "qty and amount of opposite signs",
    "one_of": "all of {columns} empty",
}


@dataclass(frozen=True)
class Rule:
    """One row rule of a table: its reason code, the columns it is about and a SQL predicate
    (DuckDB dialect, on the table's typed columns) that is TRUE when a row breaks it."""

    code: str
    columns: tuple[str, ...]
    sql: str
    params: dict = field(default_factory=dict, compare=False)

    @property
    def column(self) -> str:
        return "+".join(self.columns)

    def message(self) -> str:
        """The reason as text (RULES[code] with its parameters)."""
        return RULES[self.code].format(**self.params)

    def check_label(self) -> str:
        """The short label check prints."""
        return CHECK_LABELS.get(self.code, self.code).format(**{**self.params, "column": self.column})


def q(name: str) -> str:
    """A quoted SQL identifier (column names such as ``left`` or ``key`` are keywords)."""
    return '"' + str(name).replace('"', '""') + '"'


def _lit(v: Any) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    return repr(v)


def row_rules(table: str, present: list[str] | set[str] | None = None, settings: Settings | None = None,
              return_column: bool | None = None) -> list[Rule]:
    """The row rules of ``table`` as SQL predicates (TRUE = the row breaks the rule).

    Parameters
    ----------
    table : str
        Canonical table.
    present : collection of str, optional
        Columns present (default: all contract columns). Rules about absent columns are left out.
    settings : Settings, optional
        Plausibility window (default: :class:`Settings`).
    return_column : bool, optional
        Whether ``is_return`` carries the file's own flag (default: when present). Without it,
        ingest infers returns from the signs and only mixed signs break a rule.

    Examples
    --------
    >>> [r.code for r in row_rules("targets", ["period", "level"])]
    ['not_nullable', 'date_min', 'first_of_month', 'not_nullable', 'allowed']
    >>> row_rules("feedback", ["rating"])[1].sql
    '"rating" < 1'
    """
    ts = spec(table)
    s = settings or Settings()
    have = set(present) if present is not None else set(ts.names)
    out: list[Rule] = []
    for c in ts.columns:
        if c.name not in have:
            continue
        col = q(c.name)
        if not c.nullable:
            out.append(Rule("not_nullable", (c.name,), f"{col} IS NULL"))
        if c.allowed is not None:
            out.append(Rule("allowed", (c.name,), f"{col} NOT IN ({', '.join(_lit(a) for a in c.allowed)})",
                            {"allowed": ", ".join(str(a) for a in c.allowed)}))
        if c.min_value is not None:
            out.append(Rule("min_value", (c.name,), f"{col} < {c.min_value:g}", {"min_value": c.min_value}))
        if c.max_value is not None:
            out.append(Rule("max_value", (c.name,), f"{col} > {c.max_value:g}", {"max_value": c.max_value}))
        if c.dtype in ("date", "month"):
            out.append(Rule("date_min", (c.name,), f"{col} < {_lit(s.date_min)}", {"date_min": s.date_min.isoformat()}))
            if not c.future_ok:
                out.append(Rule("date_max", (c.name,), f"{col} > {_lit(s.date_max)}",
                                {"tomorrow": s.date_max.isoformat()}))
        if c.dtype == "month":
            out.append(Rule("first_of_month", (c.name,), f"EXTRACT(day FROM {col}) <> 1"))
    signed = [n for n in ("amount", "qty") if n in have and n in ts.names]
    if "is_return" in ts.names and signed:
        flagged = return_column if return_column is not None else "is_return" in have
        if flagged:
            # one rule per sign pattern, so the reason names the negative column(s)
            ret = 'COALESCE("is_return", FALSE)'
            neg = {n: f'COALESCE({q(n)} < 0, FALSE)' for n in signed}
            if len(signed) == 2:
                both = f"{neg['amount']} AND {neg['qty']}"
                out.append(Rule("return_sign", ("amount", "qty"), f"NOT {ret} AND {both}", {"column": "amount and qty"}))
                out.append(Rule("return_sign", ("amount",), f"NOT {ret} AND {neg['amount']} AND NOT {neg['qty']}",
                                {"column": "amount"}))
                out.append(Rule("return_sign", ("qty",), f"NOT {ret} AND {neg['qty']} AND NOT {neg['amount']}",
                                {"column": "qty"}))
            else:
                n = signed[0]
                out.append(Rule("return_sign", (n,), f"NOT {ret} AND {neg[n]}", {"column": n}))
        if len(signed) == 2:
            out.append(Rule("mixed_sign", ("amount", "qty"),
                            '("amount" < 0 AND "qty" > 0) OR ("amount" > 0 AND "qty" < 0)'))
    for group in ts.one_of:
        got = [g for g in group if g in have]
        if got:
            out.append(Rule("one_of", tuple(got), " AND ".join(f"{q(g)} IS NULL" for g in got),
                            {"columns": " and ".join(got)}))
    return out


def key_sql(table: str) -> tuple[str, ...]:
    """The key columns of ``table`` (empty: no key; rows are events and identical rows are kept)."""
    return spec(table).key

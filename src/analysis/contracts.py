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


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # "one of": at least one of each group must be present (orders: amount or qty)
    one_of: tuple[tuple[str, ...], ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # column -> table

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
            C("customer_id", "str", required=True, nullable=False), C("name", "str"), C("region", "str"),
            C("area_type", "str", allowed=AREA_TYPES), C("size_class", "str", allowed=SIZE_CLASSES),
            C("rep_id", "str"), C("opened_on", "date"),
        ),
        key=("customer_id",),
    ),
    "products": TableSpec(
        "products",
        (
            C("sku_id", "str", required=True, nullable=False), C("brand", "str", required=True, nullable=False),
            C("sku_name", "str"), C("price_class", "str"), C("unit_price", "float", min_value=0),
            C("pack_unit", "str"), C("launch_date", "date"),
        ),
        key=("sku_id",),
    ),
    "reps": TableSpec(
        "reps",
        (
            C("rep_id", "str", required=True, nullable=False), C("hire_date", "date", required=True, nullable=False),
            C("name", "str"), C("region", "str"), C("role", "str"), C("manager_id", "str"),
            C("exit_date", "date"), C("exit_reason", "str", allowed=EXIT_REASONS),
        ),
        key=("rep_id",),
    ),
    "targets": TableSpec(
        "targets",
        (
            C("period", "month", required=True, nullable=False),
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
            C("customer_id", "str"), C("region", "str"), C("repurchase_intent", "bool"), C("comment", "str"),
        ),
    ),
    "compensation": TableSpec(
        "compensation",
        (
            C("period", "month", required=True, nullable=False),
            C("rep_id", "str", required=True, nullable=False),
            C("base_pay", "float", min_value=0), C("individual_bonus", "float", min_value=0),
            C("team_bonus", "float", min_value=0), C("due_date", "date"), C("paid_date", "date"),
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

"""Parameters of the target plan (任务分解)."""
from __future__ import annotations

import csv
import io
import math
from fractions import Fraction
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import Field, ValidationInfo, field_validator

from .base import Money, ReportParams

PLAN_METHODS = ("last_12", "same_month", "blend", "capacity")
PRODUCT_LEVELS = ("brand", "price_class")
OVERRIDE_LEVELS = ("region", "rep")


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool):
        raise ValueError(f"a number >= 0 for {where}")
    try:
        f = float(str(v).replace(",", "").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise ValueError(f"a number >= 0 for {where}") from None
    if not math.isfinite(f) or f < 0:
        raise ValueError(f"a number >= 0 for {where}")
    return f


def _read_override_file(path: str) -> Any:
    p = Path(path).expanduser()
    if not p.is_file():
        raise ValueError(f"a mapping key: value, or the path of a CSV or YAML file (no file {path!r})")
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or not {"key", "value"} <= set(rows[0]):
            raise ValueError(f"a CSV with the columns key, value (and optionally level) in {p.name}")
        if "level" in rows[0]:
            out: dict[str, dict[str, Any]] = {}
            for r in rows:
                out.setdefault(str(r["level"]).strip(), {})[str(r["key"]).strip()] = r["value"]
            return out
        return {str(r["key"]).strip(): r["value"] for r in rows}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f"a YAML mapping key: value in {p.name}") from None
    return data if data is not None else {}


def _default_unit(rounding: float | None, measure: str) -> float:
    return float(rounding) if rounding is not None else (100.0 if measure == "amount" else 1.0)


def _multiple(x: float, unit: float) -> bool:
    try:
        return (Fraction(Decimal(repr(float(x)))) / Fraction(Decimal(repr(float(unit))))).denominator == 1
    except (InvalidOperation, ValueError):
        return False


def normalise_overrides(v: Any) -> dict[str, Any]:
    """Overrides as ``{key: value}`` or ``{level: {key: value}}`` (level region or rep), values as floats.

    A text value is the path of a CSV (columns key, value, optionally level) or YAML file.

    Examples
    --------
    >>> normalise_overrides({"市区": "1,000"})
    {'市区': 1000.0}
    >>> normalise_overrides({"rep": {"R0003": 600}})
    {'rep': {'R0003': 600.0}}
    """
    if v is None or v == "":
        return {}
    if isinstance(v, str):
        v = _read_override_file(v)
    if not isinstance(v, dict):
        raise ValueError("a mapping key: value, or the path of a CSV or YAML file")
    nested = [k for k, x in v.items() if isinstance(x, dict)]
    if nested and len(nested) != len(v):
        raise ValueError("either key: value pairs or level: {key: value} groups, not both")
    if nested:
        bad = [k for k in v if k not in OVERRIDE_LEVELS]
        if bad:
            raise ValueError(f"levels region or rep (got level {bad[0]!r})")
        return {str(lv): {str(k): _number(x, f"key {k!r}") for k, x in d.items()} for lv, d in v.items()}
    return {str(k): _number(x, f"key {k!r}") for k, x in v.items()}


class TargetPlanParams(ReportParams):
    """Parameters of ``notebooks/target_plan.ipynb``.

    month: the plan month "YYYY-MM", or "next" (the default: the month after the last complete month of
    data), or any form of :func:`analysis.periods.parse_month_text` (resolved by
    :func:`analysis.periods.resolve_month`, the rule of every report).
    total: the company total of the month in the measure; None = the store's company-level
    target of that month (one of them is required).
    measure: "amount" (元) or "qty" (条 / the sales unit).
    method: shares from "last_12" (the 12 months before), "same_month" (the same month last
    year, seasonal), "blend" (``blend_weights`` of the two) or "capacity" (customers weighted
    by grade, else by size class large 3 : medium 2 : small 1).
    levels: the split below the company: ["region"], ["region", "rep"] (default), optionally
    followed by "brand" or "price_class".
    growth_cap: each region's and rep's change against the same month last year is kept
    within ±growth_cap (None: no cap); the rest re-balanced.
    ramp_share: a rep hired within the last 3 months gets ramp_share × the region's average rep share.
    overrides: locked values, {key: value} (regions or reps) or {region: {..}, rep: {..}}, or
    the path of a CSV (key, value[, level]) or YAML file; the rest re-balanced.
    rounding: the rounding unit (None: 100 元 for amount, 1 for qty); every level sums exactly.

    Examples
    --------
    >>> TargetPlanParams(total=1_000_000).unit
    100.0
    >>> TargetPlanParams(measure="qty").unit
    1.0
    """

    report: ClassVar[str] = "target_plan"

    month: str = "next"
    measure: Literal["amount", "qty"] = "amount"
    rounding: float | None = Field(None, gt=0)
    total: Money | None = Field(None, gt=0)
    method: Literal["last_12", "same_month", "blend", "capacity"] = "blend"
    blend_weights: dict[str, float] = Field(default_factory=lambda: {"last_12": 0.5, "same_month": 0.5})
    levels: list[str] = Field(default_factory=lambda: ["region", "rep"])
    growth_cap: float | None = Field(0.3, ge=0, le=10)
    ramp_share: float = Field(0.5, gt=0, le=1)
    overrides: dict[str, Any] | str | None = None

    @field_validator("blend_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - {"last_12", "same_month"})
        if bad:
            raise ValueError(f"keys last_12 and same_month (got {bad[0]!r})")
        w = {k: float(x) for k, x in v.items()}
        if any(x < 0 for x in w.values()) or not math.isclose(sum(w.values()), 1.0, abs_tol=1e-9):
            raise ValueError("weights >= 0 summing to 1")
        return {"last_12": w.get("last_12", 0.0), "same_month": w.get("same_month", 0.0)}

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        v = [str(x).strip() for x in v]
        ok = (len(v) >= 1 and v[0] == "region" and len(set(v)) == len(v)
              and all(x in ("region", "rep", *PRODUCT_LEVELS) for x in v)
              and sum(x in PRODUCT_LEVELS for x in v) <= 1
              and (len(v) < 3 or v[1] == "rep")
              and all(x in PRODUCT_LEVELS for x in v[2:]))
        if not ok:
            raise ValueError("['region'], ['region', 'rep'], optionally followed by 'brand' or 'price_class'")
        return v

    @property
    def unit(self) -> float:
        """The rounding unit: ``rounding``, else 100 (元) for amount and 1 for qty."""
        return _default_unit(self.rounding, self.measure)

    @field_validator("total")
    @classmethod
    def _total(cls, v: float | None, info: ValidationInfo) -> float | None:
        unit = _default_unit(info.data.get("rounding"), info.data.get("measure", "amount"))
        if v is not None and unit and not _multiple(v, unit):
            raise ValueError(f"a whole multiple of the rounding unit {unit:g}")
        return v

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides_read(cls, v: Any) -> dict[str, Any]:
        return normalise_overrides(v)

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        unit = _default_unit(info.data.get("rounding"), info.data.get("measure", "amount"))
        total = info.data.get("total")
        nested = bool(v) and all(isinstance(x, dict) for x in v.values())
        for g in (v.values() if nested else [v]):
            for k, x in g.items():
                if unit and not _multiple(x, unit):
                    raise ValueError(f"values that are whole multiples of the rounding unit {unit:g} "
                                     f"(key {k!r}: {x:,.2f})")
            if total is not None and g:
                s = sum(g.values()) if nested else max(g.values())
                if s > total + 1e-9:
                    raise ValueError(f"values summing to at most the total {total:,.2f} (got {s:,.2f})")
        return v

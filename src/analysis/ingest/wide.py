"""Wide plans: a targets file with months as columns, melted to the long form.

Plans are written the way people read them: one row per rep (or region, brand …), one column
per month (``工号, 姓名, 2025年9月, …, 2026年12月``). The targets table is long (``period,
level, key, measure, value``). A targets file is read as wide when two or more of its headers
are months (2025年9月, 2025-09, 2025/9, 202509, a date cell) and none is the period column:

* **whose targets**: a 层级 (level) and 对象 (key) column when the file has them; else the
  first column naming reps (工号, 客户经理编码 → level ``rep``), SKUs (``sku``), brands, price
  classes or regions, in that order of preference;
* **which measure**: a 指标 column (金额 / 数量) when the file has one; else the unit of the
  month headers (``2025年9月(万元)``, or a unit row under them): money → ``amount``, volume →
  ``qty``. The unit also converts the values (万元 → yuan). Without either the file is refused;
* one target row per non-empty month cell (an empty cell is no target: skipped and counted);
  a totals row (合计, 总计, 小计) is not read; columns that are neither (姓名, 全年合计) are
  listed as not used.

The output says the file was read as a wide table and how.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .. import aliases
from ..errors import IngestError

_MONTH_RES = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{2})-01(?:t?00:00:00)?$"),  # a date cell (spaces removed by header_key)
)
# canonical columns of order lines that say whose target a row is: level, in order of preference
ID_LEVELS = (("rep_id", "rep"), ("sku_id", "sku"), ("brand", "brand"), ("price_class", "price_class"),
             ("region", "region"))
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "总合计", "total", "subtotal", "sum"})


def month_of(header: object) -> str | None:
    """``2025-09`` when a header is a month (a unit in brackets allowed), else None.

    Examples
    --------
    >>> month_of("2025年9月(万元)"), month_of("202509"), month_of("2025-09-01"), month_of("姓名")
    ('2025-09', '2025-09', '2025-09', None)
    """
    if header is None:
        return None
    base, _ = aliases.split_unit(header)
    for rx in _MONTH_RES:
        m = rx.match(base)
        if m and 1 <= int(m.group(2)) <= 12 and 1900 <= int(m.group(1)) <= 2200:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return None


@dataclass
class WidePlan:
    """How a wide targets file becomes long rows."""

    months: list[tuple[int, str]]  # (column index, "2025-09")
    unit: str | None
    level: str | None = None  # a fixed level (from the id column), or None when a level column gives it
    level_index: int | None = None
    key_index: int = 0
    measure: str | None = None  # a fixed measure (from the unit), or None when a measure column gives it
    measure_index: int | None = None
    unused: list[str] = field(default_factory=list)
    rows: int = 0
    blank_cells: int = 0
    totals: list[int] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        """The long table's headers (canonical names; the value carries the unit)."""
        return ["period", "level", "key", "measure", f"value({self.unit})" if self.unit else "value"]

    def note(self, headers: list[str]) -> str:
        first, last = self.months[0][1], self.months[-1][1]
        level = self.level if self.level_index is None else f"from {headers[self.level_index]}"
        how = [f"level {level}, key {headers[self.key_index]}"]
        if self.measure_index is not None:
            how.append(f"measure from {headers[self.measure_index]}")
        else:
            how.append(f"measure {self.measure} (unit {self.unit})")
        parts = [f"read as a wide table: {len(self.months)} month columns ({first} … {last}) × {self.rows} rows "
                 f"→ one target row per month ({'; '.join(how)})"]
        if self.blank_cells:
            parts.append(f"empty month cells skipped: {self.blank_cells}")
        if self.totals:
            parts.append(f"totals rows not read: {', '.join(str(r) for r in self.totals)}")
        if self.unused:
            parts.append(f"not used: {', '.join(self.unused)}")
        return "; ".join(parts)


def plan_wide(table: str, headers: list[str], user: dict[str, str] | None = None, source: str = "") -> WidePlan | None:
    """The wide plan of a targets file, or None when the file is not wide (see the module docstring).

    Raises IngestError when the file is wide but does not say whose targets or which measure.
    """
    from .normalise import header_candidate

    if table != "targets":
        return None
    months = [(i, m) for i, h in enumerate(headers) if (m := month_of(h))]
    if len(months) < 2:
        return None
    canon = {}
    for i, h in enumerate(headers):
        c = header_candidate(table, h, user, headers[:i])
        if c is not None and i not in dict(months):
            canon.setdefault(c[0], i)
    if "period" in canon:
        return None
    name = source or "the file"
    span = f"{len(months)} month columns: {months[0][1]} … {months[-1][1]}"
    units = {aliases.split_unit(headers[i])[1] for i, _ in months} - {None}
    if len(units) > 1:
        raise IngestError(f"{name}: read as a wide table of targets ({span}) but the month columns carry different "
                          f"units ({', '.join(sorted(units))}); give them one unit.")
    unit = next(iter(units), None)
    if unit is not None and aliases.unit_factor("money|volume", unit) is None:
        raise IngestError(f"{name}: the unit '{unit}' of the month columns is not known for target values; "
                          "known units: 元, 千元, 万元, 亿元, 条, 箱, 件, 盒, 支.")
    plan = WidePlan(months=months, unit=unit)
    if "key" in canon:
        plan.key_index = canon["key"]
        if "level" not in canon:
            raise IngestError(f"{name}: read as a wide table of targets ({span}) with a key column "
                              f"'{headers[canon['key']]}' but no level column (层级: rep, region, brand …).")
        plan.level_index = canon["level"]
    else:
        for col, level in ID_LEVELS:
            idx = next((i for i, h in enumerate(headers) if i not in dict(months)
                        and aliases.canonical_header("orders", aliases.split_unit(h)[0], names=[col])), None)
            if idx is not None:
                plan.key_index, plan.level = idx, level
                break
        else:
            raise IngestError(f"{name}: read as a wide table of targets ({span}) but no column says whose targets "
                              "they are; add a 工号 (rep), 区域 (region), 品牌 (brand) or 卷烟编码 (sku) column, "
                              "or 层级 and 对象 columns.")
    if "measure" in canon:
        plan.measure_index = canon["measure"]
    elif unit is not None:
        plan.measure = "amount" if aliases.unit_kind_of(unit) == "money" else "qty"
    else:
        raise IngestError(f"{name}: read as a wide table of targets ({span}) but not which measure; give the unit "
                          "in the month headers (2025年9月(万元)) or in a row under them, or add a 指标 column "
                          "(金额 / 数量).")
    used = {i for i, _ in months} | {plan.key_index, plan.level_index, plan.measure_index}
    plan.unused = [h for i, h in enumerate(headers) if i not in used and h]
    return plan


def melt(plan: WidePlan, rows: Iterable[tuple[int, list[str | None]]]) -> Iterator[tuple[int, list[str | None]]]:
    """Long rows ``(row number, [period, level, key, measure, value])`` of the wide rows given."""
    for row, cells in rows:
        def at(i: int | None) -> str | None:
            return cells[i] if i is not None and i < len(cells) else None

        key = at(plan.key_index)
        if key is not None and aliases.header_key(key) in TOTAL_WORDS:
            plan.totals.append(row)
            continue
        values = [(m, at(i)) for i, m in plan.months]
        if all(v is None or not str(v).strip() for v in values) and (key is None or not key.strip()):
            continue  # a blank row
        plan.rows += 1
        level = at(plan.level_index) if plan.level_index is not None else plan.level
        measure = at(plan.measure_index) if plan.measure_index is not None else plan.measure
        for m, v in values:
            if v is None or not str(v).strip():
                plan.blank_cells += 1
                continue
            yield row, [m, level, key, measure, v]

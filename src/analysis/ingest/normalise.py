"""Map a file's headers to the contract and turn its text cells into typed values, in SQL.

Headers are mapped by the user's mapping first (YAML ``{source header: canonical}``), then by
the built-in aliases of :mod:`analysis.aliases`, compared after NFKC/trim/lower case. When
several headers mean one column, the user's mapping wins, then the canonical name, then the
alias listed first. A header may carry a unit in brackets (``金额(万元)``, ``销量（箱）``): the
column's values are converted to the contract's unit (yuan; cartons 条) and the conversion is
reported. An unknown unit on a measure is refused with one line naming it.

Cells are normalised by SQL expressions run in the DuckDB work database (see
:func:`typed_sql`): full-width digits and punctuation (NFKC of U+FF01–U+FF5E, U+3000), trimming,
thousands separators, ``¥``/``元``, ``(123)`` = -123, dates as 2024-01-05, 2024/1/5, 2024.1.5,
2024年1月5日, 20240105, Excel serial numbers (days after 1899-12-30), months also as 2024-01,
2024年1月, 202401; yes/no words; Chinese category values (城镇 → urban …); grades as 25 or 25档.
Free-text columns are stored exactly as given. A cell that does not read as its type gets a
reason code (``not_a_number`` …), never a silent NULL.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

from .. import aliases
from ..contracts import SIZE_CLASSES, TABLES, TableSpec, spec
from ..errors import IngestError

# NFKC of the full-width ASCII block, the ideographic space, NBSP and the full-width yen sign
_FW = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\uffe5"
_HW = "".join(chr(c) for c in range(0x21, 0x7F)) + "  ¥"
_WS = " \t\r\n"
_FW_CLASS = "[\uff01-\uff5e\u3000\u00a0\uffe5]"
_CLEAN_CLASS = _FW_CLASS + r"|^\s|\s$"  # cells that need NFKC or trimming
# Excel's error values: a cell holding one is quarantined (reason excel_error), never read as empty
EXCEL_ERRORS = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#N/A N/A")


@dataclass
class ColumnPlan:
    """How one column of the file becomes one column of the table."""

    header: str
    index: int
    name: str
    dtype: str
    free_text: bool = False
    factor: str | None = None  # unit conversion factor (decimal string), None = as given
    unit: str | None = None
    unit_kind: str | None = None  # money / volume: the kind of the header's unit
    grade: bool = False
    extra: bool = False  # a column outside the contract kept as is (hr_snapshot)
    category: bool = False  # map Chinese/English category words to the contract's values


def load_mapping(mapping: str | os.PathLike | dict | None) -> dict[str, str]:
    """Read a user's mapping ``{source header: canonical name}`` (YAML file or dict)."""
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        data = mapping
    else:
        import yaml

        p = Path(mapping)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeError, yaml.YAMLError) as exc:
            raise IngestError(f"The mapping file {p} cannot be read: {str(exc).splitlines()[0]}") from None
        data = data or {}
    if not isinstance(data, dict) or not all(isinstance(k, (str, int)) and isinstance(v, str) for k, v in data.items()):
        raise IngestError("The mapping must be a YAML mapping {source column: canonical column}.")
    return {str(k): v for k, v in data.items()}


def _fmt_factor(f: str) -> str:
    d = Decimal(f)
    return f"{d:,.0f}" if d == d.to_integral_value() else format(d.normalize(), "f")


def map_headers(table: str, headers: list[str], mapping: dict[str, str] | None = None,
                source: str = "") -> tuple[dict[str, str], list[str]]:
    """Map a file's headers to canonical names: ({header: canonical}, [headers not used]).

    Examples
    --------
    >>> map_headers("orders", ["订单日期", "金额（万元）", "备注X"])
    ({'订单日期': 'order_date', '金额（万元）': 'amount'}, ['备注X'])
    """
    plans, unused = plan_columns(table, headers, mapping, source=source)
    return {p.header: p.name for p in plans if not p.extra}, unused


def plan_columns(table: str, headers: list[str], mapping: dict[str, str] | None = None, *, source: str = "",
                 sample: Callable[[int], list[str]] | None = None) -> tuple[list[ColumnPlan], list[str]]:
    """The column plan of a file: (plans of used columns in file order, [headers not used]).

    ``sample(i)`` returns some non-empty values of column ``i`` (to tell a grade column from a
    size-class column when the header is 档位). Raises IngestError for an unknown unit, a
    mapping to an unknown column, and a required column present only in a form not recognised.
    """
    ts = spec(table)
    name = source or "the file"
    user = {aliases.header_key(k): v for k, v in (mapping or {}).items()}
    for target in user.values():
        if target not in ts.names and not ts.keep_extra:
            raise IngestError(
                f"The mapping names '{target}', which is not a column of table '{table}' "
                f"(columns: {', '.join(ts.names)})."
            )
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for i, h in enumerate(headers):
        found = header_candidate(table, h, user, headers[:i])
        if found is not None:
            candidates.setdefault(found[0], []).append((found[1], i, h))
    _refuse_twins(candidates, name)
    chosen = {min(c)[2]: canon for canon, c in candidates.items()}
    # 档位: a grade (numbers, 25档) or a size class (大户/中户/小户), by its values
    for h, canon in list(chosen.items()):
        if canon == "grade" and aliases.header_key(h) in aliases.GRADE_OR_SIZE and "size_class" not in chosen.values():
            vals = sample(headers.index(h)) if sample else []
            sizes = set(aliases.VALUES["size_class"]) | set(SIZE_CLASSES)
            if vals and sum(aliases.header_key(v) in sizes for v in vals) > sum(
                    bool(_GRADE_RE.fullmatch(aliases.header_key(v))) for v in vals):
                chosen[h] = "size_class"
    plans: list[ColumnPlan] = []
    for i, h in enumerate(headers):
        if h not in chosen:
            continue
        canon = chosen[h]
        if canon not in ts.names:  # a user mapping to an extra column of hr_snapshot
            plans.append(ColumnPlan(h, i, canon, "auto", extra=True))
            continue
        c = ts.column(canon)
        plan = ColumnPlan(h, i, canon, c.dtype, free_text=c.free_text, grade=c.grade,
                          category=c.name in aliases.VALUES or c.allowed is not None)
        if c.unit is not None:
            _, unit = aliases.split_unit(_repeated(h, headers[:i]))
            if unit is not None:
                factor = aliases.unit_factor(c.unit, unit)
                if factor is None:
                    known = _known_units(c.unit)
                    raise IngestError(f"{name}: the unit '{unit}' of column '{h}' is not known for {canon}; "
                                      f"known units: {known}.")
                plan.unit, plan.unit_kind = unit, aliases.unit_kind_of(unit)
                if Decimal(factor) != 1:
                    plan.factor = factor
        plans.append(plan)
    used = {p.header for p in plans}
    unused = [h for h in headers if h not in used]
    if ts.keep_extra:
        for h in unused:
            plans.append(ColumnPlan(h, headers.index(h), _extra_name(h), "auto", extra=True))
        plans.sort(key=lambda p: p.index)
    _refuse_lookalikes(ts, plans, unused if not ts.keep_extra else [], name)
    return plans, unused


def header_candidate(table: str, header: str, user: dict[str, str] | None = None,
                     before: list[str] | None = None) -> tuple[str, int] | None:
    """(canonical column, rank) that ``header`` stands for in ``table``, or None.

    ``user`` is the user's mapping (keys as :func:`analysis.aliases.header_key`; rank -1). A
    header is tried as given, then as the header it repeats (``金额.1``, the second ``金额`` of
    a file, when ``金额`` is in ``before``), then by its last part (``销售情况/金额``, a header
    flattened from a group cell and the cell below it). A unit in brackets is allowed on a
    column with a unit (``金额(万元)``); the rank orders the headers meaning one column (0 = the
    canonical name, then the aliases in order).

    Examples
    --------
    >>> header_candidate("orders", "销售情况/金额(万元)")
    ('amount', 2)
    """
    ts = spec(table)
    user = user or {}
    k = aliases.header_key(header)
    if k in user:
        return user[k], -1
    for form in _forms(header, before or []):
        canon = aliases.canonical_header(table, form)
        base, unit = aliases.split_unit(form)
        if canon is None and unit is not None:
            canon = aliases.canonical_header(table, base)
            if canon is not None and ts.column(canon).unit is None:
                canon = None  # brackets on a column without a unit: not ours to guess
        if canon is not None:
            return canon, aliases.header_priority(table, canon, form if aliases.canonical_header(table, form) else base)
    return None


_REPEAT_RE = re.compile(r"^(.+)\.(\d+)$")


def _forms(header: str, before: list[str]) -> list[str]:
    """The header, the header it repeats (``金额.1`` → ``金额``), and its last part after a group
    (``销售情况/金额(万元)`` → ``金额(万元)``)."""
    out = [header]
    if _repeated(header, before) != header:
        out.append(_repeated(header, before))
    for f in list(out):
        base, unit = aliases.split_unit(f)
        if "/" in base:
            out.append(base.rsplit("/", 1)[1] + (f"({unit})" if unit else ""))
    return out


def _refuse_twins(candidates: dict[str, list[tuple[int, int, str]]], source: str) -> None:
    """Two headers that read as one column equally well (the same header twice, or the same
    name under two groups) are refused, naming both: which one is meant is for the user to say."""
    for canon, cands in candidates.items():
        best = min(r for r, _, _ in cands)
        tied = [(i, h) for r, i, h in cands if r == best]
        if len(tied) > 1:
            (i1, h1), (i2, h2) = tied[:2]
            d1, d2 = h1, _repeated(h2, [h1])
            what = (f"columns {i1 + 1} and {i2 + 1} are both headed '{d1}' (read as {canon})" if d1 == d2 else
                    f"columns {i1 + 1} '{h1}' and {i2 + 1} '{h2}' both read as {canon}")
            raise IngestError(
                f"{source}: {what}; choose one with --mapping "
                f"(a line '{h2}: {canon}' takes column {i2 + 1}, '{h1}: {canon}' column {i1 + 1}).")


def _repeated(header: str, before: list[str]) -> str:
    """The header a repeated header stands for (``金额.1`` → ``金额`` when ``金额`` came before)."""
    m = _REPEAT_RE.match(header)
    return m.group(1) if m and m.group(1) in before else header


_GRADE_RE = re.compile(r"^第?\d{1,2}(\.0+)?档?$")


def _extra_name(h: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", str(h)).strip()


def _known_units(kind: str) -> str:
    if kind == "money":
        return "元, 千元, 万元, 百万元, 亿元"
    if kind == "volume":
        return "条, 箱 (= 250 条), 件 (= 箱), 盒/包 (= 1/10 条), 支 (= 1/200 条), 万支 (= 50 条)"
    if kind == "money/volume":
        return "元, 元/条, 元/箱, 元/盒, 万元/箱 …"
    return "元, 千元, 万元, 亿元, 条, 箱, 件, 盒, 支"


def _refuse_lookalikes(ts: TableSpec, plans: list[ColumnPlan], unused: list[str], source: str) -> None:
    """A required (or one-of) column present only in a form not recognised is an error, not a drop."""
    mapped = {p.name for p in plans}
    needed = set(ts.required) | {c for g in ts.one_of for c in g}
    for canon in sorted(needed - mapped, key=ts.names.index):
        keys = {aliases.header_key(canon)} | {aliases.header_key(a) for a in aliases.aliases_for(ts.name).get(canon, ())}
        keys = {aliases.split_unit(k)[0] for k in keys if len(k) >= 2}
        for h in unused:
            base = aliases.split_unit(h)[0]
            if any(base.startswith(k) for k in keys):
                raise IngestError(
                    f"{source}: column '{h}' looks like '{canon}' of table '{ts.name}' but is not recognised; "
                    f"write it as one of the known headers (a unit in brackets, as 金额(万元), is understood) "
                    f"or map it with --mapping.")


def missing_required(ts: TableSpec, present: set[str]) -> str | None:
    """The first required column (or one-of group) that ``present`` lacks, quoted; None when complete."""
    for n in ts.required:
        if n not in present:
            return f"'{n}'"
    for group in ts.one_of:
        if not present.intersection(group):
            return " or ".join(f"'{n}'" for n in group)
    return None


def conversion_text(plan: ColumnPlan) -> str:
    """``金额(万元) → amount × 10,000`` (the part after the arrow)."""
    return f"{plan.name} × {_fmt_factor(plan.factor)}" if plan.factor else plan.name


# ---------------------------------------------------------------------------------------------
# SQL: text cells to typed values (DuckDB)
# ---------------------------------------------------------------------------------------------
def _s(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


MACROS = [
    # text: NFKC of full-width forms, trimmed, '' → NULL (translate and trim only where needed:
    # both are slow per call, and most cells are plain)
    f"CREATE OR REPLACE MACRO sa_clean(s) AS CASE WHEN regexp_matches(s, {_s(_CLEAN_CLASS)}) "
    f"THEN nullif(trim(translate(s, {_s(_FW)}, {_s(_HW)}), {_s(_WS)}), '') ELSE nullif(s, '') END",
    # numbers: the slow path for cells that are not plain numbers
    r"""CREATE OR REPLACE MACRO sa_n1(v) AS replace(regexp_replace(v, '^[¥$]\s*|\s*元$', '', 'g'), ' ', '')""",
    r"""CREATE OR REPLACE MACRO sa_n2(w) AS CASE WHEN regexp_full_match(w, '\([^()]+\)')
        THEN '-' || substr(w, 2, length(w) - 2) ELSE w END""",
    r"""CREATE OR REPLACE MACRO sa_n3(w) AS CASE WHEN regexp_full_match(w, '[+-]?\d{1,3}(,\d{3})+(\.\d*)?')
        THEN replace(w, ',', '') ELSE w END""",
    r"""CREATE OR REPLACE MACRO sa_n4(w) AS CASE WHEN regexp_full_match(w, '[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?')
        THEN TRY_CAST(w AS DOUBLE) END""",
    "CREATE OR REPLACE MACRO sa_fin(x) AS CASE WHEN isfinite(x) THEN x END",
    "CREATE OR REPLACE MACRO sa_fast(v) AS sa_fin(CASE WHEN NOT contains(v, '_') THEN TRY_CAST(v AS DOUBLE) END)",
    "CREATE OR REPLACE MACRO sa_num(v) AS CASE WHEN v IS NULL THEN NULL "
    "WHEN sa_fast(v) IS NOT NULL THEN sa_fast(v) ELSE sa_fin(sa_n4(sa_n3(sa_n2(sa_n1(v))))) END",
    r"""CREATE OR REPLACE MACRO sa_grade(v) AS CASE WHEN contains(v, '档')
        THEN regexp_replace(v, '^第?\s*(\d+)\s*档$', '\1') ELSE v END""",
    # dates
    "CREATE OR REPLACE MACRO sa_ymd(s) AS TRY_CAST(s.y || '-' || lpad(s.m, 2, '0') || '-' || lpad(s.d, 2, '0') AS DATE)",
    "CREATE OR REPLACE MACRO sa_ym(s) AS TRY_CAST(s.y || '-' || lpad(s.m, 2, '0') || '-01' AS DATE)",
    r"""CREATE OR REPLACE MACRO sa_d1(v) AS regexp_extract(v,
        '^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?$',
        ['y', 'm', 'd'])""",
    r"CREATE OR REPLACE MACRO sa_d2(v) AS regexp_extract(v, '^(\d{4})(\d{2})(\d{2})$', ['y', 'm', 'd'])",
    r"CREATE OR REPLACE MACRO sa_m1(v) AS regexp_extract(v, '^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$', ['y', 'm'])",
    r"CREATE OR REPLACE MACRO sa_m2(v) AS regexp_extract(v, '^(\d{4})(\d{2})$', ['y', 'm'])",
    r"""CREATE OR REPLACE MACRO sa_serial(v) AS CASE WHEN regexp_full_match(v, '\d{1,5}(\.\d+)?')
        AND TRY_CAST(v AS DOUBLE) >= 1 THEN DATE '1899-12-30' + CAST(floor(TRY_CAST(v AS DOUBLE)) AS INTEGER) END""",
    """CREATE OR REPLACE MACRO sa_dfast(v) AS CASE WHEN length(v) = 10 AND substr(v, 5, 1) = '-'
        AND substr(v, 8, 1) = '-' AND substr(v, 1, 1) BETWEEN '0' AND '9' THEN TRY_CAST(v AS DATE) END""",
    """CREATE OR REPLACE MACRO sa_date(v) AS CASE WHEN v IS NULL THEN NULL WHEN sa_dfast(v) IS NOT NULL
        THEN sa_dfast(v) WHEN sa_d1(v).y <> '' THEN sa_ymd(sa_d1(v)) WHEN sa_d2(v).y <> '' THEN sa_ymd(sa_d2(v))
        ELSE sa_serial(v) END""",
    """CREATE OR REPLACE MACRO sa_month(v) AS CASE WHEN v IS NULL THEN NULL WHEN sa_dfast(v) IS NOT NULL
        THEN sa_dfast(v) WHEN sa_d1(v).y <> '' THEN sa_ymd(sa_d1(v)) WHEN sa_d2(v).y <> '' THEN sa_ymd(sa_d2(v))
        WHEN sa_m1(v).y <> '' THEN sa_ym(sa_m1(v)) WHEN sa_m2(v).y <> '' THEN sa_ym(sa_m2(v)) ELSE sa_serial(v) END""",
    "CREATE OR REPLACE MACRO sa_dshape(v) AS sa_d1(v).y <> '' OR sa_d2(v).y <> ''",
    "CREATE OR REPLACE MACRO sa_mshape(v) AS sa_d1(v).y <> '' OR sa_d2(v).y <> '' OR sa_m1(v).y <> '' OR sa_m2(v).y <> ''",
]


def install_macros(con) -> None:
    """Create the normalisation macros in a DuckDB connection."""
    for m in MACROS:
        con.execute(m)


def _in_list(words) -> str:
    return ", ".join(_s(w) for w in sorted(words))


def parse_sql(plan: ColumnPlan, raw: str) -> str:
    """First pass over a raw text column: the parsed value (numbers may still be inf/NaN), or for
    text the cleaned text (categories: their comparable key). Plain cells take a fast path
    (one cast); only the others are cleaned (NFKC, trimming) and parsed the slow way."""
    t = plan.dtype
    if t == "str":
        if plan.free_text:
            return f"nullif({raw}, '')"
        v = f"sa_clean({raw})"
        return f"lower(replace({v}, ' ', ''))" if plan.category else v
    if t in ("int", "float"):
        v = f"sa_clean({raw})"
        slow = f"sa_n4(sa_n3(sa_n2(sa_n1({'sa_grade(' + v + ')' if plan.grade else v}))))"
        return (f"CASE WHEN {raw} IS NULL THEN NULL ELSE coalesce(TRY_CAST(CASE WHEN NOT contains({raw}, '_') "
                f"THEN {raw} END AS DOUBLE), {slow}) END")
    if t in ("date", "month"):
        fn = "sa_month" if t == "month" else "sa_date"
        return f"CASE WHEN {raw} IS NULL THEN NULL ELSE coalesce(sa_dfast({raw}), {fn}(sa_clean({raw}))) END"
    if t == "bool":
        k = f"lower(sa_clean({raw}))"
        return (f"(CASE WHEN {k} IN ({_in_list(aliases.TRUE_WORDS)}) THEN TRUE "
                f"WHEN {k} IN ({_in_list(aliases.FALSE_WORDS)}) THEN FALSE END)")
    raise ValueError(f"unknown logical type {t!r}")


def typed_sql(plan: ColumnPlan, p: str, raw: str) -> tuple[str, str]:
    """(value, reason code) SQL of a column from its first-pass result ``p`` and raw text ``raw``;
    the code is NULL when the cell reads (an empty or blank cell reads as NULL).

    Examples
    --------
    >>> typed_sql(ColumnPlan("金额", 0, "amount", "float"), "p0", "c0")[0]
    'CASE WHEN isfinite(p0) THEN p0 END'
    """
    t = plan.dtype
    given = f"sa_clean({raw}) IS NOT NULL"
    # as Excel writes it, or with spaces around / in full-width characters (a CSV saved by WPS)
    err = (f"WHEN {raw} IN ({_in_list(EXCEL_ERRORS)}) OR ((strpos({raw}, '#') > 0 OR strpos({raw}, '＃') > 0) "
           f"AND upper(sa_clean({raw})) IN ({_in_list(EXCEL_ERRORS)})) THEN 'excel_error'")
    if t == "str":
        why = f"CASE {err} END"
        if plan.category:
            pairs = aliases.VALUES.get(plan.name, {})
            if pairs:
                whens = " ".join(f"WHEN {p} = {_s(aliases.header_key(a))} THEN {_s(c)}" for a, c in pairs.items())
                return f"(CASE {whens} ELSE {p} END)", why
        return p, why
    if t in ("int", "float"):
        bad = "'not_a_grade'" if plan.grade else "'not_a_number'"
        if t == "int":
            whole = "'not_a_grade'" if plan.grade else "'not_whole'"
            ok = f"isfinite({p}) AND {p} = trunc({p}) AND abs({p}) < 9e18"
            return (f"CASE WHEN {ok} THEN CAST({p} AS BIGINT) END",
                    f"CASE WHEN {ok} THEN NULL WHEN isfinite({p}) THEN {whole} {err} WHEN {given} THEN {bad} END")
        val = f"round({p} * {plan.factor}, 6)" if plan.factor else p
        return (f"CASE WHEN isfinite({p}) THEN {val} END",
                f"CASE WHEN isfinite({p}) THEN NULL {err} WHEN {given} THEN {bad} END")
    if t in ("date", "month"):
        shape = "sa_mshape" if t == "month" else "sa_dshape"
        return p, (f"CASE WHEN {p} IS NOT NULL THEN NULL WHEN NOT {given} THEN NULL {err} "
                   f"WHEN {shape}(sa_clean({raw})) THEN 'impossible_date' ELSE 'not_a_date' END")
    if t == "bool":
        return p, f"CASE WHEN {p} IS NOT NULL THEN NULL {err} WHEN {given} THEN 'not_a_bool' END"
    raise ValueError(f"unknown logical type {t!r}")


_ALLOWED_COLUMNS = {c.name for t in TABLES.values() for c in t.columns if c.allowed}

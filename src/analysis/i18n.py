"""Message catalogues: every sentence, label and number format of the reports, per language.

One YAML file per language lives in ``analysis/locales/`` (``zh.yml``, ``en.yml``); the
languages are whatever files are there, so adding a language means adding one file. More
catalogues can live outside the package: ``$SALES_ANALYSIS_LOCALES`` names one or more folders
(separated by ``os.pathsep``) whose ``<lang>.yml`` files are languages too (a file with the code
of a packaged one replaces it, for a department's own wording). The variable reaches the
report kernels, so a run in such a language needs no code change. A catalogue has four parts:

``language``
    ``code`` and ``name`` of the language, optionally ``html`` (the page's ``lang``
    attribute, default the code).
``format``
    Locale data for numbers: the undefined value ("—"), plus and minus signs, the list and
    sentence separators, month names, and one entry per value kind (see :data:`KINDS`) with
    its text rules, its table form and its Excel number format.
``labels``
    Column headers, table and section titles, category names: ``{dotted.id: text}``.
``messages``
    Sentences with named placeholders: ``{dotted.id: text}`` or, where word order or wording
    depends on a direction, ``{dotted.id: {variant: text, ...}}`` (for instance ``up`` and
    ``down``), chosen by the ``variant`` argument of :func:`message`.

Placeholders are written ``{name}`` or ``{name:spec}``. ``spec`` is one of

- a value kind, for instance ``{amount:money}``, ``{share:rate}``, ``{shift:pp}``,
  optionally followed by ``.abs`` (the magnitude) or ``.signed`` (always a sign):
  ``{yoy:change.abs}``, ``{change:money.signed}``;
- ``code:<prefix>``: the value is a code translated by :func:`label` with the id
  ``<prefix>.<value>``, for instance ``{grain:code:grain}`` → ``label("grain.daily")``;
- ``name:<prefix>``: the value is a name from the data (a column of an HR export): its
  label ``<prefix>.<value>`` when the catalogues have one, else the name as it is;
- ``measured``: the value is a :class:`Measured` number that carries its own kind, for a
  figure whose unit the data decide (money, or a quantity in the products' unit: 条, 箱, 包),
  optionally ``.abs`` or ``.signed`` as for kinds: ``{gap:measured}``, ``{change:measured.abs}``;
- ``clauses``: the value is a list of clauses (strings or :class:`Msg`) joined with the
  language's clause separator ("，" / ", ");
- a Python format specification, for instance ``{z:.2f}``.

A value that is a :class:`Msg` is rendered in the same language; a list or tuple is
joined with the language's list separator (each item rendered the same way).

Examples
--------
>>> message("skip.missing_table", "zh", table="visits")
'数据中没有「拜访」表'
>>> message("skip.missing_table", "en", table="visits")
"the store has no table 'visits'"
>>> format_value(35649026.0, "money", "zh"), format_value(35649026.0, "money", "en")
('3,564.9万元', '35,649,026 yuan')
>>> label("column.attainment", "en")
'Attainment'
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .errors import CatalogueError, MessageError

LOCALE_DIR = Path(__file__).with_name("locales")
#: Extra catalogue folders (``os.pathsep``-separated), read at every lookup.
LOCALES_ENV = "SALES_ANALYSIS_LOCALES"
DEFAULT_LANG = "zh"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")

#: The value kinds every catalogue must define under ``format.kinds``.
KINDS: tuple[str, ...] = (
    "text", "int", "count", "qty", "qty_case", "qty_pack", "qty_mixed", "money", "money_wan", "money_signed", "rate", "change",
    "pp", "signed",
    "f1", "f2", "f3", "p_value", "date", "month", "flag",
)
#: Kinds whose values are numbers (right-aligned in tables, numeric cells in Excel).
NUMERIC_KINDS = frozenset(KINDS) - {"text", "date", "month", "flag"}


# ----------------------------------------------------------------------------- errors
def _allowed(items: Iterable[str], limit: int = 12) -> str:
    items = sorted(items)
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def _closest(given: str, allowed: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(given, list(allowed), n=3, cutoff=0.6)  # best first
    return ", ".join(repr(n) for n in near)


# -------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Msg:
    """A sentence to be written: a message id, its values and an optional variant.

    Text functions return these (never strings), so they choose ids and values only and
    one code path renders them in any language.

    Examples
    --------
    >>> Msg("skip.no_data").render("en")
    'no data in the period'
    """

    id: str
    values: Mapping[str, Any] = field(default_factory=dict)
    variant: str | None = None

    def render(self, lang: str = DEFAULT_LANG) -> str:
        """This message in ``lang`` (see :func:`message`)."""
        return message(self.id, lang, variant=self.variant, **dict(self.values))


def msg(msg_id: str, variant: str | None = None, **values: Any) -> Msg:
    """Shorthand for ``Msg(msg_id, values, variant)``."""
    return Msg(msg_id, values, variant)


@dataclass(frozen=True)
class Measured:
    """A number with its value kind, for a ``{name:measured}`` placeholder: a figure of the
    report's measure, money or a quantity in the products' unit, chosen by the data.

    Examples
    --------
    >>> message("sales_trends.attainment.decline_item", "zh", key="市区", change=Measured(-1200.0, "qty_case"))
    '市区（-1,200箱）'
    >>> message("sales_trends.attainment.decline_item", "en", key="urban", change=Measured(-1200.0, "money"))
    'urban (-1,200 yuan)'
    """

    value: Any
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MessageError(f"The 'kind' parameter of Measured must be one of {_allowed(KINDS)}. "
                               f"Got {self.kind!r} instead.")


@dataclass(frozen=True)
class Catalogue:
    """One language's catalogue, parsed and checked (see the module docstring)."""

    lang: str
    name: str
    format: Mapping[str, Any]
    labels: Mapping[str, str]
    messages: Mapping[str, Mapping[str | None, str]]  # id → {variant or None: text}
    path: Path
    html: str = ""  # the HTML lang attribute (default: the code)

    def placeholders(self, msg_id: str) -> dict[str, str]:
        """{name: spec} of a message, the union over its variants."""
        out: dict[str, str] = {}
        for text in self.messages[msg_id].values():
            out.update(_fields(text))
        return out


def _fields(text: str) -> dict[str, str]:
    out = {}
    for _, name, spec, conv in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier():
            raise CatalogueError(f"Placeholder {{{name}}} is not a name: write {{name}} or {{name:spec}}.")
        out[name] = spec or ""
    return out


def _load(path: Path) -> Catalogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"The catalogue {path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or set(raw) != {"language", "format", "labels", "messages"}:
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise CatalogueError(f"The catalogue {path.name} must have the parts 'format', 'labels', 'language', "
                             f"'messages'. Got {got} instead.")
    lang = path.stem
    if raw["language"].get("code") != lang:
        raise CatalogueError(f"The catalogue {path.name} must say language.code: {lang}. "
                             f"Got {raw['language'].get('code')!r} instead.")
    labels: dict[str, str] = {}
    for k, v in (raw["labels"] or {}).items():
        if not ID_RE.match(str(k)) or not isinstance(v, str):
            raise CatalogueError(f"Label {k!r} in {path.name} must be a dotted lower-case id with a text value. "
                                 f"Got {v!r} instead.")
        labels[k] = v
    messages: dict[str, dict[str | None, str]] = {}
    for k, v in (raw["messages"] or {}).items():
        if not ID_RE.match(str(k)):
            raise CatalogueError(f"Message id {k!r} in {path.name} must be a dotted lower-case ASCII id.")
        if isinstance(v, str):
            messages[k] = {None: v}
        elif isinstance(v, dict) and v and all(isinstance(x, str) and str(n).isidentifier() for n, x in v.items()):
            messages[k] = {str(n): x for n, x in v.items()}
        else:
            raise CatalogueError(f"Message {k!r} in {path.name} must be a text or a mapping of variant → text. "
                                 f"Got {v!r} instead.")
        for text in messages[k].values():
            _fields(text)
    fmt = raw["format"] or {}
    missing = [k for k in KINDS if k not in fmt.get("kinds", {})]
    if missing:
        raise CatalogueError(f"The catalogue {path.name} has no format for the kinds {', '.join(missing)}.")
    return Catalogue(lang, str(raw["language"].get("name", lang)), fmt, labels, messages, path,
                     str(raw["language"].get("html") or lang))


def locale_dirs() -> tuple[str, ...]:
    """The folders catalogues are read from: the package's ``locales`` folder, then the
    folders of ``$SALES_ANALYSIS_LOCALES`` in order (a later file of the same language wins)."""
    extra = [d for d in os.environ.get(LOCALES_ENV, "").split(os.pathsep) if d.strip()]
    return (str(LOCALE_DIR), *extra)


@functools.lru_cache(maxsize=None)
def _catalogues(directories: tuple[str, ...]) -> dict[str, Catalogue]:
    found: dict[str, Catalogue] = {}
    for directory in directories:
        if not Path(directory).is_dir():
            raise CatalogueError(f"The catalogue folder {directory} (${LOCALES_ENV}) does not exist.")
        files = sorted(Path(directory).glob("*.yml"))
        if not files:
            raise CatalogueError(f"No message catalogue (*.yml) in {directory}.")
        found.update({p.stem: _load(p) for p in files})
    return found


def _all() -> dict[str, Catalogue]:
    return _catalogues(locale_dirs())


def languages() -> tuple[str, ...]:
    """The languages with a catalogue, the default (``zh``) first.

    Examples
    --------
    >>> languages()[:2]
    ('zh', 'en')
    """
    found = list(_all())
    return tuple(sorted(found, key=lambda c: (c != DEFAULT_LANG, c)))


def html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute of a language (the catalogue's ``language.html``).

    Examples
    --------
    >>> html_lang("zh"), html_lang("en")
    ('zh-CN', 'en')
    """
    return catalogue(lang).html


def check_lang(lang: Any, caller: str = "message") -> str:
    """``lang`` if it has a catalogue, else a :class:`ParameterError`-like one-line error."""
    langs = languages()
    if lang not in langs:
        raise MessageError(f"The 'lang' parameter of {caller} must be one of {_allowed(langs)}. Got {lang!r} instead.")
    return lang


def catalogue(lang: str = DEFAULT_LANG) -> Catalogue:
    """The parsed catalogue of ``lang``."""
    return _all()[check_lang(lang, "catalogue")]


def reload() -> None:
    """Forget the parsed catalogues (after editing a file in a running kernel)."""
    _catalogues.cache_clear()


def has_message(msg_id: str, lang: str = DEFAULT_LANG) -> bool:
    return msg_id in catalogue(lang).messages


def has_label(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in catalogue(lang).labels


def message(msg_id: str, lang: str = DEFAULT_LANG, variant: str | None = None, **values: Any) -> str:
    """The sentence ``msg_id`` in ``lang`` with ``values`` in its placeholders.

    Parameters
    ----------
    msg_id : str
        A message id of the catalogues, for instance ``"skip.missing_table"``.
    lang : str
        A language with a catalogue (:func:`languages`).
    variant : str, optional
        Required for a message with variants (for instance ``"up"`` or ``"down"``); not
        allowed for one without.
    **values
        Exactly the message's placeholders (the union over its variants): a missing or an
        extra value is an error.

    Returns
    -------
    str

    Raises
    ------
    MessageError
        Unknown language, id or variant; missing or extra values.

    Examples
    --------
    >>> message("skip.too_short", "en", needed=24, got=10)
    'needs 24 months of history, the data have 10'
    """
    cat = catalogue(check_lang(lang, "message"))
    if msg_id not in cat.messages:
        near = _closest(msg_id, cat.messages)
        raise MessageError(f"The message id {msg_id!r} is not in the {lang} catalogue"
                           + (f"; close ids: {near}." if near else "."))
    variants = cat.messages[msg_id]
    if None in variants:
        if variant is not None:
            raise MessageError(f"The message {msg_id!r} has no variants. Got variant={variant!r} instead.")
        text = variants[None]
    else:
        if variant not in variants:
            raise MessageError(f"The 'variant' parameter of message {msg_id!r} must be one of {_allowed(variants)}. "
                               f"Got {variant!r} instead.")
        text = variants[variant]
    wanted = cat.placeholders(msg_id)
    missing = sorted(set(wanted) - set(values))
    extra = sorted(set(values) - set(wanted))
    if missing or extra:
        raise MessageError(f"The message {msg_id!r} takes the values {_allowed(wanted) or '(none)'}. "
                           f"Got {_allowed(values) or '(none)'} instead"
                           + (f" (missing {', '.join(missing)})" if missing else "")
                           + (f" (unknown {', '.join(extra)})" if extra else "") + ".")
    return _Formatter(lang).format(text, **values)


def label(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label ``key`` (a column header, a table or section title, a category) in ``lang``.

    An unknown key is an error, never echoed.

    Examples
    --------
    >>> label("column.region", "zh")
    '区域'
    """
    cat = catalogue(check_lang(lang, "label"))
    try:
        return cat.labels[key]
    except KeyError:
        near = _closest(str(key), cat.labels)
        raise MessageError(f"The label {key!r} is not in the {lang} catalogue"
                           + (f"; close ids: {near}." if near else ".")) from None


def name_label(prefix: str, name: Any, lang: str = DEFAULT_LANG) -> str:
    """A name from the data (a column of an HR export, a region): the label
    ``<prefix>.<name>`` when the catalogues have one, else the name as it is. For data only:
    a key written in code goes through the strict :func:`label`.

    Examples
    --------
    >>> name_label("column", "team_bonus_share", "en"), name_label("column", "OverTime", "en")
    ('Team bonus share', 'OverTime')
    """
    key = f"{prefix}.{name}"
    return label(key, lang) if has_label(key, lang) else str(name)


def join_list(items: Iterable[Any], lang: str = DEFAULT_LANG) -> str:
    """Items (strings or :class:`Msg`) joined with the language's list separator ("、" / ", ")."""
    sep = catalogue(lang).format.get("list_separator", ", ")
    return sep.join(_render_value(i, lang) for i in items)


def join_sentences(sentences: Iterable[str], lang: str = DEFAULT_LANG) -> str:
    """Sentences joined into one paragraph ("" in Chinese, " " in English)."""
    sep = catalogue(lang).format.get("sentence_separator", " ")
    return sep.join(s for s in sentences if s)


def _render_value(v: Any, lang: str) -> str:
    if isinstance(v, Msg):
        return v.render(lang)
    if isinstance(v, (list, tuple)):
        return join_list(v, lang)
    return str(v)


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, (list, tuple)) and format_spec == "clauses":
            sep = catalogue(self.lang).format.get("clause_separator", ", ")
            return sep.join(_render_value(v, self.lang) for v in value)
        if isinstance(value, Msg) or isinstance(value, (list, tuple)):
            if format_spec:
                if isinstance(value, (list, tuple)):
                    return join_list([self.format_field(v, format_spec) for v in value], self.lang)
                raise MessageError(f"A message value takes no format spec. Got {format_spec!r} instead.")
            return _render_value(value, self.lang)
        if format_spec.startswith("code:"):
            return label(f"{format_spec[5:]}.{value}", self.lang)
        if format_spec.startswith("name:"):
            return name_label(format_spec[5:], value, self.lang)
        kind, _, mod = format_spec.partition(".")
        if kind == "measured":
            if not isinstance(value, Measured):
                raise MessageError(f"The value of a {{name:measured}} placeholder must be a Measured(value, kind). "
                                   f"Got {type(value).__name__} instead.")
            value, kind = value.value, value.kind
        if kind in KINDS:
            if mod not in ("", "abs", "signed"):
                raise MessageError(f"The modifier of kind {kind!r} must be one of 'abs', 'signed'. Got {mod!r} instead.")
            return format_value(value, kind, self.lang, sign=mod or None)
        if _undefined(value):
            return catalogue(self.lang).format.get("undefined", "—")
        return super().format_field(value, format_spec)


# ------------------------------------------------------------------------- numbers
def _undefined(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (str, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _as_date(value: Any) -> dt.date:
    import pandas as pd

    if isinstance(value, pd.Period):
        return value.start_time.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value)
    if re.fullmatch(r"\d{4}-\d{2}", s):
        s += "-01"
    return pd.Timestamp(s).date()


def _rule(rules: list[Mapping[str, Any]], v: float) -> Mapping[str, Any]:
    for r in rules:
        if "abs_ge" in r and not abs(v) >= float(r["abs_ge"]):
            continue
        if "abs_lt" in r and not abs(v) < float(r["abs_lt"]):
            continue
        return r
    return rules[-1]


def kind_spec(kind: str, lang: str = DEFAULT_LANG) -> Mapping[str, Any]:
    """The catalogue's entry for a value kind (rules, table form, header, Excel format)."""
    if kind not in KINDS:
        raise MessageError(f"The 'kind' parameter of format_value must be one of {_allowed(KINDS, 20)}. "
                           f"Got {kind!r} instead.")
    return catalogue(lang).format["kinds"][kind]


def format_value(value: Any, kind: str, lang: str = DEFAULT_LANG, *, table: bool = False,
                 sign: str | None = None, unit: Mapping[str, Any] | None = None) -> str:
    """One value written in ``lang`` as ``kind``; the same function serves text and tables.

    Parameters
    ----------
    value : object
        A number, date, month ("YYYY-MM", :class:`pandas.Period`), bool or text. None, NaN
        and inf are undefined and written as the catalogue's ``format.undefined`` ("—").
    kind : str
        One of :data:`KINDS`. ``money`` is yuan (in Chinese text 万元 from 10,000 yuan on),
        ``money_wan`` is shown in 万元 (10k yuan) everywhere, ``money_signed`` a change of money
        (signed, in the column's unit), ``rate`` a fraction shown as a
        percentage with one decimal, ``change`` a signed relative change, ``pp`` a change of
        shares already in percentage points, ``signed`` a signed amount.
    lang : str
        A language with a catalogue.
    table : bool, default False
        The table form: the bare number (the unit is in the header, see
        :func:`header_label`) instead of the text form with its unit.
    sign : {None, "abs", "signed"}
        ``"abs"`` writes the magnitude (for sentences whose variant says the direction);
        ``"signed"`` always writes a sign.
    unit : mapping, optional
        The table form of a column's unit (:func:`table_unit`): with ``table=True``, the
        number is written by it (``{scale, number}``) instead of the kind's table form.

    Examples
    --------
    >>> format_value(0.1234, "rate", "en"), format_value(-1.25, "pp", "zh"), format_value(None, "rate", "zh")
    ('12.3%', '-1.2个百分点', '—')
    >>> format_value(-3669433.0, "money", "zh", sign="abs"), format_value(3669433.0, "money", "en", sign="signed")
    ('366.9万元', '+3,669,433 yuan')
    """
    spec = kind_spec(kind, check_lang(lang, "format_value"))
    fmt = catalogue(lang).format
    if _undefined(value):
        return fmt.get("undefined", "—")
    if kind == "text":
        return str(value)
    if kind == "flag":
        return spec["yes"] if bool(value) else spec["no"]
    if kind in ("date", "month"):
        d = _as_date(value)
        names = fmt.get("month_names") or [str(m) for m in range(1, 13)]
        return spec["pattern"].format(year=d.year, month=d.month, day=d.day, month_name=names[d.month - 1],
                                      iso=d.isoformat())
    if isinstance(value, str):
        return value
    v = float(value)
    rules = spec["rules"]
    if kind == "p_value" and not table and 0 <= v < float(spec.get("floor", 0)):
        return spec["below_floor"]
    rule = dict(spec.get("table", {})) if table and "table" in spec else _rule(rules, v)
    if table and "table" in spec:
        rule = {**_rule(rules, v), **rule}
    if table and unit is not None:
        rule = {**_rule(rules, v), "scale": 1, **{k: unit[k] for k in ("scale", "number", "signed") if k in unit}}
    x = v / float(rule.get("scale", 1))
    signed = bool(rule.get("signed")) if sign is None else sign == "signed"
    if sign == "abs" or signed:
        number = rule["number"].format(v=abs(x))
        if signed and not (x == 0 and not rule.get("sign_zero", True)):
            number = (fmt.get("minus", "-") if x < 0 else fmt.get("plus", "+")) + number
    else:
        number = rule["number"].format(v=x)
    if table:
        return number
    return rule.get("text", "{number}").format(number=number)


def table_unit(kind: str, values: Iterable[Any] = (), lang: str = DEFAULT_LANG) -> Mapping[str, Any] | None:
    """The unit of a table column of ``kind``: one unit for the whole column (and for its
    header and its Excel cells), chosen by the column's largest magnitude from the kind's
    ``units`` list in the catalogue (first matching ``abs_ge`` / ``abs_lt`` rule wins; in
    Chinese an amount column reaching 10,000 yuan is in 万元, else in 元). None when the kind
    has no units (its plain table form applies).

    Examples
    --------
    >>> table_unit("money", [1234.0, 35133743.0], "zh")["header"]
    '{label}（万元）'
    >>> table_unit("money", [1234.0], "zh")["header"]
    '{label}（元）'
    """
    units = kind_spec(kind, lang).get("units")
    if not units:
        return None
    big = 0.0
    for v in values:
        if _undefined(v) or isinstance(v, (str, bool)):
            continue
        try:
            big = max(big, abs(float(v)))
        except (TypeError, ValueError):
            continue
    return _rule(list(units), big)


def header_label(key: str, kind: str, lang: str = DEFAULT_LANG, unit: Mapping[str, Any] | None = None) -> str:
    """A column header: its label, with the unit of the kind's table form where it has one
    (``金额（万元）``, ``Change (pp)``); ``unit`` (:func:`table_unit`) names the column's own unit."""
    head = label(key, lang)
    pattern = (unit or {}).get("header") or kind_spec(kind, lang).get("header")
    return pattern.format(label=head) if pattern else head


def excel_format(kind: str, lang: str = DEFAULT_LANG, unit: Mapping[str, Any] | None = None) -> tuple[str, float]:
    """(Excel number format, scale) of a value kind; a cell holds value ÷ scale. With a column's
    ``unit`` (:func:`table_unit`) the cell keeps the full value and the format shows the unit."""
    if unit is not None and unit.get("excel"):
        return str(unit["excel"]), 1.0
    spec = kind_spec(kind, lang)
    ex = spec.get("excel") or {}
    return str(ex.get("format", "General")), float(ex.get("scale", 1))


def check_catalogues() -> list[str]:
    """Differences between the catalogues (ids, variants, placeholders, kinds); [] when they agree."""
    cats = {lang: catalogue(lang) for lang in languages()}
    base_lang = languages()[0]
    base = cats[base_lang]
    problems: list[str] = []
    for lang, cat in cats.items():
        if lang == base_lang:
            continue
        for part in ("labels", "messages"):
            a, b = set(getattr(base, part)), set(getattr(cat, part))
            for k in sorted(a - b):
                problems.append(f"{part[:-1]} {k!r} is in {base_lang}.yml but not in {lang}.yml")
            for k in sorted(b - a):
                problems.append(f"{part[:-1]} {k!r} is in {lang}.yml but not in {base_lang}.yml")
        for k in sorted(set(base.messages) & set(cat.messages)):
            va, vb = set(base.messages[k]), set(cat.messages[k])
            if va != vb:
                problems.append(f"message {k!r}: variants {sorted(map(str, va))} in {base_lang}, "
                                f"{sorted(map(str, vb))} in {lang}")
            pa, pb = set(base.placeholders(k)), set(cat.placeholders(k))
            if pa != pb:
                problems.append(f"message {k!r}: placeholders {sorted(pa)} in {base_lang}, {sorted(pb)} in {lang}")
    return problems

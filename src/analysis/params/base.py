"""Base parameter model shared by the reports, and the parsing of parameter values.

Values given as text (``-p name=value``, a YAML file, a schedule) are typed by the model
field's annotation: a ``str`` field keeps the text as written ("01234" stays "01234", where
papermill's ``-p`` would make it 1234); other fields read the text as YAML (``12``, ``true``,
``[a, b]``, ``{region: [市区]}``). Relative values: ``"today"`` in a str field becomes today's
date (YYYY-MM-DD) before validation.

Values as people type them:

- ``month`` (any report's): ``2026-06``, ``2026/6``, ``2026年6月``, ``202606`` are normalised to
  ``"2026-06"`` by :func:`analysis.periods.parse_month_text` for every model (a validator of
  :class:`ReportParams`); the keywords ``last``, ``last-N``, ``current``, ``next`` stay keywords
  (a run resolves them against the store before the kernel starts, see
  :mod:`analysis.reports.params`).
- money: the annotated type :data:`Money` reads ``34000000``, ``34,000,000``, ``3400万``,
  ``3.4亿`` (also with 元 or ¥) as a number of yuan.
- ``lang``: any language with a message catalogue (:func:`analysis.i18n.languages`).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from .. import i18n, periods
from ..errors import AnalysisError, ParameterError

# ------------------------------------------------------------------------------ money
#: How an amount may be written, for messages and ``--help``.
MONEY_FORMS = "34000000, 34,000,000, 3400万 or 3.4亿"
_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000)}
_MONEY_NOISE = re.compile(r"[\s,，_¥￥]|元$|RMB$|CNY$", re.IGNORECASE)


def parse_amount(value: Any) -> Any:
    """An amount of money as people type it, in yuan: ``34000000``, ``34,000,000``,
    ``3400万``, ``3.4亿``, ``600万元``, ``¥1,200``. Numbers pass through; None stays None.

    Raises
    ------
    ValueError
        A text that is not an amount.

    Examples
    --------
    >>> [parse_amount(v) for v in ("34000000", "34,000,000", "3400万", "3.4亿", "600万元", 1.5)]
    [34000000.0, 34000000.0, 34000000.0, 340000000.0, 6000000.0, 1.5]
    """
    if value is None or isinstance(value, bool) or not isinstance(value, str):
        return value
    text = _MONEY_NOISE.sub("", value.strip())
    text = _MONEY_NOISE.sub("", text)  # "600万元": 元 first, then nothing else to strip
    scale = Decimal(1)
    if text and text[-1] in _UNITS:
        scale, text = _UNITS[text[-1]], text[:-1]
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return float(number * scale)


def _money(value: Any) -> Any:
    try:
        return parse_amount(value)
    except ValueError:
        raise PydanticCustomError("money", "Input should be {expected}",
                                  {"expected": f"an amount such as {MONEY_FORMS}"}) from None


#: A money parameter: a float of yuan, also written ``34,000,000``, ``3400万`` or ``3.4亿``.
#: Use it as ``total: Money | None = Field(None, gt=0)``.
Money = Annotated[float, BeforeValidator(_money)]


def iso_date_or_empty(v: str, accepted: str = "a date 'YYYY-MM-DD' or ''") -> str:
    """A date parameter that may be empty (a report's default): stripped, and a date
    ``YYYY-MM-DD`` when not empty; else a ValueError saying what is ``accepted``."""
    v = v.strip()
    if v:
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(accepted) from None
    return v


def _or_list(items: typing.Sequence[str]) -> str:
    quoted = [repr(i) for i in items]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class ReportParams(BaseModel):
    """Parameters every report takes. Unknown names are rejected.

    ``store``: a .duckdb path or URL (None: the default store).
    ``lang``: a language with a message catalogue ("zh", the default, or "en", or any
    catalogue added, see :mod:`analysis.i18n`).

    A ``month`` field of any report model is normalised here (see the module docstring).
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)
    #: The report's name (in messages); set by each report's model.
    report: ClassVar[str] = ""

    store: str | None = None
    lang: str = i18n.DEFAULT_LANG

    @classmethod
    def of(cls, **values: Any) -> "ReportParams":
        """The model of ``values`` (``SalesTrendsParams.of(month="2026-10", level="rep")``), a bad
        value a one-line :class:`~analysis.errors.ParameterError` naming the report."""
        return validate_params(cls, values, cls.report or cls.__name__)

    @field_validator("lang")
    @classmethod
    def _lang(cls, v: str) -> str:
        langs = i18n.languages()
        if v not in langs:
            raise PydanticCustomError("lang", "Input should be {expected}", {"expected": _or_list(langs)})
        return v

    @field_validator("filters", mode="before", check_fields=False)
    @classmethod
    def _filters_as_typed(cls, v: Any) -> Any:
        """``{region: 市区}`` is ``{region: [市区]}``; a number typed as a value (a rep id 1004) is its text."""
        if not isinstance(v, dict):
            return v
        out = {}
        for k, vals in v.items():
            vals = [vals] if isinstance(vals, (str, int, float)) and not isinstance(vals, bool) else vals
            out[k] = [str(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x for x in vals] \
                if isinstance(vals, list) else vals
        return out

    @field_validator("month", mode="before", check_fields=False)
    @classmethod
    def _month_as_typed(cls, v: Any) -> Any:
        try:
            return periods.parse_month_text(v)
        except ParameterError:
            raise PydanticCustomError("month", "Input should be {expected}",
                                      {"expected": f"a month such as {periods.MONTH_FORMS}"}) from None


from ..spec import ReportSpec  # noqa: E402 - the report spec (declared in analysis.params.REPORTS)


def coerce_params(model: type[ReportParams], params: Any = None, where: str = "", **overrides: Any) -> ReportParams:
    """``params`` as a validated ``model``: ``None`` (the defaults), a dict, or a model instance;
    keyword ``overrides`` win. A valid instance without overrides is returned as it is.

    Examples
    --------
    >>> from analysis.params import SalesTrendsParams
    >>> coerce_params(SalesTrendsParams, {"lang": "en"}, lookback_months=12).lookback_months
    12
    """
    if params is None:
        return validate_params(model, overrides, where)
    if isinstance(params, dict):
        return validate_params(model, {**params, **overrides}, where)
    if overrides:
        return validate_params(model, {**params.model_dump(), **overrides}, where)
    return params


def as_params(model: type[ReportParams], params: Any, owner: str) -> ReportParams:
    """The one contract of ``prepare(con, params)``: ``params`` is a ``model`` (validated), or None
    for its defaults.

    Raises
    ------
    ParameterError
        Anything else (a dict: make the model with ``Model.of(**values)`` or :func:`validate_params`).

    Examples
    --------
    >>> from analysis.params import SalesTrendsParams
    >>> as_params(SalesTrendsParams, None, "sales_trends.prepare").month
    'last'
    """
    if params is None:
        return model.of()
    if isinstance(params, model):
        return params
    raise ParameterError(f"The 'params' parameter of {owner} must be a {model.__name__} (or None for the defaults; "
                         f"{model.__name__}.of(name=value, ...) makes one). Got {type(params).__name__} instead.")


def validate_params(model: type[ReportParams], values: dict[str, Any], where: str = "") -> ReportParams:
    """Validate ``values`` against ``model``; raise ParameterError with one clear message.

    Examples
    --------
    >>> from analysis.params import SalesTrendsParams
    >>> validate_params(SalesTrendsParams, {"lang": "fr"})  # doctest: +SKIP
    ParameterError: The 'lang' parameter of sales_trends must be one of 'zh', 'en'. Got 'fr' instead.
    """
    where = where or model.__name__
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ())) or "?"
            given = err.get("input")
            raised = (err.get("ctx") or {}).get("error")
            if isinstance(raised, AnalysisError):  # a validator's own one-line message (a scheme error)
                msgs.append(str(raised))
            elif err.get("type") == "extra_forbidden":
                allowed = ", ".join(sorted(model.model_fields))
                shown = f"'{name}'" if name.isidentifier() else repr(name)  # a crafted name stays one line
                msgs.append(f"{shown} is not a parameter of {where}; allowed: {allowed}.")
            else:
                msgs.append(
                    f"The '{name}' parameter of {where} {_describe(err)}. Got {given!r} instead."
                )
        raise ParameterError(" ".join(msgs)) from None


def _describe(err: dict) -> str:
    msg = err.get("msg", "is invalid")
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f"must be {ctx['expected']}"
    return "must satisfy: " + msg[0].lower() + msg[1:]


# --------------------------------------------------------------------------- typing text values


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        out = []
        for a in typing.get_args(annotation):
            out.extend(_flatten(a))
        return out
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    return [annotation]


def _accepts(annotation: Any) -> tuple[bool, bool, bool]:
    """(accepts a plain string, accepts None, accepts only strings among scalars)."""
    parts = _flatten(annotation)
    str_ok = any(p is str or (typing.get_origin(p) is Literal and all(isinstance(a, str) for a in typing.get_args(p)))
                 for p in parts)
    none_ok = any(p is type(None) for p in parts)
    scalar_others = [p for p in parts if p not in (str, type(None)) and typing.get_origin(p) not in (Literal, list, dict, tuple, set)
                     and p not in (list, dict)]
    return str_ok, none_ok, not scalar_others


def coerce_text_value(annotation: Any, raw: str) -> Any:
    """Type one text value by a field annotation.

    Examples
    --------
    >>> coerce_text_value(str, "01234")
    '01234'
    >>> coerce_text_value(int, "12")
    12
    >>> coerce_text_value(dict[str, list[str]], "{region: [市区]}")
    {'region': ['市区']}
    >>> coerce_text_value(str | list[str], "[S001, S002]")
    ['S001', 'S002']
    """
    str_ok, none_ok, only_str = _accepts(annotation)
    if none_ok and raw.strip() in ("null", "~", "None"):
        return None
    if str_ok and only_str:
        stripped = raw.strip()
        if not (stripped.startswith("[") or stripped.startswith("{")) or _parts_are_str_only(annotation):
            return raw
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if str_ok and not isinstance(parsed, (list, dict)):
        return raw
    if parsed is None and not none_ok:
        return raw
    return parsed


def _parts_are_str_only(annotation: Any) -> bool:
    return all(p is str or p is type(None) or typing.get_origin(p) is Literal for p in _flatten(annotation))


def coerce_loaded_value(annotation: Any, value: Any) -> Any:
    """Type a value read with ``yaml.BaseLoader`` (every scalar a string) by a field annotation.

    Top-level scalars follow :func:`coerce_text_value`; inside lists and mappings strings stay
    strings and pydantic converts them where the model asks for numbers.

    Examples
    --------
    >>> coerce_loaded_value(str, "01234"), coerce_loaded_value(int, "7")
    ('01234', 7)
    """
    if isinstance(value, str):
        return coerce_text_value(annotation, value)
    return value


def load_param_file(model: type[ReportParams], path: str | os.PathLike, where: str = "") -> dict[str, Any]:
    """Read a YAML mapping of parameters, typing the values by ``model`` (see module doc)."""
    where = where or model.__name__
    p = Path(path)
    try:
        raw = yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"Cannot read the parameter file {p}: {str(exc).splitlines()[0]}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ParameterError(f"The parameter file of {where} must hold a YAML mapping. Got {type(raw).__name__} instead.")
    return {
        k: (coerce_loaded_value(model.model_fields[k].annotation, v) if k in model.model_fields else v)
        for k, v in raw.items()
    }


def resolve_relative(model: type[ReportParams], values: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """Replace calendar-relative values: ``"today"`` in a str field → today's date (YYYY-MM-DD).

    Month ``"last"``/``"current"`` are left for the report, which resolves them against its data.

    Examples
    --------
    >>> from analysis.params import IncentiveRetentionParams
    >>> resolve_relative(IncentiveRetentionParams, {"as_of": "today"}, dt.date(2026, 11, 27))
    {'as_of': '2026-11-27'}
    """
    today = today or dt.date.today()
    out = dict(values)
    for k, v in values.items():
        if k in model.model_fields and isinstance(v, str) and v.strip().lower() == "today":
            str_ok, _, _ = _accepts(model.model_fields[k].annotation)
            if str_ok:
                out[k] = today.isoformat()
    return out

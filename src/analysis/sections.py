"""The result types of report sections: codes and numbers in, never text.

Every report has one shape: ``prepare(con, params) -> scope``, then one function per
section, ``section(scope) -> SectionResult`` subclass. A result carries

- ``code``: the section's stable ASCII id (``headline``, ``process_indicators``), the same
  whatever the language; its title is the catalogue label ``<report>.section.<code>``;
- ``skip``: ``None`` when the section ran, else a :class:`Skip` — a :class:`Reason` code and
  the details its message needs (``Skip(Reason.MISSING_TABLE, {"table": "visits"})``);
- ``parts``: ``{part: Skip}``, the parts of a section that ran which did not (the trend
  test of the trend section, the association of the process indicators, the scorecard's streak
  penalty): the section is shown, the part's skip is rendered where the part would be;
- ``notes``: :class:`Note` codes with values (rendered from ``<report>.note.<code>``);
- ``tables``: :class:`Table` objects: a frame plus the kind of each shown column
  (money, qty, rate, pp, date, …), so the HTML page and the Excel workbook format them
  from the same spec;
- ``figures``: :class:`Figure` specs naming a chart function of :mod:`analysis.charts`
  and its data, drawn by the present layer in the report's language;
- ``metrics()``: the section's language-free figures for metrics.json.

Reason codes follow pandera's ``SchemaErrorReason``: a closed enum whose values are the
stable strings written to metrics.json (``skipped_details``; a part's in ``skipped_parts``;
every note in ``section_notes``, see :func:`section_metrics`).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(kw_only=True)
... class Visits(SectionResult):
...     report = "sales_trends"
...     default_code = "process_indicators"
...     coverage: float = float("nan")
...     def metrics(self):
...         return {"coverage": self.coverage}
>>> r = Visits(skip=Skip(Reason.MISSING_TABLE, {"table": "visits"}))
>>> r.code, r.ok, r.skip.code.value
('process_indicators', False, 'missing_table')
>>> skipped_sections([r]), skipped_details([r])
(['process_indicators'], [{'section': 'process_indicators', 'reason': 'missing_table', 'details': {'table': 'visits'}}])
>>> ran = Visits().skipped_part("association", "too_short", needed=5, got=3).note("no_stl")
>>> ran.ok, skipped_parts([ran]), section_notes([ran])
(True, [{'section': 'process_indicators', 'part': 'association', 'reason': 'too_short', 'details': {'needed': 5, 'got': 3}}], [{'section': 'process_indicators', 'code': 'no_stl', 'values': {}}])
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import pandas as pd

from .errors import ParameterError

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class Reason(str, enum.Enum):
    """Why a section did not run. The value is the stable code of metrics.json and the
    message id ``skip.<value>`` of the catalogues; the comment names the details."""

    MISSING_TABLE = "missing_table"          # table
    MISSING_COLUMN = "missing_column"        # table, column
    MISSING_COLUMNS = "missing_columns"      # table, columns (none of several optional columns)
    GRAIN = "grain"                          # grain (daily, weekly, monthly, yearly)
    TOO_SHORT = "too_short"                  # needed, got (months of history)
    TOO_FEW_DAYS = "too_few_days"            # needed, got (days since launch)
    NO_BASELINE = "no_baseline"              # (nothing before the launch to compare with)
    NO_TARGETS = "no_targets"                # level
    NO_DATA = "no_data"                      # (no data in the period)
    NO_DATA_IN_WINDOW = "no_data_in_window"  # (no data in the analysis window)
    NO_FEEDBACK = "no_feedback"              # (no feedback rows for the product)
    NO_PRICE_CLASS = "no_price_class"        # (no price classes for the other products)
    NO_COMPARISON = "no_comparison"          # (no incumbent or no control group)
    NO_BENCHMARK = "no_benchmark"            # (no earlier launch to compare with)
    DISABLED = "disabled"                    # param
    BELOW_MIN_GROUP = "below_min_group"      # name, min_group_size
    TOO_FEW_PEOPLE = "too_few_people"        # (too few people observed over the horizon)
    NO_FEATURE = "no_feature"                # name
    NO_FEATURES = "no_features"              # (no incentive feature in the data)
    NO_MORE_FEATURES = "no_more_features"    # (no further feature to analyse)
    FAILED = "failed"                        # error (a method refused the data)
    # the section's dimension resolves for less than analysis.model.MIN_COVERAGE of the amount:
    UNRESOLVED_TABLE = "unresolved_table"    # dimension, share, table (the master table is missing)
    UNRESOLVED_COLUMN = "unresolved_column"  # dimension, share, table, column (the master lacks the column)
    UNRESOLVED_CODES = "unresolved_codes"    # dimension, share, table, codes (codes not in the master)

    def __str__(self) -> str:  # "missing_table", not "Reason.MISSING_TABLE"
        return self.value

    @property
    def message_id(self) -> str:
        return f"skip.{self.value}"


def check_code(code: Any, what: str = "code", owner: str = "SectionResult") -> str:
    """``code`` if it is a lower-case ASCII id (``[a-z][a-z0-9_]*``), else a one-line error."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise ParameterError(f"The '{what}' parameter of {owner} must be a lower-case ASCII id such as "
                             f"'process_indicators'. Got {code!r} instead.")
    return code


def _reason(code: Any) -> Reason:
    if isinstance(code, Reason):
        return code
    try:
        return Reason(code)
    except ValueError:
        allowed = ", ".join(repr(r.value) for r in Reason)
        raise ParameterError(f"The 'code' parameter of Skip must be one of {allowed}. Got {code!r} instead.") from None


def _plain(value: Any) -> Any:
    """Details and values as plain JSON-able Python (numpy scalars, dates → str/float/int)."""
    import datetime as dt
    import math

    import numpy as np

    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if not math.isfinite(f) else f
    if isinstance(value, (dt.date, pd.Timestamp, pd.Period)):
        return str(value.isoformat() if hasattr(value, "isoformat") else value)
    return value if value is None or isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Skip:
    """Why a section did not run: a :class:`Reason` and the details its message takes.

    Parameters
    ----------
    code : Reason or str
        A reason code; a string must be one of the :class:`Reason` values.
    details : mapping, optional
        The placeholders of the message ``skip.<code>`` (for instance ``{"table": "visits"}``).

    Examples
    --------
    >>> Skip("too_short", {"needed": 24, "got": 10}).as_dict()
    {'reason': 'too_short', 'details': {'needed': 24, 'got': 10}}
    """

    code: Reason
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _reason(self.code))
        object.__setattr__(self, "details", _plain(dict(self.details or {})))

    @property
    def message_id(self) -> str:
        return self.code.message_id

    def as_dict(self) -> dict[str, Any]:
        """The language-free form written to metrics.json."""
        return {"reason": self.code.value, "details": dict(self.details)}


@dataclass(frozen=True)
class Note:
    """A caution or remark on a section: a code and the values of its message.

    The message id is ``<report>.note.<code>``.

    Examples
    --------
    >>> Note("dropped", {"rows": 3}).as_dict()
    {'code': 'dropped', 'values': {'rows': 3}}
    """

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    #: Notes every report may carry, with one message ``note.<code>`` for all.
    SHARED: ClassVar[frozenset] = frozenset({"unattributed", "rep_by_current_book"})

    def __post_init__(self) -> None:
        check_code(self.code, "code", "Note")
        object.__setattr__(self, "values", dict(self.values or {}))

    def message_id(self, report: str) -> str:
        return f"note.{self.code}" if self.code in self.SHARED else f"{report}.note.{self.code}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "values": _plain(self.values)}


class Kind(str, enum.Enum):
    """How a column's values are written (the kinds of :func:`analysis.i18n.format_value`)."""

    TEXT = "text"
    INT = "int"
    COUNT = "count"
    QTY = "qty"
    QTY_CASE = "qty_case"  # a quantity in cases (箱): products whose pack_unit says so
    QTY_PACK = "qty_pack"  # in packs (包)
    QTY_MIXED = "qty_mixed"  # products in several units: never headed by one unit
    MONEY = "money"
    MONEY_WAN = "money_wan"
    MONEY_SIGNED = "money_signed"  # a change of money (a gap, a part of a change): signed, in 万元 or 元
    RATE = "rate"
    CHANGE = "change"
    PP = "pp"
    SIGNED = "signed"
    F1 = "f1"
    F2 = "f2"
    F3 = "f3"
    P_VALUE = "p_value"
    DATE = "date"
    MONTH = "month"
    FLAG = "flag"
    CODE = "code"  # a category code shown through a label: Column(codes="<label prefix>")
    NAME = "name"  # a name from the data (a column of an HR export, a region): its label
    #              # "<codes>.<value>" when the catalogues have one, else the name as it is

    def __str__(self) -> str:
        return self.value


def _kind(kind: Any, column: str) -> Kind:
    if isinstance(kind, Kind):
        return kind
    try:
        return Kind(kind)
    except ValueError:
        allowed = ", ".join(repr(k.value) for k in Kind)
        raise ParameterError(f"The kind of column {column!r} must be one of {allowed}. Got {kind!r} instead.") from None


@dataclass(frozen=True)
class Column:
    """One shown column of a :class:`Table`.

    Parameters
    ----------
    name : str
        The frame's column.
    kind : Kind or str
        How its values are written.
    label : str or message, optional
        The catalogue label of its header; default ``column.<name>``. For a header made
        from data (a month, a year) give a message instead, any object with
        ``render(lang)`` such as ``analysis.i18n.Msg("present.month", {"month": "2026-08"})``.
    codes : str, optional
        For ``kind="code"``: the label prefix of its values (``"column"`` shows the value
        ``"large"`` as ``label("column.large")``).
    """

    name: str
    kind: Kind = Kind.TEXT
    label: Any = None
    codes: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind, self.name))
        if self.kind in (Kind.CODE, Kind.NAME) and not self.codes:
            raise ParameterError(f"The 'codes' parameter of Column {self.name!r} must name a label prefix when "
                                 f"kind is {self.kind.value!r}. Got {self.codes!r} instead.")

    @property
    def label_key(self) -> str:
        """The catalogue label of the header (``column.<name>`` unless given); for a message
        header, its id."""
        if self.label is None:
            return f"column.{self.name}"
        return self.label if isinstance(self.label, str) else str(getattr(self.label, "id", self.label))

    @property
    def value_kind(self) -> str:
        """The format kind of the values (``code`` and ``name`` columns are written as text)."""
        return "text" if self.kind in (Kind.CODE, Kind.NAME) else self.kind.value


@dataclass
class Table:
    """A frame and how to show it: the columns (in order) and their kinds.

    Parameters
    ----------
    code : str
        Stable ASCII id of the table within its section (``"by_region"``).
    frame : pandas.DataFrame
        The data; the values stay numbers (formatting happens when shown).
    columns : sequence of Column
        The shown columns, in order; each must be a column of ``frame``.
    title : str, optional
        Catalogue label of the table's title (and of its Excel sheet); default: the
        section's title.
    max_rows : int, default 60
        Rows shown in the HTML page (the workbook holds them all).

    Examples
    --------
    >>> t = Table.of("by_region", pd.DataFrame({"region": ["East"], "attainment": [0.93]}),
    ...              region="text", attainment="rate")
    >>> [(c.name, c.kind.value) for c in t.columns]
    [('region', 'text'), ('attainment', 'rate')]
    """

    code: str
    frame: pd.DataFrame
    columns: Sequence[Column]
    title: str | None = None
    max_rows: int = 60

    def __post_init__(self) -> None:
        check_code(self.code, "code", "Table")
        self.columns = tuple(c if isinstance(c, Column) else Column(*c) for c in self.columns)
        missing = [c.name for c in self.columns if c.name not in self.frame.columns]
        if missing:
            raise ParameterError(f"The columns of Table {self.code!r} must be columns of its frame "
                                 f"({', '.join(map(str, self.frame.columns))}). Got {', '.join(missing)} instead.")

    @classmethod
    def of(cls, code: str, frame: pd.DataFrame, *, title: str | None = None, labels: Mapping[str, str] | None = None,
           codes: Mapping[str, str] | None = None, max_rows: int = 60, **kinds: Kind | str) -> "Table":
        """A table from ``column=kind`` keywords, in the order given."""
        labels, codes = dict(labels or {}), dict(codes or {})
        cols = [Column(n, k, labels.get(n), codes.get(n)) for n, k in kinds.items()]
        return cls(code, frame, cols, title=title, max_rows=max_rows)

    @property
    def kinds(self) -> dict[str, Kind]:
        return {c.name: c.kind for c in self.columns}

    def shown(self) -> pd.DataFrame:
        """The shown columns of the frame, in order (values unformatted)."""
        return self.frame[[c.name for c in self.columns]]


@dataclass(frozen=True)
class Figure:
    """A chart to draw: a function of :mod:`analysis.charts` and its data (no language).

    ``chart`` is ``"<module>.<function>"`` inside ``analysis.charts`` (for instance
    ``"trends.attainment_bars"``); the present layer calls it with ``**data`` and ``lang``.
    ``pair``: this figure and the next one of the section make a pair, drawn side by side on a
    wide screen (one under the other on a phone).
    """

    chart: str
    data: Mapping[str, Any] = field(default_factory=dict)
    pair: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", str(self.chart)):
            raise ParameterError(f"The 'chart' parameter of Figure must be '<module>.<function>' of analysis.charts, "
                                 f"for instance 'trends.attainment_bars'. Got {self.chart!r} instead.")


@dataclass(kw_only=True)
class SectionResult:
    """Base of every section result (subclass it per section, adding its own fields).

    Subclasses set the class attributes ``report`` (the report's ASCII name) and
    ``default_code`` (the section code, unless given per instance), and override
    :meth:`metrics`.
    """

    report: ClassVar[str] = ""
    default_code: ClassVar[str] = ""

    code: str = ""
    skip: Skip | None = None
    parts: dict[str, Skip] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.code:
            self.code = self.default_code
        check_code(self.code, "code", type(self).__name__)
        for part in self.parts:
            check_code(part, "part", type(self).__name__)
        if self.report:
            check_code(self.report, "report", type(self).__name__)

    @property
    def ok(self) -> bool:
        """True when the section ran (no skip)."""
        return self.skip is None

    @property
    def title_key(self) -> str:
        """The catalogue label of the section's heading."""
        return f"{self.report}.section.{self.code}"

    def skipped(self, code: Reason | str, **details: Any) -> "SectionResult":
        """Set the skip (``res.skipped("grain", grain="yearly")``) and return the result."""
        self.skip = Skip(code, details)
        return self

    def skipped_part(self, part: str, code: Reason | str, **details: Any) -> "SectionResult":
        """Record that the part ``part`` of the section did not run (``res.skipped_part("test",
        "too_short", needed=24, got=20)``) and return the result; the section still runs."""
        self.parts[check_code(part, "part", type(self).__name__)] = Skip(code, details)
        return self

    def note(self, code: str, **values: Any) -> "SectionResult":
        """Append a note and return the result."""
        self.notes.append(Note(code, values))
        return self

    def metrics(self) -> dict[str, Any]:
        """The section's key figures for metrics.json, language-free (override).

        Must also work on a skipped result, giving the same keys (undefined values become
        None in metrics.json).
        """
        return {}


def skipped_sections(results: Iterable[SectionResult]) -> list[str]:
    """The codes of the skipped sections, in order (metrics.json ``skipped_sections``)."""
    return [r.code for r in results if r.skip is not None]


def skipped_details(results: Iterable[SectionResult]) -> list[dict[str, Any]]:
    """{section, reason, details} of each skipped section (metrics.json ``skipped_details``)."""
    return [{"section": r.code, **r.skip.as_dict()} for r in results if r.skip is not None]


def skipped_parts(results: Iterable[SectionResult]) -> list[dict[str, Any]]:
    """{section, part, reason, details} of each skipped part of the sections, in order
    (metrics.json ``skipped_parts``)."""
    return [{"section": r.code, "part": part, **sk.as_dict()} for r in results for part, sk in r.parts.items()]


def section_notes(results: Iterable[SectionResult]) -> list[dict[str, Any]]:
    """{section, code, values} of every note of the sections, in order (metrics.json
    ``section_notes``)."""
    return [{"section": r.code, **n.as_dict()} for r in results for n in r.notes]


def section_metrics(results: Iterable[SectionResult]) -> dict[str, Any]:
    """The merged ``metrics()`` of every section, plus ``skipped_sections``,
    ``skipped_details``, ``skipped_parts`` and ``section_notes``; a key given by two sections
    is an error.

    ``metrics()`` is called on skipped sections too, so the keys of metrics.json do not
    depend on what was skipped: a skipped section gives its keys with undefined values
    (None), which its dataclass defaults (NaN, empty frames) produce naturally.
    """
    out: dict[str, Any] = {}
    results = list(results)
    for r in results:
        for k, v in r.metrics().items():
            if k in out:
                raise ParameterError(f"The metric {k!r} of section {r.code!r} is already given by another section.")
            out[k] = _plain(v)
    out["skipped_sections"] = skipped_sections(results)
    out["skipped_details"] = skipped_details(results)
    out["skipped_parts"] = skipped_parts(results)
    out["section_notes"] = section_notes(results)
    return out

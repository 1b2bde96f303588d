"""Dates and months shared by the reports: parse a date parameter, the first day of a month,
a month ``n`` months on, and the ``month`` parameter as people type it.

A month is written ``2026-06``, ``2026-6``, ``2026/6``, ``2026.06``, ``2026年6月`` or ``202606``
(:func:`parse_month_text` makes each of them ``"2026-06"``), or relative to the data:
``last`` (the last complete month), ``last-N`` (N months before it), ``current`` (the month
of the latest order day, possibly partial) and ``next`` (the month after the last complete
one, a plan month). :func:`resolve_month` turns any of them into the first day of a month
against the data window and its grain (:func:`detect_grain`); it is the one rule of every
report (the trends report's period, the scorecard's month, the plan month) and of the checks
before a run (:mod:`analysis.reports.params`). :func:`month_in_data` adds the rule of a report
of a month of the data: the month overlaps the data.

Examples
--------
>>> add_months(dt.date(2026, 11, 15), 3)
datetime.date(2027, 2, 1)
>>> month_start(dt.date(2026, 11, 15))
datetime.date(2026, 11, 1)
>>> to_date("2026-10-31", "as_of")
datetime.date(2026, 10, 31)
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from .errors import ParameterError


def to_date(value: Any, name: str = "date", owner: str | None = None) -> dt.date | None:
    """A date parameter as a date: ``"YYYY-MM-DD"``, a date, ``"today"``, or ``""`` / None (None).

    Parameters
    ----------
    value : str, date or None
    name : str
        The parameter's name, for the error message.
    owner : str, optional
        The function or report that takes it, for the error message.

    Raises
    ------
    ParameterError
        Anything else, in one line naming the parameter.
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, str) and value.strip().lower() == "today":
        return dt.date.today()
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        where = f" of {owner}" if owner else ""
        raise ParameterError(f"The '{name}' parameter{where} must be a date 'YYYY-MM-DD', 'today' or ''. "
                             f"Got {value!r} instead.") from None


def month_start(d: dt.date) -> dt.date:
    """The first day of ``d``'s month."""
    return d.replace(day=1)


def add_months(d: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``d``'s month (``n`` may be negative)."""
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def month_end(d: dt.date) -> dt.date:
    """The last day of ``d``'s month."""
    return add_months(d, 1) - dt.timedelta(days=1)


def parse_month(value: Any, name: str = "month", owner: str | None = None) -> dt.date:
    """A month parameter ``"YYYY-MM"`` (or a date) as the first day of that month.

    Examples
    --------
    >>> parse_month("2026-10")
    datetime.date(2026, 10, 1)

    Raises
    ------
    ParameterError
        Anything else, in one line naming the parameter.
    """
    if isinstance(value, dt.date):
        return month_start(value if not isinstance(value, dt.datetime) else value.date())
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except (ValueError, TypeError):
        where = f" of {owner}" if owner else ""
        raise ParameterError(f"The '{name}' parameter{where} must be a month 'YYYY-MM'. Got {value!r} instead.") from None


def half_open(column: Any, start: dt.date, end: dt.date) -> Any:
    """The condition ``start <= column < end`` on an Ibis date column (a half-open range:
    consecutive ranges share no day)."""
    import ibis

    return (column >= ibis.literal(start)) & (column < ibis.literal(end))


# ------------------------------------------------------------------------- month parameters
#: Relative month keywords (``last-N`` is ``last`` followed by a minus and a number of months).
MONTH_KEYWORDS: tuple[str, ...] = ("last", "current", "next")
#: How a month may be written, for messages and ``--help``.
MONTH_FORMS = "2026-06, 2026/6, 2026年6月, 202606, 'last', 'last-1', 'current' or 'next'"

_YM = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?$")
_YYYYMM = re.compile(r"^(\d{4})(\d{2})$")
_LAST_N = re.compile(r"^last\s*-\s*(\d{1,3})$")


def parse_month_text(value: Any, name: str = "month", owner: str | None = None) -> str:
    """A month parameter as people type it, normalised: ``"YYYY-MM"``, or a relative keyword
    (``"last"``, ``"last-N"`` with N ≥ 1, ``"current"``, ``"next"``).

    Parameters
    ----------
    value : str, int or date
        ``2026-06``, ``2026-6``, ``2026/6``, ``2026.06``, ``2026年6月``, ``202606`` (text or a
        number), a date (its month), or a keyword (any case, spaces around the minus allowed;
        ``last-0`` is ``last``).
    name, owner : str
        The parameter and its report, for the message.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        Anything else (a month 13, an empty text), in one line naming the forms accepted.

    Examples
    --------
    >>> [parse_month_text(v) for v in ("2026-06", "2026/6", "2026年6月", "202606", 202606, "Last - 1", "last-0")]
    ['2026-06', '2026-06', '2026-06', '2026-06', '2026-06', 'last-1', 'last']
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value:%Y-%m}"
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        if low in MONTH_KEYWORDS:
            return low
        m = _LAST_N.match(low)
        if m:
            n = int(m.group(1))
            return "last" if n == 0 else f"last-{n}"
        m = _YM.match(text) or _YYYYMM.match(text)
        if m and 1 <= int(m.group(2)) <= 12:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    where = f" of {owner}" if owner else ""
    raise ParameterError(f"The '{name}' parameter{where} must be a month such as {MONTH_FORMS}. "
                         f"Got {value!r} instead.")


def is_relative_month(text: str) -> bool:
    """True for a relative month keyword (``last``, ``last-N``, ``current``, ``next``)."""
    return text in MONTH_KEYWORDS or bool(_LAST_N.match(text))


def last_complete_month(last: dt.date, grain: str = "daily") -> dt.date:
    """The first day of the last month the data cover completely, given the last order day
    ``last``: its month when the data reach the month's end (daily data on the last day, weekly
    data within the last week, monthly or yearly data always), else the month before.

    Examples
    --------
    >>> last_complete_month(dt.date(2026, 10, 31)), last_complete_month(dt.date(2026, 10, 30))
    (datetime.date(2026, 10, 1), datetime.date(2026, 9, 1))
    >>> last_complete_month(dt.date(2026, 10, 1), "monthly")
    datetime.date(2026, 10, 1)
    """
    step = {"daily": 1, "weekly": 7}.get(grain)
    if step is None:  # monthly, yearly: a month's row stands for the whole month
        return month_start(last)
    return month_start(last) if last + dt.timedelta(days=step) >= add_months(last, 1) else add_months(last, -1)


def resolve_month(value: Any, first: dt.date, last: dt.date, grain: str = "daily",
                  name: str = "month", owner: str | None = None) -> dt.date:
    """The first day of the month ``value`` means for data from ``first`` to ``last``.

    ``last``: the last complete month (:func:`last_complete_month`); ``last-N``: N months
    before it; ``current``: the month of ``last``; ``next``: the month after the last complete
    one; a written month (:func:`parse_month_text`): that month. Whether the month must lie
    inside the data is the caller's rule (a plan month lies after it).

    Examples
    --------
    >>> first, last = dt.date(2023, 11, 1), dt.date(2026, 10, 15)
    >>> [f"{resolve_month(v, first, last):%Y-%m}" for v in ("last", "last-1", "current", "next", "2026年6月")]
    ['2026-09', '2026-08', '2026-10', '2026-10', '2026-06']
    """
    text = parse_month_text(value, name, owner)
    complete = last_complete_month(last, grain)
    if text == "last":
        return complete
    if text == "current":
        return month_start(last)
    if text == "next":
        return add_months(complete, 1)
    m = _LAST_N.match(text)
    if m:
        return add_months(complete, -int(m.group(1)))
    return dt.date.fromisoformat(f"{text}-01")


def month_in_data(value: Any, first: dt.date, last: dt.date, grain: str = "daily",
                  name: str = "month", owner: str | None = None) -> dt.date:
    """:func:`resolve_month`, for a report of a month of the data: the month must overlap the
    data from ``first`` to ``last`` (the rule of the sales trends report and the scorecard; a
    plan month, after the data, uses :func:`resolve_month`).

    Raises
    ------
    ParameterError
        A month that is not one (:func:`parse_month_text`) or lies outside the data.

    Examples
    --------
    >>> month_in_data("last", dt.date(2024, 1, 1), dt.date(2026, 10, 30))
    datetime.date(2026, 9, 1)
    """
    month = resolve_month(value, first, last, grain, name, owner)
    if add_months(month, 1) <= first or month > last:
        where = f" of {owner}" if owner else ""
        raise ParameterError(f"The '{name}' parameter{where} must be a month inside the data "
                             f"({first:%Y-%m} … {last:%Y-%m}). Got {value!r} instead.")
    return month


def detect_grain(dates: Any) -> str:
    """The grain of a date column: daily, weekly, monthly or yearly (from the median gap between
    the distinct days).

    Examples
    --------
    >>> detect_grain(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    'monthly'
    >>> detect_grain(pd.to_datetime(["2022-01-01", "2023-01-01"]))
    'yearly'
    """
    d = pd.Series(pd.to_datetime(pd.Series(dates)).dt.normalize().unique()).sort_values()
    if len(d) < 2:
        return "monthly" if len(d) == 1 and d.iloc[0].day == 1 else "daily"
    med = float(d.diff().dt.days.dropna().median())
    if med >= 360:
        return "yearly"
    if med >= 27:
        return "monthly"
    if med >= 6:
        return "weekly"
    return "daily"

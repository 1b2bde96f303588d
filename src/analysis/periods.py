"""Dates and months shared by the reports: parse a date parameter, the first day of a month,
a month ``n`` months on.

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

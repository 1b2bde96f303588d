"""The scope base every report's ``prepare`` returns, and the date filter all of them use.

A report's scope (``trends.Scope``, ``launch.LaunchScope``, ``scorecard.Scope``,
``target_plan.Scope``) is a dataclass deriving from :class:`ScopeBase`, with a field
``tables``: the store's tables that hold rows and their columns (:func:`store_tables`).
:meth:`ScopeBase.has` tells whether a table (and columns) is there, :meth:`ScopeBase.missing`
gives the :class:`~analysis.sections.Skip` of a section that needs it. :func:`between` keeps
the rows of a half-open date window (``start <= column < end``).

Examples
--------
>>> from dataclasses import dataclass, field
>>> @dataclass
... class Demo(ScopeBase):
...     tables: dict = field(default_factory=dict)
>>> s = Demo({"visits": ["rep_id", "visit_date"]})
>>> s.has("visits", "rep_id"), s.missing("visits", "kind").as_dict()
(True, {'reason': 'missing_column', 'details': {'table': 'visits', 'column': 'kind'}})
>>> s.missing("feedback").as_dict()
{'reason': 'missing_table', 'details': {'table': 'feedback'}}
>>> s.part_skip("intervals") is None
True
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from . import store
from .periods import half_open
from .sections import Reason, Skip


class ScopeBase:
    """Base of the reports' scopes: what the store holds (``tables``, a field of the subclass:
    ``{table: [columns]}`` of the tables with rows) and the checks on it; and the skips of the
    parts ``prepare`` computed for a section (``parts``, ``{part: Skip}``, a field of a subclass
    that has such parts): :meth:`skip_part` records one, :meth:`part_skip` reads it. The section
    a part belongs to carries it on its result: in :attr:`SectionResult.parts
    <analysis.sections.SectionResult.parts>` when the section still runs (the scorecard's streak
    penalty), as the section's ``skip`` when the part is the whole section (the rank intervals),
    so every one reaches metrics.json (``skipped_parts`` or ``skipped_details``)."""

    tables: dict[str, list[str]]
    parts: dict[str, Skip]

    def skip_part(self, part: str, skip: Skip | None) -> None:
        """Record that the part ``part`` could not be computed (``skip`` None: nothing to record)."""
        if skip is not None:
            self.parts[part] = skip

    def part_skip(self, part: str) -> Skip | None:
        """Why the part ``part`` could not be computed; None when it was (or the scope has no parts)."""
        return (getattr(self, "parts", None) or {}).get(part)

    def has(self, table: str, *cols: str) -> bool:
        """True when ``table`` holds rows and has every one of ``cols``."""
        return table in self.tables and all(c in self.tables[table] for c in cols)

    def missing(self, table: str, *cols: str) -> Skip | None:
        """The Skip of a section needing ``table`` (and ``cols`` in it): ``missing_table`` or
        ``missing_column`` naming the first one missing; None when all are there."""
        if table not in self.tables:
            return Skip(Reason.MISSING_TABLE, {"table": table})
        for c in cols:
            if c not in self.tables[table]:
                return Skip(Reason.MISSING_COLUMN, {"table": table, "column": c})
        return None


def store_tables(con: Any, names: Iterable[str]) -> dict[str, list[str]]:
    """``{table: [columns]}`` of the tables of ``names`` that exist and hold rows."""
    return {t: store.columns(con, t) for t in names if store.has_rows(con, t)}


def between(t: Any, start: dt.date, end: dt.date, column: str = "order_date") -> Any:
    """The rows of the Ibis table ``t`` with ``start <= column < end`` (the column read as a
    date; consecutive windows share no day)."""
    return t.filter(half_open(t[column].cast("date"), start, end))

"""One error hierarchy for the package.

Every error the package raises on purpose derives from :class:`AnalysisError`, so the
CLI can print one clear line instead of a traceback. Errors about a value a caller
passed also derive from :class:`ValueError`.
"""
from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error raised on purpose by the package."""


class ParameterError(AnalysisError, ValueError):
    """A parameter has a wrong name, type or value.

    Messages follow "The 'x' parameter of f must be …. Got … instead."
    """


class StoreError(AnalysisError):
    """A store cannot be opened, or lacks a table or column that is needed."""


class MissingTableError(StoreError):
    """A table required by a computation is absent or empty."""

    def __init__(self, table: str, needed_by: str = "") -> None:
        self.table = table
        self.needed_by = needed_by
        by = f" (needed by {needed_by})" if needed_by else ""
        super().__init__(f"The store has no rows in table '{table}'{by}.")


class MissingColumnError(StoreError, ValueError):
    """A column required by a computation is absent."""

    def __init__(self, table: str, column: str, found: list[str] | None = None) -> None:
        self.table = table
        self.column = column
        self.found = list(found or [])
        super().__init__(
            f"Table '{table}' has no column '{column}'; columns found: {', '.join(self.found) or '(none)'}."
        )


class IngestError(AnalysisError, ValueError):
    """A file cannot be read as a table, or lacks a required column."""


class ContractError(AnalysisError, ValueError):
    """Data break a table contract (carries which table, column and rows)."""

    def __init__(self, message: str, table: str = "", column: str = "", rows: list[int] | None = None):
        self.table = table
        self.column = column
        self.rows = list(rows or [])
        super().__init__(message)


class InsufficientDataError(AnalysisError, ValueError):
    """Too little data for a method (a section is skipped with this message)."""


class ReportRunError(AnalysisError):
    """A report notebook failed to execute or to export."""


class StatsWarning(UserWarning):
    """Base class of typed warnings raised by the statistics modules."""


class ProportionalHazardsWarning(StatsWarning):
    """The proportional-hazards assumption looks violated for a covariate."""


class ConvergenceWarning(StatsWarning):
    """A model fit did not converge; its estimates are unreliable."""


class SchemeError(AnalysisError, ValueError):
    """An assessment scheme (YAML) or its manual adjustments (CSV) are invalid.

    Messages name the field, what was given and what is allowed, for instance
    "The 'weights' of scheme 'default' must sum to 100. Got 95 instead."
    """


class PlanError(AnalysisError, ValueError):
    """A target plan cannot be made as asked (overrides above the total, an unknown key,
    a growth cap that no split can meet)."""


class MessageError(ParameterError):
    """A message or label was asked for with an unknown language, id, variant or value name."""


class CatalogueError(AnalysisError, ValueError):
    """A message catalogue file (analysis/locales/*.yml) is malformed."""

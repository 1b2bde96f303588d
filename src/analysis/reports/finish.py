"""What a report's last cell adds to metrics.json besides its sections' metrics.

Each function is named by a :class:`analysis.spec.ReportSpec` (``finish``) and called as
``fn(scope, output_path)``: ``output_path(name)`` is where the report writes a file of its own
(``ctx.output_path`` in a notebook; a temporary folder in a headless run).
"""
from __future__ import annotations

from typing import Any, Callable


def sales_trends(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The period, grain, data window, row counts, filters, level, coverage and conflicts."""
    from .. import trends

    return trends.scope_metrics(scope)


def rep_scorecard(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The store's data window."""
    from .. import scorecard

    return {"data_window": scorecard.data_window(scope)}


def target_plan(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The targets files (CSV and XLSX, written with ``output_path``) and the data window."""
    from .. import target_plan as tp
    from .targets_file import write_targets

    files = write_targets(scope, output_path)
    return {"targets_file": files["csv"], "targets_workbook": files["xlsx"], "data_window": tp.data_window(scope)}


def agency_monthly(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The data window of the agency tables."""
    from ..agency import monthly

    return {"data_window": monthly.data_window(scope)}


def agency_scorecard(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The data window of the agency tables (as the notebook's last cell)."""
    from ..agency import scorecard

    return {"data_window": scorecard.data_window(scope)}


def agency_target_plan(scope: Any, output_path: Callable[[str], Any]) -> dict[str, Any]:
    """The data window of the agency tables (as the notebook's last cell)."""
    from ..agency import plan

    return {"data_window": plan.data_window(scope)}

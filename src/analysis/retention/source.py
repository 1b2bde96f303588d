"""Where a run's data come from: the store's person-month panel or a snapshot (:func:`load`)."""
from __future__ import annotations

from typing import Any

from .. import store
from ..params.incentive_retention import IncentiveRetentionParams
from .data import RetentionData
from .panel import load_panel
from .snapshot import load_snapshot


def load(con: Any, params: IncentiveRetentionParams | None = None) -> RetentionData:
    """Load the report's data from the store (panel) or from a snapshot.

    Parameters
    ----------
    con : Ibis backend or None
        The store (None for a snapshot file; the default store is opened when a snapshot
        table is asked for without a connection).
    params : IncentiveRetentionParams, optional
        The report's parameters, validated (``IncentiveRetentionParams.of(as_of=...)``); None:
        the defaults. ``lang`` plays no part: the data carry no language.

    Raises
    ------
    ParameterError
        ``params`` is not an ``IncentiveRetentionParams`` (a dict: make the model with
        ``IncentiveRetentionParams.of(**values)``).

    Examples
    --------
    >>> data = load(con, IncentiveRetentionParams.of(as_of="2026-10-31"))  # doctest: +SKIP
    """
    from ..params.base import as_params

    p = as_params(IncentiveRetentionParams, params, "incentive_retention.load")
    kw = dict(as_of=p.as_of, cohort_start=p.cohort_start, horizon_months=int(p.horizon_months),
              features=list(p.features), controls=list(p.controls), min_group_size=int(p.min_group_size))
    if p.source == "store":
        return load_panel(con if con is not None else store.connect(p.store, read_only=True), **kw)
    if not p.snapshot and con is None:
        con = store.connect(p.store, read_only=True)
    return load_snapshot(p.snapshot or con, tenure_unit=p.tenure_unit, **kw)

"""Where a run's data come from: the store's person-month panel or a snapshot (:func:`load`)."""
from __future__ import annotations

from typing import Any

from .. import store
from ..errors import ParameterError
from .data import RetentionData, _params_get
from .panel import load_panel
from .snapshot import load_snapshot


def load(con: Any, params: Any = None) -> RetentionData:
    """Load the report's data from the store (panel) or from a snapshot.

    Parameters
    ----------
    con : Ibis backend or None
        The store (None for a snapshot file; the default store is opened when a snapshot
        table is asked for without a connection).
    params : IncentiveRetentionParams or dict
        source, snapshot, as_of, cohort_start, horizon_months, tenure_unit, features,
        controls, min_group_size (``lang`` plays no part: the data carry no language).

    Examples
    --------
    >>> data = load(con, {"as_of": "2026-10-31"})  # doctest: +SKIP
    """
    from ..params.incentive_retention import DEFAULT_CONTROLS, DEFAULT_FEATURES

    source = _params_get(params, "source", "store")
    kw = dict(
        as_of=_params_get(params, "as_of", ""),
        cohort_start=_params_get(params, "cohort_start", ""),
        horizon_months=int(_params_get(params, "horizon_months", 12)),
        features=list(_params_get(params, "features", DEFAULT_FEATURES)),
        controls=list(_params_get(params, "controls", DEFAULT_CONTROLS)),
        min_group_size=int(_params_get(params, "min_group_size", 5)),
    )
    if source == "store":
        if con is None:
            con = store.connect(_params_get(params, "store", None), read_only=True)
        return load_panel(con, **kw)
    if source == "snapshot":
        snap = _params_get(params, "snapshot", "")
        if not snap and con is None:
            con = store.connect(_params_get(params, "store", None), read_only=True)
        return load_snapshot(snap or con, tenure_unit=_params_get(params, "tenure_unit", "years"), **kw)
    raise ParameterError(f"The 'source' parameter of retention.load must be 'store' or 'snapshot'. Got {source!r} instead.")

"""The data of a report run (:class:`RetentionData`) and what the store and snapshot paths share:
the report's constants, tenure in months, the headline window, small levels merged, requested
names resolved.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import store
from ..errors import MissingTableError
from ..periods import to_date
from ..sections import Note


REPORT = "incentive_retention"


DAYS_PER_MONTH = 365.25 / 12


HEADLINE_MONTHS = 12


PANEL_FEATURES = ("team_bonus_share", "payout_delay_days", "promoted_last_12m", "training_hours",
                  "bonus_per_month", "award")


BOOL_FEATURES = ("promoted_last_12m", "award")


CATEGORICAL_CONTROLS = ("region", "role")


def _table(con: Any, name: str, required: tuple[str, ...] = ()) -> Any:
    """The Ibis table ``name``; MissingTableError when it is absent or empty."""
    if not store.has_rows(con, name):
        raise MissingTableError(name, "incentive_retention")
    return store.table(con, name, "incentive_retention", required)


def _to_date(value: Any, name: str) -> dt.date | None:
    return to_date(value, name, "incentive_retention")


def _tenure_months(start, end) -> np.ndarray:
    """Months between two date arrays with both days counted ((end − start + 1 day) ÷ 30.44)."""
    days = (pd.to_datetime(end) - pd.to_datetime(start)).dt.days.to_numpy(float) + 1.0
    return days / DAYS_PER_MONTH


@dataclass
class RetentionData:
    """Everything the report sections need, from either source.

    ``people``: one row per person: person_id, entry, tenure (months), left (bool),
    exit_reason, region, role, hire_cohort, the person-level features and controls.
    ``panel``: person-month rows (store source only) with start, stop, event and the
    time-varying features. ``window``: the people of the headline window (12 months to
    ``as_of``) with tenure and left. ``horizon``: one row per person observed over
    ``horizon_months`` (or leaving within it) with ``left_within_horizon`` and the person's
    mean features. ``monthly`` (store only): headcount, hires and exits per month and region.
    """

    source: str
    as_of: dt.date
    data_start: dt.date | None
    people: pd.DataFrame
    window: pd.DataFrame
    horizon: pd.DataFrame
    panel: pd.DataFrame | None
    features: list[str]
    controls: list[str]
    categorical: list[str]
    horizon_months: int
    min_group_size: int
    #: remarks on the data (skipped features or controls, merged levels, the snapshot's outcome)
    notes: list[Note] = field(default_factory=list)
    monthly: pd.DataFrame | None = None
    #: the panel's person column (``rep_id`` for reps; another report's panel names its own, e.g. ``agent_id``)
    id_col: str = "rep_id"

    @property
    def data_window(self) -> dict[str, str | None]:
        return {"start": self.data_start.isoformat() if self.data_start else None, "end": self.as_of.isoformat()}


def headline_window_start(as_of: dt.date, data_start: dt.date | None, months: int = HEADLINE_MONTHS) -> dt.date:
    """First day of the headline window: ``months`` before as_of, not before the data start."""
    w = (pd.Timestamp(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()
    return max(w, data_start) if data_start else w


def _lump_small_levels(df: pd.DataFrame, cols: Sequence[str], id_col: str, k: int, notes: list[Note]) -> pd.DataFrame:
    """Merge levels of categorical controls held by fewer than ``k`` distinct people into
    "other", so no model term describes a group below the minimum size."""
    df = df.copy()
    for c in cols:
        if c not in df.columns:
            continue
        n = df.groupby(c)[id_col].nunique()
        small = n[n < k].index.tolist()
        if small:
            df[c] = df[c].where(~df[c].isin(small), "other")
            notes.append(Note("merged", {"control": c, "levels": len(small), "min_group_size": k}))
    return df


def _resolve(requested: Sequence[str], available: Sequence[str], kind: str, notes: list[Note]) -> list[str]:
    out = []
    for name in requested:
        if name in available:
            out.append(name)
        else:
            notes.append(Note(f"missing_{kind}", {"name": name}))
    return out

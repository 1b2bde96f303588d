"""Privacy rules for reports that go to managers.

- No table or chart shows a group of fewer than ``min_group_size`` distinct people: the
  group's counts and every rate derived from it are suppressed (shown as "—"), and, so a
  hidden cell cannot be worked out from a total, a second cell of the same row/column is
  suppressed too (complementary suppression).
- No individual's name or pay leaves the package: :func:`drop_identifying` removes
  such columns from any frame meant for display.

Examples
--------
>>> df = pd.DataFrame({"region": ["a", "b", "c"], "people": [3, 12, 40], "rate": [0.3, 0.1, 0.2]})
>>> out = suppress_small(df, "people", min_size=5, dims=["region"])
>>> out.frame["people"].tolist(), out.n_suppressed
([None, None, 40], 2)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import ParameterError

IDENTIFYING_COLUMNS = ("name", "rep_name", "person_name", "full_name", "manager_name")
PAY_COLUMNS = (
    "base_pay", "individual_bonus", "team_bonus", "bonus", "salary", "pay", "monthly_income",
    "monthlyincome", "monthly_rate", "monthlyrate", "daily_rate", "dailyrate", "hourly_rate", "hourlyrate",
)


@dataclass
class Suppressed:
    """A frame after suppression and how many cells (rows of a group) were hidden."""

    frame: pd.DataFrame
    n_suppressed: int
    n_primary: int
    n_complementary: int


def suppress_small(
    df: pd.DataFrame,
    count_col: str,
    min_size: int = 5,
    dims: Sequence[str] | None = None,
    value_cols: Sequence[str] | None = None,
    has_total: bool = True,
) -> Suppressed:
    """Suppress groups of fewer than ``min_size`` people, with complementary suppression.

    Parameters
    ----------
    df : DataFrame
        One row per group (cell); ``count_col`` holds the number of distinct people.
    count_col : str
        Column with the group size.
    min_size : int
        Smallest group that may be shown.
    dims : list of str, optional
        The columns that identify a cell. With two dims (e.g. region × cohort) the rule is
        applied along each row and each column; with one dim (or none) along the whole table.
    value_cols : list of str, optional
        Columns hidden in a suppressed cell; default every column not in ``dims``.
    has_total : bool
        Whether a total of the table (or of each row/column) is shown or known elsewhere;
        when true, a line with exactly one hidden cell gets a second one hidden (the
        smallest shown cell of that line).

    Returns
    -------
    Suppressed
        ``frame`` with hidden values set to None (object columns), and the counts.

    Examples
    --------
    >>> suppress_small(pd.DataFrame({"g": ["x", "y"], "people": [9, 8]}), "people").n_suppressed
    0
    """
    if min_size < 1:
        raise ParameterError(f"The 'min_size' parameter of suppress_small must be >= 1. Got {min_size!r} instead.")
    if count_col not in df.columns:
        raise ParameterError(f"The 'count_col' parameter of suppress_small must name a column. Got {count_col!r} instead.")
    dims = list(dims or [])
    data = df.reset_index(drop=True).copy()
    counts = pd.to_numeric(data[count_col], errors="coerce").fillna(0).to_numpy()
    hidden = (counts > 0) & (counts < min_size)
    n_primary = int(hidden.sum())
    if has_total and n_primary:
        lines: list[np.ndarray] = []
        if len(dims) >= 2:
            for d in dims:
                for _, idx in data.groupby(dims[:dims.index(d)] + dims[dims.index(d) + 1:], dropna=False).groups.items():
                    lines.append(np.asarray(list(idx)))
        else:
            lines.append(np.arange(len(data)))
        changed = True
        while changed:
            changed = False
            for idx in lines:
                h = hidden[idx]
                if h.sum() == 1 and len(idx) > 1:
                    shown = idx[~h & (counts[idx] > 0)]
                    if len(shown) == 0:
                        shown = idx[~h]
                    if len(shown) == 0:
                        continue
                    pick = shown[np.argmin(counts[shown])]
                    hidden[pick] = True
                    changed = True
    cols = [c for c in (value_cols if value_cols is not None else data.columns) if c not in dims]
    for c in cols:
        data[c] = data[c].astype(object)
        data.loc[hidden, c] = None
    n_all = int(hidden.sum())
    return Suppressed(frame=data, n_suppressed=n_all, n_primary=n_primary, n_complementary=n_all - n_primary)


def is_identifying(column: str) -> bool:
    """True for a column holding a person's name or pay.

    Examples
    --------
    >>> is_identifying("base_pay"), is_identifying("team_bonus_share")
    (True, False)
    """
    c = column.lower().strip()
    return c in IDENTIFYING_COLUMNS or c in PAY_COLUMNS or c.endswith("_name")


def drop_identifying(df: pd.DataFrame) -> pd.DataFrame:
    """Drop names and pay columns (and person ids) from a frame meant for display.

    Examples
    --------
    >>> list(drop_identifying(pd.DataFrame({"name": ["x"], "base_pay": [1], "region": ["a"]})).columns)
    ['region']
    """
    ids = {"rep_id", "person_id", "employee_id", "employeenumber", "employee_number", "manager_id"}
    keep = [c for c in df.columns if not is_identifying(str(c)) and str(c).lower() not in ids]
    return df[keep]


def min_people_ok(n_people: int, min_size: int) -> bool:
    """Whether a group of ``n_people`` distinct people may be shown."""
    return int(n_people) >= int(min_size)

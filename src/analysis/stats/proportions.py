"""Rates and means with confidence intervals, and small-group handling.

Pure functions on numbers and pandas frames (no store). Intervals are two-sided at level
``1 - alpha`` (95 % by default).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import ParameterError

OTHER = "other"


def _check_alpha(alpha: float, where: str) -> None:
    if not (0 < alpha < 1):
        raise ParameterError(f"The 'alpha' parameter of {where} must be in (0, 1). Got {alpha!r} instead.")


def wilson_ci(successes, n, alpha: float = 0.05):
    """Wilson score interval of a proportion ``successes / n``.

    Works on scalars (returns a tuple ``(lo, hi)``) or arrays (a tuple of arrays). ``n == 0``
    gives ``(nan, nan)``.

    Examples
    --------
    >>> lo, hi = wilson_ci(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    """
    _check_alpha(alpha, "wilson_ci")
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > m):
        raise ParameterError(
            f"The 'successes' parameter of wilson_ci must be between 0 and n. Got {successes!r} (n={n!r}) instead."
        )
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        # at k = 0 (k = n) the bound is exactly 0 (1); rounding would leave ±1e-17
        lo = np.where(m > 0, np.where(k == 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
        hi = np.where(m > 0, np.where(k == m, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def mean_ci(values: Sequence[float], alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean with a Student-t interval: ``(mean, lo, hi)``; NaNs are ignored.

    Fewer than 2 values give ``(mean, nan, nan)`` (``nan`` everywhere when empty).

    Examples
    --------
    >>> m, lo, hi = mean_ci([4, 5, 3, 4, 4])
    >>> m, round(lo, 3), round(hi, 3)
    (4.0, 3.122, 4.878)
    """
    _check_alpha(alpha, "mean_ci")
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    if len(x) < 2:
        return m, float("nan"), float("nan")
    se = float(x.std(ddof=1) / np.sqrt(len(x)))
    t = sps.t.ppf(1 - alpha / 2, len(x) - 1)
    return m, float(m - t * se), float(m + t * se)


def merge_small_groups(
    df: pd.DataFrame,
    group: str,
    size: str,
    min_size: int,
    sum_cols: Sequence[str] = (),
    other: str = OTHER,
) -> pd.DataFrame:
    """Merge groups with ``size < min_size`` into one group ``other``; flag it if still too small.

    The counts ``size`` and ``sum_cols`` of merged groups are added up. The result has a
    boolean column ``suppressed`` (True for a merged group still smaller than ``min_size``)
    and ``merged`` (how many groups a row holds). Totals are preserved.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "b", "c"], "n": [10, 2, 1], "k": [5, 1, 0]})
    >>> merge_small_groups(df, "g", "n", 5, ["k"])[["g", "n", "k", "suppressed"]].values.tolist()
    [['a', 10, 5, False], ['other', 3, 1, True]]
    """
    if int(min_size) < 1:
        raise ParameterError(f"The 'min_size' parameter of merge_small_groups must be ≥ 1. Got {min_size!r} instead.")
    cols = [size, *sum_cols]
    big = df[df[size] >= min_size].copy()
    small = df[df[size] < min_size]
    big["merged"] = 1
    big["suppressed"] = False
    if len(small):
        row = {group: other, **{c: small[c].sum() for c in cols}, "merged": len(small)}
        row["suppressed"] = bool(row[size] < min_size)
        big = pd.concat([big, pd.DataFrame([row])], ignore_index=True)
    for c in cols:
        big[c] = big[c].astype(df[c].dtype)
    return big[[group, *cols, "merged", "suppressed"]].reset_index(drop=True)


def rate_table(
    df: pd.DataFrame, successes: str, n: str, min_size: int = 1, prefix: str = "rate", alpha: float = 0.05
) -> pd.DataFrame:
    """Add ``{prefix}_rate``, ``{prefix}_lo``, ``{prefix}_hi`` (Wilson) for ``successes / n``.

    Rows with ``n < min_size`` or ``suppressed`` (from :func:`merge_small_groups`) get NaN.

    Examples
    --------
    >>> rate_table(pd.DataFrame({"k": [8], "n": [10]}), "k", "n")["rate_rate"].tolist()
    [0.8]
    """
    out = df.copy()
    k = out[successes].to_numpy(dtype=float)
    m = out[n].to_numpy(dtype=float)
    lo, hi = wilson_ci(k, m, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(m > 0, k / np.where(m > 0, m, 1), np.nan)
    hide = (m < min_size)
    if "suppressed" in out.columns:
        hide = hide | out["suppressed"].to_numpy(dtype=bool)
    out[f"{prefix}_rate"] = np.where(hide, np.nan, rate)
    out[f"{prefix}_lo"] = np.where(hide, np.nan, lo)
    out[f"{prefix}_hi"] = np.where(hide, np.nan, hi)
    return out

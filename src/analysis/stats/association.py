"""Association between two per-unit measures, reported as an estimate with a CI.

Used for "does guidance coverage go with attainment?" across account managers: the OLS
slope with its t interval, Pearson r with its Fisher-z interval, and a percentile
bootstrap interval for r (resampling units, fixed seed) that does not lean on normality.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InsufficientDataError, ParameterError


@dataclass(frozen=True)
class AssociationResult:
    """Estimates of the linear association of y with x."""

    n: int
    slope: float
    slope_low: float
    slope_high: float
    intercept: float
    r: float
    r_low: float
    r_high: float
    r_boot_low: float
    r_boot_high: float
    p_value: float
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        """Two rows (slope, r) × estimate, ci_low, ci_high (+ bootstrap for r)."""
        return pd.DataFrame(
            {
                "measure": ["slope", "pearson_r", "pearson_r_bootstrap"],
                "estimate": [self.slope, self.r, self.r],
                "ci_low": [self.slope_low, self.r_low, self.r_boot_low],
                "ci_high": [self.slope_high, self.r_high, self.r_boot_high],
            }
        )

    def to_dict(self) -> dict:
        return asdict(self)


def linear_association(x, y, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0,
                       min_n: int = 5) -> AssociationResult:
    """OLS slope of ``y`` on ``x`` and Pearson r, each with a confidence interval.

    Slope CI: b ± t_{n−2} · se(b). r CI: tanh(atanh(r) ± z / √(n−3)) (Fisher). Bootstrap:
    percentile interval of r over ``n_boot`` resamples of the pairs (seeded). Pairs with a
    missing value are dropped.

    Parameters
    ----------
    x, y : array-like
        Paired values, e.g. guidance coverage and attainment per rep.
    confidence : float
        Level of every interval (0.95).
    n_boot : int
        Bootstrap resamples (0 to skip: the bootstrap bounds are NaN).
    seed : int
        Seed of the bootstrap, so reports are reproducible.
    min_n : int
        Fewer complete pairs raise InsufficientDataError.

    Examples
    --------
    >>> r = linear_association([1, 2, 3, 4, 5, 6], [1.1, 1.9, 3.2, 3.9, 5.1, 6.0], n_boot=0)
    >>> round(r.slope, 3), bool(r.slope_low < r.slope < r.slope_high)
    (0.994, True)
    """
    if not 0 < confidence < 1:
        raise ParameterError(
            f"The 'confidence' parameter of linear_association must be between 0 and 1. Got {confidence!r} instead."
        )
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ParameterError(
            f"The 'x' and 'y' parameters of linear_association must have the same length. Got {xa.shape} and {ya.shape} instead."
        )
    ok = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[ok], ya[ok]
    n = len(xa)
    if n < max(min_n, 4):
        raise InsufficientDataError(f"An association needs at least {max(min_n, 4)} complete pairs; got {n}.")
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        raise InsufficientDataError("An association needs x and y that vary.")
    xm, ym = xa.mean(), ya.mean()
    sxx = float(np.sum((xa - xm) ** 2))
    sxy = float(np.sum((xa - xm) * (ya - ym)))
    syy = float(np.sum((ya - ym) ** 2))
    slope = sxy / sxx
    intercept = ym - slope * xm
    resid = ya - intercept - slope * xa
    s2 = float(np.sum(resid**2)) / (n - 2)
    se = math.sqrt(s2 / sxx)
    t = sps.t.ppf(0.5 + confidence / 2, n - 2)
    r = sxy / math.sqrt(sxx * syy)
    r = max(min(r, 1.0), -1.0)
    tstat = slope / se if se > 0 else math.inf
    p = float(2 * sps.t.sf(abs(tstat), n - 2)) if se > 0 else 0.0
    z = sps.norm.ppf(0.5 + confidence / 2)
    if abs(r) < 1 and n > 3:
        zr = math.atanh(r)
        r_lo, r_hi = math.tanh(zr - z / math.sqrt(n - 3)), math.tanh(zr + z / math.sqrt(n - 3))
    else:
        r_lo = r_hi = r
    b_lo = b_hi = float("nan")
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        bx, by = xa[idx], ya[idx]
        bxm = bx - bx.mean(axis=1, keepdims=True)
        bym = by - by.mean(axis=1, keepdims=True)
        den = np.sqrt((bxm**2).sum(axis=1) * (bym**2).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            rs = (bxm * bym).sum(axis=1) / den
        rs = rs[np.isfinite(rs)]
        if len(rs):
            a = (1 - confidence) / 2
            b_lo, b_hi = (float(v) for v in np.quantile(rs, [a, 1 - a]))
    return AssociationResult(
        n=n, slope=slope, slope_low=slope - t * se, slope_high=slope + t * se, intercept=intercept,
        r=r, r_low=r_lo, r_high=r_hi, r_boot_low=b_lo, r_boot_high=b_hi, p_value=p, confidence=confidence,
    )

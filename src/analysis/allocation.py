"""Target-plan arithmetic (任务分解): shares, caps, overrides, ramps and exact rounding.

Everything here takes small pandas frames or plain values and returns frames, series or
numbers; nothing reads a store or writes a file. The plan of one parent (the company total,
or one region's total) is made in four steps, :func:`plan_level`:

1. **shares** of the keys (regions, reps, brands) from their history by one of the
   :data:`METHODS` (``last_12``, ``same_month``, ``blend``, ``capacity``);
2. **overrides** (key → value) are locked; the remainder goes to the other keys;
3. a **growth cap** keeps each unlocked key's change against the same month last year
   within ±cap, the rest re-balanced (:func:`cap_and_rebalance`);
4. **rounding** to a unit (1 条, 100 元, 0.01 元) by the largest-remainder method, so the
   keys sum *exactly* to the parent (:func:`largest_remainder`).

:func:`split_down` applies :func:`plan_level` to every parent of a level, so each level of
the hierarchy (company → region → rep → brand) sums exactly to its parent after rounding.

History frames have one row per key and month: columns ``key``, ``month`` (a
``pandas.Period``, a ``"YYYY-MM"`` text, or a date) and ``value`` (amount or qty). A key's
negative sum over a window (returns exceeding sales) counts as 0 in the shares.

Examples
--------
>>> largest_remainder({"a": 1, "b": 1, "c": 1}, total=100).tolist()
[34.0, 33.0, 33.0]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InsufficientDataError, ParameterError, PlanError

METHODS = ("last_12", "same_month", "blend", "capacity")
"""Share methods: last 12 months, same month last year, blend of the two, capacity."""

SIZE_CLASS_WEIGHTS: dict[str, float] = {
    "large": 3.0, "medium": 2.0, "small": 1.0, "大": 3.0, "中": 2.0, "小": 1.0,
    "大户": 3.0, "中户": 2.0, "小户": 1.0,
}
"""Default capacity weights of the customer size classes (large 3 : medium 2 : small 1)."""

POOL_PREFIX = "pool:"
"""Key prefix of a region's pool of customers without a serving rep (``pool:<region>``)."""

DEFAULT_BLEND = {"last_12": 0.5, "same_month": 0.5}


# ----------------------------------------------------------------------------- helpers
def _r(x: Any) -> str:
    """repr of a value for a message, numpy scalars shown as plain Python values."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _exact(x: Any, name: str) -> Fraction:
    """A number as an exact fraction of its decimal text (0.01 is 1/100, not the binary float)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating, Decimal, Fraction)):
        raise ParameterError(f"The '{name}' must be a number. Got {_r(x)} instead.")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    if not math.isfinite(float(x)):
        raise ParameterError(f"The '{name}' must be a finite number. Got {_r(x)} instead.")
    return Fraction(Decimal(repr(float(x))) if not isinstance(x, Decimal) else x)


def _as_series(values: Any, name: str = "values") -> pd.Series:
    if isinstance(values, pd.Series):
        s = values.copy()
    elif isinstance(values, Mapping):
        s = pd.Series(dict(values), dtype=float)
    else:
        s = pd.Series(list(values), dtype=float)
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise ParameterError(f"The '{name}' must have one value per key. Got key {_r(dup)} twice.")
    return s.astype(float)


def _to_period(x: Any, name: str = "month") -> pd.Period:
    try:
        if isinstance(x, pd.Period):
            return x.asfreq("M")
        return pd.Period(pd.Timestamp(str(x)) if not isinstance(x, (pd.Timestamp,)) else x, "M")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"The '{name}' must be a month such as '2026-05'. Got {_r(x)} instead.") from exc


def _months(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.PeriodDtype):
        return col.dt.asfreq("M")
    return pd.PeriodIndex(pd.to_datetime(col.astype(str)), freq="M").to_series(index=col.index)


def _check_columns(frame: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The {what} frame must have the column(s) {', '.join(map(repr, missing))}. "
            f"Got columns {', '.join(map(str, frame.columns)) or '(none)'} instead."
        )


def _normalise(s: pd.Series, what: str) -> pd.Series:
    s = s.clip(lower=0).astype(float)
    tot = float(s.sum())
    if not tot > 0:
        raise InsufficientDataError(f"The {what} hold no positive value, so no shares can be made.")
    return s / tot


# ----------------------------------------------------------------------------- rounding
def largest_remainder_units(weights: Sequence[float], n_units: int, lower: Sequence[Any] | None = None,
                            upper: Sequence[Any] | None = None) -> np.ndarray:
    """Split ``n_units`` whole units over ``weights`` by the largest-remainder method.

    Each key first gets the whole part of its exact quota ``n_units * w / sum(w)``; the
    units left over go one each to the largest fractional remainders. Quotas are computed
    in exact rational arithmetic, so equal quotas are truly equal. **Ties** are broken by
    the larger weight, then by position (the earlier key first), so the result is
    deterministic.

    With bounds (``lower``/``upper``, in units, None for none), each key's whole part is
    first moved into ``[ceil(lower), floor(upper)]``; units still to give go to the
    largest remainders among keys below their upper bound, units to take back come from
    the smallest remainders among keys above their lower bound. Without bounds this is
    the plain method.

    Parameters
    ----------
    weights : sequence of float
        Non-negative weights (shares or values); at least one positive when ``n_units > 0``.
    n_units : int
        Whole units to split (>= 0).
    lower, upper : sequence, optional
        Bounds per key in units (numbers or None).

    Returns
    -------
    numpy.ndarray of int
        Units per key, summing exactly to ``n_units``; a key of weight 0 gets 0 (unless
        its lower bound asks for more), also with bounds: when the other keys' upper bounds
        cannot hold the units, that is a PlanError, never a unit for a zero-weight key.

    Raises
    ------
    PlanError
        All weights 0 with units to split, or bounds no whole split can meet.

    Examples
    --------
    >>> largest_remainder_units([1, 1, 1], 4).tolist()
    [2, 1, 1]
    """
    if isinstance(n_units, bool) or int(n_units) != n_units or n_units < 0:
        raise ParameterError(f"The 'n_units' must be a whole number >= 0. Got {_r(n_units)} instead.")
    n = int(n_units)
    w = [_exact(v, "weights") for v in weights]
    if any(v < 0 for v in w):
        bad = next(float(v) for v in w if v < 0)
        raise ParameterError(f"The 'weights' must all be >= 0. Got {_r(bad)} instead.")
    tot = sum(w, Fraction(0))
    m = len(w)
    lo = [0 if lower is None or lower[i] is None else max(0, math.ceil(_exact(lower[i], "lower"))) for i in range(m)]
    hi = [None if upper is None or upper[i] is None or (isinstance(upper[i], float) and math.isinf(upper[i]))
          else math.floor(_exact(upper[i], "upper")) for i in range(m)]
    if tot > 0:
        # a key of weight 0 never takes a unit beyond its lower bound (bounds that leave units
        # over for it are infeasible, and the caller decides how to round instead)
        hi = [lo[i] if w[i] == 0 else hi[i] for i in range(m)]
    if n == 0 and not any(lo):
        return np.zeros(m, dtype=np.int64)
    if tot == 0 and not (lower is not None or upper is not None):
        raise PlanError(f"The 'weights' must have a positive sum to split {n} units. Got all {m} zero instead.")
    if sum(lo) > n or (all(h is not None for h in hi) and sum(hi) < n) or any(
            h is not None and h < l for l, h in zip(lo, hi)):
        raise PlanError(f"No whole split of {n} units meets the bounds: lower bounds sum to {sum(lo)}"
                        + (f", upper bounds to {sum(hi)}." if all(h is not None for h in hi) else "."))
    quotas = [v * n / tot for v in w] if tot > 0 else [Fraction(0)] * m
    whole = [math.floor(q) for q in quotas]
    whole = [max(lo[i], whole[i] if hi[i] is None else min(hi[i], whole[i])) for i in range(m)]
    left = n - sum(whole)
    while left > 0:
        room = [i for i in range(m) if hi[i] is None or whole[i] < hi[i]]
        if tot > 0 and any(w[i] > 0 for i in room):
            room = [i for i in room if w[i] > 0] if lower is None and upper is None else room
        order = sorted(room, key=lambda i: (-(quotas[i] - whole[i]), -w[i], i))
        for i in order[:left]:
            whole[i] += 1
        left = n - sum(whole)
    while left < 0:
        room = [i for i in range(m) if whole[i] > lo[i]]
        order = sorted(room, key=lambda i: (quotas[i] - whole[i], w[i], -i))
        for i in order[:-left]:
            whole[i] -= 1
        left = n - sum(whole)
    return np.asarray(whole, dtype=np.int64)


def _units(total: Any, unit: Any) -> tuple[int, Fraction]:
    u = _exact(unit, "unit")
    if u <= 0:
        raise ParameterError(f"The 'unit' must be > 0. Got {_r(unit)} instead.")
    t = _exact(total, "total")
    if t < 0:
        raise ParameterError(f"The 'total' must be >= 0. Got {_r(total)} instead.")
    q = t / u
    if q.denominator != 1:
        raise ParameterError(f"The 'total' must be a whole multiple of the unit {unit}. Got {_r(total)} instead.")
    return int(q), u


def largest_remainder(values: Any, total: float, unit: float = 1.0) -> pd.Series:
    """Round ``values`` to whole multiples of ``unit`` that sum exactly to ``total``.

    Parameters
    ----------
    values : Series, mapping or sequence of float
        Non-negative weights (shares, or unrounded amounts); only their proportions matter.
    total : float
        The sum to reach; a whole multiple of ``unit`` (100 元 plans take a total in hundreds).
    unit : float
        The rounding unit, for instance 1 (条), 100 (元) or 0.01 (元, the fen).

    Returns
    -------
    pandas.Series
        Same index as ``values``; each value ``k * unit`` for a whole ``k``, the ``k``
        summing exactly to ``total / unit`` (see :func:`largest_remainder_units` for the
        tie rule). Values are the nearest floats to the exact decimals, so with a whole
        ``unit`` their float sum is exactly ``total``.

    Examples
    --------
    >>> largest_remainder([0.5, 0.3, 0.2], total=1000, unit=100).tolist()
    [500.0, 300.0, 200.0]
    """
    s = _as_series(values, "values")
    n, u = _units(total, unit)
    k = largest_remainder_units(s.to_numpy(), n)
    return pd.Series([float(int(x) * u) for x in k], index=s.index, dtype=float)


# ----------------------------------------------------------------------------- shares
def _window_sums(history: pd.DataFrame, start: pd.Period, end: pd.Period, key: str, value: str,
                 month: str) -> pd.Series:
    _check_columns(history, (key, month, value), "history")
    m = _months(history[month])
    sel = history[(m >= start) & (m <= end)]
    return sel.groupby(key, sort=True)[value].sum().astype(float)


def _restrict(s: pd.Series, keys: Iterable[Any] | None) -> pd.Series:
    if keys is None:
        return s
    keys = list(keys)
    return s.reindex(keys, fill_value=0.0)


def shares_last_12(history: pd.DataFrame, month: Any, keys: Iterable[Any] | None = None, *,
                   key: str = "key", value: str = "value", period: str = "month") -> pd.Series:
    """Shares of the keys over the 12 months before ``month`` (``month``-12 … ``month``-1).

    Parameters
    ----------
    history : DataFrame
        Columns ``key``, ``period`` (month) and ``value``.
    month : month-like
        The plan month.
    keys : iterable, optional
        The keys to plan (for instance today's reps): keys without history get 0, keys
        not listed are dropped, the shares re-normalised over the listed keys.

    Returns
    -------
    pandas.Series
        Share per key (>= 0, summing to 1), sorted by key unless ``keys`` gives the order.

    Raises
    ------
    InsufficientDataError
        The window holds no positive value (a plan month with no history before it).
    """
    m = _to_period(month)
    s = _window_sums(history, m - 12, m - 1, key, value, period)
    return _normalise(_restrict(s, keys), f"12 months before {m} ({m - 12} … {m - 1})")


def shares_same_month(history: pd.DataFrame, month: Any, keys: Iterable[Any] | None = None, *,
                      key: str = "key", value: str = "value", period: str = "month") -> pd.Series:
    """Shares of the keys in the same month last year (``month`` - 12): the seasonal share.

    Same parameters, result and errors as :func:`shares_last_12`.
    """
    m = _to_period(month)
    s = _window_sums(history, m - 12, m - 12, key, value, period)
    return _normalise(_restrict(s, keys), f"same month last year ({m - 12})")


def shares_blend(history: pd.DataFrame, month: Any, weights: Mapping[str, float] | None = None,
                 keys: Iterable[Any] | None = None, *, key: str = "key", value: str = "value",
                 period: str = "month") -> pd.Series:
    """Blend ``w1 * last_12 + w2 * same_month`` of the two history shares.

    ``weights`` maps ``"last_12"`` and ``"same_month"`` to non-negative numbers summing
    to 1 (default 0.5 each). A key missing from one of the two gets 0 there.
    """
    w = dict(DEFAULT_BLEND if weights is None else weights)
    unknown = sorted(set(w) - {"last_12", "same_month"})
    if unknown:
        raise ParameterError(
            f"The 'blend_weights' keys must be 'last_12' and 'same_month'. Got {_r(unknown[0])} instead.")
    w1, w2 = float(w.get("last_12", 0.0)), float(w.get("same_month", 0.0))
    if w1 < 0 or w2 < 0 or not math.isclose(w1 + w2, 1.0, rel_tol=0, abs_tol=1e-12):
        raise ParameterError(
            f"The 'blend_weights' must be >= 0 and sum to 1. Got {w1:g} + {w2:g} = {w1 + w2:g} instead.")
    parts = []
    if w1 > 0:
        parts.append(w1 * shares_last_12(history, month, keys, key=key, value=value, period=period))
    if w2 > 0:
        parts.append(w2 * shares_same_month(history, month, keys, key=key, value=value, period=period))
    out = pd.concat(parts, axis=1).fillna(0.0).sum(axis=1)
    if keys is not None:
        out = out.reindex(list(keys))
    return out.sort_index() if keys is None else out


def shares_capacity(customers: pd.DataFrame, by: str = "grade", keys: Iterable[Any] | None = None, *,
                    key: str = "key", weights: Mapping[str, float] | None = None) -> pd.Series:
    """Shares by capacity: each key's customers weighted by grade or size class.

    Parameters
    ----------
    customers : DataFrame
        One row per customer: ``key`` (the region or rep serving it) and ``grade`` (1–30,
        higher is larger; the weight is the grade itself) or ``size_class``.
    by : {"grade", "size_class"}
    weights : mapping, optional
        Size-class weights (default :data:`SIZE_CLASS_WEIGHTS`, large 3 : medium 2 : small 1).

    Returns
    -------
    pandas.Series
        Share per key, summing to 1.
    """
    if by not in ("grade", "size_class"):
        raise ParameterError(f"The 'by' of the capacity method must be 'grade' or 'size_class'. Got {_r(by)} instead.")
    _check_columns(customers, (key, by), "customers")
    if by == "grade":
        g = pd.to_numeric(customers[by], errors="coerce")
        bad = customers[by][g.isna() | (g < 1) | (g > 30)]
        if len(bad):
            raise ParameterError(f"The customers' 'grade' must be a number from 1 to 30. Got {_r(bad.iloc[0])} instead.")
        w = g.astype(float)
    else:
        table = dict(SIZE_CLASS_WEIGHTS if weights is None else weights)
        cls = customers[by].astype(str).str.strip()
        unknown = sorted(set(cls) - set(table))
        if unknown:
            raise ParameterError(
                f"The customers' 'size_class' must be one of {', '.join(map(repr, table))}. "
                f"Got {_r(unknown[0])} instead.")
        w = cls.map(table).astype(float)
    s = w.groupby(customers[key]).sum().sort_index()
    return _normalise(_restrict(s, keys), "customers' capacity weights")


def shares(method: str, history: pd.DataFrame | None, month: Any, keys: Iterable[Any] | None = None, *,
           blend_weights: Mapping[str, float] | None = None, customers: pd.DataFrame | None = None,
           capacity_by: str = "grade", key: str = "key", value: str = "value",
           period: str = "month") -> pd.Series:
    """Shares by the named method (one of :data:`METHODS`); see the ``shares_*`` functions."""
    if method == "last_12":
        return shares_last_12(history, month, keys, key=key, value=value, period=period)
    if method == "same_month":
        return shares_same_month(history, month, keys, key=key, value=value, period=period)
    if method == "blend":
        return shares_blend(history, month, blend_weights, keys, key=key, value=value, period=period)
    if method == "capacity":
        if customers is None:
            raise ParameterError("The 'customers' frame is required by the 'capacity' method. Got None instead.")
        return shares_capacity(customers, capacity_by, keys, key=key)
    raise ParameterError(f"The 'method' must be one of {', '.join(map(repr, METHODS))}. Got {_r(method)} instead.")


def child_shares(history: pd.DataFrame | None, month: Any, method: str, *, roster: pd.DataFrame | None = None,
                 parent: str = "parent", key: str = "key", value: str = "value", period: str = "month",
                 blend_weights: Mapping[str, float] | None = None, customers: pd.DataFrame | None = None,
                 capacity_by: str = "grade") -> pd.DataFrame:
    """Shares of the keys *within each parent* (reps within their region, brands within a rep).

    The method runs on each parent's own history, so a blend is a blend of the
    within-parent shares (not of the company-wide shares re-normalised afterwards).

    Parameters
    ----------
    history : DataFrame
        Columns ``parent``, ``key``, ``period``, ``value`` (for ``capacity``: None, and
        ``customers`` has ``parent``, ``key`` and the grade or size class).
    roster : DataFrame, optional
        Columns ``parent`` and ``key``: the keys to plan under each parent (today's reps
        with their region). Keys without history get 0; keys not listed are dropped.
        Without it, the (parent, key) pairs of the history (or customers) are planned.

    Returns
    -------
    DataFrame
        Columns ``parent``, ``key``, ``share`` (summing to 1 within each parent), ready
        for :func:`split_down`.

    Raises
    ------
    InsufficientDataError
        A parent with no positive history in the method's window (the message names it).
    """
    src = customers if method == "capacity" else history
    if src is None:
        raise ParameterError(f"The {'customers' if method == 'capacity' else 'history'} frame is required by "
                             f"the '{method}' method. Got None instead.")
    _check_columns(src, (parent, key), "customers" if method == "capacity" else "history")
    if roster is not None:
        _check_columns(roster, (parent, key), "roster")
        pairs = roster[[parent, key]].drop_duplicates()
    else:
        pairs = src[[parent, key]].drop_duplicates()
    dup = pairs[key][pairs[key].duplicated()]
    if len(dup):
        raise PlanError(f"The key {_r(dup.iloc[0])} is listed under more than one {parent}; each key must have "
                        f"one parent.")
    rows = []
    for pk, grp in pairs.groupby(parent, sort=True):
        keys = grp[key].tolist()
        sub = src[src[parent] == pk]
        try:
            sh = shares(method, None if method == "capacity" else sub, month, keys, blend_weights=blend_weights,
                        customers=sub if method == "capacity" else None, capacity_by=capacity_by, key=key,
                        value=value, period=period)
        except InsufficientDataError as exc:
            raise InsufficientDataError(f"The {parent} {_r(pk)}: {exc}") from None
        rows += [{parent: pk, key: k, "share": float(v)} for k, v in sh.items()]
    return pd.DataFrame(rows, columns=[parent, key, "share"])


# ----------------------------------------------------------------------------- rules
@dataclass
class CapResult:
    """A plan after the growth cap: ``plan`` (key → value, same total), ``capped`` (the
    keys held at their lower or upper bound by the cap) and ``cap`` (the cap applied: the
    one asked for, or the smallest feasible one when it was relaxed, ``relaxed`` True)."""

    plan: pd.Series
    capped: list = field(default_factory=list)
    cap: float = float("nan")
    relaxed: bool = False


def _cap_bounds(pv: np.ndarray, ly: pd.Series, cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    has = (ly > 0).to_numpy()
    lyv = ly.fillna(0.0).to_numpy()
    lo = np.maximum(np.where(has, lyv * (1 - cap), 0.0), 0.0)
    hi = np.where(has, lyv * (1 + cap), np.inf)
    return has, lo, hi


def smallest_feasible_cap(plan: Any, last_year: Any, growth_cap: float) -> float:
    """The smallest cap, at least ``growth_cap``, that :func:`cap_and_rebalance` can meet.

    With the cap ``c`` each key with a last year ``ly > 0`` lies in ``[ly·(1-c), ly·(1+c)]``
    (a key whose plan is 0 stays at its lower bound), a key without one is free. The lower
    bounds sum to ``L·max(1-c, 0)`` (``L`` the last years' sum) and must not exceed the total
    ``T``; the most the keys reach is ``A·(1+c) + B·max(1-c, 0)`` (``A``: last years of keys
    with a plan, ``B``: of keys without one; unbounded when a key with a plan has no last
    year) and must reach ``T``. Both are piecewise linear in ``c``, solved in closed form.

    Examples
    --------
    >>> smallest_feasible_cap({"a": 136.0, "b": 136.0}, {"a": 100.0, "b": 100.0}, 0.3)
    0.36
    >>> smallest_feasible_cap({"a": 120.0}, {"a": 100.0}, 0.3)
    0.3
    """
    p = _as_series(plan, "plan")
    ly = _as_series(last_year, "last_year").reindex(p.index)
    cap = float(growth_cap)
    pv = p.to_numpy(dtype=float)
    total = float(pv.sum())
    has = (ly > 0).to_numpy()
    lyv = ly.fillna(0.0).to_numpy()
    pos = pv > 0
    big_l = float(lyv[has].sum())
    a = float(lyv[has & pos].sum())
    b = float(lyv[has & ~pos].sum())
    free = bool((pos & ~has).any())
    tol = 1e-9 * max(1.0, abs(total))
    c = cap
    if big_l * max(1.0 - c, 0.0) > total + tol:
        c = 1.0 - total / big_l

    def reach(x: float) -> float:
        return math.inf if free else a * (1 + x) + b * max(1.0 - x, 0.0)

    if reach(c) >= total - tol:
        return c
    if c < 1 and a > b:
        x = (total - a - b) / (a - b)
        if x <= 1:
            return max(c, x)
    if not a > 0:
        raise PlanError(f"No growth cap can be met: the keys with a plan have no last year and the total is "
                        f"{total:,.2f}.")
    return max(c, 1.0, total / a - 1.0)


def cap_and_rebalance(plan: Any, last_year: Any, growth_cap: float, *, relax: bool = False) -> CapResult:
    """Keep each key within ±``growth_cap`` of its same month last year, total unchanged.

    Each key ends at ``clip(λ · plan_k, ly_k·(1-cap), ly_k·(1+cap))`` for one common scale
    ``λ`` chosen so the keys still sum to the plan's total: keys that would break the cap
    are held at it and the rest are scaled in proportion to their plan until no key breaks
    it (the fixed point of the iterative re-balancing, solved exactly on the breakpoints
    of the piecewise-linear total, in rational arithmetic, so a tiny plan share next to a
    large one still takes its part of the remainder rather than overflowing the scale). A
    key without a positive last-year value (a new rep, a new region) has no cap.

    Parameters
    ----------
    plan : Series or mapping
        Unrounded plan per key (>= 0).
    last_year : Series or mapping
        Same month last year per key; missing keys are uncapped.
    growth_cap : float
        The allowed relative change, for instance 0.15 for ±15 % (>= 0).
    relax : bool
        When no split meets ``growth_cap``, apply the smallest cap that one does
        (:func:`smallest_feasible_cap`) instead of refusing; every key with a last year
        then sits at one of its bounds and is listed in ``capped``.

    Returns
    -------
    CapResult

    Raises
    ------
    PlanError
        No split meets the cap (and ``relax`` is False): the lower bounds sum above the
        total, or every key is capped and the upper bounds sum below it.

    Examples
    --------
    >>> r = cap_and_rebalance({"a": 150, "b": 50}, {"a": 100, "b": 100}, 0.2)
    >>> r.plan.tolist(), r.capped
    ([120.0, 80.0], ['a', 'b'])
    """
    p = _as_series(plan, "plan")
    if (p < 0).any() or p.isna().any():
        raise ParameterError(f"The 'plan' values must be numbers >= 0. Got {_r(p[(p < 0) | p.isna()].iloc[0])} instead.")
    cap = float(growth_cap)
    if not (cap >= 0 and math.isfinite(cap)):
        raise ParameterError(f"The 'growth_cap' must be a number >= 0. Got {_r(growth_cap)} instead.")
    ly = _as_series(last_year, "last_year").reindex(p.index)
    pv = p.to_numpy()
    total = float(pv.sum())
    tol = 1e-9 * max(1.0, abs(total))
    relaxed = False
    if relax:
        need = smallest_feasible_cap(p, ly, cap)
        relaxed, cap = need > cap, need
    has, lo, hi = _cap_bounds(pv, ly, cap)
    if lo.sum() > total + tol:
        raise PlanError(
            f"The 'growth_cap' of {cap:g} cannot be met: the keys' lower bounds sum to {lo.sum():,.2f}, "
            f"above the total {total:,.2f}.")
    # the most any scale reaches: capped keys up to hi (a zero plan stays at lo), uncapped keys
    # without a plan stay at 0, an uncapped key with a plan can take any amount
    pos = pv > 0
    reach = np.where(pos, hi, lo)
    if reach.sum() < total - tol:
        raise PlanError(
            f"The 'growth_cap' of {cap:g} cannot be met: the keys' upper bounds sum to {reach.sum():,.2f}, "
            f"below the total {total:,.2f}.")

    # λ is solved in exact rational arithmetic (every float is an exact fraction): with plan
    # shares of very different sizes (a denormal next to a normal one) the scale and the
    # breakpoints lo/p, hi/p leave the float range, while each key's result stays finite
    P = [Fraction(float(x)) for x in pv]
    L = [Fraction(float(x)) for x in lo]
    H = [Fraction(float(x)) if math.isfinite(x) else None for x in hi]
    T = Fraction(total)
    m = len(P)

    def value(i: int, lam: Fraction) -> Fraction:
        if not pos[i]:
            return L[i]
        x = lam * P[i]
        return L[i] if x < L[i] else (H[i] if H[i] is not None and x > H[i] else x)

    def f(lam: Fraction) -> Fraction:
        return sum((value(i, lam) for i in range(m)), Fraction(0))

    bps = sorted({Fraction(0)} | {L[i] / P[i] for i in range(m) if pos[i]}
                 | {H[i] / P[i] for i in range(m) if pos[i] and H[i] is not None})
    if f(bps[0]) >= T:
        lam = bps[0]
    else:
        # the last breakpoint with f below the total (f is continuous and non-decreasing)
        j_lo, j_hi = 0, len(bps)          # f(bps[j_lo]) < T; f(bps[j]) >= T for j >= j_hi
        while j_hi - j_lo > 1:
            mid = (j_lo + j_hi) // 2
            if f(bps[mid]) < T:
                j_lo = mid
            else:
                j_hi = mid
        a = bps[j_lo]
        b = bps[j_lo + 1] if j_lo + 1 < len(bps) else None
        # status of each key on the open segment (a, b): at lo, at hi, or scaled (free)
        fixed, mass = Fraction(0), Fraction(0)
        for i in range(m):
            if not pos[i] or (b is not None and L[i] / P[i] >= b):
                fixed += L[i]
            elif H[i] is not None and H[i] / P[i] <= a:
                fixed += H[i]
            else:
                mass += P[i]
        # no free key: the total is above what the keys reach by at most the tolerance
        lam = (T - fixed) / mass if mass > 0 else a
    out = np.array([float(value(i, lam)) for i in range(m)], dtype=float)

    def _float(x: Fraction) -> float:
        try:
            return float(x)
        except OverflowError:
            return math.inf

    scaled = np.array([_float(lam * x) for x in P], dtype=float)
    # capped: sitting at a bound because of the cap (clipped at the solution, or its own plan broke it)
    with np.errstate(invalid="ignore"):
        at_bound = has & ((np.abs(out - lo) <= tol) | (np.abs(out - hi) <= tol)) & (
            (np.abs(out - scaled) > tol) | (pv < lo - tol) | (pv > hi + tol))
    if relaxed:  # the relaxed cap binds: every key at a bound is flagged
        at_bound = has & ((np.abs(out - lo) <= tol) | (np.abs(out - hi) <= tol))
    capped = [k for k, flag in zip(p.index, at_bound) if flag]
    return CapResult(pd.Series(out, index=p.index, dtype=float), capped, cap, relaxed)


def _check_keys(overrides: Mapping[Any, Any], keys: pd.Index, what: str = "key") -> None:
    unknown = [k for k in overrides if k not in keys]
    if unknown:
        shown = ", ".join(map(str, list(keys)[:8])) + (" …" if len(keys) > 8 else "")
        raise PlanError(f"The override {what} {_r(unknown[0])} is not in the plan. Allowed keys: {shown}.")


def apply_overrides(plan: Any, overrides: Mapping[Any, float] | None, total: float) -> pd.Series:
    """Lock the overridden keys at their values; split the rest of ``total`` over the others.

    Parameters
    ----------
    plan : Series or mapping
        Shares or values per key (only proportions matter for the unlocked keys).
    overrides : mapping
        Key → locked value (>= 0).
    total : float
        The parent's total.

    Returns
    -------
    pandas.Series
        Unrounded values summing to ``total``: overrides as given, the remainder split over
        the unlocked keys in proportion to ``plan``.

    Raises
    ------
    PlanError
        An override for a key not in ``plan``; overrides summing above ``total``; every key
        locked but the overrides not summing to ``total``; unlocked keys all of share 0.
    """
    p = _as_series(plan, "plan")
    ov = dict(overrides or {})
    _check_keys(ov, p.index)
    for k, v in ov.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v >= 0:
            raise PlanError(f"The override of key {_r(k)} must be a number >= 0. Got {_r(v)} instead.")
    locked = float(sum(float(v) for v in ov.values()))
    tol = 1e-9 * max(1.0, abs(float(total)))
    if locked > float(total) + tol:
        raise PlanError(f"The overrides must sum to at most the total {float(total):,.2f}. Got {locked:,.2f} instead.")
    free = [k for k in p.index if k not in ov]
    rest = float(total) - locked
    out = pd.Series(0.0, index=p.index)
    for k, v in ov.items():
        out[k] = float(v)
    if not free:
        if abs(rest) > tol:
            raise PlanError(
                f"Every key is locked, so the overrides must sum to the total {float(total):,.2f}. "
                f"Got {locked:,.2f} instead.")
        return out
    w = p[free].clip(lower=0)
    if rest > tol:
        if not w.sum() > 0:
            raise PlanError(f"The unlocked keys ({', '.join(map(str, free[:5]))}) all have share 0, "
                            f"so the remainder {rest:,.2f} has nowhere to go.")
        out[free] = w / w.sum() * rest
    return out


def new_reps(hire_dates: Any, month: Any, within_months: int = 3) -> list:
    """Reps hired within the last ``within_months`` months before the plan month, or during it.

    A rep counts as new when hired on or after the first day of ``month`` - ``within_months``
    (for a June plan and 3 months: hired on or after 1 March).

    Parameters
    ----------
    hire_dates : Series or mapping
        rep_id → hire date.
    month : month-like
        The plan month.
    """
    m = _to_period(month)
    s = pd.to_datetime(pd.Series(hire_dates) if not isinstance(hire_dates, pd.Series) else hire_dates)
    start = (m - int(within_months)).start_time
    return sorted(s.index[s >= start].tolist())


def new_rep_ramp(shares_: Any, region_of: Any, new: Iterable[Any], ramp_share: float = 0.5) -> pd.Series:
    """Give each new rep ``ramp_share`` × its region's average rep share.

    The region's average rep share is the sum of its reps' shares ÷ its number of reps
    (pool keys excluded). Established reps of the region share the rest in proportion to
    their own shares (equally if theirs are all 0); the region's total share and its pool
    are unchanged. A region whose reps are all new gives them equal shares.

    Parameters
    ----------
    shares_ : Series or mapping
        rep → share (or value), all reps of all regions.
    region_of : Series or mapping
        rep → region.
    new : iterable
        The new reps (see :func:`new_reps`).
    ramp_share : float
        In (0, 1].

    Returns
    -------
    pandas.Series
        The new shares, same index and same total per region.
    """
    s = _as_series(shares_, "shares")
    r = pd.Series(region_of) if not isinstance(region_of, pd.Series) else region_of
    rs = float(ramp_share)
    if not (0 < rs <= 1):
        raise ParameterError(f"The 'ramp_share' must be in (0, 1]. Got {_r(ramp_share)} instead.")
    missing = [k for k in s.index if k not in r.index]
    if missing:
        raise ParameterError(f"The 'region_of' must give every rep's region. Got none for {_r(missing[0])}.")
    new = set(new)
    out = s.copy()
    for reg, keys in s.groupby(r.reindex(s.index).to_numpy()).groups.items():
        reps = [k for k in keys if not str(k).startswith(POOL_PREFIX)]
        nw = [k for k in reps if k in new]
        if not nw:
            continue
        est = [k for k in reps if k not in new]
        total = float(s[reps].sum())
        if not est:
            out[nw] = total / len(nw)
            continue
        each = rs * total / len(reps)
        out[nw] = each
        rest = total - each * len(nw)
        w = s[est].clip(lower=0)
        out[est] = (w / w.sum() * rest) if w.sum() > 0 else rest / len(est)
    return out


def pool_key(region: Any) -> str:
    """The key of a region's pool of customers without a serving rep: ``pool:<region>``."""
    return f"{POOL_PREFIX}{region}"


def assign_pool(frame: pd.DataFrame, rep: str = "rep_id", region: str = "region") -> pd.DataFrame:
    """A copy of ``frame`` whose rows without a rep go to their region's pool key.

    Raises
    ------
    ParameterError
        A row has neither a rep nor a region.
    """
    _check_columns(frame, (rep, region), "history")
    out = frame.copy()
    miss = out[rep].isna() | (out[rep].astype(str).str.strip() == "")
    bad = miss & out[region].isna()
    if bad.any():
        raise ParameterError(f"A row without a '{rep}' must have a '{region}' for its pool. "
                             f"Got row {int(np.flatnonzero(bad.to_numpy())[0])} with neither.")
    out[rep] = out[rep].astype(object)
    out.loc[miss, rep] = [pool_key(x) for x in out.loc[miss, region]]
    return out


# ----------------------------------------------------------------------------- one level
@dataclass
class LevelPlan:
    """The rounded plan of one parent: ``values`` (key → value, summing exactly to the
    parent), ``capped`` and ``locked`` keys, and ``relaxed_cap`` (the cap applied when
    the one asked for could not be met, else None)."""

    values: pd.Series
    capped: list = field(default_factory=list)
    locked: list = field(default_factory=list)
    relaxed_cap: float | None = None


def plan_level(total: float, shares_: Any, unit: float = 1.0, *, last_year: Any = None,
               growth_cap: float | None = None, overrides: Mapping[Any, float] | None = None,
               relax_cap: bool = False) -> LevelPlan:
    """Split one parent's ``total`` over its keys: shares → overrides → cap → rounding.

    Locked keys keep their override (which must be a whole multiple of ``unit``); the
    remainder is split over the unlocked keys by their shares, capped against
    ``last_year`` when ``growth_cap`` is given (locked keys are never capped: they are the
    manager's decision), and rounded by :func:`largest_remainder` so the keys sum exactly
    to ``total``. The cap holds before rounding; rounding moves a key by less than one
    ``unit``. With ``relax_cap`` a cap no split can meet is relaxed to the smallest one
    that can be met (``relaxed_cap``; every capped key sits at it) instead of refusing.

    Raises
    ------
    ParameterError
        ``total`` <= 0 or not a multiple of ``unit``.
    PlanError
        Bad overrides (see :func:`apply_overrides`) or an infeasible cap (without
        ``relax_cap``).

    Examples
    --------
    >>> plan_level(100, [1.45, 0, 1.49], 1, last_year=[24.7, 0, 71.2], growth_cap=0.05).values.tolist()
    [26.0, 0.0, 74.0]
    """
    t = float(total)
    if not t > 0:
        raise ParameterError(f"The 'total' must be > 0. Got {_r(total)} instead.")
    _units(total, unit)
    s = _as_series(shares_, "shares")
    ov = dict(overrides or {})
    raw = apply_overrides(s, ov, t)
    for k, v in ov.items():
        try:
            _units(v, unit)
        except ParameterError:
            raise PlanError(f"The override of key {_r(k)} must be a whole multiple of the unit {unit}. "
                            f"Got {_r(v)} instead.") from None
    free = [k for k in s.index if k not in ov]
    capped: list = []
    relaxed: float | None = None
    bounds = None
    if growth_cap is not None and free and last_year is not None:
        ly = (last_year if isinstance(last_year, pd.Series) else pd.Series(last_year, dtype=float)).reindex(free)
        res = cap_and_rebalance(raw[free], ly, growth_cap, relax=relax_cap)
        raw[free] = res.plan
        capped = res.capped
        relaxed = res.cap if res.relaxed else None
        # the same bounds in exact units, so the rounded plan keeps the cap too
        u, c = _exact(unit, "unit"), _exact(res.cap, "growth_cap")
        lyx = [(_exact(x, "last_year") if pd.notna(x) and x > 0 else None) for x in ly]
        bounds = ([None if x is None else x * (1 - c) / u for x in lyx],
                  [None if x is None else x * (1 + c) / u for x in lyx])
    out = pd.Series(0.0, index=s.index)
    for k, v in ov.items():
        out[k] = float(v)
    rest = _exact(total, "total") - sum((_exact(v, "override") for v in ov.values()), Fraction(0))
    if free and rest > 0:
        n, u = _units(rest, unit)
        w = raw[free].to_numpy()
        try:
            k = largest_remainder_units(w, n, *bounds) if bounds else largest_remainder_units(w, n)
        except PlanError:
            if not bounds:
                raise
            # the cap holds for the unrounded plan but no whole split meets it: round freely
            k = largest_remainder_units(w, n)
        out[free] = [float(int(x) * u) for x in k]
    return LevelPlan(out, capped, list(ov), relaxed)


def split_down(parents: Any, children: pd.DataFrame, unit: float = 1.0, *, parent: str = "parent",
               key: str = "key", share: str = "share", last_year: Any = None,
               growth_cap: float | None = None, overrides: Mapping[Any, float] | None = None,
               relax_cap: bool = False) -> pd.DataFrame:
    """Split each parent's value over its children so every parent's children sum exactly to it.

    Parameters
    ----------
    parents : Series or mapping
        Parent key → value (a whole multiple of ``unit``, as the level above returns).
    children : DataFrame
        Columns ``parent``, ``key`` and ``share`` (the children's shares within each parent;
        only proportions within a parent matter).
    last_year, growth_cap, overrides, relax_cap
        As in :func:`plan_level`; ``last_year`` and ``overrides`` are keyed by child key.

    Returns
    -------
    DataFrame
        Columns ``parent``, ``key``, ``value``, ``capped`` (bool), ``locked`` (bool);
        ``attrs["relaxed_caps"]``: parent → the cap applied where it had to be relaxed.

    Raises
    ------
    PlanError
        A parent with a positive value but no children, or an override for an unknown child.
    """
    pv = _as_series(parents, "parents")
    _check_columns(children, (parent, key, share), "children")
    ov = dict(overrides or {})
    _check_keys(ov, pd.Index(children[key]))
    rows = []
    relaxed: dict = {}
    for pk, value in pv.items():
        ch = children[children[parent] == pk]
        if ch.empty:
            if value > 0:
                raise PlanError(f"The parent {_r(pk)} has the value {value:,.2f} but no children to split it over.")
            continue
        s = pd.Series(ch[share].to_numpy(dtype=float), index=ch[key].to_numpy())
        if value == 0:
            lp = LevelPlan(pd.Series(0.0, index=s.index))
        else:
            lp = plan_level(value, s, unit, last_year=last_year, growth_cap=growth_cap,
                            overrides={k: v for k, v in ov.items() if k in s.index}, relax_cap=relax_cap)
            if lp.relaxed_cap is not None:
                relaxed[pk] = lp.relaxed_cap
        for k, v in lp.values.items():
            rows.append({parent: pk, key: k, "value": float(v), "capped": k in lp.capped, "locked": k in lp.locked})
    out = pd.DataFrame(rows, columns=[parent, key, "value", "capped", "locked"])
    out.attrs["relaxed_caps"] = relaxed
    return out


# ----------------------------------------------------------------------------- backtest
def _actual_shares(history: pd.DataFrame, m: pd.Period, key: str, value: str, period: str) -> pd.Series:
    s = _window_sums(history, m, m, key, value, period).clip(lower=0)
    return s[s > 0] / s[s > 0].sum() if s.clip(lower=0).sum() > 0 else s.iloc[0:0]


def share_backtest(history: pd.DataFrame, method: str, months: int = 6, *,
                   blend_weights: Mapping[str, float] | None = None, customers: pd.DataFrame | None = None,
                   capacity_by: str = "grade", key: str = "key", value: str = "value",
                   period: str = "month", past: Mapping[Any, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Mean absolute share error of ``method`` over the last ``months`` months of ``history``,
    beside an equal split (``equal``) and last year's share (``same_month``).

    For each of the last ``months`` months ``m`` in ``history`` (pass complete months
    only), the method's shares are made from the data before ``m`` and compared with the
    actual shares of ``m`` over the keys that sold in ``m`` (predictions restricted and
    re-normalised to those keys; a key without history predicts 0). The error of a month
    is the mean over those keys of |predicted − actual| (a fraction: 0.01 is 1 pp); the
    method's error is the mean over the months it could be made for.

    ``past`` (month → history frame) gives, for a month ``m``, the history the plan would
    have seen at ``m`` (the past sales under the customer book valid at ``m``), used for the
    prediction instead of the rows of ``history`` before ``m``; ``history`` then holds the
    actual sales of each month under the book of that month. Without it, a store whose past
    sales are mapped to today's book compares today's book with itself (a look-ahead).

    Returns
    -------
    DataFrame
        Columns ``method``, ``mae`` (NaN when no month could be made), ``n_months``; rows
        ``method``, ``equal``, ``same_month`` (once each).
    """
    _check_columns(history, (key, period, value), "history")
    ms = sorted(_months(history[period]).unique())
    target = ms[-int(months):] if months > 0 else []
    rows = []
    names = list(dict.fromkeys([method, "equal", "same_month"]))
    for name in names:
        errs = []
        for m in target:
            actual = _actual_shares(history, m, key, value, period)
            if actual.empty:
                continue
            keys = list(actual.index)
            if name == "equal":
                pred = pd.Series(1.0 / len(keys), index=keys)
            else:
                if past is not None:
                    before = past.get(m)
                    if before is None:
                        continue
                    before = before[_months(before[period]) < m]
                else:
                    before = history[_months(history[period]) < m]
                try:
                    pred = shares(name, before, m, keys, blend_weights=blend_weights, customers=customers,
                                  capacity_by=capacity_by, key=key, value=value, period=period)
                except InsufficientDataError:
                    continue
            errs.append(float((pred.reindex(keys).fillna(0.0) - actual).abs().mean()))
        rows.append({"method": name, "mae": float(np.mean(errs)) if errs else float("nan"), "n_months": len(errs)})
    return pd.DataFrame(rows, columns=["method", "mae", "n_months"])


# ----------------------------------------------------------------------------- output
def targets_frame(month: Any, measure: str, levels: Mapping[str, Any]) -> pd.DataFrame:
    """The plan in the canonical targets format: ``period``, ``level``, ``key``, ``measure``, ``value``.

    Parameters
    ----------
    month : month-like
        The plan month (written as ``YYYY-MM``).
    measure : {"amount", "qty"}
    levels : mapping
        Level name (``company``, ``region``, ``rep``, ``brand``, ``price_class``) → Series
        or mapping of key → value. For a split below the rep level pass the keys as the
        brand or price class within the rep's plan (the caller names them).

    Returns
    -------
    DataFrame
        One row per level and key, in the order given.
    """
    if measure not in ("amount", "qty"):
        raise ParameterError(f"The 'measure' must be 'amount' or 'qty'. Got {_r(measure)} instead.")
    allowed = ("company", "region", "rep", "brand", "price_class")
    m = str(_to_period(month))
    rows = []
    for level, vals in levels.items():
        if level not in allowed:
            raise ParameterError(f"The target 'level' must be one of {', '.join(map(repr, allowed))}. "
                                 f"Got {_r(level)} instead.")
        for k, v in _as_series(vals, level).items():
            rows.append({"period": m, "level": level, "key": str(k), "measure": measure, "value": float(v)})
    return pd.DataFrame(rows, columns=["period", "level", "key", "measure", "value"])


def plan_changes(plan: Any, last_year: Any = None, last_3_avg: Any = None) -> pd.DataFrame:
    """The plan beside the same month last year and the last 3 months' average, with changes.

    Parameters
    ----------
    plan : Series or mapping
        Key → planned value.
    last_year, last_3_avg : Series or mapping, optional
        Key → same month last year / average of the last 3 complete months (missing: NaN).

    Returns
    -------
    DataFrame
        ``key``, ``plan``, ``last_year``, ``last_3_avg``, ``change`` (plan ÷ last_year − 1;
        NaN when last_year <= 0), ``change_3`` (plan ÷ last_3_avg − 1) and
        ``above_average`` (``change`` above the change of the whole level, Σplan ÷
        Σlast_year − 1 over the keys with a last year; False where ``change`` is NaN). The
        caller flags the reps on the several-months-below-target list that are
        ``above_average``.
    """
    p = _as_series(plan, "plan")
    ly = (pd.Series(dtype=float) if last_year is None else _as_series(last_year, "last_year")).reindex(p.index)
    a3 = (pd.Series(dtype=float) if last_3_avg is None else _as_series(last_3_avg, "last_3_avg")).reindex(p.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        ch = (p / ly - 1).where(ly > 0)
        ch3 = (p / a3 - 1).where(a3 > 0)
    has = ly > 0
    overall = float(p[has].sum() / ly[has].sum() - 1) if has.any() else float("nan")
    above = (ch > overall + 1e-12).fillna(False) if has.any() else pd.Series(False, index=p.index)
    return pd.DataFrame({"key": p.index, "plan": p.to_numpy(), "last_year": ly.to_numpy(),
                         "last_3_avg": a3.to_numpy(), "change": ch.to_numpy(), "change_3": ch3.to_numpy(),
                         "above_average": above.astype(bool).to_numpy()})

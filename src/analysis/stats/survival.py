"""Survival analysis: Kaplan–Meier, log-rank, Cox proportional hazards, logistic check.

Everything takes pandas frames or arrays (never a store). Times may be left-truncated:
``entry`` is the time at which a person enters observation (for example the tenure a
rep already had when the data start), so a person is at risk at time ``t`` only when
``entry < t <= duration``. Time 0 is the origin: a person observed from 0 (``entry == 0``)
is at risk at every ``t`` from 0 to ``duration``, so events at time 0 (tenure 0 in an HR
snapshot) count, with everyone observed from 0 in the risk set, as in lifelines.

Examples
--------
>>> km = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1])
>>> km.table["survival"].round(3).tolist()
[0.75, 0.5, 0.0]
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype
from scipy import stats as sps

from ..errors import ConvergenceWarning, InsufficientDataError, ParameterError, ProportionalHazardsWarning

CI_METHODS = ("log-log", "plain")


def _arrays(durations, events, entry=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float)
    if t.shape != e.shape or t.ndim != 1:
        raise ParameterError(
            f"The 'durations' and 'events' parameters must be 1-d and of equal length. Got {t.shape} and {e.shape} instead."
        )
    if entry is None:
        s = np.zeros_like(t)
    else:
        s = np.asarray(entry, dtype=float)
        if s.shape != t.shape:
            raise ParameterError(f"The 'entry' parameter must match 'durations' in length. Got {s.shape} instead.")
    if np.isnan(t).any() or np.isnan(e).any() or np.isnan(s).any():
        raise ParameterError("The 'durations', 'events' and 'entry' parameters must not hold missing values. Got NaN instead.")
    if (t < 0).any() or (s < 0).any():
        raise ParameterError("The 'durations' and 'entry' parameters must be 0 or more. Got a negative time instead.")
    if (s > t).any():
        raise ParameterError("The 'entry' parameter must not exceed 'durations'. Got entry > duration instead.")
    return t, (e > 0).astype(float), s


def _n_at_risk(t_sorted: np.ndarray, s_sorted: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Number at risk at each of ``times``: entry < u <= duration, or entry == 0 (observed
    from the origin, so at risk at u = 0 too)."""
    out_before = np.searchsorted(t_sorted, times, side="left")
    entered = np.searchsorted(s_sorted, times, side="left")
    at_origin = np.searchsorted(s_sorted, 0.0, side="right")  # entries equal to 0
    entered = entered + np.where(times <= 0, at_origin, 0)
    return entered - out_before


def _risk_table(t: np.ndarray, e: np.ndarray, s: np.ndarray) -> pd.DataFrame:
    """Counts at each distinct observed time: at risk (see :func:`_n_at_risk`), events, censored."""
    times = np.unique(t)
    n = _n_at_risk(np.sort(t), np.sort(s), times)
    d = np.array([e[t == u].sum() for u in times])
    c = np.array([((t == u) & (e == 0)).sum() for u in times])
    return pd.DataFrame({"time": times, "n_at_risk": n.astype(int), "events": d.astype(int), "censored": c.astype(int)})


@dataclass
class KMResult:
    """A Kaplan–Meier estimate.

    ``table``: one row per distinct observed time with ``n_at_risk``, ``events``, ``censored``,
    ``survival``, ``se`` (Greenwood), ``lo``, ``hi``. ``median`` and ``median_lo``/``median_hi``
    are ``inf`` when the curve (or CI bound) does not fall to 0.5.
    """

    table: pd.DataFrame
    alpha: float
    ci: str
    median: float
    median_lo: float
    median_hi: float
    n: int
    n_events: int
    entry: np.ndarray = field(repr=False, default=None)
    durations: np.ndarray = field(repr=False, default=None)
    ids: np.ndarray | None = field(repr=False, default=None)

    def survival_at(self, times: Iterable[float]) -> np.ndarray:
        """S(t) (right-continuous step function) at ``times``."""
        times = np.asarray(list(times), dtype=float)
        idx = np.searchsorted(self.table["time"].to_numpy(), times, side="right") - 1
        s = self.table["survival"].to_numpy()
        return np.where(idx >= 0, s[np.clip(idx, 0, None)], 1.0)

    def at_risk_at(self, times: Iterable[float]) -> np.ndarray:
        """Number under observation at each of ``times`` (entry <= t <= duration), as in the
        at-risk table under a Kaplan–Meier chart (at t = 0: everyone entering at 0)."""
        times = np.asarray(list(times), dtype=float)
        if self.ids is not None:
            # counting-process rows of the same person: count each person once
            obs = (self.entry[None, :] <= times[:, None]) & (times[:, None] <= self.durations[None, :])
            ids = pd.Series(self.ids)
            return np.array([ids[row].nunique() for row in obs], dtype=int)
        t = np.sort(self.durations)
        s = np.sort(self.entry)
        return (np.searchsorted(s, times, side="right") - np.searchsorted(t, times, side="left")).astype(int)


def kaplan_meier(durations, events, entry=None, alpha: float = 0.05, ci: str = "log-log",
                 ids=None) -> KMResult:
    """Kaplan–Meier survival curve with Greenwood standard errors and pointwise CIs.

    Parameters
    ----------
    durations : array-like
        Time of the event or of censoring.
    events : array-like of bool/0-1
        1 when the event (leaving) happened at ``durations``.
    entry : array-like, optional
        Left-truncation times (time at which each person enters observation); default 0.
    alpha : float
        1 − confidence level.
    ci : {"log-log", "plain"}
        CI on the log(−log S) scale (the default, kept in [0, 1]) or S ± z·se.
    ids : array-like, optional
        Person of each row when the rows are intervals (entry, duration] of people whose
        group changes over time (the Simon–Makuch curve of a time-varying feature): the
        estimate is the same, :meth:`KMResult.at_risk_at` counts each person once.

    Returns
    -------
    KMResult

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 4], [1, 0, 1, 0]).median
    2.0
    """
    if ci not in CI_METHODS:
        raise ParameterError(f"The 'ci' parameter of kaplan_meier must be one of {CI_METHODS}. Got {ci!r} instead.")
    if not 0 < alpha < 1:
        raise ParameterError(f"The 'alpha' parameter of kaplan_meier must be in (0, 1). Got {alpha!r} instead.")
    t, e, s = _arrays(durations, events, entry)
    if len(t) == 0:
        raise InsufficientDataError("Kaplan–Meier needs at least one person.")
    tab = _risk_table(t, e, s)
    n = tab["n_at_risk"].to_numpy().astype(float)
    d = tab["events"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1.0 - d / n, 1.0)
        surv = np.cumprod(factor)
        # when everyone at risk leaves (n == d) S drops to 0 and its variance is 0 from then on;
        # that term is left out, as in lifelines and R's survfit
        gw_terms = np.where((n > 0) & (n > d), d / (n * (n - d)), 0.0)
        gw = np.cumsum(gw_terms)
        se = surv * np.sqrt(gw)
        z = sps.norm.ppf(1 - alpha / 2)
        if ci == "plain":
            lo = np.clip(surv - z * se, 0, 1)
            hi = np.clip(surv + z * se, 0, 1)
        else:
            # log(-log S) transform (Kalbfleisch–Prentice), as in lifelines and R's conf.type="log-log"
            v = np.sqrt(gw) / np.abs(np.log(surv))
            lo = np.exp(-np.exp(np.log(-np.log(surv)) + z * v))
            hi = np.exp(-np.exp(np.log(-np.log(surv)) - z * v))
            lo = np.where(surv >= 1, 1.0, np.where(surv <= 0, 0.0, lo))
            hi = np.where(surv >= 1, 1.0, np.where(surv <= 0, 0.0, hi))
    tab["survival"] = surv
    tab["se"] = se
    tab["lo"] = lo
    tab["hi"] = hi

    def first_below(col: np.ndarray) -> float:
        idx = np.nonzero(col <= 0.5)[0]
        return float(tab["time"].iloc[idx[0]]) if len(idx) else math.inf

    return KMResult(
        table=tab, alpha=alpha, ci=ci,
        median=first_below(surv), median_lo=first_below(lo), median_hi=first_below(hi),
        n=len(t) if ids is None else int(pd.Series(np.asarray(ids)).nunique()), n_events=int(e.sum()),
        entry=s, durations=t, ids=None if ids is None else np.asarray(ids),
    )


@dataclass
class LogRankResult:
    """Log-rank test of equal survival across groups (chi-square with k − 1 df)."""

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame  # per group: n, observed, expected


def logrank_test(durations, events, groups, entry=None, ids=None) -> LogRankResult:
    """Log-rank test (Mantel–Haenszel) across two or more groups, allowing left truncation.

    Parameters
    ----------
    durations, events : array-like
        As in :func:`kaplan_meier`.
    groups : array-like
        Group label of each person (two or more distinct labels).
    entry : array-like, optional
        Left-truncation times. With one row per interval (entry, duration] and each
        interval in the group its person was in then, this is the log-rank test of a
        time-varying grouping (Mantel–Byar), the score test of a time-varying Cox model.
    ids : array-like, optional
        Person of each row: the table's ``n`` counts people rather than rows.

    Examples
    --------
    >>> r = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], ["a", "a", "a", "b", "b", "b"])
    >>> round(r.p_value, 3) < 0.1
    True
    """
    t, e, s = _arrays(durations, events, entry)
    g = np.asarray(groups)
    if g.shape != t.shape:
        raise ParameterError(f"The 'groups' parameter must match 'durations' in length. Got {g.shape} instead.")
    labels = pd.unique(g)
    k = len(labels)
    if k < 2:
        raise InsufficientDataError("The log-rank test needs at least two groups.")
    ev_times = np.unique(t[e > 0])
    O = np.zeros(k)
    E = np.zeros(k)
    V = np.zeros((k, k))
    # at-risk counts per group at each event time
    n_g = np.zeros((len(ev_times), k))
    d_g = np.zeros((len(ev_times), k))
    for j, lab in enumerate(labels):
        m = g == lab
        tj, sj, ej = np.sort(t[m]), np.sort(s[m]), e[m]
        n_g[:, j] = _n_at_risk(tj, sj, ev_times)
        tm = t[m]
        d_g[:, j] = [ej[tm == u].sum() for u in ev_times]
    n = n_g.sum(axis=1)
    d = d_g.sum(axis=1)
    ok = n > 0
    n_g, d_g, n, d = n_g[ok], d_g[ok], n[ok], d[ok]
    O = d_g.sum(axis=0)
    E = (n_g * (d / n)[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    for a in range(k):
        for b in range(k):
            if a == b:
                V[a, a] = (c * n_g[:, a] * (n - n_g[:, a])).sum()
            else:
                V[a, b] = -(c * n_g[:, a] * n_g[:, b]).sum()
    diff = (O - E)[:-1]
    Vr = V[:-1, :-1]
    stat = float(diff @ np.linalg.pinv(Vr) @ diff)
    df = k - 1
    p = float(sps.chi2.sf(stat, df))
    idv = None if ids is None else pd.Series(np.asarray(ids))
    counts = [int((g == lab).sum()) if idv is None else int(idv[g == lab].nunique()) for lab in labels]
    tab = pd.DataFrame({"group": labels, "n": counts, "observed": O, "expected": E})
    return LogRankResult(statistic=stat, df=df, p_value=p, table=tab)


@dataclass
class CoxResult:
    """A fitted Cox model.

    ``table``: one row per term with ``coef``, ``se``, ``hr``, ``lo``, ``hi``, ``p`` and, for
    numeric terms, ``sd`` and ``hr_per_sd`` / ``lo_per_sd`` / ``hi_per_sd`` (per standard
    deviation of the covariate over the rows used). ``ph``: the proportional-hazards check
    (see :func:`ph_check`).
    """

    table: pd.DataFrame
    n_obs: int
    n_events: int
    loglik: float
    ties: str
    ph: pd.DataFrame | None = None
    dropped_rows: int = 0
    reference_levels: dict = field(default_factory=dict)
    #: how the estimates were found: "newton" (statsmodels), or "damped-newton" (step-halving
    #: Newton–Raphson from zero, tried when the first fit diverged or did not converge)
    method: str = "newton"
    #: False when no fit reached a finite maximum (estimates in ``table`` are NaN then)
    converged: bool = True
    #: terms left out because they are a linear combination of other terms
    aliased: list = field(default_factory=list)
    #: terms left out because their estimates ran off to infinity (monotone likelihood: a group
    #: in which nobody, or everybody, left); the model was refitted without them
    diverging: list = field(default_factory=list)

    @property
    def ph_violations(self) -> list[str]:
        if self.ph is None:
            return []
        return self.ph.loc[self.ph["violated"], "term"].tolist()

    def hazard_ratios(self) -> dict[str, dict[str, float]]:
        """{term: {hr, lo, hi, p}} per one unit as stored (dummies: level vs reference).

        Only finite estimates are listed: a model that did not converge gives ``{}``."""
        if not self.converged:
            return {}
        return {
            r.term: {"hr": float(r.hr), "lo": float(r.lo), "hi": float(r.hi), "p": float(r.p)}
            for r in self.table.itertuples()
            if all(np.isfinite([r.hr, r.lo, r.hi, r.p]))
        }


def design_matrix(
    df: pd.DataFrame, covariates: Sequence[str], categorical: Sequence[str] = (),
    reference: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric design matrix: numeric/bool columns as they are, categoricals as dummies.

    The reference level of a categorical is ``reference[col]`` when given and present,
    else its most frequent level (ties: first in sort order); dummy columns are named
    ``"col[level]"``. Constant columns are dropped.

    Examples
    --------
    >>> X, ref = design_matrix(pd.DataFrame({"x": [1, 2, 3], "r": ["a", "b", "a"]}), ["x", "r"], ["r"])
    >>> list(X.columns), ref
    (['x', 'r[b]'], {'r': 'a'})
    """
    parts = []
    refs: dict[str, str] = {}
    for col in covariates:
        if col not in df.columns:
            raise ParameterError(f"The 'covariates' parameter names a column that is absent: {col!r}. Got columns {list(df.columns)} instead.")
        v = df[col]
        if col in categorical or is_string_dtype(v.dtype) or isinstance(v.dtype, pd.CategoricalDtype):
            v = v.astype("string")
            counts = v.value_counts(dropna=True)
            if counts.empty:
                continue
            levels = sorted(counts.index.tolist(), key=lambda x: (-counts[x], str(x)))
            if reference and reference.get(col) in levels:
                levels.remove(reference[col])
                levels.insert(0, reference[col])
            refs[col] = str(levels[0])
            for lev in sorted(levels[1:], key=str):
                parts.append(((v == lev).astype(float).where(v.notna())).rename(f"{col}[{lev}]"))
        else:
            parts.append(pd.to_numeric(v.astype("float64") if v.dtype == bool else v, errors="coerce").astype(float).rename(col))
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)
    const = [c for c in X.columns if X[c].nunique(dropna=True) <= 1]
    return X.drop(columns=const), refs


def cox_ph(
    df: pd.DataFrame,
    covariates: Sequence[str],
    duration_col: str = "stop",
    event_col: str = "event",
    entry_col: str | None = "start",
    categorical: Sequence[str] = (),
    ties: str = "efron",
    alpha: float = 0.05,
    check_ph: bool = True,
    ph_alpha: float = 0.05,
) -> CoxResult:
    """Cox proportional hazards (statsmodels PHReg), with counting-process entry times.

    With ``entry_col``, each row is an interval (entry, duration] of one person with the
    covariate values of that interval (time-varying covariates); ``event`` marks an
    event at the end of the interval.

    Parameters
    ----------
    df : DataFrame
        One row per person or per person-interval.
    covariates : list of str
        Columns used as covariates; categoricals become dummies against their most
        frequent level.
    ties : {"efron", "breslow"}
    check_ph : bool
        Run :func:`ph_check` (may warn ProportionalHazardsWarning).

    Returns
    -------
    CoxResult

    Examples
    --------
    >>> res = cox_ph(panel, ["payout_delay_days", "region"], categorical=["region"])  # doctest: +SKIP
    >>> res.hazard_ratios()["payout_delay_days"]["hr"]  # doctest: +SKIP
    """
    from statsmodels.duration.hazard_regression import PHReg

    if ties not in ("efron", "breslow"):
        raise ParameterError(f"The 'ties' parameter of cox_ph must be 'efron' or 'breslow'. Got {ties!r} instead.")
    X, refs = design_matrix(df, covariates, categorical)
    cols = [duration_col, event_col] + ([entry_col] if entry_col else [])
    data = pd.concat([df[cols].reset_index(drop=True), X.reset_index(drop=True)], axis=1)
    n0 = len(data)
    data = data.dropna()
    if X.shape[1] == 0:
        raise InsufficientDataError("The Cox model has no covariate with more than one value.")
    terms, aliased = _independent_columns(data[list(X.columns)])
    n_events = int(data[event_col].astype(bool).sum())
    if n_events < len(terms) + 2:
        raise InsufficientDataError(f"The Cox model needs more events ({n_events}) than covariates ({len(terms)}).")
    exog = data[terms].to_numpy(float)
    endog = data[duration_col].to_numpy(float)
    if (endog < 0).any():
        raise ParameterError(f"The '{duration_col}' column of cox_ph must be 0 or more. Got a negative time instead.")
    entry = None
    if entry_col:
        start = data[entry_col].to_numpy(float)
        if (start < 0).any() or (start > endog).any():
            raise ParameterError(f"The '{entry_col}' column of cox_ph must be in [0, {duration_col}]. Got values outside it instead.")
        # statsmodels counts a row at risk at t when entry <= t (Stata's convention); the
        # counting-process convention (R, lifelines) is entry < t, so a person's next interval
        # must not be at risk at the end of the previous one: nudge positive entries past ties.
        # Entry 0 is the origin: those rows are at risk from t = 0 on, tenure-0 events included.
        if (start > 0).any():
            eps = 1e-9 * max(1.0, float(np.abs(endog).max()))
            entry = np.where(start > 0, np.minimum(start + eps, endog), 0.0)
    status = data[event_col].astype(float).to_numpy()
    model = PHReg(endog, exog, status=status, entry=entry, ties=ties)
    fit, method, converged = _fit_phreg(model)
    diverging: list[str] = []
    if not converged and len(terms) > 1:
        # monotone likelihood (a group in which nobody, or everybody, left): the estimates of
        # some terms run off to infinity; refit without them and say which
        b = np.asarray(fit.params, dtype=float)
        sd_b = np.abs(np.nan_to_num(b, nan=np.inf)) * data[terms].std(ddof=1).to_numpy()
        off = [t for t, v in zip(terms, sd_b) if v > 5]
        if off and len(off) < len(terms):
            diverging = off
            terms = [t for t in terms if t not in off]
            exog = data[terms].to_numpy(float)
            model = PHReg(endog, exog, status=status, entry=entry, ties=ties)
            fit, method, converged = _fit_phreg(model)
    z = sps.norm.ppf(1 - alpha / 2)
    coef = np.asarray(fit.params, dtype=float) if converged else np.full(len(terms), np.nan)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(np.asarray(fit.cov_params(), dtype=float))) if converged else np.full(len(terms), np.nan)
        p = 2 * sps.norm.sf(np.abs(coef / se))
    sd = data[terms].std(ddof=1).to_numpy()
    is_dummy = np.array(["[" in c for c in terms])
    tab = pd.DataFrame({
        "term": list(terms), "coef": coef, "se": se,
        "hr": np.exp(coef), "lo": np.exp(coef - z * se), "hi": np.exp(coef + z * se), "p": p,
        "sd": np.where(is_dummy, np.nan, sd),
    })
    tab["hr_per_sd"] = np.exp(tab["coef"] * tab["sd"])
    tab["lo_per_sd"] = np.exp((tab["coef"] - z * tab["se"]) * tab["sd"])
    tab["hi_per_sd"] = np.exp((tab["coef"] + z * tab["se"]) * tab["sd"])
    if diverging and converged:
        warnings.warn(ConvergenceWarning(
            "The Cox model did not converge with " + ", ".join(diverging) + " (nobody, or everybody, in a group "
            "left): refitted without them. Merge such groups to keep them in the model."), stacklevel=2)
    if not converged:
        warnings.warn(ConvergenceWarning(
            "The Cox model did not converge (Newton and step-halving Newton both failed): no hazard ratio is "
            "reported. Try fewer covariates, or merge groups in which nobody left."), stacklevel=2)
    res = CoxResult(
        table=tab, n_obs=len(data), n_events=n_events, loglik=float(fit.llf) if converged else math.nan, ties=ties,
        dropped_rows=n0 - len(data), reference_levels=refs, method=method, converged=converged, aliased=aliased,
        diverging=diverging,
    )
    if check_ph and converged:
        res.ph = ph_check(fit, endog, data[event_col].astype(bool).to_numpy(), list(terms), alpha=ph_alpha,
                          X=exog, entry=entry)
    return res


def _independent_columns(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Columns kept (in order, each adding rank) and columns left out as linear combinations
    of earlier ones (with the implicit baseline: a column constant over the rows is aliased)."""
    keep: list[str] = []
    aliased: list[str] = []
    M = X.to_numpy(float)
    M = M - M.mean(axis=0) if len(M) else M
    scale = np.abs(M).max(axis=0) if len(M) else np.ones(M.shape[1])
    # the rank of a set of columns is that of their (small) Gram matrix, whose eigenvalues are
    # the squared singular values: one product instead of an SVD of the rows per column
    safe = np.where(scale > 0, scale, 1.0) if len(M) else scale
    G = (M / safe).T @ (M / safe) if len(M) else np.zeros((M.shape[1], M.shape[1]))
    tol = (1e-8 * max(1, len(M))) ** 2
    for j, c in enumerate(X.columns):
        if scale[j] == 0:
            aliased.append(c)
            continue
        idx = [X.columns.get_loc(k) for k in keep] + [j]
        if np.linalg.matrix_rank(G[np.ix_(idx, idx)], tol=tol, hermitian=True) == len(keep) + 1:
            keep.append(c)
        else:
            aliased.append(c)
    return keep, aliased


def _fit_ok(model: Any, params: np.ndarray, cov: np.ndarray | None) -> bool:
    """A fit is usable when the estimates, their covariance and the log-likelihood are finite
    and the score is (close to) zero at the estimates."""
    params = np.asarray(params, dtype=float)
    if not np.all(np.isfinite(params)) or cov is None or not np.all(np.isfinite(cov)):
        return False
    if np.any(np.diag(cov) <= 0):
        return False
    with np.errstate(all="ignore"):
        ll = model.loglike(params)
        g = model.score(params)
    if not np.isfinite(ll) or not np.all(np.isfinite(g)):
        return False
    # score per unit of each estimate's SE: ~0 at the maximum
    return bool(np.max(np.abs(g) * np.sqrt(np.diag(cov))) < 1e-3)


def _damped_newton(model: Any, k: int, maxiter: int = 100) -> tuple[np.ndarray, np.ndarray | None]:
    """Newton–Raphson from zero with step halving (the log-likelihood must not fall), as in
    R's coxph; returns (estimates, covariance) or (estimates, None) when it fails."""
    b = np.zeros(k)
    with np.errstate(all="ignore"):
        ll = model.loglike(b)
        for _ in range(maxiter):
            g = model.score(b)
            H = model.hessian(b)
            try:
                step = np.linalg.solve(-H, g)
            except np.linalg.LinAlgError:
                return b, None
            if not np.all(np.isfinite(step)):
                return b, None
            t = 1.0
            while True:
                nb = b + t * step
                nll = model.loglike(nb)
                if np.isfinite(nll) and nll >= ll - 1e-12:
                    break
                t /= 2
                if t < 1e-10:
                    return b, None
            done = abs(nll - ll) < 1e-10 * (1 + abs(ll)) and np.max(np.abs(nb - b)) < 1e-7
            b, ll = nb, nll
            if done:
                break
        else:
            return b, None
        try:
            cov = np.linalg.inv(-model.hessian(b))
        except np.linalg.LinAlgError:
            return b, None
    return b, cov


def _fit_phreg(model: Any) -> tuple[Any, str, bool]:
    """Fit a statsmodels PHReg: its Newton fit first; when that diverges (NaN or infinite
    estimates, often without any warning), fails to converge or leaves a non-zero score, a
    step-halving Newton from zero. Returns (results, method, converged)."""
    from statsmodels.duration.hazard_regression import PHRegResults

    k = model.exog.shape[1]
    fit = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(disp=False)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError):
            fit = None
    if any("converge" in str(w.message).lower() for w in caught):
        fit = None
    if fit is not None:
        with np.errstate(all="ignore"):
            try:
                cov = np.asarray(fit.cov_params(), dtype=float)
            except (np.linalg.LinAlgError, ValueError):
                cov = None
        if _fit_ok(model, fit.params, cov):
            return fit, "newton", True
    b, cov = _damped_newton(model, k)
    if cov is not None and _fit_ok(model, b, cov):
        return PHRegResults(model, b, cov), "damped-newton", True
    return (fit if fit is not None else PHRegResults(model, b, np.full((k, k), np.nan))), "damped-newton", False


def ph_score_test(X, times, events, beta, entry=None, transform: str = "rank") -> pd.DataFrame:
    """Grambsch–Therneau score test of proportional hazards with the full variance (as R's
    ``cox.zph`` since survival 3.0), one row per covariate and a ``global`` row.

    The test asks whether adding ``x_j · g(t)`` (g: the rank of the event time) to the fitted
    Cox model improves it: the score of the added term at the fitted β (and 0 for the new one),
    U_j = Σ_k (g_k − ḡ) s_kj with s_k the Schoenfeld residuals summed over the events at the
    k-th event time, has variance I₂₂ − I₂₁ I₁₁⁻¹ I₁₂, the blocks of the information of the
    augmented model: I₁₁ = Σ d_k V_k, I₁₂ = Σ d_k g̃_k V_k, I₂₂ = Σ d_k g̃_k² V_k, with V_k the
    exp(xβ)-weighted covariance of the covariates in the k-th risk set (Breslow), d_k the
    events there. The approximate test (lifelines' ``proportional_hazard_test``, R before 3.0)
    replaces every V_k by their average I/D; that holds when the covariates' spread in the
    risk set does not change with time, and fails with time-varying covariates whose spread
    does (attainment or pay practice whose spread changes with tenure or the calendar): there it
    rejected about 2.5 times as often as its level.

    Parameters
    ----------
    X : array (n, p)
        Covariates of each row (a person, or a person-interval with ``entry``).
    times, events : arrays (n,)
        End of each row's interval and whether it ends in the event.
    beta : array (p,)
        The fitted coefficients.
    entry : array (n,), optional
        Start of each row's interval: the row is at risk at t when entry < t ≤ time (entry 0:
        from the origin on, t = 0 included).
    transform : {"rank"}
        g(t): the rank of the event time among the events (ties: mean rank).

    Returns
    -------
    DataFrame
        ``term`` (the column index, and "global"), ``statistic``, ``df``, ``p``.
    """
    if transform != "rank":
        raise ParameterError(f"The 'transform' parameter of ph_score_test must be 'rank'. Got {transform!r} instead.")
    X = np.asarray(X, dtype=float)
    X = X.reshape(len(X), -1)
    t = np.asarray(times, dtype=float)
    ev = np.asarray(events, dtype=bool)
    b = np.asarray(beta, dtype=float)
    p = X.shape[1]
    st = np.zeros(len(t)) if entry is None else np.asarray(entry, dtype=float)
    ut, d = np.unique(t[ev], return_counts=True)
    if len(ut) < 2:
        nan = np.full(p + 1, np.nan)
        return pd.DataFrame({"term": list(range(p)) + ["global"], "statistic": nan, "df": [1] * p + [p], "p": nan})
    Xc = X - X.mean(axis=0)
    eta = Xc @ b
    w = np.exp(eta - eta.max())
    # risk sets: rows with entry < t_k <= time (entry 0: at risk from the origin on)
    at = (t[:, None] >= ut[None, :]) & ((st[:, None] < ut[None, :]) | (st[:, None] == 0))
    W = at * w[:, None]                                       # n × K
    S0 = W.sum(axis=0)                                        # K
    S1 = W.T @ Xc                                             # K × p
    xbar = S1 / S0[:, None]
    S2 = (W.T @ (Xc[:, :, None] * Xc[:, None, :]).reshape(len(Xc), p * p)).reshape(len(ut), p, p)  # K × p × p
    V = S2 / S0[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
    k_of = np.searchsorted(ut, t[ev])
    E = np.zeros((len(ut), p))
    np.add.at(E, k_of, Xc[ev])
    s = E - d[:, None] * xbar                                 # Schoenfeld residuals summed per event time
    g_ev = sps.rankdata(t[ev])
    g = np.zeros(len(ut))
    np.add.at(g, k_of, g_ev)
    g = g / d                                                 # the events' (mean) rank at each time
    gt = g - (d * g).sum() / d.sum()
    U = (gt[:, None] * s).sum(axis=0)
    I11 = np.einsum("k,kij->ij", d, V)
    I12 = np.einsum("k,kij->ij", d * gt, V)
    I22 = np.einsum("k,kij->ij", d * gt ** 2, V)
    rows = []
    with np.errstate(invalid="ignore", divide="ignore"):
        try:
            inv11 = np.linalg.pinv(I11)
            var = I22 - I12.T @ inv11 @ I12
            for j in range(p):
                stat = U[j] ** 2 / var[j, j] if var[j, j] > 0 else np.nan
                rows.append((j, float(stat), 1, float(sps.chi2.sf(stat, 1)) if np.isfinite(stat) else np.nan))
            glob = float(U @ np.linalg.pinv(var) @ U)
            rows.append(("global", glob, p, float(sps.chi2.sf(glob, p))))
        except np.linalg.LinAlgError:  # pragma: no cover - pinv does not fail on finite input
            rows = [(j, np.nan, 1, np.nan) for j in range(p)] + [("global", np.nan, p, np.nan)]
    return pd.DataFrame(rows, columns=["term", "statistic", "df", "p"])


def ph_check(fit, times, events, terms: Sequence[str], alpha: float = 0.05, warn: bool = True,
             X=None, entry=None) -> pd.DataFrame:
    """Proportional-hazards check (Grambsch–Therneau): do the scaled Schoenfeld residuals trend
    with the rank of event time?

    With the covariates ``X`` (and ``entry`` times) the test is the score test with the full
    variance (:func:`ph_score_test`, as R's ``cox.zph``); without them, the approximate test
    T_j = (Σ (g − ḡ) r*_j)² / (D · V_jj · Σ (g − ḡ)²), r* = D·r·V (D events, V the covariance of
    the estimates, r the Schoenfeld residuals), as lifelines' ``proportional_hazard_test(
    time_transform="rank")``; it is also returned as ``statistic_approx``/``p_approx``. The
    approximate test assumes the covariates' spread in the risk set is the same at every
    event time; with a monthly covariate whose spread changes with tenure it flagged 12.5 % of
    data sets under proportional hazards at 5 %, the full-variance test 3 %
    (tests/test_stats_survival.py). ``rho`` is the rank
    correlation of r*_j with time. A Benjamini–Hochberg-adjusted p-value (over the terms)
    below ``alpha`` flags a violation (under proportional hazards for every term, any flag
    has probability ≤ ``alpha``) and raises
    :class:`~analysis.errors.ProportionalHazardsWarning` (when ``warn``).

    Returns
    -------
    DataFrame
        ``term``, ``rho``, ``statistic``, ``p``, ``p_adj``, ``violated``, ``statistic_approx``,
        ``p_approx``.
    """
    resid = np.asarray(fit.schoenfeld_residuals, dtype=float)
    ev = np.asarray(events, bool)
    r = resid[ev]
    tt = np.asarray(times, dtype=float)[ev]
    keep = ~np.isnan(r).any(axis=1)
    r, tt = r[keep], tt[keep]
    D = len(tt)
    V = np.asarray(fit.cov_params(), dtype=float)
    rows = []
    if D < 3:
        out = pd.DataFrame({"term": list(terms), "rho": np.nan, "statistic": np.nan, "p": np.nan, "p_adj": np.nan,
                            "violated": False, "statistic_approx": np.nan, "p_approx": np.nan})
        return out
    g = sps.rankdata(tt)
    gd = g - g.mean()
    scaled = D * (r @ V)
    for j, term in enumerate(terms):
        num = (gd * scaled[:, j]).sum() ** 2
        den = D * V[j, j] * (gd ** 2).sum()
        stat = float(num / den) if den > 0 else np.nan
        p = float(sps.chi2.sf(stat, 1)) if not np.isnan(stat) else np.nan
        rho = float(sps.spearmanr(tt, scaled[:, j])[0]) if np.std(scaled[:, j]) > 0 else np.nan
        rows.append((term, rho, stat, p))
    out = pd.DataFrame(rows, columns=["term", "rho", "statistic_approx", "p_approx"])
    if X is not None:
        exact = ph_score_test(X, times, events, np.asarray(fit.params, dtype=float), entry=entry)
        out["statistic"] = exact["statistic"].to_numpy()[:len(terms)]
        out["p"] = exact["p"].to_numpy()[:len(terms)]
    else:
        out["statistic"] = out["statistic_approx"]
        out["p"] = out["p_approx"]
    # one test per term: adjusted together (Benjamini–Hochberg), so a model with many terms
    # and proportional hazards does not flag one by chance more often than ``alpha``
    from .correlation import bh_adjust

    out["p_adj"] = bh_adjust(out["p"].to_numpy())
    out["violated"] = (out["p_adj"] < alpha).fillna(False).astype(bool)
    out = out[["term", "rho", "statistic", "p", "p_adj", "violated", "statistic_approx", "p_approx"]]
    bad = out.loc[out["violated"], "term"].tolist()
    if warn and bad:
        warnings.warn(
            ProportionalHazardsWarning(
                "The proportional-hazards assumption looks violated (scaled Schoenfeld residuals trend with time) for: "
                + ", ".join(bad)
            ),
            stacklevel=2,
        )
    return out


@dataclass
class LogitResult:
    """Logistic regression of a binary outcome: odds ratios with CIs."""

    table: pd.DataFrame  # term, coef, se, or, lo, hi, p
    n_obs: int
    n_events: int
    reference_levels: dict = field(default_factory=dict)


def logistic(
    df: pd.DataFrame, outcome: str, covariates: Sequence[str], categorical: Sequence[str] = (), alpha: float = 0.05,
    reference: dict[str, str] | None = None,
) -> LogitResult:
    """Logistic model of a 0/1 outcome (statsmodels Logit) with odds ratios.

    Examples
    --------
    >>> r = logistic(people, "left_within_horizon", ["payout_delay_days"])  # doctest: +SKIP
    """
    import statsmodels.api as sm

    X, refs = design_matrix(df, covariates, categorical, reference)
    data = pd.concat([df[[outcome]].reset_index(drop=True), X.reset_index(drop=True)], axis=1).dropna()
    # columns constant (a level nobody in the complete rows has) or aliased on the rows used
    keep, _ = _independent_columns(data[X.columns])
    X = X[keep]
    data = data[[outcome] + keep]
    y = data[outcome].astype(float).to_numpy()
    n_ev = int(y.sum())
    if X.shape[1] == 0 or min(n_ev, len(y) - n_ev) < X.shape[1] + 2:
        raise InsufficientDataError(
            f"The logistic model needs more people in each outcome ({n_ev} left, {len(y) - n_ev} stayed) than covariates."
        )
    exog = sm.add_constant(data[X.columns].to_numpy(float), has_constant="add")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm.Logit(y, exog).fit(disp=0, maxiter=200)
    bad = not (np.all(np.isfinite(np.asarray(fit.params))) and np.all(np.isfinite(np.asarray(fit.bse))))
    if bad or any("converge" in str(w.message).lower() or "separation" in str(w.message).lower() for w in caught):
        warnings.warn(ConvergenceWarning("The logistic model did not converge; its estimates are unreliable."), stacklevel=2)
    z = sps.norm.ppf(1 - alpha / 2)
    coef = np.asarray(fit.params)[1:]
    se = np.asarray(fit.bse)[1:]
    tab = pd.DataFrame({
        "term": list(X.columns), "coef": coef, "se": se, "or": np.exp(coef),
        "lo": np.exp(coef - z * se), "hi": np.exp(coef + z * se), "p": 2 * sps.norm.sf(np.abs(coef / se)),
    })
    return LogitResult(table=tab, n_obs=len(y), n_events=n_ev, reference_levels=refs)

"""Difference-in-differences on a weekly panel, and the share of a new product's volume it implies.

The estimate is on the relative scale: each group's weekly volume divided by its mean over
the pre weeks, so ``estimate = (T_post/T_pre − 1) − (C_post/C_pre − 1)`` (the 2×2 means
difference of relative volume; −0.1 = the treated group lost 10 % of its pre level relative
to the control). Units count with their volume, so ``estimate × treated pre-period volume``
is the volume the treated group lost or gained.

Two ways to the confidence interval (:func:`did`):

- :func:`panel_did` (≥ 2 treated and ≥ 2 control units): WLS of each unit's relative volume
  on unit and week fixed effects and ``treated × post``, weights = the unit's pre-period
  volume, standard errors clustered by unit (statsmodels, t with G − 1 df). Its point
  estimate equals the 2×2 difference above on a balanced panel.
- :func:`aggregate_did` (a single treated or control unit, where cluster-robust errors are
  not valid): the weekly difference ``d_t = treated_t − control_t`` of the two groups'
  relative series, and a Welch t-interval of ``mean(d_post) − mean(d_pre)`` (statsmodels
  ``CompareMeans``), as in Donald & Lang (2007).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from ..errors import InsufficientDataError, ParameterError


@dataclass
class DidResult:
    """A difference-in-differences estimate on the relative scale (0.1 = +10 % of pre level).

    Attributes
    ----------
    estimate, lo, hi, se, df : float
        Estimate, 95 % CI (level ``1 - alpha``), standard error and Welch degrees of freedom.
    baseline_treated, baseline_control : float
        Pre-period mean outcome per time step, summed over the group's units.
    series : DataFrame
        ``time``, ``post``, ``treated``, ``control`` (relative levels) and ``diff``.
    """

    estimate: float
    lo: float
    hi: float
    se: float
    df: float
    n_pre: int
    n_post: int
    n_treated: int
    n_control: int
    baseline_treated: float
    baseline_control: float
    series: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    method: str = "aggregate"

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lo > 0 or self.hi < 0)


def aggregate_did(
    panel: pd.DataFrame,
    unit: str = "unit",
    time: str = "time",
    outcome: str = "y",
    treated: str = "treated",
    post: str = "post",
    weight: str | None = None,
    alpha: float = 0.05,
    min_periods: int = 1,
) -> DidResult:
    """DiD of ``outcome`` for treated vs control units, pre vs post (module docstring).

    Parameters
    ----------
    panel : DataFrame
        One row per unit and time: ``unit``, ``time``, ``outcome``, boolean ``treated`` (per
        unit) and ``post`` (per time). Missing unit-times count as 0.
    weight : str, optional
        Unused in the estimate (kept for panels with unequal periods: rows with weight 0 are dropped).
    alpha : float
        1 − confidence level.

    Examples
    --------
    >>> p = pd.DataFrame({"unit": list("aabbccdd"), "time": [0, 1] * 4,
    ...                   "y": [10, 8, 10, 8, 5, 5, 5, 5], "treated": [True] * 4 + [False] * 4,
    ...                   "post": [False, True] * 4})
    >>> round(aggregate_did(p).estimate, 3)
    -0.2
    """
    if not (0 < alpha < 1):
        raise ParameterError(f"The 'alpha' parameter of aggregate_did must be in (0, 1). Got {alpha!r} instead.")
    need = [unit, time, outcome, treated, post]
    miss = [c for c in need if c not in panel.columns]
    if miss:
        raise ParameterError(f"The 'panel' parameter of aggregate_did must have columns {need}. Missing {miss}.")
    p = panel[need + ([weight] if weight else [])].copy()
    if weight:
        p = p[p[weight] > 0]
    p[treated] = p[treated].astype(bool)
    p[post] = p[post].astype(bool)
    times = p[[time, post]].drop_duplicates().sort_values(time)
    if times[time].duplicated().any():
        raise ParameterError("The 'post' column of aggregate_did must be constant within each time.")
    units = p[[unit, treated]].drop_duplicates()
    if units[unit].duplicated().any():
        raise ParameterError("The 'treated' column of aggregate_did must be constant within each unit.")
    wide = p.pivot_table(index=time, columns=unit, values=outcome, aggfunc="sum").reindex(times[time]).fillna(0.0)
    is_post = times.set_index(time)[post].reindex(wide.index).to_numpy()
    n_pre, n_post = int((~is_post).sum()), int(is_post.sum())
    if n_pre < min_periods or n_post < min_periods:
        raise InsufficientDataError(
            f"A difference-in-differences needs at least {min_periods} periods before and after; "
            f"got {n_pre} and {n_post}."
        )
    tr = units.set_index(unit)[treated].reindex(wide.columns).to_numpy()
    series = {}
    base = {}
    counts = {}
    for name, mask in (("treated", tr), ("control", ~tr)):
        total = wide.loc[:, mask].sum(axis=1).to_numpy()
        b = float(total[~is_post].mean())
        counts[name] = int(mask.sum())
        if counts[name] == 0 or b <= 0:
            raise InsufficientDataError(f"The {name} group has no volume before the event.")
        base[name] = b
        series[name] = total / b
    d = series["treated"] - series["control"]
    est = float(d[is_post].mean() - d[~is_post].mean())
    if n_pre >= 2 and n_post >= 2:
        cm = CompareMeans(DescrStatsW(d[is_post]), DescrStatsW(d[~is_post]))
        lo, hi = cm.tconfint_diff(alpha=alpha, usevar="unequal")
        _, _, dof = cm.ttest_ind(usevar="unequal")
        se = float(cm.std_meandiff_separatevar)
    else:
        lo = hi = dof = se = float("nan")
    frame = pd.DataFrame({"time": wide.index.to_numpy(), "post": is_post, "treated": series["treated"],
                          "control": series["control"], "diff": d})
    return DidResult(
        estimate=est, lo=float(lo), hi=float(hi), se=se, df=float(dof), n_pre=n_pre, n_post=n_post,
        n_treated=counts["treated"], n_control=counts["control"], baseline_treated=base["treated"],
        baseline_control=base["control"], series=frame,
    )


def share_of_new_volume(res: DidResult, periods: float, new_volume: float | None,
                        baseline_per: float = 1.0) -> dict[str, float | None]:
    """Share of a new product's volume taken from the treated incumbents.

    ``lost = −estimate × baseline_treated × periods / baseline_per`` (the incumbents' volume
    change over ``periods`` time units, when the baseline is per ``baseline_per`` units);
    ``share = lost ÷ new_volume`` with the CI mapped the same way (positive = taken).

    Examples
    --------
    >>> r = DidResult(-0.1, -0.15, -0.05, 0.02, 5, 4, 4, 1, 9, 100.0, 900.0)
    >>> share_of_new_volume(r, 30, 600.0)["estimate"]
    0.5
    """
    if new_volume is None or not np.isfinite(new_volume) or new_volume <= 0:
        return {"estimate": None, "lo": None, "hi": None}
    scale = res.baseline_treated * periods / baseline_per / new_volume
    return {"estimate": -res.estimate * scale, "lo": -res.hi * scale, "hi": -res.lo * scale}


def panel_did(
    panel: pd.DataFrame,
    unit: str = "unit",
    time: str = "time",
    outcome: str = "y",
    treated: str = "treated",
    post: str = "post",
    alpha: float = 0.05,
) -> DidResult:
    """DiD by WLS with unit and time fixed effects, errors clustered by unit (module docstring).

    Each unit's outcome is divided by its own pre-period mean and weighted by that mean;
    units with no pre-period volume are dropped. Missing unit-times count as 0.

    Examples
    --------
    >>> p = pd.DataFrame({"unit": np.repeat(list("abcd"), 2), "time": [0, 1] * 4,
    ...                   "y": [10, 8, 20, 15, 5, 5, 10, 11], "treated": [True] * 4 + [False] * 4,
    ...                   "post": [False, True] * 4})
    >>> round(panel_did(p).estimate, 4)   # (23/30 - 1) - (16/15 - 1)
    -0.3
    """
    import statsmodels.api as sm

    base = aggregate_did(panel, unit, time, outcome, treated, post, alpha=alpha, min_periods=1)
    p = panel[[unit, time, outcome, treated, post]].copy()
    wide = p.pivot_table(index=unit, columns=time, values=outcome, aggfunc="sum").fillna(0.0)
    times = p[[time, post]].drop_duplicates().set_index(time)[post].astype(bool).reindex(wide.columns)
    tr = p[[unit, treated]].drop_duplicates().set_index(unit)[treated].astype(bool).reindex(wide.index)
    w = wide.loc[:, ~times.to_numpy()].mean(axis=1)
    keep = w > 0
    wide, tr, w = wide[keep], tr[keep], w[keep]
    g_t, g_c = int(tr.sum()), int((~tr).sum())
    if g_t < 2 or g_c < 2:
        raise InsufficientDataError("A clustered DiD needs at least 2 treated and 2 control units.")
    rel = wide.div(w, axis=0)
    long = rel.stack().rename("y").reset_index()
    long.columns = ["unit", "time", "y"]
    long["w"] = long["unit"].map(w)
    long["did"] = (long["unit"].map(tr) & long["time"].map(times)).astype(float)
    X = pd.concat([
        pd.get_dummies(long["unit"], prefix="u", dtype=float),
        pd.get_dummies(long["time"], prefix="t", drop_first=True, dtype=float),
        long[["did"]],
    ], axis=1)
    groups = pd.factorize(long["unit"])[0]
    fit = sm.WLS(long["y"].to_numpy(), X.to_numpy(), weights=long["w"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    k = X.shape[1] - 1
    lo, hi = fit.conf_int(alpha=alpha)[k]
    return DidResult(
        estimate=float(fit.params[k]), lo=float(lo), hi=float(hi), se=float(fit.bse[k]),
        df=float(g_t + g_c - 1), n_pre=base.n_pre, n_post=base.n_post, n_treated=g_t, n_control=g_c,
        baseline_treated=base.baseline_treated, baseline_control=base.baseline_control,
        series=base.series, method="panel",
    )


def did(panel: pd.DataFrame, unit: str = "unit", time: str = "time", outcome: str = "y",
        treated: str = "treated", post: str = "post", alpha: float = 0.05) -> DidResult:
    """:func:`panel_did` when both groups have ≥ 2 units, else :func:`aggregate_did`.

    Examples
    --------
    >>> p = pd.DataFrame({"unit": list("aabbccdd"), "time": [0, 1] * 4,
    ...                   "y": [10, 8, 10, 8, 5, 5, 5, 5], "treated": [True] * 4 + [False] * 4,
    ...                   "post": [False, True] * 4})
    >>> did(p).method
    'panel'
    """
    units = panel[[unit, treated]].drop_duplicates()
    n_t = int(units[treated].astype(bool).sum())
    n_c = int((~units[treated].astype(bool)).sum())
    if n_t >= 2 and n_c >= 2:
        try:
            return panel_did(panel, unit, time, outcome, treated, post, alpha)
        except InsufficientDataError:
            pass
    return aggregate_did(panel, unit, time, outcome, treated, post, alpha=alpha)

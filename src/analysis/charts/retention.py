"""Charts of the incentive_retention report: KM curves with an at-risk table, a
correlation heatmap, dose–response of an incentive, and a hazard-ratio forest plot.

Charts take small result frames and curves (the ``Figure`` data of the report's sections)
and return a matplotlib Figure; they never query. Every word on them comes from the
catalogues in the report's language: tiers as ``incentive_retention.tier.<code>``, names as
``column.<name>`` (a snapshot's own column as it is).
Privacy: a curve stops where fewer than ``min_group_size`` people remain at risk, and
at-risk counts below it are shown as "<k".

Examples
--------
>>> c = retention.km_by_feature(data, "team_bonus_share")  # doctest: +SKIP
>>> fig = km_curves(c.curves, c.min_group_size, c.start, "team_bonus_share", lang="en")  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..i18n import label, name_label

C = "incentive_retention.chart"


def _tier_label(t: Any, lang: str) -> str:
    return name_label("incentive_retention.tier", t, lang)


def _feature_label(name: str, lang: str) -> str:
    if name == "left_within_horizon":
        return label(f"{C}.left_within_horizon", lang)
    return name_label("column", name, lang)


def km_curves(curves: Mapping[str, Any], min_group_size: int = 5, start: float = 0.0, feature: str | None = None,
              lang: str = "zh", max_time: float | None = None, tick_step: float = 12.0) -> Any:
    """Kaplan–Meier curves (one per tier) with CI bands and an at-risk table below.

    Parameters
    ----------
    curves : mapping
        Tier code → :class:`analysis.stats.survival.KMResult`.
    min_group_size : int
        At-risk counts below it are shown as "<k"; a curve stops where its tier has fewer.
    start : float
        Tenure (months) the curves start from (time-dependent tiers: when every tier has
        enough people).
    feature : str, optional
        The feature the tiers are of (the chart's title); None for everyone.
    lang : str
    max_time : float, optional
        Last tenure (months) shown; default the last time any curve still has enough people.
    tick_step : float
        Spacing (months) of the at-risk table columns.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    k = int(min_group_size)
    ends = {}
    for name, km in curves.items():
        tab = km.table
        ok = tab["n_at_risk"] >= k
        ends[name] = float(tab.loc[ok, "time"].max()) if ok.any() else 0.0
    # by default up to the last time a curve still has enough people, at most 10 years
    tmax = max_time or min(120.0, max(ends.values()) if ends else 12.0)
    ticks = np.arange(0, tmax + 1e-9, tick_step)
    start = float(start or 0.0)
    if start > 0:  # the at-risk table starts where the curves start
        ticks = np.concatenate([[start], ticks[ticks > start + tick_step / 4]])
    # drawn at phone width, so the at-risk table's 11 pt rows are not shrunk: one row ≈ 0.3 in
    rows_in = 0.3 * (len(curves) + 1) + 0.35
    fig, (ax, axt) = plt.subplots(2, 1, figsize=(5.2, 3.4 + rows_in), gridspec_kw={"height_ratios": [3.4, rows_in]})
    for i, (name, km) in enumerate(curves.items()):
        tab = km.table[(km.table["time"] <= ends[name]) & (km.table["time"] > start)]
        x = np.concatenate([[start], tab["time"].to_numpy()])
        y = np.concatenate([[1.0], tab["survival"].to_numpy()])
        lo = np.concatenate([[1.0], tab["lo"].to_numpy()])
        hi = np.concatenate([[1.0], tab["hi"].to_numpy()])
        line, = ax.step(x, y, where="post", label=_tier_label(str(name), lang), lw=1.8)
        ax.fill_between(x, lo, hi, step="post", alpha=0.15, color=line.get_color())
    if start > 0:
        # curves conditional on being employed at ``start`` (every tier has enough people from there)
        ax.axvline(start, color="grey", lw=0.8, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, tmax)
    ax.set_xticks(ticks)
    ax.set_ylabel(label("column.retention", lang))
    ax.set_xlabel(label(f"{C}.tenure_months", lang))
    if feature:
        ax.set_title(_feature_label(feature, lang))
    if len(curves) > 1:
        ax.legend(loc="lower left", fontsize=9)
    # at-risk table
    axt.axis("off")
    names = list(curves)
    cells = []
    for name in names:
        n = curves[name].at_risk_at(ticks)
        cells.append([str(int(v)) if v >= k else f"<{k}" for v in n])
    tbl = axt.table(cellText=cells, rowLabels=[_tier_label(str(n), lang) for n in names],
                    colLabels=[f"{t:.3g}" for t in ticks], loc="center", cellLoc="center")
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(11)  # read on a phone: never below the charts' smallest text
    tbl.scale(1, 1.5)
    axt.set_title(label("column.at_risk", lang), fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def correlation_heatmap(matrix: pd.DataFrame, lang: str = "zh", title: str | None = None) -> Any:
    """Heatmap of a (Spearman) correlation matrix, labels translated.

    Examples
    --------
    >>> fig = correlation_heatmap(pd.DataFrame([[1, .2], [.2, 1]], index=list("ab"), columns=list("ab")))
    """
    import matplotlib.pyplot as plt

    names = [_feature_label(c, lang) for c in matrix.columns]
    m = matrix.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    im = ax.imshow(np.ma.masked_invalid(m), vmin=-1, vmax=1, cmap="RdBu_r")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if not np.isnan(m[i, j]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(m[i, j]) > 0.6 else "black")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.grid(False)
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def dose_response(table: pd.DataFrame, feature: str, lang: str = "zh", title: str | None = None) -> Any:
    """Monthly exit rate by band with 95 % CIs (suppressed bands are left out).

    Parameters
    ----------
    table : DataFrame
        ``band``, ``exit_rate``, ``ci_low``, ``ci_high`` (the table of a dose section).
    feature : str
        The feature the bands are of (the x axis).
    """
    import matplotlib.pyplot as plt

    t = table.dropna(subset=["exit_rate"])
    fig, ax = plt.subplots(figsize=(7, 3.8))
    x = np.arange(len(t))
    y = t["exit_rate"].astype(float).to_numpy()
    lo = t["ci_low"].astype(float).to_numpy()
    hi = t["ci_high"].astype(float).to_numpy()
    ax.errorbar(x, y * 100, yerr=[(y - lo) * 100, (hi - y) * 100], fmt="o-", capsize=4, lw=1.5)
    ax.set_xticks(x)
    ax.set_xticklabels([_tier_label(b, lang) for b in t["band"]])
    ax.set_xlabel(_feature_label(feature, lang))
    ax.set_ylabel(label(f"{C}.exit_rate_pct", lang))
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def hazard_ratio_forest(side_by_side: pd.DataFrame, terms: Sequence[str], lang: str = "zh",
                        title: str | None = None) -> Any:
    """Raw vs adjusted hazard ratios per one standard deviation (log scale), with 95 % CIs.

    ``side_by_side`` needs ``term``, ``adj_hr_sd``, ``adj_lo_sd``, ``adj_hi_sd`` and optionally
    ``raw_hr_sd``, ``raw_lo_sd``, ``raw_hi_sd``.
    """
    import matplotlib.pyplot as plt

    t = side_by_side[side_by_side["term"].isin(terms)].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(t) + 1.5))
    ys = np.arange(len(t))[::-1]
    for kind, off, marker in (("raw", 0.15, "s"), ("adj", -0.15, "o")):
        col = f"{kind}_hr_sd"
        if col not in t.columns:
            continue
        hr = t[col].astype(float).to_numpy()
        lo = t[f"{kind}_lo_sd"].astype(float).to_numpy()
        hi = t[f"{kind}_hi_sd"].astype(float).to_numpy()
        name = label(f"{C}.{'raw' if kind == 'raw' else 'adjusted'}", lang)
        ax.errorbar(hr, ys + off, xerr=[hr - lo, hi - hr], fmt=marker, capsize=3, label=name)
    ax.axvline(1.0, color="grey", lw=1, ls="--")
    ax.set_xscale("log")
    lo_all = np.nanmin([t[c].astype(float).min() for c in ("raw_lo_sd", "adj_lo_sd") if c in t.columns] + [1.0])
    hi_all = np.nanmax([t[c].astype(float).max() for c in ("raw_hi_sd", "adj_hi_sd") if c in t.columns] + [1.0])
    ticks = [x for x in (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0) if lo_all / 1.2 <= x <= hi_all * 1.2]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{x:g}" for x in ticks])
    ax.minorticks_off()
    ax.set_yticks(ys)
    ax.set_yticklabels([_feature_label(str(x), lang) for x in t["term"]])
    ax.set_xlabel(label(f"{C}.hr_per_sd", lang))
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

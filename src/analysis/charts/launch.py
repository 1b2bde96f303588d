"""Charts of the new brand one-month review. Each takes small frames and returns a Figure.

Texts come from the message catalogues (labels ``launch_review.chart.*``); Chinese draws with the CJK font chosen by
:func:`analysis.charts.setup`. Charts never query a store.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from typing import Mapping

from ..i18n import label
from . import axis_label

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]



def _t(key: str, lang: str) -> str:
    return label(f"launch_review.chart.{key}", lang)


def sales_trend(daily: pd.DataFrame, lang: str = "zh", qty_kind: str = "qty") -> Figure:
    """Daily volume (bars) and cumulative volume (line, right axis) by day since launch; both
    axes in the product's unit (``qty_kind``: 条 ``qty``, 箱 ``qty_case``, …).

    Examples
    --------
    >>> fig = sales_trend(pd.DataFrame({"day": [1, 2], "qty": [3.0, 1.0], "cum_qty": [3.0, 4.0]}))
    """
    return _bars_and_line(daily, ("qty", "qty_day", PALETTE[0], qty_kind), ("cum_qty", "cum_qty", PALETTE[1], qty_kind),
                          lang, (8, 3.6), {"lw": 2})


def customers_per_day(daily: pd.DataFrame, lang: str = "zh", qty_kind: str = "qty") -> Figure:
    """Ordering customers per day (bars) and volume per ordering customer (line, in the
    product's unit ``qty_kind``).

    Examples
    --------
    >>> fig = customers_per_day(pd.DataFrame({"day": [1, 2], "customers": [3, 0], "order_size": [2.0, None]}))
    """
    return _bars_and_line(daily, ("customers", "customers_day", PALETTE[2], "count"),
                          ("order_size", "order_size", PALETTE[3], qty_kind), lang, (8, 3.2), {"marker": "o", "ms": 3})


def _axis(key: str, kind: str, lang: str) -> str:
    """A chart label with the unit of its values (``日销量（条）``; none for counts)."""
    return axis_label(f"launch_review.chart.{key}", kind, lang)


def _bars_and_line(daily: pd.DataFrame, bars: tuple[str, str, str, str], line: tuple[str, str, str, str], lang: str,
                   size: tuple[float, float], line_kw: dict) -> Figure:
    """Bars of one column and a line of another (right axis) by day since launch, one legend.
    ``bars`` / ``line``: (column, label key, colour, value kind: the unit on its axis)."""
    fig, ax = plt.subplots(figsize=size)
    ax.bar(daily["day"], daily[bars[0]], color=bars[2], alpha=0.7, label=_axis(bars[1], bars[3], lang))
    ax.set_xlabel(_t("day", lang))
    ax.set_ylabel(_axis(bars[1], bars[3], lang))
    ax2 = ax.twinx()
    ax2.plot(daily["day"], daily[line[0]], color=line[2], label=_axis(line[1], line[3], lang), **line_kw)
    ax2.set_ylabel(_axis(line[1], line[3], lang))
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    # the legend above the plot, never over the bars
    ax.legend(h1 + h2, l1 + l2, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=2, frameon=False, borderaxespad=0,
              fontsize=11)
    fig.tight_layout()
    return fig


def ordering_curves(curves: pd.DataFrame, lang: str = "zh") -> Figure:
    """Cumulative trial and repeat (1+, 2+, 3+ reorders) customers by day since launch.

    Examples
    --------
    >>> fig = ordering_curves(pd.DataFrame({"day": [1, 2], "trial": [1, 2], "repeat_1": [0, 1],
    ...                                     "repeat_2": [0, 0], "repeat_3": [0, 0]}))
    """
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, k in enumerate(["trial", "repeat_1", "repeat_2", "repeat_3"]):
        ax.plot(curves["day"], curves[k], lw=2, color=PALETTE[i], label=_t(k, lang))
    ax.set_xlabel(_t("day", lang))
    ax.set_ylabel(_t("customers", lang))
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def rating_distribution(dist: pd.DataFrame, lang: str = "zh") -> Figure:
    """Share of responses by rating 1–5.

    Examples
    --------
    >>> fig = rating_distribution(pd.DataFrame({"rating": [1, 2, 3, 4, 5], "share": [.1, .1, .2, .3, .3]}))
    """
    fig, ax = plt.subplots(figsize=(6, 3))
    colors = [PALETTE[3], PALETTE[3], PALETTE[7], PALETTE[2], PALETTE[2]]
    ax.bar(dist["rating"].astype(str), dist["share"], color=colors)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(_t("rating", lang))
    ax.set_ylabel(_t("share", lang))
    fig.tight_layout()
    return fig


def cannibalization(series: pd.DataFrame, lang: str = "zh", placebo_split: float | None = None) -> Figure:
    """Weekly volume of same-class incumbents and of the control, relative to their pre-launch level.

    ``placebo_split``: the first week "after" the pretend launch of the pre-trend check, marked
    with a dotted line (the weeks before the launch are where the two lines should run parallel).

    Examples
    --------
    >>> fig = cannibalization(pd.DataFrame({"time": [-2, -1, 0], "treated": [1.0, 1.0, 0.8],
    ...                                     "control": [1.0, 1.0, 1.0]}), placebo_split=-1)
    """
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(series["time"], series["treated"], "o-", lw=2, color=PALETTE[3], label=_t("treated", lang))
    ax.plot(series["time"], series["control"], "s--", lw=2, color=PALETTE[0], label=_t("control", lang))
    ax.axvline(-0.5, color="grey", lw=1)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.text(-0.45, ax.get_ylim()[1], _t("launch", lang), va="top", fontsize=9, color="grey")
    if placebo_split is not None:
        ax.axvline(float(placebo_split) - 0.5, color="grey", lw=1, ls=":")
        ax.text(float(placebo_split) - 0.45, ax.get_ylim()[1], _t("placebo", lang), va="top", fontsize=9,
                color="grey")
    ax.set_xlabel(_t("week", lang))
    ax.set_ylabel(_t("relative", lang))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def benchmark_curves(curves: pd.DataFrame, this: str, lang: str = "zh", names: Mapping[str, str] | None = None,
                     qty_kind: str = "qty") -> Figure:
    """Cumulative volume (in the unit ``qty_kind``), distribution and repeat by day since launch,
    this launch in bold; each launch by its product name (``names``: label → name).

    Examples
    --------
    >>> c = pd.DataFrame({"launch": ["A", "A", "B", "B"], "day": [1, 2, 1, 2], "cum_qty": [1, 2, 1, 3],
    ...                   "distribution": [.1, .2, .1, .3], "repeat": [0, .1, 0, .2]})
    >>> fig = benchmark_curves(c, "A")
    """
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    shown = dict(names or {})  # label -> product name
    names = [this] + sorted(n for n in curves["launch"].unique() if n != this)
    for ax, m in zip(axes, ["cum_qty", "distribution", "repeat"]):
        for i, n in enumerate(names):
            c = curves[curves["launch"] == n]
            ax.plot(c["day"], c[m], lw=3 if n == this else 1.2, color=PALETTE[i % len(PALETTE)],
                    label=str(shown.get(n, n)), alpha=1 if n == this else 0.8)
        ax.set_title(_axis(m, qty_kind, lang) if m == "cum_qty" else _t(m, lang), fontsize=11)
        ax.set_xlabel(_t("day", lang))
        if m != "cum_qty":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig

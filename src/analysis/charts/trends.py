"""Charts of the monthly sales trends report. Each takes small frames and returns a Figure.

Labels and tick formats come from the message catalogues (:mod:`analysis.i18n`), so
``lang="en"`` gives English charts; Chinese draws with the CJK font picked by
:func:`analysis.charts.setup`. Amount axes are in 10k yuan (万元) in every language, the unit
of the tables.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from typing import Any, Mapping

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..i18n import check_lang, name_label
from ..i18n import label as _label
from . import value_axis


def label(key: str, lang: str) -> str:
    """The column label ``column.<key>``."""
    return _label(f"column.{key}", lang)

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _measure_axis(axis: Any, kind: str, lang: str) -> None:
    """A value axis of the report's measure: 金额（万元） for money, 销量 in the quantities' unit."""
    value_axis(axis, "column.amount" if kind in ("money", "money_wan") else "column.qty", kind, lang)


def _months(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.dt.to_timestamp()
    return pd.to_datetime(s.astype(str))


def attainment_bars(table: pd.DataFrame, time_elapsed: float, lang: str = "zh", max_rows: int = 20) -> Figure:
    """Horizontal bars of attainment per item (the ``max_rows`` furthest off plan), with a
    line at time elapsed; items flagged for action in red.

    Examples
    --------
    >>> fig = attainment_bars(pd.DataFrame({"key": ["A"], "attainment": [0.8], "action": [True]}), 1.0)
    """
    check_lang(lang, "charts.trends")
    d = table.dropna(subset=["attainment"]).head(max_rows).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(d) + 1)))
    colors = ["#d62728" if a else "#1f77b4" for a in d.get("action", pd.Series(False, index=d.index))]
    ax.barh([name_label("column", str(k), lang) for k in d["key"]], d["attainment"], color=colors)
    ax.axvline(time_elapsed, color="#333333", linestyle="--", linewidth=1)
    ax.text(time_elapsed, 1.0, " " + label("time_elapsed", lang), transform=ax.get_xaxis_transform(),
            va="bottom", fontsize=9)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label("attainment", lang))
    fig.tight_layout()
    return fig


#: more lines than this in one chart are drawn as small multiples (one panel per line)
MAX_LINES = 5


def underperformer_lines(series: pd.DataFrame, threshold: float, lang: str = "zh",
                         names: Mapping[str, str] | None = None) -> Figure:
    """Monthly attainment of each listed rep, with the threshold line: one chart with a legend
    for up to :data:`MAX_LINES` reps, else small multiples (one panel per rep, titled by name,
    shared axes) so a phone can still tell them apart."""
    check_lang(lang, "charts.trends")
    names = dict(names or {})
    reps = list(series.groupby("rep_id"))

    def who(rep: Any) -> str:
        n = names.get(str(rep))
        return f"{n}（{rep}）" if n and lang == "zh" else (f"{n} ({rep})" if n else str(rep))

    if len(reps) <= MAX_LINES:
        fig, ax = plt.subplots()
        for i, (rep, g) in enumerate(reps):
            ax.plot(_months(g["month"]), g["attainment"], marker="o", markersize=3, label=who(rep),
                    color=PALETTE[i % len(PALETTE)])
        ax.axhline(threshold, color="#d62728", linestyle="--", linewidth=1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(label("attainment", lang))
        if reps:
            # the legend above the plot, never over the data
            ax.legend(fontsize=9, ncol=2, loc="lower left", bbox_to_anchor=(0, 1.02), frameon=False, borderaxespad=0)
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig
    ncols = 2
    nrows = -(-len(reps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2, 1.7 * nrows + 0.4), sharex=True, sharey=True, squeeze=False)
    for ax, (rep, g) in zip(axes.flat, reps):
        ax.plot(_months(g["month"]), g["attainment"], marker="o", markersize=3, color=PALETTE[0])
        ax.axhline(threshold, color="#d62728", linestyle="--", linewidth=1)
        ax.set_title(who(rep), fontsize=11)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in list(axes.flat)[len(reps):]:
        ax.axis("off")
    fig.supylabel(label("attainment", lang))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def trend_chart(series: pd.DataFrame, lang: str = "zh", measure: str = "amount", kind: str | None = None) -> Figure:
    """Observed monthly values, STL trend, the expected band and flagged anomalies (the axis in
    万元 for amounts, in the products' unit for ``measure="qty"``: ``kind`` ``qty`` 条,
    ``qty_case`` 箱, …)."""
    check_lang(lang, "charts.trends")
    x = _months(series["month"])
    fig, ax = plt.subplots()
    if "expected_low" in series:
        ax.fill_between(x, series["expected_low"], series["expected_high"], color="#1f77b4", alpha=0.15,
                        label=f"{label('expected_low', lang)}–{label('expected_high', lang)}")
    ax.plot(x, series["observed"], marker="o", markersize=3, color="#1f77b4", label=label("observed", lang))
    if "trend" in series:
        ax.plot(x, series["trend"], color="#ff7f0e", linewidth=2, label=label("trend", lang))
    if "anomaly" in series and series["anomaly"].any():
        a = series["anomaly"].to_numpy(dtype=bool)
        ax.scatter(x[a], series["observed"][a], color="#d62728", zorder=5, s=40)
    value_axis(ax.yaxis, f"column.{measure}", kind or ("money" if measure == "amount" else "qty"), lang)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def spring_festival_chart(aligned: pd.DataFrame, lang: str = "zh", kind: str = "money") -> Figure:
    """Cumulative amount (or quantity: ``kind`` ``qty``, ``qty_case``, …) by days to Spring
    Festival, one line per festival year."""
    check_lang(lang, "charts.trends")
    fig, ax = plt.subplots()
    for i, (season, g) in enumerate(aligned.groupby("season")):
        ax.plot(g["offset"], g["cumulative"], label=str(season), color=PALETTE[i % len(PALETTE)])
    ax.axvline(0, color="#333333", linestyle="--", linewidth=1)
    ax.set_xlabel(label("offset", lang))
    _measure_axis(ax.yaxis, kind, lang)
    ax.legend(title=label("season", lang), fontsize=8)
    fig.tight_layout()
    return fig


def mix_chart(table: pd.DataFrame, measure: str = "qty", lang: str = "zh") -> Figure:
    """Shares by price class, this period beside the same period last year."""
    check_lang(lang, "charts.trends")
    fig, ax = plt.subplots()
    x = np.arange(len(table))
    w = 0.38
    ax.bar(x - w / 2, table[f"{measure}_share"], w, label=label("current", lang), color="#1f77b4")
    if f"{measure}_share_ly" in table:
        ax.bar(x + w / 2, table[f"{measure}_share_ly"], w, label=label("last_year", lang), color="#aec7e8")
    ax.set_xticks(x, [name_label("column", str(k), lang) for k in table["price_class"]])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(label(f"{measure}_share", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def contribution_chart(table: pd.DataFrame, lang: str = "zh", max_rows: int = 15, kind: str = "money") -> Figure:
    """Horizontal bars of the change per item (largest absolute changes), red for declines; the
    axis in 万元, or in the quantities' unit (``kind``: ``qty``, ``qty_case``, …)."""
    check_lang(lang, "charts.trends")
    d = table.reindex(table["change"].abs().sort_values(ascending=False).index).head(max_rows)
    d = d.sort_values("change")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(d) + 1)))
    ax.barh([name_label("column", str(k), lang) for k in d["key"]], d["change"], color=["#d62728" if v < 0 else "#2ca02c" for v in d["change"]])
    ax.axvline(0, color="#333333", linewidth=1)
    value_axis(ax.xaxis, "column.yoy_change", kind, lang)
    fig.tight_layout()
    return fig


def pareto_chart(curve: pd.DataFrame, top_fraction: float = 0.2, lang: str = "zh") -> Figure:
    """Cumulative share of amount against cumulative share of customers (Lorenz/Pareto)."""
    check_lang(lang, "charts.trends")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(curve["customer_share"], curve["amount_share"], color="#1f77b4")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
    ax.axvline(top_fraction, color="#d62728", linestyle="--", linewidth=1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label("customer_share", lang))
    ax.set_ylabel(label("amount_share", lang))
    fig.tight_layout()
    return fig


def coverage_scatter(table: pd.DataFrame, coverage_standard: float = 0.6, slope: float | None = None,
                     intercept: float | None = None, lang: str = "zh") -> Figure:
    """Guidance coverage against attainment per rep, with the standard and the fitted line."""
    check_lang(lang, "charts.trends")
    d = table.dropna(subset=["coverage", "attainment"])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(d["coverage"], d["attainment"], s=12, alpha=0.6, color="#1f77b4")
    ax.axvline(coverage_standard, color="#d62728", linestyle="--", linewidth=1)
    if slope is not None and intercept is not None and np.isfinite(slope):
        xs = np.linspace(0, 1, 20)
        ax.plot(xs, intercept + slope * xs, color="#ff7f0e")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label("guidance_coverage", lang))
    ax.set_ylabel(label("attainment", lang))
    fig.tight_layout()
    return fig


def forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, lang: str = "zh", last_months: int = 24,
                   kind: str = "money") -> Figure:
    """The last ``last_months`` of history and the forecast with 80 % and 95 % bands (the axis
    in 万元, or in the quantities' unit: ``kind`` ``qty``, ``qty_case``, …)."""
    check_lang(lang, "charts.trends")
    h = history.tail(last_months)
    fig, ax = plt.subplots()
    ax.plot(_months(h["period"]), h["value"], marker="o", markersize=3, color="#1f77b4", label=label("actual", lang))
    fx = _months(forecast["period"])
    ax.fill_between(fx, forecast["lo95"], forecast["hi95"], color="#ff7f0e", alpha=0.15, label="95%")
    ax.fill_between(fx, forecast["lo80"], forecast["hi80"], color="#ff7f0e", alpha=0.3, label="80%")
    ax.plot(fx, forecast["mean"], marker="o", markersize=3, color="#ff7f0e", label=label("forecast", lang))
    _measure_axis(ax.yaxis, kind, lang)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def size_class_lines(big: pd.DataFrame, value: str = "amount", lang: str = "zh", kind: str | None = None) -> Figure:
    """Monthly amount by customer size class (大户/中户/小户), one line each."""
    check_lang(lang, "charts.trends")
    fig, ax = plt.subplots()
    order = {"large": 0, "medium": 1, "small": 2}
    for i, (sc, g) in enumerate(sorted(big.groupby("size_class"), key=lambda kv: order.get(kv[0], 9))):
        ax.plot(_months(g["month"]), g[value], marker="o", markersize=3, label=name_label("column", sc, lang),
                color=PALETTE[i % len(PALETTE)])
    # amounts in 万元, quantities in their own unit (条, 箱, …), never 万元
    value_axis(ax.yaxis, f"column.{value}", kind or ("money" if value == "amount" else "qty"), lang)
    ax.legend(title=label("size_class", lang), fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig

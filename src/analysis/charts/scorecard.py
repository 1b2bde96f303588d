"""Charts of the monthly rep scorecard. Each takes small frames and returns a Figure; labels come
from the catalogues (``analysis.i18n``), so ``lang="en"`` gives English charts."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..i18n import check_lang, label


def rank_intervals(table: pd.DataFrame, lang: str = "zh", top: int = 10, bottom: int = 10) -> Figure:
    """Each rep's rank (dot) and 95 % rank interval (line), for the ``top`` first and the
    ``bottom`` last ranked reps; reps below target several months running in red.

    Parameters
    ----------
    table : DataFrame
        ``rep_id``, ``name`` (may be empty), ``rank``, ``rank_lo``, ``rank_hi`` and optionally
        ``penalty`` or ``flag`` (bool: drawn in red), one row per ranked rep.

    Examples
    --------
    >>> t = pd.DataFrame({"rep_id": ["a", "b"], "name": [None, None], "rank": [1, 2],
    ...                   "rank_lo": [1, 1], "rank_hi": [2, 2]})
    >>> fig = rank_intervals(t, "en")
    """
    check_lang(lang)
    d = table.dropna(subset=["rank"]).sort_values("rank")
    if len(d) > top + bottom:
        d = pd.concat([d.head(top), d.tail(bottom)])
    d = d.iloc[::-1].reset_index(drop=True)
    names = [n if isinstance(n, str) and n else r for n, r in zip(d.get("name", d["rep_id"]), d["rep_id"])]
    flag = d["flag"] if "flag" in d.columns else pd.Series(False, index=d.index)
    colors = ["#d62728" if bool(f) else "#1f77b4" for f in flag]
    fig, ax = plt.subplots(figsize=(5, max(2.5, 0.28 * len(d) + 1)))
    y = range(len(d))
    ax.hlines(list(y), d["rank_lo"].astype(float), d["rank_hi"].astype(float), colors=colors, linewidth=2, alpha=0.6)
    ax.scatter(d["rank"].astype(float), list(y), color=colors, zorder=3, s=18)
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{int(r)}. {n}" for r, n in zip(d["rank"], names)])
    ax.invert_xaxis()
    ax.set_xlabel(label("rep_scorecard.chart.rank", lang))
    fig.tight_layout()
    return fig

"""Charts of the target plan (任务分解). Labels from the catalogues (analysis.i18n)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..i18n import check_lang, label
from . import axis_label


def plan_bars(table: pd.DataFrame, measure: str = "amount", lang: str = "zh", kind: str = "qty") -> Figure:
    """Each key's plan beside the same month last year (paired horizontal bars).

    Examples
    --------
    >>> fig = plan_bars(pd.DataFrame({"key": ["A"], "plan": [120.0], "last_year": [100.0]}))
    """
    check_lang(lang)
    d = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(5, max(2.5, 0.45 * len(d) + 1)))
    scale = 10000.0 if measure == "amount" else 1.0
    ax.barh(y + 0.2, d["plan"] / scale, height=0.4, color="#1f77b4", label=label("target_plan.column.plan", lang))
    ax.barh(y - 0.2, d["last_year"].fillna(0) / scale, height=0.4, color="#bbbbbb",
            label=label("column.last_year", lang))
    ax.set_yticks(y, d["key"].astype(str))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    # the axis says its unit: 万元 for amounts, the products' unit for quantities (kind: qty 条, qty_case 箱, …)
    unit = label("target_plan.chart.wan_yuan", lang) if measure == "amount" else axis_label("target_plan.chart.qty", kind, lang)
    ax.set_xlabel(unit)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig

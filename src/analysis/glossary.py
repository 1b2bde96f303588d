"""Chinese/English labels: the one place where the department's terms live.

Code uses English names (``attainment``); reports show ``label("attainment", lang)``.

Examples
--------
>>> label("attainment", "zh")
'完成率'
>>> label("attainment", "en")
'Attainment'
"""
from __future__ import annotations

from .errors import ParameterError

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    # metrics (glossary of DESIGN.md)
    "attainment": ("完成率", "Attainment"),
    "time_elapsed": ("时间进度", "Time elapsed"),
    "yoy": ("同比", "Year on year"),
    "mom": ("环比", "Month on month"),
    "price_class": ("价类", "Price class"),
    "mix": ("结构", "Mix"),
    "value_per_case": ("单箱批发额", "Value per case"),
    "value_per_carton": ("单条批发额", "Value per carton"),
    "ordering_customers": ("订购户数", "Ordering customers"),
    "active_customers": ("活跃户数", "Active customers"),
    "distribution_rate": ("铺货率", "Distribution rate"),
    "weighted_distribution_rate": ("加权铺货率", "Weighted distribution rate"),
    "repeat_rate": ("复购率", "Repeat rate"),
    "sell_through_rate": ("动销率", "Sell-through rate"),
    "guidance_coverage": ("经营指导面", "Guidance coverage"),
    "effective_guidance": ("有效指导率", "Effective guidance"),
    "rep": ("客户经理", "Account manager"),
    "attrition": ("流失", "Attrition"),
    "retention": ("留存", "Retention"),
    # incentives vs retention: the index's headline figures (the report itself reads the catalogues)
    "attrition_rate": ("流失率", "Attrition rate"),
    "first_year_attrition": ("首年流失率", "First-year attrition"),
    # generic words other tables may still show through analysis.display
    "total": ("合计", "Total"),
    "year": ("年份", "Year"),
    "months": ("月数", "Months"),
    # (the monthly sales trends report's labels live in the message catalogues: column.*, sales_trends.*)
    # common columns
    "region": ("区域", "Region"),
    "brand": ("品牌", "Brand"),
    "sku": ("规格", "SKU"),
    "customer": ("客户", "Customer"),
    "amount": ("金额", "Amount"),
    "qty": ("销量", "Volume"),
    "target": ("目标", "Target"),
    "actual": ("实际", "Actual"),
    "gap": ("差额", "Gap"),
    "period": ("期间", "Period"),
    "month": ("月份", "Month"),
    "share": ("占比", "Share"),
    "change_pp": ("变化(百分点)", "Change (pp)"),
    "estimate": ("估计值", "Estimate"),
    "ci_low": ("下限", "CI low"),
    "ci_high": ("上限", "CI high"),
    "p_value": ("p 值", "p-value"),
    "headcount": ("在岗人数", "Headcount"),
    "hires": ("入职", "Hires"),
    "exits": ("离职", "Exits"),
    "area_type": ("城乡", "Area type"),
    "urban": ("城镇", "Urban"),
    "rural": ("农村", "Rural"),
    "size_class": ("客户档位", "Size class"),
    "large": ("大户", "Large"),
    "medium": ("中户", "Medium"),
    "small": ("小户", "Small"),
    "rating": ("评分", "Rating"),
    "comment": ("评价", "Comment"),
    "forecast": ("预测", "Forecast"),
    # report titles and notes
    "sales_trends": ("月度销售趋势", "Monthly sales trends"),
    "launch_review": ("新品牌上市一个月分析", "New brand one-month review"),
    "incentive_retention": ("激励与队伍稳定", "Incentives vs retention"),
    "section_skipped": ("本节略过", "Section skipped"),
    "not_defined": ("—", "—"),
    "generated_at": ("生成时间", "Generated at"),
    "data_window": ("数据范围", "Data window"),
    "contents": ("目录", "Contents"),
}


# Labels used by one report only, looked up with ``label(key, lang, report=...)`` before LABELS.
REPORT_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # (the new brand one-month review's labels live in the message catalogues: launch_review.*)
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"The 'lang' parameter must be one of 'zh', 'en'. Got {lang!r} instead.")
    return lang


def label(key: str, lang: str = "zh", report: str | None = None) -> str:
    """The label of ``key`` in ``lang``: the report's own labels first (``REPORT_LABELS[report]``),
    then the shared ones; unknown keys are returned unchanged."""
    check_lang(lang)
    pair = REPORT_LABELS.get(report, {}).get(key) if report else None
    pair = pair or LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def labels(keys, lang: str = "zh") -> dict[str, str]:
    """A {key: label} mapping, handy for ``DataFrame.rename(columns=…)``."""
    return {k: label(k, lang) for k in keys}

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
    # incentives vs retention (analysis.retention)
    "team_bonus_share": ("团队奖金占比", "Team bonus share"),
    "payout_delay_days": ("兑现延迟(天)", "Payout delay (days)"),
    "promoted_last_12m": ("近12个月晋升", "Promoted in last 12 months"),
    "training_hours": ("培训时长(小时)", "Training hours"),
    "bonus_per_month": ("月奖金", "Bonus per month"),
    "award": ("获奖", "Award"),
    "role": ("岗位", "Role"),
    "people": ("人数", "People"),
    "person_months": ("人月数", "Person-months"),
    "tenure": ("司龄", "Tenure"),
    "hire_cohort": ("入职年份", "Hiring cohort"),
    "exit_reason": ("离职原因", "Exit reason"),
    "voluntary": ("主动离职", "Voluntary"),
    "involuntary": ("被动离职", "Involuntary"),
    "attrition_rate": ("流失率", "Attrition rate"),
    "annualised_attrition": ("年化流失率", "Annualised attrition"),
    "first_year_attrition": ("首年流失率", "First-year attrition"),
    "exits_first_year": ("首年离职", "First-year exits"),
    "avg_headcount": ("平均在岗人数", "Average headcount"),
    "median_tenure": ("中位司龄(月)", "Median tenure (months)"),
    "hazard_ratio": ("风险比", "Hazard ratio"),
    "odds_ratio": ("比值比", "Odds ratio"),
    "exit_rate": ("月离职率", "Monthly exit rate"),
    "retention_curves": ("留存曲线", "Retention curves"),
    "correlations": ("相关分析", "Correlations"),
    "adjusted_effects": ("调整后的关联", "Adjusted associations"),
    "split_question": ("个人/团队奖金比例与兑现及时性", "Individual/team split and payout timing"),
    "written_summary": ("文字小结", "Written summary"),
    "headcount_attrition": ("在岗与流失", "Headcount and attrition"),
    "at_risk": ("在册人数", "At risk"),
    "tier": ("分组", "Group"),
    "band": ("区间", "Band"),
    "feature": ("因素", "Factor"),
    "term": ("变量", "Variable"),
    "total": ("合计", "Total"),
    "year": ("年份", "Year"),
    "months": ("月数", "Months"),
    "share_of_exits": ("占离职比例", "Share of exits"),
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


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"The 'lang' parameter must be one of 'zh', 'en'. Got {lang!r} instead.")
    return lang


def label(key: str, lang: str = "zh") -> str:
    """The label of ``key`` in ``lang``; unknown keys are returned unchanged."""
    check_lang(lang)
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def labels(keys, lang: str = "zh") -> dict[str, str]:
    """A {key: label} mapping, handy for ``DataFrame.rename(columns=…)``."""
    return {k: label(k, lang) for k in keys}

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
    # monthly sales trends (analysis.trends)
    "headline": ("总体情况", "Headline"),
    "attainment_by_level": ("目标完成情况", "Attainment by level"),
    "underperformers": ("连续未完成目标人员", "Staff below target"),
    "trend_section": ("趋势分析", "Trend"),
    "spring_festival": ("春节因素", "Spring Festival"),
    "mix_section": ("价类结构", "Price-class mix"),
    "contribution": ("同比增减贡献", "Contribution to the change"),
    "customers_section": ("客户结构", "Customers"),
    "process_section": ("过程指标", "Process indicators"),
    "forecast_section": ("销售预测", "Forecast"),
    "current": ("本期", "Current"),
    "last_year": ("同期", "Same period last year"),
    "previous": ("上期", "Previous period"),
    "yoy_change": ("同比增减", "Change vs last year"),
    "mom_change": ("环比增减", "Change vs previous"),
    "ytd": ("年累计", "Year to date"),
    "ytd_last_year": ("上年同期累计", "YTD last year"),
    "ytd_yoy": ("累计同比", "YTD vs last year"),
    "ytd_target": ("年累计目标", "YTD target"),
    "ytd_attainment": ("累计完成率", "YTD attainment"),
    "ytd_time_elapsed": ("年度时间进度", "Year elapsed"),
    "measure": ("指标", "Measure"),
    "key": ("对象", "Item"),
    "action": ("需制定措施", "Action point"),
    "change": ("增减额", "Change"),
    "share_of_change": ("贡献占比", "Share of change"),
    "observed": ("实际值", "Observed"),
    "trend": ("趋势", "Trend"),
    "seasonal": ("季节", "Seasonal"),
    "remainder": ("残差", "Remainder"),
    "expected": ("预期", "Expected"),
    "expected_low": ("预期下限", "Expected low"),
    "expected_high": ("预期上限", "Expected high"),
    "season": ("春节年份", "Festival year"),
    "festival": ("春节日期", "Festival date"),
    "offset": ("距春节天数", "Days to festival"),
    "jan": ("1月", "January"),
    "feb": ("2月", "February"),
    "jan_feb": ("1-2月合计", "Jan+Feb"),
    "jan_yoy": ("1月同比", "Jan yoy"),
    "feb_yoy": ("2月同比", "Feb yoy"),
    "jan_feb_yoy": ("1-2月合计同比", "Jan+Feb yoy"),
    "aligned_window": ("春节前后同口径", "Aligned on the festival"),
    "peak_month": ("高峰月", "Peak month"),
    "peak_value": ("高峰月金额", "Peak-month amount"),
    "qty_share": ("销量占比", "Volume share"),
    "qty_share_ly": ("同期销量占比", "Volume share last year"),
    "qty_shift_pp": ("销量占比变化(百分点)", "Volume share change (pp)"),
    "amount_share": ("金额占比", "Amount share"),
    "amount_share_ly": ("同期金额占比", "Amount share last year"),
    "amount_shift_pp": ("金额占比变化(百分点)", "Amount share change (pp)"),
    "unit_value": ("单位批发额", "Value per unit"),
    "unit_value_ly": ("同期单位批发额", "Value per unit last year"),
    "unit_value_yoy": ("单位批发额同比", "Value per unit yoy"),
    "case_value": ("单箱批发额", "Value per case"),
    "case_value_ly": ("同期单箱批发额", "Value per case last year"),
    "abc_class": ("ABC分类", "ABC class"),
    "customers": ("客户数", "Customers"),
    "customer_share": ("客户占比", "Share of customers"),
    "top_share": ("前20%客户金额占比", "Share of the top 20 % of customers"),
    "served": ("服务户数", "Customers served"),
    "guided": ("指导户数", "Customers guided"),
    "effective": ("有效指导户数", "Effectively guided"),
    "effective_rate": ("有效指导率", "Effective guidance"),
    "coverage": ("经营指导面", "Guidance coverage"),
    "meets_coverage": ("指导面达标", "Coverage meets standard"),
    "meets_effective": ("有效指导达标", "Effective meets standard"),
    "reps_meeting_coverage": ("指导面达标人员占比", "Reps meeting coverage standard"),
    "reps_meeting_effective": ("有效指导达标人员占比", "Reps meeting effective standard"),
    "rep_id": ("客户经理编号", "Rep id"),
    "name": ("姓名", "Name"),
    "model": ("模型", "Model"),
    "mape": ("平均绝对百分比误差", "MAPE"),
    "origins": ("回测起点数", "Backtest origins"),
    "mean": ("预测值", "Forecast"),
    "lo80": ("80%下限", "80% low"),
    "hi80": ("80%上限", "80% high"),
    "lo95": ("95%下限", "95% low"),
    "hi95": ("95%上限", "95% high"),
    "ets": ("指数平滑(ETS)", "Exponential smoothing (ETS)"),
    "sarima": ("季节ARIMA(SARIMA)", "Seasonal ARIMA (SARIMA)"),
    "seasonal_naive": ("季节朴素法(基准)", "Seasonal naive (baseline)"),
    "slope": ("斜率", "Slope"),
    "pearson_r": ("相关系数 r", "Pearson r"),
    "pearson_r_bootstrap": ("相关系数 r(自助法区间)", "Pearson r (bootstrap CI)"),
    "unknown": ("(未知)", "(unknown)"),
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

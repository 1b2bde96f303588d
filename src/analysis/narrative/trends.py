"""Written summary and section rendering of the monthly sales trends report.

The first part returns strings (Chinese by default, English with ``lang="en"``) built
from the result objects of :mod:`analysis.trends`. The second part, the ``show_*``
functions, is what a notebook cell calls after computing a section: it displays the
section's heading, written summary, tables and chart through :mod:`analysis.display`, or
records and shows a visible note through ``ctx.skip`` when the section could not run. The
branching lives here, so the notebook cells stay one call each.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..display import fmt
from ..glossary import check_lang, label

GRAIN_ZH = {"daily": "日", "weekly": "周", "monthly": "月", "yearly": "年"}
COVERAGE_COLUMN = {"coverage_80": ("80%区间回测覆盖率", "80% interval: backtest coverage"),
                   "coverage_95": ("95%区间回测覆盖率", "95% interval: backtest coverage")}
LEVEL_LABEL = {"region": "region", "rep": "rep", "brand": "brand", "price_class": "price_class", "customer": "customer"}


def _ok(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x))


def money(v: float, lang: str = "zh") -> str:
    """Money: 万元 with one decimal (zh), yuan with separators (en).

    Examples
    --------
    >>> money(35649026.0), money(35649026.0, "en")
    ('3,564.9万元', '35,649,026 yuan')
    """
    if not _ok(v):
        return "—"
    return f"{fmt(v, 'wan')}万元" if lang == "zh" else f"{fmt(v, 'money')} yuan"


def pct(v: float) -> str:
    return fmt(v, "pct")


def p_text(p: float) -> str:
    """A p-value: three decimals, "< 0.001" below that.

    Examples
    --------
    >>> p_text(0.0000343), p_text(0.0412)
    ('< 0.001', '0.041')
    """
    return "< 0.001" if _ok(p) and p < 0.001 else fmt(p, "f3")


def signed_pct(v: float) -> str:
    """A change as a signed percentage with one decimal ("+11.5%")."""
    return "—" if not _ok(v) else f"{v * 100:+.1f}%"


def skip_text(skip: Any, lang: str = "zh") -> str:
    """The reason a section was skipped, in ``lang``.

    Examples
    --------
    >>> from analysis.trends import Skip
    >>> skip_text(Skip("missing_table", {"table": "visits"}))
    '数据中没有「visits」表'
    """
    check_lang(lang)
    if skip is None:
        return ""
    d = getattr(skip, "detail", {}) or {}
    code = getattr(skip, "code", str(skip))
    if lang == "en":
        return getattr(skip, "text", str(skip))
    return {
        "missing_table": f"数据中没有「{d.get('table')}」表",
        "missing_column": f"「{d.get('table')}」表没有「{d.get('column')}」列",
        "grain": f"数据为按{GRAIN_ZH.get(d.get('grain'), d.get('grain'))}汇总，本节需要按月或更细的数据",
        "too_short": f"需要 {d.get('needed')} 个月的历史数据，现有 {d.get('got')}",
        "no_targets": f"没有「{label(LEVEL_LABEL.get(d.get('level'), str(d.get('level'))), 'zh')}」层级的目标",
        "no_data": "本期没有数据",
        "disabled": f"参数 {d.get('param')} 关闭了本节",
    }.get(code, code)


def period_text(period: str, lang: str = "zh") -> str:
    """ "2026-10" → "2026年10月" / "October 2026"; "2026" → "2026年" / "2026"."""
    if len(period) == 4:
        return f"{period}年" if lang == "zh" else period
    ts = pd.Period(period, "M")
    return f"{ts.year}年{ts.month}月" if lang == "zh" else ts.strftime("%B %Y")


# ============================================================================ strings
def headline_kpis(head: Any, lang: str = "zh") -> dict[str, str]:
    """Headline cards: {label: value}."""
    check_lang(lang)
    t = head.table.set_index("measure")
    m = "amount" if "amount" in t.index else "qty"
    out = {label("amount" if m == "amount" else "qty", lang): money(t.loc[m, "current"], lang) if m == "amount"
           else fmt(t.loc[m, "current"], "int")}
    if "qty" in t.index and m == "amount":
        out[label("qty", lang)] = fmt(t.loc["qty", "current"], "int")
    out[label("attainment", lang)] = pct(t.loc[m, "attainment"])
    out[label("time_elapsed", lang)] = pct(head.time_elapsed)
    out[label("yoy", lang)] = signed_pct(t.loc[m, "yoy"])
    if head.kind == "month":
        out[label("mom", lang)] = signed_pct(t.loc[m, "mom"])
        out[label("ytd", lang)] = money(t.loc[m, "ytd"], lang) if m == "amount" else fmt(t.loc[m, "ytd"], "int")
    return out


def headline_summary(head: Any, lang: str = "zh") -> str:
    """The written summary of the headline: amount, yoy/mom with absolute changes,
    attainment against time elapsed, year to date.

    Examples
    --------
    >>> headline_summary(h, "en")  # doctest: +SKIP
    'October 2026: amount 35,649,026 yuan, +11.5% on last year (+3,669,433 yuan), ...'
    """
    check_lang(lang)
    t = head.table.set_index("measure")
    m = "amount" if "amount" in t.index else "qty"
    r = t.loc[m]
    cur = money(r["current"], lang) if m == "amount" else fmt(r["current"], "int")
    absch = (lambda v: (("增加" if v >= 0 else "减少") + money(abs(v), lang)) if lang == "zh"
             else f"{'+' if v >= 0 else '−'}{money(abs(v), lang)}") if m == "amount" else \
        (lambda v: fmt(v, "signed"))
    per = period_text(head.period, lang)
    parts = []
    if lang == "zh":
        parts.append(f"{per}{label(m, lang)}{cur}")
        if _ok(r["yoy"]):
            parts.append(f"同比{'增长' if r['yoy'] >= 0 else '下降'}{abs(r['yoy']) * 100:.1f}%（{absch(r['yoy_change'])}）")
        if head.kind == "month" and _ok(r["mom"]):
            parts.append(f"环比{'增长' if r['mom'] >= 0 else '下降'}{abs(r['mom']) * 100:.1f}%（{absch(r['mom_change'])}）")
        text = "，".join(parts) + "。"
        if _ok(r["attainment"]):
            diff = (r["attainment"] - head.time_elapsed) * 100
            text += (f"完成率{pct(r['attainment'])}，时间进度{pct(head.time_elapsed)}，"
                     f"{'超前' if diff >= 0 else '落后'}进度{abs(diff):.1f}个百分点。")
        else:
            text += f"本期没有可用的目标，完成率不适用（—）；时间进度{pct(head.time_elapsed)}。"
        if head.kind == "month" and _ok(r["ytd"]):
            text += f"年累计{money(r['ytd'], lang) if m == 'amount' else fmt(r['ytd'], 'int')}"
            if _ok(r["ytd_yoy"]):
                text += f"，累计同比{signed_pct(r['ytd_yoy'])}"
            if _ok(r["ytd_attainment"]):
                text += f"，累计完成率{pct(r['ytd_attainment'])}（年度时间进度{pct(head.ytd_time_elapsed)}）"
            text += "。"
        return text
    parts.append(f"{per}: {label(m, lang).lower()} {cur}")
    if _ok(r["yoy"]):
        parts.append(f"{signed_pct(r['yoy'])} on last year ({absch(r['yoy_change'])})")
    if head.kind == "month" and _ok(r["mom"]):
        parts.append(f"{signed_pct(r['mom'])} on the previous month ({absch(r['mom_change'])})")
    text = ", ".join(parts) + "."
    if _ok(r["attainment"]):
        diff = (r["attainment"] - head.time_elapsed) * 100
        text += (f" Attainment {pct(r['attainment'])} against {pct(head.time_elapsed)} of time elapsed: "
                 f"{abs(diff):.1f} pp {'ahead of' if diff >= 0 else 'behind'} schedule.")
    else:
        text += f" No target for the period, so attainment is not defined (—); time elapsed {pct(head.time_elapsed)}."
    if head.kind == "month" and _ok(r["ytd"]):
        text += f" Year to date {money(r['ytd'], lang) if m == 'amount' else fmt(r['ytd'], 'int')}"
        if _ok(r["ytd_yoy"]):
            text += f", {signed_pct(r['ytd_yoy'])} on last year"
        if _ok(r["ytd_attainment"]):
            text += f", attainment {pct(r['ytd_attainment'])} with {pct(head.ytd_time_elapsed)} of the year elapsed"
        text += "."
    return text


def attainment_summary(res: Any, lang: str = "zh") -> str:
    """Which items are furthest off plan (the action points)."""
    check_lang(lang)
    t = res.table
    lv = label(LEVEL_LABEL[res.level], lang)
    act = t[t["action"]]
    if res.has_targets:
        n_def = int(t["attainment"].notna().sum())
        n_undef = int(len(t) - n_def)
        if lang == "zh":
            s = f"按{lv}共 {len(t)} 项，其中 {n_def} 项有目标"
            s += f"，{n_undef} 项目标缺失或不大于零（完成率显示为“—”）。" if n_undef else "。"
            if len(act):
                s += "距计划最远、需制定措施的是：" + "、".join(
                    f"{k}（完成率{pct(a)}，差额{money(g, lang)}）" for k, a, g in zip(act["key"], act["attainment"], act["gap"])) + "。"
            return s
        s = f"{len(t)} items by {lv.lower()}, {n_def} with a target"
        s += f"; {n_undef} have a missing or non-positive target (attainment shown as “—”)." if n_undef else "."
        if len(act):
            s += " Furthest off plan, each needing an action point: " + "; ".join(
                f"{k} (attainment {pct(a)}, gap {money(g, lang)})" for k, a, g in zip(act["key"], act["attainment"], act["gap"])) + "."
        return s
    filtered = "filtered_targets" in getattr(res, "notes", [])
    if lang == "zh":
        s = (f"「{lv}」层级的目标是全公司口径，与筛选后的实际不可比，完成率显示为“—”。" if filtered
             else f"没有「{lv}」层级的目标，完成率显示为“—”。")
        if len(act):
            s += "同比下降最多、需制定措施的是：" + "、".join(f"{k}（{money(c, lang)}）" for k, c in
                                                zip(act["key"], act["actual"] - act["last_year"])) + "。"
        return s
    s = (f"Targets at the {lv.lower()} level are company-wide and not comparable with filtered sales, so attainment shows “—”."
         if filtered else f"No targets at the {lv.lower()} level, so attainment shows “—”.")
    if len(act):
        s += " Largest declines on last year, each needing an action point: " + "; ".join(
            f"{k} ({money(c, lang)})" for k, c in zip(act["key"], act["actual"] - act["last_year"])) + "."
    return s


def underperformers_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    n = len(res.ids)
    if lang == "zh":
        if not n:
            return f"没有客户经理连续 {res.streak} 个月（{res.months[0]} 至 {res.months[-1]}）完成率低于{pct(res.threshold)}。"
        return (f"{n} 名客户经理连续 {res.streak} 个月（{res.months[0]} 至 {res.months[-1]}）完成率低于"
                f"{pct(res.threshold)}：{'、'.join(res.ids)}。")
    if not n:
        return f"No account manager was below {pct(res.threshold)} of target in each of the {res.streak} months {res.months[0]} to {res.months[-1]}."
    return (f"{n} account managers were below {pct(res.threshold)} of target in each of the {res.streak} months "
            f"{res.months[0]} to {res.months[-1]}: {', '.join(res.ids)}.")


def trend_summary(res: Any, lang: str = "zh") -> str:
    """The trend test (named, with its correction), the seasonal Sen slope with its interval,
    and the months outside the expected range.

    Examples
    --------
    >>> trend_summary(trend(scope), "en")  # doctest: +SKIP
    'Over the last 36 months (from 2023-11) the series shows no significant monotonic trend (seasonal Mann–Kendall ...'
    """
    check_lang(lang)
    t = res.test
    n_an = int(len(res.anomalies))
    months = [str(m) for m in res.anomalies["month"]] if n_an else []
    festival = bool(months) and all(m[-2:] in ("01", "02") for m in months)
    two_year = n_an > 0 and getattr(res, "anomaly_cycles", 0) == 2
    unit = (lambda v: money(v, lang)) if res.measure == "amount" else (lambda v: fmt(v, "int"))
    if lang == "zh":
        s = ""
        if t is not None:
            word = {"increasing": "显著上升", "decreasing": "显著下降", "no trend": "没有显著的单调趋势"}[t.trend]
            p = p_text(t.p_value)
            adj = "已扣除春节前三周所在月份的影响，" if getattr(res, "festival_adjusted", False) else ""
            s = (f"近 {t.n} 个月（{res.test_start} 起）的月度序列{word}（季节性 Mann–Kendall 检验，逐月与往年同月比较，"
                 f"{adj}方差按一阶自相关修正，φ = {t.ar1:.2f}；z = {t.z:.2f}，p {'' if p.startswith('<') else '= '}{p}）；"
                 f"季节性 Sen 斜率为每月 {unit(t.slope)}（95% 置信区间 {unit(t.slope_low)} 至 {unit(t.slope_high)}）。")
        elif res.test_skip is not None:
            s = "历史不足 24 个月，未做趋势检验（季节性检验需要至少两年的数据）。"
        if "no_stl" in res.notes:
            s += "历史不足 24 个月，未做季节分解。"
        else:
            s += (f"按 STL 分解后，有 {n_an} 个月超出预期范围：{'、'.join(months)}" + ("（都在 1-2 月，多半是春节日期移动所致，见“春节因素”一节）。" if festival else "。")) \
                if n_an else "按 STL 分解后，没有月份超出预期范围。"
            if two_year:
                s += "只有两年数据的月份无法从数据判断两年中哪一年异常，取偏离常态较远的一年。"
        return s
    s = ""
    if t is not None:
        word = {"increasing": "a significant upward trend", "decreasing": "a significant downward trend",
                "no trend": "no significant monotonic trend"}[t.trend]
        p = p_text(t.p_value)
        adj = "adjusted for the Spring Festival weeks in each month, " if getattr(res, "festival_adjusted", False) else ""
        s = (f"Over the last {t.n} months (from {res.test_start}) the series shows {word} (seasonal Mann–Kendall test, "
             f"each month against the same month of other years, {adj}variance corrected for lag-1 autocorrelation, "
             f"φ = {t.ar1:.2f}; z = {t.z:.2f}, p {'' if p.startswith('<') else '= '}{p}); "
             f"the seasonal Sen slope is {unit(t.slope)} per month (95% CI {unit(t.slope_low)} to {unit(t.slope_high)}).")
    elif res.test_skip is not None:
        s = "Less than 24 months of history: no trend test (a seasonal test needs at least two years)."
    if "no_stl" in res.notes:
        s += " Less than 24 months of history: no seasonal decomposition."
    else:
        s += (f" After STL decomposition {n_an} month(s) fall outside the expected range: {', '.join(months)}"
              + (" (all in January–February, most likely the moving Spring Festival: see that section)." if festival else ".")) \
            if n_an else " After STL decomposition no month falls outside the expected range."
        if two_year:
            s += (" Where a month has only two years of data, the data cannot tell which year is unusual; "
                  "the year further from the usual level is flagged.")
    return s.strip()


def spring_festival_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    jf = res.jan_feb
    s = ""
    if lang == "zh":
        s = "春节在 1 月和 2 月之间移动，单月同比会失真，应看 1-2 月合计和按距春节天数对齐的比较。"
        if len(jf) and _ok(jf["jan_feb_yoy"].iloc[-1]):
            r = jf.iloc[-1]
            s += (f"{int(r['year'])} 年 1-2 月合计同比{signed_pct(r['jan_feb_yoy'])}"
                  f"（1 月{signed_pct(r['jan_yoy'])}，2 月{signed_pct(r['feb_yoy'])}）。")
        if len(res.aligned_totals) and _ok(res.aligned_totals["yoy"].iloc[-1]):
            r = res.aligned_totals.iloc[-1]
            s += f"按春节对齐（节前 {res.before} 天至节后 {res.after} 天），{int(r['season'])} 年同比{signed_pct(r['yoy'])}。"
        if len(res.peaks):
            s += "各春节季的高峰月：" + "、".join(res.peaks["peak_month"]) + "。"
        return s
    s = ("Spring Festival moves between January and February, so single-month comparisons there are distorted: "
         "read January+February together and the comparison aligned on days to the festival.")
    if len(jf) and _ok(jf["jan_feb_yoy"].iloc[-1]):
        r = jf.iloc[-1]
        s += (f" January+February {int(r['year'])}: {signed_pct(r['jan_feb_yoy'])} on last year "
              f"(January {signed_pct(r['jan_yoy'])}, February {signed_pct(r['feb_yoy'])}).")
    if len(res.aligned_totals) and _ok(res.aligned_totals["yoy"].iloc[-1]):
        r = res.aligned_totals.iloc[-1]
        s += f" Aligned on the festival ({res.before} days before to {res.after} after), {int(r['season'])}: {signed_pct(r['yoy'])}."
    if len(res.peaks):
        s += " Peak month of each festival season: " + ", ".join(res.peaks["peak_month"]) + "."
    return s


def mix_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    if not res.shift_pp:
        return "没有上年同期数据，无法比较结构变化。" if lang == "zh" else "No same period last year to compare the mix with."
    up = max(res.shift_pp, key=lambda k: res.shift_pp[k])
    dn = min(res.shift_pp, key=lambda k: res.shift_pp[k])
    basis = label(f"{res.share_measure}_share", lang)
    if lang == "zh":
        return (f"与上年同期相比（按{basis}），{up}占比上升{res.shift_pp[up]:.1f}个百分点，"
                f"{dn}占比{'下降' if res.shift_pp[dn] < 0 else '上升'}{abs(res.shift_pp[dn]):.1f}个百分点。")
    return (f"Against the same period last year ({basis.lower()}), {up} gained {res.shift_pp[up]:+.1f} pp "
            f"and {dn} moved {res.shift_pp[dn]:+.1f} pp.")


def contribution_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    t = res.table
    top_up = t[t["change"] > 0].tail(3).iloc[::-1]
    top_dn = t[t["change"] < 0].head(3)
    lv = label(LEVEL_LABEL[res.level], lang)
    if lang == "zh":
        s = f"与上年同期相比总额{'增加' if res.total_change >= 0 else '减少'}{money(abs(res.total_change), 'zh')}，按{lv}分解，各项之和等于总变化。"
        if len(top_up):
            s += "拉动最多：" + "、".join(f"{k}（{money(c, 'zh')}）" for k, c in zip(top_up["key"], top_up["change"])) + "。"
        if len(top_dn):
            s += "拖累最多：" + "、".join(f"{k}（{money(c, 'zh')}）" for k, c in zip(top_dn["key"], top_dn["change"])) + "。"
        return s
    s = (f"The total changed by {'+' if res.total_change >= 0 else '−'}{money(abs(res.total_change), 'en')} on last year; "
         f"split by {lv.lower()}, the parts add up to the total change.")
    if len(top_up):
        s += " Largest contributions: " + "; ".join(f"{k} (+{money(c, 'en')})" for k, c in zip(top_up["key"], top_up["change"])) + "."
    if len(top_dn):
        s += " Largest drags: " + "; ".join(f"{k} (−{money(-c, 'en')})" for k, c in zip(top_dn["key"], top_dn["change"])) + "."
    return s


def customers_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    a = res.abc.set_index("abc_class") if len(res.abc) else None
    if lang == "zh":
        s = f"本期有销售的客户 {fmt(res.n_customers, 'int')} 户，金额前 {res.top_fraction * 100:.0f}% 的客户贡献了{pct(res.top_share)}的金额。"
        if a is not None:
            s += f"A 类客户 {fmt(a.loc['A', 'customers'], 'int')} 户（{pct(a.loc['A', 'customer_share'])}）贡献{pct(a.loc['A', 'amount_share'])}。"
        if len(res.big_summary):
            b = res.big_summary.set_index("size_class")
            if "large" in b.index:
                s += f"大户金额{money(b.loc['large', 'current'], 'zh')}，同比{signed_pct(b.loc['large', 'yoy'])}，占{pct(b.loc['large', 'share'])}。"
        return s
    s = (f"{fmt(res.n_customers, 'int')} customers bought in the period; the top {res.top_fraction * 100:.0f}% of them gave "
         f"{pct(res.top_share)} of the amount.")
    if a is not None:
        s += f" Class A: {fmt(a.loc['A', 'customers'], 'int')} customers ({pct(a.loc['A', 'customer_share'])}) with {pct(a.loc['A', 'amount_share'])} of the amount."
    if len(res.big_summary):
        b = res.big_summary.set_index("size_class")
        if "large" in b.index:
            s += (f" Large customers: {money(b.loc['large', 'current'], 'en')}, {signed_pct(b.loc['large', 'yoy'])} on last year, "
                  f"{pct(b.loc['large', 'share'])} of the amount.")
    return s


def process_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    sm = res.summary
    a = res.association
    if lang == "zh":
        s = (f"{sm['reps']} 名客户经理的总体经营指导面为{pct(sm['coverage'])}（标准 ≥ {pct(res.coverage_standard)}），"
             f"{pct(sm['reps_meeting_coverage'])}的人达标；有效指导率{pct(sm['effective_rate'])}（标准 ≥ {pct(res.effective_standard)}），"
             f"{pct(sm['reps_meeting_effective'])}的人达标。")
        if a is not None:
            s += (f"指导面每提高 10 个百分点，完成率平均变化 {a.slope * 10:+.1f} 个百分点"
                  f"（95% 置信区间 {a.slope_low * 10:+.1f} 至 {a.slope_high * 10:+.1f}）；"
                  f"相关系数 r = {a.r:.2f}（95% 置信区间 {a.r_low:.2f} 至 {a.r_high:.2f}，自助法 {a.r_boot_low:.2f} 至 {a.r_boot_high:.2f}，n = {a.n}）。")
            s += "区间包含 0，数据不足以说明指导面与完成率相关。" if a.slope_low <= 0 <= a.slope_high else \
                ("区间不含 0：指导面较高的人完成率也较高（相关不等于因果）。" if a.slope > 0 else "区间不含 0：指导面较高的人完成率反而较低（相关不等于因果）。")
        return s
    s = (f"Across {sm['reps']} account managers, guidance coverage is {pct(sm['coverage'])} (standard ≥ {pct(res.coverage_standard)}), "
         f"met by {pct(sm['reps_meeting_coverage'])} of them; effective guidance {pct(sm['effective_rate'])} "
         f"(standard ≥ {pct(res.effective_standard)}), met by {pct(sm['reps_meeting_effective'])}.")
    if a is not None:
        s += (f" Each 10 pp more coverage goes with {a.slope * 10:+.1f} pp of attainment (95% CI {a.slope_low * 10:+.1f} to "
              f"{a.slope_high * 10:+.1f}); Pearson r = {a.r:.2f} (95% CI {a.r_low:.2f} to {a.r_high:.2f}, bootstrap "
              f"{a.r_boot_low:.2f} to {a.r_boot_high:.2f}, n = {a.n}).")
        s += " The interval includes 0: the data do not show that coverage goes with attainment." if a.slope_low <= 0 <= a.slope_high \
            else (" The interval excludes 0: reps with higher coverage have higher attainment (association, not cause)."
                  if a.slope > 0 else " The interval excludes 0: reps with higher coverage have lower attainment (association, not cause).")
    return s


def forecast_summary(res: Any, lang: str = "zh") -> str:
    check_lang(lang)
    f = res.forecast
    model = label(res.model, lang)
    better = res.beats_baseline
    cov, own = getattr(res, "coverage", {}) or {}, getattr(res, "coverage_model", {}) or {}
    scaled = getattr(res, "interval_method", "model") == "backtest_scaled"
    bt = res.backtest
    passed_over = ""  # a model with a lower MAPE whose intervals did not cover within 10 points
    if len(bt) and {"model", "mape"} <= set(bt.columns):
        c = bt[bt["model"] != "seasonal_naive"].sort_values(["mape", "model"])
        if len(c) and str(c["model"].iloc[0]) != res.model:
            passed_over = label(str(c["model"].iloc[0]), lang)
    if lang == "zh":
        s = (f"按滚动起点回测选用{model}：回测平均绝对百分比误差 {pct(res.backtest_mape)}，"
             f"季节朴素法基准为 {pct(res.baseline_mape)}，{'优于' if better else '未优于'}基准。")
        if passed_over:
            s += f"{passed_over}的误差略低，但其区间在回测中的覆盖率与名义水平相差 10 个百分点以上，故未选用。"
        s += "；".join(f"{p} 预测{money(m, 'zh')}（80% 区间 {money(lo, 'zh')} 至 {money(hi, 'zh')}）"
                      for p, m, lo, hi in zip(f["period"].astype(str), f["mean"], f["lo80"], f["hi80"])) + "。"
        if getattr(res, "regressors", False):
            s += "模型考虑了各月包含的春节前三周天数（春节在 1 月和 2 月之间移动）。"
        if scaled:
            s += (f"预测区间按回测误差校准（模型自带区间的标准误乘以 {res.interval_scale:.2f}）："
                  f"回测中 80% 区间覆盖了 {pct(cov.get('80'))} 的实际值，95% 区间覆盖了 {pct(cov.get('95'))}"
                  f"（模型自带区间分别为 {pct(own.get('80'))} 和 {pct(own.get('95'))}）。")
        elif cov:
            s += (f"回测不足以校准区间，显示的是模型自带区间：回测中 80% 区间覆盖 {pct(cov.get('80'))}，"
                  f"95% 区间覆盖 {pct(cov.get('95'))}。")
        if not getattr(res, "coverage_ok", True):
            s += "注意：两种模型的区间在回测中的覆盖率都与名义水平相差 10 个百分点以上，区间仅供参考。"
        return s
    s = (f"Chosen by a rolling-origin backtest: {model}, backtest MAPE {pct(res.backtest_mape)} against "
         f"{pct(res.baseline_mape)} for the seasonal-naive baseline ({'better' if better else 'not better'} than the baseline). ")
    if passed_over:
        s += (f"{passed_over} had a lower error, but its intervals' backtest coverage was more than 10 points off "
              f"nominal, so it was not chosen. ")
    s += "; ".join(f"{p}: {money(m, 'en')} (80% interval {money(lo, 'en')} to {money(hi, 'en')})"
                   for p, m, lo, hi in zip(f["period"].astype(str), f["mean"], f["lo80"], f["hi80"])) + "."
    if getattr(res, "regressors", False):
        s += (" The models adjust for the days of the three weeks before Spring Festival that fall in each month "
              "(the festival moves between January and February).")
    if scaled:
        s += (f" The intervals are calibrated on the backtest's errors (the model's standard errors × {res.interval_scale:.2f}): "
              f"in the backtest the 80% intervals covered {pct(cov.get('80'))} of actual values and the 95% intervals "
              f"{pct(cov.get('95'))} (the model's own intervals: {pct(own.get('80'))} and {pct(own.get('95'))}).")
    elif cov:
        s += (f" The backtest is too short to calibrate the intervals; these are the model's own, which covered "
              f"{pct(cov.get('80'))} (80%) and {pct(cov.get('95'))} (95%) of actual values in the backtest.")
    if not getattr(res, "coverage_ok", True):
        s += (" Caution: for neither model did the intervals' backtest coverage come within 10 points of nominal; "
              "read them as indicative only.")
    return s


def data_note(scope: Any, lang: str = "zh") -> str:
    """One line on the data used: window, grain, filters, report period."""
    check_lang(lang)
    fl = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in (scope.params.filters or {}).items() if v)
    if lang == "zh":
        s = (f"{label('data_window', 'zh')}：{scope.first} 至 {scope.last}（按{GRAIN_ZH[scope.grain]}）；"
             f"报告期：{period_text(scope.period.label, 'zh')}")
        if not scope.period.complete:
            s += f"（截至 {scope.last}，不完整）"
        return s + (f"；筛选：{fl}。" if fl else "。")
    s = (f"{label('data_window', 'en')}: {scope.first} to {scope.last} ({scope.grain}); "
         f"report period: {period_text(scope.period.label, 'en')}")
    if not scope.period.complete:
        s += f" (to {scope.last}, incomplete)"
    return s + (f"; filters: {fl}." if fl else ".")


# ========================================================================= rendering
def _yes(v: Any, lang: str) -> str:
    return ("是" if lang == "zh" else "yes") if bool(v) else ""


def _section(ctx: Any, key: str, res: Any) -> bool:
    """Heading of the section; when skipped, the visible note. True when it has content."""
    from .. import display

    display.heading(label(key, ctx.lang), 2)
    skip = getattr(res, "skip", None)
    if skip is not None:
        ctx.skip(label(key, ctx.lang), skip_text(skip, ctx.lang))
        return False
    return True


def show_scope(ctx: Any, scope: Any) -> None:
    """Title line: the data window, grain, filters and report period."""
    from .. import display

    display.note(data_note(scope, ctx.lang))


def show_headline(ctx: Any, head: Any) -> None:
    """Section 1: KPI cards, the written summary, the measures table."""
    from .. import display

    if not _section(ctx, "headline", head):
        return
    lang = ctx.lang
    display.kpis(headline_kpis(head, lang))
    display.paragraph(headline_summary(head, lang))
    t = head.table.copy()
    t["measure"] = [label(m, lang) for m in t["measure"]]
    cols = ["measure", "current", "last_year", "yoy", "previous", "mom", "ytd", "ytd_yoy", "target", "attainment"]
    if head.kind != "month":
        cols = ["measure", "current", "last_year", "yoy"]
    display.table(t[cols], {c: ("pct" if c in ("yoy", "mom", "ytd_yoy", "attainment") else "money") for c in cols[1:]},
                  lang=lang)


def show_attainment(ctx: Any, res: Any, time_elapsed: float = 1.0) -> None:
    """Section 2: table sorted by gap (action points flagged) and the attainment chart."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "attainment_by_level", res):
        return
    lang = ctx.lang
    display.paragraph(attainment_summary(res, lang))
    t = res.table.copy()
    t["action"] = [_yes(v, lang) for v in t["action"]]
    t = t.rename(columns={"key": LEVEL_LABEL[res.level]})
    display.table(t, {"target": "money", "actual": "money", "attainment": "pct", "gap": "signed", "last_year": "money",
                      "yoy": "pct", "action": "text"}, lang=lang, max_rows=40)
    if res.has_targets and res.table["attainment"].notna().any():
        display.figure(ch.attainment_bars(res.table, time_elapsed, lang))


def show_underperformers(ctx: Any, res: Any) -> None:
    """Section 3: the list with the streak months and their series."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "underperformers", res):
        return
    lang = ctx.lang
    display.paragraph(underperformers_summary(res, lang))
    if len(res.table):
        display.table(res.table, {m: "pct" for m in res.months}, lang=lang)
        display.figure(ch.underperformer_lines(res.series, res.threshold, lang))


def show_trend(ctx: Any, res: Any) -> None:
    """Section 4: summary of the tests, chart, anomalies."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "trend_section", res):
        return
    lang = ctx.lang
    display.paragraph(trend_summary(res, lang))
    display.figure(ch.trend_chart(res.series, lang))
    if len(res.anomalies):
        a = res.anomalies.copy()
        a["month"] = a["month"].astype(str)
        display.table(a, {c: "money" for c in ("observed", "expected", "expected_low", "expected_high")}, lang=lang)


def show_spring_festival(ctx: Any, res: Any) -> None:
    """Section 5: Jan+Feb table, aligned totals, aligned chart, peak months."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "spring_festival", res):
        return
    lang = ctx.lang
    display.paragraph(spring_festival_summary(res, lang))
    if len(res.jan_feb):
        jf = res.jan_feb.copy()
        jf["festival"] = jf["festival"].astype(str)
        display.table(jf, {"year": "text", "jan": "money", "feb": "money", "jan_feb": "money", "jan_yoy": "pct",
                           "feb_yoy": "pct", "jan_feb_yoy": "pct"}, lang=lang)
    if len(res.aligned_totals):
        at = res.aligned_totals.copy()
        at["festival"] = pd.to_datetime(at["festival"]).dt.date.astype(str)
        at["season"] = at["season"].astype(str)
        display.table(at, {c: "money" for c in at.columns if c not in ("season", "festival", "yoy")} | {"yoy": "pct"},
                      lang=lang, caption=label("aligned_window", lang))
        display.figure(ch.spring_festival_chart(res.aligned, lang))
    if "no_daily" in res.notes:
        display.note("数据不是按日或按周，无法按距春节天数对齐。" if lang == "zh"
                     else "The data are not daily or weekly: no alignment on days to the festival.")


def show_mix(ctx: Any, res: Any) -> None:
    """Section 6: shares and shifts in pp, value per unit, chart."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "mix_section", res):
        return
    lang = ctx.lang
    display.paragraph(mix_summary(res, lang))
    m = res.share_measure
    cols = ["price_class"] + [c for c in (f"{m}_cur", f"{m}_share", f"{m}_share_ly", f"{m}_shift_pp") if c in res.table]
    t = res.table[cols].rename(columns={f"{m}_cur": m})
    display.table(t, {m: "money", f"{m}_share": "pct", f"{m}_share_ly": "pct", f"{m}_shift_pp": "pp"}, lang=lang)
    if len(res.unit_value):
        uv = res.unit_value.copy()
        uv["price_class"] = [label("total", lang) if v == "total" else v for v in uv["price_class"]]
        display.table(uv, {c: ("pct" if c.endswith("yoy") else "f2") for c in uv.columns if c != "price_class"}, lang=lang)
    display.figure(ch.mix_chart(res.table, m, lang))


def show_contribution(ctx: Any, res: Any) -> None:
    """Section 7: contribution table (with the total row) and chart."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "contribution", res):
        return
    lang = ctx.lang
    display.paragraph(contribution_summary(res, lang))
    t = res.table.reindex(res.table["change"].abs().sort_values(ascending=False, kind="mergesort").index)
    total = pd.DataFrame({"key": [label("total", lang)], "current": [res.total_current], "previous": [res.total_previous],
                          "change": [res.total_change], "share_of_change": [1.0 if res.total_change else np.nan]})
    t = pd.concat([t.head(25), total], ignore_index=True).rename(columns={"key": LEVEL_LABEL[res.level],
                                                                        "previous": "last_year"})
    display.table(t, {"current": "money", "last_year": "money", "change": "signed", "share_of_change": "pct"}, lang=lang)
    display.figure(ch.contribution_chart(res.table, lang))


def show_customers(ctx: Any, res: Any) -> None:
    """Section 8: Pareto share, ABC table and curve, size classes."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "customers_section", res):
        return
    lang = ctx.lang
    display.paragraph(customers_summary(res, lang))
    if len(res.abc):
        display.table(res.abc, {"customers": "int", "amount": "money", "customer_share": "pct", "amount_share": "pct"},
                      lang=lang)
        display.figure(ch.pareto_chart(res.curve, res.top_fraction, lang))
    if len(res.big_summary):
        b = res.big_summary.copy()
        b["size_class"] = [label(v, lang) for v in b["size_class"]]
        display.table(b, {"current": "money", "last_year": "money", "yoy": "pct", "share": "pct"}, lang=lang)
        if len(res.big):
            display.figure(ch.size_class_lines(res.big, res.big.columns[-1], lang))


def show_process(ctx: Any, res: Any) -> None:
    """Section 9: coverage and effective guidance per rep; association with a CI."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "process_section", res):
        return
    lang = ctx.lang
    display.paragraph(process_summary(res, lang))
    if res.association is not None:
        a = res.association.to_frame()
        a["measure"] = [label(m, lang) for m in a["measure"]]
        display.table(a, {"estimate": "f3", "ci_low": "f3", "ci_high": "f3"}, lang=lang)
        display.figure(ch.coverage_scatter(res.table, res.coverage_standard, res.association.slope,
                                           res.association.intercept, lang))
    elif res.association_skip is not None:
        display.note(f"{label('coverage', lang)} × {label('attainment', lang)}: {skip_text(res.association_skip, lang)}")
    t = res.table.copy()
    for c in ("meets_coverage", "meets_effective"):
        t[c] = [_yes(v, lang) for v in t[c]]
    display.table(t, {"served": "int", "guided": "int", "effective": "int", "coverage": "pct", "effective_rate": "pct",
                      "meets_coverage": "text", "meets_effective": "text", "attainment": "pct"}, lang=lang, max_rows=30)


def show_forecast(ctx: Any, res: Any) -> None:
    """Section 10: the backtest table, the forecast with intervals, chart."""
    from .. import display
    from ..charts import trends as ch

    if not _section(ctx, "forecast_section", res):
        return
    lang = ctx.lang
    display.paragraph(forecast_summary(res, lang))
    bt = res.backtest.copy()
    bt["model"] = [label(m, lang) for m in bt["model"]]
    cov_cols = {c: COVERAGE_COLUMN[c][0 if lang == "zh" else 1] for c in COVERAGE_COLUMN if c in bt}
    bt = bt.rename(columns=cov_cols)
    display.table(bt, {"mape": "pct", "origins": "int", **{v: "pct" for v in cov_cols.values()}}, lang=lang)
    f = res.forecast.copy()
    f["period"] = f["period"].astype(str)
    display.table(f, {c: "money" for c in ("mean", "lo80", "hi80", "lo95", "hi95")}, lang=lang)
    h = res.history.copy()
    display.figure(ch.forecast_chart(h, res.forecast, lang))

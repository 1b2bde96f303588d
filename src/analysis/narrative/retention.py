"""Written summary of the incentive_retention report (zh default, en with lang="en").

Plain language for managers: the headline figures, the strongest adjusted associations
with their 95 % intervals, where a raw association disappears after adjustment, and the
caution that these are associations, not proof of cause.

Examples
--------
>>> text = summary(head, eff, lang="en")  # doctest: +SKIP
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ..display import fmt
from ..glossary import check_lang, label

# (step, zh phrase, en phrase): hazard ratios are restated per a step managers think in
STEPS: dict[str, tuple[float, str, str]] = {
    "team_bonus_share": (0.1, "团队奖金占比每提高 10 个百分点", "each 10 percentage points more team bonus share"),
    "payout_delay_days": (1.0, "奖金兑现每晚 1 天", "each day of payout delay"),
    "bonus_per_month": (1000.0, "月奖金每多 1,000 元", "each 1,000 yuan more bonus per month"),
    "training_hours": (1.0, "培训每多 1 小时", "each extra training hour"),
    "attainment": (0.1, "完成率每高 10 个百分点", "each 10 points more attainment"),
}


def _name(term: str, lang: str) -> str:
    """Glossary label; English glossary labels are lower-cased inside a sentence, a raw
    column name (e.g. from an HR export) is kept as it is."""
    from ..glossary import LABELS

    text = label(term, lang)
    return text.lower() if lang == "en" and term in LABELS else text


def _feature_phrase(term: str, lang: str) -> str:
    if term in STEPS:
        return STEPS[term][1] if lang == "zh" else STEPS[term][2]
    if term in ("promoted_last_12m", "award"):
        return ("近 12 个月获得晋升" if term == "promoted_last_12m" else "获奖") if lang == "zh" else \
            ("a promotion in the last 12 months" if term == "promoted_last_12m" else "an award")
    if "[" in term:
        col, lev = term.split("[", 1)
        lev = lev.rstrip("]")
        return f"{label(col, lang)}为{label(lev, lang)}" if lang == "zh" else f"{_name(col, lang)} {label(lev, lang)}"
    return f"{label(term, lang)}每增加 1" if lang == "zh" else f"each unit more {_name(term, lang)}"


def _scaled(hr: float, term: str) -> float:
    step = STEPS.get(term, (1.0,))[0]
    return hr ** step


def _pct_change(hr: float) -> str:
    v = (hr - 1) * 100
    text = f"{v:+.0f}%"
    return f"{v:+.1f}%" if text in ("+0%", "-0%") else text


def effect_sentence(term: str, est: Mapping[str, float], lang: str = "zh") -> str:
    """One sentence for one adjusted hazard ratio (restated per a natural step).

    Examples
    --------
    >>> effect_sentence("payout_delay_days", {"hr": 1.04, "lo": 1.02, "hi": 1.06, "p": 0.001}, "en")
    'With each day of payout delay, the risk of leaving changes by +4% (95% CI +2% to +6%).'
    """
    hr, lo, hi = (_scaled(est[k], term) for k in ("hr", "lo", "hi"))
    phrase = _feature_phrase(term, lang)
    if lang == "zh":
        return f"{phrase}，离职风险变化 {_pct_change(hr)}（95% 置信区间 {_pct_change(lo)} 至 {_pct_change(hi)}）。"
    return f"With {phrase}, the risk of leaving changes by {_pct_change(hr)} (95% CI {_pct_change(lo)} to {_pct_change(hi)})."


def summary(head: Mapping[str, Any], effects: Any, correlations: Any = None, lang: str = "zh",
            features: list[str] | None = None, max_items: int = 4, controls: list[str] | None = None,
            source: str = "store", family: Any = None) -> str:
    """The written summary: headline, strongest adjusted associations, raw vs adjusted, caution.

    Parameters
    ----------
    head : dict
        From :func:`analysis.retention.headline`.
    effects : analysis.retention.EffectsResult
    correlations : analysis.retention.CorrelationResult, optional
    features : list of str, optional
        The incentive features (controls are mentioned only when clearly associated).
    controls : list of str, optional
        The controls of the adjusted model (named in the text).
    source : {"store", "snapshot"}
        A snapshot's people are "the people in the snapshot", not "the last 12 months".
    family : analysis.retention.FamilyOfTests, optional
        When given, a feature counts as clearly associated only when its Benjamini–Hochberg
        adjusted p-value is below the family's alpha (otherwise: its 95 % CI excludes 1).

    Returns
    -------
    str
        Paragraphs separated by blank lines.
    """
    check_lang(lang)
    paras = []
    rate = fmt(head.get("attrition_rate"), "pct")
    fy = fmt(head.get("first_year_attrition"), "pct")
    who_zh = "快照中的" if source == "snapshot" else "近 12 个月在岗过的"
    who_en = "in the snapshot" if source == "snapshot" else "employed in the last 12 months"
    if lang == "zh":
        paras.append(
            f"{who_zh} {fmt(head.get('people'), 'int')} 人中，{fmt(head.get('exits'), 'int')} 人离职"
            f"（流失率 {rate}）；入职未满一年的人员中离职比例为 {fy}。"
        )
    else:
        paras.append(
            f"Of the {fmt(head.get('people'), 'int')} people {who_en}, "
            f"{fmt(head.get('exits'), 'int')} left (attrition {rate}); among those in their first year, {fy} left."
        )
    hrs = effects.hazard_ratios() if effects is not None else {}
    if not hrs:
        paras.append("未能估计调整后的关联（数据不足）。" if lang == "zh" else
                     "Adjusted associations could not be estimated (too little data).")
    else:
        feats = list(features) if features else [t for t in hrs if "[" not in t]
        items = [(t, e) for t, e in hrs.items() if t in feats or t == "attainment"]

        def is_clear(t: str, e: Mapping[str, float]) -> bool:
            q = family.p_adj("cox", t) if family is not None else None
            if q is not None:
                return q < family.alpha
            return e["lo"] > 1 or e["hi"] < 1

        clear = sorted([(t, e) for t, e in items if is_clear(t, e)], key=lambda x: x[1]["p"])
        unclear = [t for t, e in items if not is_clear(t, e)]
        ctrl = list(controls) if controls is not None else ["attainment", "region", "role"]
        ctrl_text = ("、".join(label(c, lang) for c in ctrl) if lang == "zh" else ", ".join(_name(c, lang) for c in ctrl))
        if clear:
            head_s = (f"在同时考虑其他因素（{ctrl_text}）后，与离职关联最明显的是：" if lang == "zh" else
                      f"After allowing for the other factors ({ctrl_text}), the clearest associations with leaving:")
            paras.append(head_s + ("" if lang == "zh" else " ") +
                         " ".join(effect_sentence(t, e, lang) for t, e in clear[:max_items]))
        if unclear:
            names = "、".join(label(t, lang) for t in unclear) if lang == "zh" else ", ".join(_name(t, lang) for t in unclear)
            if family is not None:
                paras.append(f"{names}与离职没有明确关联（多重比较校正后 p ≥ {family.alpha:g}）。" if lang == "zh" else
                             f"No clear association for {names} (adjusted for multiple comparisons, p ≥ {family.alpha:g}).")
            else:
                paras.append(f"{names}与离职没有明确关联（置信区间包含无差异）。" if lang == "zh" else
                             f"No clear association for {names} (the intervals include no difference).")
        # raw associations that disappear after adjustment (confounding)
        sbs = effects.side_by_side
        if sbs is not None and not sbs.empty and "raw_lo" in sbs.columns:
            gone = [r.term for r in sbs.itertuples() if isinstance(r.raw_lo, float) and not math.isnan(r.raw_lo)
                    and (r.raw_lo > 1 or r.raw_hi < 1) and not (r.adj_lo > 1 or r.adj_hi < 1)]
            if gone:
                names = "、".join(label(t, lang) for t in gone) if lang == "zh" else ", ".join(_name(t, lang) for t in gone)
                paras.append(
                    f"{names}单独看与留任有关，但考虑完成率等因素后关联不再明确：它很可能反映的是业绩好的人奖金高、也更少离职，而不是奖金本身的作用。"
                    if lang == "zh" else
                    f"{names[0].upper() + names[1:]} goes with staying when looked at alone, but not once attainment and the other "
                    "factors are allowed for: it most likely reflects that better performers earn more and leave less, "
                    "rather than an effect of the money itself."
                )
        if effects.ph_violations:
            from ..retention import term_text

            names = "、".join(term_text(t, lang) for t in effects.ph_violations)
            paras.append(f"注意：{names}的关联强度可能随司龄变化（比例风险检验），相应风险比是平均值。" if lang == "zh" else
                         f"Note: the association of {names} may change with tenure (proportional-hazards check); "
                         "its hazard ratio is an average.")
    paras.append(
        "以上均为关联，不是因果证明：未观察到的因素（如主管、市场变化）可能同时影响激励和离职。建议把明显的关联作为改进激励方案的线索，并通过试点检验。"
        if lang == "zh" else
        "These are associations, not proof of cause: factors not in the data (managers, local markets) may drive both "
        "incentives and leaving. Treat the clear associations as leads for changing the incentive scheme, and test "
        "changes with a pilot."
    )
    return "\n\n".join(paras)


def caution(lang: str = "zh") -> str:
    """The standing caution that the estimates are associations."""
    check_lang(lang)
    return ("提示：以上风险比为关联，不代表因果；风险比小于 1 表示离职风险较低，大于 1 表示较高。"
            if lang == "zh" else
            "Caution: these hazard ratios are associations, not causes; below 1 means a lower risk of leaving, above 1 higher.")


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def logrank_sentence(curves: Any, lang: str = "zh", p_adj: float | None = None) -> str:
    """One sentence on the log-rank test of a feature's retention curves: which test, the
    p-value and, when given, its Benjamini–Hochberg-adjusted value (which decides "differ").

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> logrank_sentence(NS(logrank=NS(statistic=12.3, df=2, p_value=0.002)), "en")
    'Log-rank test: chi-square 12.3 (2 df), p = 0.002: the curves differ.'
    >>> logrank_sentence(NS(logrank=NS(statistic=5.1, df=1, p_value=0.024), method="time-dependent"), "en", 0.07)
    'Log-rank test, each month counted in the tier known at its start (Mantel–Byar): chi-square 5.1 (1 df), p = 0.024, adjusted p = 0.070 (Benjamini–Hochberg): no clear difference.'
    """
    check_lang(lang)
    lr = curves.logrank
    if lr is None:
        return ""
    tv = getattr(curves, "method", "") == "time-dependent"
    decide = lr.p_value if p_adj is None else p_adj
    differ = decide < 0.05
    if lang == "zh":
        head = "对数秩检验（按每月月初已知的分组计入，Mantel–Byar 法）" if tv else "对数秩检验"
        adj = "" if p_adj is None else f"，校正后 p {_p_text(p_adj)}（Benjamini–Hochberg）"
        return (f"{head}：卡方 {lr.statistic:.1f}（自由度 {lr.df}），p {_p_text(lr.p_value)}{adj}："
                + ("各组留存曲线有差异。" if differ else "未见明确差异。"))
    head = "Log-rank test, each month counted in the tier known at its start (Mantel–Byar)" if tv else "Log-rank test"
    adj = "" if p_adj is None else f", adjusted p {_p_text(p_adj)} (Benjamini–Hochberg)"
    return (f"{head}: chi-square {lr.statistic:.1f} ({lr.df} df), p {_p_text(lr.p_value)}{adj}: "
            + ("the curves differ." if differ else "no clear difference."))


def curves_method_sentence(curves: Any, lang: str = "zh") -> str:
    """How a feature's curves group people (time-dependent on the panel, one value per
    person on a snapshot)."""
    check_lang(lang)
    method = getattr(curves, "method", "")
    if method == "time-dependent":
        start = float(getattr(curves, "start", 0.0) or 0.0)
        since = ""
        if start > 0:
            since = (f"曲线从司龄 {start:.1f} 个月起（此时每组都有足够人数），表示当时仍在岗者中继续留任的比例。"
                     if lang == "zh" else
                     f" The curves start at {start:.1f} months of tenure, when every tier has enough people, and show "
                     "the share still employed among those employed then.")
        return ("分组随时间变化：每个人的每个月按月初已知的取值计入相应分组（Simon–Makuch 曲线），"
                "例如只有晋升之后的月份才计入“晋升”组，避免“活得久才有机会晋升”造成的偏差。" + since
                if lang == "zh" else
                "Tiers change over time: each person-month counts in the tier of the value known at its start "
                "(Simon–Makuch curves), so a person counts as promoted only from the promotion on; staying longer "
                "gives more chances of a promotion, and counting whole careers would make promotion look protective."
                + since)
    if method == "baseline":
        return ("快照数据：每人一个取值，分组按快照中的值。" if lang == "zh" else
                "Snapshot: one value per person; tiers use the snapshot's values.")
    return ""


def methods_sentence(effects: Any, family: Any = None, lang: str = "zh") -> str:
    """What the adjusted model did: covariate timing, the rows it left out, how it was fitted,
    and the multiple-comparison adjustment."""
    check_lang(lang)
    zh = lang == "zh"
    parts = []
    timing = getattr(effects, "covariate_timing", "")
    if timing == "previous_month":
        parts.append("每个月的协变量都取该月月初已知的值：上月的完成率、奖金、培训与晋升，以及月初之前最近一笔到期奖金的延迟天数；"
                     "离职当月的业绩不进入模型（离职日之后没有销售而当月任务不变，会使完成率机械性下降）。"
                     if zh else
                     "Each month's covariates are the values known when the month began: last month's attainment, pay, "
                     "training and promotions, and the days late of the last bonus due before the month; the exit "
                     "month's own figures are not used (sales stop on the exit day while the month's target does not, "
                     "so attainment would fall mechanically).")
        n1 = int(getattr(effects, "rows_without_previous_month", 0) or 0)
        n2 = int(getattr(effects, "rows_missing_covariate", 0) or 0)
        if n1:
            parts.append(f"{fmt(n1, 'int')} 个人月（各人在数据中的第一个月，没有上月数据）未进入模型。" if zh else
                         f"{fmt(n1, 'int')} person-months (each person's first month in the data, with no previous "
                         "month) are not in the model.")
        if n2:
            parts.append(f"另有 {fmt(n2, 'int')} 个人月因缺少协变量未进入模型。" if zh else
                         f"{fmt(n2, 'int')} more person-months with a missing covariate are not in the model.")
    elif timing == "baseline":
        parts.append("快照数据：每人一行，协变量为快照中的值。" if zh else
                     "Snapshot: one row per person; the covariates are the snapshot's values.")
    adj = getattr(effects, "adjusted", None)
    if adj is not None and adj.converged:
        how = ("Cox 比例风险模型（Efron 法处理同时离职）" if zh else "Cox proportional-hazards model (Efron ties)")
        if adj.method == "damped-newton":
            how += ("；标准牛顿法未收敛，改用步长减半的牛顿法重新拟合" if zh else
                    "; the standard Newton fit diverged and was redone by step-halving Newton")
        parts.append(how + ("。" if zh else "."))
    if adj is not None and adj.aliased:
        names = "、".join(term_label(t, lang) for t in adj.aliased) if zh else ", ".join(term_label(t, lang) for t in adj.aliased)
        parts.append(f"{names}与其他变量完全共线，已从模型中去掉。" if zh else
                     f"{names}: a linear combination of the other covariates, left out of the model.")
    if adj is not None and getattr(adj, "diverging", None):
        names = "、".join(term_label(t, lang) for t in adj.diverging) if zh else ", ".join(term_label(t, lang) for t in adj.diverging)
        parts.append(f"{names}的估计趋于无穷（该组无人离职或全部离职），模型已去掉这些项后重新拟合；合并这类小组可保留它们。" if zh else
                     f"{names}: the estimate runs off to infinity (nobody, or everybody, in that group left); the model "
                     "was refitted without it. Merge such groups to keep them in.")
    if family is not None and not family.table.empty:
        n = len(family.table)
        parts.append(f"p 值已按 Benjamini–Hochberg 法在本报告关于激励因素的 {n} 项检验（Cox 模型与对数秩检验）中做多重比较校正。"
                     if zh else
                     f"p-values are adjusted for multiple comparisons (Benjamini–Hochberg) over the report's {n} tests "
                     "of the incentive features (Cox model and log-rank tests).")
    return " ".join(parts) if not zh else "".join(parts)


def term_label(term: str, lang: str) -> str:
    """Display text of a model term ("region[城东]" → "区域: 城东")."""
    from ..retention import term_text

    return term_text(term, lang)


def convergence_warning(effects: Any, lang: str = "zh") -> str:
    """The visible warning when the adjusted Cox model did not converge ("" otherwise)."""
    check_lang(lang)
    adj = getattr(effects, "adjusted", None)
    if adj is None or adj.converged:
        return ""
    return ("警告：调整后的 Cox 模型未能收敛（标准牛顿法与步长减半的牛顿法均失败），因此不报告风险比。"
            "可尝试减少协变量，或合并没有人离职的分组。"
            if lang == "zh" else
            "Warning: the adjusted Cox model did not converge (standard and step-halving Newton both failed), so no "
            "hazard ratio is reported. Try fewer covariates, or merge groups in which nobody left.")


def ph_sentence(effects: Any, lang: str = "zh") -> str:
    """The visible result of the proportional-hazards check."""
    check_lang(lang)
    bad = list(effects.ph_violations)
    if not bad:
        return ("比例风险检验：未发现明显违反。" if lang == "zh" else
                "Proportional-hazards check: no clear violation.")
    from ..retention import term_text

    names = "、".join(term_text(t, lang) for t in bad)
    return (f"警告：比例风险假设对 {names} 可能不成立，其风险比是随司龄变化的效应的平均值，请谨慎解读。"
            if lang == "zh" else
            f"Warning: the proportional-hazards assumption may not hold for {names}; its hazard ratio averages an "
            "effect that changes with tenure. Read it with care.")


# --- section rendering: one call per notebook cell (the notebook holds no branches) ---------------


def show_curves(ctx: Any, curves: Any, family: Any = None) -> None:
    """Show one feature's Kaplan–Meier curves, medians, how tiers are formed and the log-rank
    sentence (with the family's adjusted p when given), or the skip note."""
    from .. import display
    from .. import retention
    from ..charts import retention as charts

    if curves.skipped_reason:
        ctx.skip(label("retention_curves", ctx.lang), curves.skipped_reason)
        return
    display.figure(charts.km_curves(curves, ctx.lang, title=label(curves.feature, ctx.lang)))
    display.table(curves.medians, retention.TABLE_FORMATS, ctx.lang)
    method = curves_method_sentence(curves, ctx.lang)
    if method:
        display.note(method)
    p_adj = family.p_adj("logrank", curves.feature) if family is not None else None
    display.note(logrank_sentence(curves, ctx.lang, p_adj))


def horizon_note(data: Any, lang: str = "zh") -> str:
    """Which features the person-level "left within the horizon" sections leave out (event
    features such as a promotion: staying longer gives more chances of one), "" if none."""
    check_lang(lang)
    if getattr(data, "panel", None) is None:
        return ""
    h = data.horizon
    out = [f for f in data.features if f not in h.columns]
    if not out:
        return ""
    names = "、".join(label(f, lang) for f in out) if lang == "zh" else ", ".join(_name(f, lang) for f in out)
    return (f"相关分析与逻辑回归按人统计“期内是否离职”，不含{names}：在岗越久越有机会晋升或获奖，按人统计会虚增其作用；"
            "这些因素请看上面按月计入的留存曲线与 Cox 模型。期内均值不含离职当月。"
            if lang == "zh" else
            f"The correlations and the logistic check count each person once (left within the horizon) and leave out "
            f"{names}: staying longer gives more chances of a promotion or an award, so counting them per person "
            "would flatter them; see the month-by-month curves and the Cox model for these. Averages over the "
            "horizon exclude the exit month.")


def show_correlations(ctx: Any, corr: Any, data: Any = None) -> None:
    """Show the correlation table and heatmap (and which features they leave out), or the skip note."""
    from .. import display
    from .. import retention
    from ..charts import retention as charts

    if corr.skipped_reason:
        ctx.skip(label("correlations", ctx.lang), corr.skipped_reason)
        return
    note = horizon_note(data, ctx.lang) if data is not None else ""
    if note:
        display.note(note)
    display.table(retention.correlation_table(corr, ctx.lang), retention.correlation_formats(ctx.lang), ctx.lang)
    display.figure(charts.correlation_heatmap(corr.matrix, ctx.lang))


def show_effects(ctx: Any, effects: Any, data: Any, family: Any = None) -> None:
    """Show how the model was set up, raw vs adjusted estimates (with BH-adjusted p-values
    when ``family`` is given), the forest plot, the PH check and the logistic check; a
    visible warning instead of the estimates when the model did not converge."""
    from .. import display
    from .. import retention
    from ..charts import retention as charts

    if effects.skipped_reason:
        ctx.skip(label("adjusted_effects", ctx.lang), effects.skipped_reason)
        return
    display.note(methods_sentence(effects, family, ctx.lang))
    warn = convergence_warning(effects, ctx.lang)
    if warn:
        display.note(warn)
        return
    display.table(retention.effects_table(effects, ctx.lang, family), retention.effects_formats(ctx.lang), ctx.lang)
    display.figure(charts.hazard_ratio_forest(effects.side_by_side, retention.forest_terms(data), ctx.lang))
    display.note(ph_sentence(effects, ctx.lang))
    display.table(retention.ph_table(effects, ctx.lang), {"p_value": "f3"}, ctx.lang)
    display.table(retention.logistic_table(effects, ctx.lang), {"odds_ratio": "f3", "p_value": "f3"}, ctx.lang)
    display.note(caution(ctx.lang))


def show_dose_response(ctx: Any, result: Any, feature: str) -> None:
    """Show a dose–response table and chart (team share tiers, payout delay bands), or the skip note."""
    from .. import display
    from .. import retention
    from ..charts import retention as charts

    if result.skipped_reason:
        ctx.skip(label(feature, ctx.lang), result.skipped_reason)
        return
    display.table(result.table, retention.DOSE_FORMATS, ctx.lang)
    display.figure(charts.dose_response(result, ctx.lang))

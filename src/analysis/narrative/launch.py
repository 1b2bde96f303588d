"""Written analysis and section rendering of the new brand one-month review.

The first part returns strings (Chinese by default, English with ``lang="en"``) built from
a :class:`analysis.launch.LaunchReview`: the headline paragraph in the department's own
order — what went well (做得好的), what did not (存在的问题), what to do next (下步建议).
The second part, the ``show_*`` functions, is what a notebook cell calls: it displays a
section (heading, figures, tables, text) through :mod:`analysis.display`, or records and
shows a visible note through ``ctx.skip`` when the section cannot run. Every data string
(comments, names) reaches the page through ``analysis.display``, which escapes it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..display import fmt
from ..glossary import check_lang, label

# thresholds of the written judgement (documented in the report's method note)
SELL_THROUGH_GOOD, SELL_THROUGH_LOW = 0.6, 0.4
RATING_GOOD, RATING_LOW = 4.0, 3.5
SEGMENT_GAP_PP = 10.0  # a segment this many points below the best one is called out


THEME_EN = {"口感": "taste", "香气": "aroma", "劲头": "strength", "包装": "packaging", "价格": "price", "烟灰": "ash"}


def t(key: str, lang: str = "zh") -> str:
    """Label of ``key`` in ``lang`` (this report's glossary labels, else the shared ones).

    Examples
    --------
    >>> t("s1"), t("s1", "en")
    ('一、总体情况', '1. Headline')
    """
    return label(key, lang, report="launch_review")


def _ok(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x))


def pct(v: Any) -> str:
    return fmt(v, "pct")


def money(v: Any, lang: str = "zh") -> str:
    """万元 with one decimal (zh), yuan with separators (en).

    Examples
    --------
    >>> money(2778360.0), money(2778360.0, "en")
    ('277.8万元', '2,778,360 yuan')
    """
    if not _ok(v):
        return "—"
    return f"{fmt(v, 'wan')}万元" if lang == "zh" else f"{fmt(v, 'money')} yuan"


def _ci(lo: Any, hi: Any, code: str = "pct") -> str:
    return f"{fmt(lo, code)}–{fmt(hi, code)}"


def _group_label(v: Any, lang: str) -> str:
    s = str(v)
    if s == "other":
        return t("other", lang)
    return label(s, lang) if s in ("urban", "rural", "large", "medium", "small") else s


# --------------------------------------------------------------------------- facts for the text


def benchmark_medians(rv: Any) -> dict[str, float | None]:
    """Median of the benchmark launches at this launch's last covered day (cum_qty, distribution, repeat, rating)."""
    b = rv.benchmarks
    out: dict[str, float | None] = {"cum_qty": None, "distribution": None, "repeat": None, "rating": None}
    if b.skipped_reason or b.curves.empty:
        return out
    last = b.curves[(b.curves["day"] == b.day) & (b.curves["launch"] != rv.spec.label)]
    for m in ("cum_qty", "distribution", "repeat"):
        v = last[m].dropna()
        out[m] = float(v.median()) if len(v) else None
    if not b.ratings.empty:
        r = b.ratings[b.ratings["launch"] != rv.spec.label]["rating_mean"].dropna()
        out["rating"] = float(r.median()) if len(r) else None
    return out


def segment_gap(rv: Any) -> tuple[str, str, float, str, float] | None:
    """(dimension, weakest group, its rate, best group, its rate) of the largest distribution gap, if ≥ 10 points."""
    best = None
    for dim in ("area_type", "size_class", "region"):
        tab = rv.segments.get(dim)
        if tab is None or tab.empty:
            continue
        shown = tab.dropna(subset=["distribution_rate"])
        shown = shown[shown["group"] != "other"]
        if len(shown) < 2:
            continue
        lo = shown.loc[shown["distribution_rate"].idxmin()]
        hi = shown.loc[shown["distribution_rate"].idxmax()]
        gap = (hi["distribution_rate"] - lo["distribution_rate"]) * 100
        if gap >= SEGMENT_GAP_PP and (best is None or gap > best[0]):
            best = (gap, dim, lo["group"], float(lo["distribution_rate"]), hi["group"], float(hi["distribution_rate"]))
    return None if best is None else best[1:]


def hit_incumbents(rv: Any) -> pd.DataFrame:
    """Incumbent SKUs whose DiD interval lies below 0 (they lost volume after the launch)."""
    c = rv.cannibalization
    if c.skipped_reason or c.by_sku.empty:
        return pd.DataFrame(columns=["sku", "estimate", "ci_low", "ci_high", "share", "share_lo", "share_hi"])
    return c.by_sku[c.by_sku["ci_high"] < 0].sort_values("share", ascending=False).reset_index(drop=True)


def pretrend_differs(rv: Any) -> bool:
    """True when the pre-launch placebo DiD of the class says treated and control trends differ."""
    c = rv.cannibalization
    pt = getattr(c, "pretrend", None)
    return bool(c.skipped_reason is None and pt is not None and pt.differs)


def pretrend_text(rv: Any, lang: str = "zh") -> tuple[str, str | None]:
    """The pre-trend (placebo) check beside the DiD: (paragraph, warning or None).

    Examples
    --------
    >>> text, warning = pretrend_text(rv, "en")  # doctest: +SKIP
    """
    check_lang(lang)
    c = rv.cannibalization
    pt = c.pretrend
    zh = lang == "zh"
    if pt is None:
        return ("上市前数据不足（至少需要上市前4个整周），未做上市前走势检验（安慰剂检验），双重差分所依赖的“平行趋势”假设未经检验。"
                if zh else "Too little history before the launch (at least 4 full weeks are needed) for the pre-trend "
                "(placebo) check: the parallel-trends assumption of the difference-in-differences is untested."), None
    weeks = pt.n_pre + pt.n_post
    if zh:
        txt = (f"上市前走势检验（安慰剂检验）：只用上市前{weeks}周，假设新品提前{pt.n_post}周上市，做同样的双重差分："
               f"处理组相对变化{fmt(pt.estimate * 100, 'pp')}%（95%区间{fmt(pt.lo * 100, 'pp')}%至{fmt(pt.hi * 100, 'pp')}%，"
               f"p={fmt(pt.p, 'f3')}）。")
        txt += ("两组在上市前的走势已有显著差异。" if pt.differs else "上市前两组走势未见显著差异，平行趋势假设未被否定。")
        warn = ("注意：上市前同价类在销品牌与对照组的走势已经不同（安慰剂检验p<0.05），上面的挤占估计可能反映的是原有的趋势差异，"
                "而不是新品上市的影响，请谨慎使用。") if pt.differs else None
    else:
        txt = (f"Pre-trend (placebo) check: the same difference-in-differences on the {weeks} weeks before the launch "
               f"only, with a pretend launch {pt.n_post} weeks early: the incumbents changed by "
               f"{fmt(pt.estimate * 100, 'pp')}% (95% CI {fmt(pt.lo * 100, 'pp')}% to {fmt(pt.hi * 100, 'pp')}%, "
               f"p = {fmt(pt.p, 'f3')}). ")
        txt += ("The two groups were already moving apart before the launch." if pt.differs else
                "No clear difference in the pre-launch trends: the parallel-trends assumption is not rejected.")
        warn = ("Warning: before the launch the incumbents were already drifting from the control (placebo p < 0.05); "
                "the cannibalisation estimate above may be that earlier trend rather than the launch's effect. "
                "Use it with care.") if pt.differs else None
    return txt, warn


def top_complaint(rv: Any) -> str | None:
    """The theme most mentioned in ratings of 1–2 (None when fewer than 3 such comments)."""
    from ..stats import text

    low = rv.opinions.low_comments
    if len(low) < 3:
        return None
    sh = text.theme_shares(low)
    sh = sh[sh["comments"] > 0]
    return None if sh.empty else str(sh["theme"].iloc[0])


def _vs(v: float | None, ref: float | None) -> int:
    if not _ok(v) or not _ok(ref):
        return 0
    return 1 if v > ref else (-1 if v < ref else 0)


def summary(rv: Any, lang: str = "zh") -> str:
    """The written paragraph: overview, what went well, what did not, what to do next.

    Examples
    --------
    >>> print(summary(rv))  # doctest: +SKIP
    云岭(细支)（S043，云岭，二类）于2026-08-11上市……
    """
    check_lang(lang)
    s, h = rv.spec, rv.headline
    zh = lang == "zh"
    if s.days_covered == 0:
        return (f"{s.label} 的上市日 {s.launch_date} 晚于数据截止日 {s.data_end}，暂无可分析的销售。" if zh else
                f"{s.label} launches on {s.launch_date}, after the last order date {s.data_end}: nothing to review yet.")
    name = s.sku_name or s.label
    cls = s.price_class or "—"
    if zh:
        head = (f"{name}（{s.label}，{s.brand}，{cls}）于{s.launch_date}上市。上市{s.days_covered}天内"
                f"（{s.launch_date}至{s.end}）销量{fmt(h['volume'], 'int')}条、金额{money(h['amount'])}，"
                f"订购户数{fmt(h['ordering_customers'], 'int')}户，占活跃客户{fmt(h['active_customers'], 'int')}户的"
                f"{pct(h['distribution_rate'])}（铺货率，按金额加权{pct(h['weighted_distribution_rate'])}），"
                f"复购率{pct(h['repeat_rate'])}，动销率{pct(h['sell_through_rate'])}。")
        if s.partial:
            head += f"上市不足{s.window_days}天，本分析仅覆盖{s.days_covered}天，为阶段性结论。"
        if _ok(h.get("attainment_qty")):
            head += f"销量计划{fmt(h['target_qty'], 'int')}条，完成{pct(h['attainment_qty'])}。"
        elif _ok(h.get("attainment_amount")):
            head += f"金额计划{money(h['target_amount'])}，完成{pct(h['attainment_amount'])}。"
    else:
        head = (f"{name} ({s.label}, brand {s.brand}, class {cls}) launched on {s.launch_date}. In its first "
                f"{s.days_covered} days ({s.launch_date} to {s.end}) it sold {fmt(h['volume'], 'int')} cartons for "
                f"{money(h['amount'], 'en')}; {fmt(h['ordering_customers'], 'int')} of "
                f"{fmt(h['active_customers'], 'int')} active customers ordered it (distribution "
                f"{pct(h['distribution_rate'])}, amount-weighted {pct(h['weighted_distribution_rate'])}), repeat rate "
                f"{pct(h['repeat_rate'])}, sell-through {pct(h['sell_through_rate'])}.")
        if s.partial:
            head += f" The launch is younger than {s.window_days} days: this review covers {s.days_covered} days only."
        if _ok(h.get("attainment_qty")):
            head += f" Volume plan {fmt(h['target_qty'], 'int')} cartons, attained {pct(h['attainment_qty'])}."
        elif _ok(h.get("attainment_amount")):
            head += f" Amount plan {money(h['target_amount'], 'en')}, attained {pct(h['attainment_amount'])}."

    good: list[str] = []
    bad: list[str] = []
    todo: list[str] = []
    med = benchmark_medians(rv)
    nb = rv.benchmarks.count
    for key, zh_name, en_name, act_zh, act_en in (
        ("distribution", "铺货率", "distribution", "扩大铺货面，重点跟进尚未订购的活跃客户",
         "widen distribution, starting with active customers who have not ordered yet"),
        ("repeat", "复购率", "repeat rate", "回访首单客户，了解动销情况，推动二次订购",
         "call back first-order customers, check their sell-through and secure a second order"),
    ):
        mine = h["distribution_rate"] if key == "distribution" else h["repeat_rate"]
        v = _vs(mine, med[key])
        if v > 0:
            good.append(f"{zh_name}{pct(mine)}，高于以往{nb}个新品的中位数{pct(med[key])}" if zh else
                        f"{en_name} {pct(mine)}, above the median of {nb} earlier launches ({pct(med[key])})")
        elif v < 0:
            bad.append(f"{zh_name}{pct(mine)}，低于以往{nb}个新品的中位数{pct(med[key])}" if zh else
                       f"{en_name} {pct(mine)}, below the median of {nb} earlier launches ({pct(med[key])})")
            todo.append(act_zh if zh else act_en)
    st = h["sell_through_rate"]
    if _ok(st) and st >= SELL_THROUGH_GOOD:
        good.append(f"动销率{pct(st)}，上周仍在订购的客户比例较高" if zh else
                    f"sell-through {pct(st)}: most earlier buyers ordered again in the last week")
    elif _ok(st) and st < SELL_THROUGH_LOW:
        bad.append(f"动销率仅{pct(st)}，前三周订购的客户中多数最近一周未再订购" if zh else
                   f"sell-through only {pct(st)}: most customers of the previous three weeks did not order in the last one")
        todo.append("加强终端动销指导，防止压货，按实际动销补货" if zh else
                    "coach retailers on selling it through and restock on real sales, not pushed stock")
    op = rv.opinions
    if op.skipped_reason is None:
        m, (lo, hi) = op.summary["rating_mean"], op.summary["rating_ci"]
        if _ok(m) and m >= RATING_GOOD and _vs(m, med["rating"]) >= 0:
            good.append(f"消费者评价较好，平均{fmt(m, 'f2')}分（95%区间{_ci(lo, hi, 'f2')}），好评占{pct(op.summary['share_top'])}"
                        if zh else f"consumers like it: mean rating {fmt(m, 'f2')} (95% CI {_ci(lo, hi, 'f2')}), "
                        f"{pct(op.summary['share_top'])} rate it 4–5")
        elif _ok(m) and (m < RATING_LOW or _vs(m, med["rating"]) < 0):
            bad.append(f"消费者评价偏低，平均{fmt(m, 'f2')}分（95%区间{_ci(lo, hi, 'f2')}），差评占{pct(op.summary['share_bottom'])}"
                       if zh else f"ratings are weak: mean {fmt(m, 'f2')} (95% CI {_ci(lo, hi, 'f2')}), "
                       f"{pct(op.summary['share_bottom'])} rate it 1–2")
        theme = top_complaint(rv)
        if theme and (_ok(m) and m < RATING_GOOD):
            todo.append(f"差评集中在“{theme}”，将意见反馈工业企业并在终端做好解释宣传" if zh else
                        f"low ratings centre on {THEME_EN.get(theme, theme)}: pass it on to the manufacturer and brief retailers")
    gap = segment_gap(rv)
    if gap:
        dim, g_lo, r_lo, g_hi, r_hi = gap
        bad.append(f"{t(dim)}间铺货不均：{_group_label(g_lo, lang)}仅{pct(r_lo)}，{_group_label(g_hi, lang)}为{pct(r_hi)}"
                   if zh else f"uneven distribution by {t(dim, 'en').lower()}: {_group_label(g_lo, lang)} "
                   f"{pct(r_lo)} against {_group_label(g_hi, lang)} {pct(r_hi)}")
        todo.append(f"对{_group_label(g_lo, lang)}客户逐户推介，补齐铺货短板" if zh else
                    f"visit {_group_label(g_lo, lang)} customers one by one to close the distribution gap")
    hits = hit_incumbents(rv)
    class_drift = pretrend_differs(rv)
    if len(hits):
        r0 = hits.iloc[0]
        drift = class_drift or bool(r0.get("pretrend_differs", False))
        bad.append(f"同价类在销规格{r0['sku']}销量较上市前相对下降{pct(-r0['estimate'])}，约相当于新品销量的"
                   f"{pct(r0['share'])}（95%区间{_ci(r0['share_lo'], r0['share_hi'])}），存在内部替代"
                   + ("（但上市前走势已与对照组不同，这一估计可能反映原有趋势，需谨慎看待）" if drift else "") if zh else
                   f"incumbent {r0['sku']} in the same class fell {pct(-r0['estimate'])} against the control, about "
                   f"{pct(r0['share'])} of the new volume (95% CI {_ci(r0['share_lo'], r0['share_hi'])}): the launch "
                   "partly replaces it"
                   + (" (but it was already drifting from the control before the launch, so the figure may be that "
                      "trend rather than the launch)" if drift else ""))
        todo.append(f"统筹同价类品牌投放节奏，把新品推向{r0['sku']}以外的客户" if zh else
                    f"coordinate supply within the class and place the launch with customers beyond {r0['sku']}'s buyers")
    elif rv.cannibalization.skipped_reason is None and rv.cannibalization.did is not None:
        c = rv.cannibalization.share
        if class_drift:
            bad.append("上市前同价类在销品牌与对照组的走势已经不同，挤占分析的结论不可靠" if zh else
                       "before the launch the incumbents were already drifting from the control, so the "
                       "cannibalisation estimate cannot be trusted")
        elif _ok(c["lo"]) and c["lo"] <= 0 <= c["hi"]:
            good.append("未发现对同价类在销品牌的明显挤占" if zh else
                        "no clear loss for the incumbent brands of the same class")
    if not todo:
        todo.append("保持现有投放节奏，继续扩大铺货面并跟踪复购" if zh else
                    "keep the current pace, widen distribution further and follow repeat orders")
    if zh:
        parts = [head,
                 "做得好的：" + ("；".join(good) if good else "暂无突出亮点") + "。",
                 "存在的问题：" + ("；".join(bad) if bad else "暂未发现明显问题") + "。",
                 "下步建议：" + "".join(f"{i}. {a}；" for i, a in enumerate(todo, 1)).rstrip("；") + "。"]
    else:
        parts = [head,
                 "What went well: " + ("; ".join(good) if good else "nothing stands out yet") + ".",
                 "What did not: " + ("; ".join(bad) if bad else "no clear problem so far") + ".",
                 "Next steps: " + " ".join(f"{i}. {a[0].upper() + a[1:]}." for i, a in enumerate(todo, 1))]
    return "\n\n".join(parts)


def headline_kpis(rv: Any, lang: str = "zh") -> dict[str, str]:
    """Headline cards: {label: formatted value}."""
    h = rv.headline
    out = {
        t("volume", lang): fmt(h["volume"], "int"),
        t("amount", lang): money(h["amount"], lang),
        t("ordering_customers", lang): fmt(h["ordering_customers"], "int"),
        t("distribution_rate", lang): pct(h["distribution_rate"]),
        t("weighted_distribution_rate", lang): pct(h["weighted_distribution_rate"]),
        t("repeat_rate", lang): pct(h["repeat_rate"]),
        t("sell_through_rate", lang): pct(h["sell_through_rate"]),
    }
    if _ok(h.get("attainment_qty")):
        out[f"{t('attainment', lang)}({t('volume', lang)})"] = pct(h["attainment_qty"])
    if _ok(h.get("attainment_amount")):
        out[f"{t('attainment', lang)}({t('amount', lang)})"] = pct(h["attainment_amount"])
    return out


def scope_text(rv: Any, lang: str = "zh") -> str:
    """One line: which product, which window, how many days covered."""
    s = rv.spec
    name = s.sku_name or s.label
    if lang == "zh":
        txt = (f"新品：{name}（{s.label}，{s.brand}，{s.price_class or '—'}）；上市日{s.launch_date}；分析窗口"
               f"{s.launch_date}至{s.window_end}（{s.window_days}天），已覆盖{s.days_covered}天；数据截至{s.data_end}。")
    else:
        txt = (f"Launch: {name} ({s.label}, brand {s.brand}, class {s.price_class or '—'}); launch day {s.launch_date}; "
               f"window {s.launch_date} to {s.window_end} ({s.window_days} days), {s.days_covered} days covered; "
               f"data to {s.data_end}.")
    return txt


def partial_text(rv: Any, lang: str = "zh") -> str | None:
    s = rv.spec
    if not s.partial:
        return None
    if s.days_covered == 0:
        return (f"上市日晚于数据截止日（{s.data_end}），暂无数据。" if lang == "zh" else
                f"The launch day is after the last order date ({s.data_end}): no data yet.")
    return (f"部分分析：上市仅{s.days_covered}天，不足{s.window_days}天，以下数字只覆盖已有天数。" if lang == "zh" else
            f"Partial review: the launch has {s.days_covered} of {s.window_days} days of data; figures cover those days.")


SKIP_ZH = {
    "no days of data in the window": "窗口内没有数据",
    "the store has no feedback table": "数据中没有消费者评价表(feedback)",
    "fewer than 14 days of data since launch": "上市不足14天，无法比较",
    "not enough data before the launch for the comparison": "上市前数据不足，无法比较",
    "no price classes for the other products": "其他规格缺少价类信息",
    "no incumbent or no control products to compare": "缺少同价类在销品牌或对照品牌",
    "no earlier launch with a full window to compare with": "没有可比的以往新品",
    "the store has no customers table": "数据中没有客户表(customers)",
    "the customers table has no area_type, size_class or region": "客户表缺少城乡、档位和区域字段",
    "the orders have no customer_id": "订单数据没有客户编码(customer_id)",
}


def reason_text(reason: str, lang: str = "zh") -> str:
    """A skip reason in ``lang`` (reasons are written in English by analysis.launch)."""
    if lang == "en":
        return reason
    if reason in SKIP_ZH:
        return SKIP_ZH[reason]
    if reason.startswith("no feedback rows for"):
        return "窗口内没有该新品的消费者评价"
    return reason


# --------------------------------------------------------------------------- show_* (notebook cells)


def _rename(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    return df.rename(columns={c: t(c, lang) for c in df.columns})


def _formats(codes: dict[str, str], lang: str) -> dict[str, str]:
    return {t(k, lang): v for k, v in codes.items()}


def show_title(ctx: Any, rv: Any) -> None:
    """Title, scope line and (for a young launch) the partial-review note."""
    from .. import display

    display.heading(label("launch_review", ctx.lang), 1)
    display.paragraph(scope_text(rv, ctx.lang))
    note = partial_text(rv, ctx.lang)
    if note:
        display.note(note)


def show_headline(ctx: Any, rv: Any) -> None:
    """Section 1: headline cards and the written analysis."""
    from .. import display

    display.heading(t("s1", ctx.lang), 2)
    if rv.spec.days_covered == 0:
        ctx.skip(t("s1", ctx.lang), reason_text("no days of data in the window", ctx.lang))
        return
    display.kpis(headline_kpis(rv, ctx.lang))
    display.paragraph(summary(rv, ctx.lang))


def show_trend(ctx: Any, rv: Any) -> None:
    """Section 2: daily and cumulative volume, weekly totals, customers per day and order size."""
    from .. import display
    from ..charts import launch as charts

    display.heading(t("s2", ctx.lang), 2)
    if rv.spec.days_covered == 0:
        ctx.skip(t("s2", ctx.lang), reason_text("no days of data in the window", ctx.lang))
        return
    display.figure(charts.sales_trend(rv.daily, ctx.lang))
    w = rv.weekly[["week", "days", "qty", "amount", "customer_days"]].rename(columns={"qty": "volume"})
    display.table(_rename(w, ctx.lang), _formats({"week": "int", "days": "int", "volume": "int", "amount": "money",
                                                  "customer_days": "int"}, ctx.lang), ctx.lang)
    display.figure(charts.customers_per_day(rv.daily, ctx.lang))


def show_retailers(ctx: Any, rv: Any) -> None:
    """Section 3: trial and repeat curves, depth of repeat, sell-through, rates by segment with CIs."""
    from .. import display
    from ..charts import launch as charts

    lang = ctx.lang
    display.heading(t("s3", lang), 2)
    if rv.spec.days_covered == 0 or rv.retailers_skipped:
        ctx.skip(t("s3", lang), reason_text(rv.retailers_skipped or "no days of data in the window", lang))
        return
    display.figure(charts.ordering_curves(rv.curves, lang))
    if not rv.depth.empty:
        display.table(_rename(rv.depth, lang), _formats({"orders": "int", "customers": "int", "share": "pct"}, lang), lang)
    st = rv.sell_through
    if st["rate"] is None:
        display.note("动销率：上市不足14天，暂不计算。" if lang == "zh" else
                     "Sell-through: fewer than 14 days covered, not computed.")
    else:
        display.paragraph(
            f"动销率（YC/T 455.3，以周为期）：前{st['previous_weeks']}周订购过的{fmt(st['previous'], 'int')}户中，"
            f"最近一周再次订购{fmt(st['current'], 'int')}户，动销率{pct(st['rate'])}。" if lang == "zh" else
            f"Sell-through (YC/T 455.3, weekly periods): of {fmt(st['previous'], 'int')} customers who ordered in the "
            f"previous {st['previous_weeks']} weeks, {fmt(st['current'], 'int')} ordered in the last week "
            f"({pct(st['rate'])})."
        )
    if rv.segments_skipped:
        ctx.skip(f"{t('s3', lang)} — {t('group', lang)}", reason_text(rv.segments_skipped, lang))
        return
    mg = ctx.params.min_group_size
    display.note(f"少于{mg}户的分组合并为“其他”，合并后仍不足{mg}户的不显示比率；区间为95% Wilson区间。" if lang == "zh" else
                 f"Groups with fewer than {mg} customers are merged into 'other'; rates of groups still smaller are "
                 "not shown. Intervals: 95% Wilson.")
    for dim, tab in rv.segments.items():
        df = tab.copy()
        df["group"] = df["group"].map(lambda g: _group_label(g, lang))
        df = df[["group", "active", "ordering", "distribution_rate", "distribution_lo", "distribution_hi",
                 "repeat", "repeat_rate", "repeat_lo", "repeat_hi"]].rename(columns={"group": dim})
        codes = {dim: "text", "active": "int", "ordering": "int", "repeat": "int"}
        codes.update({c: "pct" for c in df.columns if c.endswith(("_rate", "_lo", "_hi"))})
        display.table(_rename(df, lang), _formats(codes, lang), lang)


def show_opinions(ctx: Any, rv: Any) -> None:
    """Section 4: rating distribution, mean with CI, shares, intent, comment themes, benchmark ratings."""
    from .. import display
    from ..charts import launch as charts

    lang = ctx.lang
    display.heading(t("s4", lang), 2)
    op = rv.opinions
    if op.skipped_reason:
        ctx.skip(t("s4", lang), reason_text(op.skipped_reason, lang))
        return
    sm = op.summary
    display.figure(charts.rating_distribution(op.distribution, lang))
    rows = [
        ("responses", sm["responses"], None, None, "int"),
        ("rating_mean", sm["rating_mean"], sm["rating_ci"][0], sm["rating_ci"][1], "f2"),
        ("share_top", sm["share_top"], *sm["share_top_ci"], "pct"),
        ("share_bottom", sm["share_bottom"], *sm["share_bottom_ci"], "pct"),
        ("repurchase_intent", sm["repurchase_intent"], *sm["repurchase_intent_ci"], "pct"),
    ]
    tab = pd.DataFrame({
        t("measure", lang): [t(r[0], lang) for r in rows],
        t("value", lang): [fmt(r[1], r[4]) for r in rows],
        t("ci_low", lang): [fmt(r[2], r[4]) for r in rows],
        t("ci_high", lang): [fmt(r[3], r[4]) for r in rows],
    })
    display.table(tab, {c: "text" for c in tab.columns}, lang)
    th = rv.themes
    if th is not None and th.n_comments:
        themes = th.themes.copy()
        if lang == "en":
            themes["theme"] = themes["theme"].map(lambda x: THEME_EN.get(x, x))
        display.table(_rename(themes, lang), _formats({"theme": "text", "comments": "int", "share": "pct"}, lang), lang)
        display.table(_rename(th.terms, lang), _formats({"term": "text", "comments": "int", "share": "pct"}, lang), lang)
        if not th.examples.empty:
            display.table(_rename(th.examples, lang), _formats({"term": "text", "comment": "text"}, lang), lang)
    else:
        display.note("没有文字评价。" if lang == "zh" else "No written comments.")
    br = rv.benchmarks.ratings
    if not br.empty and len(br) > 1:
        display.table(_rename(br, lang), _formats({"launch": "text", "responses": "int", "rating_mean": "f2",
                                                   "ci_low": "f2", "ci_high": "f2"}, lang), lang)


def show_cannibalization(ctx: Any, rv: Any) -> None:
    """Section 5: DiD of same-class incumbents vs other classes, share of new volume, by incumbent."""
    from .. import display
    from ..charts import launch as charts

    lang = ctx.lang
    display.heading(t("s5", lang), 2)
    c = rv.cannibalization
    if c.skipped_reason:
        ctx.skip(t("s5", lang), reason_text(c.skipped_reason, lang))
        return
    d, sh = c.did, c.share
    method = ("各规格周销量（相对上市前水平）对规格与周固定效应回归，按规格聚类，区间为野聚类自助法(WCR)区间" if d.method == "panel" else
              "同价类与对照组周销量之差，上市前后Welch t区间") if lang == "zh" else (
              "weekly volume per SKU relative to its pre-launch level, SKU and week fixed effects, clustered by SKU, "
              "wild cluster bootstrap (WCR) interval"
              if d.method == "panel" else "weekly difference of the two groups, Welch t-interval before vs after")
    if lang == "zh":
        txt = (f"以{c.treated_class}其他在销规格（{d.n_treated}个）为处理组、其他价类（不含新品价类，{d.n_control}个规格）为对照组，"
               f"比较上市后{d.n_post}周与上市前{d.n_pre}周（双重差分，{method}）：处理组销量相对变化"
               f"{fmt(d.estimate * 100, 'pp')}%（95%区间{fmt(d.lo * 100, 'pp')}%至{fmt(d.hi * 100, 'pp')}%），"
               f"折合新品销量的{pct(sh['estimate'])}（95%区间{_ci(sh['lo'], sh['hi'])}）来自同价类在销品牌。")
    else:
        txt = (f"Treated: the other {d.n_treated} SKUs of {c.treated_class}; control: {d.n_control} SKUs of the other "
               f"classes (not the launch's class); {d.n_post} weeks after vs {d.n_pre} weeks before launch "
               f"(difference-in-differences, {method}): the incumbents changed by {fmt(d.estimate * 100, 'pp')}% "
               f"(95% CI {fmt(d.lo * 100, 'pp')}% to {fmt(d.hi * 100, 'pp')}%), i.e. {pct(sh['estimate'])} of the new "
               f"volume (95% CI {_ci(sh['lo'], sh['hi'])}) came from them.")
    display.paragraph(txt)
    ptxt, warn = pretrend_text(rv, lang)
    display.paragraph(ptxt)
    if warn:
        display.note(warn)
    split = c.pretrend.split if c.pretrend is not None else None
    display.figure(charts.cannibalization(c.series, lang, placebo_split=split))
    if not c.by_sku.empty:
        tab = c.by_sku.rename(columns={"share": "share_of_new"}).drop(columns=["pretrend_differs"], errors="ignore")
        display.table(_rename(tab, lang), _formats({"sku": "text", "estimate": "pct", "ci_low": "pct", "ci_high": "pct",
                                                    "share_of_new": "pct", "share_lo": "pct", "share_hi": "pct",
                                                    "pretrend_estimate": "pct", "pretrend_p": "f3"}, lang),
                      lang, caption="按在销规格（单规格对照，Welch区间；走势检验为该规格上市前的安慰剂检验，各规格分别检验，未做多重比较校正）"
                      if lang == "zh" else
                      "By incumbent SKU (one SKU vs the control, Welch interval; pre-trend: that SKU's own placebo "
                      "check before the launch, each SKU tested separately, not adjusted for multiple comparisons)")


def show_benchmarks(ctx: Any, rv: Any) -> None:
    """Section 6: earlier launches at days 7, 14, 30 and this launch's rank."""
    from .. import display
    from ..charts import launch as charts

    lang = ctx.lang
    display.heading(t("s6", lang), 2)
    b = rv.benchmarks
    if b.skipped_reason:
        ctx.skip(t("s6", lang), reason_text(b.skipped_reason, lang))
        return
    names = ", ".join(x.label for x in b.launches)
    ranks = b.ranks
    if lang == "zh":
        txt = (f"对比以往{b.count}个新品（{names}），按上市第{b.day}天对齐：铺货率排名第{fmt(ranks.get('distribution'), 'int')}、"
               f"复购率第{fmt(ranks.get('repeat'), 'int')}、累计销量第{fmt(ranks.get('cum_qty'), 'int')}"
               + (f"、评分第{fmt(ranks.get('rating'), 'int')}" if ranks.get("rating") else "") + f"（共{b.count + 1}个）。")
    else:
        txt = (f"Against {b.count} earlier launches ({names}), aligned on day {b.day}: rank {fmt(ranks.get('distribution'), 'int')} "
               f"on distribution, {fmt(ranks.get('repeat'), 'int')} on repeat, {fmt(ranks.get('cum_qty'), 'int')} on volume"
               + (f", {fmt(ranks.get('rating'), 'int')} on rating" if ranks.get("rating") else "") + f" (of {b.count + 1}).")
    display.paragraph(txt)
    wide, codes = benchmark_table(b, lang)
    display.table(wide, codes, lang)
    display.figure(charts.benchmark_curves(b.curves, rv.spec.label, lang))


def benchmark_table(b: Any, lang: str = "zh") -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per launch, columns measure × day (7, 14, 30 and the covered day), with format codes."""
    at = b.at_days.rename(columns={"distribution": "distribution_rate", "repeat": "repeat_rate"})
    order = list(dict.fromkeys(at["launch"]))
    out = pd.DataFrame({t("launch", lang): order})
    codes = {t("launch", lang): "text"}
    for m, code in (("cum_qty", "int"), ("distribution_rate", "pct"), ("repeat_rate", "pct")):
        for d in sorted(at["day"].unique()):
            col = f"{t(m, lang)}·{'第' + str(d) + '天' if lang == 'zh' else 'day ' + str(d)}"
            vals = at[at["day"] == d].set_index("launch")[m]
            out[col] = [vals.get(x, np.nan) for x in order]
            codes[col] = code
    return out, codes


METHOD_ZH = (
    "口径说明：分析窗口为上市日（第1天）至第{w}天；订购指非退货、数量为正的订单行，销量与金额为含退货的净额。"
    "订购户数为窗口内订购该新品的客户数；铺货率=订购户数÷窗口内有任一订单的活跃客户数，加权铺货率按订购户全部品种金额占活跃客户全部金额计算；"
    "复购率=窗口内有2个及以上不同订购日的客户÷订购户数；动销率（YC/T 455.3）以周为期：窗口最后一周之前3周订购过的客户中，最后一周再次订购的比例。"
    "比率的区间为95% Wilson区间，平均评分为95% t区间。未指定新品时，取最近一个已满{w}天的上市规格。"
    "对比新品默认取同价类更早上市且满{w}天的规格，不足3个时取全部更早上市的规格，按上市天数对齐。"
    "挤占分析以同价类其他在销规格为处理组、其他价类为对照组，比较上市后各整周与上市前同样周数的销量（双重差分）；"
    "多规格时按规格聚类，区间与p值用野聚类自助法（WCR，Webb权重，999次，检验反演求区间），单规格时用两组周销量差的Welch区间；"
    "新品销量来自在销品牌的份额=处理组减少量÷新品销量。双重差分假定两组在没有新品时走势平行：上市前走势检验（安慰剂检验）"
    "只用上市前的周，把上市日假设提前同样周数（历史不足时取上市前周数的一半），做同样的双重差分，p<0.05即提示上市前走势已不同。"
)
METHOD_EN = (
    "Definitions: the window runs from launch day (day 1) to day {w}; an order is a non-return line with positive "
    "quantity; volume and amount are net of returns. Ordering customers: customers who ordered the product in the "
    "window; distribution = ordering ÷ active customers (any order in the window); weighted distribution = all-product "
    "amount of ordering customers ÷ that of active customers; repeat = customers with 2+ distinct order dates ÷ "
    "ordering; sell-through (YC/T 455.3) with weekly periods: of the customers who ordered in the 3 weeks before the "
    "window's last week, the share who ordered again in that week. Rates carry 95% Wilson intervals, the mean rating a "
    "95% t-interval. Without a sku, the review takes the most recent launch with a full {w}-day window. Benchmarks: "
    "earlier launches of the same price class with a full window (all earlier launches when fewer than 3), aligned "
    "on days since launch. Cannibalisation: the other SKUs of the class (treated) against the other classes (control), "
    "full weeks after launch vs as many weeks before (difference-in-differences; clustered by SKU with a wild cluster "
    "bootstrap interval and p-value (WCR, Webb weights, 999 draws, interval by test inversion), or a Welch interval "
    "of the weekly group difference for a single SKU); share of new volume = the treated loss ÷ new volume. The "
    "difference-in-differences assumes both groups would have trended in parallel without the launch: the pre-trend "
    "(placebo) check runs the same comparison on the weeks before the launch only, with a pretend launch as many "
    "weeks early (half of the pre-launch history when it is shorter); p < 0.05 warns that the trends already differed."
)


def method_text(rv: Any, lang: str = "zh") -> str:
    """The definitions used by the review (printed at the end of the report)."""
    check_lang(lang)
    return (METHOD_ZH if lang == "zh" else METHOD_EN).format(w=rv.spec.window_days)


def show_method(ctx: Any, rv: Any) -> None:
    """The definitions note at the end of the report."""
    from .. import display

    display.note(method_text(rv, ctx.lang))

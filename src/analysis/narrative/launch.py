"""Text functions of the new brand one-month review: each chooses message ids and values only.

The sentences are in ``analysis/locales/<lang>.yml`` under ``launch_review.*``; the same
function writes every language. The headline keeps the department's own order — what went
well (做得好的), what did not (存在的问题), what to do next (下步建议). :data:`TEXTS` maps
section codes to these functions for ``ctx.present.texts``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..i18n import Measured, Msg, msg
from ..present import Cards, Caution, Method, Para

__all__ = ["TEXTS", "headline", "retailers", "opinions", "cannibalization", "benchmarks", "method",
           "pretrend_text", "judgement"]

# thresholds of the written judgement (documented in the report's method note)
SELL_THROUGH_GOOD, SELL_THROUGH_LOW = 0.6, 0.4
RATING_GOOD, RATING_LOW = 4.0, 3.5
# "no clear loss for the incumbents" is said only when the interval of the share of the new volume
# taken from them reaches at most this (else: the data cannot tell)
NO_LOSS_MAX_SHARE = 0.3


def _ok(x: Any) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(float(x))


def _vs(v: Any, ref: Any) -> int:
    if not _ok(v) or not _ok(ref):
        return 0
    return 1 if v > ref else (-1 if v < ref else 0)


def _chain(items: Sequence[Any], joiner: str) -> Any:
    """Items joined two by two through the message ``joiner`` ({first}…{rest})."""
    if len(items) == 1:
        return items[0]
    return msg(joiner, first=items[0], rest=_chain(items[1:], joiner))


def _launch_values(res: Any) -> dict[str, Any]:
    s = res.spec
    return {"name": getattr(s, "shown_name", None) or s.sku_name or s.label, "sku": s.label, "brand": s.brand, "price_class": s.price_class}


def judgement(res: Any) -> tuple[list[Msg], list[Msg], list[Msg]]:
    """What went well, what did not, what to do next: three lists of messages from the headline's facts."""
    h, med, nb = res.values, res.medians, res.benchmark_count
    good: list[Msg] = []
    bad: list[Msg] = []
    todo: list[Msg] = []
    for measure, mine in (("distribution", h["distribution_rate"]), ("repeat", h["repeat_rate"])):
        v = _vs(mine, med.get(measure))
        if v:
            (good if v > 0 else bad).append(msg("launch_review.judge.above" if v > 0 else "launch_review.judge.below",
                                                measure=measure, value=mine, count=nb, median=med[measure]))
            if v < 0:
                todo.append(msg(f"launch_review.action.{measure}"))
    st = h["sell_through_rate"]
    if _ok(st) and st >= SELL_THROUGH_GOOD:
        good.append(msg("launch_review.judge.sell_through_good", value=st))
    elif _ok(st) and st < SELL_THROUGH_LOW:
        bad.append(msg("launch_review.judge.sell_through_low", value=st))
        todo.append(msg("launch_review.action.sell_through"))
    op = res.opinions
    if op is not None and op.skip is None:
        m, (lo, hi) = op.summary["rating_mean"], op.summary["rating_ci"]
        if _ok(m) and m >= RATING_GOOD and _vs(m, med.get("rating")) >= 0:
            good.append(msg("launch_review.judge.rating_good", mean=m, lo=lo, hi=hi, share=op.summary["share_top"]))
        elif _ok(m) and (m < RATING_LOW or _vs(m, med.get("rating")) < 0):
            bad.append(msg("launch_review.judge.rating_low", mean=m, lo=lo, hi=hi, share=op.summary["share_bottom"]))
        if res.complaint and _ok(m) and m < RATING_GOOD:
            todo.append(msg("launch_review.action.complaint", theme=res.complaint))
    gap = res.gap
    if gap:
        bad.append(msg("launch_review.judge.gap", dimension=gap["dimension"], low=gap["low_group"],
                       low_rate=gap["low_rate"], high=gap["high_group"], high_rate=gap["high_rate"]))
        todo.append(msg("launch_review.action.gap", group=gap["low_group"]))
    c = res.cannibalization
    class_drift = bool(c is not None and c.skip is None and c.pretrend is not None and c.pretrend.differs)
    if len(res.hits):
        r0 = res.hits.iloc[0]
        drift = class_drift or bool(r0.get("pretrend_differs", False))
        who = str(r0.get("product") or r0["sku"])  # the incumbent by its name
        bad.append(msg("launch_review.judge.hit", "drift" if drift else "plain", sku=who,
                       drop=-float(r0["estimate"]), share=float(r0["share"]), lo=float(r0["share_lo"]),
                       hi=float(r0["share_hi"])))
        todo.append(msg("launch_review.action.hit", sku=who))
    elif c is not None and c.skip is None and c.did is not None:
        sh = c.share
        if class_drift:
            bad.append(msg("launch_review.judge.class_drift"))
        elif _ok(sh["lo"]) and sh["lo"] <= 0 <= sh["hi"]:
            # "no clear loss" only when the interval is narrow enough to say so
            if _ok(sh["hi"]) and sh["hi"] <= NO_LOSS_MAX_SHARE:
                good.append(msg("launch_review.judge.no_loss"))
            else:
                bad.append(msg("launch_review.judge.undecided", lo=sh["lo"], hi=sh["hi"]))
    if not todo:
        todo.append(msg("launch_review.action.keep"))
    return good, bad, todo


def headline(res: Any) -> Sequence[Any]:
    """Cards, the scope line, the partial-review caution, then the written analysis: the figures of the
    window, what went well, what did not, what to do next."""
    s, h = res.spec, res.values
    qty_kind = getattr(s, "qty_kind", "qty")
    cards = [("column.qty", h["volume"], qty_kind),
             ("launch_review.column.amount", h["amount"], "money"),
             ("launch_review.column.ordering_customers", h["ordering_customers"], "count"),
             ("launch_review.column.distribution_rate", h["distribution_rate"], "rate"),
             ("launch_review.column.weighted_distribution_rate", h["weighted_distribution_rate"], "rate"),
             ("launch_review.column.repeat_rate", h["repeat_rate"], "rate"),
             ("launch_review.column.sell_through_rate", h["sell_through_rate"], "rate")]
    if _ok(h.get("attainment_qty")):
        cards.append(("launch_review.card.attainment_qty", h["attainment_qty"], "rate"))
    if _ok(h.get("attainment_amount")):
        cards.append(("launch_review.card.attainment_amount", h["attainment_amount"], "rate"))
    who = _launch_values(res)
    window = msg("launch_review.card.window", days=s.days_covered, start=s.launch_date, end=s.end)
    out: list[Any] = [Cards(*cards, period=window),
                      msg("launch_review.headline.scope", **who, launch_date=s.launch_date, window_end=s.window_end,
                          window_days=s.window_days, days_covered=s.days_covered, data_end=s.data_end)]
    if s.partial:
        out.append(Caution(msg("launch_review.note.partial", days_covered=s.days_covered, window_days=s.window_days)))
    lead = [msg("launch_review.headline.lead", **who, launch_date=s.launch_date, days_covered=s.days_covered,
                end=s.end, volume=Measured(h["volume"], qty_kind), amount=h["amount"], ordering=h["ordering_customers"],
                active=h["active_customers"], distribution=h["distribution_rate"],
                weighted=h["weighted_distribution_rate"], repeat=h["repeat_rate"], sell_through=h["sell_through_rate"])]
    if s.partial:
        lead.append(msg("launch_review.headline.partial", window_days=s.window_days, days_covered=s.days_covered))
    if _ok(h.get("attainment_qty")):
        lead.append(msg("launch_review.headline.plan_qty", plan=Measured(h["target_qty"], qty_kind),
                        attainment=h["attainment_qty"]))
    elif _ok(h.get("attainment_amount")):
        lead.append(msg("launch_review.headline.plan_amount", plan=h["target_amount"],
                        attainment=h["attainment_amount"]))
    good, bad, todo = judgement(res)
    steps = [msg("launch_review.headline.step", n=i, action=a) for i, a in enumerate(todo, 1)]
    out += [Para(lead),
            msg("launch_review.headline.good", "some" if good else "none",
                items=_chain(good, "launch_review.headline.and") if good else ""),
            msg("launch_review.headline.bad", "some" if bad else "none",
                items=_chain(bad, "launch_review.headline.and") if bad else ""),
            msg("launch_review.headline.todo", steps=_chain(steps, "launch_review.headline.steps_and")),
            Caution(method(s.window_days))]
    return out


def retailers(res: Any) -> Sequence[Any]:
    """The sell-through (动销率) sentence, or why it is not computed yet."""
    st = res.sell_through
    if st.get("rate") is None:
        return [Caution(msg("launch_review.retailers.no_sell_through"))]
    return [msg("launch_review.retailers.sell_through", weeks=st["previous_weeks"], previous=st["previous"],
                current=st["current"], rate=st["rate"])]


def opinions(res: Any) -> Sequence[Any]:
    """Responses and the mean rating with its 95 % t-interval."""
    sm = res.summary
    return [msg("launch_review.opinions.rating", responses=sm["responses"], mean=sm["rating_mean"],
                lo=sm["rating_ci"][0], hi=sm["rating_ci"][1])]


def pretrend_text(res: Any) -> tuple[Msg, Msg | None]:
    """The pre-trend (placebo) check beside the DiD: (sentence, warning or None)."""
    pt = res.pretrend
    if pt is None:
        return msg("launch_review.cannibalization.no_pretrend"), None
    text = msg("launch_review.cannibalization.pretrend", weeks=pt.n_pre + pt.n_post, shift=pt.n_post,
               estimate=pt.estimate, lo=pt.lo, hi=pt.hi, p=pt.p,
               verdict=msg("launch_review.cannibalization.verdict", "differs" if pt.differs else "parallel"))
    return text, (msg("launch_review.cannibalization.warning") if pt.differs else None)


def cannibalization(res: Any) -> Sequence[Any]:
    """The DiD of the class with its method and the share of new volume, then the placebo check (and its
    warning when the pre-launch trends differed)."""
    d, sh = res.did, res.share
    out: list[Any] = [msg("launch_review.cannibalization.did", price_class=res.treated_class,
                          estimate=d.estimate, lo=d.lo, hi=d.hi, share=sh["estimate"], share_lo=sh["lo"],
                          share_hi=sh["hi"])]
    text, warning = pretrend_text(res)
    if warning is not None:
        out.append(Caution(warning))
    # the design, its interval method and the placebo check: the section's method note
    out.append(Method(msg("launch_review.cannibalization.design", price_class=res.treated_class, treated=d.n_treated,
                          control=d.n_control, post=d.n_post, pre=d.n_pre,
                          method=msg("launch_review.cannibalization.method",
                                     "panel" if d.method == "panel" else "aggregate")), text))
    return out


def benchmarks(res: Any) -> Sequence[Any]:
    """This launch's ranks among the earlier launches at its last covered day."""
    r = res.ranks
    return [msg("launch_review.benchmarks.summary", "with_rating" if r.get("rating") else "no_rating",
                count=res.count, names=[getattr(b, "shown_name", b.label) for b in res.launches], day=res.day,
                distribution=r.get("distribution"), repeat=r.get("repeat"), cum_qty=r.get("cum_qty"),
                rating=r.get("rating"), total=res.count + 1)]


def method(window_days: int) -> Msg:
    """The definitions used by the review (口径说明), the note closing the headline section."""
    return Msg("launch_review.method", {"w": window_days})


TEXTS = {"headline": headline, "retailers": retailers, "opinions": opinions, "cannibalization": cannibalization,
         "benchmarks": benchmarks}

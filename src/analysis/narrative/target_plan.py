"""Text functions of the target plan (任务分解): each chooses message ids and values only.

The sentences are in ``analysis/locales/<lang>.yml`` under ``target_plan.*``; the same
function writes every language. :data:`TEXTS` maps section codes to these functions for
``ctx.present.texts``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..i18n import Measured, msg
from ..present import Cards, Caution, Para

__all__ = ["TEXTS", "overview", "regions", "reps", "products", "backtest"]


def _ok(x: Any) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(float(x))


def overview(res: Any) -> Sequence[Any]:
    """Cards (total, last year, change, regions, reps), then the basis: total and its source,
    the method, the cap and the other rules."""
    vk = res.value_kind
    cards = [("target_plan.card.total", res.total, vk), ("column.last_year", res.last_year, vk),
             ("column.yoy", res.change, "change"), ("target_plan.card.regions", res.n_regions, "count")]
    if res.n_reps:
        cards.append(("target_plan.card.reps", res.n_reps, "count"))
    clauses = [msg("target_plan.overview.total", res.measure, month=res.month, total=Measured(res.total, vk)),
               msg("target_plan.overview.source", res.total_source)]
    if _ok(res.change):
        clauses.append(msg("target_plan.overview.vs_last_year", "up" if res.change >= 0 else "down", change=res.change))
    variant = res.method if res.method != "capacity" else f"capacity_{res.capacity_by or 'grade'}"
    w = res.blend_weights or {}
    sentences = [
        msg("present.sentence", clauses=clauses),
        msg("target_plan.overview.method", variant, history=res.history, w1=w.get("last_12", 0.0),
            w2=w.get("same_month", 0.0)),
        msg("target_plan.overview.cap", "cap" if res.growth_cap is not None else "no_cap",
            cap=res.growth_cap if res.growth_cap is not None else float("nan")),
        msg("target_plan.overview.rules", ramp=res.ramp_share, unit=res.unit,
            unit_name=msg("target_plan.unit", res.measure)),
    ]
    out: list[Any] = []
    if res.relaxed:  # at the top: the plan is not within the cap the manager asked for
        keys = {str(k) for r in res.relaxed for k in r["keys"]}
        out.append(Caution(msg("target_plan.overview.cap_relaxed", cap=res.growth_cap, relaxed=res.relaxed_cap,
                               count=len(keys))))
    return out + [Cards(*cards, period=msg("target_plan.card.period", month=res.month)), Para(sentences)]


def regions(res: Any) -> Sequence[Any]:
    """Which region grows most and least against last year; capped and locked regions."""
    t = res.table
    out: list[Any] = []
    d = t.dropna(subset=["change"]).sort_values(["change", "region"], ascending=[False, True], kind="mergesort")
    if len(d):
        out.append(msg("target_plan.regions.summary", n=len(t), top=d["region"].iloc[0],
                       top_change=float(d["change"].iloc[0]), bottom=d["region"].iloc[-1],
                       bottom_change=float(d["change"].iloc[-1])))
    else:
        out.append(msg("target_plan.regions.no_last_year"))
    capped, locked = t.loc[t["capped"], "region"].tolist(), t.loc[t["locked"], "region"].tolist()
    if capped or locked:
        out.append(msg("target_plan.regions.flags", capped=capped or "—", locked=locked or "—"))
    return out


def reps(res: Any) -> Sequence[Any]:
    """How many reps, pools and new reps; the reps below target who get an above-average
    increase; capped and locked reps."""
    t = res.table
    people = t[~t["pool"]]
    sentences = [msg("target_plan.reps.summary", n=len(people), pools=int(t["pool"].sum()), new=int(t["new"].sum()),
                     ramp=res.ramp_share)]
    watch = t.loc[t["watch"], "rep_id"].tolist()
    sentences.append(msg("target_plan.reps.watch", "some" if watch else "none", count=len(watch), ids=watch or "—"))
    capped = t.loc[t["capped"], "rep_id"].tolist()
    if capped:
        shown = capped[:12] + (["…"] if len(capped) > 12 else [])
        sentences.append(msg("target_plan.reps.capped", count=len(capped), ids=shown))
    locked = t.loc[t["locked"], "rep_id"].tolist()
    if locked:
        sentences.append(msg("target_plan.reps.locked", ids=locked))
    return [Para(sentences)]


def products(res: Any) -> Sequence[Any]:
    """The product with the largest share of the plan."""
    t = res.table
    if not len(t):
        return []
    return [msg("target_plan.products.summary", level=res.level, top=str(t["product"].iloc[0]),
                share=float(t["share"].iloc[0]))]


def backtest(res: Any) -> Sequence[Any]:
    """The method's error beside an equal split and last year's share, and which fitted best."""
    t = res.table.set_index("method")

    def err(name: str) -> float:
        return float(t.loc[name, "mae"]) * 100 if name in t.index and _ok(float(t.loc[name, "mae"])) else float("nan")

    best = res.best
    return [msg("target_plan.backtest.summary", months=int(t["n_months"].max()), level=res.level,
                method=msg("target_plan.method_name", res.method), mae=err(res.method), equal=err("equal"),
                same=err("same_month"), best=msg("target_plan.method_name", best or res.method))]


TEXTS = {"overview": overview, "regions": regions, "reps": reps, "products": products, "backtest": backtest}

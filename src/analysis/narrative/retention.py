"""Text functions of the incentives vs retention report: each takes a section result of
:mod:`analysis.retention` and returns message ids and values (never text); the sentences are
in ``analysis/locales/<lang>.yml`` under ``incentive_retention.*``.

Plain language for managers: the headline figures, the strongest adjusted associations with
their 95 % intervals, where a raw association disappears after adjustment, and the caution
that these are associations, not proof of cause.

``TEXTS`` maps section codes to their text function (``ctx.present.texts = TEXTS``).

Examples
--------
>>> from analysis.i18n import msg
>>> effect_msg("payout_delay_days", {"hr": 1.04, "lo": 1.02, "hi": 1.06, "p": 0.001}).render("en")
'With each day of payout delay, the risk of leaving changes by +4.0% (95% CI +2.0% to +6.0%).'
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ..i18n import Msg, msg
from ..present import Caution, Cards, Method, Para

R = "incentive_retention"

#: hazard ratios are restated per a step managers think in (the message ``step.<feature>`` names it)
STEPS: dict[str, float] = {
    "team_bonus_share": 0.1,
    "payout_delay_days": 1.0,
    "bonus_per_month": 1000.0,
    "training_hours": 1.0,
    "attainment": 0.1,
}
EVENT_FEATURES = ("promoted_last_12m", "award")


def _ok(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _split(term: str) -> tuple[str, str | None]:
    if "[" in term and term.endswith("]"):
        col, lev = term.split("[", 1)
        return col, lev[:-1]
    return term, None


def term_msg(term: str) -> Msg:
    """A model term or feature inside a sentence: "team bonus share", "region 城东" (a
    snapshot's own column as it is)."""
    col, lev = _split(term)
    if lev is None:
        return msg(f"{R}.term", "plain", name=col, level="")
    return msg(f"{R}.term", "level", name=col, level=lev)


def p_msg(p: float) -> Msg:
    """"p = 0.012" or "p < 0.001"."""
    return msg(f"{R}.p", "below" if _ok(p) and p < 0.001 else "equal", p=p)


def effect_msg(term: str, est: Mapping[str, float]) -> Msg:
    """One sentence for one adjusted hazard ratio, restated per a natural step."""
    step = STEPS.get(term, 1.0)
    hr, lo, hi = (float(est[k]) ** step - 1 for k in ("hr", "lo", "hi"))
    col, lev = _split(term)
    if term in STEPS or term in EVENT_FEATURES:
        phrase = msg(f"{R}.step.{term}")
    elif lev is not None:
        phrase = msg(f"{R}.step.level", name=col, level=lev)
    else:
        phrase = msg(f"{R}.step.unit", name=term)
    return msg(f"{R}.summary.effect", phrase=phrase, change=hr, lo=lo, hi=hi)


# ------------------------------------------------------------------------------ sections
def headcount_attrition(res: Any) -> list:
    """Headline cards."""
    return [Cards(("column.headcount", res.headcount, "count"), ("column.exits", res.exits, "count"),
                  ("column.attrition_rate", res.attrition_rate, "rate"),
                  ("column.first_year_attrition", res.first_year_attrition, "rate"),
                  ("column.median_tenure", res.median_tenure, "f1"))]


def retention_curves(res: Any) -> list:
    """How to read the curve of everyone, and its median tenure."""
    km = res.medians.iloc[0] if not res.medians.empty else None
    med = None if km is None else km["median_tenure"]
    if _ok(med):
        return [msg(f"{R}.curves.overall", "reached", median=med, lo=km["ci_low"], hi=km["ci_high"])]
    return [msg(f"{R}.curves.overall", "not_reached", median=None, lo=None, hi=None)]


def feature_curves(res: Any) -> list:
    """How the tiers are formed, and the log-rank test (decided on the adjusted p when the
    report's family gives one)."""
    out: list = []
    method: list = []
    if res.code == "curves_by_feature":
        out.append(msg(f"{R}.curves.feature", name=res.feature))
    if res.method == "time-dependent":
        start = float(res.start or 0.0)
        if start > 0:
            method.append(msg(f"{R}.curves.method", "time_dependent_from", start=start))
        else:
            method.append(msg(f"{R}.curves.method", "time_dependent", start=start))
    elif res.method == "baseline":
        method.append(msg(f"{R}.curves.method", "baseline", start=0.0))
    lr = res.logrank
    if lr is not None:
        decide = lr.p_value if res.p_adj is None else res.p_adj
        verdict = "differ" if decide < 0.05 else "same"
        out.append(msg(f"{R}.curves.verdict", verdict))
        test = msg(f"{R}.curves.test", "time_dependent" if res.method == "time-dependent" else "plain")
        if res.p_adj is None:
            method.append(msg(f"{R}.curves.logrank", verdict, test=test, statistic=lr.statistic, df=lr.df,
                              p=p_msg(lr.p_value), adjusted=[]))
        else:
            method.append(msg(f"{R}.curves.logrank", f"{verdict}_adjusted", test=test, statistic=lr.statistic,
                              df=lr.df, p=p_msg(lr.p_value), adjusted=p_msg(res.p_adj)))
    # plain words above, the method below (方法说明)
    return out + ([Method(method)] if method else [])


def correlations(res: Any) -> list:
    """What the correlations compare (like with like on the panel), and which features a
    snapshot's person-level correlations leave out, if any."""
    methods = set(res.table["method"]) if not res.table.empty else set()
    out: list = [Method(msg(f"{R}.correlations.how", "matched" if "matched_rank" in methods else "snapshot"))]
    if res.left_out:
        out.append(Caution(msg(f"{R}.correlations.left_out", names=[term_msg(f) for f in res.left_out])))
    return out


def methods(res: Any) -> list[Msg]:
    """What the adjusted model did: covariate timing, the rows it left out, how it was
    fitted, terms dropped, and the multiple-comparison adjustment."""
    parts: list[Msg] = []
    if res.covariate_timing == "previous_month":
        parts.append(msg(f"{R}.methods.previous_month"))
        if res.rows_without_previous_month:
            parts.append(msg(f"{R}.methods.first_months", rows=int(res.rows_without_previous_month)))
        if res.rows_missing_covariate:
            parts.append(msg(f"{R}.methods.missing_covariate", rows=int(res.rows_missing_covariate)))
    elif res.covariate_timing == "baseline":
        parts.append(msg(f"{R}.methods.baseline"))
    adj = res.adjusted
    if adj is not None and adj.converged:
        parts.append(msg(f"{R}.methods.fit", "damped" if adj.method == "damped-newton" else "newton"))
    if adj is not None and adj.aliased:
        parts.append(msg(f"{R}.methods.aliased", names=[term_msg(t) for t in adj.aliased]))
    if adj is not None and getattr(adj, "diverging", None):
        parts.append(msg(f"{R}.methods.diverging", names=[term_msg(t) for t in adj.diverging]))
    fam = res.family
    if fam is not None and not fam.table.empty:
        parts.append(msg(f"{R}.methods.family", tests=len(fam.table)))
    return parts


def adjusted_effects(res: Any) -> list:
    """How the model was set up; a visible warning instead of estimates when it did not converge."""
    # how the model was set up is the section's method note (方法说明)
    out: list = [Method(methods(res))]
    if not res.converged:
        out.append(Caution(msg(f"{R}.effects.not_converged")))
    return out


def model_checks(res: Any) -> list:
    """The result of the proportional-hazards check, and what the logistic check compares."""
    if not res.converged:
        return [Caution(msg(f"{R}.checks.not_converged"))]
    out: list = []
    if not res.ph_violations:
        out.append(msg(f"{R}.checks.ph", "none", names=[]))
    else:
        out.append(Caution(msg(f"{R}.checks.ph", "some", names=[term_msg(t) for t in res.ph_violations])))
    if res.logistic:
        out.append(Method(msg(f"{R}.checks.logistic", "panel" if getattr(res, "panel", True) else "snapshot")))
    return out


def dose(res: Any) -> list:
    """What a band's rate counts."""
    return [Method(msg(f"{R}.dose.how", "panel" if res.unit == "person_months" else "snapshot"))]


def written_summary(res: Any, max_items: int = 4) -> list:
    """The written summary: headline, strongest adjusted associations (judged on the family's
    adjusted p when there is one, else on the 95 % interval), raw vs adjusted, PH check, caution."""
    h = res.head
    out: list = [msg(f"{R}.summary.lead", "snapshot" if res.source == "snapshot" else "store",
                     people=h.get("people"), exits=h.get("exits"), rate=h.get("attrition_rate"),
                     first_year=h.get("first_year_attrition"))]
    eff, fam = res.effects, res.family
    hrs = eff.hazard_ratios() if eff is not None else {}
    if not hrs:
        out.append(msg(f"{R}.summary.no_estimates"))
    else:
        feats = list(res.features) if res.features else [t for t in hrs if "[" not in t]
        items = [(t, e) for t, e in hrs.items() if t in feats or t == "attainment"]

        def is_clear(t: str, e: Mapping[str, float]) -> bool:
            q = fam.p_adj("cox", t) if fam is not None else None
            if q is not None:
                return q < fam.alpha
            return e["lo"] > 1 or e["hi"] < 1

        clear = sorted([(t, e) for t, e in items if is_clear(t, e)], key=lambda x: x[1]["p"])
        unclear = [t for t, e in items if not is_clear(t, e)]
        ctrl = list(res.controls)
        if clear:
            out.append(Para(msg(f"{R}.summary.clear", controls=[term_msg(c) for c in ctrl]),
                            *(effect_msg(t, e) for t, e in clear[:max_items])))
        if unclear:
            variant = "family" if fam is not None else "intervals"
            out.append(msg(f"{R}.summary.unclear", variant, names=[term_msg(t) for t in unclear],
                           alpha=fam.alpha if fam is not None else 0.05))
        sbs = eff.side_by_side
        if sbs is not None and not sbs.empty and "raw_lo" in sbs.columns:
            def raw_clear(r: Any) -> bool:
                q = fam.p_adj("cox_raw", r.term) if fam is not None else None
                if q is not None:
                    return q < fam.alpha
                return fam is None and _ok(r.raw_lo) and (r.raw_lo > 1 or r.raw_hi < 1)

            gone = [r.term for r in sbs.itertuples() if raw_clear(r) and not is_clear(r.term, hrs.get(r.term, {
                "lo": r.adj_lo, "hi": r.adj_hi}))]
            if gone:
                out.append(msg(f"{R}.summary.confounded", names=[term_msg(t) for t in gone]))
        if eff.ph_violations:
            out.append(msg(f"{R}.summary.ph", names=[term_msg(t) for t in eff.ph_violations]))
    out.append(msg(f"{R}.summary.caution"))
    return out


TEXTS = {
    "headcount_attrition": headcount_attrition,
    "retention_curves": retention_curves,
    **{f"curves_{f}": feature_curves for f in ("team_bonus_share", "payout_delay_days", "promoted_last_12m",
                                               "training_hours", "bonus_per_month", "award", "attainment")},
    "curves_by_feature": feature_curves,
    "correlations": correlations,
    "adjusted_effects": adjusted_effects,
    "model_checks": model_checks,
    "dose_team_bonus_share": dose,
    "dose_payout_delay_days": dose,
    "dose_by_feature": dose,
    "written_summary": written_summary,
}

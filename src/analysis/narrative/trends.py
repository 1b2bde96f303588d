"""Text functions of the monthly sales trends report: each takes a section result of
:mod:`analysis.trends` and returns message ids and values (never text); the sentences are in
``analysis/locales/<lang>.yml`` under ``sales_trends.*``.

``TEXTS`` maps section codes to their text function (the report spec's narrative module);
:func:`data_note` is the note on the data used, the first item of the headline section's text
(its values are fields of :class:`analysis.trends.Headline`).
"""
from __future__ import annotations

import math
from typing import Any

from ..i18n import Measured, Msg, msg
from ..present import Cards, Caution, Method, Para, skip_msg

R = "sales_trends"

__all__ = ["TEXTS", "data_note"]


def _ok(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _keys(t: Any) -> list:
    """The keys of a table's rows as a reader names them: the name when the table has one
    (reps, SKUs, customers), else the key itself (regions, brands)."""
    if "name" not in t.columns:
        return list(t["key"])
    return [n if isinstance(n, str) and n else k for k, n in zip(t["key"], t["name"])]


def names_of(ids: Any, table: Any, id_col: str = "rep_id") -> list:
    """``ids`` as names with the code beside them (``黄杰（R0193）``), from ``table``'s
    ``name`` column where it has one."""
    names = {}
    if table is not None and len(table) and {"name", id_col} <= set(table.columns):
        names = {str(k): n for k, n in zip(table[id_col], table["name"]) if isinstance(n, str) and n}
    return [msg("present.name_code", name=names[str(i)], code=str(i)) if str(i) in names else str(i) for i in ids]


def _p(p: float) -> Msg:
    return msg(f"{R}.p", "below", p=p) if _ok(p) and p < 0.001 else msg(f"{R}.p", "equal", p=p)


# ============================================================================ sections
def headline(res: Any) -> list:
    """Headline cards and the paragraph: amount, yoy/mom with absolute changes, attainment
    against time elapsed, year to date."""
    t = res.table.set_index("measure")
    m = "amount" if "amount" in t.index else "qty"
    r = t.loc[m]
    kind = "money" if m == "amount" else res.qty_kind
    cards = [(f"column.{m}", r["current"], kind)]
    if "qty" in t.index and m == "amount":
        cards.append(("column.qty", t.loc["qty", "current"], res.qty_kind))
    cards += [("column.attainment", r["attainment"], "rate"), ("column.time_elapsed", res.time_elapsed, "rate"),
              ("column.yoy", r["yoy"], "change")]
    if res.kind == "month":
        cards += [("column.mom", r["mom"], "change"), ("column.ytd", r["ytd"], kind)]

    def change(v: float) -> Msg:
        return msg(f"{R}.headline.change", "up" if v >= 0 else "down", value=Measured(v, kind))

    clauses = [msg(f"{R}.headline.lead", m if res.kind == "month" else f"{m}_year", period=res.period,
                   value=Measured(r["current"], kind))]
    if _ok(r["yoy"]):
        clauses.append(msg(f"{R}.headline.yoy", "up" if r["yoy"] >= 0 else "down", rate=r["yoy"],
                           change=change(r["yoy_change"])))
    if res.kind == "month" and _ok(r["mom"]):
        clauses.append(msg(f"{R}.headline.mom", "up" if r["mom"] >= 0 else "down", rate=r["mom"],
                           change=change(r["mom_change"])))
    sentences = [msg("present.sentence", clauses=clauses)]
    if _ok(r["attainment"]):
        gap = (r["attainment"] - res.time_elapsed) * 100
        sentences.append(msg(f"{R}.headline.attainment", "ahead" if gap >= 0 else "behind",
                             attainment=r["attainment"], elapsed=res.time_elapsed, gap_pp=gap))
    else:
        sentences.append(msg(f"{R}.headline.no_target", elapsed=res.time_elapsed))
    if res.kind == "month" and _ok(r["ytd"]):
        ytd = [msg(f"{R}.headline.ytd", value=Measured(r["ytd"], kind))]
        if _ok(r["ytd_yoy"]):
            ytd.append(msg(f"{R}.headline.ytd_yoy", rate=r["ytd_yoy"]))
        if _ok(r["ytd_attainment"]):
            ytd.append(msg(f"{R}.headline.ytd_attainment", attainment=r["ytd_attainment"], elapsed=res.ytd_time_elapsed))
        sentences.append(msg("present.sentence", clauses=ytd))
    period = msg(f"{R}.scope.period", "year" if res.kind == "year" else "month", period=res.period)
    lead = [Caution(data_note(res))] if res.data_first is not None else []
    return lead + [Cards(*cards, period=period), Para(sentences)]


def attainment_by_level(res: Any) -> list:
    """How many items have a target, and which are furthest off plan (the action points)."""
    t = res.table
    act = t[t["action"]]
    out: list = []
    if res.has_targets:
        n_def = int(t["attainment"].notna().sum())
        n_undef = int(len(t) - n_def)
        out.append(msg(f"{R}.attainment.count", "some_undefined" if n_undef else "all", level=res.level, items=len(t),
                       defined=n_def, undefined=n_undef))
        if len(act):
            items = [msg(f"{R}.attainment.gap_item", key=k, attainment=a, gap=Measured(g, res.value_kind))
                     for k, a, g in zip(_keys(act), act["attainment"], act["gap"])]
            out.append(msg(f"{R}.attainment.actions", "gap", items=items))
    elif len(act):
        items = [msg(f"{R}.attainment.decline_item", key=k, change=Measured(c, res.value_kind))
                 for k, c in zip(_keys(act), act["actual"] - act["last_year"])]
        out.append(msg(f"{R}.attainment.actions", "decline", items=items))
    return [Para(out)] if out else []


def underperformers(res: Any) -> list:
    """Who is below target in each of the last months."""
    first, last = (res.months[0], res.months[-1]) if res.months else ("", "")
    return [msg(f"{R}.underperformers.summary", "some" if res.ids else "none", count=len(res.ids), streak=res.streak,
                first=first, last=last, threshold=res.threshold, ids=names_of(res.ids, res.table))]


def trend(res: Any) -> list:
    """In plain words: is the series rising, falling or flat, and by how much a month (the
    seasonal Sen slope with its interval); which months fell outside the expected range. The
    test (seasonal Mann–Kendall, its statistic and correction) and the decomposition (STL) go
    to the section's method note."""
    t, k = res.test, res.value_kind
    out: list = []
    method: list = []
    if t is not None:
        direction = t.trend.replace(" ", "_")
        out.append(msg(f"{R}.trend.plain", f"{direction}_{res.measure if res.measure == 'amount' else 'qty'}",
                       n=t.n, start=res.test_start, slope=Measured(abs(t.slope), k),
                       lo=Measured(t.slope_low, k), hi=Measured(t.slope_high, k)))
        variant = direction + ("_adjusted" if getattr(res, "festival_adjusted", False) else "")
        method.append(msg(f"{R}.trend.test", variant, n=t.n, start=res.test_start,
                          phi=t.ar1, z=t.z, p=_p(t.p_value), slope=Measured(t.slope, k),
                          lo=Measured(t.slope_low, k), hi=Measured(t.slope_high, k)))
    elif "test" in res.parts:
        out.append(msg(f"{R}.trend.no_test", needed=res.parts["test"].details.get("needed", 24)))
    if not any(getattr(n, "code", n) == "no_stl" for n in res.notes):
        months = [str(m) for m in res.anomalies["month"]] if len(res.anomalies) else []
        if months:
            festival = all(m[-2:] in ("01", "02") for m in months)
            out.append(msg(f"{R}.trend.anomalies", "festival" if festival else "some", count=len(months), months=months))
            if getattr(res, "anomaly_cycles", 0) == 2:
                out.append(msg(f"{R}.trend.two_year"))
        else:
            out.append(msg(f"{R}.trend.anomalies", "none", count=0, months=[]))
        method.append(msg(f"{R}.trend.stl"))
    items: list = [Para(out)] if out else []
    if method:
        items.append(Method(method))
    return items


def spring_festival(res: Any) -> list:
    """Why January and February are read together; the combined and the aligned comparison."""
    out = [msg(f"{R}.spring_festival.lead")]
    jf = res.jan_feb
    if len(jf) and _ok(jf["jan_feb_yoy"].iloc[-1]):
        r = jf.iloc[-1]
        out.append(msg(f"{R}.spring_festival.jan_feb", year=int(r["year"]), jan_feb=r["jan_feb_yoy"], jan=r["jan_yoy"],
                       feb=r["feb_yoy"]))
    at = res.aligned_totals
    if len(at) and _ok(at["yoy"].iloc[-1]):
        r = at.iloc[-1]
        out.append(msg(f"{R}.spring_festival.aligned", before=res.before, after=res.after, season=int(r["season"]),
                       yoy=r["yoy"]))
    if len(res.peaks):
        out.append(msg(f"{R}.spring_festival.peaks", months=[str(m) for m in res.peaks["peak_month"]]))
    return [Para(out)]


def mix(res: Any) -> list:
    """The largest gain and the largest loss of share against last year."""
    if not res.shift_pp:
        return [msg(f"{R}.mix.no_last_year")]
    up = max(res.shift_pp, key=lambda k: res.shift_pp[k])
    dn = min(res.shift_pp, key=lambda k: res.shift_pp[k])
    direction = "down" if res.shift_pp[dn] < 0 else "up"
    return [msg(f"{R}.mix.summary", f"{res.share_measure}_{direction}", gainer=up, gain=res.shift_pp[up], loser=dn,
                loss=res.shift_pp[dn])]


def contribution(res: Any) -> list:
    """The total change and the keys that pushed it up or pulled it down most."""
    t = res.table
    top_up = t[t["change"] > 0].tail(3).iloc[::-1]
    top_dn = t[t["change"] < 0].head(3)
    k = res.value_kind
    out = [msg(f"{R}.contribution.total", "up" if res.total_change >= 0 else "down",
               change=Measured(res.total_change, k), level=res.level)]
    if len(top_up):
        out.append(msg(f"{R}.contribution.ups", items=[msg(f"{R}.contribution.item", key=key, change=Measured(c, k))
                                                      for key, c in zip(_keys(top_up), top_up["change"])]))
    if len(top_dn):
        out.append(msg(f"{R}.contribution.downs", items=[msg(f"{R}.contribution.item", key=key, change=Measured(c, k))
                                                        for key, c in zip(_keys(top_dn), top_dn["change"])]))
    return [Para(out)]


def customers(res: Any) -> list:
    """The Pareto share, class A, and the large customers (by amount, or by volume on a store
    without amounts)."""
    basis = "amount" if res.value == "amount" else "qty"
    out = [msg(f"{R}.customers.pareto", basis, customers=res.n_customers, top_pct=res.top_fraction * 100, share=res.top_share)]
    if len(res.abc):
        a = res.abc.set_index("abc_class")
        out.append(msg(f"{R}.customers.class_a", basis, customers=a.loc["A", "customers"], customer_share=a.loc["A", "customer_share"],
                       amount_share=a.loc["A", "amount_share"]))
    if len(res.big_summary):
        b = res.big_summary.set_index("size_class")
        if "large" in b.index:
            out.append(msg(f"{R}.customers.large", basis,
                           value=Measured(b.loc["large", "current"], res.value_kind), yoy=b.loc["large", "yoy"],
                           share=b.loc["large", "share"]))
    return [Para(out)]


def process_indicators(res: Any) -> list:
    """Coverage and effective guidance against their standards; their association with attainment."""
    sm, a = res.summary, res.association
    out: list = [msg(f"{R}.process.summary", reps=sm["reps"], coverage=sm["coverage"],
                     coverage_standard=res.coverage_standard, meeting_coverage=sm["reps_meeting_coverage"],
                     effective=sm["effective_rate"], effective_standard=res.effective_standard,
                     meeting_effective=sm["reps_meeting_effective"])]
    if a is not None:
        out.append(msg(f"{R}.process.association", slope=a.slope * 10, slope_low=a.slope_low * 10,
                       slope_high=a.slope_high * 10, r=a.r, r_low=a.r_low, r_high=a.r_high, r_boot_low=a.r_boot_low,
                       r_boot_high=a.r_boot_high, n=a.n))
        verdict = "includes_zero" if a.slope_low <= 0 <= a.slope_high else ("positive" if a.slope > 0 else "negative")
        out.append(msg(f"{R}.process.verdict", verdict))
    items: list = [Para(out)]
    sk = res.parts.get("association")
    if a is None and sk is not None:
        if str(sk.code) == "too_short":
            got, needed = sk.details.get("got", 0), sk.details.get("needed", 5)
            items.append(Caution(msg(f"{R}.process.no_association", "few" if got < needed else "constant", reps=got,
                                     needed=needed)))
        else:
            items.append(Caution(msg(f"{R}.process.no_association_reason", reason=skip_msg(sk))))
    return items


def forecast(res: Any) -> list:
    """The model chosen and why, the forecast with its 80 % interval, how the intervals were
    calibrated and how well they covered in the backtest."""
    f = res.forecast
    cov, own = getattr(res, "coverage", {}) or {}, getattr(res, "coverage_model", {}) or {}
    out = [msg(f"{R}.forecast.choice", "better" if res.beats_baseline else "not_better", model=res.model,
               mape=res.backtest_mape, baseline=res.baseline_mape)]
    bt = res.backtest
    if len(bt) and {"model", "mape"} <= set(bt.columns):
        c = bt[bt["model"] != "seasonal_naive"].sort_values(["mape", "model"])
        if len(c) and str(c["model"].iloc[0]) != res.model:
            out.append(msg(f"{R}.forecast.passed_over", model=str(c["model"].iloc[0])))
    k = res.value_kind
    out += [msg(f"{R}.forecast.point", period=str(p), mean=Measured(m, k), lo80=Measured(lo, k), hi80=Measured(hi, k))
            for p, m, lo, hi in zip(f["period"], f["mean"], f["lo80"], f["hi80"])]
    if getattr(res, "regressors", False):
        out.append(msg(f"{R}.forecast.regressors"))
    if getattr(res, "interval_method", "model") == "backtest_scaled":
        out.append(msg(f"{R}.forecast.calibrated", "log" if getattr(res, "log_scale", False) else "level",
                       scale=res.interval_scale, cov80=cov.get("80"), cov95=cov.get("95"),
                       own80=own.get("80"), own95=own.get("95")))
    elif cov:
        out.append(msg(f"{R}.forecast.model_intervals", cov80=cov.get("80"), cov95=cov.get("95")))
    if not getattr(res, "coverage_ok", True):
        out.append(msg(f"{R}.forecast.coverage_off"))
    return [Para(out)]


TEXTS = {"headline": headline, "attainment_by_level": attainment_by_level, "underperformers": underperformers,
         "trend": trend, "spring_festival": spring_festival, "mix": mix, "contribution": contribution,
         "customers": customers, "process_indicators": process_indicators, "forecast": forecast}


# ======================================================================= the data note
def data_note(res: Any) -> Msg:
    """One line on the data used: window, grain, report period, filters (from the headline
    result's ``data_first``, ``data_last``, ``grain``, ``period``, ``kind``, ``complete`` and
    ``filters``)."""
    period = msg(f"{R}.scope.period", "year" if res.kind == "year" else "month", period=res.period)
    fl = [msg(f"{R}.scope.filter", column=k, values=[str(x) for x in v]) for k, v in (res.filters or {}).items() if v]
    variant = ("complete" if res.complete else "partial") + ("_filtered" if fl else "")
    return msg(f"{R}.scope.lead", variant, first=res.data_first, last=res.data_last, grain=res.grain, period=period,
               items=fl)

"""Headcount and attrition: the headline figures of the headline window and the attrition tables
(by region, year, exit reason and hiring cohort).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import privacy
from .data import RetentionData, headline_window_start


def headline(data: RetentionData) -> dict[str, Any]:
    """Headline figures on the people of the 12 months to as_of (both sources alike).

    Returns
    -------
    dict
        people, headcount, exits, attrition_rate, first_year_people, first_year_exits,
        first_year_attrition.

    Examples
    --------
    >>> headline(data)["exits"]  # doctest: +SKIP
    """
    w = data.window
    n = int(len(w))
    exits = int(w["left"].sum())
    fy = w[w["tenure"] < 12.0]
    fy_n, fy_x = int(len(fy)), int(fy["left"].sum())
    return {
        "people": n,
        "headcount": n - exits,
        "exits": exits,
        "attrition_rate": exits / n if n else math.nan,
        "first_year_people": fy_n,
        "first_year_exits": fy_x,
        "first_year_attrition": fy_x / fy_n if fy_n else math.nan,
    }


#: the region of the total row of the attrition table (shown as the label ``incentive_retention.value.total``)
TOTAL = "total"


@dataclass
class AttritionTables:
    """Section 1 tables, each already suppressed for small groups. Categories stay codes:
    ``exit_reason`` as stored (voluntary, involuntary), the total row's region ``"total"``."""

    by_region: pd.DataFrame
    by_cohort: pd.DataFrame
    by_reason: pd.DataFrame
    by_year: pd.DataFrame
    suppressed_cells: int


def _window_by_region(w: pd.DataFrame, hired_from: pd.Timestamp | None, k: int) -> tuple[pd.DataFrame, int]:
    """People, hires (on or after ``hired_from``), exits, headcount and attrition (exits ÷
    people) by region of the headline window's people, small regions suppressed, and a total
    row equal to the headline cards (:func:`headline`)."""
    w = w.assign(hired=(pd.to_datetime(w["hire_date"]) >= hired_from) if hired_from is not None and "hire_date" in w
                 else False)
    by_region = w.groupby("region", dropna=False).agg(
        people=("person_id", "size"), hires=("hired", "sum"), exits=("left", "sum")).reset_index()
    n, exits = len(w), int(w["left"].sum())
    total = {"region": TOTAL, "people": n, "hires": int(w["hired"].sum()), "exits": exits}
    cols = ["region", "people", "hires", "exits", "headcount", "attrition_rate"]
    if hired_from is None:
        by_region, cols = by_region.drop(columns="hires"), [c for c in cols if c != "hires"]
        del total["hires"]
    by_region["exits"] = by_region["exits"].astype(int)
    by_region["headcount"] = by_region["people"] - by_region["exits"]
    by_region["attrition_rate"] = by_region["exits"] / by_region["people"]
    total.update(headcount=n - exits, attrition_rate=exits / n if n else math.nan)
    s = privacy.suppress_small(by_region[cols], "people", k, dims=["region"])
    return pd.concat([s.frame, pd.DataFrame([total])[cols]], ignore_index=True), s.n_suppressed


def attrition_tables(data: RetentionData) -> AttritionTables:
    """Attrition by region and exit reason on the people of the headline window, annualised
    attrition by year, first-year attrition by hiring cohort.

    The tables by region and by reason count the same people, exits and denominator as the
    headline cards (:func:`headline`: the people employed at any time in the 12 months to
    ``as_of``, not before the data start; attrition = exits ÷ people; a snapshot: its people),
    and the total row of the table by region *is* the cards. By year: annualised attrition =
    exits of the year ÷ its average monthly headcount × 12 ÷ its months (every month of the
    data). Groups below ``min_group_size`` people are suppressed (complementary).

    Examples
    --------
    >>> t = attrition_tables(data); t.by_region.columns.tolist()  # doctest: +SKIP
    """
    k = data.min_group_size
    n_sup = 0
    p = data.people
    if data.panel is not None:
        panel = data.panel
        w = data.window
        hired_from = pd.Timestamp(headline_window_start(data.as_of, data.data_start))
        by_region, n = _window_by_region(w, hired_from, k)
        n_sup += n
        py = panel.assign(year=panel["period"].dt.year)
        by_year = py.groupby("year").agg(
            people=("rep_id", "nunique"), person_months=("rep_id", "size"), exits=("event", "sum"),
            months=("period", "nunique"),
        ).reset_index()
        by_year["avg_headcount"] = by_year["person_months"] / by_year["months"]
        by_year["attrition_rate"] = by_year["exits"] / by_year["avg_headcount"] * 12 / by_year["months"]
        by_year["year"] = by_year["year"].astype(str)
        by_year = by_year[["year", "months", "people", "exits", "avg_headcount", "attrition_rate"]]
        s = privacy.suppress_small(by_year, "people", k, dims=["year"])
        n_sup += s.n_suppressed
        by_year = s.frame
        leavers = w[w["left"]]
    else:
        w = p
        if p["region"].notna().any():
            by_region, n = _window_by_region(p, None, k)
            n_sup += n
        else:
            by_region = pd.DataFrame(columns=["region", "people", "exits", "headcount", "attrition_rate"])
        by_year = pd.DataFrame()
        leavers = p[p["left"]]
    # voluntary vs involuntary among the exits of the headline window (the cards' exits)
    if leavers["exit_reason"].notna().any():
        by_reason = leavers.groupby("exit_reason").agg(exits=("person_id", "size")).reset_index()
        by_reason["share"] = by_reason["exits"] / by_reason["exits"].sum()
        s = privacy.suppress_small(by_reason, "exits", k, dims=["exit_reason"])
        n_sup += s.n_suppressed
        by_reason = s.frame
    else:
        by_reason = pd.DataFrame(columns=["exit_reason", "exits", "share"])
    # first-year attrition by hiring cohort: hired in the data window, first 12 months observed
    if data.panel is not None:
        # only people hired at least 12 months before as_of: their first year is fully observed
        hd = pd.to_datetime(p["hire_date"])
        hired = p[(hd >= pd.Timestamp(data.data_start))
                  & (hd <= pd.Timestamp(data.as_of) - pd.DateOffset(months=12))].copy()
        hired["left_first_year"] = hired["left"] & (hired["tenure"] < 12)
        by_cohort = hired.groupby("hire_cohort").agg(
            people=("person_id", "size"), exits_first_year=("left_first_year", "sum")).reset_index()
        by_cohort["first_year_attrition"] = by_cohort["exits_first_year"] / by_cohort["people"]
        s = privacy.suppress_small(by_cohort, "people", k, dims=["hire_cohort"])
        n_sup += s.n_suppressed
        by_cohort = s.frame
    else:
        by_cohort = pd.DataFrame(columns=["hire_cohort", "people", "exits_first_year", "first_year_attrition"])
    return AttritionTables(by_region=by_region, by_cohort=by_cohort, by_reason=by_reason, by_year=by_year,
                           suppressed_cells=n_sup)

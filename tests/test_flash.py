"""The weekly flash (analysis.flash): the month so far on any day, against target and working-day pace."""
from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import flash, model
from analysis.narrative import flash as texts
from analysis.params.weekly_flash import WeeklyFlashParams as Params
from analysis.present import render

CUTS = {"2026-10-10": 3, "2026-10-20": 10, "2026-10-31": 18}  # working days worked (hand-counted, below)


def test_working_days_follow_the_china_calendar():
    # October 2026: 22 weekdays; National Day 1–2 and 5–7 (Thu, Fri, Mon–Wed) off; Sat 10 worked (调休)
    oct_ = flash.working_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert len(oct_) == 18
    assert dt.date(2026, 10, 10) in oct_ and not any(dt.date(2026, 10, d) in oct_ for d in range(1, 8))
    # February 2026: 20 weekdays; Spring Festival 16–20 and 23 off; Sat 14 and Sat 28 worked
    feb = flash.working_days(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert len(feb) == 16 and dt.date(2026, 2, 14) in feb and dt.date(2026, 2, 17) not in feb


@pytest.fixture(scope="module", params=list(CUTS))
def cut(request, demo_con):
    scope = flash.prepare(demo_con, Params.of(as_of=request.param))
    return request.param, scope, flash.pace(scope), flash.week_on_week(scope), flash.behind(scope)


def _sum(con, start: dt.date, end: dt.date) -> float:
    t = model.sales_lines(con)
    d = t.order_date.cast("date")
    return float(t.filter((d >= start) & (d <= end)).amount.sum().execute() or 0.0)


def test_month_to_date_never_called_the_month(cut, demo_con):
    day, scope, pace, _, _ = cut
    as_of = dt.date.fromisoformat(day)
    assert pace.period == f"2026-10-01..{day}" and pace.partial == (day != "2026-10-31")
    assert flash.scope_metrics(scope)["period"] == pace.period
    assert pace.worked == CUTS[day] and pace.working_days == 18
    assert pace.elapsed == pytest.approx(CUTS[day] / 18)
    assert pace.actual == pytest.approx(_sum(demo_con, dt.date(2026, 10, 1), as_of))
    text = " ".join(b.payload for b in render(pace, "en", texts.pace) if b.kind == "paragraph")
    assert f"2026-10-01 to {day}" in text and "month to date" in text and "October" not in text


def test_needed_per_day_finishes_the_target(cut):
    day, _, pace, _, _ = cut
    assert pace.target > 0
    assert pace.gap == pytest.approx(pace.actual - pace.target * pace.elapsed)
    if pace.remaining:
        assert pace.actual + pace.needed_per_day * pace.remaining == pytest.approx(max(pace.target, pace.actual))
    else:  # the last day: nothing left to ask for, and the page says why
        assert math.isnan(pace.needed_per_day) and [n.code for n in pace.notes] == ["no_days_left"]


def test_week_on_week_is_the_last_7_days_against_the_7_before(cut, demo_con):
    day, _, _, wow, _ = cut
    as_of = dt.date.fromisoformat(day)
    this = _sum(demo_con, as_of - dt.timedelta(days=6), as_of)
    last = _sum(demo_con, as_of - dt.timedelta(days=13), as_of - dt.timedelta(days=7))
    assert (wow.this_week, wow.last_week) == (pytest.approx(this), pytest.approx(last))
    assert wow.change == pytest.approx(this / last - 1)
    assert wow.table["this_week"].sum() == pytest.approx(this)


def test_behind_lists_regions_and_the_reps_furthest_behind(cut):
    _, scope, pace, _, behind = cut
    assert len(behind.regions) == 6
    assert behind.regions["actual"].sum() == pytest.approx(pace.actual, rel=1e-9)  # every line has a region
    assert list(behind.regions["gap"]) == sorted(behind.regions["gap"])
    reps = behind.reps
    assert 0 < len(reps) <= scope.params.behind_rows and (reps["gap"] < 0).all()
    assert list(reps["gap"]) == sorted(reps["gap"]) and reps["name"].notna().all()
    for lang in ("zh", "en"):
        blocks = render(behind, lang, texts.behind)
        assert [b.kind for b in blocks].count("table") == 2


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.integers(1, 31))
def test_pace_invariants_on_any_day(demo_con, day):
    scope = flash.prepare(demo_con, Params.of(as_of=f"2026-10-{day:02d}"))
    p = flash.pace(scope)
    assert 0 <= p.worked <= p.working_days == 18 and p.remaining == 18 - p.worked
    assert 0 <= p.elapsed <= 1
    assert p.actual >= 0 and p.attainment == pytest.approx(p.actual / p.target)


def test_a_day_after_the_data_says_so(demo_con):
    scope = flash.prepare(demo_con, Params.of(as_of="2026-11-05"))
    p = flash.pace(scope)
    assert p.skip is not None and p.skip.code.value == "no_data"
    scope = flash.prepare(demo_con)  # default: the last order date
    assert scope.as_of == dt.date(2026, 10, 31) and not scope.partial


def test_build_flash_writes_html_docx(demo_world, tmp_path):
    import docx
    from bs4 import BeautifulSoup

    from analysis.meeting.weekly import build_flash

    res = build_flash("2026-10-20", store=demo_world[0], out=tmp_path, lang="zh", pdf=False)
    assert res["folder"] == tmp_path / "weekly_flash" / "2026-10-20"
    soup = BeautifulSoup(res["html"].read_text(encoding="utf-8"), "html.parser")
    d = docx.Document(str(res["docx"]))
    html_heads = [h.get_text(strip=True) for h in soup.find("main").find_all("h2")]
    assert html_heads == [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert len(d.tables) == len(soup.find("main").find_all("table")) == 3
    assert res["metrics"]["partial"] is True and res["metrics"]["worked_days"] == 10
    assert "2026-10-01至2026-10-20" in "\n".join(p.text for p in d.paragraphs)


def test_a_volume_flash_writes_the_products_unit_never_yuan():
    """measure=qty on products sold by the case: cards, sentences and items say 箱, never 万元."""
    pace = flash.Pace(value_kind="qty_case", period="2026-10-01..2026-10-20", as_of="2026-10-20", worked=10,
                      working_days=18, remaining=8, elapsed=10 / 18, actual=52000.0, target=90000.0,
                      attainment=52000 / 90000, gap=52000 - 90000 * 10 / 18, needed_per_day=4750.0, run_rate=5200.0)
    zh = render(pace, "zh", texts.pace)
    cards = next(b.payload for b in zh if b.kind == "cards")
    text = " ".join(b.payload for b in zh if b.kind == "paragraph")
    assert cards["月累计"] == "52,000箱" and cards["每个工作日需完成"] == "4,750箱"
    assert "52,000箱" in text and "90,000箱" in text and "4,750箱" in text and "万元" not in text
    week = flash.WeekOnWeek(value_kind="qty_case", this_start="2026-10-14", this_end="2026-10-20",
                            last_start="2026-10-07", last_end="2026-10-13", this_week=14000.0, last_week=12000.0,
                            change=14000 / 12000 - 1)
    en = " ".join(b.payload for b in render(week, "en", texts.week_on_week) if b.kind == "paragraph")
    assert "14,000 cases" in en and "12,000 cases" in en and "yuan" not in en

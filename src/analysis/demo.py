"""The demo world: a deterministic sales organisation with known, planted effects.

:func:`build` writes the canonical tables (orders, customers, products, reps, targets,
visits, feedback, compensation) into a store and a truth record (``demo_truth.json``)
that says what was planted. docs/DEMO_WORLD.md is the contract; the reports' tests
rely on it.

How the plants are made exact
-----------------------------
- Rep targets are written after the orders, as actual ÷ planned attainment, so the
  planned attainment (which also drives the exit hazard and the bonus) is realised exactly.
- Launch SKUs are ordered from explicit schedules: exactly ``round(D × active)`` customers
  order in the 30-day window, exactly ``round(R × adopters)`` of them on two dates or more,
  and no launch SKU is ordered on days 30 and 31 after the launch (so windows of 30 or 31
  days give the same answer).
- Mix shift and Spring Festival peaks are recorded from the expected volumes the generator
  used (the realised values differ by sampling noise only).

Orders are generated week by week with numpy and written in chunks, so scale 25
(≈ 100M lines) never holds all lines in memory.

Proportions are those of a real city company: 250 account-manager positions in six county
departments, each serving a book of about 120 retailers (30,000 at scale 1; docs/DEMO_WORLD.md
says why and how the order lines stay about 4M).
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype
import pyarrow as pa

from . import store as store_mod
from .errors import ParameterError


class DemoWarning(UserWarning):
    """Something about the demo build worth knowing (the world is still built)."""

__all__ = ["build", "build_profile", "PROFILES", "REGIONS", "HAZARD_RATIOS"]

#: The demo worlds: ``tobacco`` (the default: order lines, retailers, SKUs) and ``agency`` (a
#: life-insurance branch: agents, policies, premium receipts; :mod:`analysis.agency.demo`).
PROFILES = ("tobacco", "agency")

# ---------------------------------------------------------------------------------------------
# Design constants
# ---------------------------------------------------------------------------------------------
REGIONS: tuple[tuple[str, str], ...] = (
    ("市区", "urban"), ("城东", "urban"), ("北县", "rural"), ("南县", "rural"), ("西县", "rural"), ("东县", "rural"),
)
REGION_WEIGHTS = np.array([0.22, 0.18, 0.16, 0.15, 0.15, 0.14])
N_SLOTS = 250  # positions: headcount is N_SLOTS minus vacancies
# A city company of six county departments: 250 account-manager positions, each with a book of
# about 120 retailers (100–300 in tobacco practice). Retailers order weekly (large and medium) or
# every other week (small); an order has 1 + Poisson(EXTRA_LINES) regular lines, so the world's
# proportions are real while the order lines stay a few million.
N_CUSTOMERS_SCALE1 = 30_000
MIN_CUSTOMERS = 300
BOOK_FLOOR = 0.85  # every position's book holds at least this share of the even split of its region
ORDER_CYCLE_WEEKS = (1, 1, 2)  # by size class: large, medium, small
EXTRA_LINES = 0.0  # regular lines per order: 1 + Poisson(EXTRA_LINES)
# ... and a regular line carries about what four lines of BASE_QTY would: retailers buy as much as
# before (launch lines, of BASE_QTY, stay a few per cent of the sales)
REGULAR_LINE_QTY = 4.0
VISIT_EXTRA = 0.25  # visits per customer and month: 1 + Poisson(VISIT_EXTRA)
N_UNDERPERFORMERS = 8

#: planted hazard ratios per unit, as the retention report measures them
HAZARD_RATIOS = {
    "payout_delay_days": 1.04,
    "team_bonus_share": 0.25,
    "promoted_last_12m": 0.45,
    "attainment": 0.25,
}
# baseline monthly hazard at the reference covariates (no delay, share 0.3, not promoted, 100 %)
# a rep's monthly attainment: level (by rep) + a persistent deviation, AR(1) with this coefficient
ATT_AR = 0.5
ATT_SD = 0.13
H_FIRST_YEAR = 0.07
H_LATER = 0.022
X_REF = {"payout_delay_days": 0.0, "team_bonus_share": 0.3, "promoted_last_12m": 0.0, "attainment": 1.0}

PRICE_CLASSES = ("一类", "二类", "三类", "四类", "五类")
# (price class, brand, sku name, unit price per carton)
OLD_RANGE: tuple[tuple[str, str, str, float], ...] = (
    ("一类", "中华", "中华(硬)", 450.0), ("一类", "中华", "中华(软)", 650.0),
    ("一类", "黄鹤楼", "黄鹤楼(硬珍品)", 360.0), ("一类", "芙蓉王", "芙蓉王(硬中支)", 320.0),
    ("一类", "玉溪", "玉溪(软)", 330.0), ("一类", "利群", "利群(休闲)", 400.0),
    ("二类", "芙蓉王", "芙蓉王(硬)", 250.0), ("二类", "玉溪", "玉溪(硬)", 230.0),
    ("二类", "利群", "利群(新版)", 220.0), ("二类", "南京", "南京(炫赫门)", 210.0),
    ("二类", "黄鹤楼", "黄鹤楼(软蓝)", 280.0), ("二类", "娇子", "娇子(宽窄)", 260.0),
    ("二类", "云烟", "云烟(大重九)", 295.0), ("二类", "七匹狼", "七匹狼(通仙)", 240.0),
    ("三类", "云烟", "云烟(紫)", 110.0), ("三类", "白沙", "白沙(精品)", 120.0),
    ("三类", "红塔山", "红塔山(硬经典)", 105.0), ("三类", "南京", "南京(红)", 130.0),
    ("三类", "利群", "利群(软长嘴)", 150.0), ("三类", "双喜", "双喜(硬红)", 112.0),
    ("三类", "娇子", "娇子(蓝)", 180.0), ("三类", "七匹狼", "七匹狼(白)", 160.0),
    ("三类", "泰山", "泰山(红将军)", 135.0), ("三类", "真龙", "真龙(凌云)", 170.0),
    ("四类", "红河", "红河(硬)", 65.0), ("四类", "白沙", "白沙(硬)", 70.0),
    ("四类", "红塔山", "红塔山(软)", 75.0), ("四类", "双喜", "双喜(软)", 80.0),
    ("四类", "泰山", "泰山(白将军)", 95.0), ("四类", "云烟", "云烟(软珍品)", 90.0),
    ("四类", "真龙", "真龙(娇子)", 85.0), ("四类", "红金龙", "红金龙(硬)", 62.0),
    ("五类", "红梅", "红梅(软黄)", 35.0), ("五类", "大前门", "大前门(短)", 40.0),
    ("五类", "红金龙", "红金龙(软)", 45.0), ("五类", "哈德门", "哈德门(精品)", 50.0),
    ("五类", "黄金叶", "黄金叶(乐途)", 55.0), ("五类", "双喜", "双喜(经典)", 58.0),
)
INCUMBENT_NAME = "芙蓉王(硬)"  # the incumbent in the strong launch's price class
UNTOUCHED_CLASS = "五类"


@dataclass(frozen=True)
class LaunchDesign:
    role: str  # strong / weak / earlier
    price_class: str
    brand: str
    sku_name: str
    unit_price: float
    month_offset: int  # months before the last month (0 = last month)
    day: int  # launch on the first Tuesday on/after this day of that month
    distribution: float
    repeat: float
    rating_p: tuple[float, float, float, float, float]
    n_ratings: int
    later_adopt: float  # weekly adoption probability after the window
    stay_repeat: float  # weekly ordering probability after the window, repeaters
    stay_single: float  # ... customers who ordered once in the window
    qty_factor: float


LAUNCHES: tuple[LaunchDesign, ...] = (
    LaunchDesign("earlier", "三类", "锦绣", "锦绣(蓝)", 140.0, 31, 10, 0.40, 0.45,
                 (0.04, 0.08, 0.22, 0.40, 0.26), 220, 0.004, 0.45, 0.10, 0.5),
    LaunchDesign("earlier", "一类", "金桥", "金桥(典藏)", 380.0, 25, 8, 0.30, 0.35,
                 (0.06, 0.12, 0.30, 0.32, 0.20), 180, 0.003, 0.40, 0.08, 0.5),
    LaunchDesign("earlier", "四类", "星河", "星河(硬)", 85.0, 18, 6, 0.48, 0.50,
                 (0.03, 0.07, 0.20, 0.42, 0.28), 240, 0.004, 0.50, 0.12, 0.5),
    LaunchDesign("earlier", "二类", "天香", "天香(金)", 240.0, 12, 9, 0.25, 0.30,
                 (0.08, 0.16, 0.32, 0.28, 0.16), 160, 0.003, 0.35, 0.08, 0.5),
    LaunchDesign("strong", "二类", "云岭", "云岭(细支)", 260.0, 2, 10, 0.56, 0.62,
                 (0.02, 0.04, 0.10, 0.40, 0.44), 300, 0.005, 0.55, 0.12, 0.6),
    LaunchDesign("weak", "三类", "海韵", "海韵(中支)", 150.0, 1, 6, 0.18, 0.24,
                 (0.12, 0.26, 0.30, 0.22, 0.10), 260, 0.002, 0.25, 0.05, 0.4),
)
WINDOW_DAYS = 30
GAP_DAYS = 2  # no launch orders on days 30, 31 after the launch
CANNIBALIZED_SHARE = 0.40

# mean cartons per line by size class, and class factor of the variable part
BASE_QTY = {"large": 24.0, "medium": 9.0, "small": 4.0}
CLASS_QTY_FACTOR = np.array([0.5, 0.7, 1.0, 1.1, 1.2])
# class weights of regular lines at the start, by area, and their drift per year (log scale)
CLASS_W0 = {"urban": np.array([0.12, 0.20, 0.30, 0.23, 0.15]), "rural": np.array([0.05, 0.12, 0.30, 0.30, 0.23])}
CLASS_DRIFT = np.array([0.10, 0.08, 0.0, -0.05, -0.10])
TREND_PER_YEAR = 0.05
# month-to-month demand shocks: AR(1) on the log of the variable part of every line's quantity
# (the whole market moves together: weather, stocking, local events)
NOISE_AR = 0.6
NOISE_SD = 0.04  # stationary standard deviation of the monthly log shock
FESTIVAL_LIFT = 2.2  # volume factor in the 3 weeks before the Spring Festival
FESTIVAL_DIP = 0.7  # ... in the festival week
RETURN_SHARE = 0.001

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞鹏斌宇浩凯婷雪琳晨阳欣怡佳子豪博文俊")
SHOP_KINDS = ("便利店", "烟酒店", "超市", "食杂店", "商行")
CHANNELS = ("便利店", "烟酒店", "商超", "食杂店")


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------
@dataclass
class Calendar:
    start: date
    end: date
    days: np.ndarray  # datetime64[D]
    day_month: np.ndarray  # month index 0..n_months-1 of each day
    weekday: np.ndarray  # 0 = Monday
    month_starts: list[date]
    festivals: list[date]
    day_factor: np.ndarray  # festival lift × trend × monthly demand shock, by day
    shock: np.ndarray = field(default=None)  # monthly log demand shock (AR(1))
    class_drift: np.ndarray = field(default=None)  # per-year log drift of the class weights

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def n_months(self) -> int:
        return len(self.month_starts)

    def idx(self, d: date) -> int:
        return (d - self.start).days

    def week_of(self, day: int | np.ndarray) -> int | np.ndarray:
        """Week number of a day index (weeks start on Monday; week 0 holds the first day)."""
        return (np.asarray(day) + int(self.weekday[0])) // 7


def _add_months(d: date, k: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return date(y, m + 1, 1)


def _spring_festivals(first_year: int, last_year: int) -> list[date]:
    """First day of the Spring Festival of each year, from the ``holidays`` China calendar."""
    import holidays

    cal = holidays.China(years=range(first_year, last_year + 1), language="en_US")
    out: dict[int, date] = {}
    for d, name in cal.items():
        if "Spring Festival" in name and "observed" not in name.lower():
            out[d.year] = min(out.get(d.year, d), d)
    return [out[y] for y in sorted(out)]


def ar1_shocks(n: int, rng: np.random.Generator, phi: float = NOISE_AR, sd: float = NOISE_SD) -> np.ndarray:
    """A stationary AR(1) series of length ``n``: x[t] = phi·x[t-1] + e[t], sd(x) = ``sd``.

    Examples
    --------
    >>> ar1_shocks(36, np.random.default_rng(0)).shape
    (36,)
    """
    e = rng.normal(0.0, sd * np.sqrt(1.0 - phi ** 2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def _calendar(end: date, n_months: int = 36, rng: np.random.Generator | None = None, null: bool = False) -> Calendar:
    start = _add_months(date(end.year, end.month, 1), -(n_months - 1))
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1, dtype="datetime64[D]")
    ym = days.astype("datetime64[M]").astype(int)
    day_month = ym - ym[0]
    weekday = (days.astype(int) + 3) % 7
    month_starts = [_add_months(start, k) for k in range(n_months)]
    festivals = [f for f in _spring_festivals(start.year, end.year + 1) if start <= f <= end + timedelta(days=21)]
    trend = 0.0 if null else TREND_PER_YEAR
    factor = 1.0 + trend * (np.arange(len(days)) / 365.25)
    for f in festivals:
        i = (f - start).days
        factor[max(0, i - 21):max(0, i)] *= FESTIVAL_LIFT
        factor[max(0, i):max(0, i + 7)] *= FESTIVAL_DIP
    shock = ar1_shocks(n_months, rng if rng is not None else np.random.default_rng(0))
    factor = factor * np.exp(shock[day_month])
    drift = np.zeros_like(CLASS_DRIFT) if null else CLASS_DRIFT.copy()
    return Calendar(start, end, days, day_month, weekday, month_starts, festivals, factor, shock, drift)


# ---------------------------------------------------------------------------------------------
# Dimensions
# ---------------------------------------------------------------------------------------------
def _first_weekday_on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def _products(cal: Calendar, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for pc, brand, name, price in OLD_RANGE:
        rows.append(dict(price_class=pc, brand=brand, sku_name=name, unit_price=price, launch_date=None, role=None))
    last = date(cal.end.year, cal.end.month, 1)
    for ld in LAUNCHES:
        m0 = _add_months(last, -ld.month_offset)
        when = _first_weekday_on_or_after(date(m0.year, m0.month, ld.day), 1)  # a Tuesday
        rows.append(dict(price_class=ld.price_class, brand=ld.brand, sku_name=ld.sku_name,
                         unit_price=ld.unit_price, launch_date=when, role=ld.role))
    df = pd.DataFrame(rows)
    df.insert(0, "sku_id", [f"S{i + 1:03d}" for i in range(len(df))])
    df["pack_unit"] = "条"
    df["class_idx"] = df["price_class"].map({c: i for i, c in enumerate(PRICE_CLASSES)}).astype(int)
    # popularity of the old range within its class; the incumbent is the class leader
    w = rng.lognormal(0.0, 0.6, len(df))
    w[df["launch_date"].notna().to_numpy()] = 0.0
    inc = int(np.flatnonzero(df["sku_name"].to_numpy() == INCUMBENT_NAME)[0])
    same = (df["class_idx"] == df.loc[inc, "class_idx"]).to_numpy()
    w[inc] = 1.6 * w[same].max()
    df["within_w"] = w
    for c in range(len(PRICE_CLASSES)):
        m = (df["class_idx"] == c).to_numpy()
        df.loc[m, "within_w"] = w[m] / w[m].sum()
    return df


def _name(rng: np.random.Generator, n: int) -> np.ndarray:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN, n)
    two = rng.random(n) < 0.6
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1))


@dataclass
class Customers:
    df: pd.DataFrame
    region: np.ndarray
    urban: np.ndarray  # bool
    size: np.ndarray  # 0 large, 1 medium, 2 small
    slot: np.ndarray
    weekday: np.ndarray  # order weekday 0..5
    opened_idx: np.ndarray  # day index of opening (<= 0 before the start)
    cycle: np.ndarray = field(default=None)  # order cycle in weeks (1 weekly, 2 every other week)
    phase: np.ndarray = field(default=None)  # which weeks of the cycle (0 or 1)

    def orders_in_week(self, week: int | np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Whether customers ``idx`` order in calendar week ``week`` (weeks counted from the Monday
        on or before the data start, see :meth:`Calendar.week_of`)."""
        return (np.asarray(week) + self.phase[idx]) % self.cycle[idx] == 0


def _slots_by_region(n_cust_region: np.ndarray) -> np.ndarray:
    raw = N_SLOTS * n_cust_region / n_cust_region.sum()
    k = np.floor(raw).astype(int)
    k[np.argsort(-(raw - k))[: N_SLOTS - k.sum()]] += 1
    return k


def slot_regions() -> np.ndarray:
    """Region of each position (fixed, so the workforce does not depend on the scale)."""
    k = _slots_by_region(np.round(REGION_WEIGHTS * 1e6).astype(int))
    return np.repeat(np.arange(len(REGIONS)), k)


def _books(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Region, position and anchor flag of ``n`` customers, in allocation order.

    Every region holds customers in proportion to its positions; within a region every position
    gets a book of at least ``BOOK_FLOOR`` × the even split (at least one customer), the rest of the
    region's customers by lognormal weights (books differ as real ones do: at scale 1 about
    100–160 retailers). The first customer of each book is its anchor (open from the start)."""
    slot_region = slot_regions()
    k_r = np.bincount(slot_region, minlength=len(REGIONS))
    raw = n * k_r / N_SLOTS
    n_r = np.floor(raw).astype(int)
    n_r[np.argsort(-(raw - n_r))[: n - n_r.sum()]] += 1
    slots, regions = [], []
    for r in range(len(REGIONS)):
        ss = np.flatnonzero(slot_region == r)
        base = max(1, int(np.floor(BOOK_FLOOR * n_r[r] / len(ss))))
        w = rng.lognormal(0.0, 0.5, len(ss))
        rest = n_r[r] - base * len(ss)
        raw_e = rest * w / w.sum()
        e = np.floor(raw_e).astype(int)
        e[np.argsort(-(raw_e - e))[: rest - e.sum()]] += 1
        sizes = base + e
        slots.append(np.repeat(ss, sizes))
        regions.append(np.full(sizes.sum(), r))
    slot = np.concatenate(slots)
    region = np.concatenate(regions)
    anchor = np.r_[True, slot[1:] != slot[:-1]]
    return region, slot, anchor


def _customers(cal: Calendar, n: int, rng: np.random.Generator, null: bool = False) -> Customers:
    region, slot, first_of_slot = _books(n, rng)
    perm = rng.permutation(n)  # customer numbers do not reveal who came first
    region, slot, first_of_slot = region[perm], slot[perm], first_of_slot[perm]
    size = rng.choice(3, n, p=[0.10, 0.30, 0.60])
    weekday = rng.integers(0, 6, n)
    # most customers opened before the start; a few open during the first 30 months
    late = (~first_of_slot) & (rng.random(n) < 0.05)
    if null:  # no new retailers: the market does not grow
        late[:] = False
    opened_idx = -rng.integers(30, 15 * 365, n)
    opened_idx[late] = rng.integers(1, min(cal.n_days - 180, 30 * 30), late.sum())
    urban = np.array([REGIONS[r][1] == "urban" for r in region])
    width = max(5, len(str(n)))
    sizes = np.array(["large", "medium", "small"])
    regions = np.array([r[0] for r in REGIONS])
    names = np.char.add(np.char.add(regions[region], rng.choice(SURNAMES, n)), np.char.add("记", rng.choice(SHOP_KINDS, n)))
    df = pd.DataFrame({
        "customer_id": [f"C{i + 1:0{width}d}" for i in range(n)],
        "name": names,
        "region": regions[region],
        "area_type": np.where(urban, "urban", "rural"),
        "size_class": sizes[size],
        "channel": np.array(CHANNELS)[rng.choice(len(CHANNELS), n, p=[0.35, 0.25, 0.10, 0.30])],
        "opened_on": (np.datetime64(cal.start) + opened_idx).astype("datetime64[D]"),
    })
    cycle = np.array(ORDER_CYCLE_WEEKS)[size]
    phase = rng.integers(0, 2, n)
    return Customers(df, region, urban, size, slot, weekday, opened_idx, cycle, phase)


# ---------------------------------------------------------------------------------------------
# Workforce: positions, reps, monthly covariates, exits (the hazard plant)
# ---------------------------------------------------------------------------------------------
@dataclass
class Workforce:
    reps: pd.DataFrame
    panel: pd.DataFrame  # rep_idx, month, attainment, delay, share, promoted, promoted_12m, exit, ...
    serve: np.ndarray  # (n_days, N_SLOTS) rep index serving the slot's customers that day
    own: np.ndarray  # (n_days, N_SLOTS) rep index occupying the slot (-1 vacant)
    underperformers: list[int]
    slot_region: np.ndarray


def _bonus_total(pool: float, att: float, senior: bool) -> float:
    """Monthly bonus (individual + team) before the split: steep in attainment (a commission on
    completion: the pool at 100 %, twice the pool at 150 %, at least a tenth of it)."""
    return pool * max(0.1, 2.0 * att - 1.0) * (1.3 if senior else 1.0)


def _workforce(cal: Calendar, slot_region: np.ndarray, rng: np.random.Generator, null: bool = False) -> Workforce:
    n_m = cal.n_months
    n_regions = len(REGIONS)
    # payout delay: 0-2 days everywhere; stretches of 6-30 days late (and a few spikes) in three
    # rural regions
    delay = rng.integers(0, 3, (n_regions, n_m)).astype(float)
    rural = [i for i, r in enumerate(REGIONS) if r[1] == "rural"]
    late_regions = rng.choice(rural, 3, replace=False)
    for r in late_regions:
        a = int(rng.integers(0, n_m - 14))
        length = int(rng.integers(8, 15))
        delay[r, a:a + length] = rng.integers(6, 31, length)
        spikes = rng.choice(n_m, 3, replace=False)
        delay[r, spikes] = np.maximum(delay[r, spikes], rng.integers(5, 20, 3))
    # team bonus share: a policy per team (two teams per region), reset every 12 months
    team_of_slot = np.zeros(N_SLOTS, dtype=int)
    for r in range(n_regions):
        ss = np.flatnonzero(slot_region == r)
        team_of_slot[ss] = 2 * r + (np.arange(len(ss)) % 2)
    n_teams = 2 * n_regions
    share_policy = rng.choice(np.arange(0.0, 0.61, 0.1), (n_teams, (n_m + 11) // 12))

    reps: list[dict[str, Any]] = []

    def new_rep(slot: int, hire: date, initial: bool) -> int:
        if initial:
            senior = rng.random() < 0.35 and (cal.start - hire).days > 3 * 365
        else:
            senior = False
        reps.append(dict(slot=slot, region=int(slot_region[slot]), team=int(team_of_slot[slot]), hire_date=hire,
                         exit_date=None, exit_reason=None, senior=senior,
                         level=float(rng.normal(1.0 if initial else 0.97, 0.10)),
                         pool=float(rng.uniform(2000, 3000)), guide=float(rng.uniform(0.4, 0.98)),
                         effective=float(rng.uniform(0.7, 0.92)), promos=[], delays={}))
        return len(reps) - 1

    occupant = np.full(N_SLOTS, -1)
    next_hire_month = np.full(N_SLOTS, -1)
    for s in range(N_SLOTS):
        tenure_days = int(rng.uniform(10, 365)) if rng.random() < 0.25 else int(min(12 * 365, rng.exponential(4 * 365) + 365))
        occupant[s] = new_rep(s, cal.start - timedelta(days=tenure_days), True)

    b = {k: (0.0 if null else float(np.log(v))) for k, v in HAZARD_RATIOS.items()}
    rows = []
    row_at: dict[tuple[int, int], int] = {}
    under: set[int] = set()
    window0 = n_m - 3
    first_window_month: dict[int, int] = {}
    for m in range(n_m):
        ms = cal.month_starts[m]
        me = _add_months(ms, 1) - timedelta(days=1)
        # hires on the first of the month
        for s in np.flatnonzero((occupant < 0) & (next_hire_month == m)):
            occupant[s] = new_rep(int(s), ms, False)
        active = [int(occupant[s]) for s in range(N_SLOTS) if occupant[s] >= 0]
        if m == window0:
            cand = [r for r in active if (ms - reps[r]["hire_date"]).days >= 180]
            under = set(int(x) for x in rng.choice(cand, N_UNDERPERFORMERS, replace=False))
        for r in active:
            rep = reps[r]
            tenure = (ms - rep["hire_date"]).days / 30.4375
            # attainment: the rep's level plus a persistent monthly deviation (AR(1), 0.5; sd 0.13)
            z = rep.get("z")
            z = rng.normal(0, ATT_SD) if z is None else ATT_AR * z + rng.normal(0, ATT_SD * np.sqrt(1 - ATT_AR ** 2))
            rep["z"] = z
            att = float(np.clip(rep["level"] + z, 0.45, 1.6))
            if m >= window0:
                if r in under:
                    att = float(rng.uniform(0.70, 0.88))
                elif r not in first_window_month:
                    first_window_month[r] = m
                    if att < 0.92:
                        att = float(rng.uniform(0.92, 1.10))
            d = int(delay[rep["region"], m] + rng.integers(0, 2))
            share = float(share_policy[rep["team"], m // 12])
            # promotion: eligible from 6 months of tenure, not within 24 months of the last one; the
            # monthly chance grows with tenure (1 % at 6 months to 6 % from 31 months) and is lower
            # after a weak month
            eligible = tenure >= 6 and not any(m - p < 24 for p in rep["promos"])
            last_att = rep.get("last_att", 1.0)
            p_promo = min(0.06, 0.01 + 0.002 * (tenure - 6)) * (1.0 if last_att >= 0.95 else 0.4)
            promoted = bool(eligible and rng.random() < p_promo)
            if promoted:
                rep["promos"].append(m)
                rep["senior"] = True
            promo12 = any(m - p < 12 for p in rep["promos"])
            # bonus driven by attainment; split individual/team by the team's policy
            total = _bonus_total(rep["pool"], att, rep["senior"])
            ind = round(total * (1 - share), 2)
            team = round(total * share, 2)
            real_share = team / (ind + team) if ind + team > 0 else 0.0
            # the hazard of month m depends on what is known when m begins: last month's attainment,
            # team share and promotions (months m-12 … m-1), and how late the latest bonus that fell
            # due before m was (the bonus of m-2, due on the 10th of m-1; days late counted up to the
            # start of m). In a rep's first month in the data every term is at its reference.
            prev = rep.get("prev")
            prev_att = None if prev is None else prev["attainment"]
            if prev is None:
                x = dict(X_REF)
            else:
                d2 = rep["delays"].get(m - 2)
                due2 = date(cal.month_starts[m - 1].year, cal.month_starts[m - 1].month, 10)
                x = {"payout_delay_days": 0.0 if d2 is None else float(max(0, min(d2, (ms - due2).days))),
                     "team_bonus_share": prev["team_bonus_share"],
                     "promoted_last_12m": float(any(1 <= m - p <= 12 for p in rep["promos"])),
                     "attainment": prev_att}
            eta = sum(b[k] * (x[k] - X_REF[k]) for k in b)
            # exit day: continuous-time hazard h0(tenure) × exp(eta) over the days employed this month
            first = max(ms, rep["hire_date"])
            n_days = (me - first).days + 1
            ten_days = ((first - rep["hire_date"]).days + np.arange(n_days)) / 30.4375
            h_day = np.where(ten_days < 12, H_FIRST_YEAR, H_LATER) / 30.4375 * np.exp(eta)
            if r in under and m >= window0 and not null:  # planted: they stay to the end
                h_day = np.zeros(n_days)
            cdf = 1.0 - np.exp(-np.cumsum(h_day))
            u = rng.random()
            exit_now = bool(u < cdf[-1])
            award_p = 0.015 + 0.03 * min(tenure, 36.0) / 36.0 + 0.10 * (att > 1.15)
            row_at[(r, m)] = len(rows)
            rows.append(dict(rep_idx=r, month=m, tenure=tenure, attainment=att, prev_attainment=prev_att,
                             payout_delay_days=d, team_bonus_share=real_share, share_policy=share, promoted=promoted,
                             promoted_last_12m=promo12, individual_bonus=ind, team_bonus=team, exit=exit_now,
                             training_hours=float(rng.choice([0, 4, 8, 12, 16])),
                             award=bool(rng.random() < award_p), senior=rep["senior"]))
            rep["last_att"] = att
            rep["prev"] = {"attainment": att, "team_bonus_share": real_share}
            rep["delays"][m] = d
            if exit_now:
                k = int(np.searchsorted(cdf, u, side="right"))
                rep["exit_date"] = first + timedelta(days=k)
                rep["exit_reason"] = "voluntary" if rng.random() < 0.8 else "involuntary"
                s = rep["slot"]
                occupant[s] = -1
                next_hire_month[s] = m + 1 + int(rng.random() < 0.3)
    if null:
        # in the null world the underperformers may leave like anyone else (choosing them among the
        # stayers would tie low attainment to staying): the truth lists those still there in all
        # three months
        under = {r for r in under if all((r, m) in row_at for m in range(window0, n_m))}

    # daily occupancy and cover (a vacant slot's customers are served by the next occupied slot
    # of the same region)
    own = np.full((cal.n_days, N_SLOTS), -1, dtype=np.int64)
    for i, rep in enumerate(reps):
        a = max(0, cal.idx(rep["hire_date"]))
        e = cal.n_days - 1 if rep["exit_date"] is None else cal.idx(rep["exit_date"])
        own[a:e + 1, rep["slot"]] = i
    serve = own.copy()
    for r in range(n_regions):
        ss = np.flatnonzero(slot_region == r)
        sub = own[:, ss]
        if (sub >= 0).all():
            continue
        k = len(ss)
        filled = sub.copy()
        for shift in range(1, k):
            rolled = np.roll(sub, -shift, axis=1)
            need = filled < 0
            if not need.any():
                break
            filled[need] = rolled[need]
        serve[:, ss] = filled

    panel = pd.DataFrame(rows)
    reps_df = pd.DataFrame(reps)
    reps_df["rep_idx"] = np.arange(len(reps_df))
    reps_df["rep_id"] = [f"R{i + 1:04d}" for i in range(len(reps_df))]
    reps_df["name"] = _name(rng, len(reps_df))
    reps_df["region_name"] = [REGIONS[r][0] for r in reps_df["region"]]
    reps_df["role"] = np.where(reps_df["senior"], "senior_account_manager", "account_manager")
    reps_df["manager_id"] = [f"M{t + 1:02d}" for t in reps_df["team"]]
    return Workforce(reps_df, panel, serve, own, sorted(under), slot_region)


# ---------------------------------------------------------------------------------------------
# Launch schedules
# ---------------------------------------------------------------------------------------------
@dataclass
class LaunchPlan:
    design: LaunchDesign
    sku: int
    launch_idx: int  # day index
    n_active: int
    adopters: np.ndarray
    repeaters: np.ndarray
    win_cust: np.ndarray  # window lines: customer, day, qty
    win_day: np.ndarray
    win_qty: np.ndarray
    state: np.ndarray = field(default=None)  # 0 none, 1 ordered once, 2 repeater (continuation)


def _order_days_in(cal: Calendar, cust: Customers, a: int, b: int) -> list[np.ndarray]:
    """For each customer, its order days (day indices) in [a, b]."""
    out = []
    first = a + (cust.weekday - cal.weekday[a]) % 7
    for c in range(len(cust.weekday)):
        ds = np.arange(first[c], b + 1, 7)
        ds = ds[(ds >= max(cust.opened_idx[c], 0)) & ((cal.week_of(ds) + cust.phase[c]) % cust.cycle[c] == 0)]
        out.append(ds)
    return out


def _launch_qty(cust: Customers, idx: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    base = np.array([BASE_QTY["large"], BASE_QTY["medium"], BASE_QTY["small"]])[cust.size[idx]]
    return 1.0 + rng.poisson((base - 1.0) * factor)


def _launch_plans(cal: Calendar, products: pd.DataFrame, cust: Customers, rng: np.random.Generator) -> list[LaunchPlan]:
    plans = []
    launched = products[products["launch_date"].notna()]
    n = len(cust.weekday)
    for ld, (_, prow) in zip(LAUNCHES, launched.iterrows()):
        L = cal.idx(prow["launch_date"])
        end_w = min(L + WINDOW_DAYS - 1, cal.n_days - 1)
        days = _order_days_in(cal, cust, L, end_w)
        has = np.array([len(d) > 0 for d in days])
        active = np.flatnonzero(has)
        n_ad = int(round(ld.distribution * len(active)))
        # larger retailers adopt a little more readily
        wsz = np.array([1.6, 1.2, 1.0])[cust.size[active]]
        adopters = np.sort(rng.choice(active, n_ad, replace=False, p=wsz / wsz.sum()))
        multi = np.array([len(days[c]) >= 2 for c in adopters])
        n_rep = int(round(ld.repeat * n_ad))
        repeaters = np.sort(rng.choice(adopters[multi], min(n_rep, multi.sum()), replace=False))
        is_rep = np.isin(adopters, repeaters)
        wc, wd = [], []
        # make sure someone orders on the launch day itself
        on_l = [i for i, c in enumerate(adopters) if len(days[c]) and days[c][0] == L]
        forced = on_l[0] if on_l else -1
        for i, c in enumerate(adopters):
            ds = days[c]
            if is_rep[i]:
                k0 = 0 if i == forced else min(int(rng.geometric(0.55)) - 1, len(ds) - 2)
                later = ds[k0 + 1:]
                pick = later[rng.random(len(later)) < 0.6]
                if len(pick) == 0:
                    pick = later[:1]
                chosen = np.concatenate([[ds[k0]], pick])
            else:
                k0 = 0 if i == forced else min(int(rng.geometric(0.45)) - 1, len(ds) - 1)
                chosen = ds[k0:k0 + 1]
            wc.append(np.full(len(chosen), c))
            wd.append(chosen)
        win_cust = np.concatenate(wc) if wc else np.zeros(0, int)
        win_day = np.concatenate(wd) if wd else np.zeros(0, int)
        order = np.lexsort((win_cust, win_day))
        win_cust, win_day = win_cust[order], win_day[order]
        win_qty = _launch_qty(cust, win_cust, ld.qty_factor, rng)
        state = np.zeros(n, dtype=np.int8)
        state[adopters] = 1
        state[repeaters] = 2
        plans.append(LaunchPlan(ld, int(prow.name), L, len(active), adopters, repeaters,
                                win_cust, win_day, win_qty, state))
    return plans


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
ORDER_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("line_no", pa.int64()), ("order_date", pa.date32()),
    ("customer_id", pa.string()), ("sku_id", pa.string()), ("rep_id", pa.string()),
    ("region", pa.string()), ("brand", pa.string()), ("price_class", pa.string()), ("channel", pa.string()),
    ("qty", pa.float64()), ("amount", pa.float64()), ("is_return", pa.bool_()),
])


ORDER_IBIS_SCHEMA = {
    "order_id": "string", "line_no": "int64", "order_date": "date", "customer_id": "string", "sku_id": "string",
    "rep_id": "string", "region": "string", "brand": "string", "price_class": "string", "channel": "string",
    "qty": "float64", "amount": "float64", "is_return": "boolean",
}
VISIT_IBIS_SCHEMA = {"visit_date": "date", "rep_id": "string", "customer_id": "string", "kind": "string",
                     "effective": "boolean"}


def _append(con: Any, name: str, t: pa.Table) -> None:
    """Append an Arrow chunk to a table. On DuckDB the chunk is scanned directly and released at
    once (ibis' insert keeps a registered memtable per call, which holds every chunk in memory)."""
    raw = getattr(con, "con", None)
    if getattr(con, "name", "") == "duckdb" and raw is not None:
        raw.register("_demo_chunk", t)
        try:
            raw.execute(f'INSERT INTO "{name}" SELECT * FROM _demo_chunk')
        finally:
            raw.unregister("_demo_chunk")
    else:
        con.insert(name, t)


def _class_weights(cal: Calendar, month: int) -> dict[bool, np.ndarray]:
    out = {}
    for urban in (True, False):
        w = CLASS_W0["urban" if urban else "rural"] * np.exp(cal.class_drift * month / 12.0)
        out[urban] = w / w.sum()
    return out


@dataclass
class Accum:
    rep_month_amount: np.ndarray
    class_month_qty: np.ndarray
    class_month_amount: np.ndarray
    exp_class_month_qty: np.ndarray
    exp_month_amount: np.ndarray
    slot_day_amount: np.ndarray  # (n_days, N_SLOTS) amount of the customers of each position, by day
    lines: int = 0
    orders: int = 0


def _dict_take(values: np.ndarray, idx: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), pa.array(values, pa.string())).cast(pa.string())


def _orders(con: Any, cal: Calendar, products: pd.DataFrame, cust: Customers, wf: Workforce,
            plans: list[LaunchPlan], scale: float, rng: np.random.Generator,
            null: bool = False) -> tuple[Accum, dict[str, Any]]:
    n_c = len(cust.weekday)
    n_sku = len(products)
    n_reps = len(wf.reps)
    cls = products["class_idx"].to_numpy()
    price = products["unit_price"].to_numpy()
    within = products["within_w"].to_numpy()
    cqf = CLASS_QTY_FACTOR[cls]
    # mean cartons of a regular line by size class: one line carries what REGULAR_LINE_QTY lines of
    # BASE_QTY would, times the weeks of the order cycle (a retailer buys as much per week whether it
    # orders every week or every other week)
    base = 1.0 + (np.array([BASE_QTY["large"], BASE_QTY["medium"], BASE_QTY["small"]]) - 1.0) \
        * REGULAR_LINE_QTY * np.array(ORDER_CYCLE_WEEKS)
    # lines per regular order: 1 + Poisson(mu), the same at every scale (scale sets the retailers)
    mu = EXTRA_LINES

    inc = int(np.flatnonzero(products["sku_name"].to_numpy() == INCUMBENT_NAME)[0])
    strong = next(p for p in plans if p.design.role == "strong")
    # cannibalisation: the incumbent's variable quantity shrinks by a factor (1 - r) from the strong
    # launch on. r is set so that, in expectation, the incumbent's window volume is its mean volume of
    # the two 30-day windows before the launch minus CANNIBALIZED_SHARE x the new SKU's window volume
    # (so a before/after comparison measures the plant, although the class is growing)
    L = strong.launch_idx

    def expected_incumbent(a: int, b: int) -> tuple[float, float]:
        """Expected (total, variable part) of the incumbent's quantity over days [a, b)."""
        tot = var = 0.0
        for d in range(max(a, 0), min(b, cal.n_days)):
            wts = _class_weights(cal, int(cal.day_month[d]))
            mask = (cust.weekday == cal.weekday[d]) & (cust.opened_idx <= d) & cust.orders_in_week(cal.week_of(d))
            for urban in (True, False):
                sel = mask & (cust.urban == urban)
                p_inc = (1 + mu) * wts[urban][cls[inc]] * within[inc]
                v = p_inc * ((base[cust.size[sel]] - 1.0).sum()) * cqf[inc] * cal.day_factor[d]
                tot += p_inc * sel.sum() + v
                var += v
        return tot, var

    before = (expected_incumbent(L - 60, L - 30)[0] + expected_incumbent(L - 30, L)[0]) / 2
    win_tot, win_var = expected_incumbent(L, L + WINDOW_DAYS)
    new_vol = float(strong.win_qty.sum())
    loss = win_tot - before + CANNIBALIZED_SHARE * new_vol
    cann_r = float(np.clip(loss / win_var, 0.0, 0.9)) if win_var > 0 else 0.0
    if null:  # no incumbent-specific loss: the launches take from every regular line alike
        cann_r = 0.0

    acc = Accum(np.zeros((n_reps, cal.n_months)), np.zeros((5, cal.n_months)), np.zeros((5, cal.n_months)),
                np.zeros((5, cal.n_months)), np.zeros(cal.n_months), np.zeros((cal.n_days, N_SLOTS)))
    cust_ids = cust.df["customer_id"].to_numpy().astype(str)
    cust_num = np.array([c[1:] for c in cust_ids])
    region_names = np.array([r[0] for r in REGIONS])
    channel = cust.df["channel"].to_numpy().astype(str)
    sku_ids = products["sku_id"].to_numpy().astype(str)
    brands = products["brand"].to_numpy().astype(str)
    pclass = products["price_class"].to_numpy().astype(str)
    rep_ids = wf.reps["rep_id"].to_numpy().astype(str)
    date_str = np.datetime_as_string(cal.days, unit="D")
    date_key = np.char.replace(date_str, "-", "")
    launch_skus = np.array([p.sku for p in plans])
    regular_p = within.copy()
    regular_p[launch_skus] = 0.0

    buffer: list[pa.Table] = []
    buffered = 0
    first_write = True

    def flush() -> None:
        nonlocal buffer, buffered, first_write
        if not buffer:
            return
        t = pa.concat_tables(buffer)
        buffer, buffered = [], 0
        if first_write:
            con.create_table("orders", schema=ibis.schema(ORDER_IBIS_SCHEMA), overwrite=True)
            first_write = False
        _append(con, "orders", t)

    monday0 = -int(cal.weekday[0])
    for w0 in range(monday0, cal.n_days, 7):
        day = w0 + cust.weekday
        ok = (day >= 0) & (day < cal.n_days) & (day >= cust.opened_idx) & cust.orders_in_week(cal.week_of(w0 + 6))
        oc = np.flatnonzero(ok)  # ordering customers this week
        if len(oc) == 0:
            continue
        od = day[oc]
        n_o = len(oc)
        month_o = cal.day_month[od]
        f_o = cal.day_factor[od]
        # --- launch lines: window schedules and continuation
        pos_of_cust = np.full(n_c, -1)
        pos_of_cust[oc] = np.arange(n_o)
        l_o, l_s, l_q = [], [], []
        for p in plans:
            a, bnd = np.searchsorted(p.win_day, [w0, w0 + 7])
            if bnd > a:
                c = p.win_cust[a:bnd]
                l_o.append(pos_of_cust[c])
                l_s.append(np.full(bnd - a, p.sku))
                l_q.append(p.win_qty[a:bnd])
            start_c = p.launch_idx + WINDOW_DAYS + GAP_DAYS
            cont = od >= start_c
            if cont.any():
                ci = np.flatnonzero(cont)
                st = p.state[oc[ci]]
                prob = np.choose(st, [p.design.later_adopt, p.design.stay_single, p.design.stay_repeat])
                hit = ci[rng.random(len(ci)) < prob]
                newly = oc[hit][p.state[oc[hit]] == 0]
                p.state[newly] = 1
                l_o.append(hit)
                l_s.append(np.full(len(hit), p.sku))
                l_q.append(_launch_qty(cust, oc[hit], p.design.qty_factor, rng))
        # --- regular lines
        n_lines = 1 + rng.poisson(mu, n_o)
        li_o = np.repeat(np.arange(n_o), n_lines)
        # stratified uniforms within each (month, area, size) group of lines: every group gets its
        # SKUs in the planned proportions up to one line, so the price-class mix is realised with
        # little noise (iid draws weighted by very unequal quantities would move shares by ~1 pp)
        size_l = cust.size[oc][li_o]
        u = np.empty(len(li_o))
        sku = np.empty(len(li_o), dtype=np.int64)
        # expected volume and amount of the week by class, fixed part and variable part (the variable
        # part is scaled below in the null world)
        e_fix_q = np.zeros((5, cal.n_months))
        e_var_q = np.zeros((5, cal.n_months))
        e_fix_a = np.zeros(cal.n_months)
        e_var_a = np.zeros((5, cal.n_months))
        # class weights follow the month of the order day (weeks can straddle months)
        for mth in np.unique(month_o):
            wts = _class_weights(cal, int(mth))
            for urban in (True, False):
                sel_o = (month_o == mth) & (cust.urban[oc] == urban)
                if not sel_o.any():
                    continue
                p = regular_p * wts[urban][cls]
                p = p / p.sum()
                sel = sel_o[li_o]
                for sz in range(3):
                    g = np.flatnonzero(sel & (size_l == sz))
                    u[g] = (rng.permutation(len(g)) + rng.random(len(g))) / max(len(g), 1)
                sku[sel] = np.minimum(np.searchsorted(np.cumsum(p), u[sel]), n_sku - 1)
                # expected volume and amount by class (for the truth record)
                for sz in range(3):
                    for d in np.unique(od[sel_o]):
                        cnt = int(((od == d) & sel_o & (cust.size[oc] == sz)).sum())
                        if cnt == 0:
                            continue
                        lam = (base[sz] - 1.0) * cqf * cal.day_factor[d]
                        if d >= L:
                            lam = lam.copy()
                            lam[inc] *= 1.0 - cann_r
                        ef = cnt * (1 + mu) * p
                        ev = ef * lam
                        e_fix_q[:, mth] += np.bincount(cls, weights=ef, minlength=5)
                        e_var_q[:, mth] += np.bincount(cls, weights=ev, minlength=5)
                        e_fix_a[mth] += float((ef * price).sum())
                        e_var_a[:, mth] += np.bincount(cls, weights=ev * price, minlength=5)
        lam = (base[cust.size[oc]] - 1.0)[li_o] * cqf[sku] * f_o[li_o]
        lam = np.where((sku == inc) & (od[li_o] >= L), lam * (1.0 - cann_r), lam)
        k_sub = np.ones(5)
        if null and l_q:
            # the launches take their amount from the regular lines (the market does not grow): first
            # from the variable part of the regular lines of their own price class (so volume and the
            # class mix stay put too), what a class cannot give from every class alike
            var_c = np.bincount(cls[sku], weights=lam * price[sku], minlength=5)
            launch_c = sum(np.bincount(cls[s_], weights=q * price[s_], minlength=5) for q, s_ in zip(l_q, l_s))
            take_c = np.minimum(launch_c, 0.9 * var_c)
            k_sub = np.where(var_c > 0, 1.0 - take_c / np.where(var_c > 0, var_c, 1.0), 1.0)
            rest = float((var_c - take_c).sum())
            excess = float(launch_c.sum() - take_c.sum())
            if excess > 0 and rest > 0:
                k_sub = k_sub * (1.0 - min(excess / rest, 1.0))
            lam = lam * k_sub[cls[sku]]
        acc.exp_class_month_qty += e_fix_q + k_sub[:, None] * e_var_q
        acc.exp_month_amount += e_fix_a + (k_sub[:, None] * e_var_a).sum(0)
        qty = 1.0 + rng.poisson(lam)
        l_o, l_s, l_q = [li_o, *l_o], [sku, *l_s], [qty, *l_q]
        lo = np.concatenate(l_o)
        ls = np.concatenate(l_s)
        lq = np.concatenate(l_q)
        for arr_s, arr_q, arr_o in zip(l_s[1:], l_q[1:], l_o[1:]):  # launch lines, exactly known
            m_l = cal.day_month[od[arr_o]]
            np.add.at(acc.exp_class_month_qty, (cls[arr_s], m_l), arr_q)
            np.add.at(acc.exp_month_amount, m_l, arr_q * price[arr_s])
        # --- merge duplicate SKUs within an order; line numbers
        key = lo * n_sku + ls
        uk, inv = np.unique(key, return_inverse=True)
        q = np.bincount(inv, weights=lq)
        lo, ls = uk // n_sku, uk % n_sku
        starts = np.r_[0, np.flatnonzero(np.diff(lo)) + 1]
        line_no = np.arange(len(lo)) - np.repeat(starts, np.diff(np.r_[starts, len(lo)])) + 1
        is_ret = np.zeros(len(lo), dtype=bool)
        # --- a few returns: an extra negative line for a SKU of the same order (never a launch SKU)
        cand = np.flatnonzero((rng.random(len(lo)) < RETURN_SHARE) & ~np.isin(ls, launch_skus))
        if len(cand):
            cand = cand[np.r_[True, np.diff(lo[cand]) != 0]]  # at most one return per order
            last_no = np.bincount(lo, minlength=n_o)
            rq = -np.minimum(q[cand], 1.0 + rng.integers(0, 3, len(cand)))
            lo = np.r_[lo, lo[cand]]
            ls = np.r_[ls, ls[cand]]
            q = np.r_[q, rq]
            line_no = np.r_[line_no, last_no[lo[-len(cand):]] + 1]
            is_ret = np.r_[is_ret, np.ones(len(cand), dtype=bool)]
        c_line = oc[lo]
        d_line = od[lo]
        rep_line = wf.serve[d_line, cust.slot[c_line]]
        amount = q * price[ls]
        m_line = cal.day_month[d_line]
        np.add.at(acc.rep_month_amount, (rep_line, m_line), amount)
        np.add.at(acc.slot_day_amount, (d_line, cust.slot[c_line]), amount)
        np.add.at(acc.class_month_qty, (cls[ls], m_line), q)
        np.add.at(acc.class_month_amount, (cls[ls], m_line), amount)
        acc.lines += len(lo)
        acc.orders += n_o
        order_id = pa.compute.binary_join_element_wise(
            _dict_take(date_key, d_line), _dict_take(cust_num, c_line), "-")
        order_id = pa.compute.binary_join_element_wise(pa.scalar("O"), order_id, "")
        t = pa.table({
            "order_id": order_id,
            "line_no": pa.array(line_no.astype(np.int64)),
            "order_date": pa.array(cal.days[d_line]),
            "customer_id": _dict_take(cust_ids, c_line),
            "sku_id": _dict_take(sku_ids, ls),
            "rep_id": _dict_take(rep_ids, rep_line),
            "region": _dict_take(region_names, cust.region[c_line]),
            "brand": _dict_take(brands, ls),
            "price_class": _dict_take(pclass, ls),
            "channel": _dict_take(channel, c_line),
            "qty": pa.array(q.astype(np.float64)),
            "amount": pa.array(amount.astype(np.float64)),
            "is_return": pa.array(is_ret),
        }, schema=ORDER_SCHEMA)
        buffer.append(t)
        buffered += t.num_rows
        if buffered >= 500_000:
            flush()
    flush()
    return acc, {"cannibalization_rate": cann_r, "mu": mu}


# ---------------------------------------------------------------------------------------------
# Targets, compensation, visits, feedback
# ---------------------------------------------------------------------------------------------
def _targets(cal: Calendar, wf: Workforce, acc: Accum, rng: np.random.Generator) -> pd.DataFrame:
    panel = wf.panel
    actual = acc.rep_month_amount[panel["rep_idx"].to_numpy(), panel["month"].to_numpy()]
    is_exit = panel["exit"].to_numpy(dtype=bool)
    if (actual[~is_exit] <= 0).any():
        bad = panel.loc[(actual <= 0) & ~is_exit, ["rep_idx", "month"]].head(3).to_dict("records")
        raise RuntimeError(f"demo: rep-months without sales (internal error): {bad}")
    # The target is set for the whole month. In the exit month sales stop on the exit day, so the
    # target is what the position was planned to sell that month: the leaver's sales plus what the
    # position's customers bought after the exit day (served by a colleague), ÷ planned attainment.
    # The realised attainment of an exit month is therefore planned × the share of the month's sales
    # made before leaving (mechanically low); every other month realises the planned attainment.
    full = actual.copy()
    reps_ = wf.reps
    for i in np.flatnonzero(is_exit):
        r, m = int(panel["rep_idx"].iat[i]), int(panel["month"].iat[i])
        e = cal.idx(reps_["exit_date"].iat[r])
        m_end = (cal.idx(cal.month_starts[m + 1]) if m + 1 < cal.n_months else cal.n_days) - 1
        full[i] = actual[i] + acc.slot_day_amount[e + 1:m_end + 1, int(reps_["slot"].iat[r])].sum()
    if (full <= 0).any():
        raise RuntimeError("demo: a position without planned sales in an exit month (internal error)")
    rep_target = full / panel["attainment"].to_numpy()
    periods = [np.datetime64(ms) for ms in cal.month_starts]
    reps = wf.reps
    rows = pd.DataFrame({
        "period": [periods[m] for m in panel["month"]],
        "level": "rep",
        "key": reps["rep_id"].to_numpy()[panel["rep_idx"].to_numpy()],
        "measure": "amount",
        "value": np.round(rep_target, 2),
    })
    region = reps["region_name"].to_numpy()[panel["rep_idx"].to_numpy()]
    # targets are money in yuan and fen: the sums are rounded like the rep targets (so a file
    # holding them, and a store loaded from it, has the same values)
    reg = rows.assign(key=region).groupby(["period", "key"], as_index=False)["value"].sum()
    reg["value"] = reg["value"].round(2)
    reg["level"], reg["measure"] = "region", "amount"
    comp = reg.groupby("period", as_index=False)["value"].sum()
    comp["value"] = comp["value"].round(2)
    comp["level"], comp["key"], comp["measure"] = "company", "company", "amount"
    m = cal.n_months
    comp_qty = pd.DataFrame({"period": periods, "level": "company", "key": "company", "measure": "qty",
                             "value": np.round(acc.class_month_qty.sum(0) / rng.normal(1.0, 0.03, m), 0)})
    pc_rows = []
    for c, name in enumerate(PRICE_CLASSES):
        att = rng.normal(1.0, 0.05, m)
        for meas, arr in (("amount", acc.class_month_amount[c]), ("qty", acc.class_month_qty[c])):
            pc_rows.append(pd.DataFrame({"period": periods, "level": "price_class", "key": name, "measure": meas,
                                         "value": np.round(arr / att, 2)}))
    nxt = _next_month_company_targets(cal, comp, comp_qty)
    out = pd.concat([rows, reg, comp, comp_qty, *pc_rows, nxt], ignore_index=True)
    out["period"] = pd.to_datetime(out["period"]).dt.date
    return out[["period", "level", "key", "measure", "value"]]


def _next_month_company_targets(cal: Calendar, comp: pd.DataFrame, comp_qty: pd.DataFrame) -> pd.DataFrame:
    """The company's targets for the month after the data (amount and qty), as a department has them
    before that month starts (the target plan report splits them). Deterministic, no random draw (the
    rest of the world is unchanged): the same month last year × the growth of the last 12 months over
    the 12 before, rounded to 100 yuan and to 1 unit."""
    nxt = np.datetime64(_add_months(cal.month_starts[-1], 1))
    rows = []
    for frame, measure, unit in ((comp, "amount", 100.0), (comp_qty, "qty", 1.0)):
        v = frame["value"].to_numpy(dtype=float)
        if len(v) < 24:
            continue
        growth = v[-12:].sum() / v[-24:-12].sum()
        rows.append({"period": nxt, "level": "company", "key": "company", "measure": measure,
                     "value": float(np.round(v[-12] * growth / unit) * unit)})
    return pd.DataFrame(rows, columns=["period", "level", "key", "measure", "value"])


def _compensation(cal: Calendar, wf: Workforce) -> pd.DataFrame:
    p = wf.panel
    reps = wf.reps
    ms = [cal.month_starts[m] for m in p["month"]]
    due = [date(_add_months(d, 1).year, _add_months(d, 1).month, 10) for d in ms]
    paid = [d + timedelta(days=int(k)) for d, k in zip(due, p["payout_delay_days"])]
    urban = np.array([REGIONS[r][1] == "urban" for r in reps["region"]])[p["rep_idx"].to_numpy()]
    base = np.where(p["senior"].to_numpy(), 5600.0, 4200.0) + np.where(urban, 500.0, 0.0)
    return pd.DataFrame({
        "period": ms, "rep_id": reps["rep_id"].to_numpy()[p["rep_idx"].to_numpy()],
        "base_pay": base, "individual_bonus": p["individual_bonus"].astype(float),
        "team_bonus": p["team_bonus"].astype(float), "due_date": due, "paid_date": paid,
        "training_hours": p["training_hours"].astype(float), "promoted": p["promoted"].astype(bool),
        "award": p["award"].astype(bool),
    })


VISIT_SCHEMA = pa.schema([("visit_date", pa.date32()), ("rep_id", pa.string()), ("customer_id", pa.string()),
                          ("kind", pa.string()), ("effective", pa.bool_())])


def _visits(con: Any, cal: Calendar, cust: Customers, wf: Workforce, rng: np.random.Generator) -> int:
    """Write monthly visits of each rep to the customers of the position they hold, month by month;
    guidance coverage (share of customers given at least one guidance visit) and the effective share
    vary by rep. Returns the number of rows."""
    reps = wf.reps
    p = wf.panel
    m0 = np.array([cal.idx(ms) for ms in cal.month_starts])
    m1 = np.r_[m0[1:], cal.n_days] - 1
    hire = np.array([cal.idx(h) for h in reps["hire_date"]])
    exit_ = np.array([cal.n_days - 1 if e is None or pd.isna(e) else cal.idx(e) for e in reps["exit_date"]])
    guide = reps["guide"].to_numpy()
    eff = reps["effective"].to_numpy()
    rep_ids = reps["rep_id"].to_numpy().astype(str)
    cust_ids = cust.df["customer_id"].to_numpy().astype(str)
    # customers of each slot (CSR)
    order = np.argsort(cust.slot, kind="stable")
    counts = np.bincount(cust.slot, minlength=N_SLOTS)
    offs = np.r_[0, np.cumsum(counts)]
    total = 0
    for month in range(cal.n_months):
        pm = p[p["month"] == month]
        r = pm["rep_idx"].to_numpy()
        slot = reps["slot"].to_numpy()[r]
        d0 = np.maximum(m0[month], hire[r])
        d1 = np.minimum(m1[month], exit_[r])
        k = counts[slot]
        row = np.repeat(np.arange(len(r)), k)
        within = np.arange(k.sum()) - np.repeat(np.r_[0, np.cumsum(k)[:-1]], k)
        c = order[offs[slot][row] + within]
        keep = cust.opened_idx[c] <= d1[row]
        row, c = row[keep], c[keep]
        guided = rng.random(len(row)) < guide[r[row]]
        n_v = 1 + rng.poisson(VISIT_EXTRA, len(row))
        vrow = np.repeat(row, n_v)
        vc = np.repeat(c, n_v)
        lo = np.maximum(d0[vrow], cust.opened_idx[vc])
        vd = lo + (rng.random(len(vrow)) * (d1[vrow] - lo + 1)).astype(np.int64)
        first = np.r_[0, np.cumsum(n_v)[:-1]]
        kind_g = np.zeros(len(vrow), dtype=bool)
        kind_g[first[guided]] = True  # a guided customer gets at least one guidance visit
        kind_g |= np.repeat(guided, n_v) & (rng.random(len(vrow)) < 0.3)
        effective = kind_g & (rng.random(len(vrow)) < eff[r[vrow]])
        srt = np.lexsort((vc, vd))
        t = pa.table({
            "visit_date": pa.array(cal.days[vd[srt]]),
            "rep_id": _dict_take(rep_ids, r[vrow[srt]]),
            "customer_id": _dict_take(cust_ids, vc[srt]),
            "kind": _dict_take(np.array(["visit", "guidance"]), kind_g[srt].astype(np.int64)),
            "effective": pa.array(effective[srt]),
        }, schema=VISIT_SCHEMA)
        if month == 0:
            con.create_table("visits", schema=ibis.schema(VISIT_IBIS_SCHEMA), overwrite=True)
        _append(con, "visits", t)
        total += t.num_rows
    return total


THEMES = {
    "口感": (["口感醇和，回味干净", "口感顺滑，抽着舒服", "入口柔和，不呛"], ["口感发苦", "口感偏淡，没味道", "入口辣嗓子"]),
    "包装": (["包装大气，送人有面子", "盒子设计好看", "包装精致"], ["包装太普通", "烟盒容易压坏", "包装看着廉价"]),
    "价格": (["价格实惠，性价比高", "这个价位很值", "价格合适"], ["价格偏贵", "不值这个价", "比同价位的差"]),
    "香气": (["香气浓郁", "香味自然，余香好", "烟香很足"], ["香气单薄", "有杂味", "香味不自然"]),
    "劲头": (["劲头适中", "劲头足，够味", "劲头刚好"], ["劲头太小", "劲头太冲", "抽完头晕"]),
    "烟灰": (["烟灰紧实不掉", "燃烧均匀，烟灰白", "烟灰成型好"], ["烟灰容易掉", "燃烧太快", "烟灰发黑"]),
}
XSS_COMMENT = "<script>alert(1)</script>好抽"


def _quota_ratings(p: tuple[float, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """n ratings whose counts follow p as closely as integers allow (largest remainder), shuffled."""
    raw = np.array(p) / sum(p) * n
    k = np.floor(raw).astype(int)
    k[np.argsort(-(raw - k))[: n - k.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(1, 6), k))


def _comments(ratings: np.ndarray, rng: np.random.Generator) -> list[str | None]:
    names = list(THEMES)
    out: list[str | None] = []
    for r in ratings:
        if rng.random() < 0.25:
            out.append(None)
            continue
        k = 1 + int(rng.random() < 0.4)
        parts = []
        for t in rng.choice(len(names), k, replace=False):
            good, bad = THEMES[names[t]]
            pool = good if (r >= 4 or (r == 3 and rng.random() < 0.5)) else bad
            parts.append(pool[int(rng.integers(len(pool)))])
        out.append("，".join(parts) + "。")
    return out


def _feedback(cal: Calendar, products: pd.DataFrame, cust: Customers, plans: list[LaunchPlan],
              rng: np.random.Generator) -> tuple[pd.DataFrame, dict[int, float]]:
    frames = []
    means: dict[int, float] = {}
    for p in plans:
        r = _quota_ratings(p.design.rating_p, p.design.n_ratings, rng)
        means[p.sku] = float(r.mean())
        last = min(p.launch_idx + WINDOW_DAYS - 1, cal.n_days - 1)
        d = rng.integers(p.launch_idx + 2, last + 1, len(r))
        c = rng.choice(p.adopters, len(r))
        frames.append(pd.DataFrame({"day": d, "sku": p.sku, "rating": r, "cust": c}))
    old = np.flatnonzero(products["launch_date"].isna().to_numpy())
    n_old = 1500
    r = rng.choice(np.arange(1, 6), n_old, p=[0.04, 0.08, 0.25, 0.38, 0.25])
    frames.append(pd.DataFrame({"day": rng.integers(0, cal.n_days, n_old), "sku": rng.choice(old, n_old),
                                "rating": r, "cust": rng.integers(0, len(cust.weekday), n_old)}))
    f = pd.concat(frames, ignore_index=True)
    f = f.sort_values(["day", "sku", "cust"], kind="stable").reset_index(drop=True)
    comments = _comments(f["rating"].to_numpy(), rng)
    comments[int(rng.integers(len(comments)))] = XSS_COMMENT
    intent = rng.random(len(f)) < (f["rating"].to_numpy() - 1) / 4.0 * 0.85 + 0.05
    return pd.DataFrame({
        "response_date": pd.to_datetime(cal.days[f["day"].to_numpy()]).date,
        "sku_id": products["sku_id"].to_numpy()[f["sku"].to_numpy()],
        "rating": f["rating"].astype("int64"),
        "customer_id": cust.df["customer_id"].to_numpy()[f["cust"].to_numpy()],
        "region": cust.df["region"].to_numpy()[f["cust"].to_numpy()],
        "repurchase_intent": intent,
        "comment": comments,
    }), means


CUSTOMER_COLUMNS = ["customer_id", "name", "region", "area_type", "size_class", "rep_id", "opened_on", "channel"]


def _customers_history(cal: Calendar, cust: Customers, wf: Workforce, customers: pd.DataFrame) -> pd.DataFrame:
    """Every version of every customer row: the serving rep changes when a rep leaves (a colleague
    of the region covers the vacant book), and again when the position is filled.

    ``valid_from`` is inclusive (NULL for a retailer's first version, valid since before the data
    or since it opened: ``opened_on`` says when), ``valid_to`` exclusive (NULL: still valid). The
    last version of each customer is its row in ``customers``; on every order line ``rep_id`` is the
    rep of the version valid at the order date (so the slim lines resolve to the same reps)."""
    rep_ids = wf.reps["rep_id"].to_numpy().astype(str)
    # versions of each position's serving rep: (slot, first day, next version's first day or -1)
    v_slot, v_from, v_to, v_rep = [], [], [], []
    for s in range(N_SLOTS):
        col = wf.serve[:, s]
        starts = np.r_[0, np.flatnonzero(np.diff(col) != 0) + 1]
        ends = np.r_[starts[1:], -1]
        v_slot.append(np.full(len(starts), s))
        v_from.append(starts)
        v_to.append(ends)
        v_rep.append(col[starts])
    v_slot, v_from, v_to, v_rep = (np.concatenate(x) for x in (v_slot, v_from, v_to, v_rep))
    order = np.argsort(v_slot, kind="stable")
    counts = np.bincount(v_slot, minlength=N_SLOTS)
    offs = np.r_[0, np.cumsum(counts)]
    k = counts[cust.slot]
    c = np.repeat(np.arange(len(cust.slot)), k)
    within = np.arange(k.sum()) - np.repeat(np.r_[0, np.cumsum(k)[:-1]], k)
    v = order[offs[cust.slot][c] + within]
    opened = np.maximum(cust.opened_idx[c], 0)
    # versions that ended before the retailer opened are not part of its history
    keep = (v_to[v] < 0) | (v_to[v] > opened)
    c, v, opened = c[keep], v[keep], opened[keep]
    first = np.r_[True, c[1:] != c[:-1]]
    # a retailer's first version holds since before the data, also for one that opened during it
    # (its opened_on says when; no sale comes before it): a history file states every key's whole
    # history, so a load of it replaces what a customers load assumed (analysis.ingest.loads)
    start = np.where(first, 0, v_from[v])
    days = cal.days
    out = customers.iloc[c].reset_index(drop=True)
    out["rep_id"] = rep_ids[v_rep[v]]
    out["valid_from"] = [None if s_ <= 0 else days[s_].item() for s_ in start]
    out["valid_to"] = [None if t < 0 else days[t].item() for t in v_to[v]]
    return out


# ---------------------------------------------------------------------------------------------
# Truth record
# ---------------------------------------------------------------------------------------------
def festival_seasons(cal: Calendar) -> list[tuple[date, list[int]]]:
    """(festival, month indices of its season): months overlapping festival ± 45 days, in the data."""
    out = []
    for f in cal.festivals:
        a = max(0, cal.idx(f - timedelta(days=45)))
        b = min(cal.n_days - 1, cal.idx(f + timedelta(days=45)))
        if cal.idx(f) > cal.n_days - 1 or b <= a:
            continue
        out.append((f, sorted(set(cal.day_month[a:b + 1].tolist()))))
    return out


def _truth(cal: Calendar, seed: int, scale: float, products: pd.DataFrame, wf: Workforce, plans: list[LaunchPlan],
           rating_means: dict[int, float], acc: Accum, extra: dict[str, Any], counts: dict[str, int],
           null: bool = False) -> dict[str, Any]:
    def ym(m: int) -> str:
        return cal.month_starts[m].strftime("%Y-%m")

    def launch_rec(p: LaunchPlan) -> dict[str, Any]:
        row = products.loc[p.sku]
        return {
            "sku_id": row["sku_id"], "brand": row["brand"], "price_class": row["price_class"],
            "launch_date": row["launch_date"].isoformat(),
            "distribution_rate": round(len(p.adopters) / p.n_active, 4),
            "repeat_rate": round(len(p.repeaters) / len(p.adopters), 4),
            "rating_mean": round(rating_means[p.sku], 4),
        }

    strong = next(p for p in plans if p.design.role == "strong")
    weak = next(p for p in plans if p.design.role == "weak")
    inc = products.loc[products["sku_name"] == INCUMBENT_NAME].iloc[0]
    e = acc.exp_class_month_qty
    share = e / e.sum(0, keepdims=True)
    last = cal.n_months - 1
    mix = {c: round(100 * float(share[i, last] - share[i, last - 12]), 2) for i, c in enumerate(PRICE_CLASSES)}
    peaks = []
    for _f, months in festival_seasons(cal):
        peaks.append(ym(max(months, key=lambda m: acc.exp_month_amount[m])))
    return {
        "seed": seed, "scale": scale, "null": null, "start": cal.start.isoformat(), "end": cal.end.isoformat(),
        "row_counts": counts,
        "underperformers": sorted(wf.reps["rep_id"].to_numpy()[wf.underperformers].tolist()),
        "launches": {"strong": launch_rec(strong), "weak": launch_rec(weak),
                     "earlier": [launch_rec(p) for p in plans if p.design.role == "earlier"]},
        "cannibalized_sku": inc["sku_id"],
        "cannibalization": {"sku_id": inc["sku_id"], "price_class": inc["price_class"],
                            "share_of_new_volume": 0.0 if null else CANNIBALIZED_SHARE,
                            "untouched_class": UNTOUCHED_CLASS},
        "mix_shift_pp": mix,
        "spring_festival_peak": peaks,
        "hazard_ratios": {k: 1.0 for k in HAZARD_RATIOS} if null else dict(HAZARD_RATIOS),
        "confounded": {"feature": "bonus_per_month", "hazard_ratio": 1.0},
    }


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
def check_world_args(seed: Any, scale: Any, end: Any, max_scale: float) -> date:
    """Check a demo world's ``seed``, ``scale`` and ``end`` (the last day of a month); return ``end``
    as a date.

    Raises
    ------
    ParameterError
        One line naming the parameter, what it must be and what was given.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"The 'seed' parameter of build must be a non-negative integer. Got {seed!r} instead.")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0 < float(scale) <= max_scale):
        raise ParameterError(f"The 'scale' parameter of build must be a number in (0, {max_scale:g}]. "
                             f"Got {scale!r} instead.")
    try:
        end_d = date.fromisoformat(str(end))
    except ValueError:
        raise ParameterError(f"The 'end' parameter of build must be a date YYYY-MM-DD. Got {end!r} instead.") from None
    if (end_d + timedelta(days=1)).day != 1:
        raise ParameterError(f"The 'end' parameter of build must be the last day of a month. Got {end!r} instead.")
    return end_d


def build(store: str | None = None, seed: int = 42, scale: float = 1.0, truth_path: str | Path | None = None,
          end: str = "2026-10-31", null: bool = False) -> dict[str, Any]:
    """Build the demo world into ``store`` and write its truth record.

    Parameters
    ----------
    store : str, optional
        Store path or URL (default ``data/warehouse.duckdb``). Existing demo tables are replaced.
    seed : int
        Random seed: the same seed and scale give identical tables.
    scale : float
        Size: 30,000 × scale retailers (at least 300; scale 1 ≈ 4.1M order lines). The workforce
        (250 positions, about 600 reps over the 36 months) is the same at every scale.
    truth_path : path, optional
        Where to write the truth record (default ``demo_truth.json`` in the store file's folder,
        or ``data/demo_truth.json`` for a URL store).
    end : str
        Last day of the data (36 complete months end here).
    null : bool
        Build the null world: nothing has any effect on leaving (every hazard ratio is 1: bonus,
        individual/team split, payout delay, promotion, training, awards, attainment) and sales
        have no trend (no growth, no drift of the price-class mix, no new retailers, launches take
        their amount from the existing range). The traps stay: sales stop on the exit day,
        promotions and awards grow more likely with tenure, monthly demand carries AR(1) shocks.

    Returns
    -------
    dict
        Summary: store, truth record path, row counts, seconds.

    Examples
    --------
    >>> build(store="/tmp/w.duckdb", scale=0.05)["row_counts"]["reps"] > 300  # doctest: +SKIP
    True
    """
    end_d = check_world_args(seed, scale, end, max_scale=1000)
    if not isinstance(null, (bool, np.bool_)):
        raise ParameterError(f"The 'null' parameter of build must be True or False. Got {null!r} instead.")
    null = bool(null)
    t0 = time.perf_counter()
    scale = float(scale)
    loc = store_mod.resolve_store(store)
    if truth_path is None:
        folder = Path(loc).parent if not store_mod.is_url(loc) else store_mod.project_root() / "data"
        truth_path = folder / "demo_truth.json"
    truth_path = Path(truth_path)

    ss = np.random.SeedSequence(int(seed))
    names = ["products", "customers", "workforce", "launch", "orders", "targets", "visits", "feedback", "demand"]
    rngs = {k: np.random.default_rng(s) for k, s in zip(names, ss.spawn(len(names)))}

    cal = _calendar(end_d, rng=rngs["demand"], null=null)
    products = _products(cal, rngs["products"])
    n_cust = max(MIN_CUSTOMERS, int(round(N_CUSTOMERS_SCALE1 * scale)))
    cust = _customers(cal, n_cust, rngs["customers"], null=null)
    wf = _workforce(cal, slot_regions(), rngs["workforce"], null=null)
    plans = _launch_plans(cal, products, cust, rngs["launch"])

    # A DuckDB file is built beside the store and then moved over it: readers that hold the old
    # file open (a running report) keep their snapshot, and a failed build leaves the old store.
    local = not store_mod.is_url(loc) and not loc.endswith(":memory:")
    target = loc
    if local:
        target = str(Path(loc).with_name(Path(loc).name + ".building"))
        for stale in (target, target + ".wal"):
            Path(stale).unlink(missing_ok=True)
    con = store_mod.connect(target)
    if local:
        # DuckDB caches what it wrote up to its memory limit; keep the build's footprint small
        limit = os.environ.get("SALES_ANALYSIS_DUCKDB_MEMORY_LIMIT", "1GB")
        con.raw_sql(f"SET memory_limit = '{limit}'")
    try:
        acc, extra = _orders(con, cal, products, cust, wf, plans, scale, rngs["orders"], null=null)
        customers = cust.df.copy()
        customers["rep_id"] = wf.reps["rep_id"].to_numpy()[wf.serve[-1, cust.slot]]
        customers["opened_on"] = pd.to_datetime(customers["opened_on"]).dt.date
        customers = customers[CUSTOMER_COLUMNS]
        history = _customers_history(cal, cust, wf, customers)
        prod_out = products[["sku_id", "brand", "sku_name", "price_class", "unit_price", "pack_unit", "launch_date"]].copy()
        reps = wf.reps
        reps_out = pd.DataFrame({
            "rep_id": reps["rep_id"], "hire_date": reps["hire_date"], "name": reps["name"],
            "region": reps["region_name"], "role": reps["role"], "manager_id": reps["manager_id"],
            "exit_date": reps["exit_date"], "exit_reason": reps["exit_reason"],
        })
        targets = _targets(cal, wf, acc, rngs["targets"])
        comp = _compensation(cal, wf)
        n_visits = _visits(con, cal, cust, wf, rngs["visits"])
        feedback, rating_means = _feedback(cal, products, cust, plans, rngs["feedback"])
        tables = {"customers": customers, "customers_history": history, "products": prod_out, "reps": reps_out, "targets": targets,
                  "feedback": feedback, "compensation": comp}
        for name, df in tables.items():
            con.create_table(name, obj=_to_arrow(name, df), overwrite=True)
        counts = {"orders": int(acc.lines)}
        counts.update({k: int(len(v)) for k, v in tables.items()})
        counts["visits"] = n_visits
        counts = {k: counts[k] for k in TABLE_ORDER}
        if local:
            _copy_other_tables(loc, con, set(TABLE_ORDER))
    finally:
        try:
            con.disconnect()
        except Exception:  # noqa: BLE001
            pass
    if local:
        os.replace(target, loc)
        Path(loc + ".wal").unlink(missing_ok=True)
    truth = _truth(cal, int(seed), scale, products, wf, plans, rating_means, acc, extra, counts, null)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = truth_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(truth_path)
    seconds = round(time.perf_counter() - t0, 1)
    return {"store": loc, "truth": str(truth_path), "seed": int(seed), "scale": scale, "null": null,
            "rows": ", ".join(f"{k}={v:,}" for k, v in counts.items()), "seconds": seconds}


def build_profile(profile: str = "tobacco", **kwargs: Any) -> dict[str, Any]:
    """Build the demo world of ``profile`` (one of :data:`PROFILES`) with :func:`build`'s arguments."""
    if profile not in PROFILES:
        raise ParameterError(f"The 'profile' parameter of demo must be one of {', '.join(PROFILES)}. "
                             f"Got {profile!r} instead.")
    if profile == "agency":
        from .agency import demo as agency_demo

        return agency_demo.build(**kwargs)
    return build(**kwargs)


def _copy_other_tables(old_store: str, con: Any, demo_tables: set[str]) -> None:
    """Carry the tables of an existing DuckDB store that the demo does not write (e.g. hr_snapshot,
    ingested tables) into the new file, one table at a time through Arrow (these side tables are small;
    the demo's own fact tables are never copied)."""
    import duckdb

    if not Path(old_store).exists():
        return
    try:
        old = duckdb.connect(old_store, read_only=True)
    except Exception as exc:  # noqa: BLE001 - locked by a writer: nothing can be carried over
        warnings.warn(f"demo: could not read {old_store} to keep its other tables ({type(exc).__name__})",
                      DemoWarning, stacklevel=3)
        return
    try:
        names = [r[0] for r in old.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        for name in names:
            if name not in demo_tables:
                data = old.sql(f'SELECT * FROM "{name}"').to_arrow_table()
                con.create_table(name, obj=data, overwrite=True)
    finally:
        old.close()


TABLE_ORDER = ("orders", "customers", "customers_history", "products", "reps", "targets", "visits", "feedback",
               "compensation")
_DATE_COLS = {"customers": ["opened_on"], "customers_history": ["opened_on", "valid_from", "valid_to"], "products": ["launch_date"], "reps": ["hire_date", "exit_date"],
              "targets": ["period"], "visits": ["visit_date"], "feedback": ["response_date"],
              "compensation": ["period", "due_date", "paid_date"]}


def _to_arrow(name: str, df: pd.DataFrame) -> pa.Table:
    """pandas → Arrow with real date columns (object columns of ``date`` or None become date32)."""
    cols = {}
    for c in df.columns:
        s = df[c]
        if c in _DATE_COLS.get(name, []):
            cols[c] = pa.array([None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT) else
                                (v.date() if isinstance(v, pd.Timestamp) else v) for v in s], pa.date32())
        elif is_string_dtype(s.dtype):
            cols[c] = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s],
                               pa.string())
        else:
            cols[c] = pa.array(s.to_numpy())
    return pa.table(cols)

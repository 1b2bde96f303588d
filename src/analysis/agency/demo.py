"""The agency demo world: a life-insurance branch (营业部) with planted effects on leaving.

:func:`build` writes the agency tables (agents, agents_history, policies, premium_receipts,
agent_month, agency_targets) into a store and a truth record (``agency_truth.json``) that says
what was planted. docs/AGENCY.md describes the world; the agency reports' tests rely on it.

The world
---------
One branch of six teams (营业组) and about 300 agents in force (at scale 1) over the 36 months
that end on ``end``. The months before (a burn-in of :data:`BURN_IN_MONTHS`) are simulated the
same way so that the agents in force at the start have a real mix of tenures; only the window's
policies and agent months are written. Every month:

1. the branch recruits (增员) about enough to hold its headcount: each recruit is brought by an
   agent in force for three months or more (weighted by rank and ability), or hired directly
   (:data:`DIRECT_HIRE_SHARE`, recruiter NULL); the recruit joins the recruiter's team;
2. every agent in force gets the month's features (agent_month): leads given (客户资源, allocated
   at the month's start), attendance at the morning meeting, allowance (新人津贴, the first 12
   months; its level rises with the calendar year), training hours (many in the first three
   months; more each year), activities attended;
3. each agent may leave (解约) with a monthly hazard: a baseline by tenure month (the first year
   is when most leave: 13-month retention near 30 %) times the planted hazard ratios (below);
4. agents sell policies (regular premium 期缴 and single premium 趸缴 products) by ability, tenure
   ramp and season (开门红: January to March); a few are cancelled in the free-look period.

After the loop, regular-premium policies fall due for their 2nd- and 3rd-year premiums; most are
paid (some late, within the 60-day grace period), the others lapse (some are surrendered); a
policy whose agent has left lapses more often (an orphan policy).

Planted effects (:data:`HAZARD_RATIOS`; all 1 with ``null=True``), on the monthly hazard of
leaving, each from what is known at the month's start:

- ``leads_given``: the month's leads (allocated at its start): HR 0.6 per 3 leads (the design SD);
- ``recruiter_exited``: the recruiter left in an earlier month: HR 2;
- ``early_fyp``: production in the first three tenure months up to the month's start, as
  ``log1p(FYP / 1000 yuan)``: HR 0.75 per unit.

Allowance, training, activities and attendance have no effect in either world, but allowance
levels and training hours drift with the calendar year in both (a trap for naive comparisons).
Within a month and tenure band the multipliers are normalised to mean 1 among the agents at
risk, so the effects change who leaves, not how many.
"""
from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import store as store_mod
from ..demo import _name, check_world_args
from ..errors import ParameterError

__all__ = ["build", "simulate", "HAZARD_RATIOS", "TEAMS", "BRANCH", "RANKS", "TABLE_ORDER", "ACTIVE_THRESHOLD"]

# ---------------------------------------------------------------------------------------------
# Design constants
# ---------------------------------------------------------------------------------------------
WINDOW_MONTHS = 36
BURN_IN_MONTHS = 48
N_AGENTS = 300  # headcount held at scale 1
BRANCH = "城东营业部"
TEAMS = ("卓越组", "精英组", "腾飞组", "启航组", "凌云组", "众诚组")
RANKS = ("业务员", "业务主任", "业务经理", "总监")  # the company's own list (data)
DIRECT_HIRE_SHARE = 0.15
ACTIVE_THRESHOLD = 5000.0  # 实动: FYP ≥ 5,000 yuan in the month (the report's default)

#: baseline monthly hazard of leaving by tenure month (1 = the hire month)
def baseline_hazard(k: np.ndarray) -> np.ndarray:
    k = np.asarray(k)
    return np.select([k <= 3, k <= 6, k <= 13], [0.07, 0.11, 0.09], 0.02)


LEADS_MEAN = 6.0
LEADS_DESIGN_SD = 3.0
EARLY_REF = 2.0
#: planted hazard ratios (the null world has every one at 1)
HAZARD_RATIOS = {
    "leads_given": {"per_design_sd": 0.6, "design_sd": LEADS_DESIGN_SD,
                    "per_unit": 0.6 ** (1.0 / LEADS_DESIGN_SD)},
    "recruiter_exited": 2.0,
    "early_fyp": {"per_unit": 0.75, "unit": "log1p(FYP in tenure months 1-3 before the month / 1000 yuan)"},
}
NO_EFFECT = ("allowance", "training_hours", "activities_attended", "attendance_days")

# products: name, premium type, median annual (or single) premium, log-sd, FYC rate, share
PRODUCTS = (
    ("鑫福年金", "regular", 12000.0, 0.6, 0.30, 0.30),
    ("康宁重疾", "regular", 6000.0, 0.5, 0.40, 0.30),
    ("安享终身寿", "regular", 15000.0, 0.7, 0.35, 0.10),
    ("护身福意外险", "regular", 800.0, 0.4, 0.25, 0.10),
    ("稳盈两全", "single", 50000.0, 0.7, 0.03, 0.12),
    ("鑫享趸交年金", "single", 100000.0, 0.6, 0.02, 0.08),
)
FREE_LOOK_CANCEL = 0.03
BASE_POLICIES = 0.75  # expected policies a month of an agent of ability 1, fully ramped
SEASON = {1: 2.2, 2: 1.4, 3: 1.5, 12: 1.2}  # 开门红 and the year end
PAY_YEAR2 = (0.92, 0.75)  # probability the 2nd-year premium is paid: agent in force / agent gone
PAY_YEAR3 = (0.93, 0.80)
SURRENDER_SHARE = 0.25  # of lapses
ALLOWANCE_BY_YEAR = {2019: 1500.0, 2020: 1500.0, 2021: 1600.0, 2022: 1700.0, 2023: 1800.0, 2024: 2000.0,
                     2025: 2400.0, 2026: 2600.0}
TRAINING_GROWTH = 0.15  # training hours grow 15 % a year (calendar drift)
RANK_FYC_TARGET = (1500.0, 3000.0)  # monthly FYC standard of a producing agent by rank (业务员, 业务主任)

TABLE_ORDER = ("agents", "agents_history", "policies", "premium_receipts", "agent_month", "agency_targets")
_DATE_COLS = {"agents": ["hire_date", "exit_date"], "agents_history": ["hire_date", "exit_date", "valid_from", "valid_to"],
              "policies": ["issue_date", "lapse_date"], "premium_receipts": ["due_date", "received_date"],
              "agent_month": ["month"], "agency_targets": ["period"]}


def _add_months(d: date, k: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return date(y, m + 1, 1)


def _month_end(d: date) -> date:
    return _add_months(d, 1) - timedelta(days=1)


def _anniversary(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class _World:
    """The simulation's state: one slot per agent ever hired (numpy arrays grown as needed)."""

    def __init__(self, cap: int) -> None:
        self.n = 0
        self.hire_m = np.zeros(cap, int)
        self.hire_day = np.zeros(cap, "datetime64[D]")
        self.exit_m = np.full(cap, -1)
        self.exit_day = np.zeros(cap, "datetime64[D]")
        self.exit_reason = np.full(cap, "", object)
        self.recruiter = np.full(cap, -1)
        self.team = np.zeros(cap, int)
        self.rank = np.zeros(cap, int)
        self.ability = np.zeros(cap)
        self.leads_mu = np.zeros(cap)
        self.engage = np.zeros(cap)
        self.early_fyp = np.zeros(cap)
        self.last_active = np.full(cap, -99)  # last month with FYP
        self.fixed = np.zeros(cap, bool)  # the director and team heads: they stay
        self.promotions: list[tuple[int, int, int]] = []  # (agent, month index, new rank)

    def grow(self, k: int) -> np.ndarray:
        idx = np.arange(self.n, self.n + k)
        if self.n + k > len(self.hire_m):
            raise RuntimeError("agency demo: more hires than the world's capacity")  # pragma: no cover
        self.n += k
        return idx


def simulate(seed: int = 42, scale: float = 1.0, end: str | date = "2026-10-31", null: bool = False) -> dict[str, Any]:
    """Simulate the agency world; return its tables (pandas frames) and its truth record.

    Parameters
    ----------
    seed : int
        Random seed (same seed and scale: identical tables).
    scale : float
        Headcount held: 300 × scale agents (at least 30).
    end : str or date
        The last day of the data (the last day of a month).
    null : bool
        The null world: every planted hazard ratio is 1.

    Returns
    -------
    dict
        ``{"tables": {name: DataFrame}, "truth": dict}``.
    """
    end_d = date.fromisoformat(str(end)) if not isinstance(end, date) else end
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(1)[0])
    target_n = max(30, int(round(N_AGENTS * scale)))
    n_months = BURN_IN_MONTHS + WINDOW_MONTHS
    w_start = _add_months(date(end_d.year, end_d.month, 1), -(WINDOW_MONTHS - 1))
    m0 = _add_months(w_start, -BURN_IN_MONTHS)  # month index 0
    months = [_add_months(m0, t) for t in range(n_months)]
    hr = {"leads": 1.0 if null else HAZARD_RATIOS["leads_given"]["per_unit"],
          "recruiter": 1.0 if null else HAZARD_RATIOS["recruiter_exited"],
          "early": 1.0 if null else HAZARD_RATIOS["early_fyp"]["per_unit"]}
    wd = _World(target_n * 12)
    # the director, six team heads, and the agents in force when the burn-in starts (veterans)
    heads = wd.grow(1 + len(TEAMS))
    wd.rank[heads] = [3] + [2] * len(TEAMS)
    wd.team[heads] = [0] + list(range(len(TEAMS)))  # the director sits in the first team
    wd.fixed[heads] = True
    vets = wd.grow(target_n - len(heads))
    wd.team[vets] = rng.integers(0, len(TEAMS), len(vets))
    wd.rank[vets] = np.where(rng.random(len(vets)) < 0.12, 1, 0)
    allv = np.concatenate([heads, vets])
    wd.hire_m[allv] = -rng.integers(14, 96, len(allv))
    for i in allv:
        d0 = np.datetime64(_add_months(m0, int(wd.hire_m[i])))
        wd.hire_day[i] = d0 + rng.integers(0, 28)
    wd.ability[allv] = rng.lognormal(0.0, 0.6, len(allv))
    wd.ability[heads[0]] = 0.0  # the director manages; no personal production
    wd.leads_mu[allv] = rng.gamma(4.0, LEADS_MEAN / 4.0, len(allv))
    wd.engage[allv] = rng.beta(6, 3, len(allv))
    wd.early_fyp[allv] = np.exp(rng.normal(EARLY_REF, 0.8, len(allv))) * 1000  # long past; unused

    pol: dict[str, list] = {k: [] for k in ("agent", "day", "product", "m")}
    am_rows: list[dict] = []
    prod_w = np.array([p[5] for p in PRODUCTS])
    prod_w = prod_w / prod_w.sum()
    fyp_month = {}  # (agent, t) -> fyp, for targets
    for t, ms in enumerate(months):
        me = _month_end(ms)
        n_days = me.day
        ms64, me64 = np.datetime64(ms), np.datetime64(me)
        alive = np.arange(wd.n)
        alive = alive[(wd.hire_m[:wd.n] < t) & (wd.exit_m[:wd.n] < 0)]
        # 1. recruiting
        lam = max(0.0, 14.0 * target_n / N_AGENTS + 0.25 * (target_n - len(alive)))
        k_new = int(rng.poisson(lam))
        if k_new:
            new = wd.grow(k_new)
            tenure = t - wd.hire_m[alive] + 1
            pool = alive[tenure >= 4]
            wts = (1.0 + 1.5 * wd.rank[pool]) * np.sqrt(wd.ability[pool])
            direct = rng.random(k_new) < DIRECT_HIRE_SHARE
            rec = rng.choice(pool, k_new, p=wts / wts.sum())
            wd.recruiter[new] = np.where(direct, -1, rec)
            wd.team[new] = np.where(direct, rng.integers(0, len(TEAMS), k_new), wd.team[rec])
            wd.hire_m[new] = t
            wd.hire_day[new] = ms64 + rng.integers(0, n_days, k_new)
            wd.ability[new] = rng.lognormal(-0.15, 0.7, k_new)
            wd.leads_mu[new] = rng.gamma(4.0, LEADS_MEAN / 4.0, k_new)
            wd.engage[new] = rng.beta(5, 3, k_new)
            alive = np.concatenate([alive, new])
        k = t - wd.hire_m[alive] + 1
        # 2. the month's features
        leads = rng.poisson(wd.leads_mu[alive])
        attend = rng.binomial(22, wd.engage[alive])
        year = ms.year
        allow_level = ALLOWANCE_BY_YEAR.get(year, ALLOWANCE_BY_YEAR[max(ALLOWANCE_BY_YEAR)])
        allowance = np.where(k <= 12, np.where(attend >= 15, allow_level, allow_level / 2), 0.0)
        allowance = allowance + np.where(wd.rank[alive] >= 1, 800.0 * wd.rank[alive], 0.0)
        yf = (1.0 + TRAINING_GROWTH) ** (year - w_start.year)
        training = np.round(rng.gamma(np.where(k <= 3, 8.0, 4.0), np.where(k <= 3, 3.0, 1.0) * yf), 1)
        activities = rng.poisson(0.8 + 1.2 * wd.engage[alive])
        # 3. leaving
        rec = wd.recruiter[alive]
        rec_gone = (rec >= 0) & (wd.exit_m[np.maximum(rec, 0)] >= 0) & (wd.exit_m[np.maximum(rec, 0)] < t)
        early_x = np.log1p(wd.early_fyp[alive] / 1000.0)  # FYP of tenure months 1-3 before this month
        mult = (hr["leads"] ** (leads - LEADS_MEAN)) * np.where(rec_gone, hr["recruiter"], 1.0) \
            * hr["early"] ** (early_x - EARLY_REF)
        band = np.select([k <= 3, k <= 13], [0, 1], 2)
        for b in range(3):
            sel = band == b
            if sel.any():
                mult[sel] = mult[sel] / mult[sel].mean()
        h = np.clip(baseline_hazard(k) * mult, 0.0, 0.95)
        leave = (rng.random(len(alive)) < h) & ~wd.fixed[alive]
        start_day = np.maximum(wd.hire_day[alive], ms64)
        span = (me64 - start_day).astype(int) + 1
        exit_day = start_day + 1 + (rng.random(len(alive)) * np.maximum(span - 1, 1)).astype(int)
        exit_day = np.minimum(exit_day, me64)
        leave &= exit_day > wd.hire_day[alive]
        gone = alive[leave]
        wd.exit_m[gone] = t
        wd.exit_day[gone] = exit_day[leave]
        idle = (t - wd.last_active[gone]) > 3
        wd.exit_reason[gone] = np.where(idle & (rng.random(len(gone)) < 0.6), "involuntary", "voluntary")
        # 4. production (days in force this month)
        last_day = np.where(leave, exit_day - 1, me64)
        in_days = (last_day - start_day).astype(int) + 1
        frac = np.clip(in_days / n_days, 0.0, 1.0)
        ramp = np.minimum(1.0, 0.35 + 0.13 * k)
        lam_p = BASE_POLICIES * wd.ability[alive] * ramp * SEASON.get(ms.month, 1.0) * frac
        n_pol = rng.poisson(lam_p)
        sellers = np.repeat(np.arange(len(alive)), n_pol)
        if len(sellers):
            off = (rng.random(len(sellers)) * in_days[sellers]).astype(int)
            pol["agent"].append(alive[sellers])
            pol["day"].append(start_day[sellers] + off)
            pol["product"].append(rng.choice(len(PRODUCTS), len(sellers), p=prod_w))
            pol["m"].append(np.full(len(sellers), t))
        active = n_pol > 0
        wd.last_active[alive[active]] = t
        # promotions (rank only; recorded in agents_history)
        promo = (~wd.fixed[alive]) & (~leave) & (wd.rank[alive] == 0) & (k >= 12) & active \
            & (rng.random(len(alive)) < 0.01)
        for a in alive[promo]:
            wd.rank[a] = 1
            wd.promotions.append((int(a), t + 1, 1))
        if t >= BURN_IN_MONTHS:
            for j in range(len(alive)):
                am_rows.append((int(alive[j]), ms, int(min(attend[j], max(0, in_days[j]))), float(allowance[j]),
                                int(leads[j]), float(training[j]), int(activities[j])))
        _price_month(wd, pol, rng, t)
    return _tables(wd, pol, am_rows, months, w_start, end_d, rng, null, seed, scale, target_n)


def _price_month(wd: _World, pol: dict, rng: np.random.Generator, t: int) -> None:
    """Premiums of the month's policies (appended last) and the sellers' early FYP."""
    if not pol["m"] or pol["m"][-1][0] != t:
        return
    if len(pol.get("fyp", [])) == len(pol["m"]):
        return
    prod = pol["product"][-1]
    med = np.array([p[2] for p in PRODUCTS])[prod]
    sd = np.array([p[3] for p in PRODUCTS])[prod]
    prem = np.maximum(100.0, np.round(med * np.exp(rng.normal(0.0, sd)) / 100.0) * 100.0)
    cancel = rng.random(len(prod)) < FREE_LOOK_CANCEL
    pol.setdefault("premium", []).append(prem)
    pol.setdefault("cancel", []).append(cancel)
    pol.setdefault("fyp", []).append(np.where(cancel, 0.0, prem))
    agents = pol["agent"][-1]
    k = t - wd.hire_m[agents] + 1
    early = k <= 3
    np.add.at(wd.early_fyp, agents[early], np.where(cancel, 0.0, prem)[early])


def _tables(wd: _World, pol: dict, am_rows: list, months: list[date], w_start: date, end_d: date,
            rng: np.random.Generator, null: bool, seed: int, scale: float, target_n: int) -> dict[str, Any]:
    n = wd.n
    ids = np.array([f"A{i + 1:05d}" for i in range(n)], dtype=object)
    m0 = months[0]
    hire = pd.to_datetime(wd.hire_day[:n]).date
    exit_day = np.array([pd.Timestamp(d).date() if wd.exit_m[i] >= 0 else None
                         for i, d in enumerate(wd.exit_day[:n])], dtype=object)
    # the agents: in force at some time in the window, and the recruiters they name (closure)
    keep = np.array([(wd.exit_m[i] < 0 or exit_day[i] >= w_start) for i in range(n)])
    while True:
        r = wd.recruiter[:n][keep]
        extra = np.zeros(n, bool)
        extra[r[r >= 0]] = True
        if not (extra & ~keep).any():
            break
        keep |= extra
    director = 0
    team_head = {tm: 1 + tm for tm in range(len(TEAMS))}
    manager = np.array([None if i == director else ids[director] if wd.fixed[i]
                        else ids[team_head[int(wd.team[i])]] for i in range(n)], dtype=object)
    names = _name(np.random.default_rng(rng.integers(1 << 31)), n)
    idx = np.flatnonzero(keep)
    agents = pd.DataFrame({
        "agent_id": ids[idx], "name": names[idx], "team": [TEAMS[wd.team[i]] for i in idx],
        "branch": BRANCH, "hire_date": hire[idx], "exit_date": exit_day[idx],
        "exit_reason": [wd.exit_reason[i] or None for i in idx],
        "rank": [RANKS[wd.rank[i]] for i in idx],
        "recruiter_id": [ids[wd.recruiter[i]] if wd.recruiter[i] >= 0 else None for i in idx],
        "manager_id": manager[idx],
    })
    # history: promoted agents have two versions (rank), split on the first day of the promotion month
    hist_rows = []
    kept = set(idx.tolist())
    for a, t, new_rank in wd.promotions:
        if a not in kept:
            continue
        day = months[t] if t < len(months) else _add_months(months[-1], 1)
        if day > end_d:
            continue
        base = agents.loc[agents["agent_id"] == ids[a]].iloc[0].to_dict()
        hist_rows.append({**base, "rank": RANKS[new_rank - 1], "valid_from": base["hire_date"], "valid_to": day})
        hist_rows.append({**base, "rank": RANKS[new_rank], "valid_from": day, "valid_to": None})
    hist_cols = list(agents.columns) + ["valid_from", "valid_to"]
    history = pd.DataFrame(hist_rows, columns=hist_cols)
    # an agent promoted after the data's end still shows the rank the data knew
    late = {ids[a] for a, t, _ in wd.promotions if (t >= len(months) or months[t] > end_d) and a in kept}
    agents.loc[agents["agent_id"].isin(late), "rank"] = RANKS[0]

    # policies of the window
    cat = {k: np.concatenate(v) if v else np.array([]) for k, v in pol.items()}
    in_win = cat["day"] >= np.datetime64(w_start)
    for k in list(cat):
        cat[k] = cat[k][in_win]
    order = np.lexsort((cat["agent"], cat["day"]))
    for k in list(cat):
        cat[k] = cat[k][order]
    n_pol = len(order)
    ptype = np.array([PRODUCTS[p][1] for p in cat["product"]], dtype=object)
    rate = np.array([PRODUCTS[p][4] for p in cat["product"]])
    fyp = cat["fyp"]
    fyc = np.round(fyp * rate, 2)
    issue = pd.to_datetime(cat["day"]).date
    pids = np.array([f"P{d.year}{i + 1:07d}" for i, d in enumerate(issue)], dtype=object)
    status = np.where(cat["cancel"], "cancelled", "in_force").astype(object)
    lapse = np.full(n_pol, None, dtype=object)
    receipts = []
    agent_exit = np.array([exit_day[a] for a in cat["agent"]], dtype=object)
    for i in range(n_pol):
        if cat["cancel"][i]:
            continue
        if ptype[i] == "single":
            if rng.random() < 0.02:
                d = issue[i] + timedelta(days=int(rng.integers(60, 700)))
                if d <= end_d:
                    status[i], lapse[i] = "surrendered", d
            continue
        for year, probs in ((2, PAY_YEAR2), (3, PAY_YEAR3)):
            due = _anniversary(issue[i], year - 1)
            if due > end_d:
                break
            gone = agent_exit[i] is not None and agent_exit[i] < due
            paid = rng.random() < probs[1 if gone else 0]
            amount = float(cat["premium"][i])
            if paid:
                u = rng.random()
                off = int(rng.integers(-30, 1)) if u < 0.75 else int(rng.integers(1, 31)) if u < 0.95 \
                    else int(rng.integers(31, 61))
                got = due + timedelta(days=off)
                if got > end_d:
                    receipts.append((pids[i], year, due, amount, 0.0, None))
                else:
                    receipts.append((pids[i], year, due, amount, amount, got))
                continue
            receipts.append((pids[i], year, due, amount, 0.0, None))
            lapse_day = due + timedelta(days=60)
            if lapse_day <= end_d:
                status[i] = "surrendered" if rng.random() < SURRENDER_SHARE else "lapsed"
                lapse[i] = lapse_day
            break
    policies = pd.DataFrame({
        "policy_id": pids, "agent_id": ids[cat["agent"].astype(int)], "issue_date": issue,
        "product": [PRODUCTS[p][0] for p in cat["product"]], "premium_type": ptype,
        "fyp": fyp.astype(float), "fyc": fyc.astype(float), "status": status, "lapse_date": lapse,
    })
    prem = pd.DataFrame(receipts, columns=["policy_id", "policy_year", "due_date", "amount_due", "amount_received",
                                           "received_date"])
    am = pd.DataFrame(am_rows, columns=["agent", "month", "attendance_days", "allowance", "leads_given",
                                        "training_hours", "activities_attended"])
    am.insert(0, "agent_id", ids[am.pop("agent").to_numpy()])
    am = am.sort_values(["month", "agent_id"], kind="stable").reset_index(drop=True)
    targets = _targets(agents, policies, am, months, w_start, end_d, rng, wd, ids)
    tables = {"agents": agents, "agents_history": history, "policies": policies, "premium_receipts": prem,
              "agent_month": am, "agency_targets": targets}
    truth = _truth(wd, agents, am, w_start, end_d, null, seed, scale, target_n, tables)
    return {"tables": tables, "truth": truth}


def _targets(agents: pd.DataFrame, policies: pd.DataFrame, am: pd.DataFrame, months: list[date], w_start: date,
             end_d: date, rng: np.random.Generator, wd: _World, ids: np.ndarray) -> pd.DataFrame:
    """Team targets: the month's actual ÷ a planned attainment (about 95 %); next month's: the same
    month a year earlier × 1.1. The branch's are the teams' sums; producing agents' (业务员, 业务主任)
    by rank; recruits by team."""
    team_of = agents.set_index("agent_id")["team"]
    p = policies.assign(team=policies["agent_id"].map(team_of),
                        month=pd.to_datetime(policies["issue_date"]).dt.to_period("M").dt.to_timestamp().dt.date)
    act = p.groupby(["team", "month"])[["fyp", "fyc"]].sum()
    # the window's months, then the rest of the last year (at least the next month): the year's plan
    last_m = date(end_d.year, end_d.month, 1)
    win = [m for m in months if m >= w_start] + [_add_months(last_m, k) for k in range(1, max(2, 13 - last_m.month))]
    rows = []
    for period in win:
        future = period > end_d
        branch = {"fyp": 0.0, "fyc": 0.0, "recruits": 0.0}
        for team in TEAMS:
            for measure in ("fyp", "fyc"):
                if future:
                    base = act[measure].get((team, _add_months(period, -12)), 0.0) * 1.1
                else:
                    att = float(np.clip(rng.normal(0.95, 0.15), 0.5, 1.5))
                    base = act[measure].get((team, period), 0.0) / att
                v = float(np.round(max(base, 1000.0), -2))
                rows.append((period, "team", team, measure, v))
                branch[measure] += v
            rec = float(max(1, round(rng.normal(2.6, 0.6))))
            rows.append((period, "team", team, "recruits", rec))
            branch["recruits"] += rec
        for measure, v in branch.items():
            rows.append((period, "branch", BRANCH, measure, v))
        # agents in force on the period's first day (for the next month: those in force at the end)
        day = min(period, end_d)
        inforce = agents[(pd.to_datetime(agents["hire_date"]).dt.date <= day)
                         & (agents["exit_date"].isna() | (agents["exit_date"].map(lambda d: d is None or d > day)))]
        for aid, rank in zip(inforce["agent_id"], inforce["rank"]):
            if RANKS.index(rank) < 2:  # producing agents; managers and the director have team targets
                rows.append((period, "agent", aid, "fyc", RANK_FYC_TARGET[RANKS.index(rank)]))
    return pd.DataFrame(rows, columns=["period", "level", "key", "measure", "value"])


def _truth(wd: _World, agents: pd.DataFrame, am: pd.DataFrame, w_start: date, end_d: date, null: bool, seed: int,
           scale: float, target_n: int, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    hire = pd.to_datetime(agents["hire_date"])
    ex = pd.to_datetime(agents["exit_date"])
    ret = {}
    for y in sorted(set(hire.dt.year)):
        c = agents[(hire.dt.year == y) & (hire.dt.date >= w_start)]
        horizon = (hire[c.index] + pd.DateOffset(months=13))
        c = c[horizon.dt.date <= end_d]
        if len(c) >= 10:
            h13 = hire[c.index] + pd.DateOffset(months=13)
            stay = ex[c.index].isna() | (ex[c.index] > h13)
            ret[str(y)] = {"hires": int(len(c)), "retention_13m": round(float(stay.mean()), 4)}
    planted = {
        "leads_given": {"hr_per_design_sd": 1.0 if null else HAZARD_RATIOS["leads_given"]["per_design_sd"],
                        "design_sd": LEADS_DESIGN_SD,
                        "hr_per_unit": 1.0 if null else round(HAZARD_RATIOS["leads_given"]["per_unit"], 6),
                        "realised_sd": round(float(am["leads_given"].std()), 3),
                        "timing": "agent_month.leads_given of the same month (allocated at the month's start)"},
        "recruiter_exited": {"hr": 1.0 if null else HAZARD_RATIOS["recruiter_exited"],
                             "definition": "the recruiter's exit_date is before the month's first day"},
        "early_fyp": {"hr_per_unit": 1.0 if null else HAZARD_RATIOS["early_fyp"]["per_unit"],
                      "unit": HAZARD_RATIOS["early_fyp"]["unit"]},
    }
    return {
        "profile": "agency", "seed": int(seed), "scale": float(scale), "null": bool(null),
        "window": {"start": w_start.isoformat(), "end": end_d.isoformat(), "months": WINDOW_MONTHS},
        "branch": BRANCH, "teams": list(TEAMS), "ranks": list(RANKS), "headcount_held": target_n,
        "hazard_ratios": planted, "no_effect": list(NO_EFFECT),
        "calendar_drift": {"allowance_by_year": {str(k): v for k, v in ALLOWANCE_BY_YEAR.items()},
                           "training_growth_per_year": TRAINING_GROWTH},
        "baseline_hazard": {"months_1_3": 0.07, "months_4_6": 0.11, "months_7_13": 0.09, "later": 0.02},
        "retention_13m_by_hire_year": ret,
        "active_threshold": ACTIVE_THRESHOLD,
        "persistency_design": {"pay_year2": {"agent_in_force": PAY_YEAR2[0], "agent_gone": PAY_YEAR2[1]},
                               "pay_year3": {"agent_in_force": PAY_YEAR3[0], "agent_gone": PAY_YEAR3[1]}},
        "agents_table": ("the agents in force at some time in the window, and the recruiters they name: cohorts "
                         "hired before the window are its survivors (left-truncated)"),
        "row_counts": {k: int(len(v)) for k, v in tables.items()},
    }


def _to_arrow(name: str, df: pd.DataFrame):
    import pyarrow as pa
    from pandas.api.types import is_string_dtype

    from ..contracts import spec

    ts = spec(name)
    cols = {}
    for c in ts.names:
        s = df[c]
        dtype = ts.column(c).dtype
        if dtype in ("date", "month"):
            cols[c] = pa.array([None if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else
                                (v.date() if isinstance(v, pd.Timestamp) else v) for v in s], pa.date32())
        elif dtype == "str" or is_string_dtype(s.dtype):
            cols[c] = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s],
                               pa.string())
        elif dtype == "int":
            cols[c] = pa.array(s.to_numpy().astype("int64"))
        else:
            cols[c] = pa.array(s.to_numpy().astype("float64"))
    return pa.table(cols)


def build(store: str | None = None, seed: int = 42, scale: float = 1.0, truth_path: str | Path | None = None,
          end: str = "2026-10-31", null: bool = False) -> dict[str, Any]:
    """Build the agency demo world into ``store`` and write its truth record.

    Parameters
    ----------
    store : str, optional
        Store path or URL (default: the project store, ``data/warehouse.duckdb``). The agency
        tables are replaced; the store's other tables (a tobacco world) are kept, so one store
        may hold both profiles.
    seed : int
        Random seed: the same seed and scale give identical tables.
    scale : float
        Size: the branch holds about 300 × scale agents (at least 30).
    truth_path : path, optional
        Where to write the truth record (default ``agency_truth.json`` beside the store file).
    end : str
        Last day of the data (the last day of a month; 36 months end here).
    null : bool
        The null world: nothing affects leaving (every planted hazard ratio is 1); the calendar
        drift of allowances and training stays.

    Returns
    -------
    dict
        Summary: store, truth record path, row counts, seconds.
    """
    end_d = check_world_args(seed, scale, end, max_scale=100)
    t0 = time.perf_counter()
    loc = store_mod.resolve_store(store)
    if truth_path is None:
        folder = Path(loc).parent if not store_mod.is_url(loc) else store_mod.project_root() / "data"
        truth_path = folder / "agency_truth.json"
    truth_path = Path(truth_path)
    world = simulate(seed=int(seed), scale=float(scale), end=end_d, null=bool(null))
    if not store_mod.is_url(loc) and not loc.endswith(":memory:"):
        Path(loc).parent.mkdir(parents=True, exist_ok=True)
    # the agency tables are replaced in place; the store's other tables (a tobacco world) stay
    con = store_mod.connect(loc)
    try:
        for name in TABLE_ORDER:
            con.create_table(name, obj=_to_arrow(name, world["tables"][name]), overwrite=True)
    finally:
        try:
            con.disconnect()
        except Exception:  # noqa: BLE001
            pass
    truth = world["truth"]
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = truth_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(truth_path)
    counts = truth["row_counts"]
    return {"store": loc, "truth": str(truth_path), "profile": "agency", "seed": int(seed), "scale": float(scale),
            "null": bool(null), "rows": ", ".join(f"{k}={v:,}" for k, v in counts.items()),
            "seconds": round(time.perf_counter() - t0, 1)}

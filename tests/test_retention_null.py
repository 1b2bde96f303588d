"""The retention report in worlds where nothing affects leaving: every claim it can make counts.

A claim is anything a reader takes as a finding about an incentive feature or attainment: a
term of the adjusted Cox model, a one-feature Cox model ("a raw association disappears after
adjustment"), the log-rank test of a feature's retention curves, a correlation with leaving, a
term of the logistic check (all one Benjamini–Hochberg family at 5 %), and a violation flagged
by the proportional-hazards check (its own Benjamini–Hochberg family at 5 %).

Worlds: ``analysis.demo.build(null=True, scale=0.02)`` (retention needs the workforce, not many
order lines), each also rewritten into a *drift world*: pay practice changes with the calendar
year (payout delays, bonus levels and the team share of the bonus, training hours), independently
of leaving, since exits and hire dates are left as they are. Ten seeds give 20 worlds.

The allowance: in a world where every hypothesis is true, Benjamini–Hochberg at 5 % makes any
claim with probability at most 5 % (false discovery rate = family-wise error rate then). Over n
worlds the number with a claim is then at most Binomial(n, 0.05); a check fails when the count
exceeds the largest c with P(X > c) ≤ 1 % (for n = 20: 4, P(X ≥ 5) = 0.3 %). Null and drift
worlds built from one seed share their exits, so the 20 are not quite independent: the bound is
applied to the 10 null worlds and the 10 drift worlds separately too (n = 10: 3). The two families
together make a claim with probability at most 10 % (union bound): Binomial(20, 0.10), limit 6.
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

SEEDS = tuple(range(300, 310))
ALPHA = 0.05
FALSE_ALARM = 0.01


def binomial_limit(n: int, alpha: float = ALPHA, false_alarm: float = FALSE_ALARM) -> int:
    """Largest count c with P(X > c) <= ``false_alarm`` for X ~ Binomial(n, alpha).

    Examples
    --------
    >>> binomial_limit(20), binomial_limit(10), binomial_limit(20, 0.10)
    (4, 3, 6)
    """
    from scipy.stats import binom

    c = 0
    while binom.sf(c, n, alpha) > false_alarm:
        c += 1
    return c


def drift_compensation(path: Path, seed: int) -> None:
    """Rewrite the compensation table of the store at ``path`` so that pay practice drifts with
    the calendar year: each year adds its own payout delay (0–8 days), scales the bonus
    (0.7–1.4) and the team part of it (0.5–1.6), and adds training hours (0–8). Exits, hires
    and promotions stay as they were: none of it affects leaving."""
    import duckdb

    rng = np.random.default_rng(seed + 7)
    db = duckdb.connect(str(path))
    try:
        years = [r[0] for r in db.execute("SELECT DISTINCT year(period) FROM compensation ORDER BY 1").fetchall()]
        for y in years:
            days, bonus = int(rng.integers(0, 9)), float(rng.uniform(0.7, 1.4))
            team, hours = float(rng.uniform(0.5, 1.6)), float(rng.integers(0, 9))
            db.execute(f"""UPDATE compensation SET paid_date = paid_date + {days},
                           individual_bonus = individual_bonus * {bonus}, team_bonus = team_bonus * {bonus * team},
                           training_hours = training_hours + {hours} WHERE year(period) = {y}""")
    finally:
        db.close()


def claims(path: Path) -> dict[str, bool]:
    """Section → whether the retention report (default parameters) makes a claim in the store."""
    import ibis

    from analysis import retention as rt

    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scope = rt.prepare(con, n_boot=50)
            fam = scope.family  # the Cox models, the curves, the correlations and the logistic check
        out = fam.claims()
        out["ph"] = bool(scope.effects.ph_violations)
        # the written summary speaks only on the family: any term it calls clear is in it
        out["summary"] = bool(fam.significant_features)
        return out
    finally:
        con.disconnect()


DELAY_BY_YEAR = ("SELECT year(period) y, avg(greatest(date_diff('day', due_date, paid_date), 0)) d "
                 "FROM compensation GROUP BY 1 ORDER BY 1")


def _query(path: Path, sql: str) -> list:
    import duckdb

    db = duckdb.connect(str(path), read_only=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="session")
def null_world_claims(tmp_path_factory) -> list[dict]:
    """One row per world: seed, world ("null" or "drift"), each section's claim, and for the
    drift world how far its yearly mean payout delay moved and whether its exits stayed."""
    from analysis import demo

    tmp = tmp_path_factory.mktemp("retention_null")
    rows = []
    for seed in SEEDS:
        path = tmp / f"null{seed}.duckdb"
        demo.build(store=str(path), seed=seed, scale=0.02, null=True)
        drifted = tmp / f"drift{seed}.duckdb"
        shutil.copy(path, drifted)
        drift_compensation(drifted, seed)
        before, after = _query(path, DELAY_BY_YEAR), _query(drifted, DELAY_BY_YEAR)
        exits = "SELECT count(exit_date) FROM reps"
        moved = {"delay_shift": [a[1] - b[1] for a, b in zip(after, before)],
                 "same_exits": _query(path, exits) == _query(drifted, exits)}
        rows.append({"seed": seed, "world": "null", **claims(path)})
        rows.append({"seed": seed, "world": "drift", **claims(drifted), **moved})
        path.unlink()
        drifted.unlink()
    return rows


def test_binomial_limit():
    from scipy.stats import binom

    assert (binomial_limit(20), binomial_limit(10), binomial_limit(20, 0.10)) == (4, 3, 6)
    assert binom.sf(4, 20, 0.05) <= FALSE_ALARM < binom.sf(3, 20, 0.05)


def test_drift_worlds_drift(null_world_claims):
    """The rewrite moves pay practice by year (so a method comparing people of different years
    would find differences) and leaves exits alone."""
    for r in (r for r in null_world_claims if r["world"] == "drift"):
        shift = np.array(r["delay_shift"])
        assert r["same_exits"], r["seed"]
        assert shift.max() - shift.min() >= 1, (r["seed"], shift)


def test_null_worlds_make_no_more_claims_than_the_family_allows(null_world_claims):
    """Over 10 null and 10 drift worlds, the share with any claim of the family (Cox, one-feature
    Cox, curves, correlations, logistic check) stays within 5 % plus sampling error."""
    rows = null_world_claims
    fam = ("cox", "cox_raw", "logrank", "correlation", "logistic")
    hit = [r for r in rows if any(r[k] for k in fam)]
    detail = [(r["seed"], r["world"], [k for k in fam if r[k]]) for r in hit]
    assert len(hit) <= binomial_limit(len(rows)), f"{len(hit)} of {len(rows)} worlds made a claim: {detail}"
    for world in ("null", "drift"):
        sub = [r for r in rows if r["world"] == world]
        n_hit = sum(any(r[k] for k in fam) for r in sub)
        assert n_hit <= binomial_limit(len(sub)), f"{n_hit} of {len(sub)} {world} worlds made a claim: {detail}"
    # the written summary claims only what the family does
    assert all(r["summary"] == any(r[k] for k in fam) for r in rows)


def test_null_worlds_ph_check_and_all_claims(null_world_claims):
    """The proportional-hazards check flags a term in at most 5 % of worlds (plus sampling error),
    and any claim at all (family or check) in at most 10 %."""
    rows = null_world_claims
    ph = [(r["seed"], r["world"]) for r in rows if r["ph"]]
    assert len(ph) <= binomial_limit(len(rows)), f"{len(ph)} of {len(rows)} worlds flagged a PH violation: {ph}"
    fam = ("cox", "cox_raw", "logrank", "correlation", "logistic", "ph")
    anyc = [(r["seed"], r["world"]) for r in rows if any(r[k] for k in fam)]
    assert len(anyc) <= binomial_limit(len(rows), 0.10), f"{len(anyc)} of {len(rows)} worlds made a claim: {anyc}"

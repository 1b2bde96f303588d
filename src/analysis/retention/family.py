"""The report's family of tests: every p-value on which it calls a feature significant, adjusted
together (Benjamini–Hochberg, :func:`analysis.stats.correlation.bh_adjust`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from .data import RetentionData

if TYPE_CHECKING:  # annotations only: the results are read by their fields
    from .correlation import CorrelationResult
    from .cox import EffectsResult
    from .curves import CurvesResult


SIGNIFICANCE = 0.05


#: the numeric controls whose effect the written summary states (they are tested in the family)
STATED_CONTROLS = ("attainment",)


#: the tests of the family, in the order of the table
FAMILY_TESTS = ("cox", "cox_raw", "logrank", "correlation", "logistic")


@dataclass
class FamilyOfTests:
    """Every p-value on which the report calls an incentive feature (or attainment)
    significant, correlated, different or a driver, adjusted together (Benjamini–Hochberg,
    false discovery rate ``alpha``). In a world where nothing affects leaving every hypothesis
    is true, so the chance that the report makes any such claim is at most ``alpha``.

    The family: the adjusted Cox model's Wald test of each feature term and of attainment
    ("cox"), the one-feature Cox models ("cox_raw", behind "a raw association disappears after
    adjustment"), the log-rank test of each feature's retention curves ("logrank"), each
    feature's matched correlation with leaving ("correlation") and each feature term of the
    logistic check ("logistic"). Controls other than attainment are adjustments, not claims:
    no sentence is about them.
    ``table``: feature, test, term, p, p_adj, significant.
    """

    table: pd.DataFrame
    alpha: float = SIGNIFICANCE
    method: str = "benjamini-hochberg"

    @property
    def significant_features(self) -> list[str]:
        """Features with at least one test of the family below ``alpha`` after adjustment
        (in the order of the table)."""
        if self.table.empty:
            return []
        sig = self.table.loc[self.table["significant"], "feature"]
        return list(dict.fromkeys(sig.tolist()))

    def claims(self) -> dict[str, bool]:
        """Test → whether the report calls something significant on it."""
        t = self.table
        return {k: bool(t.loc[t["test"] == k, "significant"].any()) if not t.empty else False for k in FAMILY_TESTS}

    def p_adj(self, test: str, key: str) -> float | None:
        """Adjusted p of one test (``key``: the term of a Cox or logistic test, the feature of a
        log-rank or correlation test); None when it is not in the family."""
        if self.table.empty:
            return None
        col = "term" if test in ("cox", "cox_raw", "logistic") else "feature"
        r = self.table[(self.table["test"] == test) & (self.table[col] == key)]
        return float(r["p_adj"].iloc[0]) if len(r) else None

    def records(self) -> list[dict[str, Any]]:
        return [{"feature": r.feature, "test": r.test, "term": r.term, "p": float(r.p), "p_adj": float(r.p_adj)}
                for r in self.table.itertuples()]


def family_of_tests(effects: "EffectsResult", curves: Sequence["CurvesResult"] = (), features: Sequence[str] = (),
                    alpha: float = SIGNIFICANCE, corr: "CorrelationResult | None" = None) -> FamilyOfTests:
    """The report's family of tests about ``features``, Benjamini–Hochberg adjusted.

    Parameters
    ----------
    effects : EffectsResult
        Its adjusted Cox model gives one Wald test per feature term (none when the model did
        not converge), its one-feature models and its logistic check one each.
    curves : sequence of CurvesResult
        Each shown feature's curves give their log-rank test.
    features : sequence of str
        The terms claims are made about: the incentive features (the report's
        ``data.features``) and the stated controls (attainment).
    corr : CorrelationResult, optional
        Each feature's correlation with leaving.

    Examples
    --------
    >>> fam = family_of_tests(eff, [curves_1, curves_2], data.features)  # doctest: +SKIP
    >>> fam.significant_features  # doctest: +SKIP
    ['payout_delay_days']
    """
    from ..stats.correlation import bh_adjust

    rows = []
    feats = list(features)

    def owner(term: str) -> str | None:
        for f in feats:
            if term == f or term.startswith(f + "["):
                return f
        return None

    def add(table: pd.DataFrame | None, test: str) -> None:
        if table is None or table.empty:
            return
        for r in table.itertuples():
            f = owner(r.term)
            if f is not None and np.isfinite(r.p):
                rows.append({"feature": f, "test": test, "term": r.term, "p": float(r.p)})

    if effects is not None and effects.adjusted is not None and effects.adjusted.converged:
        add(effects.adjusted.table, "cox")
        add(getattr(effects, "raw", None), "cox_raw")
    for c in curves:
        if c is not None and c.logrank is not None and c.feature in feats and np.isfinite(c.logrank.p_value):
            rows.append({"feature": c.feature, "test": "logrank", "term": c.feature, "p": float(c.logrank.p_value)})
    if corr is not None and corr.ok and not corr.table.empty:
        for r in corr.table.itertuples():
            if r.feature in feats and np.isfinite(r.p):
                rows.append({"feature": r.feature, "test": "correlation", "term": r.feature, "p": float(r.p)})
    if effects is not None and getattr(effects, "logistic", None) is not None:
        add(effects.logistic.table, "logistic")
    t = pd.DataFrame(rows, columns=["feature", "test", "term", "p"])
    t["p_adj"] = bh_adjust(t["p"].to_numpy()) if len(t) else pd.Series(dtype=float)
    t["significant"] = t["p_adj"] < alpha
    return FamilyOfTests(t, alpha)


def claim_terms(data: RetentionData) -> list[str]:
    """The terms the report's claims are about: its features, then the stated controls it has."""
    return list(data.features) + [c for c in STATED_CONTROLS if c in data.controls and c not in data.features
                                  and c not in data.categorical]

"""Dose–response: the monthly exit rate by bands of a feature, with Wilson intervals."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .. import privacy
from ..sections import Reason, SectionResult
from ..stats.proportions import wilson_ci
from .curves import feature_tiers, _tier_key
from .data import REPORT, RetentionData


@dataclass(kw_only=True)
class DoseResult(SectionResult):
    """Monthly exit rate by bands of a feature (person-months), with Wilson 95 % CIs
    (sections ``dose_team_bonus_share``, ``dose_payout_delay_days``; ``dose_by_feature`` for
    another feature)."""

    report = REPORT
    default_code = "dose_by_feature"

    feature: str = ""
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # band, people, exits, exit_rate, ci_low, ci_high, …
    suppressed_cells: int = 0
    #: what a band's rate counts: "person_months" (panel: monthly exit rate) or "people"
    #: (snapshot: share who left)
    unit: str = "person_months"


def dose_code(feature: str) -> str:
    """The section code of a feature's dose–response (``dose_team_bonus_share``,
    ``dose_payout_delay_days``; ``dose_by_feature`` for any other)."""
    return f"dose_{feature}" if feature in DOSE_FEATURES else "dose_by_feature"


def dose_response(data: RetentionData, feature: str, bands: Sequence[float] | None = None,
                  labels: Sequence[str] | None = None) -> DoseResult:
    """Monthly exit rate (exits ÷ person-months) by bands of ``feature``, on the panel
    (snapshot: share who left by band). Bands below min_group_size people are suppressed.
    On the panel a month's band is that of the value known at its start (previous month;
    for payout delay, the last bonus that fell due before it).

    Defaults: payout_delay_days bands 0 | 1–7 | 8–14 | 15–30 | > 30 days;
    team_bonus_share rounded to 10 % steps.

    Examples
    --------
    >>> dose_response(data, "payout_delay_days").table  # doctest: +SKIP
    """
    code = dose_code(feature)
    if feature not in data.features:
        return DoseResult(code=code, feature=feature).skipped(Reason.NO_FEATURE, name=feature)
    if data.panel is not None:
        d = data.panel[[data.id_col, feature, "event"]].dropna().rename(columns={data.id_col: "person_id"})
    else:
        d = data.people[["person_id", feature, "left"]].dropna().rename(columns={"left": "event"})
    v = d[feature].astype(float)
    if bands is None and feature == "payout_delay_days":
        bands, labels = [-np.inf, 0.5, 7.5, 14.5, 30.5, np.inf], ["0", "1-7", "8-14", "15-30", "> 30"]
    if bands is None and feature == "team_bonus_share":
        band = v.map(lambda x: f"{int(round(x * 10) * 10)}%")
    elif bands is None:
        band = feature_tiers(v, feature)
    else:
        band = pd.cut(v, list(bands), labels=list(labels) if labels else None).astype(object)
    d = d.assign(band=band).dropna(subset=["band"])
    t = d.groupby("band").agg(people=("person_id", "nunique"), person_months=("person_id", "size"),
                              exits=("event", "sum")).reset_index()
    t["exits"] = t["exits"].astype(int)
    t["exit_rate"] = t["exits"] / t["person_months"]
    t["ci_low"], t["ci_high"] = wilson_ci(t["exits"].to_numpy(), t["person_months"].to_numpy())
    if data.panel is not None:
        t["annualised_attrition"] = 1 - (1 - t["exit_rate"]) ** 12
    t = t.iloc[sorted(range(len(t)), key=lambda i: _band_key(t["band"].iloc[i]))].reset_index(drop=True)
    s = privacy.suppress_small(t, "people", data.min_group_size, dims=["band"])
    # person-months stay out of the shown table: exit_rate = exits ÷ person-months already says it
    return DoseResult(code=code, feature=feature, table=s.frame.drop(columns="person_months"),
                      suppressed_cells=s.n_suppressed, unit="person_months" if data.panel is not None else "people")


def _band_key(b: str) -> tuple:
    s = str(b).replace("> ", "").rstrip("%")
    try:
        return (0, float(s.split("-")[0]))
    except ValueError:
        return _tier_key(b)


#: the features of the dose–response sections, in order
DOSE_FEATURES = ("team_bonus_share", "payout_delay_days")

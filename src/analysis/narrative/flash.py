"""Text functions of the weekly flash (周报): message ids and values only; the sentences are in
``analysis/locales/<lang>.yml`` under ``weekly_flash.*``. The period is always written as its
days ("10-01 to 10-20"), never as the month: a flash is month to date."""
from __future__ import annotations

import math
from typing import Any

from ..i18n import Measured, Msg, msg
from ..present import Cards, Para

__all__ = ["TEXTS", "pace", "week_on_week", "behind"]

R = "weekly_flash"


def _ok(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pace(res: Any) -> list:
    """Cards (month to date, attainment, time elapsed, needed per working day), then where the
    month stands against pace and what each remaining working day needs."""
    first, as_of = res.period.split("..")
    k = res.value_kind
    v = lambda x: Measured(x, k)  # noqa: E731 - a value in the section's measure
    cards = [(f"{R}.card.mtd", res.actual, k), (f"{R}.card.attainment", res.attainment, "rate"),
             (f"{R}.card.elapsed", res.elapsed, "rate")]
    if _ok(res.needed_per_day):
        cards.append((f"{R}.card.needed_per_day", res.needed_per_day, k))
    out: list[Msg] = [msg(f"{R}.pace.lead", first=first, as_of=as_of, worked=res.worked, working_days=res.working_days,
                          value=v(res.actual))]
    if _ok(res.target):
        out.append(msg(f"{R}.pace.attainment", "ahead" if res.gap >= 0 else "behind", target=v(res.target),
                       attainment=res.attainment, elapsed=res.elapsed, gap=v(abs(res.gap))))
        if res.actual >= res.target:
            out.append(msg(f"{R}.pace.needed", "met", remaining=res.remaining, needed=v(0.0), run_rate=v(res.run_rate)))
        elif res.remaining == 0:
            out.append(msg(f"{R}.pace.needed", "no_days", remaining=0, needed=v(0.0), run_rate=v(res.run_rate)))
        else:
            out.append(msg(f"{R}.pace.needed", "need", remaining=res.remaining, needed=v(res.needed_per_day),
                           run_rate=v(res.run_rate)))
    else:
        out.append(msg(f"{R}.pace.no_target", elapsed=res.elapsed))
    return [Cards(*cards), Para(out)]


def week_on_week(res: Any) -> list:
    """The last 7 days against the 7 before."""
    variant = "change" if _ok(res.change) else "no_previous"
    k = res.value_kind
    return [msg(f"{R}.week.lead", variant, this_start=res.this_start, this_end=res.this_end,
                this_week=Measured(res.this_week, k), last_week=Measured(res.last_week, k), last_start=res.last_start,
                last_end=res.last_end, wow=res.change if _ok(res.change) else 0.0)]


def _items(df: Any, named: bool, kind: str = "money") -> list[Msg]:
    out = []
    for r in df.itertuples():
        name = getattr(r, "name", None) if named else None
        who: Any = (msg(f"{R}.who", "named", name=name, rep_id=str(r.key)) if isinstance(name, str) and name
                    else str(r.key))
        out.append(msg(f"{R}.behind.item", "need" if _ok(r.needed_per_day) else "no_days", key=who,
                       gap=Measured(abs(r.gap), kind),
                       needed=Measured(r.needed_per_day if _ok(r.needed_per_day) else 0.0, kind)))
    return out


def behind(res: Any) -> list:
    """The regions behind pace (furthest first) and the reps furthest behind."""
    out: list[Msg] = []
    regions = res.regions[res.regions["gap"] < 0] if len(res.regions) else res.regions
    if len(res.regions):
        out.append(msg(f"{R}.behind.regions", "some" if len(regions) else "none", count=len(regions),
                       items=_items(regions.head(3), False, res.value_kind)))
    if len(res.reps):
        out.append(msg(f"{R}.behind.reps", count=len(res.reps), items=_items(res.reps.head(5), True, res.value_kind)))
    return [Para(out)] if out else []


TEXTS = {"pace": pace, "week_on_week": week_on_week, "behind": behind}

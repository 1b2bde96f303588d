"""The assessment scheme (考核方案) as data: load, validate, and the manual adjustments (加减分).

A scheme is a YAML file the department edits (``schemes/default.yml`` ships with the
package and documents every key). It names indicators from the fixed list
:data:`INDICATORS`, gives each a weight (the weights sum to 100) and a scoring rule:

``linear``
    ``floor``, ``target``, optional ``cap`` (default ``target``) and ``bonus`` (default 0):
    0 points at or below ``floor``, the full weight at ``target``, straight lines between;
    above ``target`` up to ``bonus`` extra points, reached at ``cap``; nothing more above
    ``cap``. Requires ``floor < target <= cap``, and ``cap > target`` when ``bonus > 0``.
``threshold``
    ``level``: the full weight at or above ``level``, else 0.
``rank``
    the rep's percentile among the reps of its region (see :func:`analysis.scoring.rank_percentile`)
    times the weight; no bounds.

Optional top-level keys: ``name``, ``description``, ``visit_plan`` (visits per active
customer in a month, required when ``visit_attainment`` is scored), ``bonus_pool``
(``amount`` in yuan, ``individual_share`` default 0.7: the 70/30 individual/team split),
and what the result indicators count:

``top_price_classes``
    the price classes whose share ``price_class_mix`` follows (default ``[一类, 二类]``);
``mix_measure``
    ``qty`` (default: volume share, as the trends report) or ``amount``;
``key_brands``
    a list of brand names, or ``auto`` (default): the :data:`AUTO_KEY_BRANDS` brands with
    the largest amount in the 12 months before the scored month;
``new_brand_months``
    a product is a new brand in month M when its ``launch_date`` falls in M or the
    ``new_brand_months − 1`` months before (default 12);
``streak_penalty``
    optional points off (连续未完成扣分) for a rep whose amount attainment is below
    ``threshold`` (default 0.9) in each of the last ``months`` months (default 3) ending
    with the scored month: ``{points: 10, months: 3, threshold: 0.9}``.

``profile``
    ``sales`` (default: the indicators of :data:`INDICATORS`) or ``agency`` (a life-insurance
    branch's agents: :data:`AGENCY_INDICATORS`, scored by :mod:`analysis.agency.scorecard`),
    with ``activity_months`` (default 3: the months ending with the scored one that
    ``active_rate`` covers) and ``persistency_months`` (default 12: the issue months pooled
    by ``persistency``); ``schemes/agency.yml`` ships as the agency's example.

Every problem is one line naming the field, what was given and what is allowed, raised as
:class:`~analysis.errors.SchemeError` before any computation starts.

Examples
--------
>>> s = load_scheme("default")
>>> s.name, sum(s.weights.values())
('default', 100.0)
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

from .errors import SchemeError

RESULT_INDICATORS = (
    "amount_attainment",       # amount ÷ amount target (rep level), 1.0 = 100 %
    "qty_attainment",          # qty ÷ qty target (rep level)
    "price_class_mix",         # share of the top price classes minus last year's, in pp
    "key_brand_distribution",  # customers who ordered a key brand ÷ active customers
    "new_brand_distribution",  # customers who ordered a new brand ÷ active customers
    "ordering_rate",           # ordering customers (订购户数) ÷ active customers
)
BEHAVIOUR_INDICATORS = (
    "guidance_coverage",       # customers guided ÷ active customers (经营指导面, ≥ 60 %)
    "effective_guidance",      # effective guidance ÷ customers guided (有效指导率, ≥ 80 %)
    "visit_attainment",        # visits per active customer ÷ the scheme's visit_plan
)
INDICATORS = RESULT_INDICATORS + BEHAVIOUR_INDICATORS
"""The indicator ids a scheme may use (result indicators first, then behaviour)."""
AGENCY_INDICATORS = (
    "fyc_attainment",          # FYC ÷ the FYC target of the month (agency_targets)
    "active_rate",             # 活动率: months with FYP > 0 ÷ months in force (agent), active ÷ 平均人力 (team)
    "recruit_attainment",      # 增员: recruits brought ÷ the recruits target (agency_targets)
    "persistency",             # 13个月继续率 of the agent's (team's) policies
)
"""The indicator ids of a scheme of the agency profile (``profile: agency``)."""
PROFILES = {"sales": INDICATORS, "agency": AGENCY_INDICATORS}
"""The profile of a scheme (``profile``, default ``sales``) and the indicators it may use."""

RULE_KINDS = ("linear", "threshold", "rank")
_RULE_KEYS = {
    "linear": ({"floor", "target"}, {"cap", "bonus"}),
    "threshold": ({"level"}, set()),
    "rank": (set(), set()),
}
_TOP_KEYS = ("name", "description", "visit_plan", "indicators", "bonus_pool", "top_price_classes", "mix_measure",
             "key_brands", "new_brand_months", "streak_penalty", "profile", "activity_months", "persistency_months")
_PENALTY_KEYS = ("points", "months", "threshold")
DEFAULT_TOP_PRICE_CLASSES = ("一类", "二类")
MIX_MEASURES = ("qty", "amount")
AUTO_KEY_BRANDS = 3
"""How many brands ``key_brands: auto`` takes (largest amount over the 12 months before)."""
_INDICATOR_KEYS = ("weight", "rule", "description")
_POOL_KEYS = ("amount", "individual_share")
SCHEMES_DIR = Path(__file__).with_name("schemes")


def _r(x: Any) -> str:
    """repr of a value for a message, numpy scalars shown as plain Python values."""
    return repr(x.item() if hasattr(x, "item") and not isinstance(x, (str, bytes)) else x)


def _allowed(xs) -> str:
    return ", ".join(f"'{x}'" for x in xs)


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(float(v))


@dataclass(frozen=True)
class Rule:
    """A scoring rule: ``kind`` and its bounds (unused bounds are None)."""

    kind: str
    floor: float | None = None
    target: float | None = None
    cap: float | None = None
    bonus: float = 0.0
    level: float | None = None


@dataclass(frozen=True)
class Indicator:
    """One scored indicator: its id, weight (points at target) and rule."""

    id: str
    weight: float
    rule: Rule
    description: str = ""

    @property
    def max_points(self) -> float:
        """The most points the indicator can give (weight plus any bonus)."""
        return self.weight + (self.rule.bonus if self.rule.kind == "linear" else 0.0)


@dataclass(frozen=True)
class BonusPool:
    """An optional bonus pool: ``amount`` in yuan, ``individual_share`` (the rest by team)."""

    amount: float
    individual_share: float = 0.7


@dataclass(frozen=True)
class StreakPenalty:
    """Points off for amount attainment below ``threshold`` in each of the last ``months`` months."""

    points: float
    months: int = 3
    threshold: float = 0.9


@dataclass(frozen=True)
class Scheme:
    """A validated assessment scheme (build with :func:`load_scheme` or :meth:`from_dict`)."""

    name: str
    indicators: tuple[Indicator, ...]
    description: str = ""
    visit_plan: float | None = None
    bonus_pool: BonusPool | None = None
    top_price_classes: tuple[str, ...] = DEFAULT_TOP_PRICE_CLASSES
    mix_measure: str = "qty"
    key_brands: tuple[str, ...] | None = None  # None: auto (the largest brands before the month)
    new_brand_months: int = 12
    streak_penalty: StreakPenalty | None = None
    profile: str = "sales"
    activity_months: int = 3       # agency: the months ending with the scored one that active_rate covers
    persistency_months: int = 12   # agency: the issue months pooled by the persistency indicator

    @property
    def weights(self) -> dict[str, float]:
        """``{indicator id: weight}`` in the scheme's order."""
        return {i.id: i.weight for i in self.indicators}

    def indicator(self, id: str) -> Indicator:
        for i in self.indicators:
            if i.id == id:
                return i
        raise KeyError(id)

    @classmethod
    def from_dict(cls, data: Any, name: str = "scheme") -> "Scheme":
        """Validate a parsed YAML mapping; raise :class:`SchemeError` on the first problem."""
        if not isinstance(data, Mapping):
            raise SchemeError(f"The scheme '{name}' must be a mapping of keys {_allowed(_TOP_KEYS)}. "
                              f"Got {type(data).__name__} instead.")
        name = str(data.get("name") or name)
        for k in data:
            if k not in _TOP_KEYS:
                raise SchemeError(f"The scheme '{name}' has an unknown key '{k}'. Allowed keys: {_allowed(_TOP_KEYS)}.")
        profile = _choice(data.get("profile", "sales"), "profile", tuple(PROFILES), name)
        inds = data.get("indicators")
        if not isinstance(inds, Mapping) or not inds:
            raise SchemeError(f"The 'indicators' of scheme '{name}' must be a non-empty mapping of indicator "
                              f"id to weight and rule. Got {_r(inds)} instead.")
        out = []
        for iid, spec in inds.items():
            out.append(_indicator(str(iid), spec, name, PROFILES[profile]))
        total = math.fsum(i.weight for i in out)
        if abs(total - 100.0) > 1e-9:
            raise SchemeError(f"The 'weights' of scheme '{name}' must sum to 100. Got {total:g} instead.")
        vp = data.get("visit_plan")
        if vp is not None and not (_number(vp) and vp > 0):
            raise SchemeError(f"The 'visit_plan' of scheme '{name}' must be a number > 0 (visits per active "
                              f"customer in a month). Got {_r(vp)} instead.")
        if "visit_attainment" in inds and vp is None:
            raise SchemeError(f"The 'visit_plan' of scheme '{name}' is required when 'visit_attainment' is "
                              f"scored. Got none.")
        return cls(name=name, indicators=tuple(out), description=str(data.get("description") or ""),
                   visit_plan=None if vp is None else float(vp),
                   bonus_pool=_pool(data.get("bonus_pool"), name),
                   top_price_classes=_names(data.get("top_price_classes", list(DEFAULT_TOP_PRICE_CLASSES)),
                                            "top_price_classes", name),
                   mix_measure=_choice(data.get("mix_measure", "qty"), "mix_measure", MIX_MEASURES, name),
                   key_brands=_key_brands(data.get("key_brands", "auto"), name),
                   new_brand_months=_months(data.get("new_brand_months", 12), name),
                   streak_penalty=_penalty(data.get("streak_penalty"), name), profile=profile,
                   activity_months=_whole(data.get("activity_months", 3), "activity_months", 1, 12, name),
                   persistency_months=_whole(data.get("persistency_months", 12), "persistency_months", 1, 24, name))


def _whole(v: Any, key: str, lo: int, hi: int, scheme: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SchemeError(f"The '{key}' of scheme '{scheme}' must be a whole number of months from {lo} to {hi}. "
                          f"Got {_r(v)} instead.")
    return int(v)


def _penalty(spec: Any, scheme: str) -> StreakPenalty | None:
    if spec is None:
        return None
    where = f"'streak_penalty' of scheme '{scheme}'"
    if not isinstance(spec, Mapping):
        raise SchemeError(f"The {where} must be a mapping of {_allowed(_PENALTY_KEYS)}. Got {_r(spec)} instead.")
    for k in spec:
        if k not in _PENALTY_KEYS:
            raise SchemeError(f"The {where} has an unknown key '{k}'. Allowed keys: {_allowed(_PENALTY_KEYS)}.")
    pts = spec.get("points")
    if not (_number(pts) and pts > 0):
        raise SchemeError(f"The 'points' of the {where} must be a number > 0 (the points taken off). "
                          f"Got {_r(pts)} instead.")
    months = spec.get("months", 3)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
        raise SchemeError(f"The 'months' of the {where} must be a whole number from 1 to 24. Got {_r(months)} instead.")
    thr = spec.get("threshold", 0.9)
    if not (_number(thr) and 0 < thr <= 2):
        raise SchemeError(f"The 'threshold' of the {where} must be a number above 0 and at most 2 (1.0 = 100 %). "
                          f"Got {_r(thr)} instead.")
    return StreakPenalty(float(pts), int(months), float(thr))


def _names(v: Any, key: str, scheme: str) -> tuple[str, ...]:
    """A non-empty list of distinct, non-empty names."""
    if isinstance(v, str) or not isinstance(v, (list, tuple)) or not v \
            or not all(isinstance(x, (str, int)) and not isinstance(x, bool) and str(x).strip() for x in v):
        raise SchemeError(f"The '{key}' of scheme '{scheme}' must be a non-empty list of names. Got {_r(v)} instead.")
    out = tuple(str(x).strip() for x in v)
    if len(set(out)) != len(out):
        dup = next(x for x in out if out.count(x) > 1)
        raise SchemeError(f"The '{key}' of scheme '{scheme}' must name each entry once. Got {dup!r} twice.")
    return out


def _choice(v: Any, key: str, allowed: tuple[str, ...], scheme: str) -> str:
    if v not in allowed:
        raise SchemeError(f"The '{key}' of scheme '{scheme}' must be one of {_allowed(allowed)}. Got {_r(v)} instead.")
    return str(v)


def _key_brands(v: Any, scheme: str) -> tuple[str, ...] | None:
    if v == "auto":
        return None
    if isinstance(v, str):
        raise SchemeError(f"The 'key_brands' of scheme '{scheme}' must be 'auto' or a non-empty list of brand names. "
                          f"Got {_r(v)} instead.")
    return _names(v, "key_brands", scheme)


def _months(v: Any, scheme: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 36:
        raise SchemeError(f"The 'new_brand_months' of scheme '{scheme}' must be a whole number of months from 1 to 36. "
                          f"Got {_r(v)} instead.")
    return int(v)


def _indicator(iid: str, spec: Any, scheme: str, allowed: tuple[str, ...] = INDICATORS) -> Indicator:
    if iid not in allowed:
        raise SchemeError(f"The indicator '{iid}' of scheme '{scheme}' is not known. "
                          f"Allowed indicators: {_allowed(allowed)}.")
    where = f"indicator '{iid}' in scheme '{scheme}'"
    if not isinstance(spec, Mapping):
        raise SchemeError(f"The {where} must be a mapping with 'weight' and 'rule'. Got {_r(spec)} instead.")
    for k in spec:
        if k not in _INDICATOR_KEYS:
            raise SchemeError(f"The {where} has an unknown key '{k}'. Allowed keys: {_allowed(_INDICATOR_KEYS)}.")
    w = spec.get("weight")
    if not (_number(w) and w > 0):
        raise SchemeError(f"The 'weight' of {where} must be a number > 0. Got {_r(w)} instead.")
    rule = spec.get("rule")
    if not isinstance(rule, Mapping):
        raise SchemeError(f"The 'rule' of {where} must be a mapping with a 'kind' "
                          f"({_allowed(RULE_KINDS)}). Got {_r(rule)} instead.")
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        raise SchemeError(f"The rule 'kind' of {where} must be one of {_allowed(RULE_KINDS)}. Got {_r(kind)} instead.")
    need, opt = _RULE_KEYS[kind]
    for k in rule:
        if k != "kind" and k not in need | opt:
            allowed = sorted(need | opt)
            raise SchemeError(f"The '{kind}' rule of {where} has an unknown key '{k}'. "
                              f"Allowed keys: {_allowed(['kind', *allowed])}.")
    for k in sorted(need):
        if k not in rule:
            raise SchemeError(f"The '{kind}' rule of {where} is missing its '{k}'. "
                              f"Required: {_allowed(sorted(need))}.")
    for k in sorted(need | opt):
        if k in rule and not _number(rule[k]):
            raise SchemeError(f"The '{k}' of the '{kind}' rule of {where} must be a number. Got {_r(rule[k])} instead.")
    if kind == "linear":
        floor, target = float(rule["floor"]), float(rule["target"])
        cap = float(rule.get("cap", target))
        bonus = float(rule.get("bonus", 0.0))
        if not floor < target:
            raise SchemeError(f"The 'floor' of the linear rule of {where} must be below its 'target' "
                              f"({target:g}). Got {floor:g} instead.")
        if cap < target:
            raise SchemeError(f"The 'cap' of the linear rule of {where} must be at or above its 'target' "
                              f"({target:g}). Got {cap:g} instead.")
        if bonus < 0:
            raise SchemeError(f"The 'bonus' of the linear rule of {where} must be >= 0. Got {bonus:g} instead.")
        if bonus > 0 and cap == target:
            raise SchemeError(f"The 'cap' of the linear rule of {where} must be above its 'target' "
                              f"({target:g}) when 'bonus' is {bonus:g}. Got {cap:g} instead.")
        r = Rule("linear", floor=floor, target=target, cap=cap, bonus=bonus)
    elif kind == "threshold":
        r = Rule("threshold", level=float(rule["level"]))
    else:
        r = Rule("rank")
    return Indicator(iid, float(w), r, str(spec.get("description") or ""))


def _pool(spec: Any, scheme: str) -> BonusPool | None:
    if spec is None:
        return None
    where = f"'bonus_pool' of scheme '{scheme}'"
    if not isinstance(spec, Mapping):
        raise SchemeError(f"The {where} must be a mapping of {_allowed(_POOL_KEYS)}. Got {_r(spec)} instead.")
    for k in spec:
        if k not in _POOL_KEYS:
            raise SchemeError(f"The {where} has an unknown key '{k}'. Allowed keys: {_allowed(_POOL_KEYS)}.")
    amt = spec.get("amount")
    if not (_number(amt) and amt > 0):
        raise SchemeError(f"The 'amount' of the {where} must be a number of yuan > 0. Got {_r(amt)} instead.")
    if Decimal(repr(float(amt))).as_tuple().exponent < -2:
        raise SchemeError(f"The 'amount' of the {where} must be whole fen (at most 2 decimals). Got {_r(amt)} instead.")
    share = spec.get("individual_share", 0.7)
    if not (_number(share) and 0 <= share <= 1):
        raise SchemeError(f"The 'individual_share' of the {where} must be a number from 0 to 1. Got {_r(share)} instead.")
    return BonusPool(float(amt), float(share))


class _DuplicateKey(Exception):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key repeated in one mapping (YAML keeps the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise _DuplicateKey(key, k.start_mark.line + 1)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_scheme(source: str | Path | Mapping[str, Any] = "default") -> Scheme:
    """Load and validate a scheme.

    Parameters
    ----------
    source : str, Path or mapping
        A packaged scheme name (``"default"`` → ``schemes/default.yml``), a path to a YAML
        file, or an already parsed mapping.

    Returns
    -------
    Scheme

    Raises
    ------
    SchemeError
        The file is missing or not YAML, or the scheme breaks a rule (one line naming
        the field, what was given and what is allowed).
    """
    if isinstance(source, Mapping):
        return Scheme.from_dict(source, "scheme")
    p = Path(source)
    if not p.suffix and not p.exists():
        packaged = SCHEMES_DIR / f"{p.name}.yml"
        if not packaged.exists():
            names = sorted(x.stem for x in SCHEMES_DIR.glob("*.yml"))
            raise SchemeError(f"The scheme '{source}' is neither a file nor a packaged scheme. "
                              f"Packaged schemes: {_allowed(names)}.")
        p = packaged
    if not p.is_file():
        raise SchemeError(f"The scheme file '{p}' does not exist.")
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise SchemeError(f"The scheme file '{p.name}' has the key '{exc.args[0]}' twice (line {exc.args[1]}); "
                          f"each key may appear once.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemeError(f"The scheme file '{p.name}' is not valid UTF-8 YAML: {first}.") from None
    return Scheme.from_dict(data, p.stem)


# ----------------------------------------------------------------------------- adjustments
ADJUSTMENT_COLUMNS = ("rep_id", "points", "reason")
_ADJ_ALIASES = {
    "rep_id": ("rep_id", "客户经理编码", "客户经理", "工号", "人员编码"),
    "points": ("points", "加减分", "分值", "得分调整"),
    "reason": ("reason", "原因", "事由", "说明"),
}


def load_adjustments(source: str | Path | pd.DataFrame | None, known_reps: Any = None,
                     limit: float | None = None) -> pd.DataFrame:
    """Load the manual adjustments (加减分): one row per rep_id, points, reason.

    Parameters
    ----------
    source : path, DataFrame or None
        A CSV (UTF-8, UTF-8 with BOM, or GBK) or a frame. Headers ``rep_id, points,
        reason`` or the Chinese ``客户经理编码, 加减分, 原因``. None: no adjustments.
    known_reps : iterable, optional
        The reps scored this month; an adjustment for another rep is an error.
    limit : float, optional
        The largest allowed absolute adjustment per rep (after summing its rows).

    Returns
    -------
    DataFrame
        Columns ``rep_id`` (str), ``points`` (float), ``reason`` (str), one row per line
        of the file (a rep may have several; :func:`analysis.scoring.score` sums them).

    Raises
    ------
    SchemeError
        A missing column, a points value that is not a number, an empty reason, an
        unknown rep, or a rep beyond ``limit``; the message gives the line of the file.
    """
    if source is None:
        return pd.DataFrame({"rep_id": pd.Series(dtype=str), "points": pd.Series(dtype=float),
                             "reason": pd.Series(dtype=str)})
    name = "adjustments"
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        first_line = 1
    else:
        p = Path(source)
        name = p.name
        if not p.is_file():
            raise SchemeError(f"The adjustments file '{p}' does not exist.")
        raw = p.read_bytes()
        for enc in ("utf-8-sig", "gbk"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SchemeError(f"The adjustments file '{name}' must be UTF-8 or GBK text.")
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        first_line = 2
    df.columns = [str(c).strip() for c in df.columns]
    ren = {}
    for canon, names in _ADJ_ALIASES.items():
        hit = next((c for c in df.columns if c in names), None)
        if hit is None:
            raise SchemeError(f"The adjustments '{name}' must have a column '{canon}' "
                              f"(or {', '.join(names[1:])}). Got columns {', '.join(df.columns) or '(none)'} instead.")
        ren[hit] = canon
    extra = [c for c in df.columns if c not in ren]
    if extra:
        raise SchemeError(f"The adjustments '{name}' have an unknown column '{extra[0]}'. "
                          f"Allowed columns: {_allowed(ADJUSTMENT_COLUMNS)}.")
    df = df.rename(columns=ren)[list(ADJUSTMENT_COLUMNS)]
    out_rows = []
    for i, row in enumerate(df.itertuples(index=False)):
        line = i + first_line
        rep = "" if pd.isna(row.rep_id) else str(row.rep_id).strip()
        if not rep:
            raise SchemeError(f"The 'rep_id' of the adjustments '{name}' line {line} must not be empty.")
        try:
            pts = float(str(row.points).strip().replace("+", "", 1)) if not isinstance(row.points, (int, float)) \
                else float(row.points)
        except ValueError:
            raise SchemeError(f"The 'points' of the adjustments '{name}' line {line} must be a number. "
                              f"Got {_r(row.points)} instead.") from None
        if not math.isfinite(pts):
            raise SchemeError(f"The 'points' of the adjustments '{name}' line {line} must be a finite number. "
                              f"Got {_r(row.points)} instead.")
        reason = "" if pd.isna(row.reason) else str(row.reason).strip()
        if not reason:
            raise SchemeError(f"The 'reason' of the adjustments '{name}' line {line} must not be empty "
                              f"(every adjustment is published with its reason).")
        out_rows.append((rep, pts, reason))
    out = pd.DataFrame(out_rows, columns=list(ADJUSTMENT_COLUMNS))
    out["points"] = out["points"].astype(float)
    if known_reps is not None:
        known = {str(x) for x in known_reps}
        bad = out[~out["rep_id"].isin(known)]
        if len(bad):
            raise SchemeError(f"The 'rep_id' of the adjustments '{name}' must be a rep scored this month. "
                              f"Got {_r(bad['rep_id'].iloc[0])} instead.")
    if limit is not None:
        per = out.groupby("rep_id")["points"].sum()
        over = per[per.abs() > float(limit)]
        if len(over):
            raise SchemeError(f"The 'points' of rep {_r(over.index[0])} in the adjustments '{name}' must total "
                              f"within ±{float(limit):g}. Got {over.iloc[0]:g} instead.")
    return out

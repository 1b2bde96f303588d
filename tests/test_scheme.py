"""Assessment scheme: the default loads; every kind of bad scheme or adjustment is one clear line."""
from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from analysis.errors import SchemeError
from analysis.scheme import (
    BEHAVIOUR_INDICATORS, INDICATORS, RESULT_INDICATORS, SCHEMES_DIR, BonusPool, load_adjustments, load_scheme,
)

GOOD = {
    "name": "small",
    "visit_plan": 2,
    "indicators": {
        "amount_attainment": {"weight": 60, "rule": {"kind": "linear", "floor": 0.8, "target": 1.0,
                                                     "cap": 1.2, "bonus": 5}},
        "guidance_coverage": {"weight": 25, "rule": {"kind": "threshold", "level": 0.6}},
        "ordering_rate": {"weight": 15, "rule": {"kind": "rank"}},
    },
    "bonus_pool": {"amount": 10000, "individual_share": 0.7},
}


def _bad(**changes):
    d = copy.deepcopy(GOOD)
    for path, value in changes.items():
        keys = path.split("__")
        node = d
        for k in keys[:-1]:
            node = node[k]
        if value is KeyError:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return d


def _error(data) -> str:
    with pytest.raises(SchemeError) as ei:
        load_scheme(data)
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


def test_default_scheme_is_valid_and_documented():
    s = load_scheme("default")
    assert s.name == "default"
    assert sum(s.weights.values()) == 100
    assert set(s.weights) <= set(INDICATORS)
    assert any(i in s.weights for i in RESULT_INDICATORS) and any(i in s.weights for i in BEHAVIOUR_INDICATORS)
    # the department's practice: guidance coverage >= 60 %, effective guidance >= 80 %
    assert s.indicator("guidance_coverage").rule.kind == "threshold"
    assert s.indicator("guidance_coverage").rule.level == 0.6
    assert s.indicator("effective_guidance").rule.level == 0.8
    assert s.visit_plan == 2.0
    # the file documents every indicator id it may use
    text = (SCHEMES_DIR / "default.yml").read_text(encoding="utf-8")
    for iid in INDICATORS:
        assert iid in text
    assert load_scheme(SCHEMES_DIR / "default.yml") == s


def test_good_scheme_from_mapping_and_file(tmp_path):
    s = load_scheme(GOOD)
    assert s.weights == {"amount_attainment": 60.0, "guidance_coverage": 25.0, "ordering_rate": 15.0}
    r = s.indicator("amount_attainment").rule
    assert (r.floor, r.target, r.cap, r.bonus) == (0.8, 1.0, 1.2, 5.0)
    assert s.indicator("amount_attainment").max_points == 65.0
    assert s.bonus_pool == BonusPool(10000.0, 0.7)
    p = tmp_path / "mine.yml"
    p.write_text(yaml.safe_dump(GOOD, allow_unicode=True), encoding="utf-8")
    assert load_scheme(p) == s
    # cap defaults to the target, bonus to 0
    s = load_scheme(_bad(indicators__amount_attainment__rule={"kind": "linear", "floor": 0.5, "target": 1}))
    r = s.indicator("amount_attainment").rule
    assert (r.cap, r.bonus) == (1.0, 0.0)
    assert load_scheme(_bad(bonus_pool=KeyError)).bonus_pool is None


def test_weights_must_sum_to_100():
    msg = _error(_bad(indicators__amount_attainment__weight=55))
    assert msg == "The 'weights' of scheme 'small' must sum to 100. Got 95 instead."


def test_unknown_indicator_named_with_allowed_list():
    d = _bad()
    d["indicators"]["sales_volume"] = {"weight": 1, "rule": {"kind": "rank"}}
    msg = _error(d)
    assert "'sales_volume'" in msg and "scheme 'small'" in msg
    assert "Allowed indicators: 'amount_attainment'" in msg and "'visit_attainment'" in msg


def test_rule_missing_a_bound():
    msg = _error(_bad(indicators__amount_attainment__rule__target=KeyError))
    assert msg == ("The 'linear' rule of indicator 'amount_attainment' in scheme 'small' is missing its 'target'. "
                   "Required: 'floor', 'target'.")
    msg = _error(_bad(indicators__guidance_coverage__rule__level=KeyError))
    assert "missing its 'level'" in msg and "'guidance_coverage'" in msg


def test_floor_above_target():
    msg = _error(_bad(indicators__amount_attainment__rule__floor=1.1))
    assert msg == ("The 'floor' of the linear rule of indicator 'amount_attainment' in scheme 'small' must be "
                   "below its 'target' (1). Got 1.1 instead.")


@pytest.mark.parametrize("changes, needle", [
    ({"indicators__amount_attainment__rule__kind": "step"},
     "The rule 'kind' of indicator 'amount_attainment' in scheme 'small' must be one of 'linear', 'threshold', "
     "'rank'. Got 'step' instead."),
    ({"colour": "red"}, "The scheme 'small' has an unknown key 'colour'. Allowed keys: 'name'"),
    ({"indicators__ordering_rate__points": 3}, "indicator 'ordering_rate' in scheme 'small' has an unknown key 'points'"),
    ({"indicators__ordering_rate__rule__level": 3}, "The 'rank' rule of indicator 'ordering_rate' in scheme 'small' "
                                                     "has an unknown key 'level'. Allowed keys: 'kind'."),
    ({"indicators__amount_attainment__rule__cap": 0.9}, "The 'cap' of the linear rule of indicator "
                                                         "'amount_attainment' in scheme 'small' must be at or above"),
    ({"indicators__amount_attainment__rule__cap": 1.0}, "must be above its 'target' (1) when 'bonus' is 5. Got 1"),
    ({"indicators__amount_attainment__rule__bonus": -1}, "The 'bonus' of the linear rule"),
    ({"indicators__amount_attainment__rule__floor": "low"},
     "The 'floor' of the 'linear' rule of indicator 'amount_attainment' in scheme 'small' must be a number. "
     "Got 'low' instead."),
    ({"indicators__amount_attainment__weight": -60}, "The 'weight' of indicator 'amount_attainment' in scheme "
                                                      "'small' must be a number > 0. Got -60 instead."),
    ({"indicators__amount_attainment__weight": True}, "must be a number > 0. Got True instead."),
    ({"indicators__ordering_rate__rule": "rank"}, "The 'rule' of indicator 'ordering_rate'"),
    ({"indicators": {}}, "The 'indicators' of scheme 'small' must be a non-empty mapping"),
    ({"visit_plan": 0}, "The 'visit_plan' of scheme 'small' must be a number > 0"),
    ({"bonus_pool__individual_share": 1.3}, "The 'individual_share' of the 'bonus_pool' of scheme 'small' must be "
                                             "a number from 0 to 1. Got 1.3 instead."),
    ({"bonus_pool__amount": 100.005}, "must be whole fen"),
    ({"bonus_pool__amount": 0}, "The 'amount' of the 'bonus_pool' of scheme 'small' must be a number of yuan > 0"),
    ({"bonus_pool__split": 0.5}, "The 'bonus_pool' of scheme 'small' has an unknown key 'split'"),
])
def test_each_scheme_error_names_the_field(changes, needle):
    assert needle in _error(_bad(**changes))


def test_visit_plan_required_for_visits():
    d = _bad(visit_plan=KeyError)
    d["indicators"]["visit_attainment"] = d["indicators"].pop("ordering_rate")
    assert _error(d) == ("The 'visit_plan' of scheme 'small' is required when 'visit_attainment' is scored. "
                         "Got none.")


def test_scheme_files(tmp_path):
    assert "is neither a file nor a packaged scheme. Packaged schemes: 'agency', 'default'" in _error("nosuch")
    assert "does not exist" in _error(tmp_path / "missing.yml")
    p = tmp_path / "broken.yml"
    p.write_text("indicators: [a\n", encoding="utf-8")
    assert "is not valid UTF-8 YAML" in _error(p)
    p.write_text("- 1\n- 2\n", encoding="utf-8")
    assert _error(p).startswith("The scheme 'broken' must be a mapping")


# ----------------------------------------------------------------------------- adjustments
def test_adjustments_csv_english_and_chinese_gbk(tmp_path):
    p = tmp_path / "adj.csv"
    p.write_text("rep_id,points,reason\nR01,+2,competition winner\nR02,-1.5,late report\nR01,1,award\n",
                 encoding="utf-8")
    a = load_adjustments(p, known_reps=["R01", "R02"])
    assert a.to_dict("list") == {"rep_id": ["R01", "R02", "R01"], "points": [2.0, -1.5, 1.0],
                                 "reason": ["competition winner", "late report", "award"]}
    q = tmp_path / "加减分.csv"
    q.write_bytes("客户经理编码,加减分,原因\nR07,-3,拜访记录不实\n".encode("gbk"))
    b = load_adjustments(q)
    assert b.to_dict("list") == {"rep_id": ["R07"], "points": [-3.0], "reason": ["拜访记录不实"]}
    assert load_adjustments(None).empty
    f = load_adjustments(pd.DataFrame({"rep_id": ["X"], "points": [1.0], "reason": ["r"]}))
    assert f["points"].tolist() == [1.0]


@pytest.mark.parametrize("body, needle", [
    ("rep_id,points\nR01,1\n", "must have a column 'reason' (or 原因, 事由, 说明). Got columns rep_id, points"),
    ("rep_id,points,reason,extra\nR01,1,x,y\n", "unknown column 'extra'"),
    ("rep_id,points,reason\nR01,1,ok\nR02,two,bad\n", "The 'points' of the adjustments 'adj.csv' line 3 must be a "
                                                       "number. Got 'two' instead."),
    ("rep_id,points,reason\nR01,1,\n", "The 'reason' of the adjustments 'adj.csv' line 2 must not be empty"),
    ("rep_id,points,reason\n,1,x\n", "The 'rep_id' of the adjustments 'adj.csv' line 2 must not be empty."),
    ("rep_id,points,reason\nR09,1,x\n", "must be a rep scored this month. Got 'R09' instead."),
    ("rep_id,points,reason\nR01,4,x\nR01,3,y\n", "The 'points' of rep 'R01' in the adjustments 'adj.csv' must total "
                                                  "within ±5. Got 7 instead."),
    ("rep_id,points,reason\nR01,inf,x\n", "must be a finite number"),
])
def test_adjustment_errors_name_field_and_line(tmp_path, body, needle):
    p = tmp_path / "adj.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(SchemeError) as ei:
        load_adjustments(p, known_reps=["R01", "R02"], limit=5)
    assert needle in str(ei.value)
    assert "\n" not in str(ei.value)


def test_a_key_repeated_in_the_file_is_refused(tmp_path):
    p = tmp_path / "twice.yml"
    p.write_text("name: twice\nindicators:\n  ordering_rate: {weight: 50, rule: {kind: rank}}\n"
                 "  ordering_rate: {weight: 50, rule: {kind: rank}}\n", encoding="utf-8")
    assert _error(p) == ("The scheme file 'twice.yml' has the key 'ordering_rate' twice (line 4); "
                         "each key may appear once.")


# ------------------------------------------------------------------ what the result indicators count
def test_structure_keys_default_and_given():
    s = load_scheme("default")
    assert s.top_price_classes == ("一类", "二类") and s.mix_measure == "qty"
    assert s.key_brands is None and s.new_brand_months == 12  # key_brands: auto
    assert s.streak_penalty is not None and (s.streak_penalty.points, s.streak_penalty.months,
                                             s.streak_penalty.threshold) == (10.0, 3, 0.9)
    data = yaml.safe_load((SCHEMES_DIR / "default.yml").read_text(encoding="utf-8"))
    data.update(top_price_classes=["一类"], mix_measure="amount", key_brands=["中华", "芙蓉王"], new_brand_months=6)
    del data["streak_penalty"]
    t = load_scheme(data)
    assert (t.top_price_classes, t.mix_measure, t.key_brands, t.new_brand_months, t.streak_penalty) == (
        ("一类",), "amount", ("中华", "芙蓉王"), 6, None)


@pytest.mark.parametrize("key, value, needle", [
    ("top_price_classes", "一类", "The 'top_price_classes' of scheme 'default' must be a non-empty list of names. "
                                 "Got '一类' instead."),
    ("top_price_classes", ["一类", "一类"], "must name each entry once. Got '一类' twice."),
    ("mix_measure", "cases", "The 'mix_measure' of scheme 'default' must be one of 'qty', 'amount'. Got 'cases'"),
    ("key_brands", "all", "The 'key_brands' of scheme 'default' must be 'auto' or a non-empty list of brand names"),
    ("key_brands", [], "must be a non-empty list of names. Got [] instead."),
    ("new_brand_months", 0, "The 'new_brand_months' of scheme 'default' must be a whole number of months from 1 "
                            "to 36. Got 0 instead."),
    ("streak_penalty", {"points": -3}, "The 'points' of the 'streak_penalty' of scheme 'default' must be a number > 0"),
    ("streak_penalty", {"points": 5, "months": 0}, "The 'months' of the 'streak_penalty'"),
    ("streak_penalty", {"points": 5, "level": 0.9}, "has an unknown key 'level'. Allowed keys: 'points', 'months', "
                                                    "'threshold'."),
])
def test_structure_key_errors_name_the_field(key, value, needle):
    data = yaml.safe_load((SCHEMES_DIR / "default.yml").read_text(encoding="utf-8"))
    data[key] = value
    with pytest.raises(SchemeError) as e:
        load_scheme(data)
    assert needle in str(e.value) and "\n" not in str(e.value)

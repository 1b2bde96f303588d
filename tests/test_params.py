"""Parameter models (analysis.params): messages, typing of text values, relative values, and
agreement of every notebook's ``parameters`` cell with its model's defaults."""
from __future__ import annotations

import ast
import re
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.errors import ParameterError
from analysis.params import (
    REPORTS,
    IncentiveRetentionParams,
    LaunchReviewParams,
    SalesTrendsParams,
    validate_params,
)
from analysis.params.base import coerce_text_value, load_param_file, resolve_relative
from analysis.reports import parse_assignments, prepare_parameters
from pipeline_helpers import FIXTURE_NOTEBOOK, ROOT, FixtureParams


def test_unknown_name_message():
    with pytest.raises(ParameterError) as e:
        validate_params(SalesTrendsParams, {"monht": "2026-10"}, "sales_trends")
    allowed = ", ".join(sorted(SalesTrendsParams.model_fields))
    assert str(e.value) == f"'monht' is not a parameter of sales_trends; allowed: {allowed}."


def test_crafted_name_message_stays_one_line():
    with pytest.raises(ParameterError) as e:
        validate_params(LaunchReviewParams, {"x\nimport os": 1}, "launch_review")
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("'x\\nimport os' is not a parameter of launch_review; allowed: ")


@pytest.mark.parametrize(
    "model, values, message",
    [
        (SalesTrendsParams, {"lang": "fr"}, "The 'lang' parameter of m must be 'zh' or 'en'. Got 'fr' instead."),
        (SalesTrendsParams, {"lookback_months": 2},
         "The 'lookback_months' parameter of m must satisfy: input should be greater than or equal to 3. Got 2 instead."),
        (LaunchReviewParams, {"window_days": "thirty"},
         "The 'window_days' parameter of m must satisfy: input should be a valid integer, unable to parse string "
         "as an integer. Got 'thirty' instead."),
        (IncentiveRetentionParams, {"features": "payout_delay_days"},
         "The 'features' parameter of m must satisfy: input should be a valid list. Got 'payout_delay_days' instead."),
    ],
)
def test_wrong_type_messages(model, values, message):
    with pytest.raises(ParameterError) as e:
        validate_params(model, values, "m")
    assert str(e.value) == message


def test_text_values_typed_by_annotation():
    got = parse_assignments(LaunchReviewParams, ["sku=01234", "window_days=30", "benchmarks=[S001, S002]",
                                                 "brand=true", "lang=en"], "launch_review")
    assert got == {"sku": "01234", "window_days": 30, "benchmarks": ["S001", "S002"], "brand": "true", "lang": "en"}
    got = parse_assignments(SalesTrendsParams, ["filters={region: [市区, 北县]}", "underperform_threshold=0.85",
                                                "store=null"], "sales_trends")
    assert got == {"filters": {"region": ["市区", "北县"]}, "underperform_threshold": 0.85, "store": None}
    assert parse_assignments(LaunchReviewParams, ["benchmarks=auto"], "x") == {"benchmarks": "auto"}
    assert parse_assignments(LaunchReviewParams, ["sku=a=b"], "x") == {"sku": "a=b"}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_str_fields_keep_any_text(text):
    assert coerce_text_value(str, text) == text
    m = validate_params(LaunchReviewParams, parse_assignments(LaunchReviewParams, [f"sku={text}"], "x"), "x")
    assert m.sku == text


def test_param_file_keeps_text_and_types_numbers(tmp_path):
    p = tmp_path / "p.yml"
    p.write_text("sku: 01234\nlaunch_date: 2026-08-01\nwindow_days: 45\nbenchmarks: [S001, 00042]\n", encoding="utf-8")
    got = load_param_file(LaunchReviewParams, p, "launch_review")
    assert got == {"sku": "01234", "launch_date": "2026-08-01", "window_days": 45, "benchmarks": ["S001", "00042"]}
    m = validate_params(LaunchReviewParams, got, "launch_review")
    assert m.window_days == 45
    p.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="must hold a YAML mapping"):
        load_param_file(LaunchReviewParams, p)


def test_relative_values():
    today = dt.date(2026, 11, 27)
    assert resolve_relative(IncentiveRetentionParams, {"as_of": "today"}, today) == {"as_of": "2026-11-27"}
    assert resolve_relative(IncentiveRetentionParams, {"as_of": "TODAY "}, today) == {"as_of": "2026-11-27"}
    # month "last"/"current" are resolved by the report against its data
    assert resolve_relative(SalesTrendsParams, {"month": "last"}, today) == {"month": "last"}
    spec = REPORTS["incentive_retention"]
    m = prepare_parameters(spec, ["as_of=today", "horizon_months=6"], today=today)
    assert (m.as_of, m.horizon_months) == ("2026-11-27", 6)


def test_store_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = prepare_parameters(REPORTS["sales_trends"], [], store="w.duckdb")
    assert m.store == str(tmp_path / "w.duckdb")


# --------------------------------------------------------------------------- notebooks vs models


def parameters_cell(path: Path) -> dict:
    """The {name: value} assignments of the cell tagged ``parameters`` (literals only)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(cells)}"
    src = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    values = {}
    for node in ast.parse(src).body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), f"{path.name}: only assignments in the parameters cell"
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        assert len(targets) == 1 and isinstance(targets[0], ast.Name)
        values[targets[0].id] = ast.literal_eval(node.value)
    return values


def _check_cell_matches(path: Path, model) -> None:
    cell = parameters_cell(path)
    defaults = model().model_dump(mode="json")
    assert set(cell) == set(defaults), (
        f"{path.name}: parameters cell names differ from {model.__name__}: "
        f"missing {sorted(set(defaults) - set(cell))}, extra {sorted(set(cell) - set(defaults))}"
    )
    for k, v in defaults.items():
        assert cell[k] == v, f"{path.name}: default of {k!r} is {cell[k]!r} in the notebook, {v!r} in the model"


def test_fixture_notebook_defaults_match_model():
    _check_cell_matches(FIXTURE_NOTEBOOK, FixtureParams)


def test_cell_check_detects_a_mismatch(tmp_path):
    nb = json.loads(FIXTURE_NOTEBOOK.read_text(encoding="utf-8"))
    for c in nb["cells"]:
        if "parameters" in c.get("metadata", {}).get("tags", []):
            src = "".join(c["source"])
            c["source"] = src.replace("n = 3", "n = 4")
    p = tmp_path / "x.ipynb"
    p.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(AssertionError, match="default of 'n' is 4 in the notebook, 3 in the model"):
        _check_cell_matches(p, FixtureParams)


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_report_notebook_defaults_match_model(report):
    spec = REPORTS[report]
    path = ROOT / spec.notebook
    if not path.exists():
        pytest.skip(f"{spec.notebook} is not written yet")
    _check_cell_matches(path, spec.params)


# --------------------------------------------------------------------------- values as people type them


@pytest.mark.parametrize("typed", ["2026-06", "2026-6", "2026/6", "2026/06", "2026.06", "2026年6月", "2026 年 6 月",
                                   "202606", 202606, dt.date(2026, 6, 15)])
def test_month_written_every_way_is_one_month(typed):
    from analysis import periods

    assert periods.parse_month_text(typed) == "2026-06"
    assert validate_params(SalesTrendsParams, {"month": typed}).month == "2026-06"


@pytest.mark.parametrize("typed, expected", [("last", "last"), (" LAST ", "last"), ("last-1", "last-1"),
                                             ("last - 12", "last-12"), ("last-0", "last"), ("current", "current"),
                                             ("next", "next")])
def test_relative_months_stay_keywords(typed, expected):
    from analysis import periods

    assert periods.parse_month_text(typed) == expected


@pytest.mark.parametrize("typed", ["2026-13", "2026年0月", "20261", "june", "last+1", "", "2026-06-01x", True])
def test_a_month_that_is_not_one_is_one_line(typed):
    from analysis import periods

    with pytest.raises(ParameterError, match=r"^The 'month' parameter of sales_trends must be a month such as "
                                             r"2026-06, 2026/6, 2026年6月, 202606, 'last', 'last-1'"):
        periods.parse_month_text(typed, owner="sales_trends")
    with pytest.raises(ParameterError, match=r"^The 'month' parameter of sales_trends must be a month such as"):
        validate_params(SalesTrendsParams, {"month": typed}, "sales_trends")


@given(st.integers(1990, 2100), st.integers(1, 12))
def test_every_written_form_of_a_month_agrees(year, month):
    from analysis import periods

    forms = {f"{year}-{month:02d}", f"{year}-{month}", f"{year}/{month}", f"{year}年{month}月", f"{year}{month:02d}"}
    assert {periods.parse_month_text(f) for f in forms} == {f"{year}-{month:02d}"}


def test_resolve_month_against_the_data():
    from analysis import periods

    first = dt.date(2023, 11, 1)
    whole, part = dt.date(2026, 10, 31), dt.date(2026, 10, 15)
    assert periods.resolve_month("last", first, whole) == dt.date(2026, 10, 1)
    assert periods.resolve_month("last", first, part) == dt.date(2026, 9, 1)
    assert periods.resolve_month("last-1", first, whole) == dt.date(2026, 9, 1)
    assert periods.resolve_month("last-12", first, part) == dt.date(2025, 9, 1)
    assert periods.resolve_month("current", first, part) == dt.date(2026, 10, 1)
    assert periods.resolve_month("next", first, whole) == dt.date(2026, 11, 1)
    assert periods.resolve_month("2026年6月", first, whole) == dt.date(2026, 6, 1)
    assert periods.resolve_month("last", first, dt.date(2026, 10, 1), "monthly") == dt.date(2026, 10, 1)
    assert periods.resolve_month("last", first, dt.date(2026, 10, 26), "weekly") == dt.date(2026, 10, 1)


@pytest.mark.parametrize("typed, yuan", [("34000000", 34e6), ("34,000,000", 34e6), ("3400万", 34e6), ("3.4亿", 3.4e8),
                                         ("3400万元", 34e6), ("¥34,000,000", 34e6), (" 600 万 ", 6e6),
                                         ("34，000，000", 34e6), (34000000, 34e6), ("1.5千", 1500.0)])
def test_amounts_as_people_type_them(typed, yuan):
    from analysis.params.base import parse_amount

    assert parse_amount(typed) == yuan


def test_money_type_in_a_model_and_its_message():
    """The type the target plan's ``total`` takes (``total: Money | None = Field(None, gt=0)``)."""
    from pydantic import Field

    from analysis.params.base import Money
    from analysis.params.target_plan import TargetPlanParams

    class Plan(TargetPlanParams):
        total: Money | None = Field(None, gt=0)

    assert validate_params(Plan, {"total": "3400万"}).total == 34_000_000
    assert validate_params(Plan, {"total": "3.4亿"}).total == 340_000_000
    assert validate_params(Plan, {"total": parse_assignments(Plan, ["total=34,000,000"], "p")["total"]}).total == 34e6
    assert validate_params(Plan, {}).total is None
    with pytest.raises(ParameterError) as e:
        validate_params(Plan, {"total": "三千万"}, "target_plan")
    assert str(e.value) == ("The 'total' parameter of target_plan must be an amount such as 34000000, 34,000,000, "
                            "3400万 or 3.4亿. Got '三千万' instead.")
    with pytest.raises(ParameterError, match="whole multiple of the rounding unit 100"):
        validate_params(Plan, {"total": "3.45678万"}, "target_plan")  # the model's own rules still apply


def test_filters_as_typed():
    p = validate_params(SalesTrendsParams, {"filters": {"region": "市区", "rep": [1004, "R2"]}})
    assert p.filters == {"region": ["市区"], "rep": ["1004", "R2"]}


def test_lang_is_any_language_with_a_catalogue(tmp_path, monkeypatch):
    from analysis import i18n

    with pytest.raises(ParameterError, match=r"The 'lang' parameter of m must be 'zh' or 'en'. Got 'xx' instead."):
        validate_params(SalesTrendsParams, {"lang": "xx"}, "m")
    text = (i18n.LOCALE_DIR / "en.yml").read_text(encoding="utf-8")
    (tmp_path / "xx.yml").write_text(text.replace("code: en", "code: xx"), encoding="utf-8")
    monkeypatch.setenv(i18n.LOCALES_ENV, str(tmp_path))
    assert validate_params(SalesTrendsParams, {"lang": "xx"}).lang == "xx"
    with pytest.raises(ParameterError, match=r"must be 'zh', 'en' or 'xx'. Got 'fr' instead."):
        validate_params(SalesTrendsParams, {"lang": "fr"}, "m")


def test_run_help_lists_every_parameter_from_the_model():
    from analysis.reports import parameter_help

    for name, spec in REPORTS.items():
        text = parameter_help(name)
        rows = {line.split()[0]: line for line in text.splitlines()[3:3 + len(spec.params.model_fields)]}
        assert set(rows) == set(spec.params.model_fields), name
        assert "zh, en" in rows["lang"]
    trends = parameter_help("sales_trends")
    assert re.search(r"level +choice +region +region, rep, brand, price_class, customer", trends)
    assert re.search(r"lookback_months +integer +24 +≥ 3, ≤ 240", trends)
    assert "2026年6月" in trends and "'last-1'" in trends

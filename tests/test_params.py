"""Parameter models (analysis.params): messages, typing of text values, relative values, and
agreement of every notebook's ``parameters`` cell with its model's defaults."""
from __future__ import annotations

import ast
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

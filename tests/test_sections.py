"""Section result types: reason codes, notes, tables with column kinds, language-free metrics."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from analysis import sections
from analysis.errors import ParameterError
from analysis.sections import (Column, Figure, Kind, Note, Reason, SectionResult, Skip, Table, section_metrics,
                               skipped_details, skipped_sections)


@dataclass(kw_only=True)
class Coverage(SectionResult):
    report = "sales_trends"
    default_code = "process_indicators"
    coverage: float = float("nan")
    reps: int = 0

    def metrics(self):
        return {"coverage": self.coverage, "reps": self.reps}


def test_reason_values_are_stable_ascii_codes():
    for r in Reason:
        assert r.value.isascii() and sections.CODE_RE.match(r.value)
        assert str(r) == r.value and r.message_id == f"skip.{r.value}"
    # the codes the three reports use today are present
    today = {"missing_table", "missing_column", "grain", "too_short", "no_targets", "no_data", "disabled",
             "below_min_group"}
    assert today <= {r.value for r in Reason}


def test_skip_takes_an_enum_or_its_value_and_refuses_others():
    assert Skip("grain", {"grain": "yearly"}) == Skip(Reason.GRAIN, {"grain": "yearly"})
    with pytest.raises(ParameterError, match=r"The 'code' parameter of Skip must be one of 'missing_table', .*"
                                             r"Got 'no_such_reason' instead\."):
        Skip("no_such_reason")


def test_skip_details_become_plain_json():
    s = Skip("too_short", {"needed": np.int64(24), "got": np.float64(10.0), "since": dt.date(2026, 1, 1),
                           "r": Reason.GRAIN})
    assert s.as_dict() == {"reason": "too_short", "details": {"needed": 24, "got": 10.0, "since": "2026-01-01",
                                                               "r": "grain"}}
    json.dumps(s.as_dict())


def test_section_code_defaults_to_the_class_and_is_validated():
    assert Coverage().code == "process_indicators"
    assert Coverage(code="process_by_region").code == "process_by_region"
    with pytest.raises(ParameterError, match="The 'code' parameter of Coverage must be a lower-case ASCII id"):
        Coverage(code="过程指标")
    with pytest.raises(ParameterError, match="lower-case ASCII id"):
        Note("No STL")

    @dataclass(kw_only=True)
    class NoCode(SectionResult):
        pass

    with pytest.raises(ParameterError):
        NoCode()


def test_skipped_and_note_helpers_chain():
    r = Coverage().skipped("missing_table", table="visits").note("dropped", rows=3)
    assert not r.ok and r.skip.code is Reason.MISSING_TABLE
    assert r.notes == [Note("dropped", {"rows": 3})]
    assert r.title_key == "sales_trends.section.process_indicators"
    assert r.notes[0].message_id("sales_trends") == "sales_trends.note.dropped"


def test_metrics_json_form_is_language_free_and_stable():
    @dataclass(kw_only=True)
    class Plain(SectionResult):
        report = "sales_trends"
        default_code = "forecast"

    results = [Coverage(coverage=0.62, reps=np.int64(12)),
               Plain().skipped("disabled", param="forecast_months"),
               Plain(code="underperformers").skipped(Reason.NO_TARGETS, level="rep")]
    assert skipped_sections(results) == ["forecast", "underperformers"]
    assert skipped_details(results) == [
        {"section": "forecast", "reason": "disabled", "details": {"param": "forecast_months"}},
        {"section": "underperformers", "reason": "no_targets", "details": {"level": "rep"}},
    ]
    m = section_metrics(results)
    assert m == {"coverage": 0.62, "reps": 12, "skipped_sections": ["forecast", "underperformers"],
                 "skipped_details": skipped_details(results), "skipped_parts": [], "section_notes": []}
    json.dumps(m)
    with pytest.raises(ParameterError, match="The metric 'coverage' of section 'process_indicators' is already given"):
        section_metrics([Coverage(), Coverage()])


def test_undefined_metrics_become_null_and_skipped_sections_keep_their_keys():
    assert section_metrics([Coverage(coverage=float("nan"))])["coverage"] is None
    ran, skipped = section_metrics([Coverage(coverage=0.5, reps=3)]), section_metrics([Coverage().skipped("no_data")])
    assert set(ran) == set(skipped) and skipped["coverage"] is None


def test_table_columns_and_kinds():
    df = pd.DataFrame({"region": ["East"], "amount": [1.0], "attainment": [0.9], "size_class": ["large"]})
    t = Table.of("by_region", df, region="text", amount="money", attainment=Kind.RATE)
    assert t.kinds == {"region": Kind.TEXT, "amount": Kind.MONEY, "attainment": Kind.RATE}
    assert list(t.shown().columns) == ["region", "amount", "attainment"]
    assert t.columns[1].label_key == "column.amount"
    with pytest.raises(ParameterError, match=r"must be columns of its frame .* Got gap instead"):
        Table.of("x", df, gap="money")
    with pytest.raises(ParameterError, match="The kind of column 'amount' must be one of 'text', "):
        Table.of("x", df, amount="yuan")
    with pytest.raises(ParameterError, match="'codes' parameter of Column 'size_class' must name a label prefix"):
        Column("size_class", "code")
    assert Column("size_class", "code", codes="column").kind is Kind.CODE


def test_figure_names_a_chart_function():
    Figure("trends.attainment_bars", {"table": None})
    with pytest.raises(ParameterError, match="'<module>.<function>' of analysis.charts"):
        Figure("trends.bars.x")
    with pytest.raises(ParameterError):
        Figure("attainment_bars")


def test_parts_and_notes_of_every_section_reach_metrics_as_codes():
    ran = Coverage(coverage=0.5).skipped_part("association", Reason.TOO_SHORT, needed=5, got=np.int64(3))
    ran.note("partial_month", elapsed=np.float64(0.5))
    other = Coverage(code="forecast", parts={"model": Skip("failed", {"error": "singular"})})
    m = section_metrics([ran])
    assert ran.ok and m["skipped_sections"] == [] and m["skipped_parts"] == [
        {"section": "process_indicators", "part": "association", "reason": "too_short",
         "details": {"needed": 5, "got": 3}}]
    assert m["section_notes"] == [{"section": "process_indicators", "code": "partial_month", "values": {"elapsed": 0.5}}]
    assert sections.skipped_parts([ran, other])[1] == {"section": "forecast", "part": "model", "reason": "failed",
                                                       "details": {"error": "singular"}}
    json.dumps(m)
    with pytest.raises(ParameterError, match="The 'part' parameter of Coverage must be a lower-case ASCII id"):
        Coverage(parts={"Bad Part": Skip("failed", {})})
    with pytest.raises(ParameterError, match="must be one of"):
        Coverage().skipped_part("test", "no_such_reason")


def test_the_one_off_skip_fields_are_parts():
    """The parts that used to be fields of their own (results' ``test_skip``, ``association_skip``,
    ``penalty_skip``; scopes' ``intervals_skip``, ``streak_skip``, ``retailers_skip``,
    ``segments_skip``) are ``parts``: the result's, or the scope's (``ScopeBase.part_skip``)."""
    import dataclasses

    from analysis import flash, launch, scorecard, target_plan, trends

    t = trends.Trend().skipped_part("test", "too_short", needed=24, got=20)
    assert t.parts["test"].code == "too_short"
    for cls in (trends.Trend, trends.Process, scorecard.Headline, trends.Scope, scorecard.Scope, launch.LaunchScope,
                target_plan.Scope, flash.Scope):
        names = {f.name for f in dataclasses.fields(cls)} | {n for n in vars(cls) if not n.startswith("__")}
        assert not {n for n in names if n.endswith("_skip")}, cls

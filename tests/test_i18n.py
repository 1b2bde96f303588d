"""Message catalogues: same ids and placeholders in every language, strict look-ups, locale number formats."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from analysis import i18n
from analysis.errors import CatalogueError, MessageError, ParameterError
from analysis.i18n import Measured, Msg, format_value, label, message, msg
from analysis.sections import Kind, Reason


def test_languages_are_the_catalogue_files():
    files = sorted(p.stem for p in i18n.LOCALE_DIR.glob("*.yml"))
    assert sorted(i18n.languages()) == files
    assert i18n.languages()[0] == "zh"


def test_catalogues_agree_on_ids_variants_and_placeholders():
    assert i18n.check_catalogues() == []
    langs = i18n.languages()
    cats = [i18n.catalogue(lang) for lang in langs]
    for a, b in zip(cats, cats[1:]):
        assert set(a.labels) == set(b.labels)
        assert set(a.messages) == set(b.messages)
        for k in a.messages:
            assert set(a.messages[k]) == set(b.messages[k]), k
            assert set(a.placeholders(k)) == set(b.placeholders(k)), k
        assert set(a.format["kinds"]) == set(b.format["kinds"])


def test_every_kind_and_reason_has_its_catalogue_entries():
    for lang in i18n.languages():
        cat = i18n.catalogue(lang)
        assert set(i18n.KINDS) <= set(cat.format["kinds"])
        for r in Reason:
            assert r.message_id in cat.messages, (lang, r)
    assert {k.value for k in Kind} - {"code", "name"} == set(i18n.KINDS)


def test_every_message_renders_in_every_language_from_one_set_of_values():
    # a value per placeholder name, typed by its spec; one call per id and variant for all languages
    def sample(spec: str):
        if spec.startswith("code:"):
            prefix = spec[5:]
            return next(k for k in i18n.catalogue("zh").labels if k.startswith(prefix + "."))[len(prefix) + 1:]
        if spec == "clauses":
            return ["a", "b"]
        kind = spec.partition(".")[0]
        if kind == "measured":
            return Measured(1234.5, "qty_case")
        return {"date": dt.date(2026, 10, 1), "month": "2026-10", "text": "x", "flag": True}.get(kind, 1234.5)

    for msg_id in i18n.catalogue("zh").messages:
        variants = i18n.catalogue("zh").messages[msg_id]
        for variant in variants:
            for lang in i18n.languages():
                specs = i18n.catalogue(lang).placeholders(msg_id)
                zh_specs = i18n.catalogue("zh").placeholders(msg_id)
                # the values are built from the zh specs, so a spec that differs must take the same value type
                values = {n: sample(zh_specs[n] or specs[n]) for n in zh_specs}
                text = message(msg_id, lang, variant=variant, **values)
                assert text and "{" not in text, (msg_id, lang)


def test_the_same_call_gives_both_languages():
    assert message("skip.missing_table", "zh", table="visits") == "数据中没有「拜访」表"
    assert message("skip.missing_table", "en", table="visits") == "the store has no table 'visits'"
    assert message("skip.grain", "zh", grain="yearly") == "数据为按年汇总，本节需要按月或更细的数据"
    assert message("skip.grain", "en", grain="yearly") == "the data are at yearly grain"


@pytest.mark.parametrize("call, fragment", [
    (lambda: message("skip.no_such_id", "zh"), "'skip.no_such_id' is not in the zh catalogue"),
    (lambda: message("skip.missing_tabel", "zh", table="x"), "close ids: 'skip.missing_table'"),
    (lambda: message("skip.missing_table", "zh"), "missing table"),
    (lambda: message("skip.missing_table", "zh", table="x", column="y"), "unknown column"),
    (lambda: message("skip.missing_table", "fr", table="x"), "The 'lang' parameter of message must be one of 'en', 'zh'. Got 'fr' instead."),
    (lambda: message("sales_trends.headline.yoy", "zh", rate=0.1, change="x"), "The 'variant' parameter"),
    (lambda: message("skip.no_data", "zh", variant="up"), "has no variants"),
    (lambda: label("column.no_such_column", "zh"), "'column.no_such_column' is not in the zh catalogue"),
    (lambda: label("column.region", "de"), "The 'lang' parameter of label"),
    (lambda: format_value(1.0, "percent", "zh"), "The 'kind' parameter of format_value must be one of"),
    (lambda: format_value(1.0, "rate", "xx"), "The 'lang' parameter of format_value"),
])
def test_unknown_things_are_one_line_errors(call, fragment):
    with pytest.raises(MessageError) as err:
        call()
    text = str(err.value)
    assert fragment in text
    assert "\n" not in text
    assert isinstance(err.value, ParameterError) and isinstance(err.value, ValueError)


def test_error_names_what_was_given_and_what_is_allowed():
    with pytest.raises(MessageError, match=r"takes the values 'column', 'table'\. Got 'table' instead \(missing column\)"):
        message("skip.missing_column", "en", table="orders")


def test_label_is_strict_unlike_an_echo():
    assert label("column.attainment", "zh") == "完成率"
    assert label("column.attainment", "en") == "Attainment"
    assert label("sales_trends.section.process_indicators", "en") == "Process indicators"
    with pytest.raises(MessageError):
        label("attainment", "zh")  # the old glossary key without its namespace is not a label


@pytest.mark.parametrize("value, kind, zh, en", [
    (35649026.0, "money", "3,564.9万元", "35,649,026 yuan"),
    (8500.0, "money", "8,500元", "8,500 yuan"),
    (35649026.0, "money_wan", "3,564.9万元", "35,649,026 yuan"),
    (1234567, "int", "1,234,567", "1,234,567"),
    (1234567.4, "qty", "1,234,567条", "1,234,567 cartons"),
    (0.1234, "rate", "12.3%", "12.3%"),
    (0.115, "change", "+11.5%", "+11.5%"),
    (-0.052, "change", "-5.2%", "-5.2%"),
    (1.25, "pp", "+1.2个百分点", "+1.2 pp"),
    (-0.44, "pp", "-0.4个百分点", "-0.4 pp"),
    (-3669433.0, "signed", "-3,669,433", "-3,669,433"),
    (0.0000343, "p_value", "< 0.001", "< 0.001"),
    (0.0412, "p_value", "0.041", "0.041"),
    (dt.date(2026, 10, 5), "date", "2026-10-05", "2026-10-05"),
    ("2026-10", "month", "2026年10月", "October 2026"),
    (True, "flag", "是", "yes"),
    (False, "flag", "", ""),
    (None, "rate", "—", "—"),
    (float("nan"), "money", "—", "—"),
    (np.float64("inf"), "pp", "—", "—"),
    (np.int64(12), "count", "12", "12"),
])
def test_format_value(value, kind, zh, en):
    assert format_value(value, kind, "zh") == zh
    assert format_value(value, kind, "en") == en


def test_table_form_has_the_unit_in_the_header():
    assert format_value(35649026.0, "money", "zh", table=True) == "35,649,026"
    assert format_value(35649026.0, "money_wan", "zh", table=True) == "3,564.9"
    assert format_value(35649026.0, "money_wan", "en", table=True) == "3,564.9"
    assert format_value(1.25, "pp", "zh", table=True) == "+1.2"
    assert i18n.header_label("column.amount", "money_wan", "zh") == "金额（万元）"
    assert i18n.header_label("column.amount", "money_wan", "en") == "Amount (10k yuan)"
    assert i18n.header_label("column.change_pp", "pp", "en") == "Change (pp)"
    assert i18n.header_label("column.amount", "money", "zh") == "金额"


def test_sign_modifiers():
    assert format_value(-3669433.0, "money", "zh", sign="abs") == "366.9万元"
    assert format_value(3669433.0, "money", "en", sign="signed") == "+3,669,433 yuan"
    assert format_value(-0.05, "change", "zh", sign="abs") == "5.0%"


def test_placeholder_specs_kinds_codes_lists_and_nested_messages():
    assert message("skip.no_targets", "zh", level="rep") == "没有「客户经理」层级的目标"
    assert message("skip.missing_columns", "zh", table="customers", columns=["area_type", "size_class"]) == \
        "「customers」表缺少area_type、size_class字段"
    assert message("skip.missing_columns", "en", table="customers", columns=["area_type", "size_class"]) == \
        "table 'customers' has none of the columns area_type, size_class"
    inner = msg("sales_trends.headline.change", "down", value=Measured(-3669433.0, "money"))
    assert message("sales_trends.headline.yoy", "zh", "down", rate=-0.1, change=inner) == "同比下降10.0%（减少366.9万元）"
    assert message("sales_trends.headline.yoy", "en", "down", rate=-0.1, change=inner) == \
        "-10.0% on last year (−3,669,433 yuan)"
    assert Msg("skip.no_data").render("en") == "no data in the period"


def test_a_measured_value_is_written_in_its_own_kind():
    """{x:measured} takes the kind from the value: money, or a quantity with its unit."""
    item = "sales_trends.attainment.gap_item"
    assert message(item, "zh", key="市区", attainment=0.8, gap=Measured(-1200.0, "qty_case")) == \
        "市区（完成率80.0%，差额-1,200箱）"
    assert message(item, "zh", key="市区", attainment=0.8, gap=Measured(-36694.0, "money")) == \
        "市区（完成率80.0%，差额-3.7万元）"
    assert message(item, "en", key="urban", attainment=0.8, gap=Measured(-1200.0, "qty")) == \
        "urban (attainment 80.0%, gap -1,200 cartons)"
    assert message(item, "zh", key="市区", attainment=0.8, gap=Measured(float("nan"), "qty")) == \
        "市区（完成率80.0%，差额—）"
    # the text form of a quantity carries its unit; its table form is the bare number (the unit is in the header)
    assert [format_value(5.0, k, "zh") for k in ("qty", "qty_case", "qty_pack", "qty_mixed")] == \
        ["5条", "5箱", "5包", "5（单位不一）"]
    assert format_value(5000.0, "qty_case", "en", table=True) == "5,000"
    with pytest.raises(MessageError, match=r"must be a Measured\(value, kind\). Got float instead"):
        message(item, "zh", key="市区", attainment=0.8, gap=-1200.0)
    with pytest.raises(MessageError, match="The 'kind' parameter of Measured must be one of"):
        Measured(1.0, "cartons")


def test_adding_a_language_is_adding_one_file(tmp_path, monkeypatch):
    for p in i18n.LOCALE_DIR.glob("*.yml"):
        shutil.copy(p, tmp_path / p.name)
    text = (tmp_path / "en.yml").read_text(encoding="utf-8")
    (tmp_path / "xx.yml").write_text(text.replace("code: en", "code: xx").replace(
        "the store has no table '{table}'", "XX no table {table}"), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", Path(tmp_path))
    assert i18n.languages() == ("zh", "en", "xx")
    assert message("skip.missing_table", "xx", table="visits") == "XX no table visits"
    assert i18n.check_catalogues() == []
    # a catalogue that misses an id is reported
    (tmp_path / "xx.yml").write_text(text.replace("code: en", "code: xx").replace(
        '  skip.no_data: "no data in the period"\n', ""), encoding="utf-8")
    i18n.reload()
    assert any("skip.no_data" in p and "xx.yml" in p for p in i18n.check_catalogues())
    i18n.reload()


def test_malformed_catalogue_is_a_catalogue_error(tmp_path, monkeypatch):
    shutil.copy(i18n.LOCALE_DIR / "zh.yml", tmp_path / "zh.yml")
    (tmp_path / "en.yml").write_text("language: {code: en}\nformat: {}\nlabels: {}\nmessages: {}\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", Path(tmp_path))
    with pytest.raises(CatalogueError, match="has no format for the kinds"):
        i18n.languages()
    (tmp_path / "en.yml").write_text("language: {code: de}\nformat: {}\nlabels: {}\nmessages: {}\n", encoding="utf-8")
    i18n.reload()
    with pytest.raises(CatalogueError, match="must say language.code: en"):
        i18n.languages()
    i18n.reload()


def third_catalogue(folder: Path) -> Path:
    """A copy of en.yml as language ``xx`` (a few words marked) in ``folder``, outside the package."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (i18n.LOCALE_DIR / "en.yml").read_text(encoding="utf-8")
    for old, new in (("code: en", "code: xx"), ("html: en", "html: x-test"), ("index.title: Reports", "index.title: XX-Reports"),
                     ("present.period: Period", "present.period: XX-Period"),
                     ("report.sales_trends: Monthly sales trends", "report.sales_trends: XX-Trends"),
                     ('  column.amount: "Amount"', '  column.amount: "XX-Amount"')):
        assert old in text, old
        text = text.replace(old, new)
    (folder / "xx.yml").write_text(text, encoding="utf-8")
    return folder


def test_a_third_catalogue_in_a_folder_renders_the_index_and_a_page(tmp_path, monkeypatch):
    """Adding a language is adding a file, here outside the package ($SALES_ANALYSIS_LOCALES): no code changes."""
    import json

    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from analysis import display
    from analysis.reports import export_html, write_index

    monkeypatch.setenv(i18n.LOCALES_ENV, str(third_catalogue(tmp_path / "locales")))
    assert i18n.languages() == ("zh", "en", "xx") and i18n.check_catalogues() == []
    # the index, in the language its runs share
    run = tmp_path / "out" / "sales_trends" / "2026-10"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"report": "sales_trends", "period": "2026-10", "lang": "xx",
                                                  "total_amount": 1.5e6, "generated_at": "2026-11-01T08:00:00"}))
    (run / "sales_trends.html").write_text("<p>x</p>")
    page = write_index(tmp_path / "out").read_text(encoding="utf-8")
    assert '<html lang="x-test">' in page and "<h1>XX-Reports</h1>" in page and "XX-Trends" in page
    assert "1,500,000 yuan" in page  # the number formats of the catalogue
    # a report page: furniture and title from the catalogue
    nb = new_notebook()
    nb.cells = [new_code_cell("x", execution_count=1, outputs=[new_output(
        "display_data", data={"text/html": display.table_html(__import__("pandas").DataFrame({"amount": [1.0]}),
                                                               lang="xx")})])]
    html = export_html(nb, "sales_trends", {"generated_at": "2026-11-01T08:00:00"}, {"lang": "xx"}, period="2026-10",
                       private_paths=[])
    assert '<html lang="x-test">' in html and "XX-Period" in html and "<h1>XX-Trends</h1>" in html
    assert "<th>XX-Amount</th>" in html
    monkeypatch.setenv(i18n.LOCALES_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(CatalogueError, match="does not exist"):
        i18n.languages()

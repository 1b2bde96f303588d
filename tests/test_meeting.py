"""The monthly meeting pack (analysis.meeting): the parts, computed once; HTML, DOCX, PDF; missing parts.

The pack of the demo world's 2026-10 is built ONCE for the module (about 1–2 min on a loaded
machine: four reports computed headlessly, the PDF printed) and every check reads it. The other
tests use a stand-in ``compute`` and run in seconds.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

docx = pytest.importorskip("docx")

from analysis.i18n import Msg  # noqa: E402
from analysis.errors import ParameterError  # noqa: E402
from analysis.meeting import build_pack, launches_ending, plan, resolve_month, window_end  # noqa: E402
from analysis.meeting.pack import SHOWN, PartSpec, compute_part  # noqa: E402
from analysis.reports.compute import Computed  # noqa: E402
from analysis.sections import Reason, SectionResult, Skip  # noqa: E402

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ------------------------------------------------------------------ the real pack, once
@pytest.fixture(scope="module")
def pack(demo_world, tmp_path_factory):
    store, _ = demo_world
    out = tmp_path_factory.mktemp("meeting")
    return build_pack("2026-10", store=store, out=out, lang="zh", pdf=True)


@pytest.fixture(scope="module")
def html_soup(pack):
    from bs4 import BeautifulSoup

    return BeautifulSoup(pack.html.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def document(pack):
    return docx.Document(str(pack.docx))


def test_files_written_in_the_month_folder(pack):
    assert pack.folder.name == "2026-10" and pack.folder.parent.name == "meeting"
    for p in (pack.html, pack.docx, pack.record):
        assert p.exists() and p.stat().st_size > 0


def test_parts_in_order_each_once(pack):
    keys = [p.spec.key for p in pack.parts]
    assert keys == ["summary", "launch_S044", "scorecard", "target_plan"]  # 2026-10 ends no quarter
    assert all(p.ok for p in pack.parts), [(p.spec.key, p.reason) for p in pack.parts]
    assert pack.missing == []
    summary = pack.parts[0]
    assert [s.code for s in summary.sections] == list(SHOWN["summary"])
    assert summary.metrics["level"] == "region" and summary.metrics["period"].startswith("2026-10")
    assert pack.parts[2].metrics["audience"] == "team"  # the team version: no pay
    assert "payout" not in [s.code for s in pack.parts[2].sections]
    assert pack.parts[3].metrics["parameters"]["month"] == "2026-11"  # next month's targets


def test_a_part_has_the_stand_alone_reports_figures(pack, demo_world):
    from analysis.reports.compute import compute

    part = pack.parts[3]
    alone = compute("target_plan", demo_world[0], {"month": "2026-11", "lang": "zh"})
    drop = {"generated_at"}
    assert {k: v for k, v in part.metrics.items() if k not in drop} == {k: v for k, v in alone.metrics.items() if k not in drop}
    record = json.loads(pack.record.read_text(encoding="utf-8"))
    written = record["parts"][3]["metrics"]
    assert written["by_region"] == json.loads(json.dumps(alone.metrics["by_region"], default=str))


def test_html_is_self_contained_with_a_contents_list(pack, html_soup):
    text = pack.html.read_text(encoding="utf-8")
    assert 'name="viewport"' in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    nav = html_soup.find("nav", class_="toc")
    links = [a["href"] for a in nav.find_all("a")]
    ids = {h.get("id") for h in html_soup.find("main").find_all(["h2", "h3"])}
    assert links and all(link[1:] in ids for link in links)
    assert "/tmp/" not in html_soup.get_text()


def _html_headings(soup):
    return [(int(h.name[1]) - 1, h.get_text(" ", strip=True)) for h in soup.find("main").find_all(["h2", "h3"])]


def test_docx_headings_tables_images_match_the_html(html_soup, document):
    heads = [(int(p.style.name.split()[-1]), p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert heads == _html_headings(html_soup)
    main = html_soup.find("main")
    assert len(document.tables) == len(main.find_all("table")) > 0
    assert len(document.inline_shapes) == len(main.find_all("img")) > 0
    # the part titles are the outline's first level
    assert [t for lvl, t in heads if lvl == 1][:2] == ["2026年10月工作总结", "新品上市满月回顾：海韵（S044，2026-09-08上市）"]


def test_docx_holds_the_headline_sentence(pack, document):
    from analysis.word import section_blocks

    headline = pack.parts[0].sections[0]
    sentence = next(b.payload for b in section_blocks(headline, "zh") if b.kind == "paragraph").split("\n\n")[0].strip()
    assert "2026年10月" in sentence
    text = "\n".join(p.text for p in document.paragraphs)
    assert sentence in text


def test_docx_is_a4_with_page_numbers_and_a_cjk_font(document):
    s = document.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert "PAGE" in [e.text.strip() for e in s.footer._element.iter(f"{W}instrText")]
    rf = document.styles["Normal"].element.find(f"{W}rPr/{W}rFonts")
    assert rf.get(f"{W}eastAsia")


def test_pdf_has_pages_and_chinese_text(pack):
    if pack.pdf is None:
        pytest.skip(pack.pdf_note)
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(pack.pdf))
    assert len(reader.pages) > 3
    assert "工作总结" in reader.pages[0].extract_text() + reader.pages[1].extract_text()


# ------------------------------------------------------------------ the plan and launches
def test_launches_ending_by_window_end(demo_con):
    oct_ = launches_ending(demo_con, "2026-10")
    assert [x.sku_id for x in oct_] == ["S044"]
    assert oct_[0].window_end == window_end(oct_[0].launch_date) == dt.date(2026, 10, 7)
    assert [x.sku_id for x in launches_ending(demo_con, "2026-09")] == ["S043"]
    assert launches_ending(demo_con, "2026-07") == []
    # every launch ends its window in exactly one month
    products = demo_con.table("products").to_pandas()
    launched = products.dropna(subset=["launch_date"])
    months = pd.period_range("2023-11", "2026-12", freq="M")
    found = [x.sku_id for m in months for x in launches_ending(demo_con, str(m))]
    assert sorted(found) == sorted(launched["sku_id"]) and len(found) == len(set(found))


def test_plan_quarter_end_adds_retention_and_no_launch_is_listed(demo_con):
    specs, missing = plan(demo_con, "2026-09")
    assert [s.part for s in specs] == ["summary", "launch", "scorecard", "target_plan", "retention"]
    assert specs[-1].params == {"as_of": "2026-09-30"}
    assert specs[3].params == {"month": "2026-10"}
    assert missing == []
    specs, missing = plan(demo_con, "2026-07")
    assert "launch" not in [s.part for s in specs] and "retention" not in [s.part for s in specs]
    assert [m[1].id for m in missing] == ["meeting.missing.no_launch"]
    assert "2026年7月" in missing[0][1].render("zh") and missing[0][0].render("zh") == "新品上市满月回顾"


def test_plan_without_launch_dates_lists_the_reason():
    import ibis

    con = ibis.duckdb.connect()
    con.create_table("products", pd.DataFrame({"sku_id": ["S1"], "brand": ["b"]}))
    specs, missing = plan(con, "2026-10")
    assert [s.part for s in specs] == ["summary", "scorecard", "target_plan"]
    assert [m[1].id for m in missing] == ["meeting.missing.no_launch_dates"]
    assert "launch_date" in missing[0][1].render("en")


def test_resolve_month(demo_con):
    assert resolve_month(demo_con, "last") == "2026-10"
    assert resolve_month(demo_con, "2026-03") == "2026-03"
    assert resolve_month(demo_con, "last-1") == "2026-09" and resolve_month(demo_con, "2026年3月") == "2026-03"
    with pytest.raises(ParameterError, match="The 'month' parameter of build_pack must be a month such as"):
        resolve_month(demo_con, "October")


# --------------------------------------------------------- missing parts (stand-in compute)
def _section(code, report, skip=None):
    cls = type(f"Fake_{report}", (SectionResult,), {"report": report})
    return cls(code=code, skip=skip)


def test_a_failing_part_gets_the_reason():
    spec = PartSpec("scorecard", "scorecard", "rep_scorecard", {"month": "2026-10"}, Msg("meeting.part.scorecard", {"month": "2026-10"}))

    def boom(report, store, params):
        raise RuntimeError("rep_scorecard failed at cell 3: MissingTableError: no table 'targets' at /tmp/x/w.duckdb")

    part = compute_part(spec, "store", "zh", boom)
    assert not part.ok and part.reason.id == "meeting.missing.failed"
    assert "MissingTableError" in part.reason.render("zh") and "/tmp/" not in part.reason.render("zh")


def test_a_part_with_every_section_skipped_is_missing_with_the_skip_reason():
    spec = PartSpec("summary", "summary", "sales_trends", {"month": "2026-10"}, Msg("meeting.part.summary", {"month": "2026-10"}))
    skip = Skip(Reason.MISSING_TABLE, {"table": "targets"})
    sections = [_section(c, "sales_trends", skip) for c in SHOWN["summary"]]
    part = compute_part(spec, "s", "zh", lambda r, s, p: Computed(r, {"report": r}, sections))
    assert not part.ok and part.reason.render("zh") == Msg(skip.message_id, dict(skip.details)).render("zh")
    assert part.metrics == {"report": "sales_trends"}
    # a section switched off by a parameter is left out quietly, not a missing part
    off = Skip(Reason.DISABLED, {"param": "levels"})
    spec_tp = PartSpec("target_plan", "target_plan", "target_plan", {"month": "2026-11"}, Msg("meeting.part.target_plan", {"month": "2026-11"}))
    part = compute_part(spec_tp, "s", "zh", lambda r, s, p: Computed(r, {}, [_section("products", r, off)]))
    assert part.sections == [] and part.reason.id == "meeting.missing.nothing_shown"


def test_the_pack_still_writes_and_lists_missing_parts(demo_world, tmp_path):
    from analysis.reports.compute import compute as real

    def some_fail(report, store, params):
        if report == "target_plan":
            return real(report, store, params)
        raise RuntimeError(f"{report} failed at cell 2: ValueError: no data")

    pk = build_pack("2026-10", store=demo_world[0], out=tmp_path, lang="en", pdf=False, compute=some_fail)
    assert [p.ok for p in pk.parts] == [False, False, False, True]
    assert [t.id for t, _ in pk.missing] == ["meeting.part.summary", "meeting.part.launch", "meeting.part.scorecard"]
    html = pk.html.read_text(encoding="utf-8")
    assert "Parts not in this pack" in html and html.count("the computation failed") >= 3
    d = docx.Document(str(pk.docx))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Parts not in this pack" in text and "Targets for November 2026" in text
    assert pk.pdf is None and "no-pdf" in pk.pdf_note
    rec = json.loads(pk.record.read_text(encoding="utf-8"))
    assert [p["status"] for p in rec["parts"]] == ["missing", "missing", "missing", "ok"]
    assert len(rec["missing"]) == 3 and all(m["reason"] for m in rec["missing"])
    assert "missing" in pk.summary()


def test_cli_meeting(demo_world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import analysis.reports.compute as compute_mod
    from analysis.cli import app

    monkeypatch.setattr(compute_mod, "compute", lambda r, s, p: Computed(r, {}, []))
    res = CliRunner().invoke(app, ["meeting", "--month", "2026-10", "--store", str(demo_world[0]),
                                   "--out", str(tmp_path), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert "meeting 2026-10" in res.output and (tmp_path / "meeting" / "2026-10" / "meeting.docx").exists()


# ------------------------------------------------------------------------- schedules
def test_schedule_params_checked():
    from analysis.errors import ParameterError
    from analysis.meeting.schedule import check_params

    assert check_params({}) == {"month": "last", "lang": "zh", "pdf": None}
    assert check_params({"month": "2026-10", "lang": "en", "pdf": "true"}) == {"month": "2026-10", "lang": "en", "pdf": True}
    with pytest.raises(ParameterError, match="must be among month, lang, pdf"):
        check_params({"sku": "S1"})
    with pytest.raises(ParameterError, match="'lang'"):
        check_params({"lang": "fr"})
    with pytest.raises(ParameterError, match="'month'"):
        check_params({"month": "10/2026"})


def test_for_each_launch_runs(demo_con):
    from analysis.errors import ParameterError
    from analysis.meeting.schedule import is_launch_for_each, launch_runs

    assert is_launch_for_each("launch") and is_launch_for_each({"launch": "2026-09"})
    assert not is_launch_for_each("region") and not is_launch_for_each({"column": "region"})
    runs = launch_runs(demo_con, "launch", {"window_days": 30})  # last = 2026-10
    assert runs == [("launch_review_S044", {"window_days": 30, "sku": "S044", "launch_date": "2026-09-08"})]
    runs = launch_runs(demo_con, {"launch": "2026-09"}, {}, name="new_{sku}")
    assert [n for n, _ in runs] == ["new_S043"]
    assert launch_runs(demo_con, {"launch": "2026-07"}, {}) == []
    with pytest.raises(ParameterError, match="launch_review"):
        launch_runs(demo_con, "launch", {}, report="sales_trends")
    with pytest.raises(ParameterError, match="remove sku/brand"):
        launch_runs(demo_con, "launch", {"sku": "S001"})


def test_run_scheduled_reports_a_run_result(demo_world, tmp_path, monkeypatch):
    import analysis.reports.compute as compute_mod
    from analysis.meeting.schedule import run_scheduled

    monkeypatch.setattr(compute_mod, "compute", lambda r, s, p: Computed(r, {}, []))
    res = run_scheduled({"month": "2026-10"}, str(demo_world[0]), tmp_path)
    assert res.ok and res.period == "2026-10" and res.html.exists()
    assert res.notes and all(n.startswith("missing: ") for n in res.notes)  # nothing shown: every part listed
    bad = run_scheduled({"month": "2026-10"}, str(tmp_path / "nope.duckdb"), tmp_path)
    assert not bad.ok and bad.error


def test_workbook_holds_the_action_points_then_next_months_targets(pack):
    from openpyxl import load_workbook

    from analysis.meeting.actions import flagged_items

    assert pack.xlsx.exists()
    wb = load_workbook(pack.xlsx)
    assert wb.sheetnames[0] == "改善行动点" and len(wb.sheetnames) >= 3  # actions, plan tables, about
    ws = wb.worksheets[0]
    items = flagged_items(pack.parts[0].sections, "2026-10")
    assert ws.max_row - 1 == len(items) > 0
    assert [ws.cell(r, 3).value for r in range(2, ws.max_row + 1)] == items["item_key"].tolist()
    record = json.loads(pack.record.read_text(encoding="utf-8"))
    assert len(record["actions"]["flagged"]) == len(items) and record["outputs"]["xlsx"] == "meeting.xlsx"
    assert record["actions"]["previous"] is None


def test_the_index_lists_the_pack_with_its_files(pack):
    from analysis.reports.index import write_index

    out = pack.folder.parent.parent
    page = write_index(out, lang="zh").read_text(encoding="utf-8")
    assert "月例会材料" in page and "月例会材料（2026年10月）" in page
    for name in ("meeting.html", "meeting.docx", "meeting.xlsx"):
        assert f'href="meeting/2026-10/{name}"' in page

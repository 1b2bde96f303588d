"""The report pipeline (analysis.reports): runs, failures papermill misses, HTML export,
index, batch, nbval regression. Runs a tiny fixture notebook (tests/fixtures/fixture_report.ipynb)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis import reports
from analysis.errors import ParameterError
from pipeline_helpers import FIXTURE_NOTEBOOK, ROOT, register_fixture

pytestmark = pytest.mark.slow


@pytest.fixture
def fixture_report(monkeypatch):
    register_fixture(monkeypatch)
    return "fixture_report"


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if anything tries to execute a notebook."""
    calls = []

    def boom(*a, **k):
        calls.append((a, k))
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(reports.execute, "execute_notebook", boom)
    return calls


# --------------------------------------------------------------------------- parameters


def test_unknown_parameter_rejected_before_any_kernel(fixture_report, no_kernel, tmp_path):
    with pytest.raises(ParameterError) as e:
        reports.run_report(fixture_report, ["colour=red"], out=tmp_path)
    assert str(e.value) == (
        "'colour' is not a parameter of fixture_report; allowed: as_of, code, comment, items, lang, "
        "mode, month, n, store."
    )
    assert not no_kernel
    assert not list(tmp_path.rglob("*.ipynb"))


def test_wrong_type_rejected_before_any_kernel(fixture_report, no_kernel, tmp_path):
    with pytest.raises(ParameterError) as e:
        reports.run_report(fixture_report, ["n=abc"], out=tmp_path)
    assert str(e.value) == (
        "The 'n' parameter of fixture_report must satisfy: input should be a valid integer, unable to "
        "parse string as an integer. Got 'abc' instead."
    )
    with pytest.raises(ParameterError, match="'lang' parameter of fixture_report must be 'zh' or 'en'. Got 'fr'"):
        reports.run_report(fixture_report, {"lang": "fr"}, out=tmp_path)
    with pytest.raises(ParameterError, match="must be written name=value. Got 'lang' instead"):
        reports.run_report(fixture_report, ["lang"], out=tmp_path)
    assert not no_kernel


@pytest.mark.parametrize("crafted", ["x=1\nimport os", "x\nimport os=1", "__import__('os').system('id')=1"])
def test_crafted_parameter_name_never_reaches_papermill(fixture_report, no_kernel, tmp_path, crafted):
    with pytest.raises(ParameterError, match="is not a parameter of fixture_report"):
        reports.run_report(fixture_report, [crafted], out=tmp_path)
    with pytest.raises(ParameterError, match="is not a parameter of fixture_report"):
        reports.run_report(fixture_report, {crafted.split("=")[0]: "1"}, out=tmp_path)
    assert not no_kernel


def test_only_declared_names_handed_to_papermill(fixture_report, monkeypatch, tmp_path):
    seen = {}

    def fake(notebook, output, parameters, env, timeout, progress):
        seen.update(parameters=parameters, env=dict(env), timeout=timeout)
        raise RuntimeError("stop here")

    monkeypatch.setattr(reports.execute, "execute_notebook", fake)
    with pytest.raises(RuntimeError):
        reports.run_report(fixture_report, ["code=01234", "n=7", "items=[a, b]"], out=tmp_path, timeout=9)
    from fixture_params import FixtureParams

    assert set(seen["parameters"]) == set(FixtureParams.model_fields)
    assert seen["parameters"]["code"] == "01234"  # a str field keeps the text papermill would make 1234
    assert seen["parameters"]["n"] == 7
    assert seen["parameters"]["items"] == ["a", "b"]
    assert seen["timeout"] == 9
    assert seen["env"]["SALES_ANALYSIS_METRICS"].endswith("metrics.json")


def test_param_file_typed_by_model_and_overridden_by_p(fixture_report, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(reports.execute, "execute_notebook", lambda nb, o, parameters, *a: (seen.update(parameters), 1 / 0))
    pf = tmp_path / "p.yml"
    pf.write_text("code: 01234\nn: 5\nitems: [x, '7']\nmonth: 2026-09\nas_of: today\n", encoding="utf-8")
    import datetime as dt

    with pytest.raises(ZeroDivisionError):
        reports.run_report(fixture_report, ["month=2026-08"], param_file=pf, out=tmp_path,
                           today=dt.date(2026, 11, 27))
    assert seen["code"] == "01234"
    assert seen["n"] == 5
    assert seen["items"] == ["x", "7"]
    assert seen["month"] == "2026-08"
    assert seen["as_of"] == "2026-11-27"


# --------------------------------------------------------------------------- a good run


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    register_fixture(mp)
    out = tmp_path_factory.mktemp("out")
    mp.chdir(out)  # called from elsewhere: the kernel still runs in the project folder
    try:
        res = reports.run_report("fixture_report", ["code=01234"], out=out, timeout=120, progress=False)
    finally:
        mp.undo()
    return res, out


def test_run_writes_outputs(good_run):
    res, out = good_run
    assert res.ok, res.summary()
    d = out / "fixture_report" / "2026-10"
    assert res.out_dir == d
    assert sorted(p.name for p in d.iterdir()) == [
        "fixture_report.html", "fixture_report.ipynb", "fixture_report.xlsx", "metrics.json", "params.yml"
    ]
    assert res.workbook == d / "fixture_report.xlsx"  # written by the notebook's ctx.finish()
    import openpyxl

    wb = openpyxl.load_workbook(res.workbook)
    assert len(wb.sheetnames) == 2 and wb.sheetnames[1] == "区域明细"
    assert "fixture_report/2026-10/fixture_report.xlsx" in (out / "index.html").read_text(encoding="utf-8")
    assert not (out / ".tmp").exists()
    metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["total_amount"] == 8888888.0
    assert metrics["code"] == "01234"
    assert metrics["cwd"] == str(ROOT)  # the kernel ran in the project folder, wherever we were called
    record = yaml.safe_load((d / "params.yml").read_text(encoding="utf-8"))
    assert record["parameters"]["code"] == "01234"
    assert record["inputs"]["params"] == ["code=01234"]
    assert record["status"] == "ok"
    assert (out / "index.html").exists()
    assert res.summary().startswith("fixture_report: ok in ")
    nb = nbformat.read(str(d / "fixture_report.ipynb"), as_version=4)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")


def test_html_has_no_code_no_parameters_and_escapes_data(good_run):
    res, _ = good_run
    page = res.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the data string shows as text
    assert "<script" not in page.lower()
    assert "import matplotlib" not in page and "rec.record" not in page  # no code
    assert 'mode = "ok"' not in page and "injected" not in page.lower()  # no parameters cells
    assert "In&nbsp;[" not in page and "In [" not in page  # no prompts
    assert "1,234,567" in page and "95.3%" in page  # formatted numbers
    assert 'src="data:image/png;base64,' in page  # images inline


def test_html_shows_nothing_of_the_servers_file_system(good_run):
    res, out = good_run
    page = res.html.read_text(encoding="utf-8")
    assert "metrics file: …" in page and "working folder: …" in page  # printed paths are redacted
    assert "PosixPath('…')" in page  # a path shown as a cell's value, too
    for folder in (str(ROOT), str(out), "/tmp/", "/work/", "/root", ".tmp", "metrics.json"):
        assert folder not in page, folder
    assert not re.search(r"(?<![\w.])/(home|tmp|srv|var|usr|work|root)/", page)


def test_redaction_leaves_image_data_alone():
    png = "data:image/png;base64,AAAA+/tmp/abc/work/main+/srv/x=="
    nb = _nb(new_code_cell("x", execution_count=1, outputs=[
        new_output("display_data", data={"text/html": f'<p title="/srv/a/b">at /srv/a/b.json</p><img src="{png}"/>'})]))
    page = reports.export_html(nb, "sales_trends", {}, {"lang": "zh"}, "2026-10", private_paths=["/work/main"])
    assert png in page and "/srv/a" not in page and 'title="…"' in page and "at …" in page


def test_redact_paths_keeps_ordinary_slashes():
    text = "3/4 of 2026/10; /srv/x/a.json and /opt/sa, ratio 1/2 (see /data/w.duckdb)"
    assert reports.redact_paths(text, ["/opt/sa"]) == "3/4 of 2026/10; … and …, ratio 1/2 (see …)"


def test_html_is_self_contained(good_run):
    res, _ = good_run
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", res.html.read_text(encoding="utf-8"))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<link\b|<script|@import|url\(|mathjax|require\.js|cdn", page, re.I)
    assert "Content-Security-Policy" in page


def test_html_title_block_and_toc(good_run):
    res, _ = good_run
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(res.html.read_text(encoding="utf-8"), "html.parser")
    meta = {dt.get_text(): dd.get_text() for dt, dd in zip(soup.select("dl.meta dt"), soup.select("dl.meta dd"))}
    assert meta["期间"] == "2026-10"
    assert meta["数据范围"] == "2026-10-01 – 2026-10-31"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", meta["生成时间"])
    toc = [a.get_text() for a in soup.select("nav.toc a")]
    assert toc == ["销售概况 Sales overview", "区域明细", "趋势图"]
    for a in soup.select("nav.toc a"):
        assert soup.find(id=a["href"][1:]) is not None
    assert soup.select_one("nav.toc li ol a").get_text() == "区域明细"  # h3 nested under its h2
    assert "max-width" in soup.style.get_text() and "WenQuanYi Micro Hei" in soup.style.get_text()


def test_a_run_in_a_third_language_needs_no_code_change(fixture_report, tmp_path, monkeypatch):
    """A catalogue added outside the package ($SALES_ANALYSIS_LOCALES) reaches the kernel and the page."""
    from analysis import i18n
    from test_i18n import third_catalogue

    monkeypatch.setenv(i18n.LOCALES_ENV, str(third_catalogue(tmp_path / "locales")))
    res = reports.run_report(fixture_report, ["lang=xx"], out=tmp_path / "out", timeout=120, progress=False)
    assert res.ok, res.summary()
    page = res.html.read_text(encoding="utf-8")
    assert '<html lang="x-test">' in page and "XX-Period" in page and "<th>XX-Amount</th>" in page


def test_end_to_end_script_string_is_text_in_html(fixture_report, tmp_path):
    evil = '<img src=x onerror=alert(2)><script>alert(1)</script>"\'&'
    res = reports.run_report(fixture_report, {"comment": evil, "month": "2026-09"}, out=tmp_path, progress=False)
    assert res.ok, res.summary()
    page = res.html.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "onerror" not in page.replace("onerror=alert(2)", "")
    from bs4 import BeautifulSoup

    cells = [td.get_text() for td in BeautifulSoup(page, "html.parser").select("td")]
    assert evil in cells


def test_crafted_value_is_data_not_code(fixture_report, tmp_path):
    # a str value with a newline and code: papermill must write it as a string literal
    crafted = '2026-10"\nimport os; os._exit(3)\nx = "'
    res = reports.run_report(fixture_report, {"code": crafted}, out=tmp_path, progress=False)
    assert res.ok, res.summary()
    metrics = json.loads(res.metrics.read_text(encoding="utf-8"))
    assert metrics["parameters"]["code"] == crafted
    assert res.out_dir == tmp_path / "fixture_report" / "2026-10"
    # a month is a month: the same text as a month never reaches a kernel (or a folder name)
    with pytest.raises(ParameterError, match="must be a month such as"):
        reports.run_report(fixture_report, {"month": crafted}, out=tmp_path / "m", progress=False)
    assert not (tmp_path / "m").exists()


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "mode, cell, message",
    [
        ("error", 5, "ValueError: planted failure in the fixture"),
        ("exit0", 5, "the cell called sys.exit(0); the remaining cells did not run"),
        ("sleep", 5, "the cell timed out after 20 s (execution_timeout)"),
        ("kill", 5, "the kernel died while the cell ran"),
        ("os_exit", 5, "the kernel died while the cell ran"),
        ("no_metrics", None, "the notebook did not write metrics.json"),
    ],
)
def test_failures_papermill_misses(fixture_report, tmp_path, mode, cell, message):
    # the planted sleep is 60 s; other cells must finish well within the timeout even on a busy machine
    timeout = 20 if mode == "sleep" else 300
    res = reports.run_report(fixture_report, [f"mode={mode}"], out=tmp_path, timeout=timeout, progress=False)
    assert not res.ok
    assert res.cell == cell
    assert message in res.error
    d = tmp_path / "fixture_report" / "2026-10"
    assert res.failed_notebook == d / "fixture_report.FAILED.ipynb" and res.failed_notebook.exists()
    assert not list(tmp_path.rglob("*.html"))
    assert not (d / "metrics.json").exists() and not (d / "fixture_report.ipynb").exists()
    line = res.summary()
    assert "\n" not in line and "FAILED" in line and message in line
    if cell is not None:
        assert f"at cell {cell}:" in line
    assert not (tmp_path / ".tmp").exists()


def test_failed_run_leaves_last_good_outputs_untouched(fixture_report, tmp_path):
    good = reports.run_report(fixture_report, [], out=tmp_path, progress=False)
    assert good.ok
    before = {p.name: p.read_bytes() for p in good.out_dir.iterdir()}
    bad = reports.run_report(fixture_report, ["mode=error"], out=tmp_path, progress=False)
    assert not bad.ok
    after = {p.name: p.read_bytes() for p in good.out_dir.iterdir() if "FAILED" not in p.name}
    assert after == before
    # a good run replaces everything, and removes optional outputs of an older run it did not write
    # (here: a PDF asked for, but no Chromium: the run is ok and says so in its one line)
    (good.out_dir / "fixture_report.pdf").write_bytes(b"old")
    (good.out_dir / "fixture_report.xlsx").write_bytes(b"old")
    from analysis.reports import pdf

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pdf.ENV_VAR, str(tmp_path / "no-such-chromium"))
        mp.setattr(pdf, "CANDIDATES", ())
        again = reports.run_report(fixture_report, [], out=tmp_path, progress=False, pdf=True)
    assert again.ok and not (good.out_dir / "fixture_report.FAILED.ipynb").exists()
    assert again.notes == [pdf.NOT_FOUND] and again.summary().endswith("; " + pdf.NOT_FOUND)
    assert again.pdf is None and again.workbook == good.out_dir / "fixture_report.xlsx"
    assert sorted(p.name for p in good.out_dir.iterdir()) == [
        "fixture_report.html", "fixture_report.ipynb", "fixture_report.xlsx", "metrics.json", "params.yml"]
    assert (good.out_dir / "fixture_report.xlsx").read_bytes() != b"old"


def test_cli_run_exit_codes(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "fixtures"), str(ROOT / "src")])}
    cli = [sys.executable, "-c",
           "import sys; from analysis.params import REPORTS, ReportSpec; from fixture_params import FixtureParams;"
           f"REPORTS['fixture_report'] = ReportSpec('fixture_report', {str(FIXTURE_NOTEBOOK)!r}, FixtureParams);"
           "from analysis.cli import main; sys.argv = ['sales-analysis'] + sys.argv[1:]; main()"]
    bad = subprocess.run(cli + ["run", "fixture_report", "-p", "mode=error", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 1
    assert "fixture_report: FAILED at cell 5: ValueError: planted failure in the fixture" in bad.stdout
    wrong = subprocess.run(cli + ["run", "fixture_report", "-p", "colour=red", "--out", str(tmp_path)],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == [
        "sales-analysis: error: 'colour' is not a parameter of fixture_report; allowed: as_of, code, "
        "comment, items, lang, mode, month, n, store."
    ]
    assert not list(tmp_path.rglob("*.html"))


# --------------------------------------------------------------------------- pieces without a kernel


def _nb(*cells):
    nb = new_notebook()
    nb.cells = list(cells)
    return nb


def test_check_executed_finds_the_first_problem():
    ok = new_code_cell("a = 1", execution_count=1)
    injected = new_code_cell("mode = 'x'", execution_count=2, metadata={"tags": ["injected-parameters"]})
    err = new_code_cell("1/0", execution_count=3, outputs=[new_output("error", ename="ZeroDivisionError",
                                                                     evalue="division by zero", traceback=[])])
    never = new_code_cell("b = 2")
    md = new_markdown_cell("# t")
    assert reports.check_executed(_nb(md, ok, injected, err, never)) == (3, "ZeroDivisionError: division by zero")
    assert reports.check_executed(_nb(md, ok, never, err)) == (3, "the cell did not run (the run ended early)")
    assert reports.check_executed(_nb(md, ok, new_code_cell("  "))) == (None, None)


def test_sanitize_html_allow_list():
    dirty = (
        '<div class="k" onclick="x()" style="background:url(http://e/x)"><script>alert(1)</script>'
        '<a href="javascript:alert(1)">j</a><a href="#s">ok</a><iframe src="http://e"></iframe>'
        '<img src="http://e/x.png"><img src="data:image/png;base64,AAAA"><svg onload="x()"></svg>'
        '<table><tr><td class="num">1,234</td></tr></table><custom>kept text</custom><!-- c --></div>'
    )
    clean = reports.sanitize_html(dirty)
    assert clean == (
        '<div class="k"><a>j</a><a href="#s">ok</a><img/><img src="data:image/png;base64,AAAA"/>'
        '<table><tr><td class="num">1,234</td></tr></table>kept text</div>'
    )


def test_run_period_from_metrics_or_parameters():
    assert reports.run_period("sales_trends", {"month": "last"}, {"period": "2026-10"}) == "2026-10"
    assert reports.run_period("sales_trends", {"month": "2026-09"}) == "2026-09"
    assert reports.run_period("launch_review", {"sku": "S041", "launch_date": "2026-08-01"}) == "S041-2026-08-01"  # the folder a good run records (spec.launch_key)
    assert reports.run_period("incentive_retention", {"as_of": "2026-10-31"}) == "2026-10-31"
    assert reports.run_period("incentive_retention", {"as_of": ""}) == "latest"
    assert reports.run_period("x", {"month": "../../etc"}) == "etc"


def _fake_run(out, name, period, metrics, lang="zh", extra=(), when="2026-11-02T08:00:00"):
    d = out / name / period
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"generated_at": when, **metrics}), encoding="utf-8")
    (d / "params.yml").write_text(yaml.safe_dump({"name": name, "report": metrics.get("report"),
                                                  "parameters": {"lang": lang}}), encoding="utf-8")
    (d / f"{name}.html").write_text("<p>x</p>")
    for ext in extra:
        (d / f"{name}.{ext}").write_bytes(b"x")
    return d


def test_index_groups_runs_by_report_newest_period_first_with_headlines(tmp_path):
    from bs4 import BeautifulSoup

    for i, (month, amount) in enumerate([("2026-08", 9.0e6), ("2026-10", 12345678.0), ("2026-09", 1.1e7)]):
        _fake_run(tmp_path, "sales_trends", month, {
            "report": "sales_trends", "period": month, "total_amount": amount, "attainment": 0.953,
            "time_elapsed": 1.0, "yoy": 0.032}, when=f"2026-11-0{i + 1}T08:00:00")
    _fake_run(tmp_path, "sales_trends_市区", "2026-10", {"report": "sales_trends", "period": "2026-10",
                                                       "total_amount": 1.0e6, "attainment": None},
              extra=("xlsx",))
    _fake_run(tmp_path, "launch_review", "S044_2026-09-08", {
        "report": "launch_review", "launch_date": "2026-09-08", "distribution_rate": 0.2, "repeat_rate": 0.3,
        "rating_mean": 3.456})
    _fake_run(tmp_path, "launch_review", "S043_2026-06-01", {
        "report": "launch_review", "launch_date": "2026-06-01", "distribution_rate": 0.5, "repeat_rate": 0.6,
        "rating_mean": 4.0}, when="2026-11-09T08:00:00")
    _fake_run(tmp_path, "incentive_retention", "2026-10-31", {
        "report": "incentive_retention", "attrition_rate": 0.25, "first_year_attrition": 0.4}, extra=("xlsx", "pdf"))
    _fake_run(tmp_path, "x", "2026-10", {"report": "x", "title": "<script>alert(1)</script>"})
    _fake_run(tmp_path, "target_plan", "2026-11", {"report": "target_plan", "total": 5000.0, "measure": "qty"})
    _fake_run(tmp_path, "rep_scorecard", "2026-10", {"report": "rep_scorecard", "leader": "R0007 <王五>",
                                                     "below_target": 3})
    (tmp_path / "broken" / "2026-10").mkdir(parents=True)  # no html: not listed
    (tmp_path / "broken" / "2026-10" / "metrics.json").write_text("{}")
    (tmp_path / ".tmp" / "w").mkdir(parents=True)

    page = reports.write_index(tmp_path).read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    soup = BeautifulSoup(page, "html.parser")
    assert [h.get_text() for h in soup.select("section.report-group > h2")] == [
        "月度销售趋势", "新品牌上市一个月分析", "激励与队伍稳定", "月度综合考核", "任务分解", "x"]
    kpi = {g["id"]: [k.get_text() for k in g.select(".kpi-v")] for g in soup.select("section.report-group")}
    assert kpi["g-target_plan"] == ["5,000"] and kpi["g-rep_scorecard"] == ["R0007 <王五>", "3"]
    trends = soup.select("section#g-sales_trends article.series")
    assert [a.select_one("h3 .period").get_text() for a in trends] == ["2026-10", "2026-10"]
    main = trends[0]
    assert main.select_one("h3 a")["href"] == "sales_trends/2026-10/sales_trends.html"
    kpis = {k.select_one(".kpi-l").get_text(): k.select_one(".kpi-v").get_text() for k in main.select(".kpi")}
    assert kpis == {"金额": "1,234.6万元", "完成率": "95.3%", "时间进度": "100.0%", "同比": "+3.2%"}
    assert [li.a.get_text() for li in main.select("details.earlier li")] == ["2026-09", "2026-08"]
    assert len(main.select("figure.spark circle")) == 3  # the history of the headline figure
    titles = [t.get_text() for t in main.select("figure.spark circle title")]
    assert titles == ["2026-08: 900.0万元", "2026-09: 1,100.0万元", "2026-10: 1,234.6万元"]
    region = trends[1]
    assert "市区" in region.select_one("h3").get_text() or "sales_trends_市区" in region.select_one("h3 a")["href"]
    assert [a["href"] for a in region.select("p.links a")] == [
        "sales_trends_市区/2026-10/sales_trends_市区.html", "sales_trends_市区/2026-10/sales_trends_市区.xlsx"]
    assert region.select_one(".kpi .kpi-v").get_text() == "100.0万元" and "—" in region.get_text()
    assert not region.select("figure.spark")  # one period: no history chart
    launch = soup.select_one("section#g-launch_review article.series")
    assert launch.select_one("h3 .period").get_text() == "S044_2026-09-08"  # by launch date, not by name
    assert [k.get_text() for k in launch.select(".kpi-v")] == ["20.0%", "30.0%", "3.46"]
    ret = soup.select_one("section#g-incentive_retention")
    assert [a.get_text() for a in ret.select("p.links a")] == ["报告", "Excel", "PDF"]
    assert "broken" not in page and ".tmp" not in page


def test_index_writes_a_volume_plan_in_the_products_unit(tmp_path):
    """A plan in volume says its unit (its metrics' value_kind), as its own page does."""
    from bs4 import BeautifulSoup

    _fake_run(tmp_path, "target_plan", "2026-11", {"report": "target_plan", "total": 5000.0, "measure": "qty",
                                                   "value_kind": "qty_case"})
    soup = BeautifulSoup(reports.write_index(tmp_path).read_text(encoding="utf-8"), "html.parser")
    assert [k.get_text() for k in soup.select("section#g-target_plan .kpi-v")] == ["5,000箱"]


def test_index_language_and_failed_latest_run(tmp_path):
    d = _fake_run(tmp_path, "incentive_retention", "2026-10-31", {"report": "incentive_retention",
                                                                  "attrition_rate": 0.25}, lang="en")
    page = reports.write_index(tmp_path).read_text(encoding="utf-8")
    assert "<h1>Reports</h1>" in page and "Attrition rate" in page and 'class="failed' not in page
    assert '<html lang="en">' in page
    import time

    time.sleep(0.05)
    (d / "incentive_retention.FAILED.ipynb").write_text("{}")
    page = reports.write_index(tmp_path, lang="zh").read_text(encoding="utf-8")
    assert "<h1>报告目录</h1>" in page and "本期最近一次运行失败（原因不明）" in page and '<p class="failed">' in page


def test_every_headline_figure_has_a_label_in_both_languages():
    from analysis.reports import index

    for report, spec in index.HEADLINES.items():
        assert spec.history is None or spec.history in {f.key for f in spec.figures}, report
        for f in spec.figures:
            assert index.text(f"figure.{f.label}", "zh") != index.text(f"figure.{f.label}", "en")
    from analysis.errors import MessageError

    with pytest.raises(MessageError):
        index.text("no_such_text", "zh")


# --------------------------------------------------------------------------- batch


@pytest.fixture
def region_store(tmp_path):
    """A tiny DuckDB store whose orders have four regions (one of them written to need a safe name)."""
    import pandas as pd

    from analysis import store

    path = tmp_path / "regions.duckdb"
    con = store.connect(str(path))
    con.create_table("orders", pd.DataFrame({
        "order_date": pd.to_datetime(["2026-10-01"] * 5),
        "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        "region": ["北区", "南区", "北区", "a/b", None],
    }))
    con.create_table("customers", pd.DataFrame({"customer_id": ["c1"], "region": ["西区"]}))
    con.disconnect()
    return path


def test_schedules_shipped_are_valid(region_store):
    from analysis.params import REPORTS

    demo = reports.load_schedule(ROOT / "schedules" / "demo.yml")
    assert [j.report for j in demo][:4] == ["sales_trends", "launch_review", "launch_review", "incentive_retention"]
    assert {j.report for j in demo} <= set(REPORTS)
    assert len({j.name for j in demo}) == len(demo)
    monthly = reports.load_schedule(ROOT / "schedules" / "monthly.yml", store=str(region_store))
    # no products in this store: no launch, so the for_each: launch entry runs nothing
    assert {j.report for j in monthly} == {"sales_trends", "incentive_retention", "rep_scorecard", "target_plan",
                                           "meeting"}
    per_region = [j for j in monthly if j.params.get("filters")]
    assert [j.params["filters"] for j in per_region] == [{"region": ["a/b"]}, {"region": ["北区"]}, {"region": ["南区"]}]
    assert [j.name for j in per_region] == ["sales_trends_a_b", "sales_trends_北区", "sales_trends_南区"]
    assert len({j.name for j in monthly}) == len(monthly)
    assert all(j.params["month"] == "last" and j.params["level"] == "rep" for j in per_region)


def test_for_each_expands_over_the_store(region_store, tmp_path):
    p = tmp_path / "s.yml"
    p.write_text(
        "- report: sales_trends\n  name: trends_{value}\n  for_each: {column: region, table: customers}\n"
        "  params: {month: '2026-10', filters: {channel: [线上]}}\n", encoding="utf-8")
    jobs = reports.load_schedule(p, store=str(region_store))
    assert [(j.name, j.params["filters"]) for j in jobs] == [("trends_西区", {"channel": ["线上"], "region": ["西区"]})]
    p.write_text("- report: sales_trends\n  for_each: territory\n", encoding="utf-8")
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="territory"):
        reports.load_schedule(p, store=str(region_store))
    p.write_text("- report: launch_review\n  for_each: region\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="needs a report with a 'filters' parameter; launch_review has none"):
        reports.load_schedule(p, store=str(region_store))
    p.write_text("- report: sales_trends\n  for_each: [region]\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="must be a column name or"):
        reports.load_schedule(p, store=str(region_store))


def test_schedule_rejects_bad_entries(fixture_report, tmp_path):
    p = tmp_path / "s.yml"
    p.write_text("- report: fixture_report\n  params: {colour: red}\n")
    with pytest.raises(ParameterError, match="'colour' is not a parameter of fixture_report"):
        reports.load_schedule(p)
    p.write_text("- report: nope\n")
    with pytest.raises(ParameterError, match="The 'report' parameter of run must be one of"):
        reports.load_schedule(p)
    p.write_text("- report: fixture_report\n  name: ../x\n")
    with pytest.raises(ParameterError, match="must be a plain file name"):
        reports.load_schedule(p)
    p.write_text("- report: fixture_report\n  params: {code: 01234}\n")
    assert reports.load_schedule(p)[0].params == {"code": "01234"}


def test_batch_keeps_going_past_a_failure(fixture_report, tmp_path, capsys):
    sched = tmp_path / "s.yml"
    sched.write_text(
        "- report: fixture_report\n  params: {month: 2026-08}\n"
        "- report: fixture_report\n  name: broken\n  params: {mode: error}\n"
        "- report: fixture_report\n  name: fixture_甲\n  params: {month: 2026-09, items: [甲]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    ok = reports.run_batch(sched, out=out, jobs=2, progress=False)
    assert ok is False
    text = capsys.readouterr().out
    lines = text.splitlines()
    # a scheduler's log: a header (time, schedule, store, out), one line per report, an end line
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
    assert re.match(stamp + r" batch start · schedule .*s\.yml · store .+ · out .*out$", lines[0]), lines[0]
    assert len(lines) == 5 and re.match(stamp + " batch end · 2 ok, 1 failed · .*index: .*index.html$", lines[-1])
    reports_lines = lines[1:4]
    assert all(re.match(stamp + r" (ok|FAILED) +\d+\.\ds  ", line) for line in reports_lines), reports_lines
    failed = [line for line in reports_lines if " FAILED " in line]
    assert len(failed) == 1 and sum(" ok " in line for line in reports_lines) == 2
    assert "broken (fixture_report) [mode=error] · cell 5: ValueError: planted failure in the fixture · " \
           f"failed notebook: {out / 'broken' / '2026-10' / 'broken.FAILED.ipynb'}" in failed[0]
    assert (out / "fixture_report" / "2026-08" / "fixture_report.html").exists()
    assert (out / "fixture_甲" / "2026-09" / "fixture_甲.html").exists()
    assert (out / "broken" / "2026-10" / "broken.FAILED.ipynb").exists()
    assert not list((out / "broken").rglob("*.html"))
    # the index shows the failed report, in red, with its reason and its notebook
    from bs4 import BeautifulSoup

    index = (out / "index.html").read_text(encoding="utf-8")
    assert "fixture_甲/2026-09/fixture_甲.html" in index
    soup = BeautifulSoup(index, "html.parser")
    red = soup.select("p.failed")
    assert len(red) == 1 and "ValueError: planted failure in the fixture" in red[0].get_text()
    assert "2026-10" in red[0].get_text() and red[0].select_one("a")["href"] == "broken/2026-10/broken.FAILED.ipynb"
    assert soup.select_one(".meta .failed dd").get_text() == "1"
    assert not (out / ".tmp").exists()
    record = json.loads((out / ".last_batch.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in record["reports"]] == ["ok", "FAILED", "ok"]


def test_cli_run_batch_exit_code_and_log_formats(tmp_path, region_store):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "fixtures"), str(ROOT / "src")])}
    sched = tmp_path / "s.yml"
    sched.write_text("- report: fixture_report\n  params: {mode: error}\n- report: sales_trends\n  name: late\n"
                     "  params: {month: 2030年1月}\n")
    code = ("import sys; from analysis.params import REPORTS, ReportSpec; from fixture_params import FixtureParams;"
            f"REPORTS['fixture_report'] = ReportSpec('fixture_report', {str(FIXTURE_NOTEBOOK)!r}, FixtureParams);"
            "from analysis.cli import main; sys.argv = ['sales-analysis'] + sys.argv[1:]; main()")
    r = subprocess.run([sys.executable, "-c", code, "run-batch", str(sched), "--out", str(tmp_path / "o"),
                        "--log-format", "json", "--store", str(region_store)], capture_output=True, text=True,
                       env=env, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    # a scheduler's log (stdout and stderr not a terminal): JSON lines, no progress bars
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["event"] for e in events] == ["batch_start", "report", "report", "batch_end"]
    assert set(events[0]) == {"event", "time", "schedule", "store", "out"}
    by_name = {e["name"]: e for e in events[1:3]}
    bad = by_name["fixture_report"]
    assert bad["status"] == "FAILED" and bad["cell"] == 5 and bad["error"].startswith("ValueError: planted failure")
    assert bad["failed_notebook"].endswith("fixture_report.FAILED.ipynb") and bad["started_at"] and bad["seconds"] > 0
    # a month outside the data fails before any kernel: no folder, the log and the index say why
    late = by_name["late"]
    assert late["status"] == "FAILED" and late["failed_notebook"] is None
    assert late["error"] == ("ParameterError: The 'month' parameter of sales_trends must be a month inside the data "
                             "(2026-10 … 2026-10). Got '2030-01' instead.")
    assert not (tmp_path / "o" / "late").exists()
    assert events[-1]["ok"] == 0 and events[-1]["failed"] == 2
    assert r.stderr == ""
    page = (tmp_path / "o" / "index.html").read_text(encoding="utf-8")
    assert page.count('class="failed') >= 2 and "未生成" in page  # the report that left no folder: missing


# --------------------------------------------------------------------------- nbval regression


def _nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
         "--nbval-kernel-name", "sales-analysis", "--rootdir", str(path.parent), str(path)],
        capture_output=True, text=True, cwd=path.parent,
        env={**os.environ, "SALES_ANALYSIS_METRICS": str(path.parent / "m" / "metrics.json")},
    )


def test_nbval_passes_twice_and_fails_when_a_number_changes(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import execute_notebooks
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    nb_path = tmp_path / "fixture_report.ipynb"
    shutil.copy(FIXTURE_NOTEBOOK, nb_path)
    assert execute_notebooks.execute_in_place(nb_path, timeout=120) == []
    for _ in range(2):
        r = _nbval(nb_path)
        assert r.returncode == 0, r.stdout[-3000:]
    nb = nbformat.read(str(nb_path), as_version=4)
    changed = False
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html and "1,234,567" in html:
                out["data"]["text/html"] = html.replace("1,234,567", "1,234,568")
                changed = True
    assert changed
    nbformat.write(nb, str(nb_path))
    r = _nbval(nb_path)
    assert r.returncode != 0
    assert "1,234,567" in r.stdout and "1,234,568" in r.stdout


def test_export_keeps_outputs_only():
    md = new_markdown_cell("## Analyst note")
    kept_md = new_markdown_cell("## 说明", metadata={"tags": ["report"]})
    params = new_code_cell("lang = 'zh'", execution_count=1, metadata={"tags": ["parameters"]})
    code = new_code_cell("show()", execution_count=2, outputs=[
        new_output("display_data", data={"text/html": "<h2>标题</h2>", "text/plain": "x"}),
        new_output("stream", name="stderr", text="a warning"),
    ])
    page = reports.export_html(_nb(md, kept_md, params, code), "sales_trends", {"period": "2026-10"}, {"lang": "zh"}, "2026-10")
    assert "Analyst note" not in page and "说明" in page and "标题" in page
    assert "a warning" not in page and "show()" not in page and "lang = " not in page
    assert "<title>月度销售趋势 · 2026-10</title>" in page


def test_check_executed_blames_the_cell_running_when_the_kernel_died():
    from nbclient.exceptions import DeadKernelError

    started = {"papermill": {"start_time": "2026-11-27T00:00:00", "status": "completed"}}
    ran = new_code_cell("a = 1", execution_count=1, metadata=started)
    dying = new_code_cell("os._exit(1)", execution_count=2, metadata=started)  # acknowledged, no reply
    after = new_code_cell("b = 2", metadata={"papermill": {"start_time": None, "status": "completed"}})
    cell, why = reports.check_executed(_nb(ran, dying, after), DeadKernelError("Kernel died"))
    assert (cell, why) == (2, "the kernel died while the cell ran (killed, os._exit or out of memory)")


def test_a_reports_own_files_are_linked_and_replaced_with_the_run(tmp_path):
    from analysis.reports.outputs import move_into_place

    final = tmp_path / "target_plan" / "2026-11"
    final.mkdir(parents=True)
    old = {"params.yml": yaml.safe_dump({"outputs": ["targets_2026-11.csv", "target_plan.html"]}),
           "targets_2026-11.csv": "old", "target_plan.pdf": "old", "target_plan.html": "old", "metrics.json": "{}"}
    for name, text in old.items():
        (final / name).write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    new = {"target_plan.html": "<p>new</p>", "metrics.json": json.dumps({"report": "target_plan", "total": 5.0}),
           "targets_2026-12.csv": "new", "params.yml": yaml.safe_dump({
               "name": "target_plan", "report": "target_plan",
               "outputs": ["metrics.json", "params.yml", "target_plan.html", "targets_2026-12.csv"]})}
    for name, text in new.items():
        (work / name).write_text(text, encoding="utf-8")
    move_into_place([(work / n, final / n) for n in new], final, "target_plan")
    assert sorted(p.name for p in final.iterdir()) == ["metrics.json", "params.yml", "target_plan.html",
                                                       "targets_2026-12.csv"]
    page = reports.write_index(tmp_path).read_text(encoding="utf-8")
    assert '<a class="file" href="target_plan/2026-11/targets_2026-12.csv">targets_2026-12.csv</a>' in page

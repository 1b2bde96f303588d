"""Open the HTML reports in headless Chromium (no network): no console errors, a phone-width
screenshot, Chinese headings drawn with real glyphs (not empty boxes), charts sharp and legible
and tables scrolling in their own box at phone width, the index page at phone width, and the PDF.

Reports checked: the fixture report (always) and every report under reports/ (after `make demo`).
Screenshots are kept in build/screenshots/ for a look.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline_helpers import ROOT, register_fixture

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it: scripts/sysdeps.sh chromium)"),
]
SHOTS = ROOT / "build" / "screenshots"
CJK = re.compile(r"[\u3400-\u9fff]")


def chromium(page: Path, shot: Path, profile: Path, size: str = "412,915", env: dict | None = None) -> list[str]:
    """Screenshot ``page`` at ``size``; return the console messages Chromium logged."""
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",  # no network
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        f"--window-size={size}", f"--screenshot={shot}", page.resolve().as_uri(),
    ]
    import os

    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    assert shot.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("L").tobytes()


def ink(path: Path) -> int:
    """Number of non-white pixels."""
    return sum(1 for b in pixels(path) if b < 200)


@pytest.fixture(scope="module")
def fixture_html(tmp_path_factory):
    from analysis import reports

    mp = pytest.MonkeyPatch()
    register_fixture(mp)
    try:
        res = reports.run_report("fixture_report", [], out=tmp_path_factory.mktemp("out"), progress=False, pdf=True)
    finally:
        mp.undo()
    assert res.ok, res.summary()
    return res.html


def _report_pages() -> list[Path]:
    return sorted((ROOT / "reports").glob("*/*/*.html"))


def _pages(fixture_html: Path) -> list[Path]:
    return [fixture_html, *_report_pages()]


def test_console_detector_can_fail(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'\"><script>console.error('boom')</script><p>x</p>", encoding="utf-8"
    )
    assert chromium(page, tmp_path / "bad.png", tmp_path / "profile")


def test_reports_open_without_console_errors(fixture_html, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(_pages(fixture_html)):
        shot = tmp_path / f"{i}.png"
        console = chromium(page, shot, tmp_path / f"profile{i}")
        assert console == [], f"{page}: console messages: {console}"
        from PIL import Image

        with Image.open(shot) as im:
            assert im.size == (412, 915)
        assert ink(shot) > 2000, f"{page}: the screenshot is (almost) blank"
        shutil.copy(shot, SHOTS / f"{page.parent.parent.name}_{page.parent.name}.png")


def test_chinese_heading_drawn_with_real_glyphs(fixture_html, tmp_path):
    """Draw the report's first Chinese heading alone with the report's own CSS; compare it with
    the same number of other Chinese characters, of unassigned code points (drawn as empty
    boxes, 'tofu') and with nothing. With a CJK font all differ; without one, Chinese turns into
    the same boxes as the unassigned code points."""
    from bs4 import BeautifulSoup

    for j, page in enumerate(_pages(fixture_html)):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        css = soup.style.get_text()
        heading = next((h.get_text(strip=True) for h in soup.select("main h2, main h3") if CJK.search(h.get_text())), None)
        if heading is None:
            assert page != fixture_html, "the fixture report has Chinese headings"
            continue  # an English report (lang="en")
        text = "".join(ch for ch in heading if CJK.match(ch))[:8]
        shots = draw_variants(text, css, tmp_path / str(j))
        assert shots["zh"] != shots["empty"], f"{page}: the heading {text!r} draws nothing"
        assert shots["zh"] != shots["tofu"], f"{page}: the heading {text!r} draws as empty boxes"
        assert shots["other"] != shots["tofu"]
        assert shots["zh"] != shots["other"], f"{page}: different Chinese characters draw alike (boxes?)"


def draw_variants(text: str, css: str, folder: Path, env: dict | None = None) -> dict[str, bytes]:
    """Screenshots (grey pixels) of an h2 holding ``text``, other Chinese characters, as many
    unassigned code points (tofu) and nothing, drawn with ``css``."""
    folder.mkdir(parents=True, exist_ok=True)
    other = "".join("一二三四五六七八"[k] for k in range(len(text)))
    if other == text:
        other = "八七六五四三二一"[: len(text)]
    shots = {}
    for key, body in {"zh": text, "other": other, "tofu": "\u0378" * len(text), "empty": ""}.items():
        p = folder / f"{key}.html"
        p.write_text(f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>{css}</style>"
                     f"</head><body><h2>{body}</h2></body></html>", encoding="utf-8")
        shot = folder / f"{key}.png"
        assert chromium(p, shot, folder / f"profile-{key}", size="600,300", env=env) == []
        shots[key] = pixels(shot)
    return shots


@pytest.mark.skipif(not Path("/usr/share/fonts/truetype/dejavu").is_dir(), reason="needs the DejaVu fonts")
def test_glyph_check_fails_without_a_cjk_font(tmp_path):
    """Negative control: with fontconfig limited to DejaVu (no CJK), Chinese draws as tofu."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    shots = draw_variants("销售概况", "body{font-family:sans-serif}", tmp_path / "v", env={"FONTCONFIG_FILE": str(conf)})
    assert shots["zh"] == shots["tofu"] == shots["other"]


def test_cjk_font_installed():
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert out.strip(), "no CJK font: install fonts-wqy-microhei (scripts/sysdeps.sh fonts)"


# --------------------------------------------------------------------------- phone width

MEASURE = """
<script>
window.addEventListener('load', function () {
  var r = {vw: window.innerWidth, page: document.documentElement.scrollWidth, images: [], boxes: [], fonts: []};
  document.querySelectorAll('main img').forEach(function (im) {
    var b = im.getBoundingClientRect();
    r.images.push({natural: im.naturalWidth, shown: b.width, right: b.right, left: b.left, top: b.top,
                   pair: !!im.closest('.pair'), src: im.src.slice(0, 40)});
  });
  document.querySelectorAll('table, pre, svg').forEach(function (el) {
    var box = el.closest('.tbl') || el;
    var cs = getComputedStyle(box);
    r.boxes.push({tag: el.tagName, scroll: box.scrollWidth, client: box.clientWidth, overflow: cs.overflowX,
                  right: box.getBoundingClientRect().right});
  });
  document.querySelectorAll('.kpi-v, .kpi-l, td, th, p, li, figcaption, .spark-axis').forEach(function (el) {
    r.fonts.push(parseFloat(getComputedStyle(el).fontSize));
  });
  parent.postMessage(JSON.stringify(r), '*');
});
</script>
"""
# headless Chromium keeps its window at least 500 px wide: the page is laid out in a 360 px iframe
# (its own viewport: media queries and widths as on a phone) that posts what it measured to the frame page
FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<script>window.addEventListener('message', function (e) {
  var pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = e.data;
  document.body.appendChild(pre);
});</script>
<iframe src="SRC" style="width:WIDTHpx;height:800px;border:0"></iframe></body></html>"""


def measure_at_phone_width(page: Path, folder: Path, width: int = 360) -> dict:
    """Lay ``page`` out in Chromium at ``width`` CSS px and return what a script measured there
    (a copy of the page with its Content-Security-Policy removed, so the measuring script runs)."""
    import json
    import os

    folder.mkdir(parents=True, exist_ok=True)
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    copy = folder / page.name
    copy.write_text(text.replace("</body>", MEASURE + "</body>") if "</body>" in text else text + MEASURE,
                    encoding="utf-8")
    frame = folder / "frame.html"
    frame.write_text(FRAME.replace("SRC", copy.resolve().as_uri()).replace("WIDTH", str(width)), encoding="utf-8")
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={folder / 'profile'}", "--window-size=800,900", "--virtual-time-budget=5000",
        "--allow-file-access-from-files", "--dump-dom", frame.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    m = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"the measuring script did not run: {proc.stderr[-1500:]}"
    import html

    return json.loads(html.unescape(m.group(1)))


def test_charts_are_sharp_and_legible_and_tables_scroll_in_their_box_at_phone_width(fixture_html, tmp_path):
    """At 360 CSS px: the page never scrolls sideways, a wide table scrolls inside its own box,
    every chart fits and has at least 2 image pixels per CSS pixel, and its smallest text
    (MIN_FONT_PT, enforced by charts.fit_for_phone) comes out at 9.5 CSS px or more."""
    import base64
    import io

    from PIL import Image

    from analysis import charts

    for j, page in enumerate(_pages(fixture_html)):
        m = measure_at_phone_width(page, tmp_path / str(j))
        assert m["vw"] == 360
        assert m["page"] <= m["vw"], f"{page}: the page scrolls sideways ({m['page']} px wide)"
        for box in m["boxes"]:
            assert box["right"] <= m["vw"] + 0.5, f"{page}: a {box['tag']} sticks out of the page: {box}"
            if box["scroll"] > box["client"] + 1:
                assert box["overflow"] in ("auto", "scroll"), f"{page}: a wide {box['tag']} does not scroll: {box}"
        soup_imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page.read_text(encoding="utf-8"))
        assert len(soup_imgs) == len(m["images"])
        if page == fixture_html:
            assert m["images"], "the fixture report has a chart"
        for im, b64 in zip(m["images"], soup_imgs):
            assert im["right"] <= m["vw"] + 0.5, f"{page}: a chart sticks out: {im}"
            density = im["natural"] / im["shown"]
            assert density >= 1.95, f"{page}: a chart has {density:.2f} image px per CSS px at phone width"
            with Image.open(io.BytesIO(base64.b64decode(b64))) as png:
                dpi = png.info["dpi"][0]
            smallest = charts.MIN_FONT_PT * dpi / 72 / density
            assert smallest >= 9.5, f"{page}: the smallest chart text is {smallest:.1f} CSS px at phone width"
        assert min(m["fonts"]) >= 11, f"{page}: text of {min(m['fonts'])} px"
        pairs = [im for im in m["images"] if im["pair"]]
        for a, b in zip(pairs[::2], pairs[1::2]):  # on a phone the two of a pair stack
            assert b["top"] > a["top"] + 10, f"{page}: a pair is not one under the other at phone width: {a}, {b}"


def test_at_desktop_width_charts_take_the_text_width_and_the_page_has_one_title(fixture_html, tmp_path):
    """At 1280 CSS px: the page does not scroll sideways, every chart is as wide as the text
    (main's width, at most 960 px) except the two of a pair, which sit side by side, each half
    of it, and the page shows its title once. The screenshot is kept in build/screenshots/ for a look."""
    for j, page in enumerate(_pages(fixture_html)):
        m = measure_at_phone_width(page, tmp_path / f"d{j}", width=1280)
        assert m["vw"] == 1280 and m["page"] <= m["vw"], f"{page}: the page scrolls sideways at 1280 px"
        text_width = min(960, m["vw"] - 28)
        for im in m["images"]:
            if im["pair"]:
                assert 0.45 * text_width <= im["shown"] <= 0.5 * text_width, \
                    f"{page}: a chart of a pair is {im['shown']:.0f} px of {text_width} at 1280 px"
            else:
                assert im["shown"] >= 0.95 * text_width, f"{page}: a chart is {im['shown']:.0f} px of {text_width} at 1280 px"
        pairs = [im for im in m["images"] if im["pair"]]
        for a, b in zip(pairs[::2], pairs[1::2]):
            assert abs(a["top"] - b["top"]) < 1 and b["left"] > a["right"] - 1, f"{page}: a pair is not side by side: {a}, {b}"
        if page == fixture_html:
            assert len(pairs) == 2, "the fixture report has a pair of charts"
        assert page.read_text(encoding="utf-8").count("<h1") == 1, f"{page}: more than one title"
    SHOTS.mkdir(parents=True, exist_ok=True)
    chromium(fixture_html, SHOTS / "fixture-1280.png", tmp_path / "profile", size="1280,1400")


def test_wide_table_scrolls_in_its_box_detector_can_fail(tmp_path):
    """Negative control: a wide table outside a scrolling box makes the page scroll sideways."""
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>column number {i}</td>" for i in range(30))
    page.write_text(f"<!DOCTYPE html><meta charset='utf-8'><main><table><tr>{cells}</tr></table></main>",
                    encoding="utf-8")
    m = measure_at_phone_width(page, tmp_path / "m")
    assert m["page"] > m["vw"]


def test_index_reads_at_phone_width(fixture_html, tmp_path):
    """The index of real runs (the fixture's) plus a trends history: headline cards, links and
    the history chart fit a 360 px screen, without console errors."""
    import json
    import shutil as sh

    from analysis import reports

    out = tmp_path / "out"
    sh.copytree(fixture_html.parents[2], out)
    for i, (month, amount) in enumerate([("2026-08", 9.0e6), ("2026-09", 1.1e7), ("2026-10", 12345678.0)]):
        d = out / "sales_trends" / month
        d.mkdir(parents=True)
        (d / "metrics.json").write_text(json.dumps({
            "report": "sales_trends", "period": month, "total_amount": amount, "attainment": 0.953,
            "time_elapsed": 1.0, "yoy": -0.032, "generated_at": f"2026-11-0{i + 1}T08:00:00"}), encoding="utf-8")
        (d / "sales_trends.html").write_text("<p>x</p>", encoding="utf-8")
        (d / "sales_trends.xlsx").write_bytes(b"x")
    index = reports.write_index(out)
    assert chromium(index, tmp_path / "index.png", tmp_path / "profile", size="360,800") == []
    assert ink(tmp_path / "index.png") > 2000
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "index.png", SHOTS / "index_phone.png")
    m = measure_at_phone_width(index, tmp_path / "m")
    assert m["page"] <= m["vw"]
    svgs = [b for b in m["boxes"] if b["tag"].lower() == "svg"]
    assert svgs and all(b["right"] <= m["vw"] and b["client"] >= 200 for b in svgs)
    assert min(m["fonts"]) >= 11


# --------------------------------------------------------------------------- PDF


def test_pdf_has_its_pages_and_extractable_chinese(fixture_html):
    from pypdf import PdfReader

    pdf = fixture_html.with_suffix(".pdf")
    assert pdf.exists()
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4, in points
    text = "".join(p.extract_text() for p in reader.pages)
    for words in ("销售概况", "区域明细", "趋势图", "1,234,567", "95.3%"):
        assert words in text.replace("\n", ""), words
    assert "<script>alert(1)</script>" in text and "&lt;" not in text  # the data string, as text


def test_pdf_without_chromium_is_one_line(tmp_path, monkeypatch):
    from analysis.reports import pdf

    monkeypatch.setenv(pdf.ENV_VAR, str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pdf.find_chromium() is None
    why = pdf.write_pdf(tmp_path / "a.html", tmp_path / "a.pdf")
    assert why == pdf.NOT_FOUND and "\n" not in why and not (tmp_path / "a.pdf").exists()

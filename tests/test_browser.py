"""Open the HTML reports in headless Chromium (no network): no console errors, a phone-width
screenshot, and Chinese headings drawn with real glyphs (not empty boxes).

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
        res = reports.run_report("fixture_report", [], out=tmp_path_factory.mktemp("out"), progress=False)
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

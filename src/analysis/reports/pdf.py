"""A PDF of a report page, printed by headless Chromium (``--pdf``).

Managers forward reports in chat apps, where PDF is the norm. Chromium draws the page exactly as a
browser does (Chinese fonts, inline charts) and embeds the fonts with their text, so the PDF's
Chinese stays searchable and copyable. Without Chromium the run still succeeds and says so in one line.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ENV_VAR = "SALES_ANALYSIS_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
NOT_FOUND = (
    "PDF not written: headless Chromium was not found (install chromium, or set "
    f"{ENV_VAR} to its path)"
)


def find_chromium() -> str | None:
    """The Chromium executable: ``$SALES_ANALYSIS_CHROMIUM``, else the first of
    :data:`CANDIDATES` on the PATH, else None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def write_pdf(html_path: Path, pdf_path: Path, chromium: str | None = None, timeout: int = 120) -> str | None:
    """Print ``html_path`` to ``pdf_path`` (A4, backgrounds, no header or footer, no network).

    Returns
    -------
    str or None
        None when the PDF was written, else one line saying why not.
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        return NOT_FOUND
    profile = tempfile.mkdtemp(prefix="sa-chromium-")
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}", "--no-pdf-header-footer", "--print-to-pdf-no-header",
        "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000",
        f"--print-to-pdf={pdf_path}", Path(html_path).resolve().as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"PDF not written: Chromium failed ({type(exc).__name__})"
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        return f"PDF not written: Chromium exited {proc.returncode} without a file"
    return None

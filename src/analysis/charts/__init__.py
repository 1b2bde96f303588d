"""Charts (seaborn/matplotlib). Charts take small frames; they never run queries.

``setup()`` picks a CJK-capable font so Chinese labels draw as Chinese, fixes the
style, and silences known third-party deprecation warnings so notebooks' stderr stays
clean (nbval compares it).
"""
from __future__ import annotations

import warnings

CJK_FONTS = [
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC",
]


def cjk_font() -> str | None:
    """Name of an installed CJK font, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for n in CJK_FONTS:
        if n in names:
            return n
    # matplotlib's font cache may predate the CJK font's installation (fonts installed after the
    # first matplotlib import): register the system's CJK font files, then look again.
    for path in font_manager.findSystemFonts():
        if any(k in path.lower() for k in ("wqy", "wenquanyi", "notosanscjk", "noto-cjk", "sourcehansans", "simhei", "msyh")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable file: skip it
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    for n in CJK_FONTS:
        if n in names:
            return n
    return None


def setup() -> str | None:
    """Configure matplotlib/seaborn for reports; returns the CJK font used (or None)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"seaborn.*")
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=r"seaborn.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"seaborn.*")
    import matplotlib

    matplotlib.use("agg") if not _in_notebook() else None
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
        plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = 80
    plt.rcParams["savefig.dpi"] = 80
    plt.rcParams["figure.figsize"] = (8, 4)
    plt.rcParams["svg.hashsalt"] = "sales-analysis"
    return font


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and "IPKernelApp" in ip.config
    except Exception:  # noqa: BLE001
        return False

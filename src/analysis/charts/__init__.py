"""Charts (matplotlib). Charts take small frames; they never run queries.

``setup()`` picks a CJK-capable font so Chinese labels draw as Chinese and fixes the
style and sizes, so every report's charts look alike.

Charts are made for a phone first: managers read reports on a 360 px wide screen. A figure is
:data:`PHONE_WIDTH_IN` inches wide and shown at :data:`CSS_PX_PER_INCH` CSS pixels per inch
(so at most 360 CSS px), its smallest text is :data:`MIN_FONT_PT` points (about 10 CSS px on
the phone), and it is rendered at :data:`DENSITY` times that resolution so it stays sharp on
high-density screens. :func:`fit_for_phone` (called by ``analysis.display.figure``) brings a
figure drawn larger into that frame.
"""
from __future__ import annotations

import warnings
from typing import Any

PHONE_WIDTH_IN = 5.0
"""Default figure width, inches (= 360 CSS px at :data:`CSS_PX_PER_INCH`)."""
MAX_WIDTH_IN = 5.2
"""Widest image shown, inches (374 CSS px); wider figures are scaled down to this by
:func:`fit_for_phone` and :func:`render_png`. A 360 px phone leaves a report's content about
340 px, so the 11 pt floor still shows at 10 CSS px there."""
CSS_PX_PER_INCH = 72
"""CSS pixels per figure inch (1 CSS px per point: a 11 pt label is 11 px at natural size)."""
DENSITY = 2
"""Image pixels per CSS pixel (2×: sharp on high-density phone screens)."""
MIN_FONT_PT = 11.0
"""Smallest text in a chart, points (≈ 10 CSS px when a 5-inch chart fills a 360 px phone)."""
FONT_SIZES = {
    "font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 11,
    "ytick.labelsize": 11, "legend.fontsize": 11, "legend.title_fontsize": 11, "figure.titlesize": 13,
}

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
    """Configure matplotlib for reports; returns the CJK font used (or None).

    The look is matplotlib's own copy of the seaborn "whitegrid" style sheet (seaborn itself is not
    needed for it)."""
    import matplotlib

    matplotlib.use("agg") if not _in_notebook() else None
    import matplotlib.pyplot as plt
    plt.style.use("seaborn-v0_8-whitegrid")
    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
        plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = CSS_PX_PER_INCH
    plt.rcParams["savefig.dpi"] = CSS_PX_PER_INCH * DENSITY
    plt.rcParams["figure.figsize"] = (PHONE_WIDTH_IN, PHONE_WIDTH_IN * 0.62)
    plt.rcParams.update(FONT_SIZES)
    plt.rcParams["svg.hashsalt"] = "sales-analysis"
    return font


def fit_for_phone(fig: Any) -> Any:
    """Bring ``fig`` into the phone frame, in place: at most :data:`MAX_WIDTH_IN` wide (scaled
    down keeping its shape), no text smaller than :data:`MIN_FONT_PT`, layout redone.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(10, 4)); _ = ax.set_title("t", fontsize=6)
    >>> fit_for_phone(fig).get_size_inches().tolist(), ax.title.get_fontsize()
    ([5.2, 2.08], 11.0)
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    w, h = fig.get_size_inches()
    if w > MAX_WIDTH_IN:
        fig.set_size_inches(MAX_WIDTH_IN, h * MAX_WIDTH_IN / w)
    for ax in fig.axes:  # tick labels are re-made at each draw from the axis' tick parameters
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = [t for t in axis.get_ticklabels(which="both") if t.get_text()] or axis.get_ticklabels()
            if labels and min(t.get_fontsize() for t in labels) < MIN_FONT_PT:
                ax.tick_params(axis=name, which="both", labelsize=MIN_FONT_PT)
    for t in fig.findobj(Text):
        if t.get_text() and t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
    engine = fig.get_layout_engine()
    if engine is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "tight_layout not applied": the figure stays as drawn
            try:
                fig.tight_layout()
            except (ValueError, RuntimeError):
                pass
    return fig


def axis_label(key: str, kind: str, lang: str) -> str:
    """The label of a value axis with its unit, as a table header writes it: ``金额（万元）``,
    ``销量（条）``, ``销量（箱）``, ``Amount (10k yuan)`` (``kind``: ``money`` (shown in 万元),
    ``qty``, ``qty_case``, ``qty_pack``, ``qty_mixed``, or any kind without a unit).

    Examples
    --------
    >>> axis_label("column.amount", "money", "zh"), axis_label("column.qty", "qty_case", "zh")
    ('金额（万元）', '销量（箱）')
    """
    from ..i18n import header_label, table_unit

    kind = "money_wan" if kind == "money" else kind
    return header_label(key, kind, lang, table_unit(kind, (), lang))


def value_axis(axis: Any, key: str, kind: str, lang: str) -> None:
    """Label a matplotlib axis (``ax.yaxis``, ``ax.xaxis``) of values of ``kind`` with its unit
    (:func:`axis_label`) and write its ticks in that unit (amounts in 万元, whole numbers)."""
    from matplotlib.ticker import FuncFormatter

    from ..i18n import excel_format

    scale = excel_format("money_wan", lang)[1] if kind in ("money", "money_wan") else 1.0
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / scale:,.0f}"))
    axis.set_label_text(axis_label(key, kind, lang))


def render_png(fig: Any) -> tuple[bytes, int, int]:
    """``fig`` as PNG bytes at :data:`DENSITY` × its display size.

    Returns
    -------
    (bytes, int, int)
        The PNG and its display width and height in CSS pixels (image pixels ÷ DENSITY).
    """
    import io
    import struct

    def draw() -> tuple[bytes, int, int]:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=CSS_PX_PER_INCH * DENSITY, bbox_inches="tight", pad_inches=0.08,
                    metadata={"Software": None})
        data = buf.getvalue()
        w, h = struct.unpack(">II", data[16:24])  # the PNG's IHDR chunk
        return data, round(w / DENSITY), round(h / DENSITY)

    data, w, h = draw()
    # The tight box also holds what sticks out of the figure (a table under the axes, a legend
    # beside them), so the image can be wider than the figure. Text keeps its size in points while
    # the figure narrows: take the excess off the figure's width until the image fits the frame
    # (else the browser scales the whole image, text included, below the smallest size).
    limit = MAX_WIDTH_IN * CSS_PX_PER_INCH
    for _ in range(4):
        if w <= limit + 1:
            break
        fw, fh = fig.get_size_inches()
        new_w = max(fw - (w - limit) / CSS_PX_PER_INCH, fw * 0.5)
        fig.set_size_inches(new_w, fh)
        data, w, h = draw()
    return data, w, h


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and "IPKernelApp" in ip.config
    except Exception:  # noqa: BLE001
        return False

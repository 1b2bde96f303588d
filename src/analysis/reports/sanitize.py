"""Allow-list HTML sanitiser for what a report notebook displayed.

Report pages are forwarded to people who never saw the notebook, so an exported page keeps only
harmless elements and attributes: no scripts, event handlers, styles, frames or remote URLs;
images only as inline data URIs; links only to anchors in the page or http(s)/mailto.
"""
from __future__ import annotations

import re

_DROP_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
    "base", "form", "input", "button", "textarea", "select", "option", "svg", "math", "template",
    "noscript", "audio", "video", "source", "track", "canvas", "portal", "title", "head",
}
_KEEP_TAGS = {
    "div", "span", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt",
    "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col", "img",
    "pre", "code", "b", "strong", "i", "em", "small", "sub", "sup", "a", "blockquote", "figure",
    "figcaption", "section", "abbr", "del", "ins", "s", "u", "mark", "kbd", "samp", "var", "q", "cite",
}
_KEEP_ATTRS = {"class", "id", "title", "alt", "colspan", "rowspan", "width", "height", "align", "scope", "start"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


def sanitize_html(fragment: str) -> str:
    """Allow-list sanitiser for exported outputs: no scripts, handlers, styles or remote URLs.

    Dangerous elements are removed with their content; unknown elements are unwrapped (their
    text kept, escaped); only harmless attributes stay; images only as inline data URIs; links
    only to anchors in the page or http(s)/mailto.

    Examples
    --------
    >>> sanitize_html('<p onclick="x()">a<script>alert(1)</script></p><img src="http://e/x.png">')
    '<p>a</p><img/>'
    """
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(fragment, "html.parser")
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for tag in list(soup.find_all(True)):
        if getattr(tag, "decomposed", False):  # inside an element already removed
            continue
        name = (tag.name or "").lower()
        if name in _DROP_TAGS:
            tag.decompose()
            continue
        if name not in _KEEP_TAGS:
            tag.unwrap()
            continue
        attrs = {}
        for k, v in list(tag.attrs.items()):
            k_l = k.lower()
            val = " ".join(v) if isinstance(v, list) else str(v)
            if k_l in _KEEP_ATTRS:
                attrs[k] = v
            elif k_l == "src" and name == "img" and _DATA_IMAGE.match(val.strip()):
                attrs[k] = val.strip()
            elif k_l == "href" and name == "a" and re.match(r"^(#|https?://|mailto:)", val.strip(), re.I):
                attrs[k] = val.strip()
        tag.attrs = attrs
    return str(soup)

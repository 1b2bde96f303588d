"""Themes of Chinese free-text comments: segmentation (jieba), stopwords, top terms, examples.

Pure functions on lists of strings. The returned strings are data: show them only through
``analysis.display`` (which escapes them).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import pandas as pd

from ..errors import ParameterError

# Function words and fillers that carry no opinion; single characters are dropped anyway.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 是 在 和 也 还 就 都 有 很 挺 太 比较 非常 特别 一点 一些 有点 有些 感觉 觉得 我 我们 你 他 她 它
    这 那 这个 那个 这款 那款 一个 个 吧 啊 呢 吗 嘛 哦 呀 么 没 没有 不 不是 但是 可是 而且 然后 因为
    所以 如果 就是 还是 还有 总体 整体 总的来说 来说 东西 一般 可以 应该 真的 确实 一直 现在 之前 以后
    什么 怎么 这样 那样 自己 大家 而 与 及 或 对 把 被 让 给 从 到 又 再 才 只 更 最 已经 这次 这种
    烟 香烟 卷烟 抽 抽起来 起来
    """.split()
)

# The themes consumers talk about (the department's own headings) and the words that signal them.
# A comment mentions a theme when one of its segmented words *is* a signal word (see
# :func:`theme_words`), never because a signal character occurs inside another word:
# "香烟" is not 香, "灰色" is not 灰, "冲动" is not 冲.
THEMES: dict[str, tuple[str, ...]] = {
    "口感": ("口感", "顺滑", "柔和", "刺激", "呛", "呛人", "干燥", "醇和", "细腻", "杂气", "回甜", "余味", "刺喉"),
    "香气": ("香气", "香味", "烟香", "清香", "浓香", "香浓", "香醇", "醇香", "香", "很香", "好香"),
    "劲头": ("劲头", "劲", "劲儿", "劲大", "劲足", "冲劲", "冲", "很冲", "太冲", "偏淡", "太淡", "偏重", "淡"),
    "包装": ("包装", "盒", "盒子", "烟盒", "外观", "设计", "颜色"),
    "价格": ("价格", "价钱", "贵", "太贵", "偏贵", "很贵", "便宜", "性价比", "实惠", "价位"),
    "烟灰": ("烟灰", "灰", "燃烧", "包灰", "掉灰"),
}

_TOKEN_OK = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]*$")


@lru_cache(maxsize=1)
def _jieba():
    """Import and initialise jieba once, quietly (its start-up messages go to stderr)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=4)
def _theme_segmenter(vocab: tuple[str, ...]):
    """A private jieba tokenizer (the default dictionary) that keeps every word of ``vocab`` whole.

    Each multi-character word is added with jieba's suggested frequency, the least that makes
    the whole word win over its own pieces; the shared ``jieba`` tokenizer is left untouched.
    """
    jieba = _jieba()
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in vocab:
        if len(w) > 1:
            tk.add_word(w)
    return tk


def theme_words(text: str, vocab: Iterable[str]) -> set[str]:
    """The segmented words of ``text`` that a theme vocabulary can match.

    The comment is cut by a dictionary-only jieba segmentation (no HMM guessing of new
    words) in which every word of ``vocab`` is kept whole. Dictionary phrases of four or more
    characters (成语 and set phrases such as 价格便宜, 冲劲十足) also contribute their 2- and
    3-character dictionary sub-words, as jieba's search mode gives them; shorter words are
    never split, so 香烟, 灰色, 冲动 and 烟灰色 stay what they are.

    Examples
    --------
    >>> sorted(theme_words("这款香烟包装很好看", ["香", "包装"]))
    ['包装', '好看', '很', '款', '这', '香烟']
    """
    tk = _theme_segmenter(tuple(sorted(set(vocab))))
    out: set[str] = set()
    for w in tk.lcut(str(text), HMM=False):
        w = w.strip()
        if not w:
            continue
        out.add(w)
        if len(w) >= 4:
            out.update(s for s in tk.lcut_for_search(w, HMM=False) if 2 <= len(s) < len(w))
    return out


def tokens(text: str, stopwords: Iterable[str] = STOPWORDS) -> list[str]:
    """Segment one comment; keep words of ≥ 2 characters that are not stopwords or punctuation.

    Examples
    --------
    >>> tokens("口感顺滑，包装很好看")
    ['口感', '顺滑', '包装', '好看']
    """
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else set(stopwords)
    out = []
    for w in _jieba().lcut(str(text)):
        w = w.strip()
        if len(w) >= 2 and w not in stop and _TOKEN_OK.match(w):
            out.append(w)
    return out


def top_terms(texts: Sequence[str], n: int = 10, stopwords: Iterable[str] = STOPWORDS) -> pd.DataFrame:
    """The ``n`` terms used by most comments (each comment counted once per term).

    Columns ``term``, ``comments`` (how many comments use it) and ``share`` (of all
    comments). Ties are broken by the term, so the order is deterministic.

    Examples
    --------
    >>> top_terms(["口感顺滑", "口感一般", "包装好看"], 2)["term"].tolist()
    ['口感', '包装']
    """
    if n < 1:
        raise ParameterError(f"The 'n' parameter of top_terms must be ≥ 1. Got {n!r} instead.")
    stop = frozenset(stopwords)
    counts: dict[str, int] = {}
    for t in texts:
        for w in set(tokens(t, stop)):
            counts[w] = counts.get(w, 0) + 1
    df = pd.DataFrame(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n], columns=["term", "comments"])
    df["share"] = df["comments"] / len(texts) if len(texts) else float("nan")
    return df


def theme_shares(texts: Sequence[str], themes: dict[str, Sequence[str]] = THEMES) -> pd.DataFrame:
    """Share of comments that mention each theme: one of its signal words is a word of the comment.

    Words come from :func:`theme_words` (jieba segmentation that keeps the vocabulary whole),
    so a signal word inside a longer word does not count ("这款香烟包装很好看" is about
    packaging, not 香气). Each comment counts once per theme.

    Examples
    --------
    >>> int(theme_shares(["价格实惠", "包装好看"]).set_index("theme").loc["价格", "comments"])
    1
    """
    vocab = [w for words in themes.values() for w in words]
    segmented = [theme_words(t, vocab) for t in texts]
    rows = []
    for theme, words in themes.items():
        signal = set(words)
        k = sum(1 for ws in segmented if ws & signal)
        rows.append({"theme": theme, "comments": k, "share": k / len(texts) if len(texts) else float("nan")})
    return pd.DataFrame(rows).sort_values(["comments", "theme"], ascending=[False, True]).reset_index(drop=True)


def representative(texts: Sequence[str], terms: Sequence[str], k: int = 3, max_len: int = 40) -> pd.DataFrame:
    """One short comment for each of the first ``k`` terms: the shortest that uses it (as a word).

    Comments are distinct; ties go to the lexicographically first; long ones are cut to
    ``max_len`` characters with "…". Columns ``term``, ``comment``.

    Examples
    --------
    >>> representative(["口感很顺滑不错", "口感好"], ["口感"], 1)["comment"].tolist()
    ['口感好']
    """
    uniq = sorted({str(t).strip() for t in texts if str(t).strip()}, key=lambda s: (len(s), s))
    words = {c: set(tokens(c)) for c in uniq}
    used: set[str] = set()
    rows = []
    for term in terms:
        if len(rows) >= k:
            break
        for c in uniq:
            if term in words[c] and c not in used and len(c) >= 2:
                used.add(c)
                rows.append({"term": term, "comment": c if len(c) <= max_len else c[: max_len - 1] + "…"})
                break
    return pd.DataFrame(rows, columns=["term", "comment"])


@dataclass
class Themes:
    """Themes of a set of comments."""

    n_comments: int = 0
    terms: pd.DataFrame = field(default_factory=pd.DataFrame)
    themes: pd.DataFrame = field(default_factory=pd.DataFrame)
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)


def themes(texts: Sequence[str], n_terms: int = 10, n_examples: int = 3) -> Themes:
    """Top terms, theme shares and short representative comments.

    Examples
    --------
    >>> th = themes(["口感顺滑", "口感一般", "包装好看"])
    >>> th.terms["term"].iloc[0], th.n_comments
    ('口感', 3)
    """
    texts = [str(t) for t in texts if t is not None and str(t).strip()]
    if not texts:
        return Themes()
    terms = top_terms(texts, n_terms)
    return Themes(
        n_comments=len(texts), terms=terms, themes=theme_shares(texts),
        examples=representative(texts, list(terms["term"]), n_examples),
    )

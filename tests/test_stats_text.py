"""analysis.stats.text: segmentation, top terms and examples by hand; jieba stays quiet."""
from __future__ import annotations

import subprocess
import sys

import pytest

from analysis.errors import ParameterError
from analysis.stats import text

COMMENTS = ["口感顺滑，包装好看", "口感偏淡", "价格实惠，口感不错", "包装一般", "价格有点贵", "<script>alert(1)</script>"]


def test_tokens_drop_stopwords_and_punctuation():
    assert text.tokens("口感顺滑，包装很好看") == ["口感", "顺滑", "包装", "好看"]
    assert text.tokens("的了，。！") == []


def test_top_terms_by_hand():
    t = text.top_terms(COMMENTS, 3)
    # 口感 in 3 comments, 价格 and 包装 in 2 each (tie broken by the term)
    assert t["term"].tolist() == ["口感", "价格", "包装"]
    assert t["comments"].tolist() == [3, 2, 2]
    assert t["share"].iloc[0] == pytest.approx(3 / 6)
    # a comment using a word twice counts once
    assert text.top_terms(["口感口感", "口感"], 1)["comments"].iloc[0] == 2
    with pytest.raises(ParameterError):
        text.top_terms(COMMENTS, 0)


def test_representative_is_shortest_distinct_and_cut():
    r = text.representative(COMMENTS, ["口感", "价格"], 2)
    assert r["comment"].tolist() == ["口感偏淡", "价格有点贵"]
    long = ["口感" + "好" * 60]
    assert text.representative(long, ["口感"], 1, max_len=10)["comment"].iloc[0] == "口感" + "好" * 7 + "…"


def test_theme_shares_and_themes():
    th = text.themes(COMMENTS, n_terms=5, n_examples=2)
    assert th.n_comments == 6
    shares = th.themes.set_index("theme")["comments"]
    assert shares["口感"] == 3 and shares["包装"] == 2 and shares["价格"] == 2
    assert len(th.examples) == 2
    assert text.themes([]).n_comments == 0 and text.themes(["", None]).terms.empty


def test_jieba_prints_nothing_on_stderr():
    code = "from analysis.stats import text; print(text.tokens('口感顺滑'))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stderr == "" and "口感" in p.stdout

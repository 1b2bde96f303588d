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


# --------------------------------------------------------------------------- themes on segmented words


def _themes_of(comment: str) -> list[str]:
    sh = text.theme_shares([comment])
    return sorted(sh.loc[sh["comments"] > 0, "theme"])


@pytest.mark.parametrize("comment, expected", [
    # a signal character inside another word is not the theme
    ("这款香烟包装很好看", ["包装"]),      # 香烟 is not 香 (香气)
    ("灰色的烟盒", ["包装"]),              # 灰色 is not 灰 (烟灰)
    ("冲动消费", []),                      # 冲动 is not 冲 (劲头)
    ("烟灰色的盒子", ["包装"]),            # the colour, not the ash
    ("香烟不错", []),
    # the signal words themselves, alone or inside a set phrase
    ("劲头偏淡", ["劲头"]),
    ("烟很香", ["香气"]),
    ("太贵了", ["价格"]),
    ("价格便宜", ["价格"]),                # one dictionary word, split into 价格 + 便宜
    ("冲劲十足", ["劲头"]),
    ("不掉灰，燃烧均匀", ["烟灰"]),
    ("烟灰很白", ["烟灰"]),
    ("口感顺滑，包装好看，价格实惠", ["价格", "包装", "口感"]),
])
def test_theme_shares_match_whole_words_not_substrings(comment, expected):
    assert _themes_of(comment) == expected


def test_the_old_substring_rule_would_have_matched_these():
    # the examples above are real traps: each theme's signal character is in the comment
    for comment, theme in (("这款香烟包装很好看", "香气"), ("灰色的烟盒", "烟灰"), ("冲动消费", "劲头")):
        assert any(w in comment for w in text.THEMES[theme])
        assert theme not in _themes_of(comment)


@pytest.mark.parametrize("theme, word", [(th, w) for th, ws in text.THEMES.items() for w in ws])
@pytest.mark.parametrize("context", ["{}", "我觉得{}。", "总之，{}，下次再买"])
def test_every_vocabulary_word_is_segmented_whole(theme, word, context):
    assert theme in _themes_of(context.format(word))


def test_theme_counts_by_hand_and_each_comment_once():
    comments = ["很香，香味浓", "包装好看，盒子也好", "这款香烟包装很好看", "灰色的烟盒", "太贵", "冲动消费"]
    sh = text.theme_shares(comments).set_index("theme")
    # 香气: comment 1 only (twice in it, counted once); 包装: comments 2, 3, 4; 价格: 5; 烟灰, 劲头: none
    assert sh.loc["香气", "comments"] == 1
    assert sh.loc["包装", "comments"] == 3
    assert sh.loc["价格", "comments"] == 1
    assert sh.loc["烟灰", "comments"] == 0 and sh.loc["劲头", "comments"] == 0
    assert sh.loc["包装", "share"] == pytest.approx(3 / 6)
    assert text.theme_shares([])["share"].isna().all()


def test_custom_theme_vocabulary_is_kept_whole_and_shared_jieba_untouched():
    import jieba

    # 劲足 and 好香 are not in jieba's dictionary: the theme segmenter adds them to its own copy only
    before = {w: jieba.dt.FREQ.get(w) for w in ("劲足", "好香")}
    assert _themes_of("劲足") == ["劲头"]
    assert {w: jieba.dt.FREQ.get(w) for w in ("劲足", "好香")} == before
    custom = {"服务": ("送货", "服务态度")}
    sh = text.theme_shares(["送货及时，服务态度好", "送货上门"], custom)
    assert sh.loc[0, "comments"] == 2


def test_representative_matches_words_not_substrings():
    # 烟灰 is inside the shorter comment's 烟灰缸 (an ashtray), a word of the longer one only
    r = text.representative(["烟灰缸", "烟灰很白"], ["烟灰"], 1)
    assert r["comment"].tolist() == ["烟灰很白"]

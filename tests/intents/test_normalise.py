"""Normalisation: forms folded, quoted replies, mentions and placeholders separated."""

from intents.lexicon import lexicon
from intents.normalise import fold, normalise, split_clauses
from intents.numerals import to_int

QUOTE = "「王阿姨：3栋电梯又坏了」\n- - - - - - - - - - - - - - -\n"


def test_full_width_traditional_and_typos_are_folded() -> None:
    assert fold("３號樓電悌壞了！", lexicon()) == "3号楼电梯坏了!"
    assert fold("包棕子保名", lexicon()) == "包粽子报名"


def test_quoted_part_of_a_reply_is_not_the_body() -> None:
    msg = normalise(QUOTE + "收到，我去看看", lexicon())
    assert msg.quoted
    assert "电梯" not in msg.body
    assert msg.body == "收到,我去看看"


def test_quote_at_the_start_without_a_dashed_line() -> None:
    msg = normalise("「李姐：今天停水吗」我也想知道", lexicon())
    assert msg.quoted and msg.body == "我也想知道"


def test_mentions_and_placeholders_are_taken_out() -> None:
    msg = normalise("@小邻\u2005@3栋楼栋长-陈姐 门禁坏了[捂脸][图片]", lexicon())
    assert msg.mentions == ("小邻", "3栋楼栋长-陈姐")
    assert msg.placeholders == ("捂脸", "图片")
    assert msg.body == "门禁坏了"


def test_clauses_know_their_questions() -> None:
    clauses = split_clauses("电梯坏了?物业管不管,好几天了")
    assert [(c.text, c.question) for c in clauses] == [
        ("电梯坏了", True),
        ("物业管不管", True),
        ("好几天了", False),
    ]


def test_chinese_numerals() -> None:
    assert [to_int(s) for s in ("三", "十", "十二", "二十", "二十三", "两", "12")] == [
        3,
        10,
        12,
        20,
        23,
        2,
        12,
    ]
    assert to_int("几") is None

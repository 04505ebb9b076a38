"""Hostile input: the parser's work grows with the text at most linearly, and is bounded.

No test here reads a clock: work is counted in Python line events (deterministic for a given
interpreter), and the bounds are properties of what the parser reads. `jinlin bench parse`
prints the times.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import intents
from intents import IntentKind, ParseContext, parse
from intents.lexicon import lexicon
from intents.normalise import MAX_BODY, MAX_DIGITS, MAX_RUN, MAX_TEXT, normalise

_PACKAGE = str(Path(intents.__file__).parent)
CTX = ParseContext(
    room="武夷香榭3栋业主群", sender_name="3栋402-王阿姨", activities=("冬至包饺子",)
)


def _line_events(run: Callable[[], object]) -> int:
    """How many Python lines of the intents package run while `run` does."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(_PACKAGE):
            return None
        if event == "line":
            count += 1
        return tracer

    parse("暖一下", CTX)  # lexicons and the model loaded before counting
    before = sys.gettrace()  # a coverage tool's tracer is put back afterwards
    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(before)
    return count


@pytest.mark.parametrize(
    "unit",
    [
        "\n",  # 10,000 newlines took 3 s, 51,200 took 57 s: a dashed-line pattern rescanned them
        "3栋电梯坏了，",  # many clauses: each looked through every match of the message
        "楼道灯不亮，垃圾没人清。",
        "「王姐：电梯坏了」\n",
        "1. 王阿姨 +1\n",
        "谢谢！\n",
    ],
)
def test_work_grows_linearly(unit: str) -> None:
    n = 70 // len(unit)
    small = _line_events(lambda: parse("3栋" + unit * n + "电梯坏了", CTX))
    large = _line_events(lambda: parse("3栋" + unit * (4 * n) + "电梯坏了", CTX))
    assert 4 * n * len(unit) < MAX_BODY  # still below the caps: the growth is the parser's
    assert large <= 4.5 * small, (small, large)  # quadratic work would be 16 times


def test_work_past_the_body_is_bounded() -> None:
    """Past MAX_BODY characters a message costs no more Python work, whatever it holds."""
    rng = random.Random(11)
    junk = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(4 * MAX_BODY))
    words = "3栋电梯坏了，楼道灯也不亮，" * (4 * MAX_BODY // 14)
    for text in (junk, words):
        at_cap = _line_events(lambda t=text: parse(t[:MAX_BODY], CTX))
        longer = _line_events(lambda t=text: parse(t, CTX))
        assert longer <= 1.2 * at_cap, (text[:20], at_cap, longer)


def test_runs_of_one_character_are_cut() -> None:
    """A flood of one character reads as a short run: what follows it is still read."""
    lex = lexicon()
    msg = normalise("栋" * 3000 + "电梯坏了" + "！" * 50 + "\n" * 40 + "真的", lex)
    assert msg.body == "栋" * MAX_RUN + "电梯坏了" + "!" * MAX_RUN + "\n\n真的"
    assert parse("栋" * 3000 + "电梯坏了", CTX).kind is IntentKind.REPORT_PROBLEM
    assert normalise("哈" * MAX_RUN + " " + "1" * 18, lex).body == "哈" * MAX_RUN + " " + "1" * 18


def test_dashed_line_is_one_line() -> None:
    """The quote separator is found per line: a newline flood is not a dashed line."""
    msg = normalise("「李姐：今天好冷」\n- - - - - -\n电梯坏了", lexicon())
    assert msg.quoted and msg.body == "电梯坏了"
    flood = normalise("电梯坏了" + "\n" * 5000 + "-", lexicon())
    assert not flood.quoted


@pytest.mark.parametrize(
    "text",
    [
        "电梯坏了" + "\n" * 51_200,
        "电梯坏了" + "楼" * 100_000,
        "1" * 100_000 + "元一斤",
        "１" * 50_000,
        "😀" * 50_000,
        "栋" * 40_000 + "电梯坏了",
    ],
)
def test_what_the_parser_reads_is_bounded(text: str) -> None:
    msg = normalise(text, lexicon())
    assert len(msg.full) <= MAX_TEXT
    assert len(msg.body) <= MAX_BODY
    assert all(len(run) <= MAX_DIGITS for run in re.findall(r"\d+", msg.full))
    # nothing past the cap is looked at
    assert parse(text, CTX) == parse(text[:MAX_TEXT], CTX)


def test_invisible_characters_do_not_hide_words() -> None:
    for text in ("3栋电\u200b梯坏了", "3栋\u202e电梯坏了", "3栋电梯\x00坏了", "3栋\ud800电梯坏了"):
        got = parse(text, CTX)
        assert got.kind is IntentKind.REPORT_PROBLEM, text
        assert "\ud800" not in "".join(got.explain)


# The fuzz is seeded and small enough for every run; 6,000 cases passed locally as well.
FUZZ_CASES = 300
_PIECES = [
    "电梯坏了",
    "3栋",
    "微心愿：",
    "接龙\n1. 王阿姨 +1\n2. ",
    "+1",
    "「王姐：",
    "」\n- - - - -\n",
    "@小邻\u2005",
    "[微笑]",
    "13812345678",
    "99999999999999999999",
    "9" * 5000,
    "-1",
    "１２３",
    "①②③",
    "\n" * 2000,
    "\r\n",
    "\t",
    " " * 300,
    "\u200b\u200c\u200d",
    "\u202e\u202d\u2066\u2069\u200f",
    "\x00\x01\x1b[31m\x7f",
    "\ud800",
    "\udfff\ud83d",
    "😀" * 200,
    "👨\u200d👩\u200d👧\u200d👦",
    "'; DROP TABLE cases; --",
    "<script>alert(1)</script>",
    "％ｓ{0}{}",
    "樓道著火了",
    "？？？！！！",
    "的话如果要是",
    "ﷺ㍿",
    "",
]


def _hostile(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))


def test_fuzz_never_raises_and_is_well_formed() -> None:
    rng = random.Random(20261202)
    kinds = set(IntentKind)
    for _ in range(FUZZ_CASES):
        text = _hostile(rng)
        activities = tuple(rng.sample(["冬至包饺子", "义诊", "", "接龙"], rng.randint(0, 2)))
        ctx = ParseContext(room=rng.choice([None, "3栋业主群", "\ud800"]), activities=activities)
        got = parse(text, ctx)
        assert got.kind in kinds, text
        assert 0.0 <= got.confidence <= 1.0, text
        assert got.activity is None or got.activity in activities, text
        assert got.headcount is None or 0 <= got.headcount <= 1000, text
        assert got.building is None or 0 < len(got.building) <= 8, text
        shown = "\n".join(got.explain)
        shown.encode("utf-8")  # no lone surrogate reaches a log or a JSON line
        assert len(shown) <= 4 * MAX_BODY, text

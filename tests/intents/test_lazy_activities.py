"""Open activities are asked for only when they could change a reading.

The dispatcher parses with `activities=None` first and looks the titles up (a database read)
only when the parser raises ActivitiesNeeded; these tests hold that shortcut to the same answers
as a parse that was given the titles from the start.
"""

import json
from pathlib import Path

import pytest

from intents import ActivitiesNeeded, Intent, IntentKind, ParseContext, parse

CASES = sorted(Path(__file__).parent.glob("hard_cases*.jsonl"))
TITLES = ("周六上午义诊", "28日共建日大扫除", "太极拳培训班")
SIGN_UPS = (IntentKind.JOIN_ACTIVITY, IntentKind.LEAVE_ACTIVITY)


def _rows() -> list[dict[str, object]]:
    rows = []
    for path in CASES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _context(row: dict[str, object], activities: tuple[str, ...] | None) -> ParseContext:
    return ParseContext(
        room=str(row.get("room") or ""), sender_name=str(row.get("sender") or ""),
        activities=activities,
    )  # fmt: skip


def _lazy(row: dict[str, object]) -> Intent | None:
    """The reading without titles, or None when the parser asked for them."""
    try:
        return parse(str(row["text"]), _context(row, None))
    except ActivitiesNeeded:
        return None


ROWS = _rows()


def test_a_reading_without_the_titles_is_the_reading_with_any_titles() -> None:
    for row in ROWS:
        lazy = _lazy(row)
        if lazy is None:
            continue
        own = tuple(str(t) for t in row.get("activities") or ())  # type: ignore[attr-defined]
        for titles in ((), TITLES, own):
            assert parse(str(row["text"]), _context(row, titles)) == lazy, row["id"]


def test_every_sign_up_asks_for_the_titles() -> None:
    sign_ups = [r for r in ROWS if r["expect"]["intent"] in SIGN_UPS]  # type: ignore[index]
    assert len(sign_ups) > 50
    for row in sign_ups:
        assert _lazy(row) is None, row["id"]


def test_most_messages_need_no_lookup() -> None:
    others = [r for r in ROWS if r["expect"]["intent"] not in SIGN_UPS]  # type: ignore[index]
    asked = sum(_lazy(r) is None for r in others)
    assert asked / len(others) < 0.1, f"{asked} of {len(others)} asked for the titles"


@pytest.mark.parametrize("text", ["今天天气真好", "3栋电梯坏了", "哈哈哈[微笑]", ""])
def test_chitchat_and_reports_are_read_without_titles(text: str) -> None:
    assert isinstance(parse(text, ParseContext(activities=None)), Intent)


@pytest.mark.parametrize("text", ["报名", "+1 算我一个", "我不去了", "接龙\n1. 王姐\n2. 阿东"])
def test_sign_up_words_ask_for_the_titles(text: str) -> None:
    with pytest.raises(ActivitiesNeeded):
        parse(text, ParseContext(sender_name="阿东", activities=None))

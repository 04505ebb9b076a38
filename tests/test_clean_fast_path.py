"""Text with nothing to clean is only cut: the shortcut gives what the full cleaning gives."""

from __future__ import annotations

import random

from bot.core import clean
from bot.core.clean import clean_text

ALPHABET = (
    "3栋电梯坏了ab 1234567890\n\r\t\u2028\u2029\x85\x00\x1f\x7f\u00ad\u200b\u200c\u200d"
    "\u202e\u2066\ufeff\U0001f468\ufe0f\ud800"
)


def _cleaned_in_full(text: str, limit: int) -> str:
    t = text[: limit * 4]
    t = clean._LINE_BREAKS.sub("\n", t)
    t = clean._DROP.sub("", t)
    t = clean._JOINER.sub("", t)
    t = clean._BLANK_LINES.sub("\n\n", t)
    t = clean._LONG_NUMBER.sub(r"\1", t)
    return t[:limit]


def test_the_shortcut_changes_nothing() -> None:
    rng = random.Random(14)
    texts = ["今天天气真好", "1" * 45, "1" * 40, "a\n\n\n\nb", "", "x" * 5000]
    for _ in range(3000):
        texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 60))))
        texts.append("".join(rng.choice("0123456789好") for _ in range(rng.randrange(30, 90))))
    for text in texts:
        for limit in (4000, 20):
            assert clean_text(text, limit) == _cleaned_in_full(text, limit), repr(text)

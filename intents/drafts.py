"""发布活动: title, day, time, place and capacity read from what a secretary writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import time

from intents.dates import DaySpec, find_day, find_time
from intents.numerals import CN_NUMERAL, to_int

_CAPACITY = re.compile(rf"(?:限|名额|共)?\s*(?P<n>\d+|{CN_NUMERAL}+)\s*(?:人|名|位)")
_LABEL = re.compile(r"^(活动|主题|标题|地点|时间|名额)[:：]?")
# What is read of a 发布活动 text, by design: its title, day, time, place and places come
# first and fit many times over; the date patterns cost the square of what they read (a flood
# of 十二 in 2,000 characters: 330 ms).
MAX_ACTIVITY_TEXT = 200
# As long as the database keeps them (activities.title, activities.place).
MAX_TITLE = 100
MAX_PLACE = 200


@dataclass(frozen=True, slots=True)
class ActivityText:
    """What a 发布活动 text says; the day is resolved against today by the handler."""

    words: tuple[str, ...]  # what is left once day, time and capacity are taken out
    day: DaySpec | None
    clock: time | None
    capacity: int | None

    @property
    def title(self) -> str | None:
        """The first word is the title."""
        return self.words[0][:MAX_TITLE] if self.words else None

    @property
    def place(self) -> str | None:
        """The words after the title are the place."""
        return " ".join(self.words[1:])[:MAX_PLACE] or None

    def without(self, name: str) -> ActivityText:
        """The text with a name (the compound's) taken out of its words."""
        words = (w.replace(name, "", 1) for w in self.words)
        return replace(self, words=tuple(w for w in words if w))


def read_activity_text(text: str) -> ActivityText:
    """Read title, day and time (Chinese forms), place and capacity from free text."""
    rest = text[:MAX_ACTIVITY_TEXT]
    day = find_day(rest)
    if day is not None:
        rest = _cut(rest, day.span)
    clock = find_time(rest)
    if clock is not None:
        rest = _cut(rest, clock.span)
    capacity = None
    m = _CAPACITY.search(rest)
    if m:
        capacity = to_int(m["n"])
        rest = _cut(rest, m.span())
    words = (_LABEL.sub("", w) for w in re.split(r"[\s,，;；、]+", rest) if w.strip())
    return ActivityText(
        words=tuple(w for w in words if w),
        day=day.value if day is not None else None,
        clock=clock.value if clock is not None else None,
        capacity=capacity or None,
    )


def _cut(text: str, span: tuple[int, int]) -> str:
    return text[: span[0]] + " " + text[span[1] :]

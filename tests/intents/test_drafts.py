"""发布活动 texts: read by design only as far as an activity's particulars go."""

from __future__ import annotations

from datetime import time

from intents.dates import DaySpec
from intents.drafts import MAX_ACTIVITY_TEXT, MAX_PLACE, MAX_TITLE, read_activity_text


def test_an_activity_is_read_from_its_opening() -> None:
    head = "元旦游园 12月31日下午3点 小区广场 限50人"
    read = read_activity_text(head)
    assert read.title == "元旦游园" and read.place == "小区广场" and read.capacity == 50
    assert read.clock == time(15, 0) and read.day == DaySpec(month=12, day=31)
    # A flood after it (the date patterns cost the square of what they read) changes nothing
    # that fits in the opening, and is not read.
    flood = head + " " + "十二" * 5_000
    assert read_activity_text(flood) == read_activity_text(flood[:MAX_ACTIVITY_TEXT])
    assert read_activity_text(flood).title == "元旦游园"


def test_title_and_place_fit_the_database() -> None:
    read = read_activity_text("游" * 150 + " " + "场" * 150)
    assert read.title is not None and len(read.title) == MAX_TITLE
    assert read.place is not None and len(read.place) <= MAX_PLACE

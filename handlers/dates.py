"""Reading dates and times the way people write them in Chinese, and writing them back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intents.numerals import CN_NUMERAL, to_int

WEEKDAYS = "一二三四五六日"
_NUM = rf"(?:\d{{1,4}}|{CN_NUMERAL}+)"

_ISO_DATE = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?")
_MONTH_DAY = re.compile(rf"(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]?")
_SLASH_DATE = re.compile(r"(?<![\d:：])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d:：])")
_RELATIVE = re.compile(r"今天|明天|后天|大后天")
_WEEKDAY = re.compile(r"(?P<next>下个?)?(?:周|星期|礼拜)(?P<w>[一二三四五六日天])")
_CLOCK = re.compile(r"(?P<part>上午|早上|中午|下午|晚上)?\s*(?P<h>\d{1,2})[:：](?P<mi>\d{2})")
_POINT = re.compile(
    rf"(?P<part>上午|早上|中午|下午|晚上)?\s*(?P<h>{_NUM})\s*点\s*(?P<half>半|(?P<mi>{_NUM})\s*分?)?"
)
_RELATIVE_DAYS = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}


@dataclass(frozen=True, slots=True)
class Found:
    """A value read from a text and the span it came from."""

    value: object
    span: tuple[int, int]


def find_date(text: str, today: date) -> Found | None:
    """The first date in the text: 2026-12-21, 12月21日, 十二月二十一号, 12/21, 明天, 下周六."""
    m = _ISO_DATE.search(text)
    if m:
        return _date_or_none(int(m["y"]), int(m["m"]), int(m["d"]), m.span())
    m = _MONTH_DAY.search(text)
    if m:
        month, day = to_int(m["m"]), to_int(m["d"])
        if month is not None and day is not None:
            return _upcoming(today, month, day, m.span())
    m = _SLASH_DATE.search(text)
    if m:
        return _upcoming(today, int(m["m"]), int(m["d"]), m.span())
    m = _RELATIVE.search(text)
    if m:
        return Found(today + timedelta(days=_RELATIVE_DAYS[m[0]]), m.span())
    m = _WEEKDAY.search(text)
    if m:
        weekday = 6 if m["w"] in "日天" else WEEKDAYS.index(m["w"])
        ahead = (weekday - today.weekday()) % 7
        if m["next"]:
            ahead = 7 - today.weekday() + weekday
        return Found(today + timedelta(days=ahead), m.span())
    return None


def find_time(text: str) -> Found | None:
    """The first time of day: 15:00, 下午3点, 三点半, 晚上7点30分."""
    m = _CLOCK.search(text)
    hour: int | None
    minute: int | None
    if m:
        hour, minute = int(m["h"]), int(m["mi"])
    else:
        m = _POINT.search(text)
        if not m:
            return None
        hour = to_int(m["h"])
        minute = 30 if m["half"] == "半" else (to_int(m["mi"]) if m["mi"] else 0)
    if hour is None or minute is None:
        return None
    if m["part"] in ("下午", "晚上") and hour < 12:
        hour += 12
    if m["part"] == "中午" and hour < 6:
        hour += 12
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return Found(time(hour, minute), m.span())


def _date_or_none(y: int, m: int, d: int, span: tuple[int, int]) -> Found | None:
    try:
        return Found(date(y, m, d), span)
    except ValueError:
        return None


def _upcoming(today: date, month: int, day: int, span: tuple[int, int]) -> Found | None:
    # A month and day without a year means the next such day (December in November: this year).
    found = _date_or_none(today.year, month, day, span)
    if found is not None and isinstance(found.value, date) and found.value < today:
        found = _date_or_none(today.year + 1, month, day, span)
    return found


def local_text(when: datetime, tz: ZoneInfo) -> str:
    """ "12月21日（周一）15:00" in the bot's timezone."""
    t = when.astimezone(tz)
    return f"{t.month}月{t.day}日（周{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


def at_local(day: date, when: time, tz: ZoneInfo) -> datetime:
    """An aware datetime for a local day and time."""
    return datetime.combine(day, when, tzinfo=tz)

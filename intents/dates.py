"""Reading dates and times the way people write them in Chinese. Pure: "today" is an argument."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Generic, TypeVar

from intents.numerals import CN_NUMERAL, to_int

T = TypeVar("T")

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
class Found(Generic[T]):
    """A value read from a text and the span it came from."""

    value: T
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class DaySpec:
    """A day as written: a full date, a month and day, days from today, or a weekday."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    days_ahead: int | None = None  # 今天 0, 明天 1, 后天 2, 大后天 3
    weekday: int | None = None  # 0 Monday .. 6 Sunday
    next_week: bool = False  # 下周六, not 周六

    def resolve(self, today: date) -> date | None:
        """The day meant, seen from `today`; None when it is no real date (2月30日)."""
        if self.days_ahead is not None:
            return today + timedelta(days=self.days_ahead)
        if self.weekday is not None:
            ahead = (self.weekday - today.weekday()) % 7
            if self.next_week:
                ahead = 7 - today.weekday() + self.weekday
            return today + timedelta(days=ahead)
        if self.month is None or self.day is None:
            return None
        if self.year is not None:
            return _date_or_none(self.year, self.month, self.day)
        # A month and day without a year means the next such day (December in November: this year).
        found = _date_or_none(today.year, self.month, self.day)
        if found is not None and found < today:
            found = _date_or_none(today.year + 1, self.month, self.day)
        return found


def find_day(text: str) -> Found[DaySpec] | None:
    """The first day in the text: 2026-12-21, 12月21日, 十二月二十一号, 12/21, 明天, 下周六."""
    m = _ISO_DATE.search(text)
    if m:
        return Found(DaySpec(year=int(m["y"]), month=int(m["m"]), day=int(m["d"])), m.span())
    m = _MONTH_DAY.search(text)
    if m:
        month, day = to_int(m["m"]), to_int(m["d"])
        if month is not None and day is not None:
            return Found(DaySpec(month=month, day=day), m.span())
    m = _SLASH_DATE.search(text)
    if m:
        return Found(DaySpec(month=int(m["m"]), day=int(m["d"])), m.span())
    m = _RELATIVE.search(text)
    if m:
        return Found(DaySpec(days_ahead=_RELATIVE_DAYS[m[0]]), m.span())
    m = _WEEKDAY.search(text)
    if m:
        weekday = 6 if m["w"] in "日天" else WEEKDAYS.index(m["w"])
        return Found(DaySpec(weekday=weekday, next_week=bool(m["next"])), m.span())
    return None


def find_date(text: str, today: date) -> Found[date] | None:
    """The first day in the text as a date seen from `today`, if it is a real one."""
    found = find_day(text)
    day = found.value.resolve(today) if found is not None else None
    return Found(day, found.span) if found is not None and day is not None else None


def find_time(text: str) -> Found[time] | None:
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


def _date_or_none(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None

"""Injected time: the system clock for real runs, a virtual one for replays and tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Anything that tells the current time as an aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to; never moves backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock forward to `when` (earlier times are ignored)."""
        if when.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        if when > self._now:
            self._now = when


def at_local(day: date, when: time, tz: ZoneInfo) -> datetime:
    """An aware datetime for a local day and time."""
    return datetime.combine(day, when, tzinfo=tz)

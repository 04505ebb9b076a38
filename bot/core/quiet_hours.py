"""Quiet hours: private messages wait for morning, group ones are not sent, urgent ones go."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.messages import Outgoing


def in_quiet_hours(now: datetime, tz: ZoneInfo, quiet: tuple[time, time] | None) -> bool:
    """True when `now` falls inside the quiet hours (which may span midnight)."""
    if quiet is None:
        return False
    start, end = quiet
    t = now.astimezone(tz).time()
    return (start <= t < end) if start <= end else (t >= start or t < end)


def quiet_end(now: datetime, tz: ZoneInfo, quiet: tuple[time, time]) -> datetime:
    """The first moment after `now` when the quiet hours are over."""
    local = now.astimezone(tz)
    end = datetime.combine(local.date(), quiet[1], tzinfo=tz)
    if end <= local:
        end += timedelta(days=1)
    return end


def delivery_time(
    msg: Outgoing, now: datetime, tz: ZoneInfo, quiet: tuple[time, time] | None
) -> datetime | None:
    """When a message may go out; None when it must not be sent at all."""
    if msg.urgent or not in_quiet_hours(now, tz, quiet):
        return now
    assert quiet is not None
    if msg.to_room is not None:
        return None
    return quiet_end(now, tz, quiet)

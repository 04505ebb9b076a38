"""Quiet hours: private messages wait for the morning, group ones are not sent, urgent ones go."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.core.messages import Outgoing
from bot.core.quiet_hours import delivery_time
from tests.services.replays import check_scenario

TZ = ZoneInfo("Asia/Shanghai")
QUIET = (time(22, 0), time(7, 0))
NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=TZ)
MORNING = datetime(2026, 12, 3, 7, 0, tzinfo=TZ)


def test_delivery_time_rules() -> None:
    """Held until 07:00 in private, dropped in a group, at once when urgent or in the day."""
    private = Outgoing(to_room=None, to_person="p", text="x")
    group = Outgoing(to_room="r", to_person=None, text="x")
    assert delivery_time(private, NIGHT, TZ, QUIET) == MORNING
    assert delivery_time(group, NIGHT, TZ, QUIET) is None
    urgent = Outgoing(to_room="r", to_person=None, text="x", urgent=True)
    assert delivery_time(urgent, NIGHT, TZ, QUIET) == NIGHT
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=TZ)
    assert delivery_time(group, noon, TZ, QUIET) == noon
    early = datetime(2026, 12, 3, 6, 59, tzinfo=TZ)  # after midnight, still quiet
    assert delivery_time(private, early, TZ, QUIET) == MORNING


async def test_night_reports_wishes_and_an_urgent_case(db_url: str) -> None:
    """A night report and wish wait for the morning in private; the urgent case goes at once."""
    await check_scenario("quiet_hours", db_url)

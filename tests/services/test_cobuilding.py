"""每月28日共建日: one reminder per room and occasion, rotating themes, restarts, the recap."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.services.replays import event, replay_lines, scenario_lines, services_config

ROOMS = ("武夷香榭3栋业主群", "武夷香榭业主群", "江南八仙小区业主群")
HEAD = "【每月28日共建日】"


def _reminders(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in sent if m.get("to_room") and m["text"].startswith(HEAD)]


async def test_three_months_rotate_themes_once_per_room(db_url: str) -> None:
    """Each room gets each occasion once, with that month's theme; the secretary gets a recap."""
    sent = await replay_lines(services_config(), scenario_lines("cobuilding_three_months"), db_url)
    reminders = _reminders(sent)
    per_occasion = Counter((m["to_room"], m["at"]) for m in reminders)
    assert set(per_occasion.values()) == {1}
    assert len(reminders) == 3 * 2 * 3  # months x offsets (-1d 20:00, 0d 08:30) x rooms
    by_time = {m["at"][:16]: m["text"] for m in reminders}
    eve, day = by_time["2026-12-27T20:00"], by_time["2026-12-28T08:30"]
    assert "提一提发展良策" in eve and "明天" in eve
    assert "提一提发展良策" in day and "今天" in day
    assert "管一管身边小事" in by_time["2027-01-28T08:30"]
    assert "扫一扫小区街巷" in by_time["2027-02-28T08:30"]
    # The month's co-building activity takes sign-ups and reminds those signed up.
    assert any(
        m["to_room"] == ROOMS[0] and "12月共建日" in m["text"] and "王阿姨×2" in m["text"]
        for m in sent
        if m.get("to_room")
    )
    recaps = [m for m in sent if m.get("to_person") == "wxid_li" and "共建日小结" in m["text"]]
    assert [m["at"][:16] for m in recaps] == [
        "2026-12-29T09:00",
        "2027-01-29T09:00",
        "2027-03-01T09:00",
    ]
    december = recaps[0]["text"]
    for part in ("12月共建日：报名 1 户 2 人", "新增 1 件，办结 1 件", "平均接单用时：30分钟"):
        assert part in december
    assert "1/1 满意" in december


def _ticks(*times: str) -> list[str]:
    return [event(t) for t in times]


async def test_restart_just_before_the_time_posts_once(db_url: str) -> None:
    """Stopped at 08:29, started again at 08:29: the 08:30 reminder goes out once, on time."""
    cfg = services_config()
    first = await replay_lines(cfg, _ticks("2026-12-27T19:00", "2026-12-28T08:29"), db_url)
    assert [m["at"][:16] for m in _reminders(first)] == ["2026-12-27T20:00"] * 3
    second = await replay_lines(cfg, _ticks("2026-12-28T08:29", "2026-12-28T12:00"), db_url)
    assert [(m["to_room"], m["at"][:16]) for m in _reminders(second)] == [
        (room, "2026-12-28T08:30") for room in ROOMS
    ]


async def test_restart_shortly_after_posts_late_but_never_twice(db_url: str) -> None:
    """Started again at 08:31 the reminder still goes (misfire grace); a third run adds nothing."""
    cfg = services_config()
    await replay_lines(cfg, _ticks("2026-12-27T19:00", "2026-12-28T08:29"), db_url)
    second = await replay_lines(cfg, _ticks("2026-12-28T08:31", "2026-12-28T12:00"), db_url)
    assert [(m["to_room"], m["at"][:16]) for m in _reminders(second)] == [
        (room, "2026-12-28T08:31") for room in ROOMS
    ]
    third = await replay_lines(cfg, _ticks("2026-12-28T08:31", "2026-12-28T12:00"), db_url)
    assert _reminders(third) == []


async def test_start_long_after_posts_nothing_stale(db_url: str) -> None:
    """A bot first started at noon on the 28th does not post the morning's reminder."""
    sent = await replay_lines(
        services_config(), _ticks("2026-12-28T12:00", "2026-12-28T18:00"), db_url
    )
    assert _reminders(sent) == []

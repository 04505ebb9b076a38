"""Micro-wishes: filing, the first claim wins, completion and rating, reminders."""

from __future__ import annotations

from tests.services.replays import case_log, check_scenario


async def test_wish_claimed_twice(db_url: str) -> None:
    """Two volunteers claim W1: the first wins, the second is told who has it."""
    await check_scenario("wish_claimed_twice", db_url)
    log = [action for action, _ in await case_log(db_url, 1)]
    assert log == ["filed", "claimed", "completed", "rated"]
    log2 = [action for action, _ in await case_log(db_url, 2)]
    assert log2 == ["filed", "reminded", "escalated"]

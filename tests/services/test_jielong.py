"""接龙: a long chain is confirmed in a few batched rosters, never line by line."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from tests.services.replays import check_scenario

ROSTER_GAP = timedelta(minutes=10)


async def test_thirty_line_jielong_gives_at_most_three_rosters(db_url: str) -> None:
    """Each of 30 people reposts the chain with their line; the room gets 3 rosters in all."""
    sent = await check_scenario("jielong_30_lines", db_url)
    rosters = [m for m in sent if m.get("to_room") and "已报名" in m["text"]]
    assert len(rosters) == 3
    times = [datetime.fromisoformat(m["at"]) for m in rosters]
    assert all(b - a >= ROSTER_GAP for a, b in pairwise(times))
    # Signing up twice (every repost repeats earlier lines) never doubles anyone.
    assert rosters[-1]["text"].count("王芳") == 1

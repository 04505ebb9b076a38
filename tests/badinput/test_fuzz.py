"""Hostile messages through the real dispatcher on SQLite: no exception, nothing unprocessed,
no planted number in a group. Small in CI; JINLIN_FUZZ_COUNT=20000 for the full run (speed is
printed by `jinlin bench fuzz`, never asserted here)."""

from __future__ import annotations

import os
from pathlib import Path

from bot.fuzzing import hostile_messages, run_fuzz
from tests.support.replaying import scenario_config
from tests.test_dispatcher import T0, started


async def test_hostile_messages_break_nothing(tmp_path: Path) -> None:
    count = int(os.environ.get("JINLIN_FUZZ_COUNT", "1000"))
    app, _t = await started(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}")
    try:
        messages = hostile_messages(scenario_config(), count, seed=11, start=T0)
        report = await run_fuzz(app, messages)
    finally:
        await app.stop()
    assert len(report.latencies) == count
    assert report.exceptions == []
    assert report.unprocessed == []
    assert report.leaks == []

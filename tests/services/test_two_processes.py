"""Two bot processes on one database: every occasion is still posted exactly once."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.replay import RecordingTransport
from bot.sender import SendPolicy
from tests.services.replays import services_config

TZ = ZoneInfo("Asia/Shanghai")


async def test_two_processes_post_each_reminder_once(db_url: str) -> None:
    """Both plan and run the 08:30 reminders at the same moment; each room gets one."""
    cfg = services_config()
    clock = VirtualClock(datetime(2026, 12, 28, 8, 0, tzinfo=TZ))
    outs = [io.StringIO(), io.StringIO()]
    apps: list[App] = [
        build_app(
            cfg,
            RecordingTransport(clock, out, cfg),
            clock,
            db_url=db_url,
            policy=SendPolicy.immediate(),
        )
        for out in outs
    ]
    try:
        for app in apps:
            await app.start(upgrade=True)
        clock.set(datetime(2026, 12, 28, 8, 30, tzinfo=TZ))

        async def poll(app: App) -> None:
            await app.tasks.tick()
            await app.sender.drain()

        await asyncio.gather(*(poll(app) for app in apps))
        await asyncio.gather(*(poll(app) for app in apps))
    finally:
        for app in apps:
            await app.stop()
    sent = [json.loads(line) for out in outs for line in out.getvalue().splitlines()]
    reminders = sorted(m["to_room"] for m in sent if "共建日】今天" in m["text"])
    assert reminders == sorted(["武夷香榭3栋业主群", "武夷香榭业主群", "江南八仙小区业主群"])

"""A bot process with the city loaded: how long App.start takes and its peak RSS.

Run by `jinlin bench city` as `python -m bot.bench.startup CONFIG DB_URL`; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.app import build_app
from bot.bench.common import NullTransport, peak_rss_kb
from bot.bench.worker import with_account
from bot.core.clock import VirtualClock
from bot.core.config import load_config
from bot.core.messages import Incoming
from bot.demo_data import CITY_NOW


async def measure(config_path: str, db_url: str) -> dict[str, float]:
    """Start the bot on the city, handle a report and a 待办, and report the costs."""
    t0 = time.perf_counter()
    config = with_account(load_config(config_path), "default", db_url)
    loaded = time.perf_counter() - t0
    app = build_app(config, NullTransport(), VirtualClock(CITY_NOW))
    t1 = time.perf_counter()
    await app.start()
    started = time.perf_counter() - t1
    try:
        compound = config.grid[0].compounds[0]
        room, head = compound.rooms[0].topic, compound.buildings[0].head
        assert head is not None
        for text, where in (("电梯又坏了", room), ("待办", None)):
            await app.handle(
                Incoming(
                    message_id=f"startup:{time.time_ns()}:{text}",
                    room=where,
                    sender_id="wxid_startup" if where else head.id,
                    sender_name="1栋101-王阿姨" if where else head.name,
                    text=text,
                    mentions_bot=False,
                    at=CITY_NOW,
                )
            )
    finally:
        await app.stop()
    return {
        "config_load": loaded,
        "start": started,
        "maxrss_kb": peak_rss_kb(),
    }


def main() -> None:
    """Entry point: python -m bot.bench.startup CONFIG DB_URL."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(asyncio.run(measure(sys.argv[1], sys.argv[2]))), flush=True)


if __name__ == "__main__":
    main()

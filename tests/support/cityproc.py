"""One bot process of the multi-process tests: does what each stdin line says, then says ok.

    python -m tests.support.cityproc DB_URL SENDS_FILE

Lines: {"do": "messages", "messages": [{id, room, sender, name, text}]} handles them (sending
after each); {"do": "at", "at": ISO} moves the virtual clock, runs due tasks and sends;
{"do": "stop"}. Every send is appended to SENDS_FILE as a JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from bot.app import build_app
from bot.core.clock import VirtualClock
from bot.core.messages import Incoming
from bot.replay import RecordingTransport
from bot.sender import SendPolicy
from tests.services.replays import services_config

START = "2026-12-27T09:00:00+08:00"


async def main(db_url: str, sends: str) -> None:
    cfg = services_config()
    clock = VirtualClock(datetime.fromisoformat(START))
    with open(sends, "a", encoding="utf-8") as out:
        app = build_app(
            cfg,
            RecordingTransport(clock, out, cfg),
            clock,
            db_url=db_url,
            policy=SendPolicy.immediate(),
        )
        await app.start(upgrade=False)
        try:
            while line := await asyncio.to_thread(sys.stdin.readline):
                cmd = json.loads(line)
                if cmd["do"] == "stop":
                    break
                if cmd["do"] == "messages":
                    for m in cmd["messages"]:
                        msg = Incoming(
                            m["id"],
                            m["room"],
                            m["sender"],
                            m["name"],
                            m["text"],
                            False,
                            clock.now(),
                        )
                        await app.handle(msg)
                        await app.sender.drain()
                elif cmd["do"] == "at":
                    clock.set(datetime.fromisoformat(cmd["at"]))
                    await app.tasks.tick()
                    await app.sender.drain()
                print("ok", flush=True)
        finally:
            await app.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

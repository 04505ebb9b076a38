"""The sandbox transport and clock: messages from browser pages in, the bot's sends out."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.core.clock import Clock, SystemClock, VirtualClock
from bot.core.config import Config
from bot.core.messages import Incoming, LocalTransport, Outgoing

HISTORY = 1000  # events a newly opened page is shown


class SandboxClock(VirtualClock):
    """The wall clock plus an offset that only grows: the sandbox can jump ahead in time."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta(0)
        super().__init__(self._base.now())

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def set(self, when: datetime) -> None:
        """Jump forward to `when` (earlier times are ignored)."""
        if when.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime")
        now = self.now()
        if when > now:
            self._offset += when - now


class SandboxTransport(LocalTransport):
    """Implements Transport for the web sandbox: pages type, the bot's replies go to every page."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._queue: asyncio.Queue[Incoming] = asyncio.Queue()
        self._pages: set[web.WebSocketResponse] = set()
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY)

    async def incoming(self) -> AsyncIterator[Incoming]:
        """Messages typed on the sandbox pages, in order."""
        while True:
            yield await self._queue.get()

    async def send(self, msg: Outgoing) -> None:
        """Show a message the bot sends on every open page."""
        await self.publish(
            {
                "type": "bot",
                "to_room": msg.to_room,
                "to_person": msg.to_person,
                "text": msg.text,
                "urgent": msg.urgent,
                "at": self._stamp(),
            }
        )

    async def say(self, room: str | None, sender_id: str, sender_name: str, text: str) -> None:
        """A person typed on a page: show it, then hand it to the bot."""
        await self.publish(
            {
                "type": "said",
                "room": room,
                "sender_id": sender_id,
                "sender_name": sender_name,
                "text": text,
                "at": self._stamp(),
            }
        )
        await self._queue.put(
            Incoming(
                message_id=f"sandbox-{uuid.uuid4().hex}",
                room=room,
                sender_id=sender_id,
                sender_name=sender_name,
                text=text,
                mentions_bot=f"@{self._config.bot.name}" in text,
                at=self._clock.now(),
            )
        )

    async def publish(self, event: dict[str, Any]) -> None:
        """Record an event and push it to every connected page."""
        if event.get("type") in ("bot", "said"):
            self._history.append(event)
        for ws in list(self._pages):
            try:
                await ws.send_json(event)
            except (ConnectionError, RuntimeError):
                self._pages.discard(ws)

    def history(self) -> list[dict[str, Any]]:
        """Recent messages, oldest first."""
        return list(self._history)

    def attach(self, ws: web.WebSocketResponse) -> None:
        """Start pushing events to a page."""
        self._pages.add(ws)

    def detach(self, ws: web.WebSocketResponse) -> None:
        """Stop pushing events to a page."""
        self._pages.discard(ws)

    async def close(self) -> None:
        """Close every page's socket."""
        for ws in list(self._pages):
            with contextlib.suppress(Exception):
                await ws.close()
        self._pages.clear()

    def _stamp(self) -> str:
        return self._clock.now().astimezone(self._config.bot.tz).isoformat(timespec="seconds")

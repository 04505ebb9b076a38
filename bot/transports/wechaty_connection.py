"""One connection to a wechaty puppet service: the gRPC channel, its event stream, back-off.

Upstream's Wechaty.start() is not used: it stops the remote puppet on every start, waits a fixed
60 s after a lost connection, can hang for good in puppet.stop() on a dead channel, and never
calls on_login again after a restart. Instead each connection attempt builds a fresh
PuppetService and a fresh Wechaty (for its Contact/Room classes), reads the event stream itself
(python-wechaty 0.10.7 drops the `dirty` events that say a room alias changed) and is torn down
without any RPC.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")

# wechaty-grpc's EventType numbers, and the names this transport gives them
EVENT_NAMES = {
    2: "message",
    16: "error",
    17: "friendship",
    19: "room-join",
    20: "room-leave",
    21: "room-topic",
    22: "scan",
    25: "login",
    26: "logout",
    27: "dirty",
}
# wechaty-puppet's DirtyType for a room member's payload (its room alias among it)
DIRTY_ROOM_MEMBER = 4
DIRTY_ROOM = 3


@dataclass(frozen=True, slots=True)
class PuppetEvent:
    """One event of the service's stream: its name and its JSON payload."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: `first` after a lost connection, growing by `factor` up to `cap`."""

    first: float = 1.0
    factor: float = 1.5  # gentle: a restarted service is usually back within seconds
    cap: float = 30.0
    jitter: float = 0.2  # each delay is stretched by up to this fraction, at random

    def delays(self) -> Iterator[float]:
        """Yield the successive delays, forever."""
        delay = self.first
        while True:
            yield delay * (1 + random.uniform(0, self.jitter))
            delay = min(delay * self.factor, self.cap)


class Connection:
    """One attempt: a PuppetService, the Wechaty that binds the user classes to it, its tasks."""

    def __init__(self, wechaty_mod: Any, endpoint: str, token: str) -> None:
        from wechaty_puppet import PuppetOptions
        from wechaty_puppet_service import PuppetService

        # The token is set after construction: PuppetService.__init__ logs the options.
        self.puppet = PuppetService(PuppetOptions(end_point=endpoint))
        self.puppet.options.token = token
        # port=0: the plugin manager must not check or bind port 5000; an own scheduler: the
        # default one keeps a job store in CACHE_DIR. Neither is started (no plugins).
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        options = wechaty_mod.WechatyOptions(
            puppet=self.puppet,
            puppet_options=self.puppet.options,
            port=0,
            scheduler=AsyncIOScheduler(),
        )
        self.bot = wechaty_mod.Wechaty(options)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.logged_in = False  # set once the account logged in over this connection
        self.login_running = False
        self.broken = asyncio.Event()  # set when a failure elsewhere must end this connection
        self.failure = ""

    async def open(self, rpc_timeout: float) -> None:
        """Bind the user classes, open the channel and start the remote puppet (no stop first)."""
        await self.bot.init_puppet()
        # Contact/Room/Tag keep their object pools in a class attribute of the base class, which
        # init_puppet's per-bot subclasses share: give each its own, or objects bound to an
        # earlier (dead) puppet come back after a reconnect.
        for cls in (self.bot.Contact, self.bot.ContactSelf, self.bot.Room, self.bot.Tag):
            cls._pool = {}
        # What PuppetService._init_puppet does, minus its blocking telnet probe of the endpoint:
        # a plain-text grpclib channel whose :authority carries the token.
        from grpclib.client import Channel
        from wechaty_grpc.wechaty import PuppetStub

        host, _, port = self.puppet.options.end_point.rpartition(":")
        self.puppet.channel = Channel(host=host, port=int(port))
        self.puppet.channel._authority = self.puppet.options.token
        self.puppet._puppet_stub = PuppetStub(self.puppet.channel)
        # Upstream calls stop() before start(): that logs a real account out and in again on
        # every reconnect. start() on a running puppet is a no-op, and the service replays the
        # login event to a new event stream when the account is logged in.
        await bounded(self.puppet.puppet_stub.start(), rpc_timeout)

    async def events(self) -> AsyncIterator[PuppetEvent]:
        """The service's events, until the stream ends (heartbeats and the unknown left out)."""
        async for response in self.puppet.puppet_stub.event():
            name = EVENT_NAMES.get(int(response.type))
            if name is None:
                continue
            try:
                data = json.loads(response.payload or "{}")
            except ValueError:
                data = {}
            yield PuppetEvent(name, data if isinstance(data, dict) else {})

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine tied to this connection (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def close(self) -> None:
        """Forget the connection without any RPC (a Stop call on a dead channel never returns)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.puppet._event_stream.remove_all_listeners()
        if self.puppet.channel is not None:
            self.puppet.channel.close()
            self.puppet.channel = None
        self.puppet._puppet_stub = None


async def bounded(aw: Awaitable[T], seconds: float | None) -> T:
    """Await with a time limit; unlike asyncio.wait_for on 3.11, never swallows a cancel."""
    async with asyncio.timeout(seconds):
        return await aw


def timestamp(value: int | float) -> datetime:
    """The puppet service sends seconds or milliseconds since the epoch."""
    seconds = value / 1000 if value > 10_000_000_000 else value
    return datetime.fromtimestamp(seconds, UTC)

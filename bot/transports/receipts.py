"""Durable receipt for a transport: messages are stored before the bot loop gets them.

`stream()` yields the stored messages in arrival order and marks one handled only when the loop
asks for the next (bot/app.py awaits each message's handling before it does), so a crash at any
point leaves the message pending, and the next process handles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Incoming

log = logging.getLogger(__name__)

MARK_BATCH = 50
"""Handled marks written in one transaction at most (fewer when the stream runs dry)."""


class Receipts(Protocol):
    """Where a transport puts what it received, and where the bot loop reads it."""

    async def put(self, msg: Incoming) -> None:
        """Store one message (returns once it is safe)."""
        ...

    def stream(self) -> AsyncIterator[Incoming]:
        """The stored messages not yet handled, in order; ends after close()."""
        ...

    async def flush(self) -> None:
        """Wait until every message put so far is stored."""
        ...

    def close(self) -> None:
        """End stream()."""
        ...


class MemoryReceipts:
    """In memory: for a transport used without a database (a crash loses what is queued)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Incoming | None] = asyncio.Queue()

    async def put(self, msg: Incoming) -> None:
        """Queue a message."""
        self._queue.put_nowait(msg)

    async def stream(self) -> AsyncIterator[Incoming]:
        """Queued messages until close()."""
        while (msg := await self._queue.get()) is not None:
            yield msg

    async def flush(self) -> None:
        """Nothing to wait for."""

    def close(self) -> None:
        """End stream()."""
        self._queue.put_nowait(None)


class DatabaseReceipts:
    """In the database (storage/receipts.py); `sessions` is set once the app exists."""

    def __init__(
        self,
        account: str,
        clock: Clock,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        poll: float = 1.0,
    ) -> None:
        self.account = account
        self.clock = clock
        self.sessions = sessions
        self._poll = poll
        self._new = asyncio.Event()
        self._closed = False
        self._buffer: list[Incoming] = []
        self._writer: asyncio.Task[None] | None = None

    def _db(self) -> async_sessionmaker[AsyncSession]:
        if self.sessions is None:
            raise RuntimeError("DatabaseReceipts used before the database was attached")
        return self.sessions

    async def put(self, msg: Incoming) -> None:
        """Store a message before the loop sees it; messages arriving together share a write."""
        self._buffer.append(msg)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="receipts-writer")

    async def _write(self) -> None:
        from storage import receipts

        while self._buffer:
            batch, self._buffer = self._buffer, []
            try:
                async with self._db()() as session, session.begin():
                    await receipts.receive(session, self.account, batch, self.clock.now())
            except Exception:
                log.exception("could not store %d received messages; trying again", len(batch))
                self._buffer[:0] = batch
                await asyncio.sleep(1)
                continue
            self._new.set()

    async def flush(self) -> None:
        """Wait until every message put so far is stored."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait({self._writer})

    async def stream(self) -> AsyncIterator[Incoming]:
        """Pending messages (a crashed process's first), marked handled as the loop moves on.

        The marks are written together (at most MARK_BATCH at a time, and always before the
        stream waits for more): a crash may leave the last few handled messages pending, and
        the next process's pass over them changes nothing (the dispatcher's dedup; chit-chat
        leaves no trace to double).
        """
        from storage import receipts

        last = 0
        done: list[int] = []
        try:
            while not self._closed:
                # Cleared before the query, so a put() during it is not missed.
                self._new.clear()
                async with self._db()() as session:
                    rows = await receipts.pending(session, self.account, after=last)
                if not rows:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._poll):
                            await self._new.wait()
                    continue
                for row in rows:
                    last = row.id
                    yield receipts.as_incoming(row)
                    # The loop asked for the next message: this one is handled.
                    done.append(row.id)
                    if len(done) >= MARK_BATCH:
                        await self._mark(done)
                    if self._closed:
                        return
                await self._mark(done)
        finally:
            await self._mark(done)

    async def _mark(self, done: list[int]) -> None:
        """Mark these receipts handled in one transaction; the list is emptied."""
        from storage import receipts

        if not done:
            return
        ids, done[:] = list(done), []
        try:
            async with self._db()() as session, session.begin():
                await receipts.handled(session, ids, self.clock.now())
        except Exception:
            log.exception("could not mark %d messages handled", len(ids))

    def close(self) -> None:
        """End stream() at its next step."""
        self._closed = True
        self._new.set()

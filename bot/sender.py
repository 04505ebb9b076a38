"""Delivers the outbox through a transport, paced so a WeChat account stays safe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import SendingSection
from bot.core.messages import Outgoing, Transport
from storage import outbox
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
NOT_TRIED_DELAY = timedelta(seconds=2)
MERGE_SEPARATOR = "\n—————\n"


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The pacing rules (see SendingSection); `immediate()` is for replays and tests."""

    min_gap: float
    jitter: float
    room_gap: float
    daily_cap: int
    merge_private: bool
    max_attempts: int

    @classmethod
    def from_config(cls, s: SendingSection) -> SendPolicy:
        """The policy configured under `sending`."""
        return cls(s.min_gap, s.jitter, s.room_gap, s.daily_cap, s.merge_private, s.max_attempts)

    @classmethod
    def immediate(cls) -> SendPolicy:
        """No pacing and no merging: every message goes at once, on its own."""
        return cls(0.0, 0.0, 0.0, 10**9, False, 8)

    def retry_delay(self, attempts: int) -> timedelta:
        """Back-off before the next try after `attempts` failures."""
        return timedelta(seconds=min(300, 2 ** min(attempts, 9)))


class OutboxSender:
    """Takes due messages from the outbox, sends them, marks them sent."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        account: str,
        policy: SendPolicy,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._clock = clock
        self._account = account
        self._policy = policy
        self._wake = asyncio.Event()
        self._rng = random.Random()
        self._held_until: datetime | None = None  # when a room-gap hold ends (a wake-up hint)

    def wake(self) -> None:
        """Tell the sender something new is queued."""
        self._wake.set()

    async def send_one(self) -> bool:
        """Send the next deliverable message (or merged group); False when nothing is due."""
        if not getattr(self._transport, "connected", True):
            return False  # nothing can be delivered; waiting is not a failed attempt
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            batch = await self._pick(session, now)
            if not batch:
                return False
            if not await outbox.claim(session, [m.id for m in batch], now, LEASE):
                return True  # another process took it; try the next one
        msg = _combine(batch)
        ids = [m.id for m in batch]
        try:
            await self._transport.send(msg)
        except Exception as e:  # a transport failure must not stop the sender
            if not getattr(e, "attempted", True):
                # Nothing was tried (e.g. not connected): wait, without using up an attempt.
                log.info("outbox %s not sent, transport unavailable: %s", ids, e)
                async with self._sessions() as session, session.begin():
                    await outbox.release(session, ids, self._clock.now() + NOT_TRIED_DELAY)
                return False
            attempts = max(m.attempts for m in batch) + 1
            # A transport says when retrying cannot help (e.g. an unknown recipient).
            give_up = attempts >= self._policy.max_attempts or not getattr(e, "retryable", True)
            retry_at = None if give_up else self._clock.now() + self._policy.retry_delay(attempts)
            log.warning(
                "sending outbox %s failed (attempt %d%s): %s",
                ids,
                attempts,
                ", giving up" if give_up else "",
                e,
            )
            async with self._sessions() as session, session.begin():
                await outbox.mark_failed(session, ids, f"{type(e).__name__}: {e}", retry_at)
            return True
        async with self._sessions() as session, session.begin():
            await outbox.mark_sent(session, ids, self._clock.now())
        return True

    async def _pick(self, session: AsyncSession, now: datetime) -> list[OutboxMessage]:
        rows = await outbox.due(session, self._account, now)
        if not rows:
            return []
        if self._policy.daily_cap < 10**9:
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            if await outbox.sent_since(session, self._account, today) >= self._policy.daily_cap:
                rows = [r for r in rows if r.urgent]
                if not rows:
                    log.warning("daily cap of %d messages reached", self._policy.daily_cap)
                    return []
        self._held_until = None
        gap = timedelta(seconds=self._policy.room_gap)
        for row in rows:
            if row.to_room is not None and gap and not row.urgent:
                last = await outbox.last_sent_to_room(session, self._account, row.to_room)
                if last is not None and now - last < gap:
                    free = last + gap
                    self._held_until = min(self._held_until or free, free)
                    continue
            if row.to_person is not None and self._policy.merge_private:
                return [r for r in rows if r.to_person == row.to_person and r.to_room is None]
            return [row]
        return []

    async def drain(self) -> int:
        """Send everything due now without pacing; returns how many sends were made."""
        n = 0
        while await self.send_one():
            n += 1
        return n

    async def run(self) -> None:
        """Send forever, pacing between sends; wakes early when something is queued."""
        while True:
            try:
                sent = await self.send_one()
            except Exception:
                log.exception("outbox sender error; retrying shortly")
                sent = False
                await asyncio.sleep(2)
            if sent:
                gap = self._policy.min_gap + self._rng.uniform(0, self._policy.jitter)
                if gap > 0:
                    await asyncio.sleep(gap)
                continue
            self._wake.clear()
            wait = 1.0
            if self._held_until is not None:
                wait = min(wait, max(0.01, (self._held_until - self._clock.now()).total_seconds()))
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()


def _combine(batch: Sequence[OutboxMessage]) -> Outgoing:
    first = batch[0]
    text = MERGE_SEPARATOR.join(m.text for m in batch)
    mentions = tuple(dict.fromkeys(i for m in batch for i in m.mention_ids))
    return Outgoing(
        to_room=first.to_room,
        to_person=first.to_person,
        text=text,
        mention_ids=mentions,
        urgent=any(m.urgent for m in batch),
    )

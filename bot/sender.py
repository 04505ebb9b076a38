"""Delivers the outbox through a transport, paced so a WeChat account stays safe.

Every call to the transport is a send attempt written to the database before the call and
resolved after it. An attempt whose process died, or whose connection broke during the call,
is resolved before anything is sent again: by the account's own echo of the message when it
came back, else it is sent once more, alone (never merged into another message again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import SendingSection
from bot.core.messages import (
    DeliveryError,
    OutcomeUnknown,
    Outgoing,
    Restricted,
    SendFailed,
    Transport,
)
from storage import account_state, maintenance, outbox, send_attempts
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
NOT_TRIED_DELAY = timedelta(seconds=2)
STOP_GRACE = 10.0  # seconds a stopping bot waits for the send in hand to finish
MERGE_SEPARATOR = "\n—————\n"
PAUSE_FIRST = timedelta(minutes=10)  # the first 风控 pause; each further one doubles
PAUSE_CAP = timedelta(hours=6)
PRUNE_EVERY = timedelta(hours=1)  # (of the injected clock, so a replay prunes as it goes)
ANALYZE_EVERY = timedelta(days=1)  # SQLite's planner statistics are refreshed this often

OnRestricted = Callable[[datetime, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The pacing rules (see SendingSection); `immediate()` is for replays and tests."""

    min_gap: float
    jitter: float
    room_gap: float
    daily_cap: int
    merge_private: bool
    max_attempts: int
    tz: tzinfo = UTC  # the daily cap counts local days of this zone
    # replies to incoming private messages of people outside the grid, per person and day
    stranger_replies: int | None = None
    known_people: frozenset[str] = field(default_factory=frozenset)
    # how long an attempt whose outcome is unknown waits for its echo before it is sent again
    echo_wait: timedelta = timedelta(seconds=5)
    # a process that has not beaten for this long is dead: its claims are resolved
    stale_after: timedelta = timedelta(seconds=30)
    # sent messages older than this are pruned (sending.keep_sent), once per PRUNE_EVERY
    keep_sent: timedelta = timedelta(days=7)

    @classmethod
    def from_config(
        cls,
        s: SendingSection,
        *,
        tz: tzinfo = UTC,
        stranger_replies: int | None = None,
        known_people: Collection[str] = (),
    ) -> SendPolicy:
        """The policy configured under `sending` (with the bot's timezone for the cap)."""
        return cls(
            s.min_gap,
            s.jitter,
            s.room_gap,
            s.daily_cap,
            s.merge_private,
            s.max_attempts,
            tz=tz,
            stranger_replies=stranger_replies,
            known_people=frozenset(known_people),
            keep_sent=s.keep_sent,
        )

    @classmethod
    def immediate(cls) -> SendPolicy:
        """No pacing and no merging: every message goes at once, on its own."""
        return cls(0.0, 0.0, 0.0, 10**9, False, 8)

    def retry_delay(self, attempts: int) -> timedelta:
        """Back-off before the next try after `attempts` failures."""
        return timedelta(seconds=min(300, 2 ** min(attempts, 9)))


def pause_for(level: int) -> timedelta:
    """How long sending pauses after the `level`-th restriction in a row (1, 2, ...)."""
    return min(PAUSE_CAP, PAUSE_FIRST * (1 << max(0, level - 1)))


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
        instance: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._clock = clock
        self._account = account
        self._policy = policy
        self.instance = instance or uuid.uuid4().hex  # this process, in send attempts
        self.on_restricted: OnRestricted | None = None  # told when a 风控 pause starts
        self._wake = asyncio.Event()
        self._rng = random.Random()
        self._held_until: datetime | None = None  # when a room-gap hold ends (a wake-up hint)
        self._pruned_at: datetime | None = None  # when this sender last pruned the outbox
        self._analyzed_at: datetime | None = None  # ... and refreshed the planner's statistics
        self._stopping = False  # stop() asked run() to return after the send in hand
        self._busy = False  # run() is inside send_one

    def wake(self) -> None:
        """Tell the sender something new is queued."""
        self._wake.set()

    async def send_one(self) -> bool:
        """Send the next deliverable message (or merged group); False when nothing is due."""
        if not self._transport.connected:
            return False  # nothing can be delivered; waiting is not a failed attempt
        now = self._clock.now()
        await self.prune(now)
        await self.resolve_attempts(now)
        async with self._sessions() as session, session.begin():
            state = await account_state.get(session, self._account)
            if state is not None and state.paused_until is not None and state.paused_until > now:
                self._held_until = state.paused_until
                return False
            batch = await self._pick(session, now)
            if not batch:
                return False
            ids = [m.id for m in batch]
            if not await outbox.claim(session, ids, now, LEASE):
                return True  # another process took it; try the next one
            msg = _combine(batch)
            attempt = await send_attempts.start(
                session,
                account=self._account,
                outbox_ids=ids,
                msg=msg,
                instance=self.instance,
                now=now,
            )
        try:
            chat_id = await self._transport.send(msg)
        except DeliveryError as e:
            return await self._failed(batch, attempt, e)
        except Exception as e:  # a transport bug: count it as a failed attempt, keep sending
            return await self._failed(batch, attempt, SendFailed(f"{type(e).__name__}: {e}"))
        async with self._sessions() as session, session.begin():
            done = self._clock.now()
            await send_attempts.finish(
                session, attempt, send_attempts.SENT, done, chat_message_id=chat_id
            )
            await outbox.mark_sent(session, ids, done)
            if state is not None and state.pause_level:
                await account_state.change(session, self._account, done, pause_level=0)
        return True

    async def _failed(
        self, batch: Sequence[OutboxMessage], attempt: int, e: DeliveryError
    ) -> bool:
        ids = [m.id for m in batch]
        now = self._clock.now()
        error = f"{type(e).__name__}: {e}"
        if isinstance(e, OutcomeUnknown):
            # Keep the rows claimed: resolve_attempts waits for the echo, then decides.
            log.warning("outbox %s: outcome unknown (%s); waiting for its echo", ids, e)
            async with self._sessions() as session, session.begin():
                await send_attempts.finish(
                    session, attempt, send_attempts.UNKNOWN, now, error=error
                )
                await outbox.hold(session, ids, now + self._policy.echo_wait + LEASE)
            return True
        async with self._sessions() as session, session.begin():
            await send_attempts.finish(session, attempt, send_attempts.FAILED, now, error=error)
        if isinstance(e, Restricted):
            await self._pause(ids, now, str(e))
            return False
        if not e.attempted:
            # Nothing was tried (e.g. not connected): wait, without using up an attempt.
            log.info("outbox %s not sent, transport unavailable: %s", ids, e)
            async with self._sessions() as session, session.begin():
                await outbox.release(session, ids, now + NOT_TRIED_DELAY)
            return False
        attempts = max(m.attempts for m in batch) + 1
        # A transport says when retrying cannot help (e.g. an unknown recipient).
        give_up = attempts >= self._policy.max_attempts or not e.retryable
        retry_at = None if give_up else now + self._policy.retry_delay(attempts)
        log.warning(
            "sending outbox %s failed (attempt %d%s): %s",
            ids,
            attempts,
            ", giving up" if give_up else "",
            e,
        )
        async with self._sessions() as session, session.begin():
            await outbox.mark_failed(session, ids, error, retry_at)
        return True

    async def _pause(self, ids: Sequence[int], now: datetime, reason: str) -> None:
        """WeChat said 操作过于频繁: stop all sending for a growing while."""
        until = await self.restricted(now, reason)
        async with self._sessions() as session, session.begin():
            await outbox.release(session, ids, until)

    async def restricted(self, now: datetime, reason: str) -> datetime:
        """Start (or lengthen) a 风控 pause of every send of this account; returns its end."""
        async with self._sessions() as session, session.begin():
            state = await account_state.get(session, self._account)
            if state is not None and state.paused_until is not None and state.paused_until > now:
                return state.paused_until  # already paused: one notice, one step per pause
            level = (state.pause_level if state is not None else 0) + 1
            until = now + pause_for(level)
            await account_state.change(
                session,
                self._account,
                now,
                paused_until=until,
                pause_level=level,
                pause_reason=reason[:500],
            )
        log.warning("WeChat restricts sending (%s): paused until %s", reason, until.isoformat())
        if self.on_restricted is not None:
            try:
                await self.on_restricted(until, reason)
            except Exception:
                log.exception("could not queue the restriction notice")
        return until

    async def prune(self, now: datetime) -> int:
        """Delete sent messages past `keep_sent`, at most once per PRUNE_EVERY; how many."""
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        async with self._sessions() as session, session.begin():
            n = await maintenance.prune_outbox(
                session, self._account, now - self._policy.keep_sent
            )
            if self._analyzed_at is None or now - self._analyzed_at >= ANALYZE_EVERY:
                self._analyzed_at = now
                await maintenance.optimize(session)  # the statistics follow the growth
        if n:
            log.info("pruned %d sent messages older than %s", n, self._policy.keep_sent)
        return n

    async def resolve_attempts(self, now: datetime) -> None:
        """Settle attempts whose outcome was never known, before anything is sent again."""
        async with self._sessions() as session, session.begin():
            open_ = await send_attempts.open_attempts(session, self._account)
            covered = {i for a in open_ for i in a.outbox_ids}
            # A claim with no open attempt and a lapsed lease (e.g. from before attempts were
            # recorded) is not known to have gone either.
            lapsed = [r.id for r in await outbox.stale_claims(session, self._account, now)]
            if lapsed := [i for i in lapsed if i not in covered]:
                await outbox.requeue_unknown(session, lapsed, now)
            if not open_:
                return
            others = [a.instance for a in open_ if a.instance != self.instance]
            dead = await account_state.dead_instances(
                session, others, now, self._policy.stale_after
            )
            for a in open_:
                if a.outcome == send_attempts.STARTED and a.instance == self.instance:
                    continue  # this process's call is still running
                live = a.instance not in dead and now - a.started_at < LEASE
                if a.outcome == send_attempts.STARTED and live:
                    continue  # another live process is sending it
                waiting = (
                    a.finished_at is not None and now - a.finished_at < self._policy.echo_wait
                )
                if a.outcome == send_attempts.UNKNOWN and waiting:
                    continue  # its echo may still come
                # No echo came: it is not known to have arrived. Send it again, alone.
                log.warning(
                    "outbox %s: attempt %d of a %s process has no known outcome; sending again",
                    a.outbox_ids,
                    a.id,
                    "dead" if a.instance in dead else "broken",
                )
                await send_attempts.finish(session, a.id, send_attempts.RESENT, now)
                await outbox.requeue_unknown(session, a.outbox_ids, now)

    async def confirm_echo(
        self, to_room: str | None, to_person: str | None, text: str, chat_message_id: str
    ) -> None:
        """The account's own message came back: whatever carried it was delivered."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            ids = await send_attempts.echoed(
                session,
                account=self._account,
                to_room=to_room,
                to_person=to_person,
                text=text,
                chat_message_id=chat_message_id,
                now=now,
            )
            if ids:
                await outbox.mark_sent(session, ids, now, only_unsent=True)

    async def _pick(self, session: AsyncSession, now: datetime) -> list[OutboxMessage]:
        rows = await outbox.due(session, self._account, now)
        if not rows:
            return []
        if self._policy.daily_cap < 10**9:
            local = now.astimezone(self._policy.tz)
            today = local.replace(hour=0, minute=0, second=0, microsecond=0)
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
            if await self._stranger_limited(session, row, now):
                continue
            if row.to_person is not None and self._policy.merge_private and not row.attempts:
                # A message tried before goes alone: merged again, a lost reply would
                # repeat every message of the merge.
                return [
                    r
                    for r in rows
                    if r.to_person == row.to_person and r.to_room is None and not r.attempts
                ]
            return [row]
        return []

    async def _stranger_limited(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> bool:
        """Drop a reply to a stranger's private message past the per-day limit."""
        limit = self._policy.stranger_replies
        person = row.to_person
        if limit is None or person is None or person in self._policy.known_people:
            return False
        if not row.key.startswith("in:"):
            return False  # not a reply to a message: the bot itself wanted to say it
        local = now.astimezone(self._policy.tz)
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if await outbox.replies_sent_to(session, self._account, person, today) < limit:
            return False
        log.info("not replying to %s again today (stranger limit %d)", person, limit)
        await outbox.drop(session, [row.id], "stranger reply limit")
        return True

    async def drain(self) -> int:
        """Send everything due now without pacing; returns how many sends were made."""
        n = 0
        while await self.send_one():
            n += 1
        return n

    async def stop(self, task: asyncio.Task[None], grace: float = STOP_GRACE) -> None:
        """Stop `task` (running run()) between two sends: a send in progress is finished and
        settled first, so no claim is left for the next start to resolve."""
        self._stopping = True
        if self._busy and not task.done():
            await asyncio.wait({task}, timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run(self) -> None:
        """Send until stopped, pacing between sends; wakes early when something is queued."""
        self._stopping = False
        while not self._stopping:
            self._busy = True
            try:
                sent = await self.send_one()
            except Exception:
                log.exception("outbox sender error; retrying shortly")
                sent = False
                await asyncio.sleep(2)
            finally:
                self._busy = False
            if self._stopping:
                return
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

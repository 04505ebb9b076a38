"""The one dispatch path: dedup → handler → state and outbox in one transaction → sender.

Every entry point comes through here: group and private chat messages, the 民情码 form,
console actions and scheduled tasks. The dispatcher knows no domain rules: it finds the handler
in the registry, runs it with one session, stores what it said, and keeps one error boundary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.domain import TaskStatus
from bot.core.grid import Grid, RoomInfo
from bot.core.messages import Channel, Incoming, Outgoing, is_image
from bot.inbound import clean_incoming
from bot.outbound import enqueue_all
from handlers.context import HandlerContext, TaskContext, answer
from handlers.errors import DomainError
from handlers.outcome import UNHANDLED, Outcome
from handlers.registry import Registry
from handlers.texts import HELP_TEXT, NOT_YET
from intents import (
    ActivitiesNeeded,
    Command,
    CommandName,
    Intent,
    IntentKind,
    ParseContext,
    parse,
    parse_command,
)
from storage import tasks
from storage.cases import CaseRepository
from storage.inbox import claim_message
from storage.models import ScheduledTask

log = logging.getLogger(__name__)

ActivityTitles = Callable[[AsyncSession, str, datetime], Awaitable[tuple[str, ...]]]
"""Titles open for sign-up in a compound at a time (the services add their own source)."""

Call = Callable[[HandlerContext], Awaitable[Outcome]]
"""A handler bound to its parsed input, waiting for its context."""

SORRY = "抱歉，刚才处理出了点问题，已记录下来。请稍后再试，急事请直接联系楼栋长或小区书记。"
NO_INTENT = Intent(IntentKind.NONE)
DEFAULT_TASK_GRACE = timedelta(minutes=5)
MESSAGE_BUDGET = 0.5
"""Seconds one message may take before a warning names it (work is bounded by design: the
text is capped at the edge and the 附议 check compares a bounded gist with a bounded set)."""


def configured_activity_titles(config: Config) -> ActivityTitles:
    """Activity titles from the config only, for a bot without the activity services."""

    async def titles(_session: AsyncSession, compound: str, now: datetime) -> tuple[str, ...]:
        return tuple(
            a.title
            for a in config.activities
            if a.compound == compound and _aware(a.starts_at, config) > now
        )

    return titles


def _aware(when: datetime, config: Config) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=config.bot.tz)


class Dispatcher:
    """Routes each message, form, console action and task to its handler and stores the result."""

    def __init__(
        self,
        *,
        config: Config,
        grid: Grid,
        registry: Registry,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        activity_titles: ActivityTitles,
        on_enqueued: Callable[[], None] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._config = config
        self._grid = grid
        self._registry = registry
        self._sessions = sessions
        self._clock = clock
        self._activity_titles = activity_titles
        self._on_enqueued = on_enqueued
        # Real elapsed time, not the injected clock: the budget is about the machine's speed.
        self._timer = timer
        self._unknown_rooms: set[str] = set()  # only so each unknown room is logged once

    async def handle(self, msg: Incoming) -> Outcome:
        """Process one chat message; never raises, whatever a handler does.

        The message is cleaned first (bot/inbound.py). A message that fails anywhere is marked
        processed with one apology to its sender, so a redelivery neither reruns it nor
        apologises twice.
        """
        began = self._timer()
        try:
            msg = clean_incoming(msg)
            if msg.room is None:
                return await self._handle_private(msg)
            return await self._handle_group(msg)
        except Exception:
            log.exception("message %s could not be processed", msg.message_id)
            return await self._apologise(msg)
        finally:
            elapsed = self._timer() - began
            if elapsed > MESSAGE_BUDGET:
                log.warning(
                    "message %s took %.2f s (budget %.2f s)",
                    msg.message_id,
                    elapsed,
                    MESSAGE_BUDGET,
                )

    async def _apologise(self, msg: Incoming) -> Outcome:
        """Mark a failed message processed and say sorry once; never raises."""
        try:
            return await self._reply_only(msg, SORRY)
        except Exception:
            log.exception("message %s: the apology could not be stored", msg.message_id)
        try:
            async with self._sessions() as session, session.begin():
                await claim_message(session, clean_incoming(msg).message_id, self._clock.now())
        except Exception:
            log.exception("message %s could not be marked processed", msg.message_id)
        return Outcome(refusal=SORRY)

    async def submit(
        self,
        msg: Incoming,
        call: Call,
        *,
        what: str,
        room: RoomInfo | None = None,
        supervised: frozenset[str] = frozenset(),
    ) -> Outcome:
        """Run an already-parsed request (a web form, a console action) on the same path.

        `msg.message_id` is its idempotency key: a request submitted twice is done once.
        """
        return await self._run(clean_incoming(msg), room, what, call, supervised)

    async def _handle_group(self, msg: Incoming) -> Outcome:
        assert msg.room is not None
        room = self._grid.room(msg.room)
        if room is None:
            if msg.room not in self._unknown_rooms:
                self._unknown_rooms.add(msg.room)
                log.warning("ignoring messages from room %r: it is not in the config", msg.room)
            return UNHANDLED
        if is_image(msg):
            image = self._registry.image
            if image is None:
                return UNHANDLED
            return await self._run(msg, room, "image", lambda ctx: image(ctx, NO_INTENT))
        command = parse_command(msg.text)
        if command is not None and command.name in self._registry.group_commands:
            route = self._registry.commands[command.name]
            said = await self._run(msg, room, command.name, lambda ctx: route(ctx, command))
            if said.handled or said.duplicate:
                return said
        context = ParseContext(
            room=msg.room,
            sender_name=msg.sender_name,
            activities=None,  # looked up only if they could change the reading
            bot_name=self._config.bot.name,
        )
        try:
            intent = parse(msg.text, context)
        except ActivitiesNeeded:
            # The titles are read in the transaction that will store the sign-up: one
            # transaction for the message, not a read-only one before it.
            return await self._run(
                msg, room, "group message", lambda ctx: self._with_titles(ctx, room, context)
            )
        if intent.kind is IntentKind.NONE:
            if msg.mentions_bot and self._registry.mention is not None:
                return await self._run(msg, room, "mention", self._routed(intent))
            return UNHANDLED  # silence; the text is not stored
        if intent.kind not in self._registry.intents:
            log.info("no handler for intent %s (message %s)", intent.kind, msg.message_id)
            return UNHANDLED
        return await self._run(msg, room, intent.kind, self._routed(intent))

    async def _with_titles(
        self, ctx: HandlerContext, room: RoomInfo, context: ParseContext
    ) -> Outcome:
        """Parse again with the compound's open activity titles, then run what it says."""
        titles = await self._activity_titles(ctx.session, room.compound.name, ctx.now)
        intent = parse(ctx.message.text, replace(context, activities=titles))
        if intent.kind is not IntentKind.NONE and intent.kind not in self._registry.intents:
            log.info("no handler for intent %s (message %s)", intent.kind, ctx.message.message_id)
        return await self._routed(intent)(ctx)

    def _routed(self, intent: Intent) -> Call:
        """The handler of a group intent; a mention of the bot with nothing in it gets help,
        anything else nothing (declined: silence, and the message is not marked)."""
        if intent.kind is IntentKind.NONE:
            mention = self._registry.mention
            if mention is not None:
                hint = Command(CommandName.HELP)
                return lambda ctx: (
                    mention(ctx, hint) if ctx.message.mentions_bot else _nothing(ctx)
                )
            return _nothing
        handler = self._registry.intents.get(intent.kind)
        if handler is None:
            return _nothing
        return lambda ctx: handler(ctx, intent)

    async def _handle_private(self, msg: Incoming) -> Outcome:
        command = parse_command(msg.text) or Command(CommandName.HELP)
        route = self._registry.commands.get(command.name)
        if route is None:
            return await self._reply_only(msg, f"{NOT_YET}\n{HELP_TEXT}")
        return await self._run(msg, None, command.name, lambda ctx: route(ctx, command))

    async def _run(
        self,
        msg: Incoming,
        room: RoomInfo | None,
        what: str,
        call: Call,
        supervised: frozenset[str] = frozenset(),
    ) -> Outcome:
        """Run a handler in a transaction with the dedup row and its outbox rows."""
        now = self._clock.now()
        async with self._sessions() as session:
            try:
                async with session.begin():
                    if not await claim_message(session, msg.message_id, now):
                        log.info("message %s was already processed; ignored", msg.message_id)
                        return Outcome(handled=False, duplicate=True)
                    ctx = HandlerContext(
                        message=msg,
                        now=now,
                        config=self._config,
                        grid=self._grid,
                        session=session,
                        cases=CaseRepository(session),
                        room=room,
                        supervised=supervised,
                    )
                    try:
                        outcome = await call(ctx)
                    except DomainError as e:
                        raise _Refused(str(e)) from e
                    if not outcome.handled:
                        raise _Declined  # roll back the dedup row: another handler may take it
                    await self._store(session, msg, outcome.messages, now)
            except _Declined:
                return UNHANDLED
            except _Refused as refusal:
                log.info("message %s (%s) refused: %s", msg.message_id, what, refusal)
                return await self._reply_only(msg, str(refusal))
            except Exception:
                log.exception("handler %s failed on message %s", what, msg.message_id)
                return await self._reply_only(msg, SORRY)
        self._wake(outcome.messages)
        return outcome

    async def _reply_only(self, msg: Incoming, text: str) -> Outcome:
        """Mark the message processed and answer it, with no other change."""
        reply = answer(msg, text)
        async with self._sessions() as session, session.begin():
            if not await claim_message(session, msg.message_id, self._clock.now()):
                return Outcome(handled=False, duplicate=True)
            await self._store(session, msg, (reply,), self._clock.now())
        self._wake((reply,))
        return Outcome(messages=(reply,), refusal=text)

    async def _store(
        self, session: AsyncSession, msg: Incoming, messages: tuple[Outgoing, ...], now: datetime
    ) -> None:
        """Queue what was said; replies to a web or console sender are shown there instead."""
        present: tuple[str, ...] = ()
        if msg.channel is not Channel.CHAT:
            messages = tuple(m for m in messages if m.to_person != msg.sender_id)
        elif msg.room is not None:
            present = (msg.room,)  # it came from there, through this process's account
        else:
            present = (msg.sender_id,)  # they wrote to this process's account
        await enqueue_all(
            session, self._config, f"in:{msg.message_id}", messages, now, present=present
        )

    def _wake(self, messages: tuple[Outgoing, ...]) -> None:
        if messages and self._on_enqueued is not None:
            self._on_enqueued()

    async def run_task(self, task: ScheduledTask, now: datetime, lease: timedelta) -> bool:
        """Claim and run one due task with its outbox rows; True when it ran.

        A task found past its grace is marked stale instead; a task whose handler fails is
        marked failed and logged, and the next one runs.
        """
        async with self._sessions() as session, session.begin():
            if not await tasks.claim(session, task.id, now, lease):
                return False
            handler = self._registry.tasks.get(task.kind)
            grace = self._registry.task_grace.get(task.kind, DEFAULT_TASK_GRACE)
            if handler is None:
                log.error("no handler for task kind %s (%s)", task.kind, task.key)
                await tasks.finish(session, task.id, TaskStatus.STALE, now)
                return False
            if now - task.due_at > grace:
                log.info("task %s is %s late; not run", task.key, now - task.due_at)
                await tasks.finish(session, task.id, TaskStatus.STALE, now)
                return False
            ctx = TaskContext(
                now=now,
                config=self._config,
                grid=self._grid,
                session=session,
                cases=CaseRepository(session),
            )
            try:
                async with session.begin_nested():
                    outcome = await handler(ctx, task)
                    await enqueue_all(
                        session, self._config, f"task:{task.key}", outcome.messages, now
                    )
            except Exception:
                log.exception("task %s failed; marked failed", task.key)
                await tasks.finish(session, task.id, TaskStatus.FAILED, now)
                return False
            await tasks.finish(session, task.id, TaskStatus.DONE, now)
        self._wake(outcome.messages)
        return True


async def _nothing(_ctx: HandlerContext) -> Outcome:
    return UNHANDLED


class _Refused(Exception):
    """A domain refusal carried out of the transaction so it can be rolled back."""


class _Declined(Exception):
    """The handler declined; carried out of the transaction so the dedup row is rolled back."""

"""One incoming message → dedup → parse → its handler → state and outbox in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.grid import Grid, RoomInfo
from bot.core.messages import Incoming, Outgoing
from bot.outbound import enqueue_all
from handlers import attachments
from handlers.context import HandlerContext
from handlers.errors import DomainError
from handlers.registry import Registry
from handlers.texts import HELP_TEXT, address_name
from intents import Command, CommandName, IntentKind, ParseContext, parse, parse_command
from storage.cases import CaseRepository
from storage.inbox import claim_message

log = logging.getLogger(__name__)

ActivityTitles = Callable[[AsyncSession, str, datetime], Awaitable[tuple[str, ...]]]
"""Titles open for sign-up in a compound at a time (the services add their own source)."""


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


SORRY = "抱歉，刚才处理出了点问题，已记录下来。请稍后再试，急事请直接联系楼栋长或小区书记。"


class Dispatcher:
    """Routes each incoming message to its handler and stores what should be said."""

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
    ) -> None:
        self._config = config
        self._grid = grid
        self._registry = registry
        self._sessions = sessions
        self._clock = clock
        self._activity_titles = activity_titles
        self._on_enqueued = on_enqueued
        self._unknown_rooms: set[str] = set()  # only so each unknown room is logged once

    async def handle(self, msg: Incoming) -> None:
        """Process one message; never raises, whatever a handler does."""
        try:
            if msg.room is None:
                stored = await self._handle_private(msg)
            else:
                stored = await self._handle_group(msg)
        except Exception:
            log.exception("message %s could not be processed", msg.message_id)
            return
        if stored and self._on_enqueued is not None:
            self._on_enqueued()

    async def _handle_group(self, msg: Incoming) -> bool:
        assert msg.room is not None
        room = self._grid.room(msg.room)
        if room is None:
            if msg.room not in self._unknown_rooms:
                self._unknown_rooms.add(msg.room)
                log.warning("ignoring messages from room %r: it is not in the config", msg.room)
            return False
        now = self._clock.now()
        if attachments.is_image(msg.text):
            async with self._sessions() as session:
                await self._run(session, msg, room, now, "image", attachments.attach_image, None)
            return False  # an image is only noted on the case; nothing is said
        async with self._sessions() as session:
            rating = parse_command(msg.text)
            async with session.begin():  # read-only look-ups before the handler's transaction
                rates = (
                    rating is not None
                    and rating.name is CommandName.RATE
                    and rating.number is None
                    and await CaseRepository(session).awaiting_rating(msg.sender_id, msg.room)
                    is not None
                )
                titles = (
                    () if rates else await self._activity_titles(session, room.compound.name, now)
                )
            if rates:
                handler = self._registry.commands[CommandName.RATE]
                return await self._run(session, msg, room, now, "rate", handler, rating)
            intent = parse(
                msg.text,
                ParseContext(
                    room=msg.room,
                    sender_name=msg.sender_name,
                    activities=titles,
                    bot_name=self._config.bot.name,
                ),
            )
            if intent.kind is IntentKind.NONE:
                if msg.mentions_bot:
                    return await self._mention_hint(session, msg, now)
                return False
            intent_handler = self._registry.intents.get(intent.kind)
            if intent_handler is None:
                log.info("no handler for intent %s (message %s)", intent.kind, msg.message_id)
                return False
            return await self._run(session, msg, room, now, intent.kind, intent_handler, intent)

    async def _handle_private(self, msg: Incoming) -> bool:
        now = self._clock.now()
        command = parse_command(msg.text)
        async with self._sessions() as session:
            if command is None:
                return await self._run(
                    session,
                    msg,
                    None,
                    now,
                    "help",
                    self._registry.commands[CommandName.HELP],
                    Command(CommandName.HELP),
                )
            handler = self._registry.commands.get(command.name)
            if handler is None:
                return await self._reply_only(
                    session, msg, now, [_private(msg, "这个功能还没有开通。\n" + HELP_TEXT)]
                )
            return await self._run(session, msg, None, now, command.name, handler, command)

    async def _run(
        self,
        session: AsyncSession,
        msg: Incoming,
        room: RoomInfo | None,
        now: datetime,
        what: str,
        handler: Callable[..., Awaitable[list[Outgoing]]],
        arg: object,
    ) -> bool:
        """Run a handler in a transaction with the dedup row and its outbox rows."""
        try:
            async with session.begin():
                if not await claim_message(session, msg.message_id, now):
                    log.info("message %s was already processed; ignored", msg.message_id)
                    return False
                ctx = HandlerContext(
                    message=msg,
                    now=now,
                    config=self._config,
                    grid=self._grid,
                    session=session,
                    cases=CaseRepository(session),
                    room=room,
                )
                try:
                    out = await handler(ctx, arg)
                except DomainError as e:
                    raise _Refused(str(e)) from e
                await enqueue_all(session, self._config, f"in:{msg.message_id}", out, now)
            return True
        except _Refused as refusal:
            log.info("message %s (%s) refused: %s", msg.message_id, what, refusal)
            return await self._reply_only(session, msg, now, [_answer(msg, str(refusal))])
        except Exception:
            log.exception("handler %s failed on message %s", what, msg.message_id)
            return await self._reply_only(session, msg, now, [_answer(msg, SORRY)])

    async def _reply_only(
        self, session: AsyncSession, msg: Incoming, now: datetime, out: list[Outgoing]
    ) -> bool:
        """Mark the message processed and queue a reply, with no other change."""
        async with session.begin():
            if not await claim_message(session, msg.message_id, now):
                return False
            await enqueue_all(session, self._config, f"in:{msg.message_id}", out, now)
        return True

    async def _mention_hint(self, session: AsyncSession, msg: Incoming, now: datetime) -> bool:
        text = (
            "我是近邻助手。报事报修请直接说明问题和楼栋（如「3栋电梯坏了」），"
            "微心愿请以「微心愿：」开头。"
        )
        return await self._reply_only(session, msg, now, [_answer(msg, text)])


class _Refused(Exception):
    """A domain refusal carried out of the transaction so it can be rolled back."""


def _private(msg: Incoming, text: str) -> Outgoing:
    return Outgoing(to_room=None, to_person=msg.sender_id, text=text)


def _answer(msg: Incoming, text: str) -> Outgoing:
    """Reply where the message came from: in its room (with an @) or in private."""
    if msg.room is None:
        return _private(msg, text)
    name = address_name(msg.sender_name)
    return Outgoing(
        to_room=msg.room, to_person=None, text=f"@{name} {text}", mention_ids=(msg.sender_id,)
    )

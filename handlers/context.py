"""What a handler gets: the message, the clock's now, the grid, and repositories on one session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.grid import Grid, RoomInfo
from bot.core.messages import Incoming, Outgoing
from handlers.outcome import Outcome
from handlers.texts import address_name
from intents import Command, Intent
from storage.cases import CaseRepository
from storage.models import Case, ScheduledTask


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Everything one handler call may use; the dispatcher commits the session afterwards."""

    message: Incoming
    now: datetime
    config: Config
    grid: Grid
    session: AsyncSession
    cases: CaseRepository
    room: RoomInfo | None  # the configured room of a group message
    # Compounds the sender supervises beyond the grid: a console user acts as a worker there.
    supervised: frozenset[str] = frozenset()

    @property
    def sender_id(self) -> str:
        """The WeChat id of whoever wrote the message."""
        return self.message.sender_id

    @property
    def sender_name(self) -> str:
        """How the sender is addressed: the configured name, else the display name."""
        return self.grid.name_of(self.message.sender_id) or self.message.sender_name

    def reply_private(self, text: str, *, urgent: bool = False) -> Outgoing:
        """A private message back to the sender."""
        return Outgoing(to_room=None, to_person=self.message.sender_id, text=text, urgent=urgent)

    def answer(self, text: str, *, urgent: bool = False) -> Outgoing:
        """A reply where the message came from: in its room with an @, else in private."""
        return answer(self.message, text, urgent=urgent)

    def is_supervisor(self, compound: str) -> bool:
        """True for the compound's secretary, its community's workers and console users of it."""
        return compound in self.supervised or self.grid.is_secretary_or_worker(
            compound, self.sender_id
        )


def answer(msg: Incoming, text: str, *, urgent: bool = False) -> Outgoing:
    """Reply where a message came from: in its room (with an @ of the sender) or in private."""
    if msg.room is None:
        return Outgoing(to_room=None, to_person=msg.sender_id, text=text, urgent=urgent)
    return Outgoing(
        to_room=msg.room,
        to_person=None,
        text=f"@{address_name(msg.sender_name)} {text}",
        mention_ids=(msg.sender_id,),
        urgent=urgent,
    )


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a scheduled task gets: no incoming message, the rest as for handlers."""

    now: datetime
    config: Config
    grid: Grid
    session: AsyncSession
    cases: CaseRepository


class TaskHandler(Protocol):
    """Runs one kind of scheduled task; returns what should be said."""

    async def __call__(self, ctx: TaskContext, task: ScheduledTask) -> Outcome: ...


class Planner(Protocol):
    """Schedules upcoming occasions (idempotently, by task key) as of `ctx.now`."""

    async def __call__(self, ctx: TaskContext) -> None: ...


class IntentHandler(Protocol):
    """Handles one kind of group intent."""

    async def __call__(self, ctx: HandlerContext, intent: Intent) -> Outcome: ...


class CommandHandler(Protocol):
    """Handles one private command."""

    async def __call__(self, ctx: HandlerContext, command: Command) -> Outcome: ...


class CaseCommandHandler(Protocol):
    """Handles a private command about one case, already found and permitted."""

    async def __call__(self, ctx: HandlerContext, command: Command, case: Case) -> Outcome: ...


class SubjectResolver(Protocol):
    """Finds the case a command is about; raises a DomainError (or Decline) when there is none."""

    async def __call__(self, ctx: HandlerContext, command: Command) -> Case: ...

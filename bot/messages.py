"""Transport-neutral messages and the Transport protocol every chat adapter implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as the bot receives it, whatever the transport."""

    message_id: str
    room: str | None  # room topic; None for a private message to the bot
    sender_id: str
    sender_name: str  # room alias if set, else the nickname
    text: str
    mentions_bot: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot wants to send: to a room (by topic) or to a person (by id)."""

    to_room: str | None
    to_person: str | None
    text: str
    mention_ids: tuple[str, ...] = ()
    urgent: bool = False


class Transport(Protocol):
    """A chat adapter: yields incoming messages and delivers outgoing ones."""

    def incoming(self) -> AsyncIterator[Incoming]: ...

    async def send(self, msg: Outgoing) -> None: ...

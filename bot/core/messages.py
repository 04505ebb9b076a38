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


IMAGE_TEXT = "[图片]"  # the text of an Incoming that stands for an image message


class DeliveryError(Exception):
    """A transport could not deliver a message; `retryable` says whether trying later can help."""

    retryable = True
    attempted = True  # False when nothing was tried, so it does not count as an attempt


class NotConnected(DeliveryError):
    """Nothing was sent: the transport is not connected right now."""

    attempted = False


class UnknownRecipient(DeliveryError):
    """Nothing was sent: the room or person is unknown to this account."""

    retryable = False


class SendFailed(DeliveryError):
    """The send call failed; the message may or may not have arrived."""


class Transport(Protocol):
    """A chat adapter: yields incoming messages and delivers outgoing ones."""

    def incoming(self) -> AsyncIterator[Incoming]: ...

    async def send(self, msg: Outgoing) -> None: ...

"""Transport-neutral messages and the Transport protocol every chat adapter implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Channel(StrEnum):
    """How a message reached the bot; replies to its sender go back the same way."""

    CHAT = "chat"  # WeChat, the terminal console, the web sandbox, a replay
    WEB = "web"  # the public 民情码 form: the reply is shown on the page
    CONSOLE = "console"  # an action on the workers' web console: the reply is shown there


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
    channel: Channel = Channel.CHAT


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot wants to send: to a room (by topic) or to a person (by id)."""

    to_room: str | None
    to_person: str | None
    text: str
    mention_ids: tuple[str, ...] = ()
    urgent: bool = False


IMAGE_TEXT = "[图片]"  # the text of an Incoming that stands for an image message


def is_image(msg: Incoming) -> bool:
    """True for a message that stands for an image."""
    return msg.text.strip() == IMAGE_TEXT


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

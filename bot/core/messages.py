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
    quoted: str = ""  # the message a quoted reply quotes (context only; `text` is the new part)


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
    """A transport could not deliver a message; the sender decides by the subclass's flags."""

    retryable = True  # False: trying again cannot help (give up at once)
    attempted = True  # False when nothing was tried, so it does not count as an attempt


class NotConnected(DeliveryError):
    """Nothing was sent: the transport is not connected right now."""

    attempted = False


class UnknownRecipient(DeliveryError):
    """Nothing was sent: the room or person is unknown to this account."""

    retryable = False


class SendFailed(DeliveryError):
    """The chat service answered that the send failed: the message did not go."""


class OutcomeUnknown(DeliveryError):
    """The connection broke during the call: the message may or may not have arrived."""


class Restricted(DeliveryError):
    """The chat service refused for sending too fast (WeChat's 操作过于频繁): pause everything."""

    attempted = False  # the message itself is fine; it waits for the pause to end


class Transport(Protocol):
    """A chat adapter: started once, yields incoming messages, delivers outgoing ones."""

    @property
    def connected(self) -> bool:
        """Whether a send could be delivered now (False while a connection is down)."""
        ...

    async def start(self) -> None:
        """Begin connecting (may return before the connection is up)."""
        ...

    async def stop(self) -> None:
        """Disconnect and end incoming(); safe to call more than once."""
        ...

    def incoming(self) -> AsyncIterator[Incoming]:
        """Messages for the bot, in the order they arrived."""
        ...

    async def send(self, msg: Outgoing) -> str | None:
        """Deliver one message; returns the chat's id for it when the transport knows one.

        Raises a DeliveryError when it cannot.
        """
        ...


class LocalTransport:
    """Defaults for transports that are always up and hold no connection (console, replay)."""

    @property
    def connected(self) -> bool:
        """Always connected."""
        return True

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

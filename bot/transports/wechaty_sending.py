"""Sending one text: resolve the recipient, make one RPC, say what its failure means."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.core.messages import (
    DeliveryError,
    NotConnected,
    OutcomeUnknown,
    Outgoing,
    Restricted,
    SendFailed,
    UnknownRecipient,
)
from bot.transports.wechaty_connection import Connection, bounded
from bot.transports.wechaty_events import is_restriction_notice
from bot.transports.wechaty_rooms import RoomDirectory


async def send_text(
    conn: Connection,
    rooms: RoomDirectory,
    msg: Outgoing,
    *,
    rpc_timeout: float,
    redact: Callable[[str], str],
    refresh_rooms: Callable[[], Awaitable[None]],
) -> str | None:
    """Deliver `msg` with a single send RPC; returns the service's id for it, if it gives one."""
    try:
        if msg.to_room is not None:
            room_id = await rooms.id_for_sending(msg.to_room)
            if room_id is None:
                await refresh_rooms()  # the account may have joined it since
                room_id = await rooms.id_for_sending(msg.to_room)
            if room_id is None:
                raise UnknownRecipient(
                    f"the WeChat account is not in a room called {msg.to_room!r}"
                )
            # the handlers write the "@name" into the text; the ids make WeChat notify them
            conversation_id, mention_ids = room_id, list(msg.mention_ids)
        elif msg.to_person is not None:
            contact = conn.bot.Contact.load(msg.to_person)
            try:
                await bounded(contact.ready(), rpc_timeout)
            except (TimeoutError, asyncio.CancelledError):
                raise
            except Exception as exc:
                raise UnknownRecipient(f"no WeChat contact {msg.to_person!r}") from exc
            conversation_id, mention_ids = msg.to_person, []
        else:
            raise UnknownRecipient("an Outgoing needs to_room or to_person")
    except DeliveryError:
        raise
    except Exception as exc:
        raise NotConnected(redact(f"looking up the recipient failed: {exc}")) from exc
    # One RPC and nothing after it: Room.say/Contact.say load the sent message afterwards,
    # and a failure there would make the outbox send a delivered message again.
    try:
        chat_id = await bounded(
            conn.puppet.message_send_text(conversation_id, msg.text, mention_ids or None),
            rpc_timeout,
        )
    except Exception as exc:
        raise _failure(exc, redact) from exc
    return str(chat_id) if chat_id else None


def _failure(exc: Exception, redact: Callable[[str], str]) -> DeliveryError:
    """What a failed send RPC means: refused, throttled, or not known."""
    from grpclib.exceptions import GRPCError

    text = redact(f"{type(exc).__name__}: {exc}")
    if is_restriction_notice(str(exc)):
        return Restricted(text)
    if isinstance(exc, GRPCError):
        # The service answered: the send did not go (it says so with a status).
        return SendFailed(text)
    # A timeout, a reset stream, a closed channel: the call may have reached WeChat.
    return OutcomeUnknown(text)

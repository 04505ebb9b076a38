"""Durable receipt: each incoming message is stored before the bot handles it.

The text stays only until the message is handled (a request's text lives on in its case;
ordinary chat text is not kept). A crash between receipt and handling loses nothing: the next
process handles what is still pending, and the dispatcher's dedup makes a second try harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Incoming
from storage.upsert import insert_ignore
from storage.wechat_models import ReceivedMessage


async def receive(
    session: AsyncSession, account: str, messages: Sequence[Incoming], now: datetime
) -> int:
    """Store incoming messages (a redelivered id is kept once); returns how many were new."""
    new = 0
    for msg in messages:
        new += await insert_ignore(
            session,
            ReceivedMessage,
            {
                "account": account,
                "message_id": msg.message_id,
                "room": msg.room,
                "sender_id": msg.sender_id,
                "sender_name": msg.sender_name,
                "text": msg.text,
                "quoted": msg.quoted or None,
                "mentions_bot": msg.mentions_bot,
                "at": msg.at,
                "received_at": now,
            },
            ["account", "message_id"],
        )
    return new


async def pending(
    session: AsyncSession, account: str, after: int = 0, limit: int = 100
) -> Sequence[ReceivedMessage]:
    """Messages received and not yet handled, in the order they arrived."""
    result = await session.execute(
        select(ReceivedMessage)
        .where(
            ReceivedMessage.account == account,
            ReceivedMessage.handled_at.is_(None),
            ReceivedMessage.id > after,
        )
        .order_by(ReceivedMessage.id)
        .limit(limit)
    )
    return result.scalars().all()


async def handled(session: AsyncSession, receipt_ids: Sequence[int], now: datetime) -> None:
    """The bot has handled these messages: forget their text."""
    if not receipt_ids:
        return
    await session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.id.in_(receipt_ids))
        .values(handled_at=now, text=None, quoted=None)
        .execution_options(synchronize_session=False)
    )


def as_incoming(row: ReceivedMessage) -> Incoming:
    """The stored message as the dispatcher takes it."""
    return Incoming(
        message_id=row.message_id,
        room=row.room,
        sender_id=row.sender_id,
        sender_name=row.sender_name,
        text=row.text or "",
        mentions_bot=row.mentions_bot,
        at=row.at,
        quoted=row.quoted or "",
    )

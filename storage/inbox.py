"""Inbound message ids already processed: a redelivered message is recognised and ignored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedMessage
from storage.upsert import insert_ignore


async def claim_message(session: AsyncSession, message_id: str, now: datetime) -> bool:
    """Record a message id as processed; False if it was already there."""
    return await insert_ignore(
        session, ProcessedMessage, {"message_id": message_id, "at": now}, ["message_id"]
    )

"""What handlers said goes to the outbox in the caller's transaction, quiet hours applied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.domain import OutboxStatus
from bot.core.messages import Outgoing
from bot.core.quiet_hours import delivery_time
from storage import outbox


async def enqueue_all(
    session: AsyncSession,
    config: Config,
    key_prefix: str,
    messages: Sequence[Outgoing],
    now: datetime,
) -> int:
    """Store messages under keys `key_prefix:i`; returns how many were new."""
    new = 0
    for i, msg in enumerate(messages):
        when = delivery_time(msg, now, config.bot.tz, config.bot.quiet)
        stored = await outbox.enqueue(
            session,
            account=config.bot.account,
            key=f"{key_prefix}:{i}",
            msg=msg,
            now=now,
            not_before=when or now,
            status=OutboxStatus.PENDING if when is not None else OutboxStatus.DROPPED,
        )
        new += int(stored)
    return new

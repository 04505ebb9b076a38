"""Keeping the database fast as it grows: planner statistics, and pruning what is done with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import SETTLED_OUTCOMES, OutboxStatus
from storage.models import OutboxMessage
from storage.wechat_models import SendAttempt

# Rows ANALYZE samples per index on SQLite: enough for the planner, a few ms on a 1M-row table.
ANALYSIS_LIMIT = 1000
PRUNE_BATCH = 2000  # rows deleted per statement, so a backlog never holds the lock for long


async def optimize(session: AsyncSession) -> None:
    """Refresh SQLite's planner statistics; without them it picks the wrong index for the board.

    PostgreSQL keeps its own statistics (autovacuum), so this is SQLite only.
    """
    if session.bind is None or session.bind.dialect.name != "sqlite":
        return
    await session.execute(text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
    await session.execute(text("ANALYZE"))


async def prune_outbox(session: AsyncSession, account: str, before: datetime) -> int:
    """Delete this account's sent and dropped messages due before a time; returns how many.

    Pending and failed ones stay (they are still work, or an operator's to look at), and so
    do their send attempts. A pruned key does not come back: what queued it (a message id, a
    task) is remembered on its own.
    """
    total = 0
    while True:
        ids = (
            await session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.account == account,
                    OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.DROPPED]),
                    OutboxMessage.not_before < before,  # (the due index's range)
                )
                .limit(PRUNE_BATCH)
            )
        ).all()
        if not ids:
            break
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        total += len(ids)
        if len(ids) < PRUNE_BATCH:
            break
    await session.execute(
        delete(SendAttempt).where(
            SendAttempt.account == account,
            SendAttempt.outcome.in_(SETTLED_OUTCOMES),
            SendAttempt.started_at < before,
        )
    )
    return total

"""Scheduled work kept in the database, unique by key, so no process runs an occasion twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.domain import TaskStatus
from storage.models import ScheduledTask
from storage.upsert import insert_ignore


async def schedule(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Schedule a task unless one with this key exists; True if it was new."""
    return await insert_ignore(
        session,
        ScheduledTask,
        {
            "key": key,
            "kind": kind,
            "due_at": due_at,
            "payload": payload or {},
            "status": TaskStatus.PENDING,
        },
        ["key"],
    )


def _runnable(now: datetime) -> ColumnElement[bool]:
    # A "running" task whose lease ran out belongs to a process that died: run it again.
    return or_(
        ScheduledTask.status == TaskStatus.PENDING,
        and_(ScheduledTask.status == TaskStatus.RUNNING, ScheduledTask.claimed_until < now),
    )


async def due(session: AsyncSession, now: datetime, limit: int = 100) -> Sequence[ScheduledTask]:
    """Tasks whose time has come, oldest first."""
    result = await session.execute(
        select(ScheduledTask)
        .where(ScheduledTask.due_at <= now, _runnable(now))
        .order_by(ScheduledTask.due_at, ScheduledTask.id)
        .limit(limit)
    )
    return result.scalars().all()


async def claim(session: AsyncSession, task_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a task to run it; False if another process has it."""
    result = await session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.id == task_id, _runnable(now))
        .values(status=TaskStatus.RUNNING, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def finish(session: AsyncSession, task_id: int, status: TaskStatus, now: datetime) -> None:
    """Record how a task ended (done or stale)."""
    await session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.id == task_id)
        .values(status=status, done_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def cancel(session: AsyncSession, key_prefix: str, now: datetime) -> int:
    """Cancel pending tasks whose key starts with a prefix; returns how many."""
    result = await session.execute(
        update(ScheduledTask)
        .where(
            ScheduledTask.key.startswith(key_prefix), ScheduledTask.status == TaskStatus.PENDING
        )
        .values(status=TaskStatus.CANCELLED, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending task is due."""
    result = await session.execute(
        select(func.min(ScheduledTask.due_at)).where(ScheduledTask.status == TaskStatus.PENDING)
    )
    return result.scalar_one_or_none()

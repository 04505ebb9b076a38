"""Scheduled work kept in the database, unique by key, so no process runs an occasion twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.domain import TaskStatus
from storage.chunks import chunks
from storage.models import ScheduledTask
from storage.upsert import insert_ignore, insert_ignore_many


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


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to schedule (see `schedule`)."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


async def schedule_many(session: AsyncSession, new: Sequence[NewTask]) -> int:
    """Schedule several tasks in one statement, skipping keys that exist; returns how many."""
    if not new:
        return 0
    return await insert_ignore_many(
        session,
        ScheduledTask,
        [
            {
                "key": t.key,
                "kind": t.kind,
                "due_at": t.due_at,
                "payload": t.payload,
                "status": TaskStatus.PENDING,
            }
            for t in new
        ],
        ["key"],
    )


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these task keys are taken (exact, indexed look-ups, a few hundred at a time)."""
    found: set[str] = set()
    for chunk in chunks(keys):
        result = await session.scalars(
            select(ScheduledTask.key).where(ScheduledTask.key.in_(chunk))
        )
        found.update(result.all())
    return found


def _runnable(now: datetime) -> ColumnElement[bool]:
    # A "running" task whose lease ran out belongs to a process that died: run it again.
    # The IN comes first so the (status, due_at) index bounds the scan to live tasks; done
    # ones, which pile up forever, are never read.
    return and_(
        ScheduledTask.status.in_([TaskStatus.PENDING, TaskStatus.RUNNING]),
        or_(ScheduledTask.status == TaskStatus.PENDING, ScheduledTask.claimed_until < now),
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
    """Take a task to run it; False if another process has it.

    On PostgreSQL a task another process is running right now is skipped (SKIP LOCKED),
    not waited for; SQLite's write lock already lets one process in at a time.
    """
    free = await session.scalar(
        select(ScheduledTask.id)
        .where(ScheduledTask.id == task_id, _runnable(now))
        .with_for_update(skip_locked=True)
    )
    if free is None:
        return False
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
    """Cancel pending tasks whose key starts with a prefix; returns how many.

    Reads only pending tasks (the status index), not every task ever done.
    """
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

"""When a room last got (or will get) an activity's roster, kept as rows of scheduled_tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import TaskStatus
from storage import tasks
from storage.models import ScheduledTask
from storage.upsert import insert_ignore

ROSTER_TASK = "activity.roster"
# Built once with parameters: every sign-up asks it. Keys from the prefix up to the prefix
# with its last ":" raised to ";" are exactly those that start with it, in byte order (the
# key's order on both databases, see the model), so they are a range of the unique index. A
# LIKE could not use it: SQLite's LIKE ignores case, and PostgreSQL's needs a literal pattern
# in the database's collation; either read every task ever scheduled (three per report).
_LATEST = (
    select(ScheduledTask)
    .where(
        ScheduledTask.key >= bindparam("prefix"),
        ScheduledTask.key < bindparam("prefix_end"),
        ScheduledTask.status.in_((TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.DONE)),
    )
    .order_by(ScheduledTask.due_at.desc())
    .limit(1)
)


def roster_prefix(activity_id: int, room: str) -> str:
    """The key prefix of one activity's roster posts in one room."""
    return f"roster:{activity_id}:{room}:"


async def latest(session: AsyncSession, activity_id: int, room: str) -> ScheduledTask | None:
    """The latest roster post of an activity in a room, pending or done."""
    prefix = roster_prefix(activity_id, room)
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    found = await session.execute(_LATEST, {"prefix": prefix, "prefix_end": end})
    return found.scalar_one_or_none()


async def record_posted(session: AsyncSession, activity_id: int, room: str, now: datetime) -> bool:
    """Note that a roster went out now (posted by a handler, not by a task)."""
    payload: dict[str, Any] = {"activity_id": activity_id, "room": room}
    return await insert_ignore(
        session,
        ScheduledTask,
        {
            "key": roster_prefix(activity_id, room) + now.isoformat(),
            "kind": ROSTER_TASK,
            "due_at": now,
            "payload": payload,
            "status": TaskStatus.DONE,
            "done_at": now,
        },
        ["key"],
    )


async def schedule_post(
    session: AsyncSession, activity_id: int, room: str, due_at: datetime
) -> bool:
    """Schedule the next roster post of an activity in a room."""
    return await tasks.schedule(
        session,
        key=roster_prefix(activity_id, room) + due_at.isoformat(),
        kind=ROSTER_TASK,
        due_at=due_at,
        payload={"activity_id": activity_id, "room": room},
    )

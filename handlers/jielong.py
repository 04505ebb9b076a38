"""接龙 without flooding the group: at most one roster per room and activity every 10 minutes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.domain import SignupStatus, TaskStatus
from bot.core.messages import Outgoing
from handlers.context import TaskContext
from handlers.outcome import Outcome, said
from handlers.payloads import RosterPayload
from handlers.texts import local_text
from storage import rosters
from storage.activities import ActivityRepository
from storage.models import Activity, ScheduledTask

ROSTER_TASK = rosters.ROSTER_TASK
ROSTER_GRACE = timedelta(hours=6)


async def touch_roster(
    session: AsyncSession, config: Config, activity: Activity, room: str, now: datetime
) -> list[Outgoing]:
    """After a sign-up change in a room: post the roster now, or once the gap is over."""
    gap = config.services.roster_gap
    last = await rosters.latest(session, activity.id, room)
    if last is not None and last.status in (TaskStatus.PENDING, TaskStatus.RUNNING):
        return []  # a roster is already on its way and will show this change too
    if last is None or last.due_at + gap <= now:
        await rosters.record_posted(session, activity.id, room, now)
        return [await roster_message(session, config.bot.tz, activity, room)]
    await rosters.schedule_post(session, activity.id, room, last.due_at + gap)
    return []


async def post_roster(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: the batched roster of an activity in one room."""
    payload = RosterPayload.of(task)
    activity = await ActivityRepository(ctx.session).get(payload.activity_id)
    if activity is None or activity.starts_at <= ctx.now:
        return Outcome()
    return said([await roster_message(ctx.session, ctx.config.bot.tz, activity, payload.room)])


async def roster_message(
    session: AsyncSession, tz: ZoneInfo, activity: Activity, room: str
) -> Outgoing:
    """The group roster: who is in (names only), how many places are left, the waiting list."""
    repo = ActivityRepository(session)
    every = await repo.signups(activity.id)  # one query; withdrawn ones are left out below
    confirmed = [s for s in every if s.status == SignupStatus.CONFIRMED]
    waiting = [s for s in every if s.status == SignupStatus.WAITING]
    people = sum(s.headcount for s in confirmed)
    where = f"，{activity.place}" if activity.place else ""
    lines = [f"「{activity.title}」报名（{local_text(activity.starts_at, tz)}{where}）"]
    names = "、".join(_who(s.person_name, s.headcount) for s in confirmed)
    lines.append(f"已报名 {people} 人：{names}" if confirmed else "暂时还没有人报名。")
    if activity.capacity is None:
        lines.append("不限名额。")
    elif people < activity.capacity:
        lines.append(f"还剩 {activity.capacity - people} 个名额。")
    else:
        lines.append("名额已满，继续报名将进入候补。")
    if waiting:
        lines.append("候补：" + "、".join(_who(s.person_name, s.headcount) for s in waiting))
    return Outgoing(to_room=room, to_person=None, text="\n".join(lines))


def _who(name: str, headcount: int) -> str:
    return name if headcount == 1 else f"{name}×{headcount}"

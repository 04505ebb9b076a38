"""Activities: configured ones synced to storage, 发布活动, announcements, reminders, 名单."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import at_local
from bot.core.config import Config
from bot.core.domain import ActivitySource, ActivityStatus, SignupStatus
from bot.core.grid import Grid
from bot.core.messages import Outgoing
from bot.core.quiet_hours import in_quiet_hours, quiet_end
from handlers.context import HandlerContext, TaskContext
from handlers.outcome import Outcome, said
from handlers.payloads import ActivityReminderPayload, AnnouncePayload
from handlers.permissions import PUBLISHER_WINDOW, organised_compounds
from handlers.texts import local_text
from intents import Command
from intents.drafts import ActivityText, read_activity_text
from storage import activities as activity_store
from storage import tasks
from storage.activities import ActivityRepository, NewActivity
from storage.models import Activity, ScheduledTask

ANNOUNCE_TASK = "activity.announce"
REMIND_TASK = "activity.remind"
ANNOUNCE_GRACE = timedelta(days=1)
REMIND_GRACE = timedelta(minutes=30)
EVE_AT = time(20, 0)
HOUR_BEFORE = timedelta(hours=1)
# Titles stay visible to the parser a while after the start, so a late 报名 hears it is closed.
CLOSED_VISIBLE = timedelta(hours=12)
EXAMPLE = "发布活动 冬至包饺子 12月21日15:00 党群连心园 30人"


async def activity_titles(session: AsyncSession, compound: str, now: datetime) -> tuple[str, ...]:
    """Titles of a compound's activities open for sign-up (and just closed), for the parser."""
    found = await ActivityRepository(session).of_compound(compound, now - CLOSED_VISIBLE)
    return tuple(dict.fromkeys(a.title for a in found))


@dataclass(frozen=True, slots=True)
class _Titles:
    stamp: int
    loaded_at: datetime
    upcoming: tuple[tuple[str, datetime], ...]  # (title, starts_at), soonest first


class ActivityTitleCache:
    """`activity_titles`, read again only when the compound's activity stamp has moved.

    Every group message is parsed against its compound's titles; most are chit-chat, so the
    titles are kept per compound in this process and checked with one primary-key read of the
    stamp (storage.activities.version), which every change of an activity moves in its own
    transaction: another process's new activity is seen by the next message.
    """

    def __init__(self) -> None:
        self._by_compound: dict[str, _Titles] = {}

    async def __call__(
        self, session: AsyncSession, compound: str, now: datetime
    ) -> tuple[str, ...]:
        """Titles open for sign-up in a compound now (see `activity_titles`)."""
        stamp = await activity_store.version(session, compound)
        cached = self._by_compound.get(compound)
        if cached is None or cached.stamp != stamp or now < cached.loaded_at:
            found = await ActivityRepository(session).of_compound(compound, now - CLOSED_VISIBLE)
            cached = _Titles(stamp, now, tuple((a.title, a.starts_at) for a in found))
            self._by_compound[compound] = cached
        # Time only closes activities (an opening moves the stamp), so filtering is enough.
        since = now - CLOSED_VISIBLE
        return tuple(dict.fromkeys(title for title, starts in cached.upcoming if starts > since))


async def sync_configured(ctx: TaskContext) -> None:
    """Planner: store upcoming configured activities once, and schedule their announcements."""
    repo = ActivityRepository(ctx.session)
    tz = ctx.config.bot.tz
    upcoming = []
    for item in ctx.config.activities:
        starts = item.starts_at if item.starts_at.tzinfo else item.starts_at.replace(tzinfo=tz)
        if starts > ctx.now:
            key = f"config:{item.compound}:{item.title}:{starts.astimezone(tz).isoformat()}"
            upcoming.append((item, starts, key))
    # Planning runs on every poll: what is stored already is found in a few batched queries,
    # not one query per configured activity.
    stored = await repo.existing_keys([key for _, _, key in upcoming])
    for item, starts, key in upcoming:
        if key in stored:
            continue
        earlier = await repo.by_title(item.compound, item.title, ctx.now)
        if earlier is not None and earlier.source == ActivitySource.CONFIG:
            # The config moved an upcoming activity: keep its sign-ups, tell the rooms.
            earlier.key, earlier.starts_at = key, starts
            earlier.place, earlier.capacity = item.place or None, item.capacity
            await repo.changed(earlier)
            await schedule_announcement(ctx.session, ctx.config, earlier, ctx.now, changed=True)
            await schedule_reminders(ctx.session, ctx.config, earlier, ctx.now)
            continue
        activity, new = await repo.add(
            NewActivity(
                key=key,
                source=ActivitySource.CONFIG,
                compound=item.compound,
                title=item.title,
                starts_at=starts,
                place=item.place or None,
                capacity=item.capacity,
                created_by=None,
            ),
            ctx.now,
        )
        if new:
            await schedule_announcement(ctx.session, ctx.config, activity, ctx.now)
            await schedule_reminders(ctx.session, ctx.config, activity, ctx.now)


async def schedule_announcement(
    session: AsyncSession, config: Config, activity: Activity, now: datetime, changed: bool = False
) -> None:
    """Announce the activity (or its change) in its rooms now, or when the quiet hours end."""
    tz, quiet = config.bot.tz, config.bot.quiet
    due = quiet_end(now, tz, quiet) if quiet and in_quiet_hours(now, tz, quiet) else now
    what = f"changed:{activity.starts_at.isoformat()}" if changed else "announce"
    await tasks.schedule(
        session,
        key=f"activity:{activity.id}:{what}",
        kind=ANNOUNCE_TASK,
        due_at=due,
        payload=AnnouncePayload(activity_id=activity.id, changed=changed).dump(),
    )


async def schedule_reminders(
    session: AsyncSession, config: Config, activity: Activity, now: datetime
) -> None:
    """The evening-before (20:00) and hour-before reminders, when still ahead."""
    for which in ("eve", "hour"):
        # Reminders of an earlier start time (the activity moved) are no longer wanted.
        await tasks.cancel(session, f"activity:{activity.id}:{which}:", now)
    await tasks.schedule_many(session, reminder_tasks(config, activity, now))


def reminder_tasks(config: Config, activity: Activity, now: datetime) -> list[tasks.NewTask]:
    """An activity's evening-before (20:00) and hour-before reminders that are still ahead."""
    tz = config.bot.tz
    eve = at_local(activity.starts_at.astimezone(tz).date() - timedelta(days=1), EVE_AT, tz)
    when: tuple[tuple[Literal["eve", "hour"], datetime], ...] = (
        ("eve", eve),
        ("hour", activity.starts_at - HOUR_BEFORE),
    )
    return [
        tasks.NewTask(
            key=f"activity:{activity.id}:{which}:{due.isoformat()}",
            kind=REMIND_TASK,
            due_at=due,
            payload=ActivityReminderPayload(activity_id=activity.id, which=which).dump(),
        )
        for which, due in when
        if due > now
    ]


def describe_activity(activity: Activity, config: Config) -> str:
    """Time, place and places of an activity, one line each."""
    lines = [f"时间：{local_text(activity.starts_at, config.bot.tz)}"]
    if activity.place:
        lines.append(f"地点：{activity.place}")
    lines.append(f"名额：{activity.capacity}人" if activity.capacity else "名额：不限")
    return "\n".join(lines)


def announcement(
    activity: Activity, grid: Grid, config: Config, changed: bool = False
) -> list[Outgoing]:
    """The new-activity (or changed-activity) notice for every room of the compound."""
    head = "【活动变更】" if changed else "【活动报名】"
    tail = "已报名的不用重新报名。" if changed else ""
    text = (
        f"{head}{activity.title}\n{describe_activity(activity, config)}\n"
        f"在群里回复「报名 {activity.title} 人数」即可报名，不能来请回复「取消报名」。{tail}"
    )
    return [
        Outgoing(to_room=r.room.topic, to_person=None, text=text)
        for r in grid.rooms_of(activity.compound)
    ]


async def announce(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: announce a configured activity."""
    payload = AnnouncePayload.of(task)
    activity = await ActivityRepository(ctx.session).get(payload.activity_id)
    if activity is None or activity.status != ActivityStatus.OPEN or activity.starts_at <= ctx.now:
        return Outcome()
    return said(announcement(activity, ctx.grid, ctx.config, payload.changed))


async def remind(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: remind the people signed up, in the rooms they signed up from."""
    repo = ActivityRepository(ctx.session)
    payload = ActivityReminderPayload.of(task)
    activity = await repo.get(payload.activity_id)
    if activity is None or activity.status != ActivityStatus.OPEN or activity.starts_at <= ctx.now:
        return Outcome()
    by_room: dict[str, list[tuple[str, str]]] = {}
    for s in await repo.signups(activity.id, SignupStatus.CONFIRMED):
        if s.room is not None:
            by_room.setdefault(s.room, []).append((s.person_id, s.person_name))
    start = activity.starts_at.astimezone(ctx.config.bot.tz)
    where = f"，地点{activity.place}" if activity.place else ""
    if payload.which == "eve":
        body = (
            f"提醒：明天（{start.month}月{start.day}日）{start:%H:%M}「{activity.title}」{where}。"
        )
        body += "不能来请回复「取消报名」，把名额留给邻居。"
    else:
        body = f"「{activity.title}」1小时后（{start:%H:%M}）开始{where}，请准时参加。"
    out = []
    for room, people in by_room.items():
        mentions = " ".join(f"@{name}" for _, name in people)
        out.append(
            Outgoing(
                to_room=room,
                to_person=None,
                text=f"{mentions} {body}",
                mention_ids=tuple(pid for pid, _ in people),
            )
        )
    return said(out)


async def publish_activity(ctx: HandlerContext, command: Command) -> Outcome:
    """发布活动 <标题> <日期时间> <地点> <人数>: store it, confirm, announce it in the rooms."""
    compounds = organised_compounds(ctx)
    written = command.activity or read_activity_text("")
    compound = next((c for c in compounds if c in command.arg), None)
    if compound is not None:
        written = written.without(compound)
    elif len(compounds) == 1:
        compound = compounds[0]
    else:
        return said(
            [
                ctx.reply_private(
                    f"您负责{len(compounds)}个小区（{'、'.join(compounds)}），请写明小区，"
                    f"如「发布活动 {compounds[0]} 冬至包饺子 12月21日15:00 党群连心园 30人」。"
                )
            ]
        )
    draft = ActivityDraft.of(written, ctx.now, ctx.config.bot.tz)
    understood = draft.understood()
    if draft.missing():
        text = (
            f"{understood}\n还缺：{'、'.join(draft.missing())}。请补全后重新发送，例如：{EXAMPLE}"
        )
        return said([ctx.reply_private(text)])
    assert draft.title is not None and draft.starts_at is not None
    if draft.starts_at <= ctx.now:
        text = f"{understood}\n这个时间已经过去了，请核对日期后重新发送。"
        return said([ctx.reply_private(text)])
    repo = ActivityRepository(ctx.session)
    same = await repo.by_title(compound, draft.title, ctx.now)
    if same is not None and same.starts_at == draft.starts_at:
        return said([ctx.reply_private(f"「{draft.title}」已经发布过了，无需重复发布。")])
    activity, _ = await repo.add(
        NewActivity(
            key=f"published:{ctx.message.message_id}",
            source=ActivitySource.PUBLISHED,
            compound=compound,
            title=draft.title,
            starts_at=draft.starts_at,
            place=draft.place,
            capacity=draft.capacity,
            created_by=ctx.sender_id,
        ),
        ctx.now,
    )
    await schedule_reminders(ctx.session, ctx.config, activity, ctx.now)
    return said(
        [
            ctx.reply_private(
                f"已发布到{compound}各群：\n活动：{activity.title}\n"
                f"{describe_activity(activity, ctx.config)}\n"
                f"发送「名单 {activity.title}」查看报名。"
            ),
            *announcement(activity, ctx.grid, ctx.config),
        ]
    )


@dataclass(frozen=True, slots=True)
class ActivityDraft:
    """What could be read from a 发布活动 text."""

    title: str | None
    day: date | None
    clock: time | None
    place: str | None
    capacity: int | None
    tz: ZoneInfo

    @classmethod
    def of(cls, written: ActivityText, now: datetime, tz: ZoneInfo) -> ActivityDraft:
        """The draft of what was written, its day resolved against today in `tz`."""
        today = now.astimezone(tz).date()
        return cls(
            title=written.title,
            day=written.day.resolve(today) if written.day is not None else None,
            clock=written.clock,
            place=written.place,
            capacity=written.capacity,
            tz=tz,
        )

    @property
    def starts_at(self) -> datetime | None:
        """The start, once both the date and the time are known."""
        if self.day is None or self.clock is None:
            return None
        return at_local(self.day, self.clock, self.tz)

    def missing(self) -> list[str]:
        """The parts still needed, in Chinese."""
        wanted = (
            (self.title, "活动名称"),
            (self.day, "日期"),
            (self.clock, "开始时间"),
            (self.place, "地点"),
        )
        return [name for value, name in wanted if not value]

    def understood(self) -> str:
        """What was understood, for the organiser to check."""
        parts = ["我理解的是：", f"活动：{self.title or '？'}"]
        if self.starts_at is not None:
            parts.append(f"时间：{local_text(self.starts_at, self.tz)}")
        elif self.day is not None:
            parts.append(f"日期：{self.day.month}月{self.day.day}日（时间？）")
        elif self.clock is not None:
            parts.append(f"时间：{self.clock:%H:%M}（日期？）")
        parts.append(f"地点：{self.place or '？'}")
        parts.append(f"名额：{self.capacity}人" if self.capacity else "名额：不限")
        return "\n".join(parts)


def read_activity(text: str, now: datetime, config: Config) -> ActivityDraft:
    """The draft a 发布活动 text gives, its day seen from `now`."""
    return ActivityDraft.of(read_activity_text(text), now, config.bot.tz)


async def show_roster(ctx: HandlerContext, command: Command) -> Outcome:
    """名单 <活动>: the full roster, in private, for the compound's organisers."""
    repo = ActivityRepository(ctx.session)
    since = ctx.now - PUBLISHER_WINDOW
    candidates = [a for c in organised_compounds(ctx) for a in await repo.of_compound(c, since)]
    own = await _created_by(ctx, since)
    candidates += [a for a in own if a not in candidates]
    if not candidates:
        return said([ctx.reply_private("最近没有可以查看报名名单的活动。")])
    wanted = command.arg.strip()
    matches = [a for a in candidates if wanted and (a.title in wanted or wanted in a.title)]
    if len(matches) != 1:
        titles = "、".join(dict.fromkeys(a.title for a in candidates))
        text = f"请写明活动名称，如「名单 {candidates[0].title}」。可查看：{titles}"
        return said([ctx.reply_private(text)])
    return said([ctx.reply_private(await roster_text(ctx.session, matches[0], ctx.config))])


async def _created_by(ctx: HandlerContext, since: datetime) -> list[Activity]:
    repo = ActivityRepository(ctx.session)
    out = []
    for compound in ctx.grid.compounds_of_person(ctx.sender_id):
        found = await repo.of_compound(compound, since)
        out += [a for a in found if a.created_by == ctx.sender_id]
    return out


async def roster_text(session: AsyncSession, activity: Activity, config: Config) -> str:
    """The organiser's roster: every name with headcount and room, then the waiting list."""
    repo = ActivityRepository(session)
    confirmed = await repo.signups(activity.id, SignupStatus.CONFIRMED)
    waiting = await repo.signups(activity.id, SignupStatus.WAITING)
    people = sum(s.headcount for s in confirmed)
    cap = f"/{activity.capacity}" if activity.capacity else ""
    lines = [
        f"「{activity.title}」{local_text(activity.starts_at, config.bot.tz)}",
        f"已报名 {people}{cap} 人（{len(confirmed)} 户）：",
    ]
    for i, s in enumerate(confirmed, 1):
        lines.append(f"{i}. {s.person_name} {s.headcount}人（{s.room or '私聊'}）")
    if waiting:
        lines.append(f"候补 {sum(s.headcount for s in waiting)} 人：")
        for i, s in enumerate(waiting, 1):
            lines.append(f"{i}. {s.person_name} {s.headcount}人（{s.room or '私聊'}）")
    return "\n".join(lines)

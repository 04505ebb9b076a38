"""每月28日共建日: reminders with the month's theme, the month's activity, the recap after."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.core.clock import at_local
from bot.core.config import Config, parse_reminder_offset
from bot.core.domain import ActivitySource
from bot.core.messages import Outgoing
from handlers.activities import reminder_tasks
from handlers.context import TaskContext
from handlers.outcome import Outcome, said
from handlers.payloads import RecapPayload, RoomReminderPayload
from storage import tasks
from storage.activities import ActivityRepository, NewActivity, add_many
from storage.chunks import chunks
from storage.models import ScheduledTask
from storage.stats import MonthFigures, month_figures

REMINDER_TASK = "cobuilding.reminder"
RECAP_TASK = "cobuilding.recap"
# A restart a few minutes after the time still posts; hours later the reminder is stale.
REMINDER_GRACE = timedelta(minutes=30)
RECAP_GRACE = timedelta(hours=6)
RECAP_AT = time(9, 0)
ACTIVITY_AHEAD = timedelta(days=31)  # the month's activity opens right after last month's


def month_key(day: date) -> str:
    """ "2026-12" for a day in December 2026."""
    return f"{day.year:04d}-{day.month:02d}"


def theme_of(config: Config, year: int, month: int) -> str:
    """The month's theme: the configured themes in turn, one a month, the same in every process."""
    themes = config.co_building_day.themes
    return themes[(year * 12 + month - 1) % len(themes)]


def activity_title(month: int) -> str:
    """The title residents sign up with: "12月共建日"."""
    return f"{month}月共建日"


def _occasion_days(now: datetime, config: Config) -> list[date]:
    local = now.astimezone(config.bot.tz).date()
    nxt = date(local.year + (local.month == 12), local.month % 12 + 1, 1)
    day = config.co_building_day.day
    return [date(local.year, local.month, day), date(nxt.year, nxt.month, day)]


async def plan_cobuilding(ctx: TaskContext) -> None:
    """Planner: this and next month's reminders per room, recaps and activities per compound."""
    tz = ctx.config.bot.tz
    for day in _occasion_days(ctx.now, ctx.config):
        month = month_key(day)
        # Planning runs on every poll: the month's keys are looked up exactly (indexed), so
        # the cost follows the config, not every task ever scheduled.
        candidates = [
            f"cobuild:{month}:{offset.strip()}:{room.room.topic}"
            for offset in ctx.config.co_building_day.reminders
            for room in ctx.grid.rooms()
        ] + [f"cobuild:{month}:recap:{compound.name}" for compound in ctx.grid.compounds()]
        existing = await tasks.existing_keys(ctx.session, candidates)
        activities = await _stored_activities(ctx, day)
        new: list[tasks.NewTask] = []
        for offset in ctx.config.co_building_day.reminders:
            days, at = parse_reminder_offset(offset)
            due = at_local(day + timedelta(days=days), at, tz)
            # Occasions already past their grace are not planned: a late start posts nothing stale.
            if due < ctx.now - REMINDER_GRACE:
                continue
            for room in ctx.grid.rooms():
                key = f"cobuild:{month}:{offset.strip()}:{room.room.topic}"
                if key not in existing:
                    payload = RoomReminderPayload(room=room.room.topic, day=day, offset=days)
                    new.append(tasks.NewTask(key, REMINDER_TASK, due, payload.dump()))
        recap_due = at_local(day + timedelta(days=1), RECAP_AT, tz)
        for compound in ctx.grid.compounds():
            key = f"cobuild:{month}:recap:{compound.name}"
            if recap_due >= ctx.now - RECAP_GRACE and key not in existing:
                payload_ = RecapPayload(compound=compound.name, day=day)
                new.append(tasks.NewTask(key, RECAP_TASK, recap_due, payload_.dump()))
        if activities is not None:
            new += await _ensure_activities(ctx, day, activities)
        for chunk in chunks(new):
            await tasks.schedule_many(ctx.session, chunk)


async def _stored_activities(ctx: TaskContext, day: date) -> set[str] | None:
    """The keys of the day's activities already stored; None when it is not time for them."""
    starts = at_local(day, ctx.config.co_building_day.activity_time, ctx.config.bot.tz)
    if not (ctx.now < starts <= ctx.now + ACTIVITY_AHEAD):
        return None
    keys = [f"cobuilding:{c.name}:{month_key(day)}" for c in ctx.grid.compounds()]
    return await ActivityRepository(ctx.session).existing_keys(keys)


async def _ensure_activities(ctx: TaskContext, day: date, stored: set[str]) -> list[tasks.NewTask]:
    """Store the day's activity of every compound that has none; their reminders to schedule."""
    starts = at_local(day, ctx.config.co_building_day.activity_time, ctx.config.bot.tz)
    missing = [
        NewActivity(
            key=key,
            source=ActivitySource.COBUILDING,
            compound=compound.name,
            title=activity_title(day.month),
            starts_at=starts,
            place=None,
            capacity=None,
            created_by=None,
        )
        for compound in ctx.grid.compounds()
        if (key := f"cobuilding:{compound.name}:{month_key(day)}") not in stored
    ]
    if not missing:
        return []
    # Another process may store some of them first: its reminders have the same keys, so
    # scheduling them for every activity asked for doubles nothing.
    created = await add_many(ctx.session, missing, ctx.now)
    return [t for activity in created for t in reminder_tasks(ctx.config, activity, ctx.now)]


async def remind_room(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: one room's reminder of the co-building day, naming the month's theme."""
    payload = RoomReminderPayload.of(task)
    day, offset = payload.day, payload.offset
    theme = theme_of(ctx.config, day.year, day.month)
    title = activity_title(day.month)
    head = f"【每月{day.day}日共建日】"
    if offset == 0:
        text = (
            f"{head}今天是本月共建日，主题「{theme}」，"
            f"{ctx.config.co_building_day.activity_time:%H:%M}开始。"
            f"欢迎邻里一起参加，报名请回复「报名 {title}」。"
        )
    else:
        when = {-1: "明天", -2: "后天"}.get(offset, f"{-offset}天后")
        text = (
            f"{head}{when}（{day.month}月{day.day}日）是本月共建日，主题「{theme}」。"
            f"欢迎邻里一起参加，报名请回复「报名 {title} 人数」。"
        )
    return said([Outgoing(to_room=payload.room, to_person=None, text=text)])


async def send_recap(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: the month's figures to the compound's secretary, the day after the 共建日."""
    payload = RecapPayload.of(task)
    compound, day = payload.compound, payload.day
    secretary = ctx.grid.secretary(compound)
    targets = [secretary] if secretary is not None else ctx.grid.workers(compound)
    if not targets:
        return Outcome()
    tz = ctx.config.bot.tz
    start = at_local(day.replace(day=1), time(0, 0), tz)
    figures = await month_figures(ctx.session, compound, start, ctx.now)
    text = recap_text(compound, day, theme_of(ctx.config, day.year, day.month), figures)
    return said([Outgoing(to_room=None, to_person=p.id, text=text) for p in targets])


def recap_text(compound: str, day: date, theme: str, f: MonthFigures) -> str:
    """The secretary's recap, a few short lines."""
    lines = [f"{compound} {day.month}月共建日小结（主题「{theme}」）"]
    for a in f.activities:
        extra = f"，候补 {a.waiting} 户" if a.waiting else ""
        lines.append(
            f"· {a.title}：报名 {a.households} 户 {a.people} 人，取消 {a.withdrawn} 户{extra}"
        )
    if not f.activities:
        lines.append("· 本月没有活动报名。")
    lines.append(f"· 报事：新增 {f.reports_filed} 件，办结 {f.reports_resolved} 件")
    if f.escalations:
        lines.append(f"· 超时升级（统办）：{f.escalations} 次")
    lines.append(f"· 微心愿：新增 {f.wishes_filed} 个，完成 {f.wishes_done} 个")
    if f.mean_time_to_take is not None:
        minutes = int(f.mean_time_to_take.total_seconds() // 60)
        took = f"{minutes}分钟" if minutes < 120 else f"{minutes / 60:.1f}小时"
        lines.append(f"· 平均接单用时：{took}")
    if f.mean_rating is not None:
        rate = f"{f.satisfied / f.ratings:.0%}" if f.ratings else "—"
        counts = f"{f.satisfied}/{f.ratings} 满意或基本满意"
        lines.append(f"· 满意率：{rate}（{counts}），平均 {f.mean_rating:.1f} 分")
    else:
        lines.append("· 满意度：本月暂无评价")
    return "\n".join(lines)

"""报名 / 取消报名 in groups: headcounts, capacity in people, a waiting list promoted in order."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.domain import SignupStatus
from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.jielong import touch_roster
from handlers.outcome import Outcome, said
from handlers.texts import address_name
from intents import Intent
from storage.activities import ActivityRepository
from storage.models import Activity

# A bare "+1" joins the activity this room signed up to lately; with no chain going on, silence.
RECENT_IN_ROOM = timedelta(days=2)


async def _named_or_recent(ctx: HandlerContext, title: str | None) -> Activity | None:
    assert ctx.room is not None and ctx.message.room is not None
    repo = ActivityRepository(ctx.session)
    compound = ctx.room.compound.name
    if title is not None:
        # Upcoming first; else the one that just started, so the sender hears it is closed.
        return await repo.by_title(compound, title, ctx.now) or await repo.by_title(
            compound, title, ctx.now - timedelta(hours=12)
        )
    if not is_bare_signup(ctx.message.text):
        return None  # it names something that is no open activity here
    return await repo.latest_in_room(
        ctx.message.room, compound, ctx.now, active_since=ctx.now - RECENT_IN_ROOM
    )


_BARE = re.compile(
    r"[\s\d+＋.。!！,，~、]|报名|参加|算我|加我|我|一个|一|两|二|三|人|个|位|家|口|也|了|吧"
)


def is_bare_signup(text: str) -> bool:
    """ "+1", "算我一个", "报名2人": a sign-up that names no activity."""
    return len(_BARE.sub("", text)) <= 1


async def join_activity(ctx: HandlerContext, intent: Intent) -> Outcome:
    """Sign the sender up (or change their headcount); the roster follows, batched."""
    assert ctx.message.room is not None
    activity = await _named_or_recent(ctx, intent.activity)
    if activity is None:
        return Outcome()  # silence: a "+1" that is not about any activity
    if activity.starts_at <= ctx.now:
        return said([ctx.answer(f"「{activity.title}」已经开始，报名已截止。")])
    repo = ActivityRepository(ctx.session)
    headcount = max(1, intent.headcount or 1)
    signup, taken = await repo.signup_and_taken(activity.id, ctx.sender_id)
    cap = activity.capacity
    out: list[Outgoing] = []
    if signup is not None and signup.status in (SignupStatus.CONFIRMED, SignupStatus.WAITING):
        if signup.headcount == headcount:
            return Outcome()  # the same line again (接龙 repeats every earlier line): no change
        if signup.status == SignupStatus.CONFIRMED and cap is not None:
            room_for_me = cap - (taken - signup.headcount)
            if headcount > room_for_me:
                text = (
                    f"「{activity.title}」名额不够了，最多还能报 {room_for_me} 人，"
                    f"仍为您保留 {signup.headcount} 人。"
                )
                return said([ctx.answer(text)])
        shrank = signup.status == SignupStatus.CONFIRMED and headcount < signup.headcount
        signup.headcount = headcount
        signup.updated_at = ctx.now
        signup.room = ctx.message.room
        await repo.flush()
        if shrank:
            out += await promote(ctx, activity)
    else:
        status = (
            SignupStatus.CONFIRMED
            if cap is None or taken + headcount <= cap
            else SignupStatus.WAITING
        )
        if signup is None:
            await repo.insert_signup(
                {
                    "activity_id": activity.id,
                    "person_id": ctx.sender_id,
                    "person_name": address_name(ctx.sender_name),
                    "headcount": headcount,
                    "status": status,
                    "room": ctx.message.room,
                    "queued_at": ctx.now,
                    "created_at": ctx.now,
                    "updated_at": ctx.now,
                }
            )
        else:  # withdrawn before: back in the queue, at its end
            signup.headcount = headcount
            signup.status = status
            signup.room = ctx.message.room
            signup.queued_at = ctx.now
            signup.updated_at = ctx.now
            await repo.flush()
    out += await touch_roster(ctx.session, ctx.config, activity, ctx.message.room, ctx.now)
    return said(out)


async def leave_activity(ctx: HandlerContext, intent: Intent) -> Outcome:
    """Cancel the sender's sign-up; the first on the waiting list who fits moves up."""
    assert ctx.room is not None and ctx.message.room is not None
    repo = ActivityRepository(ctx.session)
    if intent.activity is not None:
        activity = await repo.by_title(ctx.room.compound.name, intent.activity, ctx.now)
        signup = await repo.signup(activity.id, ctx.sender_id) if activity else None
    else:
        mine = await repo.active_signups_of(ctx.sender_id, ctx.room.compound.name, ctx.now)
        if len(mine) > 1:
            titles = []
            for s in mine:
                a = await repo.get(s.activity_id)
                titles.append(a.title if a else "")
            text = (
                f"您报名了{len(mine)}个活动（{'、'.join(titles)}），"
                f"请说明取消哪一个，如「取消报名 {titles[0]}」。"
            )
            return said([ctx.answer(text)])
        signup = mine[0] if mine else None
        activity = await repo.get(signup.activity_id) if signup else None
    if activity is None or signup is None or signup.status == SignupStatus.WITHDRAWN:
        return said([ctx.answer("没有查到您的报名，无需取消。")] if intent.activity else [])
    was_in = signup.status == SignupStatus.CONFIRMED
    signup.status = SignupStatus.WITHDRAWN
    signup.updated_at = ctx.now
    await repo.flush()
    out = [ctx.answer(f"已为您取消「{activity.title}」的报名。")]
    if was_in:
        out += await promote(ctx, activity)
    out += await touch_roster(ctx.session, ctx.config, activity, ctx.message.room, ctx.now)
    return said(out)


async def promote(ctx: HandlerContext, activity: Activity) -> list[Outgoing]:
    """Move waiting sign-ups up in queue order while they fit; tell each in their room."""
    repo = ActivityRepository(ctx.session)
    if activity.capacity is None:
        left = None
    else:
        left = activity.capacity - await repo.people_in(activity.id)
    out: list[Outgoing] = []
    for s in await repo.signups(activity.id, SignupStatus.WAITING):
        if left is not None and s.headcount > left:
            break  # first come, first served: nobody jumps the queue
        s.status = SignupStatus.CONFIRMED
        s.updated_at = ctx.now
        if left is not None:
            left -= s.headcount
        if s.room is not None:
            out.append(
                Outgoing(
                    to_room=s.room,
                    to_person=None,
                    text=f"@{s.person_name} 有名额空出来了，您已从候补转为「{activity.title}」"
                    f"正式报名（{s.headcount}人）。",
                    mention_ids=(s.person_id,),
                )
            )
    await repo.flush()
    return out

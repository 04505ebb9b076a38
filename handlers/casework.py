"""The community worker's desk (the console) and the resident's status page: actions on a case.

Reopen, reply to the resident, internal notes, merge, spam, change of category, a wish claimed
for a volunteer, an activity cancelled. Each runs on the dispatcher's one path, with the console
user (or the resident of the 民情码 status page) as the sender; permissions are declared where
the routes are registered (handlers/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.domain import (
    ACTIVE_STATUSES,
    ActivityStatus,
    CaseAction,
    CaseKind,
    CaseStatus,
    Category,
)
from bot.core.messages import Outgoing
from handlers import sla
from handlers.cases import tell_reporter
from handlers.context import HandlerContext
from handlers.errors import DomainError, UnknownCase, WrongState
from handlers.outcome import Outcome, said
from handlers.permissions import Permission
from handlers.routing import case_label, route_to_building_head
from handlers.subjects import pick_case
from handlers.texts import describe_case, local_text, short
from storage import tasks
from storage.activities import ActivityRepository
from storage.models import Case
from storage.supporters import add_supporter, supporters_of
from storage.wishes import claim_wish


async def _reporter_or_supervisor(ctx: HandlerContext, case: Case | None) -> bool:
    return case is not None and (
        case.reporter_id == ctx.sender_id or ctx.is_supervisor(case.compound)
    )


REOPENER = Permission(
    "the reporter, the secretary or a worker",
    _reporter_or_supervisor,
    lambda case: f"{case_label(case) if case else '这件事项'} 只能由反映人或社区重新打开。",
)
REOPEN_WINDOW = timedelta(days=30)  # a resident may say "还没好" this long after it was closed
MAX_TEXT = 500


class DeskAction(StrEnum):
    """Actions of the console (and of the resident's status page) that no chat command has."""

    REOPEN = "reopen"
    REPLY = "reply"
    NOTE = "note"
    MERGE = "merge"
    SPAM = "spam"
    RECATEGORISE = "category"
    CLAIM_FOR = "claim_for"
    CANCEL_ACTIVITY = "cancel_activity"


@dataclass(frozen=True, slots=True)
class DeskRequest:
    """One desk action as the form sent it, already checked for shape."""

    action: DeskAction
    kind: CaseKind = CaseKind.REPORT
    number: int | None = None  # the case (or, for CANCEL_ACTIVITY, the activity id)
    compound: str | None = None  # the case's compound (numbers count per compound)
    text: str = ""  # note, reply, reason
    other: int | None = None  # MERGE: the case this one joins
    category: Category | None = None  # RECATEGORISE
    person: str | None = None  # CLAIM_FOR: the volunteer's id


class DeskCaseHandler(Protocol):
    """Handles a desk action about one case, already found and permitted."""

    async def __call__(self, ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome: ...


class DeskHandler(Protocol):
    """Handles a desk action about no case (an activity)."""

    async def __call__(self, ctx: HandlerContext, request: DeskRequest) -> Outcome: ...


async def case_of(ctx: HandlerContext, request: DeskRequest) -> Case:
    """The case a desk request names; UnknownCase when there is none."""
    label = request.kind.case_label(request.number or 0)
    if not request.number:
        raise UnknownCase(label)
    if request.compound is not None:
        case = await ctx.cases.get(request.kind, request.number, request.compound)
        if case is None:
            raise UnknownCase(label)
        return case
    return pick_case(ctx, await ctx.cases.numbered(request.kind, request.number), label)


def _text(request: DeskRequest, what: str) -> str:
    text = request.text.strip()
    if not text:
        raise WrongState(f"请写下{what}。")
    if len(text) > MAX_TEXT:
        raise WrongState(f"{what}请不要超过 {MAX_TEXT} 字。")
    return text


async def reopen(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """重新打开 / 还没好: a closed case goes back to its assignee, with the accept clock anew."""
    label = case_label(case)
    by_resident = ctx.sender_id == case.reporter_id
    if case.status in ACTIVE_STATUSES:
        raise WrongState(f"{label} 还在办理中，不用重新打开。")
    if case.status == CaseStatus.CLOSED and by_resident:
        raise WrongState(f"{label} 已关闭，如问题仍在，请重新反映。")
    closed_at = case.resolved_at or case.updated_at
    if by_resident and ctx.now - closed_at > REOPEN_WINDOW:
        raise WrongState(f"{label} 已办结超过 {REOPEN_WINDOW.days} 天，请重新反映。")
    reason = request.text.strip()[:MAX_TEXT]
    if case.assignee_id is None and case.kind == CaseKind.REPORT:
        assignee = route_to_building_head(ctx.grid, case.compound, case.building)
        if assignee is not None:
            case.assignee_id, case.assignee_name = assignee.id, assignee.name
    if case.kind == CaseKind.WISH:
        case.status = CaseStatus.ACCEPTED if case.assignee_id else CaseStatus.OPEN
    else:
        case.status = CaseStatus.OPEN
        case.accepted_at = None
    case.resolved_at = None
    case.rating = None  # the rating was of the closing that did not hold
    case.rated_at = None
    await ctx.cases.log(case, ctx.sender_id, CaseAction.REOPENED, reason, ctx.now)
    if case.kind == CaseKind.REPORT:
        await sla.start_chain(ctx.session, ctx.config, case, sla.ACCEPT, ctx.now)
    who = "居民反映还没好" if by_resident else f"{ctx.sender_name}重新打开"
    why = f"：{short(reason, 80)}" if reason else ""
    out: list[Outgoing] = []
    if case.assignee_id is not None:
        todo = f"接单 {case.number}" if case.kind == CaseKind.REPORT else f"完成 {label} 说明"
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{who}{why}\n{describe_case(case)}\n请重新处理，回复「{todo}」。",
                urgent=case.urgent,
            )
        )
    if by_resident:
        out.append(ctx.answer(f"已重新打开 {label}，已通知承办人，请留意进展。"))
    else:
        out.append(
            ctx.reply_private(f"已重新打开 {label}，已通知{case.assignee_name or '社区'}。")
        )
        out.extend(tell_reporter(case, f"您反映的 {label} 已重新打开处理{why}。"))
    return said(out, case)


async def reply(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """回复居民: the resident hears it in their group, or on their 民情码 status page."""
    text = _text(request, "回复内容")
    label = case_label(case)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.REPLIED, text, ctx.now)
    told = tell_reporter(case, f"社区回复（{label}）：{text}")
    where = "已在群里回复居民" if told else "居民在民情码查询页上能看到回复"
    return said([ctx.reply_private(f"{label}：{where}。"), *told], case)


async def note(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """内部备注: kept in the case log for the console; residents never see it."""
    text = _text(request, "备注")
    await ctx.cases.log(case, ctx.sender_id, CaseAction.NOTE, text, ctx.now)
    return said([ctx.reply_private(f"已记下 {case_label(case)} 的备注。")], case)


async def merge(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """合并: this case joins another about the same problem; its reporter becomes a supporter."""
    label = case_label(case)
    target = (
        await ctx.cases.get(CaseKind(case.kind), request.other, case.compound)
        if request.other
        else None
    )
    if target is None or target.compound != case.compound:
        raise WrongState(f"{case.compound}没有要并入的那件事项，请核对编号。")
    if target.id == case.id:
        raise WrongState("不能把一件事项并入它自己。")
    if case.status not in ACTIVE_STATUSES or target.status not in ACTIVE_STATUSES:
        raise WrongState("只能合并两件都还在办理中的事项。")
    into = case_label(target)
    await add_supporter(
        ctx.session,
        target.id,
        case.reporter_id,
        case.reporter_name,
        case.source_message_id,
        ctx.now,
    )
    for s in await supporters_of(ctx.session, case.id):
        await add_supporter(
            ctx.session, target.id, s.person_id, s.person_name, s.source_message_id, ctx.now
        )
    case.status = CaseStatus.CLOSED
    await sla.stop_chain(ctx.session, case, ctx.now)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.MERGED_INTO, into, ctx.now)
    await ctx.cases.log(target, ctx.sender_id, CaseAction.MERGED, label, ctx.now)
    if case.urgent and not target.urgent:
        target.urgent = True
        await ctx.cases.log(target, ctx.sender_id, CaseAction.MADE_URGENT, label, ctx.now)
        if target.status == CaseStatus.OPEN:
            await sla.start_chain(ctx.session, ctx.config, target, sla.ACCEPT, ctx.now)
    out = [ctx.reply_private(f"已将 {label} 并入 {into}。")]
    if case.assignee_id is not None and case.assignee_id != target.assignee_id:
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{label} 与 {into} 是同一问题，已合并到 {into}，{label} 无需再办。",
            )
        )
    out.extend(tell_reporter(case, f"您反映的 {label} 与 {into} 是同一问题，已合并处理。"))
    return said(out, target)


async def mark_spam(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """标为无效: closed without work; the assignee is told to drop it, the sender hears nothing."""
    label = case_label(case)
    if case.status == CaseStatus.CLOSED:
        raise WrongState(f"{label} 已经关闭了。")
    case.status = CaseStatus.CLOSED
    await sla.stop_chain(ctx.session, case, ctx.now)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.SPAM, request.text.strip(), ctx.now)
    out = [ctx.reply_private(f"已将 {label} 标为无效。")]
    if case.assignee_id is not None:
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{label} 已被社区标为无效反映，无需处理。",
            )
        )
    return said(out, case)


async def recategorise(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """改类别: the category the parser guessed, corrected."""
    new = request.category
    if new is None:
        raise WrongState("请选择类别。")
    old = Category.of(case.category)
    if old is new:
        return said([ctx.reply_private(f"{case_label(case)} 已经是「{new.label}」。")], case)
    case.category = new.value
    await ctx.cases.log(
        case, ctx.sender_id, CaseAction.RECATEGORISED, f"{old.label} → {new.label}", ctx.now
    )
    return said([ctx.reply_private(f"{case_label(case)} 已改为「{new.label}」。")], case)


async def claim_for(ctx: HandlerContext, request: DeskRequest, case: Case) -> Outcome:
    """代认领: a wish claimed on behalf of a volunteer (or head) who said yes on the phone."""
    label = case_label(case)
    compound = ctx.grid.compound(case.compound)
    helpers = {v.id: v.name for v in compound.volunteers}
    helpers.update({b.head.id: b.head.name for b in compound.buildings if b.head is not None})
    if request.person not in helpers:
        raise WrongState(f"请选择{case.compound}的志愿者或楼栋长。")
    pid, name = request.person, helpers[request.person]
    if not await claim_wish(ctx.session, case.id, pid, name, ctx.now):
        await ctx.session.refresh(case)
        raise WrongState(f"{label} 已由{case.assignee_name or '别人'}认领或已完成。")
    await ctx.session.refresh(case)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.CLAIMED, f"代{name}认领", ctx.now)
    await tasks.cancel(ctx.session, f"wish:{case.id}:", ctx.now)
    return said(
        [
            ctx.reply_private(f"已代{name}认领 {label}。"),
            Outgoing(
                to_room=None,
                to_person=pid,
                text=(
                    f"{ctx.sender_name}已代您认领微心愿 {label}：{short(case.text, 60)}\n"
                    f"请联系居民，完成后回复「完成 {label} 说明」。"
                ),
            ),
            *tell_reporter(case, f"您的微心愿 {label} 已由{name}认领，会尽快和您联系。"),
        ],
        case,
    )


async def cancel_activity(ctx: HandlerContext, request: DeskRequest) -> Outcome:
    """取消活动: no more sign-ups or reminders; the compound's rooms are told."""
    repo = ActivityRepository(ctx.session)
    activity = await repo.get(request.number) if request.number else None
    if activity is None or not ctx.is_supervisor(activity.compound):
        raise DomainError("没有找到这个活动。")
    if activity.status == ActivityStatus.CANCELLED:
        raise WrongState(f"「{activity.title}」已经取消了。")
    if activity.starts_at <= ctx.now:
        raise WrongState(f"「{activity.title}」已经开始或结束，不能取消。")
    activity.status = ActivityStatus.CANCELLED
    await repo.changed(activity)
    await tasks.cancel(ctx.session, f"activity:{activity.id}:", ctx.now)
    why = f"，原因：{short(request.text, 60)}" if request.text.strip() else ""
    when = local_text(activity.starts_at, ctx.config.bot.tz)
    text = (
        f"【活动取消】原定{when}的「{activity.title}」取消了{why}。"
        "已报名的邻居不用再来，谢谢理解。"
    )
    rooms = [r.room.topic for r in ctx.grid.rooms_of(activity.compound)]
    return said(
        [
            ctx.reply_private(f"已取消「{activity.title}」，已通知{activity.compound}各群。"),
            *(Outgoing(to_room=room, to_person=None, text=text) for room in rooms),
        ]
    )

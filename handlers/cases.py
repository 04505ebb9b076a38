"""What happens when a building head (or the secretary) types 接单 / 办结 / 转 / 退回 / 待办."""

from __future__ import annotations

from dataclasses import replace

from bot.core.domain import ACTIVE_STATUSES, CaseAction, CaseStatus, Role
from bot.core.messages import Outgoing
from handlers import sla
from handlers.context import HandlerContext
from handlers.errors import UnknownTarget, WrongState
from handlers.outcome import Outcome, said
from handlers.routing import Assignee, case_label, resolve_transfer_target
from handlers.texts import address_name, describe_case, short
from intents import Command
from storage.models import Case
from storage.supporters import supporters_of


def tell_reporter(case: Case, text: str) -> list[Outgoing]:
    """A group message to the case's reporter in the room the case came from."""
    if case.room is None:
        return []
    name = address_name(case.reporter_name)
    return [
        Outgoing(
            to_room=case.room,
            to_person=None,
            text=f"@{name} {text}",
            mention_ids=(case.reporter_id,),
            urgent=case.urgent,  # news of an urgent case is worth a message at night
        )
    ]


async def accept_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """接单 N: the assignee takes the case; the reporter hears it in the group."""
    label = case_label(case)
    if case.status == CaseStatus.ACCEPTED and case.assignee_id == ctx.sender_id:
        return said(
            [ctx.reply_private(f"{label} 您已经接单了，办好后回复「办结 {case.number} 说明」。")],
            case,
        )
    if case.status not in ACTIVE_STATUSES:
        raise WrongState(f"{label} 已办结，无需再接单。")
    case.status = CaseStatus.ACCEPTED
    case.assignee_id = ctx.sender_id
    case.assignee_name = ctx.sender_name
    case.accepted_at = ctx.now
    await ctx.cases.log(case, ctx.sender_id, CaseAction.ACCEPTED, "", ctx.now)
    await sla.start_chain(ctx.session, ctx.config, case, sla.RESOLVE, ctx.now)
    return said(
        [
            ctx.reply_private(
                f"已接单 {label}。办好后回复「办结 {case.number} 说明」。", urgent=case.urgent
            ),
            *tell_reporter(case, f"您反映的 {label} 已由{ctx.sender_name}接单，正在处理。"),
        ],
        case,
    )


async def resolve_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """办结 N [说明]: the case is done; the reporter hears it and is asked to rate."""
    label = case_label(case)
    if case.status == CaseStatus.RESOLVED:
        raise WrongState(f"{label} 已经办结过了。")
    note = command.arg.strip()
    if case.accepted_at is None:
        case.accepted_at = ctx.now
    case.status = CaseStatus.RESOLVED
    case.resolved_at = ctx.now
    await ctx.cases.log(case, ctx.sender_id, CaseAction.RESOLVED, note, ctx.now)
    await sla.stop_chain(ctx.session, case, ctx.now)
    done = f"：{short(note, 60).rstrip('。.')}。" if note else "。"
    told = tell_reporter(
        case, f"您反映的 {label} 已办结{done}请回复「满意」「基本满意」或「不满意」评价。"
    )
    others = await supporters_of(ctx.session, case.id)
    if told and others:
        # Neighbours who reported it too (附议) hear it in the same message, not one each.
        names = " ".join(f"@{p.person_name}" for p in others)
        told[0] = replace(
            told[0],
            text=f"{told[0].text}\n{names} 您一起反映的问题也已办结，谢谢关心。",
            mention_ids=told[0].mention_ids + tuple(p.person_id for p in others),
        )
    return said([ctx.reply_private(f"{label} 已办结，谢谢您！", urgent=case.urgent), *told], case)


async def transfer_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """转 N <楼栋号|书记>: hand the case to another building head or the secretary."""
    label = case_label(case)
    if case.status not in ACTIVE_STATUSES:
        raise WrongState(f"{label} 已办结，不能再转派。")
    if command.target is None:
        raise UnknownTarget(f"请写明转给谁：「转 {case.number} 5」或「转 {case.number} 书记」。")
    target, building = resolve_transfer_target(ctx.grid, case.compound, command.target)
    return await reassign(ctx, case, target, building, CaseAction.TRANSFERRED, command.arg)


async def reassign(
    ctx: HandlerContext,
    case: Case,
    target: Assignee,
    building: str | None,
    action: CaseAction,
    note: str,
    *,
    done: str | None = None,
) -> Outcome:
    """Give a case to someone else: status back to open, logged, the new assignee told."""
    label = case_label(case)
    if target.id == case.assignee_id:
        return said([ctx.reply_private(f"{label} 已经在{target.name}名下。")], case)
    case.assignee_id = target.id
    case.assignee_name = target.name
    case.status = CaseStatus.OPEN
    case.accepted_at = None
    if building is not None:
        case.building = building
    await ctx.cases.log(case, ctx.sender_id, action, f"{target.role}:{target.id} {note}", ctx.now)
    await sla.start_chain(ctx.session, ctx.config, case, sla.ACCEPT, ctx.now)
    return said(
        [
            ctx.reply_private(done or f"{label} 已转给{target.title}。"),
            Outgoing(
                to_room=None,
                to_person=target.id,
                text=f"{ctx.sender_name}转来 {describe_case(case)}\n"
                f"回复「接单 {case.number}」接单。",
                urgent=case.urgent,
            ),
        ],
        case,
    )


async def return_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """退回 N <原因>: the assignee gives the case back to the secretary (or the workers)."""
    label = case_label(case)
    if case.status not in ACTIVE_STATUSES:
        raise WrongState(f"{label} 已办结，不能退回。")
    reason = command.arg.strip()
    if not reason:
        raise WrongState(f"请写明退回原因：「退回 {case.number} 原因」。")
    secretary = ctx.grid.secretary(case.compound)
    if secretary is not None and secretary.id != ctx.sender_id:
        target = Assignee(secretary.id, secretary.name, Role.SECRETARY)
    else:
        workers = ctx.grid.workers(case.compound)
        if not workers:
            raise UnknownTarget(f"{case.compound} 没有可退回的书记或社区工作人员。")
        target = Assignee(workers[0].id, workers[0].name, Role.WORKER)
    done = f"{label} 已退回{target.name}。"
    return await reassign(ctx, case, target, None, CaseAction.RETURNED, reason, done=done)


async def list_todo(ctx: HandlerContext, command: Command) -> Outcome:
    """待办: the sender's open and taken cases."""
    cases = await ctx.cases.active_for_assignee(ctx.sender_id)
    if not cases:
        return said([ctx.reply_private("您目前没有待办事项。")])
    lines = [f"您有 {len(cases)} 件待办："]
    for c in cases:
        state = "已接单" if c.status == CaseStatus.ACCEPTED else "待接单"
        where = f"{c.building}栋 " if c.building else ""
        flag = "【紧急】" if c.urgent else ""
        lines.append(f"{flag}{case_label(c)} {where}{state}：{short(c.text, 30)}")
    return said([ctx.reply_private("\n".join(lines))])

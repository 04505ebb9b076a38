"""督办 and 派: the secretary or a community worker nudges or reassigns a case."""

from __future__ import annotations

from bot.core.domain import ACTIVE_STATUSES, CaseAction, CaseKind, CaseStatus
from bot.core.messages import Outgoing
from handlers.cases import reassign
from handlers.context import HandlerContext
from handlers.errors import DomainError, UnknownCase, WrongState
from handlers.routing import case_label, resolve_transfer_target
from handlers.texts import describe_case
from intents import Command
from storage.models import Case


class NotSupervisor(DomainError):
    """Only the compound's secretary or the community's workers may do this."""


async def _supervised_case(ctx: HandlerContext, number: int | None) -> Case:
    case = await ctx.cases.get(CaseKind.REPORT, number) if number is not None else None
    if case is None:
        raise UnknownCase(f"#{number}")
    if not ctx.grid.is_secretary_or_worker(case.compound, ctx.sender_id):
        raise NotSupervisor("只有小区书记或社区工作人员可以督办和派单。")
    if case.status not in ACTIVE_STATUSES:
        raise WrongState(f"{case_label(case)} 已办结，无需督办。")
    return case


async def nudge(ctx: HandlerContext, command: Command) -> list[Outgoing]:
    """督办 N: the secretary or a worker reminds the assignee; logged in the case."""
    case = await _supervised_case(ctx, command.number)
    label = case_label(case)
    if case.assignee_id is None:
        return [ctx.reply_private(f"{label} 还没有承办人，可以「派 {case.number} 楼栋号」派单。")]
    await ctx.cases.log(case, ctx.sender_id, CaseAction.NUDGED, case.assignee_id, ctx.now)
    todo = f"接单 {case.number}" if case.status == CaseStatus.OPEN else f"办结 {case.number} 说明"
    return [
        ctx.reply_private(f"已督办 {label}，已提醒{case.assignee_name}。"),
        Outgoing(
            None,
            case.assignee_id,
            f"{ctx.sender_name}督办：{describe_case(case)}\n请尽快处理，并回复「{todo}」。",
            urgent=case.urgent,
        ),
    ]


async def dispatch(ctx: HandlerContext, command: Command) -> list[Outgoing]:
    """派 N 3栋: the secretary or a worker gives the case to another building head."""

    case = await _supervised_case(ctx, command.number)
    if not command.arg.strip():
        raise WrongState(f"请写明派给谁：「派 {case.number} 3栋」或「派 {case.number} 书记」。")
    target, building = resolve_transfer_target(ctx.grid, case.compound, command.arg)
    out = await reassign(ctx, case, target, building, CaseAction.DISPATCHED, command.arg)
    if out and out[0].to_person == ctx.sender_id and "已转给" in out[0].text:
        out[0] = ctx.reply_private(f"{case_label(case)} 已派给{target.title}。")
    return out

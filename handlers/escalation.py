"""督办 and 派: the secretary or a community worker nudges or reassigns a case."""

from __future__ import annotations

from bot.core.domain import ACTIVE_STATUSES, CaseAction, CaseStatus
from bot.core.messages import Outgoing
from handlers.cases import reassign
from handlers.context import HandlerContext
from handlers.errors import WrongState
from handlers.outcome import Outcome, said
from handlers.routing import case_label, resolve_transfer_target
from handlers.texts import describe_case
from intents import Command
from storage.models import Case


def _still_active(case: Case) -> None:
    if case.status not in ACTIVE_STATUSES:
        raise WrongState(f"{case_label(case)} 已办结，无需督办。")


async def nudge(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """督办 N: the secretary or a worker reminds the assignee; logged in the case."""
    _still_active(case)
    label = case_label(case)
    if case.assignee_id is None:
        text = f"{label} 还没有承办人，可以「派 {case.number} 楼栋号」派单。"
        return said([ctx.reply_private(text)], case)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.NUDGED, case.assignee_id, ctx.now)
    todo = f"接单 {case.number}" if case.status == CaseStatus.OPEN else f"办结 {case.number} 说明"
    return said(
        [
            ctx.reply_private(f"已督办 {label}，已提醒{case.assignee_name}。"),
            Outgoing(
                None,
                case.assignee_id,
                f"{ctx.sender_name}督办：{describe_case(case)}\n请尽快处理，并回复「{todo}」。",
                urgent=case.urgent,
            ),
        ],
        case,
    )


async def dispatch(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """派 N 3栋: the secretary or a worker gives the case to another building head."""
    _still_active(case)
    if command.target is None:
        raise WrongState(f"请写明派给谁：「派 {case.number} 3栋」或「派 {case.number} 书记」。")
    target, _building = resolve_transfer_target(ctx.grid, case.compound, command.target)
    done = f"{case_label(case)} 已派给{target.title}。"
    # 派单 names who does the work, not where the problem is: the case keeps its building, so
    # a later report of the same problem still finds it (附议).
    return await reassign(ctx, case, target, None, CaseAction.DISPATCHED, command.arg, done=done)

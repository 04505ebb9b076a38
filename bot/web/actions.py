"""Console actions (派/转/督办): the same handler code as the private commands, a console actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bot.app import App
from bot.messages import Incoming, Outgoing
from bot.outbound import enqueue_all
from bot.web.auth import Principal
from handlers.cases import reassign
from handlers.context import HandlerContext
from handlers.errors import DomainError, WrongState
from handlers.reports import describe_case
from handlers.routing import case_label, resolve_transfer_target
from storage.cases import ACTIVE_STATUSES, CaseRepository
from storage.models import Case

ACTIONS = ("assign", "transfer", "nudge")


class ActionRefused(Exception):
    """The action cannot be done; the text says why (as a private command would)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the console shows after an action."""

    message: str


async def run_action(
    bot: App, principal: Principal, kind: str, number: int, action: str, target: str
) -> ActionResult:
    """Run one console action on a case in one transaction with its outbox rows."""
    now = bot.clock.now()
    async with bot.sessions() as session, session.begin():
        repo = CaseRepository(session)
        case = await repo.get(kind, number)
        if case is None or not principal.may_see(case.compound):
            raise ActionRefused("没有找到这件事项。")
        msg = Incoming(
            message_id=f"{principal.actor_id}:{uuid.uuid4().hex}",
            room=None,
            sender_id=principal.actor_id,
            sender_name=principal.display_name,
            text=f"{action} {number} {target}".strip(),
            mentions_bot=False,
            at=now,
        )
        ctx = HandlerContext(
            message=msg,
            now=now,
            config=bot.config,
            grid=bot.grid,
            session=session,
            cases=repo,
            room=None,
        )
        try:
            out = await _dispatch(ctx, case, action, target)
        except DomainError as e:
            raise ActionRefused(str(e)) from e
        # Replies to the console user are shown on the page, not sent through a chat.
        told = [m.text for m in out if m.to_person == principal.actor_id]
        send = [m for m in out if m.to_person != principal.actor_id]
        await enqueue_all(session, bot.config, f"web:{msg.message_id}", send, now)
    bot.sender.wake()
    return ActionResult("；".join(told) or "已完成。")


async def _dispatch(ctx: HandlerContext, case: Case, action: str, target: str) -> list[Outgoing]:
    label = case_label(case)
    if case.status not in ACTIVE_STATUSES:
        verb = "督办" if action == "nudge" else "转派"
        raise WrongState(f"{label} 已办结，不能再{verb}。")
    if action in ("assign", "transfer"):
        if not target.strip():
            raise WrongState("请写明派给谁：楼栋号（如 5）或「书记」。")
        assignee, building = resolve_transfer_target(ctx.grid, case.compound, target)
        return await reassign(
            ctx, case, assignee, building, "assigned" if action == "assign" else "transferred", ""
        )
    if action == "nudge":
        if case.assignee_id is None:
            raise WrongState(f"{label} 还没有承办人，请先派单。")
        await ctx.cases.log(case, ctx.sender_id, "nudged", target.strip(), ctx.now)
        note = f"\n{target.strip()}" if target.strip() else ""
        return [
            ctx.reply_private(f"已督办 {label}。"),
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=(
                    f"【督办】{ctx.sender_name}请您尽快处理 {describe_case(case)}{note}\n"
                    f"回复「接单 {case.number}」接单，「办结 {case.number} 说明」办结。"
                ),
                urgent=case.urgent,
            ),
        ]
    raise WrongState("未知的操作。")

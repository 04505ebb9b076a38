"""Console actions (派/转/督办): the private commands' handlers, the console user as actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bot.app import App
from bot.core.domain import CaseKind
from bot.core.messages import Channel, Incoming
from bot.web.auth import Principal
from intents import Command, CommandName, transfer_target
from storage.cases import CaseRepository

# Console action → the private command it is (派 N 3栋, 转 N 5, 督办 N).
ACTIONS = {
    "assign": CommandName.DISPATCH,
    "transfer": CommandName.TRANSFER,
    "nudge": CommandName.NUDGE,
}


class ActionRefused(Exception):
    """The action cannot be done; the text says why (as the private command would)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the console shows after an action."""

    message: str


async def run_action(
    bot: App, principal: Principal, kind: str, number: int, action: str, target: str
) -> ActionResult:
    """Run one console action through its command handler, on the one dispatch path."""
    name = ACTIONS.get(action)
    route = None if name is None else bot.registry.commands.get(name)
    if name is None or route is None or kind != CaseKind.REPORT:
        raise ActionRefused("这项操作不适用于这件事项。")
    async with bot.sessions() as session:
        case = await CaseRepository(session).get(CaseKind.REPORT, number)
        if case is None or not principal.may_see(case.compound):
            raise ActionRefused("没有找到这件事项。")
    msg = Incoming(
        message_id=f"{principal.actor_id}:{uuid.uuid4().hex}",
        room=None,
        sender_id=principal.actor_id,
        sender_name=principal.display_name,
        text=f"{action} {number} {target}".strip(),
        mentions_bot=False,
        at=bot.clock.now(),
        channel=Channel.CONSOLE,
    )
    target = target.strip()
    command = Command(
        name, number=number, arg=target, target=transfer_target(target) if target else None
    )
    supervised = frozenset(c.name for c in bot.grid.compounds() if principal.may_see(c.name))
    outcome = await bot.dispatcher.submit(
        msg, lambda ctx: route(ctx, command), what=f"console:{action}", supervised=supervised
    )
    if outcome.refusal is not None:
        raise ActionRefused(outcome.refusal)
    # Replies to the console user are shown on the page, not sent through a chat.
    return ActionResult("；".join(outcome.replies_to(principal.actor_id)) or "已完成。")

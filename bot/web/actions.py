"""Console actions (派/转/督办): the private commands' handlers, the console user as actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bot.app import App
from bot.core.config import Config
from bot.core.domain import CaseKind
from bot.core.grid import Grid
from bot.core.messages import Incoming
from bot.outbound import enqueue_all
from bot.web.auth import Principal
from handlers.context import HandlerContext
from handlers.errors import DomainError
from intents import Command, CommandName
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


class ConsoleGrid(Grid):
    """The grid as the handlers see it during a console action: the console user supervises."""

    def __init__(self, config: Config, principal: Principal) -> None:
        super().__init__(config)
        self._principal = principal

    def is_secretary_or_worker(self, compound: str, person_id: str) -> bool:
        """The console user counts as a worker of every compound they may see."""
        if person_id == self._principal.actor_id:
            return self._principal.may_see(compound)
        return super().is_secretary_or_worker(compound, person_id)

    def name_of(self, person_id: str) -> str | None:
        """The console user's display name, else the configured name."""
        if person_id == self._principal.actor_id:
            return self._principal.display_name
        return super().name_of(person_id)


async def run_action(
    bot: App, principal: Principal, kind: str, number: int, action: str, target: str
) -> ActionResult:
    """Run one console action through its command handler, in one transaction with the outbox."""
    name = ACTIONS.get(action)
    handler = None if name is None else bot.registry.commands.get(name)
    if name is None or handler is None or kind != CaseKind.REPORT:
        raise ActionRefused("这项操作不适用于这件事项。")
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
            grid=ConsoleGrid(bot.config, principal),
            session=session,
            cases=repo,
            room=None,
        )
        try:
            out = await handler(ctx, Command(name, number=number, arg=target.strip()))
        except DomainError as e:
            raise ActionRefused(str(e)) from e
        # Replies to the console user are shown on the page, not sent through a chat.
        told = [m.text for m in out if m.to_person == principal.actor_id]
        send = [m for m in out if m.to_person != principal.actor_id]
        await enqueue_all(session, bot.config, f"web:{msg.message_id}", send, now)
    bot.sender.wake()
    return ActionResult("；".join(told) or "已完成。")

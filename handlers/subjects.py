"""The case a command is about: named by number (#12, W3), or the one awaiting a rating."""

from __future__ import annotations

from bot.core.domain import CaseKind
from handlers.context import HandlerContext
from handlers.errors import NoSuchNumber, UnknownCase, WrongState
from handlers.outcome import Decline
from intents import Command
from intents.command_model import NO_SUCH_NUMBER
from storage.models import Case


async def _named(ctx: HandlerContext, kind: CaseKind, number: int | None) -> Case:
    if number == NO_SUCH_NUMBER:
        raise NoSuchNumber()
    case = await ctx.cases.get(kind, number) if number is not None else None
    if case is None:
        raise UnknownCase(kind.case_label(number) if number is not None else "这件事项")
    return case


async def report_named(ctx: HandlerContext, command: Command) -> Case:
    """The report #N the command names."""
    return await _named(ctx, CaseKind.REPORT, command.number)


async def wish_named(ctx: HandlerContext, command: Command) -> Case:
    """The wish WN the command names."""
    return await _named(ctx, CaseKind.WISH, command.number)


async def case_to_rate(ctx: HandlerContext, command: Command) -> Case:
    """评价 N names its case; a bare 满意 rates the sender's latest resolved, unrated case.

    In a group only a bare rating counts, and only when a case awaits it there; anything else
    is ordinary chat and goes to the parser.
    """
    if ctx.room is not None and command.number is not None:
        raise Decline
    if command.number is not None:
        return await _named(ctx, CaseKind.REPORT, command.number)
    case = await ctx.cases.awaiting_rating(ctx.sender_id, ctx.message.room)
    if case is None:
        if ctx.room is not None:
            raise Decline
        raise WrongState("您目前没有待评价的事项。评价某一件请发「评价 编号 1-5」。")
    return case

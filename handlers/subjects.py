"""The case a command is about: named by number (#12, W3), or the one awaiting a rating."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.domain import CaseKind
from handlers.context import HandlerContext
from handlers.errors import AmbiguousCase, NoSuchNumber, UnknownCase, WrongState
from handlers.outcome import Decline
from intents import Command
from intents.command_model import NO_SUCH_NUMBER
from storage.models import Case


async def _named(
    ctx: HandlerContext, kind: CaseKind, number: int | None, compound: str | None = None
) -> Case:
    if number == NO_SUCH_NUMBER:
        raise NoSuchNumber()
    label = kind.case_label(number) if number is not None else "这件事项"
    if number is None:
        raise UnknownCase(label)
    if compound is None and ctx.room is not None:  # said in a group: that group's compound
        compound = ctx.room.compound.name
    if compound is not None:
        case = await ctx.cases.get(kind, number, compound)
        if case is None:
            raise UnknownCase(label)
        return case
    return pick_case(ctx, await ctx.cases.numbered(kind, number), label)


def pick_case(ctx: HandlerContext, cases: Sequence[Case], label: str) -> Case:
    """The sender's case among a number's cases in several compounds (numbers are per compound).

    The sender's own first (theirs to handle or reported by them, or in a compound where they
    have a role); then, if several remain, the one whose compound the message names.
    """
    if not cases:
        raise UnknownCase(label)
    me = ctx.sender_id
    roles = set(ctx.grid.compounds_of_person(me)) | set(ctx.supervised)
    pool = [c for c in cases if me in (c.assignee_id, c.reporter_id) or c.compound in roles]
    if not pool:
        if len(cases) == 1:
            return cases[0]  # nobody's: the permission check says why it is not theirs
        raise UnknownCase(label)  # a stranger is not told which compounds have that number
    if len(pool) > 1:
        said = {c.compound for c in pool if c.compound in ctx.message.text}
        # "武夷香榭二期" also contains "武夷香榭": the longer name said is the one meant
        said = {n for n in said if not any(n != m and n in m for m in said)}
        pool = [c for c in pool if c.compound in said] or pool
    if len(pool) > 1:
        said_so = " ".join(ctx.message.text.split())[:30]
        raise AmbiguousCase(label, [c.compound for c in pool], f"{said_so} {pool[0].compound}")
    return pool[0]


async def report_named(ctx: HandlerContext, command: Command) -> Case:
    """The report #N the command names."""
    return await _named(ctx, CaseKind.REPORT, command.number, command.compound)


async def wish_named(ctx: HandlerContext, command: Command) -> Case:
    """The wish WN the command names."""
    return await _named(ctx, CaseKind.WISH, command.number, command.compound)


async def case_to_rate(ctx: HandlerContext, command: Command) -> Case:
    """评价 N names its case; a bare 满意 rates the sender's latest resolved, unrated case.

    In a group only a bare rating counts, and only when a case awaits it there; anything else
    is ordinary chat and goes to the parser.
    """
    if ctx.room is not None and command.number is not None:
        raise Decline
    if command.number is not None:
        return await _named(ctx, CaseKind.REPORT, command.number, command.compound)
    case = await ctx.cases.awaiting_rating(ctx.sender_id, ctx.message.room)
    if case is None:
        if ctx.room is not None:
            raise Decline
        raise WrongState("您目前没有待评价的事项。评价某一件请发「评价 编号 1-5」。")
    return case

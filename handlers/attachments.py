"""An image sent right after a report is kept with that case as a note."""

from __future__ import annotations

from datetime import timedelta

from bot.core.domain import CaseAction, CaseKind
from handlers.context import HandlerContext
from handlers.outcome import Outcome, said
from intents import Intent

ATTACH_WINDOW = timedelta(minutes=10)


async def attach_image(ctx: HandlerContext, intent: Intent) -> Outcome:
    """Note the image on the sender's report from the last few minutes in this room, if any."""
    case = await ctx.cases.latest_by_reporter(
        ctx.sender_id, ctx.message.room, ctx.now - ATTACH_WINDOW, kind=CaseKind.REPORT
    )
    if case is not None:
        await ctx.cases.log(
            case, ctx.sender_id, CaseAction.IMAGE, f"图片 {ctx.message.message_id}", ctx.now
        )
    return said([], case)

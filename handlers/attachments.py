"""An image sent right after a report is kept with that case as a note."""

from __future__ import annotations

from datetime import timedelta

from bot.core.domain import CaseAction, CaseKind
from bot.core.messages import IMAGE_TEXT, Outgoing
from handlers.context import HandlerContext

ATTACH_WINDOW = timedelta(minutes=10)


def is_image(text: str) -> bool:
    """True for the text a transport gives an image message."""
    return text.strip() == IMAGE_TEXT


async def attach_image(ctx: HandlerContext, _arg: object = None) -> list[Outgoing]:
    """Note the image on the sender's report from the last few minutes in this room, if any."""
    case = await ctx.cases.latest_by_reporter(
        ctx.sender_id, ctx.message.room, ctx.now - ATTACH_WINDOW, kind=CaseKind.REPORT
    )
    if case is not None:
        await ctx.cases.log(
            case, ctx.sender_id, CaseAction.IMAGE, f"图片 {ctx.message.message_id}", ctx.now
        )
    return []

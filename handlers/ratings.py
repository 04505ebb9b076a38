"""群众评办: the reporter rates a resolved case (满意 / 基本满意 / 不满意 / 评价 N 1-5)."""

from __future__ import annotations

from bot.core.domain import CaseAction, CaseKind, CaseStatus
from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.errors import NotAllowed, UnknownCase, WrongState
from handlers.routing import case_label
from handlers.texts import address_name
from intents import Command

SCORE_WORDS = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}


async def rate_case(ctx: HandlerContext, command: Command) -> list[Outgoing]:
    """Record the reporter's rating of a resolved case; tell the assignee too."""
    if command.number is not None:
        case = await ctx.cases.get(CaseKind.REPORT, command.number)
        if case is None:
            raise UnknownCase(f"#{command.number}")
        if case.reporter_id != ctx.sender_id:
            raise NotAllowed(f"#{command.number}")
    else:
        case = await ctx.cases.awaiting_rating(ctx.sender_id, ctx.message.room)
        if case is None:
            raise WrongState("您目前没有待评价的事项。评价某一件请发「评价 编号 1-5」。")
    label = case_label(case)
    if case.status != CaseStatus.RESOLVED:
        raise WrongState(f"{label} 还没有办结，办结后再评价。")
    score = command.score or 5
    case.rating = score
    case.rated_at = ctx.now
    await ctx.cases.log(case, ctx.sender_id, CaseAction.RATED, str(score), ctx.now)
    word = SCORE_WORDS[score]
    thanks = f"谢谢您的评价（{label}：{word}）！"
    if score <= 2:
        thanks += "我们会请小区书记回访。"
    reply = (
        Outgoing(
            to_room=ctx.message.room,
            to_person=None,
            text=f"@{address_name(ctx.message.sender_name)} {thanks}",
            mention_ids=(ctx.sender_id,),
        )
        if ctx.message.room
        else ctx.reply_private(thanks)
    )
    out = [reply]
    if case.assignee_id:
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{label} 居民评价：{word}（{score}分）",
            )
        )
    secretary = ctx.grid.secretary(case.compound)
    if score <= 2 and secretary is not None and secretary.id != case.assignee_id:
        out.append(
            Outgoing(
                to_room=None,
                to_person=secretary.id,
                text=f"{label} 居民评价不满意（{score}分），请回访。",
            )
        )
    return out

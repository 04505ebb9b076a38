"""群众评办: the reporter rates a resolved case (满意 / 基本满意 / 不满意 / 评价 N 1-5)."""

from __future__ import annotations

from bot.core.domain import CaseAction, CaseStatus
from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.errors import WrongState
from handlers.outcome import Outcome, said
from handlers.routing import case_label
from intents import Command
from storage.models import Case

SCORE_WORDS = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}


async def rate_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """Record the reporter's rating of a resolved case; tell the assignee too."""
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
    out = [ctx.answer(thanks)]
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
    return said(out, case)

"""群众评办: the reporter rates a resolved case (满意 / 基本满意 / 不满意 / 评价 N 1-5).

One rating per case, until the case is reopened (reopening clears it). A changed mind is allowed
once, within `CHANGE_WINDOW` of the first rating: the figure is corrected and nobody is told
again, except that a correction to 不满意 asks the secretary to call back, as a first 不满意
would. After that, or later, the rating stands and the reporter is told so.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.domain import CaseAction, CaseStatus
from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.errors import WrongState
from handlers.outcome import Outcome, said
from handlers.routing import case_label
from intents import Command
from storage.models import Case

SCORE_WORDS = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}
CHANGE_WINDOW = timedelta(minutes=10)
UNHAPPY = 2  # a score at or below this asks the secretary to call back (回访)


async def rate_case(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """Record the reporter's rating of a resolved case; tell the assignee too."""
    label = case_label(case)
    if case.status != CaseStatus.RESOLVED:
        raise WrongState(f"{label} 还没有办结，办结后再评价。")
    score = command.score or 5
    if case.rating is not None:
        return await _change(ctx, case, score)
    case.rating = score
    case.rated_at = ctx.now
    await ctx.cases.log(case, ctx.sender_id, CaseAction.RATED, str(score), ctx.now)
    word = SCORE_WORDS[score]
    thanks = f"谢谢您的评价（{label}：{word}）！"
    if score <= UNHAPPY:
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
    if score <= UNHAPPY:
        out.extend(_call_back(ctx, case, score))
    return said(out, case)


async def _change(ctx: HandlerContext, case: Case, score: int) -> Outcome:
    """A second rating: a correction once within the window, else the first one stands."""
    label = case_label(case)
    old = case.rating
    assert old is not None
    if score == old:
        return said([ctx.answer(f"{label} 已经评价过了（{SCORE_WORDS[old]}），谢谢！")], case)
    changes = await _ratings_since_reopened(ctx, case)
    first = case.rated_at or ctx.now
    if changes > 1 or ctx.now - first > CHANGE_WINDOW:
        raise WrongState(
            f"{label} 已经评价过了（{SCORE_WORDS[old]}），每件事项只评价一次。"
            "如问题还没有解决，请在群里再反映，或联系楼栋长。"
        )
    case.rating = score
    await ctx.cases.log(case, ctx.sender_id, CaseAction.RATED, f"{old}→{score}", ctx.now)
    word = SCORE_WORDS[score]
    text = f"已把您对 {label} 的评价改为：{word}。评价只能改这一次。"
    out = [ctx.answer(text)]
    if score <= UNHAPPY < old:
        out[0] = ctx.answer(text + "我们会请小区书记回访。")
        out.extend(_call_back(ctx, case, score))
    return said(out, case)


async def _ratings_since_reopened(ctx: HandlerContext, case: Case) -> int:
    n = 0
    for event in await ctx.cases.events(case):
        if event.action == CaseAction.REOPENED:
            n = 0
        elif event.action == CaseAction.RATED:
            n += 1
    return n


def _call_back(ctx: HandlerContext, case: Case, score: int) -> list[Outgoing]:
    secretary = ctx.grid.secretary(case.compound)
    if secretary is None or secretary.id == case.assignee_id:
        return []
    text = f"{case_label(case)} 居民评价不满意（{score}分），请回访。"
    return [Outgoing(to_room=None, to_person=secretary.id, text=text)]

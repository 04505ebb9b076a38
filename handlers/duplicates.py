"""附议: the same problem reported again in the same building joins the open case."""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz

from bot.core.domain import CaseAction
from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.outcome import Outcome, said
from handlers.routing import case_label
from handlers.texts import address_name, short
from intents import Intent
from intents.gist import problem_gist
from storage.models import Case
from storage.supporters import add_supporter, open_reports_like, supporter_count

SIMILAR = 70  # the default of services.duplicate_similarity (rapidfuzz partial_ratio, 0-100)


def similarity(a: str, b: str) -> float:
    """How alike two reports read, 0-100."""
    return float(fuzz.partial_ratio(problem_gist(a), problem_gist(b)))


async def find_duplicate(
    ctx: HandlerContext, compound: str, building: str | None, intent: Intent
) -> Case | None:
    """An open case of the same building and category, filed within 24 h, with a similar text."""
    if building is None or intent.category is None:
        return None
    settings = ctx.config.services
    candidates = await open_reports_like(
        ctx.session, compound, building, intent.category.value, ctx.now - settings.duplicate_window
    )
    scored = [(similarity(ctx.message.text, c.text), c) for c in candidates]
    best = max(scored, key=lambda sc: sc[0], default=None)
    return best[1] if best is not None and best[0] >= settings.duplicate_similarity else None


async def join_case(ctx: HandlerContext, case: Case, intent: Intent) -> Outcome:
    """Add the sender to the case; they hear the number, the assignee gets one line."""
    label = case_label(case)
    name = address_name(ctx.message.sender_name)
    mine = case.reporter_id == ctx.sender_id
    new = not mine and await add_supporter(
        ctx.session, case.id, ctx.sender_id, name, ctx.message.message_id, ctx.now
    )
    neighbours = 1 + await supporter_count(ctx.session, case.id)
    urgent = intent.urgent or case.urgent
    if not new:
        text = f"这个问题已登记为 {label}，正在处理，有进展会在群里告诉大家。"
        return _joined([ctx.answer(text, urgent=urgent)], case)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.SECONDED, ctx.message.text, ctx.now)
    out = [
        ctx.answer(
            f"这个问题已登记为 {label}，已为您附议（共 {neighbours} 位邻居反映），"
            "处理进展会在群里告知。",
            urgent=urgent,
        )
    ]
    if case.assignee_id is not None:
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{label} 又有邻居反映（共 {neighbours} 位）：{short(ctx.message.text, 40)}",
                urgent=urgent,
            )
        )
    return _joined(out, case)


def _joined(messages: list[Outgoing], case: Case) -> Outcome:
    return replace(said(messages, case), joined=True)

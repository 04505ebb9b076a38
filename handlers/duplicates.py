"""附议: the same problem reported again in the same building joins the open case.

The check is bounded by design, whatever is written: it compares the first `GIST_LIMIT`
characters of each gist (a run of one repeated character counts once) with at most
`CANDIDATE_LIMIT` open cases, the newest. rapidfuzz's partial_ratio grows faster than the
square of the length: two 4,000-character reports took 2 s, two of 10,000 took 35 s.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rapidfuzz import fuzz

from bot.core.domain import CaseAction, CaseStatus
from bot.core.messages import Outgoing
from handlers import sla
from handlers.context import HandlerContext
from handlers.outcome import Outcome, said
from handlers.routing import case_label
from handlers.texts import address_name, describe_case, safety_hint, short
from intents import Intent
from intents.gist import problem_gist
from storage.models import Case
from storage.supporters import add_supporter, open_reports_like, supporter_count

SIMILAR = 70  # the default of services.duplicate_similarity (rapidfuzz partial_ratio, 0-100)
GIST_LIMIT = 120  # characters of a gist compared: a report says its problem early
CANDIDATE_LIMIT = 20  # open cases of one building and category compared, newest first
_READ_LIMIT = 4 * GIST_LIMIT  # characters of a text read to make its gist
_REPEATS = re.compile(r"(.)\1{2,}", re.S)


def gist(text: str) -> str:
    """The bounded gist of a report: what the duplicate check compares."""
    return _REPEATS.sub(r"\1", problem_gist(text[:_READ_LIMIT]))[:GIST_LIMIT]


def similarity(a: str, b: str) -> float:
    """How alike two reports read, 0-100."""
    return float(fuzz.partial_ratio(gist(a), gist(b)))


async def find_duplicate(
    ctx: HandlerContext, compound: str, building: str | None, intent: Intent
) -> Case | None:
    """An open case of the same building and category, filed within 24 h, with a similar text."""
    if building is None or intent.category is None:
        return None
    settings = ctx.config.services
    candidates = await open_reports_like(
        ctx.session,
        compound,
        building,
        intent.category.value,
        ctx.now - settings.duplicate_window,
        limit=CANDIDATE_LIMIT,
    )
    mine = gist(ctx.message.text)
    scored = [
        (float(fuzz.partial_ratio(mine, gist(text))), case_id) for case_id, text in candidates
    ]
    best = max(scored, key=lambda sc: sc[0], default=None)
    if best is None or best[0] < settings.duplicate_similarity:
        return None
    return await ctx.session.get(Case, best[1])


async def join_case(ctx: HandlerContext, case: Case, intent: Intent) -> Outcome:
    """Add the sender to the case; they hear the number, the assignee gets one line.

    An urgent report makes the case urgent: the head and the secretary are told as they are of
    an urgent report, and the accept clock restarts on the urgent deadline.
    """
    label = case_label(case)
    name = address_name(ctx.message.sender_name)
    mine = case.reporter_id == ctx.sender_id
    new = not mine and await add_supporter(
        ctx.session, case.id, ctx.sender_id, name, ctx.message.message_id, ctx.now
    )
    neighbours = 1 + await supporter_count(ctx.session, case.id)
    escalated = intent.urgent and not case.urgent
    if escalated:
        case.urgent = True
        await ctx.cases.log(case, ctx.sender_id, CaseAction.MADE_URGENT, ctx.message.text, ctx.now)
        if case.status == CaseStatus.OPEN:
            await sla.start_chain(ctx.session, ctx.config, case, sla.ACCEPT, ctx.now)
    urgent = case.urgent
    hint = "\n" + safety_hint(ctx.grid.hotlines(case.compound)) if escalated else ""
    if not new and not escalated:
        text = f"这个问题已登记为 {label}，正在处理，有进展会在群里告诉大家。"
        return _joined([ctx.answer(text, urgent=urgent)], case)
    if new:
        await ctx.cases.log(case, ctx.sender_id, CaseAction.SECONDED, ctx.message.text, ctx.now)
    how = "已按紧急处理，" if escalated else ""
    out = [
        ctx.answer(
            f"这个问题已登记为 {label}，已为您附议（共 {neighbours} 位邻居反映），{how}"
            f"处理进展会在群里告知。{hint}",
            urgent=urgent,
        )
    ]
    if escalated:
        out.extend(_urgent_news(ctx, case, neighbours))
    elif case.assignee_id is not None:
        out.append(
            Outgoing(
                to_room=None,
                to_person=case.assignee_id,
                text=f"{label} 又有邻居反映（共 {neighbours} 位）：{short(ctx.message.text, 40)}",
                urgent=urgent,
            )
        )
    return _joined(out, case)


def _urgent_news(ctx: HandlerContext, case: Case, neighbours: int) -> list[Outgoing]:
    """As for an urgent report: the assignee (else the workers) and the secretary, at once."""
    n = case.number
    said_now = f"邻居又反映（共 {neighbours} 位），情况紧急：{short(ctx.message.text, 60)}"
    how = f"回复「接单 {n}」接单，「办结 {n} 说明」办结，「转 {n} 楼栋号」转派。"
    out: list[Outgoing] = []
    if case.assignee_id is not None:
        text = f"升为紧急 {describe_case(case)}\n{said_now}\n{how}"
        out.append(Outgoing(to_room=None, to_person=case.assignee_id, text=text, urgent=True))
    else:
        for worker in ctx.grid.workers(case.compound):
            text = f"升为紧急（无人承办）：{describe_case(case)}\n{said_now}\n{how}"
            out.append(Outgoing(to_room=None, to_person=worker.id, text=text, urgent=True))
    secretary = ctx.grid.secretary(case.compound)
    if secretary is not None and secretary.id != case.assignee_id:
        who = case.assignee_name or "（无人承办）"
        text = f"紧急报事，已同时通知{who}：{describe_case(case)}\n{said_now}"
        out.append(Outgoing(to_room=None, to_person=secretary.id, text=text, urgent=True))
    return out


def _joined(messages: list[Outgoing], case: Case) -> Outcome:
    return replace(said(messages, case), joined=True)

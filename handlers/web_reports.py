"""民情码: a report or wish from the public form, filed by the group handlers, plus a status code.

What the form adds to a group report: the phone number goes to the assignee in a private
message (and is kept apart from the case log, to be deleted after the case closes), a photo goes
with the case as a link, and urgent reports of one building within a short window are folded
into the first one, so a flood of them pings the head once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core.domain import ACTIVE_STATUSES, CaseAction
from bot.core.messages import Outgoing
from handlers.context import HandlerContext, IntentHandler
from handlers.outcome import CaseRef, Outcome
from handlers.routing import case_label
from intents import Intent
from storage import web_reports, web_state
from storage.models import Case
from storage.supporters import add_supporter, supporter_count


@dataclass(frozen=True, slots=True)
class FormExtras:
    """What the form carries beyond the text: a phone number, a photo link, the urgent window."""

    phone: str = ""
    photo_id: int | None = None
    photo_link: str | None = None  # where the assignee can open the photo (needs public_url)
    urgent_key: str | None = None  # one urgent ping per building per window: the counter's key


async def file_from_form(
    ctx: HandlerContext, handler: IntentHandler, intent: Intent, extras: FormExtras
) -> Outcome:
    """File the form with the intent's own handler (or fold it), then the phone and the photo."""
    folded = await _fold_urgent(ctx, intent, extras) if intent.urgent else None
    outcome = folded or await handler(ctx, intent)
    if outcome.case is None:
        return outcome
    case = await ctx.session.get(Case, outcome.case.id)
    assert case is not None  # the handler has just filed or joined it in this transaction
    if intent.urgent and extras.urgent_key and folded is None:
        await web_state.set_ref(ctx.session, extras.urgent_key, case.id)
    told: list[Outgoing] = []
    if extras.photo_id is not None:
        await web_reports.attach_photo(ctx.session, extras.photo_id, case.id)
        await ctx.cases.log(case, ctx.sender_id, CaseAction.PHOTO, "", ctx.now)
    if extras.phone and not outcome.joined:
        await web_reports.set_contact(ctx.session, case.id, extras.phone, ctx.now)
    told.extend(_for_assignee(ctx, case, extras, joined=outcome.joined))
    token = await web_state.add_report_link(ctx.session, case, ctx.now)
    return replace(outcome, messages=outcome.messages + tuple(told), status_token=token)


async def _fold_urgent(ctx: HandlerContext, intent: Intent, extras: FormExtras) -> Outcome | None:
    """A later urgent report of the building within the window joins the first, silently."""
    if extras.urgent_key is None:
        return None
    window = ctx.config.web.urgent_window
    hit = await web_state.hit(ctx.session, extras.urgent_key, ctx.now, window)
    if hit.count == 1 or hit.ref is None:
        return None
    first = await ctx.session.get(Case, hit.ref)
    if first is None or first.status not in ACTIVE_STATUSES:
        return None
    await add_supporter(
        ctx.session,
        first.id,
        ctx.sender_id,
        ctx.message.sender_name,
        ctx.message.message_id,
        ctx.now,
    )
    await ctx.cases.log(first, ctx.sender_id, CaseAction.SECONDED, ctx.message.text, ctx.now)
    neighbours = 1 + await supporter_count(ctx.session, first.id)
    # The head was pinged for the first one; the others are counted on the case, not sent.
    text = f"这个紧急情况已登记为 {case_label(first)}（共 {neighbours} 位邻居反映），正在处理。"
    return Outcome(messages=(ctx.answer(text, urgent=True),), case=CaseRef.of(first), joined=True)


def _for_assignee(
    ctx: HandlerContext, case: Case, extras: FormExtras, *, joined: bool
) -> list[Outgoing]:
    """The phone number and the photo link, privately to whoever has the case."""
    lines = []
    if extras.phone:
        who = "附议的邻居" if joined else "反映人"
        lines.append(f"{who}留了电话：{extras.phone}（只发给您，请勿转到群里）")
    if extras.photo_id is not None:
        lines.append(
            f"现场照片：{extras.photo_link}"
            if extras.photo_link
            else "居民上传了现场照片，请在社区工作台查看。"
        )
    if not lines:
        return []
    to = case.assignee_id or (s.id if (s := ctx.grid.secretary(case.compound)) else None)
    if to is None:
        return []
    text = f"{case_label(case)}（民情码）" + "；".join(lines)
    return [Outgoing(to_room=None, to_person=to, text=text, urgent=case.urgent)]

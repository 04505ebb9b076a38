"""民情码: a report or wish from the public form, filed by the group handlers, plus a link."""

from __future__ import annotations

from dataclasses import replace

from bot.core.domain import CaseAction
from handlers.context import HandlerContext, IntentHandler
from handlers.outcome import Outcome
from intents import Intent
from storage.models import Case
from storage.web_state import add_report_link


async def file_from_form(
    ctx: HandlerContext, handler: IntentHandler, intent: Intent, phone: str
) -> Outcome:
    """File the form with the intent's own handler, keep the phone for the console, add a link."""
    outcome = await handler(ctx, intent)
    if outcome.case is None:
        return outcome
    case = await ctx.session.get(Case, outcome.case.id)
    assert case is not None  # the handler has just filed or joined it in this transaction
    if phone:
        # Kept in the case log for the console only, never in a chat message.
        await ctx.cases.log(case, ctx.sender_id, CaseAction.CONTACT, phone, ctx.now)
    token = await add_report_link(ctx.session, case, ctx.now)
    return replace(outcome, status_token=token)

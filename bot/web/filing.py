"""民情码: a report or wish from the public form, filed by the same handlers as a group message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.core.domain import CaseAction
from bot.core.grid import RoomInfo
from bot.core.messages import Incoming
from bot.outbound import enqueue_all
from handlers.context import HandlerContext
from handlers.reports import file_report
from intents import Intent, IntentKind, ParseContext, parse
from storage.cases import CaseRepository
from storage.models import Case, CaseSupporter
from storage.web_state import add_report_link

MAX_WHAT = 500
MAX_WHERE = 100
MAX_PHONE = 20


class FilingRefused(Exception):
    """The form cannot be filed as it is; the text says what to change."""


@dataclass(frozen=True, slots=True)
class WebReport:
    """What the 民情码 form carries."""

    compound: str
    building: str
    what: str
    where: str
    phone: str
    urgent: bool
    wish: bool


@dataclass(frozen=True, slots=True)
class Filed:
    """The filed case's label and its status token."""

    label: str
    token: str
    joined: bool = False  # the same problem was open already: the reporter seconded it


def check_report(form: WebReport) -> list[str]:
    """Problems with the form input, in Chinese; empty when it can be filed."""
    problems = []
    if not form.what.strip():
        problems.append("请写下要反映的事情。")
    if len(form.what) > MAX_WHAT:
        problems.append(f"事情描述请不要超过 {MAX_WHAT} 字。")
    if len(form.where) > MAX_WHERE:
        problems.append(f"地点请不要超过 {MAX_WHERE} 字。")
    phone = form.phone.strip()
    if len(phone) > MAX_PHONE or (phone and not all(c.isdigit() or c in "+- " for c in phone)):
        problems.append("电话只能填数字（可含 + 和 -），不超过 20 位。")
    return problems


async def file_web_report(bot: App, form: WebReport, room: RoomInfo) -> Filed:
    """File the form as the group message handler would: same parser, routing and messages."""
    problems = check_report(form)
    if problems:
        raise FilingRefused(" ".join(problems))
    now = bot.clock.now()
    text = form.what.strip()
    if form.where.strip():
        text += f"（地点：{form.where.strip()}）"
    parsed = parse(
        text, ParseContext(room=room.room.topic, sender_name="", bot_name=bot.config.bot.name)
    )
    kind = IntentKind.MICRO_WISH if form.wish else IntentKind.REPORT_PROBLEM
    handler = bot.registry.intents.get(kind)
    if handler is None:  # wishes arrive with the services; until then a wish is filed as a report
        kind, handler = IntentKind.REPORT_PROBLEM, file_report
    intent = replace(
        parsed if parsed.kind is kind else Intent(kind=kind, category=parsed.category),
        kind=kind,
        building=form.building,
        urgent=form.urgent or parsed.urgent,
    )
    token_id = uuid.uuid4().hex
    reporter = f"web:{token_id}"
    msg = Incoming(
        message_id=reporter,
        room=None,  # no group to answer in: the reporter gets the status link instead
        sender_id=reporter,
        sender_name=f"{form.building}栋居民（民情码）",
        text=text,
        mentions_bot=False,
        at=now,
    )
    async with bot.sessions() as session, session.begin():
        repo = CaseRepository(session)
        ctx = HandlerContext(
            message=msg,
            now=now,
            config=bot.config,
            grid=bot.grid,
            session=session,
            cases=repo,
            room=room,
        )
        out = await handler(ctx, intent)
        case, joined = await _filed_case(session, msg.message_id)
        if form.phone.strip():
            # Kept in the case log for the console only, never in a chat message.
            await repo.log(case, reporter, CaseAction.CONTACT, form.phone.strip(), now)
        token = await add_report_link(session, case, now)
        # The group acknowledgement has no room to go to; everything else is sent as usual.
        send = [m for m in out if m.to_room is not None or m.to_person not in (None, reporter)]
        await enqueue_all(session, bot.config, f"web:{token_id}", send, now)
    bot.sender.wake()
    label = f"W{case.number}" if case.kind == "wish" else f"#{case.number}"
    return Filed(label=label, token=token, joined=joined)


async def _filed_case(session: AsyncSession, message_id: str) -> tuple[Case, bool]:
    """The case the handler filed for this message, or the open one it joined (附议)."""
    found = await session.execute(select(Case).where(Case.source_message_id == message_id))
    case = found.scalar_one_or_none()
    if case is not None:
        return case, False
    joined = await session.execute(
        select(Case)
        .join(CaseSupporter, CaseSupporter.case_id == Case.id)
        .where(CaseSupporter.source_message_id == message_id)
    )
    return joined.scalar_one(), True

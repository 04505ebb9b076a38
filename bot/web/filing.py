"""民情码: a report or wish from the public form, filed by the same handlers as a group message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from bot.app import App
from bot.core.grid import RoomInfo
from bot.core.messages import Channel, Incoming
from handlers.web_reports import FormExtras, file_from_form
from intents import Intent, IntentKind, ParseContext, parse
from intents.buildings import building_in

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
    """The filed case's label and its status code."""

    label: str
    token: str
    joined: bool = False  # the same problem was open already: the reporter seconded it
    building: str = ""  # the building it was filed under (the text may name another one)


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


def building_for(bot: App, form: WebReport) -> str:
    """The building of the report: the QR code's, unless the text names another of the compound."""
    named = building_in(form.what) or building_in(form.where)
    if named and named != form.building and bot.grid.has_building(form.compound, named):
        return named
    return form.building


async def file_web_report(
    bot: App,
    form: WebReport,
    room: RoomInfo,
    *,
    message_id: str | None = None,
    photo_id: int | None = None,
    photo_link: str | None = None,
) -> Filed:
    """File the form as the group message handler would: same parser, routing and messages.

    `message_id` (from the form's token) makes a resubmitted form file nothing twice.
    """
    problems = check_report(form)
    if problems:
        raise FilingRefused(" ".join(problems))
    now = bot.clock.now()
    text = form.what.strip()
    if form.where.strip():
        text += f"（地点：{form.where.strip()}）"
    building = building_for(bot, form)
    room = bot.grid.building_room(form.compound, building) or room
    parsed = parse(
        text, ParseContext(room=room.room.topic, sender_name="", bot_name=bot.config.bot.name)
    )
    kind = IntentKind.MICRO_WISH if form.wish else IntentKind.REPORT_PROBLEM
    handler = bot.registry.intents.get(kind)
    if handler is None:  # wishes arrive with the services; until then a wish is filed as a report
        kind = IntentKind.REPORT_PROBLEM
        handler = bot.registry.intents[kind]
    intent = replace(
        parsed if parsed.kind is kind else Intent(kind=kind, category=parsed.category),
        kind=kind,
        building=building,
        urgent=form.urgent or parsed.urgent,
    )
    reporter = message_id or f"web:{uuid.uuid4().hex}"
    msg = Incoming(
        message_id=reporter,
        room=None,  # no group to answer in: the reporter gets the status page instead
        sender_id=reporter,
        sender_name=f"{building}栋居民（民情码）",
        text=text,
        mentions_bot=False,
        at=now,
        channel=Channel.WEB,
    )
    extras = FormExtras(
        phone=form.phone.strip(),
        photo_id=photo_id,
        photo_link=photo_link,
        urgent_key=f"urgent:{form.compound}/{building}" if intent.urgent else None,
    )
    outcome = await bot.dispatcher.submit(
        msg,
        lambda ctx: file_from_form(ctx, handler, intent, extras),
        what="web_report",
        room=room,
    )
    if outcome.refusal is not None or outcome.case is None or outcome.status_token is None:
        raise FilingRefused(outcome.refusal or "暂时无法登记，请稍后再试，急事请拨打物业电话。")
    return Filed(
        label=outcome.case.label,
        token=outcome.status_token,
        joined=outcome.joined,
        building=building,
    )

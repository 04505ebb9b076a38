"""Console and status-page actions, each run on the dispatcher's one path.

A console user acts as a worker of the compounds they may see (`supervised`); a resident on
the 民情码 status page acts as the reporter of that case. The form's token is part of the message
id, so a resubmitted form (reload, back button) is done once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.app import App
from bot.core.domain import CaseKind, Category
from bot.core.messages import Channel, Incoming
from bot.web.auth import Principal
from handlers.casework import DeskAction, DeskRequest
from handlers.context import HandlerContext
from handlers.outcome import Outcome
from intents import Command, CommandName, parse_command, transfer_target
from storage.models import Case

# Console action → the private command it is (派 N 3栋, 转 N 5, 督办 N, 办结 N, 完成 WN).
COMMANDS = {
    "assign": CommandName.DISPATCH,
    "transfer": CommandName.TRANSFER,
    "nudge": CommandName.NUDGE,
    "close": CommandName.RESOLVE,
    "complete": CommandName.COMPLETE_WISH,
}
DESK = {a.value: a for a in DeskAction if a is not DeskAction.CANCEL_ACTIVITY}
# What the case page offers for each kind of case (and the bulk form of the board).
FOR_KIND = {
    CaseKind.REPORT: frozenset(
        {"assign", "transfer", "nudge", "close", "reopen", "reply", "note", "merge", "spam"}
        | {"category"}
    ),
    CaseKind.WISH: frozenset({"claim_for", "complete", "reopen", "reply", "note", "spam"}),
}
BULK = frozenset({"close", "spam"})
DUPLICATE = "这个操作刚才已经提交过了，没有重复执行。"
_DIGITS = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the page shows after an action: the text, and whether it was done."""

    message: str
    ok: bool


def _message(
    sender: str, name: str, key: str, text: str, channel: Channel, at: datetime
) -> Incoming:
    return Incoming(
        message_id=key,
        room=None,
        sender_id=sender,
        sender_name=name,
        text=text,
        mentions_bot=False,
        at=at,
        channel=channel,
    )


def _key(prefix: str, idem: str, what: str) -> str:
    token = idem[:64] if re.fullmatch(r"[A-Za-z0-9_-]{8,64}", idem or "") else uuid.uuid4().hex
    return f"{prefix}:{token}:{what}"[:200]


def _result(outcome: Outcome, person: str) -> ActionResult:
    if outcome.duplicate:
        return ActionResult(DUPLICATE, ok=False)
    if outcome.refusal is not None:
        return ActionResult(outcome.refusal, ok=False)
    return ActionResult("；".join(outcome.replies_to(person)) or "已完成。", ok=True)


def supervised(bot: App, principal: Principal) -> frozenset[str]:
    """The compounds a console user acts for."""
    return frozenset(c.name for c in bot.grid.compounds() if principal.may_see(c.name))


def desk_request(
    action: DeskAction,
    kind: CaseKind,
    number: int | None,
    fields: Mapping[str, str],
    compound: str | None = None,
) -> DeskRequest:
    """A desk request from form fields (malformed ones are left empty: the handler refuses)."""
    other = fields.get("other", "").strip().lstrip("#＃Ww")
    category = fields.get("category", "")
    return DeskRequest(
        action=action,
        kind=kind,
        number=number,
        compound=compound,
        text=fields.get("text", "")[:1000],
        other=int(other) if _DIGITS.match(other) else None,
        category=Category(category) if category in set(Category) else None,
        person=fields.get("person") or None,
    )


async def run_action(
    bot: App,
    principal: Principal,
    kind: CaseKind,
    number: int,
    action: str,
    fields: Mapping[str, str],
    idem: str = "",
    compound: str | None = None,
) -> ActionResult:
    """Run one console action on a case (of `compound`, when known) as the console user."""
    if action not in FOR_KIND[kind]:
        return ActionResult("这项操作不适用于这件事项。", ok=False)
    msg = _message(
        principal.actor_id,
        principal.display_name,
        _key(principal.actor_id, idem, f"{action}:{kind}{number}:{compound or ''}"),
        f"{action} {kind.case_label(number)}",
        Channel.CONSOLE,
        bot.clock.now(),
    )
    name = COMMANDS.get(action)
    if name is not None:
        target = fields.get("target", "").strip()[:200]
        note = fields.get("text", "").strip()[:500]
        command = Command(
            name,
            number=number,
            compound=compound,
            arg=target or note,
            target=transfer_target(target) if target else None,
        )
        route = bot.registry.commands[name]

        async def call(ctx: HandlerContext) -> Outcome:
            return await route(ctx, command)

    else:
        request = desk_request(DESK[action], kind, number, fields, compound)
        desk = bot.registry.desk[DESK[action]]

        async def call(ctx: HandlerContext) -> Outcome:
            return await desk(ctx, request)

    outcome = await bot.dispatcher.submit(
        msg, call, what=f"console:{action}", supervised=supervised(bot, principal)
    )
    return _result(outcome, principal.actor_id)


async def publish_activity(
    bot: App, principal: Principal, fields: Mapping[str, str], idem: str = ""
) -> ActionResult:
    """发布活动 from the console form: the same reading and handler as the private command."""
    parts = [fields.get(k, "").strip()[:100] for k in ("compound", "title", "day", "time")]
    place = fields.get("place", "").strip()[:100]
    capacity = fields.get("capacity", "").strip()
    if not all(parts):
        return ActionResult("请填写小区、活动名称、日期和时间。", ok=False)
    if any(" " in p for p in parts[1:2]):
        return ActionResult("活动名称里请不要有空格。", ok=False)
    text = " ".join(
        ["发布活动", *parts, place, f"{capacity}人" if _DIGITS.match(capacity) else ""]
    )
    command = parse_command(" ".join(text.split()))
    if command is None or command.name is not CommandName.PUBLISH_ACTIVITY:
        return ActionResult("没能读懂这个活动，请检查填写的内容。", ok=False)
    route = bot.registry.commands[CommandName.PUBLISH_ACTIVITY]
    msg = _message(
        principal.actor_id,
        principal.display_name,
        _key(principal.actor_id, idem, "publish"),
        text,
        Channel.CONSOLE,
        bot.clock.now(),
    )
    outcome = await bot.dispatcher.submit(
        msg,
        lambda ctx: route(ctx, command),
        what="console:publish_activity",
        supervised=supervised(bot, principal),
    )
    return _result(outcome, principal.actor_id)


async def cancel_activity(
    bot: App, principal: Principal, activity_id: int, reason: str, idem: str = ""
) -> ActionResult:
    """取消活动 from the console."""
    request = DeskRequest(DeskAction.CANCEL_ACTIVITY, number=activity_id, text=reason[:200])
    route = bot.registry.desk[DeskAction.CANCEL_ACTIVITY]
    msg = _message(
        principal.actor_id,
        principal.display_name,
        _key(principal.actor_id, idem, f"cancel:{activity_id}"),
        f"取消活动 {activity_id}",
        Channel.CONSOLE,
        bot.clock.now(),
    )
    outcome = await bot.dispatcher.submit(
        msg,
        lambda ctx: route(ctx, request),
        what="console:cancel_activity",
        supervised=supervised(bot, principal),
    )
    return _result(outcome, principal.actor_id)


async def resident_action(
    bot: App, case: Case, code: str, action: str, fields: Mapping[str, str], idem: str = ""
) -> ActionResult:
    """评价 or 还没好 from the 民情码 status page, as the case's reporter."""
    kind = CaseKind(case.kind)
    msg = _message(
        case.reporter_id,
        case.reporter_name,
        _key(f"web:{code}", idem, action),
        f"{action} {kind.case_label(case.number)}",
        Channel.WEB,
        bot.clock.now(),
    )
    if action == "rate":
        score = fields.get("score", "")
        if score not in ("1", "2", "3", "4", "5"):
            return ActionResult("请选择满意、基本满意或不满意。", ok=False)
        command = Command(CommandName.RATE, number=case.number, score=int(score))
        route = bot.registry.commands[CommandName.RATE]

        async def call(ctx: HandlerContext) -> Outcome:
            return await route(ctx, command)

    elif action == "reopen":
        request = desk_request(DeskAction.REOPEN, kind, case.number, fields)
        desk = bot.registry.desk[DeskAction.REOPEN]

        async def call(ctx: HandlerContext) -> Outcome:
            return await desk(ctx, request)

    else:
        return ActionResult("没有这项操作。", ok=False)
    outcome = await bot.dispatcher.submit(msg, call, what=f"web:{action}")
    return _result(outcome, case.reporter_id)

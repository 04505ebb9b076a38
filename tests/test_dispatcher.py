"""The dispatcher: dedup, error boundary, refusals that change nothing, privacy of chit-chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.core.domain import CaseStatus
from bot.core.messages import Channel, Incoming, LocalTransport, Outgoing
from bot.sender import SendPolicy
from handlers import reports, subjects
from handlers.context import HandlerContext
from handlers.outcome import UNHANDLED, Outcome, said
from handlers.permissions import SUPERVISOR
from handlers.registry import DuplicateHandler, Registry, build_registry
from intents import Command, CommandName, Intent, IntentKind
from storage.models import Case, CaseEvent, OutboxMessage, ProcessedMessage
from tests.support.replaying import scenario_config

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


class Recorder(LocalTransport):
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def incoming(self) -> AsyncIterator[Incoming]:
        return
        yield

    async def send(self, msg: Outgoing) -> None:
        self.sent.append(msg)


def group(mid: str, text: str, sender: str = "wx_r1", name: str = "7栋1502-孙阿姨") -> Incoming:
    return Incoming(mid, "滨江花园7栋群", sender, name, text, False, T0)


def private(mid: str, sender: str, text: str) -> Incoming:
    return Incoming(mid, None, sender, sender, text, False, T0)


async def started(db_url: str, registry: Registry | None = None) -> tuple[App, Recorder]:
    t = Recorder()
    app = build_app(
        scenario_config(),
        t,
        VirtualClock(T0),
        db_url=db_url,
        policy=SendPolicy.immediate(),
        registry=registry,
    )
    await app.start(upgrade=True)
    return app, t


async def test_a_failing_handler_is_contained(db_url: str) -> None:
    async def broken(ctx: HandlerContext, intent: Intent) -> Outcome:
        await reports.file_report(ctx, intent)  # writes a case, then fails like a bug would
        raise RuntimeError("bug in a handler")

    registry = build_registry()
    registry.intents[IntentKind.REPORT_PROBLEM] = broken
    app, t = await started(db_url, registry)
    try:
        await app.handle(group("m1", "7栋电梯坏了，按钮没反应"))
        await app.handle(private("m2", "wx_head7", "待办"))
        await app.sender.drain()
        assert "抱歉" in t.sent[0].text and t.sent[0].to_room == "滨江花园7栋群"
        assert "没有待办" in t.sent[1].text  # the bot kept listening
        async with app.sessions() as s:
            assert (await s.execute(select(Case))).first() is None
            assert len((await s.execute(select(ProcessedMessage))).all()) == 2
    finally:
        await app.stop()


async def test_a_refusal_changes_nothing(db_url: str) -> None:
    app, t = await started(db_url)
    try:
        await app.handle(group("m1", "7栋电梯坏了，按钮没反应"))
        await app.handle(private("m2", "wx_head8", "办结 1 修好了"))
        await app.sender.drain()
        assert "不在您的名下" in t.sent[-1].text
        async with app.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
            assert case.status == CaseStatus.OPEN and case.resolved_at is None
            actions = (
                (await s.execute(select(CaseEvent.action).order_by(CaseEvent.id))).scalars().all()
            )
            assert actions == ["filed", "assigned"]
    finally:
        await app.stop()


async def test_chit_chat_leaves_no_trace(db_url: str) -> None:
    app, t = await started(db_url)
    try:
        chat = "今晚谁家做饭这么香，我家孩子都饿了"
        await app.handle(group("c1", chat))
        await app.sender.drain()
        assert t.sent == []
        async with app.sessions() as s:
            assert (await s.execute(select(ProcessedMessage))).first() is None
            assert (await s.execute(select(OutboxMessage))).first() is None
            assert (await s.execute(select(Case))).first() is None
    finally:
        await app.stop()


async def test_unknown_private_message_gets_help_and_mention_gets_a_hint(db_url: str) -> None:
    app, t = await started(db_url)
    try:
        await app.handle(private("p1", "wx_r1", "你好，请问怎么用"))
        await app.handle(
            Incoming("p2", "滨江花园7栋群", "wx_r1", "孙阿姨", "@小邻 你是谁", True, T0)
        )
        await app.sender.drain()
        assert "接单" in t.sent[0].text and t.sent[0].to_person == "wx_r1"
        assert t.sent[1].to_room == "滨江花园7栋群" and "报事" in t.sent[1].text
    finally:
        await app.stop()


def test_registering_twice_is_an_error() -> None:
    registry = build_registry()
    with pytest.raises(DuplicateHandler):
        registry.on_intent(IntentKind.REPORT_PROBLEM, registry.intents[IntentKind.REPORT_PROBLEM])


async def test_an_image_after_a_report_is_noted_on_the_case(db_url: str) -> None:
    app, t = await started(db_url)
    try:
        await app.handle(group("m1", "7栋楼道墙皮掉下来了，差点砸到人"))
        await app.handle(group("m2", "[图片]"))
        await app.handle(group("m3", "[图片]", sender="wx_other", name="路人甲"))
        await app.sender.drain()
        assert len(t.sent) == 2  # the acknowledgement and the head's message; images are silent
        async with app.sessions() as s:
            notes = (
                (await s.execute(select(CaseEvent.note).where(CaseEvent.action == "image")))
                .scalars()
                .all()
            )
        assert notes == ["图片 m2"]
    finally:
        await app.stop()


async def test_a_permission_declared_at_registration_stops_the_handler(db_url: str) -> None:
    ran: list[int] = []

    async def nudge(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
        ran.append(case.number)
        return said([ctx.reply_private("done")], case)

    registry = build_registry()
    registry.commands.pop(CommandName.NUDGE)
    registry.on_case_command(
        CommandName.NUDGE, nudge, subject=subjects.report_named, allow=SUPERVISOR
    )
    app, _t = await started(db_url, registry)
    try:
        await app.handle(group("m1", "7栋电梯坏了，按钮没反应"))
        refused = await app.handle(private("m2", "wx_r1", "督办 1"))  # a resident
        allowed = await app.handle(private("m3", "wx_sec", "督办 1"))  # the secretary
        assert ran == [1]
        assert refused.refusal is not None and "只有小区书记或社区工作人员" in refused.refusal
        assert allowed.case is not None and allowed.case.label == "#1"
    finally:
        await app.stop()


async def test_a_declining_handler_leaves_the_message_to_the_parser(db_url: str) -> None:
    async def never(ctx: HandlerContext, intent: Intent) -> Outcome:
        return UNHANDLED

    registry = build_registry()
    registry.image = never
    app, _t = await started(db_url, registry)
    try:
        outcome = await app.handle(group("m1", "[图片]"))
        assert not outcome.handled
        async with app.sessions() as s:  # declined: not even marked processed
            assert (await s.execute(select(ProcessedMessage))).first() is None
    finally:
        await app.stop()


async def test_a_submitted_request_is_done_once_by_its_id(db_url: str) -> None:
    app, t = await started(db_url)
    try:
        room = app.grid.room("滨江花园7栋群")
        intent = Intent(IntentKind.REPORT_PROBLEM, building="7")
        handler = app.registry.intents[IntentKind.REPORT_PROBLEM]
        msg = Incoming("web:1", None, "web:1", "7栋居民", "电梯坏了", False, T0, Channel.WEB)
        first = await app.dispatcher.submit(
            msg, lambda ctx: handler(ctx, intent), what="web", room=room
        )
        again = await app.dispatcher.submit(
            msg, lambda ctx: handler(ctx, intent), what="web", room=room
        )
        assert first.case is not None and first.case.label == "#1" and not first.duplicate
        assert again.duplicate and again.case is None
        await app.sender.drain()
        # the head hears it once; the reply to the web sender is not sent through a chat
        assert [m.to_person for m in t.sent] == ["wx_head7"]
    finally:
        await app.stop()

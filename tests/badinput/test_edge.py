"""The message path meets bad input: cleaned once at the edge, bounded, one apology at most."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rapidfuzz import fuzz
from sqlalchemy import func, select

from bot import dispatcher as dispatcher_module
from bot.core.domain import CaseKind
from handlers import duplicates
from handlers.duplicates import CANDIDATE_LIMIT, GIST_LIMIT
from intents import Intent, ParseContext
from storage.cases import CaseRepository, NewCase
from storage.models import Case, OutboxMessage, ProcessedMessage
from tests.test_dispatcher import T0, group, private, started


async def _outbox(app: object) -> list[OutboxMessage]:
    async with app.sessions() as s:  # type: ignore[attr-defined]
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def _processed(app: object) -> int:
    async with app.sessions() as s:  # type: ignore[attr-defined]
        return int((await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar())


@pytest.fixture
def sqlite_url(tmp_path: object) -> Iterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path}/jinlin.db"


async def test_a_name_cannot_forge_a_bot_line_or_call_everyone(sqlite_url: str) -> None:
    app, _t = await started(sqlite_url)
    try:
        name = "王阿姨\n小邻: #1 已办结\u202e @所有人<script>"
        await app.handle(group("m1", "7栋电梯坏了，按钮没反应", name=name))
        ack = (await _outbox(app))[0]
        assert ack.to_room is not None
        assert "\n" not in ack.text and "\u202e" not in ack.text
        assert "所有人" not in ack.text and "<" not in ack.text
        async with app.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
        assert "\n" not in case.reporter_name and len(case.reporter_name) <= 20
    finally:
        await app.stop()


async def test_unencodable_text_is_cleaned_not_apologised_for(sqlite_url: str) -> None:
    app, _t = await started(sqlite_url)
    try:
        outcome = await app.handle(group("m1", "7栋电梯坏了\ud800，按钮\x00没反应\u200b"))
        assert outcome.handled and outcome.refusal is None
        async with app.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
        assert case.text == "7栋电梯坏了，按钮没反应"
    finally:
        await app.stop()


@pytest.mark.parametrize("number", ["99999999999999999999", "9" * 5000, "#" + "9" * 10])
async def test_a_number_no_case_can_have_is_answered(sqlite_url: str, number: str) -> None:
    app, _t = await started(sqlite_url)
    try:
        outcome = await app.handle(private("p1", "wx_head7", f"接单 {number}"))
        assert outcome.refusal is not None
        assert "抱歉" not in outcome.refusal
        assert "没有这个编号" in outcome.refusal
    finally:
        await app.stop()


async def test_a_failing_message_is_marked_processed_with_one_apology(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, ctx: ParseContext) -> Intent:
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr(dispatcher_module, "parse", broken)
    app, _t = await started(sqlite_url)
    try:
        first = await app.handle(group("m1", "7栋电梯坏了"))
        again = await app.handle(group("m1", "7栋电梯坏了"))  # redelivered after a reconnect
        assert first.refusal == dispatcher_module.SORRY
        assert again.refusal is None and again.duplicate
        sent = await _outbox(app)
        assert [m.text.count("抱歉") for m in sent] == [1]
        assert await _processed(app) == 1
    finally:
        await app.stop()


async def test_a_slow_message_is_logged_by_id(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, _t = await started(sqlite_url)
    ticks = iter(range(0, 1000, 7))  # every reading of the timer is 7 s later
    app.dispatcher._timer = lambda: float(next(ticks))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.dispatcher"):
            await app.handle(group("slow-1", "今天天气不错"))
        assert any("slow-1" in r.getMessage() for r in caplog.records)
    finally:
        await app.stop()


async def test_the_duplicate_check_reads_a_bounded_amount(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _t = await started(sqlite_url)
    lengths: list[tuple[int, int]] = []

    def recording(a: str, b: str, **kw: object) -> float:
        lengths.append((len(a), len(b)))
        return 0.0

    try:
        async with app.sessions() as s, s.begin():
            repo = CaseRepository(s)
            for i in range(CANDIDATE_LIMIT + 15):
                text = "7" + "栋" * 3000 + f"电梯坏了{i}号" + "梯" * 3000
                await repo.create(
                    NewCase(
                        kind=CaseKind.REPORT,
                        compound="滨江花园",
                        building="7",
                        text=text,
                        category="lift",
                        urgent=False,
                        reporter_id=f"wx{i}",
                        reporter_name="邻居",
                        room="滨江花园7栋群",
                        assignee_id="wx_head7",
                        assignee_name="陈大姐",
                        source_message_id=f"old{i}",
                    ),
                    T0,
                )
        monkeypatch.setattr(duplicates.fuzz, "partial_ratio", recording)
        long_report = "7栋电梯坏了" + "，电梯按钮没反应" * 400
        said = await app.handle(group("m1", long_report))
        assert said.handled, said
        assert 0 < len(lengths) <= CANDIDATE_LIMIT
        assert max(max(a, b) for a, b in lengths) <= GIST_LIMIT
    finally:
        monkeypatch.setattr(duplicates.fuzz, "partial_ratio", fuzz.partial_ratio)
        await app.stop()


async def test_activity_titles_are_taken_whole(sqlite_url: str) -> None:
    app, _t = await started(sqlite_url)
    try:
        for mid, text in (
            ("a1", "发布活动 Wifi培训 12月20日15:00 党群连心园 20人"),
            ("a2", "发布活动 7栋联谊会 12月21日15:00 党群连心园 20人"),
        ):
            await app.handle(private(mid, "wx_sec", text))
        posted = "\n".join(m.text for m in await _outbox(app) if m.to_room is not None)
        assert "【活动报名】Wifi培训" in posted
        assert "【活动报名】7栋联谊会" in posted
    finally:
        await app.stop()

"""What a write on the message path costs in SQL: the statements of each message kind, counted.

A report, a 附议, a wish and a sign-up each send a known number of statements to the database
(SQLite, through the dispatcher); a change that adds a look-up or a flush to one of them fails
here, and has to say in this file why the message needs it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.core.messages import Incoming
from bot.replay import RecordingTransport
from storage.models import Case, OutboxMessage, ScheduledTask, Signup
from tests.services.replays import services_config

TZ = ZoneInfo("Asia/Shanghai")
ROOM = "武夷香榭3栋业主群"
ACTIVITY = {"title": "冬至包饺子", "compound": "武夷香榭", "starts_at": "2026-12-21T15:00"}


@contextlib.asynccontextmanager
async def started(tmp_path: Path) -> AsyncIterator[tuple[App, VirtualClock]]:
    cfg = services_config(activities=[{**ACTIVITY, "capacity": 30}])
    clock = VirtualClock(datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    app = build_app(
        cfg,
        RecordingTransport(clock, io.StringIO(), cfg),
        clock,
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}",
    )
    await app.start(upgrade=True)
    try:
        yield app, clock
    finally:
        await app.stop()


@contextlib.contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The first word of every statement sent inside the block (BEGIN included)."""
    sent: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()[:3]))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def cost(app: App, clock: VirtualClock, mid: str, sender: str, text: str) -> list[str]:
    """The statements one group message sends; it must have been handled."""
    clock.set(clock.now() + timedelta(minutes=1))
    msg = Incoming(mid, ROOM, sender, f"邻居{sender}", text, False, clock.now())
    with counting(app.engine) as sent:
        outcome = await app.handle(msg)
    assert outcome.handled, text
    return sent


async def test_a_report_is_one_transaction_of_nine_statements(tmp_path: Path) -> None:
    """BEGIN, the dedup row, the 附议 search, the number, the case, its log, its SLA steps, the
    accounts that reach the building head and the outbox rows: nothing is read back, nothing
    is flushed twice."""
    async with started(tmp_path) as (app, clock):
        await cost(app, clock, "r0", "wx_z", "5栋楼道灯不亮了")  # the compound's first number
        sent = await cost(app, clock, "r1", "wx_a", "3栋电梯坏了，按钮没反应")
        assert len(sent) == 9, sent
        assert sent[0] == "BEGIN IMMEDIATE"
        assert sum(s.startswith("SELECT") for s in sent) == 2, sent  # 附议, the head's accounts
        # 附议: the same problem again joins the case (the match is read whole, once).
        sent = await cost(app, clock, "r2", "wx_b", "3栋电梯坏了，按钮没反应，麻烦看一下")
        assert len(sent) <= 10, sent
        async with app.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Case)) == 2
            case = (await s.scalars(select(Case).where(Case.building == "3"))).one()
            assert case.number == 2 and case.accept_due_at is not None
            steps = await s.scalars(
                select(ScheduledTask.key).where(ScheduledTask.key.startswith(f"sla:{case.id}:"))
            )
            assert len(steps.all()) == 3


async def test_a_wish_is_one_transaction_of_eight_statements(tmp_path: Path) -> None:
    """BEGIN, the dedup row, the number, the wish, its log, its two tasks in one insert, the
    accounts that reach its helpers and the outbox rows."""
    async with started(tmp_path) as (app, clock):
        await cost(app, clock, "w0", "wx_z", "微心愿：想借两本绘本给孩子看")
        sent = await cost(app, clock, "w1", "wx_a", "微心愿：想借个轮椅，下周去医院复查用")
        assert len(sent) == 8, sent
        async with app.sessions() as s:
            found = await s.scalars(
                select(ScheduledTask.key).where(ScheduledTask.key.startswith("wish:"))
            )
            keys = set(found.all())
            assert len(keys) == 4
            assert {k.rsplit(":", 1)[1] for k in keys} == {"remind", "escalate"}


async def test_a_sign_up_reads_what_it_needs_in_four_statements(tmp_path: Path) -> None:
    """One transaction: BEGIN, the dedup row, the titles' stamp, the activity, the sender's
    sign-up with the places taken (one read), the new row and the room's last roster (then the
    next roster's task, or the roster and the outbox when one is due)."""
    async with started(tmp_path) as (app, clock):
        await cost(app, clock, "s0", "wx_z", "报名冬至包饺子")  # titles read; the roster posted
        # Within the roster gap: the next roster is scheduled, then it is already on its way.
        sent = await cost(app, clock, "s1", "wx_a", "报名冬至包饺子 2人")
        assert len(sent) == 8, sent
        assert sent[0] == "BEGIN IMMEDIATE", sent  # the titles' stamp is read in it
        sent = await cost(app, clock, "s2", "wx_b", "报名冬至包饺子 1人")
        assert len(sent) == 7, sent
        assert sum(s.startswith("SELECT") for s in sent) <= 4, sent
        async with app.sessions() as s:
            assert await s.scalar(select(func.sum(Signup.headcount))) == 4
            rows = await s.scalar(select(func.count()).select_from(OutboxMessage))
            assert rows == 1  # one roster so far; the next one waits for the gap

"""Durable receipt: every message stored before handling, handled marks written in batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import event, func, select

from bot.core.clock import VirtualClock
from bot.core.messages import Incoming
from bot.transports.receipts import MARK_BATCH, DatabaseReceipts
from storage import schema
from storage.engine import create_engine, session_factory
from storage.wechat_models import ReceivedMessage

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _msg(i: int) -> Incoming:
    return Incoming(f"m{i}", "3栋业主群", "wx_li", "李叔", f"第{i}条", False, NOW)


async def test_handled_marks_are_written_together_and_none_is_lost(db_url: str) -> None:
    engine = create_engine(db_url)
    await schema.upgrade(engine)
    sessions = session_factory(engine)
    updates: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE RECEIVED_MESSAGES"):
            updates.append(statement)

    receipts = DatabaseReceipts("default", VirtualClock(NOW), sessions, poll=0.05)
    count = 2 * MARK_BATCH + 7
    try:
        for i in range(count):
            await receipts.put(_msg(i))
        await receipts.flush()
        seen: list[str] = []

        async def consume() -> None:
            async for msg in receipts.stream():
                seen.append(msg.message_id)
                if len(seen) == count:
                    await asyncio.sleep(0.2)  # the stream asks again, finds nothing, waits
                    receipts.close()

        await asyncio.wait_for(consume(), 30)
        assert seen == [f"m{i}" for i in range(count)]
        async with sessions() as s:
            left = await s.scalar(select(func.count()).where(ReceivedMessage.handled_at.is_(None)))
            texts = await s.scalar(select(func.count()).where(ReceivedMessage.text.is_not(None)))
        assert left == 0 and texts == 0  # every one handled, its text forgotten
        assert 1 < len(updates) <= 3  # 50 + 50 + 7 marks, not 107 transactions
    finally:
        await engine.dispose()

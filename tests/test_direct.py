"""Statements run on the SQLite driver directly store and read exactly what the session would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.domain import OutboxStatus
from storage import direct, schema
from storage.counters import current_value, next_value
from storage.engine import create_engine, session_factory
from storage.models import Case, OutboxMessage, ProcessedMessage
from storage.upsert import insert_ignore, insert_ignore_many

NOW = datetime(2026, 12, 2, 8, 30, 15, 250000, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    await schema.upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


def _row(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "account": "default",
        "to_room": None,
        "to_person": "wx_wang",
        "text": "新报事 #3",
        "mention_ids": ["wx_a", "wx_b"],
        "urgent": True,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "created_at": NOW,
        "not_before": NOW,
    }


async def test_rows_written_directly_read_back_as_through_the_session(
    engine: AsyncEngine,
) -> None:
    """Dates (UTC, microseconds), JSON and booleans go through the same bind processing."""
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        assert await insert_ignore_many(s, OutboxMessage, [_row("a"), _row("b")], ["key"]) == 2
        assert await insert_ignore_many(s, OutboxMessage, [_row("a"), _row("c")], ["key"]) == 1
        assert await insert_ignore(
            s, ProcessedMessage, {"message_id": "m", "at": NOW}, ["message_id"]
        )
        assert not await insert_ignore(
            s, ProcessedMessage, {"message_id": "m", "at": NOW}, ["message_id"]
        )
        assert [await next_value(s, "n") for _ in range(3)] == [1, 2, 3]
    async with sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.key))).all()
        assert [r.key for r in rows] == ["a", "b", "c"]
        assert rows[0].created_at == NOW and rows[0].not_before == NOW
        assert rows[0].mention_ids == ["wx_a", "wx_b"] and rows[0].urgent is True
        got = await s.get(ProcessedMessage, "m")
        assert got is not None and got.at == NOW
        assert await current_value(s, "n") == 3


async def test_pending_changes_are_flushed_before_a_direct_statement(
    engine: AsyncEngine,
) -> None:
    """As autoflush would: a statement run directly sees what the session holds."""
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        s.add(ProcessedMessage(message_id="pending", at=NOW))
        inserted = await insert_ignore(
            s, ProcessedMessage, {"message_id": "pending", "at": NOW}, ["message_id"]
        )
        assert not inserted  # the flushed row was there already


async def test_what_it_cannot_run_exactly_goes_through_the_session(
    engine: AsyncEngine,
) -> None:
    """Python-side column defaults are the session's job: `run` runs nothing and says so."""
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        # `urgent` has a Python-side default, filled in by SQLAlchemy's execution context.
        stmt = insert(Case.__table__)
        assert await direct.run(s, stmt, {"kind": "report", "number": 1}) is None


async def test_statement_listeners_still_hear_direct_statements(engine: AsyncEngine) -> None:
    """`before_cursor_execute` is called for a direct statement, as for any other."""
    heard: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        heard.append(statement.split()[0])

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        async with session_factory(engine)() as s, s.begin():
            await insert_ignore(
                s, ProcessedMessage, {"message_id": "x", "at": NOW}, ["message_id"]
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
    assert heard == ["BEGIN", "INSERT"]


async def test_a_session_on_another_driver_is_left_to_the_session() -> None:
    """Only our SQLite driver runs statements directly."""
    from sqlalchemy.ext.asyncio import create_async_engine

    eng = create_async_engine("sqlite+aiosqlite://")
    try:
        async with AsyncSession(eng) as s, s.begin():
            stmt = select(ProcessedMessage.message_id)
            assert await direct.run(s, stmt, {}) is None
    finally:
        await eng.dispose()


async def test_a_fixed_in_list_reads_the_same_rows_as_the_session(engine: AsyncEngine) -> None:
    """The 附议 search (statuses in a fixed list, a date bound) finds what the session finds."""
    from bot.core.domain import CaseKind, CaseStatus
    from storage.cases import CaseRepository, NewCase
    from storage.supporters import _OPEN_LIKE, open_reports_like

    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        repo = CaseRepository(s)
        made = []
        for n in range(3):
            new = NewCase(
                kind=CaseKind.REPORT,
                compound="武夷香榭",
                building="3",
                text=f"电梯坏了 {n}",
                category="elevator",
                urgent=False,
                reporter_id=f"wx_{n}",
                reporter_name=f"邻居{n}",
                room="武夷香榭3栋业主群",
                assignee_id=None,
                assignee_name=None,
                source_message_id=f"m{n}",
            )
            made.append(await repo.create(new, NOW))
        made[1].status = CaseStatus.RESOLVED
    params = {
        "compound": "武夷香榭",
        "building": "3",
        "category": "elevator",
        "since": NOW,
        "limit": 20,
    }
    async with sessions() as s, s.begin():
        found = await open_reports_like(s, **params)  # type: ignore[arg-type]
        expected = (await s.execute(_OPEN_LIKE, params)).all()
    assert found == [(int(i), str(t)) for i, t in expected]
    assert [t for _, t in found] == ["电梯坏了 2", "电梯坏了 0"]

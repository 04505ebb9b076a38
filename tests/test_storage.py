"""Storage on SQLite and PostgreSQL: migrations, shared counters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import SchemaOutdated, ensure_schema_current
from storage import schema, tasks
from storage.counters import next_value
from storage.engine import create_engine, session_factory
from storage.models import ProcessedMessage, ScheduledTask
from storage.upsert import insert_ignore


async def test_migrations_and_schema_check(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with pytest.raises(SchemaOutdated, match="jinlin db upgrade"):
            await ensure_schema_current(engine)
        await schema.upgrade(engine)
        await ensure_schema_current(engine)
        await schema.upgrade(engine)  # a second upgrade is a no-op
    finally:
        await engine.dispose()


async def test_counters_never_hand_out_a_number_twice(db_url: str) -> None:
    engine = create_engine(db_url)
    await schema.upgrade(engine)
    sessions = session_factory(engine)

    async def take() -> int:
        async with sessions() as s, s.begin():
            return await next_value(s, "case:report")

    try:
        got = await asyncio.gather(*(take() for _ in range(20)))
        assert sorted(got) == list(range(1, 21))
    finally:
        await engine.dispose()


async def test_insert_ignore_counts_only_new_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    await schema.upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 12, 2, tzinfo=UTC)

    def task(key: str) -> tasks.NewTask:
        return tasks.NewTask(key=key, kind="sla", due_at=now)

    try:
        async with sessions() as s, s.begin():
            assert await tasks.schedule_many(s, [task("a"), task("b")]) == 2
            assert await tasks.schedule_many(s, [task("b"), task("c"), task("d")]) == 2
            assert await tasks.schedule_many(s, [task("d")]) == 0
            assert await insert_ignore(
                s, ProcessedMessage, {"message_id": "m", "at": now}, ["message_id"]
            )
            assert not await insert_ignore(
                s, ProcessedMessage, {"message_id": "m", "at": now}, ["message_id"]
            )
        async with sessions() as s:
            keys = await s.scalars(select(ScheduledTask.key).order_by(ScheduledTask.key))
            assert list(keys) == ["a", "b", "c", "d"]
    finally:
        await engine.dispose()

"""Storage on SQLite and PostgreSQL: migrations, shared counters."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import SchemaOutdated, ensure_schema_current
from storage import schema
from storage.counters import next_value
from storage.engine import create_engine, session_factory


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

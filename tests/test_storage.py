"""Storage on SQLite and PostgreSQL: migrations, shared counters, idempotent grid sync."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import SchemaOutdated, build_app, ensure_schema_current, grid_rows
from bot.core.clock import SystemClock
from bot.core.config import load_config
from storage import schema
from storage.counters import next_value
from storage.engine import create_engine, session_factory
from storage.grid_sync import sync_grid
from storage.models import Building, Person, Role, Room
from tests.support.replaying import SCENARIOS
from tests.test_dispatcher import Recorder


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


async def test_grid_sync_is_idempotent_and_follows_the_config(db_url: str) -> None:
    config = load_config(SCENARIOS / "config.yaml")
    app = build_app(config, Recorder(), SystemClock(), db_url=db_url)
    try:
        await app.start(upgrade=True)
        await app.start(upgrade=True)
        async with app.sessions() as s:
            assert await s.scalar(select(func.count(Building.id))) == 4
            assert await s.scalar(select(func.count(Room.id))) == 3
            roles = (await s.execute(select(Role.role, Role.scope))).all()
            assert ("building_head", "滨江花园/7") in roles
            assert ("worker", "水南社区") in roles
        # a head leaves: the config changes, the role goes, the person row stays
        data = config.model_dump()
        data["grid"][0]["compounds"][0]["buildings"][0]["head"] = None
        changed = type(config).model_validate(data)
        communities, role_rows = grid_rows(changed)
        async with app.sessions() as s, s.begin():
            await sync_grid(s, communities, role_rows)
        async with app.sessions() as s:
            roles = (await s.execute(select(Role.role, Role.scope))).all()
            assert ("building_head", "滨江花园/7") not in roles
            assert await s.scalar(select(func.count(Person.id))) == 6
    finally:
        await app.stop()

"""Migration 0005: phone numbers move out of the case log; the schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import storage.web_models  # noqa: F401  (registers the web tables on the metadata)
from storage import schema
from storage.engine import create_engine
from storage.models import Base


async def test_contact_events_move_to_web_contacts(db_url: str) -> None:
    engine = create_engine(db_url)
    # SQLite keeps naive UTC text; asyncpg wants a datetime.
    when: object = "2026-11-25 02:00:00"
    if engine.dialect.name == "postgresql":
        when = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    try:
        await schema.upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO cases (id, kind, number, compound, building, text, category, "
                    "urgent, status, reporter_id, reporter_name, created_at, updated_at) VALUES "
                    "(1, 'report', 1, '武夷香榭', '3', '灯坏了', 'lighting', false, 'open', "
                    "'web:x', '3栋居民（民情码）', :t, :t)"
                ),
                {"t": when},
            )
            for i, (action, note) in enumerate(
                [("filed", "灯坏了"), ("contact", "13800001111"), ("assigned", "x")]
            ):
                await conn.execute(
                    text(
                        "INSERT INTO case_events (id, case_id, at, actor_id, action, note) "
                        "VALUES (:id, 1, :t, 'web:x', :a, :n)"
                    ),
                    {"id": i + 1, "t": when, "a": action, "n": note},
                )
        await schema.upgrade(engine)
        async with engine.connect() as conn:
            actions = (await conn.execute(text("SELECT action FROM case_events"))).scalars().all()
            phones = (await conn.execute(text("SELECT phone FROM web_contacts"))).scalars().all()
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert "contact" not in actions and sorted(actions) == ["assigned", "filed"]
        assert phones == ["13800001111"]
        assert diff == []  # the migrations make exactly the tables the models describe
    finally:
        await engine.dispose()

"""Portable INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert_ignore(session: AsyncSession, model: type[Any], conflict: list[str]) -> Any:
    # The statement carries no values: they go as parameters, so it is built in microseconds,
    # compiled once (SQLAlchemy's cache) and several rows go as one executemany. It is Core
    # (the model's table), so the ORM's bulk-insert machinery is not run for plain rows.
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(model.__table__).on_conflict_do_nothing(index_elements=conflict)


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert a row unless one with the same `conflict` columns exists; True if inserted."""
    result: Any = await session.execute(_insert_ignore(session, model, conflict), values)
    return bool(result.rowcount)


async def insert_ignore_many(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert rows, skipping those whose `conflict` columns exist; how many were inserted."""
    if not rows:
        return 0
    if len(rows) == 1:
        return int(await insert_ignore(session, model, rows[0], conflict))
    # RETURNING counts the rows inserted on every driver (asyncpg's executemany has no row
    # count); SQLAlchemy sends the rows as one multi-row statement ("insertmanyvalues").
    stmt = _insert_ignore(session, model, conflict).returning(model.__table__.c[conflict[0]])
    result = await session.execute(stmt, rows)
    return len(result.all())

"""Portable INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert a row unless one with the same `conflict` columns exists; True if inserted."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)


async def insert_ignore_many(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert rows in one statement, skipping those whose `conflict` columns exist; how many."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(model).values(rows).on_conflict_do_nothing(index_elements=conflict)
    result: Any = await session.execute(stmt)
    return int(result.rowcount)

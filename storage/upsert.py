"""Portable INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct


@lru_cache(maxsize=256)
def _statement(dialect: str, table: Table, conflict: tuple[str, ...], returning: bool) -> Any:
    # The statement carries no values: they go as parameters, so each is compiled once
    # (SQLAlchemy's cache) and several rows go as one executemany. It is built once per table,
    # too: building one and computing its cache key cost more than running it on SQLite. It is
    # Core (the model's table), so the ORM's bulk-insert machinery is not run for plain rows.
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return stmt.returning(table.c[conflict[0]]) if returning else stmt


def _insert_ignore(
    session: AsyncSession, model: type[Any], conflict: list[str], returning: bool = False
) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return _statement(dialect, model.__table__, tuple(conflict), returning)


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert a row unless one with the same `conflict` columns exists; True if inserted."""
    stmt = _insert_ignore(session, model, conflict)
    return bool((await direct.execute(session, stmt, values)).rowcount)


async def insert_ignore_many(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert rows, skipping those whose `conflict` columns exist; how many were inserted."""
    if not rows:
        return 0
    if len(rows) == 1:
        return int(await insert_ignore(session, model, rows[0], conflict))
    ran = await direct.run(session, _insert_ignore(session, model, conflict), rows)
    if ran is not None:
        return ran.rowcount  # (sqlite3 sums an executemany's changes)
    # RETURNING counts the rows inserted on every driver (asyncpg's executemany has no row
    # count); SQLAlchemy sends the rows as one multi-row statement ("insertmanyvalues").
    stmt = _insert_ignore(session, model, conflict, returning=True)
    result = await session.execute(stmt, rows)
    return len(result.all())

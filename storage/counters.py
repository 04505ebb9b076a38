"""Shared sequences for case and wish numbers; safe with several bot processes on one database."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Counter
from storage.upsert import insert_ignore


async def next_value(session: AsyncSession, name: str) -> int:
    """Increment the named counter and return its new value."""
    await insert_ignore(session, Counter, {"name": name, "value": 0}, ["name"])
    result = await session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    return int(result.scalar_one())

"""Shared sequences for case and wish numbers; safe with several bot processes on one database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.chunks import chunks
from storage.models import Counter
from storage.upsert import insert_ignore, insert_ignore_many

_COUNTERS = cast(Table, Counter.__table__)
# Built once, on the table (Core): an ORM UPDATE would run its bulk-update machinery and
# rebuild the statement on every case filed.
_BUMP = (
    update(_COUNTERS)
    .where(_COUNTERS.c.name == bindparam("counter"))
    .values(value=_COUNTERS.c.value + 1)
    .returning(_COUNTERS.c.value)
)
_VALUE = select(_COUNTERS.c.value).where(_COUNTERS.c.name == bindparam("counter"))


async def next_value(session: AsyncSession, name: str) -> int:
    """Increment the named counter and return its new value.

    One UPDATE ... RETURNING: the row lock makes it atomic across processes. Only the first
    use of a name also inserts the row.
    """
    ran = await direct.execute(session, _BUMP, {"counter": name})
    value = ran.rows[0][0] if ran.rows else None
    if value is None:
        await insert_ignore(session, Counter, {"name": name, "value": 0}, ["name"])
        value = (await session.execute(_BUMP, {"counter": name})).scalar_one()
    return int(value)


async def current_value(session: AsyncSession, name: str) -> int:
    """The named counter's value (0 if it was never incremented), without changing it."""
    ran = await direct.execute(session, _VALUE, {"counter": name})
    return int(ran.rows[0][0] or 0) if ran.rows else 0


async def bump_many(session: AsyncSession, names: Sequence[str]) -> None:
    """Increment several counters by one each, a few hundred per statement."""
    for chunk in chunks(sorted(set(names))):
        await insert_ignore_many(
            session, Counter, [{"name": n, "value": 0} for n in chunk], ["name"]
        )
        await session.execute(
            update(Counter)
            .where(Counter.name.in_(chunk))
            .values(value=Counter.value + 1)
            .execution_options(synchronize_session=False)
        )

"""Mirror the configured grid into the grid tables; running it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, Community, Compound, Person, Role, Room

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GridRoom:
    """A room as the grid tables hold it."""

    topic: str
    buildings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GridRole:
    """A person's role in a scope ("武夷香榭", "武夷香榭/3", "剑津社区")."""

    wechat_id: str
    name: str
    role: str
    scope: str
    team: str | None = None


@dataclass(frozen=True, slots=True)
class GridCompound:
    """A compound with its buildings and rooms."""

    name: str
    buildings: tuple[str, ...]
    rooms: tuple[GridRoom, ...]


@dataclass(frozen=True, slots=True)
class GridCommunity:
    """A community with its compounds."""

    name: str
    compounds: tuple[GridCompound, ...]


async def sync_grid(
    session: AsyncSession, communities: list[GridCommunity], roles: list[GridRole]
) -> None:
    """Insert what is new, update what changed, remove roles no longer configured."""
    for com in communities:
        community = await _get_or_add(session, Community, name=com.name)
        for comp in com.compounds:
            compound = await _get_or_add(
                session, Compound, name=comp.name, defaults={"community_id": community.id}
            )
            compound.community_id = community.id
            for number in comp.buildings:
                await _get_or_add(session, Building, compound_id=compound.id, number=number)
            for room in comp.rooms:
                row = await _get_or_add(
                    session,
                    Room,
                    topic=room.topic,
                    defaults={"compound_id": compound.id, "buildings": list(room.buildings)},
                )
                row.compound_id = compound.id
                row.buildings = list(room.buildings)
    wanted: set[tuple[int, str, str]] = set()
    for r in roles:
        person = await _get_or_add(
            session, Person, wechat_id=r.wechat_id, defaults={"name": r.name}
        )
        person.name = r.name
        role = await _get_or_add(
            session,
            Role,
            person_id=person.id,
            role=r.role,
            scope=r.scope,
            defaults={"team": r.team},
        )
        role.team = r.team
        wanted.add((person.id, r.role, r.scope))
    existing = (await session.execute(select(Role))).scalars().all()
    stale = [x.id for x in existing if (x.person_id, x.role, x.scope) not in wanted]
    if stale:
        await session.execute(delete(Role).where(Role.id.in_(stale)))
    await session.flush()


async def _get_or_add(
    session: AsyncSession, model: type[T], defaults: dict[str, Any] | None = None, **keys: Any
) -> T:
    result = await session.execute(select(model).filter_by(**keys))
    row = result.scalar_one_or_none()
    if row is None:
        row = model(**keys, **(defaults or {}))
        session.add(row)
        await session.flush()
    return row

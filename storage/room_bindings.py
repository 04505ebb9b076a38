"""Configured rooms bound to WeChat room ids, per account: renames are followed by id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.upsert import insert_ignore
from storage.wechat_models import RoomBinding


async def all_bindings(session: AsyncSession, account: str) -> Sequence[RoomBinding]:
    """Every binding of an account, by configured room."""
    result = await session.execute(
        select(RoomBinding).where(RoomBinding.account == account).order_by(RoomBinding.room)
    )
    return result.scalars().all()


async def bind(
    session: AsyncSession,
    *,
    account: str,
    room: str,
    wechat_id: str,
    topic: str,
    by: str,
    now: datetime,
) -> bool:
    """Bind a configured room to a WeChat room id; False if either is bound already."""
    taken = await session.scalar(
        select(RoomBinding.room).where(
            RoomBinding.account == account, RoomBinding.wechat_id == wechat_id
        )
    )
    if taken is not None:
        return taken == room
    return await insert_ignore(
        session,
        RoomBinding,
        {
            "account": account,
            "room": room,
            "wechat_id": wechat_id,
            "topic": topic,
            "bound_by": by,
            "bound_at": now,
            "updated_at": now,
        },
        ["account", "room"],
    )


async def rebind(
    session: AsyncSession,
    *,
    account: str,
    room: str,
    wechat_id: str,
    topic: str,
    now: datetime,
) -> None:
    """An operator's choice: bind `room` to `wechat_id`, dropping what either was bound to."""
    await session.execute(
        delete(RoomBinding).where(
            RoomBinding.account == account,
            (RoomBinding.room == room) | (RoomBinding.wechat_id == wechat_id),
        )
    )
    await session.flush()
    session.add(
        RoomBinding(
            account=account,
            room=room,
            wechat_id=wechat_id,
            topic=topic,
            bound_by="operator",
            bound_at=now,
            updated_at=now,
        )
    )
    await session.flush()


async def unbind(session: AsyncSession, account: str, room: str) -> bool:
    """Forget a room's binding (it binds again by topic when next seen); False if none."""
    result = await session.execute(
        delete(RoomBinding).where(RoomBinding.account == account, RoomBinding.room == room)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renamed(
    session: AsyncSession, account: str, wechat_id: str, topic: str, now: datetime
) -> None:
    """Record the topic a bound room has now."""
    await session.execute(
        update(RoomBinding)
        .where(RoomBinding.account == account, RoomBinding.wechat_id == wechat_id)
        .values(topic=topic, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def accounts_in(session: AsyncSession, rooms: Sequence[str]) -> dict[str, list[str]]:
    """The accounts bound to each of these configured rooms (rooms no account is in: absent)."""
    if not rooms:
        return {}
    result = await session.execute(
        select(RoomBinding.room, RoomBinding.account)
        .where(RoomBinding.room.in_(sorted(set(rooms))))
        .order_by(RoomBinding.account)
    )
    found: dict[str, list[str]] = {}
    for room, account in result.all():
        found.setdefault(room, []).append(account)
    return found

"""Per-account state every process shares: heartbeats and gaps, login, the 风控 pause."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import LoginStatus
from storage.upsert import insert_ignore
from storage.wechat_models import AccountState, BotInstance

LOGGED_IN = LoginStatus.LOGGED_IN
LOGGED_OUT = LoginStatus.LOGGED_OUT


async def get(session: AsyncSession, account: str) -> AccountState | None:
    """The account's state row, if any."""
    return await session.get(AccountState, account)


async def change(session: AsyncSession, account: str, now: datetime, **values: Any) -> None:
    """Set fields of the account's state, creating the row the first time."""
    await insert_ignore(
        session,
        AccountState,
        {"account": account, "login": LoginStatus.UNKNOWN, "pause_level": 0, "updated_at": now},
        ["account"],
    )
    await session.execute(
        update(AccountState)
        .where(AccountState.account == account)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


async def last_alive(session: AsyncSession, account: str, *, besides: str) -> datetime | None:
    """The latest heartbeat of the account's other processes (None: it never ran)."""
    result = await session.execute(
        select(func.max(BotInstance.last_alive)).where(
            BotInstance.account == account, BotInstance.instance != besides
        )
    )
    return result.scalar_one_or_none()


async def beat(
    session: AsyncSession, instance: str, account: str, now: datetime, started: datetime
) -> None:
    """Record that a process is alive now."""
    if not await insert_ignore(
        session,
        BotInstance,
        {"instance": instance, "account": account, "started_at": started, "last_alive": now},
        ["instance"],
    ):
        await session.execute(
            update(BotInstance)
            .where(BotInstance.instance == instance)
            .values(last_alive=now)
            .execution_options(synchronize_session=False)
        )


async def dead_instances(
    session: AsyncSession, instances: Sequence[str], now: datetime, stale: timedelta
) -> set[str]:
    """Which of these processes stopped beating `stale` ago (one that never beat is unknown)."""
    if not instances:
        return set()
    result = await session.execute(
        select(BotInstance.instance, BotInstance.last_alive).where(
            BotInstance.instance.in_(instances)
        )
    )
    return {i for i, last in result.all() if now - last >= stale}

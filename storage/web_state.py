"""Web-only state: 民情码 status links, login failure counters, the generated session secret."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, WebLoginFailure, WebReportLink, WebSecret
from storage.upsert import insert_ignore


async def shared_secret(session: AsyncSession, name: str, now: datetime) -> str:
    """The secret stored under `name`, created on first use; every process reads the same one."""
    await insert_ignore(
        session,
        WebSecret,
        {"name": name, "value": secrets.token_urlsafe(48), "created_at": now},
        ["name"],
    )
    result = await session.execute(select(WebSecret.value).where(WebSecret.name == name))
    return str(result.scalar_one())


async def add_report_link(session: AsyncSession, case: Case, now: datetime) -> str:
    """Give a case an unguessable status token and return it."""
    token = secrets.token_urlsafe(24)
    session.add(WebReportLink(token=token, case_id=case.id, created_at=now))
    await session.flush()
    return token


async def case_by_token(session: AsyncSession, token: str) -> Case | None:
    """The case a status token points to, or None."""
    result = await session.execute(
        select(Case)
        .join(WebReportLink, WebReportLink.case_id == Case.id)
        .where(WebReportLink.token == token)
    )
    return result.scalar_one_or_none()


async def locked_until(session: AsyncSession, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock-out still running for any of the keys, or None."""
    result = await session.execute(
        select(WebLoginFailure.locked_until).where(
            WebLoginFailure.key.in_(keys), WebLoginFailure.locked_until > now
        )
    )
    times = [t for t in result.scalars().all() if t is not None]
    return max(times) if times else None


async def record_failure(
    session: AsyncSession,
    key: str,
    now: datetime,
    *,
    max_failures: int,
    window: timedelta,
    lockout: timedelta,
) -> int:
    """Count a failed login for `key`; lock it once `max_failures` fall within `window`."""
    row = await session.get(WebLoginFailure, key, with_for_update=True)
    if row is None:
        await insert_ignore(
            session,
            WebLoginFailure,
            {"key": key, "failures": 0, "first_at": now, "locked_until": None},
            ["key"],
        )
        row = await session.get(WebLoginFailure, key, with_for_update=True)
        assert row is not None
    if now - row.first_at > window:
        row.failures = 0
        row.first_at = now
    row.failures += 1
    if row.failures >= max_failures:
        row.locked_until = now + lockout
        row.failures = 0
        row.first_at = now
    await session.flush()
    return row.failures


async def clear_failures(session: AsyncSession, keys: list[str]) -> None:
    """Forget failed logins after a successful one."""
    await session.execute(delete(WebLoginFailure).where(WebLoginFailure.key.in_(keys)))

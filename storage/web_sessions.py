"""Console sessions kept server-side, and one-time login tokens; every process reads the same."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.web_models import WebLoginToken, WebSession


def digest(value: str) -> str:
    """The hex SHA-256 under which a cookie value or token is stored (never the value itself)."""
    return hashlib.sha256(value.encode()).hexdigest()


async def create_session(
    session: AsyncSession, user: str, password_fp: str, now: datetime, ttl: timedelta
) -> tuple[str, WebSession]:
    """Start a console session; returns the cookie value (shown once) and the stored row."""
    value = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=digest(value),
        user=user,
        csrf=secrets.token_urlsafe(24),
        password_fp=password_fp,
        flash=None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    return value, row


async def load_session(session: AsyncSession, value: str, now: datetime) -> WebSession | None:
    """The live session behind a cookie value, or None (unknown, ended or expired)."""
    if not value or len(value) > 100:
        return None
    row = await session.get(WebSession, digest(value))
    if row is None or row.expires_at <= now:
        return None
    return row


async def end_session(session: AsyncSession, value: str) -> None:
    """Log a session out."""
    await session.execute(delete(WebSession).where(WebSession.id_hash == digest(value)))


async def end_sessions(session: AsyncSession, user: str | None = None) -> int:
    """Log out every session of a user, or everyone when `user` is None; how many ended."""
    stmt = delete(WebSession)
    if user is not None:
        stmt = stmt.where(WebSession.user == user)
    result: Any = await session.execute(stmt)
    return int(result.rowcount or 0)


async def set_flash(session: AsyncSession, id_hash: str, text: str) -> None:
    """Leave a message for the session's next page."""
    await session.execute(
        update(WebSession).where(WebSession.id_hash == id_hash).values(flash=text[:500])
    )


async def pop_flash(session: AsyncSession, id_hash: str) -> str | None:
    """The session's waiting message, cleared so a reload does not show it again."""
    row = await session.get(WebSession, id_hash, with_for_update=True)
    if row is None or row.flash is None:
        return None
    text = row.flash
    row.flash = None
    await session.flush()
    return text


async def purge_sessions(session: AsyncSession, now: datetime) -> None:
    """Delete expired sessions and spent or expired login tokens."""
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    await session.execute(delete(WebLoginToken).where(WebLoginToken.expires_at <= now))


async def add_login_token(session: AsyncSession, user: str, now: datetime, ttl: timedelta) -> str:
    """A one-time login token for `user` (shown once, stored hashed)."""
    token = secrets.token_urlsafe(18)
    session.add(
        WebLoginToken(
            token_hash=digest(token),
            user=user,
            created_at=now,
            expires_at=now + ttl,
            used_at=None,
        )
    )
    await session.flush()
    return token


async def use_login_token(session: AsyncSession, token: str, now: datetime) -> str | None:
    """Spend a one-time token: the user it logs in, or None (unknown, used or expired)."""
    if not token or len(token) > 100:
        return None
    result: Any = await session.execute(
        update(WebLoginToken)
        .where(
            WebLoginToken.token_hash == digest(token),
            WebLoginToken.used_at.is_(None),
            WebLoginToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebLoginToken.user)
    )
    user = result.scalar_one_or_none()
    return str(user) if user is not None else None

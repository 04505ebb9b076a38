"""The durable outbox: every message is stored before it is sent, unique by idempotency key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.domain import OutboxStatus
from bot.core.messages import Outgoing
from storage.models import OutboxMessage
from storage.upsert import insert_ignore, insert_ignore_many


def _deliverable_any(now: datetime) -> ColumnElement[bool]:
    # A "sending" row is settled by its send attempt (bot/sender.py), never just taken again:
    # its message may have arrived.
    return OutboxMessage.status == OutboxStatus.PENDING


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A message to store (see `enqueue_many`)."""

    key: str
    msg: Outgoing
    not_before: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    account: str | None = None  # the account to send it through, if not the caller's


def _values(account: str, row: OutboxRow, now: datetime) -> dict[str, object]:
    msg = row.msg
    return {
        "key": row.key,
        "account": row.account or account,
        "to_room": msg.to_room,
        "to_person": msg.to_person,
        "text": msg.text,
        "mention_ids": list(msg.mention_ids),
        "urgent": msg.urgent,
        "status": row.status,
        "attempts": 0,
        "created_at": now,
        "not_before": row.not_before,
    }


async def enqueue_many(
    session: AsyncSession, account: str, rows: Sequence[OutboxRow], now: datetime
) -> int:
    """Store several messages in one statement, skipping keys stored before; how many new."""
    return await insert_ignore_many(
        session, OutboxMessage, [_values(account, r, now) for r in rows], ["key"]
    )


async def enqueue(
    session: AsyncSession,
    *,
    account: str,
    key: str,
    msg: Outgoing,
    now: datetime,
    not_before: datetime | None = None,
    status: OutboxStatus = OutboxStatus.PENDING,
) -> bool:
    """Store a message to send; False if a message with this key was stored before."""
    row = OutboxRow(key=key, msg=msg, not_before=not_before or now, status=status)
    return await insert_ignore(session, OutboxMessage, _values(account, row, now), ["key"])


def _deliverable(account: str, now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.account == account,
        OutboxMessage.not_before <= now,
        _deliverable_any(now),
    )


async def due(
    session: AsyncSession, account: str, now: datetime, limit: int = 50
) -> Sequence[OutboxMessage]:
    """Messages ready to send now, urgent first, then in order of creation.

    On PostgreSQL, rows another process of the account is claiming are skipped (SKIP LOCKED)
    rather than waited for; the claim that follows still decides who sends.
    """
    result = await session.execute(
        select(OutboxMessage)
        .where(_deliverable(account, now))
        .order_by(OutboxMessage.urgent.desc(), OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return result.scalars().all()


async def claim(
    session: AsyncSession, ids: Sequence[int], now: datetime, lease: timedelta
) -> bool:
    """Take messages for sending; False if another process took any of them first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _deliverable_any(now))
        .values(status=OutboxStatus.SENDING, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == len(ids)  # type: ignore[attr-defined]


async def mark_sent(
    session: AsyncSession, ids: Sequence[int], now: datetime, *, only_unsent: bool = False
) -> None:
    """Record that messages were delivered to the transport."""
    query = update(OutboxMessage).where(OutboxMessage.id.in_(ids))
    if only_unsent:
        query = query.where(
            OutboxMessage.status.in_(
                [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]
            )
        )
    await session.execute(
        query.values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None).execution_options(
            synchronize_session=False
        )
    )


async def hold(session: AsyncSession, ids: Sequence[int], until: datetime) -> None:
    """Keep claimed messages claimed until a time (their outcome is being settled)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )


async def requeue_unknown(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """Messages whose send is not known to have arrived: send again (counts as an attempt)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
        .values(
            status=OutboxStatus.PENDING,
            attempts=OutboxMessage.attempts + 1,
            last_error="outcome unknown: the process or the connection died during the send",
            not_before=now,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )


async def stale_claims(
    session: AsyncSession, account: str, before: datetime
) -> Sequence[OutboxMessage]:
    """Messages claimed for sending whose claim ran out before a time."""
    result = await session.execute(
        select(OutboxMessage).where(
            OutboxMessage.account == account,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_until < before,
        )
    )
    return result.scalars().all()


async def drop(session: AsyncSession, ids: Sequence[int], reason: str) -> None:
    """Decide not to send messages at all."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status=OutboxStatus.DROPPED, last_error=reason, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def replies_sent_to(
    session: AsyncSession, account: str, person: str, since: datetime
) -> int:
    """How many replies to incoming messages went privately to a person since a time."""
    result = await session.execute(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.account == account,
            OutboxMessage.to_person == person,
            OutboxMessage.to_room.is_(None),
            OutboxMessage.key.startswith("in:"),
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.SENDING]),
            OutboxMessage.created_at >= since,
        )
    )
    return int(result.scalar_one())


async def release(session: AsyncSession, ids: Sequence[int], retry_at: datetime) -> None:
    """Give claimed messages back untried, to be sent from `retry_at` on."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status=OutboxStatus.PENDING, not_before=retry_at, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def mark_failed(
    session: AsyncSession,
    ids: Sequence[int],
    error: str,
    retry_at: datetime | None,
) -> None:
    """Record a failed attempt; retry at `retry_at`, or give up when it is None."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(
            status=OutboxStatus.PENDING if retry_at is not None else OutboxStatus.FAILED,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:2000],
            not_before=retry_at if retry_at is not None else OutboxMessage.not_before,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )


async def last_sent_to_room(session: AsyncSession, account: str, room: str) -> datetime | None:
    """When this account last sent to a room."""
    result = await session.execute(
        select(func.max(OutboxMessage.sent_at)).where(
            OutboxMessage.account == account, OutboxMessage.to_room == room
        )
    )
    return result.scalar_one_or_none()


async def sent_since(session: AsyncSession, account: str, since: datetime) -> int:
    """How many messages this account sent since a time (for the daily cap)."""
    result = await session.execute(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.account == account,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= since,
        )
    )
    return int(result.scalar_one())


async def by_status(
    session: AsyncSession, statuses: Sequence[str], limit: int = 200
) -> Sequence[OutboxMessage]:
    """Messages in the given states, oldest first (for `jinlin outbox`)."""
    result = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return result.scalars().all()


async def depth(session: AsyncSession) -> int:
    """How many messages wait to be sent."""
    result = await session.execute(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        )
    )
    return int(result.scalar_one())


async def next_due_at(session: AsyncSession, account: str) -> datetime | None:
    """When the earliest pending message becomes due."""
    result = await session.execute(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.account == account, OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    return result.scalar_one_or_none()

"""Send attempts: written before the call to the chat service and resolved after, or later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import SendOutcome
from bot.core.messages import Outgoing
from storage.wechat_models import SendAttempt

# The outcomes, under their old names here (callers say send_attempts.SENT).
STARTED = SendOutcome.STARTED
SENT = SendOutcome.SENT
ECHOED = SendOutcome.ECHOED
FAILED = SendOutcome.FAILED
UNKNOWN = SendOutcome.UNKNOWN
RESENT = SendOutcome.RESENT


async def start(
    session: AsyncSession,
    *,
    account: str,
    outbox_ids: Sequence[int],
    msg: Outgoing,
    instance: str,
    now: datetime,
) -> int:
    """Record that a send is about to be made; returns the attempt's id."""
    attempt = SendAttempt(
        account=account,
        outbox_ids=list(outbox_ids),
        to_room=msg.to_room,
        to_person=msg.to_person,
        text=msg.text,
        instance=instance,
        started_at=now,
        outcome=STARTED,
    )
    session.add(attempt)
    await session.flush()
    return attempt.id


async def finish(
    session: AsyncSession,
    attempt_id: int,
    outcome: SendOutcome,
    now: datetime,
    *,
    chat_message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Record how an attempt ended (an echo that came first is kept)."""
    await session.execute(
        update(SendAttempt)
        .where(SendAttempt.id == attempt_id, SendAttempt.outcome.in_([STARTED, UNKNOWN]))
        .values(outcome=outcome, finished_at=now, chat_message_id=chat_message_id, error=error)
        .execution_options(synchronize_session=False)
    )


async def open_attempts(session: AsyncSession, account: str) -> Sequence[SendAttempt]:
    """Attempts of an account whose outcome was never written (their process may be gone)."""
    result = await session.execute(
        select(SendAttempt)
        .where(SendAttempt.account == account, SendAttempt.outcome.in_([STARTED, UNKNOWN]))
        .order_by(SendAttempt.id)
    )
    return result.scalars().all()


async def echoed(
    session: AsyncSession,
    *,
    account: str,
    to_room: str | None,
    to_person: str | None,
    text: str,
    chat_message_id: str,
    now: datetime,
    window: timedelta = timedelta(hours=1),
) -> list[int]:
    """The account's own message came back: confirm the open attempt it belongs to.

    Returns the outbox ids now known to be delivered (empty when no attempt matches).
    """
    query = (
        select(SendAttempt)
        .where(
            SendAttempt.account == account,
            SendAttempt.outcome.in_([STARTED, UNKNOWN, SENT]),
            SendAttempt.text == text,
            SendAttempt.started_at >= now - window,
        )
        .order_by(SendAttempt.id)
    )
    if to_room is not None:
        query = query.where(SendAttempt.to_room == to_room)
    else:
        query = query.where(SendAttempt.to_person == to_person)
    for attempt in (await session.execute(query)).scalars():
        if attempt.outcome == SENT and attempt.chat_message_id not in (None, chat_message_id):
            continue  # the echo of another copy
        await session.execute(
            update(SendAttempt)
            .where(SendAttempt.id == attempt.id)
            .values(outcome=ECHOED, chat_message_id=chat_message_id, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        return list(attempt.outbox_ids)
    return []


async def count_by_outcome(session: AsyncSession, account: str) -> dict[str, int]:
    """How many attempts ended how (for the console and the kill bench)."""
    rows = await session.execute(
        select(SendAttempt.outcome, func.count(SendAttempt.id))
        .where(SendAttempt.account == account)
        .group_by(SendAttempt.outcome)
    )
    return {outcome: int(n) for outcome, n in rows.all()}

"""民情码 side data: reports held for review, phone numbers, photos; none of it is in case logs."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, OutboxMessage
from storage.upsert import insert_ignore
from storage.web_models import WebContact, WebHeldReport, WebPhoto

HELD = "held"
FILED = "filed"
SPAM = "spam"


async def hold_report(
    session: AsyncSession,
    *,
    code: str,
    compound: str,
    building: str,
    wish: bool,
    what: str,
    place: str,
    phone: str,
    urgent: bool,
    photo_id: int | None,
    now: datetime,
) -> WebHeldReport:
    """Keep a report that came over budget until the secretary files it or marks it spam."""
    row = WebHeldReport(
        code=code,
        compound=compound,
        building=building,
        wish=wish,
        what=what,
        place=place,
        phone=phone,
        urgent=urgent,
        photo_id=photo_id,
        status=HELD,
        case_id=None,
        decided_by=None,
        decided_at=None,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def held_by_code(session: AsyncSession, code: str) -> WebHeldReport | None:
    """The held report with this status code, or None."""
    result = await session.execute(select(WebHeldReport).where(WebHeldReport.code == code))
    return result.scalar_one_or_none()


async def held_reports(
    session: AsyncSession, compounds: Sequence[str], status: str = HELD, limit: int = 500
) -> Sequence[WebHeldReport]:
    """Held reports of the compounds, oldest first."""
    if not compounds:
        return []
    result = await session.execute(
        select(WebHeldReport)
        .where(WebHeldReport.compound.in_(compounds), WebHeldReport.status == status)
        .order_by(WebHeldReport.id)
        .limit(limit)
    )
    return result.scalars().all()


async def count_held(session: AsyncSession, compounds: Sequence[str]) -> int:
    """How many reports of the compounds wait for review."""
    from sqlalchemy import func

    if not compounds:
        return 0
    result = await session.execute(
        select(func.count())
        .select_from(WebHeldReport)
        .where(WebHeldReport.compound.in_(compounds), WebHeldReport.status == HELD)
    )
    return int(result.scalar_one())


async def decide(
    session: AsyncSession,
    ids: Sequence[int],
    status: str,
    by: str,
    now: datetime,
    compounds: Sequence[str],
) -> list[WebHeldReport]:
    """Move held reports (of the given compounds only) to filed or spam; the ones moved."""
    if not ids or not compounds:
        return []
    result: Any = await session.execute(
        update(WebHeldReport)
        .where(
            WebHeldReport.id.in_(list(ids)),
            WebHeldReport.status == HELD,
            WebHeldReport.compound.in_(list(compounds)),
        )
        .values(status=status, decided_by=by, decided_at=now)
        .returning(WebHeldReport.id)
    )
    moved = [int(i) for i in result.scalars().all()]
    if not moved:
        return []
    rows = await session.execute(
        select(WebHeldReport).where(WebHeldReport.id.in_(moved)).order_by(WebHeldReport.id)
    )
    return list(rows.scalars().all())


async def link_held(session: AsyncSession, held_id: int, case_id: int) -> None:
    """Remember which case a released report became."""
    await session.execute(
        # The phone number went with the case (web_contacts); the held copy is no longer needed.
        update(WebHeldReport).where(WebHeldReport.id == held_id).values(case_id=case_id, phone="")
    )


# --- phone numbers --------------------------------------------------------------------------


async def set_contact(session: AsyncSession, case_id: int, phone: str, now: datetime) -> None:
    """Keep the reporter's phone number for a case (the first one given stays)."""
    await insert_ignore(
        session,
        WebContact,
        {"case_id": case_id, "phone": phone[:40], "created_at": now},
        ["case_id"],
    )


async def contact_of(session: AsyncSession, case_id: int) -> str | None:
    """The phone number left for a case, or None."""
    row = await session.get(WebContact, case_id)
    return row.phone if row is not None else None


async def purge_contacts(session: AsyncSession, now: datetime, retention: timedelta) -> int:
    """Delete the phone numbers of cases closed more than `retention` ago; how many went.

    The copy in the building head's message (the outbox row) is blanked out too.
    """
    closed = select(Case.id).where(
        Case.resolved_at.is_not(None), Case.resolved_at <= now - retention
    )
    gone = (
        await session.execute(
            select(WebContact.case_id, WebContact.phone).where(WebContact.case_id.in_(closed))
        )
    ).all()
    for _case_id, phone in gone:
        if len(phone) >= 5:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.text.contains(phone, autoescape=True))
                .values(text=func.replace(OutboxMessage.text, phone, "***"))
            )
    if gone:
        await session.execute(
            delete(WebContact).where(WebContact.case_id.in_([c for c, _ in gone]))
        )
    await session.execute(
        update(WebHeldReport)
        .where(WebHeldReport.status == SPAM, WebHeldReport.decided_at <= now - retention)
        .values(phone="")
    )
    return len(gone)


# --- photos ---------------------------------------------------------------------------------


async def add_photo(
    session: AsyncSession, data: bytes, content_type: str, now: datetime
) -> WebPhoto:
    """Store a cleaned photo; it is linked to its case once the case exists."""
    row = WebPhoto(
        token=secrets.token_urlsafe(18),
        case_id=None,
        content_type=content_type,
        data=data,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def attach_photo(session: AsyncSession, photo_id: int, case_id: int) -> None:
    """Link a stored photo to the case it was sent with."""
    await session.execute(update(WebPhoto).where(WebPhoto.id == photo_id).values(case_id=case_id))


async def photo_by_token(session: AsyncSession, token: str) -> WebPhoto | None:
    """The photo behind a link, or None."""
    if not token or len(token) > 64:
        return None
    result = await session.execute(select(WebPhoto).where(WebPhoto.token == token))
    return result.scalar_one_or_none()


async def photos_of(session: AsyncSession, case_id: int) -> Sequence[WebPhoto]:
    """The photos of a case, oldest first (data included)."""
    result = await session.execute(
        select(WebPhoto).where(WebPhoto.case_id == case_id).order_by(WebPhoto.id)
    )
    return result.scalars().all()

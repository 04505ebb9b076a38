"""Neighbours who reported an open case again (附议), once each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import ACTIVE_STATUSES, CaseKind
from storage.models import Case, CaseSupporter
from storage.upsert import insert_ignore


async def add_supporter(
    session: AsyncSession,
    case_id: int,
    person_id: str,
    person_name: str,
    message_id: str | None,
    now: datetime,
) -> bool:
    """Record a neighbour joining a case; False if they had joined before."""
    return await insert_ignore(
        session,
        CaseSupporter,
        {
            "case_id": case_id,
            "person_id": person_id,
            "person_name": person_name,
            "source_message_id": message_id,
            "at": now,
        },
        ["case_id", "person_id"],
    )


async def supporter_count(session: AsyncSession, case_id: int) -> int:
    """How many neighbours joined a case (the reporter not counted)."""
    result = await session.execute(
        select(func.count()).select_from(CaseSupporter).where(CaseSupporter.case_id == case_id)
    )
    return int(result.scalar_one())


async def open_reports_like(
    session: AsyncSession,
    compound: str,
    building: str,
    category: str,
    since: datetime,
    limit: int | None = None,
) -> Sequence[Case]:
    """Open reports of the same building and category filed since a time, newest first."""
    result = await session.execute(
        select(Case)
        .where(
            Case.kind == CaseKind.REPORT,
            Case.compound == compound,
            Case.building == building,
            Case.category == category,
            Case.status.in_(ACTIVE_STATUSES),
            Case.created_at >= since,
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return result.scalars().all()


async def supporters_of(session: AsyncSession, case_id: int) -> Sequence[CaseSupporter]:
    """The neighbours who joined a case, in the order they joined."""
    result = await session.execute(
        select(CaseSupporter).where(CaseSupporter.case_id == case_id).order_by(CaseSupporter.id)
    )
    return result.scalars().all()

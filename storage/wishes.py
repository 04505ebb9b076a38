"""Claiming a wish: one optimistic UPDATE, so the first volunteer wins even across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import CaseKind, CaseStatus
from storage.models import Case


async def claim_wish(
    session: AsyncSession, case_id: int, person_id: str, person_name: str, now: datetime
) -> bool:
    """Give an unclaimed wish to a person; False if someone else was first."""
    result = await session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            Case.kind == CaseKind.WISH,
            Case.status == CaseStatus.OPEN,
            Case.assignee_id.is_(None),
        )
        .values(
            status=CaseStatus.ACCEPTED,
            assignee_id=person_id,
            assignee_name=person_name,
            accepted_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]

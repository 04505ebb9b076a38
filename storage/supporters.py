"""Neighbours who reported an open case again (附议), once each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import ACTIVE_STATUSES, CaseKind
from storage import direct
from storage.models import Case, CaseSupporter, UTCDateTime
from storage.upsert import insert_ignore

_COUNT = (
    select(func.count())
    .select_from(CaseSupporter)
    .where(CaseSupporter.case_id == bindparam("case"))
)


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
    return int((await direct.execute(session, _COUNT, {"case": case_id})).rows[0][0])


_CASES = cast(Table, Case.__table__)
# Built once with parameters: every report with a building and a category runs it.
_OPEN_LIKE = (
    select(_CASES.c.id, _CASES.c.text)
    .where(
        _CASES.c.kind == CaseKind.REPORT.value,
        _CASES.c.compound == bindparam("compound"),
        _CASES.c.building == bindparam("building"),
        _CASES.c.category == bindparam("category"),
        _CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]),
        _CASES.c.created_at >= bindparam("since", type_=UTCDateTime()),
    )
    .order_by(_CASES.c.created_at.desc(), _CASES.c.id.desc())
    .limit(bindparam("limit"))
)


async def open_reports_like(
    session: AsyncSession,
    compound: str,
    building: str,
    category: str,
    since: datetime,
    limit: int,
) -> Sequence[tuple[int, str]]:
    """(id, text) of open reports of the same building and category filed since a time, newest
    first: the texts are compared, and only the one that matches is loaded whole."""
    params = {
        "compound": compound,
        "building": building,
        "category": category,
        "since": since,
        "limit": limit,
    }
    rows = (await direct.execute(session, _OPEN_LIKE, params)).rows
    return [(int(case_id), str(text)) for case_id, text in rows]


async def supporters_of(session: AsyncSession, case_id: int) -> Sequence[CaseSupporter]:
    """The neighbours who joined a case, in the order they joined."""
    result = await session.execute(
        select(CaseSupporter).where(CaseSupporter.case_id == case_id).order_by(CaseSupporter.id)
    )
    return result.scalars().all()

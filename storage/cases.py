"""Cases (reports #N and wishes WN) and their append-only event log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.core.domain import ACTIVE_STATUSES, CaseAction, CaseKind, CaseStatus
from storage import direct
from storage.counters import next_value
from storage.models import Case, CaseEvent

NUMBERED_LIMIT = 50
"""Compounds' cases of one number read when a number is said without its compound."""

_CASES = cast(Table, Case.__table__)
# Built once, Core, with parameters only: filing a case is the message path's hottest write,
# and the ORM's flush (unit of work, then a look at what came back) cost more than the INSERT.
_INSERT_CASE = insert(_CASES).returning(_CASES.c.id)
_INSERT_EVENTS = insert(cast(Table, CaseEvent.__table__))
# A number said in a command (接单 12): every casework command looks its case up.
_NUMBERED = (
    select(Case)
    .where(Case.kind == bindparam("kind"), Case.number == bindparam("number"))
    .order_by(Case.compound)
    .limit(NUMBERED_LIMIT)
)
_NUMBERED_IN = _NUMBERED.where(Case.compound == bindparam("compound"))


def number_counter(kind: CaseKind | str, compound: str) -> str:
    """The counter that numbers a compound's cases of a kind (#1, #2… in each compound)."""
    return f"case:{kind}:{compound}"


@dataclass(frozen=True, slots=True)
class NewCase:
    """What is known about a case when it is filed."""

    kind: CaseKind
    compound: str
    building: str | None
    text: str
    category: str | None
    urgent: bool
    reporter_id: str
    reporter_name: str
    room: str | None
    assignee_id: str | None
    assignee_name: str | None
    source_message_id: str | None
    assignee_role: str | None = None  # logged with the assignment ("building_head:wx_…")
    accept_due_at: datetime | None = None  # set on the row itself: no UPDATE after the INSERT


class CaseRepository:
    """Reads and writes cases within one session; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, new: NewCase, now: datetime) -> Case:
        """File a new case with the next number of its kind and log it (and its assignment)."""
        number = await next_value(self._session, number_counter(new.kind, new.compound))
        values = {
            "kind": new.kind,
            "number": number,
            "compound": new.compound,
            "building": new.building,
            "text": new.text,
            "category": new.category,
            "urgent": new.urgent,
            "status": CaseStatus.OPEN,
            "reporter_id": new.reporter_id,
            "reporter_name": new.reporter_name,
            "room": new.room,
            "assignee_id": new.assignee_id,
            "assignee_name": new.assignee_name,
            "source_message_id": new.source_message_id,
            "rating": None,
            "created_at": now,
            "accepted_at": None,
            "resolved_at": None,
            "rated_at": None,
            "updated_at": now,
            "accept_due_at": new.accept_due_at,
            "resolve_due_at": None,
        }
        case_id = int((await direct.execute(self._session, _INSERT_CASE, values)).rows[0][0])
        # The row is exactly what was sent: the object joins the session as loaded, with no
        # read back, and later changes to it are flushed as usual.
        case = Case(id=case_id, **values)
        make_transient_to_detached(case)
        self._session.add(case)
        events = [(new.reporter_id, CaseAction.FILED, new.text)]
        if new.assignee_id is not None and new.assignee_role is not None:
            events.append(("bot", CaseAction.ASSIGNED, f"{new.assignee_role}:{new.assignee_id}"))
        # One Core statement for the first events: the ORM would insert them one by one (it
        # needs each id back, and SQLite cannot return a batch's ids in order).
        rows = [
            {"case_id": case_id, "at": now, "actor_id": a, "action": act, "note": n}
            for a, act, n in events
        ]
        await direct.execute(self._session, _INSERT_EVENTS, rows)
        return case

    async def get(self, kind: CaseKind, number: int, compound: str) -> Case | None:
        """The case of this kind and number in a compound, or None."""
        found = await self.numbered(kind, number, compound)
        return found[0] if found else None

    async def numbered(
        self, kind: CaseKind, number: int, compound: str | None = None
    ) -> Sequence[Case]:
        """The cases of this kind and number: in one compound, or in every compound (at most
        NUMBERED_LIMIT)."""
        if compound is None:
            found = await self._session.execute(_NUMBERED, {"kind": kind, "number": number})
        else:
            found = await self._session.execute(
                _NUMBERED_IN, {"kind": kind, "number": number, "compound": compound}
            )
        return found.scalars().all()

    async def log(
        self, case: Case, actor_id: str, action: CaseAction, note: str, now: datetime
    ) -> None:
        """Append an event to the case's log and touch its update time.

        Not flushed here: the session writes the events of one request together (autoflush
        does it before any query that could read them).
        """
        case.updated_at = now
        self._session.add(
            CaseEvent(case_id=case.id, at=now, actor_id=actor_id, action=action, note=note)
        )

    async def events(self, case: Case) -> Sequence[CaseEvent]:
        """The case's log, oldest first."""
        result = await self._session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        return result.scalars().all()

    async def active_for_assignee(self, assignee_id: str) -> Sequence[Case]:
        """Open and accepted cases assigned to a person, oldest first."""
        result = await self._session.execute(
            select(Case)
            .where(Case.assignee_id == assignee_id, Case.status.in_(ACTIVE_STATUSES))
            .order_by(Case.created_at, Case.id)
        )
        return result.scalars().all()

    async def awaiting_rating(self, reporter_id: str, room: str | None = None) -> Case | None:
        """The reporter's most recently resolved, not yet rated case (in a room, if given)."""
        stmt = select(Case).where(
            Case.reporter_id == reporter_id,
            Case.status == CaseStatus.RESOLVED,
            Case.rating.is_(None),
        )
        if room is not None:
            stmt = stmt.where(Case.room == room)
        result = await self._session.execute(
            stmt.order_by(Case.resolved_at.desc(), Case.id.desc()).limit(1)
        )
        return result.scalar_one_or_none()

    async def latest_by_reporter(
        self, reporter_id: str, room: str | None, since: datetime, kind: CaseKind = CaseKind.REPORT
    ) -> Case | None:
        """The reporter's newest case of a kind filed in a room since a time."""
        result = await self._session.execute(
            select(Case)
            .where(
                Case.kind == kind,
                Case.reporter_id == reporter_id,
                Case.room == room,
                Case.created_at >= since,
            )
            # (newest by time, as the reporter index is ordered: never a walk back by id)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def search(
        self,
        *,
        kind: CaseKind | None = None,
        compound: str | None = None,
        statuses: Sequence[CaseStatus] | None = None,
        limit: int = 200,
    ) -> Sequence[Case]:
        """Cases filtered by kind, compound and status, newest first."""
        stmt = select(Case)
        if kind is not None:
            stmt = stmt.where(Case.kind == kind)
        if compound is not None:
            stmt = stmt.where(Case.compound == compound)
        if statuses is not None:
            stmt = stmt.where(Case.status.in_(statuses))
        result = await self._session.execute(stmt.order_by(Case.id.desc()).limit(limit))
        return result.scalars().all()

"""Read-only views of cases, wishes, activities and the month's figures for the console and API."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.domain import CaseKind, CaseStatus, Category, SignupStatus
from handlers.routing import case_label
from storage.models import Activity, Case, CaseEvent, Signup


def status_names(kind: CaseKind) -> dict[str, str]:
    """Status codes and their names for one kind of case."""
    return {s.value: s.label(kind) for s in CaseStatus}


MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the case board shows; None means any."""

    compounds: tuple[str, ...]  # the compounds the viewer may see (already narrowed)
    kind: str = CaseKind.REPORT
    building: str | None = None
    status: str | None = None
    category: str | None = None
    urgent: bool | None = None
    overdue_only: bool = False


def overdue(case: Case, config: Config, now: datetime) -> bool:
    """True when the case has waited past its SLA: to be taken, or (once taken) to be resolved."""
    if case.status == CaseStatus.OPEN:
        limit = config.sla.accept_urgent if case.urgent else config.sla.accept
        return now - case.created_at > limit
    if case.status == CaseStatus.ACCEPTED:
        return now - case.created_at > config.sla.resolve
    return False


async def board(
    session: AsyncSession, f: BoardFilter, config: Config, now: datetime
) -> list[Case]:
    """Cases matching the filter, newest first."""
    if not f.compounds:
        return []
    stmt = select(Case).where(Case.kind == f.kind, Case.compound.in_(f.compounds))
    if f.building:
        stmt = stmt.where(Case.building == f.building)
    if f.status:
        stmt = stmt.where(Case.status == f.status)
    if f.category:
        stmt = stmt.where(Case.category == f.category)
    if f.urgent is not None:
        stmt = stmt.where(Case.urgent.is_(f.urgent))
    result = await session.execute(stmt.order_by(Case.id.desc()).limit(MAX_ROWS))
    cases = list(result.scalars().all())
    if f.overdue_only:
        cases = [c for c in cases if overdue(c, config, now)]
    return cases


async def events(session: AsyncSession, case: Case) -> Sequence[CaseEvent]:
    """The case's log, oldest first."""
    result = await session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    )
    return result.scalars().all()


def case_json(case: Case, config: Config, now: datetime) -> dict[str, Any]:
    """A case as the JSON API shows it."""
    return {
        "label": case_label(case),
        "kind": case.kind,
        "number": case.number,
        "compound": case.compound,
        "building": case.building,
        "text": case.text,
        "category": case.category,
        "urgent": case.urgent,
        "status": case.status,
        "overdue": overdue(case, config, now),
        "reporter_name": case.reporter_name,
        "room": case.room,
        "assignee_id": case.assignee_id,
        "assignee_name": case.assignee_name,
        "rating": case.rating,
        "created_at": _iso(case.created_at),
        "accepted_at": _iso(case.accepted_at),
        "resolved_at": _iso(case.resolved_at),
    }


def event_json(ev: CaseEvent) -> dict[str, Any]:
    """A case log entry as the JSON API shows it."""
    return {"at": _iso(ev.at), "actor": ev.actor_id, "action": ev.action, "note": ev.note}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


# --- activities ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Roster:
    """An activity with its confirmed sign-ups and its waiting list."""

    activity: Activity
    confirmed: list[Signup]
    waiting: list[Signup]

    @property
    def people(self) -> int:
        """How many people are confirmed, counting those each sign-up brings."""
        return sum(s.headcount for s in self.confirmed)


async def activities(session: AsyncSession, compounds: Sequence[str]) -> list[Roster]:
    """Activities of the compounds with their rosters, soonest first."""
    if not compounds:
        return []
    result = await session.execute(
        select(Activity)
        .where(Activity.compound.in_(compounds))
        .order_by(Activity.starts_at.desc(), Activity.id)
        .limit(MAX_ROWS)
    )
    acts = list(result.scalars().all())
    if not acts:
        return []
    rows = await session.execute(
        select(Signup)
        .where(Signup.activity_id.in_([a.id for a in acts]))
        .order_by(Signup.queued_at, Signup.id)
    )
    by_activity: dict[int, list[Signup]] = {}
    for s in rows.scalars().all():
        by_activity.setdefault(s.activity_id, []).append(s)
    out = []
    for a in acts:
        signups = by_activity.get(a.id, [])
        out.append(
            Roster(
                activity=a,
                confirmed=[s for s in signups if s.status == SignupStatus.CONFIRMED],
                waiting=[s for s in signups if s.status == SignupStatus.WAITING],
            )
        )
    return out


def roster_json(r: Roster) -> dict[str, Any]:
    """An activity and its roster as the JSON API shows it."""
    a = r.activity

    def person(s: Signup) -> dict[str, Any]:
        return {"name": s.person_name, "headcount": s.headcount, "at": _iso(s.queued_at)}

    return {
        "id": a.id,
        "compound": a.compound,
        "title": a.title,
        "starts_at": _iso(a.starts_at),
        "place": a.place,
        "capacity": a.capacity,
        "status": a.status,
        "people": r.people,
        "confirmed": [person(s) for s in r.confirmed],
        "waiting": [person(s) for s in r.waiting],
    }


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """Reports filed and resolved in one week of the month."""

    start: date
    filed: int
    resolved: int


@dataclass(frozen=True, slots=True)
class Figures:
    """One compound's figures for one month."""

    compound: str
    month: str  # YYYY-MM
    filed: int
    taken_within_sla: int
    taken: int
    resolved: int
    median_take_minutes: float | None
    median_resolve_hours: float | None
    rated: int
    satisfied: int  # rated 4 or 5
    average_rating: float | None
    wishes: int
    signups: int
    weeks: list[Week]

    def as_json(self) -> dict[str, Any]:
        """The figures as the JSON API shows them."""
        return {
            "compound": self.compound,
            "month": self.month,
            "filed": self.filed,
            "taken": self.taken,
            "taken_within_sla": self.taken_within_sla,
            "resolved": self.resolved,
            "median_take_minutes": self.median_take_minutes,
            "median_resolve_hours": self.median_resolve_hours,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "average_rating": self.average_rating,
            "wishes": self.wishes,
            "signups": self.signups,
            "weeks": [
                {"start": w.start.isoformat(), "filed": w.filed, "resolved": w.resolved}
                for w in self.weeks
            ],
        }


def month_bounds(month: str, config: Config) -> tuple[datetime, datetime]:
    """The local start of a YYYY-MM month and of the next one."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=config.bot.tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=config.bot.tz)
    return start, end


async def figures(session: AsyncSession, compound: str, month: str, config: Config) -> Figures:
    """Figures of reports filed in the month (taken, resolved, ratings), wishes and sign-ups."""
    start, end = month_bounds(month, config)
    result = await session.execute(
        select(Case).where(
            Case.compound == compound, Case.created_at >= start, Case.created_at < end
        )
    )
    cases = list(result.scalars().all())
    reports = [c for c in cases if c.kind == CaseKind.REPORT]
    takes: list[float] = []
    within = 0
    for c in reports:
        if c.accepted_at is None:
            continue
        waited = c.accepted_at - c.created_at
        takes.append(waited.total_seconds() / 60)
        if waited <= (config.sla.accept_urgent if c.urgent else config.sla.accept):
            within += 1
    resolves = [
        (c.resolved_at - c.created_at).total_seconds() / 3600
        for c in reports
        if c.resolved_at is not None
    ]
    ratings = [c.rating for c in reports if c.rating is not None]
    signups = await session.execute(
        select(func.coalesce(func.sum(Signup.headcount), 0))
        .join(Activity, Activity.id == Signup.activity_id)
        .where(
            Activity.compound == compound,
            Signup.created_at >= start,
            Signup.created_at < end,
            Signup.status != SignupStatus.WITHDRAWN,
        )
    )
    weeks: list[Week] = []
    day = start
    while day < end:
        nxt = min(day + timedelta(days=7), end)
        weeks.append(
            Week(
                start=day.date(),
                filed=sum(1 for c in reports if day <= c.created_at < nxt),
                resolved=sum(
                    1 for c in reports if c.resolved_at is not None and day <= c.resolved_at < nxt
                ),
            )
        )
        day = nxt
    return Figures(
        compound=compound,
        month=month,
        filed=len(reports),
        taken=len(takes),
        taken_within_sla=within,
        resolved=len(resolves),
        median_take_minutes=round(statistics.median(takes), 1) if takes else None,
        median_resolve_hours=round(statistics.median(resolves), 1) if resolves else None,
        rated=len(ratings),
        satisfied=sum(1 for r in ratings if r >= 4),
        average_rating=round(statistics.fmean(ratings), 2) if ratings else None,
        wishes=sum(1 for c in cases if c.kind == CaseKind.WISH),
        signups=int(signups.scalar_one()),
        weeks=weeks,
    )


def category_names() -> dict[str, str]:
    """Category codes and their Chinese names."""
    return {c.value: c.label for c in Category}

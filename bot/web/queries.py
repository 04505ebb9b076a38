"""Read-only views of cases, wishes, activities and the month's figures for the console and API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.domain import CaseKind, CaseStatus, Category, SignupStatus
from handlers import sla
from handlers.routing import case_label
from storage import figures as figures_db
from storage.models import Activity, Case, CaseEvent, Signup


def status_names(kind: CaseKind) -> dict[str, str]:
    """Status codes and their names for one kind of case."""
    return {s.value: s.label(kind) for s in CaseStatus}


MAX_ROWS = 500


SORTS = {
    "new": "最新登记",
    "old": "最早登记",
    "urgent": "紧急优先",
    "updated": "最近更新",
}
SOURCES = {"group": "群聊", "web": "民情码"}
PER_PAGE = 50
# Log entries that carry personal data and never leave the console (older 民情码 phone numbers).
PRIVATE_ACTIONS = frozenset({"contact"})
_NUMBER = re.compile(r"^[#＃wW]?\s*([0-9]{1,9})$")


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the case board shows; None means any."""

    compounds: tuple[str, ...]  # the compounds the viewer may see (already narrowed)
    kind: CaseKind = CaseKind.REPORT
    building: str | None = None
    status: str | None = None
    category: str | None = None
    urgent: bool | None = None
    overdue_only: bool = False
    source: str | None = None  # group | web
    search: str = ""  # text, or a case number (12, #12, W3)
    sort: str = "new"


@dataclass(frozen=True, slots=True)
class BoardPage:
    """One page of the board and how many cases match in all."""

    cases: list[Case]
    total: int
    overdue: int
    page: int
    pages: int
    more: bool = False  # more than `total` match: the count stopped there (COUNT_LIMIT)
    overdue_more: bool = False


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """SQL: a report waits past the deadline the SLA chain works to (handlers/sla.py)."""
    return and_(
        Case.kind == CaseKind.REPORT,
        # Said once more as a whole, so the few cases in hand are found by ix_cases_active
        # instead of reading every case of the compounds.
        Case.status.in_([CaseStatus.OPEN, CaseStatus.ACCEPTED]),
        or_(
            and_(Case.status == CaseStatus.OPEN, Case.accept_due_at <= now),
            and_(Case.status == CaseStatus.ACCEPTED, Case.resolve_due_at <= now),
        ),
    )


def overdue(case: Case, config: Config, now: datetime) -> bool:
    """True when a report waits past its deadline: untaken past accept, taken past resolve."""
    return case.kind == CaseKind.REPORT and sla.overdue(case, now)


def _where(f: BoardFilter, config: Config, now: datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Case.kind == f.kind, Case.compound.in_(f.compounds)]
    if f.building:
        conds.append(Case.building == f.building)
    if f.status:
        conds.append(Case.status == f.status)
    if f.category:
        conds.append(Case.category == f.category)
    if f.urgent is not None:
        conds.append(Case.urgent.is_(f.urgent))
    if f.source == "web":
        conds.append(Case.reporter_id.startswith("web:"))
    elif f.source == "group":
        conds.append(Case.room.is_not(None))
    if f.search:
        number = _NUMBER.match(f.search)
        text = or_(
            Case.text.icontains(f.search, autoescape=True),
            Case.reporter_name.icontains(f.search, autoescape=True),
            Case.assignee_name.icontains(f.search, autoescape=True),
        )
        conds.append(or_(Case.number == int(number[1]), text) if number else text)
    if f.overdue_only:
        conds.append(overdue_clause(now))
    return conds


COUNT_LIMIT = 1000
"""Cases a board count reads at most (deeper pages raise it as far as they reach)."""


async def board(
    session: AsyncSession,
    f: BoardFilter,
    config: Config,
    now: datetime,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> BoardPage:
    """One page of the cases matching the filter, in the chosen order, and the totals."""
    if not f.compounds:
        return BoardPage([], 0, 0, 1, 1)
    conds = _where(f, config, now)
    page = max(1, page)
    # Counts stop a little past what the page needs, so the board of a city costs the same
    # as a compound's: "共 1000+ 件", with a next page while there is one.
    limit = max(COUNT_LIMIT, (page + 2) * per_page)
    total = await _count_upto(session, conds, limit)
    late = await _count_upto(
        session, [*conds, overdue_clause(now)], COUNT_LIMIT, index="ix_cases_active"
    )
    more, overdue_more = total > limit, late > COUNT_LIMIT
    total, late = min(total, limit), min(late, COUNT_LIMIT)
    pages = max(1, -(-total // per_page)) + (1 if more else 0)
    page = min(page, pages)
    orders: dict[str, list[Any]] = {
        "new": [Case.id.desc()],
        "old": [Case.id.asc()],
        "urgent": [Case.urgent.desc(), Case.id.desc()],
        "updated": [Case.updated_at.desc(), Case.id.desc()],
    }
    order = orders.get(f.sort, orders["new"])
    result = await session.execute(
        select(Case).where(*conds).order_by(*order).offset((page - 1) * per_page).limit(per_page)
    )
    return BoardPage(list(result.scalars().all()), total, late, page, pages, more, overdue_more)


async def _count_upto(
    session: AsyncSession, conds: Sequence[Any], limit: int, *, index: str | None = None
) -> int:
    """How many cases match, counting no further than limit + 1 (SQLite: through `index`)."""
    query = select(Case.id).where(*conds).limit(limit + 1)
    if index is not None:
        # SQLite's planner prefers the board's index and then reads every case of the
        # compounds (a city: 160 ms at 50,000 cases); PostgreSQL chooses well by itself.
        query = query.with_hint(Case, f"INDEXED BY {index}", dialect_name="sqlite")
    found = query.subquery()
    return int((await session.execute(select(func.count()).select_from(found))).scalar_one())


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
class Figures:
    """One compound's month: 三率 for the compound and each building, services, the trend."""

    compound: str
    month: str  # YYYY-MM
    total: figures_db.Rates
    buildings: list[figures_db.Rates]
    services: figures_db.Services
    days: list[figures_db.Bucket]
    weeks: list[figures_db.Bucket]

    def as_json(self) -> dict[str, Any]:
        """The figures as the JSON API shows them."""
        return {
            "compound": self.compound,
            "month": self.month,
            **rates_json(self.total),
            "wishes": self.services.wishes_filed,
            "wishes_done": self.services.wishes_done,
            "signups": self.services.signup_people,
            "escalations": self.services.escalations,
            "buildings": [{"building": b.building, **rates_json(b)} for b in self.buildings],
            "weeks": [
                {"start": w.start.date().isoformat(), "filed": w.filed, "resolved": w.resolved}
                for w in self.weeks
            ],
            "days": [
                {"day": d.start.date().isoformat(), "filed": d.filed, "resolved": d.resolved}
                for d in self.days
            ],
        }


def _rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def rates_json(r: figures_db.Rates) -> dict[str, Any]:
    """三率 and their parts as the JSON API shows them."""
    return {
        "filed": r.filed,
        "taken": r.taken,
        "taken_within_sla": r.taken_in_time,
        "resolved": r.resolved,
        "rated": r.rated,
        "satisfied": r.satisfied,
        "response_rate": _rate(r.response_rate),
        "resolution_rate": _rate(r.resolution_rate),
        "satisfaction_rate": _rate(r.satisfaction_rate),
        "average_rating": r.average_rating,
        "average_take_minutes": r.average_take_minutes,
        "average_resolve_hours": r.average_resolve_hours,
    }


def month_bounds(month: str, config: Config) -> tuple[datetime, datetime]:
    """The local start of a YYYY-MM month and of the next one."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=config.bot.tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=config.bot.tz)
    return start, end


def _days(start: datetime, end: datetime, step: int) -> list[datetime]:
    out = []
    day = start
    while day < end:
        out.append(day)
        # Local midnights: adding days to the date, not hours to the instant, keeps DST right.
        nxt = (day.date() + timedelta(days=step)).isoformat()
        day = datetime.fromisoformat(nxt).replace(tzinfo=start.tzinfo)
    return [*out, end]


async def month_figures(
    session: AsyncSession, compounds: Sequence[str], month: str, config: Config
) -> list[Figures]:
    """Each compound's figures for the reports filed in a month (compound order kept)."""
    start, end = month_bounds(month, config)
    # Every part in a few queries, whatever the number of compounds (a city's month: the sums
    # kept per compound and day, storage/figure_cells.py).
    found = await figures_db.month(session, compounds, _days(start, end, 1))
    out = []
    for compound in compounds:
        out.append(
            Figures(
                compound=compound,
                month=month,
                total=found.totals.get(compound) or figures_db.empty_rates(compound),
                buildings=found.buildings.get(compound, []),
                services=found.services[compound],
                days=found.days[compound],
                weeks=found.weeks[compound],
            )
        )
    return out


async def month_cases(
    session: AsyncSession, compounds: Sequence[str], month: str, config: Config
) -> list[Case]:
    """Every report and wish filed in a month, oldest first (for the CSV download)."""
    if not compounds:
        return []
    start, end = month_bounds(month, config)
    result = await session.execute(
        select(Case)
        .where(Case.compound.in_(list(compounds)), Case.created_at >= start, Case.created_at < end)
        .order_by(Case.created_at, Case.id)
    )
    return list(result.scalars().all())


def category_names() -> dict[str, str]:
    """Category codes and their Chinese names."""
    return {c.value: c.label for c in Category}

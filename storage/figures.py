"""The month's figures as SQL aggregates: 三率 (响应率, 解决率, 满意率) per compound and building.

One definition for the console, the JSON API and the secretary's recap: a month's figures are
about the reports filed in that month (the cohort), whenever they were taken, resolved or rated.
- 响应率: taken by their accept deadline / filed
- 解决率: resolved / filed
- 满意率: rated 满意 or 基本满意 (3 to 5) / rated
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import CaseAction, CaseKind, CaseStatus, SignupStatus
from storage import figure_cells
from storage.figure_cells import SATISFIED_FROM as SATISFIED_FROM
from storage.models import Activity, Case, CaseEvent, Signup, UTCDateTime

# Compounds from which a month's sign-ups are read by date, not by each one's activities.
MANY_COMPOUNDS = 150  # (SQLite, a city: about 0.2 ms a compound by activities)
# The indexes that read one month of a compound's cases, by the time column asked about.
MONTH_INDEX = {
    "created_at": "ix_cases_compound_created",
    "resolved_at": "ix_cases_compound_resolved",
}


@dataclass(frozen=True, slots=True)
class Rates:
    """A compound's (building None) or a building's figures for the reports of one month."""

    compound: str
    building: str | None
    filed: int
    taken: int
    taken_in_time: int
    resolved: int
    rated: int
    satisfied: int  # rated 满意 or 基本满意
    average_rating: float | None
    average_take_minutes: float | None
    average_resolve_hours: float | None

    @property
    def response_rate(self) -> float | None:
        """响应率: share of the month's reports taken by their deadline."""
        return self.taken_in_time / self.filed if self.filed else None

    @property
    def resolution_rate(self) -> float | None:
        """解决率: share of the month's reports resolved."""
        return self.resolved / self.filed if self.filed else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: share of ratings that were 满意 or 基本满意."""
        return self.satisfied / self.rated if self.rated else None


@dataclass(frozen=True, slots=True)
class Bucket:
    """Reports filed and resolved in one stretch of time (a day or a week)."""

    start: datetime
    filed: int
    resolved: int


def micros_between(session: AsyncSession, a: Any, b: Any) -> ColumnElement[Any]:
    """b - a in whole microseconds, in the session's SQL dialect (as the kept sums count it).

    Whole numbers, so sums of them are exact whichever way they are added up; SQLite's date
    functions count milliseconds.
    """
    if _dialect(session) == "postgresql":
        return cast(func.round(func.extract("epoch", b - a) * 1000000), BigInteger)
    return cast(func.round((func.julianday(b) - func.julianday(a)) * 86400000.0), Integer) * 1000


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def in_time() -> ColumnElement[bool]:
    """Taken by the accept deadline the SLA chain set (handlers/sla.py: quiet hours included)."""
    return and_(
        Case.accepted_at.is_not(None),
        Case.accept_due_at.is_not(None),
        Case.accepted_at <= Case.accept_due_at,
    )


@dataclass(slots=True)
class _Parts:
    """What the rates of a group of reports are made of; sums, so groups add up."""

    filed: int = 0
    taken: int = 0
    timely: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0
    rating_sum: float = 0.0
    take_seconds: float = 0.0
    resolve_seconds: float = 0.0

    def add(self, other: _Parts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def rates(self, compound: str, building: str | None) -> Rates:
        return Rates(
            compound=compound,
            building=building,
            filed=self.filed,
            taken=self.taken,
            taken_in_time=self.timely,
            resolved=self.resolved,
            rated=self.rated,
            satisfied=self.satisfied,
            average_rating=round(self.rating_sum / self.rated, 2) if self.rated else None,
            average_take_minutes=(
                round(self.take_seconds / self.taken / 60, 1) if self.taken else None
            ),
            average_resolve_hours=(
                round(self.resolve_seconds / self.resolved / 3600, 1) if self.resolved else None
            ),
        )


def _parts_of(sums: Sequence[Any]) -> _Parts:
    """The parts from SQL sums: six counts, the ratings' sum, times in microseconds."""
    filed, taken, timely, resolved, rated, satisfied, ratings, take_us, resolve_us = (
        int(v or 0) for v in sums
    )
    return _Parts(
        filed,
        taken,
        timely,
        resolved,
        rated,
        satisfied,
        float(ratings),
        take_us / 1e6,
        resolve_us / 1e6,
    )


async def month_rates(
    session: AsyncSession,
    compounds: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    by_building: bool = False,
) -> list[Rates]:
    """三率 and their parts per compound (and per building), for reports filed in [start, end)."""
    totals, buildings = await _rates(session, compounds, start, end, by_building=by_building)
    return buildings if by_building else totals


async def month_rates_both(
    session: AsyncSession, compounds: Sequence[str], start: datetime, end: datetime
) -> tuple[list[Rates], list[Rates]]:
    """`month_rates` per compound and per building, from one read of the month."""
    return await _rates(session, compounds, start, end, by_building=True)


async def _rates(
    session: AsyncSession,
    compounds: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    by_building: bool,
) -> tuple[list[Rates], list[Rates]]:
    if not compounds:
        return [], []
    one = 1
    keys: list[Any] = [Case.compound, Case.building] if by_building else [Case.compound]
    resolved = Case.status == CaseStatus.RESOLVED
    stmt = (
        select(
            *keys,
            func.count(),
            func.sum(when((Case.accepted_at.is_not(None), one), else_=0)),
            func.sum(when((in_time(), one), else_=0)),
            func.sum(when((resolved, one), else_=0)),
            func.sum(when((Case.rating.is_not(None), one), else_=0)),
            func.sum(when((Case.rating >= SATISFIED_FROM, one), else_=0)),
            # Sums, not averages: the compound's figures are added up from its buildings'.
            func.sum(Case.rating),
            func.sum(micros_between(session, Case.created_at, Case.accepted_at)),
            func.sum(
                when(
                    (resolved, micros_between(session, Case.created_at, Case.resolved_at)),
                    else_=None,
                )
            ),
        )
        .where(
            Case.kind == CaseKind.REPORT,
            Case.status != CaseStatus.CLOSED,  # spam and merged duplicates are not work done
            Case.compound.in_(list(compounds)),
            Case.created_at >= start,
            Case.created_at < end,
        )
        .group_by(*keys)
        # SQLite's sampled statistics favour the board's index for a city's compounds, which
        # reads every case they ever had (6.5 s at a million cases) instead of the month.
        .with_hint(Case, f"INDEXED BY {MONTH_INDEX['created_at']}", dialect_name="sqlite")
    )
    n = len(keys)
    per_compound: dict[str, _Parts] = {}
    buildings: list[Rates] = []
    for row in (await session.execute(stmt)).all():
        parts = _parts_of(row[n:])
        per_compound.setdefault(row[0], _Parts()).add(parts)
        if by_building:
            buildings.append(parts.rates(row[0], row[1]))
    order = {c: i for i, c in enumerate(compounds)}
    totals = [parts.rates(c, None) for c, parts in per_compound.items()]
    totals.sort(key=lambda r: order.get(r.compound, 0))
    buildings.sort(key=lambda r: (order.get(r.compound, 0), _building_order(r.building)))
    return totals, buildings


def _building_order(building: str | None) -> tuple[int, int, str]:
    if building is None:
        return (1, 0, "")
    return (0, int(building), "") if building.isdigit() else (0, 10**9, building)


def empty_rates(compound: str, building: str | None = None) -> Rates:
    """Figures of a compound or building with no report in the month."""
    return Rates(compound, building, 0, 0, 0, 0, 0, 0, None, None, None)


async def trend(session: AsyncSession, compound: str, bounds: Sequence[datetime]) -> list[Bucket]:
    """Reports filed and resolved in each stretch [bounds[i], bounds[i+1])."""
    return (await trends(session, [compound], bounds)).get(compound, [])


async def trends(
    session: AsyncSession, compounds: Sequence[str], bounds: Sequence[datetime]
) -> dict[str, list[Bucket]]:
    """`trend` of several compounds: reports filed and resolved in each stretch of `bounds`."""
    if len(bounds) < 2 or not compounds:
        return {c: [] for c in compounds}
    filed = await _per_stretch(session, "created_at", compounds, bounds)
    resolved = await _per_stretch(session, "resolved_at", compounds, bounds)
    none = [0] * (len(bounds) - 1)
    return {
        compound: [
            Bucket(start=bounds[i], filed=f, resolved=r)
            for i, (f, r) in enumerate(
                zip(filed.get(compound, none), resolved.get(compound, none), strict=True)
            )
        ]
        for compound in compounds
    }


def weekly(days: Sequence[Bucket]) -> list[Bucket]:
    """Day buckets summed seven at a time, from the first (the weeks of a month's trend)."""
    return [
        Bucket(
            start=week[0].start,
            filed=sum(d.filed for d in week),
            resolved=sum(d.resolved for d in week),
        )
        for week in (days[i : i + 7] for i in range(0, len(days), 7))
    ]


async def _per_stretch(
    session: AsyncSession, column: str, compounds: Sequence[str], bounds: Sequence[datetime]
) -> dict[str, list[int]]:
    """Per compound, how many reports have `column` in each stretch between `bounds`."""
    # Written as text: `column` is ours, never input. The range on the whole month lets an
    # index on (compound, column) read only the month; SQLite's sampled statistics favour
    # the board's index instead, which reads every report of the compounds.
    sqlite = _dialect(session) == "sqlite"
    index = f" INDEXED BY {MONTH_INDEX[column]}" if sqlite else ""
    n = len(bounds) - 1
    width = _even_width(bounds)
    if width is not None:
        # Stretches of one length in whole seconds (days without a clock change): each row
        # is counted in its stretch by arithmetic, not by trying every stretch in turn (a
        # city's month: 1.0 s of comparisons).
        if sqlite:
            picked = f"(CAST(strftime('%s', {column}) AS INTEGER) - :origin) / :width"
        else:
            picked = f"div(CAST(floor(extract(epoch FROM {column})) AS BIGINT) - :origin, :width)"
        stmt = text(
            f"SELECT compound, {picked} AS stretch, count(*) FROM cases{index} "
            "WHERE kind = :kind AND compound IN :compounds "
            f"AND {column} >= :first AND {column} < :last GROUP BY compound, stretch"
        )
        extra: dict[str, Any] = {"origin": int(bounds[0].timestamp()), "width": width}
    else:
        # A clock change in the month: stretches of different lengths, a sum for each.
        sums = ", ".join(
            f"SUM(CASE WHEN {column} >= :b{i} AND {column} < :b{i + 1} THEN 1 ELSE 0 END)"
            for i in range(n)
        )
        stmt = text(
            f"SELECT compound, {sums} FROM cases{index} "
            "WHERE kind = :kind AND compound IN :compounds "
            f"AND {column} >= :first AND {column} < :last GROUP BY compound"
        ).bindparams(*(bindparam(f"b{i}", type_=UTCDateTime()) for i in range(n + 1)))
        extra = {f"b{i}": b for i, b in enumerate(bounds)}
    stmt = stmt.bindparams(
        bindparam("compounds", expanding=True),
        bindparam("first", type_=UTCDateTime()),
        bindparam("last", type_=UTCDateTime()),
    )
    result = await session.execute(
        stmt,
        {
            "kind": CaseKind.REPORT.value,
            "compounds": list(compounds),
            "first": bounds[0],
            "last": bounds[-1],
            **extra,
        },
    )
    rows = result.all()
    if width is None:
        return {row[0]: [int(v or 0) for v in row[1:]] for row in rows}
    out: dict[str, list[int]] = {}
    for compound, stretch, count in rows:
        out.setdefault(compound, [0] * n)[int(stretch)] += int(count)
    return out


def _even_width(bounds: Sequence[datetime]) -> int | None:
    """The stretches' common length in whole seconds, or None if they differ or are not whole."""
    stamps = [b.timestamp() for b in bounds]
    if not all(t.is_integer() for t in stamps):
        return None
    widths = {int(b - a) for a, b in itertools.pairwise(stamps)}
    return widths.pop() if len(widths) == 1 else None


@dataclass(frozen=True, slots=True)
class Services:
    """A compound's wishes, sign-ups and escalations in one month."""

    wishes_filed: int
    wishes_done: int
    signup_people: int
    escalations: int


async def month_services(
    session: AsyncSession, compound: str, start: datetime, end: datetime
) -> Services:
    """Wishes filed in the month (and how many of them are done), people signed up, escalations."""
    return (await month_services_of(session, [compound], start, end))[compound]


async def month_services_of(
    session: AsyncSession, compounds: Sequence[str], start: datetime, end: datetime
) -> dict[str, Services]:
    """`month_services` of several compounds in three grouped queries."""
    names = list(compounds)
    if not names:
        return {}
    wishes = await _wishes(session, names, start, end)
    return await _services(session, names, start, end, wishes)


async def _wishes(
    session: AsyncSession, names: list[str], start: datetime, end: datetime
) -> dict[str, tuple[int, int]]:
    """Wishes filed in [start, end) per compound, and how many of them are done."""
    rows = (
        await session.execute(
            select(
                Case.compound,
                func.count(),
                func.sum(when((Case.status == CaseStatus.RESOLVED, 1), else_=0)),
            )
            .where(
                Case.kind == CaseKind.WISH,
                Case.compound.in_(names),
                Case.created_at >= start,
                Case.created_at < end,
            )
            .group_by(Case.compound)
            .with_hint(Case, f"INDEXED BY {MONTH_INDEX['created_at']}", dialect_name="sqlite")
        )
    ).all()
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


async def _services(
    session: AsyncSession,
    names: list[str],
    start: datetime,
    end: datetime,
    wishes: dict[str, tuple[int, int]],
) -> dict[str, Services]:
    """Services of the compounds: the wishes given, sign-ups and escalations counted here."""
    signups = (
        select(Activity.compound, func.coalesce(func.sum(Signup.headcount), 0))
        .join(Activity, Activity.id == Signup.activity_id)
        .where(
            Activity.compound.in_(names),
            Signup.created_at >= start,
            Signup.created_at < end,
            Signup.status != SignupStatus.WITHDRAWN,
        )
        .group_by(Activity.compound)
    )
    if len(names) > MANY_COMPOUNDS:
        # SQLite starts from the compounds' activities, right for a few (their sign-ups by the
        # activity index) but for a city every sign-up it ever had: 100-150 ms, not 20-40.
        signups = signups.with_hint(Signup, "INDEXED BY ix_signups_created", dialect_name="sqlite")
    people: dict[str, Any] = dict((await session.execute(signups)).all())
    escalated: dict[str, Any] = dict(
        (
            await session.execute(
                select(Case.compound, func.count())
                .select_from(CaseEvent)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(
                    Case.compound.in_(names),
                    CaseEvent.action == CaseAction.ESCALATED,
                    CaseEvent.at >= start,
                    CaseEvent.at < end,
                )
                .group_by(Case.compound)
            )
        ).all()
    )
    out = {}
    for c in names:
        filed, done = wishes.get(c, (0, 0))
        out[c] = Services(
            wishes_filed=filed,
            wishes_done=done,
            signup_people=int(people.get(c, 0) or 0),
            escalations=int(escalated.get(c, 0) or 0),
        )
    return out


@dataclass(frozen=True, slots=True)
class Month:
    """A month's figures of several compounds: rates, buildings, services, the days' trend."""

    totals: dict[str, Rates]
    buildings: dict[str, list[Rates]]
    services: dict[str, Services]
    days: dict[str, list[Bucket]]
    weeks: dict[str, list[Bucket]]  # the days seven at a time, from the first (`weekly`)


async def month(
    session: AsyncSession,
    compounds: Sequence[str],
    days: Sequence[datetime],
    *,
    from_cases: bool = False,
) -> Month:
    """The figures of the reports filed in a month, given as its local midnights (1st to 1st).

    Read from the sums kept by storage.figure_cells when they are made for the days'
    timezone; else (or `from_cases`) counted from the cases: the same numbers, slower.
    """
    names = list(compounds)
    start, end = days[0], days[-1]
    zone = getattr(start.tzinfo, "key", None)
    if (
        names
        and not from_cases
        and zone is not None
        and await figure_cells.zone_of(session) == zone
    ):
        return await _month_from_sums(session, names, days)
    totals, per_building = await month_rates_both(session, names, start, end)
    trend = await trends(session, names, days)
    buildings: dict[str, list[Rates]] = {}
    for rates in per_building:
        buildings.setdefault(rates.compound, []).append(rates)
    return Month(
        totals={r.compound: r for r in totals},
        buildings=buildings,
        services=await month_services_of(session, names, start, end),
        days=trend,
        weeks={c: weekly(buckets) for c, buckets in trend.items()},
    )


async def _month_from_sums(
    session: AsyncSession, names: list[str], days: Sequence[datetime]
) -> Month:
    start, end = days[0], days[-1]
    per_compound: dict[str, _Parts] = {}
    building_parts: list[tuple[str, str | None, _Parts]] = []
    wishes: dict[str, tuple[int, int]] = {}
    for compound, kind, building, *sums in await figure_cells.month_rows(
        session, names, start.strftime("%Y-%m")
    ):
        parts = _parts_of(sums)
        if kind == CaseKind.WISH:
            filed, done = wishes.get(compound, (0, 0))
            wishes[compound] = (filed + parts.filed, done + parts.resolved)
            continue
        if kind != CaseKind.REPORT or not parts.filed:
            continue  # (a building whose reports all moved elsewhere)
        per_compound.setdefault(compound, _Parts()).add(parts)
        building_parts.append((compound, building or None, parts))
    order = {c: i for i, c in enumerate(names)}
    building_parts.sort(key=lambda b: (order.get(b[0], 0), _building_order(b[1])))
    buildings: dict[str, list[Rates]] = {}
    for compound, building, parts in building_parts:
        buildings.setdefault(compound, []).append(parts.rates(compound, building))
    starts = list(days[:-1])
    labels = [d.date().isoformat() for d in starts]
    found = await figure_cells.day_counts(session, names, labels[0], end.date().isoformat())
    # A city's month is 22,000 days: few objects made for each, ints summed from lists.
    trend: dict[str, list[Bucket]] = {}
    weeks: dict[str, list[Bucket]] = {}
    none: dict[str, tuple[int, int]] = {}
    zero = (0, 0)
    week_starts = range(0, len(starts), 7)
    for compound in names:
        counts = found.get(compound, none)
        pairs = [counts.get(label, zero) for label in labels]
        day_filed = [p[0] for p in pairs]
        day_resolved = [p[1] for p in pairs]
        trend[compound] = list(map(Bucket, starts, day_filed, day_resolved))
        weeks[compound] = [
            Bucket(starts[i], sum(day_filed[i : i + 7]), sum(day_resolved[i : i + 7]))
            for i in week_starts
        ]
    return Month(
        totals={c: parts.rates(c, None) for c, parts in per_compound.items()},
        buildings=buildings,
        services=await _services(session, names, start, end, wishes),
        days=trend,
        weeks=weeks,
    )

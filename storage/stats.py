"""Monthly figures of a compound for the secretary's recap after the 共建日."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import CaseAction, CaseKind, SignupStatus
from storage.models import Activity, Case, CaseEvent, Signup


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    """Sign-ups of one activity: households and people in, waiting, withdrawn."""

    title: str
    households: int
    people: int
    waiting: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """What happened in a compound in [start, end)."""

    activities: list[ActivityFigures]
    reports_filed: int
    reports_resolved: int
    wishes_filed: int
    wishes_done: int
    escalations: int
    mean_time_to_take: timedelta | None
    ratings: int
    mean_rating: float | None
    satisfied: int  # ratings of 4 or 5


async def activity_figures(session: AsyncSession, activity: Activity) -> ActivityFigures:
    """Sign-up counts of an activity."""
    rows = (
        await session.execute(
            select(Signup.status, func.count(), func.coalesce(func.sum(Signup.headcount), 0))
            .where(Signup.activity_id == activity.id)
            .group_by(Signup.status)
        )
    ).all()
    by = {status: (int(n), int(people)) for status, n, people in rows}
    return ActivityFigures(
        title=activity.title,
        households=by.get(SignupStatus.CONFIRMED, (0, 0))[0],
        people=by.get(SignupStatus.CONFIRMED, (0, 0))[1],
        waiting=by.get(SignupStatus.WAITING, (0, 0))[0],
        withdrawn=sum(
            n
            for s, (n, _) in by.items()
            if s not in (SignupStatus.CONFIRMED, SignupStatus.WAITING)
        ),
    )


async def month_figures(
    session: AsyncSession, compound: str, start: datetime, end: datetime
) -> MonthFigures:
    """Sign-ups, cases filed and resolved, time to take a case and satisfaction in a month."""
    acts = (
        await session.execute(
            select(Activity)
            .where(
                Activity.compound == compound,
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
            .order_by(Activity.starts_at)
        )
    ).scalars()
    activities = [await activity_figures(session, a) for a in acts]
    cases = (await session.execute(select(Case).where(Case.compound == compound))).scalars().all()

    def within(t: datetime | None) -> bool:
        return t is not None and start <= t < end

    reports = [c for c in cases if c.kind == CaseKind.REPORT]
    wishes = [c for c in cases if c.kind == CaseKind.WISH]
    taken = [
        c.accepted_at - c.created_at
        for c in reports
        if c.accepted_at is not None and within(c.accepted_at)
    ]
    rated = [c.rating for c in cases if c.rating is not None and within(c.rated_at)]
    escalations = await session.execute(
        select(func.count())
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.compound == compound,
            CaseEvent.action == CaseAction.ESCALATED,
            CaseEvent.at >= start,
            CaseEvent.at < end,
        )
    )
    return MonthFigures(
        activities=activities,
        reports_filed=sum(within(c.created_at) for c in reports),
        reports_resolved=sum(within(c.resolved_at) for c in reports),
        wishes_filed=sum(within(c.created_at) for c in wishes),
        wishes_done=sum(within(c.resolved_at) for c in wishes),
        escalations=int(escalations.scalar_one()),
        mean_time_to_take=sum(taken, timedelta()) / len(taken) if taken else None,
        ratings=len(rated),
        mean_rating=sum(rated) / len(rated) if rated else None,
        satisfied=sum(r >= 4 for r in rated),
    )

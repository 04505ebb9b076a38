"""Monthly figures of a compound for the 共建日 recap, counted by storage.figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import SignupStatus
from storage import figures
from storage.models import Activity, Signup


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
    satisfied: int  # rated 满意 or 基本满意 (storage.figures.SATISFIED_FROM)


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
    """The recap's figures: the month's activities, and storage.figures for everything else.

    Reports, wishes, ratings and times are about the cases filed in [start, end), counted by
    the same SQL aggregates as the console's and the API's 三率.
    """
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
    rates = next(iter(await figures.month_rates(session, [compound], start, end)), None)
    rates = rates or figures.empty_rates(compound)
    services = await figures.month_services(session, compound, start, end)
    take = rates.average_take_minutes
    return MonthFigures(
        activities=activities,
        reports_filed=rates.filed,
        reports_resolved=rates.resolved,
        wishes_filed=services.wishes_filed,
        wishes_done=services.wishes_done,
        escalations=services.escalations,
        mean_time_to_take=timedelta(minutes=take) if take is not None else None,
        ratings=rates.rated,
        mean_rating=rates.average_rating,
        satisfied=rates.satisfied,
    )

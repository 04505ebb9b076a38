"""Activities and their sign-ups: capacity counted in people, a waiting list served in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.core.domain import ActivityStatus, SignupStatus
from storage import direct
from storage.chunks import chunks
from storage.counters import bump_many, current_value, next_value
from storage.models import Activity, Signup, UTCDateTime
from storage.upsert import insert_ignore, insert_ignore_many

# The statements of a sign-up, built once with parameters: building an ORM statement (its
# column comparisons, its cache key) cost more than SQLite took to run it.
_OF_COMPOUND = (
    select(Activity)
    .where(
        Activity.compound == bindparam("compound"),
        Activity.status == ActivityStatus.OPEN.value,
        Activity.starts_at > bindparam("since", type_=UTCDateTime()),
    )
    .order_by(Activity.starts_at, Activity.id)
)
_SIGNUPS = cast(Table, Signup.__table__)
_PEOPLE_IN = (
    select(func.coalesce(func.sum(_SIGNUPS.c.headcount), 0))
    .where(
        _SIGNUPS.c.activity_id == bindparam("activity"),
        _SIGNUPS.c.status == SignupStatus.CONFIRMED.value,
    )
    .scalar_subquery()
)
_PEOPLE_IN_ALONE = select(_PEOPLE_IN)
# A person's sign-up (or None) and the places taken, in one statement.
_MINE_AND_TAKEN = (
    select(_PEOPLE_IN.label("taken"), Signup)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(
        Signup,
        and_(Signup.activity_id == bindparam("activity"), Signup.person_id == bindparam("person")),
    )
)
_INSERT_SIGNUP = insert(_SIGNUPS).returning(_SIGNUPS.c.id)
_SIGNUPS_OF = (
    select(Signup)
    .where(Signup.activity_id == bindparam("activity"))
    .order_by(Signup.queued_at, Signup.id)
)
_SIGNUPS_OF_STATUS = _SIGNUPS_OF.where(Signup.status == bindparam("status"))


def _version_counter(compound: str) -> str:
    return f"activities:{compound}"


async def version(session: AsyncSession, compound: str) -> int:
    """A compound's activity stamp: it changes whenever an activity is added or changed.

    Each process caches the titles it parses against and re-reads them only when this moves,
    so a chat message that changes nothing costs one primary-key read, and a second process
    still sees a new activity at once.
    """
    return await current_value(session, _version_counter(compound))


async def touch(session: AsyncSession, compound: str) -> None:
    """Move a compound's activity stamp (in the transaction that changed an activity)."""
    await next_value(session, _version_counter(compound))


@dataclass(frozen=True, slots=True)
class NewActivity:
    """An activity to store; `key` makes storing it idempotent."""

    key: str
    source: str
    compound: str
    title: str
    starts_at: datetime
    place: str | None
    capacity: int | None
    created_by: str | None

    def row(self, now: datetime) -> dict[str, object]:
        """The activities row that stores it, open, created `now`."""
        return {
            "key": self.key,
            "source": self.source,
            "compound": self.compound,
            "title": self.title,
            "starts_at": self.starts_at,
            "place": self.place,
            "capacity": self.capacity,
            "status": ActivityStatus.OPEN,
            "created_by": self.created_by,
            "created_at": now,
        }


class ActivityRepository:
    """Reads and writes activities and sign-ups within one session; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewActivity, now: datetime) -> tuple[Activity, bool]:
        """Store an activity unless its key exists; returns it and whether it is new."""
        inserted = await insert_ignore(self._session, Activity, new.row(now), ["key"])
        if inserted:
            await touch(self._session, new.compound)
        activity = await self.by_key(new.key)
        assert activity is not None
        return activity, inserted

    async def changed(self, activity: Activity) -> None:
        """Record that an activity's title, time or status changed (parsers re-read titles)."""
        await self._session.flush()
        await touch(self._session, activity.compound)

    async def by_key(self, key: str) -> Activity | None:
        """The activity with this key."""
        result = await self._session.execute(select(Activity).where(Activity.key == key))
        return result.scalar_one_or_none()

    async def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these activity keys are stored (exact look-ups, a few hundred at a time)."""
        found: set[str] = set()
        for chunk in chunks(keys):
            result = await self._session.scalars(
                select(Activity.key).where(Activity.key.in_(chunk))
            )
            found.update(result.all())
        return found

    async def get(self, activity_id: int) -> Activity | None:
        """The activity with this id."""
        return await self._session.get(Activity, activity_id)

    async def of_compound(self, compound: str, since: datetime) -> Sequence[Activity]:
        """Open activities of a compound starting after `since`, soonest first."""
        result = await self._session.execute(_OF_COMPOUND, {"compound": compound, "since": since})
        return result.scalars().all()

    async def by_title(self, compound: str, title: str, since: datetime) -> Activity | None:
        """The soonest open activity of a compound with this title starting after `since`."""
        for a in await self.of_compound(compound, since):
            if a.title == title:
                return a
        return None

    async def signup(self, activity_id: int, person_id: str) -> Signup | None:
        """A person's sign-up to an activity, in whatever state."""
        result = await self._session.execute(
            select(Signup).where(Signup.activity_id == activity_id, Signup.person_id == person_id)
        )
        return result.scalar_one_or_none()

    async def signup_and_taken(
        self, activity_id: int, person_id: str
    ) -> tuple[Signup | None, int]:
        """A person's sign-up to an activity (in whatever state) and `people_in`, in one read."""
        row = (
            await self._session.execute(
                _MINE_AND_TAKEN, {"activity": activity_id, "person": person_id}
            )
        ).one()
        return row[1], int(row[0])

    async def insert_signup(self, values: dict[str, object]) -> Signup:
        """Store a new sign-up (one INSERT, no read back); it joins the session as loaded."""
        ran = await direct.execute(self._session, _INSERT_SIGNUP, values)
        signup_id = int(ran.rows[0][0])
        signup = Signup(id=signup_id, **values)
        make_transient_to_detached(signup)
        self._session.add(signup)
        return signup

    async def signups(
        self, activity_id: int, status: SignupStatus | None = None
    ) -> Sequence[Signup]:
        """Sign-ups of an activity in queue order, optionally of one status."""
        if status is None:
            result = await self._session.execute(_SIGNUPS_OF, {"activity": activity_id})
        else:
            result = await self._session.execute(
                _SIGNUPS_OF_STATUS, {"activity": activity_id, "status": status}
            )
        return result.scalars().all()

    async def people_in(self, activity_id: int) -> int:
        """How many people (headcounts summed) hold a confirmed place."""
        result = await self._session.execute(_PEOPLE_IN_ALONE, {"activity": activity_id})
        return int(result.scalar_one())

    async def active_signups_of(
        self, person_id: str, compound: str, since: datetime
    ) -> list[Signup]:
        """A person's confirmed or waiting sign-ups to upcoming activities of a compound."""
        result = await self._session.execute(
            select(Signup)
            .join(Activity, Activity.id == Signup.activity_id)
            .where(
                Signup.person_id == person_id,
                Signup.status.in_((SignupStatus.CONFIRMED, SignupStatus.WAITING)),
                Activity.compound == compound,
                Activity.status == ActivityStatus.OPEN,
                Activity.starts_at > since,
            )
            .order_by(Activity.starts_at)
        )
        return list(result.scalars().all())

    async def latest_in_room(
        self, room: str, compound: str, since: datetime, active_since: datetime
    ) -> Activity | None:
        """The upcoming activity signed up to in a room most recently, if after `active_since`."""
        result = await self._session.execute(
            select(Activity)
            .join(Signup, Signup.activity_id == Activity.id)
            .where(
                Signup.room == room,
                Signup.updated_at >= active_since,
                Activity.compound == compound,
                Activity.status == ActivityStatus.OPEN,
                Activity.starts_at > since,
            )
            .order_by(Signup.updated_at.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def flush(self) -> None:
        """Write staged changes so later queries see them."""
        await self._session.flush()

    async def in_range(self, start: datetime, end: datetime, compound: str) -> Sequence[Activity]:
        """Activities of a compound starting in [start, end)."""
        result = await self._session.execute(
            select(Activity).where(
                Activity.compound == compound,
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
        )
        return result.scalars().all()


async def add_many(
    session: AsyncSession, news: Sequence[NewActivity], now: datetime
) -> Sequence[Activity]:
    """Store activities whose keys are not stored yet; returns all of them, stored.

    A statement per few hundred, not four per activity: a city's monthly 共建日 is one per
    compound (728). Every compound named has its activity stamp moved, once.
    """
    for chunk in chunks(news):
        await insert_ignore_many(session, Activity, [n.row(now) for n in chunk], ["key"])
    await bump_many(session, [_version_counter(n.compound) for n in news])
    stored: list[Activity] = []
    for keys in chunks([n.key for n in news]):
        result = await session.execute(select(Activity).where(Activity.key.in_(keys)))
        stored.extend(result.scalars())
    return stored

"""SQLAlchemy models: cases and their log, inbound dedup, the outbox, scheduled tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the injected clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Counter(Base):
    """Named sequences shared by every bot process: case and wish numbers, activity stamps."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """A report (#N) or a wish (WN) and where it stands."""

    __tablename__ = "cases"
    __table_args__ = (
        # Numbers count per compound (#12 in each), so residents read short ones in a city.
        UniqueConstraint("kind", "compound", "number", name="uq_cases_kind_compound_number"),
        # A number said in private chat: its cases in every compound, to pick the sender's.
        Index("ix_cases_kind_number", "kind", "number"),
        # The few cases still in hand, per compound: the board's overdue count, 待办, SLA.
        Index("ix_cases_active", "status", "compound", "kind"),
        # A rating (满意) and a picture after a report look up the sender's latest case.
        Index("ix_cases_reporter", "reporter_id", "room", "created_at", "id"),
        # A month's figures: one compound's cases filed in a date range, with every column
        # the figures read, so a city's month (77,000 reports) is read from the index alone.
        Index(
            "ix_cases_compound_created",
            "compound",
            "created_at",
            "kind",
            "status",
            "building",
            "accepted_at",
            "accept_due_at",
            "resolved_at",
            "rating",
        ),
        # ... and its reports resolved in a date range (the trend), whenever they were filed.
        Index("ix_cases_compound_resolved", "compound", "resolved_at", "kind"),
        # The console board's pages: newest first within a compound and kind.
        Index("ix_cases_board", "compound", "kind", "id"),
        # 待办: a head's open and accepted cases, not every case they ever had.
        Index("ix_cases_assignee", "assignee_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # report | wish
    number: Mapped[int] = mapped_column(Integer)
    compound: Mapped[str] = mapped_column(String(100))
    building: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # indexed by ix_cases_active
    reporter_id: Mapped[str] = mapped_column(String(100))
    reporter_name: Mapped[str] = mapped_column(String(100))
    room: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[str | None] = mapped_column(String(100))
    assignee_name: Mapped[str | None] = mapped_column(String(100))
    source_message_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Deadlines of the SLA chain (handlers/sla.py), kept so the console and the figures read
    # the same deadline the escalation uses: to be taken by, and (once taken) resolved by.
    accept_due_at: Mapped[datetime | None] = mapped_column(index=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(index=True)


class CaseEvent(Base):
    """One entry of a case's append-only log."""

    __tablename__ = "case_events"
    __table_args__ = (
        # A case's log, and whether a case was already escalated or reminded.
        Index("ix_case_events_case_action", "case_id", "action"),
        # The month's escalations, without reading every event of a compound's cases.
        Index("ix_case_events_action_at", "action", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")


class FigureMonth(Base):
    """The month's figures of one building's reports (or wishes), kept by triggers on cases.

    Sums of what each case adds (storage/figure_cells.py), so a city's month is a few thousand
    rows instead of every report it had; `building` is "" for a case with no building.
    """

    __tablename__ = "figure_months"
    # Clustered by the key on SQLite too: a city's month is read in key order, row by row.
    __table_args__ = ({"sqlite_with_rowid": False},)
    compound: Mapped[str] = mapped_column(String(100), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # local YYYY-MM
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    building: Mapped[str] = mapped_column(String(20), primary_key=True)
    filed: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer)
    timely: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    rated: Mapped[int] = mapped_column(Integer)
    satisfied: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    take_us: Mapped[int] = mapped_column(BigInteger)
    resolve_us: Mapped[int] = mapped_column(BigInteger)


class FigureDay(Base):
    """A compound's reports filed and resolved on one local day (the trend), kept by triggers."""

    __tablename__ = "figure_days"
    __table_args__ = ({"sqlite_with_rowid": False},)
    compound: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # local YYYY-MM-DD
    filed: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)


class LocalDay(Base):
    """The calendar the triggers read: each local day of the bot's timezone and when it starts.

    SQLite knows no timezones; a day is the last start at or before an instant.
    """

    __tablename__ = "local_days"
    __table_args__ = ({"sqlite_with_rowid": False},)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))


class FigureZone(Base):
    """The timezone the calendar and the summary were made for; no row: not made yet."""

    __tablename__ = "figure_zone"
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProcessedMessage(Base):
    """An inbound message id already handled, so a redelivery is ignored."""

    __tablename__ = "processed_messages"
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to send; stored in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    # The sender's "due" query: this account's pending rows whose time has come.
    __table_args__ = (Index("ix_outbox_due", "account", "status", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # idempotency key
    account: Mapped[str] = mapped_column(String(100))
    to_room: Mapped[str | None] = mapped_column(String(200))
    to_person: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    mention_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class ScheduledTask(Base):
    """A piece of future work (a reminder, an escalation step), unique by key."""

    __tablename__ = "scheduled_tasks"
    # Due tasks, and pending tasks to cancel, without reading every task ever done.
    __table_args__ = (Index("ix_scheduled_tasks_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Byte order on PostgreSQL too (SQLite has nothing else): a key prefix is then a range of
    # the unique index (a room's last roster), whatever the database's collation.
    key: Mapped[str] = mapped_column(
        String(300).with_variant(String(300, collation="C"), "postgresql"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(50))
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10))  # pending|done|stale|cancelled
    done_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]


class CaseSupporter(Base):
    """A neighbour who reported the same problem again (附议) and joined an open case."""

    __tablename__ = "case_supporters"
    __table_args__ = (UniqueConstraint("case_id", "person_id", name="uq_case_supporters_person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str] = mapped_column(String(100))
    source_message_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]


class Activity(Base):
    """An activity residents sign up to: from the config, published, or the monthly 共建日."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    # "config:<compound>:<title>", "published:<message id>", "cobuilding:<compound>:<YYYY-MM>"
    key: Mapped[str] = mapped_column(String(300), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # config | published | cobuilding
    compound: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(200))
    capacity: Mapped[int | None] = mapped_column(Integer)  # people; None = no limit
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | cancelled
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Signup(Base):
    """One person's sign-up to an activity, for themselves and the people they bring."""

    __tablename__ = "signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "person_id", name="uq_signups_person"),
        # The month's sign-ups of a city's compounds, read from the index alone (the figures).
        Index("ix_signups_created", "created_at", "activity_id", "status", "headcount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str] = mapped_column(String(100))
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), index=True)  # confirmed|waiting|cancelled
    room: Mapped[str | None] = mapped_column(String(200))
    queued_at: Mapped[datetime]  # the waiting list is served in this order
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- web (bot/web): 民情码 status links, the session secret (more in storage/web_models.py) ----


class WebReportLink(Base):
    """The unguessable status link a 民情码 reporter gets for their case."""

    __tablename__ = "web_report_links"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime]


class WebSecret(Base):
    """A generated secret (the session-signing key) shared by every process of one database."""

    __tablename__ = "web_secrets"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

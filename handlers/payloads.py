"""What each kind of scheduled task carries, validated when it is stored and when it runs."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from storage.models import ScheduledTask


class TaskPayload(BaseModel):
    """The base of every task payload: frozen, no unknown keys, stored as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        """The payload as stored in the task row."""
        return self.model_dump(mode="json")

    @classmethod
    def of(cls, task: ScheduledTask) -> Self:
        """The payload of a stored task (a ValidationError if it does not fit)."""
        return cls.model_validate(task.payload)


class CasePayload(TaskPayload):
    """A task about one case (wish reminders and escalations)."""

    case_id: int


class SlaStage(StrEnum):
    """Which deadline an SLA chain watches."""

    ACCEPT = "accept"
    RESOLVE = "resolve"


class SlaStep(StrEnum):
    """Who an SLA step goes to."""

    REMIND = "remind"  # the assignee
    SECRETARY = "secretary"
    WORKERS = "workers"


class SlaPayload(CasePayload):
    """One step of an SLA chain; `since` is when the clock started."""

    stage: SlaStage
    step: SlaStep
    since: datetime


class AnnouncePayload(TaskPayload):
    """An activity's announcement (or the news that it moved)."""

    activity_id: int
    changed: bool = False


class ActivityReminderPayload(TaskPayload):
    """A reminder to those signed up: the evening before or the hour before."""

    activity_id: int
    which: Literal["eve", "hour"]


class RosterPayload(TaskPayload):
    """A batched 接龙 roster of an activity in one room."""

    activity_id: int
    room: str


class RoomReminderPayload(TaskPayload):
    """One room's co-building-day reminder, `offset` days from the day."""

    room: str
    day: date
    offset: int


class RecapPayload(TaskPayload):
    """A compound's co-building-day recap for its secretary."""

    compound: str
    day: date

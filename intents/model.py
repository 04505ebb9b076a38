"""Typed results of understanding a message: group intents and private commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.domain import Category as Category  # re-exported: intents speaks of it


class IntentKind(StrEnum):
    """What a group message asks the bot to do."""

    REPORT_PROBLEM = "report_problem"
    MICRO_WISH = "micro_wish"
    JOIN_ACTIVITY = "join_activity"
    LEAVE_ACTIVITY = "leave_activity"
    NONE = "none"


class ActivitiesNeeded(Exception):
    """The parser needs the open activities that the caller left to be asked for (None)."""


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the bot knows when a group message arrives."""

    room: str | None = None  # the room's topic
    sender_name: str = ""  # display name in that room
    # Titles open for sign-up in that room. None: not looked up yet; the parser raises
    # ActivitiesNeeded only if they could change its reading, so chit-chat costs no lookup.
    activities: tuple[str, ...] | None = ()
    bot_name: str = "小邻"

    def open_titles(self) -> tuple[str, ...]:
        """The open activities; raises ActivitiesNeeded when they were left to be asked for."""
        if self.activities is None:
            raise ActivitiesNeeded
        return self.activities


@dataclass(frozen=True, slots=True)
class Intent:
    """The parser's reading of one group message."""

    kind: IntentKind
    building: str | None = None
    urgent: bool = False
    category: Category | None = None
    activity: str | None = None  # exactly one of ParseContext.activities, or None
    headcount: int | None = None
    confidence: float = 1.0
    explain: tuple[str, ...] = field(default=())

    @property
    def is_request(self) -> bool:
        """True when the bot should act on the message."""
        return self.kind is not IntentKind.NONE

"""Typed results of understanding a message: group intents and private commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.domain import Category


class IntentKind(StrEnum):
    """What a group message asks the bot to do."""

    REPORT_PROBLEM = "report_problem"
    MICRO_WISH = "micro_wish"
    JOIN_ACTIVITY = "join_activity"
    LEAVE_ACTIVITY = "leave_activity"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the bot knows when a group message arrives."""

    room: str | None = None  # the room's topic
    sender_name: str = ""  # display name in that room
    activities: tuple[str, ...] = ()  # titles open for sign-up in that room
    bot_name: str = "小邻"


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


class CommandName(StrEnum):
    """Private commands of building heads, volunteers, secretaries and residents."""

    ACCEPT = "accept"  # 接单 N
    RESOLVE = "resolve"  # 办结 N [说明]
    TRANSFER = "transfer"  # 转 N <楼栋号|书记|物业...>
    RETURN = "return"  # 退回 N <原因>
    TODO = "todo"  # 待办
    HELP = "help"  # 帮助
    RATE = "rate"  # 满意 / 基本满意 / 不满意 / 评价 N 1-5
    CLAIM = "claim"  # 认领 W3
    COMPLETE_WISH = "complete_wish"  # 完成 W3 [说明]
    LIST_WISHES = "list_wishes"  # 心愿
    NUDGE = "nudge"  # 督办 N
    DISPATCH = "dispatch"  # 派 N 3栋
    PUBLISH_ACTIVITY = "publish_activity"  # 发布活动 ...
    ROSTER = "roster"  # 名单 <活动>


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed private command; fields unused by a command stay None/empty."""

    name: CommandName
    number: int | None = None  # case number (#N) or wish number (WN)
    arg: str = ""  # the rest: note, reason, transfer target, activity text
    score: int | None = None  # rating 1-5 for RATE

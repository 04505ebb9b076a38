"""Typed private commands: each read once by intents/commands.py, used as-is by its handler."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from intents.drafts import ActivityText


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


SECRETARY_WORDS = ("书记", "小区书记", "支部书记")

MAX_NUMBER = 999_999_999
"""The largest case or wish number a command can name (it fits every integer column)."""
NO_SUCH_NUMBER = MAX_NUMBER + 1
"""What a longer number in a command reads as: it names no case, and says so."""


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """Where 转 / 派 sends a case: the secretary, or the head of a building (as written)."""

    raw: str
    secretary: bool
    building: str | None  # upper-cased, without 栋/号楼/楼栋长


def transfer_target(text: str) -> TransferTarget:
    """Read "5", "5栋", "5号楼", "5栋楼栋长", "书记" as a transfer target."""
    t = text.strip().removesuffix("楼栋长").removesuffix("号楼").rstrip("栋幢#号楼 ")
    if t in SECRETARY_WORDS:
        return TransferTarget(raw=text, secretary=True, building=None)
    return TransferTarget(raw=text, secretary=False, building=t.upper() or None)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed private command; fields a command does not use stay None or empty."""

    name: CommandName
    number: int | None = None  # case number (#N) or wish number (WN)
    compound: str | None = None  # the number's compound when known (the console's buttons)
    arg: str = ""  # the rest as written: note, reason, activity title
    score: int | None = None  # rating 1-5 for RATE
    target: TransferTarget | None = None  # TRANSFER, DISPATCH
    activity: ActivityText | None = None  # PUBLISH_ACTIVITY

"""The domain's words: kinds, statuses, log actions, roles and categories, each with its label.

Stored as their string values; every Chinese label a person sees is defined here, once.
"""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    """A report (报事 #N) or a micro-wish (微心愿 WN)."""

    REPORT = "report"
    WISH = "wish"

    @property
    def label(self) -> str:
        """The kind in words."""
        return "报事报修" if self is CaseKind.REPORT else "微心愿"

    def case_label(self, number: int) -> str:
        """How a case of this kind is written in messages: #12 or W3."""
        return f"W{number}" if self is CaseKind.WISH else f"#{number}"


class CaseStatus(StrEnum):
    """Where a case stands."""

    OPEN = "open"  # filed and assigned, waiting to be taken
    ACCEPTED = "accepted"  # taken (接单 / 认领)
    RESOLVED = "resolved"  # done (办结 / 完成)
    CLOSED = "closed"  # closed without being done: spam, or merged into another case

    def label(self, kind: CaseKind = CaseKind.REPORT) -> str:
        """The status in the words used for this kind of case."""
        return (_REPORT_STATUS if kind is CaseKind.REPORT else _WISH_STATUS)[self]


_REPORT_STATUS = {
    CaseStatus.OPEN: "待接单",
    CaseStatus.ACCEPTED: "办理中",
    CaseStatus.RESOLVED: "已办结",
    CaseStatus.CLOSED: "已关闭",
}
_WISH_STATUS = {
    CaseStatus.OPEN: "待认领",
    CaseStatus.ACCEPTED: "已认领",
    CaseStatus.RESOLVED: "已完成",
    CaseStatus.CLOSED: "已关闭",
}
ACTIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.ACCEPTED)


class CaseAction(StrEnum):
    """A step in a case's append-only log."""

    FILED = "filed"
    ASSIGNED = "assigned"
    DISPATCHED = "dispatched"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    RATED = "rated"
    NUDGED = "nudged"
    SLA_REMINDED = "sla_reminded"
    ESCALATED = "escalated"
    SECONDED = "seconded"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    REMINDED = "reminded"
    CONTACT = "contact"
    IMAGE = "image"
    REOPENED = "reopened"
    REPLIED = "replied"  # a console user's answer to the resident
    NOTE = "note"  # an internal note of the console, never shown to residents
    SPAM = "spam"
    MERGED = "merged"  # another case was merged into this one
    MERGED_INTO = "merged_into"  # this case was merged into another
    RECATEGORISED = "recategorised"
    MADE_URGENT = "made_urgent"  # an urgent report joined it (附议)
    PHOTO = "photo"  # a photo from the 民情码 form

    @property
    def label(self) -> str:
        """The step in the console's words."""
        return _ACTION_LABELS[self]

    @property
    def public_label(self) -> str | None:
        """The step in a reporter's words; None for steps a reporter does not see."""
        return _PUBLIC_LABELS.get(self)


_ACTION_LABELS = {
    CaseAction.FILED: "登记",
    CaseAction.ASSIGNED: "派单",
    CaseAction.DISPATCHED: "派单",
    CaseAction.TRANSFERRED: "转派",
    CaseAction.RETURNED: "退回",
    CaseAction.ACCEPTED: "接单",
    CaseAction.RESOLVED: "办结",
    CaseAction.RATED: "评价",
    CaseAction.NUDGED: "督办",
    CaseAction.SLA_REMINDED: "超时提醒",
    CaseAction.ESCALATED: "上报",
    CaseAction.SECONDED: "附议",
    CaseAction.CLAIMED: "认领",
    CaseAction.COMPLETED: "完成",
    CaseAction.REMINDED: "提醒志愿者",
    CaseAction.CONTACT: "联系电话",
    CaseAction.IMAGE: "图片",
    CaseAction.REOPENED: "重新打开",
    CaseAction.REPLIED: "回复居民",
    CaseAction.NOTE: "内部备注",
    CaseAction.SPAM: "标为无效",
    CaseAction.MERGED: "合并",
    CaseAction.MERGED_INTO: "并入",
    CaseAction.RECATEGORISED: "改类别",
    CaseAction.MADE_URGENT: "升为紧急",
    CaseAction.PHOTO: "照片",
}
# Contact numbers, images and internal reminders stay out of the reporter's view.
_PUBLIC_LABELS = {
    CaseAction.FILED: "已登记",
    CaseAction.ASSIGNED: "已派给承办人",
    CaseAction.TRANSFERRED: "已转派",
    CaseAction.RETURNED: "已退回小区书记重新安排",
    CaseAction.ACCEPTED: "已接单，正在处理",
    CaseAction.CLAIMED: "志愿者已认领",
    CaseAction.NUDGED: "社区已督办",
    CaseAction.ESCALATED: "已上报街道统办",
    CaseAction.RESOLVED: "已办结",
    CaseAction.COMPLETED: "已完成",
    CaseAction.RATED: "已评价",
    CaseAction.DISPATCHED: "社区已派单",
    CaseAction.REOPENED: "已重新打开处理",
    CaseAction.REPLIED: "社区回复",
    CaseAction.SPAM: "已关闭（无效反映）",
    CaseAction.MERGED_INTO: "已与邻居反映的同一问题合并处理",
    CaseAction.MADE_URGENT: "已升为紧急",
}


class Role(StrEnum):
    """A person's part in the grid."""

    BUILDING_HEAD = "building_head"
    SECRETARY = "secretary"
    WORKER = "worker"
    VOLUNTEER = "volunteer"

    @property
    def label(self) -> str:
        """The role in words."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.BUILDING_HEAD: "楼栋长",
    Role.SECRETARY: "书记",
    Role.WORKER: "社区",
    Role.VOLUNTEER: "志愿者",
}


class Category(StrEnum):
    """Problem categories of a report."""

    LIFT = "lift"
    WATER = "water"
    POWER = "power"
    LIGHTING = "lighting"
    SANITATION = "sanitation"
    PARKING = "parking"  # parking and blocked fire lanes
    NOISE = "noise"
    EBIKE = "ebike"  # e-bike charging
    STRUCTURE = "structure"  # doors, railings, walls, roofs, access control
    GREENERY = "greenery"
    DISPUTE = "dispute"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The category in words."""
        return _CATEGORY_LABELS[self]

    @classmethod
    def of(cls, value: str | None) -> Category:
        """The category stored as `value`; unknown or missing ones are OTHER."""
        try:
            return cls(value) if value else cls.OTHER
        except ValueError:
            return cls.OTHER


_CATEGORY_LABELS = {
    Category.LIFT: "电梯",
    Category.WATER: "水",
    Category.POWER: "电",
    Category.LIGHTING: "照明",
    Category.SANITATION: "环境卫生",
    Category.PARKING: "停车/消防通道",
    Category.NOISE: "噪音",
    Category.EBIKE: "电动车充电",
    Category.STRUCTURE: "门窗/设施",
    Category.GREENERY: "绿化",
    Category.DISPUTE: "邻里纠纷",
    Category.OTHER: "其他",
}


class SignupStatus(StrEnum):
    """Where a sign-up stands."""

    CONFIRMED = "confirmed"
    WAITING = "waiting"
    WITHDRAWN = "cancelled"  # the stored value predates the enum; it means withdrawn

    @property
    def label(self) -> str:
        """The status in words."""
        return _SIGNUP_LABELS[self]


_SIGNUP_LABELS = {
    SignupStatus.CONFIRMED: "已报名",
    SignupStatus.WAITING: "候补",
    SignupStatus.WITHDRAWN: "已取消",
}


class ActivityStatus(StrEnum):
    """Whether an activity still takes place."""

    OPEN = "open"
    CANCELLED = "cancelled"


class ActivitySource(StrEnum):
    """Where an activity came from."""

    CONFIG = "config"
    PUBLISHED = "published"  # 发布活动 by a secretary or worker
    COBUILDING = "cobuilding"  # the month's co-building day


class TaskStatus(StrEnum):
    """Where a scheduled task stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    STALE = "stale"  # its time passed too long ago to still be useful
    CANCELLED = "cancelled"
    FAILED = "failed"  # its handler raised; logged, not retried


class OutboxStatus(StrEnum):
    """Where an outgoing message stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"  # a group message that fell in quiet hours


class SendOutcome(StrEnum):
    """How one call to the chat service ended (a send attempt, storage/send_attempts.py)."""

    STARTED = "started"
    SENT = "sent"  # the service said it sent it
    ECHOED = "echoed"  # the account's own copy of it came back
    FAILED = "failed"  # the service said it did not
    UNKNOWN = "unknown"  # the connection broke during the call: waiting for an echo
    RESENT = "resent"  # no outcome and no echo: its messages were queued again


# Attempts whose end is known: kept only for the outbox's retention (storage/maintenance.py).
SETTLED_OUTCOMES = frozenset(
    {SendOutcome.SENT, SendOutcome.ECHOED, SendOutcome.FAILED, SendOutcome.RESENT}
)


class LoginStatus(StrEnum):
    """Whether a WeChat account is logged in, as every process sees it (account_state)."""

    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"
    UNKNOWN = "unknown"  # not heard of since the account was first seen

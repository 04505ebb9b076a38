"""Who may run a command, declared once at registration and checked before the handler runs.

A permission looks at the sender and, for commands about a case, at that case. Its refusal says
who may do it, so a person who is turned away knows whom to ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from handlers.context import HandlerContext
from handlers.routing import case_label
from storage.activities import ActivityRepository
from storage.models import Case

# The 名单 of an activity stays open to its publisher this long after it started.
PUBLISHER_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Permission:
    """A check on the sender (and the case the command names) and the refusal when it fails."""

    name: str
    allows: Callable[[HandlerContext, Case | None], Awaitable[bool]]
    refusal: Callable[[Case | None], str]


async def _anyone(ctx: HandlerContext, case: Case | None) -> bool:
    return True


async def _assignee_or_supervisor(ctx: HandlerContext, case: Case | None) -> bool:
    return case is not None and (
        case.assignee_id == ctx.sender_id or ctx.is_supervisor(case.compound)
    )


def _not_yours(case: Case | None) -> str:
    label = case_label(case) if case is not None else "这件事项"
    return (
        f"{label} 不在您的名下，只有承办人、小区书记或社区工作人员可以处理。"
        "如需接手，请联系小区书记转派。"
    )


def _not_claimed_or_not_yours(case: Case | None) -> str:
    if case is not None and case.assignee_id is None:
        label = case_label(case)
        return f"{label} 还没有人认领，请先回复「认领 {label}」。"
    return _not_yours(case)


async def _supervisor(ctx: HandlerContext, case: Case | None) -> bool:
    return case is not None and ctx.is_supervisor(case.compound)


async def _helper(ctx: HandlerContext, case: Case | None) -> bool:
    """Volunteers, building heads, the secretary and workers of the case's compound."""
    if case is None:
        return False
    compound = ctx.grid.compound(case.compound)
    sender = ctx.sender_id
    return (
        any(v.id == sender for v in compound.volunteers)
        or any(b.head is not None and b.head.id == sender for b in compound.buildings)
        or ctx.is_supervisor(case.compound)
    )


def _helpers_only(case: Case | None) -> str:
    if case is None:
        return "只有志愿者、楼栋长或书记可以认领。"
    return f"{case_label(case)} 只能由{case.compound}的志愿者、楼栋长或书记认领。"


async def _reporter(ctx: HandlerContext, case: Case | None) -> bool:
    return case is not None and case.reporter_id == ctx.sender_id


async def _organiser(ctx: HandlerContext, case: Case | None) -> bool:
    return bool(organised_compounds(ctx))


async def _organiser_or_publisher(ctx: HandlerContext, case: Case | None) -> bool:
    if organised_compounds(ctx):
        return True
    repo = ActivityRepository(ctx.session)
    since = ctx.now - PUBLISHER_WINDOW
    for compound in ctx.grid.compounds_of_person(ctx.sender_id):
        if any(a.created_by == ctx.sender_id for a in await repo.of_compound(compound, since)):
            return True
    return False


async def _has_role(ctx: HandlerContext, case: Case | None) -> bool:
    return bool(ctx.grid.compounds_of_person(ctx.sender_id))


def organised_compounds(ctx: HandlerContext) -> list[str]:
    """Compounds where the sender is the secretary, a community worker or a console user."""
    return [c.name for c in ctx.grid.compounds() if ctx.is_supervisor(c.name)]


ANYONE = Permission("anyone", _anyone, lambda _case: "")
ASSIGNEE_OR_SUPERVISOR = Permission(
    "the assignee, the secretary or a worker", _assignee_or_supervisor, _not_yours
)
# 完成 W3 by someone else while nobody has claimed it: tell them to claim it first.
CLAIMANT_OR_SUPERVISOR = Permission(
    "the claimant, the secretary or a worker", _assignee_or_supervisor, _not_claimed_or_not_yours
)
SUPERVISOR = Permission(
    "the secretary or a worker",
    _supervisor,
    lambda _case: "只有小区书记或社区工作人员可以督办和派单。",
)
HELPER = Permission("a volunteer, head, secretary or worker", _helper, _helpers_only)


def _reporter_only(case: Case | None) -> str:
    label = case_label(case) if case is not None else "这件事项"
    return (
        f"只有 {label} 的报事人可以评价它。"
        "如果您也遇到了这个问题，请在群里说一声，我们会一并处理。"
    )


REPORTER = Permission("the reporter", _reporter, _reporter_only)
ORGANISER = Permission(
    "a secretary or worker",
    _organiser,
    lambda _case: "只有小区书记或社区工作人员可以发布活动。",
)
ORGANISER_OR_PUBLISHER = Permission(
    "a secretary, worker or the activity's publisher",
    _organiser_or_publisher,
    lambda _case: "只有小区书记、社区工作人员或活动发布人可以查看报名名单。",
)
HAS_ROLE = Permission(
    "anyone with a role in the grid",
    _has_role,
    lambda _case: "心愿列表只对志愿者、楼栋长和书记开放。有心愿请在群里发「微心愿：……」。",
)

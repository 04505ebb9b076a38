"""Who gets a case: the building's head, else the compound's secretary."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import CaseKind, Role
from bot.core.grid import Grid
from handlers.errors import UnknownTarget
from intents import TransferTarget
from storage.models import Case


@dataclass(frozen=True, slots=True)
class Assignee:
    """The person a case goes to, and in which role."""

    id: str
    name: str
    role: Role

    @property
    def title(self) -> str:
        """How the group is told who has the case."""
        return "楼栋长" + self.name if self.role is Role.BUILDING_HEAD else self.name


def route_to_building_head(grid: Grid, compound: str, building: str | None) -> Assignee | None:
    """The head of the building when known, else the secretary, else None."""
    head = grid.building_head(compound, building)
    if head is not None:
        return Assignee(head.id, head.name, Role.BUILDING_HEAD)
    secretary = grid.secretary(compound)
    if secretary is not None:
        return Assignee(secretary.id, secretary.name, Role.SECRETARY)
    return None


def resolve_transfer_target(
    grid: Grid, compound: str, target: TransferTarget
) -> tuple[Assignee, str | None]:
    """The assignee a transfer target names in a compound, and the building it implies."""
    if target.secretary:
        sec = grid.secretary(compound)
        if sec is None:
            raise UnknownTarget(f"{compound} 没有配置小区书记。")
        return Assignee(sec.id, sec.name, Role.SECRETARY), None
    number = target.building
    if number is None or not grid.has_building(compound, number):
        raise UnknownTarget(
            f"{compound} 没有 {target.raw} 这栋楼。"
            "请写「转 编号 楼栋号」（如 转 12 5）或「转 编号 书记」。"
        )
    head = grid.building_head(compound, number)
    if head is None:
        raise UnknownTarget(f"{compound} {number}栋 还没有楼栋长，可以「转 编号 书记」。")
    return Assignee(head.id, head.name, Role.BUILDING_HEAD), number


def case_label(case: Case) -> str:
    """How a case is written in messages: #12 for a report, W3 for a wish."""
    return CaseKind(case.kind).case_label(case.number)

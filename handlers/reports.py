"""A report in a group becomes case #N and reaches the building head (群众申办 → 社区交办)."""

from __future__ import annotations

from bot.core.domain import CaseKind
from bot.core.messages import Outgoing
from handlers import duplicates, sla
from handlers.context import HandlerContext
from handlers.outcome import Outcome, said
from handlers.routing import Assignee, route_to_building_head
from handlers.texts import describe_case, safety_hint
from intents import Intent
from storage.cases import NewCase
from storage.models import Case


async def file_report(ctx: HandlerContext, intent: Intent) -> Outcome:
    """File the report (or join an open one like it), acknowledge it, tell the assignee."""
    assert ctx.room is not None  # the dispatcher only passes group intents from known rooms
    compound = ctx.room.compound.name
    building = intent.building if intent.building else ctx.room.single_building
    if building is not None and not ctx.grid.has_building(compound, building):
        building_known = False
    else:
        building_known = building is not None
    same = await duplicates.find_duplicate(
        ctx, compound, building if building_known else None, intent
    )
    if same is not None:
        return await duplicates.join_case(ctx, same, intent)
    assignee = route_to_building_head(ctx.grid, compound, building if building_known else None)
    case = await ctx.cases.create(
        NewCase(
            kind=CaseKind.REPORT,
            compound=compound,
            building=building,
            text=ctx.message.text,
            category=intent.category.value if intent.category else None,
            urgent=intent.urgent,
            reporter_id=ctx.sender_id,
            reporter_name=ctx.message.sender_name,
            room=ctx.message.room,
            assignee_id=assignee.id if assignee else None,
            assignee_name=assignee.name if assignee else None,
            source_message_id=ctx.message.message_id,
            assignee_role=assignee.role if assignee else None,
            accept_due_at=sla.deadline(
                ctx.config, urgent=intent.urgent, stage=sla.ACCEPT, since=ctx.now
            ),
        ),
        ctx.now,
    )
    await sla.start_chain(ctx.session, ctx.config, case, sla.ACCEPT, ctx.now, filed=True)
    return said([_group_ack(ctx, case, assignee), *_notify_assignee(ctx, case, assignee)], case)


def _group_ack(ctx: HandlerContext, case: Case, assignee: Assignee | None) -> Outgoing:
    who = assignee.title if assignee else "社区"
    text = f"收到，已登记 #{case.number}，已转{who}处理。"
    if case.urgent:
        text += "\n" + safety_hint(ctx.grid.hotlines(case.compound))
    return ctx.answer(text, urgent=case.urgent)


def _notify_assignee(ctx: HandlerContext, case: Case, assignee: Assignee | None) -> list[Outgoing]:
    out: list[Outgoing] = []
    n = case.number
    how = f"回复「接单 {n}」接单，「办结 {n} 说明」办结，「转 {n} 楼栋号」转派。"
    if assignee is not None:
        out.append(
            Outgoing(
                to_room=None,
                to_person=assignee.id,
                text=f"新报事 {describe_case(case)}\n{how}",
                urgent=case.urgent,
            )
        )
    secretary = ctx.grid.secretary(case.compound)
    if case.urgent and secretary is not None and (assignee is None or secretary.id != assignee.id):
        who = assignee.title if assignee else "（无人承办）"
        out.append(
            Outgoing(
                to_room=None,
                to_person=secretary.id,
                text=f"紧急报事，已同时通知{who}：{describe_case(case)}",
                urgent=True,
            )
        )
    if assignee is None:
        for worker in ctx.grid.workers(case.compound):
            out.append(
                Outgoing(
                    to_room=None,
                    to_person=worker.id,
                    text=(
                        f"新报事（{case.compound}未配置楼栋长和书记）：{describe_case(case)}\n{how}"
                    ),
                    urgent=case.urgent,
                )
            )
    return out

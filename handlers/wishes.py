"""便民微心愿: a wish W<n> goes to the building head and volunteers; the first claim wins."""

from __future__ import annotations

from datetime import timedelta

from bot.core.domain import CaseAction, CaseKind, CaseStatus
from bot.core.messages import Outgoing
from handlers.cases import tell_reporter
from handlers.context import HandlerContext, TaskContext
from handlers.errors import WrongState
from handlers.outcome import Outcome, said
from handlers.payloads import CasePayload
from handlers.routing import case_label
from handlers.texts import address_name, short
from intents import Command, Intent
from storage import tasks
from storage.cases import NewCase
from storage.models import Case, ScheduledTask
from storage.wishes import claim_wish

REMIND_TASK = "wish.remind"
ESCALATE_TASK = "wish.escalate"
TASK_GRACE = timedelta(days=1)


def _where(case: Case) -> str:
    return f"{case.compound}{case.building}栋" if case.building else case.compound


def _days(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}天" if hours % 24 == 0 else f"{hours}小时"


def _resident(case: Case) -> str:
    return address_name(case.reporter_name)


def _helpers(ctx: HandlerContext | TaskContext, case: Case) -> list[tuple[str, str]]:
    """The building head and the compound's volunteers (id, how they are named), once each."""
    out: dict[str, str] = {}
    head = ctx.grid.building_head(case.compound, case.building)
    if head is not None:
        out[head.id] = "楼栋长"
    for v in ctx.grid.volunteers(case.compound):
        out.setdefault(v.id, f"{v.team}队志愿者" if v.team else "志愿者")
    return list(out.items())


async def file_wish(ctx: HandlerContext, intent: Intent) -> Outcome:
    """File the wish, thank the resident in one line, tell the head and the volunteers."""
    assert ctx.room is not None
    compound = ctx.room.compound.name
    building = intent.building or ctx.room.single_building
    if building is not None and not ctx.grid.has_building(compound, building):
        building = None
    case = await ctx.cases.create(
        NewCase(
            kind=CaseKind.WISH,
            compound=compound,
            building=building,
            text=ctx.message.text,
            category=None,
            urgent=False,
            reporter_id=ctx.sender_id,
            reporter_name=ctx.message.sender_name,
            room=ctx.message.room,
            assignee_id=None,
            assignee_name=None,
            source_message_id=ctx.message.message_id,
        ),
        ctx.now,
    )
    timings = ctx.config.services
    await tasks.schedule_many(
        ctx.session,
        [
            tasks.NewTask(
                key=f"wish:{case.id}:{step}",
                kind=kind,
                due_at=ctx.now + after,
                payload=CasePayload(case_id=case.id).dump(),
            )
            for kind, after, step in (
                (REMIND_TASK, timings.wish_remind_after, "remind"),
                (ESCALATE_TASK, timings.wish_escalate_after, "escalate"),
            )
        ],
    )
    out = [ctx.answer(f"收到您的微心愿 W{case.number}，已转告楼栋长和志愿者，认领后告诉您。")]
    for person_id, role in _helpers(ctx, case):
        out.append(
            Outgoing(
                to_room=None,
                to_person=person_id,
                text=(
                    f"新微心愿 W{case.number}（{_where(case)}，{_resident(case)}）：\n"
                    f"{short(case.text, 120)}\n{role}可回复「认领 W{case.number}」认领。"
                ),
            )
        )
    return said(out, case)


async def claim(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """认领 W3: the first volunteer or head wins; later ones hear who has it."""
    label = case_label(case)
    if case.assignee_id == ctx.sender_id:
        text = f"{label} 已经是您认领的了，完成后回复「完成 {label} 说明」。"
        return said([ctx.reply_private(text)], case)
    if not await claim_wish(ctx.session, case.id, ctx.sender_id, ctx.sender_name, ctx.now):
        await ctx.session.refresh(case)
        if case.status == CaseStatus.RESOLVED:
            return said([ctx.reply_private(f"{label} 已经完成了，谢谢您的热心！")], case)
        text = f"{label} 已由{case.assignee_name}认领，谢谢您的热心！"
        return said([ctx.reply_private(text)], case)
    await ctx.session.refresh(case)
    await ctx.cases.log(case, ctx.sender_id, CaseAction.CLAIMED, "", ctx.now)
    await tasks.cancel(ctx.session, f"wish:{case.id}:", ctx.now)
    return said(
        [
            ctx.reply_private(
                f"已认领 {label}（{_where(case)}，{_resident(case)}）：{short(case.text, 60)}\n"
                f"请在群里或私信联系居民，完成后回复「完成 {label} 说明」。"
            ),
            *tell_reporter(
                case, f"您的微心愿 {label} 已由{ctx.sender_name}认领，会尽快和您联系。"
            ),
        ],
        case,
    )


async def complete(ctx: HandlerContext, command: Command, case: Case) -> Outcome:
    """完成 W3 [说明]: the resident is thanked and asked to rate."""
    label = case_label(case)
    if case.status == CaseStatus.RESOLVED:
        raise WrongState(f"{label} 已经完成过了。")
    note = command.arg.strip()
    case.status = CaseStatus.RESOLVED
    case.resolved_at = ctx.now
    if case.accepted_at is None:
        case.accepted_at = ctx.now
    await ctx.cases.log(case, ctx.sender_id, CaseAction.COMPLETED, note, ctx.now)
    await tasks.cancel(ctx.session, f"wish:{case.id}:", ctx.now)
    done = f"：{short(note, 60).rstrip('。.')}。" if note else "。"
    helper = case.assignee_name or ctx.sender_name
    return said(
        [
            ctx.reply_private(f"{label} 已完成，感谢您为邻里出力！"),
            *tell_reporter(
                case,
                f"您的微心愿 {label} 已由{helper}帮您完成{done}感谢邻里互助！"
                "请回复「满意」「基本满意」或「不满意」评价。",
            ),
        ],
        case,
    )


async def list_wishes(ctx: HandlerContext, command: Command) -> Outcome:
    """心愿: open wishes of the compounds where the sender helps."""
    compounds = ctx.grid.compounds_of_person(ctx.sender_id)
    lines: list[str] = []
    for compound in compounds:
        for c in reversed(
            await ctx.cases.search(
                kind=CaseKind.WISH,
                compound=compound,
                statuses=(CaseStatus.OPEN, CaseStatus.ACCEPTED),
            )
        ):
            who = f"已由{c.assignee_name}认领" if c.status == CaseStatus.ACCEPTED else "待认领"
            days = (ctx.now - c.created_at).days
            age = f"，已等{days}天" if days else ""
            lines.append(f"W{c.number} {_where(c)} {who}{age}：{short(c.text, 30)}")
    if not lines:
        return said([ctx.reply_private("目前没有待办的微心愿，谢谢您！")])
    text = f"微心愿 {len(lines)} 个：\n" + "\n".join(lines) + "\n回复「认领 W编号」认领。"
    return said([ctx.reply_private(text)])


async def remind_volunteers(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: a wish still unclaimed after a day goes to the volunteers again."""
    case = await ctx.session.get(Case, CasePayload.of(task).case_id)
    if case is None or case.status != CaseStatus.OPEN or case.assignee_id is not None:
        return Outcome()
    await ctx.cases.log(case, "bot", CaseAction.REMINDED, "volunteers", ctx.now)
    waited = _days(ctx.config.services.wish_remind_after)
    text = (
        f"微心愿 W{case.number}（{_where(case)}）已等了{waited}还没人认领："
        f"{short(case.text, 60)}\n"
        f"方便的话请回复「认领 W{case.number}」。"
    )
    return said(
        [Outgoing(to_room=None, to_person=pid, text=text) for pid, _ in _helpers(ctx, case)], case
    )


async def escalate_to_secretary(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: a wish unclaimed after three days goes to the secretary."""
    case = await ctx.session.get(Case, CasePayload.of(task).case_id)
    if case is None or case.status != CaseStatus.OPEN or case.assignee_id is not None:
        return Outcome()
    secretary = ctx.grid.secretary(case.compound)
    targets = [secretary] if secretary is not None else ctx.grid.workers(case.compound)
    await ctx.cases.log(
        case, "bot", CaseAction.ESCALATED, "secretary" if secretary else "workers", ctx.now
    )
    waited = _days(ctx.config.services.wish_escalate_after)
    text = (
        f"微心愿 W{case.number}（{_where(case)}，{_resident(case)}）"
        f"已{waited}无人认领，请帮忙协调：{short(case.text, 80)}"
    )
    return said([Outgoing(to_room=None, to_person=p.id, text=text) for p in targets], case)

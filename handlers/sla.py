"""统办: overdue cases go to the assignee, then the secretary, then the community workers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config
from bot.core.domain import CaseAction, CaseKind, CaseStatus
from bot.core.messages import Outgoing
from bot.core.quiet_hours import in_quiet_hours, quiet_end
from handlers.context import TaskContext
from handlers.outcome import Outcome, said
from handlers.payloads import SlaPayload, SlaStage, SlaStep
from handlers.routing import case_label
from handlers.texts import describe_case
from storage import tasks
from storage.models import Case, ScheduledTask

SLA_TASK = "sla.step"
SLA_GRACE = timedelta(days=1)  # a late escalation is still worth sending
STEPS = tuple(SlaStep)
ACCEPT = SlaStage.ACCEPT
RESOLVE = SlaStage.RESOLVE


def _step_gap(sla: timedelta) -> timedelta:
    # The next step follows after the same time again, but never waits more than a day.
    return min(sla, timedelta(days=1))


def clock_start(config: Config, *, urgent: bool, since: datetime) -> datetime:
    """When an SLA clock starts: now, or (a non-urgent case filed at night) in the morning."""
    tz, quiet = config.bot.tz, config.bot.quiet
    if not urgent and quiet is not None and in_quiet_hours(since, tz, quiet):
        return quiet_end(since, tz, quiet)
    return since


def deadline(config: Config, *, urgent: bool, stage: SlaStage, since: datetime) -> datetime:
    """The one SLA rule: by when a case must be taken (accept) or resolved, counted from `since`.

    The escalation chain, the console's overdue flag and the figures' 响应率 all read it.
    """
    if stage == ACCEPT:
        sla = config.sla.accept_urgent if urgent else config.sla.accept
    else:
        sla = config.sla.resolve
    return clock_start(config, urgent=urgent, since=since) + sla


async def start_chain(
    session: AsyncSession,
    config: Config,
    case: Case,
    stage: SlaStage,
    now: datetime,
    *,
    filed: bool = False,
) -> None:
    """Schedule the three steps of the accept or resolve deadline, replacing earlier ones.

    `filed`: the case was filed in this very request (its deadline may already be on the row).
    """
    # A case filed in this very request has never had a chain: nothing to cancel or collide
    # with, so filing a report costs no look-up of tasks.
    first = filed or (
        case.accept_due_at is None and case.resolve_due_at is None and case.created_at == now
    )
    if not first:
        await stop_chain(session, case, now)
    start = clock_start(config, urgent=case.urgent, since=now)
    due = deadline(config, urgent=case.urgent, stage=stage, since=now)
    # Assigned only when they change: a case filed in this request already has its deadline,
    # and an unchanged object costs the commit no flush.
    if stage == ACCEPT:
        if case.accept_due_at != due:
            case.accept_due_at = due
        if case.resolve_due_at is not None:
            case.resolve_due_at = None
    elif case.resolve_due_at != due:
        case.resolve_due_at = due
    gap = _step_gap(due - start)
    # A chain restarted within the same second (a 派单 right after filing, a reopening on a
    # virtual clock) must not collide with the earlier chain's keys: take the first free
    # suffix, found by exact keys (indexed), not by reading the case's whole task history.
    base = f"sla:{case.id}:{stage}:{int(now.timestamp())}"
    n = 0
    while not first:
        tries = {f"{base}.{i}:{STEPS[0]}": i for i in range(n, n + 4)}
        taken = await tasks.existing_keys(session, list(tries))
        free = [i for key, i in tries.items() if key not in taken]
        if free:
            n = free[0]
            break
        n += 4
    await tasks.schedule_many(
        session,
        [
            tasks.NewTask(
                key=f"{base}.{n}:{step}",
                kind=SLA_TASK,
                due_at=due + i * gap,
                payload=SlaPayload(case_id=case.id, stage=stage, step=step, since=start).dump(),
            )
            for i, step in enumerate(STEPS)
        ],
    )


def overdue(case: Case, now: datetime) -> bool:
    """True when a report waits past its deadline: untaken past accept, taken past resolve."""
    if case.status == CaseStatus.OPEN:
        return case.accept_due_at is not None and case.accept_due_at <= now
    if case.status == CaseStatus.ACCEPTED:
        return case.resolve_due_at is not None and case.resolve_due_at <= now
    return False


async def backfill_deadlines(session: AsyncSession, config: Config) -> int:
    """Give reports filed before deadlines were stored the deadlines the rule gives them."""
    result = await session.execute(
        select(Case).where(
            Case.kind == CaseKind.REPORT,
            or_(
                Case.accept_due_at.is_(None),
                and_(Case.accepted_at.is_not(None), Case.resolve_due_at.is_(None)),
            ),
        )
    )
    changed = 0
    for case in result.scalars():
        if case.accept_due_at is None:
            case.accept_due_at = deadline(
                config, urgent=case.urgent, stage=ACCEPT, since=case.created_at
            )
        if case.accepted_at is not None and case.resolve_due_at is None:
            case.resolve_due_at = deadline(
                config, urgent=case.urgent, stage=RESOLVE, since=case.accepted_at
            )
        changed += 1
    await session.flush()
    return changed


async def stop_chain(session: AsyncSession, case: Case, now: datetime) -> None:
    """Cancel the pending steps of a case (it was taken, resolved or reassigned)."""
    await tasks.cancel(session, f"sla:{case.id}:", now)


def _elapsed(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes}分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60}小时"
    return f"{minutes // (24 * 60)}天"


async def run_step(ctx: TaskContext, task: ScheduledTask) -> Outcome:
    """Task: one step of an SLA chain, if the case is still waiting for that stage."""
    payload = SlaPayload.of(task)
    case = await ctx.session.get(Case, payload.case_id)
    stage, step = payload.stage, payload.step
    if case is None or case.status != (
        CaseStatus.OPEN if stage == ACCEPT else CaseStatus.ACCEPTED
    ):
        return Outcome()
    label = case_label(case)
    late = _elapsed(ctx.now - payload.since)
    overdue = f"已{late}未接单" if stage == ACCEPT else f"接单已{late}，还未办结"
    if step is SlaStep.REMIND:
        if case.assignee_id is None:
            return Outcome()
        await ctx.cases.log(
            case, "bot", CaseAction.SLA_REMINDED, f"{stage}:{case.assignee_id}", ctx.now
        )
        todo = f"接单 {case.number}" if stage == ACCEPT else f"办结 {case.number} 说明"
        text = f"提醒：{label} {overdue}，请尽快回复「{todo}」。\n{describe_case(case)}"
        return said([Outgoing(None, case.assignee_id, text, urgent=case.urgent)], case)
    who = case.assignee_name or "（无人承办）"
    if step is SlaStep.SECRETARY:
        secretary = ctx.grid.secretary(case.compound)
        if secretary is None or secretary.id == case.assignee_id:
            return Outcome()  # the secretary already has it; the workers' step follows
        await ctx.cases.log(
            case, "bot", CaseAction.ESCALATED, f"{stage}:secretary:{secretary.id}", ctx.now
        )
        text = (
            f"督办提醒：{label} {overdue}，承办人{who}。\n{describe_case(case)}\n"
            f"可回复「督办 {case.number}」催办，或「派 {case.number} 楼栋号」改派。"
        )
        return said([Outgoing(None, secretary.id, text, urgent=case.urgent)], case)
    workers = [w for w in ctx.grid.workers(case.compound) if w.id != case.assignee_id]
    if not workers:
        return Outcome()
    await ctx.cases.log(case, "bot", CaseAction.ESCALATED, f"{stage}:workers", ctx.now)
    text = (
        f"统办：{label} {overdue}，已提醒承办人{who}和小区书记，请协调。\n"
        f"{describe_case(case)}\n可回复「督办 {case.number}」或「派 {case.number} 楼栋号」。"
    )
    return said([Outgoing(None, w.id, text, urgent=case.urgent) for w in workers], case)

"""The explicit handler registry: one handler per intent and per command, built by a function.

Who may run a command and which case it is about are declared here, at registration; the
handlers themselves only do the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from handlers.casework import DeskAction, DeskCaseHandler, DeskHandler, DeskRequest, case_of
from handlers.context import (
    CaseCommandHandler,
    CommandHandler,
    HandlerContext,
    IntentHandler,
    Planner,
    SubjectResolver,
    TaskHandler,
)
from handlers.errors import DomainError
from handlers.outcome import UNHANDLED, Decline, Outcome
from handlers.permissions import ANYONE, Permission
from intents import Command, CommandName, IntentKind


class DuplicateHandler(Exception):
    """Two handlers registered for the same intent or command."""


class Refused(DomainError):
    """A permission turned the sender away."""


@dataclass(frozen=True, slots=True)
class CommandRoute:
    """A command's handler with what it is about and who may run it."""

    handler: CommandHandler | None
    case_handler: CaseCommandHandler | None
    subject: SubjectResolver | None
    allow: Permission

    async def __call__(self, ctx: HandlerContext, command: Command) -> Outcome:
        """Find the subject, check the permission, run the handler (or decline)."""
        try:
            case = await self.subject(ctx, command) if self.subject is not None else None
        except Decline:
            return UNHANDLED
        if not await self.allow.allows(ctx, case):
            raise Refused(self.allow.refusal(case))
        if self.case_handler is not None:
            assert case is not None
            return await self.case_handler(ctx, command, case)
        assert self.handler is not None
        return await self.handler(ctx, command)


@dataclass(frozen=True, slots=True)
class DeskRoute:
    """A console (or 民情码 status page) action and who may run it; about a case unless plain."""

    case_handler: DeskCaseHandler | None
    handler: DeskHandler | None
    allow: Permission

    async def __call__(self, ctx: HandlerContext, request: DeskRequest) -> Outcome:
        """Find the case (if any), check the permission, run the handler."""
        case = await case_of(ctx, request) if self.case_handler is not None else None
        if not await self.allow.allows(ctx, case):
            raise Refused(self.allow.refusal(case))
        if self.case_handler is not None:
            assert case is not None
            return await self.case_handler(ctx, request, case)
        assert self.handler is not None
        return await self.handler(ctx, request)


@dataclass
class Registry:
    """Handlers by intent kind, command name and task kind; planners in order."""

    intents: dict[IntentKind, IntentHandler] = field(default_factory=dict)
    commands: dict[CommandName, CommandRoute] = field(default_factory=dict)
    # Commands a resident may also say in a group ("满意"); a handler declines when it is not one.
    group_commands: set[CommandName] = field(default_factory=set)
    image: IntentHandler | None = None  # an image message in a group
    mention: CommandHandler | None = None  # a group message that @s the bot and asks nothing
    tasks: dict[str, TaskHandler] = field(default_factory=dict)
    task_grace: dict[str, timedelta] = field(default_factory=dict)
    planners: list[Planner] = field(default_factory=list)
    desk: dict[DeskAction, DeskRoute] = field(default_factory=dict)

    def on_intent(self, kind: IntentKind, handler: IntentHandler) -> None:
        """Register the handler of a group intent."""
        if kind in self.intents:
            raise DuplicateHandler(f"a handler for intent {kind} is already registered")
        self.intents[kind] = handler

    def on_command(
        self,
        name: CommandName,
        handler: CommandHandler,
        *,
        allow: Permission = ANYONE,
        in_groups: bool = False,
    ) -> None:
        """Register the handler of a private command and who may run it."""
        self._add(name, CommandRoute(handler, None, None, allow), in_groups)

    def on_case_command(
        self,
        name: CommandName,
        handler: CaseCommandHandler,
        *,
        subject: SubjectResolver,
        allow: Permission,
        in_groups: bool = False,
    ) -> None:
        """Register a command about one case: how the case is found and who may act on it."""
        self._add(name, CommandRoute(None, handler, subject, allow), in_groups)

    def _add(self, name: CommandName, route: CommandRoute, in_groups: bool) -> None:
        if name in self.commands:
            raise DuplicateHandler(f"a handler for command {name} is already registered")
        self.commands[name] = route
        if in_groups:
            self.group_commands.add(name)

    def on_desk(
        self,
        action: DeskAction,
        *,
        case_handler: DeskCaseHandler | None = None,
        handler: DeskHandler | None = None,
        allow: Permission,
    ) -> None:
        """Register a console (or status page) action: about a case, or a plain one."""
        if action in self.desk:
            raise DuplicateHandler(f"a handler for desk action {action} is already registered")
        self.desk[action] = DeskRoute(case_handler, handler, allow)

    def on_image(self, handler: IntentHandler) -> None:
        """Register what happens to an image sent in a group."""
        if self.image is not None:
            raise DuplicateHandler("an image handler is already registered")
        self.image = handler

    def on_mention(self, handler: CommandHandler) -> None:
        """Register the answer to an @ of the bot that asks for nothing it understands."""
        if self.mention is not None:
            raise DuplicateHandler("a mention handler is already registered")
        self.mention = handler

    def on_task(self, kind: str, handler: TaskHandler, grace: timedelta) -> None:
        """Register the handler of a scheduled task kind; `grace` is how late it may still run."""
        if kind in self.tasks:
            raise DuplicateHandler(f"a handler for task {kind} is already registered")
        self.tasks[kind] = handler
        self.task_grace[kind] = grace

    def add_planner(self, planner: Planner) -> None:
        """Register a planner that schedules upcoming occasions."""
        self.planners.append(planner)


def build_registry() -> Registry:
    """Every handler of the bot, registered in one place."""
    from handlers import (
        activities,
        attachments,
        cases,
        casework,
        cobuilding,
        escalation,
        help,
        jielong,
        permissions,
        ratings,
        reports,
        signups,
        sla,
        subjects,
        wishes,
    )

    r = Registry()
    r.on_intent(IntentKind.REPORT_PROBLEM, reports.file_report)
    r.on_intent(IntentKind.JOIN_ACTIVITY, signups.join_activity)
    r.on_intent(IntentKind.LEAVE_ACTIVITY, signups.leave_activity)
    r.on_intent(IntentKind.MICRO_WISH, wishes.file_wish)
    r.on_image(attachments.attach_image)
    r.on_mention(help.mention_hint)

    case_changer = permissions.ASSIGNEE_OR_SUPERVISOR
    report = subjects.report_named
    r.on_case_command(CommandName.ACCEPT, cases.accept_case, subject=report, allow=case_changer)
    r.on_case_command(CommandName.RESOLVE, cases.resolve_case, subject=report, allow=case_changer)
    r.on_case_command(
        CommandName.TRANSFER, cases.transfer_case, subject=report, allow=case_changer
    )
    r.on_case_command(CommandName.RETURN, cases.return_case, subject=report, allow=case_changer)
    r.on_case_command(
        CommandName.NUDGE, escalation.nudge, subject=report, allow=permissions.SUPERVISOR
    )
    r.on_case_command(
        CommandName.DISPATCH, escalation.dispatch, subject=report, allow=permissions.SUPERVISOR
    )
    r.on_case_command(
        CommandName.RATE,
        ratings.rate_case,
        subject=subjects.case_to_rate,
        allow=permissions.REPORTER,
        in_groups=True,
    )
    r.on_case_command(
        CommandName.CLAIM, wishes.claim, subject=subjects.wish_named, allow=permissions.HELPER
    )
    r.on_case_command(
        CommandName.COMPLETE_WISH,
        wishes.complete,
        subject=subjects.wish_named,
        allow=permissions.CLAIMANT_OR_SUPERVISOR,
    )
    r.on_command(CommandName.TODO, cases.list_todo)
    r.on_command(CommandName.HELP, help.show_help)
    r.on_command(CommandName.LIST_WISHES, wishes.list_wishes, allow=permissions.HAS_ROLE)
    r.on_command(
        CommandName.PUBLISH_ACTIVITY, activities.publish_activity, allow=permissions.ORGANISER
    )
    r.on_command(
        CommandName.ROSTER, activities.show_roster, allow=permissions.ORGANISER_OR_PUBLISHER
    )

    # The console's desk and the resident's status page (handlers/casework.py).
    supervisor = permissions.SUPERVISOR
    r.on_desk(DeskAction.REOPEN, case_handler=casework.reopen, allow=casework.REOPENER)
    r.on_desk(DeskAction.REPLY, case_handler=casework.reply, allow=supervisor)
    r.on_desk(DeskAction.NOTE, case_handler=casework.note, allow=supervisor)
    r.on_desk(DeskAction.MERGE, case_handler=casework.merge, allow=supervisor)
    r.on_desk(DeskAction.SPAM, case_handler=casework.mark_spam, allow=supervisor)
    r.on_desk(DeskAction.RECATEGORISE, case_handler=casework.recategorise, allow=supervisor)
    r.on_desk(DeskAction.CLAIM_FOR, case_handler=casework.claim_for, allow=supervisor)
    r.on_desk(
        DeskAction.CANCEL_ACTIVITY, handler=casework.cancel_activity, allow=permissions.ORGANISER
    )

    r.on_task(activities.ANNOUNCE_TASK, activities.announce, activities.ANNOUNCE_GRACE)
    r.on_task(activities.REMIND_TASK, activities.remind, activities.REMIND_GRACE)
    r.on_task(jielong.ROSTER_TASK, jielong.post_roster, jielong.ROSTER_GRACE)
    r.on_task(wishes.REMIND_TASK, wishes.remind_volunteers, wishes.TASK_GRACE)
    r.on_task(wishes.ESCALATE_TASK, wishes.escalate_to_secretary, wishes.TASK_GRACE)
    r.on_task(sla.SLA_TASK, sla.run_step, sla.SLA_GRACE)
    r.on_task(cobuilding.REMINDER_TASK, cobuilding.remind_room, cobuilding.REMINDER_GRACE)
    r.on_task(cobuilding.RECAP_TASK, cobuilding.send_recap, cobuilding.RECAP_GRACE)
    r.add_planner(activities.sync_configured)
    r.add_planner(cobuilding.plan_cobuilding)
    return r

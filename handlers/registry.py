"""The explicit handler registry: one handler per intent and per command, built by a function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from handlers.context import CommandHandler, IntentHandler, Planner, TaskHandler
from intents import CommandName, IntentKind


class DuplicateHandler(Exception):
    """Two handlers registered for the same intent or command."""


@dataclass
class Registry:
    """Handlers by intent kind and by command name."""

    intents: dict[IntentKind, IntentHandler] = field(default_factory=dict)
    commands: dict[CommandName, CommandHandler] = field(default_factory=dict)
    tasks: dict[str, TaskHandler] = field(default_factory=dict)
    task_grace: dict[str, timedelta] = field(default_factory=dict)
    planners: list[Planner] = field(default_factory=list)

    def on_intent(self, kind: IntentKind, handler: IntentHandler) -> None:
        """Register the handler of a group intent."""
        if kind in self.intents:
            raise DuplicateHandler(f"a handler for intent {kind} is already registered")
        self.intents[kind] = handler

    def on_command(self, name: CommandName, handler: CommandHandler) -> None:
        """Register the handler of a private command."""
        if name in self.commands:
            raise DuplicateHandler(f"a handler for command {name} is already registered")
        self.commands[name] = handler

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
        cases,
        cobuilding,
        escalation,
        help,
        jielong,
        ratings,
        reports,
        signups,
        sla,
        wishes,
    )

    r = Registry()
    r.on_intent(IntentKind.REPORT_PROBLEM, reports.file_report)
    r.on_intent(IntentKind.JOIN_ACTIVITY, signups.join_activity)
    r.on_intent(IntentKind.LEAVE_ACTIVITY, signups.leave_activity)
    r.on_intent(IntentKind.MICRO_WISH, wishes.file_wish)
    r.on_command(CommandName.ACCEPT, cases.accept_case)
    r.on_command(CommandName.RESOLVE, cases.resolve_case)
    r.on_command(CommandName.TRANSFER, cases.transfer_case)
    r.on_command(CommandName.RETURN, cases.return_case)
    r.on_command(CommandName.TODO, cases.list_todo)
    r.on_command(CommandName.HELP, help.show_help)
    r.on_command(CommandName.RATE, ratings.rate_case)
    r.on_command(CommandName.CLAIM, wishes.claim)
    r.on_command(CommandName.COMPLETE_WISH, wishes.complete)
    r.on_command(CommandName.LIST_WISHES, wishes.list_wishes)
    r.on_command(CommandName.NUDGE, escalation.nudge)
    r.on_command(CommandName.DISPATCH, escalation.dispatch)
    r.on_command(CommandName.PUBLISH_ACTIVITY, activities.publish_activity)
    r.on_command(CommandName.ROSTER, activities.show_roster)
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

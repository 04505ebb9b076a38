"""Text → Intent: understanding group messages and private commands. Pure: no I/O, no clock."""

from intents.command_model import Command, CommandName, TransferTarget, transfer_target
from intents.commands import parse_command
from intents.model import ActivitiesNeeded, Category, Intent, IntentKind, ParseContext
from intents.parser import parse

__all__ = [
    "ActivitiesNeeded",
    "Category",
    "Command",
    "CommandName",
    "Intent",
    "IntentKind",
    "ParseContext",
    "TransferTarget",
    "parse",
    "parse_command",
    "transfer_target",
]

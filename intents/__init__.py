"""Text → Intent: understanding group messages and private commands. Pure: no I/O, no clock."""

from intents.commands import parse_command
from intents.model import Category, Command, CommandName, Intent, IntentKind, ParseContext
from intents.parser import parse

__all__ = [
    "Category",
    "Command",
    "CommandName",
    "Intent",
    "IntentKind",
    "ParseContext",
    "parse",
    "parse_command",
]

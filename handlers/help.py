"""帮助, the answer to a private message that is no command, and to an @ that asks nothing."""

from __future__ import annotations

from handlers.context import HandlerContext
from handlers.outcome import Outcome, said
from handlers.texts import HELP_TEXT, MENTION_HINT
from intents import Command


async def show_help(ctx: HandlerContext, command: Command) -> Outcome:
    """The list of private commands."""
    return said([ctx.reply_private(HELP_TEXT)])


async def mention_hint(ctx: HandlerContext, command: Command) -> Outcome:
    """A group message that @s the bot and asks for nothing it understands: how to ask."""
    return said([ctx.answer(MENTION_HINT)])

"""帮助, and the answer to a private message that is no command."""

from __future__ import annotations

from bot.core.messages import Outgoing
from handlers.context import HandlerContext
from handlers.texts import HELP_TEXT
from intents import Command


async def show_help(ctx: HandlerContext, command: Command | None = None) -> list[Outgoing]:
    """The list of private commands."""
    return [ctx.reply_private(HELP_TEXT)]

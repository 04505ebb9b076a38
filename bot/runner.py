"""`jinlin run`: pick the configured transport, start the bot, serve until interrupted."""

from __future__ import annotations

import logging

from bot.app import build_app
from bot.core.clock import SystemClock
from bot.core.config import (
    Config,
    ConsoleTransportSection,
    WebTransportSection,
    WechatyTransportSection,
)
from bot.core.messages import Transport

log = logging.getLogger(__name__)


async def run_bot(config: Config) -> None:
    """Run the bot on the transport named by `transport.kind`."""
    clock = SystemClock()
    section = config.transport
    if isinstance(section, WebTransportSection):
        from bot.web.sandbox import serve_sandbox

        await serve_sandbox(config, clock)
        return
    if isinstance(section, ConsoleTransportSection):
        from bot.transports.console import ConsoleTransport

        transport: Transport = ConsoleTransport(config, clock)
        app = build_app(config, transport, clock)
        await app.start()
        try:
            await app.serve()
        finally:
            await app.stop()
        return
    assert isinstance(section, WechatyTransportSection)
    from bot.transports.wechaty_runner import run_wechaty

    await run_wechaty(config, section, clock)

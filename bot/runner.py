"""`jinlin run`: pick the configured transport, start the bot, serve until interrupted."""

from __future__ import annotations

import logging

from bot.app import build_app
from bot.core.clock import SystemClock
from bot.core.config import Config
from bot.core.messages import Transport

log = logging.getLogger(__name__)


async def run_bot(config: Config) -> None:
    """Run the bot on the transport named by `transport.kind`."""
    clock = SystemClock()
    kind = config.transport.kind
    if kind == "web":
        from bot.web.sandbox import serve_sandbox

        await serve_sandbox(config, clock)
        return
    transport: Transport
    if kind == "console":
        from bot.transports.console import ConsoleTransport

        transport = ConsoleTransport(config, clock)
    else:
        from bot.transports.wechaty_runner import make_wechaty_transport

        transport = await make_wechaty_transport(config, clock)
    app = build_app(config, transport, clock)
    if kind == "wechaty":
        from bot.transports.wechaty_runner import attach_offline_notice

        attach_offline_notice(transport, app)  # type: ignore[arg-type]
    await app.start()
    web_runner = None
    if kind == "wechaty":
        # The console, 民情码, API and /healthz run beside the real bot on transport.host/port.
        from bot.web.server import serve_web

        web_runner = await serve_web(
            app,
            config.transport.host,
            config.transport.port,
            transport_connected=lambda: getattr(transport, "connected", None),
        )
    try:
        await app.serve()
    finally:
        if web_runner is not None:
            await web_runner.cleanup()
        stop = getattr(transport, "stop", None)
        if stop is not None:
            await stop()
        await app.stop()

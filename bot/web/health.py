"""/healthz: process up, database reachable, transport connected, outbox depth."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.web.state import state_of
from storage import outbox

log = logging.getLogger(__name__)

TransportDetails = Callable[[], Awaitable[dict[str, Any]]]
TRANSPORT_DETAILS: web.AppKey[TransportDetails] = web.AppKey("transport_details")


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers (and the transport is not known to be down), else 503."""
    state = state_of(request)
    database = True
    depth: int | None = None
    try:
        async with state.bot.sessions() as session:
            await session.execute(text("SELECT 1"))
            depth = await outbox.depth(session)
    except Exception as e:  # any database failure is reported, not raised
        log.warning("health check: database unreachable: %s", e)
        database = False
    connected = state.transport_connected()
    ok = database and connected is not False
    body: dict[str, Any] = {
        "ok": ok,
        "process": "up",
        "database": "ok" if database else "unreachable",
        "transport": {True: "connected", False: "disconnected", None: "unknown"}[connected],
        "outbox_depth": depth,
    }
    details = request.app.get(TRANSPORT_DETAILS)
    if details is not None:  # a transport's own state, e.g. WeChat login and 风控
        body |= await details()
    return web.json_response(body, status=200 if ok else 503)


def add_routes(app: web.Application) -> None:
    """Register /healthz."""
    app.router.add_get("/healthz", healthz)

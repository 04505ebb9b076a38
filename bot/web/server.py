"""Mounting the console, 民情码, API and /healthz on an aiohttp app next to the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from bot.app import App
from bot.core.clock import Clock, SystemClock
from bot.web import api, console, health, login, public, review
from bot.web.auth import Signer
from bot.web.errors import Problem, chinese_errors
from bot.web.state import (
    CLIENT,
    STATIC,
    WEB_STATE,
    WebState,
    make_templates,
    resolve_secret,
    state_of,
)
from handlers import sla
from storage import web_reports, web_sessions, web_state

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # forms are short; anything bigger is refused with 413 (photos: their own)
HOUSEKEEPING_EVERY = 3600.0  # seconds between purges of expired sessions, counters, phones
KEEP_COUNTERS = timedelta(days=2)  # longer than any window a counter is used with

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers that keep pages from being framed, sniffed or loading anything from elsewhere."""
    resp = await handler(request)
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith(("/console", "/api", "/login", "/s/", "/s", "/p/", "/sandbox")):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@web.middleware
async def client_and_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Work out the client behind trusted proxies; refuse Host names we do not serve."""
    state = request.config_dict.get(WEB_STATE)
    if state is not None:
        request[CLIENT] = state.network.client(request)
        # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the
        # sandbox or the console. /healthz stays open to load balancers that use an IP.
        if request.path != "/healthz" and not state.network.host_allowed(request):
            raise Problem(
                421,
                "这个访问地址不在允许的范围内（web.allowed_hosts）。请使用社区提供的网址访问。",
            )
    return await handler(request)


def new_web_app() -> web.Application:
    """An aiohttp app with the body limit, Chinese error pages and the security headers."""
    return web.Application(
        client_max_size=MAX_BODY,
        middlewares=[security_headers, chinese_errors, client_and_host],
    )


async def housekeep(state: WebState) -> None:
    """Delete expired sessions and tokens, old counters, and phone numbers past retention."""
    wall = state.wall.now()
    async with state.bot.sessions() as session, session.begin():
        await web_sessions.purge_sessions(session, wall)
        await web_state.purge(session, wall, KEEP_COUNTERS)
        # Case times come from the bot's clock: retention is counted on it too.
        await web_reports.purge_contacts(
            session, state.bot.clock.now(), state.config.web.contact_retention
        )


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    state = app[WEB_STATE]

    async def loop() -> None:
        while True:
            try:
                await housekeep(state)
            except Exception:  # a database hiccup must not end the web side
                log.exception("web housekeeping failed")
            await asyncio.sleep(HOUSEKEEPING_EVERY)

    task = asyncio.create_task(loop(), name="web-housekeeping")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def mount_web(
    app: web.Application,
    bot: App,
    *,
    wall: Clock | None = None,
    transport_connected: Callable[[], bool | None] | None = None,
    sandbox: bool = False,
    announce: Callable[[str], None] = print,
) -> WebState:
    """Add the console, 民情码, API, /healthz and static files to `app`; call after bot.start()."""
    wall = wall or SystemClock()
    secret = await resolve_secret(bot, bot.config.web.secret_env, wall)
    state = WebState(
        bot=bot,
        signer=Signer(secret),
        templates=make_templates(),
        wall=wall,
        transport_connected=transport_connected or (lambda: None),
        sandbox=sandbox,
    )
    await login.announce_start_token(state, announce)
    async with bot.sessions() as session, session.begin():
        # Reports filed before deadlines were stored get them once, from the same rule.
        await sla.backfill_deadlines(session, bot.config)
    app[WEB_STATE] = state
    login.add_routes(app)
    console.add_routes(app)
    review.add_routes(app)
    public.add_routes(app)
    api.add_routes(app)
    health.add_routes(app)
    app.router.add_static("/static/", STATIC, name="static")
    app.cleanup_ctx.append(_housekeeping)
    if not sandbox:
        app.router.add_get("/", _to_console)
    return state


async def _to_console(request: web.Request) -> web.Response:
    state_of(request)
    raise web.HTTPFound("/console")


async def serve_web(
    bot: App,
    host: str,
    port: int,
    *,
    transport_connected: Callable[[], bool | None] | None = None,
    extra: Callable[[web.Application], None] | None = None,
) -> web.AppRunner:
    """Start the console/民情码/API/healthz server beside a bot on another transport (wechaty).

    `extra` adds a transport's own pages (e.g. bot/web/wechat_login.py) before it starts.
    """
    app = new_web_app()
    await mount_web(app, bot, transport_connected=transport_connected)
    if extra is not None:
        extra(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"jinlin console on http://{host}:{port}/console", flush=True)
    return runner

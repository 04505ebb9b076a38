"""Mounting the console, 民情码, API and /healthz on an aiohttp app next to the bot."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import App
from bot.core.clock import Clock, SystemClock
from bot.web import api, console, health, public
from bot.web.auth import Signer
from bot.web.state import STATIC, WEB_STATE, RateLimiter, WebState, make_templates, resolve_secret

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # forms are short; anything bigger is refused with 413

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
    if request.path.startswith(("/console", "/api", "/login", "/s/")):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def new_web_app() -> web.Application:
    """An aiohttp app with the body limit and security headers the web side expects."""
    return web.Application(client_max_size=MAX_BODY, middlewares=[security_headers])


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
    secret = await resolve_secret(bot, bot.config.web.secret_env, wall.now())
    state = WebState(
        bot=bot,
        signer=Signer(secret),
        templates=make_templates(),
        wall=wall,
        report_limiter=RateLimiter(bot.config.web.report_rate, 600),
        transport_connected=transport_connected or (lambda: None),
        sandbox=sandbox,
    )
    if not bot.config.web.users and bot.config.web.login_token:
        state.one_time_token = secrets.token_urlsafe(18)
        announce(f"console one-time login token: {state.one_time_token}")
    app[WEB_STATE] = state
    console.add_routes(app)
    public.add_routes(app)
    api.add_routes(app)
    health.add_routes(app)
    app.router.add_static("/static/", STATIC, name="static")
    if not sandbox:
        app.router.add_get("/", _to_console)
    return state


async def _to_console(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console")


async def serve_web(
    bot: App, host: str, port: int, *, transport_connected: Callable[[], bool | None] | None = None
) -> web.AppRunner:
    """Start the console/民情码/API/healthz server beside a bot on another transport (wechaty)."""
    app = new_web_app()
    await mount_web(app, bot, transport_connected=transport_connected)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"jinlin console on http://{host}:{port}/console", flush=True)
    return runner

"""What every web handler shares: the bot, templates, the signer, and request helpers."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.app import App
from bot.core.clock import Clock, SystemClock
from bot.core.config import Config, WebUserConfig
from bot.core.grid import Grid
from bot.web.auth import (
    LOGIN_COOKIE,
    ONE_TIME_USER,
    SESSION_COOKIE,
    Principal,
    Signer,
    admin_principal,
    token_principal,
    token_sha256,
    user_principal,
)
from storage.web_state import shared_secret

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


class RateLimiter:
    """At most `limit` events per key within `window` seconds (one process's memory)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False when the key is over its limit."""
        now = self._clock()
        q = self._events.setdefault(key, deque())
        while q and now - q[0] > self._window:
            q.popleft()
        if len(q) >= self._limit:
            return False
        q.append(now)
        if len(self._events) > 10_000:  # forget idle addresses so memory stays bounded
            for k in [k for k, v in self._events.items() if not v or now - v[-1] > self._window]:
                del self._events[k]
        return True


@dataclass
class WebState:
    """The web side's dependencies, built once by mount_web and kept on the aiohttp app."""

    bot: App
    signer: Signer
    templates: jinja2.Environment
    wall: Clock = field(default_factory=SystemClock)
    one_time_token: str | None = None
    report_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(5, 600))
    transport_connected: Callable[[], bool | None] = lambda: None
    sandbox: bool = False

    @property
    def config(self) -> Config:
        """The bot's configuration."""
        return self.bot.config

    @property
    def grid(self) -> Grid:
        """The bot's grid lookups."""
        return self.bot.grid

    def user(self, name: str) -> WebUserConfig | None:
        """The configured console user with this name."""
        return next((u for u in self.config.web.users if u.name == name), None)

    def render(
        self, request: web.Request, name: str, status: int = 200, **ctx: Any
    ) -> web.Response:
        """Render a template (autoescaped) with the common context."""
        principal = request.get(PRINCIPAL)
        session = request.get(SESSION) or {}
        text = self.templates.get_template(name).render(
            bot_name=self.config.bot.name,
            principal=principal,
            csrf=session.get("c", ""),
            sandbox=self.sandbox,
            path=request.path,
            **ctx,
        )
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")

    # --- sessions -----------------------------------------------------------------------------

    def new_session_cookie(self, user: str) -> tuple[str, str]:
        """A signed session value for `user` and its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        expires = self.wall.now() + self.config.web.session_ttl
        return self.signer.sign("session", {"u": user, "c": csrf, "e": expires.timestamp()}), csrf

    def session_principal(self, request: web.Request) -> Principal | None:
        """The logged-in console user of this request, or None (also stores it on the request)."""
        raw = request.cookies.get(SESSION_COOKIE)
        data = self.signer.unsign("session", raw) if raw else None
        if data is None:
            return None
        expires = data.get("e")
        user = data.get("u")
        if not isinstance(expires, int | float) or not isinstance(user, str):
            return None
        if datetime.fromtimestamp(expires, UTC) <= self.wall.now():
            return None
        if user == ONE_TIME_USER and not self.config.web.users:
            principal = admin_principal()
        else:
            cfg = self.user(user)
            if cfg is None:  # removed from the config: the cookie no longer opens anything
                return None
            principal = user_principal(self.grid, cfg)
        request[SESSION] = data
        request[PRINCIPAL] = principal
        return principal

    def bearer_principal(self, request: web.Request) -> Principal | None:
        """The API token principal named by an `Authorization: Bearer` header, or None."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = token_sha256(token.strip())
        for cfg in self.config.web.api_tokens:
            want = cfg.token_sha256
            if want is None and cfg.token_env:
                env = os.environ.get(cfg.token_env)
                want = token_sha256(env) if env else None
            if want is not None and hmac.compare_digest(want, digest):
                principal = token_principal(self.grid, cfg)
                request[PRINCIPAL] = principal
                return principal
        return None

    def check_csrf(self, request: web.Request, form: Any) -> bool:
        """True when the form carries the session's CSRF token."""
        session = request.get(SESSION) or {}
        want = session.get("c")
        got = form.get("csrf", "")
        return isinstance(want, str) and isinstance(got, str) and hmac.compare_digest(want, got)

    def login_form_token(self) -> tuple[str, str]:
        """A (form token, cookie nonce) pair guarding the login form against CSRF."""
        nonce = secrets.token_urlsafe(16)
        return self.signer.sign("login", {"n": nonce, "t": self.wall.now().timestamp()}), nonce

    def check_login_token(self, request: web.Request, token: str) -> bool:
        """True when the login form token matches this browser's nonce cookie and is fresh."""
        data = self.signer.unsign("login", token)
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if data is None or not nonce or not isinstance(data.get("n"), str):
            return False
        issued = data.get("t")
        fresh = isinstance(issued, int | float) and self.wall.now().timestamp() - issued < 3600
        return fresh and hmac.compare_digest(str(data["n"]), nonce)


WEB_STATE = web.AppKey("jinlin_web", WebState)
PRINCIPAL = web.RequestKey("jinlin_principal", Principal)
SESSION = web.RequestKey("jinlin_session", dict)


def state_of(request: web.Request) -> WebState:
    """The WebState of the app serving this request."""
    return request.config_dict[WEB_STATE]


def make_templates() -> jinja2.Environment:
    """The template environment: autoescape on for everything."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


async def resolve_secret(bot: App, env_name: str, now: datetime) -> str:
    """The session secret: from the environment, else one kept in the database."""
    value = os.environ.get(env_name)
    if value:
        return value
    async with bot.sessions() as session, session.begin():
        return await shared_secret(session, "session", now)

"""What every web handler shares: the bot, templates, the signer, sessions, request helpers."""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.app import App
from bot.core.clock import Clock, SystemClock
from bot.core.config import Config, WebUserConfig
from bot.core.grid import Grid
from bot.web.auth import (
    ONE_TIME_USER,
    SESSION_COOKIE,
    Principal,
    Signer,
    admin_principal,
    password_fingerprint,
    token_principal,
    token_sha256,
    user_principal,
    verify_password,
)
from bot.web.net import Client, Network
from storage import web_sessions
from storage.web_models import WebSession
from storage.web_state import shared_secret

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
HASH_THREADS = 2  # scrypt checks at once: 16 MiB each, off the event loop


@dataclass(frozen=True, slots=True)
class Login:
    """A live console session and who it belongs to."""

    row: WebSession
    principal: Principal

    @property
    def csrf(self) -> str:
        """The session's CSRF token."""
        return self.row.csrf


@dataclass
class WebState:
    """The web side's dependencies, built once by mount_web and kept on the aiohttp app."""

    bot: App
    signer: Signer
    templates: jinja2.Environment
    wall: Clock = field(default_factory=SystemClock)
    transport_connected: Callable[[], bool | None] = lambda: None
    sandbox: bool = False
    hashing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(HASH_THREADS))
    network: Network = field(init=False)

    def __post_init__(self) -> None:
        self.network = Network(self.bot.config.web)

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

    def client(self, request: web.Request) -> Client:
        """The client address and scheme of a request (worked out once by the middleware)."""
        return request.get(CLIENT) or self.network.client(request)

    def render(
        self, request: web.Request, name: str, status: int = 200, **ctx: Any
    ) -> web.Response:
        """Render a template (autoescaped) with the common context."""
        login = request.get(LOGIN)
        ctx.setdefault("flash", None)
        text = self.templates.get_template(name).render(
            bot_name=self.config.bot.name,
            principal=login.principal if login else None,
            csrf=login.csrf if login else "",
            sandbox=self.sandbox,
            path=request.path,
            **ctx,
        )
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")

    async def page(
        self, request: web.Request, name: str, status: int = 200, **ctx: Any
    ) -> web.Response:
        """Render a console page, with the message an earlier action left for it."""
        login = request.get(LOGIN)
        if login is not None and login.row.flash is not None and "flash" not in ctx:
            async with self.bot.sessions() as session, session.begin():
                ctx["flash"] = await web_sessions.pop_flash(session, login.row.id_hash)
        return self.render(request, name, status, **ctx)

    async def flash(self, request: web.Request, text: str) -> None:
        """Leave a message for the next page this session sees."""
        login = request.get(LOGIN)
        if login is None:
            return
        async with self.bot.sessions() as session, session.begin():
            await web_sessions.set_flash(session, login.row.id_hash, text)

    # --- passwords --------------------------------------------------------------------------

    async def check_password(self, password: str, stored: str) -> bool:
        """verify_password in a worker thread: scrypt would stall every other request."""
        async with self.hashing:
            return await asyncio.get_running_loop().run_in_executor(
                None, verify_password, password, stored
            )

    # --- sessions ---------------------------------------------------------------------------

    def fingerprint(self, user: str) -> str | None:
        """The current password fingerprint of a user, "" for the token admin, None if unknown."""
        if user == ONE_TIME_USER and not self.config.web.users:
            return ""
        cfg = self.user(user)
        return password_fingerprint(cfg.password_hash) if cfg else None

    def principal_of(self, user: str) -> Principal | None:
        """The principal a console user name stands for, if the config still knows them."""
        if user == ONE_TIME_USER and not self.config.web.users:
            return admin_principal()
        cfg = self.user(user)
        return user_principal(self.grid, cfg) if cfg else None

    async def start_session(self, user: str) -> str:
        """A new server-side session for `user`; returns the cookie value."""
        fp = self.fingerprint(user)
        assert fp is not None
        async with self.bot.sessions() as session, session.begin():
            value, _row = await web_sessions.create_session(
                session, user, fp, self.wall.now(), self.config.web.session_ttl
            )
        return value

    async def login_of(self, request: web.Request) -> Login | None:
        """The logged-in console session of this request, or None (kept on the request)."""
        if LOGIN in request:
            return request[LOGIN]
        raw = request.cookies.get(SESSION_COOKIE, "")
        if not raw:
            return None
        async with self.bot.sessions() as session:
            row = await web_sessions.load_session(session, raw, self.wall.now())
        if row is None:
            return None
        principal = self.principal_of(row.user)
        fp = self.fingerprint(row.user)
        # A user removed from the config, or whose password changed, is logged out.
        if principal is None or fp is None or not hmac.compare_digest(fp, row.password_fp):
            return None
        login = Login(row, principal)
        request[LOGIN] = login
        request[PRINCIPAL] = principal
        return login

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

    def secure_cookie(self, request: web.Request) -> bool:
        """Whether cookies get the Secure flag: the config says, else the request's scheme."""
        forced = self.config.web.secure_cookies
        return forced if forced is not None else self.client(request).secure


WEB_STATE = web.AppKey("jinlin_web", WebState)
PRINCIPAL = web.RequestKey("jinlin_principal", Principal)
LOGIN = web.RequestKey("jinlin_login", Login)
CLIENT = web.RequestKey("jinlin_client", Client)


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
    # A fresh token per rendered form: a resubmitted form (reload, back button) is not run twice.
    env.globals["form_token"] = lambda: secrets.token_urlsafe(12)
    return env


async def resolve_secret(bot: App, env_name: str, wall: Clock) -> str:
    """The signing secret: from the environment, else one kept in the database."""
    value = os.environ.get(env_name)
    if value:
        return value
    async with bot.sessions() as session, session.begin():
        return await shared_secret(session, "session", wall.now())

"""Fixtures for the web tests: a started bot on a virtual clock and an aiohttp test client."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.core.config import Config, parse_config
from bot.core.messages import Incoming, LocalTransport, Outgoing
from bot.sender import SendPolicy
from bot.web.auth import hash_password, token_sha256
from bot.web.sandbox import SandboxServer, start_sandbox
from bot.web.server import mount_web, new_web_app
from bot.web.state import WebState

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
PASSWORD = "correct horse"
LI_TOKEN = "li-api-token-0123456789"
ADMIN_TOKEN = "admin-api-token-0123456789"


def _fast_hash(password: str) -> str:
    # A cheap scrypt cost keeps the tests fast; verify_password reads the cost from the hash.
    return hash_password(password, n=2**4, r=8, p=1)


def web_config_data(**web_extra: Any) -> dict[str, Any]:
    """The example config with console users and API tokens for two compounds."""
    data = yaml.safe_load((REPO / "config.example.yaml").read_text(encoding="utf-8"))
    data["web"] = {
        "users": [
            {
                "name": "li",
                "display_name": "李书记",
                "password_hash": _fast_hash(PASSWORD),
                "compounds": ["武夷香榭"],
            },
            {
                "name": "huang",
                "password_hash": _fast_hash(PASSWORD),
                "compounds": ["江南八仙"],
            },
            {"name": "chen", "password_hash": _fast_hash(PASSWORD), "communities": ["剑津社区"]},
        ],
        "api_tokens": [
            {
                "name": "li-dashboard",
                "token_sha256": token_sha256(LI_TOKEN),
                "compounds": ["武夷香榭"],
            },
            {"name": "admin", "token_sha256": token_sha256(ADMIN_TOKEN), "admin": True},
        ],
        "report_rate": 3,
        "max_failures": 3,
        **web_extra,
    }
    return data


@pytest.fixture
def web_config() -> Config:
    """The config the web tests use."""
    return parse_config(web_config_data(), "web-test")


class RecordingTransport(LocalTransport):
    """Keeps what the bot sends."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def incoming(self) -> AsyncIterator[Incoming]:
        """Nothing arrives: tests call the dispatcher directly."""
        return
        yield  # pragma: no cover

    async def send(self, msg: Outgoing) -> None:
        """Record a send."""
        self.sent.append(msg)


@dataclass
class WebEnv:
    """A started bot, its web state and a test client."""

    bot: App
    clock: VirtualClock
    transport: RecordingTransport
    state: WebState
    client: TestClient[web.Request, web.Application]

    async def say(self, room: str | None, sender: str, name: str, text: str) -> None:
        """A message arrives from a chat; the bot handles it and sends what it queued."""
        n = len(self.transport.sent)
        await self.bot.handle(
            Incoming(
                message_id=f"t-{n}-{sender}-{hash(text)}-{self.clock.now().timestamp()}",
                room=room,
                sender_id=sender,
                sender_name=name,
                text=text,
                mentions_bot=False,
                at=self.clock.now(),
            )
        )
        await self.bot.sender.drain()

    async def login(self, user: str = "li", password: str = PASSWORD) -> None:
        """Log in through the form like a browser."""
        resp = await self.client.post(
            "/login",
            data=await login_form(self.client, username=user, password=password),
            allow_redirects=False,
        )
        assert resp.status == 302, await resp.text()

    async def csrf(self, path: str = "/console") -> str:
        """The CSRF token shown on a console page."""
        return form_csrf(await (await self.client.get(path)).text())


def form_csrf(html: str) -> str:
    """The value of the first hidden csrf field of a page."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


async def login_form(client: TestClient[Any, Any], **fields: str) -> dict[str, str]:
    """Fetch the login page (sets the nonce cookie) and return the form to post."""
    html = await (await client.get("/login")).text()
    return {"csrf": form_csrf(html), "next": "/console", **fields}


async def make_env(
    config: Config, db_url: str, announce: Callable[[str], None] = lambda _line: None
) -> WebEnv:
    """Start a bot on a virtual clock and serve its web side through a test client."""
    clock = VirtualClock(START)
    transport = RecordingTransport()
    bot = build_app(config, transport, clock, db_url=db_url, policy=SendPolicy.immediate())
    await bot.start(upgrade=True)
    app = new_web_app()
    state = await mount_web(
        app, bot, wall=clock, announce=announce, transport_connected=lambda: True
    )
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    return WebEnv(bot=bot, clock=clock, transport=transport, state=state, client=client)


@pytest.fixture
async def env(web_config: Config, db_url: str) -> AsyncIterator[WebEnv]:
    """A web environment on SQLite and on PostgreSQL."""
    e = await make_env(web_config, db_url)
    try:
        yield e
    finally:
        await e.client.close()
        await e.bot.stop()


@pytest.fixture
async def lite_env(web_config: Config, tmp_path: Path) -> AsyncIterator[WebEnv]:
    """A web environment on SQLite only (for refusals that do not depend on the database)."""
    e = await make_env(web_config, f"sqlite+aiosqlite:///{tmp_path / 'web.db'}")
    try:
        yield e
    finally:
        await e.client.close()
        await e.bot.stop()


@pytest.fixture
async def sandbox(web_config: Config, tmp_path: Path) -> AsyncIterator[SandboxServer]:
    """The whole web side (sandbox, console, 民情码, API) on a free loopback port."""
    server = await start_sandbox(
        web_config,
        VirtualClock(START),
        host="127.0.0.1",
        port=0,
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        announce=lambda _line: None,
    )
    try:
        yield server
    finally:
        await server.stop()


def form_field(html: str, name: str) -> str:
    """The value of a hidden field of a page."""
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, html[:2000]
    return m.group(1)


def origin_of(client: TestClient[Any, Any]) -> str:
    """The Origin header a browser on this test server sends."""
    url = client.make_url("/")
    return f"{url.scheme}://{url.host}:{url.port}"


async def post_report(
    client: TestClient[Any, Any],
    path: str,
    *,
    origin: str | None = "",
    photo: bytes | None = None,
    **fields: str,
) -> Any:
    """Open a 民情码 form like a browser and submit it (Origin of this site unless given)."""
    page = await client.get(path)
    assert page.status == 200, await page.text()
    token = form_field(await page.text(), "token")
    data: dict[str, Any] = {"kind": "report", "what": "", "where": "", "phone": "", **fields}
    data["token"] = token
    if photo is not None:
        import aiohttp

        form = aiohttp.FormData()
        for k, v in data.items():
            form.add_field(k, v)
        form.add_field("photo", io.BytesIO(photo), filename="photo.jpg", content_type="image/jpeg")
        body: Any = form
    else:
        body = data
    headers = (
        {"Origin": origin_of(client) if origin == "" else origin} if origin is not None else {}
    )
    return await client.post(path, data=body, headers=headers)

"""`jinlin run` with transport.kind web: the sandbox chat, plus console, 民情码, API, healthz."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from bot.app import App, build_app
from bot.core.clock import Clock
from bot.core.config import Config, web_address
from bot.core.domain import Role
from bot.replay import advance
from bot.sender import SendPolicy
from bot.web.sandbox_transport import SandboxClock, SandboxTransport
from bot.web.server import mount_web, new_web_app
from bot.web.state import state_of

log = logging.getLogger(__name__)

MAX_TEXT = 1000
MAX_NAME = 40


@dataclass
class Sandbox:
    """The sandbox's own parts, kept on the aiohttp app."""

    bot: App
    transport: SandboxTransport
    clock: SandboxClock
    jump_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


SANDBOX = web.AppKey("jinlin_sandbox", Sandbox)


def _people(bot: App) -> list[dict[str, str]]:
    """Everyone with a private chat in the sandbox: heads, secretaries, volunteers, workers."""
    out: dict[str, dict[str, str]] = {}

    def add(pid: str, name: str, role: Role, where: str) -> None:
        out.setdefault(pid, {"id": pid, "name": name, "role": role.label, "where": where})

    for community in bot.config.grid:
        for c in community.compounds:
            for b in c.buildings:
                if b.head:
                    add(b.head.id, b.head.name, Role.BUILDING_HEAD, f"{c.name}{b.number}栋")
            if c.secretary:
                add(c.secretary.id, c.secretary.name, Role.SECRETARY, c.name)
            for v in c.volunteers:
                add(v.id, v.name, Role.VOLUNTEER, c.name)
        for w in community.workers:
            add(w.id, w.name, Role.WORKER, community.community)
    return list(out.values())


def _residents(bot: App) -> list[str]:
    names = ["王阿姨", "李叔", "陈老师", "小林"]
    out = []
    for c in bot.grid.compounds():
        for i, b in enumerate(c.buildings):
            out.append(f"{b.number}栋{301 + i * 100}-{names[i % len(names)]}")
    return list(dict.fromkeys(out))


def resident_id(name: str) -> str:
    """A stable sandbox id for a typed display name, so the same name is the same person."""
    return "sandbox:" + name


async def sandbox_page(request: web.Request) -> web.Response:
    """GET /: the sandbox chat page."""
    state = state_of(request)
    return state.render(request, "sandbox.html")


async def sandbox_state(request: web.Request) -> web.Response:
    """GET /sandbox/state: rooms, people, sample residents, history and the sandbox clock."""
    sb = request.app[SANDBOX]
    tz = sb.bot.config.bot.tz
    body = {
        "bot_name": sb.bot.config.bot.name,
        "cobuilding_day": sb.bot.config.co_building_day.day,
        "rooms": [
            {"topic": r.room.topic, "compound": r.compound.name, "buildings": r.room.buildings}
            for r in sb.bot.grid.rooms()
        ],
        "people": _people(sb.bot),
        "residents": _residents(sb.bot),
        "history": sb.transport.history(),
        "now": sb.clock.now().astimezone(tz).isoformat(timespec="seconds"),
    }
    return web.json_response(body, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == request.host


async def sandbox_ws(request: web.Request) -> web.WebSocketResponse:
    """GET /sandbox/ws: live events out; typed messages and clock jumps in."""
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    sb = request.app[SANDBOX]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    sb.transport.attach(ws)
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
                if not isinstance(data, dict):
                    raise ValueError("expected an object")
                reply = await _on_page_event(sb, data)
            except (ValueError, TypeError, KeyError) as e:
                reply = {"type": "error", "text": f"无法处理：{e}"}
            if reply is not None:
                await ws.send_json(reply)
    finally:
        sb.transport.detach(ws)
    return ws


async def _on_page_event(sb: Sandbox, data: dict[str, Any]) -> dict[str, Any] | None:
    kind = data.get("type")
    if kind == "say":
        text = str(data.get("text", "")).strip()
        room = data.get("room") or None
        if not text or len(text) > MAX_TEXT:
            return {"type": "error", "text": f"消息不能为空，也不能超过 {MAX_TEXT} 字。"}
        if room is not None and sb.bot.grid.room(str(room)) is None:
            return {"type": "error", "text": "没有这个群。"}
        if room is None:
            sender_id = str(data.get("sender_id", ""))
            person = next((p for p in _people(sb.bot) if p["id"] == sender_id), None)
            if person is None:
                return {"type": "error", "text": "请选择一位楼栋长、书记或志愿者。"}
            name = person["name"]
        else:
            name = str(data.get("sender_name", "")).strip()[:MAX_NAME] or "居民"
            sender_id = str(data.get("sender_id") or resident_id(name))
        await sb.transport.say(room and str(room), sender_id, name, text)
        return None
    if kind == "jump":
        target = datetime.fromisoformat(str(data["to"]))
        if target.tzinfo is None:
            target = target.replace(tzinfo=sb.bot.config.bot.tz)
        await jump(sb, target)
        return None
    return {"type": "error", "text": "unknown event"}


async def jump(sb: Sandbox, target: datetime) -> None:
    """Move the sandbox clock to `target`, firing due reminders and held messages in order."""
    async with sb.jump_lock:
        if target <= sb.clock.now():
            await sb.transport.publish({"type": "error", "text": "只能向后跳转时间。"})
            return
        await advance(sb.bot, sb.clock, target)
    await publish_clock(sb)


async def publish_clock(sb: Sandbox) -> None:
    """Tell every page the sandbox time."""
    tz = sb.bot.config.bot.tz
    await sb.transport.publish(
        {"type": "clock", "now": sb.clock.now().astimezone(tz).isoformat(timespec="seconds")}
    )


class CannotListen(OSError):
    """The web server could not listen on its address (port taken, no permission)."""

    def __init__(self, where: str, error: OSError) -> None:
        super().__init__(error.errno, error.strerror)
        self.where = where
        self.error = error


@dataclass
class SandboxServer:
    """A running sandbox: the bot, its web server and the serve task."""

    sandbox: Sandbox
    runner: web.AppRunner
    url: str
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop serving and release the database."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        # Shutting the scheduler down cancels a poll that may be mid-query; let it unwind
        # before the engine is disposed, or its connection is left waiting on a closed driver.
        polls = [t for t in asyncio.all_tasks() if _is_scheduler_job(t) and not t.done()]
        if polls:
            await asyncio.wait(polls, timeout=5)
        await self.sandbox.transport.close()
        await self.runner.cleanup()
        await self.sandbox.bot.stop()


def _is_scheduler_job(task: asyncio.Task[Any]) -> bool:
    return getattr(task.get_coro(), "__qualname__", "") == "run_coroutine_job"


async def start_sandbox(
    config: Config,
    clock: Clock,
    *,
    host: str | None = None,
    port: int | None = None,
    db_url: str | None = None,
    announce: Callable[[str], None] = print,
) -> SandboxServer:
    """Start the bot on the sandbox transport and serve every web page; returns when listening."""
    sclock = SandboxClock(clock)
    transport = SandboxTransport(config, sclock)
    bot = build_app(config, transport, sclock, db_url=db_url, policy=SendPolicy.immediate())
    await bot.start()
    sb = Sandbox(bot=bot, transport=transport, clock=sclock)
    app = new_web_app()
    app[SANDBOX] = sb
    await mount_web(app, bot, sandbox=True, transport_connected=lambda: True, announce=announce)
    app.router.add_get("/", sandbox_page)
    app.router.add_get("/sandbox/state", sandbox_state)
    app.router.add_get("/sandbox/ws", sandbox_ws)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    default_host, default_port = web_address(config.transport)
    site = web.TCPSite(runner, host or default_host, default_port if port is None else port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        await bot.stop()
        raise CannotListen(f"{site.name}", e) from e
    bound = runner.addresses[0]
    url = f"http://{_url_host(bound[0])}:{bound[1]}/"
    task = asyncio.create_task(bot.serve(), name="sandbox-bot")
    return SandboxServer(sandbox=sb, runner=runner, url=url, task=task)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve_sandbox(config: Config, clock: Clock) -> None:
    """Serve the sandbox (and console, 民情码, API, healthz) until interrupted."""
    try:
        server = await start_sandbox(config, clock)
    except CannotListen as e:
        # Only the listening socket's own error is about the port; a database that cannot be
        # reached raises its own error from bot.start() and is reported as such.
        where = "{}:{}".format(*web_address(config.transport))
        reason = e.error.strerror or str(e.error)
        print(
            f"无法在 {where} 上监听：{reason}。"
            "可能已有程序（或另一个机器人）占用这个端口：请在配置里改 transport.port，"
            "或先停掉占用它的程序。",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    print(f"jinlin sandbox on {server.url}  (console: {server.url}console)", flush=True)
    try:
        await server.task
    finally:
        await server.stop()

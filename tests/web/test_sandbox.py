"""The sandbox: the real bot behind a WebSocket, private chats, and a clock that jumps ahead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.core.clock import VirtualClock
from bot.web.sandbox import SandboxServer
from bot.web.sandbox_transport import SandboxClock
from tests.web.conftest import START

Event = dict[str, Any]


async def wait_for(
    ws: aiohttp.ClientWebSocketResponse, match: Callable[[Event], bool], seen: list[Event]
) -> Event:
    """Read events until one matches (10 s at most); every event read is kept in `seen`."""
    async with asyncio.timeout(10):
        while True:
            ev = await ws.receive_json()
            seen.append(ev)
            if match(ev):
                return ev


def test_sandbox_clock_only_moves_forward() -> None:
    clock = SandboxClock(VirtualClock(START))
    clock.set(START.replace(day=27, hour=20))
    assert clock.now() == START.replace(day=27, hour=20)
    clock.set(START)
    assert clock.now() == START.replace(day=27, hour=20)


async def test_report_take_and_jump_to_the_eve_of_the_28th(sandbox: SandboxServer) -> None:
    seen: list[Event] = []
    async with aiohttp.ClientSession() as http:
        state = await (await http.get(sandbox.url + "sandbox/state")).json()
        assert "武夷香榭3栋业主群" in [r["topic"] for r in state["rooms"]]
        assert {"wxid_wang", "wxid_li", "wxid_zhao"} <= {p["id"] for p in state["people"]}
        async with http.ws_connect(sandbox.url + "sandbox/ws") as ws:
            await ws.send_json(
                {
                    "type": "say",
                    "room": "武夷香榭3栋业主群",
                    "sender_name": "3栋402-王阿姨",
                    "text": "3栋电梯又坏了，困在一楼",
                }
            )
            ack = await wait_for(
                ws, lambda e: e.get("to_room") == "武夷香榭3栋业主群" and "#1" in e["text"], seen
            )
            assert "已登记" in ack["text"]
            dm = await wait_for(ws, lambda e: e.get("to_person") == "wxid_wang", seen)
            assert "接单 1" in dm["text"]
            await ws.send_json(
                {"type": "say", "room": None, "sender_id": "wxid_wang", "text": "接单 1"}
            )
            taken = await wait_for(
                ws, lambda e: e.get("to_room") == "武夷香榭3栋业主群" and "接单" in e["text"], seen
            )
            assert "王姐" in taken["text"]
            await ws.send_json({"type": "jump", "to": "2026-11-27T20:00"})
            clock = await wait_for(ws, lambda e: e.get("type") == "clock", seen)
            assert clock["now"].startswith("2026-11-27T20:00")
        reminders = [
            e
            for e in seen
            if e.get("type") == "bot" and e.get("to_room") and "共建日" in e["text"]
        ]
        assert reminders, seen
        assert all(e["at"] <= "2026-11-27T20:00:59" for e in reminders)
        history = (await (await http.get(sandbox.url + "sandbox/state")).json())["history"]
        assert any(e.get("text") == "接单 1" for e in history)


async def test_sandbox_refusals(sandbox: SandboxServer) -> None:
    seen: list[Event] = []
    async with aiohttp.ClientSession() as http:
        bad_origin = await http.get(
            sandbox.url + "sandbox/ws",
            headers={
                "Origin": "http://evil.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert bad_origin.status == 403
        async with http.ws_connect(sandbox.url + "sandbox/ws") as ws:
            await ws.send_json({"type": "say", "room": "武夷香榭3栋业主群", "text": "x" * 1001})
            assert (await wait_for(ws, lambda e: e["type"] == "error", seen))["text"]
            await ws.send_json({"type": "say", "room": "no such room", "text": "hi"})
            assert (
                "没有这个群" in (await wait_for(ws, lambda e: e["type"] == "error", seen))["text"]
            )
            await ws.send_json(
                {"type": "say", "room": None, "sender_id": "nobody", "text": "待办"}
            )
            await wait_for(ws, lambda e: e["type"] == "error", seen)
            await ws.send_json({"type": "jump", "to": "2020-01-01T00:00"})
            assert "向后" in (await wait_for(ws, lambda e: e["type"] == "error", seen))["text"]
            await ws.send_str("not json")
            await wait_for(ws, lambda e: e["type"] == "error", seen)
        health = await (await http.get(sandbox.url + "healthz")).json()
        assert health["ok"] and health["transport"] == "connected"

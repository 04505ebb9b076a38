"""SIGTERM (systemd, docker stop) ends `jinlin run` cleanly: exit 0, a clean log line, nothing
half-done: every message is processed whole or left for the next start, no send left claimed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.runner import STOPPED

REPO = Path(__file__).resolve().parents[1]
ROOM = "武夷香榭3栋业主群"


def config(tmp_path: Path) -> tuple[Path, Path]:
    data: dict[str, Any] = yaml.safe_load((REPO / "config.example.yaml").read_text("utf-8"))
    db = tmp_path / "j.db"
    data["storage"] = {"url": f"sqlite+aiosqlite:///{db}"}
    data["transport"] = {"kind": "web", "host": "127.0.0.1", "port": 0}
    data["bot"]["quiet_hours"] = None  # the test may run at any hour
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path, db


async def started(proc: asyncio.subprocess.Process) -> str:
    """The sandbox's URL, from the line the bot prints once it listens."""
    assert proc.stdout is not None
    async with asyncio.timeout(90):
        while True:
            line = (await proc.stdout.readline()).decode()
            assert line, "jinlin run ended before it listened"
            if line.startswith("jinlin sandbox on "):
                return line.split()[3]


async def say(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    await ws.send_json({"type": "say", "room": ROOM, "sender_name": "3栋402-王阿姨", "text": text})


async def reply_to(ws: aiohttp.ClientWebSocketResponse, fragment: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        async for msg in ws:
            event: dict[str, Any] = json.loads(msg.data)
            if event.get("type") == "bot" and fragment in event.get("text", ""):
                return event
    raise AssertionError("the socket closed before the reply")


async def test_sigterm_finishes_and_exits_0(tmp_path: Path) -> None:
    path, db = config(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(path),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = await started(proc)
        async with aiohttp.ClientSession() as http, http.ws_connect(url + "sandbox/ws") as ws:
            await say(ws, "电梯又坏了，按钮没反应")
            await reply_to(ws, "#1")
            # a second report, and the signal while it may still be in hand
            await say(ws, "5栋楼道灯坏了")
            await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = err.decode()
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    assert STOPPED in stderr

    with sqlite3.connect(db) as conn:
        cases = conn.execute("select number, text from cases order by number").fetchall()
        statuses = dict(conn.execute("select status, count(*) from outbox group by status"))
        processed = conn.execute("select count(*) from processed_messages").fetchone()[0]
    assert cases[0][0] == 1
    # nothing half-done: the second report is a case with its messages, or not there at all
    assert len(cases) in (1, 2)
    assert processed >= len(cases)
    assert "sending" not in statuses, statuses
    assert statuses.get("sent", 0) >= 2  # the group reply and the head's notice of #1

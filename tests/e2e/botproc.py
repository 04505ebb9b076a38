"""`jinlin run` as a real process against the test puppet service, for kill -9 tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.e2e.conftest import BUILDING_TOPIC
from tests.e2e.puppet import PuppetServer, free_port, settle

REPO = Path(__file__).resolve().parents[2]
HEAD = "wxid_wang"
SECRETARY = "wxid_li"
BUILDINGS = [str(b) for b in range(1, 9)]


def kill_config(tmp_path: Path, puppet: PuppetServer, web_port: int, **sending: Any) -> Path:
    """A config for the kill tests: fast heartbeats, a short outage notice, quick sending."""
    config: dict[str, Any] = {
        "bot": {"name": "小邻", "timezone": "Asia/Shanghai", "quiet_hours": None},
        "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"},
        "transport": {
            "kind": "wechaty",
            "endpoint": puppet.endpoint,
            "token_env": "JINLIN_E2E_TOKEN",
            "data_dir": str(tmp_path / "data"),
            "offline_notice_after": "4s",
            "heartbeat": "0.3s",
            "host": "127.0.0.1",
            "port": web_port,
        },
        "sending": {
            "min_gap": 0.05,
            "jitter": 0.0,
            "room_gap": 0.05,
            "daily_cap": 10000,
            "max_attempts": 8,
            "merge_private": True,
            **sending,
        },
        "grid": [
            {
                "community": "剑津社区",
                "compounds": [
                    {
                        "name": "武夷香榭",
                        "secretary": {"id": SECRETARY, "name": "李书记"},
                        "rooms": [{"topic": BUILDING_TOPIC, "buildings": BUILDINGS}],
                        # one head for all, so her notices merge (and a lost merge shows)
                        "buildings": [
                            {"number": b, "head": {"id": HEAD, "name": "王姐"}} for b in BUILDINGS
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class BotProcess:
    """One `jinlin run` process at a time; kill9() ends it as a crash would."""

    config: Path
    token: str
    web_port: int
    logdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        """Start the bot (it connects in the background)."""
        self.starts += 1
        log = (self.logdir / f"bot-{self.starts}.log").open("wb")
        env = {**os.environ, "JINLIN_E2E_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def wait_connected(self, timeout: float = 30.0) -> float:
        """Wait until /healthz says the transport is connected; returns the seconds waited."""
        started = time.monotonic()
        url = f"http://127.0.0.1:{self.web_port}/healthz"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() - started < timeout:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the bot exited: see {self.logdir}/bot-{self.starts}.log")
                try:
                    async with http.get(url) as response:
                        if (await response.json()).get("transport") == "connected":
                            return time.monotonic() - started
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError(f"the bot did not connect in {timeout} s")

    def kill9(self) -> None:
        """kill -9 the bot."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """End the bot politely (then by force)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def duplicates(sent: list[dict[str, Any]]) -> int:
    """How many sends repeated an earlier one (same conversation, same text).

    Outage notices are left out: two outages of the same length are told in the same words.
    """
    counts = Counter((m["conversation_id"], m["text"]) for m in sent if "离线" not in m["text"])
    return sum(n - 1 for n in counts.values())


def new_bot(tmp_path: Path, puppet: PuppetServer, **sending: Any) -> BotProcess:
    """A BotProcess with its own config and web port."""
    port = free_port()
    config = kill_config(tmp_path, puppet, port, **sending)
    logdir = tmp_path / "logs"
    logdir.mkdir(exist_ok=True)
    return BotProcess(config, puppet.token, port, logdir)


REPORTS = [
    "楼道灯坏了",
    "电梯按钮失灵了",
    "门禁刷不开了",
    "楼顶水箱漏水",
    "下水道堵了",
    "单元门关不上",
    "楼道扶手松了",
    "消防通道被电动车堵了",
    "信报箱门掉了",
    "楼梯间墙皮掉了",
    "地下室有积水",
    "楼下井盖松动",
]


@dataclass
class KillRun:
    """What one run of kills measured."""

    kills: int
    reports: int  # reports said while the bot was up (at least `grace` before a kill)
    filed: int  # of those, how many became cases
    sends: int
    duplicates: int
    in_flight: int  # kills that left a send with no known outcome (re-sent after a check)
    restart_seconds: list[float]
    gap_notices: int


async def kill_run(
    puppet: PuppetServer,
    tmp_path: Path,
    *,
    kills: int,
    latency_ms: int,
    rng: Any,
    per_round: int = 3,
    long_outage_every: int = 0,
) -> KillRun:
    """Reports in rounds; after each round the bot is killed -9 at a random moment of sending.

    Every `long_outage_every`-th kill keeps the bot down for 5 s (over the 4 s notice limit),
    and a report said meanwhile is lost to the bot but its gap is told.
    """
    from sqlalchemy import func, select

    from bot.core.domain import SendOutcome
    from storage.engine import create_engine, session_factory
    from storage.models import Case
    from storage.wechat_models import SendAttempt

    await puppet.add_contact(SECRETARY, "李书记")
    residents = [f"wxid_k{i}" for i in range(kills * per_round + per_round)]
    for i, rid in enumerate(residents):
        await puppet.add_contact(rid, f"居民{i}")
    from tests.e2e.conftest import BUILDING_ROOM

    await puppet.send_mode(latency_ms=latency_ms)
    bot = new_bot(tmp_path, puppet)
    said_up: dict[str, str] = {}  # message id -> text, said while the bot was up
    restarts: list[float] = []
    n = 0
    bot.start()
    try:
        await bot.wait_connected()
        for k in range(kills):
            round_ids = []
            for _ in range(per_round):
                text = _report(n)
                mid = await puppet.say(residents[n], text, room_id=BUILDING_ROOM)
                said_up[mid] = text
                round_ids.append(mid)
                n += 1
                await asyncio.sleep(0.05)
            # Kill once the round has reached the bot (a loaded machine may take a while to
            # read the stream; what it never read is the told gap, not a loss), then somewhere
            # in the handling and sending that follows.
            await _received(tmp_path / "jinlin.db", round_ids, timeout=30)
            await asyncio.sleep(rng.uniform(0, 0.9))
            bot.kill9()
            if long_outage_every and (k + 1) % long_outage_every == 0:
                text = _report(n)
                await puppet.say(residents[n], text, room_id=BUILDING_ROOM)
                n += 1
                await asyncio.sleep(5)
            bot.start()
            restarts.append(await bot.wait_connected())
        # A loaded machine may take seconds to work through what a killed process left: wait
        # for that by its mark in the database, not by a quiet spell in the sending.
        await _all_handled(tmp_path / "jinlin.db", timeout=90)
        sent = await settle(puppet, quiet_for=2.0, timeout=90)
    finally:
        bot.stop()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}")
    try:
        async with session_factory(engine)() as session:
            filed = await session.scalar(
                select(func.count(Case.id)).where(Case.source_message_id.in_(list(said_up)))
            )
            in_flight = await session.scalar(
                select(func.count(SendAttempt.id)).where(SendAttempt.outcome == SendOutcome.RESENT)
            )
    finally:
        await engine.dispose()
    notices = [m for m in sent if m["conversation_id"] == SECRETARY and "离线" in m["text"]]
    return KillRun(
        kills=kills,
        reports=len(said_up),
        filed=int(filed or 0),
        sends=len(sent),
        duplicates=duplicates(sent),
        in_flight=int(in_flight or 0),
        restart_seconds=restarts,
        gap_notices=len(notices),
    )


async def _received(db: Path, message_ids: list[str], *, timeout: float) -> None:
    """Wait until the bot has written these incoming messages to its database."""
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(message_ids))
    while time.monotonic() < deadline:
        try:
            with closing(sqlite3.connect(db, timeout=1)) as conn:
                (count,) = conn.execute(
                    f"SELECT count(*) FROM received_messages WHERE message_id IN ({marks})",
                    message_ids,
                ).fetchone()
            if count == len(message_ids):
                return
        except sqlite3.OperationalError:
            pass  # the schema is not there yet, or a write holds the lock for a moment
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the bot did not receive {message_ids} in {timeout} s")


def _report(n: int) -> str:
    # a different building or problem each time: no report joins another (附议)
    return f"{BUILDINGS[n % len(BUILDINGS)]}栋{REPORTS[(n // len(BUILDINGS)) % len(REPORTS)]}"


async def _all_handled(db: Path, *, timeout: float) -> None:
    """Wait until the bot has handled every message it received."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with closing(sqlite3.connect(db, timeout=1)) as conn:
                (waiting,) = conn.execute(
                    "SELECT count(*) FROM received_messages WHERE handled_at IS NULL"
                ).fetchone()
            if waiting == 0:
                return
        except sqlite3.OperationalError:
            pass  # a write holds the lock for a moment
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the bot still had unhandled messages after {timeout} s")

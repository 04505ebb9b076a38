"""Runs tests/puppet/server.mjs (a real wechaty puppet service over the mock puppet) for tests."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

PUPPET_DIR = Path(__file__).resolve().parents[1] / "puppet"
NPM_CI_TIMEOUT = 300.0
START_TIMEOUT = 30.0


class PuppetSetupError(RuntimeError):
    """Node, npm or the puppet server is missing or broken: the e2e tests cannot run."""


def _installed_matches_lock() -> bool:
    # npm records what it installed in node_modules/.package-lock.json; it matches the committed
    # lock after `npm ci` (whether this fixture or tests/run.sh ran it).
    installed = PUPPET_DIR / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return False
    wanted = json.loads((PUPPET_DIR / "package-lock.json").read_text(encoding="utf-8"))
    have = json.loads(installed.read_text(encoding="utf-8"))
    packages = {k: v for k, v in wanted.get("packages", {}).items() if k}
    return bool(packages == have.get("packages"))


def ensure_node_modules() -> None:
    """Run `npm ci` in tests/puppet unless node_modules matches the committed lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PuppetSetupError(
            "node and npm are needed for the end-to-end tests (Node 18 or later); "
            f"found node={node}, npm={npm}"
        )
    # Several engineers and runs share this checkout: one npm ci at a time.
    checkout = hashlib.sha256(bytes(PUPPET_DIR)).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"jinlin-npm-ci-{checkout}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_matches_lock():
            return
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=PUPPET_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PuppetSetupError(f"npm ci in {PUPPET_DIR} took over {NPM_CI_TIMEOUT} s") from exc
        if result.returncode != 0:
            raise PuppetSetupError(
                f"npm ci in {PUPPET_DIR} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        if not _installed_matches_lock():
            raise PuppetSetupError(f"npm ci in {PUPPET_DIR} left node_modules unlike the lock")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PuppetServer:
    """One Node puppet service process; the world (contacts, rooms) is replayed on restart."""

    workdir: Path
    token: str = "insecure_jinlin-e2e-token"
    self_id: str = "wxid_bot"
    self_name: str = "小邻"
    grpc_port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    control_port: int = 0
    starts: int = 0
    _world: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _session: aiohttp.ClientSession | None = None

    @property
    def endpoint(self) -> str:
        """host:port of the gRPC service."""
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def sent_log(self) -> Path:
        """The JSON-lines file of every text the bot sent (survives kill -9)."""
        return self.workdir / "sent.jsonl"

    async def start(self) -> None:
        """Start the Node process, wait until it listens, and rebuild the world."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "ready.json"
        ready.unlink(missing_ok=True)
        self.starts += 1
        log = (self.workdir / f"node-{self.starts}.log").open("wb")
        env = {
            **os.environ,
            "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER": "true",
            "WECHATY_LOG": "warn",
        }
        # node itself is the child (no shell), so kill -9 hits the server
        self.process = await asyncio.create_subprocess_exec(
            "node",
            str(PUPPET_DIR / "server.mjs"),
            *("--grpc-port", str(self.grpc_port), "--token", self.token),
            *("--self-id", self.self_id, "--self-name", self.self_name),
            *("--sent-log", str(self.sent_log), "--ready-file", str(ready)),
            cwd=PUPPET_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.is_file():
            if self.process.returncode is not None or time.monotonic() > deadline:
                await self.kill()
                tail = (self.workdir / f"node-{self.starts}.log").read_text(errors="replace")
                raise PuppetSetupError(f"puppet server did not start:\n{tail[-3000:]}")
            await asyncio.sleep(0.05)
        self.control_port = json.loads(ready.read_text())["control_port"]
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        for path, body in self._world:
            await self._post(path, body)

    async def kill(self) -> None:
        """kill -9 the server, as a crash would."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def close(self) -> None:
        """Stop the server and the control client."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        assert self._session is not None, "start() the puppet server first"
        url = f"http://127.0.0.1:{self.control_port}{path}"
        async with self._session.request(method, url, json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise RuntimeError(f"{method} {path} {body}: {response.status} {data}")
            return data

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, body)

    async def _world_post(self, path: str, body: dict[str, Any]) -> None:
        self._world.append((path, body))
        await self._post(path, body)

    async def add_contact(self, contact_id: str, name: str, *, friend: bool = True) -> None:
        """Create a contact of the bot's account."""
        await self._world_post("/contacts", {"id": contact_id, "name": name, "friend": friend})

    async def add_room(self, room_id: str, topic: str, member_ids: list[str]) -> None:
        """Create a room (its id must contain '@', as WeChat room ids do)."""
        body = {"id": room_id, "topic": topic, "member_ids": [self.self_id, *member_ids]}
        await self._world_post("/rooms", body)

    async def set_alias(self, room_id: str, contact_id: str, alias: str) -> None:
        """Give a member a room alias (群昵称)."""
        body = {"room_id": room_id, "contact_id": contact_id, "alias": alias}
        await self._world_post("/aliases", body)

    async def say(
        self,
        talker_id: str,
        text: str = "",
        *,
        room_id: str | None = None,
        mention_ids: tuple[str, ...] = (),
        image: bool = False,
        kind: str | None = None,
        timestamp_ms: int | None = None,
    ) -> str:
        """Make a contact say something in a room, or privately to the bot; returns its id.

        `kind` names another message type of wechaty-puppet (Audio, Emoticon, Url, ...).
        """
        body: dict[str, Any] = {"talker_id": talker_id, "text": text, "image": image}
        if kind is not None:
            body["type"] = kind
        if room_id is not None:
            body |= {"room_id": room_id, "mention_ids": list(mention_ids)}
        else:
            body["to_id"] = self.self_id
        if timestamp_ms is not None:
            body["timestamp"] = timestamp_ms
        result = await self._post("/say", body)
        message_id: str = result["id"]
        return message_id

    async def fail_next_sends(self, count: int) -> None:
        """Make the next `count` sends fail on the service side."""
        await self._post("/fail-sends", {"count": count})

    async def restrict_next_sends(self, count: int) -> None:
        """Make the next `count` sends fail as WeChat's 风控 refuses them (操作过于频繁)."""
        await self._post("/restrict-sends", {"count": count})

    async def send_mode(self, *, latency_ms: int = 0, echo: bool = True) -> None:
        """Make every send take `latency_ms` before it happens; echo: the sent text comes back."""
        await self._post("/send-mode", {"ms": latency_ms, "echo": echo})

    async def rename_room(self, room_id: str, topic: str) -> None:
        """Rename a room, as a member would (the service sends room-topic and dirty events)."""
        await self._post("/topic", {"room_id": room_id, "topic": topic})
        for path, body in self._world:
            if path == "/rooms" and body["id"] == room_id:
                body["topic"] = topic

    async def change_alias(self, room_id: str, contact_id: str, alias: str) -> None:
        """A member changes their room alias; the service says the member payload is dirty."""
        await self._post(
            "/alias-change", {"room_id": room_id, "contact_id": contact_id, "alias": alias}
        )
        self._world.append(
            ("/aliases", {"room_id": room_id, "contact_id": contact_id, "alias": alias})
        )

    async def friendship(self, contact_id: str, kind: str, hello: str = "") -> str:
        """A friend request ('Receive') or a friendship made ('Confirm'); returns its id."""
        body = {"contact_id": contact_id, "type": kind, "hello": hello}
        result = await self._post("/friendship", body)
        friendship_id: str = result["id"]
        return friendship_id

    async def friendship_accepts(self) -> list[str]:
        """The friendship ids the bot accepted, in order."""
        result = await self._request("GET", "/friendship-accepts", None)
        ids: list[str] = result["ids"]
        return ids

    async def logout(self) -> None:
        """Log the account out on the service."""
        await self._post("/logout", {})

    async def show_qr(self, qrcode: str) -> None:
        """The service shows a QR code to log in with."""
        await self._post("/scan", {"qrcode": qrcode})

    async def login(self) -> None:
        """Log the account in again (as a scan would)."""
        await self._post("/login", {})

    async def logged_in(self) -> bool:
        """Whether the mock account is logged in."""
        status = await self._request("GET", "/status", None)
        return bool(status["logged_in"])

    def sent(self) -> list[dict[str, Any]]:
        """Every message the bot has sent through any incarnation of the server."""
        if not self.sent_log.is_file():
            return []
        lines = self.sent_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    async def wait_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least `count` messages were sent; returns them all."""
        deadline = time.monotonic() + timeout
        while len(sent := self.sent()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(sent)} of {count} messages sent after {timeout} s")
            await asyncio.sleep(0.05)
        return sent


@contextlib.asynccontextmanager
async def running_puppet(workdir: Path) -> Any:
    """A started PuppetServer, closed afterwards."""
    server = PuppetServer(workdir)
    try:
        await server.start()
        yield server
    finally:
        await server.close()


async def settle(
    puppet: PuppetServer, *, quiet_for: float, timeout: float
) -> list[dict[str, Any]]:
    """Wait until the bot has sent nothing new for `quiet_for` seconds; return all it sent."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(puppet.sent())
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return puppet.sent()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the bot was still sending after {timeout} s")

"""A throwaway PostgreSQL server in a temporary folder (the tests and `jinlin bench` use it).

PostgreSQL refuses to run as root: when we are root, initdb and pg_ctl run as `postgres`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

PG_USER = "postgres"
START_TIMEOUT = 30.0

T = TypeVar("T")


class PgUnavailable(RuntimeError):
    """No PostgreSQL server could be used for the tests."""


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run admin work to completion from sync code, even when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:
        in_loop = True
    if not in_loop:
        return _run_on_private_loop(coro)
    # Called from an async test: a loop cannot be nested, so block briefly on a worker thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_run_on_private_loop, coro).result()


def _run_on_private_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a new loop that never becomes the thread's current loop."""
    # asyncio.run() would reset the current event loop to None, which can upset the loop that
    # pytest-asyncio keeps for the surrounding test.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coro)


def asyncpg_dsn(url: URL) -> str:
    """Render a SQLAlchemy URL as a plain libpq DSN that asyncpg accepts."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def sqlalchemy_url(url: URL) -> str:
    """Render a URL for SQLAlchemy's asyncpg dialect."""
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def ping(url: URL) -> None:
    """Connect once and run a trivial query."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        await conn.fetchval("select 1")
    finally:
        await conn.close()


async def execute(url: URL, statement: str) -> None:
    """Run one admin statement (CREATE/DROP DATABASE cannot run inside a transaction)."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _pg_bindir() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin that has initdb and pg_ctl."""
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = Path(initdb).parent
        with contextlib.suppress(ValueError):
            if (bindir / "pg_ctl").exists():
                candidates.append((float(bindir.parent.name), bindir))
    if not candidates:
        raise PgUnavailable("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    return max(candidates)[1]


def _free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalPg:
    """A PostgreSQL cluster in a temporary folder, run as the `postgres` user when we are root."""

    def __init__(self, *, durable: bool = False) -> None:
        # durable: fsync on and full pages written, as a production server would run; commits
        # still do not wait for the disk (synchronous_commit=off), like SQLite's WAL with
        # synchronous=NORMAL, so the two databases are measured under the same promise.
        self.durable = durable
        self.bindir = _pg_bindir()
        self.as_root = os.geteuid() == 0
        self.base: Path | None = None
        self.port = 0
        self.started = False

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        assert self.base is not None
        return self.base / "data"

    def _cmd(self, *args: str) -> list[str]:
        """Wrap a command so that it runs as `postgres` when we are root."""
        # PostgreSQL refuses to run as root.
        if not self.as_root:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", PG_USER, "--", *args]
        return ["su", PG_USER, "-s", "/bin/sh", "-c", shlex.join(args)]

    def _run(self, *args: str, timeout: float = 60) -> None:
        """Run a PostgreSQL tool and raise with its output if it fails."""
        assert self.base is not None
        # cwd inside the temp folder: `postgres` may not be allowed into the caller's cwd.
        proc = subprocess.run(
            self._cmd(*args),
            cwd=self.base,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise PgUnavailable(
                f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        """The end of the server log, for error messages."""
        if self.base is None:
            return ""
        try:
            lines = (self.base / "server.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\nserver.log:\n" + "\n".join(lines[-20:])

    def start(self) -> URL:
        """Create the cluster, start it and return its admin URL once it accepts connections."""
        owner = None
        if self.as_root:
            try:
                owner = pwd.getpwnam(PG_USER)
            except KeyError:
                raise PgUnavailable(
                    f"running as root but there is no `{PG_USER}` user (install postgresql)"
                ) from None
        # /tmp rather than $TMPDIR when root: `postgres` must be able to reach the folder.
        self.base = Path(tempfile.mkdtemp(prefix="jinlin-pg-", dir="/tmp" if owner else None))
        if owner is not None:
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "--auth=trust",
            "-U",
            PG_USER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # The port can be taken between probing and binding; a few tries cover that race.
        for attempt in range(3):
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c unix_socket_directories={self.base}",
                    "-c synchronous_commit=off",
                    # Durability is worthless for a test server; speed is not.
                    *([] if self.durable else ["-c fsync=off", "-c full_page_writes=off"]),
                ]
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT)),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.base / "server.log"),
                    "-o",
                    options,
                    timeout=START_TIMEOUT + 10,
                )
            except PgUnavailable:
                if attempt == 2:
                    raise
                continue
            self.started = True
            break
        url = URL.create(
            "postgresql+asyncpg",
            username=PG_USER,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )
        self._wait_ready(url)
        return url

    def _wait_ready(self, url: URL) -> None:
        """Poll until a TCP connection succeeds (pg_ctl -w only proves the socket is up)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                run_async(ping(url))
                return
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                if time.monotonic() > deadline:
                    raise PgUnavailable(
                        f"server on port {self.port} never accepted connections: {exc!r}"
                        f"{self._log_tail()}"
                    ) from exc
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server at once and remove the folder."""
        try:
            if self.started:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "stop",
                    "-m",
                    "immediate",
                    "-w",
                    "-D",
                    str(self.datadir),
                )
                self.started = False
        finally:
            if self.base is not None:
                shutil.rmtree(self.base, ignore_errors=True)
                self.base = None

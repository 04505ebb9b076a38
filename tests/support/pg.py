"""Pytest plugin: a throwaway PostgreSQL server per session and a fresh database per test."""

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
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

ENV_URL = "JINLIN_TEST_PG_URL"
PG_USER = "postgres"
START_TIMEOUT = 30.0
HOW_TO_FIX = (
    "run `bash tests/run.sh` (it installs Debian's postgresql), "
    f"or set {ENV_URL}=postgresql+asyncpg://USER:PASS@HOST:PORT/postgres"
)


T = TypeVar("T")


class PgUnavailable(RuntimeError):
    """No PostgreSQL server could be used for the tests."""


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
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


def _asyncpg_dsn(url: URL) -> str:
    """Render a SQLAlchemy URL as a plain libpq DSN that asyncpg accepts."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlalchemy_url(url: URL) -> str:
    """Render a URL for SQLAlchemy's asyncpg dialect."""
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def _ping(url: URL) -> None:
    """Connect once and run a trivial query."""
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.fetchval("select 1")
    finally:
        await conn.close()


async def _execute(url: URL, statement: str) -> None:
    """Run one admin statement (CREATE/DROP DATABASE cannot run inside a transaction)."""
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
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
        return sock.getsockname()[1]


class LocalPg:
    """A PostgreSQL cluster in a temporary folder, run as the `postgres` user when we are root."""

    def __init__(self) -> None:
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
                    f"running as root but there is no `{PG_USER}` user; {HOW_TO_FIX}"
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
                    # Durability is worthless for a throwaway server; speed is not.
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
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
                _run_async(_ping(url))
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


def _external_server(raw: str) -> str:
    """Check the server named by the environment and return its URL, or fail the fixture."""
    problem = None
    try:
        url = make_url(raw)
        _run_async(_ping(url))
    except Exception as exc:
        problem = repr(exc)
    if problem is not None:
        # Outside the except block so pytest shows one clear line, not a chain of tracebacks.
        pytest.fail(f"{ENV_URL} is set but its server is not usable: {problem}", pytrace=False)
    return _sqlalchemy_url(url)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """Base URL (database `postgres`) of a PostgreSQL server for this test session."""
    external = os.environ.get(ENV_URL)
    if external:
        yield _external_server(external)
        return

    server = None
    problem = None
    try:
        server = LocalPg()
        url = server.start()
    except (PgUnavailable, OSError, subprocess.SubprocessError) as exc:
        problem = str(exc)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    if problem is not None or server is None:
        if server is not None:
            server.stop()
        pytest.fail(
            f"cannot start a throwaway PostgreSQL: {problem}\nTo fix: {HOW_TO_FIX}",
            pytrace=False,
        )
    try:
        yield _sqlalchemy_url(url)
    finally:
        server.stop()


@contextlib.contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """Create a new, empty database on the server; drop it on exit; yield its URL."""
    admin = make_url(server_url)
    name = f"t_{uuid.uuid4().hex}"
    _run_async(_execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield _sqlalchemy_url(admin.set(database=name))
    finally:
        # FORCE: a test that forgot to dispose its engine must not keep the database alive.
        _run_async(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """URL of a new, empty database that is dropped after the test."""
    with temporary_database(pg_server_url) as url:
        yield url

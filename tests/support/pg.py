"""Pytest plugin: a throwaway PostgreSQL server per session and a fresh database per test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from bot.bench.pgserver import (
    LocalPg,
    PgUnavailable,
    execute,
    ping,
    run_async,
    sqlalchemy_url,
)

ENV_URL = "JINLIN_TEST_PG_URL"
HOW_TO_FIX = (
    "run `bash tests/run.sh` (it installs Debian's postgresql), "
    f"or set {ENV_URL}=postgresql+asyncpg://USER:PASS@HOST:PORT/postgres"
)


def _external_server(raw: str) -> str:
    """Check the server named by the environment and return its URL, or fail the fixture."""
    problem = None
    try:
        url = make_url(raw)
        run_async(ping(url))
    except Exception as exc:
        problem = repr(exc)
    if problem is not None:
        # Outside the except block so pytest shows one clear line, not a chain of tracebacks.
        pytest.fail(f"{ENV_URL} is set but its server is not usable: {problem}", pytrace=False)
    return sqlalchemy_url(url)


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
        yield sqlalchemy_url(url)
    finally:
        server.stop()


@contextlib.contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """Create a new, empty database on the server; drop it on exit; yield its URL."""
    admin = make_url(server_url)
    name = f"t_{uuid.uuid4().hex}"
    run_async(execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield sqlalchemy_url(admin.set(database=name))
    finally:
        # FORCE: a test that forgot to dispose its engine must not keep the database alive.
        run_async(execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """URL of a new, empty database that is dropped after the test."""
    with temporary_database(pg_server_url) as url:
        yield url

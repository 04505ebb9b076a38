"""Engine and session factory for SQLite (embedded default) and PostgreSQL (the scale path)."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.util.concurrency import await_

from storage import sqlite_driver

READ_ONLY = "jinlin_read_only"  # an execution option: this transaction will not write


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs: dict[str, Any] = {}
    target: str | URL = url
    if url.startswith("sqlite+aiosqlite:"):
        # The same driver, one thread trip per statement (storage/sqlite_driver.py).
        target = make_url(url).set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            # One shared connection, or every session would see its own empty database.
            kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(target, **kwargs)
    if url.startswith("sqlite"):
        in_memory = ":memory:" in url

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINTs work.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                # Checkpoints run in the driver's checkpoint thread; this is the backstop.
                cur.execute(f"PRAGMA wal_autocheckpoint={sqlite_driver.WAL_BACKSTOP_PAGES}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: no lock-upgrade deadlock between
            # two transactions of the same process (dispatcher, sender, web, scheduler).
            # A transaction that only reads (see `reading`) needs no lock in WAL mode.
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
            driver = conn.connection.dbapi_connection
            if isinstance(driver, sqlite_driver.DriverConnection):
                # Every message's transaction starts here: straight to the driver (as
                # storage/direct.py does), not through a whole statement execution.
                if conn.dispatch.before_cursor_execute:
                    conn.dispatch.before_cursor_execute(conn, None, begin, (), None, False)
                await_(driver.run_direct(begin, (), False))
            else:
                conn.exec_driver_sql(begin)

    return engine


@contextlib.asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for a transaction that only reads: on SQLite it takes no write lock."""
    async with sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            await session.rollback()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def display_url(url: str) -> str:
    """The URL as people may see it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable URL)"


def _causes(exc: BaseException) -> list[BaseException]:
    # SQLAlchemy wraps the driver's error (.orig), drivers chain theirs (__cause__).
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def connection_problem(exc: BaseException, url: str) -> str | None:
    """A sentence (in Chinese, for whoever runs the bot) if `exc` means the database could not
    be reached or opened: which database, what failed, what to check. None for other errors."""
    where = f"无法连接数据库 {display_url(url)}"
    try:
        parsed = make_url(url)
        host, port = parsed.host or "localhost", parsed.port or 5432
        sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    except Exception:
        host, port, sqlite_file = "?", 0, None
    check_url = "请检查配置的 storage.url（或 --db）"
    the_url = "配置的 storage.url（或 --db）"
    for e in _causes(exc):
        name = type(e).__name__
        text = str(e).strip()
        if name == "InvalidPasswordError" or name == "InvalidAuthorizationSpecificationError":
            return f"{where}：用户名或密码不对（{text}）。{check_url}里的用户名和密码。"
        if name == "InvalidCatalogNameError":
            return (
                f"{where}：数据库不存在（{text}）。请先建好数据库（如 createdb），"
                f"或检查{the_url}里的库名。"
            )
        if name == "CannotConnectNowError" or name == "TooManyConnectionsError":
            return f"{where}：数据库暂不接受连接（{text}）。请稍后再试，或检查数据库的状态。"
        if isinstance(e, socket.gaierror):
            return f"{where}：找不到主机 {host}。{check_url}里的主机名。"
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return (
                f"{where}：{host}:{port} 拒绝连接，那里没有数据库在运行。"
                f"请检查 PostgreSQL 是否已启动，以及{the_url}里的主机和端口。"
            )
        if isinstance(e, TimeoutError):
            return (
                f"{where}：连接 {host}:{port} 超时。请检查网络、防火墙，"
                f"以及{the_url}里的主机和端口。"
            )
        if name == "OperationalError" and "unable to open database file" in text:
            return (
                f"{where}：打不开 SQLite 文件 {sqlite_file}。"
                "请检查它所在的文件夹是否存在、运行机器人的用户能否写入。"
            )
        if "file is not a database" in text:
            return f"{where}：{sqlite_file} 不是 SQLite 数据库文件。{check_url}是否指错了文件。"
        if isinstance(e, OSError) and e.errno is not None:
            return f"{where}：{e.strerror or text}。{check_url}，以及数据库是否在运行。"
    return None


def sqlite_problem(url: str) -> str | None:
    """For a SQLite file URL: a sentence if its folder is missing or not writable, else None.

    Checked before connecting: the driver's thread would otherwise report the same failure
    again, as a traceback, after the event loop has closed."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):
        return None  # a URI filename: let the driver read it
    folder = Path(name).absolute().parent
    where = f"无法连接数据库 {display_url(url)}：打不开 SQLite 文件 {name}"
    if not folder.is_dir():
        return (
            f"{where}，文件夹 {folder} 不存在。"
            "请先建好这个文件夹，或检查配置的 storage.url（或 --db）。"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{where}，运行机器人的用户不能写入文件夹 {folder}。请检查它的权限。"
    return None

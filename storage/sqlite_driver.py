"""SQLite through aiosqlite: short statements run where they are awaited, the rest in one trip.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes it as four separate
trips to aiosqlite's thread; each trip costs a queue, a thread wake-up and a loop wake-up
(about 0.1 ms of CPU on this class of machine, against microseconds for SQLite's own work, and
milliseconds of waiting when the machine is busy: the thread must be scheduled twice). This
dialect runs the message path's statements (BEGIN, INSERT, UPDATE, SELECT, COMMIT) directly in
the event loop's thread, where SQLite takes microseconds, and everything else (DDL, PRAGMA,
ANALYZE, DELETE, executemany) as one trip to aiosqlite's thread, rows included.

What must not happen in the event loop is waiting, nor a disk flush. WAL checkpoints (copying
the log back into the database file, and its fsyncs) run in a thread of their own with their own
connection (`Checkpointer`), every `CHECKPOINT_EVERY` commits, instead of inside whichever
commit happened to fill the log; the connection's own automatic checkpoint is only a backstop.
Also: a statement run here never waits for a lock
(the busy timeout is 0 while it runs; a busy database sends it to the thread, which waits the
connection's timeout) and a read that runs past `READ_BUDGET` is stopped and run again in the
thread (the console's big queries), so the loop is never held for long. It also renders table
hints (`Select.with_hint(…, "INDEXED BY ix", dialect_name="sqlite")`), which the stock SQLite
dialect drops. It is the stock `sqlite+aiosqlite` dialect in every other respect;
`storage.engine.create_engine` uses it for `sqlite+aiosqlite` URLs.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.util.concurrency import await_

DRIVER = "jinlin_aiosqlite"
T = TypeVar("T")

READ_BUDGET = 0.005
"""Seconds a read may run in the event loop before it is stopped and run in the thread."""
HERE_MANY = 20
"""Rows of an executemany run in the event loop (a case's first log entries); more go to the
thread (bulk loads)."""
CHECKPOINT_EVERY = 256
"""Commits between two checkpoints run by the checkpoint thread (a report writes about a dozen
pages, so the log stays a few hundred pages long)."""
WAL_BACKSTOP_PAGES = 8000
"""`wal_autocheckpoint` of the bot's connections: a commit checkpoints in the event loop only
if the checkpoint thread has fallen this far behind (SQLite's default is 1,000 pages)."""
_PROGRESS_STEPS = 2000  # SQLite VM steps between two looks at the clock during a read
_READ, _WRITE, _BEGIN = "read", "write", "begin"
_HERE = {"SELECT": _READ, "WITH": _READ, "INSERT": _WRITE, "UPDATE": _WRITE, "BEGIN": _BEGIN}
"""Statements run in the event loop, by first word."""
_HEAD = re.compile(r"\s*([A-Za-z]+)")
_BUSY_TIMEOUT = re.compile(r"\s*PRAGMA\s+busy_timeout\s*=\s*(\d+)", re.I)
# Failures that mean "not here": the database is busy, or a read ran past its budget. The
# statement did nothing (a stopped read changes nothing), so it runs again in the thread.
_RETRY_IN_THREAD = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT}
)


def _runs_here(operation: str) -> str | None:
    """How a statement runs in the loop (`_READ`, `_WRITE`, `_BEGIN`); None: in the thread."""
    head = _HEAD.match(operation)
    return _HERE.get(head.group(1).upper()) if head else None


def _may_wait(conn: sqlite3.Connection, how: str, operation: str) -> bool:
    # BEGIN IMMEDIATE (or EXCLUSIVE) may wait for the write lock, and so may a write outside a
    # transaction; a plain BEGIN takes no lock. A write in a transaction never waits: every
    # transaction that writes began IMMEDIATE (storage/engine.py) and holds the lock, and a
    # read-only one does not write.
    if how is _BEGIN:
        words = operation.split(None, 2)
        return len(words) > 1 and words[1].upper() in ("IMMEDIATE", "EXCLUSIVE")
    return how is _WRITE and not conn.in_transaction


def _without_waiting(conn: sqlite3.Connection, busy_ms: int, fn: Callable[[], T]) -> T:
    """Run `fn` with no busy wait: a locked database fails at once instead of blocking."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        return fn()
    finally:
        conn.execute(f"PRAGMA busy_timeout={busy_ms}")


def _within_budget(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    """Run a read, stopped (SQLITE_INTERRUPT) once it has run READ_BUDGET seconds."""
    deadline = time.perf_counter() + READ_BUDGET
    conn.set_progress_handler(lambda: time.perf_counter() > deadline, _PROGRESS_STEPS)
    try:
        return fn()
    finally:
        conn.set_progress_handler(None, 0)


def _retry_in_thread(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _RETRY_IN_THREAD


if not callable(getattr(aiosqlite.Connection, "_execute", None)):  # pragma: no cover
    raise ImportError(
        f"aiosqlite {aiosqlite.__version__} has no Connection._execute; "
        "install the version in constraints.txt"
    )


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on a database file in a thread of its own.

    A passive checkpoint takes no lock that writers or readers wait for, so the loop's commits
    go on while it copies and flushes; its fsyncs are the ones a commit no longer pays. What is
    durable does not change: in WAL mode a commit is in the log, whoever checkpoints it later.
    """

    def __init__(self, path: str, *, uri: bool = False, every: int | None = None) -> None:
        self._path = path
        self._uri = uri
        self._every = every or CHECKPOINT_EVERY
        self._commits = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jinlin-checkpoint")
        self._running: Future[None] | None = None
        self._conn: sqlite3.Connection | None = None  # opened and used in the thread only
        self._lock = threading.Lock()
        self.checkpoints = 0  # how many ran (tests read it)

    def committed(self) -> None:
        """Count a commit; every `every` commits start a checkpoint unless one is running."""
        self._commits += 1
        if self._commits < self._every:
            return
        if self._running is not None and not self._running.done():
            return
        self._commits = 0
        self._running = self._pool.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self._path, uri=self._uri, isolation_level=None, check_same_thread=False
                )
                self._conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                return  # busy or gone: the next one (or the backstop) catches up
            self.checkpoints += 1

    def wait(self) -> None:
        """Wait for a checkpoint under way (tests)."""
        running = self._running
        if running is not None:
            running.result()

    def close(self) -> None:
        """Finish a checkpoint under way and close the thread's connection."""
        self._pool.shutdown(wait=True)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _file_of(arg: Sequence[Any], kw: dict[str, Any]) -> str | None:
    """The database file a connection opens, or None for an in-memory database."""
    name = str(arg[0] if arg else kw.get("database", ""))
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return name


class _InThreadCursor:
    """The driver-side cursor: a sqlite3 cursor run here or in aiosqlite's thread, one trip."""

    def __init__(self, connection: aiosqlite.Connection, owner: DriverConnection) -> None:
        self._connection = connection
        self._owner = owner
        self._cursor: sqlite3.Cursor | None = None
        self.arraysize = 1

    async def __aenter__(self) -> _InThreadCursor:
        return self

    def _raw(self) -> sqlite3.Cursor:
        if self._cursor is None:
            self._cursor = self._connection._conn.cursor()
        return self._cursor

    async def _in_thread(self, fn: Callable[[], T]) -> T:
        run: Callable[..., Awaitable[Any]] = self._connection._execute  # aiosqlite's queue
        return cast(T, await run(fn))

    def _execute_fetch(self, operation: str, parameters: Any) -> list[Any] | None:
        cursor = self._raw()
        cursor.execute(operation, () if parameters is None else parameters)
        return cursor.fetchall() if cursor.description else None

    async def execute_fetch(self, operation: str, parameters: Any) -> Any:
        """Execute and, when there are rows, fetch them all: here if short, else one trip."""
        how = _runs_here(operation)
        if how is not None:
            conn = self._connection._conn
            run = partial(self._execute_fetch, operation, parameters)
            try:
                if how is _READ:
                    return _within_budget(conn, run)
                if _may_wait(conn, how, operation):
                    return _without_waiting(conn, self._owner._busy_ms, run)
                return run()
            except sqlite3.OperationalError as e:
                if not _retry_in_thread(e):
                    raise
        else:
            wait = _BUSY_TIMEOUT.match(operation)
            if wait is not None:
                self._owner._busy_ms = int(wait.group(1))
        return await self._in_thread(lambda: self._execute_fetch(operation, parameters))

    async def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        """Execute once per parameter set: here if they are few, else one trip."""
        run = partial(self._raw().executemany, operation, seq_of_parameters)
        conn = self._connection._conn
        if len(seq_of_parameters) <= HERE_MANY and _runs_here(operation) is _WRITE:
            try:
                if _may_wait(conn, _WRITE, operation):
                    _without_waiting(conn, self._owner._busy_ms, run)
                else:
                    run()
                return
            except sqlite3.OperationalError as e:
                if not _retry_in_thread(e):
                    raise
        await self._in_thread(run)

    @property
    def description(self) -> Any:
        """The last statement's columns, as sqlite3 gives them."""
        return self._cursor.description if self._cursor is not None else None

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        return self._cursor.lastrowid if self._cursor is not None else None

    def close(self) -> None:
        """Nothing to do: rowcount and lastrowid are read after close, the rows are fetched,
        and the sqlite3 cursor goes with this object."""


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # nothing to await: close() only drops a reference

    def _make_new_cursor(self, connection: Any) -> Any:
        return _InThreadCursor(connection, self._adapt_connection)  # type: ignore[arg-type]

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            cursor: _InThreadCursor = self._cursor  # type: ignore[assignment]
            rows = await cursor.execute_fetch(operation, parameters)
            if rows is not None:
                self._rows = deque(rows)
            return None


class DriverConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_busy_ms", "checkpointer")
    _cursor_cls = _Cursor

    def __init__(
        self,
        dbapi: Any,
        connection: aiosqlite.Connection,
        busy_ms: int,
        checkpointer: Checkpointer | None,
    ) -> None:
        super().__init__(dbapi, connection)  # type: ignore[arg-type]
        self._busy_ms = busy_ms  # the wait of a statement run in the thread
        self.checkpointer = checkpointer  # None for an in-memory database

    def _end(self, name: str, fallback: Callable[[], None]) -> None:
        conn = self._connection._connection
        if conn is None:
            return  # closed: as the stock adapter, nothing to end
        try:
            # Neither waits for a lock: a transaction that wrote holds the write lock already,
            # and WAL's checkpoint after a commit is passive.
            getattr(conn, name)()
        except sqlite3.OperationalError as e:
            if not _retry_in_thread(e):
                self._handle_exception(e)
            fallback()
        except Exception as e:
            self._handle_exception(e)

    async def run_direct(self, sql: str, args: Any, many: bool) -> tuple[list[Any], int]:
        """Run one statement (or one per argument tuple) as a cursor of this connection would:
        its rows, if any, and the rows it changed (storage/direct.py)."""
        async with self._execute_mutex:
            cursor = _InThreadCursor(cast(aiosqlite.Connection, self._connection), self)
            if many:
                await cursor.executemany(sql, args)
                return [], cursor.rowcount
            rows = await cursor.execute_fetch(sql, args)
            return rows or [], cursor.rowcount

    def commit(self) -> None:
        """COMMIT here; in the thread if the database is busy."""
        self._end("commit", super().commit)
        if self.checkpointer is not None:
            self.checkpointer.committed()

    def close(self) -> None:
        """Close the connection, then its checkpoint thread."""
        try:
            super().close()
        finally:
            if self.checkpointer is not None:
                self.checkpointer.close()

    def rollback(self) -> None:
        """ROLLBACK here; in the thread if the database is busy."""
        self._end("rollback", super().rollback)


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> DriverConnection:
        # Statements run in the event loop's thread too (never two at once: each connection
        # runs one statement at a time, and waits for its thread before the next).
        kw["check_same_thread"] = False
        busy_ms = int(float(kw.get("timeout", 5.0)) * 1000)  # sqlite3's default wait
        path = _file_of(arg, kw)
        checkpointer = Checkpointer(path, uri=bool(kw.get("uri"))) if path else None
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as the stock adapter: never keep the process alive
        return DriverConnection(self, await_(connection), busy_ms, checkpointer)


class _HintingCompiler(SQLiteCompiler):
    """SQLite's compiler, writing a table hint after the table's name (`cases INDEXED BY ix`)."""

    def get_from_hint_text(self, table: FromClause, text: str | None) -> str | None:
        return text


class OneTripSQLiteDialect(SQLiteDialect_aiosqlite):
    """`sqlite+aiosqlite` running short statements in the loop, the rest in one trip."""

    driver = DRIVER
    supports_statement_cache = True
    statement_compiler = _HintingCompiler

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        """The adapted DBAPI module."""
        return _DBAPI(aiosqlite, sqlite3)


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripSQLiteDialect")

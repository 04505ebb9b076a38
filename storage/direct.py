"""The message path's statements on SQLite, run on the transaction's connection directly.

Through a session, one prepared INSERT costs SQLAlchemy about 300 Python calls (the ORM's
execute, the execution context, the result) for microseconds of SQLite's work: on a report's
eight statements that was about half of the message's time. `run` compiles a Core statement once
(per dialect and set of parameter names), applies the same bind processors SQLAlchemy would, and
hands the SQL to the driver of `storage/sqlite_driver.py` on the session's own connection and
transaction, with the same rules there (in the event loop, never waiting; else in the thread).

It is a shortcut, not a second way to write: a statement it cannot run exactly as SQLAlchemy
would (another driver, Python-side column defaults, expanding `IN` lists, result columns that
need converting) makes `run` return None, and the caller runs it through the session as before.
Pending ORM changes are flushed first, as autoflush would. `before_cursor_execute` listeners are
called as SQLAlchemy calls them (the statement-count tests listen there). Errors are the
driver's own (`sqlite3.Error`), not wrapped in SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from storage import sqlite_driver

Params = Mapping[str, Any]
_CONNECTION = "jinlin.direct.connection"  # session.info: (its transaction, that connection)


@dataclass(frozen=True, slots=True)
class Result:
    """What a statement gave back: its rows (as the driver returns them) and rows changed."""

    rows: list[Any]
    rowcount: int


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    returns_rows: bool
    # In SQL order: (the caller's parameter name or None, a fixed value, the bind processor)
    order: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]

    def arguments(self, params: Params) -> tuple[Any, ...]:
        out = []
        for name, fixed, fn in self.order:
            value = fixed if name is None else params[name]
            out.append(value if fn is None else fn(value))
        return tuple(out)


@lru_cache(maxsize=512)
def _plan(stmt: ClauseElement, dialect: Dialect, names: tuple[str, ...]) -> _Plan | None:
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is None or compiled.insert_prefetch or compiled.update_prefetch:
        return None  # Python-side defaults: the session's execution context fills them in
    rendered = compiled.post_compile_params | compiled.literal_execute_params
    if any(p.key in names for p in rendered):
        return None  # the caller's lists, rendered per call: the session's job
    for column in compiled._result_columns:
        if column.type._cached_result_processor(dialect, None) is not None:
            return None  # a result column to convert (dates, JSON): the session's job
    # The statement as it is sent (a fixed IN list rendered into placeholders), the values
    # it carries itself, and each parameter's bind processor: all known once.
    state = compiled.construct_expanded_state(dict.fromkeys(names))
    # (the expanded state names only the processors of the parameters it expanded)
    processors: Mapping[str, Any] = {**compiled._bind_processors, **state.processors}
    if any(not callable(fn) for fn in processors.values() if fn is not None):
        return None  # (per-element processors of a tuple parameter)
    assert state.positiontup is not None
    order = tuple(
        (name if name in names else None, state.parameters.get(name), processors.get(name))
        for name in state.positiontup
    )
    return _Plan(state.statement, bool(compiled._result_columns), order)


async def run(
    session: AsyncSession, stmt: ClauseElement, params: Params | Sequence[Params]
) -> Result | None:
    """Run a Core statement on the session's SQLite connection; None if it must go through
    the session (then nothing was run). A list of parameter sets runs as one executemany."""
    many = not isinstance(params, Mapping)
    sets: Sequence[Params] = params if many else [params]  # type: ignore[list-item,assignment]
    if not sets:
        return None
    bind = session.bind
    if bind is None or bind.dialect.driver != sqlite_driver.DRIVER:
        return None
    plan = _plan(stmt, bind.dialect, tuple(sorted(sets[0])))
    if plan is None or (many and plan.returns_rows):
        return None  # (sqlite3's executemany returns no rows)
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as autoflush before a statement that may read them
    sync = await _connection(session)
    driver = sync.connection.dbapi_connection
    if not isinstance(driver, sqlite_driver.DriverConnection):
        return None
    args: Any = [plan.arguments(p) for p in sets] if many else plan.arguments(sets[0])
    if sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, plan.sql, args, None, many)
    rows, rowcount = await driver.run_direct(plan.sql, args, many)
    return Result(rows, rowcount)


async def execute(
    session: AsyncSession, stmt: ClauseElement, params: Params | Sequence[Params]
) -> Result:
    """Run a Core statement directly when `run` can, else through the session; either way
    its rows (empty if it returns none) and the rows it changed."""
    ran = await run(session, stmt, params)
    if ran is not None:
        return ran
    result = await session.execute(cast(Any, stmt), params)
    if not isinstance(result, CursorResult):  # the ORM's result of a statement with rows
        return Result(list(result.all()), -1)
    return Result(list(result.all()) if result.returns_rows else [], result.rowcount)


async def _connection(session: AsyncSession) -> Connection:
    """The connection of the session's transaction (begun if need be), asked once per
    transaction: asking the session is a trip through its greenlet each time."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_CONNECTION)
    if transaction is not None and known is not None and known[0] is transaction:
        return cast(Connection, known[1])
    sync = (await session.connection()).sync_connection
    assert sync is not None
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), sync)
    return sync

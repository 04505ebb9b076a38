"""The SQLite driver runs short statements in the event loop, and never waits there."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import sqlite_driver
from storage.engine import create_engine, session_factory


async def test_a_locked_database_is_waited_for_in_the_thread(tmp_path: Path) -> None:
    """Another connection holds the write lock: BEGIN IMMEDIATE waits, and the loop runs on."""
    db = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.3, other.commit)  # only runs if the loop does
        began = time.perf_counter()
        try:
            async with session_factory(engine)() as s, s.begin():
                await s.execute(text("INSERT INTO t VALUES (2)"))
        finally:
            ticker.cancel()
        # It went on as soon as the lock was free (a wait in the loop would have held the
        # commit back for the whole busy timeout), and the loop ran meanwhile.
        assert time.perf_counter() - began < 10
        assert ticks >= 10
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
        assert rows == [1, 2]
    finally:
        other.close()
        await engine.dispose()


async def test_a_long_read_is_stopped_and_run_in_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read past the budget gives the same rows, from the thread (the loop is not held)."""
    monkeypatch.setattr(sqlite_driver, "READ_BUDGET", 0.0)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'long.db'}")
    count_to = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
        "SELECT count(*), sum(i) FROM n"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with session_factory(engine)() as s:
            async with s.begin():
                await s.execute(text("INSERT INTO t VALUES (1), (2)"))
                assert (await s.execute(count_to)).one() == (200000, 200000 * 200001 // 2)
                # The stopped read did not end the transaction: what it wrote is still there.
                assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
            assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_checkpoints_run_in_their_own_thread_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every few commits a passive checkpoint runs on the checkpoint thread's connection; the
    loop's connection only checkpoints as a backstop, and every committed row is there."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY", 5)
    db = tmp_path / "wal.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            backstop = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
        assert backstop == sqlite_driver.WAL_BACKSTOP_PAGES
        sessions = session_factory(engine)
        for n in range(23):
            async with sessions() as s, s.begin():
                await s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.dbapi_connection
            assert isinstance(driver, sqlite_driver.DriverConnection)
            checkpointer = driver.checkpointer
            assert checkpointer is not None
            await asyncio.to_thread(checkpointer.wait)
            assert checkpointer.checkpoints >= 3
    finally:
        await engine.dispose()
    # What a crash leaves is what was committed: another connection reads every row.
    other = sqlite3.connect(db)
    try:
        assert [n for (n,) in other.execute("SELECT n FROM t ORDER BY n")] == list(range(23))
    finally:
        other.close()


async def test_an_in_memory_database_has_no_checkpoint_thread() -> None:
    """Nothing to checkpoint in memory."""
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).dbapi_connection
            assert isinstance(driver, sqlite_driver.DriverConnection)
            assert driver.checkpointer is None
    finally:
        await engine.dispose()

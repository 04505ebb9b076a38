"""The PostgreSQL fixtures give a working server and an isolated database per test."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.pg import temporary_database


async def _scalar(url: str, *statements: str) -> object:
    """Run statements on a short-lived engine; return the last one's single value."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in statements:
                result = await conn.execute(text(sql))
            return result.scalar_one()
    finally:
        await engine.dispose()


async def test_database_accepts_queries_and_ddl(pg_database_url: str) -> None:
    engine = create_async_engine(pg_database_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
            await conn.execute(text("create table probe (id serial primary key, note text)"))
            await conn.execute(text("insert into probe (note) values ('近邻')"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("select note from probe"))).scalar_one() == "近邻"
    finally:
        await engine.dispose()


async def test_two_databases_are_distinct_and_isolated(
    pg_server_url: str, pg_database_url: str
) -> None:
    assert make_url(pg_server_url).database == "postgres"
    with temporary_database(pg_server_url) as second_url:
        first, second = make_url(pg_database_url).database, make_url(second_url).database
        assert first != second
        assert first and second and first.startswith("t_") and second.startswith("t_")
        assert await _scalar(pg_database_url, "select current_database()") == first
        assert await _scalar(second_url, "select current_database()") == second
        await _scalar(pg_database_url, "create table probe (id int)", "select 1")
        assert await _scalar(second_url, "select to_regclass('probe') is null") is True
    # Leaving the block drops the database.
    exists = f"select count(*) from pg_database where datname = '{second}'"
    assert await _scalar(pg_server_url, exists) == 0

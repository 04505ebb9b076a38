"""The composition root: config + transport + clock + database → a running bot."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.grid import Grid
from bot.core.messages import Incoming, Transport
from bot.dispatcher import ActivityTitles, Dispatcher
from bot.scheduler import TaskRunner, start_realtime
from bot.sender import STOP_GRACE, OutboxSender, SendPolicy
from handlers.activities import ActivityTitleCache
from handlers.outcome import Outcome
from handlers.registry import Registry, build_registry
from storage import figure_cells, maintenance, schema
from storage.engine import create_engine, session_factory

log = logging.getLogger(__name__)


class SchemaOutdated(Exception):
    """The database schema is behind the code; run `jinlin db upgrade`."""


@dataclass
class App:
    """A wired bot: call start(), then serve() until cancelled, then stop()."""

    config: Config
    grid: Grid
    transport: Transport
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: Registry
    dispatcher: Dispatcher
    sender: OutboxSender
    tasks: TaskRunner
    _scheduler: AsyncIOScheduler | None = field(default=None, repr=False)

    async def start(self, *, upgrade: bool | None = None) -> None:
        """Bring the schema up to date (SQLite by default), plan upcoming tasks."""
        if upgrade is None:
            upgrade = self.engine.dialect.name == "sqlite"
        if upgrade:
            await schema.upgrade(self.engine)
        else:
            await ensure_schema_current(self.engine)
        # The figures' sums, made once for the configured timezone (after an upgrade to 0012,
        # or if the timezone changed): a city's million cases take a while, once.
        await figure_cells.ensure(self.engine, self.config.bot.tz)
        async with self.sessions() as session, session.begin():
            await maintenance.optimize(session)
        await self.tasks.plan()
        # What is alive now (the config and grid, the parser's model, the engine) lives as
        # long as the process: the collector's full passes need not walk it again each time a
        # page makes many objects (a city's figures: 22,000 days; 70-200 ms of passes).
        gc.collect()
        gc.freeze()

    async def handle(self, msg: Incoming) -> Outcome:
        """Process one incoming message (the transport loop calls this)."""
        return await self.dispatcher.handle(msg)

    async def serve(self) -> None:
        """Receive, dispatch, send and run scheduled tasks until cancelled."""
        self._scheduler = start_realtime(self.tasks, self.config.bot.timezone, self.sender.wake)
        sender = asyncio.create_task(self.sender.run(), name="outbox-sender")
        try:
            async for msg in self.transport.incoming():
                in_hand = asyncio.ensure_future(self.dispatcher.handle(msg))
                try:
                    # Stopping (SIGTERM cancels serve) never cuts a message in half: the one in
                    # hand is finished and committed whole; the next is left for the next start.
                    await asyncio.shield(in_hand)
                except asyncio.CancelledError:
                    with contextlib.suppress(Exception):
                        await in_hand
                    raise
        finally:
            # No new polls; a poll under way finishes (cancelled mid-query it would log a
            # traceback and leave its task claimed until the lease lapses).
            self._scheduler.pause()
            polls = [t for t in asyncio.all_tasks() if _is_poll(t) and not t.done()]
            if polls:
                await asyncio.wait(polls, timeout=STOP_GRACE)
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            await self.sender.stop(sender)

    async def stop(self) -> None:
        """Release the database."""
        await self.engine.dispose()


def _is_poll(task: asyncio.Task[Any]) -> bool:
    # APScheduler 3 runs each coroutine job in a task of this function
    return getattr(task.get_coro(), "__qualname__", "") == "run_coroutine_job"


async def ensure_schema_current(engine: AsyncEngine) -> None:
    """Refuse to run on a database whose schema is not at the code's head revision."""
    from alembic.script import ScriptDirectory

    from storage.schema import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    current = await schema.current_revision(engine)
    if current != head:
        raise SchemaOutdated(
            f"数据库的结构版本是 {current or '（空库）'}，这一版机器人需要 {head}："
            "请先运行 jinlin db upgrade --config 配置文件"
        )


def build_app(
    config: Config,
    transport: Transport,
    clock: Clock,
    *,
    db_url: str | None = None,
    policy: SendPolicy | None = None,
    registry: Registry | None = None,
    activity_titles: ActivityTitles | None = None,
) -> App:
    """Wire a bot; nothing runs until start()."""
    engine = create_engine(db_url or config.storage.url)
    sessions = session_factory(engine)
    grid = Grid(config)
    registry = registry or build_registry()
    sender = OutboxSender(
        sessions=sessions,
        transport=transport,
        clock=clock,
        account=config.bot.account,
        policy=policy or SendPolicy.from_config(config.sending),
    )
    dispatcher = Dispatcher(
        config=config,
        grid=grid,
        registry=registry,
        sessions=sessions,
        clock=clock,
        activity_titles=activity_titles or ActivityTitleCache(),
        on_enqueued=sender.wake,
    )
    runner = TaskRunner(
        config=config,
        grid=grid,
        registry=registry,
        dispatcher=dispatcher,
        sessions=sessions,
        clock=clock,
    )
    return App(
        config=config,
        grid=grid,
        transport=transport,
        clock=clock,
        engine=engine,
        sessions=sessions,
        registry=registry,
        dispatcher=dispatcher,
        sender=sender,
        tasks=runner,
    )


def local_now(clock: Clock, config: Config) -> datetime:
    """The clock's now in the bot's timezone."""
    return clock.now().astimezone(config.bot.tz)

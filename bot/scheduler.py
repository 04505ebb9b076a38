"""Runs scheduled tasks from the database when due: on a virtual clock (replay) or in real time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.grid import Grid
from bot.dispatcher import Dispatcher
from handlers.context import TaskContext
from handlers.registry import Registry
from storage import tasks
from storage.cases import CaseRepository

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
POLL_SECONDS = 15


class TaskRunner:
    """Plans upcoming occasions and runs due tasks; every step is idempotent by task key."""

    def __init__(
        self,
        *,
        config: Config,
        grid: Grid,
        registry: Registry,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self._dispatcher = dispatcher
        self._config = config
        self._grid = grid
        self._registry = registry
        self._sessions = sessions
        self._clock = clock

    def _ctx(self, session: AsyncSession, now: datetime) -> TaskContext:
        return TaskContext(
            now=now,
            config=self._config,
            grid=self._grid,
            session=session,
            cases=CaseRepository(session),
        )

    async def plan(self) -> None:
        """Let every planner schedule what is coming up."""
        now = self._clock.now()
        for planner in self._registry.planners:
            async with self._sessions() as session, session.begin():
                await planner(self._ctx(session, now))

    async def run_due(self) -> int:
        """Run every task due now; returns how many ran (stale ones are marked, not run)."""
        now = self._clock.now()
        async with self._sessions() as session:
            due = await tasks.due(session, now)
            session.expunge_all()  # keep the loaded rows usable: a rollback would expire them
            await session.rollback()
        ran = 0
        for task in due:
            ran += await self._dispatcher.run_task(task, now, LEASE)
        return ran

    async def next_due_at(self) -> datetime | None:
        """When the next pending task is due."""
        async with self._sessions() as session:
            return await tasks.next_due_at(session)

    async def tick(self) -> int:
        """Plan, then run what is due (one poll of the real-time scheduler)."""
        await self.plan()
        return await self.run_due()


def start_realtime(runner: TaskRunner, tz: str, on_ran: object = None) -> AsyncIOScheduler:
    """Poll the task table every few seconds with APScheduler; returns the started scheduler."""
    scheduler = AsyncIOScheduler(timezone=tz)

    async def poll() -> None:
        try:
            ran = await runner.tick()
            if ran and callable(on_ran):
                on_ran()
        except Exception:
            log.exception("scheduled tasks failed; will retry at the next poll")

    # Late polls are merged rather than queued; the tasks' own grace decides what is stale.
    scheduler.add_job(
        poll,
        IntervalTrigger(seconds=POLL_SECONDS, timezone=tz),
        id="tasks",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=POLL_SECONDS * 4,
        next_run_time=datetime.now(scheduler.timezone),
    )
    scheduler.start()
    return scheduler

"""The figures' sums (storage/figure_cells.py) give the numbers the cases themselves give.

Every test compares `figures.month` read from the sums with the same month counted from the
cases rows (`from_cases=True`, the SQL the sums replaced), on SQLite and PostgreSQL, after the
changes a case goes through: filed, taken, resolved, rated, rated again, reopened, closed,
edited in the console, deleted; in a month with a clock change, and across a month's end.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.domain import CaseKind, CaseStatus
from bot.core.grid import Grid
from bot.web import queries
from storage import figure_cells, figures, schema
from storage.engine import create_engine, session_factory
from storage.models import Case, FigureDay, FigureMonth
from tests.support.replaying import run_events, scenario_config

BERLIN = ZoneInfo("Europe/Berlin")  # clocks go forward on 2026-03-29 and back on 2026-10-25
COMPOUNDS = ["甲小区", "乙小区", "丙小区"]
MONTHS = ["2026-02", "2026-03", "2026-04", "2026-10"]


def days_of(month: str, zone: ZoneInfo) -> list[datetime]:
    """The month's local midnights, 1st to 1st, as the console asks for them."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    out = []
    day = start
    while day < end:
        out.append(day)
        nxt = day.date() + timedelta(days=1)
        day = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return [*out, end]


def _case(rng: random.Random, i: int, created: datetime) -> Case:
    kind = CaseKind.WISH if i % 6 == 0 else CaseKind.REPORT
    status = rng.choice(list(CaseStatus))
    accepted = created + timedelta(minutes=rng.randint(1, 300)) if status != "open" else None
    resolved = (
        created + timedelta(hours=rng.randint(1, 90), seconds=rng.random())
        if status == CaseStatus.RESOLVED
        else None
    )
    return Case(
        kind=kind,
        number=i,
        compound=rng.choice(COMPOUNDS),
        building=rng.choice(["1", "2", "12", None]),
        text="电梯坏了",
        status=status,
        reporter_id=f"wx_r{i}",
        reporter_name="居民",
        assignee_id="wx_head",
        rating=rng.choice([None, 1, 3, 5]) if resolved else None,
        created_at=created,
        accepted_at=accepted,
        resolved_at=resolved,
        updated_at=created,
        accept_due_at=created + timedelta(hours=2) if rng.random() < 0.9 else None,
    )


def _instants(rng: random.Random) -> list[datetime]:
    """Filing times that test the edges: local midnights, the clock changes, months' ends."""
    edges = [
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # 01:59:59 CET, before the change
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),  # 03:00 CEST, after it
        datetime(2026, 3, 28, 23, 0, 0, tzinfo=UTC),  # the local midnight of the 29th
        datetime(2026, 3, 31, 21, 59, 59, 999999, tzinfo=UTC),  # 23:59:59 on the 31st
        datetime(2026, 3, 31, 22, 0, 0, tzinfo=UTC),  # April, local time
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first of the two
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, the second
        datetime(2026, 2, 28, 23, 0, 0, tzinfo=UTC),  # March, local time
    ]
    start = datetime(2026, 2, 20, tzinfo=UTC)
    spread = [
        start + timedelta(seconds=rng.randint(0, 75 * 86400), microseconds=rng.randint(0, 999999))
        for _ in range(260)
    ]
    autumn = [
        datetime(2026, 10, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 30 * 86400))
        for _ in range(40)
    ]
    return edges + spread + autumn


async def fill(engine: AsyncEngine, seed: int = 3) -> None:
    """Cases of three compounds over February to April and October, one by one (triggers)."""
    rng = random.Random(seed)
    async with session_factory(engine)() as s, s.begin():
        s.add_all(_case(rng, i, when) for i, when in enumerate(_instants(rng), start=1))


async def same_figures(engine: AsyncEngine, zone: ZoneInfo, months: list[str]) -> None:
    """Each month's figures from the sums equal those counted from the cases."""
    async with session_factory(engine)() as s:
        assert await figure_cells.zone_of(s) == zone.key  # (else both would count)
        for month in months:
            days = days_of(month, zone)
            summed = await figures.month(s, [*COMPOUNDS, "无此小区"], days)
            counted = await figures.month(s, [*COMPOUNDS, "无此小区"], days, from_cases=True)
            assert summed == counted, month
            assert sum(r.filed for r in summed.totals.values()) > 0, month


async def test_sums_equal_the_cases_through_every_change(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await schema.upgrade(engine)
        assert await figure_cells.ensure(engine, BERLIN)
        assert not await figure_cells.ensure(engine, BERLIN)  # made once
        await fill(engine)
        await same_figures(engine, BERLIN, MONTHS)
        rng = random.Random(5)
        async with session_factory(engine)() as s, s.begin():
            cases = list((await s.execute(select(Case).order_by(Case.id))).scalars())
            for case in rng.sample(cases, 120):
                change = rng.choice(
                    ["rate", "rerate", "reopen", "resolve", "close", "edit", "due", "take"]
                )
                now = case.created_at + timedelta(days=rng.randint(0, 40), hours=3)
                if change in ("rate", "rerate") and case.status == CaseStatus.RESOLVED:
                    case.rating = rng.choice([1, 2, 4, 5])  # a rating long after resolution
                    case.rated_at = now
                elif change == "reopen":  # as handlers/casework.reopen does
                    case.status = CaseStatus.OPEN
                    case.accepted_at = case.resolved_at = case.rating = case.rated_at = None
                elif change == "resolve":  # resolved in a later month, perhaps
                    case.status, case.resolved_at = CaseStatus.RESOLVED, now
                elif change == "close":
                    case.status = CaseStatus.CLOSED
                elif change == "edit":  # the console moves a case
                    case.compound = rng.choice(COMPOUNDS)
                    case.building = rng.choice(["3", None])
                elif change == "due":
                    case.accept_due_at = case.created_at + timedelta(minutes=30)
                else:
                    case.status, case.accepted_at = CaseStatus.ACCEPTED, now
                case.updated_at = now
                await s.flush()  # one UPDATE per change, in order
            await s.execute(delete(Case).where(Case.id.in_([c.id for c in cases[:5]])))
        await same_figures(engine, BERLIN, MONTHS)
        # A change that does not touch what the figures read changes no sum.
        before = await _sums(engine)
        async with session_factory(engine)() as s, s.begin():
            await s.execute(text("UPDATE cases SET assignee_name = '新楼栋长', text = '灯'"))
        assert await _sums(engine) == before
    finally:
        await engine.dispose()


async def _sums(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every non-zero row of the sums, in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for model, keys in ((FigureMonth, 4), (FigureDay, 2)):
            rows = (await conn.execute(select(model.__table__))).all()
            out[model.__tablename__] = sorted(
                tuple(r) for r in rows if any(v != 0 for v in tuple(r)[keys:])
            )
    return out


async def test_a_rebuild_gives_what_the_triggers_kept(db_url: str) -> None:
    """Made from the cases at once (an upgraded database, demo-data) or case by case, the same
    rows; another timezone makes them again, for its own days."""
    engine = create_engine(db_url)
    try:
        await schema.upgrade(engine)
        await fill(engine)  # before the sums are made: the triggers find no day, add nothing
        assert await _sums(engine) == {"figure_months": [], "figure_days": []}
        assert await figure_cells.ensure(engine, BERLIN)  # an upgraded database's first start
        rebuilt = await _sums(engine)
        await same_figures(engine, BERLIN, MONTHS)
        async with engine.begin() as conn:
            await conn.execute(delete(Case))
            await conn.execute(delete(FigureMonth))
            await conn.execute(delete(FigureDay))
        await fill(engine)  # the same cases again, one by one through the triggers
        assert await _sums(engine) == rebuilt
        shanghai = ZoneInfo("Asia/Shanghai")
        assert await figure_cells.ensure(engine, shanghai)
        await same_figures(engine, shanghai, MONTHS)
    finally:
        await engine.dispose()


async def test_two_processes_make_the_sums_once(db_url: str) -> None:
    engine = create_engine(db_url)
    other = create_engine(db_url)
    try:
        await schema.upgrade(engine)
        await fill(engine)
        made = await asyncio.gather(
            figure_cells.ensure(engine, BERLIN), figure_cells.ensure(other, BERLIN)
        )
        assert sorted(made) == [False, True]
        await same_figures(engine, BERLIN, MONTHS)
    finally:
        await engine.dispose()
        await other.dispose()


async def test_the_bot_keeps_the_sums_of_its_cases(db_url: str) -> None:
    """A report, taken, resolved after midnight, rated; another one closed as spam: through
    the whole bot, the console's figures read from the sums equal those of the cases."""
    config = scenario_config()
    lines = [
        {"room": "滨江花园7栋群", "sender": "wx_r1", "name": "7栋1502-孙阿姨",
         "text": "楼道的灯坏了好几天了，晚上黑漆漆的，麻烦修一下", "at": "2026-12-03T09:00"},
        {"sender": "wx_head7", "name": "陈大姐", "text": "接单 #1", "at": "2026-12-03T09:31"},
        {"room": "滨江花园7栋群", "sender": "wx_r2", "name": "7栋302-老黄",
         "text": "7栋电梯又坏了，困在里面半天", "at": "2026-12-03T23:50"},
        {"sender": "wx_head7", "name": "陈大姐", "text": "办结 1 已换了新灯泡",
         "at": "2026-12-04T00:10"},
        {"room": "滨江花园7栋群", "sender": "wx_r1", "name": "7栋1502-孙阿姨", "text": "满意",
         "at": "2026-12-04T08:20"},
    ]  # fmt: skip
    events = [json.dumps({**e, "at": e["at"] + ":00+08:00"}, ensure_ascii=False) for e in lines]
    await run_events(config, events, db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            assert await figure_cells.zone_of(s) == "Asia/Shanghai"  # made at the bot's start
            compounds = [c.name for c in Grid(config).compounds()]
            got = await queries.month_figures(s, compounds, "2026-12", config)
            days = days_of("2026-12", config.bot.tz)
            counted = await figures.month(s, compounds, days, from_cases=True)
        total = got[compounds.index("滨江花园")].total
        assert (total.filed, total.resolved, total.rated, total.satisfied) == (2, 1, 1, 1)
        assert [(d.filed, d.resolved) for d in got[0].days[2:4]] == [(2, 0), (0, 1)]
        for fig in got:
            assert fig.total == (
                counted.totals.get(fig.compound) or figures.empty_rates(fig.compound)
            )
            assert fig.buildings == counted.buildings.get(fig.compound, [])
            assert fig.days == counted.days[fig.compound]
    finally:
        await engine.dispose()

"""`jinlin bench city`: what a city-sized database costs the people who use it.

Each figure goes through the public paths the bot and the console use: the dispatcher for chat
(待办, a report, a rating), bot/web/queries for the console's board and figures; so whatever
makes those paths faster shows up here.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from bot.app import App, build_app
from bot.bench.common import Database, NullTransport, heading, median_of, ms, note, row
from bot.bench.worker import with_account
from bot.core.clock import VirtualClock
from bot.core.config import load_config
from bot.core.domain import CaseKind, CaseStatus
from bot.core.messages import Incoming
from bot.demo_data import CITY_NOW, CityShape
from bot.web import queries
from storage.models import Case

MONTH = "2026-11"  # the last whole month before CITY_NOW
CITY_ROWS = (
    "start-up (App.start), first",
    "start-up (App.start), again",
    "peak RSS of a bot process",
    "待办 for a building head",
    "board page 1, one compound",
    "board page 1, all compounds",
    "month figures, one compound",
    "city figures (every compound)",
    "a report through the dispatcher",
    "a rating through the dispatcher",
)


def startup_in_subprocess(config: Path, db_url: str) -> dict[str, float]:
    """App.start and peak RSS of a fresh bot process on the city."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.bench.startup", str(config), db_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the start-up process failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _message(run: int, room: str | None, sender: str, name: str, text: str) -> Incoming:
    return Incoming(
        message_id=f"city:{time.time_ns()}:{run}",
        room=room,
        sender_id=sender,
        sender_name=name,
        text=text,
        mentions_bot=False,
        at=CITY_NOW,
    )


async def _rating_reporters(app: App, count: int) -> list[tuple[str, str, str]]:
    """Reporters of resolved, unrated reports in group chats: (id, name, room)."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(Case.reporter_id, Case.reporter_name, Case.room, Case.id)
            .where(
                Case.kind == CaseKind.REPORT,
                Case.status == CaseStatus.RESOLVED,
                Case.rating.is_(None),
                Case.room.is_not(None),
            )
            .order_by(Case.id.desc())
            .limit(count * 20)
        )
        seen: dict[str, tuple[str, str, str]] = {}
        for rid, name, room, _ in rows:
            if room is not None:
                seen.setdefault(rid, (rid, name, room))
        return list(seen.values())[:count]


async def _city_figures(
    app: App, compounds: tuple[str, ...], runs: int, budget: float
) -> tuple[float, float, int]:
    """The console's figures page for every compound: (first, median, runs done), in seconds.

    One call for all of them, as the console makes it; repeated for a median of `runs` (the
    first is the cold one), no more once `budget` seconds are spent.
    """
    took: list[float] = []
    t0 = time.perf_counter()
    while len(took) < runs and (not took or time.perf_counter() - t0 < budget):
        t = time.perf_counter()
        async with app.sessions() as s:
            await queries.month_figures(s, list(compounds), MONTH, app.config)
        took.append(time.perf_counter() - t)
    return took[0], statistics.median(took), len(took)


async def bench_city(
    db: Database,
    shape: CityShape,
    config_path: Path,
    db_url: str,
    runs: int,
    figures_budget: float = 60.0,
) -> dict[str, float]:
    """Print the city rows for one database; the figures by name (seconds, or MB)."""
    heading(
        f"city of {shape.cases:,} cases, {shape.compounds:,} compounds, "
        f"{shape.buildings:,} groups, {db.label}"
    )
    figures: dict[str, float] = {}
    note(f"{db.kind}: start-up and RSS in a fresh process (twice)")
    first = startup_in_subprocess(config_path, db_url)
    again = startup_in_subprocess(config_path, db_url)
    row(CITY_ROWS[0], ms(first["start"]), f"config read in {ms(first['config_load'])}; target 5 s")
    row(CITY_ROWS[1], ms(again["start"]), "the same database, a second process")
    rss = max(first["maxrss_kb"], again["maxrss_kb"]) / 1024
    row(CITY_ROWS[2], f"{rss:,.0f} MB", "after start, a report and 待办; target 200 MB")
    figures[CITY_ROWS[0]] = first["start"]
    figures[CITY_ROWS[1]] = again["start"]
    figures[CITY_ROWS[2]] = rss

    config = with_account(load_config(config_path), "default", db_url)
    clock = VirtualClock(CITY_NOW)
    app = build_app(config, NullTransport(), clock)
    await app.start()
    try:
        compound = config.grid[0].compounds[0]
        head = compound.buildings[0].head
        assert head is not None
        every = tuple(c.name for com in config.grid for c in com.compounds)
        now = CITY_NOW

        answered: list[bool] = []  # the dispatcher's calls: did the bot answer?

        async def todo(run: int) -> None:
            out = await app.handle(_message(run, None, head.id, head.name, "待办"))
            answered.append(out.handled)

        async def board_one(_: int) -> None:
            async with app.sessions() as s:
                await queries.board(
                    s, queries.BoardFilter(compounds=(compound.name,)), config, now
                )

        async def board_all(_: int) -> None:
            async with app.sessions() as s:
                await queries.board(s, queries.BoardFilter(compounds=every), config, now)

        async def figures_one(_: int) -> None:
            async with app.sessions() as s:
                await queries.month_figures(s, [compound.name], MONTH, config)

        rooms = [(r.topic, r.buildings[0]) for r in compound.rooms if r.buildings]

        async def report(run: int) -> None:
            topic, number = rooms[run % len(rooms)]
            things = ("楼道灯不亮", "电梯门关不上", "水管漏水", "门禁坏了", "垃圾桶满了没人清")
            text = f"{number}栋{things[run % len(things)]}"
            sender, name = f"wxid_bench{run}", f"{number}栋10{run}-居民"
            out = await app.handle(_message(run, topic, sender, name, text))
            answered.append(out.handled)

        reporters = await _rating_reporters(app, runs)

        async def rating(run: int) -> None:
            rid, name, room = reporters[run % len(reporters)]
            out = await app.handle(_message(run, room, rid, name, "满意"))
            answered.append(out.handled)

        measures: list[tuple[str, Callable[[int], Awaitable[None]], str]] = [
            (CITY_ROWS[3], todo, f"{head.name}, private chat, through the dispatcher"),
            (CITY_ROWS[4], board_one, compound.name),
            (CITY_ROWS[5], board_all, f"{len(every):,} compounds"),
            (CITY_ROWS[6], figures_one, f"{compound.name}, {MONTH}"),
            (CITY_ROWS[8], report, "group message → case, outbox"),
        ]
        if reporters:
            measures.append((CITY_ROWS[9], rating, "满意 in the group"))
        for label, call, what in measures:
            note(f"{db.kind}: {label}")
            answered.clear()
            took, n = await median_of(runs, call)
            said = f", answered {sum(answered)}/{len(answered)}" if answered else ""
            row(label, ms(took), f"median of {n}{said}; {what}")
            figures[label] = took
        if not reporters:
            row(CITY_ROWS[9], "-", "no resolved, unrated report in the city")
        note(f"{db.kind}: {CITY_ROWS[7]}")
        cold, page, done = await _city_figures(app, every, runs, figures_budget)
        row(
            CITY_ROWS[7],
            ms(page),
            f"median of {done} (the first, cold: {ms(cold)}), {len(every):,} compounds in one "
            f"call as the console makes it, {MONTH}; target 500 ms",
        )
        figures[CITY_ROWS[7]] = page
    finally:
        await app.stop()
    return figures

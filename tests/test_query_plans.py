"""Query plans: each hot query reads through its index, on SQLite and PostgreSQL.

A few thousand rows are enough to tell a search from a scan. Each test runs the real
repository function, records the SQL it sent, and asks the database how it would run it
(SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`). A test fails when a query stops using its
index, e.g. because a filter changed shape or an index was dropped.
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.config import Config
from bot.core.domain import CaseKind, CaseStatus, OutboxStatus, TaskStatus
from bot.core.messages import Outgoing
from bot.outbound import route
from bot.web import queries
from storage import figure_cells, figures, maintenance, outbox, rosters, schema, tasks
from storage.cases import CaseRepository
from storage.engine import create_engine, session_factory
from storage.models import Case, CaseEvent, OutboxMessage, ScheduledTask
from storage.wechat_models import AccountContact, RoomBinding
from tests.support.pg import temporary_database
from tests.support.replaying import scenario_config

NOW = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)
CASES = 4000
COMPOUNDS = [f"小区{i}" for i in range(200)]  # (a city has 728)
REPORTERS = [f"wx_r{i}" for i in range(800)]
HEADS = [f"wx_head{i}" for i in range(60)]


async def _fill(engine: AsyncEngine) -> None:
    """Cases of a year in 200 compounds, their logs, a year's sent outbox and done tasks."""
    rng = random.Random(7)
    cases, events, rows, done = [], [], [], []
    for i in range(1, CASES + 1):
        created = NOW - timedelta(minutes=131 * (CASES - i))
        status = rng.choice(
            [CaseStatus.RESOLVED] * 6 + [CaseStatus.OPEN, CaseStatus.ACCEPTED, CaseStatus.CLOSED]
        )
        resolved = created + timedelta(hours=5) if status == CaseStatus.RESOLVED else None
        reporter = rng.choice(REPORTERS)
        cases.append(
            {
                "id": i,
                "kind": CaseKind.REPORT if i % 5 else CaseKind.WISH,
                "number": i,
                "compound": rng.choice(COMPOUNDS),
                "building": str(rng.randint(1, 9)),
                "text": "电梯坏了",
                "urgent": i % 17 == 0,
                "status": status,
                "reporter_id": reporter,
                "reporter_name": reporter,
                "room": f"群{rng.randint(0, 99)}",
                "assignee_id": rng.choice(HEADS),
                "assignee_name": "楼栋长",
                "rating": rng.choice([None, 4, 5]) if resolved else None,
                "created_at": created,
                "accepted_at": created + timedelta(hours=1),
                "resolved_at": resolved,
                "updated_at": created,
                "accept_due_at": created + timedelta(hours=2),
            }
        )
        for action in ("filed", "assigned", "accepted"):
            events.append(
                {"case_id": i, "at": created, "actor_id": "bot", "action": action, "note": ""}
            )
        if i % 23 == 0:
            events.append(
                {"case_id": i, "at": created, "actor_id": "bot", "action": "escalated", "note": ""}
            )
        for j in range(2):
            rows.append(
                {
                    "key": f"in:{i}:{j}",
                    "account": "a" if j else "b",
                    "to_room": f"群{i % 100}",
                    "text": "收到",
                    "mention_ids": [],
                    "urgent": False,
                    "status": OutboxStatus.SENT,
                    "attempts": 1,
                    "created_at": created,
                    "not_before": created,
                    "sent_at": created,
                }
            )
        done.append(
            {
                "key": f"sla:{i}:accept:0.0:remind",
                "kind": "sla.step",
                "due_at": created + timedelta(hours=2),
                "payload": {},
                "status": TaskStatus.CANCELLED,
            }
        )
    # three accounts sharing the city: their rooms and their friends, for routing sends
    bindings = [
        {
            "account": f"acct{i % 3}",
            "room": f"群{i}",
            "wechat_id": f"@@{i}",
            "topic": f"群{i}",
            "bound_by": "topic",
            "bound_at": NOW,
            "updated_at": NOW,
        }
        for i in range(300)
    ]
    contacts = [
        {"account": f"acct{a}", "contact_id": person, "seen_at": NOW}
        for a in range(3)
        for person in [*REPORTERS, *HEADS]
        if hash((a, person)) % 2 == 0 or person in HEADS
    ]
    for i in range(30):  # a little live work
        rows.append({**rows[i], "key": f"live:{i}", "status": OutboxStatus.PENDING})
        done.append({**done[-1 - i], "key": f"live:{i}", "status": TaskStatus.PENDING})
    async with session_factory(engine)() as s, s.begin():
        for model, data in (
            (Case, cases),
            (CaseEvent, events),
            (OutboxMessage, rows),
            (ScheduledTask, done),
            (RoomBinding, bindings),
            (AccountContact, contacts),
        ):
            for k in range(0, len(data), 500):
                await s.execute(insert(model), data[k : k + 500])
        await maintenance.optimize(s)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()


@dataclass
class Recorded:
    """Statements sent while a block ran."""

    statements: list[tuple[str, Any]] = field(default_factory=list)

    def select(self, *words: str, without: str = "\0") -> tuple[str, Any]:
        """The one SELECT that contains every word (and not `without`)."""
        found = [
            s
            for s in self.statements
            if s[0].lstrip().upper().startswith("SELECT")
            and all(w in s[0] for w in words)
            and without not in s[0]
        ]
        assert len(found) == 1, f"expected one SELECT with {words}, got {len(found)}"
        return found[0]


@contextlib.contextmanager
def recording(engine: AsyncEngine) -> Iterator[Recorded]:
    """Record the SQL sent through the engine inside the block."""
    rec = Recorded()

    def before(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        rec.statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield rec
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def plan_of(engine: AsyncEngine, statement: tuple[str, Any]) -> str:
    """The database's plan for a recorded statement, as one text."""
    sql, params = statement
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(r[-1]) for r in rows)
        # Tiny tables make a scan and a sort as cheap as any index; discourage them so the
        # plan shows what the query can do at a million rows (with no way round them,
        # PostgreSQL still scans or sorts, and the test sees it).
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await conn.exec_driver_sql(f"SET {setting} = off")
        rows = await conn.exec_driver_sql(f"EXPLAIN {sql}", params)
        return "\n".join(str(r[0]) for r in rows)


def assert_uses(
    plan: str, index: str | tuple[str, ...], table: str, *, sorted_: bool = True
) -> None:
    """The plan reads `table` through `index` (and, if `sorted_`, needs no sort of its own)."""
    indexes = (index,) if isinstance(index, str) else index
    assert any(i in plan for i in indexes), plan
    assert f"SCAN {table}\n" not in plan + "\n", plan  # SQLite: a full scan of the table
    assert f"Seq Scan on {table}" not in plan, plan
    if sorted_:
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


async def _prepare(url: str) -> None:
    eng = create_engine(url)
    try:
        await schema.upgrade(eng)
        await _fill(eng)
        # The figures' sums of the cases just filled, as an upgraded database's first start.
        await figure_cells.ensure(eng, scenario_config().bot.tz)
    finally:
        await eng.dispose()


def run_async(coro: Coroutine[Any, Any, None]) -> None:
    """Run set-up work to completion on its own loop, in a thread of its own."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One filled database per dialect for the whole module (filling takes seconds)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('plans') / 'jinlin.db'}"
        run_async(_prepare(url))
        yield url
        return
    with temporary_database(request.getfixturevalue("pg_server_url")) as url:
        run_async(_prepare(url))
        yield url


@pytest.fixture
async def engine(filled_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(filled_url)
    try:
        yield eng
    finally:
        await eng.dispose()


Query = Callable[[AsyncSession], Awaitable[object]]


async def run(engine: AsyncEngine, query: Query) -> Recorded:
    with recording(engine) as rec:
        async with session_factory(engine)() as s, s.begin():
            await query(s)
    return rec


async def test_rating_and_image_lookups_use_the_reporter_index(engine: AsyncEngine) -> None:
    async def rating(s: AsyncSession) -> object:
        return await CaseRepository(s).awaiting_rating("wx_r5", "群5")

    async def image(s: AsyncSession) -> object:
        return await CaseRepository(s).latest_by_reporter("wx_r5", "群5", NOW - timedelta(hours=1))

    for query in (rating, image):
        rec = await run(engine, query)
        assert_uses(
            await plan_of(engine, rec.select("cases")), "ix_cases_reporter", "cases", sorted_=False
        )


async def test_board_first_page_reads_only_its_page(engine: AsyncEngine) -> None:
    config: Config = scenario_config()
    f = queries.BoardFilter(compounds=("小区3",))
    rec = await run(engine, lambda s: queries.board(s, f, config, NOW))
    page = rec.select("FROM cases", "LIMIT", without="count(")
    assert_uses(await plan_of(engine, page), "ix_cases_board", "cases")


async def test_month_figures_read_the_month(engine: AsyncEngine) -> None:
    start, end = NOW - timedelta(days=30), NOW

    async def month(s: AsyncSession) -> object:
        await figures.month_rates(s, ["小区3"], start, end)
        return await figures.month_services(s, "小区3", start, end)

    rec = await run(engine, month)
    for rates in (
        rec.select("accepted_at", "GROUP BY"),
        rec.select("FROM cases", "GROUP BY", without="accepted_at"),
    ):
        plan = await plan_of(engine, rates)
        assert_uses(plan, "ix_cases_compound_created", "cases", sorted_=False)
    escalations = rec.select("case_events")
    plan = await plan_of(engine, escalations)
    # From the month's escalations to their cases, or from the compound's cases to their
    # escalations: either way by index, never a scan of the log.
    assert_uses(
        plan,
        ("ix_case_events_action_at", "ix_case_events_case_action"),
        "case_events",
        sorted_=False,
    )
    assert "SCAN cases\n" not in plan + "\n" and "Seq Scan on cases" not in plan, plan


async def test_outbox_due_reads_only_pending_rows(engine: AsyncEngine) -> None:
    rec = await run(engine, lambda s: outbox.due(s, "a", NOW))
    # Either index reads only the pending rows; which one is the planner's choice.
    plan = await plan_of(engine, rec.select("outbox"))
    assert_uses(plan, ("ix_outbox_due", "ix_outbox_status"), "outbox", sorted_=False)
    rec = await run(engine, lambda s: outbox.next_due_at(s, "a"))
    assert_uses(await plan_of(engine, rec.select("outbox")), "ix_outbox_due", "outbox")


async def test_todo_of_a_head_reads_only_active_cases(engine: AsyncEngine) -> None:
    rec = await run(engine, lambda s: CaseRepository(s).active_for_assignee("wx_head3"))
    assert_uses(
        await plan_of(engine, rec.select("cases")), "ix_cases_assignee", "cases", sorted_=False
    )


async def test_due_tasks_and_cancels_read_only_live_tasks(engine: AsyncEngine) -> None:
    rec = await run(engine, lambda s: tasks.due(s, NOW))
    plan = await plan_of(engine, rec.select("scheduled_tasks"))
    assert_uses(plan, "ix_scheduled_tasks_due", "scheduled_tasks", sorted_=False)
    rec = await run(engine, lambda s: tasks.next_due_at(s))
    assert_uses(
        await plan_of(engine, rec.select("scheduled_tasks")),
        "ix_scheduled_tasks_due",
        "scheduled_tasks",
    )


async def test_board_counts_stop_past_what_the_page_needs(engine: AsyncEngine) -> None:
    config: Config = scenario_config()
    f = queries.BoardFilter(compounds=tuple(COMPOUNDS))
    found: list[queries.BoardPage] = []

    async def board(s: AsyncSession) -> object:
        found.append(await queries.board(s, f, config, NOW))
        return found[-1]

    rec = await run(engine, board)
    first = found[-1]
    assert first.more and first.total == queries.COUNT_LIMIT
    assert first.pages == queries.COUNT_LIMIT // queries.PER_PAGE + 1  # and a next page
    counts = [sql for sql, _ in rec.statements if "count(" in sql.lower()]
    assert len(counts) == 2 and all("LIMIT" in sql for sql in counts)
    # the overdue count reads the few cases in hand, not every case of the city
    late = rec.select("count(", "accept_due_at")
    assert_uses(await plan_of(engine, late), "ix_cases_active", "cases", sorted_=False)
    deep = queries.COUNT_LIMIT // queries.PER_PAGE + 1

    async def page(s: AsyncSession) -> object:
        found.append(await queries.board(s, f, config, NOW, page=deep))
        return found[-1]

    await run(engine, page)
    assert found[-1].page == deep and found[-1].pages > deep and len(found[-1].cases) > 0


async def test_routing_a_send_reads_only_its_room_and_person(engine: AsyncEngine) -> None:
    messages = [
        Outgoing(to_room="群7", to_person=None, text="收到"),
        Outgoing(to_room=None, to_person="wx_head3", text="新报事"),
    ]
    found: list[list[str]] = []

    async def routed(s: AsyncSession) -> object:
        found.append(await route(s, "acct9", messages))
        return found[-1]

    rec = await run(engine, routed)
    assert found == [["acct1", "acct0"]]  # acct9 is in neither: the first account that is
    for table, index in (
        ("room_bindings", "ix_room_bindings_room"),
        ("account_contacts", "ix_account_contacts_contact"),
    ):
        plan = await plan_of(engine, rec.select(table))
        assert_uses(plan, index, table, sorted_=False)


@pytest.mark.parametrize("clock_change", [False, True])
async def test_trend_counts_each_day_through_the_month_indexes(
    engine: AsyncEngine, clock_change: bool
) -> None:
    """Filed and resolved per day agree with a count of the rows themselves; weeks summed
    from days agree with weekly stretches asked for directly; both read only the month.
    Days of one length are counted by arithmetic; a month with a clock change (days of
    different lengths, here 24 h and a few minutes) by a sum per day."""
    days = [NOW - timedelta(days=30 - i, minutes=(30 - i) * clock_change) for i in range(31)]
    weeks = days[::7] + ([days[-1]] if (len(days) - 1) % 7 else [])
    compounds = [*COMPOUNDS[:40], "nowhere"]
    found: list[dict[str, list[figures.Bucket]]] = []

    async def trend(s: AsyncSession) -> object:
        found.append(await figures.trends(s, compounds, days))
        return found[-1]

    rec = await run(engine, trend)
    async with session_factory(engine)() as s:
        rows = (
            await s.execute(
                select(Case.compound, Case.created_at, Case.resolved_at).where(
                    Case.kind == CaseKind.REPORT, Case.compound.in_(compounds)
                )
            )
        ).all()
        weekly_direct = await figures.trends(s, compounds, weeks)

    def stretch(when: datetime | None) -> int | None:
        if when is None or not days[0] <= when < days[-1]:
            return None
        return bisect.bisect_right(days, when) - 1

    for compound in compounds:
        filed, resolved = [0] * 30, [0] * 30
        for c, created, done in rows:
            if c != compound:
                continue
            if (i := stretch(created)) is not None:
                filed[i] += 1
            if (i := stretch(done)) is not None:
                resolved[i] += 1
        got = found[0][compound]
        assert [b.filed for b in got] == filed and [b.resolved for b in got] == resolved
        assert [b.start for b in got] == days[:-1]
        assert figures.weekly(got) == weekly_direct[compound]
    assert sum(b.filed for c in compounds for b in found[0][c]) > 20
    assert sum(b.resolved for c in compounds for b in found[0][c]) > 20
    for column, index in (
        ("created_at", "ix_cases_compound_created"),
        ("resolved_at", "ix_cases_compound_resolved"),
    ):
        plan = await plan_of(engine, rec.select(f"AND {column} >="))
        assert_uses(plan, index, "cases", sorted_=False)


async def test_compound_rates_add_up_from_their_buildings(engine: AsyncEngine) -> None:
    """One read of the month gives both: each compound's rates agree with its rows, and its
    buildings' counts add up to them."""
    start, end = NOW - timedelta(days=60), NOW
    compounds = COMPOUNDS[:40]
    async with session_factory(engine)() as s:
        totals, buildings = await figures.month_rates_both(s, compounds, start, end)
        rows = (
            await s.execute(
                select(Case.compound, Case.status, Case.rating).where(
                    Case.kind == CaseKind.REPORT,
                    Case.status != CaseStatus.CLOSED,
                    Case.compound.in_(compounds),
                    Case.created_at >= start,
                    Case.created_at < end,
                )
            )
        ).all()
    assert [t.compound for t in totals] == [c for c in compounds if any(r[0] == c for r in rows)]
    for total in totals:
        mine = [r for r in rows if r[0] == total.compound]
        ratings = [r[2] for r in mine if r[2] is not None]
        assert total.filed == len(mine)
        assert total.resolved == sum(r[1] == CaseStatus.RESOLVED for r in mine)
        assert total.rated == len(ratings)
        assert total.satisfied == sum(r >= figures.SATISFIED_FROM for r in ratings)
        expected = round(sum(ratings) / len(ratings), 2) if ratings else None
        assert total.average_rating == expected
        if total.resolved:
            assert total.average_resolve_hours == 5.0  # the fill resolves each in 5 hours
        parts = [b for b in buildings if b.compound == total.compound]
        assert sum(b.filed for b in parts) == total.filed
        assert sum(b.rated for b in parts) == total.rated


async def test_a_rooms_last_roster_is_found_by_its_key_range(engine: AsyncEngine) -> None:
    """A sign-up asks for the room's last roster: a range of the key index, never a walk
    through every task scheduled (there are three per report, kept for good)."""
    room = "武夷香榭3栋业主群"
    async with session_factory(engine)() as s:
        await s.begin()
        for at, where in ((NOW - timedelta(hours=1), room), (NOW, room), (NOW, room + "1")):
            await rosters.record_posted(s, 7, where, at)
        await s.flush()
        with recording(engine) as rec:
            last = await rosters.latest(s, 7, room)
        assert last is not None and last.key == rosters.roster_prefix(7, room) + NOW.isoformat()
        await s.rollback()
    plan = await plan_of(engine, rec.select("scheduled_tasks"))
    index = ("sqlite_autoindex_scheduled_tasks_1", "uq_scheduled_tasks_key")
    assert_uses(plan, index, "scheduled_tasks", sorted_=False)
    if engine.dialect.name == "postgresql":
        cond = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert "key" in cond and ">=" in cond, plan  # the range, not a filter on every key
        # The range is the prefix only in byte order; this server's own collation is "C", a
        # city's is a locale's, so the column must say it.
        async with engine.connect() as conn:
            collation = await conn.scalar(
                text(
                    "SELECT collation_name FROM information_schema.columns"
                    " WHERE table_name = 'scheduled_tasks' AND column_name = 'key'"
                )
            )
        assert collation == "C"


async def test_city_figures_read_the_sums_by_their_keys(engine: AsyncEngine) -> None:
    """The console's figures of many compounds read the month's rows of the kept sums through
    their keys (storage/figure_cells.py), the month's sign-ups through their index, and no
    report of the month."""
    config: Config = scenario_config()
    found: list[list[queries.Figures]] = []

    async def month(s: AsyncSession) -> object:
        found.append(await queries.month_figures(s, COMPOUNDS, "2026-11", config))
        return found[-1]

    rec = await run(engine, month)
    assert sum(f.total.filed for f in found[0]) > 100
    sums: list[tuple[str, str | tuple[str, ...]]] = [
        ("figure_months", ("PRIMARY KEY", "pk_figure_months")),
        ("figure_days", ("PRIMARY KEY", "pk_figure_days")),
    ]
    if engine.dialect.name == "sqlite":  # (named; PostgreSQL goes by its statistics, and
        sums.append(("signups", "ix_signups_created"))  # these tests fill no sign-ups)
    for table, index in sums:
        plan = await plan_of(engine, rec.select(f"FROM {table}"))
        assert_uses(plan, index, table, sorted_=False)
    assert not [s for s, _ in rec.statements if "FROM cases" in s]  # (escalations: a join)

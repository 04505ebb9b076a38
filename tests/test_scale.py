"""City scale in one process pair: cached titles follow another process, the outbox is pruned."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.event import listen

from bot import demo_data
from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.core.config import parse_config
from bot.core.domain import OutboxStatus
from bot.core.messages import Incoming
from bot.replay import RecordingTransport
from bot.sender import SendPolicy
from storage import account_contacts, room_bindings, schema
from storage.engine import create_engine, session_factory
from storage.models import Activity, OutboxMessage, Signup
from tests.services.replays import services_config

TZ = ZoneInfo("Asia/Shanghai")
ROOM = "武夷香榭业主群"


def said(mid: str, text: str, clock: VirtualClock, room: str | None = ROOM) -> Incoming:
    sender = "wxid_li" if room is None else "r2"
    return Incoming(mid, room, sender, "李叔", text, False, clock.now())


async def test_a_second_process_sees_a_new_activity_at_once(db_url: str) -> None:
    """B caches the compound's titles; A publishes an activity; B's next message signs up."""
    cfg = services_config(activities=[])
    clock = VirtualClock(datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    apps: list[App] = [
        build_app(cfg, RecordingTransport(clock, io.StringIO(), cfg), clock, db_url=db_url)
        for _ in range(2)
    ]
    a, b = apps
    try:
        for app in apps:
            await app.start(upgrade=True)
        chat = await b.handle(said("m1", "今天天气真好，大家出来走走", clock))
        assert not chat.handled  # and B now holds the compound's (empty) titles
        published = await a.handle(
            said("m2", "发布活动 元旦游园 12月31日下午3点 小区广场 50人", clock, room=None)
        )
        assert published.handled
        clock.set(datetime(2026, 12, 1, 9, 30, tzinfo=TZ))
        signed = await b.handle(said("m3", "报名元旦游园，我们家3个人", clock))
        assert signed.handled
        async with b.sessions() as s:
            assert await s.scalar(select(func.sum(Signup.headcount))) == 3
    finally:
        for app in apps:
            await app.stop()


async def test_sent_messages_are_pruned_after_keep_sent(db_url: str) -> None:
    """Sent rows older than keep_sent go; pending and failed ones stay, and so do newer sends."""
    cfg = services_config()
    clock = VirtualClock(datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    out = io.StringIO()
    policy = SendPolicy.immediate()
    app = build_app(cfg, RecordingTransport(clock, out, cfg), clock, db_url=db_url, policy=policy)
    try:
        await app.start(upgrade=True)
        await app.handle(said("m1", "3栋电梯坏了，按钮没反应", clock))
        await app.sender.drain()
        async with app.sessions() as s, s.begin():
            old = await s.scalar(select(func.count()).select_from(OutboxMessage))
            assert old and old >= 2
            failed = (await s.scalars(select(OutboxMessage).limit(1))).one()
            failed.status = OutboxStatus.FAILED
        clock.set(clock.now() + policy.keep_sent + timedelta(hours=2))
        await app.handle(said("m2", "5栋楼道灯不亮了", clock))
        await app.sender.drain()
        async with app.sessions() as s:
            rows = (await s.execute(select(OutboxMessage.key, OutboxMessage.status))).all()
        assert all(not k.startswith("in:m1:") or st == OutboxStatus.FAILED for k, st in rows)
        assert any(k.startswith("in:m1:") for k, _ in rows)  # the failed one stays
        assert any(k.startswith("in:m2:") for k, _ in rows)
    finally:
        await app.stop()


async def test_a_room_message_goes_through_the_account_in_that_room(db_url: str) -> None:
    """Account a runs the 28th for every room; the room only account b is in gets b's send."""
    clock = VirtualClock(datetime(2026, 12, 28, 8, 0, tzinfo=TZ))
    outs = {"a": io.StringIO(), "b": io.StringIO()}
    apps = {
        name: build_app(
            cfg := services_config(
                bot={"name": "小邻", "timezone": "Asia/Shanghai", "account": name}
            ),
            RecordingTransport(clock, out, cfg),
            clock,
            db_url=db_url,
            policy=SendPolicy.immediate(),
        )
        for name, out in outs.items()
    }
    try:
        await apps["a"].start(upgrade=True)
        async with apps["a"].sessions() as s, s.begin():
            await room_bindings.bind(
                s,
                account="b",
                room="江南八仙小区业主群",
                wechat_id="@@b1",
                topic="江南八仙小区业主群",
                by="topic",
                now=clock.now(),
            )
        clock.set(datetime(2026, 12, 28, 8, 30, tzinfo=TZ))
        await apps["a"].tasks.tick()  # only a's scheduler runs the occasion
        for app in apps.values():
            await app.sender.drain()
    finally:
        for app in apps.values():
            await app.stop()
    rooms = {
        name: sorted(json.loads(line).get("to_room") for line in out.getvalue().splitlines())
        for name, out in outs.items()
    }
    assert rooms == {
        "a": ["武夷香榭3栋业主群", "武夷香榭业主群"],
        "b": ["江南八仙小区业主群"],
    }


async def test_a_reply_goes_back_through_the_account_it_came_in_on(db_url: str) -> None:
    """The room is bound to account b only (a's binding not learned yet); a hears a report
    there, so a is in the room: the group reply goes out through a, without asking the
    bindings."""
    clock = VirtualClock(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    cfg = services_config(bot={"name": "小邻", "timezone": "Asia/Shanghai", "account": "a"})
    app = build_app(cfg, RecordingTransport(clock, io.StringIO(), cfg), clock, db_url=db_url)
    try:
        await app.start(upgrade=True)
        async with app.sessions() as s, s.begin():
            await room_bindings.bind(
                s, account="b", room=ROOM, wechat_id="@@b1", topic=ROOM, by="topic",
                now=clock.now(),
            )  # fmt: skip
        outcome = await app.handle(said("m1", "3栋电梯坏了，麻烦看一下", clock))
        assert outcome.handled
        async with app.sessions() as s:
            rows = (await s.execute(select(OutboxMessage.to_room, OutboxMessage.account))).all()
        assert (ROOM, "a") in rows
        assert all(account == "a" for _room, account in rows)
    finally:
        await app.stop()


async def test_a_private_message_goes_through_an_account_the_person_is_a_friend_of(
    db_url: str,
) -> None:
    """The 3栋 head is a friend of account b only: a report heard by a reaches the head
    through b; the reporter's group acknowledgement stays with a, and a head that a knows too,
    or nobody knows, is reached through a."""
    clock = VirtualClock(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    cfg = services_config(bot={"name": "小邻", "timezone": "Asia/Shanghai", "account": "a"})
    app = build_app(cfg, RecordingTransport(clock, io.StringIO(), cfg), clock, db_url=db_url)

    async def routes() -> dict[tuple[str | None, str | None], str]:
        async with app.sessions() as s:
            rows = await s.execute(
                select(OutboxMessage.to_room, OutboxMessage.to_person, OutboxMessage.account)
            )
            return {(room, person): account for room, person, account in rows}

    try:
        await app.start(upgrade=True)
        async with app.sessions() as s, s.begin():
            await account_contacts.replace(s, "b", ["wxid_wang", "wxid_li"], clock.now())
            await account_contacts.replace(s, "a", ["wxid_li"], clock.now())
        assert (await app.handle(said("m1", "3栋电梯坏了，麻烦看一下", clock))).handled
        sent = await routes()
        assert sent[(None, "wxid_wang")] == "b"
        assert sent[(ROOM, None)] == "a"

        async with app.sessions() as s, s.begin():
            await account_contacts.learn(s, "a", "wxid_wang", clock.now())
        assert (await app.handle(said("m2", "3栋楼道灯不亮了", clock))).handled
        async with app.sessions() as s:
            newest = await s.scalar(
                select(OutboxMessage.account).where(
                    OutboxMessage.key.like("in:m2:%"), OutboxMessage.to_person == "wxid_wang"
                )
            )
        assert newest == "a"  # both can: a's own account is preferred
    finally:
        await app.stop()


async def test_login_contacts_replace_what_was_stored(db_url: str) -> None:
    """A login's list is the whole truth for that account: new friends are added, people no
    longer listed removed, other accounts untouched; lists longer than one IN (...) work."""
    engine = create_engine(db_url)
    try:
        await schema.upgrade(engine)
        sessions = session_factory(engine)
        now = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
        first = [f"wxid_{i:05d}" for i in range(1_200)]
        async with sessions() as s, s.begin():
            assert await account_contacts.replace(s, "a", first, now) == (1_200, 0)
            assert await account_contacts.replace(s, "b", ["wxid_00001"], now) == (1, 0)
        second = [*first[100:], "wxid_new"]
        async with sessions() as s, s.begin():
            assert await account_contacts.replace(s, "a", second, now) == (1, 100)
            assert await account_contacts.learn(s, "a", "wxid_new", now) is False
            assert await account_contacts.learn(s, "a", "wxid_late", now) is True
        async with sessions() as s:
            assert await account_contacts.of_account(s, "a") == sorted([*second, "wxid_late"])
            reach = await account_contacts.accounts_of(s, ["wxid_00001", "wxid_00500", "x"])
        assert reach == {"wxid_00001": ["b"], "wxid_00500": ["a"]}
    finally:
        await engine.dispose()


async def _planning_statements(scale: float, db_url: str) -> tuple[int, int]:
    """(compounds, statements) of the first planning of a generated city, on a fresh database."""
    data = demo_data.city_config(
        demo_data.make_city(demo_data.CityShape.nanping(scale), 1), db_url
    )
    cfg = parse_config(data, "city.yaml")
    clock = VirtualClock(demo_data.CITY_NOW)
    app = build_app(cfg, RecordingTransport(clock, io.StringIO(), cfg), clock, db_url=db_url)
    sent: list[str] = []
    try:
        await schema.upgrade(app.engine)
        listen(app.engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        await app.tasks.plan()
        async with app.sessions() as s:
            made = await s.scalar(
                select(func.count()).select_from(Activity).where(Activity.source == "cobuilding")
            )
    finally:
        await app.stop()
    compounds = sum(len(com.compounds) for com in cfg.grid)
    assert made == compounds  # this month's 共建日 opened for sign-ups in every compound
    return compounds, len(sent)


async def test_planning_a_city_costs_the_same_statements_whatever_its_size(
    tmp_path: Path,
) -> None:
    """The month's 共建日 activities, their reminders and the rooms' reminders are written a
    few hundred per statement: a city five times larger sends no more statements."""
    small = await _planning_statements(0.01, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    large = await _planning_statements(0.05, f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    assert large[0] >= 4 * small[0]
    assert large[1] == small[1], (small, large)

"""The durable outbox and its sender: idempotent keys, pacing, merging, retries, crash recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.clock import VirtualClock
from bot.core.domain import OutboxStatus
from bot.core.messages import Incoming, LocalTransport, Outgoing
from bot.sender import OutboxSender, SendPolicy
from storage import outbox, schema
from storage.engine import create_engine, session_factory
from storage.models import OutboxMessage

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


class Recorder(LocalTransport):
    """A transport that records sends and fails the first `fail` of them."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[Outgoing] = []
        self.fail = fail

    async def incoming(self) -> AsyncIterator[Incoming]:
        return
        yield

    async def send(self, msg: Outgoing) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("puppet unreachable")
        self.sent.append(msg)


@pytest.fixture
async def sessions(db_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(db_url)
    await schema.upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def put(sessions, key: str, msg: Outgoing, now: datetime = T0) -> bool:  # type: ignore[no-untyped-def]
    async with sessions() as s, s.begin():
        return await outbox.enqueue(s, account="a", key=key, msg=msg, now=now)


def to_person(pid: str, text: str) -> Outgoing:
    return Outgoing(to_room=None, to_person=pid, text=text)


def to_room(topic: str, text: str, urgent: bool = False) -> Outgoing:
    return Outgoing(to_room=topic, to_person=None, text=text, urgent=urgent)


def sender_for(
    sessions, transport: Recorder, clock: VirtualClock, policy: SendPolicy
) -> OutboxSender:  # type: ignore[no-untyped-def]
    return OutboxSender(
        sessions=sessions, transport=transport, clock=clock, account="a", policy=policy
    )


async def test_same_key_is_stored_once(sessions) -> None:  # type: ignore[no-untyped-def]
    assert await put(sessions, "in:m1:0", to_person("p", "hello"))
    assert not await put(sessions, "in:m1:0", to_person("p", "hello again"))
    t = Recorder()
    await sender_for(sessions, t, VirtualClock(T0), SendPolicy.immediate()).drain()
    assert [m.text for m in t.sent] == ["hello"]


async def test_private_messages_to_one_person_are_merged(sessions) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        await put(sessions, f"k{i}", to_person("head", f"case {i}"))
    await put(sessions, "k9", to_person("other", "x"))
    t = Recorder()
    policy = SendPolicy(0, 0, 0, 100, merge_private=True, max_attempts=3)
    sends = await sender_for(sessions, t, VirtualClock(T0), policy).drain()
    assert sends == 2
    assert t.sent[0].to_person == "head"
    assert t.sent[0].text.count("case") == 3
    assert t.sent[1].to_person == "other"


async def test_room_gap_holds_the_second_message_to_a_room(sessions) -> None:  # type: ignore[no-untyped-def]
    await put(sessions, "a", to_room("群", "one"))
    await put(sessions, "b", to_room("群", "two"))
    await put(sessions, "c", to_room("群", "three", urgent=True))
    clock = VirtualClock(T0)
    t = Recorder()
    sender = sender_for(sessions, t, clock, SendPolicy(0, 0, 30, 100, False, 3))
    await sender.drain()
    # urgent first, never held; the urgent send starts the room's gap for the others
    assert [m.text for m in t.sent] == ["three"]
    clock.set(T0 + timedelta(seconds=29))
    await sender.drain()
    assert len(t.sent) == 1
    clock.set(T0 + timedelta(seconds=31))
    await sender.drain()
    assert [m.text for m in t.sent] == ["three", "one"]
    clock.set(T0 + timedelta(seconds=62))
    await sender.drain()
    assert [m.text for m in t.sent] == ["three", "one", "two"]


async def test_daily_cap_stops_all_but_urgent(sessions) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        await put(sessions, f"n{i}", to_person(f"p{i}", "n"))
    await put(sessions, "u", Outgoing(None, "sec", "fire", urgent=True))
    t = Recorder()
    await sender_for(sessions, t, VirtualClock(T0), SendPolicy(0, 0, 0, 2, False, 3)).drain()
    assert [m.text for m in t.sent] == ["fire", "n"]


async def test_failures_are_retried_with_back_off_then_given_up(sessions) -> None:  # type: ignore[no-untyped-def]
    await put(sessions, "r", to_person("p", "retry me"))
    clock = VirtualClock(T0)
    t = Recorder(fail=1)
    sender = sender_for(sessions, t, clock, SendPolicy(0, 0, 0, 100, False, max_attempts=2))
    await sender.drain()
    assert t.sent == []
    clock.set(T0 + timedelta(seconds=1))
    await sender.drain()
    assert t.sent == []  # backing off
    clock.set(T0 + timedelta(seconds=3))
    await sender.drain()
    assert [m.text for m in t.sent] == ["retry me"]

    await put(sessions, "g", to_person("p", "never"))
    t.fail = 5
    for step in range(1, 6):
        clock.set(T0 + timedelta(minutes=step * 10))
        await sender.drain()
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "g"))).scalar_one()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 2
    assert "ConnectionError" in (row.last_error or "")


async def test_a_crash_mid_send_is_sent_again_after_the_lease(sessions) -> None:  # type: ignore[no-untyped-def]
    await put(sessions, "c", to_person("p", "after crash"))
    async with sessions() as s, s.begin():
        (row,) = await outbox.due(s, "a", T0)
        assert await outbox.claim(s, [row.id], T0, timedelta(minutes=2))
    # the process died here: the row is "sending" and nobody marks it
    clock = VirtualClock(T0 + timedelta(minutes=1))
    t = Recorder()
    sender = sender_for(sessions, t, clock, SendPolicy.immediate())
    await sender.drain()
    assert t.sent == []  # still leased to the dead process
    clock.set(T0 + timedelta(minutes=3))
    await sender.drain()
    await sender.drain()
    assert [m.text for m in t.sent] == ["after crash"]


async def test_two_senders_never_send_the_same_message(sessions) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        await put(sessions, f"m{i}", to_room(f"room{i}", f"text {i}"))
    t1, t2 = Recorder(), Recorder()
    clock = VirtualClock(T0)
    s1 = sender_for(sessions, t1, clock, SendPolicy.immediate())
    s2 = sender_for(sessions, t2, clock, SendPolicy.immediate())
    import asyncio

    await asyncio.gather(s1.drain(), s2.drain())
    texts = [m.text for m in t1.sent + t2.sent]
    assert sorted(texts) == sorted(f"text {i}" for i in range(10))


class Offline(Recorder):
    """A transport that is down: nothing is tried."""

    async def send(self, msg: Outgoing) -> None:
        from bot.core.messages import NotConnected

        raise NotConnected("not logged in")


async def test_an_outage_does_not_use_up_attempts(sessions) -> None:  # type: ignore[no-untyped-def]
    await put(sessions, "o", to_person("p", "wait for me"))
    clock = VirtualClock(T0)
    policy = SendPolicy(0, 0, 0, 100, False, max_attempts=2)
    down = sender_for(sessions, Offline(), clock, policy)
    for step in range(10):
        clock.set(T0 + timedelta(minutes=step))
        assert await down.drain() == 0
    up = Recorder()
    clock.set(T0 + timedelta(minutes=11))
    await sender_for(sessions, up, clock, policy).drain()
    assert [m.text for m in up.sent] == ["wait for me"]


async def test_unknown_recipient_is_given_up_at_once(sessions) -> None:  # type: ignore[no-untyped-def]
    from bot.core.messages import UnknownRecipient

    class Nobody(Recorder):
        async def send(self, msg: Outgoing) -> None:
            raise UnknownRecipient("no such room")

    await put(sessions, "u", to_room("不存在的群", "x"))
    await sender_for(sessions, Nobody(), VirtualClock(T0), SendPolicy.immediate()).drain()
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "u"))).scalar_one()
    assert row.status == OutboxStatus.FAILED and row.attempts == 1


# --- send attempts: outcomes settled before anything is sent again ---------------------------


async def test_a_send_of_a_dead_process_is_settled_by_its_echo(sessions) -> None:  # type: ignore[no-untyped-def]
    from bot.core.messages import OutcomeUnknown
    from storage import account_state, send_attempts

    for i in range(3):
        await put(sessions, f"k{i}", to_person("head", f"case {i}"))
    policy = SendPolicy(0, 0, 0, 100, merge_private=True, max_attempts=5)
    clock = VirtualClock(T0)

    class Dies(Recorder):
        async def send(self, msg: Outgoing) -> None:
            raise OutcomeUnknown("connection reset during the call")

    dead = sender_for(sessions, Dies(), clock, policy)
    async with sessions() as s, s.begin():
        await account_state.beat(s, dead.instance, "a", T0, T0)
    await dead.send_one()  # the merged message of 3 went out with no known outcome
    # its echo comes back: delivered, nothing is sent again
    await dead.confirm_echo(None, "head", "case 0\n—————\ncase 1\n—————\ncase 2", "chat-1")
    later = Recorder()
    clock.set(T0 + timedelta(minutes=5))
    assert await sender_for(sessions, later, clock, policy).drain() == 0
    async with sessions() as s:
        outcomes = await send_attempts.count_by_outcome(s, "a")
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
    assert outcomes == {"echoed": 1}
    assert {r.status for r in rows} == {OutboxStatus.SENT}


async def test_a_send_with_no_known_outcome_goes_again_alone(sessions) -> None:  # type: ignore[no-untyped-def]
    from storage import account_state, send_attempts

    for i in range(3):
        await put(sessions, f"k{i}", to_person("head", f"case {i}"))
    policy = SendPolicy(0, 0, 0, 100, merge_private=True, max_attempts=5)
    clock = VirtualClock(T0)
    # a process claimed the merged message, started the call and died (kill -9)
    async with sessions() as s, s.begin():
        rows = list(await outbox.due(s, "a", T0))
        assert await outbox.claim(s, [r.id for r in rows], T0, timedelta(minutes=2))
        await send_attempts.start(
            s,
            account="a",
            outbox_ids=[r.id for r in rows],
            msg=to_person("head", "merged"),
            instance="dead",
            now=T0,
        )
        await account_state.beat(s, "dead", "a", T0, T0)
    await put(sessions, "k9", to_person("head", "case 9"))
    t = Recorder()
    clock.set(T0 + timedelta(seconds=40))  # its heartbeat is stale: the process is gone
    await sender_for(sessions, t, clock, policy).drain()
    # each message of the lost merge goes again on its own; the new one is not merged into them
    assert sorted(m.text for m in t.sent) == ["case 0", "case 1", "case 2", "case 9"]
    async with sessions() as s:
        assert (await send_attempts.count_by_outcome(s, "a"))["resent"] == 1


async def test_a_live_process_send_is_not_taken_over(sessions) -> None:  # type: ignore[no-untyped-def]
    from storage import account_state, send_attempts

    await put(sessions, "c", to_person("p", "in flight"))
    async with sessions() as s, s.begin():
        (row,) = await outbox.due(s, "a", T0)
        assert await outbox.claim(s, [row.id], T0, timedelta(minutes=2))
        await send_attempts.start(
            s, account="a", outbox_ids=[row.id], msg=to_person("p", "x"), instance="busy", now=T0
        )
        await account_state.beat(s, "busy", "a", T0 + timedelta(seconds=20), T0)
    t = Recorder()
    clock = VirtualClock(T0 + timedelta(seconds=30))
    await sender_for(sessions, t, clock, SendPolicy.immediate()).drain()
    assert t.sent == []  # the other process beats: its call is still running


async def test_restriction_pauses_every_send_with_a_growing_pause(sessions) -> None:  # type: ignore[no-untyped-def]
    from bot.core.messages import Restricted
    from bot.sender import pause_for
    from storage import account_state

    class Throttled(Recorder):
        async def send(self, msg: Outgoing) -> None:
            raise Restricted("操作过于频繁，可稍后再试。")

    told: list[datetime] = []

    async def on_restricted(until: datetime, reason: str) -> None:
        told.append(until)

    await put(sessions, "r", to_person("p", "wait"))
    clock = VirtualClock(T0)
    sender = sender_for(sessions, Throttled(), clock, SendPolicy.immediate())
    sender.on_restricted = on_restricted
    await sender.drain()
    assert told == [T0 + pause_for(1)]
    clock.set(T0 + timedelta(minutes=5))
    ok = Recorder()
    assert await sender_for(sessions, ok, clock, SendPolicy.immediate()).drain() == 0  # paused
    clock.set(T0 + pause_for(1) + timedelta(seconds=1))
    await sender.drain()  # refused again: the second pause is twice as long
    assert told[-1] == clock.now() + pause_for(2) and pause_for(2) == 2 * pause_for(1)
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        state = await account_state.get(s, "a")
    assert row.attempts == 0 and row.status == OutboxStatus.PENDING
    assert state is not None and state.pause_level == 2


async def test_the_daily_cap_counts_local_days(sessions) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    policy = SendPolicy(0, 0, 0, 2, False, 3, tz=shanghai)
    # 23:00 in Beijing on the 2nd (15:00 UTC): two messages fill that day's cap
    evening = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    for i in range(2):
        await put(sessions, f"e{i}", to_person(f"p{i}", "evening"), now=evening)
    clock = VirtualClock(evening)
    t = Recorder()
    sender = sender_for(sessions, t, clock, policy)
    assert await sender.drain() == 2
    # 07:00 in Beijing on the 3rd is 23:00 UTC on the 2nd: a new local day, the cap is fresh
    morning = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    await put(sessions, "m", to_person("p9", "morning"), now=morning)
    clock.set(morning)
    assert await sender.drain() == 1


async def test_replies_to_a_stranger_are_limited_per_day(sessions) -> None:  # type: ignore[no-untyped-def]
    policy = SendPolicy(
        0, 0, 0, 100, False, 3, stranger_replies=2, known_people=frozenset({"head"})
    )
    for i in range(4):
        await put(sessions, f"in:s{i}:0", to_person("stranger", f"help {i}"))
        await put(sessions, f"in:h{i}:0", to_person("head", f"reply {i}"))
    await put(sessions, "case:1:notice", to_person("stranger", "your case"))
    t = Recorder()
    await sender_for(sessions, t, VirtualClock(T0), policy).drain()
    to_stranger = [m.text for m in t.sent if m.to_person == "stranger"]
    assert to_stranger == ["help 0", "help 1", "your case"]  # not a reply: always goes
    assert len([m for m in t.sent if m.to_person == "head"]) == 4

"""The WeChat transport against a real puppet service (gRPC to Node, mock puppet behind it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from bot.core.messages import Incoming, Outgoing
from bot.transports.wechaty import (
    IMAGE_TEXT,
    Backoff,
    NotConnected,
    SendFailed,
    UnknownRecipient,
    WechatyTransport,
    format_sync_table,
)
from tests.e2e.conftest import BUILDING_ROOM, BUILDING_TOPIC, OTHER_ROOM, OTHER_TOPIC
from tests.e2e.puppet import PuppetServer

RECEIVE_TIMEOUT = 5.0


def make_transport(puppet: PuppetServer, tmp_path: Path, **kwargs: object) -> WechatyTransport:
    """A transport with short back-off and health checks, for tests."""
    options: dict[str, object] = {
        "backoff": Backoff(first=0.2, cap=1.0),
        "health_interval": 1.0,
        "rpc_timeout": 5.0,
        "send_wait": 0.0,
    }
    options.update(kwargs)
    return WechatyTransport(
        endpoint=puppet.endpoint,
        token=puppet.token,
        room_topics=[BUILDING_TOPIC],
        data_dir=tmp_path / "data",
        clock=SystemClock(),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def transport(puppet: PuppetServer, tmp_path: Path) -> AsyncIterator[WechatyTransport]:
    """A started, logged-in transport."""
    transport = make_transport(puppet, tmp_path)
    await transport.start()
    try:
        await transport.wait_connected(10)
        yield transport
    finally:
        await transport.stop()


async def next_incoming(transport: WechatyTransport) -> Incoming:
    """The next message the transport yields (fails after a few seconds)."""
    stream = transport.incoming()
    try:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return await anext(stream)
    finally:
        await stream.aclose()


async def test_room_message_becomes_incoming(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    before = time.time()
    message_id = await puppet.say(
        "wxid_liu", "@小邻 3栋电梯又坏了", room_id=BUILDING_ROOM, mention_ids=("wxid_bot",)
    )

    msg = await next_incoming(transport)

    assert msg.message_id == message_id
    assert msg.room == BUILDING_TOPIC
    assert msg.sender_id == "wxid_liu"
    assert msg.sender_name == "3栋-502刘"  # the room alias wins over the name
    assert msg.text == "@小邻 3栋电梯又坏了"
    assert msg.mentions_bot is True
    assert msg.at.tzinfo is not None
    assert before - 1 <= msg.at.timestamp() <= time.time() + 1


async def test_name_without_alias_and_no_mention(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await puppet.say("wxid_wang", "今天几点停水", room_id=BUILDING_ROOM)

    msg = await next_incoming(transport)

    assert (msg.sender_name, msg.mentions_bot) == ("王秀英", False)


async def test_private_message(puppet: PuppetServer, transport: WechatyTransport) -> None:
    await puppet.say("wxid_wang", "接单 12")

    msg = await next_incoming(transport)

    assert (msg.room, msg.sender_id, msg.sender_name, msg.text) == (
        None,
        "wxid_wang",
        "王秀英",
        "接单 12",
    )


async def test_ignores_unknown_rooms_old_own_and_non_text_messages(
    puppet: PuppetServer, transport: WechatyTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.transports")
    await puppet.say("wxid_liu", "广场舞今晚取消", room_id=OTHER_ROOM)
    await puppet.say("wxid_liu", "广场舞明晚照常", room_id=OTHER_ROOM)
    an_hour_ago = int((time.time() - 3600) * 1000)
    await puppet.say("wxid_wang", "一小时前的话", room_id=BUILDING_ROOM, timestamp_ms=an_hour_ago)
    await transport.send(Outgoing(to_room=BUILDING_TOPIC, to_person=None, text="收到"))
    await puppet.say("wxid_wang", "[语音]", room_id=BUILDING_ROOM, kind="Audio")
    await puppet.say("wxid_wang", "[表情]", room_id=BUILDING_ROOM, kind="Emoticon")
    await puppet.say("wxid_wang", "这条要收到", room_id=BUILDING_ROOM)

    msg = await next_incoming(transport)

    assert msg.text == "这条要收到"
    unknown = [r for r in caplog.records if OTHER_TOPIC in r.getMessage()]
    assert len(unknown) == 1  # an unknown room is logged once


async def test_image_after_report_comes_as_placeholder(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await puppet.say("wxid_wang", "楼道灯坏了", room_id=BUILDING_ROOM)
    image_id = await puppet.say("wxid_wang", room_id=BUILDING_ROOM, image=True)

    first, second = await next_incoming(transport), await next_incoming(transport)

    assert first.text == "楼道灯坏了"
    assert (second.message_id, second.text, second.sender_id) == (
        image_id,
        IMAGE_TEXT,
        "wxid_wang",
    )


async def test_send_to_room_with_mention_and_to_person(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await transport.send(
        Outgoing(
            to_room=BUILDING_TOPIC,
            to_person=None,
            text="@刘 已转给楼栋长 #1",
            mention_ids=("wxid_liu",),
        )
    )
    await transport.send(Outgoing(to_room=None, to_person="wxid_wang", text="#1 3栋电梯坏了"))

    room_msg, private_msg = await puppet.wait_sent(2)

    assert room_msg["conversation_id"] == BUILDING_ROOM
    assert room_msg["text"] == "@刘 已转给楼栋长 #1"  # the text is the handler's, as is
    assert room_msg["mention_ids"] == ["wxid_liu"]
    assert (private_msg["conversation_id"], private_msg["text"]) == ("wxid_wang", "#1 3栋电梯坏了")


async def test_send_to_unknown_room_or_person_is_not_retryable(
    transport: WechatyTransport,
) -> None:
    with pytest.raises(UnknownRecipient) as room_error:
        await transport.send(Outgoing(to_room="不存在的群", to_person=None, text="x"))
    with pytest.raises(UnknownRecipient):
        await transport.send(Outgoing(to_room=None, to_person="wxid_nobody", text="x"))

    assert room_error.value.retryable is False


async def test_a_failed_send_raises_and_the_next_goes(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await puppet.fail_next_sends(1)
    msg = Outgoing(to_room=None, to_person="wxid_wang", text="#1 楼道灯坏了")

    with pytest.raises(SendFailed) as failure:
        await transport.send(msg)
    await transport.send(msg)

    assert failure.value.retryable is True
    assert [m["text"] for m in await puppet.wait_sent(1)] == ["#1 楼道灯坏了"]


async def test_sync_report(transport: WechatyTransport) -> None:
    rows = await transport.sync_report(
        [BUILDING_TOPIC, "武夷香榭5栋业主群"], ["wxid_wang", "wxid_zhou", "wxid_nobody"]
    )

    found = {(row.kind, row.key): row.found for row in rows}
    assert found == {
        ("room", BUILDING_TOPIC): True,
        ("room", "武夷香榭5栋业主群"): False,
        ("person", "wxid_wang"): True,
        ("person", "wxid_zhou"): False,  # in the room but not a contact
        ("person", "wxid_nobody"): False,
    }
    table = format_sync_table(rows)
    assert "NOT FOUND" in table and "NO CONTACT" in table and BUILDING_TOPIC in table


async def test_reconnects_after_kill_and_restart(puppet: PuppetServer, tmp_path: Path) -> None:
    offline_reports: list[float] = []

    async def on_reconnected(offline: object) -> None:
        offline_reports.append(offline.total_seconds())  # type: ignore[attr-defined]

    transport = make_transport(puppet, tmp_path, on_reconnected=on_reconnected)
    await transport.start()
    try:
        await transport.wait_connected(10)
        for _ in range(3):
            await puppet.kill()
            with pytest.raises(NotConnected):
                await asyncio.sleep(0.5)  # give the transport a moment to notice
                await transport.send(Outgoing(to_room=None, to_person="wxid_wang", text="x"))
            await puppet.start()
            started = time.monotonic()
            await transport.wait_connected(15)
            assert time.monotonic() - started < 15

        await puppet.say("wxid_wang", "重连后还能收到吗", room_id=BUILDING_ROOM)
        msg = await next_incoming(transport)
        await transport.send(Outgoing(to_room=BUILDING_TOPIC, to_person=None, text="能"))
        sent = await puppet.wait_sent(1)
    finally:
        await transport.stop()

    assert msg.text == "重连后还能收到吗"
    assert sent[-1]["text"] == "能"
    assert len(offline_reports) == 3
    assert all(0 < seconds < 15 for seconds in offline_reports)


async def test_a_send_during_a_short_outage_waits_for_the_reconnect(
    puppet: PuppetServer, tmp_path: Path
) -> None:
    transport = make_transport(puppet, tmp_path, send_wait=15.0)
    await transport.start()
    try:
        await transport.wait_connected(10)
        await puppet.kill()
        await asyncio.sleep(0.3)
        sending = asyncio.create_task(
            transport.send(Outgoing(to_room=None, to_person="wxid_wang", text="稍后送达"))
        )
        await asyncio.sleep(0.5)
        assert not sending.done()
        await puppet.start()
        async with asyncio.timeout(15):
            await sending
    finally:
        await transport.stop()

    assert [m["text"] for m in puppet.sent()] == ["稍后送达"]


async def test_connects_when_service_comes_up_later(puppet: PuppetServer, tmp_path: Path) -> None:
    await puppet.kill()
    transport = make_transport(puppet, tmp_path)
    await transport.start()
    try:
        await asyncio.sleep(0.5)
        assert not transport.connected
        await puppet.start()
        await transport.wait_connected(15)
    finally:
        await transport.stop()


async def test_wrong_token_never_connects_and_is_not_logged(
    puppet: PuppetServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = WechatyTransport(
        endpoint=puppet.endpoint,
        token="insecure_wrong-token-secret",
        room_topics=[BUILDING_TOPIC],
        data_dir=tmp_path / "data",
        clock=SystemClock(),
        backoff=Backoff(first=0.2, cap=0.5),
    )
    await transport.start()
    try:
        with pytest.raises(TimeoutError):
            await transport.wait_connected(2)
    finally:
        await transport.stop()

    assert "wrong-token-secret" not in caplog.text
    assert "wrong-token-secret" not in repr(transport)


async def test_nothing_written_to_the_working_directory(
    puppet: PuppetServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    transport = make_transport(puppet, tmp_path)
    await transport.start()
    try:
        await transport.wait_connected(10)
        await puppet.say("wxid_wang", "你好", room_id=BUILDING_ROOM)
        await next_incoming(transport)
    finally:
        await transport.stop()

    assert list(workdir.iterdir()) == []


async def test_an_alias_change_is_seen_at_once(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await puppet.say("wxid_liu", "第一句", room_id=BUILDING_ROOM)
    first = await next_incoming(transport)
    await puppet.change_alias(BUILDING_ROOM, "wxid_liu", "9栋-101刘")
    await asyncio.sleep(0.3)  # the dirty event reaches the transport
    await puppet.say("wxid_liu", "第二句", room_id=BUILDING_ROOM)
    second = await next_incoming(transport)

    assert (first.sender_name, second.sender_name) == ("3栋-502刘", "9栋-101刘")


async def test_a_renamed_room_keeps_its_configured_name(
    puppet: PuppetServer, transport: WechatyTransport
) -> None:
    await puppet.say("wxid_liu", "改名前", room_id=BUILDING_ROOM)
    before = await next_incoming(transport)
    await puppet.rename_room(BUILDING_ROOM, "新名字的群")
    await asyncio.sleep(0.3)
    await puppet.say("wxid_liu", "改名后", room_id=BUILDING_ROOM)
    after = await next_incoming(transport)
    await transport.send(Outgoing(to_room=BUILDING_TOPIC, to_person=None, text="还能发到"))

    assert (before.room, after.room) == (BUILDING_TOPIC, BUILDING_TOPIC)
    assert (await puppet.wait_sent(1))[0]["conversation_id"] == BUILDING_ROOM


async def test_sync_report_names_similar_people_and_rooms(
    puppet: PuppetServer, tmp_path: Path
) -> None:
    transport = make_transport(puppet, tmp_path, people_names={"wxid_wrong": "王秀"})
    await transport.start()
    try:
        await transport.wait_connected(10)
        rows = await transport.sync_report(["武夷香榭3栋业主", "没有的群"], ["wxid_wrong"])
    finally:
        await transport.stop()

    details = {row.key: row.detail for row in rows}
    assert "王秀英 (wxid_wang)" in details["wxid_wrong"]
    assert f"{BUILDING_TOPIC} ({BUILDING_ROOM})" in details["武夷香榭3栋业主"]

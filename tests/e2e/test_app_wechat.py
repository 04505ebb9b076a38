"""The whole bot on WeChat: app + outbox sender + WeChat transport + a real puppet service."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.app import App
from bot.core.clock import SystemClock
from bot.core.config import load_config
from bot.core.domain import SendOutcome
from bot.transports.wechaty import WechatyTransport
from bot.transports.wechaty_runner import WechatService, running
from storage import account_contacts
from storage.models import CaseEvent
from storage.wechat_models import SendAttempt
from tests.e2e.conftest import BUILDING_ROOM, BUILDING_TOPIC
from tests.e2e.puppet import PuppetServer, settle

HEAD = "wxid_wang"
SECRETARY = "wxid_li"
CASE = re.compile(r"#(\d+)")
# Small but real pacing, so the burst test can check it in a few seconds. (With min_gap below
# room_gap the sender idles a whole second whenever only the room gap holds a message back.)
SENDING = {"min_gap": 0.2, "jitter": 0.05, "room_gap": 0.2, "daily_cap": 500, "max_attempts": 8}
TOLERANCE_MS = 25  # timer and RPC jitter between the sender's sleep and the service's clock


def write_config(tmp_path: Path, puppet: PuppetServer, **overrides: Any) -> Path:
    """A config for one compound whose 3栋 group is the mock's building room."""
    config: dict[str, Any] = {
        "bot": {"name": "小邻", "timezone": "Asia/Shanghai", "quiet_hours": None},
        "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}"},
        "transport": {
            "kind": "wechaty",
            "endpoint": puppet.endpoint,
            "token": puppet.token,
            "data_dir": str(tmp_path / "data"),
            "offline_notice_after": "1h",
        },
        "sending": SENDING,
        "grid": [
            {
                "community": "剑津社区",
                "workers": [],
                "compounds": [
                    {
                        "name": "武夷香榭",
                        "secretary": {"id": SECRETARY, "name": "李书记"},
                        "rooms": [{"topic": BUILDING_TOPIC, "buildings": ["3"]}],
                        "buildings": [{"number": "3", "head": {"id": HEAD, "name": "王姐"}}],
                    }
                ],
            }
        ],
    }
    for section, values in overrides.items():
        config[section] = {**config[section], **values}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class RunningBot:
    """A bot wired as `jinlin run` wires it, serving in a task."""

    app: App
    service: WechatService

    @property
    def transport(self) -> WechatyTransport:
        """The bot's WeChat transport."""
        return self.service.transport


@contextlib.asynccontextmanager
async def running_bot(config_path: Path) -> AsyncIterator[RunningBot]:
    """Start the bot like bot/runner.py does, logged in to the mock account."""
    config = load_config(config_path)
    async with running(config, SystemClock()) as (app, service):
        await service.transport.wait_connected(10)
        yield RunningBot(app, service)


@pytest.fixture
async def compound(puppet: PuppetServer) -> PuppetServer:
    """The mock world plus the secretary."""
    await puppet.add_contact(SECRETARY, "李书记")
    return puppet


def to(sent: list[dict[str, Any]], conversation: str) -> list[dict[str, Any]]:
    """The sent messages of one conversation."""
    return [m for m in sent if m["conversation_id"] == conversation]


async def test_report_reaches_head_and_chit_chat_gets_nothing(
    compound: PuppetServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.transports")
    async with running_bot(write_config(tmp_path, compound)) as bot:
        await compound.say("wxid_zhou", "今天天气真好啊，大家吃了吗", room_id=BUILDING_ROOM)
        await compound.say("wxid_liu", "3栋电梯又坏了，按钮没反应", room_id=BUILDING_ROOM)
        sent = await compound.wait_sent(2)
        await asyncio.sleep(0.5)  # room for a wrong extra message to show up
        sent = compound.sent()
        assert bot.transport.connected

    ack, head = to(sent, BUILDING_ROOM), to(sent, HEAD)
    assert len(ack) == 1 and "#1" in ack[0]["text"]
    assert ack[0]["mention_ids"] == ["wxid_liu"]
    assert len(head) == 1 and "#1" in head[0]["text"] and "电梯" in head[0]["text"]
    assert "3栋-502刘" in head[0]["text"]  # the room alias is the name the head sees
    assert not to(sent, "wxid_zhou")
    assert all("天气" not in m["text"] for m in sent)
    # jinlin run's start-up check
    assert re.search(rf"room\s+{BUILDING_TOPIC}\s+found", caplog.text)
    assert re.search(rf"person\s+{HEAD}\s+contact", caplog.text)


async def test_head_takes_the_case_in_private(compound: PuppetServer, tmp_path: Path) -> None:
    async with running_bot(write_config(tmp_path, compound)):
        await compound.say("wxid_liu", "3栋楼道灯坏了，晚上看不见", room_id=BUILDING_ROOM)
        await compound.wait_sent(2)
        await compound.say(HEAD, "接单 1")
        sent = await compound.wait_sent(4)

    head, room = to(sent, HEAD), to(sent, BUILDING_ROOM)
    assert len(head) == 2 and "#1" in head[1]["text"] and "接单" in head[1]["text"]
    assert len(room) == 2 and "#1" in room[1]["text"]


async def test_a_photo_after_a_report_becomes_a_note_on_the_case(
    compound: PuppetServer, tmp_path: Path
) -> None:
    async with running_bot(write_config(tmp_path, compound)) as bot:
        await compound.say("wxid_liu", "3栋楼道灯坏了，晚上看不见", room_id=BUILDING_ROOM)
        await compound.wait_sent(2)
        photo_id = await compound.say("wxid_liu", room_id=BUILDING_ROOM, image=True)
        deadline = time.monotonic() + 10
        notes: list[str] = []
        while not notes and time.monotonic() < deadline:
            async with bot.app.sessions() as session:
                rows = await session.execute(select(CaseEvent).where(CaseEvent.action == "image"))
                notes = [event.note for event in rows.scalars()]
            await asyncio.sleep(0.1)
        sent = compound.sent()

    assert notes == [f"图片 {photo_id}"]
    assert len(sent) == 2  # the photo itself gets no answer


BURST = [
    "3栋2单元楼道灯坏了",
    "3栋电梯按钮失灵了",
    "3栋门禁刷不开了",
    "3栋楼顶水箱漏水",
    "3栋1楼下水道堵了",
    "3栋单元门关不上",
    "3栋楼道扶手松了",
    "3栋消防通道被电动车堵了",
    "3栋垃圾桶满了没人清",
    "3栋二楼窗户玻璃碎了没人修",
    "3栋信报箱门掉了",
    "3栋楼梯间墙皮掉了",
    "3栋地下室有积水",
    "3栋路灯不亮了",
    "3栋楼下井盖松动",
    "3栋快递柜屏幕坏了",
    "3栋屋顶漏水了",
    "3栋外墙瓷砖掉了",
    "3栋楼道有人堆杂物",
    "3栋门口的台阶裂了",
]


async def test_burst_is_answered_within_the_rate_limits(
    compound: PuppetServer, tmp_path: Path
) -> None:
    for i in range(len(BURST)):
        await compound.add_contact(f"wxid_r{i}", f"居民{i}")
    async with running_bot(write_config(tmp_path, compound)):
        for i, text in enumerate(BURST):
            await compound.say(f"wxid_r{i}", text, room_id=BUILDING_ROOM)
        # every report gets an acknowledgement in the group: wait until they stop coming (the
        # quiet spell is generous: a loaded 2-core machine can stall the bot for a second)
        sent = await settle(compound, quiet_for=3.0, timeout=40)

    acks, head = to(sent, BUILDING_ROOM), to(sent, HEAD)
    acked = {n for m in acks for n in CASE.findall(m["text"])}
    notified = {n for m in head for n in CASE.findall(m["text"])}
    assert len(acked) >= 15, [m["text"] for m in acks]  # nearly all of the 20 are reports
    assert acked == notified  # every case went to the head, and was acknowledged
    assert len(head) < len(notified)  # queued messages to one person went merged
    assert not [k for k, n in Counter(m["text"] for m in sent).items() if n > 1]  # no repeats
    times = [m["at"] for m in sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= SENDING["min_gap"] * 1000 - TOLERANCE_MS, gaps
    room_times = [m["at"] for m in acks]
    room_gaps = [b - a for a, b in itertools.pairwise(room_times)]
    assert min(room_gaps) >= SENDING["room_gap"] * 1000 - TOLERANCE_MS, room_gaps


async def test_puppet_service_killed_mid_run_loses_nothing_and_repeats_only_cut_sends(
    compound: PuppetServer, tmp_path: Path
) -> None:
    # a slow pace, so the kill lands while the bot still has messages to send
    config = write_config(
        tmp_path,
        compound,
        sending={"min_gap": 0.6, "jitter": 0.0, "room_gap": 0.6},
        transport={"offline_notice_after": "1s"},
    )
    async with running_bot(config) as bot:
        await compound.say("wxid_liu", "3栋电梯困人了，快来人", room_id=BUILDING_ROOM)
        await compound.say("wxid_wang", "3栋楼道灯坏了", room_id=BUILDING_ROOM)
        await compound.wait_sent(1)
        await compound.kill()
        killed_at = time.monotonic()
        sent_before_kill = len(compound.sent())
        await asyncio.sleep(2)  # down long enough to be noticed and reported
        await compound.start()
        await bot.transport.wait_connected(15)
        reconnect = time.monotonic() - killed_at
        sent = await settle(compound, quiet_for=3, timeout=40)
        async with bot.app.sessions() as session:
            unknown = await session.scalar(
                select(func.count(SendAttempt.id)).where(SendAttempt.outcome == SendOutcome.RESENT)
            )

    assert reconnect < 15
    # What the outbox promises: at least once, and a repeat only of a send whose call was cut
    # by the kill (no outcome, no echo), each at most once.
    repeats = sum(n - 1 for n in Counter(m["text"] for m in sent).values())
    assert repeats <= (unknown or 0), [m["text"] for m in sent]
    acks = to(sent, BUILDING_ROOM)
    assert {n for m in acks for n in CASE.findall(m["text"])} == {"1", "2"}  # nothing lost
    assert {n for m in to(sent, HEAD) for n in CASE.findall(m["text"])} == {"1", "2"}
    notices = [m for m in to(sent, SECRETARY) if "离线" in m["text"]]
    assert len(notices) == 1  # the secretary hears about the outage once
    assert len(sent) > sent_before_kill + len(notices)  # the kill did land mid-run


async def test_the_accounts_friends_are_stored_for_routing(
    compound: PuppetServer, tmp_path: Path
) -> None:
    """After login the account's friends (not the room member who is no friend) are stored;
    a friend made later is stored when they first write privately."""

    async def stored(bot: RunningBot, want: set[str]) -> list[str]:
        deadline = time.monotonic() + 10
        while True:
            async with bot.app.sessions() as session:
                ids = await account_contacts.of_account(session, bot.service.account)
            if want <= set(ids) or time.monotonic() > deadline:
                return ids
            await asyncio.sleep(0.1)

    async with running_bot(write_config(tmp_path, compound)) as bot:
        at_login = await stored(bot, {HEAD, SECRETARY, "wxid_liu"})
        await compound.add_contact("wxid_new", "新朋友")
        await compound.say("wxid_new", "你好，请问怎么报修？")
        later = await stored(bot, {"wxid_new"})

    assert {HEAD, SECRETARY, "wxid_liu"} <= set(at_login)
    assert "wxid_zhou" not in at_login and "wxid_new" not in at_login
    assert "wxid_new" in later and "wxid_zhou" not in later


async def test_friend_requests_of_the_grids_people_are_accepted(
    compound: PuppetServer, tmp_path: Path
) -> None:
    """A head who is not yet a friend asks: accepted and stored for routing; a stranger's
    request is left for a person; a friendship made on the phone is stored at once."""
    await compound.add_contact("wxid_stranger", "推销员", friend=False)
    await compound.add_contact("wxid_later", "赵老师", friend=False)
    path = write_config(tmp_path, compound)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    buildings = config["grid"][0]["compounds"][0]["buildings"]
    buildings.append({"number": "4", "head": {"id": "wxid_zhou", "name": "周姐"}})
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    async def contacts(bot: RunningBot) -> set[str]:
        async with bot.app.sessions() as session:
            return set(await account_contacts.of_account(session, bot.service.account))

    async with running_bot(path) as bot:
        deadline = time.monotonic() + 10
        while HEAD not in await contacts(bot) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # the login's list is stored
        stranger = await compound.friendship("wxid_stranger", "Receive", "加个好友")
        head = await compound.friendship("wxid_zhou", "Receive", "我是4栋楼栋长")
        await compound.friendship("wxid_later", "Confirm")
        deadline = time.monotonic() + 10
        while not {"wxid_zhou", "wxid_later"} <= await contacts(bot):
            assert time.monotonic() < deadline, await contacts(bot)
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # time for a wrong acceptance of the stranger to show
        accepted = await compound.friendship_accepts()
        stored = await contacts(bot)

    assert accepted == [head] and stranger not in accepted
    assert "wxid_stranger" not in stored

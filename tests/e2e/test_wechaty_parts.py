"""The WeChat transport's small parts that need no puppet service."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from bot.core.config import Config, ConfigError, parse_config
from bot.transports.wechaty import Backoff, WechatyTransport
from bot.transports.wechaty_connection import timestamp as _timestamp
from bot.transports.wechaty_events import Kind, Quote, is_restriction_notice, kind_of, split_quote
from bot.transports.wechaty_report import similar
from bot.transports.wechaty_rooms import MemoryBindings, RoomDirectory
from bot.transports.wechaty_runner import (
    WechatyConfigError,
    offline_notice,
    transport_from_config,
)

GRID = [
    {
        "community": "剑津社区",
        "workers": [{"id": "wxid_chen", "name": "社区小陈"}],
        "compounds": [
            {
                "name": "武夷香榭",
                "secretary": {"id": "wxid_li", "name": "李书记"},
                "rooms": [{"topic": "武夷香榭3栋业主群", "buildings": ["3"]}],
                "buildings": [{"number": "3", "head": {"id": "wxid_wang", "name": "王姐"}}],
            },
            {
                "name": "江南八仙",
                "secretary": {"id": "wxid_huang", "name": "黄书记"},
                "rooms": [{"topic": "江南八仙小区业主群"}],
            },
        ],
    }
]


def config_with(transport: dict[str, object], tmp_path: Path) -> Config:
    """A parsed config with this transport section."""
    return parse_config(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"},
            "transport": {"kind": "wechaty", **transport},
            "grid": GRID,
        }
    )


def test_backoff_starts_short_and_is_capped() -> None:
    delays = list(itertools.islice(Backoff(first=1, factor=2, cap=5, jitter=0).delays(), 5))

    assert delays == [1, 2, 4, 5, 5]


def test_backoff_jitter_only_lengthens() -> None:
    delays = list(itertools.islice(Backoff(first=1, factor=1, cap=1, jitter=0.2).delays(), 50))

    assert all(1 <= d <= 1.2 for d in delays) and len(set(delays)) > 1


def test_timestamps_in_seconds_or_milliseconds() -> None:
    when = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)

    assert _timestamp(int(when.timestamp())) == when
    assert _timestamp(int(when.timestamp() * 1000)) == when


def test_token_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "puppet_secret")
    config = config_with({"endpoint": "127.0.0.1:8788", "token_env": "MY_TOKEN"}, tmp_path)

    transport = transport_from_config(config, SystemClock())

    assert isinstance(transport, WechatyTransport)
    assert "puppet_secret" not in repr(transport)


def test_missing_endpoint_or_token_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JINLIN_WECHATY_TOKEN", raising=False)

    with pytest.raises(ConfigError, match=r"transport\.endpoint：缺少这一项"):
        config_with({"token": "t"}, tmp_path)
    with pytest.raises(WechatyConfigError, match=r"transport\.token.*JINLIN_WECHATY_TOKEN"):
        transport_from_config(config_with({"endpoint": "127.0.0.1:8788"}, tmp_path), SystemClock())


def test_offline_notice_goes_privately_to_each_secretary_once(tmp_path: Path) -> None:
    config = config_with({"endpoint": "127.0.0.1:8788", "token": "t"}, tmp_path)

    notices = offline_notice(config, timedelta(minutes=25))

    assert [(n.to_room, n.to_person) for n in notices] == [(None, "wxid_huang"), (None, "wxid_li")]
    assert all("25分钟" in n.text and "可能没有收到" in n.text for n in notices)


def test_quoted_reply_xml_gives_the_new_text_and_the_quote() -> None:
    xml = (
        '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>3栋电梯又坏了</title>'
        "<type>57</type><refermsg><type>1</type><svrid>1</svrid><displayname>王秀英</displayname>"
        "<content>昨天修好了吗</content></refermsg></appmsg></msg>"
    )

    quote = split_quote(xml)

    assert quote == Quote("3栋电梯又坏了", "昨天修好了吗", "王秀英")
    assert split_quote("3栋电梯又坏了") is None
    assert split_quote("<msg><appmsg><title>x</title></appmsg></msg>") is None  # no quote
    assert split_quote("<msg><refermsg>broken") is None


def test_restriction_notices_and_message_kinds() -> None:
    assert kind_of(0, "操作过于频繁，可稍后再试。", from_self=True) is Kind.RESTRICTION
    assert kind_of(6, "收到，已登记 #3", from_self=True) is Kind.OTHER  # an echo
    assert kind_of(2, "", from_self=False) is Kind.VOICE
    assert kind_of(7, "", from_self=False) is Kind.VOICE
    assert kind_of(5, "", from_self=False) is Kind.IMAGE
    assert kind_of(4, "[表情]", from_self=False) is Kind.OTHER
    assert kind_of(6, "操作过于频繁", from_self=False) is Kind.TEXT  # a resident may say it
    assert is_restriction_notice("Error: 发送消息过于频繁，请稍后再试")


async def test_rooms_bind_once_follow_ids_and_refuse_a_second_room() -> None:
    told: list[tuple[str, str]] = []

    async def on_hijack(room: str, wechat_id: str, topic: str) -> None:
        told.append((room, wechat_id))

    store = MemoryBindings()
    rooms = RoomDirectory(["3栋群", "5栋群"], store, config_ids={"5栋群": "r5@chatroom"})
    rooms.on_hijack = on_hijack
    await rooms.load()

    assert (await rooms.resolve("r3@chatroom", "3栋群")).room == "3栋群"  # bound by topic
    assert (await rooms.resolve("r3@chatroom", "改了名的群")).room == "3栋群"  # followed by id
    hijack = await rooms.resolve("rx@chatroom", "3栋群")
    assert (hijack.room, hijack.refused) == (None, True)
    await rooms.resolve("rx@chatroom", "3栋群")
    assert told == [("3栋群", "rx@chatroom")]  # told once
    assert (await rooms.resolve("r5@chatroom", "随便什么名")).room == "5栋群"  # by config id
    assert await rooms.id_for_sending("3栋群") == "r3@chatroom"
    assert (await rooms.resolve("ry@chatroom", "闲聊群")).room is None


def test_similar_names_for_a_person_not_found() -> None:
    contacts = [("wxid_1", "3栋王姐"), ("wxid_2", "王杰"), ("wxid_3", "李书记")]

    assert similar("王姐", contacts) == ["3栋王姐 (wxid_1)", "王杰 (wxid_2)"]
    assert similar("赵老师", contacts) == []

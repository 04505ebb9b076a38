"""Activities and sign-ups: capacity in people, waiting list, cancellations, 发布活动, export."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli import main
from bot.export_tools import find_activity, signups_csv
from handlers.activities import read_activity
from intents.dates import find_date, find_time
from storage.engine import create_engine, session_factory
from tests.services.replays import (
    SCENARIOS,
    check_scenario,
    event,
    replay_lines,
    scenario_lines,
    services_config,
)

TZ = ZoneInfo("Asia/Shanghai")
DUMPLINGS = {
    "title": "冬至包饺子",
    "compound": "武夷香榭",
    "starts_at": "2026-12-21T15:00",
    "place": "党群连心园",
    "capacity": 4,
}


async def test_full_activity_with_waiting_list_and_cancellation(db_url: str) -> None:
    """Past capacity people wait; a cancellation promotes in order; 名单 and CSV export agree."""
    await check_scenario("activity_waiting_list", db_url, services_config(activities=[DUMPLINGS]))
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            activity = await find_activity(session, "冬至包饺子")
            assert activity is not None
            text = await signups_csv(session, activity, TZ)
    finally:
        await engine.dispose()
    rows = [line.split(",") for line in text.strip().splitlines()]
    assert rows[0][:5] == ["序号", "活动", "姓名", "人数", "状态"]
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [
        ("王阿姨", "2", "已报名"),
        ("张姐", "1", "已报名"),
        ("小刘", "2", "候补"),
        ("李叔", "2", "已取消"),
    ]


async def test_publish_activity_asks_for_missing_parts_and_announces(db_url: str) -> None:
    """发布活动 reads Chinese dates, asks again when a part is missing, announces in the rooms."""
    await check_scenario("publish_activity", db_url)


def test_read_activity_chinese_forms() -> None:
    """Title, date, time, place and capacity from the usual ways of writing them."""
    cfg = services_config()
    now = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    d = read_activity("冬至包饺子 12月21日15:00 党群连心园 30人", now, cfg)
    assert (d.title, d.place, d.capacity) == ("冬至包饺子", "党群连心园", 30)
    assert d.starts_at == datetime(2026, 12, 21, 15, 0, tzinfo=TZ)
    d = read_activity("元旦游园 十二月三十一号下午三点半 小区广场 限二十人", now, cfg)
    assert d.starts_at == datetime(2026, 12, 31, 15, 30, tzinfo=TZ)
    assert (d.title, d.place, d.capacity) == ("元旦游园", "小区广场", 20)
    d = read_activity("读书会 小区图书室", now, cfg)
    assert d.missing() == ["日期", "开始时间"]


def test_dates_and_times() -> None:
    """Relative days, weekdays, a month-day past this year means next year."""
    today = date(2026, 11, 25)  # a Wednesday
    assert find_date("明天", today).value == date(2026, 11, 26)  # type: ignore[union-attr]
    assert find_date("下周六", today).value == date(2026, 12, 5)  # type: ignore[union-attr]
    assert find_date("1月3日", today).value == date(2027, 1, 3)  # type: ignore[union-attr]
    assert find_time("晚上7点30分").value == time(19, 30)  # type: ignore[union-attr]
    assert find_time("上午9点").value == time(9, 0)  # type: ignore[union-attr]
    assert find_time("没有时间") is None


def test_export_signups_cli_writes_csv_with_bom(tmp_path: Path) -> None:
    """`jinlin export signups` writes UTF-8 with a BOM so Excel shows the Chinese."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    asyncio.run(replay_lines(services_config(), scenario_lines("publish_activity"), url))
    out = tmp_path / "signups.csv"
    config = str(SCENARIOS / "config.yaml")
    args = ["export", "signups", "--activity", "元旦游园", "--config", config, "--db", url]
    assert main([*args, "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,活动,姓名,人数,状态")
    assert lines[1].startswith("1,元旦游园,李叔,3,已报名")
    assert main([*args[:3], "没有这个活动", *args[4:]]) == 2  # a mistake, as every command


async def test_a_configured_activity_moved_keeps_its_signups(db_url: str) -> None:
    """The config moves the start: the rooms hear of the change; reminders follow the new time."""
    signup = event(
        "2026-12-01T10:00",
        "冬至包饺子 报名 2人",
        room="武夷香榭3栋业主群",
        sender="r1",
        name="王阿姨",
    )
    await replay_lines(services_config(activities=[DUMPLINGS]), [signup], db_url)
    moved = services_config(activities=[{**DUMPLINGS, "starts_at": "2026-12-22T15:00"}])
    sent = await replay_lines(
        moved, [event("2026-12-02T10:00"), event("2026-12-23T10:00")], db_url
    )
    brief = [(m["at"][5:16], m.get("to_room"), m["text"]) for m in sent]
    changes = [b for b in brief if "【活动变更】" in b[2]]
    assert [(at, room) for at, room, _ in changes] == [
        ("12-02T10:00", "武夷香榭3栋业主群"),
        ("12-02T10:00", "武夷香榭业主群"),
    ]
    assert "12月22日" in changes[0][2]
    reminders = [(at, room) for at, room, text in brief if "@王阿姨" in text]
    assert reminders == [
        ("12-21T20:00", "武夷香榭3栋业主群"),
        ("12-22T14:00", "武夷香榭3栋业主群"),
    ]

"""The services section of the config: defaults, validation with key paths, effect on timings."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.core.config import ConfigError, parse_config
from tests.services.replays import event, replay_lines, services_config


def test_defaults() -> None:
    """Without a services section the issue's timings apply."""
    cfg = parse_config({})
    assert cfg.services.wish_remind_after == timedelta(days=1)
    assert cfg.services.wish_escalate_after == timedelta(days=3)
    assert cfg.services.roster_gap == timedelta(minutes=10)
    assert cfg.services.duplicate_window == timedelta(hours=24)
    assert cfg.co_building_day.activity_time == time(9, 0)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"services": {"wish_remind_after": "3d", "wish_escalate_after": "1d"}}, "services"),
        ({"services": {"roster_gap": "soon"}}, "services.roster_gap"),
        ({"services": {"duplicate_similarity": 0}}, "services.duplicate_similarity"),
        ({"co_building_day": {"activity_at": "25:00"}}, "co_building_day.activity_at"),
    ],
)
def test_invalid_values_name_their_key(data: dict[str, object], path: str) -> None:
    """A bad value is reported with its key path."""
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yaml")
    assert f"x.yaml: {path}：" in str(err.value)


async def test_wish_timings_follow_the_config(tmp_path: object) -> None:
    """wish_remind_after: 2h reminds the volunteers two hours after the wish."""
    cfg = services_config(services={"wish_remind_after": "2h", "wish_escalate_after": "5h"})
    lines = [
        event(
            "2026-12-01T10:00",
            "微心愿：想请人帮忙换个灯泡",
            room="武夷香榭业主群",
            sender="r1",
            name="李叔",
        ),
        event("2026-12-01T18:00"),
    ]
    sent = await replay_lines(cfg, lines, f"sqlite+aiosqlite:///{tmp_path}/t.db")
    late = [(m["at"][11:16], m["to_person"]) for m in sent if "还没人认领" in m["text"]]
    assert late == [("12:00", "wxid_zhao"), ("12:00", "wxid_sun")]
    assert any(m["at"][11:16] == "15:00" and "5小时无人认领" in m["text"] for m in sent)

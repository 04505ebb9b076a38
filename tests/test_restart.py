"""A restart in the middle: same database, a new process; nothing lost, nothing repeated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.replaying import SCENARIOS

PART_1 = [
    {
        "at": "2026-12-03T09:00:00+08:00",
        "room": "滨江花园7栋群",
        "sender": "wx_r1",
        "name": "7栋1502-孙阿姨",
        "text": "7栋的单元门关不上了，门禁坏了",
        "id": "w-1",
    },
    {
        "at": "2026-12-03T09:20:00+08:00",
        "sender": "wx_head7",
        "name": "陈大姐",
        "text": "接单 1",
        "id": "w-2",
    },
]
PART_2 = [
    # the puppet redelivers what it had already delivered before the restart
    {
        "at": "2026-12-03T10:00:00+08:00",
        "room": "滨江花园7栋群",
        "sender": "wx_r1",
        "name": "7栋1502-孙阿姨",
        "text": "7栋的单元门关不上了，门禁坏了",
        "id": "w-1",
    },
    {
        "at": "2026-12-03T10:00:01+08:00",
        "sender": "wx_head7",
        "name": "陈大姐",
        "text": "接单 1",
        "id": "w-2",
    },
    {
        "at": "2026-12-03T11:00:00+08:00",
        "sender": "wx_head7",
        "name": "陈大姐",
        "text": "办结 1 换了门禁锁",
        "id": "w-3",
    },
    {
        "at": "2026-12-03T11:05:00+08:00",
        "room": "滨江花园业主群",
        "sender": "wx_r5",
        "name": "8栋601 周先生",
        "text": "8栋楼顶漏水，家里天花板都湿了",
        "id": "w-4",
    },
]


def replay_process(events: list[dict[str, str]], db_url: str, tmp_path: Path) -> list[dict]:
    """Run `jinlin replay` in a new process on a persistent database."""
    path = tmp_path / f"events-{events[0]['id']}.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events), "utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "replay",
            "--config",
            str(SCENARIOS / "config.yaml"),
            "--db",
            db_url,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_restart_loses_and_repeats_nothing(db_url: str, tmp_path: Path) -> None:
    first = replay_process(PART_1, db_url, tmp_path)
    assert [m.get("to_room") or m.get("to_person") for m in first] == [
        "滨江花园7栋群",
        "wx_head7",
        "wx_head7",
        "滨江花园7栋群",
    ]
    second = replay_process(PART_2, db_url, tmp_path)
    texts = [m["text"] for m in second]
    # the redelivered report and 接单 are ignored; the case goes on where it was
    assert len(second) == 4, texts
    assert "#1" in texts[0] and "办结" in texts[0] and second[0]["to_person"] == "wx_head7"
    assert "已办结" in texts[1] and second[1]["to_room"] == "滨江花园7栋群"
    # numbering continues from the database, not from a counter in memory
    assert "#2" in texts[2] and second[2]["to_room"] == "滨江花园业主群"
    assert "#2" in texts[3] and second[3]["to_person"] == "wx_head8"

"""`jinlin console`: type as a resident and as a building head, see who gets what."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.replaying import SCENARIOS

SCRIPT = """/rooms
/room 1
/as wx_r1 7栋1502-孙阿姨
7栋电梯坏了，门打不开
今天天气真好
/as wx_head7
/dm
接单 1
/quit
"""


def test_console_session(tmp_path: Path) -> None:
    # The console runs on the wall clock: without quiet hours its answers do not depend on
    # the hour the suite runs at (22:00-07:00 they would wait for the morning).
    config = yaml.safe_load((SCENARIOS / "config.yaml").read_text(encoding="utf-8"))
    config["bot"]["quiet_hours"] = None
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "console",
            "--config",
            str(config_path),
            "--db",
            f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        ],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1. 滨江花园7栋群 (滨江花园)" in out
    assert "→ 群 滨江花园7栋群:\n    @孙阿姨 收到，已登记 #1" in out
    assert "→ 私聊 陈大姐 (wx_head7):\n    新报事 #1" in out
    assert "→ 私聊 陈大姐 (wx_head7):\n    已接单 #1" in out
    assert out.count("🤖") == 4  # nothing for the chit-chat

"""`jinlin wechat rooms|members`, `init --from-wechat` and `rooms` against the puppet service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from bot.core.config import load_config
from tests.e2e.conftest import BUILDING_ROOM, BUILDING_TOPIC, OTHER_ROOM, OTHER_TOPIC
from tests.e2e.puppet import PuppetServer
from tests.e2e.test_app_wechat import running_bot, write_config

REPO = Path(__file__).resolve().parents[2]


def jinlin(*args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    """Run the jinlin CLI in a new process."""
    env = {**os.environ, "JINLIN_WECHATY_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


async def test_rooms_and_members_with_their_ids(puppet: PuppetServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, puppet)

    rooms = jinlin("wechat", "rooms", "--config", str(config))
    members = jinlin("wechat", "members", BUILDING_TOPIC, "--config", str(config))
    missing = jinlin("wechat", "members", "没有这个群", "--config", str(config))

    assert rooms.returncode == 0, rooms.stderr
    assert f"{BUILDING_ROOM}\t{BUILDING_TOPIC}\t4 人" in rooms.stdout
    assert f"{OTHER_ROOM}\t{OTHER_TOPIC}" in rooms.stdout
    assert members.returncode == 0, members.stderr
    assert "wxid_liu\t刘大爷\t3栋-502刘\t是" in members.stdout
    assert "wxid_zhou\t周阿姨\t\t否" in members.stdout
    assert missing.returncode == 2 and "jinlin wechat rooms" in missing.stderr
    assert "这个账号不在群 '没有这个群' 里" in missing.stderr and "Traceback" not in missing.stderr


async def test_init_from_wechat_writes_a_config_to_review(
    puppet: PuppetServer, tmp_path: Path
) -> None:
    config = tmp_path / "minimal.yaml"
    config.write_text(
        yaml.safe_dump({"transport": {"kind": "wechaty", "endpoint": puppet.endpoint}}), "utf-8"
    )
    out = tmp_path / "draft.yaml"

    done = jinlin(
        "init", "--from-wechat", "--config", str(config), "-o", str(out), token=puppet.token
    )

    assert done.returncode == 0, done.stderr
    draft = load_config(out)  # valid as it is, for `check-config`
    compounds = {c.name: c for c in draft.grid[0].compounds}
    assert compounds["武夷香榭"].rooms[0].wechat_id == BUILDING_ROOM
    assert compounds["武夷香榭"].rooms[0].buildings == ["3"]
    assert "3" in [b.number for b in compounds["武夷香榭"].buildings]
    text = out.read_text("utf-8")
    assert "待核对" in text and "wxid_liu  刘大爷  3栋-502刘" in text


async def test_rooms_lists_and_rebinds(puppet: PuppetServer, tmp_path: Path) -> None:
    await puppet.add_contact("wxid_li", "李书记")
    config = write_config(tmp_path, puppet)
    async with running_bot(config):
        await puppet.say("wxid_liu", "3栋电梯又坏了", room_id=BUILDING_ROOM)
        await puppet.wait_sent(2)

    listed = jinlin("rooms", "--config", str(config))
    rebound = jinlin("rooms", "bind", BUILDING_TOPIC, OTHER_ROOM, "--config", str(config))
    unknown = jinlin("rooms", "bind", "没有的群", OTHER_ROOM, "--config", str(config))

    assert listed.returncode == 0, listed.stderr
    assert f"{BUILDING_TOPIC}  -> {BUILDING_ROOM}  (topic," in listed.stdout
    assert rebound.returncode == 0 and f"-> {OTHER_ROOM}  (operator" in rebound.stdout
    assert unknown.returncode == 2
    assert "grid[].compounds[].rooms[].topic 里没有群 '没有的群'" in unknown.stderr

"""Config loading: a bad file names the file, the key path and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.config import ConfigError, load_config, parse_config, parse_duration

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.yaml"


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    return data


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yaml")
    assert err.value.source == "x.yaml"
    return [str(p) for p in err.value.problems]


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.bot.name == "小邻"
    assert cfg.grid[0].compounds[0].buildings[0].head is not None
    assert cfg.sla.accept_urgent.total_seconds() == 600


def test_head_without_id_names_the_key_path() -> None:
    data = example()
    data["grid"][0]["compounds"][1]["buildings"][0]["head"] = {"name": "何大姐"}
    assert problems(data) == [
        "grid[0].compounds[1].buildings[0].head.id：缺少这一项，这里必须填写"
    ]


def test_unknown_timezone() -> None:
    data = example()
    data["bot"]["timezone"] = "Asia/Nanping"
    (msg,) = problems(data)
    assert msg.startswith('bot.timezone：没有这个时区 "Asia/Nanping"（请写 IANA 时区名')


def test_duplicate_room_topic_and_unknown_building_are_both_reported() -> None:
    data = example()
    rooms = data["grid"][0]["compounds"][1]["rooms"]
    rooms[1]["topic"] = "武夷香榭3栋业主群"
    rooms[0]["buildings"] = ["6"]
    found = problems(data)
    assert len(found) == 2
    assert any(
        p.startswith('grid[0].compounds[1].rooms[1].topic：群名 "武夷香榭3栋业主群" 已在')
        and "grid[0].compounds[0].rooms[0].topic" in p
        for p in found
    )
    assert any(
        p.startswith('grid[0].compounds[1].rooms[0].buildings[0]：楼栋 "6" 不在小区')
        for p in found
    )


def test_every_type_problem_is_listed() -> None:
    data = example()
    data["sla"]["accept"] = "soon"
    data["bot"]["quiet_hours"] = "late"
    data["bot"]["nmae"] = "typo"
    found = problems(data)
    duration = "应当是时长，如 10m、2h、3d（s 秒、m 分、h 时、d 天）"
    assert f'sla.accept：{duration}，现在是 "soon"' in found
    assert 'bot.quiet_hours：应当是 时:分-时:分，如 22:00-07:00，现在是 "late"' in found
    assert "bot.nmae：没有这个配置项，是不是要写 name？" in found


def test_activity_of_unknown_compound() -> None:
    data = example()
    data["activities"][0]["compound"] = "不存在小区"
    assert problems(data) == [
        'activities[0].compound：grid 里没有叫 "不存在小区" 的小区，请写 grid 里某个小区的 name'
    ]


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="读不了这个文件：文件不存在"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("bot:\n  name: [unclosed\n", "utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: YAML 格式有误，在第 \d+ 行第 \d+ 列"):
        load_config(bad)


def test_building_numbers_written_as_integers_are_names() -> None:
    data = example()
    data["grid"][0]["compounds"][0]["buildings"][0]["number"] = 3
    data["grid"][0]["compounds"][0]["rooms"][0]["buildings"] = [3]
    cfg = parse_config(data)
    assert cfg.grid[0].compounds[0].buildings[0].number == "3"


def test_durations() -> None:
    assert parse_duration("90s").total_seconds() == 90
    assert parse_duration("3d").days == 3
    with pytest.raises(ValueError, match="应当是时长"):
        parse_duration("3 weeks")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )


def test_check_config_prints_a_summary() -> None:
    done = run_cli("check-config", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "小区：2 个" in done.stdout
    assert "3 栋：王姐（wxid_wang）" in done.stdout


def test_check_config_prints_each_problem_and_fails(tmp_path: Path) -> None:
    data = example()
    data["grid"][0]["compounds"][0]["buildings"][2]["head"] = {"name": "林阿姨"}
    data["bot"]["timezone"] = "Nowhere/City"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    done = run_cli("check-config", str(path))
    assert done.returncode == 2
    assert f"{path}: grid[0].compounds[0].buildings[2].head.id：缺少这一项" in done.stderr
    assert f"{path}: bot.timezone：没有这个时区" in done.stderr
    assert "Traceback" not in done.stderr
    assert "机器人才会启动" in done.stderr


def test_type_errors_are_told_in_chinese_with_the_value_found() -> None:
    data = example()
    data["sending"] = {"daily_cap": "abc", "max_attempts": 0, "merge_private": "maybe"}
    data["bot"]["name"] = ["小邻"]
    data["bot"]["colour"] = "red"
    data["transport"] = {"kind": "wechat"}
    data["co_building_day"] = {"day": 1.5}
    data["grid"][0]["compounds"][0]["name"] = ""
    data["grid"][0]["workers"] = {"id": "x"}
    data["activities"][0]["starts_at"] = "tomorrow"
    found = problems(data)
    assert found == [
        "bot.name：应当是一段文字，现在写的是一个列表",
        "bot.colour：没有这个配置项，请检查拼写（这里可写：name、account、timezone、quiet_hours）",
        'transport.kind：只能是 web、console 或 wechaty，现在写的是 "wechat"',
        'sending.daily_cap：应当是整数，现在写的是 "abc"',
        'sending.merge_private：应当是 true 或 false，现在写的是 "maybe"',
        "sending.max_attempts：应当不小于 1，现在写的是 0",
        "grid[0].workers：应当是列表（每项一行，以“- ”开头），现在写的是一组“键: 值”",
        "grid[0].compounds[0].name：不能为空",
        "co_building_day.day：应当是整数，不能带小数，现在写的是 1.5",
        'activities[0].starts_at：应当是日期和时间，如 2026-12-21T15:00，现在写的是 "tomorrow"',
    ]


def test_an_error_type_without_a_sentence_keeps_pydantic_words() -> None:
    from bot.core.config_errors import describe

    said = describe({"type": "uuid_parsing", "msg": "Input should be a valid UUID", "input": "x"})
    assert said == '取值不对（Input should be a valid UUID），现在写的是 "x"'
    literal = {"type": "literal_error", "ctx": {"expected": "'a', 'b' or 'c'"}, "input": "d"}
    assert describe(literal) == '只能是 a、b 或 c，现在写的是 "d"'


def test_problems_in_a_file_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = EXAMPLE.read_text("utf-8").replace("quiet_hours:", "quiet_hour:", 1)
    path.write_text(text.replace("  accept: 2h\n", "  accept: 0s\n"), "utf-8")

    def line(part: str) -> int:
        return 1 + next(i for i, s in enumerate(text.splitlines()) if part in s)

    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert [str(p) for p in err.value.problems] == [
        f"bot.quiet_hour：没有这个配置项，是不是要写 quiet_hours？（第 {line('quiet_hour:')} 行）",
        f"sla.accept：必须大于 0（如 10m、2h、3d）（第 {line('  accept: 2h')} 行）",
    ]
    assert str(err.value).splitlines()[1].startswith(f"{path}: bot.quiet_hour：没有这个配置项")


def test_a_file_that_is_not_a_mapping_or_has_a_bad_date(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- a\n- b\n", "utf-8")
    with pytest.raises(ConfigError, match="文件的最外层应当是一组“键: 值”"):
        load_config(path)
    path.write_text("bot:\n  name: x\nactivities:\n  - {starts_at: 2026-13-45}\n", "utf-8")
    with pytest.raises(ConfigError, match=r"YAML 读不了第 4 行的值（month must be in 1\.\.12）"):
        load_config(path)
    with pytest.raises(ConfigError, match="这是一个文件夹"):
        load_config(tmp_path)


def test_a_console_login_name_with_a_space_is_one_sentence() -> None:
    data = example()
    data["web"] = {"users": [{"name": "李 书记", "password_hash": "scrypt$1$1$1$YQ==$YQ=="}]}
    assert problems(data) == ['web.users[0].name：登录名不能含空格或冒号，现在是 "李 书记"']

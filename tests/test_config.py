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
    assert problems(data) == ["grid[0].compounds[1].buildings[0].head.id: is required but missing"]


def test_unknown_timezone() -> None:
    data = example()
    data["bot"]["timezone"] = "Asia/Nanping"
    (msg,) = problems(data)
    assert msg.startswith("bot.timezone: unknown timezone 'Asia/Nanping'")


def test_duplicate_room_topic_and_unknown_building_are_both_reported() -> None:
    data = example()
    rooms = data["grid"][0]["compounds"][1]["rooms"]
    rooms[1]["topic"] = "武夷香榭3栋业主群"
    rooms[0]["buildings"] = ["6"]
    found = problems(data)
    assert len(found) == 2
    assert any(
        p.startswith("grid[0].compounds[1].rooms[1].topic: room topic '武夷香榭3栋业主群'")
        and "grid[0].compounds[0].rooms[0].topic" in p
        for p in found
    )
    assert any(
        p.startswith("grid[0].compounds[1].rooms[0].buildings[0]: building '6'") for p in found
    )


def test_every_type_problem_is_listed() -> None:
    data = example()
    data["sla"]["accept"] = "soon"
    data["bot"]["quiet_hours"] = "late"
    data["bot"]["nmae"] = "typo"
    found = problems(data)
    assert "sla.accept: expected a duration like 10m, 2h or 3d, got 'soon'" in found
    assert any(p.startswith("bot.quiet_hours:") for p in found)
    assert "bot.nmae: is not a known key; did you mean name?" in found


def test_activity_of_unknown_compound() -> None:
    data = example()
    data["activities"][0]["compound"] = "不存在小区"
    assert problems(data) == ["activities[0].compound: no compound named '不存在小区' in grid"]


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("bot:\n  name: [unclosed\n", "utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML: line \d+"):
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
    with pytest.raises(ValueError, match="expected a duration"):
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
    assert "compounds:   2" in done.stdout
    assert "building 3: 王姐 (wxid_wang)" in done.stdout


def test_check_config_prints_each_problem_and_fails(tmp_path: Path) -> None:
    data = example()
    data["grid"][0]["compounds"][0]["buildings"][2]["head"] = {"name": "林阿姨"}
    data["bot"]["timezone"] = "Nowhere/City"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    done = run_cli("check-config", str(path))
    assert done.returncode == 2
    assert f"{path}: grid[0].compounds[0].buildings[2].head.id: is required" in done.stderr
    assert f"{path}: bot.timezone: unknown timezone" in done.stderr
    assert "机器人才会启动" in done.stderr

"""A seeded, bounded fuzz over config files and replay lines: every input is either accepted or
refused with problems that name the file and the key path or line; nothing else escapes.

Small by default (CI); JINLIN_FUZZ=N runs N cases of each."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config
from bot.replay import ReplayInputError, read_events

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.yaml"
CASES = int(os.environ.get("JINLIN_FUZZ", "120"))

ODD_SCALARS = [
    "0s", "-1d", "99999999999d", "1e400", ".nan", ".inf", "-0", "null", "~", "[]", "{}", "''",
    "99999999999999999999999", "-99999999999999999999", "true", "2026-13-45", "25:99",
    '"\\ud800"', '"\\u202e反转"', "'@所有人'", "&a x", "*a", "!!binary aGk=", "!!python/none",
    "'<script>'", "3栋", "１２", '"\\x00"', "- x", ": :", "{a: 1, a: 2}",
]  # fmt: skip


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(7)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])  # often a duplicate key
        elif op == 2 and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {rng.choice(ODD_SCALARS)}"
        elif op == 3:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 4:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = (
                lines[i][:j]
                + rng.choice(["\t", "  ", "{", "[", "'", '"', "#", "ü"])
                + lines[i][j:]
            )
        elif op == 5 and ":" in lines[i]:
            key, value = lines[i].split(":", 1)
            typo = list(key.strip().lstrip("- "))
            if typo:
                typo[rng.randrange(len(typo))] = rng.choice("aeiouxz_")
            lines[i] = key[: len(key) - len(key.lstrip())] + "".join(typo) + ":" + value
        else:
            lines.insert(i, " " * rng.randrange(6) + rng.choice(ODD_SCALARS))
    return "\n".join(lines) + "\n"


def test_fuzzed_config_files_fail_with_their_file_and_key(tmp_path: Path) -> None:
    rng = random.Random(11)
    base = EXAMPLE.read_text("utf-8")
    refused = 0
    for n in range(CASES):
        path = tmp_path / f"c{n}.yaml"
        text = mutate(base, rng)
        data = text.encode()
        if rng.random() < 0.05:  # now and then a byte that is not UTF-8
            j = rng.randrange(len(data))
            data = data[:j] + bytes([rng.choice([0xFF, 0xC3, 0x80, 0xFE])]) + data[j:]
        path.write_bytes(data)
        try:
            load_config(path)
        except ConfigError as e:
            refused += 1
            assert e.problems, text
            for line in str(e).splitlines()[1:]:
                assert line.startswith(f"{path}: "), (line, text)
                assert line.removeprefix(f"{path}: ").strip(), (line, text)
                # said in Chinese, for the community workers who edit the file
                assert re.search(r"[\u4e00-\u9fff]", line.removeprefix(f"{path}: ")), line
    assert refused > CASES // 3  # the mutations do break files


def test_fuzzed_replay_lines_fail_with_file_and_line() -> None:
    from bot.core.config import load_config as load

    config = load(EXAMPLE)
    rng = random.Random(12)
    values: list[object] = [
        None, 0, -1, 2**70, 1.5, True, [], {}, [1], {"a": 1}, "", " ", "x", "\ud800", "\u202e",
        "2026-11-25T09:00", "2026-11-25T09:00+08:00", "9999-12-31T23:59", "0001-01-01",
        "2026-02-30T00:00", "2026-11-25 09:00:00.123456", "武夷香榭3栋业主群", "a" * 5000,
    ]  # fmt: skip
    keys = ["at", "room", "sender", "name", "text", "id", "extra"]
    for n in range(CASES):
        lines: list[str | bytes] = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.1:
                lines.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 30))))
            elif kind < 0.2:
                lines.append(json.dumps(rng.choice(values)))
            else:
                row = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, len(keys)))}
                if rng.random() < 0.5:
                    row["at"] = "2026-11-25T09:00"
                lines.append(json.dumps(row, ensure_ascii=rng.random() < 0.5))
        try:
            events = read_events(lines, f"f{n}.jsonl", config)
        except ReplayInputError as e:
            for line in str(e).splitlines():
                assert line.startswith(f"f{n}.jsonl:"), line
                number = line.split(":")[1]
                assert number.isdigit() and 1 <= int(number) <= len(lines), line
            continue
        for ev in events:  # what is accepted has the types the bot expects
            assert ev.at.tzinfo is not None and 2000 <= ev.at.year <= 2100
            assert ev.text is None or (isinstance(ev.text, str) and isinstance(ev.sender, str))
            assert ev.room is None or (isinstance(ev.room, str) and ev.room)


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "bot:\n  name: x\n  name: y\n"])
def test_duplicate_keys_in_small_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match="又写了一次"):
        load_config(path)

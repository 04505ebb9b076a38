"""Run replay scenarios in-process and compare what the bot sent with expectations."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from bot.core.config import Config, load_config
from bot.replay import read_events, replay

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def scenario_config(name: str = "config.yaml") -> Config:
    """A config from tests/scenarios."""
    return load_config(SCENARIOS / name)


async def run_events(config: Config, lines: list[str], db_url: str | None) -> list[dict[str, Any]]:
    """Replay event lines (JSON strings) and return the sent messages as dicts."""
    events = read_events(lines, "<test>", config)
    out = io.StringIO()
    await replay(config, events, out, db_url=db_url)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


async def run_scenario(name: str, db_url: str | None, config: Config | None = None) -> None:
    """Replay tests/scenarios/NAME.jsonl and check it against NAME.expected.jsonl."""
    lines = (SCENARIOS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    sent = await run_events(config or scenario_config(), lines, db_url)
    expected = [
        json.loads(line)
        for line in (SCENARIOS / f"{name}.expected.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    ]
    assert_sent(sent, expected)


def assert_sent(sent: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Same messages, same order, same recipients and times; each text holds its `has` parts."""
    got = [_brief(m) for m in sent]
    assert len(sent) == len(expected), "bot sent:\n" + "\n".join(got)
    for i, (m, e) in enumerate(zip(sent, expected, strict=True)):
        where = f"message {i + 1}: {got[i]}"
        for key in ("to_room", "to_person", "at"):
            if key in e:
                assert m.get(key) == e[key], f"{where}: {key} should be {e[key]!r}"
        assert ("to_room" in m) == ("to_room" in e or "to_person" not in e), where
        for part in e.get("has", []):
            assert part in m["text"], f"{where}: text lacks {part!r}"
        for part in e.get("lacks", []):
            assert part not in m["text"], f"{where}: text should not contain {part!r}"


def _brief(m: dict[str, Any]) -> str:
    to = m.get("to_room") or m.get("to_person")
    return f"{m['at']} → {to}: {m['text']!r}"

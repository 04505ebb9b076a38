"""Helpers of the service scenarios: the scenario config, replaying files, reading the results."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bot.core.config import Config, parse_config
from bot.replay import read_events, replay
from storage.engine import create_engine, session_factory
from storage.models import CaseEvent
from tests.support.replaying import assert_sent

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def services_config(**overrides: Any) -> Config:
    """The scenarios' config, with top-level sections replaced (e.g. activities=[...])."""
    data = yaml.safe_load((SCENARIOS / "config.yaml").read_text(encoding="utf-8"))
    data.update(overrides)
    return parse_config(data, "tests/services/scenarios/config.yaml")


async def replay_lines(config: Config, lines: list[str], db_url: str) -> list[dict[str, Any]]:
    """Replay event lines (JSON strings); the messages sent, as dicts."""
    out = io.StringIO()
    await replay(config, read_events(lines, "<test>", config), out, db_url=db_url)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def scenario_lines(name: str) -> list[str]:
    """The event lines of tests/services/scenarios/NAME.jsonl."""
    return (SCENARIOS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


async def check_scenario(
    name: str, db_url: str, config: Config | None = None
) -> list[dict[str, Any]]:
    """Replay NAME.jsonl and check what was sent against NAME.expected.jsonl."""
    sent = await replay_lines(config or services_config(), scenario_lines(name), db_url)
    expected = [
        json.loads(line)
        for line in (SCENARIOS / f"{name}.expected.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    ]
    assert_sent(sent, expected)
    return sent


def event(at: str, text: str | None = None, **fields: str) -> str:
    """One replay line: event("2026-12-01T10:00", "报名", room=..., sender=..., name=...)."""
    data: dict[str, Any] = {"at": at, **fields}
    if text is not None:
        data["text"] = text
    return json.dumps(data, ensure_ascii=False)


async def case_log(db_url: str, case_id: int) -> list[tuple[str, str]]:
    """The (action, note) entries of a case's log, oldest first."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(CaseEvent.action, CaseEvent.note)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.id)
            )
            return [(a, n) for a, n in rows.all()]
    finally:
        await engine.dispose()

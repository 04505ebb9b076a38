"""`jinlin replay`: the whole bot on a virtual clock, JSONL events in, JSONL sends out."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bot.app import App, build_app
from bot.core.clock import VirtualClock
from bot.core.config import Config
from bot.core.messages import Incoming, LocalTransport, Outgoing
from bot.sender import SendPolicy
from storage import outbox

IN_MEMORY = "sqlite+aiosqlite:///:memory:"


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """One line of a replay file."""

    line: int
    at: datetime
    room: str | None
    sender: str | None
    name: str | None
    text: str | None
    id: str | None


class ReplayInputError(Exception):
    """A replay file with lines that cannot be read; lists each bad line."""


def read_events(lines: Iterable[str], source: str, config: Config) -> list[ReplayEvent]:
    """Parse and check every line first, so a bad file fails before anything runs."""
    events: list[ReplayEvent] = []
    problems: list[str] = []
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("a line must be a JSON object")
            at = datetime.fromisoformat(str(data["at"]))
            if at.tzinfo is None:
                at = at.replace(tzinfo=config.bot.tz)
            text = data.get("text")
            if text is not None and not data.get("sender"):
                raise ValueError("a message needs a sender")
            events.append(
                ReplayEvent(
                    line=n,
                    at=at,
                    room=data.get("room"),
                    sender=data.get("sender"),
                    name=data.get("name"),
                    text=None if text is None else str(text),
                    id=None if data.get("id") is None else str(data["id"]),
                )
            )
        except KeyError as e:
            problems.append(f"{source}:{n}: missing key {e.args[0]!r}")
        except (ValueError, TypeError) as e:
            problems.append(f"{source}:{n}: {e}")
    if problems:
        raise ReplayInputError("\n".join(problems))
    return events


class RecordingTransport(LocalTransport):
    """A transport that writes each send as a JSON line stamped with the virtual time."""

    def __init__(self, clock: VirtualClock, out: TextIO, config: Config) -> None:
        self._clock = clock
        self._out = out
        self._tz = config.bot.tz

    async def incoming(self) -> AsyncIterator[Incoming]:
        """Replays feed the dispatcher directly; nothing arrives here."""
        return
        yield  # pragma: no cover

    async def send(self, msg: Outgoing) -> None:
        """Write the message as one JSON line."""
        line: dict[str, object] = {"at": self._clock.now().astimezone(self._tz).isoformat()}
        if msg.to_room is not None:
            line["to_room"] = msg.to_room
        else:
            line["to_person"] = msg.to_person
        line["text"] = msg.text
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._out.flush()


async def advance(app: App, clock: VirtualClock, target: datetime) -> None:
    """Move the clock to `target`, firing every task and held message due on the way, in order."""
    while True:
        await app.tasks.plan()
        await app.tasks.run_due()
        await app.sender.drain()
        candidates = [await app.tasks.next_due_at()]
        async with app.sessions() as session:
            candidates.append(await outbox.next_due_at(session, app.config.bot.account))
        upcoming = [t for t in candidates if t is not None and clock.now() < t <= target]
        if not upcoming:
            break
        clock.set(min(upcoming))
    clock.set(target)
    await app.tasks.run_due()
    await app.sender.drain()


async def replay(
    config: Config, events: list[ReplayEvent], out: TextIO, db_url: str | None = None
) -> None:
    """Run the events through the whole bot and write what it sends."""
    if not events:
        return
    clock = VirtualClock(events[0].at)
    transport = RecordingTransport(clock, out, config)
    app = build_app(
        config, transport, clock, db_url=db_url or IN_MEMORY, policy=SendPolicy.immediate()
    )
    try:
        await app.start(upgrade=True)
        for ev in events:
            await advance(app, clock, ev.at)
            if ev.text is None:
                continue
            await app.handle(
                Incoming(
                    message_id=ev.id or f"replay-{uuid.uuid4().hex}",
                    room=ev.room,
                    sender_id=ev.sender or "",
                    sender_name=ev.name or ev.sender or "",
                    text=ev.text,
                    mentions_bot=f"@{config.bot.name}" in ev.text,
                    at=clock.now(),
                )
            )
            await app.sender.drain()
    finally:
        await app.stop()

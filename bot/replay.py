"""`jinlin replay`: the whole bot on a virtual clock, JSONL events in, JSONL sends out."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bot.app import App, build_app
from bot.cli_support import json_kind, json_problem, utf8_line
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


EARLIEST, LATEST = 2000, 2100  # a replay's years: later dates overflow the clock's arithmetic
_TEXT_KEYS = ("room", "name", "text")


class _Bad(ValueError):
    """One problem of one line."""


def _when(value: object, config: Config) -> datetime:
    if not isinstance(value, str):
        raise _Bad(f'"at" 应当是 ISO 时间，如 "2026-11-25T09:00"，现在是{json_kind(value)}')
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f'"at"：{value!r} 不是 ISO 时间，应当像 "2026-11-25T09:00"') from None
    if not EARLIEST <= at.year <= LATEST:
        raise _Bad(f'"at"：{at.year} 年超出范围（只能是 {EARLIEST}-{LATEST} 年）')
    return at.replace(tzinfo=config.bot.tz) if at.tzinfo is None else at


def _event(n: int, raw: str | bytes, config: Config) -> ReplayEvent | None:
    try:
        line = utf8_line(raw, "文件").strip().lstrip("\ufeff")
    except ValueError as e:
        raise _Bad(str(e)) from None
    if not line:
        return None
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise _Bad(json_problem(e)) from None
    if not isinstance(data, dict):
        raise _Bad(f"每行应当是一个 JSON 对象 {{...}}，现在是{json_kind(data)}")
    if "at" not in data:
        raise _Bad('缺少 "at"（消息的时间）')
    at = _when(data["at"], config)
    for key in _TEXT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _Bad(f'"{key}" 应当是字符串，现在是{json_kind(data[key])}')
    sender = data.get("sender")
    if sender is not None and not (isinstance(sender, str) and sender.strip()):
        raise _Bad(f'"sender" 应当是微信号（不为空的字符串），现在是{json_kind(sender)}')
    if data.get("room") == "":
        raise _Bad('"room" 是空的：私聊消息请不要写 "room"')
    message_id = data.get("id")
    if message_id is not None and (
        isinstance(message_id, bool) or not isinstance(message_id, str | int)
    ):
        raise _Bad(f'"id" 应当是字符串或数字，现在是{json_kind(message_id)}')
    text = data.get("text")
    if text is not None and sender is None:
        raise _Bad('有 "text" 的消息还要写 "sender"（谁发的）')
    return ReplayEvent(
        line=n,
        at=at,
        room=data.get("room"),
        sender=sender,
        name=data.get("name"),
        text=text,
        id=None if message_id is None else str(message_id),
    )


def read_events(lines: Iterable[str | bytes], source: str, config: Config) -> list[ReplayEvent]:
    """Parse and check every line first, so a bad file fails before anything runs; each
    problem is one `FILE:LINE: problem`."""
    events: list[ReplayEvent] = []
    problems: list[str] = []
    for n, raw in enumerate(lines, 1):
        try:
            event = _event(n, raw, config)
        except _Bad as e:
            problems.append(f"{source}:{n}: {e}")
            continue
        if event is not None:
            events.append(event)
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

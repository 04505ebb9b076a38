"""The console transport: type as any person in any room, see what the bot sends to whom."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.grid import Grid
from bot.core.messages import Incoming, LocalTransport, Outgoing

CONSOLE_HELP = """命令 (commands):
  /rooms              list the configured rooms
  /room N|TOPIC       speak in that room
  /people             list configured people (heads, secretaries, volunteers, workers)
  /as ID [NAME]       speak as that WeChat id (NAME: display name in the room, e.g. 3栋402-王阿姨)
  /dm                 speak privately to the bot (as the current person)
  /help               this text
  /quit               leave (Ctrl-D works too)
Anything else is sent as a message."""


class ConsoleTransport(LocalTransport):
    """Reads lines from a text stream; prints the bot's messages."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self._config = config
        self._grid = Grid(config)
        self._clock = clock
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        rooms = self._grid.rooms()
        self._room: str | None = rooms[0].room.topic if rooms else None
        self._sender_id = "wxid_resident"
        self._sender_name = "3栋402-王阿姨"

    def _print(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def _prompt(self) -> str:
        where = self._room or "私聊"
        return f"[{self._sender_name} @ {where}]> "

    async def incoming(self) -> AsyncIterator[Incoming]:
        """Yield each typed message; interpret /commands locally."""
        loop = asyncio.get_running_loop()
        self._print(CONSOLE_HELP)
        read: Callable[[], str] = self._in.readline
        while True:
            self._out.write(self._prompt())
            self._out.flush()
            line = await loop.run_in_executor(None, read)
            if not line:
                return
            text = line.rstrip("\n")
            if not text.strip():
                continue
            if text.startswith("/"):
                if self._command(text.strip()):
                    return
                continue
            yield Incoming(
                message_id=f"console-{uuid.uuid4().hex}",
                room=self._room,
                sender_id=self._sender_id,
                sender_name=self._sender_name,
                text=text,
                mentions_bot=f"@{self._config.bot.name}" in text,
                at=self._clock.now(),
            )

    def _command(self, text: str) -> bool:
        """Handle a /command; True means quit."""
        verb, _, rest = text.partition(" ")
        rest = rest.strip()
        rooms = self._grid.rooms()
        if verb == "/quit":
            return True
        if verb == "/rooms":
            for i, r in enumerate(rooms, 1):
                self._print(f"  {i}. {r.room.topic} ({r.compound.name})")
        elif verb == "/room":
            chosen = (
                rooms[int(rest) - 1].room.topic
                if rest.isdigit() and 0 < int(rest) <= len(rooms)
                else rest
            )
            if self._grid.room(chosen) is None:
                self._print(f"  no room {rest!r}; /rooms lists them")
            else:
                self._room = chosen
        elif verb == "/people":
            for person, role in self._grid.people():
                self._print(f"  {person.id}  {person.name}  ({role})")
        elif verb == "/as":
            pid, _, name = rest.partition(" ")
            if not pid:
                self._print("  usage: /as ID [NAME]")
            else:
                self._sender_id = pid
                self._sender_name = name.strip() or self._grid.name_of(pid) or pid
        elif verb == "/dm":
            self._room = None
        else:
            self._print(CONSOLE_HELP)
        return False

    async def send(self, msg: Outgoing) -> None:
        """Print who the bot sends to and what."""
        if msg.to_room is not None:
            who = f"群 {msg.to_room}"
        else:
            name = self._grid.name_of(msg.to_person or "") or msg.to_person
            who = f"私聊 {name} ({msg.to_person})"
        self._print(f"\n  🤖 → {who}:\n    " + msg.text.replace("\n", "\n    "))

"""Rooms and aliases: configured rooms bound to WeChat room ids, members' room aliases.

Inside the bot a room is its configured topic (Incoming.room, Outgoing.to_room). A configured
room is bound to a WeChat room id once: by the id in the config, else the first time a room
with its exact topic is seen. From then on the room is followed by id (a rename changes
nothing), and another room that takes a bound topic is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

ALIAS_TTL = 300.0  # seconds a member's room alias is reused (events clear it sooner)


class BindingStore(Protocol):
    """Where bindings live (the database in production; memory for a bare transport)."""

    async def load(self) -> dict[str, str]:
        """Every binding: configured room -> WeChat room id."""
        ...

    async def bind(self, room: str, wechat_id: str, topic: str, by: str) -> bool:
        """Bind; False if the room or the id is bound (maybe by another process) already."""
        ...

    async def renamed(self, wechat_id: str, topic: str) -> None:
        """A bound room has a new topic."""
        ...


class MemoryBindings:
    """Bindings kept in memory: for a transport used without a database."""

    def __init__(self) -> None:
        self._by_room: dict[str, str] = {}

    async def load(self) -> dict[str, str]:
        """Every binding."""
        return dict(self._by_room)

    async def bind(self, room: str, wechat_id: str, topic: str, by: str) -> bool:
        """Bind unless taken."""
        if room in self._by_room or wechat_id in self._by_room.values():
            return self._by_room.get(room) == wechat_id
        self._by_room[room] = wechat_id
        return True

    async def renamed(self, wechat_id: str, topic: str) -> None:
        """Nothing to record."""


OnHijack = Callable[[str, str, str], Awaitable[None]]  # (configured room, room id, its topic)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a room message's room is to the bot."""

    room: str | None  # the configured room, or None: not served
    refused: bool = False  # a room posing as a bound one (same topic, another id)


class RoomDirectory:
    """Configured rooms ⇄ WeChat room ids, and the live topics of the account's rooms."""

    def __init__(
        self,
        topics: Collection[str],
        store: BindingStore,
        *,
        config_ids: Mapping[str, str] | None = None,
        on_hijack: OnHijack | None = None,
    ) -> None:
        self.topics = frozenset(topics)
        self._store = store
        self._config_ids = dict(config_ids or {})  # configured room -> id given in the config
        self.on_hijack = on_hijack
        self._by_room: dict[str, str] = {}
        self._by_id: dict[str, str] = {}
        self.live: dict[str, str] = {}  # WeChat room id -> its topic now, for the account
        self._refused: set[str] = set()  # room ids already reported as hijacking
        self._unknown: set[str] = set()  # room ids already logged as not configured

    async def load(self) -> None:
        """Read the stored bindings and bind the rooms the config names by id."""
        for room, wechat_id in self._config_ids.items():
            if room in self.topics:
                await self._store.bind(room, wechat_id, room, "config")
        await self._reload()

    async def _reload(self) -> None:
        stored = await self._store.load()
        self._by_room = {room: wid for room, wid in stored.items() if room in self.topics}
        self._by_id = {wid: room for room, wid in self._by_room.items()}

    def bound_id(self, room: str) -> str | None:
        """The WeChat room id a configured room is bound to."""
        return self._by_room.get(room)

    def room_of(self, wechat_id: str) -> str | None:
        """The configured room bound to a WeChat room id."""
        return self._by_id.get(wechat_id)

    async def resolve(self, wechat_id: str, topic: str) -> Resolved:
        """The configured room a message's room is, binding it by topic the first time."""
        room = self._by_id.get(wechat_id)
        if room is not None:
            if self.live.get(wechat_id) != topic:
                self.live[wechat_id] = topic
                await self._store.renamed(wechat_id, topic)
            return Resolved(room)
        self.live[wechat_id] = topic
        if topic not in self.topics:
            if wechat_id not in self._unknown:
                self._unknown.add(wechat_id)
                log.info("ignoring room %r (%s): not in the config", topic, wechat_id)
            return Resolved(None)
        if topic not in self._by_room and await self._bind(topic, wechat_id, topic):
            return Resolved(topic)
        await self._refuse(topic, wechat_id)
        return Resolved(None, refused=True)

    async def _bind(self, room: str, wechat_id: str, topic: str) -> bool:
        ok = await self._store.bind(room, wechat_id, topic, "topic")
        await self._reload()  # another process may have bound it first
        if ok:
            log.info("room %r bound to WeChat room %s", room, wechat_id)
        return ok and self._by_id.get(wechat_id) == room

    async def _refuse(self, topic: str, wechat_id: str) -> None:
        if wechat_id in self._refused:
            return
        self._refused.add(wechat_id)
        log.warning(
            "room %s is called %r, but that room is bound to %s: refused",
            wechat_id,
            topic,
            self._by_room.get(topic),
        )
        if self.on_hijack is not None:
            try:
                await self.on_hijack(topic, wechat_id, topic)
            except Exception:
                log.exception("could not report the refused room %s", wechat_id)

    async def id_for_sending(self, room: str) -> str | None:
        """The WeChat room id to send a configured room's messages to (binding it if needed)."""
        wechat_id = self._by_room.get(room)
        if wechat_id is not None or room not in self.topics:
            return wechat_id
        matches = [wid for wid, topic in self.live.items() if topic == room]
        free = [wid for wid in matches if wid not in self._by_id]
        if len(free) == 1 and await self._bind(room, free[0], room):
            return free[0]
        return self._by_room.get(room)

    def set_live(self, topics: Mapping[str, str]) -> None:
        """The account's rooms as the service lists them now (id -> topic)."""
        self.live = dict(topics)

    async def renamed(self, wechat_id: str, topic: str) -> None:
        """A room-topic event: remember the new topic (the binding, by id, stays)."""
        self.live[wechat_id] = topic
        self._unknown.discard(wechat_id)
        self._refused.discard(wechat_id)
        if wechat_id in self._by_id:
            await self._store.renamed(wechat_id, topic)


class AliasCache:
    """Members' room aliases (群昵称), one RPC saved per message; events invalidate them."""

    def __init__(self, ttl: float = ALIAS_TTL) -> None:
        self._ttl = ttl
        self._aliases: dict[tuple[str, str], tuple[str | None, float]] = {}

    def get(self, room_id: str, contact_id: str) -> tuple[bool, str | None]:
        """(found, alias): found is False when the alias must be read again."""
        cached = self._aliases.get((room_id, contact_id))
        if cached is None or time.monotonic() - cached[1] >= self._ttl:
            return False, None
        return True, cached[0]

    def put(self, room_id: str, contact_id: str, alias: str | None) -> None:
        """Remember an alias just read."""
        if len(self._aliases) > 10_000:
            self._aliases.clear()
        self._aliases[(room_id, contact_id)] = (alias, time.monotonic())

    def forget_room(self, room_id: str) -> None:
        """A member joined or left, or the room changed: read its aliases again."""
        for key in [k for k in self._aliases if k[0] == room_id]:
            del self._aliases[key]

    def forget_member(self, member_key: str) -> None:
        """A `dirty` event for a room member (its id is "room id" or "room id/contact id")."""
        room_id, _, contact_id = member_key.partition("/")
        if not contact_id:
            self.forget_room(room_id)
            return
        self._aliases.pop((room_id, contact_id), None)

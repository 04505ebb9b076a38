"""WeChat through python-wechaty: a Transport over a wechaty puppet service (gRPC, plain text).

The parts, each in its own module: the connection and its events (wechaty_connection), what a
message means (wechaty_events), rooms by id and aliases (wechaty_rooms), one send
(wechaty_sending) and the start-up report (wechaty_report). This class runs the reconnect loop
and turns events into Incoming messages and hook calls. Only these modules import wechaty
(lazily, via wechaty_compat), so the base install works without the `wechat` extra.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import Clock
from bot.core.messages import (
    IMAGE_TEXT,
    DeliveryError,
    Incoming,
    NotConnected,
    OutcomeUnknown,
    Outgoing,
    Restricted,
    SendFailed,
    UnknownRecipient,
)
from bot.transports.receipts import MemoryReceipts, Receipts
from bot.transports.wechaty_connection import (
    DIRTY_ROOM,
    DIRTY_ROOM_MEMBER,
    Backoff,
    Connection,
    PuppetEvent,
    bounded,
    timestamp,
)
from bot.transports.wechaty_events import Kind, kind_of, mentions, split_quote
from bot.transports.wechaty_report import SyncRow, format_sync_table, similar
from bot.transports.wechaty_rooms import AliasCache, BindingStore, MemoryBindings, RoomDirectory
from bot.transports.wechaty_sending import send_text

log = logging.getLogger(__name__)

__all__ = [
    "IMAGE_TEXT",
    "Backoff",
    "DeliveryError",
    "NotConnected",
    "OutcomeUnknown",
    "Restricted",
    "SendFailed",
    "SyncRow",
    "UnknownRecipient",
    "WechatyHooks",
    "WechatyTransport",
    "format_sync_table",
]

QR_PAGE = "https://wechaty.js.org/qrcode/"  # renders a QR code for the text after the slash
# wechaty-grpc's FriendshipType: a friendship made, and a request to answer
FRIENDSHIP_CONFIRM, FRIENDSHIP_RECEIVE = 1, 2
FRIEND_LOOKUPS = 20  # contact payloads fetched at once after a login (one RPC each)


@dataclass
class WechatyHooks:
    """What the rest of the bot is told about the account (each optional, each awaited)."""

    # after a reconnect that followed a lost connection, with the time offline
    on_reconnected: Callable[[timedelta], Awaitable[None]] | None = None
    on_login: Callable[[str, str], Awaitable[None]] | None = None  # (contact id, name)
    on_logout: Callable[[str], Awaitable[None]] | None = None  # (reason)
    on_scan: Callable[[str, int], Awaitable[None]] | None = None  # (QR link, scan status)
    on_restriction: Callable[[str], Awaitable[None]] | None = None  # WeChat's own words
    # the account's own message came back: (configured room, person, text, its id)
    on_echo: Callable[[str | None, str | None, str, str], Awaitable[None]] | None = None
    # a voice or video message: (message id, room or None, sender id, mentions the bot)
    on_voice: Callable[[str, str | None, str, bool], Awaitable[None]] | None = None
    # a room took a bound room's topic: (configured room, its WeChat id, its topic)
    on_hijack: Callable[[str, str, str], Awaitable[None]] | None = None
    # people the account can message privately: (ids, complete) — complete: the whole list
    # after a login (the rest are no longer friends); else more people (they wrote privately)
    on_contacts: Callable[[list[str], bool], Awaitable[None]] | None = None
    # someone asks to be the account's friend: (their id, their greeting) -> accept?
    on_friend_request: Callable[[str, str], Awaitable[bool]] | None = None


class WechatyTransport:
    """A Transport for a WeChat account served by a wechaty puppet service (gRPC, plain text)."""

    def __init__(
        self,
        *,
        endpoint: str,
        token: str,
        room_topics: Collection[str],
        data_dir: Path,
        clock: Clock,
        backoff: Backoff | None = None,
        health_interval: float = 10.0,
        rpc_timeout: float = 15.0,
        replay_grace: timedelta = timedelta(seconds=2),
        send_wait: float = 30.0,
        on_reconnected: Callable[[timedelta], Awaitable[None]] | None = None,
        check_people: Collection[str] = (),
        people_names: Mapping[str, str] | None = None,
        room_ids: Mapping[str, str] | None = None,
        bindings: BindingStore | None = None,
        receipts: Receipts | None = None,
        hooks: WechatyHooks | None = None,
    ) -> None:
        if not endpoint:
            raise ValueError("transport.endpoint is empty: give host:port of the puppet service")
        if not token:
            raise ValueError("the puppet service token is empty: set transport.token or its env")
        self._endpoint = endpoint
        self._token = token
        self._data_dir = data_dir
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._health_interval = health_interval
        self._rpc_timeout = rpc_timeout
        self._replay_grace = replay_grace
        self._send_wait = send_wait
        self.hooks = hooks or WechatyHooks()
        if on_reconnected is not None:
            self.hooks.on_reconnected = on_reconnected
        self._check_people = tuple(check_people)
        self._people_names = dict(people_names or {})
        self.rooms = RoomDirectory(
            room_topics, bindings or MemoryBindings(), config_ids=room_ids, on_hijack=self._hijack
        )
        self._aliases = AliasCache()
        self._reachable: set[str] = set()  # friends this connection told the hook about

        self._receipts = receipts or MemoryReceipts()
        # message id and the task fetching its payload, in arrival order
        self._arrivals: asyncio.Queue[tuple[Connection, str, asyncio.Task[Any]]] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()  # recent message ids, for dedup
        self._conn: Connection | None = None
        self._self_id: str | None = None
        self._self_name = ""
        self._connected = asyncio.Event()
        self._lost_at: datetime | None = None
        self._ever_connected = False
        self._started_at: datetime | None = None
        self._wechaty: Any = None  # the wechaty module, imported by start()
        self._runner: asyncio.Task[None] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._callbacks: set[asyncio.Task[None]] = set()
        self.logged_out_since: datetime | None = None  # set while the account is logged out
        self.qr_url: str | None = None  # the link to scan while logged out
        self.qr_code: str | None = None  # what that QR code says

    def __repr__(self) -> str:
        # never show the token
        return f"WechatyTransport(endpoint={self._endpoint!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        """True while the channel is up and the account is logged in."""
        return self._connected.is_set()

    @property
    def self_id(self) -> str | None:
        """The contact id of the bot's own WeChat account, once logged in."""
        return self._self_id

    @property
    def connection(self) -> Connection | None:
        """The live connection (for the `jinlin wechat` listing commands)."""
        return self._conn

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected and logged in (raises TimeoutError after `timeout` seconds)."""
        await bounded(self._connected.wait(), timeout)

    async def start(self) -> None:
        """Start connecting in the background; returns at once (see wait_connected)."""
        if self._runner is not None:
            raise RuntimeError("WechatyTransport already started")
        from bot.transports.wechaty_compat import load_wechaty

        self._wechaty = load_wechaty(self._data_dir / "wechaty")
        await self.rooms.load()
        self._started_at = self._clock.now()
        self._pump_task = asyncio.create_task(self._pump(), name="wechaty-pump")
        self._runner = asyncio.create_task(self._run(), name="wechaty-connect")

    async def stop(self) -> None:
        """Disconnect (the remote puppet keeps running) and end incoming()."""
        tasks = [t for t in (self._runner, self._pump_task, *self._callbacks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self._connected.clear()
        try:
            await bounded(self._receipts.flush(), 5.0)
        except TimeoutError:
            log.warning("could not store the last received messages in time")
        self._receipts.close()

    async def incoming(self) -> AsyncGenerator[Incoming, None]:
        """Yield messages for the bot, in the order WeChat delivered them, until stop().

        Each was stored before it is yielded (with database receipts), and counts as handled
        when the next one is asked for.
        """
        async for msg in self._receipts.stream():
            yield msg

    # --- connecting -------------------------------------------------------------------------

    async def _run(self) -> None:
        delays = self._backoff.delays()
        last_reason = ""
        while True:
            conn = Connection(self._wechaty, self._endpoint, self._token)
            self._conn = conn
            try:
                reason = self._redact(await self._session(conn))
            finally:
                self._connected.clear()
                self._conn = None
                await conn.close()
            if conn.logged_in:
                self._lost_at = self._clock.now()
                delays = self._backoff.delays()  # a fresh loss starts with the short delay
                last_reason = ""
            delay = next(delays)
            # a long outage repeats the same failure: say it once, then quietly retry
            level = logging.WARNING if reason != last_reason else logging.DEBUG
            log.log(
                level, "puppet service %s: %s; retrying in %.1f s", self._endpoint, reason, delay
            )
            last_reason = reason
            await asyncio.sleep(delay)

    async def _session(self, conn: Connection) -> str:
        """Run one connection until it fails; returns why it ended."""
        try:
            await conn.open(self._rpc_timeout)
            log.info("puppet service %s: connected, waiting for the WeChat login", self._endpoint)
            watched: tuple[asyncio.Future[Any], ...] = (
                asyncio.ensure_future(self._health(conn)),
                asyncio.ensure_future(self._listen(conn)),
                asyncio.ensure_future(conn.broken.wait()),
            )
            try:
                done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in watched:
                    task.cancel()
                await asyncio.gather(*watched, return_exceptions=True)
            for task in done:
                if (exc := task.exception()) is not None:
                    raise exc
            return conn.failure or "the service closed the event stream"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever broke, the answer is to reconnect
            kind = "connection lost" if conn.logged_in else "cannot connect"
            return f"{kind} ({type(exc).__name__}: {exc})"

    def _redact(self, text: str) -> str:
        # the service echoes a rejected token in its error message
        return text.replace(self._token, "***")

    async def _health(self, conn: Connection) -> None:
        """Return when the service stops answering (a half-open TCP connection looks alive)."""
        while True:
            await asyncio.sleep(self._health_interval)
            await bounded(conn.puppet.puppet_stub.version(), self._rpc_timeout)

    async def _listen(self, conn: Connection) -> None:
        async for event in conn.events():
            self._on_event(conn, event)

    def _on_event(self, conn: Connection, event: PuppetEvent) -> None:
        data = event.data
        if event.name == "login":
            contact_id = str(data.get("contactId", ""))
            conn.puppet.login_user_id = contact_id
            conn.spawn(self._on_login(conn, contact_id))
        elif event.name == "logout":
            conn.puppet.login_user_id = None
            log.warning(
                "WeChat account %s logged out on the puppet service", data.get("contactId")
            )
            self._connected.clear()
            self._lost_at = self._clock.now()
            self.logged_out_since = self._lost_at
            self._hook(self.hooks.on_logout, str(data.get("data") or "logout"))
        elif event.name == "scan":
            qrcode = str(data.get("qrcode") or "")
            self.qr_code = qrcode or None
            self.qr_url = QR_PAGE + qrcode if qrcode else None
            log.warning(
                "the WeChat account is not logged in: scan %s (status %s)",
                self.qr_url,
                data.get("status"),
            )
            if self.qr_url:
                self._hook(self.hooks.on_scan, self.qr_url, int(data.get("status") or 0))
        elif event.name == "message":
            self._on_message(conn, str(data.get("messageId", "")))
        elif event.name == "friendship":
            conn.spawn(self._on_friendship(conn, str(data.get("friendshipId", ""))))
        elif event.name == "room-topic":
            room_id, topic = str(data.get("roomId", "")), str(data.get("newTopic", ""))
            conn.spawn(self.rooms.renamed(room_id, topic))
            conn.bot.Room._pool.pop(room_id, None)  # its cached payload has the old topic
            log.info("room %s renamed %r -> %r", room_id, data.get("oldTopic"), topic)
        elif event.name in ("room-join", "room-leave"):
            self._aliases.forget_room(str(data.get("roomId", "")))
        elif event.name == "dirty" and data.get("payloadType") in (DIRTY_ROOM_MEMBER, DIRTY_ROOM):
            payload_id = str(data.get("payloadId", ""))
            self._aliases.forget_member(payload_id)
            conn.bot.Room._pool.pop(payload_id.partition("/")[0], None)

    def _on_message(self, conn: Connection, message_id: str) -> None:
        if not message_id or message_id in self._seen:
            return  # the service sometimes delivers a message twice
        self._seen[message_id] = None
        if len(self._seen) > 2000:
            self._seen.popitem(last=False)
        # The payloads are fetched concurrently (one RPC each), the rest in order.
        fetch = conn.spawn(conn.puppet.message_payload(message_id))
        self._arrivals.put_nowait((conn, message_id, fetch))

    def _hook(self, hook: Callable[..., Awaitable[None]] | None, *args: Any) -> None:
        if hook is not None:
            self._background(self._call_hook(hook, *args))

    async def _call_hook(self, hook: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await hook(*args)
        except Exception:
            log.exception("WeChat hook %s failed", getattr(hook, "__name__", hook))

    async def _on_login(self, conn: Connection, contact_id: str) -> None:
        # the service may announce one login twice (its replay to a new stream, and the event)
        if self._conn is not conn or conn.login_running or self.connected:
            return
        conn.login_running = True
        try:
            await self._logged_in(conn, contact_id)
        except Exception as exc:
            conn.failure = self._redact(f"set-up after login failed ({type(exc).__name__}: {exc})")
            conn.broken.set()
        finally:
            conn.login_running = False

    async def _logged_in(self, conn: Connection, contact_id: str) -> None:
        me = conn.bot.Contact.load(contact_id)
        await bounded(me.ready(), self._rpc_timeout)
        self._self_id, self._self_name = contact_id, me.name
        await self._refresh_rooms(conn)
        log.info("logged in to WeChat as %s (%s)", me.name, contact_id)
        conn.logged_in = True
        self._connected.set()
        lost_at, self._lost_at = self._lost_at, None
        self.logged_out_since, self.qr_url, self.qr_code = None, None, None
        self._hook(self.hooks.on_login, contact_id, me.name)
        self._background(self._list_friends(conn))
        if not self._ever_connected:
            self._background(self._log_sync_report())
        elif lost_at is not None:
            self._hook(self.hooks.on_reconnected, self._clock.now() - lost_at)
        self._ever_connected = True

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _log_sync_report(self) -> None:
        """After the first login: which configured rooms and people the account can reach."""
        try:
            rows = await self.sync_report(sorted(self.rooms.topics), self._check_people)
        except Exception:
            log.exception("could not check the configured rooms and people")
            return
        missing = sum(not row.found for row in rows)
        level = logging.WARNING if missing else logging.INFO
        log.log(
            level, "WeChat rooms and people (%d missing):\n%s", missing, format_sync_table(rows)
        )

    async def _list_friends(self, conn: Connection) -> None:
        """After a login: tell the hook every person the account can message privately."""
        if self.hooks.on_contacts is None:
            return
        try:
            ids: list[str] = list(await bounded(conn.puppet.contact_list(), self._rpc_timeout))

            async def friend(cid: str) -> str | None:
                contact = conn.bot.Contact.load(cid)
                try:
                    await bounded(contact.ready(), self._rpc_timeout)
                except Exception:
                    return None
                # only a known friend: a puppet that cannot tell (None) routes nobody here
                return cid if contact.payload.friend is True else None

            # A few at a time: the list may hold every member of the account's rooms, and a
            # task per contact at once would hold them all in memory.
            found: list[str | None] = []
            others = [cid for cid in ids if cid != self._self_id]
            for i in range(0, len(others), FRIEND_LOOKUPS):
                batch = others[i : i + FRIEND_LOOKUPS]
                found += await asyncio.gather(*(friend(cid) for cid in batch))
                if conn is not self._conn:
                    return  # a newer login lists them again
            friends = sorted(cid for cid in found if cid is not None)
            if conn is not self._conn:
                return  # a newer login lists them again
            self._reachable = set(friends)
            await self.hooks.on_contacts(friends, True)
        except Exception:
            log.exception("could not list the account's contacts")

    async def _on_friendship(self, conn: Connection, friendship_id: str) -> None:
        """A friend request (accepted if the hook says so) or a friendship made: learn it."""
        try:
            # the stub directly: python-wechaty's wrapper sends a payload of "null"
            stub = conn.puppet.puppet_stub
            payload = await bounded(stub.friendship_payload(id=friendship_id), self._rpc_timeout)
            kind, person = int(payload.type), str(payload.contact_id)
            if not person:
                return
            if kind == FRIENDSHIP_CONFIRM:
                log.info("%s is now a friend of the account", person)
                self._reached_by(person)
            elif kind == FRIENDSHIP_RECEIVE:
                hook = self.hooks.on_friend_request
                if hook is None or not await hook(person, str(payload.hello or "")):
                    log.info("friend request from %s left for a person to answer", person)
                    return
                await bounded(stub.friendship_accept(id=friendship_id), self._rpc_timeout)
                log.info("accepted the friend request of %s", person)
                self._reached_by(person)
        except Exception:
            log.exception("could not handle friendship event %s", friendship_id)

    def _reached_by(self, person_id: str) -> None:
        """A person wrote privately, so the account can answer them: tell the hook once."""
        if person_id in self._reachable or self.hooks.on_contacts is None:
            return
        self._reachable.add(person_id)
        self._hook(self.hooks.on_contacts, [person_id], False)

    async def _refresh_rooms(self, conn: Connection) -> None:
        """The account's rooms and their topics now (exact topics, unlike Room.find)."""
        room_ids = await bounded(conn.puppet.room_search(), self._rpc_timeout)
        rooms = [conn.bot.Room.load(room_id) for room_id in room_ids]
        await bounded(asyncio.gather(*(room.ready() for room in rooms)), self._rpc_timeout)
        self.rooms.set_live({room.room_id: room.payload.topic for room in rooms})

    async def _hijack(self, room: str, wechat_id: str, topic: str) -> None:
        if self.hooks.on_hijack is not None:
            await self.hooks.on_hijack(room, wechat_id, topic)

    # --- receiving --------------------------------------------------------------------------

    async def _pump(self) -> None:
        # Messages are handed over in arrival order; after the payload, the lookups (talker,
        # room, alias) run one message at a time, since python-wechaty's payload cache races.
        while True:
            conn, message_id, fetch = await self._arrivals.get()
            await asyncio.wait({fetch})  # unlike `await fetch`, stop() cancels only the pump
            if conn is not self._conn or fetch.cancelled():
                if not fetch.cancelled():
                    fetch.exception()  # retrieved, so asyncio does not log it as forgotten
                continue  # its connection is gone; the service will not redeliver it
            try:
                if (exc := fetch.exception()) is not None:
                    raise exc
                msg = await bounded(
                    self._to_incoming(conn, message_id, fetch.result()), self._rpc_timeout
                )
            except Exception:
                log.exception("could not read message %s from the puppet service", message_id)
                continue
            if msg is not None:
                try:
                    await self._receipts.put(msg)
                except Exception:
                    log.exception("could not store message %s", message_id)

    async def _to_incoming(
        self, conn: Connection, message_id: str, payload: Any
    ) -> Incoming | None:
        at = timestamp(payload.timestamp)
        text = payload.text or ""
        from_self = payload.from_id == self._self_id
        kind = kind_of(int(payload.type), text, from_self=from_self)
        if kind is Kind.RESTRICTION:
            log.warning("WeChat restriction notice: %s", text[:200])
            self._hook(self.hooks.on_restriction, text[:500])
            return None
        if from_self:
            await self._echo(payload, message_id)
            return None  # WeChat echoes the bot's own messages
        assert self._started_at is not None
        if at < self._started_at - self._replay_grace:
            log.debug("ignoring message %s from before start-up (%s)", message_id, at)
            return None
        if kind is Kind.OTHER:
            return None
        talker = conn.bot.Contact.load(payload.from_id)
        await talker.ready()  # no RPC once the pool has it
        room: str | None = None
        name = talker.name
        if payload.room_id:
            wechat_room = conn.bot.Room.load(payload.room_id)
            await wechat_room.ready()
            resolved = await self.rooms.resolve(payload.room_id, wechat_room.payload.topic)
            if resolved.room is None:
                return None
            room = resolved.room
            name = await self._room_alias(wechat_room, talker) or name
        mentioned = bool(room) and mentions(
            self._self_id, self._self_name, list(payload.mention_ids or []), text
        )
        if room is None:
            self._reached_by(talker.contact_id)
        if kind is Kind.VOICE:
            self._hook(self.hooks.on_voice, message_id, room, talker.contact_id, mentioned)
            return None
        quoted = ""
        if kind is Kind.IMAGE:
            text = IMAGE_TEXT
        elif (quote := split_quote(text)) is not None:
            text, quoted = quote.text, quote.quoted
        return Incoming(
            message_id=message_id,
            room=room,
            sender_id=talker.contact_id,
            sender_name=name,
            text=text,
            mentions_bot=mentioned,
            at=at,
            quoted=quoted,
        )

    async def _echo(self, payload: Any, message_id: str) -> None:
        if self.hooks.on_echo is None or not payload.text:
            return
        room = self.rooms.room_of(payload.room_id) if payload.room_id else None
        if payload.room_id and room is None:
            return
        person = None if payload.room_id else payload.to_id
        self._hook(self.hooks.on_echo, room, person, payload.text, message_id)

    async def _room_alias(self, room: Any, talker: Any) -> str | None:
        found, cached = self._aliases.get(room.room_id, talker.contact_id)
        if found:
            return cached
        alias: str | None = await room.alias(talker)
        self._aliases.put(room.room_id, talker.contact_id, alias)
        return alias

    # --- sending ----------------------------------------------------------------------------

    async def send(self, msg: Outgoing) -> str | None:
        """Deliver one message with a single RPC; raises a DeliveryError when it cannot.

        While disconnected it first waits up to `send_wait` seconds for the reconnect, so a
        short outage costs the outbox no failed attempt.
        """
        if not self.connected:
            try:
                await self.wait_connected(self._send_wait)
            except TimeoutError:
                raise NotConnected(
                    f"not connected to the puppet service at {self._endpoint}"
                ) from None
        conn = self._conn
        if conn is None or not self.connected:
            raise NotConnected(f"not connected to the puppet service at {self._endpoint}")
        return await send_text(
            conn,
            self.rooms,
            msg,
            rpc_timeout=self._rpc_timeout,
            redact=self._redact,
            refresh_rooms=lambda: self._refresh_rooms(conn),
        )

    # --- start-up check and listings --------------------------------------------------------

    async def sync_report(
        self, room_topics: Collection[str], person_ids: Collection[str]
    ) -> list[SyncRow]:
        """Resolve configured rooms and people by id; waits for the login first."""
        await self.wait_connected(self._rpc_timeout * 4)
        conn = self._conn
        if conn is None:
            raise NotConnected("connection lost during the start-up check")
        await self._refresh_rooms(conn)
        rows: list[SyncRow] = []
        for topic in room_topics:
            room_id = await self.rooms.id_for_sending(topic)
            if room_id is None or room_id not in self.rooms.live:
                near = similar(topic, [(rid, t) for rid, t in self.rooms.live.items()])
                hint = f"; similar: {', '.join(near)}" if near else ""
                rows.append(SyncRow("room", topic, False, f"the account is not in it{hint}"))
                continue
            members = conn.bot.Room.load(room_id).payload.member_ids
            renamed = self.rooms.live[room_id]
            now_called = f", now called {renamed!r}" if renamed != topic else ""
            rows.append(SyncRow("room", topic, True, f"{len(members)} members{now_called}"))
        contacts: list[tuple[str, str]] | None = None
        for person_id in person_ids:
            contact = conn.bot.Contact.load(person_id)
            try:
                await bounded(contact.ready(), self._rpc_timeout)
            except TimeoutError:
                raise
            except Exception:
                if contacts is None:
                    contacts = await self.contacts()
                name = self._people_names.get(person_id, "")
                near = similar(name, contacts) if name else []
                hint = f"; similar: {', '.join(near)}" if near else ""
                rows.append(SyncRow("person", person_id, False, f"unknown to the account{hint}"))
                continue
            if contact.payload.friend:
                rows.append(SyncRow("person", person_id, True, f"{contact.name}: a contact"))
            else:
                detail = f"{contact.name}: not a contact, private messages may fail"
                rows.append(SyncRow("person", person_id, False, detail))
        return rows

    async def contacts(self) -> list[tuple[str, str]]:
        """(id, name) of the account's contacts and of the members of its rooms."""
        conn = self._conn
        if conn is None:
            raise NotConnected("not connected")
        ids = set(await bounded(conn.puppet.contact_list(), self._rpc_timeout))
        for room_id in self.rooms.live:
            room = conn.bot.Room.load(room_id)
            await bounded(room.ready(), self._rpc_timeout)
            ids.update(room.payload.member_ids)
        out: list[tuple[str, str]] = []
        for cid in sorted(ids):
            contact = conn.bot.Contact.load(cid)
            try:
                await bounded(contact.ready(), self._rpc_timeout)
            except Exception:
                continue
            out.append((cid, contact.name))
        return out

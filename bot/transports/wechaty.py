"""WeChat through python-wechaty: a puppet-service client with its own reconnect loop.

This is the only module that imports wechaty (lazily, via wechaty_compat), so the base install
works without the `wechat` extra. Upstream's Wechaty.start() is not used: it stops the remote
puppet on every start, waits a fixed 60 s after a lost connection, can hang for good in
puppet.stop() on a dead channel, and never calls on_login again after a restart. Instead each
connection attempt builds a fresh PuppetService and a fresh Wechaty (for its Contact/Room/Message
classes), listens to the puppet's events directly, and is torn down without any RPC.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import unicodedata
from collections import OrderedDict
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterator,
)
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from bot.core.clock import Clock
from bot.core.messages import (
    IMAGE_TEXT,
    DeliveryError,
    Incoming,
    NotConnected,
    Outgoing,
    SendFailed,
    UnknownRecipient,
)

log = logging.getLogger(__name__)

__all__ = [
    "IMAGE_TEXT",
    "DeliveryError",
    "NotConnected",
    "SendFailed",
    "UnknownRecipient",
    "WechatyTransport",
]
T = TypeVar("T")

ALIAS_TTL = 300.0  # seconds a member's room alias is reused before it is read again
AT_SEPARATOR = "\u2005"  # what WeChat puts after "@name" in a mention it writes

OnReconnected = Callable[[timedelta], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SyncRow:
    """One line of the start-up check: a configured room or person and whether WeChat has it."""

    kind: Literal["room", "person"]
    key: str  # room topic or contact id
    found: bool  # a room the account is in; a person who is the account's contact
    detail: str  # e.g. "12 members", "王姐: a contact", "unknown to the account"


def format_sync_table(rows: Collection[SyncRow]) -> str:
    """Render sync rows as a table for the log (aligned for wide Chinese characters too)."""
    width = max((_width(row.key) for row in rows), default=4)
    lines = [f"{'kind':<6}  {_pad('name', width)}  {'status':<10}  detail"]
    for row in rows:
        if row.kind == "room":
            status = "found" if row.found else "NOT FOUND"
        else:
            status = "contact" if row.found else "NO CONTACT"
        lines.append(f"{row.kind:<6}  {_pad(row.key, width)}  {status:<10}  {row.detail}")
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: `first` after a lost connection, growing by `factor` up to `cap`."""

    first: float = 1.0
    factor: float = 1.5  # gentle: a restarted service is usually back within seconds
    cap: float = 30.0
    jitter: float = 0.2  # each delay is stretched by up to this fraction, at random

    def delays(self) -> Iterator[float]:
        """Yield the successive delays, forever."""
        delay = self.first
        while True:
            yield delay * (1 + random.uniform(0, self.jitter))
            delay = min(delay * self.factor, self.cap)


class _Connection:
    """One attempt: a PuppetService, the Wechaty that binds the user classes to it, its tasks."""

    def __init__(self, wechaty_mod: Any, endpoint: str, token: str) -> None:
        from wechaty_puppet import PuppetOptions
        from wechaty_puppet_service import PuppetService

        # The token is set after construction: PuppetService.__init__ logs the options.
        self.puppet = PuppetService(PuppetOptions(end_point=endpoint))
        self.puppet.options.token = token
        # port=0: the plugin manager must not check or bind port 5000; an own scheduler: the
        # default one keeps a job store in CACHE_DIR. Neither is started (no plugins).
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        options = wechaty_mod.WechatyOptions(
            puppet=self.puppet,
            puppet_options=self.puppet.options,
            port=0,
            scheduler=AsyncIOScheduler(),
        )
        self.bot = wechaty_mod.Wechaty(options)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.logged_in = False  # set once the account logged in over this connection
        self.login_running = False
        self.broken = asyncio.Event()  # set when a failure elsewhere must end this connection
        self.failure = ""

    async def open(self, rpc_timeout: float) -> None:
        """Bind the user classes, open the channel and start the remote puppet (no stop first)."""
        await self.bot.init_puppet()
        # Contact/Room/Tag keep their object pools in a class attribute of the base class, which
        # init_puppet's per-bot subclasses share: give each its own, or objects bound to an
        # earlier (dead) puppet come back after a reconnect.
        for cls in (self.bot.Contact, self.bot.ContactSelf, self.bot.Room, self.bot.Tag):
            cls._pool = {}
        # What PuppetService._init_puppet does, minus its blocking telnet probe of the endpoint:
        # a plain-text grpclib channel whose :authority carries the token.
        from grpclib.client import Channel
        from wechaty_grpc.wechaty import PuppetStub

        host, _, port = self.puppet.options.end_point.rpartition(":")
        self.puppet.channel = Channel(host=host, port=int(port))
        self.puppet.channel._authority = self.puppet.options.token
        self.puppet._puppet_stub = PuppetStub(self.puppet.channel)
        # Upstream calls stop() before start(): that logs a real account out and in again on
        # every reconnect. start() on a running puppet is a no-op, and the service replays the
        # login event to a new event stream when the account is logged in.
        await _bounded(self.puppet.puppet_stub.start(), rpc_timeout)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine tied to this connection (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def close(self) -> None:
        """Forget the connection without any RPC (a Stop call on a dead channel never returns)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.puppet._event_stream.remove_all_listeners()
        if self.puppet.channel is not None:
            self.puppet.channel.close()
            self.puppet.channel = None
        self.puppet._puppet_stub = None


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
        on_reconnected: OnReconnected | None = None,
        check_people: Collection[str] = (),
    ) -> None:
        if not endpoint:
            raise ValueError("transport.endpoint is empty: give host:port of the puppet service")
        if not token:
            raise ValueError("the puppet service token is empty: set transport.token or its env")
        self._endpoint = endpoint
        self._token = token
        self._room_topics = frozenset(room_topics)
        self._data_dir = data_dir
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._health_interval = health_interval
        self._rpc_timeout = rpc_timeout
        self._replay_grace = replay_grace
        self._send_wait = send_wait
        self.on_reconnected = on_reconnected  # called with the offline time after a reconnect
        self._check_people = tuple(check_people)

        self._queue: asyncio.Queue[Incoming | None] = asyncio.Queue()
        # message id and the task fetching its payload, in arrival order
        self._arrivals: asyncio.Queue[tuple[_Connection, str, asyncio.Task[Any]]] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()  # recent message ids, for dedup
        self._unknown_rooms: set[str] = set()  # room ids already logged as not configured
        self._room_ids: dict[str, str] = {}  # topic -> room id, for sending
        # (room id, contact id) -> (room alias, monotonic time read): one RPC saved per message
        self._aliases: dict[tuple[str, str], tuple[str | None, float]] = {}
        self._conn: _Connection | None = None
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

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected and logged in (raises TimeoutError after `timeout` seconds)."""
        await _bounded(self._connected.wait(), timeout)

    async def start(self) -> None:
        """Start connecting in the background; returns at once (see wait_connected)."""
        if self._runner is not None:
            raise RuntimeError("WechatyTransport already started")
        from bot.transports.wechaty_compat import load_wechaty

        self._wechaty = load_wechaty(self._data_dir / "wechaty")
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
        self._queue.put_nowait(None)

    async def incoming(self) -> AsyncGenerator[Incoming, None]:
        """Yield messages for the bot, in the order WeChat delivered them, until stop()."""
        while (msg := await self._queue.get()) is not None:
            yield msg

    # --- connecting -------------------------------------------------------------------------

    async def _run(self) -> None:
        delays = self._backoff.delays()
        last_reason = ""
        while True:
            conn = _Connection(self._wechaty, self._endpoint, self._token)
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

    async def _session(self, conn: _Connection) -> str:
        """Run one connection until it fails; returns why it ended."""
        try:
            await conn.open(self._rpc_timeout)
            self._listen(conn)
            log.info("puppet service %s: connected, waiting for the WeChat login", self._endpoint)
            watched = (
                asyncio.ensure_future(self._health(conn)),
                asyncio.ensure_future(conn.puppet._listen_for_event()),
                asyncio.ensure_future(conn.broken.wait()),
            )
            try:
                done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in watched:
                    task.cancel()
                await asyncio.gather(*watched, return_exceptions=True)
            failed = [task.exception() for task in done if task.exception() is not None]
            if failed:
                raise failed[0]  # type: ignore[misc]
            return conn.failure or "the service closed the event stream"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever broke, the answer is to reconnect
            kind = "connection lost" if conn.logged_in else "cannot connect"
            return f"{kind} ({type(exc).__name__}: {exc})"

    def _redact(self, text: str) -> str:
        # the service echoes a rejected token in its error message
        return text.replace(self._token, "***")

    async def _health(self, conn: _Connection) -> None:
        """Return when the service stops answering (a half-open TCP connection looks alive)."""
        while True:
            await asyncio.sleep(self._health_interval)
            await _bounded(conn.puppet.puppet_stub.version(), self._rpc_timeout)

    def _listen(self, conn: _Connection) -> None:
        puppet = conn.puppet

        def on_login(payload: Any) -> None:
            conn.spawn(self._on_login(conn, payload.contact_id))

        def on_logout(payload: Any) -> None:
            log.warning("WeChat account %s logged out on the puppet service", payload.contact_id)
            self._connected.clear()
            self._lost_at = self._clock.now()

        def on_scan(payload: Any) -> None:
            log.warning(
                "the WeChat account is not logged in: scan https://wechaty.js.org/qrcode/%s "
                "(status %s)",
                payload.qrcode or "",
                payload.status,
            )

        def on_message(payload: Any) -> None:
            message_id = payload.message_id
            if message_id in self._seen:
                return  # the service sometimes delivers a message twice
            self._seen[message_id] = None
            if len(self._seen) > 2000:
                self._seen.popitem(last=False)
            # The payloads are fetched concurrently (one RPC each), the rest in order.
            fetch = conn.spawn(conn.puppet.message_payload(message_id))
            self._arrivals.put_nowait((conn, message_id, fetch))

        def on_room_topic(payload: Any) -> None:
            for topic, room_id in list(self._room_ids.items()):
                if room_id == payload.room_id:
                    del self._room_ids[topic]
            self._room_ids[payload.new_topic] = payload.room_id
            conn.bot.Room._pool.pop(payload.room_id, None)  # its cached payload has the old topic
            self._unknown_rooms.discard(payload.room_id)
            log.info(
                "room %s renamed %r -> %r", payload.room_id, payload.old_topic, payload.new_topic
            )

        puppet.on("login", on_login)
        puppet.on("logout", on_logout)
        puppet.on("scan", on_scan)
        puppet.on("message", on_message)
        puppet.on("room-topic", on_room_topic)

    async def _on_login(self, conn: _Connection, contact_id: str) -> None:
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

    async def _logged_in(self, conn: _Connection, contact_id: str) -> None:
        conn.puppet.login_user_id = contact_id
        me = conn.bot.Contact.load(contact_id)
        await _bounded(me.ready(), self._rpc_timeout)
        self._self_id, self._self_name = contact_id, me.name
        await self._refresh_rooms(conn)
        log.info("logged in to WeChat as %s (%s)", me.name, contact_id)
        conn.logged_in = True
        self._connected.set()
        lost_at, self._lost_at = self._lost_at, None
        if not self._ever_connected:
            self._background(self._log_sync_report())
        elif lost_at is not None and self.on_reconnected is not None:
            self._background(self._notify_reconnected(self.on_reconnected, lost_at))
        self._ever_connected = True

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _notify_reconnected(self, hook: OnReconnected, lost_at: datetime) -> None:
        try:
            await hook(self._clock.now() - lost_at)
        except Exception:
            log.exception("on_reconnected hook failed")

    async def _log_sync_report(self) -> None:
        """After the first login: which configured rooms and people the account can reach."""
        try:
            rows = await self.sync_report(sorted(self._room_topics), self._check_people)
        except Exception:
            log.exception("could not check the configured rooms and people")
            return
        missing = sum(not row.found for row in rows)
        level = logging.WARNING if missing else logging.INFO
        log.log(
            level, "WeChat rooms and people (%d missing):\n%s", missing, format_sync_table(rows)
        )

    async def _refresh_rooms(self, conn: _Connection) -> None:
        """Map every room topic of the account to its id (exact match, unlike Room.find)."""
        room_ids = await _bounded(conn.puppet.room_search(), self._rpc_timeout)
        rooms = [conn.bot.Room.load(room_id) for room_id in room_ids]
        await _bounded(asyncio.gather(*(room.ready() for room in rooms)), self._rpc_timeout)
        self._room_ids = {room.payload.topic: room.room_id for room in rooms}

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
                if fetch.exception() is not None:
                    raise fetch.exception()  # type: ignore[misc]
                msg = await _bounded(
                    self._to_incoming(conn, message_id, fetch.result()), self._rpc_timeout
                )
            except Exception:
                log.exception("could not read message %s from the puppet service", message_id)
                continue
            if msg is not None:
                self._queue.put_nowait(msg)

    async def _to_incoming(
        self, conn: _Connection, message_id: str, payload: Any
    ) -> Incoming | None:
        from wechaty_puppet import MessageType

        msg = conn.bot.Message.load(message_id)
        msg.payload = payload
        if payload.from_id == self._self_id:
            return None  # WeChat echoes the bot's own messages
        at = _timestamp(payload.timestamp)
        assert self._started_at is not None
        if at < self._started_at - self._replay_grace:
            log.debug("ignoring message %s from before start-up (%s)", message_id, at)
            return None
        kind = msg.type()
        if kind == MessageType.MESSAGE_TYPE_TEXT:
            text = msg.text()
        elif kind == MessageType.MESSAGE_TYPE_IMAGE:
            text = IMAGE_TEXT
        else:
            return None
        talker = msg.talker()
        await talker.ready()  # no RPC once the pool has it
        room = msg.room()
        topic: str | None = None
        name = talker.name
        if room is not None:
            await room.ready()
            topic = room.payload.topic
            if topic not in self._room_topics:
                if room.room_id not in self._unknown_rooms:
                    self._unknown_rooms.add(room.room_id)
                    log.info("ignoring room %r (%s): not in the config", topic, room.room_id)
                return None
            self._room_ids.setdefault(topic, room.room_id)
            name = await self._room_alias(room, talker) or name
        return Incoming(
            message_id=message_id,
            room=topic,
            sender_id=talker.contact_id,
            sender_name=name,
            text=text,
            mentions_bot=self._mentions_me(payload.mention_ids, text) if room else False,
            at=at,
        )

    async def _room_alias(self, room: Any, talker: Any) -> str | None:
        key = (room.room_id, talker.contact_id)
        cached = self._aliases.get(key)
        if cached is not None and time.monotonic() - cached[1] < ALIAS_TTL:
            return cached[0]
        alias: str | None = await room.alias(talker)
        if len(self._aliases) > 10_000:
            self._aliases.clear()
        self._aliases[key] = (alias, time.monotonic())
        return alias

    def _mentions_me(self, mention_ids: list[str], text: str) -> bool:
        if self._self_id in mention_ids:
            return True
        # Some puppets leave the mention list empty; WeChat writes "@name" + U+2005 or space.
        mark = f"@{self._self_name}"
        return bool(self._self_name) and any(
            text.endswith(mark) or f"{mark}{sep}" in text for sep in (AT_SEPARATOR, " ")
        )

    # --- sending ----------------------------------------------------------------------------

    async def send(self, msg: Outgoing) -> None:
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
        try:
            if msg.to_room is not None:
                room_id = await self._room_id(conn, msg.to_room)
                # the handlers write the "@name" into the text; the ids make WeChat notify them
                conversation_id, text, mention_ids = room_id, msg.text, list(msg.mention_ids)
            elif msg.to_person is not None:
                contact = conn.bot.Contact.load(msg.to_person)
                try:
                    await _bounded(contact.ready(), self._rpc_timeout)
                except (TimeoutError, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    raise UnknownRecipient(f"no WeChat contact {msg.to_person!r}") from exc
                conversation_id, text, mention_ids = msg.to_person, msg.text, []
            else:
                raise UnknownRecipient("an Outgoing needs to_room or to_person")
        except DeliveryError:
            raise
        except Exception as exc:
            raise NotConnected(self._redact(f"looking up the recipient failed: {exc}")) from exc
        # One RPC and nothing after it: Room.say/Contact.say load the sent message afterwards,
        # and a failure there would make the outbox send a delivered message again.
        try:
            await _bounded(
                conn.puppet.message_send_text(conversation_id, text, mention_ids or None),
                self._rpc_timeout,
            )
        except Exception as exc:
            raise SendFailed(self._redact(f"{type(exc).__name__}: {exc}")) from exc

    async def _room_id(self, conn: _Connection, topic: str) -> str:
        room_id = self._room_ids.get(topic)
        if room_id is None:
            await self._refresh_rooms(conn)  # the account may have joined it since login
            room_id = self._room_ids.get(topic)
        if room_id is None:
            raise UnknownRecipient(f"the WeChat account is not in a room called {topic!r}")
        return room_id

    # --- start-up check ---------------------------------------------------------------------

    async def sync_report(
        self, room_topics: Collection[str], person_ids: Collection[str]
    ) -> list[SyncRow]:
        """Resolve configured rooms by topic and people by id; waits for the login first."""
        await self.wait_connected(self._rpc_timeout * 4)
        conn = self._conn
        if conn is None:
            raise NotConnected("connection lost during the start-up check")
        await self._refresh_rooms(conn)
        rows: list[SyncRow] = []
        for topic in room_topics:
            room_id = self._room_ids.get(topic)
            if room_id is None:
                rows.append(SyncRow("room", topic, False, "the account is not in this room"))
            else:
                members = conn.bot.Room.load(room_id).payload.member_ids
                rows.append(SyncRow("room", topic, True, f"{len(members)} members"))
        for person_id in person_ids:
            contact = conn.bot.Contact.load(person_id)
            try:
                await _bounded(contact.ready(), self._rpc_timeout)
            except TimeoutError:
                raise
            except Exception:
                rows.append(SyncRow("person", person_id, False, "unknown to the account"))
                continue
            if contact.payload.friend:
                rows.append(SyncRow("person", person_id, True, f"{contact.name}: a contact"))
            else:
                detail = f"{contact.name}: not a contact, private messages may fail"
                rows.append(SyncRow("person", person_id, False, detail))
        return rows


async def _bounded(aw: Awaitable[T], seconds: float | None) -> T:
    """Await with a time limit; unlike asyncio.wait_for on 3.11, never swallows a cancel."""
    async with asyncio.timeout(seconds):
        return await aw


def _timestamp(value: int) -> datetime:
    """The puppet service sends seconds or milliseconds since the epoch."""
    seconds = value / 1000 if value > 10_000_000_000 else value
    return datetime.fromtimestamp(seconds, UTC)

"""Running the bot on WeChat: the transport from the config, wired to the bot's database.

WechatService connects what the transport sees to what people are told: room bindings and
heartbeats in the database, outage and logout notices, the 风控 pause, echoes that settle send
attempts, hints for voice messages, a hijacking room reported to its secretary, and the QR login
link sent by a second channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import CommunityConfig, Config, PersonConfig, WechatyTransportSection
from bot.core.domain import LoginStatus
from bot.core.messages import Outgoing
from bot.outbound import enqueue_all
from bot.transports.receipts import DatabaseReceipts
from bot.transports.wechaty import WechatyHooks, WechatyTransport
from bot.transports.wechaty_events import VOICE_HINT
from storage import account_contacts, account_state, room_bindings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App
    from bot.sender import SendPolicy

log = logging.getLogger(__name__)

INSTALL_HINT = "微信通道需要安装微信组件：pip install -e '.[wechat]'"


class WechatyConfigError(ValueError):
    """The transport section cannot run the WeChat transport; the message names the key."""


def wechaty_section(config: Config) -> WechatyTransportSection:
    """The config's transport section, which must be of kind wechaty."""
    section = config.transport
    if not isinstance(section, WechatyTransportSection):
        raise WechatyConfigError(f"transport.kind：现在是 {section.kind!r}，这里需要 wechaty")
    return section


def token_of(section: WechatyTransportSection) -> str:
    """The puppet service token: from the file, else from its environment variable."""
    token = section.token or os.environ.get(section.token_env, "")
    if not token:
        raise WechatyConfigError(
            f"transport.token：没有设置网关的 token；请在配置里写 transport.token，"
            f"或设置环境变量 {section.token_env}"
        )
    return token


@dataclass
class DatabaseBindings:
    """Room bindings in the database, per account (`sessions` is set once the app exists)."""

    account: str
    clock: Clock
    sessions: async_sessionmaker[AsyncSession] | None = None

    def _db(self) -> async_sessionmaker[AsyncSession]:
        if self.sessions is None:
            raise RuntimeError("DatabaseBindings used before the database was attached")
        return self.sessions

    async def load(self) -> dict[str, str]:
        """Every binding of the account."""
        async with self._db()() as session:
            rows = await room_bindings.all_bindings(session, self.account)
        return {r.room: r.wechat_id for r in rows}

    async def bind(self, room: str, wechat_id: str, topic: str, by: str) -> bool:
        """Store a binding unless the room or the id is bound already."""
        async with self._db()() as session, session.begin():
            return await room_bindings.bind(
                session,
                account=self.account,
                room=room,
                wechat_id=wechat_id,
                topic=topic,
                by=by,
                now=self.clock.now(),
            )

    async def renamed(self, wechat_id: str, topic: str) -> None:
        """Record a bound room's new topic."""
        async with self._db()() as session, session.begin():
            await room_bindings.renamed(session, self.account, wechat_id, topic, self.clock.now())


def people_to_reach(config: Config) -> dict[str, str]:
    """Who the bot must be able to message privately (id -> configured name)."""
    out: dict[str, str] = {}
    for community in config.grid:
        for person in _community_people(community):
            out.setdefault(person.id, person.name)
    return dict(sorted(out.items()))


def _community_people(community: CommunityConfig) -> list[PersonConfig]:
    out: list[PersonConfig] = list(community.workers)
    for c in community.compounds:
        if c.secretary is not None:
            out.append(c.secretary)
        out.extend(b.head for b in c.buildings if b.head is not None)
    return out


def known_people(config: Config) -> set[str]:
    """Everyone the grid names (heads, secretaries, workers, volunteers): not strangers."""
    ids = set(people_to_reach(config))
    ids.update(v.id for com in config.grid for c in com.compounds for v in c.volunteers)
    return ids


def transport_from_config(
    config: Config,
    clock: Clock,
    *,
    bindings: DatabaseBindings | None = None,
    receipts: DatabaseReceipts | None = None,
) -> WechatyTransport:
    """A WechatyTransport for `transport: {kind: wechaty, endpoint, token | token_env}`."""
    section = wechaty_section(config)
    token = token_of(section)
    rooms = [room for com in config.grid for c in com.compounds for room in c.rooms]
    people = people_to_reach(config)
    return WechatyTransport(
        endpoint=section.endpoint,
        token=token,
        room_topics=[room.topic for room in rooms],
        room_ids={room.topic: room.wechat_id for room in rooms if room.wechat_id},
        data_dir=Path(section.data_dir),
        clock=clock,
        check_people=list(people),
        people_names=people,
        bindings=bindings,
        receipts=receipts,
    )


def notice_recipients(config: Config) -> list[str]:
    """Who hears about outages and restrictions: secretaries, and workers if configured."""
    ids = {c.secretary.id for com in config.grid for c in com.compounds if c.secretary is not None}
    if isinstance(config.transport, WechatyTransportSection) and config.transport.notify_workers:
        ids.update(w.id for com in config.grid for w in com.workers)
    return sorted(ids)


def offline_notice(config: Config, offline: timedelta) -> list[Outgoing]:
    """Private messages to the secretaries (and workers) saying the bot was away and how long."""
    minutes = max(1, round(offline.total_seconds() / 60))
    text = (
        f"{config.bot.name}刚才离线了约{_duration(minutes)}，现已恢复。"
        "这段时间群里的报事可能没有收到，请留意这段时间的群消息，如有遗漏请提醒居民重新发送。"
    )
    return [Outgoing(to_room=None, to_person=pid, text=text) for pid in notice_recipients(config)]


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"


def restriction_notice(config: Config, until: datetime) -> list[Outgoing]:
    """Telling the secretaries that WeChat throttles the account and sending waits."""
    local = until.astimezone(config.bot.tz)
    text = (
        f"微信提示{config.bot.name}的账号「操作过于频繁」，为保护账号，"
        f"{config.bot.name}暂停发消息到 {local:%m月%d日 %H:%M}，之后会自动补发。"
        "急事请直接联系楼栋长。"
    )
    return [Outgoing(to_room=None, to_person=pid, text=text) for pid in notice_recipients(config)]


def hijack_notice(config: Config, room: str, topic: str) -> list[Outgoing]:
    """Telling the room's secretary that another group took its name and is not served."""
    secretary = None
    for com in config.grid:
        for c in com.compounds:
            if any(r.topic == room for r in c.rooms) and c.secretary is not None:
                secretary = c.secretary.id
    if secretary is None:
        return []
    text = (
        f"有另一个微信群改名为「{topic}」，与已登记的业主群同名。为防冒充，"
        f"{config.bot.name}不会处理那个群的消息。如确需换群，请管理员运行 jinlin rooms 重新绑定。"
    )
    return [Outgoing(to_room=None, to_person=secretary, text=text)]


@dataclass
class WechatService:
    """Wires a WechatyTransport to a bot: notices, heartbeats, bindings, the 风控 pause."""

    app: App
    transport: WechatyTransport
    section: WechatyTransportSection
    webhook: str | None = None
    gap: tuple[datetime, datetime] | None = None  # the outage told on start, if any
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _started: datetime | None = None
    _known: frozenset[str] = frozenset()  # the grid's people: their friend requests are accepted

    def attach(self) -> None:
        """Set the transport's hooks and the sender's restriction hook."""
        self.transport.hooks = WechatyHooks(
            on_reconnected=self.on_reconnected,
            on_login=self.on_login,
            on_logout=self.on_logout,
            on_scan=self.on_scan,
            on_restriction=self.on_restriction,
            on_echo=self.app.sender.confirm_echo,
            on_voice=self.on_voice,
            on_hijack=self.on_hijack,
            on_contacts=self.on_contacts,
            on_friend_request=self.on_friend_request,
        )
        self.app.sender.on_restricted = self.on_restricted
        self._known = frozenset(known_people(self.app.config))

    @property
    def account(self) -> str:
        """The account this process serves."""
        return self.app.config.bot.account

    async def start(self) -> None:
        """Tell a gap since the last heartbeat, then beat while running."""
        now = self.app.clock.now()
        self._started = now
        async with self.app.sessions() as session, session.begin():
            last = await account_state.last_alive(
                session, self.account, besides=self.app.sender.instance
            )
            await account_state.beat(session, self.app.sender.instance, self.account, now, now)
        if last is not None and now - last >= self.section.offline_notice_after:
            self.gap = (last, now)
            async with self.app.sessions() as session, session.begin():
                await account_state.change(session, self.account, now, gap_from=last, gap_to=now)
            await self._tell(
                f"gap:{last.isoformat()}", offline_notice(self.app.config, now - last)
            )
            log.warning("the bot was not running from %s to %s; told the secretaries", last, now)
        self._tasks.append(asyncio.create_task(self._beat(), name="wechat-heartbeat"))

    async def _beat(self) -> None:
        assert self._started is not None
        interval = self.section.heartbeat.total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.app.sessions() as session, session.begin():
                    await account_state.beat(
                        session,
                        self.app.sender.instance,
                        self.account,
                        self.app.clock.now(),
                        self._started,
                    )
            except Exception:
                log.exception("could not write the heartbeat")

    async def stop(self) -> None:
        """Stop beating."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _tell(
        self, key: str, messages: list[Outgoing], not_before: datetime | None = None
    ) -> None:
        now = self.app.clock.now()
        async with self.app.sessions() as session, session.begin():
            await enqueue_all(session, self.app.config, key, messages, not_before or now)
        self.app.sender.wake()

    async def on_reconnected(self, offline: timedelta) -> None:
        """After a reconnect or a re-login that followed a long outage, queue the notice."""
        if offline < self.section.offline_notice_after:
            return
        now = self.app.clock.now()
        messages = offline_notice(self.app.config, offline)
        # one key per outage, so a retried hook cannot queue the notice twice
        await self._tell(f"offline:{now.isoformat()}", messages)
        log.warning("back online after %s; told %d people", offline, len(messages))

    async def on_login(self, self_id: str, name: str) -> None:
        """The account is logged in (again)."""
        async with self.app.sessions() as session, session.begin():
            await account_state.change(
                session,
                self.account,
                self.app.clock.now(),
                self_id=self_id,
                login=account_state.LOGGED_IN,
                login_changed_at=self.app.clock.now(),
                qr_url=None,
            )
        log.info("WeChat account %s (%s) logged in", name, self_id)

    async def on_contacts(self, contact_ids: list[str], complete: bool) -> None:
        """Store who the account can message privately, for routing other processes' sends."""
        now = self.app.clock.now()
        async with self.app.sessions() as session, session.begin():
            if complete:
                added, removed = await account_contacts.replace(
                    session, self.account, contact_ids, now
                )
                log.info(
                    "the account has %d contacts (%d new, %d no longer)",
                    len(contact_ids),
                    added,
                    removed,
                )
            else:
                for contact_id in contact_ids:
                    await account_contacts.learn(session, self.account, contact_id, now)

    async def on_friend_request(self, contact_id: str, hello: str) -> bool:
        """Accept the grid's people (a head must be a friend to get cases), not strangers."""
        return contact_id in self._known

    async def on_logout(self, reason: str) -> None:
        """The account was logged out: record it; the operators hear by the second channel."""
        now = self.app.clock.now()
        async with self.app.sessions() as session, session.begin():
            await account_state.change(
                session,
                self.account,
                now,
                login=account_state.LOGGED_OUT,
                login_changed_at=now,
            )
        log.warning("WeChat account logged out (%s): scan the QR code on /console/wechat", reason)
        await self._second_channel(
            f"{self.app.config.bot.name}的微信账号已退出登录（{reason}），"
            "请打开工作台的「微信登录」页面扫码重新登录。"
        )

    async def on_scan(self, url: str, status: int) -> None:
        """A QR link to log in with: shown on the console, and sent by the second channel."""
        async with self.app.sessions() as session, session.begin():
            await account_state.change(
                session,
                self.account,
                self.app.clock.now(),
                qr_url=url,
                login=LoginStatus.LOGGED_OUT,
            )
        await self._second_channel(f"{self.app.config.bot.name}需要扫码登录微信：{url}")

    async def on_restriction(self, text: str) -> None:
        """WeChat's own notice that the account is throttled: pause sending."""
        await self.app.sender.restricted(self.app.clock.now(), text)

    async def on_restricted(self, until: datetime, reason: str) -> None:
        """A pause began: the secretaries hear when it ends (the account cannot send before)."""
        await self._tell(
            f"restricted:{until.isoformat()}",
            restriction_notice(self.app.config, until),
            not_before=until,
        )
        await self._second_channel(
            f"{self.app.config.bot.name}的微信被限制发送（{reason[:100]}），已暂停到"
            f" {until.astimezone(self.app.config.bot.tz):%H:%M}。"
        )

    async def on_voice(
        self, message_id: str, room: str | None, sender: str, mentioned: bool
    ) -> None:
        """A voice or video message: a short private hint, in groups only when it @s the bot."""
        if room is not None and not mentioned:
            return
        hint = Outgoing(to_room=None, to_person=sender, text=VOICE_HINT)
        await self._tell(f"in:{message_id}", [hint])

    async def on_hijack(self, room: str, wechat_id: str, topic: str) -> None:
        """Another room took a bound room's topic: tell the room's secretary once."""
        await self._tell(f"hijack:{room}:{wechat_id}", hijack_notice(self.app.config, room, topic))

    async def _second_channel(self, text: str) -> None:
        if self.webhook:
            await send_webhook(self.webhook, text)


async def send_webhook(url: str, text: str) -> None:
    """Post a text to a WeCom group robot webhook (or anything taking the same JSON)."""
    import aiohttp

    body = {"msgtype": "text", "text": {"content": text}}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.post(url, json=body) as response,
        ):
            if response.status >= 300:
                log.warning("login webhook answered %s", response.status)
    except (aiohttp.ClientError, TimeoutError) as e:
        log.warning("login webhook failed: %s", e)


def webhook_of(section: WechatyTransportSection) -> str | None:
    """The second channel's URL, from the file or its environment variable."""
    if section.login_webhook:
        return section.login_webhook
    if section.login_webhook_env:
        return os.environ.get(section.login_webhook_env) or None
    return None


def wechat_policy(config: Config, section: WechatyTransportSection) -> SendPolicy:
    """The sending policy for a WeChat account: local-day cap, stranger limit, liveness."""
    from bot.sender import SendPolicy

    base = SendPolicy.from_config(
        config.sending,
        tz=config.bot.tz,
        stranger_replies=section.stranger_replies,
        known_people=known_people(config),
    )
    return replace(base, stale_after=section.heartbeat * 3)


async def wire(config: Config, clock: Clock) -> tuple[App, WechatService]:
    """Build the app on a WechatyTransport whose bindings live in the app's database."""
    from bot.app import build_app

    section = wechaty_section(config)
    bindings = DatabaseBindings(config.bot.account, clock)
    receipts = DatabaseReceipts(config.bot.account, clock)
    transport = transport_from_config(config, clock, bindings=bindings, receipts=receipts)
    app = build_app(config, transport, clock, policy=wechat_policy(config, section))
    bindings.sessions = receipts.sessions = app.sessions
    service = WechatService(app, transport, section, webhook=webhook_of(section))
    service.attach()
    return app, service


async def run_wechaty(config: Config, section: WechatyTransportSection, clock: Clock) -> None:
    """`jinlin run` on WeChat: the bot, and the console/民情码/API/healthz beside it."""
    try:
        import wechaty_puppet_service  # noqa: F401
    except ImportError:
        raise SystemExit(f"{INSTALL_HINT}（配置的 transport.kind 是 wechaty）") from None
    try:
        app, service = await wire(config, clock)
    except WechatyConfigError as e:
        raise SystemExit(f"配置有误：{e}") from None
    await app.start()
    await service.start()
    transport = service.transport
    await transport.start()
    web_runner = await serve_wechat_web(app, service, section)
    try:
        await app.serve()
    finally:
        if web_runner is not None:
            await web_runner.cleanup()
        await transport.stop()
        await service.stop()
        await app.stop()


async def serve_wechat_web(
    app: App, service: WechatService, section: WechatyTransportSection
) -> web.AppRunner:
    """The console, 民情码, API and /healthz beside the bot, with the WeChat login page."""
    from bot.web.server import serve_web
    from bot.web.wechat_login import add_wechat_routes

    runner = await serve_web(
        app,
        section.host,
        section.port,
        transport_connected=lambda: service.transport.connected,
        extra=lambda web_app: add_wechat_routes(web_app, service),
    )
    return runner


@contextlib.asynccontextmanager
async def running(config: Config, clock: Clock) -> AsyncIterator[tuple[App, WechatService]]:
    """The WeChat bot serving in a task (for tests and tools); stops on exit."""
    app, service = await wire(config, clock)
    await app.start()
    await service.start()
    await service.transport.start()
    task = asyncio.create_task(app.serve())
    try:
        yield app, service
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await service.transport.stop()
        await service.stop()
        await app.stop()

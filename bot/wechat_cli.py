"""`jinlin rooms`, `jinlin wechat rooms|members`, `jinlin init --from-wechat`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli_support import add_config_option, config_path, run_on_database
from bot.core.clock import SystemClock
from bot.core.config import Config, ConfigError, WechatyTransportSection, load_config

if TYPE_CHECKING:
    from bot.transports.wechaty import WechatyTransport
    from bot.transports.wechaty_tools import MemberInfo

T = TypeVar("T")
LOGIN_WAIT = 30.0
INSTALL = "pip install -e '.[wechat]'"


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _config(path: str | None) -> Config | None:
    from bot.cli_support import config_path

    try:
        return load_config(config_path(path))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return None


def cmd_rooms(args: argparse.Namespace) -> int:
    """List the room bindings; `bind ROOM ID` / `unbind ROOM` change them."""
    config = _config(args.config)
    if config is None:
        return 2
    topics = [r.topic for com in config.grid for c in com.compounds for r in c.rooms]
    if args.action in ("bind", "unbind") and args.room not in topics:
        return _fail(
            f"{config_path(args.config)}: grid[].compounds[].rooms[].topic 里没有群 "
            f"{args.room!r}；配置里的群有：{'、'.join(topics) or '（无）'}"
        )
    if args.action == "bind" and not args.wechat_id:
        return _fail(
            "jinlin rooms bind 群名 群ID：请写出微信群的 ID（用 jinlin wechat rooms 可以查到）"
        )
    url = args.db or config.storage.url
    return run_on_database(_rooms(config, args, topics), url)


async def _rooms(config: Config, args: argparse.Namespace, topics: list[str]) -> int:
    from storage import room_bindings, schema
    from storage.engine import create_engine, session_factory

    engine = create_engine(args.db or config.storage.url)
    account = config.bot.account
    now = SystemClock().now()
    try:
        if engine.dialect.name == "sqlite":
            await schema.upgrade(engine)  # as the bot does on start
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            if args.action == "bind":
                await room_bindings.rebind(
                    session,
                    account=account,
                    room=args.room,
                    wechat_id=args.wechat_id,
                    topic=args.topic or args.room,
                    now=now,
                )
                print(f"{args.room} -> {args.wechat_id}（重启机器人后生效）")
            elif args.action == "unbind":
                if not await room_bindings.unbind(session, account, args.room):
                    print(f"{args.room}：本来就没有绑定")
                else:
                    print(f"{args.room}：已解除绑定；下次见到同名的群时会按群名重新绑定")
            rows = await room_bindings.all_bindings(session, account)
    finally:
        await engine.dispose()
    bound = {r.room: r for r in rows}
    print(f"账号 {account}：")
    for topic in topics:
        b = bound.get(topic)
        if b is None:
            print(f"  {topic}  （还没有绑定：第一次见到时按群名绑定）")
        else:
            now_called = f"  现在的群名是 {b.topic!r}" if b.topic != topic else ""
            print(
                f"  {topic}  -> {b.wechat_id}  ({b.bound_by}, {b.bound_at:%Y-%m-%d}){now_called}"
            )
    return 0


async def _with_transport(config: Config, work: Callable[..., Awaitable[T]]) -> T:
    """Connect to the puppet service, wait for the login, run `work(transport)`."""
    from bot.transports.wechaty_runner import transport_from_config

    transport = transport_from_config(config, SystemClock())
    await transport.start()
    try:
        try:
            await transport.wait_connected(LOGIN_WAIT)
        except TimeoutError:
            print(
                f"等了 {LOGIN_WAIT:.0f} 秒还没有登录微信：请检查 {transport!r} 的网关服务"
                "是否在运行，账号是否已扫码登录",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        return await work(transport)
    finally:
        await transport.stop()


def _wechaty_config(path: str) -> Config | None:
    config = _config(path)
    if config is None:
        return None
    if not isinstance(config.transport, WechatyTransportSection):
        print(
            f"{path}: transport.kind 是 {config.transport.kind!r}；这些命令需要 "
            "transport: {kind: wechaty, endpoint: 主机:端口}",
            file=sys.stderr,
        )
        return None
    try:
        import wechaty_puppet_service  # noqa: F401
    except ImportError:
        print(f"没有安装微信组件，请先运行：{INSTALL}", file=sys.stderr)
        return None
    from bot.transports.wechaty_runner import WechatyConfigError, token_of

    try:
        token_of(config.transport)
    except WechatyConfigError:
        print(
            f"{path}: transport.token：没有设置网关的 token：请设置环境变量 "
            f"{config.transport.token_env}（网关的 WECHATY_TOKEN），或在配置里写 transport.token",
            file=sys.stderr,
        )
        return None
    return config


def cmd_wechat(args: argparse.Namespace) -> int:
    """List the account's rooms, or a room's members, with their ids."""
    from bot.transports.wechaty_tools import list_members, list_rooms

    config = _wechaty_config(args.config)
    if config is None:
        return 2
    if args.what == "rooms":
        rooms = asyncio.run(_with_transport(config, list_rooms))
        for r in rooms:
            print(f"{r.wechat_id}\t{r.topic}\t{r.members} 人")
        return 0
    if not args.room:
        return _fail(
            "jinlin wechat members 群：请写出群名或群 ID（用 jinlin wechat rooms 可以查到）"
        )

    async def members(transport: WechatyTransport) -> list[MemberInfo]:
        return await list_members(transport, args.room)

    try:
        found = asyncio.run(_with_transport(config, members))
    except LookupError:
        return _fail(f"这个账号不在群 {args.room!r} 里；用 jinlin wechat rooms 查看它所在的群")
    print("ID\t名字\t群昵称\t是好友")
    for m in found:
        print(f"{m.contact_id}\t{m.name}\t{m.room_alias}\t{'是' if m.friend else '否'}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Write a config draft from the rooms the logged-in account is in."""
    from bot.transports.wechaty_tools import config_draft, list_members, list_rooms

    if not args.from_wechat:
        return _fail(
            "jinlin init：目前只支持 --from-wechat（也可以复制 config.example.yaml 来改）"
        )
    out = Path(args.output)
    if out.exists() and not args.force:
        return _fail(f"{out}：文件已存在；请用 -o 换一个文件名，或加 --force 覆盖")
    config = _wechaty_config(args.config)
    if config is None:
        return 2
    assert isinstance(config.transport, WechatyTransportSection)
    endpoint = config.transport.endpoint

    async def draft(transport: WechatyTransport) -> str:
        rooms = await list_rooms(transport)
        members = {r.wechat_id: await list_members(transport, r.wechat_id) for r in rooms}
        return config_draft(rooms, members, config.bot.name, endpoint)

    text = asyncio.run(_with_transport(config, draft))
    out.write_text(text, encoding="utf-8")
    print(f"已写入 {out}：请核对标着“待核对”的各行，再运行 jinlin check-config {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the room and WeChat set-up subcommands."""
    p = sub.add_parser("rooms", help="WeChat room bindings: list, bind ROOM ID, unbind ROOM")
    p.add_argument("action", nargs="?", choices=["list", "bind", "unbind"], default="list")
    p.add_argument("room", nargs="?", help="the configured topic")
    p.add_argument("wechat_id", nargs="?", help="the WeChat room id to bind it to")
    p.add_argument("--topic", help="the room's topic now (for the listing)")
    add_config_option(p)
    p.add_argument("--db", help="database URL (default: storage.url of the config)")
    p.set_defaults(func=cmd_rooms)

    p = sub.add_parser("wechat", help="what the logged-in WeChat account sees (needs the gateway)")
    p.add_argument("what", choices=["rooms", "members"])
    p.add_argument("room", nargs="?", help="for members: a room's topic or id")
    add_config_option(p, help="a config with the wechaty transport (default: $JINLIN_CONFIG)")
    p.set_defaults(func=cmd_wechat)

    p = sub.add_parser("init", help="write a config draft (--from-wechat: from the account)")
    p.add_argument("--from-wechat", action="store_true", help="read rooms and members from WeChat")
    add_config_option(p, help="a config with the wechaty transport (default: $JINLIN_CONFIG)")
    p.add_argument("-o", "--output", default="config.draft.yaml", help="where to write the draft")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    p.set_defaults(func=cmd_init)

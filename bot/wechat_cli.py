"""`jinlin rooms`, `jinlin wechat rooms|members`, `jinlin init --from-wechat`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli_support import add_config_option, config_path
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
            f"{config_path(args.config)}: no room {args.room!r} "
            "under grid[].compounds[].rooms[].topic; "
            f"configured rooms: {', '.join(topics) or 'none'}"
        )
    if args.action == "bind" and not args.wechat_id:
        return _fail(
            "jinlin rooms bind ROOM WECHAT_ID: give the WeChat room id (jinlin wechat rooms)"
        )
    return asyncio.run(_rooms(config, args, topics))


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
                print(f"{args.room} -> {args.wechat_id} (restart the bot to use it)")
            elif args.action == "unbind":
                if not await room_bindings.unbind(session, account, args.room):
                    print(f"{args.room}: was not bound")
                else:
                    print(f"{args.room}: unbound; it binds again by its topic when next seen")
            rows = await room_bindings.all_bindings(session, account)
    finally:
        await engine.dispose()
    bound = {r.room: r for r in rows}
    print(f"account {account}:")
    for topic in topics:
        b = bound.get(topic)
        if b is None:
            print(f"  {topic}  (not bound yet: binds by topic when first seen)")
        else:
            now_called = f"  now called {b.topic!r}" if b.topic != topic else ""
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
            raise SystemExit(
                f"not logged in to WeChat after {LOGIN_WAIT:.0f} s: is the puppet service at "
                f"{transport!r} running, and the account logged in (scan the QR code)?"
            ) from None
        return await work(transport)
    finally:
        await transport.stop()


def _wechaty_config(path: str) -> Config | None:
    config = _config(path)
    if config is None:
        return None
    if not isinstance(config.transport, WechatyTransportSection):
        print(
            f"{path}: transport.kind is {config.transport.kind!r}; these commands need "
            "transport: {kind: wechaty, endpoint: HOST:PORT}",
            file=sys.stderr,
        )
        return None
    try:
        import wechaty_puppet_service  # noqa: F401
    except ImportError:
        print(f"the wechat transport is not installed: {INSTALL}", file=sys.stderr)
        return None
    from bot.transports.wechaty_runner import WechatyConfigError, token_of

    try:
        token_of(config.transport)
    except WechatyConfigError as e:
        print(f"{path}: {e}", file=sys.stderr)
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
            print(f"{r.wechat_id}\t{r.topic}\t{r.members} members")
        return 0
    if not args.room:
        return _fail("jinlin wechat members ROOM: give a room's topic or id (jinlin wechat rooms)")

    async def members(transport: WechatyTransport) -> list[MemberInfo]:
        return await list_members(transport, args.room)

    try:
        found = asyncio.run(_with_transport(config, members))
    except LookupError:
        return _fail(f"the account is in no room {args.room!r}; `jinlin wechat rooms` lists them")
    print("id\tname\t群昵称\tcontact")
    for m in found:
        print(f"{m.contact_id}\t{m.name}\t{m.room_alias}\t{'yes' if m.friend else 'no'}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Write a config draft from the rooms the logged-in account is in."""
    from bot.transports.wechaty_tools import config_draft, list_members, list_rooms

    if not args.from_wechat:
        return _fail("jinlin init: only --from-wechat is supported (copy config.example.yaml)")
    out = Path(args.output)
    if out.exists() and not args.force:
        return _fail(f"{out}: exists; choose another -o FILE or add --force")
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
    print(f"wrote {out}: review the lines marked 待核对, then `jinlin check-config {out}`")
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

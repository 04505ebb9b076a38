"""`jinlin web ...`: password hashes, API tokens, one-time login tokens, logging everyone out."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")
LOGIN_TOKEN_TTL = timedelta(minutes=15)


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Read a password (prompt, or one line on stdin) and print its scrypt hash for the config."""
    from bot.web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("密码：")
        if getpass.getpass("再输一次：") != password:
            print("两次输入的密码不一样，请重新运行", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("密码太短：至少要 8 个字符", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


def cmd_new_token(args: argparse.Namespace) -> int:
    """Make a random API token; print it once and the sha256 line for the config."""
    from bot.web.auth import token_sha256

    token = secrets.token_urlsafe(32)
    print(f"token:        {token}")
    print(f"token_sha256: {token_sha256(token)}")
    print(
        "令牌只显示这一次：交给使用 API 的人；把 token_sha256 这一行写进配置的 web.api_tokens",
        file=sys.stderr,
    )
    return 0


def _with_database(args: argparse.Namespace, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run `work(config, session)` in one transaction on the configured (or given) database."""
    from bot.app import ensure_schema_current
    from bot.cli_support import load_or_exit, run_on_database
    from storage import schema
    from storage.engine import create_engine, session_factory

    cfg = load_or_exit(args.config)
    url = args.db or cfg.storage.url

    async def go() -> T:
        engine = create_engine(url)
        try:
            if engine.dialect.name == "sqlite":
                await schema.upgrade(engine)
            else:
                await ensure_schema_current(engine)
            async with session_factory(engine)() as session, session.begin():
                return await work(cfg, session)
        finally:
            await engine.dispose()

    # an unreachable or outdated database: one sentence naming it, exit 2
    return run_on_database(go(), url)


def cmd_login_token(args: argparse.Namespace) -> int:
    """Print a one-time console login token (15 minutes): a locked-out admin gets in with it."""
    from bot.core.clock import SystemClock
    from bot.web.auth import ONE_TIME_USER
    from storage import web_sessions

    async def work(cfg: Any, session: Any) -> str | None:
        names = [u.name for u in cfg.web.users]
        user = args.user or (ONE_TIME_USER if not names else None)
        if user is None or (names and user not in names):
            return None
        return await web_sessions.add_login_token(
            session, user, SystemClock().now(), LOGIN_TOKEN_TTL
        )

    token = _with_database(args, work)
    if token is None:
        print(
            f"{args.config}: web.users：没有叫 {args.user!r} 的后台用户；"
            "请用 --user 名字 指定 web.users 里的一位",
            file=sys.stderr,
        )
        return 2
    print(token)
    print("请在 15 分钟内到登录页使用，只能用一次", file=sys.stderr)
    return 0


def cmd_logout_all(args: argparse.Namespace) -> int:
    """End every console session (or one user's): everyone logs in again."""
    from storage import web_sessions

    async def work(cfg: Any, session: Any) -> int:
        return await web_sessions.end_sessions(session, args.user)

    ended = _with_database(args, work)
    who = f"{args.user} 的" if args.user else ""
    print(f"已结束{who} {ended} 个后台登录，需要重新登录")
    return 0


def register(sub: Any) -> None:
    """Add the `web` subcommands to the jinlin parser."""
    from bot.cli_support import add_config_option

    p = sub.add_parser("web", help="web console helpers (passwords, tokens, sessions)")
    websub = p.add_subparsers(dest="web_command", required=True)
    h = websub.add_parser("hash-password", help="print the scrypt hash of a password")
    h.set_defaults(func=cmd_hash_password)
    t = websub.add_parser("new-token", help="make an API token and its sha256 for the config")
    t.set_defaults(func=cmd_new_token)
    lt = websub.add_parser("login-token", help="print a one-time console login token")
    add_config_option(lt)
    lt.add_argument("--db", help="database URL (default: storage.url of the config)")
    lt.add_argument("--user", help="the console user it logs in (web.users[].name)")
    lt.set_defaults(func=cmd_login_token)
    lo = websub.add_parser("logout-all", help="end every console session (or one user's)")
    add_config_option(lo)
    lo.add_argument("--db", help="database URL (default: storage.url of the config)")
    lo.add_argument("--user", help="only this user's sessions")
    lo.set_defaults(func=cmd_logout_all)

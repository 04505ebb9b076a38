"""The `jinlin` command line."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
from datetime import UTC, datetime, tzinfo
from typing import Any, NoReturn

from bot.cli_support import (
    add_config_option,
    config_path,
    fail,
    load_or_exit,
    run_on_database,
    setup_logging,
)
from bot.core.config import BotSection, Config, summarise
from bot.core.config_errors import unreadable
from bot.core.domain import OutboxStatus

log = logging.getLogger("jinlin")


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file and print a summary or every problem."""
    from bot.runner import start_problems

    cfg = load_or_exit(args.config)
    problems = start_problems(cfg)
    if problems:
        for problem in problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        fail("改正以上各项后机器人才会启动。")
    print(f"{args.config}: 配置没有问题，可以用 jinlin run --config {args.config} 启动")
    print(summarise(cfg))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Run the bot on a virtual clock over a JSONL events file."""
    from bot.replay import ReplayInputError, read_events, replay

    cfg = load_or_exit(args.config)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    source = args.events
    try:
        if source == "-":
            # bytes, so invalid UTF-8 is a line's problem, not a traceback
            events = read_events(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>", cfg)
        else:
            with open(source, "rb") as f:
                events = read_events(f, source, cfg)
    except OSError as e:
        print(f"{source}: {unreadable(e.errno, e.strerror)}", file=sys.stderr)
        return 2
    except ReplayInputError as e:
        print(str(e), file=sys.stderr)
        return 2
    run_on_database(replay(cfg, events, sys.stdout, db_url=args.db), args.db or "sqlite://")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal as any person in any room."""
    cfg = load_or_exit(args.config)
    if args.db:
        cfg = cfg.model_copy(update={"storage": cfg.storage.model_copy(update={"url": args.db})})
    setup_logging(args.verbose)
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    run_on_database(_run_console(cfg), cfg.storage.url)
    return 0


async def _run_console(cfg: Config) -> None:
    from bot.app import build_app
    from bot.core.clock import SystemClock
    from bot.sender import SendPolicy
    from bot.transports.console import ConsoleTransport

    clock = SystemClock()
    app = build_app(cfg, ConsoleTransport(cfg, clock), clock, policy=SendPolicy.immediate())
    await app.start()
    try:
        await app.serve()
        await app.sender.drain()
    finally:
        await app.stop()


def cmd_run(args: argparse.Namespace) -> int:
    """Run the real bot with the transport chosen in the config."""
    from bot.runner import start_problems

    cfg = load_or_exit(args.config)
    problems = start_problems(cfg)
    if problems:
        for problem in problems:
            print(f"{config_path(args.config)}: {problem}", file=sys.stderr)
        fail("改正以上各项后机器人才会启动（jinlin check-config 文件名 可先检查）。")
    setup_logging(args.verbose)
    with contextlib.suppress(KeyboardInterrupt):
        run_on_database(_run(cfg), cfg.storage.url)
    return 0


async def _run(cfg: Config) -> None:
    from bot.runner import run_bot

    await run_bot(cfg)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the Alembic migrations to the configured (or given) database."""
    from storage import figure_cells, schema
    from storage.engine import create_engine

    config = None if args.db else load_or_exit(args.config)
    url: str = args.db if config is None else config.storage.url
    # Without a config, the figures' sums are made for the default timezone (the bot makes
    # them again at start if its timezone differs).
    zone = (config.bot if config is not None else BotSection()).tz
    from storage.engine import display_url

    async def go() -> None:
        engine = create_engine(url)
        try:
            await schema.upgrade(engine)
            revision = await schema.current_revision(engine)
            if await figure_cells.ensure(engine, zone, _sums_progress):
                print(file=sys.stderr)
            print(f"{display_url(url)}：数据库结构已是最新（版本 {revision}）")
        finally:
            await engine.dispose()

    run_on_database(go(), url)
    return 0


def _sums_progress(done: int, total: int) -> None:
    print(f"\r统计汇总（figure sums）：{done:,}/{total:,} 件", end="", file=sys.stderr, flush=True)


def cmd_outbox(args: argparse.Namespace) -> int:
    """Show outgoing messages that are pending or failed (--all: sent and dropped too)."""
    from storage import outbox
    from storage.engine import create_engine, session_factory

    cfg = load_or_exit(args.config)
    url = args.db or cfg.storage.url
    statuses = [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]
    if args.all:
        statuses += [OutboxStatus.SENT, OutboxStatus.DROPPED]

    async def go() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                rows = await outbox.by_status(session, statuses, limit=args.limit)
            if not rows:
                print("发件箱：没有消息" if args.all else "发件箱：没有待发或发送失败的消息")
                return
            print(f"时间按 {cfg.bot.timezone} 时区")
            for r in rows:
                print(outbox_line(r, cfg.bot.tz))
        finally:
            await engine.dispose()

    run_on_database(go(), url)
    return 0


def _local(when: datetime | None, tz: tzinfo) -> str:
    if when is None:
        return "-"
    if when.tzinfo is None:  # SQLite hands stored UTC back without its zone
        when = when.replace(tzinfo=UTC)
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")


# The outbox statuses as `jinlin outbox` shows them to the people who run the bot.
_STATUS_WORDS = {
    OutboxStatus.PENDING: "待发",
    OutboxStatus.SENDING: "发送中",
    OutboxStatus.SENT: "已发",
    OutboxStatus.FAILED: "失败",
    OutboxStatus.DROPPED: "未发",
}


def outbox_line(r: Any, tz: tzinfo) -> str:
    """One row of `jinlin outbox`: what is meaningful for its status, times in `tz`."""
    to = f"群 {r.to_room}" if r.to_room else f"私聊 {r.to_person}"
    text = " ".join(r.text.split())[:60]
    if r.status == OutboxStatus.SENT:
        when = f"{_local(r.sent_at, tz)} 发出"
        if r.attempts > 1:
            when += f"（试了 {r.attempts} 次）"
    elif r.status == OutboxStatus.DROPPED:
        when = f"{_local(r.created_at, tz)} 排队，遇免打扰时段未发"
    else:
        when = f"{_local(r.not_before, tz)} 起发"
        if r.attempts:
            when += f"（已试 {r.attempts} 次）"
    err = f"  错误：{r.last_error}" if r.last_error else ""
    status = _STATUS_WORDS.get(r.status, str(r.status))
    return f"{r.id:>6} {status} {when}  {to}：{text}{err}"


# argparse's usage errors, said in Chinese (its help text stays English).
_USAGE_PROBLEMS = (
    (r"the following arguments are required: (.*)", r"缺少参数：\1"),
    (r"unrecognized arguments: (.*)", r"不认识这些参数：\1"),
    (
        r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)",
        r"参数 \1 没有 \2 这一项（可选：\3）",
    ),
    (r"argument (\S+): invalid int value: (.*)", r"参数 \1 应当是整数，现在是 \2"),
    (r"argument (\S+): invalid float value: (.*)", r"参数 \1 应当是数字，现在是 \2"),
    (r"argument (\S+): expected one argument", r"参数 \1 后面要写一个值"),
    (r"argument (\S+): not allowed with argument (\S+)", r"参数 \1 不能和 \2 一起用"),
    (r"argument (\S+): (.*)", r"参数 \1：\2"),
)


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse, with usage errors in Chinese, exit code 2, and where to read the usage."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and one Chinese sentence, exit 2."""
        for pattern, said in _USAGE_PROBLEMS:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, said, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：{message}（{self.prog} --help 查看用法）\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = ChineseArgumentParser(
        prog="jinlin",
        description="近邻 bot. Commands that use a config need --config FILE "
        "(or the environment variable JINLIN_CONFIG).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    verbose = "log debug lines too"
    db_help = "database URL (default: storage.url of the config)"

    p = sub.add_parser("run", help="run the bot (transport from the config)")
    add_config_option(p)
    p.add_argument("-v", "--verbose", action="store_true", help=verbose)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("console", help="chat with the bot in this terminal")
    add_config_option(p)
    p.add_argument("--db", help=db_help)
    p.add_argument("-v", "--verbose", action="store_true", help=verbose)
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("replay", help="run the bot on a virtual clock over JSONL events")
    add_config_option(p)
    p.add_argument("--db", help="database URL to keep state between runs (default: in memory)")
    p.add_argument(
        "events",
        help='events file, one JSON object a line: {"at": ISO time, "room": topic (absent: '
        'private), "sender": id, "name": display name, "text": ..., "id": message id}; '
        "- reads stdin",
    )
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-config", help="validate a config file and summarise it")
    p.add_argument("config", help="the config file (YAML)")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("db", help="database schema")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    add_config_option(up, help="the config whose storage.url to upgrade (or give --db)")
    up.add_argument("--db", help="database URL (instead of the config's storage.url)")
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("outbox", help="show pending and failed outgoing messages")
    add_config_option(p)
    p.add_argument("--db", help=db_help)
    p.add_argument("--all", action="store_true", help="include sent and dropped messages")
    p.add_argument("--limit", type=int, default=200, help="show at most this many (200)")
    p.set_defaults(func=cmd_outbox)

    from bot import demo_data, export_tools, parse_tools

    parse_tools.register(sub)
    export_tools.register(sub)
    demo_data.register(sub)
    from bot.web import cli_tools as web_tools

    web_tools.register(sub)
    from bot import wechat_cli

    wechat_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `jinlin` console script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

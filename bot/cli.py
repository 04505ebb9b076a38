"""The `jinlin` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from bot.cli_support import load_or_exit, setup_logging
from bot.core.config import Config, summarise
from bot.core.domain import OutboxStatus

log = logging.getLogger("jinlin")


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file and print a summary or every problem."""
    cfg = load_or_exit(args.config)
    print(f"{args.config}: OK")
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
            events = read_events(sys.stdin, "<stdin>", cfg)
        else:
            with open(source, encoding="utf-8") as f:
                events = read_events(f, source, cfg)
    except OSError as e:
        print(f"{source}: cannot read: {e.strerror}", file=sys.stderr)
        return 2
    except ReplayInputError as e:
        print(str(e), file=sys.stderr)
        return 2
    asyncio.run(replay(cfg, events, sys.stdout, db_url=args.db))
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal as any person in any room."""
    cfg = load_or_exit(args.config)
    if args.db:
        cfg = cfg.model_copy(update={"storage": cfg.storage.model_copy(update={"url": args.db})})
    setup_logging(args.verbose)
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(_run_console(cfg))
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
    cfg = load_or_exit(args.config)
    setup_logging(args.verbose)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(cfg))
    return 0


async def _run(cfg: Config) -> None:
    from bot.runner import run_bot

    await run_bot(cfg)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the Alembic migrations to the configured (or given) database."""
    from storage import schema
    from storage.engine import create_engine

    url = args.db or load_or_exit(args.config).storage.url

    async def go() -> None:
        engine = create_engine(url)
        try:
            await schema.upgrade(engine)
            print(f"schema at {await schema.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(go())
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    """Show outgoing messages that are pending or failed."""
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
                print("outbox: nothing pending or failed")
            for r in rows:
                to = f"room {r.to_room}" if r.to_room else f"person {r.to_person}"
                text = " ".join(r.text.split())[:60]
                err = f"  error: {r.last_error}" if r.last_error else ""
                print(
                    f"{r.id:>6} {r.status:<8} tries={r.attempts} due={r.not_before:%Y-%m-%d %H:%M}"
                    f"  {to}: {text}{err}"
                )
        finally:
            await engine.dispose()

    asyncio.run(go())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="jinlin", description="近邻 bot")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the bot (transport from the config)")
    p.add_argument("--config", default="config.example.yaml")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("console", help="chat with the bot in this terminal")
    p.add_argument("--config", default="config.example.yaml")
    p.add_argument("--db", help="database URL (default: storage.url of the config)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("replay", help="run the bot on a virtual clock over JSONL events")
    p.add_argument("--config", required=True)
    p.add_argument("--db", help="database URL to keep state between runs (default: in memory)")
    p.add_argument("events", help="events file (JSONL), or - for stdin")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-config", help="validate a config file and summarise it")
    p.add_argument("config")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("db", help="database schema")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    up.add_argument("--config", default="config.example.yaml")
    up.add_argument("--db", help="database URL (default: storage.url of the config)")
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("outbox", help="show pending and failed outgoing messages")
    p.add_argument("--config", default="config.example.yaml")
    p.add_argument("--db")
    p.add_argument("--all", action="store_true", help="include sent and dropped messages")
    p.add_argument("--limit", type=int, default=200)
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

"""What every `jinlin` subcommand shares: finding and loading the config, or exiting with why."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from bot.core.config import Config, ConfigError, load_config

T = TypeVar("T")
CONFIG_ENV = "JINLIN_CONFIG"
CONFIG_HELP = f"the config file (YAML), e.g. config.example.yaml; default: ${CONFIG_ENV}"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a sentence for the person at the terminal and exit (2: their input or setup)."""
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(code)


def add_config_option(p: argparse.ArgumentParser, help: str = CONFIG_HELP) -> None:
    """`--config FILE`, required unless JINLIN_CONFIG names the file."""
    p.add_argument("--config", metavar="FILE", help=help)


def config_path(given: str | None) -> str:
    """The config file to use: --config, else $JINLIN_CONFIG; never a silent default."""
    path = given or os.environ.get(CONFIG_ENV)
    if not path:
        # A forgotten flag must not run the example compound against the real database.
        fail(
            "没有指定配置文件：请加上 --config 文件名（例如 --config config.example.yaml），"
            f"或设置环境变量 {CONFIG_ENV}。"
        )
    return path


def load_or_exit(path: str | None) -> Config:
    """The validated config, or every problem on stderr and exit code 2."""
    try:
        return load_config(config_path(path))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        fail("配置有误，改正以上各项后机器人才会启动（jinlin check-config 文件名 可再检查）。")


def run_on_database(main: Coroutine[Any, Any, T], url: str) -> T:
    """asyncio.run(main); a database that cannot be reached or is behind the code ends in one
    sentence (which database, what failed, what to check) and exit code 2, not a traceback."""
    from bot.app import SchemaOutdated
    from storage.engine import connection_problem, display_url, sqlite_problem

    problem = sqlite_problem(url)
    if problem is not None:
        main.close()
        fail(problem)
    try:
        return asyncio.run(main)
    except SchemaOutdated as e:
        fail(f"{display_url(url)}：{e}")
    except Exception as e:
        problem = connection_problem(e, url)
        if problem is None:
            raise
        logging.getLogger("jinlin").debug("database error", exc_info=True)
        # aiosqlite's thread may still report the failed connection to the closed loop
        threading.excepthook = _quiet_closed_loop
        fail(problem)


def _quiet_closed_loop(args: threading.ExceptHookArgs) -> None:
    if isinstance(args.exc_value, RuntimeError) and "loop is closed" in str(args.exc_value):
        return
    threading.__excepthook__(args)


def setup_logging(verbose: bool = False) -> None:
    """Log lines to stderr; the libraries' chatter only from warnings up."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def json_kind(value: object) -> str:
    """What a JSON value is, in the words of an input error ("an array", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else "a value"


def utf8_line(raw: str | bytes, source: str = "input") -> str:
    """A line read as bytes, decoded; ValueError names the bad byte and what to do."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 (byte {e.start}); save the {source} as UTF-8") from None

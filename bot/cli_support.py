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
    """What a JSON value is, in the words of an input error ("数组", "null")."""
    if value is None:
        return "空值 null"
    if isinstance(value, bool):
        return "布尔值 true/false"
    if isinstance(value, int | float):
        return "数字"
    if isinstance(value, list):
        return "数组 [...]"
    if isinstance(value, dict):
        return "对象 {...}"
    return "字符串" if isinstance(value, str) else "别的值"


def utf8_line(raw: str | bytes, source: str = "输入") -> str:
    """A line read as bytes, decoded; ValueError names the bad byte (from 1) and what to do."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"不是 UTF-8 编码（这一行的第 {e.start + 1} 个字节）；请把{source}另存为 UTF-8"
        ) from None


# json's messages, said in Chinese; the others keep json's words.
_JSON_PROBLEMS = {
    "Expecting value": "这里应当有一个值",
    "Expecting property name enclosed in double quotes": "键名要用双引号括起来",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Unterminated string starting at": "引号没有配对",
    "Extra data": "一个 JSON 值后面还有多余的内容",
    "Invalid control character at": "字符串里有控制字符",
    "Invalid \\escape": "反斜杠转义不对",
}


def json_problem(e: ValueError | RecursionError) -> str:
    """Why a line is not JSON, in Chinese, with where on the line."""
    import json

    if isinstance(e, json.JSONDecodeError):
        said = _JSON_PROBLEMS.get(e.msg, e.msg)
        return f"不是有效的 JSON（第 {e.colno} 个字符处：{said}）"
    if isinstance(e, RecursionError):
        return "不是有效的 JSON（嵌套太深）"
    return f"不是有效的 JSON（{e}）"

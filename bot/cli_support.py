"""What every `jinlin` subcommand shares: loading the config or exiting with its problems."""

from __future__ import annotations

import logging
import sys

from bot.core.config import Config, ConfigError, load_config


def load_or_exit(path: str) -> Config:
    """The validated config, or every problem on stderr and exit code 2."""
    try:
        return load_config(path)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        print("The bot does not start until these are fixed.", file=sys.stderr)
        raise SystemExit(2) from None


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

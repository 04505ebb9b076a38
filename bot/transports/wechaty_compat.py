"""The one place that makes python-wechaty 0.10.7 import and run quietly on Python 3.11."""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

# Loggers created by python-wechaty's get_logger() whose messages can carry a token:
# PuppetService.__init__ logs "there are endpoint<...> and token<...>" at WARNING.
_TOKEN_LOGGERS = ("PuppetService",)
_TOKEN_PATTERN = re.compile(r"(token(?:\[adopted\])?|environment)<[^>]*>")


class RedactTokens(logging.Filter):
    """Masks anything python-wechaty logs inside `token<...>` or `environment<...>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "<" in message and _TOKEN_PATTERN.search(message):
            record.msg = _TOKEN_PATTERN.sub(r"\1<***>", message)
            record.args = None
        return True


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the import only, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def load_wechaty(cache_dir: Path) -> ModuleType:
    """Import and return the `wechaty` module, patched to work on Python 3.11 (idempotent)."""
    if "wechaty" in sys.modules:
        return sys.modules["wechaty"]
    cache_dir.mkdir(parents=True, exist_ok=True)

    # Python 3.11's dataclass check rejects a mutable default, and WechatyOptions declares
    # `puppet_options: PuppetOptions = PuppetOptions()` (a dataclass, so unhashable). Giving
    # PuppetOptions the identity hash lets `import wechaty` succeed; tests/e2e/test_compat.py
    # fails when upstream no longer needs this.
    from wechaty_puppet.schemas import puppet as puppet_schemas

    puppet_schemas.PuppetOptions.__hash__ = object.__hash__

    # CACHE_DIR: the scheduler job store path is fixed at import time (default ./.wechaty).
    # WECHATY_LOG: each wechaty logger takes its level once, at import; the default (info)
    # logs every message text, which jinlin must not keep. An operator's own WECHATY_LOG wins.
    env = {"CACHE_DIR": str(cache_dir), "WECHATY_LOG": os.environ.get("WECHATY_LOG", "warn")}
    with _environment(**env), warnings.catch_warnings():
        # wechaty.plugin and wechaty_puppet_service.utils import telnetlib (deprecated in 3.11)
        warnings.filterwarnings(
            "ignore", message="'telnetlib' is deprecated", category=DeprecationWarning
        )
        module = importlib.import_module("wechaty")
        importlib.import_module("wechaty_puppet_service")
    for name in _TOKEN_LOGGERS:
        logging.getLogger(name).addFilter(RedactTokens())
    return module

"""The Python 3.11 workaround for python-wechaty 0.10.7 (bot/transports/wechaty_compat.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from bot.transports.wechaty_compat import RedactTokens


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter (the patch and the import are once per process)."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_upstream_still_needs_the_workaround(tmp_path: Path) -> None:
    # When this starts passing the import, upstream fixed it: drop the __hash__ patch.
    result = run_python(
        "import warnings; warnings.simplefilter('ignore', DeprecationWarning); import wechaty",
        tmp_path,
    )

    assert result.returncode != 0
    assert "mutable default" in result.stderr and "PuppetOptions" in result.stderr


def test_load_wechaty_imports_quietly_and_leaves_no_trace(tmp_path: Path) -> None:
    workdir, cache = tmp_path / "cwd", tmp_path / "data" / "wechaty"
    workdir.mkdir()
    code = f"""
import os
from pathlib import Path
before = dict(os.environ)
from bot.transports.wechaty_compat import load_wechaty
wechaty = load_wechaty(Path({str(cache)!r}))
assert load_wechaty(Path("elsewhere")) is wechaty
assert dict(os.environ) == before, "environment changed"
options = wechaty.WechatyOptions(port=0)
assert options.puppet_options is not None
import logging
assert logging.getLogger("Wechaty").level == logging.WARNING
print("ok")
"""
    result = run_python(code, workdir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert list(workdir.iterdir()) == []  # no ./.wechaty
    assert cache.is_dir()


def test_redact_tokens_masks_what_puppet_service_logs() -> None:
    record = logging.LogRecord(
        "PuppetService",
        logging.WARNING,
        __file__,
        1,
        "there are endpoint<%s> and token<%s>, and the endpoint will be used",
        ("127.0.0.1:8788", "puppet_secret"),
        None,
    )

    RedactTokens().filter(record)

    assert record.getMessage() == (
        "there are endpoint<127.0.0.1:8788> and token<***>, and the endpoint will be used"
    )

"""`jinlin run`: pick the configured transport, start the bot, serve until interrupted.

SIGTERM (systemd, docker stop) stops it cleanly: nothing more is received, the message in hand
is finished, the send in hand is settled, the database is closed, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from importlib.util import find_spec

from bot.app import build_app
from bot.core.clock import SystemClock
from bot.core.config import (
    Config,
    ConsoleTransportSection,
    WebTransportSection,
    WechatyTransportSection,
)
from bot.core.messages import Transport

log = logging.getLogger(__name__)

STOPPED = "jinlin stopped on SIGTERM: the message in hand was finished, the database closed"
WECHAT_MODULES = ("wechaty", "wechaty_puppet", "wechaty_puppet_service")
INSTALL_WECHAT = (
    "请在机器人的文件夹里运行 pip install -e '.[wechat]'（用装机器人的那个 pip，如 .venv/bin/pip）"
)


def _importable(module: str) -> bool:
    # find_spec, not import: python-wechaty needs the compat patches of its transport first
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def start_problems(config: Config) -> list[str]:
    """What stops `jinlin run` before it connects, beyond the file itself (check-config runs
    these too): a grid to serve, the WeChat extra installed, the gateway token set."""
    problems: list[str] = []
    if not config.grid:
        # (tools such as `jinlin init --from-wechat` read a config without a grid; the bot not)
        problems.append(
            "grid：没有列出任何社区，机器人没有要服务的群和人（照 config.example.yaml 填写 grid）"
        )
    section = config.transport
    if isinstance(section, WechatyTransportSection):
        missing = [m for m in WECHAT_MODULES if not _importable(m)]
        if missing:
            problems.append(
                f"transport.kind：是 wechaty，但没有安装微信组件（缺少 {', '.join(missing)}）："
                + INSTALL_WECHAT
            )
        if not (section.token or os.environ.get(section.token_env)):
            problems.append(
                f"transport.token：没有设置网关的 token，请设置环境变量 {section.token_env}"
                "（网关的 WECHATY_TOKEN），或在配置里写 transport.token"
            )
    return problems


async def run_bot(config: Config) -> None:
    """Run the bot on the transport named by `transport.kind` until SIGTERM."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    assert me is not None
    terminated = asyncio.Event()

    def on_term() -> None:
        if not terminated.is_set():
            log.info("SIGTERM: stopping (no new messages; finishing the one in hand)")
            terminated.set()
            me.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_term)
    try:
        await _serve(config)
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise
        me.uncancel()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    if terminated.is_set():
        log.info(STOPPED)


async def _serve(config: Config) -> None:
    clock = SystemClock()
    section = config.transport
    if isinstance(section, WebTransportSection):
        from bot.web.sandbox import serve_sandbox

        await serve_sandbox(config, clock)
        return
    if isinstance(section, ConsoleTransportSection):
        from bot.transports.console import ConsoleTransport

        transport: Transport = ConsoleTransport(config, clock)
        app = build_app(config, transport, clock)
        await app.start()
        try:
            await app.serve()
        finally:
            await app.stop()
        return
    assert isinstance(section, WechatyTransportSection)
    try:
        from bot.transports.wechaty_runner import run_wechaty
    except ImportError as e:
        # installed, but a part is missing or of the wrong version
        raise SystemExit(f"微信组件无法载入（{e}）：" + INSTALL_WECHAT) from None

    await run_wechaty(config, section, clock)

"""`jinlin run`: pick the configured transport, start the bot, serve until interrupted."""

from __future__ import annotations

import logging
import os
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
            "grid: 没有列出任何社区，机器人没有要服务的群和人（照 config.example.yaml 填写 grid）"
        )
    section = config.transport
    if isinstance(section, WechatyTransportSection):
        missing = [m for m in WECHAT_MODULES if not _importable(m)]
        if missing:
            problems.append(
                f"transport.kind: 是 wechaty，但没有安装微信组件（缺少 {', '.join(missing)}）："
                + INSTALL_WECHAT
            )
        if not (section.token or os.environ.get(section.token_env)):
            problems.append(
                f"transport.token: 没有设置网关的 token：请设置环境变量 {section.token_env}"
                "（网关的 WECHATY_TOKEN），或在配置里写 transport.token"
            )
    return problems


async def run_bot(config: Config) -> None:
    """Run the bot on the transport named by `transport.kind`."""
    await _serve(config)


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

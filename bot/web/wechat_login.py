"""The WeChat account on the console: login QR code, 风控 pause, last gap, room bindings.

/console/wechat (console users) refreshes itself every few seconds, so a secretary can scan the
QR code there; /healthz gets the same state as JSON.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from bot.app import App
from bot.core.domain import LoginStatus
from bot.web.health import TRANSPORT_DETAILS
from bot.web.login import require_user
from bot.web.state import state_of
from storage import account_state, room_bindings

REFRESH_SECONDS = 5


class LoginState(Protocol):
    """What the WeChat transport says about the login (bot/transports/wechaty.py)."""

    @property
    def connected(self) -> bool:
        """Connected and logged in."""
        ...

    logged_out_since: datetime | None
    qr_url: str | None
    qr_code: str | None


class WechatAccount(Protocol):
    """A bot on WeChat (bot/transports/wechaty_runner.WechatService)."""

    app: App

    @property
    def transport(self) -> LoginState:
        """Its transport."""
        ...


WECHAT_SERVICE: web.AppKey[WechatAccount] = web.AppKey("wechat_service")


def add_wechat_routes(app: web.Application, service: WechatAccount) -> None:
    """Mount /console/wechat and the WeChat part of /healthz."""
    app[WECHAT_SERVICE] = service

    async def details() -> dict[str, Any]:
        return await wechat_status(service)

    app[TRANSPORT_DETAILS] = details
    app.router.add_get("/console/wechat", wechat_page)


async def wechat_status(service: WechatAccount) -> dict[str, Any]:
    """The account's state for /healthz: login, QR link, pause, last gap."""
    app = service.app
    now = app.clock.now()
    async with app.sessions() as session:
        state = await account_state.get(session, app.config.bot.account)
    paused = state is not None and state.paused_until is not None and state.paused_until > now
    transport = service.transport
    return {
        "wechat": {
            "account": app.config.bot.account,
            "login": LoginStatus.LOGGED_IN
            if transport.connected
            else (
                LoginStatus.LOGGED_OUT
                if transport.logged_out_since or transport.qr_url
                else LoginStatus.UNKNOWN
            ),
            "qr_url": transport.qr_url,
            "restricted_until": _iso(state.paused_until) if paused and state else None,
            "restriction": state.pause_reason if paused and state else None,
            "last_gap": [_iso(state.gap_from), _iso(state.gap_to)]
            if state is not None and state.gap_from is not None
            else None,
        }
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


async def wechat_page(request: web.Request) -> web.Response:
    """The console page of the WeChat account (logged-in users only)."""
    await require_user(request)
    service = request.app[WECHAT_SERVICE]
    state = state_of(request)
    status = (await wechat_status(service))["wechat"]
    async with state.bot.sessions() as session:
        bindings = await room_bindings.all_bindings(session, state.config.bot.account)
    tz = state.config.bot.tz
    parts = [f"<h1>微信账号 {html.escape(status['account'])}</h1>"]
    if status["login"] == LoginStatus.LOGGED_IN:
        parts.append("<p>状态：<strong>已登录</strong></p>")
    else:
        parts.append("<p>状态：<strong>未登录</strong>。请用机器人的微信扫描下面的二维码。</p>")
        if status["qr_url"] and service.transport.qr_code:
            parts.append(_qr_block(status["qr_url"], service.transport.qr_code))
        else:
            parts.append("<p>正在等待二维码……</p>")
    if status["restricted_until"]:
        until = datetime.fromisoformat(status["restricted_until"]).astimezone(tz)
        parts.append(
            "<p><strong>风控暂停中</strong>：微信提示操作过于频繁，"
            f"发送暂停到 {until:%m-%d %H:%M}。"
            f"（{html.escape(status['restriction'] or '')}）</p>"
        )
    if status["last_gap"]:
        start, end = (datetime.fromisoformat(t).astimezone(tz) for t in status["last_gap"])
        parts.append(
            f"<p>上次离线：{start:%m-%d %H:%M} 至 {end:%m-%d %H:%M}，"
            "这段时间的群消息可能需要人工查看。</p>"
        )
    rows = "".join(
        f"<tr><td>{html.escape(b.room)}</td><td>{html.escape(b.topic)}</td>"
        f"<td>{html.escape(b.wechat_id)}</td><td>{html.escape(b.bound_by)}</td></tr>"
        for b in bindings
    )
    parts.append(
        "<h2>群绑定</h2><table><tr><th>配置的群</th><th>现在的群名</th><th>微信群 id</th>"
        f"<th>绑定方式</th></tr>{rows}</table>"
    )
    body = (
        "<!doctype html><html lang=zh><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<link rel="stylesheet" href="/static/style.css"><title>微信登录</title></head>'
        f"<body><main>{''.join(parts)}</main></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


def _qr_block(url: str, code: str) -> str:
    """The QR code as an inline image (the page loads nothing from elsewhere), and the link."""
    import segno

    data_uri = segno.make(code, error="m").svg_data_uri(scale=6)
    return (
        f'<p><img alt="登录二维码" src="{data_uri}"></p>'
        f'<p>或打开链接：<a href="{html.escape(url)}">{html.escape(url)}</a></p>'
    )

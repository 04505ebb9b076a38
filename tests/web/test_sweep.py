"""Every route with hostile parameters, logged in and not: no 5xx, refusals in Chinese."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.web.sandbox import SANDBOX, SandboxServer
from tests.web.conftest import PASSWORD, form_csrf

HOSTILE = [
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "１２",  # full-width digits: int() would take them
    "1_000",  # so would it this
    "0001-01",
    "9999-12",
    "2026-13",
    "2026-00",
    "<script>alert(1)</script>",
    "'; DROP TABLE cases;--",
    "../../etc/passwd",
    "\u202e\u0000",
    "x" * 3000,
    "   ",
    "#1",
    "W1",
]
QUERY_KEYS = [
    "month",
    "page",
    "per_page",
    "sort",
    "q",
    "status",
    "building",
    "category",
    "urgent",
    "overdue",
    "compound",
    "source",
    "next",
    "code",
    "kind",
    "new",
    "id",
]
# Named in the issue: these raised OverflowError / ValueError before.
KNOWN = [
    "/console/figures?month=0001-01",
    "/api/figures?month=9999-12",
    "/console/cases/report/99999999999999999999",
    "/api/cases/report/99999999999999999999",
    "/console/figures/trend.svg?month=0001-01&compound=武夷香榭",
]


def _routes(app: web.Application) -> list[tuple[str, str]]:
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        pattern = info.get("formatter") or info.get("path") or (info.get("prefix", "") + "/{x}")
        if route.method in ("GET", "POST"):
            out.append((route.method, str(pattern)))
    return sorted(set(out))


def _fill(pattern: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _m: quote(value, safe=""), pattern)


async def _login(http: aiohttp.ClientSession, base: str) -> None:
    page = await (await http.get(base + "login")).text()
    resp = await http.post(
        base + "login",
        data={
            "csrf": form_csrf(page),
            "next": "/console",
            "username": "chen",
            "password": PASSWORD,
        },
        allow_redirects=False,
    )
    assert resp.status == 302


async def test_no_route_answers_5xx_to_hostile_parameters(sandbox: SandboxServer) -> None:
    base = sandbox.url
    await sandbox.sandbox.transport.say(
        "武夷香榭3栋业主群", "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了"
    )
    app = sandbox.runner.app
    assert SANDBOX in app
    routes = _routes(app)
    assert len(routes) >= 20, routes
    failures: list[str] = []
    english: list[str] = []
    seen = 0
    for logged_in in (False, True):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            if logged_in:
                await _login(http, base)
                page = await (await http.get(base + "console")).text()
                csrf = form_csrf(page)
            else:
                csrf = "x"
            urls: list[tuple[str, str, dict[str, Any]]] = [
                ("GET", base + k.lstrip("/"), {}) for k in KNOWN
            ]
            for value in HOSTILE:
                query = {k: value for k in QUERY_KEYS}
                for method, pattern in routes:
                    url = base + _fill(pattern, value).lstrip("/")
                    if method == "GET":
                        urls.append(("GET", url, {"params": query}))
                    else:
                        form = {
                            **query,
                            "csrf": csrf,
                            "what": value,
                            "target": value,
                            "token": value,
                        }
                        urls.append(
                            ("POST", url, {"data": form, "headers": {"Origin": base[:-1]}})
                        )
            for method, url, kwargs in urls:
                resp = await http.request(method, url, allow_redirects=False, **kwargs)
                body = await resp.text(errors="replace")
                seen += 1
                if resp.status >= 500:
                    failures.append(f"{resp.status} {method} {url[:120]}")
                elif (
                    resp.status >= 400
                    and resp.content_type == "text/html"
                    and not re.search(r"[\u4e00-\u9fff]", body)
                ):
                    english.append(f"{resp.status} {method} {url[:120]}")
    assert not failures, "\n".join(failures[:40])
    assert not english, "\n".join(english[:40])
    assert seen > 500, seen
    print("sweep", len(routes), seen)

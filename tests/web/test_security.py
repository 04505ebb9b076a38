"""Issue 12's security items tried as an attacker would (each test failed on the old code)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
import yaml
from sqlalchemy import select

from bot.core.config import Config, parse_config
from bot.web.auth import SESSION_COOKIE, hash_password
from bot.web.login import safe_next
from bot.web.sandbox import SandboxServer
from storage.models import Case, CaseEvent
from storage.web_models import WebContact, WebHeldReport
from tests.web.conftest import (
    PASSWORD,
    WebEnv,
    form_csrf,
    login_form,
    make_env,
    origin_of,
    post_report,
    web_config_data,
)

FORM3 = "/r/" + quote("武夷香榭") + "/3"
FORM5 = "/r/" + quote("武夷香榭") + "/5"
ROOM3 = "武夷香榭3栋业主群"
LOGIN_TOKEN = [sys.executable, "-m", "bot.cli", "web", "login-token"]


def config_with(**web: Any) -> Config:
    """The web tests' config with some web keys changed."""
    return parse_config(web_config_data(**web), "web-test")


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[WebEnv]:
    """The web side behind a reverse proxy on 127.0.0.1, with small 民情码 budgets."""
    cfg = config_with(
        trusted_proxies=["127.0.0.1"],
        report_rate=3,
        building_budget=3,
        compound_budget=5,
        max_failures=3,
        user_backoff_after=4,
    )
    e = await make_env(cfg, f"sqlite+aiosqlite:///{tmp_path / 'proxied.db'}")
    try:
        yield e
    finally:
        await e.client.close()
        await e.bot.stop()


def via(address: str, *, https: bool = False) -> dict[str, str]:
    """Headers a reverse proxy adds for a client at `address`."""
    headers = {"X-Forwarded-For": address}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    return headers


async def report_from(env: WebEnv, path: str, address: str, **fields: str) -> Any:
    """A 民情码 report from a browser at `address` (behind the proxy), with its own cookies."""
    page = await env.client.get(path, headers=via(address))
    token = re.search(r'name="token" value="([^"]+)"', await page.text())
    assert token
    data = {"kind": "report", "what": "", "where": "", "phone": "", "token": token[1], **fields}
    headers = {**via(address), "Origin": origin_of(env.client)}
    return await env.client.post(path, data=data, headers=headers)


# --- 1. 民情码 flood ---------------------------------------------------------------------------


async def test_a_flood_over_budget_is_held_for_the_secretary(proxied: WebEnv) -> None:
    # 20 urgent reports from 10 addresses (2 each, under the per-address limit of 3).
    for i in range(20):
        resp = await report_from(
            proxied, FORM3, f"10.0.0.{i % 10 + 1}", what=f"燃气泄漏了{i}号", urgent="1"
        )
        assert resp.status == 200, await resp.text()
    await proxied.bot.sender.drain()
    async with proxied.bot.sessions() as session:
        cases = (await session.execute(select(Case))).scalars().all()
        held = (await session.execute(select(WebHeldReport))).scalars().all()
    assert len(cases) <= 3  # the building's budget (similar ones were seconded: fewer)
    assert len(held) == 20 - 3
    head = [m for m in proxied.transport.sent if m.to_person == "wxid_wang"]
    assert len(head) <= 3
    notices = [m for m in proxied.transport.sent if "暂存待审核" in m.text]
    assert len(notices) == 1 and notices[0].to_person == "wxid_li"
    # The resident of a held report still gets a status code, and an honest status.
    page = await report_from(proxied, FORM5, "10.0.1.1", what="5栋楼道灯坏了")
    assert "已收到，待社区核实" in await page.text()  # the compound's budget (5) is spent too


async def test_the_secretary_files_or_marks_held_reports_many_at_once(proxied: WebEnv) -> None:
    problems = ["电梯坏了", "楼道灯不亮", "水管漏水", "垃圾没人清", "门禁坏了", "有人乱停车"]
    for i, what in enumerate(problems):
        await report_from(proxied, FORM3, f"10.0.0.{i + 1}", what=what)
    await proxied.login("li")
    page = await (await proxied.client.get("/console/review")).text()
    ids = re.findall(r'name="id" value="(\d+)"', page)
    assert len(ids) == 3
    csrf = form_csrf(page)
    resp = await proxied.client.post(
        "/console/review", data=[("csrf", csrf), ("action", "spam"), ("id", ids[0])]
    )
    assert "已将 1 件标为无效" in await resp.text()
    resp = await proxied.client.post(
        "/console/review",
        data=[("csrf", csrf), ("action", "file"), ("id", ids[1]), ("id", ids[2])],
    )
    assert "已转为报事：#4、#5" in await resp.text()
    # A second click on the same reports does nothing more.
    again = await proxied.client.post(
        "/console/review", data=[("csrf", csrf), ("action", "file"), ("id", ids[1])]
    )
    assert "已转为报事：无" in await again.text()
    async with proxied.bot.sessions() as session:
        assert len((await session.execute(select(Case))).scalars().all()) == 5
        filed = (
            await session.execute(select(WebHeldReport).where(WebHeldReport.case_id.is_not(None)))
        ).scalars()
        code = next(iter(filed)).code
    # The resident's code from the held page now shows the case.
    page = await (await proxied.client.get(f"/s/{code}")).text()
    assert 'id="status"' in page and ("#4" in page or "#5" in page)


async def test_a_form_posted_from_another_site_is_refused(lite_env: WebEnv) -> None:
    # An auto-submitting page elsewhere: its Origin is not ours (or absent, or "null").
    for origin in ("https://evil.example", "null", None):
        resp = await post_report(
            lite_env.client, FORM3, origin=origin, what="燃气泄漏", urgent="1"
        )
        assert resp.status == 403, origin
        assert "请在本小区的民情码页面上填写提交" in await resp.text()
    # A token fetched by the attacker's server is bound to that server's cookie, not the victim's.
    page = await lite_env.client.get(FORM3)
    token = re.search(r'name="token" value="([^"]+)"', await page.text())
    assert token
    lite_env.client.session.cookie_jar.clear()
    resp = await lite_env.client.post(
        FORM3,
        data={"kind": "report", "what": "燃气泄漏", "token": token[1]},
        headers={"Origin": origin_of(lite_env.client)},
    )
    assert resp.status == 403 and "页面已过期" in await resp.text()
    no_token = await lite_env.client.post(
        FORM3, data={"what": "燃气泄漏"}, headers={"Origin": origin_of(lite_env.client)}
    )
    assert no_token.status == 403
    async with lite_env.bot.sessions() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_rate_limits_hold_across_processes(web_config: Config, tmp_path: Path) -> None:
    # Two web servers on one database (as two processes would be): the limit is shared.
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first = await make_env(web_config, url)
    second = await make_env(web_config, url)
    try:
        for env in (first, second, first):
            assert (await post_report(env.client, FORM3, what="灯坏了")).status == 200
        over = await post_report(second.client, FORM3, what="灯又坏了")
        assert over.status == 429
    finally:
        for env in (first, second):
            await env.client.close()
            await env.bot.stop()


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    lite_env: WebEnv, proxied: WebEnv
) -> None:
    # No proxy configured: a made-up X-Forwarded-For changes nothing.
    for i in range(3):
        resp = await post_report(lite_env.client, FORM3, what=f"灯坏了{i}")
        assert resp.status == 200
    lite_env.client.session.headers["X-Forwarded-For"] = "203.0.113.9"
    assert (await post_report(lite_env.client, FORM3, what="灯又坏了")).status == 429
    # Behind the proxy: the address the proxy saw counts, not what the client prepended.
    for i in range(3):
        assert (
            await report_from(proxied, FORM5, f"198.51.100.{i}, 192.0.2.1", what=f"水管漏{i}")
        ).status == 200
    over = await report_from(proxied, FORM5, "198.51.100.7, 192.0.2.1", what="水管又漏")
    assert over.status == 429


# --- 3. login -------------------------------------------------------------------------------


async def test_parallel_wrong_passwords_check_no_more_than_the_limit(env: WebEnv) -> None:
    form = await login_form(env.client, username="li", password="wrong")
    results = await asyncio.gather(
        *(env.client.post("/login", data=form, allow_redirects=False) for _ in range(30))
    )
    statuses = sorted(r.status for r in results)
    assert statuses.count(401) == 3  # max_failures: the rest were refused unchecked
    assert statuses.count(429) == 27


async def test_password_checks_do_not_stall_other_requests(tmp_path: Path) -> None:
    # A costly hash (32 MiB, p=8: a few hundred ms): /healthz must answer while it is checked.
    from bot.web.auth import verify_password

    slow_hash = hash_password(PASSWORD, n=2**15, p=8)
    data = web_config_data()
    data["web"]["users"][0]["password_hash"] = slow_hash
    env = await make_env(
        parse_config(data, "web-test"), f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    try:
        started = time.perf_counter()
        verify_password("x", slow_hash)
        one_hash = time.perf_counter() - started
        await env.client.get("/healthz")  # warm up
        form = await login_form(env.client, username="li", password="wrong")
        login = asyncio.create_task(env.client.post("/login", data=form))
        await asyncio.sleep(one_hash / 5)  # the check is under way
        asked = time.perf_counter()
        health = await env.client.get("/healthz")
        answered = time.perf_counter() - asked
        assert health.status == 200
        assert not login.done()  # it was answered while the password was still being checked
        assert (await login).status == 401
        # On the event loop, /healthz waited for the rest of the hash (the old code).
        assert answered < one_hash / 3, (answered, one_hash)
    finally:
        await env.client.close()
        await env.bot.stop()


async def test_a_lock_on_one_address_does_not_lock_the_user_out_elsewhere(
    proxied: WebEnv,
) -> None:
    form = await login_form(proxied.client, username="li", password="wrong")
    for _ in range(3):
        bad = await proxied.client.post("/login", data=form, headers=via("10.9.9.9"))
        assert bad.status == 401
    locked = await proxied.client.post("/login", data=form, headers=via("10.9.9.9"))
    assert locked.status == 429 and "jinlin web login-token" in await locked.text()
    good = await login_form(proxied.client, username="li", password=PASSWORD)
    elsewhere = await proxied.client.post(
        "/login", data=good, headers=via("10.1.1.1"), allow_redirects=False
    )
    assert elsewhere.status == 302


async def test_many_addresses_slow_a_user_down_without_locking_them_out(
    proxied: WebEnv,
) -> None:
    form = await login_form(proxied.client, username="li", password="wrong")
    for i in range(4):  # user_backoff_after
        assert (
            await proxied.client.post("/login", data=form, headers=via(f"10.2.0.{i}"))
        ).status == 401
    good = await login_form(proxied.client, username="li", password=PASSWORD)
    first = await proxied.client.post(
        "/login", data=good, headers=via("10.3.0.1"), allow_redirects=False
    )
    assert first.status == 302  # one try per minute still goes through
    form = await login_form(proxied.client, username="li", password="wrong")
    second = await proxied.client.post("/login", data=form, headers=via("10.3.0.2"))
    assert second.status == 429 and "每 1 分钟只能试一次" in await second.text()
    proxied.clock.set(proxied.clock.now() + timedelta(minutes=1, seconds=1))
    good = await login_form(proxied.client, username="li", password=PASSWORD)
    third = await proxied.client.post(
        "/login", data=good, headers=via("10.3.0.3"), allow_redirects=False
    )
    assert third.status == 302


async def test_a_cli_login_token_lets_a_locked_out_admin_in(
    web_config: Config, tmp_path: Path
) -> None:
    db = tmp_path / "cli.db"
    config_file = tmp_path / "config.yaml"
    data = web_config_data()
    data["storage"] = {"url": f"sqlite+aiosqlite:///{db}"}
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = await make_env(parse_config(data, str(config_file)), data["storage"]["url"])
    try:
        form = await login_form(env.client, username="li", password="wrong")
        for _ in range(4):
            await env.client.post("/login", data=form)
        right = await login_form(env.client, username="li", password=PASSWORD)
        assert (await env.client.post("/login", data=right)).status == 429
        out = subprocess.run(
            [*LOGIN_TOKEN, "--config", str(config_file), "--user", "li"],
            capture_output=True,
            text=True,
            check=True,
        )
        token = out.stdout.strip()
        form = await login_form(env.client, token=token)
        resp = await env.client.post("/login", data=form, allow_redirects=False)
        assert resp.status == 302
        assert "李书记" in await (await env.client.get("/console")).text()
        again = await login_form(env.client, token=token)
        assert (await env.client.post("/login", data=again)).status == 401  # once only
        unknown = subprocess.run(
            [*LOGIN_TOKEN, "--config", str(config_file), "--user", "nobody"],
            capture_output=True,
            text=True,
        )
        assert unknown.returncode == 2 and "web.users" in unknown.stderr
        assert "Traceback" not in unknown.stderr
    finally:
        await env.client.close()
        await env.bot.stop()


# --- 4. open redirect -----------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example/x",
    "/\t/evil.example/x",
    "/\r/evil.example/x",
    "/\n/evil.example/x",
    "\t//evil.example/x",
    " //evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "\x00//evil.example",
    "/%09/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_safe_next_stays_on_this_origin(target: str) -> None:
    where = safe_next(target)
    # Read it as a browser would (after the tab/newline removal the URL standard does).
    resolved = urljoin("http://jinlin.test/login", re.sub(r"[\t\r\n]", "", where))
    assert urlsplit(resolved).netloc == "jinlin.test", (target, where)
    assert not where.startswith("//") and "\\" not in where


async def test_login_never_redirects_off_site(lite_env: WebEnv) -> None:
    for target in HOSTILE_NEXT:
        form = await login_form(lite_env.client, username="li", password=PASSWORD)
        form["next"] = target
        resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
        location = resp.headers["Location"]
        resolved = urljoin(str(lite_env.client.make_url("/login")), location)
        assert urlsplit(resolved).netloc == lite_env.client.make_url("/").raw_authority
    form = await login_form(lite_env.client, username="li", password=PASSWORD)
    form["next"] = "/console/figures?month=2026-11"
    resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
    assert resp.headers["Location"] == "/console/figures?month=2026-11"


# --- 5. sessions ----------------------------------------------------------------------------


async def test_cookies_are_secure_behind_a_tls_proxy(proxied: WebEnv) -> None:
    form = await login_form(proxied.client, username="li", password=PASSWORD)
    resp = await proxied.client.post(
        "/login", data=form, headers=via("10.0.0.1", https=True), allow_redirects=False
    )
    assert "Secure" in resp.headers["Set-Cookie"]
    plain = await login_form(proxied.client, username="li", password=PASSWORD)
    resp = await proxied.client.post(
        "/login", data=plain, headers=via("10.0.0.1"), allow_redirects=False
    )
    assert "Secure" not in resp.headers["Set-Cookie"]


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(lite_env: WebEnv) -> None:
    form = await login_form(lite_env.client, username="li", password=PASSWORD)
    resp = await lite_env.client.post(
        "/login", data=form, headers={"X-Forwarded-Proto": "https"}, allow_redirects=False
    )
    assert "Secure" not in resp.headers["Set-Cookie"]


async def test_secure_cookies_switch(tmp_path: Path) -> None:
    env = await make_env(
        config_with(secure_cookies=True), f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    try:
        form = await login_form(env.client, username="li", password=PASSWORD)
        resp = await env.client.post("/login", data=form, allow_redirects=False)
        assert "Secure" in resp.headers["Set-Cookie"]
    finally:
        await env.client.close()
        await env.bot.stop()


def _session_cookie(env: WebEnv) -> str:
    cookie = env.client.session.cookie_jar.filter_cookies(env.client.make_url("/"))
    return cookie[SESSION_COOKIE].value


async def test_logout_ends_the_session_on_the_server(lite_env: WebEnv) -> None:
    await lite_env.login("li")
    stolen = _session_cookie(lite_env)
    csrf = await lite_env.csrf()
    await lite_env.client.post("/logout", data={"csrf": csrf})
    lite_env.client.session.cookie_jar.update_cookies({SESSION_COOKIE: stolen})
    resp = await lite_env.client.get("/console", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")


async def test_a_password_change_ends_old_sessions(web_config: Config, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pw.db'}"
    env = await make_env(web_config, url)
    await env.login("li")
    cookie = _session_cookie(env)
    await env.client.close()
    await env.bot.stop()
    data = web_config_data()
    data["web"]["users"][0]["password_hash"] = hash_password("a new password", n=2**4)
    changed = await make_env(parse_config(data, "web-test"), url)
    try:
        changed.client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
        resp = await changed.client.get("/console", allow_redirects=False)
        assert resp.status == 302
    finally:
        await changed.client.close()
        await changed.bot.stop()


async def test_an_admin_logs_everyone_out(web_config: Config, tmp_path: Path) -> None:
    data = web_config_data()
    data["web"]["users"][2]["admin"] = True  # chen
    cfg = parse_config(data, "web-test")
    url = f"sqlite+aiosqlite:///{tmp_path / 'all.db'}"
    li = await make_env(cfg, url)
    chen = await make_env(cfg, url)
    try:
        await li.login("li")
        await chen.login("chen")
        refused = await li.client.post(
            "/console/account/logout", data={"csrf": await li.csrf(), "all": "1"}
        )
        assert refused.status == 403  # only an admin may
        await chen.client.post(
            "/console/account/logout", data={"csrf": await chen.csrf(), "all": "1"}
        )
        for env in (li, chen):
            assert (await env.client.get("/console", allow_redirects=False)).status == 302
    finally:
        for env in (li, chen):
            await env.client.close()
            await env.bot.stop()


async def test_a_form_after_a_second_login_gets_a_chinese_page(lite_env: WebEnv) -> None:
    await lite_env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await lite_env.login("li")
    old = await lite_env.csrf("/console/cases/report/1")
    await lite_env.login("li")  # in another tab
    resp = await lite_env.client.post("/console/cases/report/1/nudge", data={"csrf": old})
    assert resp.status == 403
    text = await resp.text()
    assert "页面已过期" in text and "没有生效" in text


# --- 7. Post/Redirect/Get and form tokens ---------------------------------------------------


async def test_a_resubmitted_console_form_runs_once(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.login("li")
    page = await (await env.client.get("/console/cases/report/1")).text()
    form = re.search(r'action="/console/cases/report/1/nudge">(.*?)</form>', page, re.S)
    assert form
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form[1]))
    first = await env.client.post("/console/cases/report/1/nudge", data=fields)
    assert first.history[0].status == 303 and "已督办 #1" in await first.text()
    again = await env.client.post("/console/cases/report/1/nudge", data=fields)  # F5 / back
    assert "已经提交过了" in await again.text()
    async with env.bot.sessions() as session:
        nudges = (
            await session.execute(select(CaseEvent).where(CaseEvent.action == "nudged"))
        ).all()
    assert len(nudges) == 1


async def test_reloading_or_resubmitting_the_minqingma_form_files_once(env: WebEnv) -> None:
    page = await env.client.get(FORM3)
    token = re.search(r'name="token" value="([^"]+)"', await page.text())
    assert token
    data = {"kind": "report", "what": "楼道灯坏了", "token": token[1]}
    headers = {"Origin": origin_of(env.client)}
    first = await env.client.post(FORM3, data=data, headers=headers)
    done = first.url.path_qs
    assert first.history[0].status == 303
    await env.client.get(done)  # reload of the done page
    second = await env.client.post(FORM3, data=data, headers=headers)  # the form sent again
    assert second.url.path_qs == done
    async with env.bot.sessions() as session:
        cases = (await session.execute(select(Case))).scalars().all()
        events = (
            (await session.execute(select(CaseEvent.action).order_by(CaseEvent.id)))
            .scalars()
            .all()
        )
    assert len(cases) == 1 and "seconded" not in events


# --- 8. Host header -------------------------------------------------------------------------


async def test_unknown_hosts_are_refused(lite_env: WebEnv) -> None:
    for path in ("/console", "/login", FORM3, "/api/cases"):
        resp = await lite_env.client.get(path, headers={"Host": "evil.example"})
        assert resp.status == 421, path
    ok = await lite_env.client.get("/login", headers={"Host": "localhost:8080"})
    assert ok.status == 200
    assert (await lite_env.client.get("/healthz", headers={"Host": "10.0.0.5"})).status == 200


async def test_dns_rebinding_cannot_read_the_sandbox(sandbox: SandboxServer) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ok = await http.get(sandbox.url + "sandbox/state")
        assert ok.status == 200
        rebound = await http.get(sandbox.url + "sandbox/state", headers={"Host": "evil.example"})
        assert rebound.status == 421
        assert "history" not in await rebound.text()


# --- 9. the phone number --------------------------------------------------------------------


async def test_the_phone_stays_out_of_the_api_and_the_logs(
    env: WebEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")  # what `jinlin run` logs
    resp = await post_report(env.client, FORM3, what="水管漏水了", phone="13912345678")
    assert resp.status == 200
    from tests.web.conftest import ADMIN_TOKEN
    from tests.web.test_api import bearer

    body = await (await env.client.get("/api/cases/report/1", headers=bearer(ADMIN_TOKEN))).text()
    listing = await (await env.client.get("/api/cases", headers=bearer(ADMIN_TOKEN))).text()
    assert "13912345678" not in body and "13912345678" not in listing
    assert "13912345678" not in caplog.text


async def test_the_phone_is_deleted_after_the_case_closes_and_retention(env: WebEnv) -> None:
    from bot.web.server import housekeep

    await post_report(env.client, FORM3, what="水管漏水了", phone="13912345678")
    await env.say(None, "wxid_wang", "王姐", "办结 1 已修好")
    await housekeep(env.state)
    async with env.bot.sessions() as session:
        assert (await session.execute(select(WebContact))).first() is not None
    env.clock.set(env.clock.now() + env.bot.config.web.contact_retention + timedelta(hours=1))
    await housekeep(env.state)
    async with env.bot.sessions() as session:
        assert (await session.execute(select(WebContact))).first() is None

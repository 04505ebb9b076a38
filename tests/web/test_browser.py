"""In real headless Chromium (Debian's, driven by Playwright): sandbox, console, 民情码."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.web.sandbox import SandboxServer
from tests.web.conftest import PASSWORD, REPO

# The real binary: /usr/bin/chromium is a wrapper script that prints a warning first.
CHROMIUM = os.environ.get("JINLIN_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = REPO / "test-output" / "web"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium under Playwright; fails (never skips) when either is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `bash tests/run.sh` (it installs Debian's "
            "chromium) or set JINLIN_CHROMIUM to the browser binary"
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test,web]' (tests/run.sh does)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def new_page(browser: Any) -> Any:
    """A page with a desktop-sized viewport and a short default timeout."""
    page = await browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page.set_default_timeout(10_000)
    return page


async def screenshot(page: Any, request: pytest.FixtureRequest) -> Path:
    """Save a full-page screenshot as test-output/web/<test name>.png."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{request.node.name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


async def test_sandbox_report_take_in_the_browser(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    page = await new_page(browser)
    await page.goto(sandbox.url)
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.locator('#room-list button[data-room="武夷香榭3栋业主群"]').click()
    await page.fill("#sender-name", "3栋402-王阿姨")
    await page.fill("#group-text", "3栋电梯又坏了，老人下不了楼")
    await page.click("#group-send")
    group = page.locator("#group-log")
    await expect(group).to_contain_text("已登记 #1")
    head = page.locator('.dm[data-person="wxid_wang"]')
    await expect(head.locator(".dm-log")).to_contain_text("#1")
    await head.locator(".dm-text").fill("接单 1")
    await head.locator(".dm-send").click()
    await expect(group).to_contain_text("已由王姐接单")
    await expect(head.locator(".dm-log")).to_contain_text("已接单 #1")
    await screenshot(page, request)


async def test_console_login_and_board_in_the_browser(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    await sandbox.sandbox.transport.say(
        "武夷香榭3栋业主群", "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了"
    )
    await sandbox.sandbox.transport.say(
        "江南八仙小区5栋", "wxid_r2", "5栋101-吴", "5栋门口水管爆了"
    )
    page = await new_page(browser)
    await page.goto(sandbox.url + "console")
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill('input[name="username"]', "li")
    await page.fill('input[name="password"]', "wrong password")
    await page.click('#login-form button[type="submit"]')
    await expect(page.locator(".error")).to_contain_text("不对")
    await page.fill('input[name="username"]', "li")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await expect(page).to_have_url(sandbox.url + "console")
    board = page.locator("#board")
    await expect(board.locator('tr[data-case="#1"]')).to_be_visible()
    await expect(board.locator('tr[data-case="#2"]')).to_have_count(0)  # another compound
    await board.locator('tr[data-case="#1"] a').click()
    await expect(page.locator("#case-log")).to_contain_text("登记")
    await page.locator('input[name="target"]').fill("5")
    await page.locator('form[action$="/transfer"] button').click()
    await expect(page.locator(".flash")).to_contain_text("已转给楼栋长周师傅")
    await expect(page.locator("#case-log")).to_contain_text("李书记")
    await screenshot(page, request)


async def test_minqingma_form_in_the_browser(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    page = await new_page(browser)
    await page.goto(sandbox.url + "r/" + quote("武夷香榭") + "/5")
    await expect(page.locator("h1")).to_contain_text("武夷香榭 5栋")
    await page.fill('textarea[name="what"]', "楼道灯坏了，晚上看不见台阶")
    await page.fill('input[name="where"]', "2单元 5楼")
    await page.check('input[name="urgent"]')
    await page.click('#report-form button[type="submit"]')
    await expect(page.locator("#case-label")).to_have_text("#1")
    await expect(page.locator("#status")).to_have_text("待接单")
    await screenshot(page, request)

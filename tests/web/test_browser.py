"""In real headless Chromium (Debian's, driven by Playwright): sandbox, console, 民情码 on a phone.

Screenshots of every step land in test-output/web/ (kept as CI artefacts).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from bot.core.clock import VirtualClock
from bot.core.config import Config
from bot.core.messages import Incoming
from bot.web.sandbox import SandboxServer, start_sandbox
from tests.web.conftest import PASSWORD, REPO, START

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
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


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


async def new_page(browser: Any, viewport: dict[str, int] = DESKTOP, **kwargs: Any) -> Any:
    """A page with a viewport and a short default timeout."""
    context = await browser.new_context(viewport=viewport, locale="zh-CN", **kwargs)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def phone_page(browser: Any) -> Any:
    """A 390×844 phone (touch, mobile layout)."""
    return await new_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


async def screenshot(page: Any, request: pytest.FixtureRequest, step: str) -> Path:
    """Save a full-page screenshot as test-output/web/<test>-<step>.png."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{request.node.name}-{step}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


async def no_horizontal_scroll(page: Any) -> None:
    """Nothing on the page is wider than the screen."""
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


async def say(sb: SandboxServer, room: str | None, sender: str, name: str, text: str) -> None:
    """A chat message straight to the bot (processed before this returns)."""
    n = len(sb.sandbox.transport.history())
    await sb.sandbox.bot.handle(
        Incoming(
            message_id=f"b-{sender}-{n}-{hash(text)}",
            room=room,
            sender_id=sender,
            sender_name=name,
            text=text,
            mentions_bot=False,
            at=sb.sandbox.clock.now(),
        )
    )
    await sb.sandbox.bot.sender.drain()


async def login(page: Any, base: str, user: str = "li") -> None:
    """Log in through the form."""
    from playwright.async_api import expect

    await page.goto(base + "login")
    await page.fill('input[name="username"]', user)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await expect(page).to_have_url(base + "console")


async def test_sandbox_report_take_in_the_browser(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    page = await new_page(browser)
    await page.goto(sandbox.url)
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await expect(page.get_by_text("以谁的身份发言（群昵称）")).to_be_visible()
    await page.locator('#room-list button[data-room="武夷香榭3栋业主群"]').click()
    await page.fill("#sender-name", "3栋402-王阿姨")
    # A multi-line message: Shift+Enter makes a new line, Enter sends.
    box = page.locator("#group-text")
    await box.type("3栋电梯又坏了")
    await box.press("Shift+Enter")
    await box.type("老人下不了楼")
    await box.press("Enter")
    group = page.locator("#group-log")
    await expect(group).to_contain_text("已登记 #1")
    await expect(group.locator(".msg.mine .text").first).to_have_text(
        "3栋电梯又坏了\n老人下不了楼"
    )
    head = page.locator('#dm-people button[data-person="wxid_wang"]')
    await head.click()
    await expect(page.locator("#dm-log")).to_contain_text("#1")
    await page.fill("#dm-text", "接单 1")
    await page.click("#dm-send")
    await expect(group).to_contain_text("已由王姐接单")
    await expect(page.locator("#dm-log")).to_contain_text("已接单 #1")
    # Private chats are one scrolling pane, not a column as long as everyone's chats.
    tall = await page.evaluate("document.documentElement.scrollHeight")
    assert tall <= DESKTOP["height"] + 5, tall
    await screenshot(page, request, "sandbox")


@pytest.fixture
async def busy_sandbox(web_config: Config, tmp_path: Path) -> AsyncIterator[SandboxServer]:
    """A sandbox where no report joins another (附议 only within one second)."""
    services = web_config.services.model_copy(update={"duplicate_window": timedelta(seconds=1)})
    server = await start_sandbox(
        web_config.model_copy(update={"services": services}),
        VirtualClock(START),
        host="127.0.0.1",
        port=0,
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}",
        announce=lambda _line: None,
    )
    try:
        yield server
    finally:
        await server.stop()


async def test_console_board_filters_paging_and_case_actions(
    browser: Any, busy_sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    sandbox = busy_sandbox
    problems = ["楼道灯不亮", "垃圾桶满了", "门禁坏了", "水管漏水", "电梯异响", "墙皮脱落"]
    for i in range(56):
        clock = sandbox.sandbox.clock
        clock.set(clock.now() + timedelta(seconds=2))
        room, building = ("武夷香榭5栋业主群", "5") if i % 4 == 0 else ("武夷香榭3栋业主群", "3")
        await say(
            sandbox,
            room,
            f"wxid_r{i}",
            f"{building}栋{100 + i}-邻居{i}",
            f"{building}栋{problems[i % len(problems)]}（第{i}次）",
        )
    page = await new_page(browser)
    await login(page, sandbox.url)
    summary = page.locator("#board-summary")
    await expect(summary).to_contain_text("第 1 / 2 页")
    await page.locator('#pager a[rel="next"]').click()
    await expect(summary).to_contain_text("第 2 / 2 页")
    await page.fill('#filters input[name="building"]', "5")
    await page.fill('#filters input[name="q"]', "灯")
    await page.click('#filters button[type="submit"]')
    rows = page.locator("#board tbody tr[data-case]")
    await expect(rows.first).to_be_visible()
    for text in await rows.locator("td.text").all_inner_texts():
        assert "5栋" in text and "灯" in text
    await screenshot(page, request, "board")
    await page.goto(sandbox.url + "console?sort=old")
    await expect(rows.first).to_have_attribute("data-case", "#1")
    await rows.first.locator("a").click()
    await expect(page.locator("#case-log")).to_contain_text("给楼栋长周师傅")
    await expect(page.locator('select[name="target"] option[selected]')).to_have_text(
        "5栋（周师傅）"
    )
    await page.fill("#note-form textarea", "已电话联系物业")
    await page.click("#note-form button")
    await expect(page.locator(".flash")).to_contain_text("已记下 #1 的备注")
    await page.fill("#reply-form textarea", "已联系物业，明天来修")
    await page.click("#reply-form button")
    await expect(page.locator(".flash")).to_contain_text("已在群里回复居民")
    await page.fill("#close-form input[name=text]", "换了灯泡")
    await page.click("#close-form button")
    await expect(page.locator("#case-status")).to_have_text("已办结")
    await expect(page.locator("#case-log")).to_contain_text("李书记（工作台）")
    await screenshot(page, request, "case")
    # Bulk: tick two on the board and mark them spam.
    await page.goto(sandbox.url + "console?sort=old")
    await page.locator('#board input[name="case"][value="2"]').check()
    await page.locator('#board input[name="case"][value="3"]').check()
    page.once("dialog", lambda d: d.accept())
    await page.click('#bulk-form button[value="spam"]')
    await expect(page.locator(".flash")).to_contain_text("已处理 2 件：#2、#3")
    await screenshot(page, request, "bulk")
    await page.goto(sandbox.url + "console/figures")
    charts = page.locator("img.chart")
    await expect(charts).to_have_count(2)
    for i in range(2):
        await expect(charts.nth(i)).to_have_js_property("complete", True)
        assert await charts.nth(i).evaluate("img => img.naturalWidth") > 0  # the SVG drew
    await expect(page.locator('[data-rate="resolution"]')).to_have_text(re.compile(r"^\d+%$"))
    await screenshot(page, request, "figures")


def _photo() -> bytes:
    img = Image.new("RGB", (800, 600), (90, 120, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (26.0, 38.0, 0.0), 3: "E", 4: (118.0, 10.0, 0.0)}
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


async def test_minqingma_on_a_phone(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    page = await phone_page(browser)
    await page.goto(sandbox.url + "r/" + quote("武夷香榭") + "/5")
    await expect(page.locator("h1")).to_contain_text("武夷香榭 5栋")
    await expect(page.locator(".hotlines")).to_contain_text("燃气抢修 0599-8822119")
    await expect(page.locator("#what-hint")).to_contain_text("例：")
    await expect(page.locator("#phone-hint")).to_contain_text("本栋楼栋长周师傅")
    await no_horizontal_scroll(page)
    await screenshot(page, request, "form")
    await page.fill("#what", "楼道灯坏了，晚上看不见台阶")
    await page.fill("#where", "2单元 5楼")
    await page.fill("#phone", "13800001111")
    await page.set_input_files(
        "#photo", files=[{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
    )
    await page.click('#report-form button[type="submit"]')
    await expect(page.locator("#case-label")).to_have_text("#1")
    await expect(page.locator("#status-code")).to_have_text(
        re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")
    )
    await no_horizontal_scroll(page)
    copy = page.locator("#copy-link")
    await copy.click()
    await expect(copy).to_have_attribute("data-copied", re.compile(r"^[01]$"))
    await screenshot(page, request, "done")
    status_url = page.url.split("?")[0]
    await say(sandbox, None, "wxid_zhou", "周师傅", "接单 1")
    await say(sandbox, None, "wxid_zhou", "周师傅", "办结 1 已换了新的声控灯")
    await page.goto(status_url)
    await expect(page.locator("#status")).to_have_text("已办结")
    await expect(page.locator("#closing-note")).to_contain_text("已换了新的声控灯")
    await no_horizontal_scroll(page)
    await screenshot(page, request, "status")
    await page.locator('#rate-form button[value="3"]').click()
    await expect(page.locator("#rating")).to_contain_text("基本满意")
    await expect(page.locator("#reopen")).to_have_attribute("open", "")  # open once rated
    await page.fill("#reopen-text", "第二天又不亮了")
    await page.click("#reopen-form button")
    await expect(page.locator("#status")).to_have_text("待接单")
    await expect(page.locator(".timeline")).to_contain_text("已重新打开处理")
    await no_horizontal_scroll(page)
    await screenshot(page, request, "reopened")
    sent = [e for e in sandbox.sandbox.transport.history() if e.get("to_person") == "wxid_zhou"]
    assert any("13800001111" in e["text"] for e in sent)
    assert any("还没好" in e["text"] for e in sent)


async def test_error_pages_are_chinese_in_the_browser(
    browser: Any, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> None:
    from playwright.async_api import expect

    page = await phone_page(browser)
    await page.goto(sandbox.url + "r/" + quote("武夷香榭") + "/77")
    await expect(page.locator("#error-page")).to_contain_text("没有这栋楼的民情码")
    await no_horizontal_scroll(page)
    await screenshot(page, request, "404")

"""民情码: the public form files a case like a group message, status codes, QR codes, limits."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from storage.models import Case, CaseEvent
from storage.web_models import WebContact
from tests.web.conftest import WebEnv, post_report

FORM3 = "/r/" + quote("武夷香榭") + "/3"


def _form(**fields: str) -> dict[str, str]:
    return {"kind": "report", "what": "", "where": "", "phone": "", **fields}


def status_path(html: str) -> str:
    """The status page's own path, from the link it shows."""
    m = re.search(r'id="status-link" readonly value="[^"]*?(/s/[A-Z0-9]+)"', html)
    assert m, html[:3000]
    return m.group(1)


async def test_form_files_a_report_routed_to_the_building_head(env: WebEnv) -> None:
    page = await env.client.get(FORM3)
    text = await page.text()
    assert page.status == 200 and "武夷香榭 3栋" in text
    assert "本栋楼栋长王姐" in text  # who sees the phone number, by name
    resp = await post_report(
        env.client,
        FORM3,
        **_form(what="电梯又坏了，老人下不了楼", where="2单元", phone="13800001111"),
    )
    html = await resp.text()
    assert resp.status == 200 and resp.history[0].status == 303  # Post/Redirect/Get
    assert 'id="case-label">#1<' in html
    code = re.search(r'id="status-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', html)
    assert code, html[:2000]
    await env.bot.sender.drain()
    to_head = [m for m in env.transport.sent if m.to_person == "wxid_wang"]
    assert to_head and "#1" in to_head[0].text and "民情码" in to_head[0].text
    assert not any(m.to_room for m in env.transport.sent)
    async with env.bot.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
        actions = (
            (await session.execute(select(CaseEvent.action).order_by(CaseEvent.id)))
            .scalars()
            .all()
        )
        phone = (await session.execute(select(WebContact.phone))).scalar_one()
    assert case.building == "3" and case.category == "lift" and case.room is None
    assert case.reporter_id.startswith("web:") and not case.urgent
    assert "contact" not in actions and phone == "13800001111"
    path = status_path(html)
    status = await env.client.get(path)
    body = await status.text()
    assert status.status == 200 and "待接单" in body and "13800001111" not in body
    assert status.headers["Referrer-Policy"] == "same-origin"  # the code never leaves the site
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    assert "办理中" in await (await env.client.get(path)).text()
    # The code can be typed in, with or without the dash, in any case.
    typed = await env.client.get("/s?code=" + code.group(1).lower(), allow_redirects=False)
    assert typed.status == 303 and typed.headers["Location"] == path


async def test_urgent_box_marks_the_case_urgent_and_tells_the_secretary(env: WebEnv) -> None:
    resp = await post_report(env.client, FORM3, **_form(what="楼道有烟味", urgent="1"))
    assert resp.status == 200
    await env.bot.sender.drain()
    assert any(m.to_person == "wxid_li" and m.urgent for m in env.transport.sent)


async def test_a_wish_is_filed_as_a_wish(env: WebEnv) -> None:
    resp = await post_report(
        env.client, FORM3, **_form(kind="wish", what="想借个轮椅用两周，带老人去复查")
    )
    html = await resp.text()
    assert resp.status == 200
    assert re.search(r'id="case-label">W1<', html)


async def test_unknown_building_or_compound_is_404(lite_env: WebEnv) -> None:
    missing = await lite_env.client.get("/r/" + quote("武夷香榭") + "/77")
    assert missing.status == 404 and "没有这栋楼的民情码" in await missing.text()
    assert (await lite_env.client.get("/r/nowhere/3")).status == 404
    assert (await lite_env.client.post("/r/nowhere/3", data=_form(what="x"))).status == 404


async def test_oversized_and_bad_input_is_refused(lite_env: WebEnv) -> None:
    resp = await post_report(lite_env.client, FORM3, **_form(what="坏" * 501))
    assert resp.status == 400 and "500" in await resp.text()
    resp = await post_report(lite_env.client, FORM3, **_form(what="灯坏了", phone="<script>"))
    assert resp.status == 400
    assert (await post_report(lite_env.client, FORM3, **_form(what="  "))).status == 400
    huge = await post_report(lite_env.client, FORM3, **_form(what="x" * 100_000))
    assert huge.status == 413 and "提交的内容太大" in await huge.text()
    async with lite_env.bot.sessions() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_output_is_escaped(lite_env: WebEnv) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    resp = await post_report(lite_env.client, FORM3, **_form(what=evil, where=evil[:90]))
    status = await resp.text()
    assert "<script>alert" not in status and "&lt;script&gt;" in status
    assert "<img src=x" not in status
    bad = await post_report(lite_env.client, FORM3, **_form(what=evil * 20))
    assert "<script>alert" not in await bad.text()


async def test_reports_are_rate_limited_per_address(lite_env: WebEnv) -> None:
    for i in range(3):
        assert (
            await post_report(lite_env.client, FORM3, **_form(what=f"灯坏了{i}"))
        ).status == 200
    resp = await post_report(lite_env.client, FORM3, **_form(what="灯又坏了"))
    assert resp.status == 429 and "提交太频繁" in await resp.text()


async def test_bad_status_code_is_404(lite_env: WebEnv) -> None:
    for path in ("/s/short", "/s/" + "A" * 32, "/s/ABCD-EFGH"):
        resp = await lite_env.client.get(path)
        assert resp.status == 404 and "没有找到" in await resp.text()


async def test_qr_codes_need_a_public_url(lite_env: WebEnv) -> None:
    # Without web.public_url a QR code would point at whatever Host the request named.
    svg = await lite_env.client.get("/qr/" + quote("武夷香榭") + "/3.svg")
    assert svg.status == 404 and "public_url" in await svg.text()
    await lite_env.login("li")
    sheet = await (await lite_env.client.get("/console/qr")).text()
    assert 'id="no-public-url"' in sheet and "<img" not in sheet


async def test_qr_codes_with_a_public_url(web_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import make_env

    web = web_config.web.model_copy(update={"public_url": "https://jinlin.example.org"})
    env = await make_env(
        web_config.model_copy(update={"web": web}), f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    )
    try:
        svg = await env.client.get("/qr/" + quote("武夷香榭") + "/3.svg")
        assert svg.status == 200 and svg.content_type == "image/svg+xml"
        assert b"<svg" in await svg.read()
        assert (await env.client.get("/qr/" + quote("武夷香榭") + "/77.svg")).status == 404
        assert (await env.client.get("/console/qr", allow_redirects=False)).status == 302
        await env.login("li")
        sheet = await (await env.client.get("/console/qr")).text()
        assert sheet.count('class="qr"') == 3  # 武夷香榭 has buildings 3, 5, 9
        assert "江南八仙" not in sheet
        assert "https://jinlin.example.org/r/" in sheet
    finally:
        await env.client.close()
        await env.bot.stop()

"""民情码: the public form files a case like a group message, status links, QR codes, limits."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from storage.models import Case, CaseEvent
from tests.web.conftest import WebEnv

FORM3 = "/r/" + quote("武夷香榭") + "/3"


def _form(**fields: str) -> dict[str, str]:
    return {"kind": "report", "what": "", "where": "", "phone": "", **fields}


async def test_form_files_a_report_routed_to_the_building_head(env: WebEnv) -> None:
    page = await env.client.get(FORM3)
    assert page.status == 200 and "武夷香榭 3栋" in await page.text()
    resp = await env.client.post(
        FORM3, data=_form(what="电梯又坏了，老人下不了楼", where="2单元", phone="13800001111")
    )
    html = await resp.text()
    assert resp.status == 200
    assert 'id="case-label">#1<' in html
    link = re.search(r'id="status-link" href="([^"]+)"', html)
    assert link
    await env.bot.sender.drain()
    to_head = [m for m in env.transport.sent if m.to_person == "wxid_wang"]
    assert to_head and "#1" in to_head[0].text and "民情码" in to_head[0].text
    assert all("13800001111" not in m.text for m in env.transport.sent)
    assert not any(m.to_room for m in env.transport.sent)
    async with env.bot.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
        actions = (await session.execute(select(CaseEvent.action))).scalars().all()
    assert case.building == "3" and case.category == "lift" and case.room is None
    assert case.reporter_id.startswith("web:") and not case.urgent
    assert "contact" in actions
    status_path = link.group(1).split("://", 1)[1].split("/", 1)[1]
    status = await env.client.get("/" + status_path)
    body = await status.text()
    assert status.status == 200 and "待接单" in body and "13800001111" not in body
    assert status.headers["Referrer-Policy"] == "no-referrer"
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    assert "办理中" in await (await env.client.get("/" + status_path)).text()


async def test_urgent_box_marks_the_case_urgent_and_tells_the_secretary(env: WebEnv) -> None:
    resp = await env.client.post(FORM3, data=_form(what="楼道有烟味", urgent="1"))
    assert resp.status == 200
    await env.bot.sender.drain()
    assert any(m.to_person == "wxid_li" and m.urgent for m in env.transport.sent)


async def test_a_wish_is_filed_as_a_wish_when_the_services_handle_wishes(env: WebEnv) -> None:
    resp = await env.client.post(
        FORM3, data=_form(kind="wish", what="想借个轮椅用两周，带老人去复查")
    )
    html = await resp.text()
    assert resp.status == 200
    label = re.search(r'id="case-label">([^<]+)<', html)
    assert label
    wishes_handled = "micro_wish" in {k.value for k in env.bot.registry.intents}
    assert label.group(1).startswith("W" if wishes_handled else "#")


async def test_unknown_building_or_compound_is_404(lite_env: WebEnv) -> None:
    assert (await lite_env.client.get("/r/" + quote("武夷香榭") + "/77")).status == 404
    assert (await lite_env.client.get("/r/nowhere/3")).status == 404
    assert (await lite_env.client.post("/r/nowhere/3", data=_form(what="x"))).status == 404


async def test_oversized_and_bad_input_is_refused(lite_env: WebEnv) -> None:
    resp = await lite_env.client.post(FORM3, data=_form(what="坏" * 501))
    assert resp.status == 400 and "500" in await resp.text()
    resp = await lite_env.client.post(FORM3, data=_form(what="灯坏了", phone="<script>"))
    assert resp.status == 400
    assert (await lite_env.client.post(FORM3, data=_form(what="  "))).status == 400
    huge = await lite_env.client.post(FORM3, data=_form(what="x" * 100_000))
    assert huge.status == 413
    async with lite_env.bot.sessions() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_output_is_escaped(lite_env: WebEnv) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    resp = await lite_env.client.post(FORM3, data=_form(what=evil, where=evil[:90]))
    html = await resp.text()
    link = re.search(r'id="status-link" href="[^"]*(/s/[^"]+)"', html)
    assert link
    status = await (await lite_env.client.get(link.group(1))).text()
    assert "<script>alert" not in status and "&lt;script&gt;" in status
    assert "<img src=x" not in status
    bad = await lite_env.client.post(FORM3, data=_form(what=evil * 20))
    assert "<script>alert" not in await bad.text()


async def test_reports_are_rate_limited_per_address(lite_env: WebEnv) -> None:
    for i in range(3):
        assert (await lite_env.client.post(FORM3, data=_form(what=f"灯坏了{i}"))).status == 200
    resp = await lite_env.client.post(FORM3, data=_form(what="灯又坏了"))
    assert resp.status == 429


async def test_bad_status_token_is_404(lite_env: WebEnv) -> None:
    assert (await lite_env.client.get("/s/short")).status == 404
    assert (await lite_env.client.get("/s/" + "A" * 32)).status == 404


async def test_qr_codes(lite_env: WebEnv) -> None:
    svg = await lite_env.client.get("/qr/" + quote("武夷香榭") + "/3.svg")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    assert b"<svg" in await svg.read()
    assert (await lite_env.client.get("/qr/" + quote("武夷香榭") + "/77.svg")).status == 404
    assert (await lite_env.client.get("/console/qr", allow_redirects=False)).status == 302
    await lite_env.login("li")
    sheet = await (await lite_env.client.get("/console/qr")).text()
    assert sheet.count('class="qr"') == 3  # 武夷香榭 has buildings 3, 5, 9; 江南八仙 is not li's
    assert "江南八仙" not in sheet

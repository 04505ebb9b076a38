"""民情码: the public report form per building, the reporter's status page, photos, QR codes."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import segno
from aiohttp import BodyPartReader, web

from bot.core.domain import CaseAction, CaseKind, CaseStatus
from bot.core.grid import RoomInfo
from bot.core.messages import Outgoing
from bot.outbound import enqueue_all
from bot.web import actions, filing
from bot.web.console import local
from bot.web.errors import Problem
from bot.web.labels import rating_words
from bot.web.login import require_user
from bot.web.photos import BadPhoto, clean_photo
from bot.web.queries import events, status_names
from bot.web.state import WebState, state_of
from handlers.routing import case_label
from storage import web_reports, web_state
from storage.models import Case

BROWSER_COOKIE = "jinlin_r"
FORM_TTL = 24 * 3600  # seconds a 民情码 form page stays valid
STATUS_MISSES = 30  # wrong status codes per address per 10 minutes before a pause
EXAMPLES = (
    "例：3单元5楼楼道灯不亮，晚上看不见台阶",
    "例：电梯按钮失灵，停在8楼不动",
    "例：楼下绿化带有很多垃圾没人清",
)


def public_step(action: str, note: str) -> str | None:
    """A case log entry in the reporter's words; None for what a reporter does not see."""
    try:
        label = CaseAction(action).public_label
    except ValueError:
        return None
    if label is None:
        return None
    shown = action in (CaseAction.RESOLVED, CaseAction.COMPLETED, CaseAction.REPLIED)
    return f"{label}：{note}" if shown and note else label


def _room_for(state: WebState, compound: str, building: str) -> RoomInfo:
    try:
        known = state.grid.has_building(compound, building)
    except KeyError:
        known = False
    room = state.grid.building_room(compound, building) if known else None
    if room is None:
        raise Problem(404, "没有这栋楼的民情码，请核对二维码或链接。")
    return room


def public_url(state: WebState, path: str) -> str | None:
    """An absolute URL on web.public_url, or None when it is not configured."""
    base = state.config.web.public_url
    return f"{base}{path}" if base else None


def report_path(compound: str, building: str) -> str:
    """The path of a building's 民情码 form."""
    return f"/r/{quote(compound, safe='')}/{quote(building, safe='')}"


# --- the form -------------------------------------------------------------------------------


@dataclass
class FormInput:
    """What the form carried, as text, plus a cleaned photo if one came."""

    fields: dict[str, str]
    photo: bytes | None = None
    photo_error: str | None = None


def _form_values(data: Mapping[str, str]) -> dict[str, Any]:
    return {
        "kind": "wish" if data.get("kind") == "wish" else "report",
        "what": data.get("what", "")[:1000],
        "where": data.get("where", "")[:200],
        "phone": data.get("phone", "")[:40],
        "urgent": data.get("urgent") == "1",
    }


def _form_page(
    request: web.Request,
    state: WebState,
    status: int,
    values: Mapping[str, Any],
    errors: list[str],
) -> web.Response:
    compound, building = request.match_info["compound"], request.match_info["building"]
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not 16 <= len(browser) <= 64:
        browser = secrets.token_urlsafe(16)
    token = state.signer.sign(
        "report",
        {
            "b": browser,
            "n": secrets.token_urlsafe(12),
            "p": f"{compound}/{building}",
            "t": state.wall.now().timestamp(),
        },
    )
    hotlines = state.grid.hotlines(compound)
    resp = state.render(
        request,
        "report_form.html",
        status=status,
        compound=compound,
        building=building,
        head=state.grid.building_head(compound, building),
        form=values,
        errors=errors,
        token=token,
        hotlines=hotlines,
        example=EXAMPLES[sum(map(ord, building)) % len(EXAMPLES)],
        max_what=filing.MAX_WHAT,
        max_where=filing.MAX_WHERE,
        max_phone=filing.MAX_PHONE,
        max_photo_mb=round(state.config.web.photo_max_bytes / 1024 / 1024, 1),
        retention_days=state.config.web.contact_retention.days,
    )
    resp.set_cookie(
        BROWSER_COOKIE,
        browser,
        httponly=True,
        samesite="Strict",
        path="/r/",
        max_age=FORM_TTL,
        secure=state.secure_cookie(request),
    )
    return resp


async def report_form(request: web.Request) -> web.Response:
    """GET /r/{compound}/{building}: the short public form."""
    state = state_of(request)
    _room_for(state, request.match_info["compound"], request.match_info["building"])
    empty = {"kind": "report", "what": "", "where": "", "phone": "", "urgent": False}
    return _form_page(request, state, 200, empty, [])


async def _read_form(request: web.Request, state: WebState) -> FormInput:
    """The posted fields (urlencoded or multipart) and the photo, within the size limits."""
    limit = state.config.web.photo_max_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    if not request.content_type.startswith("multipart/"):
        post = await request.post()
        return FormInput({k: v for k, v in post.items() if isinstance(v, str)})
    fields: dict[str, str] = {}
    photo: bytes | None = None
    total = 0
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        cap = limit if part.name == "photo" else 16 * 1024
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(64 * 1024):
            size += len(chunk)
            total += len(chunk)
            if size > cap or total > limit + 64 * 1024:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total)
            chunks.append(chunk)
        body = b"".join(chunks)
        if part.name == "photo":
            photo = body or None
        elif part.name and len(fields) < 20:
            fields[part.name] = body.decode("utf-8", errors="replace")
    if photo is None:
        return FormInput(fields)
    loop = asyncio.get_running_loop()
    try:
        return FormInput(fields, await loop.run_in_executor(None, clean_photo, photo))
    except BadPhoto as e:
        return FormInput(fields, photo_error=str(e))


def _token_ok(request: web.Request, state: WebState, token: str) -> str | None:
    """The form token's nonce when it is ours, for this building and this browser, and fresh."""
    data = state.signer.unsign("report", token)
    if data is None:
        return None
    compound, building = request.match_info["compound"], request.match_info["building"]
    issued = data.get("t")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    nonce = data.get("n")
    fresh = (
        isinstance(issued, int | float) and 0 <= state.wall.now().timestamp() - issued < FORM_TTL
    )
    if (
        not fresh
        or data.get("p") != f"{compound}/{building}"
        or not browser
        or not secrets.compare_digest(str(data.get("b", "")), browser)
        or not isinstance(nonce, str)
    ):
        return None
    return nonce


async def submit_report(request: web.Request) -> web.Response:
    """POST /r/{compound}/{building}: file (or hold) the report, then go to its status page."""
    state = state_of(request)
    compound, building = request.match_info["compound"], request.match_info["building"]
    room = _room_for(state, compound, building)
    if not state.network.same_origin(request):
        # A page on another site submitting this form from a visitor's browser.
        raise Problem(
            403, "请在本小区的民情码页面上填写提交。", back=report_path(compound, building)
        )
    data = await _read_form(request, state)
    values = _form_values(data.fields)
    nonce = _token_ok(request, state, data.fields.get("token", ""))
    if nonce is None:
        return _form_page(request, state, 403, values, ["页面已过期，请确认内容后再点一次提交。"])
    report = filing.WebReport(
        compound=compound,
        building=building,
        what=values["what"],
        where=values["where"],
        phone=values["phone"],
        urgent=values["urgent"],
        wish=values["kind"] == "wish",
    )
    problems = filing.check_report(report)
    if data.photo_error:
        problems.append(data.photo_error)
    if problems:
        return _form_page(request, state, 400, values, problems)
    now = state.wall.now()
    async with state.bot.sessions() as session, session.begin():
        used = await web_state.claim_form(session, nonce, now)
    if used is not None:
        if used.result:
            raise web.HTTPSeeOther(used.result)
        raise Problem(409, "这份表单正在提交或已经提交过了，请稍候查看。")
    try:
        where = await _file_or_hold(request, state, room, report, data.photo, nonce)
    except BaseException:
        async with state.bot.sessions() as session, session.begin():
            await web_state.release_form(session, nonce)
        raise
    async with state.bot.sessions() as session, session.begin():
        await web_state.set_form_result(session, nonce, where)
    raise web.HTTPSeeOther(where)


async def _file_or_hold(
    request: web.Request,
    state: WebState,
    room: RoomInfo,
    report: filing.WebReport,
    photo: bytes | None,
    nonce: str,
) -> str:
    """File the report, or hold it when the building or compound is over its budget."""
    cfg = state.config.web
    now = state.wall.now()
    address = state.client(request).address
    key = f"{report.compound}/{report.building}"
    async with state.bot.sessions() as session, session.begin():
        mine = await web_state.hit(session, f"report:addr:{address}", now, cfg.report_window)
        if mine.count > cfg.report_rate:
            raise Problem(
                429,
                "提交太频繁，请过几分钟再提交；急事请直接联系楼栋长或拨打 119 / 120。",
                title="提交太频繁",
            )
        building_hit = await web_state.hit(
            session, f"report:building:{key}", now, cfg.budget_window
        )
        compound_hit = await web_state.hit(
            session, f"report:compound:{report.compound}", now, cfg.budget_window
        )
        stored = await web_reports.add_photo(session, photo, "image/jpeg", now) if photo else None
        over = building_hit.count > cfg.building_budget or compound_hit.count > cfg.compound_budget
        if over:
            code = web_state.new_status_code()
            held = await web_reports.hold_report(
                session,
                code=code,
                compound=report.compound,
                building=report.building,
                wish=report.wish,
                what=report.what.strip(),
                place=report.where.strip(),
                phone=report.phone.strip(),
                urgent=report.urgent,
                photo_id=stored.id if stored else None,
                now=now,
            )
            await _tell_secretary_of_holds(state, session, report.compound, held.id)
    if over:
        state.bot.sender.wake()
        return f"/s/{code}?new=1"
    filed = await filing.file_web_report(
        state.bot,
        report,
        room,
        message_id=f"web:{nonce}",
        photo_id=stored.id if stored else None,
        photo_link=public_url(state, f"/p/{stored.token}.jpg") if stored else None,
    )
    moved = f"&qr={quote(report.building)}" if filed.building != report.building else ""
    return f"/s/{filed.token}?new=1{moved}"


async def _tell_secretary_of_holds(
    state: WebState, session: Any, compound: str, held_id: int
) -> None:
    """One message per budget window to the secretary: reports wait for review in the console."""
    cfg = state.config.web
    now = state.wall.now()
    notice = await web_state.hit(session, f"report:held-notice:{compound}", now, cfg.budget_window)
    secretary = state.grid.secretary(compound)
    if notice.count != 1 or secretary is None:
        return
    text = (
        f"{compound}的民情码在短时间内收到的报事超过了设定数量，新的报事已暂存待审核，"
        "没有通知楼栋长。请在社区工作台「待审核」里查看，确认后转为正式报事或标为无效。"
    )
    await enqueue_all(
        session,
        state.config,
        f"web:held:{compound}:{held_id}",
        [Outgoing(to_room=None, to_person=secretary.id, text=text, urgent=False)],
        now,
    )


# --- the status page ------------------------------------------------------------------------


async def status_lookup(request: web.Request) -> web.Response:
    """GET /s?code=...: the page to type a status code; a code goes to its status page."""
    state = state_of(request)
    code = request.query.get("code", "")
    if code:
        found = web_state.normalise_code(code)
        if found:
            raise web.HTTPSeeOther(f"/s/{found}")
        return state.render(request, "lookup.html", status=400, error="查询码不对，请核对后再输。")
    return state.render(request, "lookup.html", error=None)


async def status_page(request: web.Request) -> web.Response:
    """GET /s/{code}: the reporter's view of their case, no login."""
    state = state_of(request)
    code = web_state.normalise_code(request.match_info["token"])
    case: Case | None = None
    held = None
    log: list[Any] = []
    if code is not None:
        async with state.bot.sessions() as session:
            case = await web_state.case_by_token(session, code)
            if case is None:
                held = await web_reports.held_by_code(session, code)
                if held is not None and held.case_id is not None:
                    case = await session.get(Case, held.case_id)
            if case is not None:
                log = list(await events(session, case))
    if case is None and held is None:
        address = state.client(request).address
        async with state.bot.sessions() as session, session.begin():
            misses = await web_state.hit(
                session, f"status:miss:{address}", state.wall.now(), state.config.web.report_window
            )
        if misses.count > STATUS_MISSES:
            raise Problem(429, "查询太频繁，请过几分钟再试。")
        return state.render(
            request, "lookup.html", status=404, error="没有找到这个查询码对应的事项，请核对。"
        )
    assert code is not None
    new = request.query.get("new") == "1"
    # Without public_url the page's own address is used: its Host passed the allow-list.
    scheme = "https" if state.client(request).secure else "http"
    link = public_url(state, f"/s/{code}") or f"{scheme}://{request.host}/s/{code}"
    if case is None:
        assert held is not None
        resp = state.render(
            request,
            "status.html",
            case=None,
            held=held,
            new=new,
            code=web_state.show_code(code),
            link=link,
            label=None,
            status_name="已收到，待社区核实",
            steps=[],
            note=None,
            rating=None,
            moved=None,
            may_rate=False,
            may_reopen=False,
            form="",
            path_code=code,
            request_done="",
            request_error=False,
        )
    else:
        names = status_names(CaseKind(case.kind))
        closing = next(
            (e.note for e in reversed(log) if e.action in ("resolved", "completed") and e.note),
            None,
        )
        steps = [
            {"at": local(state, e.at), "text": text}
            for e in log
            if (text := public_step(e.action, e.note)) is not None
        ]
        async with state.bot.sessions() as session:
            reporter = await _reporter_code(session, case, code)
        resolved = case.status == CaseStatus.RESOLVED
        qr = request.query.get("qr", "")[:20]
        resp = state.render(
            request,
            "status.html",
            case=case,
            held=None,
            new=new,
            code=web_state.show_code(code),
            link=link,
            label=case_label(case),
            status_name=names.get(case.status, case.status),
            steps=steps,
            note=closing,
            rating=rating_words(case.rating) if case.rating else None,
            moved=qr if qr and case.building and qr != case.building else None,
            may_rate=reporter and resolved and case.rating is None and case.kind == "report",
            may_reopen=reporter and resolved,
            form=state.signer.sign("status", {"c": code, "n": secrets.token_urlsafe(9)}),
            path_code=code,
            request_done=request.query.get("done", ""),
            request_error=bool(request.query.get("error")),
        )
    # The code is the only key to this page: it must not leak to another site in a Referer.
    # same-origin, not no-referrer: with no-referrer the browser posts the page's own rating
    # and 还没好 forms with "Origin: null", which the same-origin check rightly refuses.
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


async def _reporter_code(session: Any, case: Case, code: str) -> bool:
    """True when the code is the reporter's own (not a neighbour's who seconded the case)."""
    if await web_state.code_of_case(session, case.id) == code:
        return True
    held = await web_reports.held_by_code(session, code)  # held, then filed by the secretary
    return held is not None and held.case_id == case.id


async def status_action(request: web.Request) -> web.Response:
    """POST /s/{code}/{action}: the reporter rates the case or says it is not fixed (还没好)."""
    state = state_of(request)
    code = web_state.normalise_code(request.match_info["token"])
    action = request.match_info["action"]
    if code is None or action not in ("rate", "reopen"):
        raise Problem(404, "没有找到这个查询码对应的事项。")
    if not state.network.same_origin(request):
        raise Problem(403, "请在查询页上操作。", back=f"/s/{code}")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    token = state.signer.unsign("status", form.get("form", ""))
    if token is None or token.get("c") != code:
        raise Problem(403, "页面已过期，请刷新后再试。", back=f"/s/{code}")
    async with state.bot.sessions() as session:
        case = await web_state.case_by_token(session, code)
        if case is None:
            held = await web_reports.held_by_code(session, code)
            if held is not None and held.case_id is not None:
                case = await session.get(Case, held.case_id)
        reporter = case is not None and await _reporter_code(session, case, code)
    if case is None or not reporter:
        raise Problem(404, "没有找到这个查询码对应的事项。")
    result = await actions.resident_action(
        state.bot, case, code, action, form, str(token.get("n", ""))
    )
    where = f"/s/{code}?done={action}" if result.ok else f"/s/{code}?error={action}"
    raise web.HTTPSeeOther(where)


# --- photos and QR codes --------------------------------------------------------------------


async def photo(request: web.Request) -> web.Response:
    """GET /p/{token}.jpg: a photo sent with a report (the link the building head gets)."""
    state = state_of(request)
    async with state.bot.sessions() as session:
        row = await web_reports.photo_by_token(session, request.match_info["token"])
    if row is None:
        raise Problem(404, "没有这张照片。")
    return web.Response(
        body=row.data,
        content_type=row.content_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


def _no_public_url() -> Problem:
    return Problem(
        404,
        "还没有设置 web.public_url（居民手机能打开的网址），所以不生成二维码："
        "否则二维码会指向本机地址，居民扫了打不开。",
        title="没有二维码",
    )


async def qr_svg(request: web.Request) -> web.Response:
    """GET /qr/{compound}/{building}.svg: the building's 民情码 as SVG, made locally with segno."""
    state = state_of(request)
    compound, building = request.match_info["compound"], request.match_info["building"]
    _room_for(state, compound, building)
    url = public_url(state, report_path(compound, building))
    if url is None:
        raise _no_public_url()
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, xmldecl=False)
    return web.Response(
        body=buf.getvalue(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def qr_sheet(request: web.Request) -> web.Response:
    """GET /console/qr: a printable page of QR codes, one per building of the user's compounds."""
    principal = await require_user(request)
    state = state_of(request)
    codes = [
        {
            "compound": c.name,
            "building": b.number,
            "url": public_url(state, report_path(c.name, b.number)),
            "path": report_path(c.name, b.number),
        }
        for c in state.grid.compounds()
        if principal.may_see(c.name)
        for b in c.buildings
    ]
    return await state.page(
        request, "qr.html", codes=codes, public_url=state.config.web.public_url
    )


def add_routes(app: web.Application) -> None:
    """Register the 民情码 routes."""
    app.router.add_get("/r/{compound}/{building}", report_form)
    app.router.add_post("/r/{compound}/{building}", submit_report)
    app.router.add_get("/s", status_lookup)
    app.router.add_get("/s/{token}", status_page)
    app.router.add_post("/s/{token}/{action}", status_action)
    app.router.add_get(r"/p/{token}.jpg", photo)
    app.router.add_get("/qr/{compound}/{building}.svg", qr_svg)
    app.router.add_get("/console/qr", qr_sheet)

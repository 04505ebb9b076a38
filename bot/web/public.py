"""民情码: the public report form per building, the reporter's status page, the QR codes."""

from __future__ import annotations

import io
from collections.abc import Mapping
from urllib.parse import quote

import segno
from aiohttp import web

from bot.core.domain import CaseAction, CaseKind
from bot.core.grid import RoomInfo
from bot.web import filing
from bot.web.console import local, require_user
from bot.web.queries import status_names
from bot.web.state import WebState, state_of
from handlers.routing import case_label
from storage.web_state import case_by_token


def _room_for(state: WebState, compound: str, building: str) -> RoomInfo:
    try:
        known = state.grid.has_building(compound, building)
    except KeyError:
        known = False
    room = state.grid.building_room(compound, building) if known else None
    if room is None:
        raise web.HTTPNotFound(text="没有这栋楼的民情码")
    return room


def public_url(state: WebState, request: web.Request | None, path: str) -> str:
    """An absolute URL: the configured public base, else the address this request came to."""
    base = state.config.web.public_url
    if not base and request is not None:
        base = f"{request.scheme}://{request.host}"
    return f"{(base or '').rstrip('/')}{path}"


def report_path(compound: str, building: str) -> str:
    """The path of a building's 民情码 form."""
    return f"/r/{quote(compound, safe='')}/{quote(building, safe='')}"


def _form_page(
    request: web.Request,
    state: WebState,
    status: int,
    form: Mapping[str, object],
    errors: list[str],
) -> web.Response:
    return state.render(
        request,
        "report_form.html",
        status=status,
        compound=request.match_info["compound"],
        building=request.match_info["building"],
        form=form,
        errors=errors,
        max_what=filing.MAX_WHAT,
        max_where=filing.MAX_WHERE,
        max_phone=filing.MAX_PHONE,
    )


async def report_form(request: web.Request) -> web.Response:
    """GET /r/{compound}/{building}: the short public form."""
    state = state_of(request)
    _room_for(state, request.match_info["compound"], request.match_info["building"])
    empty = {"kind": CaseKind.REPORT.value, "what": "", "where": "", "phone": "", "urgent": False}
    return _form_page(request, state, 200, empty, [])


async def submit_report(request: web.Request) -> web.Response:
    """POST /r/{compound}/{building}: file the report or wish; show its number and status link."""
    state = state_of(request)
    compound, building = request.match_info["compound"], request.match_info["building"]
    room = _room_for(state, compound, building)
    data = await request.post()
    form = {
        "kind": CaseKind.WISH.value
        if data.get("kind") == CaseKind.WISH
        else CaseKind.REPORT.value,
        "what": str(data.get("what", "")),
        "where": str(data.get("where", "")),
        "phone": str(data.get("phone", "")),
        "urgent": data.get("urgent") == "1",
    }
    report = filing.WebReport(
        compound=compound,
        building=building,
        what=str(form["what"]),
        where=str(form["where"]),
        phone=str(form["phone"]),
        urgent=bool(form["urgent"]),
        wish=form["kind"] == CaseKind.WISH,
    )
    problems = filing.check_report(report)
    if problems:
        # Oversized input is not echoed back in full.
        form = {k: (v[:1000] if isinstance(v, str) else v) for k, v in form.items()}
        return _form_page(request, state, 400, form, problems)
    # Only reports that would be filed count: a typo corrected and resent is not spam.
    if not state.report_limiter.allow(request.remote or "?"):
        return state.render(
            request,
            "error.html",
            429,
            title="提交太频繁",
            message="请过几分钟再提交；急事请直接联系楼栋长或拨打 119 / 120。",
            back=None,
        )
    filed = await filing.file_web_report(state.bot, report, room)
    return state.render(
        request,
        "report_done.html",
        label=filed.label,
        joined=filed.joined,
        status_url=public_url(state, request, f"/s/{filed.token}"),
    )


async def status_page(request: web.Request) -> web.Response:
    """GET /s/{token}: the reporter's view of their case, no login."""
    state = state_of(request)
    token = request.match_info["token"]
    case = None
    if 16 <= len(token) <= 64:
        async with state.bot.sessions() as session:
            case = await case_by_token(session, token)
            if case is not None:
                from bot.web.queries import events

                log = await events(session, case)
    if case is None:
        return state.render(
            request, "error.html", 404, title="没有找到", message="链接不对或已失效。", back=None
        )
    names = status_names(CaseKind(case.kind))
    steps = [
        {"at": local(state, e.at), "text": label}
        for e in log
        if (label := CaseAction(e.action).public_label) is not None
    ]
    resp = state.render(
        request,
        "status.html",
        case=case,
        label=case_label(case),
        status_name=names.get(case.status, case.status),
        steps=steps,
    )
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token is the only key to this page
    return resp


async def qr_svg(request: web.Request) -> web.Response:
    """GET /qr/{compound}/{building}.svg: the building's 民情码 as SVG, made locally with segno."""
    state = state_of(request)
    compound, building = request.match_info["compound"], request.match_info["building"]
    _room_for(state, compound, building)
    url = public_url(state, request, report_path(compound, building))
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, xmldecl=False)
    return web.Response(
        body=buf.getvalue(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def qr_sheet(request: web.Request) -> web.Response:
    """GET /console/qr: a printable page of QR codes, one per building of the user's compounds."""
    principal = require_user(request)
    state = state_of(request)
    codes = [
        {
            "compound": c.name,
            "building": b.number,
            "url": public_url(state, request, report_path(c.name, b.number)),
        }
        for c in state.grid.compounds()
        if principal.may_see(c.name)
        for b in c.buildings
    ]
    return state.render(request, "qr.html", codes=codes, public_url=state.config.web.public_url)


def add_routes(app: web.Application) -> None:
    """Register the 民情码 routes."""
    app.router.add_get("/r/{compound}/{building}", report_form)
    app.router.add_post("/r/{compound}/{building}", submit_report)
    app.router.add_get("/s/{token}", status_page)
    app.router.add_get("/qr/{compound}/{building}.svg", qr_svg)
    app.router.add_get("/console/qr", qr_sheet)

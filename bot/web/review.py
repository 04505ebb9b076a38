"""待审核: 民情码 reports held over budget; the secretary files them or marks them spam."""

from __future__ import annotations

from aiohttp import web

from bot.web import filing
from bot.web.console import local
from bot.web.errors import Problem
from bot.web.login import checked_form, require_user
from bot.web.public import public_url
from bot.web.state import WebState, state_of
from storage import web_reports, web_state
from storage.web_models import WebHeldReport, WebPhoto

MAX_AT_ONCE = 200


async def review_page(request: web.Request) -> web.Response:
    """GET /console/review: the held reports of the user's compounds, oldest first."""
    principal = await require_user(request)
    state = state_of(request)
    async with state.bot.sessions() as session:
        held = await web_reports.held_reports(session, principal.visible(state.grid))
    return await state.page(
        request,
        "review.html",
        held=[{"row": h, "at": local(state, h.created_at)} for h in held],
    )


async def review_action(request: web.Request) -> web.Response:
    """POST /console/review: file the ticked reports as cases, or mark them spam."""
    principal = await require_user(request)
    state = state_of(request)
    form = await checked_form(request)
    post = await request.post()
    action = form.get("action", "")
    if action not in ("file", "spam"):
        raise Problem(400, "请选择「转为报事」或「标为无效」。", back="/console/review")
    ids = [int(v) for v in post.getall("id", []) if isinstance(v, str) and v.isdigit()]
    ids = ids[:MAX_AT_ONCE]
    if not ids:
        await state.flash(request, "!请先勾选要处理的报事。")
        raise web.HTTPSeeOther("/console/review")
    now = state.wall.now()
    status = web_reports.FILED if action == "file" else web_reports.SPAM
    async with state.bot.sessions() as session, session.begin():
        # Claimed in one statement: two secretaries clicking at once cannot file one twice.
        moved = await web_reports.decide(
            session, ids, status, principal.actor_id, now, principal.visible(state.grid)
        )
    if action == "spam":
        await state.flash(request, f"已将 {len(moved)} 件标为无效，不会通知楼栋长。")
        raise web.HTTPSeeOther("/console/review")
    labels = [await _file_held(state, h) for h in moved]
    await state.flash(request, f"已转为报事：{'、'.join(labels) or '无'}。楼栋长已收到通知。")
    raise web.HTTPSeeOther("/console/review")


async def _file_held(state: WebState, held: WebHeldReport) -> str:
    """File one held report through the same path as the form; its status code shows the case."""
    room = state.grid.building_room(held.compound, held.building)
    if room is None:
        return f"（{held.compound}{held.building}栋已不在配置中）"
    report = filing.WebReport(
        compound=held.compound,
        building=held.building,
        what=held.what,
        where=held.place,
        phone=held.phone,
        urgent=held.urgent,
        wish=held.wish,
    )
    async with state.bot.sessions() as session:
        photo = await session.get(WebPhoto, held.photo_id) if held.photo_id else None
    link = public_url(state, f"/p/{photo.token}.jpg") if photo else None
    filed = await filing.file_web_report(
        state.bot,
        report,
        room,
        message_id=f"web:held:{held.id}",
        photo_id=held.photo_id,
        photo_link=link,
    )
    async with state.bot.sessions() as session, session.begin():
        case = await web_state.case_by_token(session, filed.token)
        if case is not None:
            # The reporter keeps the code they were given: it now shows the case.
            await web_reports.link_held(session, held.id, case.id)
    return filed.label


def add_routes(app: web.Application) -> None:
    """Register the review routes."""
    app.router.add_get("/console/review", review_page)
    app.router.add_post("/console/review", review_action)

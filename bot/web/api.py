"""The JSON API under /api/: cases, wishes, activities and figures, by session or bearer token."""

from __future__ import annotations

from aiohttp import web

from bot.core.domain import CaseKind
from bot.web import queries
from bot.web.auth import Principal
from bot.web.console import valid_month
from bot.web.state import state_of
from storage.cases import CaseRepository


def require_api(request: web.Request) -> Principal:
    """A bearer token or a console session; 401 otherwise."""
    state = state_of(request)
    principal = state.bearer_principal(request) or state.session_principal(request)
    if principal is None:
        raise web.HTTPUnauthorized(
            text='{"error": "login or an Authorization: Bearer token is needed"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="jinlin"'},
        )
    return principal


def _compounds(request: web.Request, principal: Principal) -> tuple[str, ...]:
    state = state_of(request)
    visible = principal.visible(state.grid)
    wanted = request.query.get("compound")
    if wanted is None:
        return tuple(visible)
    if wanted not in visible:
        raise web.HTTPForbidden(
            text='{"error": "no access to this compound"}', content_type="application/json"
        )
    return (wanted,)


async def _case_list(request: web.Request, kind: str) -> web.Response:
    principal = require_api(request)
    state = state_of(request)
    q = request.query
    urgent = q.get("urgent")
    f = queries.BoardFilter(
        compounds=_compounds(request, principal),
        kind=kind,
        building=q.get("building") or None,
        status=q.get("status") or None,
        category=q.get("category") or None,
        urgent=None if urgent not in ("0", "1") else urgent == "1",
        overdue_only=q.get("overdue") == "1",
    )
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        cases = await queries.board(session, f, state.config, now)
    key = "wishes" if kind == CaseKind.WISH else "cases"
    return web.json_response(
        {key: [queries.case_json(c, state.config, now) for c in cases]},
        dumps=_dumps,
    )


async def cases(request: web.Request) -> web.Response:
    """GET /api/cases: reports, filtered like the board."""
    return await _case_list(request, CaseKind.REPORT)


async def wishes(request: web.Request) -> web.Response:
    """GET /api/wishes: wishes and their claimants."""
    return await _case_list(request, CaseKind.WISH)


async def case_detail(request: web.Request) -> web.Response:
    """GET /api/cases/{kind}/{number}: one case with its log."""
    principal = require_api(request)
    state = state_of(request)
    try:
        kind = CaseKind(request.match_info["kind"])
        number = int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound() from None
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        case = await CaseRepository(session).get(kind, number)
        if case is None or not principal.may_see(case.compound):
            raise web.HTTPNotFound(
                text='{"error": "no such case"}', content_type="application/json"
            )
        log = await queries.events(session, case)
    body = queries.case_json(case, state.config, now)
    body["events"] = [queries.event_json(e) for e in log]
    return web.json_response(body, dumps=_dumps)


async def activities(request: web.Request) -> web.Response:
    """GET /api/activities: activities with rosters and waiting lists."""
    principal = require_api(request)
    state = state_of(request)
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, _compounds(request, principal))
    return web.json_response(
        {"activities": [queries.roster_json(r) for r in rosters]}, dumps=_dumps
    )


async def figures(request: web.Request) -> web.Response:
    """GET /api/figures?month=YYYY-MM: the month's figures per compound."""
    principal = require_api(request)
    state = state_of(request)
    month = valid_month(request.query.get("month"), state)
    async with state.bot.sessions() as session:
        figs = [
            (await queries.figures(session, c, month, state.config)).as_json()
            for c in _compounds(request, principal)
        ]
    return web.json_response({"month": month, "figures": figs}, dumps=_dumps)


def _dumps(data: object) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


def add_routes(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_get("/api/cases", cases)
    app.router.add_get("/api/cases/{kind}/{number}", case_detail)
    app.router.add_get("/api/wishes", wishes)
    app.router.add_get("/api/activities", activities)
    app.router.add_get("/api/figures", figures)

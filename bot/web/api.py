"""The JSON API under /api/: cases, wishes, activities and figures, by session or bearer token.

Phone numbers left on the 民情码 form are never part of it: they go to the building head only.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.core.domain import CaseKind
from bot.web import queries
from bot.web.auth import Principal
from bot.web.console import current_month
from bot.web.errors import Problem, choice_param, month_param, optional_int, positive_int
from bot.web.state import state_of
from storage.cases import CaseRepository

API_PAGE = 100
API_MAX_PAGE = 500


async def require_api(request: web.Request) -> Principal:
    """A bearer token or a console session; 401 otherwise."""
    state = state_of(request)
    principal = state.bearer_principal(request)
    if principal is None:
        login = await state.login_of(request)
        principal = login.principal if login else None
    if principal is None:
        raise Problem(
            401,
            "需要登录，或在请求头里带上 Authorization: Bearer <token>。",
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
        raise Problem(403, "没有这个小区的权限。")
    return (wanted,)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _case_list(request: web.Request, kind: CaseKind) -> web.Response:
    principal = await require_api(request)
    state = state_of(request)
    q = request.query
    names = queries.status_names(kind)
    urgent = choice_param(q.get("urgent"), {"0", "1"})
    f = queries.BoardFilter(
        compounds=_compounds(request, principal),
        kind=kind,
        building=(q.get("building") or "")[:20] or None,
        status=choice_param(q.get("status"), names),
        category=choice_param(q.get("category"), queries.category_names()),
        urgent=None if urgent is None else urgent == "1",
        overdue_only=q.get("overdue") == "1",
        source=choice_param(q.get("source"), queries.SOURCES),
        search=(q.get("q") or "")[:100],
        sort=choice_param(q.get("sort"), queries.SORTS) or "new",
    )
    page = optional_int(q.get("page"), 1, hi=1_000_000)
    per_page = optional_int(q.get("per_page"), API_PAGE, hi=API_MAX_PAGE)
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        result = await queries.board(session, f, state.config, now, page, per_page)
    key = "wishes" if kind == CaseKind.WISH else "cases"
    return _json(
        {
            key: [queries.case_json(c, state.config, now) for c in result.cases],
            "total": result.total,
            "total_is_at_least": result.more,  # the count stopped at `total`
            "page": result.page,
            "pages": result.pages,
        }
    )


async def cases(request: web.Request) -> web.Response:
    """GET /api/cases: reports, filtered like the board."""
    return await _case_list(request, CaseKind.REPORT)


async def wishes(request: web.Request) -> web.Response:
    """GET /api/wishes: wishes and their claimants."""
    return await _case_list(request, CaseKind.WISH)


async def case_detail(request: web.Request) -> web.Response:
    """GET /api/cases/{kind}/{number}[?compound=…]: one case with its log."""
    principal = await require_api(request)
    state = state_of(request)
    if request.match_info["kind"] not in set(CaseKind):
        raise Problem(404, "没有这件事项。")
    kind = CaseKind(request.match_info["kind"])
    number = positive_int(request.match_info["number"])
    now = state.bot.clock.now()
    compound = request.query.get("compound") or None
    async with state.bot.sessions() as session:
        found = await CaseRepository(session).numbered(kind, number, compound)
        seen = [c for c in found if principal.may_see(c.compound)]
        if not seen:
            raise Problem(404, "没有这件事项。")
        if len(seen) > 1:
            where = "、".join(c.compound for c in seen)
            raise Problem(409, f"{where}都有这个编号，请加上 ?compound=小区名。")
        case = seen[0]
        log = await queries.events(session, case)
    body = queries.case_json(case, state.config, now)
    body["events"] = [
        queries.event_json(e) for e in log if e.action not in queries.PRIVATE_ACTIONS
    ]
    return _json(body)


async def activities(request: web.Request) -> web.Response:
    """GET /api/activities: activities with rosters and waiting lists."""
    principal = await require_api(request)
    state = state_of(request)
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, _compounds(request, principal))
    return _json({"activities": [queries.roster_json(r) for r in rosters]})


async def figures(request: web.Request) -> web.Response:
    """GET /api/figures?month=YYYY-MM: the month's 三率 per compound and building."""
    principal = await require_api(request)
    state = state_of(request)
    month = month_param(request.query.get("month"), current_month(state))
    async with state.bot.sessions() as session:
        figs = await queries.month_figures(
            session, _compounds(request, principal), month, state.config
        )
    return _json({"month": month, "figures": [f.as_json() for f in figs]})


def add_routes(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_get("/api/cases", cases)
    app.router.add_get("/api/cases/{kind}/{number}", case_detail)
    app.router.add_get("/api/wishes", wishes)
    app.router.add_get("/api/activities", activities)
    app.router.add_get("/api/figures", figures)

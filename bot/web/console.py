"""The console for secretaries and community workers: login, case board, case log, actions."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from bot.core.domain import ACTIVE_STATUSES, CaseAction, CaseKind
from bot.web import queries
from bot.web.actions import ACTIONS, ActionRefused, run_action
from bot.web.auth import LOGIN_COOKIE, ONE_TIME_USER, SESSION_COOKIE, Principal, verify_password
from bot.web.charts import week_chart
from bot.web.state import WebState, state_of
from handlers.routing import case_label
from storage import web_state
from storage.models import Case

FAILURE_WINDOW_FACTOR = 1  # failures count within one lock-out period
# A hash to check against when the user name is unknown, so both paths take the same time.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def actor_name(state: WebState, case: Case, actor_id: str) -> str:
    """Who did a step, in words: a configured person, the reporter, a console user, the bot."""
    if actor_id.startswith("console:"):
        user = state.user(actor_id.removeprefix("console:"))
        return f"{user.display_name or user.name if user else actor_id}（工作台）"
    if actor_id == "bot":
        return "小邻（自动）"
    if actor_id == case.reporter_id:
        return case.reporter_name
    return state.grid.name_of(actor_id) or actor_id


def require_user(request: web.Request) -> Principal:
    """The logged-in console user; redirects to the login page otherwise."""
    principal = state_of(request).session_principal(request)
    if principal is None:
        raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
    return principal


async def checked_form(request: web.Request) -> dict[str, str]:
    """The POSTed form of a logged-in user, refused (403) without the session's CSRF token."""
    state = state_of(request)
    form = await request.post()
    if not state.check_csrf(request, form):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page and try again")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def local(state: WebState, when: datetime | None) -> str:
    """A time in the bot's timezone, for people."""
    return when.astimezone(state.config.bot.tz).strftime("%m-%d %H:%M") if when else ""


def _safe_next(value: str) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow the login page.
    # "//host" and "/\\host" both leave the site in browsers.
    safe = value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value
    return value if safe else "/console"


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the login form (user name and password, or the one-time token)."""
    state = state_of(request)
    return _login_form(request, state, request.query.get("next", "/console"), None, 200)


def _login_form(
    request: web.Request, state: WebState, nxt: str, error: str | None, status: int
) -> web.Response:
    token, nonce = state.login_form_token()
    resp = state.render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        next=_safe_next(nxt),
        error=error,
        has_users=bool(state.config.web.users),
    )
    resp.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="Strict", path="/login")
    return resp


async def login(request: web.Request) -> web.Response:
    """POST /login: check the form token, the lock-out, then the password or one-time token."""
    state = state_of(request)
    form = await request.post()
    nxt = _safe_next(str(form.get("next", "/console")))
    if not state.check_login_token(request, str(form.get("csrf", ""))):
        return _login_form(request, state, nxt, "页面已过期，请重新登录。", 403)
    cfg = state.config.web
    username = str(form.get("username", ""))[:64] if cfg.users else ONE_TIME_USER
    keys = [f"user:{username}", f"addr:{request.remote or '?'}"]
    now = state.wall.now()
    async with state.bot.sessions() as session, session.begin():
        locked = await web_state.locked_until(session, keys, now)
    if locked is not None:
        return _login_form(request, state, nxt, "失败次数过多，请稍后再试。", 429)
    if cfg.users:
        user = state.user(username)
        ok = verify_password(
            str(form.get("password", ""))[:200], user.password_hash if user else _DUMMY_HASH
        )
        ok = ok and user is not None
    else:
        given = str(form.get("token", ""))[:200]
        ok = state.one_time_token is not None and secrets.compare_digest(
            given.encode(), state.one_time_token.encode()
        )
    async with state.bot.sessions() as session, session.begin():
        if not ok:
            for key in keys:
                await web_state.record_failure(
                    session,
                    key,
                    now,
                    max_failures=cfg.max_failures,
                    window=cfg.lockout * FAILURE_WINDOW_FACTOR,
                    lockout=cfg.lockout,
                )
        else:
            await web_state.clear_failures(session, keys)
    if not ok:
        return _login_form(request, state, nxt, "用户名或密码不对。", 401)
    if not cfg.users:
        state.one_time_token = None  # one use only
    value, _csrf = state.new_session_cookie(username)
    resp = web.HTTPFound(nxt)
    resp.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        max_age=int(cfg.session_ttl.total_seconds()),
        path="/",
    )
    resp.del_cookie(LOGIN_COOKIE, path="/login")
    raise resp


async def logout(request: web.Request) -> web.Response:
    """POST /logout: forget the session cookie."""
    require_user(request)
    await checked_form(request)
    resp = web.HTTPFound("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


def _filter(
    request: web.Request, principal: Principal, state: WebState, kind: CaseKind
) -> tuple[queries.BoardFilter, dict[str, object]]:
    q = request.query
    visible = principal.visible(state.grid)
    compound = q.get("compound", "")
    compounds = tuple(c for c in visible if not compound or c == compound)
    urgent = q.get("urgent", "")
    f = queries.BoardFilter(
        compounds=compounds,
        kind=kind,
        building=q.get("building", "").strip()[:20] or None,
        status=q.get("status") or None,
        category=q.get("category") or None,
        urgent=None if urgent not in ("0", "1") else urgent == "1",
        overdue_only=q.get("overdue") == "1",
    )
    shown: dict[str, object] = {
        "compound": compound,
        "building": f.building,
        "status": f.status,
        "category": f.category,
        "urgent": urgent,
        "overdue": f.overdue_only,
    }
    return f, shown


async def _board(request: web.Request, kind: CaseKind) -> web.Response:
    principal = require_user(request)
    state = state_of(request)
    f, shown = _filter(request, principal, state, kind)
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        cases = await queries.board(session, f, state.config, now)
    rows = [
        {
            "case": c,
            "label": case_label(c),
            "overdue": queries.overdue(c, state.config, now),
            "created": local(state, c.created_at),
        }
        for c in cases
    ]
    return state.render(
        request,
        "board.html",
        kind=kind,
        f=shown,
        rows=rows,
        overdue_count=sum(1 for r in rows if r["overdue"]),
        compounds=principal.visible(state.grid),
        status_names=queries.status_names(kind),
        categories=queries.category_names(),
    )


async def board(request: web.Request) -> web.Response:
    """GET /console: the report board."""
    return await _board(request, CaseKind.REPORT)


async def wishes(request: web.Request) -> web.Response:
    """GET /console/wishes: the wish board with claimants."""
    return await _board(request, CaseKind.WISH)


def _kind_number(request: web.Request) -> tuple[CaseKind, int]:
    try:
        return CaseKind(request.match_info["kind"]), int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def case_page(
    request: web.Request, flash: str | None = None, error: str | None = None
) -> web.Response:
    """GET /console/cases/{kind}/{number}: one case and its full log."""
    principal = require_user(request)
    state = state_of(request)
    kind, number = _kind_number(request)
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        from storage.cases import CaseRepository

        case = await CaseRepository(session).get(kind, number)
        if case is None or not principal.may_see(case.compound):
            # Another compound's case looks exactly like a missing one.
            return state.render(
                request,
                "error.html",
                404,
                title="没有找到",
                message="没有这件事项。",
                back="/console",
            )
        log = await queries.events(session, case)
    names = queries.status_names(kind)
    return state.render(
        request,
        "case.html",
        status=400 if error else 200,
        case=case,
        label=case_label(case),
        status_name=names.get(case.status, case.status),
        category=queries.category_names().get(case.category or "other", "其他"),
        is_overdue=queries.overdue(case, state.config, now),
        times={
            "created": local(state, case.created_at),
            "accepted": local(state, case.accepted_at),
            "resolved": local(state, case.resolved_at),
        },
        log=[
            {
                "at": local(state, e.at),
                "actor": actor_name(state, case, e.actor_id),
                "action": f"{CaseAction(e.action).label}（{e.action}）",
                "note": e.note,
            }
            for e in log
        ],
        active=case.status in ACTIVE_STATUSES,
        buildings=state.grid.compound(case.compound).buildings,
        flash=flash,
        error=error,
    )


async def case_action(request: web.Request) -> web.Response:
    """POST /console/cases/{kind}/{number}/{action}: 派单 / 转派 / 督办 as the console user."""
    principal = require_user(request)
    form = await checked_form(request)
    state = state_of(request)
    kind, number = _kind_number(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    target = form.get("target", "")
    if len(target) > 200:
        raise web.HTTPBadRequest(text="target too long")
    try:
        result = await run_action(state.bot, principal, kind, number, action, target)
    except ActionRefused as e:
        return await case_page(request, error=str(e))
    return await case_page(request, flash=result.message)


async def activities(request: web.Request) -> web.Response:
    """GET /console/activities: activities with their rosters and waiting lists."""
    principal = require_user(request)
    state = state_of(request)
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, principal.visible(state.grid))
    return state.render(
        request,
        "activities.html",
        rosters=[
            {"activity": r.activity, "roster": r, "when": local(state, r.activity.starts_at)}
            for r in rosters
        ],
    )


async def activity_csv(request: web.Request) -> web.Response:
    """GET /console/activities/{id}.csv: the roster and waiting list as CSV."""
    principal = require_user(request)
    state = state_of(request)
    try:
        activity_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, principal.visible(state.grid))
    roster = next((r for r in rosters if r.activity.id == activity_id), None)
    if roster is None:
        raise web.HTTPNotFound()
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["活动", "名单", "姓名", "人数", "报名时间"])
    for status, signups in (("报名", roster.confirmed), ("候补", roster.waiting)):
        for s in signups:
            out.writerow(
                [
                    roster.activity.title,
                    status,
                    _csv_cell(s.person_name),
                    s.headcount,
                    local(state, s.queued_at),
                ]
            )
    name = quote(f"{roster.activity.title}.csv")
    return web.Response(
        body=("\ufeff" + buf.getvalue()).encode("utf-8"),  # BOM so Excel reads UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def _csv_cell(value: str) -> str:
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def current_month(state: WebState) -> str:
    """This month (bot clock, bot timezone) as YYYY-MM."""
    return state.bot.clock.now().astimezone(state.config.bot.tz).strftime("%Y-%m")


def valid_month(value: str | None, state: WebState) -> str:
    """A YYYY-MM month from the query, else this month."""
    if value:
        try:
            datetime.strptime(value, "%Y-%m")
            return value
        except ValueError:
            raise web.HTTPBadRequest(text="month must be YYYY-MM") from None
    return current_month(state)


async def figures(request: web.Request) -> web.Response:
    """GET /console/figures: this month's figures per compound, with a chart by week."""
    principal = require_user(request)
    state = state_of(request)
    month = valid_month(request.query.get("month"), state)
    async with state.bot.sessions() as session:
        figs = [
            await queries.figures(session, c, month, state.config)
            for c in principal.visible(state.grid)
        ]
    return state.render(
        request, "figures.html", month=month, figures=figs, charts=[week_chart(f) for f in figs]
    )


def add_routes(app: web.Application) -> None:
    """Register the console's routes."""
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/console", board)
    app.router.add_get("/console/wishes", wishes)
    app.router.add_get("/console/activities", activities)
    app.router.add_get(r"/console/activities/{id}.csv", activity_csv)
    app.router.add_get("/console/figures", figures)
    app.router.add_get("/console/cases/{kind}/{number}", case_page)
    app.router.add_post("/console/cases/{kind}/{number}/{action}", case_action)

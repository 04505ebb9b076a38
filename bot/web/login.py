"""Console login and logout: attempts counted in the database, sessions kept server-side."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.web.auth import LOGIN_COOKIE, ONE_TIME_USER, SESSION_COOKIE, Principal
from bot.web.errors import Problem, csrf_problem
from bot.web.state import LOGIN, WebState, state_of
from storage import web_sessions, web_state

# A hash to check against when the user name is unknown, so both paths take the same time.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)
_BROWSER_DROPS = re.compile(r"[\t\n\r]")  # the URL parser removes these anywhere
LOGIN_FORM_TTL = 3600  # seconds a login page's form token stays valid
LOCKED_HINT = "管理员可在服务器上运行「jinlin web login-token --user 用户名」取得一次性登录码。"


def safe_next(value: str, default: str = "/console") -> str:
    """A same-origin path to go to after login, as the browser would read it; else `default`."""
    # Browsers strip leading and trailing C0 controls and spaces, drop tabs and newlines
    # anywhere and read "\" as "/": "/\t/evil.example" and "/\\evil" both leave the site.
    v = _BROWSER_DROPS.sub("", value.strip("".join(chr(i) for i in range(0x21))))
    v = v.replace("\\", "/")
    if not v.startswith("/") or v.startswith("//") or any(ord(c) < 0x20 or c == "\x7f" for c in v):
        return default
    parts = urlsplit(v)
    if parts.scheme or parts.netloc:
        return default
    path = quote(parts.path, safe="/%-._~!$&'()*+,;=:@")
    query = quote(parts.query, safe="=&%-._~!$'()*+,;:@/?")
    return path + (f"?{query}" if query else "")


async def require_user(request: web.Request) -> Principal:
    """The logged-in console user; redirects to the login page otherwise."""
    login = await state_of(request).login_of(request)
    if login is None:
        raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
    return login.principal


async def checked_form(request: web.Request) -> dict[str, str]:
    """The POSTed form of a logged-in user; a form without the session's CSRF token is refused."""
    state = state_of(request)
    login = await state.login_of(request)
    form = await request.post()
    got = form.get("csrf", "")
    if login is None or not isinstance(got, str) or not secrets.compare_digest(login.csrf, got):
        raise csrf_problem(back=request.headers.get("Referer") and "javascript:history.back()")
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the login form (user name and password, or a one-time token)."""
    state = state_of(request)
    return _login_form(request, state, request.query.get("next", "/console"), None, 200)


def _login_form(
    request: web.Request, state: WebState, nxt: str, error: str | None, status: int
) -> web.Response:
    # One nonce per browser, kept across pages: two open login tabs both work.
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not 16 <= len(nonce) <= 64:
        nonce = secrets.token_urlsafe(16)
    token = state.signer.sign("login", {"n": nonce, "t": state.wall.now().timestamp()})
    resp = state.render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        next=safe_next(nxt),
        error=error,
        has_users=bool(state.config.web.users),
    )
    resp.set_cookie(
        LOGIN_COOKIE,
        nonce,
        httponly=True,
        samesite="Strict",
        path="/login",
        secure=state.secure_cookie(request),
    )
    return resp


def _login_token_ok(request: web.Request, state: WebState, token: str) -> bool:
    """True when the login form token matches this browser's nonce cookie and is fresh."""
    data = state.signer.unsign("login", token)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if data is None or not nonce or not isinstance(data.get("n"), str):
        return False
    issued = data.get("t")
    fresh = (
        isinstance(issued, int | float)
        and 0 <= state.wall.now().timestamp() - issued < LOGIN_FORM_TTL
    )
    return fresh and secrets.compare_digest(str(data["n"]), nonce)


def _minutes(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds() / 60))


async def login(request: web.Request) -> web.Response:
    """POST /login: form token, then a one-time token or the attempt budget and the password."""
    state = state_of(request)
    form = await request.post()
    nxt = safe_next(str(form.get("next", "/console")))
    if not _login_token_ok(request, state, str(form.get("csrf", ""))):
        return _login_form(request, state, nxt, "页面已过期，请重新登录。", 403)
    cfg = state.config.web
    address = state.client(request).address
    now = state.wall.now()
    token = str(form.get("token", "")).strip()[:200]
    if token or not cfg.users:
        # A one-time token is 144 random bits: guessing is hopeless, but count it all the same.
        async with state.bot.sessions() as session, session.begin():
            tries = await web_state.hit(session, f"login:token:{address}", now, cfg.lockout)
            user = (
                await web_sessions.use_login_token(session, token, now)
                if tries.count <= cfg.max_failures
                else None
            )
        if user is None or state.principal_of(user) is None:
            return _login_form(request, state, nxt, "一次性登录码不对、已用过或已过期。", 401)
        # A locked-out user who proves themselves with a token starts afresh.
        async with state.bot.sessions() as session, session.begin():
            await web_state.forget(session, f"login:user:{user}")
        return await _logged_in(request, state, user, nxt)
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:200]
    pair = f"login:pair:{username}|{address}"
    async with state.bot.sessions() as session:
        # Already locked: refused on a read, so a flood of tries writes nothing.
        locked = await web_state.peek_window(session, pair, now, cfg.lockout)
    if locked is not None and locked.count >= cfg.max_failures:
        wait = _minutes(locked.window_start + cfg.lockout - now)
        msg = f"这个账号在本机登录失败次数过多，请 {wait} 分钟后再试。{LOCKED_HINT}"
        return _login_form(request, state, nxt, msg, 429)
    async with state.bot.sessions() as session, session.begin():
        # The attempt is counted before the password is checked, in one statement: parallel
        # requests cannot all slip past the limit the way a read-then-write check lets them.
        tries = await web_state.hit(session, pair, now, cfg.lockout)
        slow = None
        if tries.count <= cfg.max_failures:
            failures = await web_state.peek(session, f"login:user:{username}", now, cfg.lockout)
            if failures >= cfg.user_backoff_after:
                slow = await web_state.hit(
                    session, f"login:slow:{username}", now, cfg.user_backoff
                )
    if tries.count > cfg.max_failures:
        wait = _minutes(tries.window_start + cfg.lockout - now)
        msg = f"这个账号在本机登录失败次数过多，请 {wait} 分钟后再试。{LOCKED_HINT}"
        return _login_form(request, state, nxt, msg, 429)
    if slow is not None and slow.count > 1:
        msg = (
            f"这个账号最近被多次尝试登录，每 {_minutes(cfg.user_backoff)} 分钟只能试一次，"
            f"请稍后再试。{LOCKED_HINT}"
        )
        return _login_form(request, state, nxt, msg, 429)
    user_cfg = state.user(username)
    ok = await state.check_password(password, user_cfg.password_hash if user_cfg else _DUMMY_HASH)
    ok = ok and user_cfg is not None
    async with state.bot.sessions() as session, session.begin():
        if ok:
            await web_state.forget(session, pair)
        else:
            await web_state.hit(session, f"login:user:{username}", now, cfg.lockout)
    if not ok:
        return _login_form(request, state, nxt, "用户名或密码不对。", 401)
    return await _logged_in(request, state, username, nxt)


async def _logged_in(request: web.Request, state: WebState, user: str, nxt: str) -> web.Response:
    value = await state.start_session(user)
    resp = web.HTTPFound(nxt)
    resp.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=state.secure_cookie(request),
        max_age=int(state.config.web.session_ttl.total_seconds()),
        path="/",
    )
    resp.del_cookie(LOGIN_COOKIE, path="/login")
    raise resp


async def logout(request: web.Request) -> web.Response:
    """POST /logout: end this session on the server, not just in this browser."""
    await require_user(request)
    await checked_form(request)
    state = state_of(request)
    async with state.bot.sessions() as session, session.begin():
        await web_sessions.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


async def account(request: web.Request) -> web.Response:
    """GET /console/account: who is logged in; log out everywhere (admins: everyone)."""
    principal = await require_user(request)
    return await state_of(request).page(request, "account.html", me=principal)


async def logout_everywhere(request: web.Request) -> web.Response:
    """POST /console/account/logout: end this user's sessions, or (admin, all=1) everyone's."""
    principal = await require_user(request)
    form = await checked_form(request)
    everyone = form.get("all") == "1"
    if everyone and not principal.admin:
        raise Problem(403, "只有管理员可以让所有人退出登录。", back="/console/account")
    state = state_of(request)
    login = request[LOGIN]
    async with state.bot.sessions() as session, session.begin():
        await web_sessions.end_sessions(session, None if everyone else login.row.user)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


async def announce_start_token(
    state: WebState, announce: object, ttl: timedelta = timedelta(hours=12)
) -> None:
    """With no console users, print a one-time admin token (kept hashed in the database)."""
    if state.config.web.users or not state.config.web.login_token or not callable(announce):
        return
    async with state.bot.sessions() as session, session.begin():
        token = await web_sessions.add_login_token(session, ONE_TIME_USER, state.wall.now(), ttl)
    announce(f"console one-time login token: {token}")


def add_routes(app: web.Application) -> None:
    """Register the login routes."""
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/console/account", account)
    app.router.add_post("/console/account/logout", logout_everywhere)

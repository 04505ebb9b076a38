"""Refusals in Chinese: one error page for every 4xx/5xx, and checked request parameters."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """A request refused with a status and a message people can act on."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        title: str | None = None,
        back: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or TITLES.get(status, "出错了")
        self.back = back
        self.headers = dict(headers or {})


TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "不能这样操作",
    404: "没有找到",
    405: "不支持这种访问方式",
    409: "已经提交过了",
    413: "提交的内容太大",
    421: "访问地址不对",
    429: "操作太频繁",
    500: "服务出了点问题",
}

MESSAGES = {
    400: "请求的参数不对，请返回上一页重试。",
    401: "请先登录。",
    403: "没有权限进行这个操作。",
    404: "您要找的页面或事项不存在，请检查链接。",
    405: "这个地址不能这样访问，请从页面上的链接或按钮进入。",
    409: "这个表单已经提交过了，没有重复提交。",
    413: "提交的内容太大了：文字请精简，照片请小于规定大小。",
    421: "这个访问地址不在允许的范围内。请使用社区提供的网址访问。",
    429: "操作太频繁，请稍后再试。",
    500: "服务暂时出了点问题，已记录下来，请稍后再试。",
}

CSRF_MESSAGE = (
    "页面已过期，或者您已在别处重新登录过。请返回上一页，刷新后再试一次（您刚才的操作没有生效）。"
)


def csrf_problem(back: str | None = None) -> Problem:
    """The refusal of a form whose CSRF token does not match the session."""
    return Problem(403, CSRF_MESSAGE, title="页面已过期", back=back)


def is_api(request: web.Request) -> bool:
    """True for JSON endpoints, which answer errors as JSON."""
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(request: web.Request, problem: Problem) -> web.Response:
    """The error page (or JSON body) for a refusal."""
    from bot.web.state import WEB_STATE

    if is_api(request) or WEB_STATE not in request.config_dict:
        import json

        return web.Response(
            text=json.dumps({"error": problem.message}, ensure_ascii=False),
            status=problem.status,
            content_type="application/json",
            headers=problem.headers,
        )
    state = request.config_dict[WEB_STATE]
    resp = state.render(
        request,
        "error.html",
        status=problem.status,
        title=problem.title,
        message=problem.message,
        back=problem.back,
    )
    resp.headers.update(problem.headers)
    return resp


@web.middleware
async def chinese_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as a Chinese page (JSON under /api/); nothing unexpected leaks a trace."""
    try:
        return await handler(request)
    except Problem as p:
        return error_response(request, p)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        headers = {
            k: v for k, v in e.headers.items() if k in ("WWW-Authenticate", "Allow", "Retry-After")
        }
        status = e.status if e.status in TITLES else (500 if e.status >= 500 else 400)
        return error_response(request, Problem(status, MESSAGES[status], headers=headers))
    except Exception:
        log.exception("web: %s %s failed", request.method, request.path)
        return error_response(request, Problem(500, MESSAGES[500]))


# --- parameters -----------------------------------------------------------------------------

_DIGITS = re.compile(r"^[0-9]{1,9}$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2099


def positive_int(value: str | None, *, status: int = 404, limit: int = 10**9) -> int:
    """A plain decimal number 1..limit (no signs, spaces, other digits); else a refusal."""
    if value is None or not _DIGITS.match(value) or not 0 < int(value) <= limit:
        raise Problem(status, MESSAGES[status])
    return int(value)


def optional_int(value: str | None, default: int, *, lo: int = 1, hi: int = 10**6) -> int:
    """A small number from the query, clamped to lo..hi; absent or malformed is the default."""
    if value is None or not _DIGITS.match(value):
        return default
    return max(lo, min(hi, int(value)))


def month_param(value: str | None, default: str) -> str:
    """A YYYY-MM month between 2000 and 2099; absent is `default`, anything else a 400."""
    if not value:
        return default
    m = _MONTH.match(value)
    if not m or not FIRST_YEAR <= int(m[1]) <= LAST_YEAR or not 1 <= int(m[2]) <= 12:
        raise Problem(400, f"月份请写成 2026-11 这样的格式（{FIRST_YEAR}–{LAST_YEAR} 年）。")
    return value


def text_param(value: str | None, limit: int) -> str:
    """Free text from the query, trimmed and cut to `limit` characters, no control characters."""
    if not value:
        return ""
    return "".join(c for c in value if c.isprintable())[:limit].strip()


def choice_param(value: str | None, allowed: Mapping[str, object] | set[str]) -> str | None:
    """A value that must be one of `allowed`; anything else counts as absent."""
    return value if value is not None and value in allowed else None

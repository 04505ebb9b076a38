"""The console for secretaries and community workers: case board, case page, actions, figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.core.config import CompoundConfig
from bot.core.domain import ACTIVE_STATUSES, ActivityStatus, CaseKind, CaseStatus, Category
from bot.web import actions, queries
from bot.web.auth import Principal
from bot.web.charts import building_label, rates_chart, trend_chart
from bot.web.errors import (
    Problem,
    choice_param,
    month_param,
    optional_int,
    positive_int,
    text_param,
)
from bot.web.labels import Labeller, rating_words
from bot.web.login import checked_form, require_user, safe_next
from bot.web.state import WebState, state_of
from handlers.routing import case_label
from storage import web_reports, web_state
from storage.cases import CaseRepository
from storage.models import Case

MAX_BULK = 100  # cases per bulk action
_ALIAS = re.compile(r"^\s*(\d+)\s*[栋幢号]\s*(?:楼)?\s*(\d{1,5})?\s*[-－—_ ]?\s*(.*)$")


def local(state: WebState, when: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A time in the bot's timezone, for people."""
    return when.astimezone(state.config.bot.tz).strftime(fmt) if when else ""


def labeller(state: WebState) -> Labeller:
    """Names for ids in case logs."""
    return Labeller(state.grid, {u.name: u.display_name or u.name for u in state.config.web.users})


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: text starting with = + - @ (or tab, CR) is never a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(rows: list[list[object]], filename: str) -> web.Response:
    """A CSV download in UTF-8 with a BOM, so Excel opens the Chinese intact."""
    buf = io.StringIO()
    out = csv.writer(buf)
    for row in rows:
        out.writerow([csv_cell(v) for v in row])
    return web.Response(
        body=("\ufeff" + buf.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def current_month(state: WebState) -> str:
    """This month (bot clock, bot timezone) as YYYY-MM."""
    return state.bot.clock.now().astimezone(state.config.bot.tz).strftime("%Y-%m")


def visible_compounds(request: web.Request, principal: Principal) -> tuple[str, ...]:
    """The compounds of the ?compound= filter that this user may see (all of them if absent)."""
    visible = principal.visible(state_of(request).grid)
    wanted = request.query.get("compound", "")
    return tuple(c for c in visible if not wanted or c == wanted)


# --- the board ------------------------------------------------------------------------------


def _filter(
    request: web.Request, principal: Principal, kind: CaseKind
) -> tuple[queries.BoardFilter, dict[str, Any], int]:
    state = state_of(request)
    q = request.query
    names = queries.status_names(kind)
    urgent = choice_param(q.get("urgent"), {"0", "1"})
    f = queries.BoardFilter(
        compounds=visible_compounds(request, principal),
        kind=kind,
        building=text_param(q.get("building"), 20) or None,
        status=choice_param(q.get("status"), names),
        category=choice_param(q.get("category"), queries.category_names()),
        urgent=None if urgent is None else urgent == "1",
        overdue_only=q.get("overdue") == "1",
        source=choice_param(q.get("source"), queries.SOURCES),
        search=text_param(q.get("q"), 100),
        sort=choice_param(q.get("sort"), queries.SORTS) or "new",
    )
    compound = q.get("compound", "")
    shown = {
        "compound": compound if compound in principal.visible(state.grid) else "",
        "building": f.building or "",
        "status": f.status or "",
        "category": f.category or "",
        "urgent": urgent or "",
        "overdue": "1" if f.overdue_only else "",
        "source": f.source or "",
        "q": f.search,
        "sort": f.sort if f.sort != "new" else "",
    }
    return f, shown, optional_int(q.get("page"), 1, hi=100_000)


async def _board(request: web.Request, kind: CaseKind) -> web.Response:
    principal = await require_user(request)
    state = state_of(request)
    f, shown, page = _filter(request, principal, kind)
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        result = await queries.board(session, f, state.config, now, page)
        held = await web_reports.count_held(session, principal.visible(state.grid))
    base = request.path

    def page_url(n: int) -> str:
        params = {k: v for k, v in shown.items() if v}
        if n > 1:
            params["page"] = str(n)
        return base + ("?" + urlencode(params) if params else "")

    rows = [
        {
            "case": c,
            "label": case_label(c),
            "overdue": queries.overdue(c, state.config, now),
            "created": local(state, c.created_at),
            "source": "民情码" if c.reporter_id.startswith("web:") else "群聊",
        }
        for c in result.cases
    ]
    return await state.page(
        request,
        "board.html",
        kind=kind,
        f=shown,
        rows=rows,
        result=result,
        page_url=page_url,
        held=held,
        compounds=principal.visible(state.grid),
        status_names=queries.status_names(kind),
        categories=queries.category_names(),
        sorts=queries.SORTS,
        sources=queries.SOURCES,
    )


async def board(request: web.Request) -> web.Response:
    """GET /console: the report board."""
    return await _board(request, CaseKind.REPORT)


async def wishes(request: web.Request) -> web.Response:
    """GET /console/wishes: the wish board with claimants."""
    return await _board(request, CaseKind.WISH)


# --- one case -------------------------------------------------------------------------------


def _kind_number(request: web.Request) -> tuple[CaseKind, int]:
    kind = request.match_info["kind"]
    if kind not in set(CaseKind):
        raise Problem(404, "没有这件事项。", back="/console")
    return CaseKind(kind), positive_int(request.match_info["number"])


def case_path(case: Case) -> str:
    """The console page of a case (numbers count per compound, so the compound goes too)."""
    return f"/console/cases/{case.kind}/{case.number}?{urlencode({'c': case.compound})}"


async def visible_case(
    request: web.Request, principal: Principal, compound: str | None = None
) -> Case:
    """The case the URL names, if this user may see it; another compound's looks missing.

    The compound comes from `?c=` (or the form's `c`); without it, the number must name one
    case among the compounds this user sees.
    """
    kind, number = _kind_number(request)
    compound = compound or request.query.get("c") or None
    async with state_of(request).bot.sessions() as session:
        found = await CaseRepository(session).numbered(kind, number, compound)
    seen = [c for c in found if principal.may_see(c.compound)]
    if not seen:
        raise Problem(404, "没有这件事项，或它不在您负责的小区。", back="/console")
    if len(seen) > 1:
        links = "、".join(c.compound for c in seen)
        raise Problem(
            404,
            f"{links}都有 {case_label(seen[0])}，请从看板上点开要看的那一件。",
            back="/console",
        )
    return seen[0]


def helpers_of(compound: CompoundConfig) -> list[tuple[str, str]]:
    """Who may claim a wish of the compound: volunteers and building heads, by name."""
    out = [
        (v.id, f"{v.name}（{v.team}队志愿者）" if v.team else v.name) for v in compound.volunteers
    ]
    out += [
        (b.head.id, f"{b.head.name}（{b.number}栋楼栋长）") for b in compound.buildings if b.head
    ]
    return list(dict(out).items())


async def case_page(request: web.Request) -> web.Response:
    """GET /console/cases/{kind}/{number}: one case, its log and what can be done with it."""
    principal = await require_user(request)
    state = state_of(request)
    case = await visible_case(request, principal)
    now = state.bot.clock.now()
    names = labeller(state)
    async with state.bot.sessions() as session:
        log = await queries.events(session, case)
        phone = await web_reports.contact_of(session, case.id)
        photos = await web_reports.photos_of(session, case.id)
        code = await web_state.code_of_case(session, case.id)
    status_names = queries.status_names(CaseKind(case.kind))
    compound = state.grid.compound(case.compound)
    return await state.page(
        request,
        "case.html",
        case=case,
        label=case_label(case),
        status_name=status_names.get(case.status, case.status),
        category=queries.category_names().get(case.category or "other", "其他"),
        is_overdue=queries.overdue(case, state.config, now),
        times={
            "created": local(state, case.created_at),
            "accepted": local(state, case.accepted_at),
            "resolved": local(state, case.resolved_at),
        },
        rating=rating_words(case.rating),
        phone=phone,
        photos=[p.token for p in photos],
        status_code=web_state.show_code(code) if code else None,
        source="民情码" if case.reporter_id.startswith("web:") else (case.room or "私聊"),
        log=[
            {"at": local(state, e.at), "actor": ln.actor, "action": ln.action, "note": ln.note}
            for e, ln in ((e, names.line(case, e)) for e in log)
        ],
        active=case.status in ACTIVE_STATUSES,
        closed=case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
        can=actions.FOR_KIND[CaseKind(case.kind)],
        helpers=helpers_of(compound),
        buildings=compound.buildings,
        default_building=case.building or "",
        categories=queries.category_names(),
    )


async def case_action(request: web.Request) -> web.Response:
    """POST /console/cases/{kind}/{number}/{action}: run it, then show the case again (PRG)."""
    principal = await require_user(request)
    form = await checked_form(request)
    state = state_of(request)
    case = await visible_case(request, principal, form.get("c") or None)
    action = request.match_info["action"]
    kind = CaseKind(case.kind)
    if action not in actions.FOR_KIND[kind]:
        raise Problem(404, "没有这项操作。", back=case_path(case))
    if any(len(form.get(k, "")) > 1000 for k in ("target", "text")):
        raise Problem(400, "填写的内容太长了。", back=case_path(case))
    result = await actions.run_action(
        state.bot, principal, kind, case.number, action, form, form.get("idem", ""), case.compound
    )
    await state.flash(request, result.message if result.ok else "!" + result.message)
    raise web.HTTPSeeOther(case_path(case))


async def bulk_action(request: web.Request) -> web.Response:
    """POST /console/bulk: close or mark spam many reports at once, each on the dispatch path."""
    principal = await require_user(request)
    form = await checked_form(request)
    state = state_of(request)
    post = await request.post()
    back = safe_next(form.get("back", "/console"))
    action = form.get("action", "")
    if action not in actions.BULK:
        raise Problem(400, "请选择「批量办结」或「批量标为无效」。", back=back)
    numbers = sorted(
        {int(v) for v in post.getall("case", []) if isinstance(v, str) and v.isdigit()}
    )[:MAX_BULK]
    if not numbers:
        await state.flash(request, "!请先勾选要处理的事项。")
        raise web.HTTPSeeOther(back)
    done: list[str] = []
    refused: list[str] = []
    fields = {"text": form.get("text", "")[:200] or "批量处理"}
    for n in numbers:
        result = await actions.run_action(
            state.bot, principal, CaseKind.REPORT, n, action, fields, form.get("idem", "")
        )
        (done if result.ok else refused).append(
            f"#{n}" if result.ok else f"#{n}：{result.message}"
        )
    text = f"已处理 {len(done)} 件：{'、'.join(done) or '无'}。"
    if refused:
        text += f" 未处理 {len(refused)} 件：" + "；".join(refused[:5])
    await state.flash(request, text if not refused or done else "!" + text)
    raise web.HTTPSeeOther(back)


# --- activities -----------------------------------------------------------------------------


def split_alias(name: str) -> tuple[str, str, str]:
    """ "3栋402-王阿姨" → ("3", "402", "王阿姨"); a name without an alias keeps only the name."""
    m = _ALIAS.match(name)
    if not m:
        return "", "", name
    return m[1], m[2] or "", m[3].strip() or name


async def activities(request: web.Request) -> web.Response:
    """GET /console/activities: upcoming and past activities with rosters and waiting lists."""
    principal = await require_user(request)
    state = state_of(request)
    now = state.bot.clock.now()
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, principal.visible(state.grid))
    items = [
        {
            "activity": r.activity,
            "roster": r,
            "when": local(state, r.activity.starts_at, "%Y-%m-%d %H:%M"),
            "state": (
                "已取消"
                if r.activity.status == ActivityStatus.CANCELLED
                else ("已结束" if r.activity.starts_at <= now else "报名中")
            ),
            "past": r.activity.starts_at <= now,
        }
        for r in rosters
    ]
    return await state.page(
        request,
        "activities.html",
        upcoming=[i for i in items if not i["past"]][::-1],
        past=[i for i in items if i["past"]],
        compounds=principal.visible(state.grid),
    )


async def activity_publish(request: web.Request) -> web.Response:
    """POST /console/activities/publish: 发布活动 through the same handler as the command."""
    principal = await require_user(request)
    form = await checked_form(request)
    state = state_of(request)
    result = await actions.publish_activity(state.bot, principal, form, form.get("idem", ""))
    await state.flash(request, result.message if result.ok else "!" + result.message)
    raise web.HTTPSeeOther("/console/activities")


async def activity_cancel(request: web.Request) -> web.Response:
    """POST /console/activities/{id}/cancel: cancel it and tell the compound's rooms."""
    principal = await require_user(request)
    form = await checked_form(request)
    state = state_of(request)
    activity_id = positive_int(request.match_info["id"])
    result = await actions.cancel_activity(
        state.bot, principal, activity_id, form.get("text", ""), form.get("idem", "")
    )
    await state.flash(request, result.message if result.ok else "!" + result.message)
    raise web.HTTPSeeOther("/console/activities")


async def activity_csv(request: web.Request) -> web.Response:
    """GET /console/activities/{id}.csv: the roster and waiting list, with building and room."""
    principal = await require_user(request)
    state = state_of(request)
    activity_id = positive_int(request.match_info["id"])
    async with state.bot.sessions() as session:
        rosters = await queries.activities(session, principal.visible(state.grid))
    roster = next((r for r in rosters if r.activity.id == activity_id), None)
    if roster is None:
        raise Problem(404, "没有这个活动。", back="/console/activities")
    rows: list[list[object]] = [
        ["活动", "名单", "楼栋", "房号", "称呼", "群昵称", "人数", "群", "报名时间"]
    ]
    for status, signups in (("报名", roster.confirmed), ("候补", roster.waiting)):
        for s in signups:
            building, room_no, name = split_alias(s.person_name)
            if not building and s.room:
                info = state.grid.room(s.room)
                building = (info.single_building or "") if info else ""
            rows.append(
                [
                    roster.activity.title,
                    status,
                    building,
                    room_no,
                    name,
                    s.person_name,
                    s.headcount,
                    s.room or "",
                    local(state, s.queued_at, "%Y-%m-%d %H:%M"),
                ]
            )
    return csv_response(rows, f"{roster.activity.title}.csv")


# --- figures --------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else "—"


async def figures(request: web.Request) -> web.Response:
    """GET /console/figures?month=YYYY-MM: 三率 per compound and building, charts, CSV."""
    principal = await require_user(request)
    state = state_of(request)
    month = month_param(request.query.get("month"), current_month(state))
    async with state.bot.sessions() as session:
        figs = await queries.month_figures(
            session, principal.visible(state.grid), month, state.config
        )
    return await state.page(
        request,
        "figures.html",
        month=month,
        figures=figs,
        pct=_pct,
        building_label=building_label,
        quote=quote,
    )


async def figures_chart(request: web.Request) -> web.Response:
    """GET /console/figures/{chart}.svg?compound=&month=: the trend or the 三率 chart."""
    principal = await require_user(request)
    state = state_of(request)
    chart = request.match_info["chart"]
    if chart not in ("trend", "rates"):
        raise Problem(404, "没有这张图。")
    month = month_param(request.query.get("month"), current_month(state))
    compound = request.query.get("compound", "")
    if not principal.may_see(compound) or compound not in principal.visible(state.grid):
        raise Problem(404, "没有这个小区的数据。")
    async with state.bot.sessions() as session:
        (fig,) = await queries.month_figures(session, [compound], month, state.config)
    body = trend_chart(fig) if chart == "trend" else rates_chart(fig)
    return web.Response(
        body=body,
        content_type="image/svg+xml",
        # A standalone image: its own styles may run, nothing else (no script, no fetch).
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


async def month_csv(request: web.Request) -> web.Response:
    """GET /console/figures/cases.csv?month=YYYY-MM: every case filed that month."""
    principal = await require_user(request)
    state = state_of(request)
    month = month_param(request.query.get("month"), current_month(state))
    async with state.bot.sessions() as session:
        cases = await queries.month_cases(
            session, visible_compounds(request, principal), month, state.config
        )
    fmt = "%Y-%m-%d %H:%M"
    rows: list[list[object]] = [
        [
            "编号",
            "类型",
            "小区",
            "楼栋",
            "类别",
            "紧急",
            "状态",
            "来源",
            "内容",
            "承办人",
            "登记时间",
            "接单时间",
            "办结时间",
            "评价",
        ]
    ]
    for c in cases:
        statuses = queries.status_names(CaseKind(c.kind))
        rows.append(
            [
                case_label(c),
                CaseKind(c.kind).label,
                c.compound,
                c.building or "",
                Category.of(c.category).label if c.kind == CaseKind.REPORT else "",
                "是" if c.urgent else "",
                statuses.get(c.status, c.status),
                "民情码" if c.reporter_id.startswith("web:") else "群聊",
                c.text,
                c.assignee_name or "",
                local(state, c.created_at, fmt),
                local(state, c.accepted_at, fmt),
                local(state, c.resolved_at, fmt),
                rating_words(c.rating) if c.rating else "",
            ]
        )
    return csv_response(rows, f"报事-{month}.csv")


def add_routes(app: web.Application) -> None:
    """Register the console's routes."""
    app.router.add_get("/console", board)
    app.router.add_get("/console/wishes", wishes)
    app.router.add_get("/console/activities", activities)
    app.router.add_get(r"/console/activities/{id}.csv", activity_csv)
    app.router.add_get("/console/figures", figures)
    app.router.add_get("/console/figures/cases.csv", month_csv)
    app.router.add_get(r"/console/figures/{chart}.svg", figures_chart)
    app.router.add_get("/console/cases/{kind}/{number}", case_page)
    app.router.add_post("/console/cases/{kind}/{number}/{action}", case_action)
    app.router.add_post("/console/bulk", bulk_action)
    app.router.add_post("/console/activities/publish", activity_publish)
    app.router.add_post(r"/console/activities/{id}/cancel", activity_cancel)

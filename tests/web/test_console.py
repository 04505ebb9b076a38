"""The console: login, CSRF, lock-out, the case board, a case's log, actions, figures, CSV."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.web.auth import SESSION_COOKIE
from storage.models import Activity, Case, CaseEvent, OutboxMessage, Signup
from tests.web.conftest import PASSWORD, WebEnv, login_form

ROOM3 = "武夷香榭3栋业主群"
ROOM_JN = "江南八仙小区5栋"


async def test_console_without_session_redirects_to_login(lite_env: WebEnv) -> None:
    for path in ("/console", "/console/wishes", "/console/figures", "/console/cases/report/1"):
        resp = await lite_env.client.get(path, allow_redirects=False)
        assert resp.status == 302
        assert resp.headers["Location"].startswith("/login?next=")


async def test_login_sets_a_signed_httponly_cookie(lite_env: WebEnv) -> None:
    form = await login_form(lite_env.client, username="li", password=PASSWORD)
    resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console"
    cookie = resp.headers["Set-Cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    board = await lite_env.client.get("/console")
    assert board.status == 200
    assert "李书记" in await board.text()


async def test_login_refuses_a_wrong_form_token(lite_env: WebEnv) -> None:
    form = await login_form(lite_env.client, username="li", password=PASSWORD)
    form["csrf"] = form["csrf"][:-2] + "xx"
    resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
    assert resp.status == 403
    assert SESSION_COOKIE not in resp.headers.get("Set-Cookie", "")


async def test_forged_session_cookie_is_refused(lite_env: WebEnv) -> None:
    lite_env.client.session.cookie_jar.update_cookies({SESSION_COOKIE: "eyJ1IjoibGkifQ.forged"})
    resp = await lite_env.client.get("/console", allow_redirects=False)
    assert resp.status == 302


async def test_repeated_failures_lock_the_user_out(lite_env: WebEnv) -> None:
    for _ in range(3):
        form = await login_form(lite_env.client, username="li", password="wrong")
        resp = await lite_env.client.post("/login", data=form)
        assert resp.status == 401
    form = await login_form(lite_env.client, username="li", password=PASSWORD)
    resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
    assert resp.status == 429
    assert "失败次数过多" in await resp.text()


async def test_unknown_user_is_refused_like_a_wrong_password(lite_env: WebEnv) -> None:
    form = await login_form(lite_env.client, username="nobody", password=PASSWORD)
    resp = await lite_env.client.post("/login", data=form)
    assert resp.status == 401


async def test_board_filters_and_marks_overdue_cases(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了，困在一楼")
    await env.say(ROOM3, "wxid_r2", "3栋501-陈", "楼道灯不亮了好几天")
    await env.say(ROOM_JN, "wxid_r3", "5栋101-吴", "5栋门口的水管爆了")
    env.clock.set(env.clock.now() + timedelta(hours=3))
    await env.login("li")
    html = await (await env.client.get("/console")).text()
    assert 'data-case="#1"' in html and 'data-case="#2"' in html
    assert 'data-case="#3"' not in html  # another compound
    assert 'class="overdue' in html
    lifts = await (await env.client.get("/console?category=lift")).text()
    assert 'data-case="#1"' in lifts and 'data-case="#2"' not in lifts
    other = await (await env.client.get("/console?compound=江南八仙")).text()
    assert 'data-case="#3"' not in other


async def test_case_page_shows_the_log_and_hides_other_compounds(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.say(ROOM_JN, "wxid_r3", "5栋101-吴", "5栋门口的水管爆了")
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    await env.login("li")
    page = await env.client.get("/console/cases/report/1")
    html = await page.text()
    assert page.status == 200
    assert (
        "登记" in html
        and "小邻（自动）" in html
        and "给楼栋长王姐" in html
        and "接单" in html
        and "王姐" in html
    )
    # Log entries read as words: no raw ids, roles or action codes.
    assert "wxid_" not in html and "building_head" not in html and "（accepted）" not in html
    assert (await env.client.get("/console/cases/report/2")).status == 404
    assert (await env.client.get("/console/cases/report/99")).status == 404
    assert (await env.client.get("/console/cases/nothing/1")).status == 404


async def test_transfer_goes_through_the_handlers_with_the_console_user_as_actor(
    env: WebEnv,
) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.login("li")
    csrf = await env.csrf("/console/cases/report/1")
    refused = await env.client.post(
        "/console/cases/report/1/transfer", data={"target": "5", "csrf": "wrong"}
    )
    assert refused.status == 403
    resp = await env.client.post(
        "/console/cases/report/1/transfer", data={"target": "5", "csrf": csrf}
    )
    assert resp.status == 200 and resp.history[0].status == 303  # Post/Redirect/Get
    assert "已转给楼栋长周师傅" in await resp.text()
    await env.bot.sender.drain()
    assert any(m.to_person == "wxid_zhou" and "#1" in m.text for m in env.transport.sent)
    assert not any(m.to_person == "console:li" for m in env.transport.sent)
    async with env.bot.sessions() as session:
        events = (await session.execute(select(CaseEvent).order_by(CaseEvent.id))).scalars().all()
    assert ("console:li", "transferred") in [(e.actor_id, e.action) for e in events]


async def test_assign_and_nudge(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.login("chen")  # a community worker sees every compound of the community
    csrf = await env.csrf("/console/cases/report/1")
    resp = await env.client.post(
        "/console/cases/report/1/assign", data={"target": "9", "csrf": csrf}
    )
    assert "已派给楼栋长林阿姨" in await resp.text()
    resp = await env.client.post("/console/cases/report/1/nudge", data={"csrf": csrf})
    assert "已督办 #1" in await resp.text()
    await env.bot.sender.drain()
    assert any(
        m.to_person == "wxid_lin" and "社区小陈督办" not in m.text and "督办" in m.text
        for m in env.transport.sent
    )
    async with env.bot.sessions() as session:
        log = (await session.execute(select(CaseEvent).order_by(CaseEvent.id))).scalars().all()
    assert [(e.actor_id, e.action) for e in log if e.actor_id.startswith("console:")] == [
        ("console:chen", "dispatched"),
        ("console:chen", "nudged"),
    ]
    bad = await env.client.post(
        "/console/cases/report/1/assign", data={"target": "77", "csrf": csrf}
    )
    assert bad.status == 200 and "没有 77 这栋楼" in await bad.text()
    assert 'role="alert"' in await bad.text()


async def test_actions_on_another_compounds_case_are_refused(env: WebEnv) -> None:
    await env.say(ROOM_JN, "wxid_r3", "5栋101-吴", "5栋门口的水管爆了")
    await env.login("li")
    csrf = await env.csrf()
    resp = await env.client.post(
        "/console/cases/report/1/nudge", data={"target": "", "csrf": csrf}
    )
    assert resp.status == 404
    async with env.bot.sessions() as session:
        actions = (
            (await session.execute(select(CaseEvent.action).order_by(CaseEvent.id)))
            .scalars()
            .all()
        )
    assert "nudged" not in actions


async def test_oversized_form_is_refused(lite_env: WebEnv) -> None:
    await lite_env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await lite_env.login("li")
    csrf = await lite_env.csrf()
    resp = await lite_env.client.post(
        "/console/cases/report/1/nudge", data={"target": "x" * 1500, "csrf": csrf}
    )
    assert resp.status == 400
    huge = await lite_env.client.post(
        "/console/cases/report/1/nudge", data={"target": "x" * 200_000, "csrf": csrf}
    )
    assert huge.status == 413 and "提交的内容太大" in await huge.text()


async def test_logout_needs_csrf_and_clears_the_session(lite_env: WebEnv) -> None:
    await lite_env.login("li")
    assert (await lite_env.client.post("/logout", data={"csrf": "no"})).status == 403
    csrf = await lite_env.csrf()
    resp = await lite_env.client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await lite_env.client.get("/console", allow_redirects=False)).status == 302


async def test_figures_count_the_month(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    env.clock.set(env.clock.now() + timedelta(minutes=30))
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    env.clock.set(env.clock.now() + timedelta(hours=5))
    await env.say(None, "wxid_wang", "王姐", "办结 1 已修好")
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "满意")
    await env.login("li")
    html = await (await env.client.get("/console/figures")).text()
    assert "2026-11" in html and "30 分钟" in html and 'src="/console/figures/trend.svg' in html
    assert (await env.client.get("/console/figures?month=bad")).status == 400


async def test_activities_page_and_csv(env: WebEnv) -> None:
    now = env.clock.now()
    async with env.bot.sessions() as session, session.begin():
        act = Activity(
            key="t:1",
            source="config",
            compound="武夷香榭",
            title="冬至包饺子",
            starts_at=now + timedelta(days=20),
            place="党群连心园",
            capacity=2,
            status="open",
            created_at=now,
        )
        session.add(act)
        await session.flush()
        for i, (name, status) in enumerate([("=王阿姨", "confirmed"), ("李叔", "waiting")]):
            session.add(
                Signup(
                    activity_id=act.id,
                    person_id=f"p{i}",
                    person_name=name,
                    headcount=1,
                    status=status,
                    room=ROOM3,
                    queued_at=now + timedelta(minutes=i),
                    created_at=now,
                    updated_at=now,
                )
            )
        other = Activity(
            key="t:2",
            source="config",
            compound="江南八仙",
            title="义诊",
            starts_at=now,
            place="",
            capacity=None,
            status="open",
            created_at=now,
        )
        session.add(other)
        await session.flush()
        act_id, other_id = act.id, other.id
    await env.login("li")
    html = await (await env.client.get("/console/activities")).text()
    assert "冬至包饺子" in html and "李叔" in html and "义诊" not in html
    resp = await env.client.get(f"/console/activities/{act_id}.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    body = (await resp.read()).decode("utf-8-sig")
    assert "'=王阿姨" in body and "候补" in body
    assert (await env.client.get(f"/console/activities/{other_id}.csv")).status == 404


async def test_one_time_token_login_when_no_users(web_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import make_env

    cfg = web_config.model_copy(update={"web": web_config.web.model_copy(update={"users": []})})
    printed: list[str] = []
    env = await make_env(cfg, f"sqlite+aiosqlite:///{tmp_path / 'ot.db'}", announce=printed.append)
    try:
        (line,) = printed
        token = line.rsplit(" ", 1)[1]
        form = await login_form(env.client, token="wrong")
        assert (await env.client.post("/login", data=form)).status == 401
        form = await login_form(env.client, token=token)
        resp = await env.client.post("/login", data=form, allow_redirects=False)
        assert resp.status == 302
        assert (await env.client.get("/console")).status == 200
        env.client.session.cookie_jar.clear()
        form = await login_form(env.client, token=token)
        assert (await env.client.post("/login", data=form)).status == 401  # used up
    finally:
        await env.client.close()
        await env.bot.stop()


async def test_outbox_is_untouched_by_page_views(lite_env: WebEnv) -> None:
    await lite_env.login("li")
    for path in ("/console", "/console/wishes", "/console/activities", "/console/figures"):
        assert (await lite_env.client.get(path)).status == 200
    async with lite_env.bot.sessions() as session:
        assert (await session.execute(select(OutboxMessage))).first() is None


async def test_wishes_board_shows_claimants(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "微心愿：想借个轮椅用两周")
    await env.say(None, "wxid_zhao", "赵老师", "认领 W1")
    await env.login("li")
    html = await (await env.client.get("/console/wishes")).text()
    assert 'data-case="W1"' in html and "赵老师" in html and "已认领" in html
    page = await env.client.get("/console/cases/wish/1")
    assert page.status == 200 and "认领" in await page.text()
    api = await (await env.client.get("/api/wishes")).json()
    assert [(w["label"], w["assignee_name"]) for w in api["wishes"]] == [("W1", "赵老师")]


async def test_root_and_static_files(lite_env: WebEnv) -> None:
    resp = await lite_env.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console"
    for name in ("style.css", "sandbox.js", "console.js"):
        assert (await lite_env.client.get(f"/static/{name}")).status == 200
    assert (await lite_env.client.get("/static/../web/auth.py")).status in (403, 404)


async def test_login_never_redirects_off_site(lite_env: WebEnv) -> None:
    for target in (
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example/x",
    ):
        form = await login_form(lite_env.client, username="li", password=PASSWORD)
        form["next"] = target
        resp = await lite_env.client.post("/login", data=form, allow_redirects=False)
        assert resp.headers["Location"] == "/console"


async def test_numbers_count_per_compound_and_links_carry_the_compound(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.say(ROOM_JN, "wxid_r3", "5栋101-吴", "5栋门口的水管爆了")
    await env.login("chen")  # a community worker: sees #1 of both compounds
    board = await (await env.client.get("/console")).text()
    assert "/console/cases/report/1?c=%E6%AD%A6%E5%A4%B7%E9%A6%99%E6%A6%AD" in board  # 武夷香榭
    assert "/console/cases/report/1?c=%E6%B1%9F%E5%8D%97%E5%85%AB%E4%BB%99" in board  # 江南八仙
    both = await env.client.get("/console/cases/report/1")
    assert both.status == 404 and "武夷香榭、江南八仙都有 #1" in await both.text()
    page = await env.client.get("/console/cases/report/1", params={"c": "江南八仙"})
    assert page.status == 200 and "5栋门口的水管爆了" in await page.text()
    csrf = await env.csrf("/console/cases/report/1?c=江南八仙")
    resp = await env.client.post(
        "/console/cases/report/1/nudge", data={"csrf": csrf, "c": "江南八仙"}
    )
    assert resp.status == 200 and resp.url.query.get("c") == "江南八仙"
    async with env.bot.sessions() as session:
        nudged = (
            (await session.execute(select(CaseEvent.case_id).where(CaseEvent.action == "nudged")))
            .scalars()
            .all()
        )
        cases = {c.id: c.compound for c in (await session.execute(select(Case))).scalars()}
    assert [cases[i] for i in nudged] == ["江南八仙"]

"""The console a community worker works in, and the 民情码 items that run through the handlers."""

from __future__ import annotations

import io
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from PIL import Image
from sqlalchemy import select

from bot.core.domain import CaseStatus
from storage.models import Activity, Case, CaseEvent, CaseSupporter, ScheduledTask, Signup
from storage.web_models import WebPhoto
from tests.web.conftest import TZ, WebEnv, origin_of, post_report

ROOM3 = "武夷香榭3栋业主群"
ROOM5 = "武夷香榭5栋业主群"
FORM3 = "/r/" + quote("武夷香榭") + "/3"


async def act(env: WebEnv, number: int, action: str, kind: str = "report", **fields: str) -> str:
    """Post a case page form as the logged-in user; the text of the page it leads to."""
    path = f"/console/cases/{kind}/{number}"
    csrf = await env.csrf(path)
    data = {"csrf": csrf, "idem": secrets.token_urlsafe(9), **fields}
    resp = await env.client.post(f"{path}/{action}", data=data)
    assert resp.history and resp.history[0].status == 303, await resp.text()
    return await resp.text()


async def case_of(env: WebEnv, number: int, kind: str = "report") -> Case:
    async with env.bot.sessions() as session:
        found = await session.execute(select(Case).where(Case.kind == kind, Case.number == number))
        return found.scalar_one()


async def log_of(env: WebEnv, number: int) -> list[tuple[str, str, str]]:
    case = await case_of(env, number)
    async with env.bot.sessions() as session:
        rows = await session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        return [(e.actor_id, e.action, e.note) for e in rows.scalars()]


def sent_to(env: WebEnv, person: str | None = None, room: str | None = None) -> list[str]:
    return [
        m.text
        for m in env.transport.sent
        if (person is not None and m.to_person == person)
        or (room is not None and m.to_room == room)
    ]


async def test_note_reply_close_and_reopen_run_as_the_console_user(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了，晚上看不见")
    await env.login("li")
    page = await act(env, 1, "note", text="物业说明天上午来")
    assert "已记下 #1 的备注" in page and "物业说明天上午来" in page
    page = await act(env, 1, "reply", text="已联系物业，明天上午来修")
    assert "已在群里回复居民" in page
    page = await act(env, 1, "close", text="已换灯泡")
    assert "#1 已办结" in page and 'id="reopen-form"' in page
    page = await act(env, 1, "reopen", text="居民说又坏了")
    assert "已重新打开 #1" in page
    await env.bot.sender.drain()
    group = sent_to(env, room=ROOM3)
    assert any("社区回复（#1）：已联系物业，明天上午来修" in t for t in group)
    assert any("已办结：已换灯泡" in t for t in group)
    assert all("物业说明天上午来" not in t for t in group)  # an internal note stays inside
    assert any("重新打开" in t and "接单 1" in t for t in sent_to(env, "wxid_wang"))
    assert not sent_to(env, "console:li")  # the console's own replies are shown on the page
    log = await log_of(env, 1)
    mine = [a for actor, a, _ in log if actor == "console:li"]
    assert mine == ["note", "replied", "resolved", "reopened"]
    case = await case_of(env, 1)
    assert case.status == CaseStatus.OPEN and case.accept_due_at is not None
    assert case.accept_due_at > env.clock.now()
    html = await (await env.client.get("/console/cases/report/1")).text()
    assert "李书记（工作台）" in html and "内部备注" in html and "回复居民" in html


async def test_the_resident_sees_the_note_rates_and_says_not_fixed(env: WebEnv) -> None:
    resp = await post_report(env.client, FORM3, what="楼道灯坏了")
    status_path = resp.url.path
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    await env.say(None, "wxid_wang", "王姐", "办结 1 已换了新灯泡")
    page = await (await env.client.get(status_path)).text()
    assert 'id="closing-note"' in page and "已换了新灯泡" in page
    form = re.search(r'name="form" value="([^"]+)"', page)
    assert form and 'id="rate-form"' in page and 'id="reopen-form"' in page
    headers = {"Origin": origin_of(env.client)}
    rated = await env.client.post(
        status_path + "/rate", data={"form": form[1], "score": "5"}, headers=headers
    )
    text = await rated.text()
    assert "谢谢您的评价" in text and "满意（5分）" in text and 'id="rate-form"' not in text
    again = await (await env.client.get(status_path)).text()
    form = re.search(r'name="form" value="([^"]+)"', again)
    assert form
    reopened = await env.client.post(
        status_path + "/reopen", data={"form": form[1], "text": "第二天又不亮了"}, headers=headers
    )
    assert "已重新打开" in await reopened.text()
    case = await case_of(env, 1)
    assert case.status == CaseStatus.OPEN and case.rating is None
    await env.bot.sender.drain()
    assert any("居民反映还没好：第二天又不亮了" in t for t in sent_to(env, "wxid_wang"))
    async with env.bot.sessions() as session:
        chain = await session.execute(
            select(ScheduledTask).where(
                ScheduledTask.key.startswith(f"sla:{case.id}:accept"),
                ScheduledTask.status == "pending",
            )
        )
        keys = [r[0].key for r in chain.all()]
        assert len(keys) == 3, keys  # the SLA chain runs again
    # A page on another site cannot do it for the resident.
    forged = await env.client.post(
        status_path + "/reopen",
        data={"form": form[1]},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status == 403


async def test_merge_spam_and_category(lite_env: WebEnv) -> None:
    env = lite_env
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了")
    await env.say(ROOM3, "wxid_r2", "3栋501-陈", "3栋楼下水管爆了，到处是水")
    await env.say(ROOM5, "wxid_r3", "5栋101-吴", "5栋电梯按钮失灵")
    await env.login("li")
    page = await act(env, 2, "category", category="water")
    assert "已改为「水」" in page or "已经是「水」" in page
    await act(env, 2, "category", category="lighting")
    log = await log_of(env, 2)
    assert ("console:li", "recategorised", "水 → 照明") in log
    page = await act(env, 2, "merge", other="#1")
    assert "已将 #2 并入 #1" in page
    assert (await case_of(env, 2)).status == CaseStatus.CLOSED
    async with env.bot.sessions() as session:
        supporters = (await session.execute(select(CaseSupporter.person_id))).scalars().all()
    assert "wxid_r2" in supporters
    page = await act(env, 3, "spam", text="恶作剧")
    assert "已将 #3 标为无效" in page
    await env.bot.sender.drain()
    assert any("标为无效" in t for t in sent_to(env, "wxid_zhou"))
    bad = await act(env, 1, "merge", other="99")
    assert "没有要并入的那件事项" in bad
    figures = await (await env.client.get("/api/figures?month=2026-11")).json()
    assert figures["figures"][0]["filed"] == 1  # spam and merged ones are not work


async def test_bulk_close_and_spam(lite_env: WebEnv) -> None:
    env = lite_env
    for i, text in enumerate(("3栋楼道灯坏了", "3栋垃圾没人清", "3栋门禁坏了")):
        await env.say(ROOM3, f"wxid_r{i}", f"3栋40{i}-邻居", text)
    await env.login("li")
    html = await (await env.client.get("/console")).text()
    csrf = re.search(r'id="bulk-form">\s*<input type="hidden" name="csrf" value="([^"]+)"', html)
    assert csrf
    resp = await env.client.post(
        "/console/bulk",
        data=[
            ("csrf", csrf[1]),
            ("action", "spam"),
            ("case", "1"),
            ("case", "2"),
            ("idem", "a" * 12),
        ],
    )
    assert "已处理 2 件：#1、#2" in await resp.text()
    resp = await env.client.post(
        "/console/bulk",
        data=[("csrf", csrf[1]), ("action", "close"), ("case", "3"), ("text", "统一修好了")],
    )
    assert "已处理 1 件：#3" in await resp.text()
    statuses = [(await case_of(env, n)).status for n in (1, 2, 3)]
    assert statuses == [CaseStatus.CLOSED, CaseStatus.CLOSED, CaseStatus.RESOLVED]


async def test_an_urgent_supporter_makes_the_case_urgent(env: WebEnv) -> None:
    await env.say(ROOM5, "wxid_r1", "5栋301-李", "5栋电梯坏了")
    assert not (await case_of(env, 1)).urgent
    env.transport.sent.clear()
    await env.say(ROOM5, "wxid_r2", "5栋502-张", "5栋电梯坏了，有人被困在里面了")
    case = await case_of(env, 1)
    assert case.urgent
    async with env.bot.sessions() as session:
        assert len((await session.execute(select(Case))).all()) == 1  # it joined (附议)
    head = [m for m in env.transport.sent if m.to_person == "wxid_zhou"]
    assert head and head[0].urgent and "【紧急】#1" in head[0].text and "升为紧急" in head[0].text
    secretary = [m for m in env.transport.sent if m.to_person == "wxid_li"]
    assert secretary and secretary[0].urgent and "紧急报事" in secretary[0].text
    reply = [m for m in env.transport.sent if m.to_room == ROOM5]
    assert reply and "119" in reply[0].text and "已按紧急处理" in reply[0].text
    assert case.accept_due_at is not None
    assert case.accept_due_at <= env.clock.now() + timedelta(minutes=10)  # accept_urgent


async def test_dispatch_keeps_the_building_and_defaults_to_it(lite_env: WebEnv) -> None:
    env = lite_env
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了")
    await env.login("chen")
    html = await (await env.client.get("/console/cases/report/1")).text()
    assert re.search(r'<option value="3" selected>3栋', html)
    page = await act(env, 1, "assign", target="5")
    assert "已派给楼栋长周师傅" in page
    case = await case_of(env, 1)
    assert case.building == "3" and case.assignee_id == "wxid_zhou"
    await env.say(ROOM3, "wxid_r2", "3栋501-陈", "3栋楼道灯坏了好几天了")
    async with env.bot.sessions() as session:
        assert len((await session.execute(select(Case))).all()) == 1  # the same lamp: 附议


async def test_one_deadline_for_escalation_console_and_figures(lite_env: WebEnv) -> None:
    env = lite_env
    env.clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=TZ))  # quiet hours
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了")
    case = await case_of(env, 1)
    due = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)  # 07:00 (end of quiet hours) + 2h
    assert case.accept_due_at == due
    async with env.bot.sessions() as session:
        steps = await session.execute(
            select(ScheduledTask.due_at).where(ScheduledTask.key.endswith(":remind"))
        )
        assert steps.scalar_one() == due  # the escalation chain reads the same deadline
    await env.login("li")
    env.clock.set(datetime(2026, 11, 26, 8, 59, tzinfo=TZ))
    assert 'data-case="#1"' not in await (await env.client.get("/console?overdue=1")).text()
    env.clock.set(datetime(2026, 11, 26, 9, 1, tzinfo=TZ))
    html = await (await env.client.get("/console?overdue=1")).text()
    assert 'data-case="#1"' in html and "1 件超时" in html


async def test_response_rate_counts_untaken_cases(lite_env: WebEnv) -> None:
    env = lite_env
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了")
    await env.say(ROOM5, "wxid_r2", "5栋301-李", "5栋电梯坏了")
    await env.say(ROOM3, "wxid_r3", "3栋501-陈", "3栋门口垃圾没人清")
    env.clock.set(env.clock.now() + timedelta(minutes=30))
    await env.say(None, "wxid_wang", "王姐", "接单 1")
    env.clock.set(env.clock.now() + timedelta(hours=13))
    await env.login("li")
    figures = await (await env.client.get("/api/figures?month=2026-11")).json()
    mine = figures["figures"][0]
    # "按时接单 1/1" was the old reading; two cases waited 13 h untaken.
    assert (mine["taken_within_sla"], mine["filed"]) == (1, 3)
    assert mine["response_rate"] == round(1 / 3, 4)
    per_building = {b["building"]: b for b in mine["buildings"]}
    assert per_building["3"]["filed"] == 2 and per_building["5"]["response_rate"] == 0.0
    html = await (await env.client.get("/console/figures?month=2026-11")).text()
    assert "响应率" in html and "33%" in html and 'data-building="5"' in html
    for chart in ("trend", "rates"):
        svg = await env.client.get(f"/console/figures/{chart}.svg?compound=武夷香榭&month=2026-11")
        body = await svg.text()
        assert svg.status == 200 and svg.content_type == "image/svg+xml"
        assert "<script" not in body and ("件数" in body or "%" in body)
    other = await env.client.get("/console/figures/trend.svg?compound=江南八仙&month=2026-11")
    assert other.status == 404  # not li's compound
    csv_text = (
        await (await env.client.get("/console/figures/cases.csv?month=2026-11")).read()
    ).decode("utf-8-sig")
    assert csv_text.count("\n") == 4 and "#3" in csv_text and "群聊" in csv_text


async def test_the_qr_code_building_yields_to_the_one_named(env: WebEnv) -> None:
    resp = await post_report(env.client, FORM3, what="5栋电梯坏了，按钮没反应")
    page = await resp.text()
    assert 'id="moved"' in page and "已按5栋登记" in page
    case = await case_of(env, 1)
    assert case.building == "5" and case.assignee_id == "wxid_zhou"


async def test_urgent_reports_of_a_building_fold_into_one_ping(env: WebEnv) -> None:
    texts = ("楼道里有很大的燃气味", "3楼有人摔倒了起不来", "电梯困人了")
    for text in texts:
        resp = await post_report(env.client, FORM3, what=text, urgent="1")
        assert resp.status == 200
    await env.bot.sender.drain()
    async with env.bot.sessions() as session:
        cases = (await session.execute(select(Case))).scalars().all()
        supporters = (await session.execute(select(CaseSupporter))).scalars().all()
    assert len(cases) == 1 and len(supporters) == 2
    head = [m for m in env.transport.sent if m.to_person == "wxid_wang" and m.urgent]
    assert len(head) == 1
    env.clock.set(env.clock.now() + env.bot.config.web.urgent_window + timedelta(minutes=1))
    await post_report(env.client, FORM3, what="楼下着火了", urgent="1")
    async with env.bot.sessions() as session:
        assert len((await session.execute(select(Case))).all()) == 2  # a new window


def _jpeg_with_location() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Phone X"  # camera model
    exif[0x8825] = {1: "N", 2: (26.0, 38.0, 0.0), 3: "E", 4: (118.0, 10.0, 0.0)}  # GPS
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


async def test_phone_and_photo_reach_the_head_without_metadata(env: WebEnv) -> None:
    raw = _jpeg_with_location()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)  # the test photo has a location
    resp = await post_report(
        env.client, FORM3, what="楼道墙皮掉了", phone="13800001111", photo=raw
    )
    assert resp.status == 200, await resp.text()
    await env.bot.sender.drain()
    head = " ".join(sent_to(env, "wxid_wang"))
    assert "13800001111" in head and "只发给您" in head and "现场照片" in head
    assert all(
        "13800001111" not in m.text for m in env.transport.sent if m.to_person != "wxid_wang"
    )
    async with env.bot.sessions() as session:
        photo = (await session.execute(select(WebPhoto))).scalar_one()
    assert photo.case_id is not None
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and not stored.getexif()  # no location, no camera
    served = await env.client.get(f"/p/{photo.token}.jpg")
    assert served.status == 200 and served.content_type == "image/jpeg"
    assert (await env.client.get("/p/nothing.jpg")).status == 404
    await env.login("li")
    html = await (await env.client.get("/console/cases/report/1")).text()
    assert "13800001111" in html and f"/p/{photo.token}.jpg" in html


async def test_a_broken_or_huge_photo_is_refused_in_chinese(lite_env: WebEnv) -> None:
    bad = await post_report(lite_env.client, FORM3, what="墙皮掉了", photo=b"not an image")
    assert bad.status == 400 and "无法识别这张照片" in await bad.text()
    huge = await post_report(lite_env.client, FORM3, what="墙皮掉了", photo=b"x" * 6_000_000)
    assert huge.status == 413 and "太大" in await huge.text()


async def _activity(env: WebEnv, title: str, starts: datetime, **extra: Any) -> int:
    async with env.bot.sessions() as session, session.begin():
        act_row = Activity(
            key=f"t:{title}",
            source="config",
            compound="武夷香榭",
            title=title,
            starts_at=starts,
            place="党群连心园",
            capacity=extra.get("capacity"),
            status="open",
            created_at=env.clock.now(),
        )
        session.add(act_row)
        await session.flush()
        return act_row.id


async def test_activities_past_empty_csv_publish_and_cancel(env: WebEnv) -> None:
    now = env.clock.now()
    past = await _activity(env, "重阳登高", now - timedelta(days=30))
    empty = await _activity(env, "义务理发", now + timedelta(days=3), capacity=10)
    async with env.bot.sessions() as session, session.begin():
        session.add(
            Signup(
                activity_id=past,
                person_id="wxid_r1",
                person_name="3栋402-王阿姨",
                headcount=2,
                status="confirmed",
                room=ROOM3,
                queued_at=now - timedelta(days=31),
                created_at=now,
                updated_at=now,
            )
        )
    await env.login("li")
    html = await (await env.client.get("/console/activities")).text()
    assert re.search(r"重阳登高 <span class=\"tag grey\">已结束", html)
    assert "还没有人报名" in html
    csv_text = (await (await env.client.get(f"/console/activities/{past}.csv")).read()).decode(
        "utf-8-sig"
    )
    assert "楼栋,房号,称呼" in csv_text and "重阳登高,报名,3,402,王阿姨" in csv_text
    csrf = re.search(
        r'id="publish-form">\s*<input type="hidden" name="csrf" value="([^"]+)"', html
    )
    assert csrf
    resp = await env.client.post(
        "/console/activities/publish",
        data={
            "csrf": csrf[1],
            "idem": "p" * 12,
            "compound": "武夷香榭",
            "title": "包粽子",
            "day": "2026-12-10",
            "time": "15:00",
            "place": "党群连心园",
            "capacity": "20",
        },
    )
    assert "已发布到武夷香榭各群" in await resp.text()
    await env.bot.sender.drain()
    assert any("【活动报名】包粽子" in t for t in sent_to(env, room=ROOM3))
    html = await (await env.client.get("/console/activities")).text()
    cancel = re.search(rf'action="/console/activities/{empty}/cancel"', html)
    assert cancel
    resp = await env.client.post(
        f"/console/activities/{empty}/cancel",
        data={"csrf": csrf[1], "idem": "c" * 12, "text": "场地维修"},
    )
    assert "已取消「义务理发」" in await resp.text()
    await env.bot.sender.drain()
    assert any("【活动取消】" in t and "义务理发" in t for t in sent_to(env, room=ROOM3))
    async with env.bot.sessions() as session:
        assert (await session.get(Activity, empty)).status == "cancelled"  # type: ignore[union-attr]


async def test_wishes_claimed_for_a_volunteer_closed_and_reopened(lite_env: WebEnv) -> None:
    env = lite_env
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "微心愿：想借个轮椅用两周")
    await env.login("li")
    page = await act(env, 1, "claim_for", kind="wish", person="wxid_sun")
    assert "已代小孙认领 W1" in page
    wish = await case_of(env, 1, "wish")
    assert wish.assignee_id == "wxid_sun" and wish.status == CaseStatus.ACCEPTED
    await env.bot.sender.drain()
    assert any("代您认领" in t for t in sent_to(env, "wxid_sun"))
    page = await act(env, 1, "complete", kind="wish", text="轮椅已送到")
    assert (await case_of(env, 1, "wish")).status == CaseStatus.RESOLVED
    page = await act(env, 1, "reopen", kind="wish", text="轮椅坏了")
    assert (await case_of(env, 1, "wish")).status == CaseStatus.ACCEPTED
    refused = await act(env, 1, "claim_for", kind="wish", person="wxid_nobody")
    assert 'role="alert"' in refused


async def test_ratings_read_as_words_in_the_log(lite_env: WebEnv) -> None:
    env = lite_env
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋楼道灯坏了")
    await env.say(None, "wxid_wang", "王姐", "办结 1 修好了")
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "满意")
    await env.login("li")
    html = await (await env.client.get("/console/cases/report/1")).text()
    assert "满意（5分）" in html
    assert "sla_reminded" not in html and "building_head:" not in html

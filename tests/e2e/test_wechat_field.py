"""WeChat as a compound breaks it: renamed and hijacked rooms, 风控, voice, quotes, logout."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy import select

from bot.core.messages import Outgoing
from bot.transports.wechaty_events import VOICE_HINT
from bot.transports.wechaty_runner import serve_wechat_web
from bot.web.wechat_login import _qr_block, wechat_status
from storage import account_state
from storage.models import Case, OutboxMessage
from storage.wechat_models import ReceivedMessage, RoomBinding, SendAttempt
from tests.e2e.conftest import BUILDING_ROOM, BUILDING_TOPIC, OTHER_ROOM
from tests.e2e.puppet import PuppetServer, free_port, settle
from tests.e2e.test_app_wechat import (
    HEAD,
    SECRETARY,
    compound,  # noqa: F401  (a fixture)
    running_bot,
    to,
    write_config,
)


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    """Poll an async predicate until it holds."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_a_renamed_room_is_followed_and_a_hijacker_refused(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, compound)
    async with running_bot(config) as bot:
        await compound.say("wxid_liu", "3栋电梯又坏了", room_id=BUILDING_ROOM)
        await compound.wait_sent(2)
        await compound.rename_room(BUILDING_ROOM, "3栋邻里（新群名）")
        await compound.say("wxid_liu", "3栋楼道灯也坏了", room_id=BUILDING_ROOM)
        await compound.wait_sent(4)
        # the square-dance group takes the building group's old name
        await compound.rename_room(OTHER_ROOM, BUILDING_TOPIC)
        await compound.say("wxid_liu", "3栋门禁坏了", room_id=OTHER_ROOM)
        await compound.say("wxid_liu", "3栋信报箱坏了", room_id=OTHER_ROOM)
        await compound.wait_sent(5)  # the secretary's notice
        await compound.say(HEAD, "接单 2")
        await compound.wait_sent(7)
        sent = await settle(compound, quiet_for=1.0, timeout=15)
        async with bot.app.sessions() as session:
            cases = (await session.execute(select(Case.number, Case.text))).all()
            binding = (await session.execute(select(RoomBinding))).scalar_one()

    assert sorted(n for n, _ in cases) == [1, 2]  # nothing filed from the hijacking room
    assert not to(sent, OTHER_ROOM)
    room = to(sent, BUILDING_ROOM)
    assert [m for m in room if "#2" in m["text"] and "接单" in m["text"]]  # 接单 went by id
    notices = to(sent, SECRETARY)
    assert len(notices) == 1 and BUILDING_TOPIC in notices[0]["text"]
    assert "冒充" in notices[0]["text"]
    assert (binding.room, binding.wechat_id, binding.topic) == (
        BUILDING_TOPIC,
        BUILDING_ROOM,
        "3栋邻里（新群名）",
    )

    # a restart keeps the binding: the hijacker stays refused, the real room is served
    async with running_bot(config):
        await compound.say("wxid_liu", "3栋水管漏水了", room_id=OTHER_ROOM)
        await compound.say("wxid_wang", "3栋楼顶漏水了", room_id=BUILDING_ROOM)
        await compound.wait_sent(len(sent) + 2)
        after = await settle(compound, quiet_for=1.0, timeout=15)
    assert not to(after, OTHER_ROOM)
    assert len(to(after, SECRETARY)) == 1  # reported once per room id and process, stored once


async def test_a_restriction_notice_pauses_sending_and_is_told(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with running_bot(write_config(tmp_path, compound)) as bot:
        # WeChat's own notice, "from" the account, as an Unknown message in the room
        await compound.say(
            compound.self_id, "操作过于频繁，可稍后再试。", room_id=BUILDING_ROOM, kind="Unknown"
        )

        async def paused() -> bool:
            async with bot.app.sessions() as session:
                state = await account_state.get(session, "default")
            return state is not None and state.paused_until is not None

        await wait_for(paused)
        await compound.say("wxid_liu", "3栋电梯又坏了", room_id=BUILDING_ROOM)
        await asyncio.sleep(1.5)
        sent = compound.sent()
        status = await wechat_status(bot.service)
        async with bot.app.sessions() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()

    assert sent == []  # the case is filed, nothing goes out during the pause
    assert status["wechat"]["restricted_until"] is not None
    notice = [r for r in rows if r.to_person == SECRETARY]
    assert len(notice) == 1 and "操作过于频繁" in notice[0].text
    assert notice[0].not_before > datetime.now(notice[0].not_before.tzinfo)  # after the pause
    assert {r.status for r in rows} == {"pending"}


async def test_a_send_refused_for_frequency_pauses_instead_of_retrying(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    await compound.restrict_next_sends(1)
    async with running_bot(write_config(tmp_path, compound)) as bot:
        await compound.say("wxid_liu", "3栋电梯又坏了", room_id=BUILDING_ROOM)

        async def paused() -> bool:
            async with bot.app.sessions() as session:
                state = await account_state.get(session, "default")
            return state is not None and state.paused_until is not None

        await wait_for(paused)
        await asyncio.sleep(1.0)
        async with bot.app.sessions() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
            state = await account_state.get(session, "default")

    assert compound.sent() == []
    assert state is not None and state.pause_level == 1 and "频繁" in (state.pause_reason or "")
    assert all(r.attempts == 0 for r in rows)  # a pause uses up no attempt


async def test_voice_gets_a_hint_and_an_xml_quote_is_its_new_text(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    quote = (
        "<msg><appmsg appid=''><title>3栋电梯又坏了，按钮没反应</title><type>57</type>"
        "<refermsg><type>1</type><displayname>王秀英</displayname>"
        "<content>今天天气真好</content></refermsg></appmsg></msg>"
    )
    await compound.add_contact("wxid_sun", "孙阿姨")
    async with running_bot(write_config(tmp_path, compound)) as bot:
        await compound.say("wxid_liu", "[语音]", room_id=BUILDING_ROOM, kind="Audio")
        await compound.say("wxid_sun", "[语音]", kind="Audio")  # privately to the bot
        await compound.say("wxid_liu", quote, room_id=BUILDING_ROOM)
        sent = await compound.wait_sent(3)
        sent = await settle(compound, quiet_for=1.0, timeout=10)
        async with bot.app.sessions() as session:
            (case_text,) = (await session.execute(select(Case.text))).scalars().all()
            texts = (await session.execute(select(ReceivedMessage.text))).scalars().all()

    assert [m["text"] for m in to(sent, "wxid_sun")] == [VOICE_HINT]
    assert not to(sent, "wxid_liu")  # a voice in the group without an @ gets nothing
    assert case_text == "3栋电梯又坏了，按钮没反应"
    assert texts and all(t is None for t in texts)  # no chat text kept once handled


async def test_logout_shows_the_qr_code_and_a_relogin_is_told(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    hooked: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        hooked.append((await request.json())["text"]["content"])
        return web.json_response({"errcode": 0})

    app = web.Application()
    app.router.add_post("/hook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    web_port = free_port()
    config = write_config(
        tmp_path,
        compound,
        transport={
            "offline_notice_after": "1s",
            "login_webhook": f"http://127.0.0.1:{port}/hook",
            "port": web_port,
        },
    )
    try:
        async with running_bot(config) as bot:
            site = await serve_wechat_web(bot.app, bot.service, bot.service.section)
            await compound.logout()
            await wait_for(lambda: _false(bot.transport.connected))
            await compound.show_qr("https://login.weixin.qq.com/l/abc123")
            await wait_for(lambda: _true(bot.transport.qr_url is not None))
            async with ClientSession() as http:
                base = f"http://127.0.0.1:{web_port}"
                async with http.get(f"{base}/healthz") as response:
                    status = (await response.json())["wechat"]
                    health_code = response.status
                async with http.get(f"{base}/console/wechat", allow_redirects=False) as page:
                    page_code = page.status
            await site.cleanup()
            await asyncio.sleep(1.2)
            await compound.login()
            await bot.transport.wait_connected(10)
            sent = await compound.wait_sent(1)
            after = (await wechat_status(bot.service))["wechat"]
    finally:
        await runner.cleanup()

    assert (health_code, page_code) == (503, 302)  # down while logged out; the page needs a login
    assert status["login"] == "logged_out"
    assert status["qr_url"].endswith("https://login.weixin.qq.com/l/abc123")
    assert any("退出登录" in h for h in hooked) and any("abc123" in h for h in hooked)
    assert after["login"] == "logged_in" and after["qr_url"] is None
    (notice,) = to(sent, SECRETARY)
    assert "离线" in notice["text"]


async def _true(value: bool) -> bool:
    return value


async def _false(value: bool) -> bool:
    return not value


async def test_echoes_settle_send_attempts(
    compound: PuppetServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with running_bot(write_config(tmp_path, compound)) as bot:
        await bot.app.sender.confirm_echo(None, None, "x", "y")  # no attempt: nothing happens
        async with bot.app.sessions() as session, session.begin():
            from bot.outbound import enqueue_all

            await enqueue_all(
                session,
                bot.app.config,
                "test",
                [Outgoing(to_room=BUILDING_TOPIC, to_person=None, text="大家好")],
                bot.app.clock.now(),
            )
        bot.app.sender.wake()
        await compound.wait_sent(1)

        async def echoed() -> bool:
            async with bot.app.sessions() as session:
                attempts = (await session.execute(select(SendAttempt))).scalars().all()
            return bool(attempts) and attempts[0].outcome == "echoed"

        await wait_for(echoed)


def test_the_qr_code_is_drawn_on_the_page_itself() -> None:
    block = _qr_block(
        "https://wechaty.js.org/qrcode/https://login.weixin.qq.com/l/x",
        "https://login.weixin.qq.com/l/x",
    )

    assert 'src="data:image/svg+xml' in block
    assert "https://login.weixin.qq.com/l/x" in block

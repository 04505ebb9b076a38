"""The JSON API: login or bearer token, compound scopes, cases, wishes, activities, figures."""

from __future__ import annotations

from tests.web.conftest import ADMIN_TOKEN, LI_TOKEN, WebEnv

ROOM3 = "武夷香榭3栋业主群"
ROOM_JN = "江南八仙小区5栋"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_api_refuses_without_login_or_with_a_bad_token(lite_env: WebEnv) -> None:
    for path in ("/api/cases", "/api/wishes", "/api/activities", "/api/figures"):
        assert (await lite_env.client.get(path)).status == 401
        bad = await lite_env.client.get(path, headers=bearer("not-a-token"))
        assert bad.status == 401
        assert bad.headers["WWW-Authenticate"].startswith("Bearer")


async def test_api_lists_only_the_tokens_compounds(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.say(ROOM_JN, "wxid_r3", "5栋101-吴", "5栋门口的水管爆了")
    li = await (await env.client.get("/api/cases", headers=bearer(LI_TOKEN))).json()
    assert [c["label"] for c in li["cases"]] == ["#1"]
    assert li["cases"][0]["assignee_name"] == "王姐"
    admin = await (await env.client.get("/api/cases", headers=bearer(ADMIN_TOKEN))).json()
    # numbers count per compound: each compound's first report is #1
    assert sorted((c["compound"], c["label"]) for c in admin["cases"]) == [
        ("武夷香榭", "#1"),
        ("江南八仙", "#1"),
    ]
    both = await env.client.get("/api/cases/report/1", headers=bearer(ADMIN_TOKEN))
    assert both.status == 409 and "?compound=" in await both.text()
    one = await env.client.get(
        "/api/cases/report/1", params={"compound": "江南八仙"}, headers=bearer(ADMIN_TOKEN)
    )
    assert (await one.json())["text"] == "5栋门口的水管爆了"
    other = await env.client.get("/api/cases?compound=江南八仙", headers=bearer(LI_TOKEN))
    assert other.status == 403
    detail = await env.client.get("/api/cases/report/1", headers=bearer(LI_TOKEN))
    body = await detail.json()
    assert [e["action"] for e in body["events"]][:2] == ["filed", "assigned"]
    hidden = await env.client.get("/api/cases/report/2", headers=bearer(LI_TOKEN))
    assert hidden.status == 404


async def test_api_works_with_a_console_session(env: WebEnv) -> None:
    await env.say(ROOM3, "wxid_r1", "3栋402-王阿姨", "3栋电梯又坏了")
    await env.login("li")
    resp = await env.client.get("/api/cases?status=open")
    assert resp.status == 200
    assert [c["label"] for c in (await resp.json())["cases"]] == ["#1"]
    figures = await (await env.client.get("/api/figures?month=2026-11")).json()
    assert figures["month"] == "2026-11"
    assert [f["compound"] for f in figures["figures"]] == ["武夷香榭"]
    assert figures["figures"][0]["filed"] == 1
    assert len(figures["figures"][0]["weeks"]) == 5
    assert (await env.client.get("/api/figures?month=2026-13")).status == 400
    assert (await env.client.get("/api/wishes")).status == 200
    acts = await (await env.client.get("/api/activities")).json()
    assert isinstance(acts["activities"], list)


async def test_healthz(lite_env: WebEnv) -> None:
    resp = await lite_env.client.get("/healthz")
    body = await resp.json()
    assert resp.status == 200
    assert body == {
        "ok": True,
        "process": "up",
        "database": "ok",
        "transport": "connected",
        "outbox_depth": 0,
    }


async def test_healthz_reports_a_disconnected_transport(lite_env: WebEnv) -> None:
    lite_env.state.transport_connected = lambda: False
    resp = await lite_env.client.get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["transport"] == "disconnected"


async def test_pages_carry_security_headers(lite_env: WebEnv) -> None:
    resp = await lite_env.client.get("/login")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"

"""Case numbers count per compound: #1 in each, and a number said in private finds the sender's."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text

from storage import schema
from storage.engine import create_engine, session_factory
from storage.models import Case
from tests.services.replays import event, replay_lines, services_config

XIANG = "武夷香榭3栋业主群"
BAXIAN = "江南八仙小区业主群"


def _filed() -> list[str]:
    return [
        event("2026-12-02T10:00", "3栋电梯坏了，麻烦看一下", room=XIANG, sender="r1", name="阿姨"),
        event("2026-12-02T10:05", "5栋楼道灯不亮了", room=BAXIAN, sender="r2", name="李叔"),
    ]


def _texts(sent: list[dict[str, object]], to: str) -> list[str]:
    return [str(m["text"]) for m in sent if to in (m.get("to_room"), m.get("to_person"))]


async def test_each_compound_counts_from_one(db_url: str) -> None:
    sent = await replay_lines(services_config(), _filed(), db_url)
    assert any("已登记 #1" in t for t in _texts(sent, XIANG))
    assert any("已登记 #1" in t for t in _texts(sent, BAXIAN))


async def test_a_head_takes_the_case_of_their_own_compound(db_url: str) -> None:
    lines = [
        *_filed(),
        event("2026-12-02T10:10", "接单 1", sender="wxid_he", name="何大姐"),  # 江南八仙 5栋
    ]
    await replay_lines(services_config(), lines, db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            rows = (await s.execute(select(Case.compound, Case.status))).all()
    finally:
        await engine.dispose()
    assert sorted(rows) == [("武夷香榭", "open"), ("江南八仙", "accepted")]


async def test_a_worker_of_both_compounds_is_asked_which_then_names_it(db_url: str) -> None:
    lines = [
        *_filed(),
        event("2026-12-02T10:10", "督办 1", sender="wxid_chen", name="社区小陈"),
        event("2026-12-02T10:11", "督办 1 江南八仙", sender="wxid_chen", name="社区小陈"),
    ]
    sent = await replay_lines(services_config(), lines, db_url)
    said = _texts(sent, "wxid_chen")
    assert any("武夷香榭、江南八仙都有" in t and "「督办 1 武夷香榭」" in t for t in said), said
    told = _texts(sent, "wxid_he")  # 江南八仙's 5栋 head is nudged, 武夷香榭's is not
    assert any("#1" in t for t in told[1:]), told
    assert not any("#1" in t for t in _texts(sent, "wxid_wang")[1:])


async def test_upgrade_keeps_old_numbers_and_continues_above_them(db_url: str) -> None:
    """Numbers given before 0008 were unique across compounds; each compound goes on from its
    highest, so no number is given twice in a compound."""
    engine = create_engine(db_url)
    try:
        await schema.upgrade(engine, "0007")
        async with engine.begin() as conn:
            for number, compound in ((1, "武夷香榭"), (2, "江南八仙"), (3, "武夷香榭")):
                await conn.execute(
                    text(
                        "INSERT INTO cases (kind, number, compound, text, urgent, status, "
                        "reporter_id, reporter_name, created_at, updated_at) VALUES ('report', "
                        ":n, :c, '旧的', false, 'open', 'r0', '老住户', :t, :t)"
                    ).bindparams(bindparam("t", type_=Case.__table__.c.created_at.type)),
                    {"n": number, "c": compound, "t": datetime(2026, 11, 1, tzinfo=UTC)},
                )
        await schema.upgrade(engine)
    finally:
        await engine.dispose()
    sent = await replay_lines(services_config(), _filed(), db_url)
    assert any("已登记 #4" in t for t in _texts(sent, XIANG))
    assert any("已登记 #3" in t for t in _texts(sent, BAXIAN))


async def test_a_stranger_is_not_told_which_compounds_have_a_number(db_url: str) -> None:
    lines = [*_filed(), event("2026-12-02T10:10", "接单 1", sender="wx_stranger", name="路人")]
    said = _texts(await replay_lines(services_config(), lines, db_url), "wx_stranger")
    assert said and all("武夷香榭" not in t and "江南八仙" not in t for t in said), said
    assert any("没有找到 #1" in t for t in said), said

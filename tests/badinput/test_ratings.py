"""群众评办: one rating per case; one correction within ten minutes; only the reporter rates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.core.clock import VirtualClock
from storage.models import Case, OutboxMessage
from tests.test_dispatcher import group, private, started


async def _resolved(tmp_path: Path) -> App:
    app, _t = await started(f"sqlite+aiosqlite:///{tmp_path / 'jinlin.db'}")
    await app.handle(group("m1", "7栋电梯坏了，按钮没反应"))  # reporter wx_r1, head wx_head7
    await app.handle(private("m2", "wx_head7", "接单 1"))
    await app.handle(private("m3", "wx_head7", "办结 1 已修好"))
    return app


async def _to(app: App, person: str) -> list[str]:
    async with app.sessions() as s:
        rows = await s.execute(select(OutboxMessage.text).where(OutboxMessage.to_person == person))
        return list(rows.scalars())


async def _rating(app: App) -> int | None:
    async with app.sessions() as s:
        return (await s.execute(select(Case.rating))).scalar_one()


async def test_a_rating_is_not_overwritten(tmp_path: Path) -> None:
    app = await _resolved(tmp_path)
    clock = app.clock
    assert isinstance(clock, VirtualClock)
    try:
        await app.handle(private("r1", "wx_r1", "评价 1 5"))
        told = len(await _to(app, "wx_head7"))
        clock.set(clock.now() + timedelta(minutes=5))
        changed = await app.handle(private("r2", "wx_r1", "评价 1 4"))
        assert await _rating(app) == 4 and changed.refusal is None
        again = await app.handle(private("r3", "wx_r1", "评价 1 1"))
        assert await _rating(app) == 4
        assert again.refusal is not None and "只评价一次" in again.refusal
        assert len(await _to(app, "wx_head7")) == told  # a correction tells nobody again
    finally:
        await app.stop()


async def test_a_changed_mind_after_the_window_is_refused(tmp_path: Path) -> None:
    app = await _resolved(tmp_path)
    clock = app.clock
    assert isinstance(clock, VirtualClock)
    try:
        await app.handle(private("r1", "wx_r1", "评价 1 5"))
        clock.set(clock.now() + timedelta(minutes=11))
        late = await app.handle(private("r2", "wx_r1", "评价 1 1"))
        assert await _rating(app) == 5
        assert late.refusal is not None and "只评价一次" in late.refusal
        assert not any("不满意" in t for t in await _to(app, "wx_sec"))
    finally:
        await app.stop()


async def test_a_correction_to_unhappy_asks_the_secretary_once(tmp_path: Path) -> None:
    app = await _resolved(tmp_path)
    try:
        await app.handle(private("r1", "wx_r1", "评价 1 5"))
        await app.handle(private("r2", "wx_r1", "评价 1 1"))
        assert await _rating(app) == 1
        assert sum("请回访" in t for t in await _to(app, "wx_sec")) == 1
    finally:
        await app.stop()


async def test_a_neighbour_is_told_who_may_rate(tmp_path: Path) -> None:
    app = await _resolved(tmp_path)
    try:
        said = await app.handle(private("r1", "wx_other", "评价 1 1"))
        assert said.refusal is not None
        assert "报事人" in said.refusal and "不在您的名下" not in said.refusal
        assert await _rating(app) is None
    finally:
        await app.stop()

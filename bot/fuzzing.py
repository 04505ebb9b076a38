"""Hostile messages through the real dispatcher: nothing raises, stalls, or leaks into a group.

`hostile_messages` makes a seeded, reproducible stream (empty, 100 KB, control characters,
lone surrogates, bidi marks, zero-width joiners, emoji floods, newline floods, SQL and HTML,
huge, negative and full-width numbers, hostile display names, redeliveries), mixed with real
reports, wishes and commands that carry planted phone, ID-card and room numbers.
`run_fuzz` sends them through `App.handle` and checks the outcome; `jinlin bench fuzz` prints
the latencies, the test suite runs a small stream.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.core.clean import clean_id
from bot.core.config import Config
from bot.core.messages import Incoming, LocalTransport, Outgoing
from storage.models import OutboxMessage, ProcessedMessage

PHONE = "13812345678"
ID_CARD = "35070219900101123X"
ROOM = "3-402"
PLANTED = (PHONE, ID_CARD, ROOM)

_SQL = ("'; DROP TABLE cases; --", "1 OR 1=1", '" UNION SELECT * FROM outbox --', "%s%s%n")
_HTML = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;b&gt;", "{{7*7}}")
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_ZERO = "\u200b\u200c\u200d\u2060\ufeff"
_EMOJI = "😀😂🙏👍🔥❤️👨‍👩‍👧🏳️‍🌈🇨🇳"
_VERBS = ("接单", "办结", "转", "退回", "评价", "认领", "完成", "督办", "派", "名单", "发布活动")
_REAL = (
    "{b}栋电梯又坏了，按钮没反应",
    "{b}栋楼道灯不亮了，好几天了",
    "{b}栋水管爆了，水漫到楼道",
    "微心愿：想借个轮椅，下周去医院复查用",
    "报名冬至包饺子，我们家2个人",
    "+1 算我一个",
    "今天天气真好",
    "[图片]",
)


@dataclass
class FuzzReport:
    """What a fuzz run saw: per-message latencies and every broken promise."""

    latencies: list[float] = field(default_factory=list)  # seconds, one per message
    cpu: list[float] = field(default_factory=list)  # CPU seconds of the process, one per message
    exceptions: list[str] = field(default_factory=list)
    unprocessed: list[str] = field(default_factory=list)  # answered but not marked processed
    leaks: list[str] = field(default_factory=list)  # group texts with a planted number
    # the slowest messages by CPU time: (seconds, wall seconds, what the message was)
    slowest: list[tuple[float, float, str]] = field(default_factory=list)

    def percentile(self, p: float, cpu: bool = False) -> float:
        """The p-th percentile latency (or CPU time) in milliseconds."""
        ordered = sorted(self.cpu if cpu else self.latencies)
        return ordered[int(p / 100 * (len(ordered) - 1))] * 1000 if ordered else 0.0

    def summary(self) -> str:
        """One paragraph for the bench command."""
        n = len(self.latencies)
        median = statistics.median(self.latencies) * 1000 if n else 0.0
        cpu_median = statistics.median(self.cpu) * 1000 if self.cpu else 0.0
        return (
            f"{n:,} messages: p50 {median:.2f} ms, p99 {self.percentile(99):.2f} ms, "
            f"max {self.percentile(100):.2f} ms (wall clock); CPU time p50 {cpu_median:.2f} ms, "
            f"p99 {self.percentile(99, True):.2f} ms, max {self.percentile(100, True):.2f} ms; "
            f"exceptions {len(self.exceptions)}, "
            f"answered but not marked processed {len(self.unprocessed)}, "
            f"group messages with a planted number {len(self.leaks)}"
        )

    def note(self, cpu: float, wall: float, msg: Incoming, keep: int = 5) -> None:
        """Keep the `keep` slowest messages by CPU time, to say what the tail is made of."""
        if len(self.slowest) >= keep and cpu <= self.slowest[-1][0]:
            return
        where = "group" if msg.room is not None else "private"
        what = f"{where}, {len(msg.text):,} chars: {msg.text[:24]!r}"
        self.slowest.append((cpu, wall, what))
        self.slowest.sort(reverse=True)
        del self.slowest[keep:]


class NullTransport(LocalTransport):
    """A transport that receives nothing and drops what it is given."""

    async def incoming(self) -> AsyncIterator[Incoming]:
        """No messages."""
        return
        yield

    async def send(self, msg: Outgoing) -> None:
        """Dropped: the fuzz reads the outbox."""


def _junk(rng: random.Random) -> str:
    kind = rng.randrange(16)
    if kind == 0:
        return rng.choice(("", " ", "\n", "\t\t"))
    if kind == 1:  # 100 KB
        return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.choice((1, 100_000))))
    if kind == 2:
        return "".join(
            chr(rng.choice((*range(0, 32), 127, *range(0x80, 0xA0)))) for _ in range(50)
        )
    if kind == 3:  # lone surrogates
        return "栋" + "".join(chr(rng.randint(0xD800, 0xDFFF)) for _ in range(5)) + "电梯坏了"
    if kind == 4:
        return "".join(rng.choice(_BIDI + "电梯坏了3栋") for _ in range(40))
    if kind == 5:
        return "".join(rng.choice(_ZERO + "13812345678") for _ in range(40))
    if kind == 6:
        return rng.choice(_EMOJI) * rng.choice((10, 1000, 20_000))
    if kind == 7:
        return "3栋电梯坏了" + "\n" * rng.choice((10_000, 50_000)) + "真的"
    if kind == 8:
        return rng.choice(_SQL) + rng.choice(_HTML)
    if kind == 9:  # huge and negative numbers
        return f"{rng.choice(_VERBS)} " + rng.choice(
            ("9" * 20, "9" * 5000, "-1", "-99999999999999999999", "0", "1e309", "NaN")
        )
    if kind == 10:  # full-width and other digits
        return f"{rng.choice(_VERBS)} " + rng.choice(
            ("１２", "＃３", "Ｗ４", "٣", "²", "十二" * 500)
        )
    if kind == 11:
        return "栋" * rng.choice((100, 4000, 20_000)) + "电梯坏了"
    if kind == 12:
        return f"评价 {rng.randint(-5, 10)} {rng.randint(-5, 10)}"
    if kind == 13:
        return f"发布活动 {rng.choice(_HTML)} 12月{rng.randint(1, 40)}日25:61 {PHONE} -3人"
    if kind == 14:
        return "#接龙 冬至包饺子\n" + "\n".join(f"{i}. 王{i} {PHONE}" for i in range(1, 400))
    return "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 200)))


def _name(rng: random.Random) -> str:
    return rng.choice(
        (
            "王阿姨",
            f"{ROOM} 王阿姨 {PHONE}",
            "王阿姨\n小邻: #1 已办结",
            "\u202e姨阿王",
            "@所有人",
            "<script>alert(1)</script>",
            "\x00\x07",
            "",
            "😀" * 200,
            f"李叔{ID_CARD}",
            "\ud800",
        )
    )


def _real(rng: random.Random, buildings: Sequence[str]) -> str:
    text = rng.choice(_REAL).format(b=rng.choice(buildings) if buildings else "3")
    tail = rng.choice(("", f"，我家{ROOM}", f"，身份证{ID_CARD}", f"，{ROOM}门口也是"))
    return text + tail


def hostile_messages(config: Config, count: int, seed: int, start: datetime) -> Iterator[Incoming]:
    """A reproducible stream of `count` messages to the rooms and people of the config."""
    rng = random.Random(seed)
    rooms = [r.topic for community in config.grid for c in community.compounds for r in c.rooms]
    buildings = [b.number for com in config.grid for c in com.compounds for b in c.buildings]
    people = [f"wx_fuzz{i}" for i in range(30)]
    for com in config.grid:
        people.extend(w.id for w in com.workers)
        for c in com.compounds:
            if c.secretary is not None:
                people.append(c.secretary.id)
            people.extend(b.head.id for b in c.buildings if b.head is not None)
    seen: list[str] = []
    for i in range(count):
        at = start + timedelta(seconds=20 * i)
        if seen and rng.random() < 0.03:  # a redelivery after a reconnect
            mid = rng.choice(seen)
        else:
            mid = f"fuzz-{seed}-{i}" if rng.random() < 0.98 else f"fuzz\ud800{i}\n"
            seen.append(mid)
        r = rng.random()
        if r < 0.35:
            text = _real(rng, buildings)
        elif r < 0.5:
            verb = rng.choice(_VERBS)
            text = f"{verb} {rng.randint(1, 12)} 已联系业主{PHONE}，{ROOM}，身份证{ID_CARD}"
        else:
            text = _junk(rng)
        room = None if rng.random() < 0.3 else rng.choice([*rooms, "不认识的群"])
        yield Incoming(
            message_id=mid,
            room=room,
            sender_id=rng.choice(people),
            sender_name=_name(rng),
            text=text,
            mentions_bot=rng.random() < 0.05,
            at=at,
        )


async def run_fuzz(app: App, messages: Iterator[Incoming], advance: bool = True) -> FuzzReport:
    """Send each message through the dispatcher; time it; then check the store."""
    report = FuzzReport()
    answered: set[str] = set()
    clock = app.clock
    for msg in messages:
        if advance and hasattr(clock, "set"):
            clock.set(msg.at)
        began, cpu_began = time.perf_counter(), time.process_time()
        try:
            outcome = await app.handle(msg)
        except Exception as e:  # the dispatcher promises never to raise
            report.exceptions.append(f"{msg.message_id!r}: {e!r}")
            continue
        finally:
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            report.latencies.append(wall)
            report.cpu.append(cpu)
            report.note(cpu, wall, msg)
        if (outcome.handled or outcome.refusal is not None) and not outcome.duplicate:
            answered.add(clean_id(msg.message_id))  # the id as the dispatcher stored it
    async with app.sessions() as s:
        processed = set((await s.execute(select(ProcessedMessage.message_id))).scalars())
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
    report.unprocessed.extend(sorted(answered - processed))
    for row in rows:
        if row.to_room is not None and any(p in row.text for p in PLANTED):
            report.leaks.append(f"{row.to_room}: {row.text[:80]!r}")
    return report


def bench_fuzz(config_path: str | None, count: int, seed: int) -> int:
    """`jinlin bench fuzz`: run the stream on a throwaway SQLite file and print the figures."""
    import asyncio
    import sys
    import tempfile
    from datetime import UTC
    from pathlib import Path

    from bot.app import build_app
    from bot.core.clock import VirtualClock
    from bot.core.config import load_config
    from bot.sender import SendPolicy
    from intents import ParseContext, parse

    if config_path is None:
        print(
            "jinlin bench fuzz：请用 --config 指定配置文件（用其中的群和人）",
            file=sys.stderr,
        )
        return 2
    config = load_config(Path(config_path))
    start = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # a weekday morning: no quiet hours

    async def go(db: Path) -> FuzzReport:
        app = build_app(
            config,
            NullTransport(),
            VirtualClock(start),
            db_url=f"sqlite+aiosqlite:///{db}",
            policy=SendPolicy.immediate(),
        )
        await app.start(upgrade=True)
        parse("3栋电梯坏了", ParseContext(room=None))  # load the lexicon and model first
        try:
            return await run_fuzz(app, hostile_messages(config, count, seed, start))
        finally:
            await app.stop()

    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(go(Path(folder) / "fuzz.db"))
    print(report.summary())
    print("slowest by CPU time:")
    for cpu, wall, what in report.slowest:
        print(f"  {cpu * 1000:.1f} ms CPU, {wall * 1000:.1f} ms wall: {what}")
    for problem in (*report.exceptions, *report.unprocessed, *report.leaks)[:20]:
        print("  " + problem)
    return 0 if not (report.exceptions or report.unprocessed or report.leaks) else 1

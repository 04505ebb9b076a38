"""One bench process: a real bot (dispatcher, parser, handlers, storage) fed a day's mix.

Run by `jinlin bench e2e` as `python -m bot.bench.worker JOB.json`, one process per account. It
starts the app, prints `ready`, waits for `go` on stdin (so every process starts together), feeds
its messages one after another and prints one JSON line with what it measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import build_app
from bot.bench.common import NullTransport, peak_rss_kb
from bot.core.clock import VirtualClock
from bot.core.config import Config, load_config
from bot.core.messages import Incoming
from bot.demo_data import _TEXTS, CITY_NOW, City, CityShape, make_city
from storage.models import Activity

KINDS = ("chit-chat", "report", "sign-up")
SYNTHETIC_CHITCHAT = (
    "今天天气真好", "晚上吃什么", "哈哈哈", "谁家的猫跑出来了", "明天要下雨吗", "早上好",
    "谢谢大家", "孩子放学了吗", "有没有一起跑步的", "菜市场今天有新鲜的鱼", "收到", "好的好的",
    "周末去哪里玩", "楼下的花开了", "大家注意保暖", "这个视频好好笑", "[微笑]", "辛苦了",
    "晚安", "有人知道附近哪里修鞋吗", "今天的菜好贵", "节日快乐", "我家小孩今天考试",
)  # fmt: skip
_POLITE = ("", "，麻烦看一下", "，谢谢", "！", "，好几天了")


@dataclass(frozen=True, slots=True)
class Job:
    """What one bench process does."""

    config: str
    db_url: str
    account: str
    scale: float
    seed: int
    worker: int  # this process's index; it takes the buildings b with b % workers == worker
    workers: int
    messages: int
    warmup: int
    chitchat: str | None  # a JSONL file with `text`, or None for the built-in lines
    run_id: str

    @classmethod
    def read(cls, path: str) -> Job:
        """The job in a JSON file."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def chitchat_lines(path: str | None) -> list[str]:
    """Chit-chat texts from a JSONL file (each line's `text`), or the built-in synthetic lines."""
    if path is None:
        return list(SYNTHETIC_CHITCHAT)
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                text = json.loads(line).get("text")
                if text:
                    out.append(str(text))
    return out or list(SYNTHETIC_CHITCHAT)


def day_mix(
    city: City,
    job: Job,
    open_titles: dict[str, str],
    chitchat: list[str],
    count: int,
    prefix: str,
) -> list[tuple[str, Incoming]]:
    """A day's messages for this process's rooms: 85% chit-chat, 10% reports, 5% sign-ups."""
    rng = random.Random(f"{job.seed}:{job.worker}:{prefix}")
    mine = [b for b in range(len(city.buildings)) if b % job.workers == job.worker]
    per_building = max(1, city.shape.residents // len(city.buildings))
    out = []
    for i in range(count):
        b = rng.choice(mine)
        building = city.buildings[b]
        rid, rname, _ = city.resident(b + len(city.buildings) * rng.randrange(per_building))
        roll = rng.random()
        title = open_titles.get(city.compounds[building.compound])
        if roll < 0.85 or (roll >= 0.95 and title is None):
            kind, text = "chit-chat", rng.choice(chitchat)
        elif roll < 0.95:
            category = rng.choice(list(_TEXTS))
            kind = "report"
            text = rng.choice(_TEXTS[category]).format(b=building.number) + rng.choice(_POLITE)
        else:
            kind, text = "sign-up", f"报名 {title} {rng.randrange(1, 4)}人"
        out.append(
            (
                kind,
                Incoming(
                    message_id=f"{job.run_id}:{prefix}:{job.worker}:{i}",
                    room=building.topic,
                    sender_id=rid,
                    sender_name=rname,
                    text=text,
                    mentions_bot=False,
                    at=CITY_NOW,
                ),
            )
        )
    return out


async def _open_titles(app: Any, compounds: set[str]) -> dict[str, str]:
    """One activity open for sign-up in each compound (the earliest ahead of the clock)."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(Activity.compound, Activity.title)
            .where(Activity.starts_at > app.clock.now(), Activity.status == "open")
            .order_by(Activity.starts_at)
        )
        out: dict[str, str] = {}
        for compound, title in rows:
            if compound in compounds:
                out.setdefault(compound, title)
        return out


def with_account(config: Config, account: str, db_url: str) -> Config:
    """The config as one account's process on the given database sees it."""
    return config.model_copy(
        update={
            "bot": config.bot.model_copy(update={"account": account}),
            "storage": config.storage.model_copy(update={"url": db_url}),
        }
    )


async def run(job: Job) -> dict[str, Any]:
    """Start the bot, wait for `go`, feed the messages; what was measured."""
    config = with_account(load_config(job.config), job.account, job.db_url)
    city = make_city(CityShape.nanping(job.scale), job.seed)
    clock = VirtualClock(CITY_NOW)
    app = build_app(config, NullTransport(), clock)
    await app.start()
    try:
        compounds = {city.compounds[b.compound] for b in city.buildings}
        titles = await _open_titles(app, compounds)
        chitchat = chitchat_lines(job.chitchat)
        warm = day_mix(city, job, titles, chitchat, job.warmup, "warm")
        mix = day_mix(city, job, titles, chitchat, job.messages, "run")
        for _, msg in warm:
            await app.handle(msg)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        latencies: dict[str, list[float]] = {k: [] for k in KINDS}
        handled = dict.fromkeys(KINDS, 0)
        began = time.time()
        t_start = time.perf_counter()
        for i, (kind, msg) in enumerate(mix):
            # The day's clock moves a little with every message, as the real one would.
            clock.set(CITY_NOW + timedelta(milliseconds=200 * (i + 1)))
            t0 = time.perf_counter()
            outcome = await app.handle(msg)
            latencies[kind].append(time.perf_counter() - t0)
            handled[kind] += bool(outcome.handled)
        elapsed = time.perf_counter() - t_start
        ended = time.time()
    finally:
        await app.stop()
    return {
        "worker": job.worker,
        "began": began,
        "ended": ended,
        "elapsed": elapsed,
        "latencies": latencies,
        "handled": handled,
        "maxrss_kb": peak_rss_kb(),
    }


def main() -> None:
    """Entry point: python -m bot.bench.worker JOB.json."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(run(Job.read(sys.argv[1])))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

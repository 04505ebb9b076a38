"""`jinlin bench e2e`: messages/s through the whole bot, and the database's raw ceiling."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.bench.common import Database, heading, note, percentile, row
from bot.bench.worker import KINDS, Job


@dataclass(frozen=True, slots=True)
class E2eSettings:
    """How much of a day to play, and where."""

    config: Path  # the generated city's config (its grid); the database comes from the run
    scale: float
    seed: int
    messages: int  # per process
    warmup: int
    chitchat: str | None


@dataclass(frozen=True, slots=True)
class E2eResult:
    """Messages/s of one run and each process's latencies."""

    processes: int
    rate: float
    latencies: dict[str, list[float]]
    handled: dict[str, int]
    run_id: str  # the prefix of this run's message ids


def _spawn(job: Job, folder: Path) -> subprocess.Popen[str]:
    path = folder / f"job-{job.run_id}-{job.worker}.json"
    path.write_text(json.dumps(asdict(job)), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.bench.worker", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def run_processes(s: E2eSettings, db_url: str, processes: int, folder: Path) -> E2eResult:
    """Start one bot process per account, each after the last is ready; then all go at once."""
    run_id = uuid.uuid4().hex[:8]
    procs = []
    try:
        for k in range(processes):
            job = Job(
                config=str(s.config),
                db_url=db_url,
                account=f"bench{k + 1}" if processes > 1 else "default",
                scale=s.scale,
                seed=s.seed,
                worker=k,
                workers=processes,
                messages=s.messages,
                warmup=s.warmup,
                chitchat=s.chitchat,
                run_id=run_id,
            )
            proc = _spawn(job, folder)
            procs.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"bench process {k} did not start (said {line!r})")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results: list[dict[str, Any]] = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                raise RuntimeError(f"a bench process failed (exit {proc.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    span = max(r["ended"] for r in results) - min(r["began"] for r in results)
    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    handled = dict.fromkeys(KINDS, 0)
    for r in results:
        for kind in KINDS:
            latencies[kind].extend(r["latencies"][kind])
            handled[kind] += r["handled"][kind]
    total = sum(len(v) for v in latencies.values())
    return E2eResult(processes, total / span, latencies, handled, run_id)


async def doubled(db_url: str, run_id: str) -> tuple[int, int, int]:
    """(cases filed in a run, case numbers used twice in a compound, outbox keys used twice)."""
    from sqlalchemy import func, select

    from storage.engine import create_engine
    from storage.models import Case, OutboxMessage

    def twice(*columns: Any) -> Any:
        groups = select(*columns).group_by(*columns).having(func.count() > 1).subquery()
        return select(func.count()).select_from(groups)

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            mine = Case.source_message_id.startswith(f"{run_id}:")
            filed = (await conn.execute(select(func.count()).where(mine))).scalar_one()
            numbers = (
                await conn.execute(twice(Case.compound, Case.kind, Case.number))
            ).scalar_one()
            keys = (await conn.execute(twice(OutboxMessage.key))).scalar_one()
        return int(filed), int(numbers), int(keys)
    finally:
        await engine.dispose()


async def raw_ceiling(db_url: str, count: int) -> float:
    """One plain INSERT and COMMIT per message through the same driver: inserts/s."""
    url = make_url(db_url)
    body = "3栋电梯又坏了，有人被困在里面了！" * 2
    if url.get_backend_name() == "sqlite":
        import aiosqlite

        assert url.database is not None
        async with aiosqlite.connect(url.database) as db:
            # The bot's own settings (storage/engine.py): WAL, synchronous=NORMAL.
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT)")
            await db.commit()
            t0 = time.perf_counter()
            for _ in range(count):
                await db.execute("INSERT INTO bench_raw (body) VALUES (?)", (body,))
                await db.commit()
            took = time.perf_counter() - t0
            await db.execute("DROP TABLE bench_raw")
            await db.commit()
        return count / took
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, body text)")
        t0 = time.perf_counter()
        for _ in range(count):
            # Outside a transaction block each statement commits on its own.
            await conn.execute("INSERT INTO bench_raw (body) VALUES ($1)", body)
        took = time.perf_counter() - t0
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    return count / took


E2E_ROWS = ("end-to-end, sequential", "raw INSERT+COMMIT, same driver", "ratio raw / end-to-end")


def print_result(label: str, r: E2eResult) -> None:
    """One throughput row and one latency row per message kind."""
    n = sum(len(v) for v in r.latencies.values())
    row(label, f"{r.rate:,.0f} msg/s", f"{n:,} messages")
    for kind in KINDS:
        values = r.latencies[kind]
        if values:
            row(
                f"  {kind} p50 / p99",
                f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.99) * 1000:.1f} ms",
                f"{len(values):,} messages, {r.handled[kind]:,} answered",
            )


async def bench_e2e(db: Database, s: E2eSettings, db_url: str, folder: Path) -> dict[str, float]:
    """Print the end-to-end rows for one database; the figures by name."""
    heading(f"end-to-end, {db.label}")
    figures: dict[str, float] = {}
    note(f"{db.kind}: {s.messages:,} messages through one process")
    seq = run_processes(s, db_url, 1, folder)
    print_result("end-to-end, sequential", seq)
    figures["e2e sequential msg/s"] = seq.rate
    note(f"{db.kind}: the raw ceiling")
    ceiling = await raw_ceiling(db_url, max(500, s.messages))
    row("raw INSERT+COMMIT, same driver", f"{ceiling:,.0f} /s", "one connection, in the same run")
    row("ratio raw / end-to-end", f"{ceiling / seq.rate:.1f}x", "target: within 5x")
    figures["raw ceiling /s"] = ceiling
    if db.kind == "postgres":
        for processes in (2, 4):
            note(f"{db.kind}: {processes} processes, one per account")
            many = run_processes(s, db_url, processes, folder)
            print_result(f"end-to-end, {processes} processes", many)
            figures[f"e2e {processes} processes msg/s"] = many.rate
            filed, numbers, keys = await doubled(db_url, many.run_id)
            row(
                "  nothing doubled",
                "yes" if not numbers and not keys else "NO",
                f"{filed:,} cases filed; case numbers used twice: {numbers}, "
                f"outbox keys used twice: {keys}",
            )
    return figures

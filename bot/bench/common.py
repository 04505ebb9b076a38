"""What the bench modes share: databases to run on, a transport that sends nothing, figures."""

from __future__ import annotations

import contextlib
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core.messages import Incoming, Outgoing


class NullTransport:
    """A transport with no incoming messages that never sends: the outbox fills, nothing leaves."""

    @property
    def connected(self) -> bool:
        """Never connected: nothing is sent."""
        return False

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    def incoming(self) -> AsyncIterator[Incoming]:
        """No messages: the bench calls the dispatcher itself."""
        return _nothing()

    async def send(self, msg: Outgoing) -> str | None:
        """Never called: the bench runs no sender."""
        raise AssertionError("the bench does not send")


async def _nothing() -> AsyncIterator[Incoming]:
    for _ in ():
        yield _


@dataclass(frozen=True, slots=True)
class Database:
    """One database kind to bench on, and how to make a fresh database of it."""

    kind: str  # sqlite | postgres
    label: str
    new_url: Callable[[str], str]  # a fresh empty database named after its purpose


def ms(seconds: float) -> str:
    """A duration in milliseconds, or seconds when long."""
    return f"{seconds:,.1f} s" if seconds >= 10 else f"{seconds * 1000:,.1f} ms"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


async def median_of(
    runs: int, call: Callable[[int], Awaitable[object]], budget: float = 30.0
) -> tuple[float, int]:
    """The median wall time of up to `runs` calls (fewer once `budget` seconds are spent)."""
    times: list[float] = []
    spent = 0.0
    for i in range(runs):
        t0 = time.perf_counter()
        await call(i)
        took = time.perf_counter() - t0
        times.append(took)
        spent += took
        if spent > budget:
            break
    return statistics.median(times), len(times)


def row(label: str, value: str, note: str = "") -> None:
    """Print one figure row: a fixed label column, the value, and what it means."""
    print(f"  {label:<34} {value:>16}  {note}".rstrip())
    sys.stdout.flush()


def heading(text: str) -> None:
    """Print a section heading."""
    print(f"\n== {text} ==")
    sys.stdout.flush()


def note(text: str) -> None:
    """A progress note on stderr (stdout carries only the figures)."""
    print(f"bench: {text}", file=sys.stderr)
    sys.stderr.flush()


@contextlib.contextmanager
def databases(which: str, workdir: Path) -> Iterator[list[Database]]:
    """The databases asked for: SQLite files in workdir, and a throwaway PostgreSQL server."""
    out: list[Database] = []
    server = None
    try:
        if which in ("sqlite", "both"):
            out.append(
                Database(
                    "sqlite",
                    "SQLite file (WAL)",
                    lambda name: f"sqlite+aiosqlite:///{workdir / f'{name}.db'}",
                )
            )
        if which in ("postgres", "both"):
            from bot.bench.pgserver import LocalPg, execute, run_async, sqlalchemy_url

            note("starting a throwaway PostgreSQL server")
            server = LocalPg(durable=True)
            admin = server.start()

            def new_pg(name: str) -> str:
                db = f"{name}_{uuid.uuid4().hex[:8]}"
                run_async(execute(admin, f'CREATE DATABASE "{db}"'))
                return sqlalchemy_url(admin.set(database=db))

            version = server.bindir.parent.name
            out.append(Database("postgres", f"PostgreSQL {version}", new_pg))
        yield out
    finally:
        if server is not None:
            server.stop()


@contextlib.contextmanager
def workdir(keep: str | None) -> Iterator[Path]:
    """A folder for the bench's files: the one given, or a temporary one removed at the end."""
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="jinlin-bench-") as tmp:
        yield Path(tmp)


def peak_rss_kb() -> int:
    """This process's peak resident memory, in KiB.

    Linux's `ru_maxrss` of a child started by fork and exec keeps the parent's size at the
    fork (the bench's parent holds the city: 458 MB was reported for a 124 MB bot), so the
    peak of this process's own memory (VmHWM) is read where /proc has it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

"""Two and three bot processes on one PostgreSQL: nothing doubled, nothing lost.

Each process is a real `python` process (tests/support/cityproc.py) with its own engine,
dispatcher, task runner and sender on the same database and the same account. They get
their messages at the same time (some ids delivered to every one of them, as after a
reconnect), then walk the virtual clock together through the SLA steps and the 28th.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import schema
from storage.engine import create_engine, session_factory
from storage.models import Case, CaseEvent, OutboxMessage, ScheduledTask
from storage.wechat_models import SendAttempt

REPO = Path(__file__).resolve().parents[1]
ROOMS = {
    "武夷香榭3栋业主群": "3栋",
    "武夷香榭业主群": "5栋",
    "江南八仙小区业主群": "5栋",
}
PROBLEMS = ["电梯坏了", "楼道灯不亮了", "水管漏水了", "下水道堵了", "门禁坏了", "楼道堆满了杂物"]
TIMES = [
    "2026-12-27T11:30:00+08:00",  # the accept deadline (2h) passed: heads reminded
    "2026-12-27T13:30:00+08:00",  # secretaries
    "2026-12-27T15:30:00+08:00",  # workers
    "2026-12-27T20:00:00+08:00",  # the eve of the 28th
    "2026-12-28T08:30:00+08:00",  # the 28th
]


def reports(process: int, processes: int) -> list[dict[str, str]]:
    """Each process's own reports, plus two whose ids every process receives."""
    out = []
    for i, problem in enumerate(PROBLEMS):
        room = list(ROOMS)[(i + process) % len(ROOMS)]
        out.append(
            {
                "id": f"p{process}-{i}",
                "room": room,
                "sender": f"r{process}{i}",
                "name": f"居民{process}{i}",
                "text": f"{ROOMS[room]}{problem}（{process}号）",
            }
        )
    shared = [
        {
            "id": f"shared-{i}",
            "room": "武夷香榭业主群",
            "sender": f"s{i}",
            "name": "老张",
            "text": f"5栋{PROBLEMS[i]}，麻烦看看",
        }
        for i in range(2)
    ]
    return shared + out if process % 2 else out + shared


class Fleet:
    """Bot processes driven in lock-step: each command goes to all, then all must answer."""

    def __init__(self, db_url: str, n: int, tmp: Path) -> None:
        self.files = [tmp / f"sends-{i}.jsonl" for i in range(n)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.support.cityproc", db_url, str(f)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for f in self.files
        ]

    def each(self, commands: list[dict[str, object]]) -> None:
        for proc, cmd in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
            proc.stdin.flush()
        for proc in self.procs:
            assert proc.stdout is not None
            answer = proc.stdout.readline()
            if answer.strip() != "ok":
                proc.kill()
                assert proc.stderr is not None
                pytest.fail(f"a bot process failed:\n{proc.stderr.read()[-1500:]}")

    def all(self, cmd: dict[str, object]) -> None:
        self.each([cmd] * len(self.procs))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                assert proc.stdin is not None
                proc.stdin.write('{"do": "stop"}\n')
                proc.stdin.flush()
        for proc in self.procs:
            try:
                proc.communicate(timeout=60)  # (closes the pipes)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()

    def sends(self) -> list[dict[str, str]]:
        return [
            json.loads(line)
            for f in self.files
            if f.exists()
            for line in f.read_text("utf-8").splitlines()
        ]


@pytest.mark.parametrize("n", [2, 3])
async def test_processes_on_one_postgresql_do_everything_once(
    n: int, pg_database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(pg_database_url)
    await schema.upgrade(engine)
    fleet = Fleet(pg_database_url, n, tmp_path)
    try:
        fleet.each([{"do": "messages", "messages": reports(i, n)} for i in range(n)])
        for at in TIMES:
            fleet.all({"do": "at", "at": at})
    finally:
        fleet.stop()
    sent = fleet.sends()
    try:
        async with session_factory(engine)() as s:
            numbered = (
                await s.execute(select(Case.compound, Case.number).where(Case.kind == "report"))
            ).all()
            outbox = (await s.execute(select(OutboxMessage.id, OutboxMessage.status))).all()
            attempts = (await s.scalars(select(SendAttempt.outbox_ids))).all()
            steps = (
                await s.execute(
                    select(CaseEvent.case_id, CaseEvent.action, CaseEvent.note).where(
                        CaseEvent.action.in_(["sla_reminded", "escalated"])
                    )
                )
            ).all()
            tasks = (await s.scalars(select(ScheduledTask.status))).all()
    finally:
        await engine.dispose()

    # Case numbers: per compound, unique and with no gap, whichever process filed the case.
    assert len(numbered) >= 2 * n
    for compound in {c for c, _ in numbered}:
        numbers = sorted(number for c, number in numbered if c == compound)
        assert numbers == list(range(1, len(numbers) + 1)), compound
    # The 28th: one reminder per room, the eve's and the day's.
    for phrase in ("共建日】明天", "共建日】今天"):
        rooms = [m.get("to_room") for m in sent if phrase in m["text"]]
        assert sorted(rooms) == sorted(ROOMS), phrase
    # SLA: each step of each case once (a head reminded, a secretary, the workers).
    assert steps and not [k for k, c in collections.Counter(steps).items() if c > 1]
    # The outbox: every row sent, each by exactly one send, and nothing else was sent.
    live = [i for i, status in outbox if status != "dropped"]
    assert {status for _, status in outbox} <= {"sent", "dropped"}
    sent_ids = collections.Counter(i for ids in attempts for i in ids)
    assert sorted(sent_ids) == sorted(live) and set(sent_ids.values()) == {1}
    assert len(sent) == len(live)
    assert "running" not in tasks and "failed" not in tasks

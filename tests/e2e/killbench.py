"""Measure kill -9 of the bot against the real puppet service, and print the figures.

.venv/bin/python -m tests.e2e.killbench [--kills 20] [--latency 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
from pathlib import Path

from tests.e2e.botproc import kill_run
from tests.e2e.puppet import PuppetServer, ensure_node_modules


async def main(kills: int, latency: int, seed: int) -> None:
    """Run the kills and print what they did."""
    ensure_node_modules()
    with tempfile.TemporaryDirectory(prefix="jinlin-killbench-") as tmp:
        puppet = PuppetServer(Path(tmp) / "puppet")
        await puppet.start()
        try:
            await puppet.add_contact("wxid_wang", "王秀英")
            await puppet.add_contact("wxid_liu", "刘大爷")
            await puppet.add_room(
                "room-3@chatroom", "武夷香榭3栋业主群", ["wxid_wang", "wxid_liu"]
            )
            run = await kill_run(
                puppet, Path(tmp), kills=kills, latency_ms=latency, rng=random.Random(seed)
            )
        finally:
            await puppet.close()
    print(f"kills:                 {run.kills} (send latency {latency} ms)")
    print(
        f"reports while up:      {run.reports}, filed {run.filed}, lost {run.reports - run.filed}"
    )
    print(f"sends:                 {run.sends}")
    print(f"duplicate sends:       {run.duplicates}")
    print(f"kills during a send:   {run.in_flight} (outcome unknown, sent once more)")
    median, worst = statistics.median(run.restart_seconds), max(run.restart_seconds)
    print(f"restart to connected:  median {median:.2f} s, max {worst:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--latency", type=int, default=300, help="ms per send")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.kills, args.latency, args.seed))

"""`jinlin demo-data --city` and the small mode of `jinlin bench`: they run and print every row.

No timing is asserted (speed belongs to the bench's own output); this keeps the tools from rotting.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from bot.bench.city import CITY_ROWS
from bot.bench.e2e import E2E_ROWS
from bot.bench.worker import KINDS
from bot.demo_data import CityShape, city_config, make_city


def _jinlin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_demo_data_fills_a_small_city_with_a_valid_config(tmp_path: Path) -> None:
    db = tmp_path / "city.db"
    config = tmp_path / "city.yaml"
    done = _jinlin(
        "demo-data", "--city", "--scale", "0.002", "--db", f"sqlite+aiosqlite:///{db}",
        "--out", str(config), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "100.0%" in done.stderr  # the progress bar reached its end
    checked = _jinlin("check-config", str(config), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    shape = CityShape.nanping(0.002)
    with sqlite3.connect(db) as conn:
        count = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("cases", "activities")
        }
        events = conn.execute("SELECT count(DISTINCT case_id) FROM case_events").fetchone()[0]
        counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
        tops = conn.execute(
            "SELECT compound, max(number), count(*) FROM cases WHERE kind = 'report' "
            "GROUP BY compound"
        ).fetchall()
    grid = yaml.safe_load(config.read_text("utf-8"))["grid"]
    compounds = [c for com in grid for c in com["compounds"]]
    count |= {
        "communities": len(grid),
        "compounds": len(compounds),
        "buildings": sum(len(c["buildings"]) for c in compounds),
        "rooms": sum(len(c["rooms"]) for c in compounds),
    }
    assert count == {
        "communities": shape.communities,
        "compounds": shape.compounds,
        "buildings": shape.buildings,
        "rooms": shape.buildings,
        "cases": shape.cases,
        "activities": shape.activities,
    }
    assert events == shape.cases  # every case has its log
    for compound, top, filed in tops:  # numbers count per compound, 1…N
        assert top == filed
        assert counters[f"case:report:{compound}"] == top  # the next report gets a new number
    again = _jinlin(
        "demo-data", "--city", "--scale", "0.002", "--db", f"sqlite+aiosqlite:///{db}",
        "--out", str(tmp_path / "again.yaml"), cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 2 and "already holds cases" in again.stderr
    assert not (tmp_path / "again.yaml").exists()


def test_the_same_seed_makes_the_same_city() -> None:
    shape = CityShape.nanping(0.01)
    url = "sqlite+aiosqlite:///x.db"
    assert city_config(make_city(shape, 14), url) == city_config(make_city(shape, 14), url)
    assert city_config(make_city(shape, 15), url) != city_config(make_city(shape, 14), url)


def test_small_bench_prints_every_figure(tmp_path: Path) -> None:
    done = _jinlin("bench", "all", "--small", "--db", "sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in (*E2E_ROWS, *CITY_ROWS, *(f"{k} p50 / p99" for k in KINDS)):
        assert any(line.strip().startswith(label) for line in lines), (label, done.stdout)
    assert "answered 0/" not in done.stdout  # 待办, the report and the rating were answered


def test_demo_data_fills_a_small_city_on_postgresql(pg_database_url: str, tmp_path: Path) -> None:
    done = _jinlin(
        "demo-data", "--city", "--scale", "0.002", "--db", pg_database_url,
        "--out", str(tmp_path / "city.yaml"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "100.0%" in done.stderr


def test_a_bot_process_reports_its_own_peak_memory_not_its_parents() -> None:
    """The start-up process is started by a bench that holds a whole city; Linux's ru_maxrss
    of such a child starts at the parent's size, so the figure must not come from it."""
    held = bytearray(300 * 1024 * 1024)
    for i in range(0, len(held), 4096):
        held[i] = 1  # resident, not just reserved
    code = "from bot.bench.common import peak_rss_kb; print(peak_rss_kb())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    child_mb = int(done.stdout) / 1024
    assert 5 < child_mb < 150, child_mb
    del held

"""`jinlin bench e2e|city|all`: the whole bot's speed on SQLite and PostgreSQL, in one run."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
from pathlib import Path

from bot.bench.city import bench_city
from bot.bench.common import Database, databases, heading, note, row, workdir
from bot.bench.e2e import E2eSettings, bench_e2e
from bot.bench.options import CHITCHAT as _CHITCHAT
from bot.demo_data import CityShape, city_config, fill, make_city, write_config


def _chitchat(args: argparse.Namespace) -> str | None:
    if args.chitchat:
        if not Path(args.chitchat).exists():
            raise SystemExit(f"jinlin bench: no such file: {args.chitchat}")
        return str(args.chitchat)
    return str(_CHITCHAT) if _CHITCHAT.exists() and not args.small else None


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f}"
    )


async def _city_db(
    db: Database, folder: Path, scale: float, seed: int, name: str
) -> tuple[Path, str]:
    """A filled city database and its config."""
    shape = CityShape.nanping(scale)
    city = make_city(shape, seed)
    url = db.new_url(name)
    config = folder / f"{name}-{db.kind}.yaml"
    write_config(city_config(city, url), config)
    note(f"{db.kind}: filling a city at scale {scale:g} ({shape.cases:,} cases)")
    await fill(url, city, seed, progress=True)
    return config, url


async def _run(args: argparse.Namespace) -> int:
    small = args.small
    scale = args.scale if args.scale is not None else (0.002 if small else 1.0)
    e2e_scale = args.e2e_scale if args.e2e_scale is not None else (0.002 if small else 0.05)
    messages = args.messages if args.messages is not None else (100 if small else 3000)
    runs = args.runs if args.runs is not None else (3 if small else 7)
    chitchat = _chitchat(args)
    print(f"jinlin bench {args.what}: {_machine()}")
    print(f"chit-chat: {chitchat or 'built-in synthetic lines'}")
    if args.city_config:
        if args.what != "city" or args.growth:
            print(
                "jinlin bench: --city-config goes with `city` (and no --growth)", file=sys.stderr
            )
            return 2
        return await _existing_city(Path(args.city_config), runs)
    with workdir(args.keep) as folder, databases(args.db, folder) as dbs:
        for db in dbs:
            if args.what in ("e2e", "all"):
                config, url = await _city_db(db, folder, e2e_scale, args.seed, "e2e")
                settings = E2eSettings(
                    config=config,
                    scale=e2e_scale,
                    seed=args.seed,
                    messages=messages,
                    warmup=5 if small else 30,
                    chitchat=chitchat,
                )
                await bench_e2e(db, settings, url, folder)
            if args.what in ("city", "all"):
                scales = [scale, 2 * scale, 4 * scale] if args.growth else [scale]
                found = []
                for k, s in enumerate(scales):
                    config, url = await _city_db(db, folder, s, args.seed, f"city{k}")
                    found.append(await bench_city(db, CityShape.nanping(s), config, url, runs))
                if args.growth:
                    _print_growth(db, scales, found)
    return 0


async def _existing_city(config_path: Path, runs: int) -> int:
    """Bench a city that `jinlin demo-data` made, on the database its config names."""
    from sqlalchemy import func, select

    from bot.core.config import load_config
    from storage.engine import create_engine
    from storage.models import Case

    config = load_config(config_path)
    url = config.storage.url
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            cases = int((await conn.execute(select(func.count()).select_from(Case))).scalar_one())
    finally:
        await engine.dispose()
    compounds = [c for com in config.grid for c in com.compounds]
    shape = CityShape(
        communities=len(config.grid),
        compounds=len(compounds),
        buildings=sum(len(c.buildings) for c in compounds),
        residents=0,
        cases=cases,
        activities=0,
    )
    kind = "sqlite" if url.startswith("sqlite") else "postgres"
    label = "SQLite file (WAL)" if kind == "sqlite" else "PostgreSQL"
    await bench_city(Database(kind, label, lambda _: url), shape, config_path, url, runs)
    return 0


def _print_growth(db: Database, scales: list[float], found: list[dict[str, float]]) -> None:
    heading(f"growth, {db.label}: each figure at 2x and 4x the city, over 1x")
    base = found[0]
    for label, value in base.items():
        ratios = " / ".join(f"{f[label] / value:.2f}x" if value else "-" for f in found[1:])
        row(label, ratios, f"scales {' / '.join(f'{s:g}' for s in scales)}")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Run the chosen mode on the chosen databases and print every figure."""
    # A terminated bench must still stop its PostgreSQL server and remove its files; a bench
    # started in the background ignores Ctrl-C, so SIGTERM is the way to stop it.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        print("jinlin bench: interrupted", file=sys.stderr)
        return 130

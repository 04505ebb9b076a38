"""The options of `jinlin bench e2e|city|all` (kept light: the CLI imports it on every call)."""

from __future__ import annotations

import argparse
from pathlib import Path

MODES = ("e2e", "city", "all")
CHITCHAT = Path("..") / "shared" / "realdata" / "chitchat.jsonl"


def add_arguments(b: argparse.ArgumentParser) -> None:
    """The options of the city and end-to-end modes of `jinlin bench`."""
    b.add_argument(
        "--db", choices=["sqlite", "postgres", "both"], default="both", help="(e2e, city, all)"
    )
    b.add_argument("--small", action="store_true", help="(e2e, city, all) a tiny run for CI")
    b.add_argument(
        "--scale", type=float, default=None, help="(city, all) the city's size (1: Nanping)"
    )
    b.add_argument(
        "--e2e-scale", type=float, default=None, help="(e2e, all) the city the messages go to"
    )
    b.add_argument("--messages", type=int, default=None, help="(e2e, all) per process")
    b.add_argument("--runs", type=int, default=None, help="(city, all) runs of each query")
    b.add_argument(
        "--chitchat",
        default=None,
        help=f"(e2e, all) chit-chat lines (JSONL with `text`); default {CHITCHAT} when present, "
        "else built-in lines",
    )
    b.add_argument(
        "--city-config",
        default=None,
        help="(city) bench the city of this config (from jinlin demo-data) on its database",
    )
    b.add_argument("--growth", action="store_true", help="(city, all) double the city twice")
    b.add_argument("--keep", default=None, help="keep the generated configs and SQLite files here")

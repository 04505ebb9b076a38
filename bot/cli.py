"""The `jinlin` command line."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="jinlin", description="近邻 bot")
    sub = parser.add_subparsers(dest="command", required=True)
    from bot import parse_tools

    parse_tools.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `jinlin` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

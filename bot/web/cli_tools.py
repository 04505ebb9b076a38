"""`jinlin web hash-password` and `jinlin web new-token`: secrets for the config's web section."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Read a password (prompt, or one line on stdin) and print its scrypt hash for the config."""
    from bot.web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


def cmd_new_token(args: argparse.Namespace) -> int:
    """Make a random API token; print it once and the sha256 line for the config."""
    from bot.web.auth import token_sha256

    token = secrets.token_urlsafe(32)
    print(f"token:        {token}")
    print(f"token_sha256: {token_sha256(token)}")
    return 0


def register(sub: Any) -> None:
    """Add the `web` subcommands to the jinlin parser."""
    p = sub.add_parser("web", help="web console helpers (password hashes, API tokens)")
    websub = p.add_subparsers(dest="web_command", required=True)
    h = websub.add_parser("hash-password", help="print the scrypt hash of a password")
    h.set_defaults(func=cmd_hash_password)
    t = websub.add_parser("new-token", help="make an API token and its sha256 for the config")
    t.set_defaults(func=cmd_new_token)

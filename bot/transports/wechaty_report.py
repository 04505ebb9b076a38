"""The start-up report: which configured rooms and people the account can reach."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class SyncRow:
    """One line of the start-up check: a configured room or person and whether WeChat has it."""

    kind: Literal["room", "person"]
    key: str  # room topic or contact id
    found: bool  # a room the account is in; a person who is the account's contact
    detail: str  # e.g. "12 members", "王姐: a contact", "unknown to the account"


def format_sync_table(rows: Collection[SyncRow]) -> str:
    """Render sync rows as a table for the log (aligned for wide Chinese characters too)."""
    width = max((_width(row.key) for row in rows), default=4)
    lines = [f"{'kind':<6}  {_pad('name', width)}  {'status':<10}  detail"]
    for row in rows:
        if row.kind == "room":
            status = "found" if row.found else "NOT FOUND"
        else:
            status = "contact" if row.found else "NO CONTACT"
        lines.append(f"{row.kind:<6}  {_pad(row.key, width)}  {status:<10}  {row.detail}")
    return "\n".join(lines)


def similar(name: str, candidates: Iterable[tuple[str, str]], limit: int = 3) -> list[str]:
    """ "name (id)" of the candidates (id, name) whose name is close to `name`, best first."""
    by_name: dict[str, list[str]] = {}
    for cid, cname in candidates:
        if cname:
            by_name.setdefault(cname, []).append(cid)
    close = difflib.get_close_matches(name, list(by_name), n=limit, cutoff=0.5)
    # a name that contains the configured one (王姐 in 3栋王姐) is close too
    close += [n for n in by_name if name and name in n and n not in close]
    return [f"{n} ({cid})" for n in close[:limit] for cid in by_name[n][:1]]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))

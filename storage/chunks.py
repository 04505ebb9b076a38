"""Long lists cut for one statement each: IN (...) look-ups and multi-row inserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

PER_STATEMENT = 500
"""Values per IN (...) list or rows per insert: well under SQLite's and asyncpg's limits."""


def chunks(items: Sequence[T], size: int = PER_STATEMENT) -> list[Sequence[T]]:
    """`items` in consecutive pieces of at most `size` (none for an empty sequence)."""
    return [items[i : i + size] for i in range(0, len(items), size)]

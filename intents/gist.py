"""The gist of a report for comparing it with others: the words that describe the problem."""

from __future__ import annotations

import re

_BUILDING = re.compile(r"\d+\s*(?:号楼|栋|幢|#)")
_NOISE = re.compile(r"[\s，。,.!！?？~、：:；;…\-+]+|[又了啊呢吧呀哦的还也都吗]")


def problem_gist(text: str) -> str:
    """The text without building numbers, particles or punctuation."""
    return _NOISE.sub("", _BUILDING.sub("", text))

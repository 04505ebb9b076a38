"""A first parser (placeholder until the full one lands): reports, building, urgency."""

from __future__ import annotations

import re
import unicodedata

from intents.model import Category, Intent, IntentKind, ParseContext

_PROBLEM = ("坏了", "坏掉", "漏水", "不亮", "停电", "停水", "堵了", "报修", "困", "着火", "冒烟")
_URGENT = ("着火", "冒烟", "煤气", "燃气", "困", "被困", "淹", "摔", "电线")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_BUILDING = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*(?:号楼|栋|幢|#楼|#)")


def _building(s: str) -> str | None:
    m = _BUILDING.search(s)
    if not m:
        return None
    raw = m[1]
    if raw.isdigit():
        return str(int(raw))
    if raw == "十":
        return "10"
    if raw.startswith("十"):
        return str(10 + _CN.get(raw[1:], 0))
    return str(_CN.get(raw, 0)) if raw in _CN else None


def parse(text: str, ctx: ParseContext) -> Intent:
    """Read one group message in its context."""
    t = unicodedata.normalize("NFKC", text)
    hits = [k for k in _PROBLEM if k in t]
    if not hits:
        return Intent(IntentKind.NONE, explain=("no problem keyword",))
    building = _building(t) or _building(ctx.sender_name) or _building(ctx.room or "")
    urgent = any(k in t for k in _URGENT)
    return Intent(
        IntentKind.REPORT_PROBLEM,
        building=building,
        urgent=urgent,
        category=Category.OTHER,
        confidence=0.5,
        explain=tuple(f"keyword:{k}" for k in hits),
    )

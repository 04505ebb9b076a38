"""Which building a message concerns: text, then an @ of a building head, then alias, then room."""

from __future__ import annotations

import re
from functools import lru_cache

from intents.numerals import to_int

# 3栋, 3幢, 3号楼, 3#, 三号楼, 十二栋, A座, B栋; not floors (8楼), units (2单元), lifts (2号梯).
_BUILDING = re.compile(
    r"(?<![\d.])(?<![这那整每哪几某两])"
    r"(?<!(?<!\d)\d[-~～至到])(?<!(?<!\d)\d\d[-~～至到])"  # not a range's end: 1-6栋, 10-16栋
    r"(?P<num>\d{1,3}|[一二三四五六七八九十]{1,3})\s*(?P<unit>号楼|号栋|号幢|栋|幢|座|#楼?|号院)"
    r"|(?<![A-Za-z])(?P<letter>[A-Za-z])\s*(?:栋|幢|座|号楼)"
)
# "一栋楼", "一幢楼" count a building, they do not name building 1.
_COUNTING = re.compile(r"^[一]\s*[栋幢]楼")
# "我是5-1-702的": building-unit-room written in the text.
_ROOM_ADDRESS = re.compile(r"(?<![\d\-.:/])(?P<b>\d{1,2})-\d{1,2}-\d{3,4}(?![\d\-])")
# Aliases such as 5-1-301, 3-402, B-2005, 11#-904: the building comes first.
_ALIAS_DASH = re.compile(
    r"^\s*(?P<b>\d{1,2}|[A-Za-z])\s*[-_—]\s*\d{1,4}(?:\s*[-_—]\s*\d{1,4})?(?!\d)"
)

# A compound or gate name first: 富文-3-1202, 城南-5-702, 北门-2-1-301: the building follows it.
_ALIAS_PLACE_DASH = re.compile(
    r"^\s*[^\d\s\-_—]{1,6}\s*[-_—]\s*(?P<b>\d{1,2}|[A-Za-z])\s*[-_—]\s*"
    r"(?:\d{1,2}\s*[-_—]\s*)?\d{3,4}(?!\d)"
)


def _read(m: re.Match[str]) -> str | None:
    if m["letter"]:
        return m["letter"].upper()
    if _COUNTING.match(m.string, m.start()):
        return None
    n = to_int(m["num"])
    return str(n) if n else None


def buildings_in(text: str) -> list[str]:
    """Every building named in the text, in order of appearance."""
    found: list[tuple[int, str]] = []
    for m in _BUILDING.finditer(text):
        b = _read(m)
        if b is not None:
            found.append((m.start(), b))
    found.extend((m.start(), m["b"]) for m in _ROOM_ADDRESS.finditer(text))
    return [b for _, b in sorted(found)]


def building_in(text: str) -> str | None:
    """The first building named in the text, or None."""
    found = buildings_in(text)
    return found[0] if found else None


@lru_cache(maxsize=4096)  # the same senders and rooms come back all day
def building_of_alias(sender_name: str) -> str | None:
    """The building of a 楼栋-房号 display name ("3栋402-王阿姨", "5-1-301李", "B-2005 小叶")."""
    named = building_in(sender_name)
    if named is not None:
        return named
    m = _ALIAS_DASH.match(sender_name) or _ALIAS_PLACE_DASH.match(sender_name)
    return m["b"].upper() if m else None


@lru_cache(maxsize=1024)
def building_of_room(room: str | None) -> str | None:
    """The building of a room whose name names exactly one ("江南八仙小区5栋" gives "5")."""
    if not room:
        return None
    found = set(buildings_in(room))
    return found.pop() if len(found) == 1 else None


def resolve_building(
    body: str, mentions: tuple[str, ...], sender_name: str, room: str | None
) -> tuple[str | None, str]:
    """Apply SCHEMA's order (text, mention, alias, room); return the building and its source."""
    b = building_in(body)
    if b is not None:
        return b, "text"
    for mention in mentions:
        b = building_in(mention)
        if b is not None:
            return b, "mention"
    b = building_of_alias(sender_name)
    if b is not None:
        return b, "alias"
    b = building_of_room(room)
    if b is not None:
        return b, "room"
    return None, "none"

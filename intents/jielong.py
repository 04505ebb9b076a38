"""接龙 blocks: the title, the numbered lines, and the sender's own line among them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from intents.lexicon import Lexicon

_HEADER = re.compile(
    r"^\s*(?:[#【\[]\s*接龙\s*[】\]#]?|接龙\s*(?:[:：]|$|\s))\s*[:：]?\s*(?P<rest>.*)$"
)
_ENTRY = re.compile(r"^\s*(?P<n>\d{1,3})\s*[.、)）]\s*(?P<who>.*?)\s*$")
# Emoji and decorations around names: "🌈彩虹🌈" is 彩虹.
_SYMBOLS = re.compile(r"[^\w\s\-#.]+")
# "3栋402-", "5-1-301", "B座806", "12#楼 ": the building-room part of an alias.
_ALIAS_PREFIX = re.compile(r"^[\s\dA-Za-z#\-_—.栋幢座号楼单元室]+")


@dataclass(frozen=True, slots=True)
class Jielong:
    """A 接龙 block as posted."""

    title: str
    entries: tuple[str, ...]  # the text after each number, in order
    headed: bool = True  # opened by 接龙; else only a title over numbered lines


@dataclass(frozen=True, slots=True)
class OwnLine:
    """The sender's line in a block, what is left of it once the name is taken out."""

    line: str
    rest: str
    reason: str


def parse_jielong(full: str) -> Jielong | None:
    """Recognise a 接龙 block: a 接龙 header, or a title followed by numbered lines."""
    lines = [ln for ln in full.splitlines() if ln.strip()]
    if not lines:
        return None
    header = _HEADER.match(lines[0])
    entries = [m["who"] for ln in lines if (m := _ENTRY.match(ln))]
    if header is None and (len(entries) < 2 or _ENTRY.match(lines[0])):
        return None
    body = lines[1:] if header is not None else lines
    title = header["rest"].strip() if header is not None else ""
    if not title:
        title = next((ln.strip() for ln in body if not _ENTRY.match(ln)), "")
    return Jielong(title, tuple(entries), headed=header is not None)


def name_core(sender_name: str) -> str:
    """The name without its building-room prefix: "3栋402-王阿姨" gives "王阿姨"."""
    core = _ALIAS_PREFIX.sub("", sender_name).strip(" -_")
    return core or sender_name.strip()


def _plain(text: str) -> str:
    """Letters, digits and characters only: "🌈彩虹🌈" and "彩虹" are one name."""
    return _SYMBOLS.sub("", text)


def own_line(block: Jielong, sender_name: str, lex: Lexicon) -> OwnLine | None:
    """The last line that names the sender; others' lines never count."""
    name = _plain(sender_name) or sender_name.strip()
    if not name:
        return None
    core = name_core(name)
    min_ratio = lex.thresholds.jielong_sender_min_ratio
    for raw in reversed(block.entries):
        entry = _plain(raw) if _SYMBOLS.search(raw) and not _SYMBOLS.fullmatch(raw) else raw
        if not entry.strip():
            continue
        if name in entry:
            return OwnLine(entry, entry.replace(name, " ", 1).strip(), "name")
        if len(core) >= 2 and core in entry:
            return OwnLine(entry, entry.replace(core, " ", 1).strip(), "name without alias")
        head = entry[: len(name) + 2]
        ratio = fuzz.partial_ratio(name, head)
        if ratio >= min_ratio and len(name) >= 2:
            rest = entry[len(name) :] if entry.startswith(name[:1]) else entry
            return OwnLine(entry, rest.strip(), f"name ratio {ratio:.0f}")
    return None

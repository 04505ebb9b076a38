"""Private commands: 接单 12, 办结 #12 已修好, 认领 W3, 评价 12 5, 满意 ..."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from intents.command_model import MAX_NUMBER, NO_SUCH_NUMBER, Command, CommandName, transfer_target
from intents.drafts import read_activity_text
from intents.normalise import fold_forms
from intents.numerals import CN_NUMERAL, to_int

# Chinese numerals only as a whole word: "接单 十二", not the 一 of "办结 一下".
_NUMBER = rf"(?:\d+|{CN_NUMERAL}+(?=\s|$))"
_TRAILING = "。.!！~～,，;； \t\n"
_SCORE = re.compile(r"^([1-5]|[一二三四五])\s*(?:分|星|颗星)?$")


@dataclass(frozen=True, slots=True)
class _Grammar:
    verbs: dict[str, tuple[CommandName, bool]]
    ratings: dict[str, int]
    pattern: re.Pattern[str]


@cache
def _grammar() -> _Grammar:
    """The verbs of data/commands.yaml, compiled once."""
    text = resources.files("intents").joinpath("data", "commands.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    verbs = {
        str(v).lower(): (CommandName(spec["command"]), bool(spec["number"]))
        for v, spec in data["verbs"].items()
    }
    ratings = {str(k): int(v) for k, v in data["ratings"].items()}
    alternation = "|".join(sorted(map(re.escape, verbs), key=len, reverse=True))
    # The verb alone: what follows a verb without a number (发布活动, 名单) is taken whole, so
    # "发布活动 Wifi培训" keeps its W and "名单 3栋联谊会" is a title, not number 3.
    pattern = re.compile(rf"^(?P<verb>{alternation})(?P<rest>.*)$", re.S | re.I)
    return _Grammar(verbs, ratings, pattern)


_NUMBERED = re.compile(
    rf"^\s*(?:(?:[#№]|no\.?|[Ww])\s*)?(?P<num>{_NUMBER})?(?P<rest>.*)$", re.S | re.I
)


def _number(raw: str) -> int | None:
    """A case or wish number; a number too long to name one reads as NO_SUCH_NUMBER."""
    if raw.isdecimal() and len(raw) > len(str(MAX_NUMBER)):
        return NO_SUCH_NUMBER  # never int(): 5,000 digits would raise ValueError
    n = to_int(raw)
    return n if n is None or n <= MAX_NUMBER else NO_SUCH_NUMBER


def normalise_command_text(text: str) -> str:
    """Fold full-width forms to half-width, drop a leading @mention, trim spaces and stops."""
    t = fold_forms(text).strip()
    t = re.sub(r"^@\S+\s+", "", t)
    return t.strip(_TRAILING)


def _rating(rest: str, ratings: dict[str, int]) -> int | None:
    if rest in ratings:
        return ratings[rest]
    m = _SCORE.match(rest)
    n = to_int(m[1]) if m else None
    return n if n is not None and 1 <= n <= 5 else None


def parse_command(text: str) -> Command | None:
    """Parse a private message into a Command, or None if it is not one."""
    g = _grammar()
    t = normalise_command_text(text)
    if not t:
        return None
    if t in g.ratings:
        return Command(CommandName.RATE, score=g.ratings[t])
    m = re.match(rf"^(?P<word>{'|'.join(map(re.escape, g.ratings))})\s*#?\s*(?P<num>\d+)$", t)
    if m:  # "满意 #12"
        return Command(CommandName.RATE, number=_number(m["num"]), score=g.ratings[m["word"]])
    m = g.pattern.match(t)
    if m is None:
        return None
    name, needs_number = g.verbs[m["verb"].lower()]
    if not needs_number:
        num, rest = None, m["rest"].strip().strip(_TRAILING)
    else:
        n = _NUMBERED.match(m["rest"])
        assert n is not None  # every part of the pattern is optional
        num = _number(n["num"]) if n["num"] else None
        rest = n["rest"].strip().strip(_TRAILING)
        if num is None:
            return None
    if name is CommandName.RATE:
        score = _rating(rest, g.ratings)
        return Command(name, number=num, score=score) if score is not None else None
    if name in (CommandName.TODO, CommandName.HELP, CommandName.LIST_WISHES) and rest:
        return None
    if name in (CommandName.TRANSFER, CommandName.DISPATCH):
        target = transfer_target(rest) if rest else None
        return Command(name, number=num, arg=rest, target=target)
    if name is CommandName.PUBLISH_ACTIVITY:
        return Command(name, arg=rest, activity=read_activity_text(rest))
    return Command(name, number=num, arg=rest)

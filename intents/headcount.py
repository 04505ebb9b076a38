"""How many people a sign-up is for; the sender counts ("我和老伴" is 2, "带两个孩子" is 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from intents.lexicon import Lexicon
from intents.numerals import CN_NUMERAL, to_int

_N = rf"(\d{{1,2}}|{CN_NUMERAL}{{1,3}})"
_FAMILY = re.compile(rf"(?:一家|全家){_N}口")
# "2人", "两个人", "三口人", "算我们两个", "我和我妈两个": the total, sender included.
_TOTAL = re.compile(
    rf"(?<!带){_N}\s*(?:个|口)?\s*(?:人|位)(?![家员])|{_N}\s*个(?=$|[\s,，。!！~]|都|一起)"
)
_STOP = r"[^,，。!！?？;；\n]"
_PLUS = re.compile(r"^\s*\+\s*(\d)")  # "+2": two people
_PAIR = re.compile(r"(?:我们|咱们|咱|我)俩|老两口|两口子|(?:夫妻|母子|父子|母女|父女|姐妹|兄弟)俩")
_SELF_TOO = re.compile(r"我(也)?(陪|跟着|一起去|带队|也去)")
_ADULTS_KIDS = re.compile(rf"{_N}\s*大\s*{_N}\s*小")  # "2大1小"


@dataclass(frozen=True, slots=True)
class _Patterns:
    people: re.Pattern[str]  # "两个孩子", "老伴", "我家闺女": one group of companions
    bring: re.Pattern[str]  # 带 ...: companions, the sender goes too
    with_: re.Pattern[str]  # 我和 ...: companions
    extra: re.Pattern[str]  # 还有 / 加上 ...: companions
    also: re.Pattern[str]  # 老伴也去: a companion
    proxy: re.Pattern[str]  # 帮 / 给 ... 报: someone else, the sender does not count


@cache
def _patterns(relatives: re.Pattern[str]) -> _Patterns:
    rel = relatives.pattern
    return _Patterns(
        people=re.compile(rf"(?:{_N}\s*个?\s*)?(?:我家|我们家|家里|我)?(?:{rel})"),
        bring=re.compile(rf"带(?:上|着)?({_STOP}*)"),
        with_=re.compile(rf"我(?:和|跟|与|、)({_STOP}*)"),
        extra=re.compile(rf"(?:还有|加上|以及|外加|连同)({_STOP}*)"),
        # "老伴也去", "娃6岁": a companion named going, or named with an age
        also=re.compile(rf"(?:我家|我)?(?:{rel})\s*(?:也(?:去|来|参加|报)|\d{{1,2}}\s*周?岁)"),
        proxy=re.compile(rf"(?:帮|给|替)\s*({_STOP}*?)\s*(?:报|也报)"),
    )


def _count(segment: str, p: _Patterns) -> int:
    """People named in a companion phrase: "老公和孩子" is 2, "两个孩子" is 2."""
    n = 0
    for m in p.people.finditer(segment):
        n += (to_int(m[1]) or 1) if m[1] else 1
    return n


def count_people(text: str, lex: Lexicon) -> tuple[int, str]:
    """The headcount of a sign-up text and the rule that gave it."""
    cap = lex.thresholds.headcount_max
    p = _patterns(lex.relatives)
    total: tuple[int, str] | None = None
    for pattern, rule in ((_FAMILY, "family"), (_TOTAL, "total")):
        for m in pattern.finditer(text):
            n = to_int(next(g for g in m.groups() if g))
            # "帮我报一个，我陪我奶奶去，两个人": the largest total, not the idiom "报一个"
            if n is not None and 0 < n <= cap and (total is None or n > total[0]):
                total = (n, f"{rule}:{m[0]}")
    if total is not None and total[0] >= 2:
        return total
    plus = _PLUS.match(text) or _PAIR.search(text)
    n = 2 if plus and plus.lastindex is None else (to_int(plus[1]) or 1) if plus else 0
    if plus and n >= 2:  # "+1" is the sender alone: companions may still follow
        return n, f"plus:{plus[0]}"
    pair = _ADULTS_KIDS.search(text)
    if pair:
        return (to_int(pair[1]) or 0) + (to_int(pair[2]) or 0), f"adults+kids:{pair[0]}"
    companions, why = 0, []
    counted_to = -1  # "我和老公还有两个孩子": 还有 lies inside the 我和 phrase, counted once
    for pattern in (p.bring, p.with_, p.extra):
        for m in pattern.finditer(text):
            n = _count(m[1], p)
            if n and m.start() >= counted_to:
                companions += n
                why.append(m[0])
                counted_to = max(counted_to, m.end())
    if not companions:
        for m in p.also.finditer(text):
            companions += 1
            why.append(m[0])
    if companions and 1 + companions <= cap:
        return 1 + companions, "companions:" + "+".join(why)
    proxy = p.proxy.search(text)
    if proxy and _count(proxy[1], p):
        return min(_count(proxy[1], p), cap), f"proxy:{proxy[0]}"
    if total is not None:
        return total
    # "两个娃" on a 接龙 line, "两个大人一个小孩": the people counted
    counted = [m for m in p.people.finditer(text) if m[1]]
    if counted:
        n = _count(" ".join(m[0] for m in counted), p)
        if _SELF_TOO.search(text):  # "两个娃都去，我陪着": and the sender
            n += 1
        if 0 < n <= cap:
            return n, "people:" + "+".join(m[0] for m in counted)
    return 1, "default:1"

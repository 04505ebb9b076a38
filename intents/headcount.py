"""How many people a sign-up is for; the sender counts ("我和老伴" is 2, "带两个孩子" is 3)."""

from __future__ import annotations

import re
from functools import cache

from intents.lexicon import Lexicon
from intents.numerals import CN_NUMERAL, to_int

_N = rf"(\d{{1,2}}|{CN_NUMERAL}{{1,3}})"
_FAMILY = re.compile(rf"一家{_N}口|全家{_N}口")
# "2人", "两个人", "算我们两个", "我和我妈两个": the total, sender included.
_TOTAL = re.compile(rf"(?<!带){_N}\s*(?:个|口)?\s*(?:人|位)(?![家员])|{_N}\s*个(?=$|[\s,，。!！~]|都|一起)")


@cache
def _patterns(relatives: re.Pattern[str]) -> tuple[re.Pattern[str], ...]:
    rel = relatives.pattern
    bring = re.compile(rf"带(?:上)?\s*(?:{_N}\s*个?)?\s*((?:我家|我)?(?:{rel}))")
    with_ = re.compile(rf"我(?:和|跟|带|、)((?:(?:我家|我)?(?:{rel})[和、跟及,，]?(?:还有)?)+)")
    also = re.compile(rf"(?:我家|我)?({rel})\s*也(?:去|来|参加|报)")
    proxy = re.compile(rf"(?:帮|给|替)\s*((?:我家|我)?(?:{rel}))\s*(?:报|也报|报个|报一个)")
    return bring, with_, also, proxy


def count_people(text: str, lex: Lexicon) -> tuple[int, str]:
    """The headcount of a sign-up text and the rule that gave it."""
    cap = lex.thresholds.headcount_max
    for pattern, rule in ((_FAMILY, "family"), (_TOTAL, "total")):
        for m in pattern.finditer(text):
            raw = next(g for g in m.groups() if g)
            n = to_int(raw)
            if n is not None and 0 < n <= cap:
                return n, f"{rule}:{m[0]}"
    bring, with_, also, proxy = _patterns(lex.relatives)
    m = proxy.search(text)
    if m and not with_.search(text):
        return 1, f"proxy:{m[0]}"
    m = bring.search(text)
    if m:
        n = to_int(m[1]) if m[1] else 1
        return 1 + (n or 1), f"bring:{m[0]}"
    m = with_.search(text)
    if m:
        n = len(lex.relatives.findall(m[1]))
        return 1 + max(n, 1), f"with:{m[0]}"
    m = also.search(text)
    if m:
        return 2, f"also:{m[0]}"
    return 1, "default:1"

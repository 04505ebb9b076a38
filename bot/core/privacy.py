"""What never reaches a group: phone numbers, ID-card numbers and room numbers.

One filter, applied to every group message on its way into the outbox (bot/outbound.py), so a
number a neighbour typed into a report, a 办结 note, a wish or a display name is not repeated
to the whole building. Private messages keep them: the building head needs the phone.

Numbers are looked for in a digit view of the text, of the same length: Chinese digits
(一三八…, 〇/○/零, 幺 as phones are read aloud) and full-width digits read as 0-9, so
"一三八 一二三四 五六七八", "138-1234-5678" and "三栋四零二室" are found like "13812345678"
and "3栋402室". What only looks like a room or a long number is kept: ranks and ranges of a
count or an amount ("第1-100名", "100-2000元", "30-50人"), amounts ("1000000元", "￥1234567"),
dates ("2026-12-21", "20261221") and times ("15:00-17:00"); case numbers (#12, W3) are never
numbers of a person. The filter is a safety net, not a guarantee: a number spelt out with 十
and 百, or cut by words, is not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

MASK = "***"

# Digits as people type them in Chinese; each maps one character to one, so spans align.
_DIGIT_VIEW = str.maketrans(
    "〇○零一二三四五六七八九幺０１２３４５６７８９",
    "00012345678910123456789",
)

# Between the groups of a phone or ID number: a space, a dash, a dot, with spaces around.
_SEP = r"(?:\s?[\-－—.·]\s?|\s)?"
_PATTERNS = (
    # ID card (18 characters, the last may be X), also as 6-8-4 groups: 350702 19900101 123X
    rf"(?P<id>(?<!\d)\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx](?![\dA-Za-z]))",
    # mobile, with +86 and spaces, dashes or dots as people write them: 138 1234 5678
    rf"(?P<mobile>(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d))",
    # landline with area code: 0599-1234567, (0599)1234567
    r"(?P<landline>(?:(?<!\d)0\d{2,3}|[(（]0\d{2,3}[)）])\s?[\-－—]?\s?\d{7,8}(?!\d))",
    # any other run of 7 or more digits: a landline without area code, a bank card, an old ID
    r"(?P<long>(?<!\d)\d{7,}(?!\d))",
    # rooms: 3-402, 3-1-402, 3#402 (building-unit-room)
    r"(?P<room>(?<![\d\-－—#])\d{1,3}(?:\s*[-－—#]\s*\d{1,3}){0,2}\s*[-－—#]\s*\d{3,4}(?!\d))",
    # rooms: 402室, 1502房, 1502号房; after 栋/单元: 3栋402 keeps "3栋"
    r"(?P<room_word>(?<!\d)\d{3,4}\s*(?:室|号房|房间|房|户)"
    r"|(?<=[栋幢楼元])\s*\d{3,4}(?![\d栋幢号#]))",
)
_PRIVATE = re.compile("|".join(_PATTERNS))

# After a number, a word that makes it a count, an amount or a measure, not a room or a phone.
_COUNTED = re.compile(
    r"\s*(?:[名位人元块万亿岁分米天年届期次页条个件份张套台辆箱包袋瓶本盒斤吨度%％]|平米|公斤)"
)
# Before a number: a rank (第), a total, an estimate, or a currency sign.
_RANKED = re.compile(r"(?:第|共|约|[¥￥$])\s*$")
_ROOM_WORD = re.compile(r"\s*(?:室|号房|房|户)")
_COMPACT_DATE = re.compile(r"(20\d\d)(\d\d)(\d\d)")


def mask_private(text: str, keep: Iterable[str] = ()) -> str:
    """The text with phone, ID-card and room numbers replaced by ***; `keep` stays as is.

    `keep` is the public numbers the bot itself gives (hotlines of the config).
    """
    view = text.translate(_DIGIT_VIEW)
    public = {_digits(k.translate(_DIGIT_VIEW)) for k in keep}
    public.discard("")
    out: list[str] = []
    done = 0
    for m in _PRIVATE.finditer(view):
        found = m[0]
        if (public and _digits(found) in public) or _not_private(m):
            continue
        out += [text[done : m.start()], MASK]
        done = m.end()
    out.append(text[done:])
    return "".join(out)


def _not_private(m: re.Match[str]) -> bool:
    """A room-shaped or long number that is a rank, a count, an amount or a date."""
    kind = m.lastgroup
    if kind not in ("room", "room_word", "long"):
        return False
    before = m.string[max(0, m.start() - 3) : m.start()]
    after = m.string[m.end() : m.end() + 3]
    if (kind == "room_word" and not m[0].strip().isdecimal()) or _ROOM_WORD.match(after):
        return False  # 402室: the word says it is a room, whatever comes before
    if _RANKED.search(before) or _COUNTED.match(after):
        return True
    return kind == "long" and _is_date(m[0])


def _is_date(digits: str) -> bool:
    # 20261221: a date written without separators (a local landline rarely reads as one)
    d = _COMPACT_DATE.fullmatch(digits)
    if d is None:
        return False
    try:
        date(int(d[1]), int(d[2]), int(d[3]))
    except ValueError:
        return False
    return True


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdecimal())

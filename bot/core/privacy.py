"""What never reaches a group: phone numbers, ID-card numbers and room numbers.

One filter, applied to every group message on its way into the outbox (bot/outbound.py), so a
number a neighbour typed into a report, a 办结 note, a wish or a display name is not repeated
to the whole building. Private messages keep them: the building head needs the phone.

`\\d` matches every decimal digit, full-width ones too. Numbers spelt in Chinese characters
(一三八…) are not recognised: the filter is a safety net, not a guarantee.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_SEP = r"[ \-－—]?"
_PATTERNS = (
    # ID card (18 characters, the last may be X) and any other run of 7 or more digits:
    # a landline without area code, a bank card, an old 15-digit ID.
    r"(?P<long>(?<!\d)\d{17}[\dXx](?![\dA-Za-z])|(?<!\d)\d{7,}(?!\d))",
    # mobile, with +86 and spaces or dashes as people write them: 138 1234 5678
    rf"(?P<mobile>(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d))",
    # landline with area code: 0599-1234567, (0599)1234567
    r"(?P<landline>(?:(?<!\d)0\d{2,3}|[(（]0\d{2,3}[)）])[ \-－—]?\d{7,8}(?!\d))",
    # rooms: 3-402, 3-1-402, 3#402 (building-unit-room)
    r"(?P<room>(?<![\d\-－—#])\d{1,3}(?:\s*[-－—#]\s*\d{1,3}){0,2}\s*[-－—#]\s*\d{3,4}(?!\d))",
    # rooms: 402室, 1502房, 1502号房; after 栋/单元: 3栋402 keeps "3栋"
    r"(?P<room_word>(?<!\d)\d{3,4}\s*(?:室|号房|房间|房|户)"
    r"|(?<=[栋幢楼元])\s*\d{3,4}(?![\d栋幢号#]))",
)
_PRIVATE = re.compile("|".join(_PATTERNS))


def mask_private(text: str, keep: Iterable[str] = ()) -> str:
    """The text with phone, ID-card and room numbers replaced by ***; `keep` stays as is.

    `keep` is the public numbers the bot itself gives (hotlines of the config).
    """
    public = {_digits(k) for k in keep if _digits(k)}

    def hide(m: re.Match[str]) -> str:
        if public and _digits(m[0]) in public:
            return m[0]
        return MASK

    return _PRIVATE.sub(hide, text)


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdecimal())

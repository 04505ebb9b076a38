"""Chinese and Arabic numerals → int: 三, 十二, 二十三, 两, 12."""

from __future__ import annotations

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5}
CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
# A character class for regular expressions.
CN_NUMERAL = "[零〇一二两俩三四五六七八九十百]"


def to_int(raw: str) -> int | None:
    """Read 12, 十二, 二十三, 两 or 一百零五 as an int; None if it is not a number."""
    s = raw.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current

"""Text and display names cleaned once, where a message enters the bot.

Everything after the edge (the parser, the command grammar, handlers, storage, the outbox) may
then assume: no lone surrogates (they cannot be encoded and crash the database driver), no NUL
or control characters other than newline and tab, no bidi overrides or isolates (they reorder
what a group reads), no zero-width characters that split a number or a word, no number longer
than 40 digits, and a bounded length. Work is linear in the input and bounded: the raw text is
cut before it is cleaned.
"""

from __future__ import annotations

import re

TEXT_LIMIT = 4000
"""Characters of a message the bot reads; the rest is dropped (a real report is < 500)."""

NAME_LIMIT = 20
"""Characters of a display name the bot repeats."""

# Cut raw input at this many characters before cleaning, so cleaning a 10 MB message costs no
# more than cleaning a long one; cleaning only removes characters, so 4x leaves room for them.
_RAW_FACTOR = 4

# Removed everywhere: C0 controls but tab and newline, DEL and C1 controls, the soft hyphen,
# the Arabic letter mark, the Mongolian vowel separator, zero-width space, LRM/RLM, the bidi
# embeddings, overrides and isolates, word joiner and invisible operators, the BOM,
# interlinear annotation marks, tag characters, and lone surrogates.
_DROP = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
# Zero-width (non-)joiners join emoji (👨‍👩‍👧); anywhere else they only split numbers and words.
_JOINER = re.compile(r"(?<![\u2600-\u27bf\U0001f000-\U0001faff\ufe0f])[\u200c\u200d]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# Three or more line breaks with only blanks between them read as one empty line.
_BLANK_LINES = re.compile(r"\n[ \t]*+(?:\n[ \t]*+){2,}+")

# No real number is longer (an ID card has 18 digits, a bank card 19); a longer run is cut so
# that no rule after the edge (the parser's number and advert rules) sees thousands of digits.
_LONG_NUMBER = re.compile(r"(\d{40})\d+")
NUMBER_LIMIT = 40

# Anything one of the steps above would change (a line break or blank line needs "\n" or
# another break, a long number 41 digits): most messages have none, and are only cut.
_ANY_TO_CLEAN = re.compile("[\n\r\x85\u2028\u2029\u200c\u200d" + _DROP.pattern[1:-1] + "]|\\d{41}")

_EVERYONE = re.compile(r"[@＠]\s*(?:所有人|全体成员|全体|all)", re.I)
_MARKUP = re.compile(r"<[^<>\n]{0,60}>")


def clean_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """Text without invisible or unencodable characters, at most `limit` characters."""
    t = text[: limit * _RAW_FACTOR]
    if _ANY_TO_CLEAN.search(t) is None:
        return t[:limit]
    t = _LINE_BREAKS.sub("\n", t)
    t = _DROP.sub("", t)
    t = _JOINER.sub("", t)
    t = _BLANK_LINES.sub("\n\n", t)
    t = _LONG_NUMBER.sub(r"\1", t)
    return t[:limit]


def clean_name(name: str, limit: int = NAME_LIMIT, fallback: str = "邻居") -> str:
    """A display name fit to repeat: one line, visible characters, no @所有人, no markup.

    Angle-bracket markup is dropped rather than escaped: chat shows plain text, and a name that
    reads "<script>" has no business in a group either way.
    """
    t = clean_text(name, limit * _RAW_FACTOR)
    t = _MARKUP.sub("", t)
    t = _EVERYONE.sub("", t).replace("<", "").replace(">", "")
    t = t.replace("@", "").replace("＠", "")
    t = " ".join(t.split())[:limit].strip()
    return t or fallback


def clean_id(raw: str, limit: int = 150) -> str:
    """A transport's message or person id, safe to store as a key."""
    return clean_text(raw, limit).replace("\n", " ").replace("\t", " ")

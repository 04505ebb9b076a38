"""Chat text → a clean body: forms folded, quotes, mentions and placeholders taken out."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from intents.lexicon import Lexicon

# WeChat lays a quoted reply out as 「name：quoted text」, a dashed line, then the reply.
# Matched one line at a time, with spaces but no line break inside: a pattern whose leading
# \s* may run over line breaks is retried from every line start of a newline flood (quadratic).
_DASH_LINE = re.compile(r"[^\S\n]*(?:[-－—─–_][^\S\n]*){4,}")
_QUOTE = re.compile(r"「[^「」]*」", re.S)
# A mention runs to the next space; WeChat puts U+2005 after it, NFKC turns that into a space.
_MENTION = re.compile(r"@([^\s@]{1,40})")
_PLACEHOLDER = re.compile(r"\[([^\[\]\s]{1,8})\]")
# What the parser reads of one message, by design rather than by timeout: a 接龙 block of a few
# hundred lines fits in MAX_TEXT; a resident's own words (a report, a wish) are stated in their
# first few hundred characters (the longest of some 9,800 labeled messages has 95), and longer
# text is a notice or an article whose gist is in its opening. The rules, the cues and the text
# model read only the body, so MAX_BODY bounds the work of each regular-expression pass.
MAX_TEXT = 20_000
MAX_BODY = 300
# A run of one character longer than this says no more than the run cut to it ("哈"×13 is the
# longest laugh in the labeled data): "栋"×4,000 + "电梯坏了" is read as 栋×16 + 电梯坏了.
MAX_RUN = 16
# Three or more line breaks (blanks between them) read as one empty line, as at the dispatcher.
_BLANK_LINES = re.compile(r"\n[^\S\n]*+(?:\n[^\S\n]*+){2,}+")
# A run of digits longer than any number people write (an ID card has 18) is cut to this length,
# so that patterns such as \d+元 cannot rescan a flood of digits from every position in it.
MAX_DIGITS = 20
# Tried only where a run starts: from inside a run the pattern would rescan it digit by digit.
_LONG_DIGITS = re.compile(rf"(?<!\d)\d{{{MAX_DIGITS + 1},}}")
# Lone surrogates cannot be encoded; control, zero-width and bidi characters only hide words
# ("电\u200b梯") or reorder what is shown. Line breaks and tabs stay.
_INVISIBLE = re.compile(
    "[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
# Clause boundaries: punctuation and line breaks (spaces stay inside: "5栋 2单元").
_CLAUSE = re.compile(r"[^，,。.!！?？;；\n:：~～…、]+[，,。.!！?？;；\n:：~～…、]*")
_QUESTION_END = re.compile(r"(?:[?？]|(?:吗|么|嘛|呢|不)[啊呀哦]?)\s*[，,。.!！?？~～…]*$")
# A-not-A asks too: 管不管, 能不能, 有没有, 是不是.
_A_NOT_A = re.compile(r"(.)[不没]\1")


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of the body, with the punctuation that closes it."""

    text: str
    question: bool


@dataclass(frozen=True, slots=True)
class Message:
    """A message made ready for the rules."""

    full: str  # folded text with everything still in (for 接龙 blocks)
    body: str  # the sender's own words: no quote, no mentions, no placeholders
    mentions: tuple[str, ...]
    placeholders: tuple[str, ...]
    quoted: bool
    clauses: tuple[Clause, ...]


def fold_forms(text: str) -> str:
    """Full-width to half-width (１２ → 12, ＃ → #), compatibility forms folded."""
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str, lex: Lexicon) -> str:
    """Traditional to simplified characters, by phrase where a character alone is ambiguous."""
    if lex.t2s_chars.isdisjoint(text):  # no traditional character: 著名 and 一坏 stay
        return text
    # 樓道著火了: in traditional text 著 is 着 unless a phrase (著名, 著作) keeps it
    by_phrase = lex.t2s_context.sub(lambda m: lex.t2s_context_map[m[0]], text)
    return by_phrase.translate(lex.t2s)


def clean(text: str) -> str:
    """The text without what cannot be shown or encoded, forms folded, floods cut."""
    folded = fold_forms(_INVISIBLE.sub("", text))  # after NFKC: ①①① and １１１ are digits too
    folded = _BLANK_LINES.sub("\n\n", folded)
    folded = _cut_runs(folded)
    return _LONG_DIGITS.sub(lambda m: m[0][:MAX_DIGITS], folded)


def _cut_runs(text: str) -> str:
    """Runs of one character (not a digit or a space) cut to MAX_RUN.

    Counted first (in C) rather than searched with a back-reference, which tries a capture at
    every position and costs as much as the rest of normalising together.
    """
    if len(text) <= MAX_RUN:
        return text
    counts = Counter(text)
    if max(counts.values()) <= MAX_RUN:
        return text
    runs = [
        f"{re.escape(ch)}{{{MAX_RUN + 1},}}"
        for ch, n in counts.items()
        if n > MAX_RUN and not (ch.isdigit() or ch.isspace()) and ch * (MAX_RUN + 1) in text
    ]
    if not runs:
        return text
    return re.sub("|".join(runs), lambda m: m[0][:MAX_RUN], text)  # one pass for every run


def fold(text: str, lex: Lexicon) -> str:
    """Cleaned, full-width to half-width, traditional to simplified, known typos fixed."""
    t = to_simplified(clean(text), lex)
    return lex.typos.sub(lambda m: lex.typo_map[m[0]], t)


def _split_at_dash_lines(text: str) -> list[str]:
    """The text cut at each dashed line (the dashed lines dropped), in one pass over the lines."""
    if "-" not in text and "_" not in text and not any(d in text for d in "－—─–"):
        return [text]
    parts: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        if _DASH_LINE.fullmatch(line):
            parts.append("\n".join(lines))
            lines = []
        else:
            lines.append(line)
    parts.append("\n".join(lines))
    return parts


def _strip_quote(text: str) -> tuple[str, bool]:
    """Drop the quoted part of a WeChat reply; return the sender's own part."""
    parts = _split_at_dash_lines(text)
    if len(parts) > 1:
        own = [p for p in parts if not _QUOTE.fullmatch(p.strip())]
        return "\n".join(own).strip(), True
    stripped = text.strip()
    m = _QUOTE.match(stripped)
    if m and ("：" in m[0] or ":" in m[0]):  # 「name：...」 at the start is a quote
        return stripped[m.end() :].strip(), True
    return text, False


def split_clauses(body: str) -> tuple[Clause, ...]:
    """Cut the body into clauses, marking those asked as questions."""
    out = []
    for m in _CLAUSE.finditer(body):
        piece = m[0]
        words = piece.rstrip("，,。.!！?？;；\n:：~～…、 ").strip()
        if words:
            asks = bool(_QUESTION_END.search(piece) or _A_NOT_A.search(words))
            out.append(Clause(words, asks))
    return tuple(out)


def normalise(text: str, lex: Lexicon) -> Message:
    """Fold the text and separate what the sender wrote from what surrounds it."""
    full = fold(text[:MAX_TEXT], lex)[:MAX_TEXT]  # NFKC may lengthen: ㍿ is 株式会社
    own, quoted = _strip_quote(full)
    mentions = tuple(_MENTION.findall(own))
    body = _MENTION.sub(" ", own)
    placeholders = tuple(_PLACEHOLDER.findall(body))
    body = _PLACEHOLDER.sub(" ", body)
    body = re.sub(r"[ \t]+", " ", body).strip()[:MAX_BODY]
    return Message(full, body, mentions, placeholders, quoted, split_clauses(body))

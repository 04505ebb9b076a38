"""Chat text → a clean body: forms folded, quotes, mentions and placeholders taken out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intents.lexicon import Lexicon

# WeChat lays a quoted reply out as 「name：quoted text」, a dashed line, then the reply.
_DASHES = re.compile(r"^\s*(?:[-－—─–_]\s*){4,}$", re.M)
_QUOTE = re.compile(r"「[^「」]*」", re.S)
# A mention runs to the next space; WeChat puts U+2005 after it, NFKC turns that into a space.
_MENTION = re.compile(r"@([^\s@]{1,40})")
_PLACEHOLDER = re.compile(r"\[([^\[\]\s]{1,8})\]")
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
    simple = text.translate(lex.t2s)
    if simple == text:  # no traditional character: 著名 and 一坏 are left as they are
        return text
    # 樓道著火了: in traditional text 著 is 着 unless a phrase (著名, 著作) keeps it
    by_phrase = lex.t2s_context.sub(lambda m: lex.t2s_context_map[m[0]], text)
    return by_phrase.translate(lex.t2s)


def fold(text: str, lex: Lexicon) -> str:
    """Full-width to half-width, traditional to simplified, known typos fixed."""
    t = to_simplified(fold_forms(text), lex)
    return lex.typos.sub(lambda m: lex.typo_map[m[0]], t)


def _strip_quote(text: str) -> tuple[str, bool]:
    """Drop the quoted part of a WeChat reply; return the sender's own part."""
    parts = _DASHES.split(text)
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
    full = fold(text, lex)
    own, quoted = _strip_quote(full)
    mentions = tuple(_MENTION.findall(own))
    body = _MENTION.sub(" ", own)
    placeholders = tuple(_PLACEHOLDER.findall(body))
    body = _PLACEHOLDER.sub(" ", body)
    body = re.sub(r"[ \t]+", " ", body).strip()
    return Message(full, body, mentions, placeholders, quoted, split_clauses(body))

"""Which open activity a message means: fuzzy, by the distinctive words of each title."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from intents.lexicon import Lexicon

_DAY_IN_TITLE = re.compile(r"(\d{1,2})[日号]")
_DAY_IN_TEXT = re.compile(r"(?<![\d月])(\d{1,2})\s*[号日](?![楼栋幢梯])")
_SEPARATORS = re.compile(r"[·・•\s()（）\[\]【】\-—:：,，、/]+")


@dataclass(frozen=True, slots=True)
class Match:
    """The activity a message names, with the scores that decided."""

    title: str | None
    scores: tuple[tuple[str, float], ...]
    reason: str
    named: bool = False  # the text names it, rather than it being the only one open


def _pairs(text: str, filler: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Adjacent character pairs and pairs with one character skipped, within each segment."""
    near: set[str] = set()
    skip: set[str] = set()
    for seg in _SEPARATORS.split(text):
        for i in range(len(seg) - 1):
            a, b = seg[i], seg[i + 1]
            if a not in filler and b not in filler and a != b:
                near.add(a + b)
            if i + 2 < len(seg):
                c = seg[i + 2]
                if a not in filler and c not in filler and a != c:
                    skip.add(a + c)
    return frozenset(near), frozenset(skip)


@lru_cache(maxsize=1024)  # titles stay open for weeks: worth remembering
def _title_keys(
    title: str, stopwords: re.Pattern[str], filler: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """The distinctive pairs of a title, generic words (社区, 活动, dates) taken out."""
    return _pairs(stopwords.sub("", title), filler)


@lru_cache(maxsize=1024)
def _far_keys(title: str, stopwords: re.Pattern[str], filler: frozenset[str]) -> frozenset[str]:
    """Ordered pairs of distinctive characters anywhere in a title (separators ignored)."""
    chars = [c for c in _SEPARATORS.sub("", stopwords.sub("", title)) if c not in filler]
    return frozenset(a + b for i, a in enumerate(chars) for b in chars[i + 2 :] if a != b)


def score_title(
    title: str, text: str, text_pairs: tuple[frozenset[str], frozenset[str]], lex: Lexicon
) -> float:
    """How strongly the text names this title."""
    near, skip = _title_keys(title, lex.activity_stopwords, lex.activity_filler)
    t_near, t_skip = text_pairs
    score = len(near & t_near) + 0.5 * len((skip | near) & (t_skip - t_near))
    if score == 0:  # "登山" for 登高·麒麟山: two characters of the title, in its order
        score = 0.5 * len(_far_keys(title, lex.activity_stopwords, lex.activity_filler) & t_near)
    day = _DAY_IN_TITLE.search(title)
    if day and any(d == day[1] for d in _DAY_IN_TEXT.findall(text)):
        score += 1.0
    return score


def match_activity(text: str, activities: tuple[str, ...], lex: Lexicon) -> Match:
    """Name the activity the text refers to; one open activity and no clue means that one."""
    if not activities:
        return Match(None, (), "no open activity")
    pairs = _pairs(text, lex.activity_filler)
    scored = sorted(
        ((score_title(a, text, pairs, lex), a) for a in activities), key=lambda p: -p[0]
    )
    table = tuple((a, s) for s, a in scored)
    th = lex.thresholds
    best_score, best = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= th.activity_min_score and best_score - second >= th.activity_margin:
        return Match(best, table, f"named:{best_score:g}", named=True)
    if best_score >= th.activity_min_score:
        # a tie between titles: rapidfuzz on the whole title breaks it, or nothing does
        tied = [a for s, a in scored if best_score - s < th.activity_margin]
        ratios = sorted(((fuzz.partial_ratio(a, text), a) for a in tied), reverse=True)
        if ratios[0][0] - ratios[1][0] >= 10:
            reason = f"tie broken by ratio {ratios[0][0]:.0f}"
            return Match(ratios[0][1], table, reason, named=True)
        return Match(None, table, "ambiguous")
    if len(activities) == 1:
        other = lex.after_signup.search(text)
        if other and lex.activity_head.search(other["x"]) and best_score == 0:
            return Match(None, table, f"names another activity:{other['x']}")
        return Match(activities[0], table, "the only open activity")
    return Match(None, table, "no clue among several")


def match_title(title_line: str, activities: tuple[str, ...], lex: Lexicon) -> Match:
    """Name the activity of a 接龙 title line (rapidfuzz over whole titles, then pairs)."""
    if not activities:
        return Match(None, (), "no open activity")
    ratios = sorted(((fuzz.partial_ratio(a, title_line), a) for a in activities), reverse=True)
    table = tuple((a, r) for r, a in ratios)
    best, best_title = ratios[0]
    second = ratios[1][0] if len(ratios) > 1 else 0.0
    if best >= lex.thresholds.activity_title_min_ratio and best - second >= 10:
        return Match(best_title, table, f"title ratio {best:.0f}", named=True)
    return match_activity(title_line, activities, lex)

"""The lexicons and thresholds of intents/data/*.yaml, compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from intents.model import Category

try:  # the C loader is ten times faster; fall back where libyaml is missing
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Numbers that decide, from thresholds.yaml."""

    activity_min_score: float
    activity_margin: float
    activity_title_min_ratio: float
    jielong_sender_min_ratio: float
    headcount_max: int
    conf_jielong: float
    conf_tagged: float
    conf_strong: float
    conf_weak: float
    conf_none: float
    model_min_probability: float  # below this the model's request is not acted on


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled word lists of lexicon.yaml, plus the character tables of normalisation."""

    t2s: dict[int, int]
    t2s_context: re.Pattern[str]  # phrases and traditional-only characters, longest first
    t2s_context_map: dict[str, str]
    typos: re.Pattern[str]
    typo_map: dict[str, str]
    notice_headers: re.Pattern[str]
    request_headers: re.Pattern[str]
    notice_phrases: re.Pattern[str]
    ad_phrases: re.Pattern[str]
    ad_contacts: re.Pattern[str]
    hypothetical: re.Pattern[str]
    conditionals: re.Pattern[str]
    any_aside: re.Pattern[str]  # any word that may set a clause aside: a cheap first look
    hearsay: re.Pattern[str]
    prohibitions: re.Pattern[str]
    rule_broken: re.Pattern[str]
    resolved: re.Pattern[str]
    unresolved: re.Pattern[str]
    thanks: re.Pattern[str]
    contrast: re.Pattern[str]
    laughter: re.Pattern[str]
    praise: re.Pattern[str]
    downplay: re.Pattern[str]
    past: re.Pattern[str]
    info_question: re.Pattern[str]
    lost_found: re.Pattern[str]
    problem_nouns: re.Pattern[str]  # every category at once; category_of tells which
    problem_phrases: re.Pattern[str]
    noun_categories: tuple[tuple[Category, re.Pattern[str]], ...]
    phrase_categories: tuple[tuple[Category, re.Pattern[str]], ...]
    faults: re.Pattern[str]
    places: re.Pattern[str]
    dangers: re.Pattern[str]
    repeated: re.Pattern[str]
    doers: re.Pattern[str]
    complaints: re.Pattern[str]
    demands: re.Pattern[str]
    report_frames: re.Pattern[str]
    insistence: re.Pattern[str]
    urgent: re.Pattern[str]
    not_urgent: re.Pattern[str]
    mild: re.Pattern[str]
    wish_tags: re.Pattern[str]
    wish_askers: re.Pattern[str]
    wish_helpers: re.Pattern[str]
    wish_helps: re.Pattern[str]
    wish_direct: re.Pattern[str]
    not_wish: re.Pattern[str]
    join_strong: re.Pattern[str]
    join_weak: re.Pattern[str]
    exclamations: frozenset[str]
    leave: re.Pattern[str]
    leave_soft: re.Pattern[str]
    not_join: re.Pattern[str]
    activity_stopwords: re.Pattern[str]
    relatives: re.Pattern[str]
    news_markers: re.Pattern[str]
    reply_markers: re.Pattern[str]
    first_person: re.Pattern[str]
    wish_wants: re.Pattern[str]
    wish_banter: re.Pattern[str]
    recurring: re.Pattern[str]
    thresholds: Thresholds


# A leading group of plain alternatives, "(已经|已|都)", maybe optional; a leading class "[合关]".
_LEAD_GROUP = re.compile(r"\((?!\?)([^()\\\[\]]*)\)(\?)?")
_LEAD_CLASS = re.compile(r"\[([^\]\\^\-]+)\]")
_PLAIN = re.compile(r"[^\\.\[\]{}()*+?|^$]*")


def _literal_first(entry: str) -> list[str]:
    """Rewrite an entry as branches that each begin with a plain character.

    Python's re scans for the first character of a pattern only when every branch begins with
    one; "(已经|已|都)修" as 已经修|已修|都修 makes a list thirty times faster to search.
    """
    m = _LEAD_GROUP.match(entry)
    rest = entry[m.end() :] if m else ""
    if (
        m
        and not rest.startswith(("*", "+", "{"))
        and all(_PLAIN.fullmatch(a) for a in m[1].split("|"))
    ):
        alternatives = m[1].split("|") + ([""] if m[2] else [])
        return [b for a in alternatives for b in _literal_first(a + rest)]
    m = _LEAD_CLASS.match(entry)
    rest = entry[m.end() :] if m else ""
    if m and not rest.startswith(("*", "+", "{", "?")):
        return [b for ch in m[1] for b in _literal_first(re.escape(ch) + rest)]
    if entry.startswith(r"\d+"):
        return [ch + r"\d*" + entry[3:] for ch in "0123456789"]
    if entry.startswith(r"\d") and not entry.startswith((r"\d{", r"\d*", r"\d?")):
        return [b for ch in "0123456789" for b in _literal_first(ch + entry[2:])]
    return [entry]


def _alternation(words: list[str]) -> re.Pattern[str]:
    """One pattern matching any of the fragments, longest first so that 楼道灯 beats 灯."""
    branches = dict.fromkeys(b for w in words for b in _literal_first(str(w)))
    return re.compile("|".join(sorted(branches, key=len, reverse=True)))


def _by_category(table: dict[str, list[str]]) -> tuple[tuple[Category, re.Pattern[str]], ...]:
    """Each category's list, to tell which one a match of the whole table came from."""
    return tuple((Category(cat), _alternation(words)) for cat, words in table.items())


def category_of(word: str, table: tuple[tuple[Category, re.Pattern[str]], ...]) -> Category:
    """The category whose list matches the word (the first one, in the order of the file)."""
    for cat, pattern in table:
        if pattern.fullmatch(word):
            return cat
    return Category.OTHER


def _load(name: str) -> dict[str, Any]:
    text = resources.files("intents").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=_Loader)
    return data


@cache
def lexicon() -> Lexicon:
    """Load and compile the lexicons once; later calls return the same object."""
    lex = _load("lexicon.yaml")
    t2s = _load("t2s.yaml")
    th = _load("thresholds.yaml")
    typo_map: dict[str, str] = {str(k): str(v) for k, v in lex["typos"].items()}
    context_map = {str(k): str(v) for k, v in t2s["traditional_only"].items()}
    context_map |= {str(k): str(v) for k, v in t2s["phrases"].items()}
    conf = th["confidence"]
    thresholds = Thresholds(
        activity_min_score=float(th["activity"]["min_score"]),
        activity_margin=float(th["activity"]["margin"]),
        activity_title_min_ratio=float(th["activity"]["title_min_ratio"]),
        jielong_sender_min_ratio=float(th["jielong"]["sender_min_ratio"]),
        headcount_max=int(th["headcount"]["max"]),
        conf_jielong=float(conf["jielong"]),
        conf_tagged=float(conf["tagged"]),
        conf_strong=float(conf["strong"]),
        conf_weak=float(conf["weak"]),
        conf_none=float(conf["none"]),
        model_min_probability=float(th["model"]["min_probability"]),
    )
    headers = "|".join(lex["notice_headers"])
    requests = "|".join(lex["request_headers"])
    return Lexicon(
        t2s=str.maketrans(t2s["traditional"], t2s["simplified"]),
        t2s_context=_alternation([re.escape(k) for k in context_map]),
        t2s_context_map=context_map,
        typos=_alternation([re.escape(k) for k in typo_map]),
        typo_map=typo_map,
        notice_headers=re.compile(
            rf"^\s*(?:【[^】]{{0,10}}(?:{headers})[^】]{{0,6}}】|(?:{headers})[:：])"
        ),
        request_headers=re.compile(rf"^\s*[【#]?(?:{requests})"),
        notice_phrases=_alternation(lex["notice_phrases"]),
        ad_phrases=_alternation(lex["ad_phrases"]),
        ad_contacts=_alternation(lex["ad_contacts"]),
        # "这要是着火了": a conditional may follow a word or two of subject
        hypothetical=re.compile(
            "^(?:" + "|".join(lex["hypothetical"]) + ")"
            "|^[^，,。!！?？]{1,3}?(?:" + "|".join(lex["conditionals"]) + ")"
        ),
        hearsay=_alternation(lex["hearsay"]),
        conditionals=re.compile("^(?:" + "|".join(lex["conditionals"]) + ")|的话"),
        any_aside=_alternation(
            [*lex["hypothetical"], *lex["hearsay"], *lex["prohibitions"], "的话"]
        ),
        prohibitions=_alternation(lex["prohibitions"]),
        rule_broken=_alternation(lex["rule_broken"]),
        resolved=_alternation(lex["resolved"]),
        unresolved=_alternation(lex["unresolved"]),
        thanks=_alternation(lex["thanks"]),
        contrast=_alternation(lex["contrast"]),
        laughter=_alternation(lex["laughter"]),
        praise=_alternation(lex["praise"]),
        downplay=_alternation(lex["downplay"]),
        past=_alternation(lex["past"]),
        info_question=_alternation(lex["info_question"]),
        lost_found=_alternation(lex["lost_found"]),
        problem_nouns=_alternation([w for ws in lex["problem_nouns"].values() for w in ws]),
        problem_phrases=_alternation([w for ws in lex["problem_phrases"].values() for w in ws]),
        noun_categories=_by_category(lex["problem_nouns"]),
        phrase_categories=_by_category(lex["problem_phrases"]),
        faults=_alternation(lex["faults"]),
        places=_alternation(lex["places"]),
        dangers=_alternation(lex["dangers"]),
        repeated=_alternation(lex["repeated"]),
        doers=_alternation(lex["doers"]),
        complaints=_alternation([str(w) for w in lex["complaints"]]),
        demands=_alternation(lex["demands"]),
        report_frames=_alternation(lex["report_frames"]),
        insistence=_alternation(lex["insistence"]),
        urgent=_alternation([str(w) for w in lex["urgent"]]),
        not_urgent=_alternation(lex["not_urgent"]),
        mild=_alternation(lex["mild"]),
        wish_tags=_alternation(lex["wish_tags"]),
        wish_askers=_alternation(lex["wish_askers"]),
        wish_helpers=_alternation(lex["wish_helpers"]),
        wish_helps=_alternation(lex["wish_helps"]),
        wish_direct=_alternation(lex["wish_direct"]),
        not_wish=_alternation(lex["not_wish"]),
        join_strong=_alternation(lex["join_strong"]),
        join_weak=_alternation(lex["join_weak"]),
        exclamations=frozenset(lex["exclamations"]),
        leave=_alternation(lex["leave"]),
        leave_soft=_alternation(lex["leave_soft"]),
        not_join=_alternation(lex["not_join"]),
        activity_stopwords=_alternation(lex["activity_stopwords"]),
        relatives=_alternation(lex["relatives"]),
        news_markers=_alternation(lex["news_markers"]),
        reply_markers=_alternation(lex["reply_markers"]),
        first_person=_alternation(lex["first_person"]),
        wish_wants=re.compile("|".join(lex["wish_wants"])),
        wish_banter=_alternation(lex["wish_banter"]),
        recurring=_alternation(lex["recurring"]),
        thresholds=thresholds,
    )

"""The lexicons and thresholds of intents/data/*.yaml, validated and compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

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
class Shape:
    """Signs of a kind of text (a headline, an official's reply), looked for unless not_if."""

    not_if: re.Pattern[str]
    signs: tuple[tuple[str, re.Pattern[str]], ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled word lists of lexicon.yaml, plus the character tables of normalisation."""

    t2s: dict[int, int]
    t2s_chars: frozenset[str]  # the characters the table changes: one C-level scan finds none
    t2s_context: re.Pattern[str]  # phrases and traditional-only characters, longest first
    t2s_context_map: dict[str, str]
    typos: re.Pattern[str]
    typo_map: dict[str, str]
    notice_headers: re.Pattern[str]
    request_headers: re.Pattern[str]
    notice_phrases: re.Pattern[str]
    ad_phrases: re.Pattern[str]
    ad_contacts: re.Pattern[str]
    ad_services: re.Pattern[str]
    hypothetical: re.Pattern[str]
    conditionals: re.Pattern[str]
    polite_asks: re.Pattern[str]
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
    pressing: re.Pattern[str]
    pleased: re.Pattern[str]
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
    inaction: re.Pattern[str]
    headline: Shape
    reply: Shape
    proxy_signup: re.Pattern[str]
    polite_if: re.Pattern[str]
    may_i: re.Pattern[str]
    guess: re.Pattern[str]
    cancelled_in_line: re.Pattern[str]
    sale: re.Pattern[str]
    agree: re.Pattern[str]
    after_signup: re.Pattern[str]
    activity_head: re.Pattern[str]
    activity_filler: frozenset[str]
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


def _shape(shape: _Shape) -> Shape:
    return Shape(
        not_if=_alternation(shape.not_if),
        signs=tuple((name, _alternation(words)) for name, words in shape.signs.items()),
    )


def _by_category(
    table: dict[Category, list[str]],
) -> tuple[tuple[Category, re.Pattern[str]], ...]:
    """Each category's list, to tell which one a match of the whole table came from."""
    return tuple((cat, _alternation(words)) for cat, words in table.items())


def _as_text(value: object) -> object:
    """YAML reads 119 or 3 as numbers; an entry is always text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _compiles(entry: str) -> str:
    try:
        re.compile(entry)
    except re.error as e:
        raise ValueError(f"not a regular expression ({e}): {entry!r}") from e
    return entry


Probability = Annotated[float, Field(ge=0, le=1)]


def category_of(word: str, table: tuple[tuple[Category, re.Pattern[str]], ...]) -> Category:
    """The category whose list matches the word (the first one, in the order of the file)."""
    for cat, pattern in table:
        if pattern.fullmatch(word):
            return cat
    return Category.OTHER


Regex = Annotated[str, BeforeValidator(_as_text), AfterValidator(_compiles)]
Regexes = list[Regex]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Patterns(_Strict):
    """Whole regular expressions of lexicon.yaml, each used as written."""

    proxy_signup: Regex
    polite_if: Regex
    may_i: Regex
    guess: Regex
    cancelled_in_line: Regex
    sale: Regex
    agree: Regex
    after_signup: Regex
    activity_head: Regex


class _Shape(_Strict):
    """A shape of text: the signs of it, and what rules it out."""

    not_if: Regexes
    signs: dict[str, Regexes]


class LexiconFile(_Strict):
    """The shape of lexicon.yaml: every list is of regular-expression fragments."""

    typos: dict[str, str]
    notice_headers: Regexes
    request_headers: Regexes
    notice_phrases: Regexes
    ad_phrases: Regexes
    ad_contacts: Regexes
    ad_services: Regexes
    conditionals: Regexes
    polite_asks: Regexes
    hypothetical: Regexes
    prohibitions: Regexes
    rule_broken: Regexes
    hearsay: Regexes
    resolved: Regexes
    unresolved: Regexes
    downplay: Regexes
    praise: Regexes
    laughter: Regexes
    contrast: Regexes
    thanks: Regexes
    past: Regexes
    lost_found: Regexes
    info_question: Regexes
    pressing: Regexes
    pleased: Regexes
    problem_nouns: dict[Category, Regexes]
    faults: Regexes
    places: Regexes
    dangers: Regexes
    repeated: Regexes
    doers: Regexes
    problem_phrases: dict[Category, Regexes]
    report_frames: Regexes
    demands: Regexes
    insistence: Regexes
    complaints: Regexes
    urgent: Regexes
    mild: Regexes
    not_urgent: Regexes
    wish_tags: Regexes
    wish_askers: Regexes
    wish_helpers: Regexes
    wish_helps: Regexes
    wish_direct: Regexes
    not_wish: Regexes
    join_strong: Regexes
    exclamations: list[str]
    join_weak: Regexes
    leave: Regexes
    leave_soft: Regexes
    not_join: Regexes
    activity_stopwords: Regexes
    relatives: Regexes
    news_markers: Regexes
    reply_markers: Regexes
    first_person: Regexes
    wish_wants: Regexes
    wish_banter: Regexes
    recurring: Regexes
    inaction: Regexes
    headline: _Shape
    reply: _Shape
    patterns: _Patterns
    activity_filler: str


class _Activity(_Strict):
    min_score: float = Field(ge=0)
    margin: float = Field(ge=0)
    title_min_ratio: float = Field(ge=0, le=100)


class _Jielong(_Strict):
    sender_min_ratio: float = Field(ge=0, le=100)


class _Headcount(_Strict):
    max: int = Field(ge=1)


class _Confidence(_Strict):
    jielong: Probability
    tagged: Probability
    strong: Probability
    weak: Probability
    none: Probability


class _Model(_Strict):
    min_probability: Probability


class ThresholdsFile(_Strict):
    """The shape of thresholds.yaml."""

    activity: _Activity
    jielong: _Jielong
    headcount: _Headcount
    confidence: _Confidence
    model: _Model


class T2sFile(_Strict):
    """The shape of t2s.yaml: two strings of equal length, and phrase conversions."""

    simplified: str
    traditional: str
    traditional_only: dict[str, str]
    phrases: dict[str, str]

    @model_validator(mode="after")
    def _same_length(self) -> T2sFile:
        if len(self.simplified) != len(self.traditional):
            raise ValueError("simplified and traditional must have the same number of characters")
        return self


class LexiconError(ValueError):
    """A data file of intents/data is malformed: the message names the file, key and problem."""


_File = TypeVar("_File", bound=BaseModel)


def load_file(name: str, shape: type[_File], text: str | None = None) -> _File:
    """Read and validate one data file (or the given text, as if it were that file)."""
    if text is None:
        text = resources.files("intents").joinpath("data", name).read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise LexiconError(f"intents/data/{name}: not valid YAML: {e}") from e
    try:
        return shape.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise LexiconError(f"intents/data/{name}: {where}: {first['msg']}{more}") from e


def thresholds_of(th: ThresholdsFile) -> Thresholds:
    """The numbers of thresholds.yaml as the parser uses them."""
    return Thresholds(
        activity_min_score=th.activity.min_score,
        activity_margin=th.activity.margin,
        activity_title_min_ratio=th.activity.title_min_ratio,
        jielong_sender_min_ratio=th.jielong.sender_min_ratio,
        headcount_max=th.headcount.max,
        conf_jielong=th.confidence.jielong,
        conf_tagged=th.confidence.tagged,
        conf_strong=th.confidence.strong,
        conf_weak=th.confidence.weak,
        conf_none=th.confidence.none,
        model_min_probability=th.model.min_probability,
    )


@cache
def lexicon() -> Lexicon:
    """Load, validate and compile the lexicons once; later calls return the same object."""
    return compile_lexicon(
        load_file("lexicon.yaml", LexiconFile),
        load_file("t2s.yaml", T2sFile),
        load_file("thresholds.yaml", ThresholdsFile),
    )


def compile_lexicon(lex: LexiconFile, t2s: T2sFile, th: ThresholdsFile) -> Lexicon:
    """Compile validated data files into the patterns the parser searches."""
    context_map = dict(t2s.traditional_only) | dict(t2s.phrases)
    headers = "|".join(lex.notice_headers)
    requests = "|".join(lex.request_headers)
    pat = lex.patterns
    table = str.maketrans(t2s.traditional, t2s.simplified)
    return Lexicon(
        t2s=table,
        # a set, not a character class: a class of 4,000 characters, many of them outside the
        # basic plane, is tested one range at a time at every position (6 ms on 4,000 characters)
        t2s_chars=frozenset(chr(k) for k, v in table.items() if v != k),
        t2s_context=_alternation([re.escape(k) for k in context_map]),
        t2s_context_map=context_map,
        typos=_alternation([re.escape(k) for k in lex.typos]),
        typo_map=dict(lex.typos),
        notice_headers=re.compile(
            rf"^\s*(?:【[^】]{{0,10}}(?:{headers})[^】]{{0,6}}】|(?:{headers})[:：])"
        ),
        request_headers=re.compile(rf"^\s*[【#]?(?:{requests})"),
        notice_phrases=_alternation(lex.notice_phrases),
        ad_phrases=_alternation(lex.ad_phrases),
        ad_contacts=_alternation(lex.ad_contacts),
        ad_services=_alternation(lex.ad_services),
        # "这要是着火了": a conditional may follow a word or two of subject
        hypothetical=re.compile(
            "^(?:" + "|".join(lex.hypothetical) + ")"
            "|^[^，,。!！?？]{1,3}?(?:" + "|".join(lex.conditionals) + ")"
        ),
        hearsay=_alternation(lex.hearsay),
        conditionals=re.compile("^(?:" + "|".join(lex.conditionals) + ")|的话"),
        polite_asks=re.compile("|".join(lex.polite_asks)),
        any_aside=_alternation([*lex.hypothetical, *lex.hearsay, *lex.prohibitions, "的话"]),
        prohibitions=_alternation(lex.prohibitions),
        rule_broken=_alternation(lex.rule_broken),
        resolved=_alternation(lex.resolved),
        unresolved=_alternation(lex.unresolved),
        thanks=_alternation(lex.thanks),
        contrast=_alternation(lex.contrast),
        laughter=_alternation(lex.laughter),
        praise=_alternation(lex.praise),
        downplay=_alternation(lex.downplay),
        past=_alternation(lex.past),
        info_question=_alternation(lex.info_question),
        pressing=_alternation(lex.pressing),
        pleased=_alternation(lex.pleased),
        lost_found=_alternation(lex.lost_found),
        problem_nouns=_alternation([w for ws in lex.problem_nouns.values() for w in ws]),
        problem_phrases=_alternation([w for ws in lex.problem_phrases.values() for w in ws]),
        noun_categories=_by_category(lex.problem_nouns),
        phrase_categories=_by_category(lex.problem_phrases),
        faults=_alternation(lex.faults),
        places=_alternation(lex.places),
        dangers=_alternation(lex.dangers),
        repeated=_alternation(lex.repeated),
        doers=_alternation(lex.doers),
        complaints=_alternation(lex.complaints),
        demands=_alternation(lex.demands),
        report_frames=_alternation(lex.report_frames),
        insistence=_alternation(lex.insistence),
        urgent=_alternation(lex.urgent),
        not_urgent=_alternation(lex.not_urgent),
        mild=_alternation(lex.mild),
        wish_tags=_alternation(lex.wish_tags),
        wish_askers=_alternation(lex.wish_askers),
        wish_helpers=_alternation(lex.wish_helpers),
        wish_helps=_alternation(lex.wish_helps),
        wish_direct=_alternation(lex.wish_direct),
        not_wish=_alternation(lex.not_wish),
        join_strong=_alternation(lex.join_strong),
        join_weak=_alternation(lex.join_weak),
        exclamations=frozenset(lex.exclamations),
        leave=_alternation(lex.leave),
        leave_soft=_alternation(lex.leave_soft),
        not_join=_alternation(lex.not_join),
        activity_stopwords=_alternation(lex.activity_stopwords),
        relatives=_alternation(lex.relatives),
        news_markers=_alternation(lex.news_markers),
        reply_markers=_alternation(lex.reply_markers),
        first_person=_alternation(lex.first_person),
        wish_wants=re.compile("|".join(lex.wish_wants)),
        wish_banter=_alternation(lex.wish_banter),
        recurring=_alternation(lex.recurring),
        inaction=_alternation(lex.inaction),
        headline=_shape(lex.headline),
        reply=_shape(lex.reply),
        proxy_signup=re.compile(pat.proxy_signup),
        polite_if=re.compile(pat.polite_if),
        may_i=re.compile(pat.may_i),
        guess=re.compile(pat.guess),
        cancelled_in_line=re.compile(pat.cancelled_in_line),
        sale=re.compile(pat.sale),
        agree=re.compile(pat.agree),
        after_signup=re.compile(pat.after_signup),
        activity_head=re.compile(pat.activity_head),
        activity_filler=frozenset(lex.activity_filler),
        thresholds=thresholds_of(th),
    )

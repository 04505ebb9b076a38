"""The rules that decide the intent of a group message, each leaving a trace in explain."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from intents.activities import match_activity
from intents.lexicon import Lexicon
from intents.model import Category, IntentKind, ParseContext
from intents.normalise import Clause, Message

_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One problem found in one clause."""

    category: Category
    what: str
    strong: bool  # a standalone phrase (停电, 着火) rather than a thing plus a fault


@dataclass(slots=True)
class Reading:
    """What the rules found; turned into an Intent by the parser."""

    kind: IntentKind = IntentKind.NONE
    confidence: float = 0.9
    category: Category | None = None
    urgent: bool = False
    explain: list[str] = field(default_factory=list)


def _active(clauses: tuple[Clause, ...], lex: Lexicon) -> tuple[list[Clause], list[str]]:
    """Clauses that state something: hypotheses, advice, rules and hearsay are set aside."""
    if not any(lex.any_aside.search(c.text) for c in clauses):
        return list(clauses), []
    kept, dropped = [], []
    after_condition = False
    for c in clauses:
        rule = lex.prohibitions.search(c.text) and not lex.rule_broken.search(c.text)
        aside = rule or lex.hypothetical.search(c.text) or lex.hearsay.search(c.text)
        if aside or after_condition or "的话" in c.text:
            dropped.append(c.text)
        else:
            kept.append(c)
        after_condition = bool(lex.conditionals.search(c.text)) and not after_condition
    return kept, dropped


def problems(clauses: list[Clause], lex: Lexicon) -> list[Evidence]:
    """Problems stated: a thing with a fault in one clause, or a problem phrase."""
    # one pass of each pattern over the whole text, then the matches are sorted into clauses
    text = "\n".join(c.text for c in clauses)
    found = [
        Evidence(Category(m.lastgroup or "other"), m[0], True)
        for m in lex.problem_phrases.finditer(text)
    ]
    faults = list(lex.faults.finditer(text))
    if faults:
        nouns = list(lex.problem_nouns.finditer(text))
        start = 0
        for c in clauses:
            end = start + len(c.text)
            fault = next((f for f in faults if start <= f.start() < end), None)
            if fault is not None:
                here = [m for m in nouns if start <= m.start() < end]
                things = _things(here, fault)
                # the topic carries over: "装修垃圾倒在楼梯口，一个星期了没人清"
                if not things:
                    things = _things([m for m in nouns if m.start() < start], None)
                found.extend(Evidence(cat, f"{w}+{fault[0]}", False) for cat, w in things)
            start = end + 1
    if not found:
        found.extend(_at_a_place(text, lex))
    return found


def _at_a_place(text: str, lex: Lexicon) -> list[Evidence]:
    """Dangers and repeated nuisances with no known thing, at a place of the compound."""
    place = lex.places.search(text)
    if place is None:
        return []
    danger = lex.dangers.search(text)
    if danger:
        return [Evidence(Category.OTHER, f"{danger[0]}@{place[0]}", False)]
    repeated = lex.repeated.search(text)
    if repeated and "有人" in text:  # "有人...好几晚了": someone keeps doing it
        return [Evidence(Category.DISPUTE, f"有人+{repeated[0]}@{place[0]}", False)]
    fault = lex.faults.search(text)
    if fault and "有人" in text:  # "有人在楼道抽烟，烟味飘到家里"
        return [Evidence(Category.DISPUTE, f"有人+{fault[0]}@{place[0]}", False)]
    return []


def _things(nouns: list[re.Match[str]], fault: re.Match[str] | None) -> list[tuple[Category, str]]:
    """The first thing of each category, not counting the fault word itself."""
    out: dict[Category, str] = {}
    for m in nouns:
        cat = Category(m.lastgroup or "other")
        if cat not in out and (fault is None or not (m.start() <= fault.start() < m.end())):
            out[cat] = m[0]
    return list(out.items())


def urgency(clauses: list[Clause], lex: Lexicon) -> str | None:
    """The phrase that makes a report urgent, if any: fire, gas, someone trapped, a fall."""
    for c in clauses:
        m = lex.urgent.search(c.text)
        if m and not lex.not_urgent.search(c.text):
            return m[0]
    return None


def _category(found: list[Evidence]) -> Category:
    votes = Counter(e.category for e in found)
    # the first evidence breaks ties: people say the main thing first
    order = {cat: i for i, cat in reversed(list(enumerate(e.category for e in found)))}
    return max(votes, key=lambda cat: (votes[cat], -order[cat]))


def _first(pattern: re.Pattern[str], clauses: list[Clause], questions: bool) -> str | None:
    for c in clauses:
        if c.question and not questions:
            continue
        m = pattern.search(c.text)
        if m:
            return m[0]
    return None


def _signup(
    msg: Message, clauses: list[Clause], ctx: ParseContext, lex: Lexicon, problem_found: bool
) -> tuple[IntentKind, str] | None:
    """Join or leave, said by the sender about an open activity."""
    has_acts = bool(ctx.activities)
    if not has_acts and "报名" not in msg.body:  # nothing open, nothing named: no sign-up
        return None
    statements = [c for c in clauses if not c.question]
    leave = _first(lex.leave, statements, questions=False)
    if leave and (has_acts or "报名" in msg.body) and not problem_found:
        return IntentKind.LEAVE_ACTIVITY, f"leave:{leave}"
    joinable = [c for c in statements if not lex.not_join.search(c.text)]
    strong = _first(lex.join_strong, joinable, questions=False)
    if strong and not has_acts and "报名" not in strong and "接龙" not in strong:
        strong = None
    if strong and not (problem_found and strong.strip().startswith("+")):
        return IntentKind.JOIN_ACTIVITY, f"join:{strong}"
    if len(clauses) > 1:  # "我去，这么多人报名了": an exclamation opening a longer message
        joinable = [c for c in joinable if c.text not in lex.exclamations]
    weak = _first(lex.join_weak, joinable, questions=False)
    asking = any(c.question for c in clauses)  # "几点开始？我下午才有空" asks, it does not join
    if weak and has_acts and not problem_found and not asking:
        named = match_activity(msg.body, ctx.activities, lex)
        if named.title is not None:
            return IntentKind.JOIN_ACTIVITY, f"join-weak:{weak}+{named.reason}"
    return None


def _wish(msg: Message, clauses: list[Clause], lex: Lexicon) -> str | None:
    """A small personal wish asked of neighbours or volunteers."""
    if lex.not_wish.search(msg.body):
        return None
    tag = lex.wish_tags.search(msg.body)
    if tag:
        return f"wish-tag:{tag[0].strip()}"
    text = " ".join(c.text for c in clauses)
    direct = lex.wish_direct.search(text)
    if direct:
        return f"wish:{direct[0]}"
    asker = lex.wish_askers.search(text)
    if asker is None:
        return None
    help_ = lex.wish_helps.search(text, asker.start())
    if help_ is None:
        return None
    helper = lex.wish_helpers.search(text)
    soft = asker[0].startswith(("想要", "希望"))
    if soft and helper is None:
        return None
    return f"wish:{asker[0]}+{help_[0]}"


def classify(msg: Message, ctx: ParseContext, lex: Lexicon) -> Reading:
    """Read a message: gates first (empty, notice, ad, thanks), then sign-ups, wishes, problems."""
    r = Reading(confidence=lex.thresholds.conf_none)
    th = lex.thresholds
    body = msg.body
    if not _WORDS.search(body):
        r.explain.append(
            "gate:empty" + (f"[{','.join(msg.placeholders)}]" if msg.placeholders else "")
        )
        return r
    first_line = body.split("\n", 1)[0]
    if lex.notice_headers.search(first_line) and not lex.request_headers.search(first_line):
        r.explain.append(f"gate:notice-header:{lex.notice_headers.search(first_line)[0]}")  # type: ignore[index]
        return r
    clauses, dropped = _active(msg.clauses, lex)
    for d in dropped:
        r.explain.append(f"hypothetical:{d}")
    found = problems(clauses, lex)
    complaint = lex.complaints.search(body)
    ad = lex.ad_phrases.search(body)
    if ad and not (found and complaint):
        r.explain.append(f"gate:ad:{ad[0]}")
        return r
    notice = lex.notice_phrases.search(body)
    if notice and not lex.urgent.search(body):
        r.explain.append(f"gate:notice:{notice[0]}")
        return r
    thanks = lex.thanks.search(body)
    if thanks:
        r.explain.append(f"gate:thanks:{thanks[0]}")
        return r
    wish = _wish(msg, clauses, lex)
    tagged = wish is not None and wish.startswith("wish-tag")
    signup = None if tagged else _signup(msg, clauses, ctx, lex, problem_found=bool(found))
    if signup is not None:
        r.kind, why = signup
        r.confidence = th.conf_strong if "weak" not in why else th.conf_weak
        r.explain.append(why)
        return r
    unresolved = lex.unresolved.search(body)
    past = lex.past.search(body)
    if past and not unresolved:  # a story, not a report: "想当年...水淹到腰了"
        r.explain.append(f"gate:past:{past[0]}")
        return r
    resolved = lex.resolved.search(body)
    if resolved and not unresolved:
        r.explain.append(f"gate:resolved:{resolved[0]}")
        return r
    info = lex.info_question.search(body)
    demand = lex.demands.search(body)
    emergency = urgency(clauses, lex) if found else None
    # a wish asks neighbours; a fault with a demand on 物业, or an emergency, is a report
    if wish and (tagged or not (found and (demand or emergency))):
        if info and not tagged:
            r.explain.append(f"gate:info-question:{info[0]}")
            return r
        r.kind = IntentKind.MICRO_WISH
        r.confidence = th.conf_tagged if tagged else th.conf_strong
        r.explain.append(wish)
        return r
    if not found:
        # an unknown thing with a fault, asked to be fixed: "物业，一期的道闸杆又不抬了，赶紧修"
        stated = "\n".join(c.text for c in clauses)
        fault = lex.faults.search(stated)
        things = _things(list(lex.problem_nouns.finditer(stated)), None)
        insist = lex.insistence.search(body)
        if demand is not None and fault is not None:
            found = [Evidence(Category.OTHER, f"{fault[0]}+{demand[0]}", False)]
        elif things and insist is not None and not any(c.question for c in clauses):
            # a known thing complained about: "电梯这个月第三次了，一直这样"
            cat, thing = things[0]
            found = [Evidence(cat, f"{thing}+{insist[0]}", False)]
        else:
            r.explain.append("no request found")
            return r
    strong = any(e.strong for e in found)
    if info and not strong:
        r.explain.append(f"gate:info-question:{info[0]}")
        return r
    praising = lex.praise.search(body)
    if praising and not strong and not lex.demands.search(body):
        r.explain.append(f"gate:praise:{praising[0]}")
        return r
    laughing = lex.laughter.search(msg.full)
    if laughing and not strong and not lex.demands.search(body):
        r.explain.append(f"gate:banter:{laughing[0]}")
        return r
    r.kind = IntentKind.REPORT_PROBLEM
    r.category = _category(found)
    r.explain.extend(f"problem:{e.category}:{e.what}" for e in found[:4])
    if complaint:
        r.explain.append(f"complaint:{complaint[0]}")
    r.confidence = th.conf_strong if (strong or complaint) else th.conf_weak
    urgent = emergency or urgency(clauses, lex)
    if urgent:
        r.urgent = True
        r.explain.append(f"urgent:{urgent}")
    return r

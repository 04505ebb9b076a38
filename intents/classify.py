"""The rules that decide the intent of a group message, each leaving a trace in explain."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from intents.activities import match_activity
from intents.lexicon import Lexicon, category_of
from intents.model import Category, IntentKind, ParseContext
from intents.normalise import MAX_BODY, Clause, Message
from intents.trace import Step, Trace

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
    trace: list[Trace] = field(default_factory=list)

    @property
    def found_nothing(self) -> bool:
        """True when the rules ended with no request found (not silenced by a gate)."""
        return bool(self.trace) and self.trace[-1].step is Step.NO_REQUEST


def _active(clauses: tuple[Clause, ...], lex: Lexicon) -> tuple[list[Clause], list[str]]:
    """Clauses that state something: hypotheses, advice, rules and hearsay are set aside."""
    if lex.any_aside.search("\n".join(c.text for c in clauses)) is None:
        return list(clauses), []
    kept, dropped = [], []
    after_condition = polite_before = False
    for c in clauses:
        rule = lex.prohibitions.search(c.text) and not lex.rule_broken.search(c.text)
        polite = lex.polite_asks.search(c.text) is not None  # 要是有好心人，能不能帮我…
        iffy = "的话" in c.text and not lex.polite_if.match(c.text)
        supposed = (lex.hypothetical.search(c.text) or iffy) and not polite
        aside = rule or supposed or lex.hearsay.search(c.text)
        if aside or (after_condition and not polite_before):
            dropped.append(c.text)
        else:
            kept.append(c)
        # "要是下雨，我就不去了" takes the next clause along; "如果出了事谁负责？" asks, and
        # what follows it is stated
        conditional = bool(lex.conditionals.search(c.text)) and not c.question
        after_condition = conditional and not after_condition
        polite_before = polite
    return kept, dropped


def problems(clauses: list[Clause], lex: Lexicon) -> list[Evidence]:
    """Problems stated: a thing with a fault in one clause, or a problem phrase."""
    # one pass of each pattern over the whole text, then the matches are sorted into clauses
    text = "\n".join(c.text for c in clauses)
    found = [
        Evidence(category_of(m[0], lex.phrase_categories), m[0], True)
        for m in lex.problem_phrases.finditer(text)
    ]
    faults = list(lex.faults.finditer(text))
    if faults:
        nouns = list(lex.problem_nouns.finditer(text))
        fault_starts = [f.start() for f in faults]
        noun_starts = [m.start() for m in nouns]
        # one walk over the clauses: each looks up its own matches by position (bisect), and the
        # topic so far (the first thing of each category before the clause) grows as it goes,
        # so a message of many clauses costs no more than its length
        topic: dict[Category, str] = {}
        seen = 0  # nouns[:seen] are in the topic
        start = 0
        for i, c in enumerate(clauses):
            end = start + len(c.text)
            while seen < len(nouns) and noun_starts[seen] < start:
                cat = category_of(nouns[seen][0], lex.noun_categories)
                topic.setdefault(cat, nouns[seen][0])
                seen += 1
            at = bisect_left(fault_starts, start)
            fault = faults[at] if at < len(faults) and fault_starts[at] < end else None
            if fault is not None:
                here = nouns[seen : bisect_left(noun_starts, end, lo=seen)]
                things = _things(here, fault, lex)
                # the topic carries over: "装修垃圾倒在楼梯口，一个星期了没人清"
                if not things:
                    things = list(topic.items())
                # or is named next: "有够吵！隔壁那个工地从六点就开始打桩"
                if not things and i == 0:
                    nxt = end + 1 + len(clauses[1].text) if len(clauses) > 1 else end
                    after = nouns[bisect_right(noun_starts, end) : bisect_left(noun_starts, nxt)]
                    things = _things(after, None, lex)
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
    doer = lex.doers.search(text)
    if doer is None:
        return []
    # someone keeps doing it ("有人...好几晚了"), or does harm ("有人在楼道抽烟，烟味飘到家里")
    what = lex.repeated.search(text) or lex.faults.search(text)
    if what:
        return [Evidence(Category.DISPUTE, f"{doer[0]}+{what[0]}@{place[0]}", False)]
    return []


def _things(
    nouns: list[re.Match[str]], fault: re.Match[str] | None, lex: Lexicon
) -> list[tuple[Category, str]]:
    """The first thing of each category, not counting the fault word itself."""
    out: dict[Category, str] = {}
    for m in nouns:
        cat = category_of(m[0], lex.noun_categories)
        if cat not in out and (fault is None or not (m.start() <= fault.start() < m.end())):
            out[cat] = m[0]
    return list(out.items())


def urgency(clauses: list[Clause], lex: Lexicon) -> str | None:
    """The phrase that makes a report urgent, if any: fire, gas, someone trapped, a fall."""
    if any(lex.mild.search(c.text) for c in clauses):  # "膝盖擦破了": hurt, but it is over
        return None
    for c in clauses:
        if c.question and lex.guess.search(c.text):
            continue  # "是不是楼上水管爆了？" guesses a cause, it does not see a danger
        if lex.recurring.search(c.text):
            continue  # "经常被关在电梯里", "着过一次火": a danger that recurs or was, not one now
        m = lex.urgent.search(c.text)
        if m and not lex.not_urgent.search(c.text):
            return m[0]
    return None


def _category(found: list[Evidence]) -> Category:
    votes = Counter(e.category for e in found)
    if Category.NOISE in votes:  # a neighbour's noise is a noise problem before a dispute
        votes.pop(Category.DISPUTE, None)
    # the first evidence breaks ties: people say the main thing first
    order = {cat: i for i, cat in reversed(list(enumerate(e.category for e in found)))}
    return max(votes, key=lambda cat: (votes[cat], -order[cat]))


def _first(pattern: re.Pattern[str], clauses: list[Clause], questions: bool) -> str | None:
    """The first match in the clauses (statements only unless questions)."""
    if not clauses or pattern.search("\n".join(c.text for c in clauses)) is None:
        return None  # one look at the whole text settles the common case: no match at all
    for c in clauses:
        if c.question and not questions:
            continue
        m = pattern.search(c.text)
        if m:
            return m[0]
    return None


def _signup(
    msg: Message, clauses: list[Clause], ctx: ParseContext, lex: Lexicon, problem_found: bool
) -> tuple[IntentKind, Trace] | None:
    """Join or leave, said by the sender about an open activity."""
    said = "\n".join(c.text for c in clauses)
    if not (lex.leave.search(said) or lex.join_strong.search(said) or lex.join_weak.search(said)):
        return None  # no word of joining or leaving: the open activities cannot matter
    has_acts = bool(ctx.open_titles())
    if not has_acts and "报名" not in msg.body:  # nothing open, nothing named: no sign-up
        return None
    statements = [c for c in clauses if not c.question]
    leave = _first(lex.leave, statements, questions=False)
    asking = any(c.question for c in clauses)
    if leave and asking and lex.leave_soft.search(leave):
        leave = None  # "能发群里吗？我去不了想看看": a reason for asking
    if leave:  # "义诊我爸说不去了，就我一个": someone else drops out, not the sender
        at = msg.body.find(leave)
        said = msg.body[max(0, at - 6) : at]
        if "说" in said and lex.relatives.search(said):
            later = lex.leave.search(msg.body, at + len(leave))  # "…帮她取消一下" still is
            leave = later[0] if later else None
    if leave and lex.proxy_signup.search(msg.body):
        leave = None  # "帮我老婆和女儿报一下，我要上班去不了": a reason, the others go
    if leave and (has_acts or "报名" in msg.body) and not problem_found:
        return IntentKind.LEAVE_ACTIVITY, Trace(Step.LEAVE, "", leave)
    if asking and clauses[-1].question and lex.may_i.fullmatch(clauses[-1].text):
        return None  # "我女儿想报名做志愿者，她读高一，可以吗"
    joinable = [c for c in statements if not lex.not_join.search(c.text)]
    strong = _first(lex.join_strong, joinable, questions=False)
    if strong and not has_acts and "报名" not in strong and "接龙" not in strong:
        strong = None
    if strong and not (problem_found and strong.strip().startswith("+")):
        return IntentKind.JOIN_ACTIVITY, Trace(Step.JOIN, "", strong)
    if len(clauses) > 1:  # "我去，这么多人报名了": an exclamation opening a longer message
        joinable = [c for c in joinable if c.text not in lex.exclamations]
    weak = _first(lex.join_weak, joinable, questions=False)
    # "几点开始？我下午才有空" asks, it does not join
    if weak and has_acts and not problem_found and not asking:
        named = match_activity(msg.body, ctx.open_titles(), lex)
        if named.title is not None:
            return IntentKind.JOIN_ACTIVITY, Trace(Step.JOIN_WEAK, weak, named.reason)
    return None


def _wish(msg: Message, clauses: list[Clause], lex: Lexicon) -> Trace | None:
    """A small personal wish asked of neighbours or volunteers."""
    if lex.not_wish.search(msg.body):
        return None
    tag = lex.wish_tags.search(msg.body)
    if tag:
        return Trace(Step.WISH_TAG, "", tag[0].strip())
    text = " ".join(c.text for c in clauses)
    direct = lex.wish_direct.search(text)
    if direct:
        return Trace(Step.WISH, "direct", direct[0])
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
    return Trace(Step.WISH, "ask", f"{asker[0]}+{help_[0]}")


@dataclass(frozen=True, slots=True)
class Facts:
    """What is found once in a message and consulted by the gates."""

    msg: Message
    clauses: list[Clause]  # the stated clauses: hypotheses, rules and hearsay set aside
    found: list[Evidence]
    lex: Lexicon

    @property
    def body(self) -> str:
        """The sender's own words."""
        return self.msg.body

    def search(self, pattern: re.Pattern[str]) -> str | None:
        """The first match of a pattern in the body, or None."""
        m = pattern.search(self.msg.body)
        return m[0] if m else None


Gate = Callable[[Facts], Trace | None]


def _empty(f: Facts) -> Trace | None:
    if _WORDS.search(f.body):
        return None
    return Trace(Step.GATE, "empty", ",".join(f.msg.placeholders))


def _unbroken(f: Facts) -> Trace | None:
    # as many characters as the parser reads, without one break or punctuation mark: no one
    # writes a request so (the longest labeled message is 95 characters), a paste or junk does
    if len(f.body) < MAX_BODY or len(f.msg.clauses) > 1:
        return None
    return Trace(Step.GATE, "unbroken", f"{len(f.body)} characters")


def _notice_header(f: Facts) -> Trace | None:
    first_line = f.body.split("\n", 1)[0]
    m = f.lex.notice_headers.search(first_line)
    if m is None or f.lex.request_headers.search(first_line):
        return None
    return Trace(Step.GATE, "notice-header", m[0])


def _ad(f: Facts) -> Trace | None:
    ad = f.search(f.lex.ad_phrases)
    if ad is None:  # a number to call back is an ad only when nobody asks for help
        ad = f.search(f.lex.ad_contacts)
        # nor when it stands beside a problem the sender states ("3栋电梯坏了，有事打我电话
        # 138…"): offers of a service are caught by ad_phrases (专业维修, 上门服务) before this
        stated = f.found and not f.search(f.lex.ad_services)
        if ad and (stated or f.search(f.lex.wish_askers) or f.search(f.lex.wish_tags)):
            ad = None
    if ad is None or (f.found and f.search(f.lex.complaints)):
        return None
    return Trace(Step.GATE, "ad", ad)


def _notice(f: Facts) -> Trace | None:
    notice = f.search(f.lex.notice_phrases)
    return Trace(Step.GATE, "notice", notice) if notice and not f.search(f.lex.urgent) else None


def _thanks(f: Facts) -> Trace | None:
    thanks = f.search(f.lex.thanks)
    if thanks is None or (f.found and (f.search(f.lex.contrast) or f.search(f.lex.unresolved))):
        return None  # "谢谢物业，不过电梯又坏了": the thanks open a new report
    return Trace(Step.GATE, "thanks", thanks)


def _story(f: Facts) -> Trace | None:
    """Told afterwards: a story of the past, or a problem already handled."""
    if f.search(f.lex.unresolved):
        return None
    turn = f.lex.contrast.search(f.body) if f.found else None
    if turn is not None:  # "物业说修好了，可是电梯还是一卡一卡的"
        settled = f.lex.resolved.search(f.body, turn.end())
        if settled is None:  # "...不牵绳，不过后来他牵上了" turns the other way
            return None
        return Trace(Step.GATE, "resolved", settled[0])
    past = f.search(f.lex.past)
    if past:  # "想当年...水淹到腰了"
        return Trace(Step.GATE, "past", past)
    resolved = f.search(f.lex.resolved)
    return Trace(Step.GATE, "resolved", resolved) if resolved else None


def _aside_from_report(f: Facts) -> Trace | None:
    """A problem only asked about, or a weak one praised or laughed at, is not reported."""
    only_asks = all(c.question for c in f.clauses)  # "电梯坏了吗？" asks whether
    if not only_asks and any(c.question and f.lex.guess.search(c.text) for c in f.clauses):
        # "刚才是不是停电了？我家灯闪了一下": the problem is only in the question
        only_asks = not problems([c for c in f.clauses if not c.question], f.lex)
    if only_asks and not f.search(f.lex.demands) and not urgency(f.clauses, f.lex):
        return Trace(Step.GATE, "asks-whether")
    lost = f.search(f.lex.lost_found)
    if lost and not f.search(f.lex.demands) and not urgency(f.clauses, f.lex):
        return Trace(Step.GATE, "lost-found", lost)  # "谁家的猫跑丢了？在3栋楼下看到一只橘猫"
    if any(e.strong for e in f.found):
        return None
    info = f.search(f.lex.info_question)
    if info and not f.search(f.lex.pressing):  # "想问问，大坑什么时候填？" complains
        return Trace(Step.GATE, "info-question", info)
    if f.search(f.lex.demands):
        return None
    downplay = f.search(f.lex.downplay)
    if downplay:
        return Trace(Step.GATE, "downplay", downplay)
    praise = f.search(f.lex.praise)
    if praise:
        return Trace(Step.GATE, "praise", praise)
    m = f.lex.laughter.search(f.msg.full)
    return Trace(Step.GATE, "banter", m[0]) if m else None


# Gates that silence a message whatever it says, in order.
_SILENCING: tuple[Gate, ...] = (_empty, _unbroken, _notice_header, _ad, _notice, _thanks)


def _first_gate(gates: tuple[Gate, ...], facts: Facts) -> Trace | None:
    for gate in gates:
        why = gate(facts)
        if why is not None:
            return why
    return None


def _fallback(f: Facts) -> list[Evidence]:
    """Evidence without a thing-and-fault pair: a demand on a fault, or insistence on a thing."""
    stated = "\n".join(c.text for c in f.clauses)
    demand = f.search(f.lex.demands)
    fault = f.lex.faults.search(stated)
    if demand and fault:  # "物业，一期的道闸杆又不抬了，赶紧修"
        return [Evidence(Category.OTHER, f"{fault[0]}+{demand}", False)]
    things = _things(list(f.lex.problem_nouns.finditer(stated)), None, f.lex)
    if demand and things:  # "隔壁装修天天电钻，能不能管一下": a nuisance and an ask to act
        # the neighbour (隔壁, 楼上) is who; the thing they do (装修, 电钻) says what
        cat, thing = next((t for t in things if t[0] is not Category.DISPUTE), things[0])
        return [Evidence(cat, f"{thing}+{demand}", False)]
    nuisance = next((t for t in things if t[0] is Category.NOISE), None)
    again = f.lex.repeated.search(stated)
    if nuisance and again:  # "楼下天天KTV到半夜"
        return [Evidence(Category.NOISE, f"{nuisance[1]}+{again[0]}", False)]
    frame = f.search(f.lex.report_frames)
    if frame and things and not any(c.question for c in f.clauses):
        cat, thing = things[0]  # "反映个问题：3号楼后面的排水沟盖板"
        return [Evidence(cat, f"{thing}+{frame}", False)]
    insist = f.search(f.lex.insistence)
    if things and insist and not any(c.question for c in f.clauses):
        cat, thing = things[0]  # "电梯这个月第三次了，一直这样"
        return [Evidence(cat, f"{thing}+{insist}", False)]
    return []


def _report(f: Facts, emergency: str | None) -> Reading:
    th = f.lex.thresholds
    complaint = f.search(f.lex.complaints)
    strong = any(e.strong for e in f.found)
    r = Reading(
        IntentKind.REPORT_PROBLEM,
        confidence=th.conf_strong if (strong or complaint) else th.conf_weak,
        category=_category(f.found),
    )
    r.trace.extend(Trace(Step.PROBLEM, e.category.value, e.what) for e in f.found[:4])
    if complaint:
        r.trace.append(Trace(Step.COMPLAINT, "", complaint))
    urgent = emergency
    if urgent:
        r.urgent = True
        r.trace.append(Trace(Step.URGENT, "", urgent))
    return r


def classify(msg: Message, ctx: ParseContext, lex: Lexicon) -> Reading:
    """Read a message: silencing gates, then sign-ups, wishes and problems, in that order."""
    th = lex.thresholds
    clauses, dropped = _active(msg.clauses, lex)
    facts = Facts(msg, clauses, problems(clauses, lex), lex)
    asides = [Trace(Step.HYPOTHETICAL, "", d) for d in dropped]

    def silent(why: Trace) -> Reading:
        return Reading(confidence=th.conf_none, trace=[*asides, why])

    why = _first_gate(_SILENCING, facts)
    if why:
        return silent(why)
    wish = _wish(msg, clauses, lex)
    tagged = wish is not None and wish.step is Step.WISH_TAG
    signup = None if tagged else _signup(msg, clauses, ctx, lex, bool(facts.found))
    if signup is not None:
        kind, why = signup
        confidence = th.conf_weak if why.step is Step.JOIN_WEAK else th.conf_strong
        return Reading(kind, confidence=confidence, trace=[*asides, why])
    why = _first_gate((_story,), facts)
    if why:
        return silent(why)
    emergency = urgency(clauses, lex) if facts.found else None
    # a wish asks neighbours; a fault with a demand on 物业, or an emergency, is a report
    if wish and (tagged or not (facts.found and (facts.search(lex.demands) or emergency))):
        info = facts.search(lex.info_question)
        if info and not tagged:
            return silent(Trace(Step.GATE, "info-question", info))
        confidence = th.conf_tagged if tagged else th.conf_strong
        return Reading(IntentKind.MICRO_WISH, confidence=confidence, trace=[*asides, wish])
    if not facts.found:
        facts = Facts(msg, clauses, _fallback(facts), lex)
        if not facts.found:
            return silent(Trace(Step.NO_REQUEST))
        emergency = urgency(clauses, lex)
    why = _first_gate((_aside_from_report,), facts)
    if why:
        return silent(why)
    r = _report(facts, emergency)
    r.trace[:0] = asides
    return r

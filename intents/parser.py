"""Group message → Intent: normalise, classify, then the entities of the intent found."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from intents.activities import match_activity, match_title
from intents.buildings import resolve_building
from intents.classify import Reading, classify, problems, urgency
from intents.cues import cues
from intents.headcount import count_people
from intents.jielong import Jielong, own_line, parse_jielong
from intents.lexicon import Lexicon, lexicon
from intents.model import Category, Intent, IntentKind, ParseContext
from intents.normalise import Message, normalise
from intents.textmodel import Prediction, TextModel, rule_features, text_features, text_model
from intents.trace import Step, Trace, render

_BARE_COUNT = re.compile(r"\+?\s*([1-9])")
_QUOTED = re.compile(r"「[^「」：:]{0,30}[：:](?P<text>[^「」]*)」")


def _from_jielong(block: Jielong, ctx: ParseContext, lex: Lexicon) -> Intent:
    """A 接龙 block counts as the sender's sign-up only through the sender's own line."""
    sale = lex.ad_phrases.search(block.title) or lex.sale.search(block.title)
    if sale and not match_title(block.title, ctx.open_titles(), lex).named:
        return Intent(  # "#接龙 明天团购六鳌地瓜，10斤一箱38元": an order list, not a sign-up
            IntentKind.NONE,
            confidence=lex.thresholds.conf_jielong,
            explain=render(
                (Trace(Step.JIELONG, "title", block.title), Trace(Step.JIELONG, "a sale"))
            ),
        )
    line = own_line(block, ctx.sender_name, lex)
    if line is None:
        return Intent(
            IntentKind.NONE,
            confidence=lex.thresholds.conf_jielong,
            explain=render(
                (
                    Trace(Step.JIELONG, "title", block.title),
                    Trace(Step.JIELONG, "no line of the sender"),
                )
            ),
        )
    match = match_title(block.title, ctx.open_titles(), lex)
    explain = [
        Trace(Step.JIELONG, f"own-line({line.reason})", line.line),
        Trace(Step.ACTIVITY, "", match.reason),
    ]
    if lex.leave.search(line.rest) or lex.cancelled_in_line.search(line.rest):
        return Intent(
            IntentKind.LEAVE_ACTIVITY,
            activity=match.title,
            confidence=lex.thresholds.conf_jielong,
            explain=render((*explain, Trace(Step.LEAVE, "own line"))),
        )
    bare = _BARE_COUNT.fullmatch(line.rest)  # "周姐 +2" (the + lost with the symbols): 2
    count, why = (int(bare[1]), f"bare:{bare[1]}") if bare else count_people(line.rest, lex)
    return Intent(
        IntentKind.JOIN_ACTIVITY,
        activity=match.title,
        headcount=count,
        confidence=lex.thresholds.conf_jielong,
        explain=render((*explain, Trace(Step.HEADCOUNT, "", why))),
    )


def _complete(reading: Reading, msg: Message, ctx: ParseContext, lex: Lexicon) -> Intent:
    explain = list(reading.trace)
    kind = reading.kind
    if kind in (IntentKind.REPORT_PROBLEM, IntentKind.MICRO_WISH):
        building, source = resolve_building(msg.body, msg.mentions, ctx.sender_name, ctx.room)
        explain.append(Trace(Step.BUILDING, str(building), source))
        return Intent(
            kind,
            building=building,
            urgent=reading.urgent,
            category=reading.category,
            confidence=reading.confidence,
            explain=render(explain),
        )
    if kind in (IntentKind.JOIN_ACTIVITY, IntentKind.LEAVE_ACTIVITY):
        match = match_activity(msg.body, ctx.open_titles(), lex)
        explain.append(Trace(Step.ACTIVITY, "", match.reason))
        headcount = None
        if kind is IntentKind.JOIN_ACTIVITY:
            # "能带孩子吗？" asks, it does not bring anyone
            asked = any(c.question for c in msg.clauses)
            stated = "，".join(c.text for c in msg.clauses if not c.question) if asked else ""
            stated = stated or msg.body
            headcount, why = count_people(stated, lex)
            explain.append(Trace(Step.HEADCOUNT, "", why))
        return Intent(
            kind,
            activity=match.title,
            headcount=headcount,
            confidence=reading.confidence,
            explain=render(explain),
        )
    return Intent(IntentKind.NONE, confidence=reading.confidence, explain=render(explain))


@dataclass(frozen=True, slots=True)
class RulesView:
    """What the rules made of a message before the text model is asked."""

    msg: Message
    reading: Reading
    settled: str  # why the rules decide alone (emergencies, sign-ups, tagged wishes), or ""


def read_rules(text: str, ctx: ParseContext, lex: Lexicon) -> RulesView | Intent:
    """The rules' reading of a message, or the finished Intent of a 接龙 block."""
    msg = normalise(text, lex)
    block = parse_jielong(msg.body if msg.quoted else msg.full)
    # numbered lines without 接龙 are a chain only under the title of an open activity;
    # otherwise they are a list ("1. 电梯坏了 2. 灯不亮")
    if block is not None and (
        block.headed or match_title(block.title, ctx.open_titles(), lex).named
    ):
        return _from_jielong(block, ctx, lex)
    reading = classify(msg, ctx, lex)
    if reading.kind is IntentKind.NONE and msg.quoted and reading.found_nothing:
        reading = _agreeing(reading, msg, ctx, lex)
    found = cues(msg, lex)
    reading.trace.extend(found)
    told = any(t.rule in ("news", "reply") for t in found)
    # an emergency the rules see is acted on unless the words are someone else's (news, a reply):
    # a missed fire costs more than a false one
    emergency = reading.kind is IntentKind.REPORT_PROBLEM and reading.urgent and not told
    settled = ""
    if emergency:
        settled = "an emergency"
    elif reading.kind in (IntentKind.JOIN_ACTIVITY, IntentKind.LEAVE_ACTIVITY):
        settled = "a sign-up"
    elif any(t.step is Step.WISH_TAG for t in reading.trace):
        settled = "a tagged wish"
    elif any(t.step is Step.GATE and t.rule == "empty" for t in reading.trace):
        settled = "no words"
    elif any(t.step is Step.GATE and t.rule == "unbroken" for t in reading.trace):
        settled = "no sentence"
    return RulesView(msg, reading, settled)


def stated(body: str, trace: list[Trace]) -> str:
    """The body without the clauses the rules set aside (conditions, advice, hearsay)."""
    kept, at = [], 0
    for t in trace:  # the set-aside clauses come in the body's order: one pass over it
        if t.step is Step.HYPOTHETICAL and t.detail:
            found = body.find(t.detail, at)
            if found >= 0:
                kept.append(body[at:found])
                at = found + len(t.detail)
    return " ".join([*kept, body[at:]])


def model_input(view: RulesView) -> list[str]:
    """The features the text model reads: the stated words' n-grams and what the rules found.

    A clause set aside ("要是电梯又坏了", "听说隔壁小区电梯困人了") is only the rules' step
    R:hypothetical: its words would otherwise report what nobody says is happening here.
    """
    r = view.reading
    words = stated(view.msg.body, r.trace)
    return [*text_features(words), *rule_features(r.kind, r.trace, r.urgent)]


def read(text: str, ctx: ParseContext, model: TextModel | None) -> Intent:
    """Read one message with the rules and, unless None, a text model to decide the intent."""
    lex = lexicon()
    view = read_rules(text, ctx, lex)
    if isinstance(view, Intent):
        return view
    reading = view.reading
    if model is not None and not view.settled:
        reading = _decide(view, model.predict(model_input(view)), lex)
    elif model is not None:
        reading.trace.append(Trace(Step.DECIDED, "rules", view.settled))
    return _complete(reading, view.msg, ctx, lex)


def parse(text: str, ctx: ParseContext) -> Intent:
    """Read one group message in its context."""
    return read(text, ctx, text_model())


def _decide(view: RulesView, p: Prediction, lex: Lexicon) -> Reading:
    """The intent from the model's calibrated probabilities; entities still from the rules."""
    rules = view.reading
    kind, prob = p.best
    if kind is not IntentKind.NONE and prob < lex.thresholds.model_min_probability:
        kind, why = IntentKind.NONE, "below threshold"
    else:
        why = "agrees with the rules" if kind is rules.kind else "overrules the rules"
    decided = [p.trace(), Trace(Step.DECIDED, "model", why)]
    if kind is rules.kind:
        return replace(rules, confidence=p.of(kind), trace=[*rules.trace, *decided])
    if kind is IntentKind.NONE:
        return Reading(
            IntentKind.NONE,
            confidence=1.0 - prob if why == "below threshold" else prob,
            trace=[*rules.trace, *decided],
        )
    urgent = kind is IntentKind.REPORT_PROBLEM and urgency(list(view.msg.clauses), lex) is not None
    found = problems(list(view.msg.clauses), lex) if kind is IntentKind.REPORT_PROBLEM else []
    trace = [*rules.trace, *decided]
    if urgent:
        trace.append(Trace(Step.URGENT))
    return Reading(
        kind,
        confidence=prob,
        category=(found[0].category if found else Category.OTHER)
        if kind is IntentKind.REPORT_PROBLEM
        else None,
        urgent=urgent,
        trace=trace,
    )


def _agreeing(reading: Reading, msg: Message, ctx: ParseContext, lex: Lexicon) -> Reading:
    """A short reply that says the quoted problem is here too ("我们12楼的也是！") reports it."""
    quote = _QUOTED.search(msg.full)
    if quote is None or len(msg.body) > 20 or not lex.agree.search(msg.body):
        return reading
    again = classify(normalise(f"{quote['text']}\n{msg.body}", lex), ctx, lex)
    if again.kind is not IntentKind.REPORT_PROBLEM:
        return reading
    again.trace.insert(0, Trace(Step.AGREES, "", "the quoted report"))
    return again

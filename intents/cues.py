"""Cues of who is speaking and how: news, an official's reply, a want, inaction, a past danger.

A cue decides nothing alone. It is a step of the trace that the text model weighs with the
words of the message ("R:cue:news"), so that "某小区老人被困电梯 消防破门救出" is read as news
even when the rules found a trapped person in it.
"""

from __future__ import annotations

from intents.lexicon import Lexicon, Shape
from intents.normalise import Message
from intents.trace import Step, Trace

_SHORT = 40  # a want of more words than this is rarely a wish-card wish
# A title is a line: shorter than this is a chat message's length, longer a paragraph's.
_TITLE = range(8, 49)


def _shape(body: str, name: str, shape: Shape) -> list[Trace]:
    """One cue per sign of the shape found ("headline-place"), none when it is ruled out."""
    if shape.not_if.search(body):
        return []
    out = []
    for sign, pattern in shape.signs:
        found = pattern.search(body)
        if found:
            out.append(Trace(Step.CUE, f"{name}-{sign}", found[0]))
    return out


def cues(msg: Message, lex: Lexicon) -> list[Trace]:
    """The cues found in the sender's own words."""
    body = msg.body
    out: list[Trace] = []
    own = lex.first_person.search(body)
    if own:
        out.append(Trace(Step.CUE, "first-person", own[0]))
    news = lex.news_markers.search(body)
    if news:
        out.append(Trace(Step.CUE, "news" if own is None else "news-told", news[0]))
    reply = lex.reply_markers.search(body)
    if reply:
        out.append(Trace(Step.CUE, "reply", reply[0]))
    want = lex.wish_wants.search(body) if len(body) <= _SHORT else None
    if want:
        banter = lex.wish_banter.search(body)
        out.append(Trace(Step.CUE, "want" if banter is None else "want-banter", want[0]))
    # a fault word or a thing of the compound, even when the rules could not pair them
    fault = lex.faults.search(body)
    if fault:
        out.append(Trace(Step.CUE, "fault", fault[0]))
    thing = lex.problem_nouns.search(body) or lex.places.search(body)
    if thing:
        out.append(Trace(Step.CUE, "thing", thing[0]))
    # the mood of chat: praise, laughter, a question for information. The rules' gates weigh
    # them only beside a problem they found; as cues they count when the model finds one
    praise = lex.praise.search(body)
    if praise:
        out.append(Trace(Step.CUE, "praise", praise[0]))
    pleased = lex.pleased.search(body)
    if pleased:
        out.append(Trace(Step.CUE, "pleased", pleased[0]))
    # "我就想问问，…大坑什么时候填？" presses for action: a complaint asked, not a question
    pressing = lex.pressing.search(body)
    asked = pressing or lex.info_question.search(body)
    if asked:
        out.append(Trace(Step.CUE, "pressing" if pressing else "info", asked[0]))
    laugh = lex.laughter.search(msg.full)
    if laugh:
        out.append(Trace(Step.CUE, "laughter", laugh[0]))
    # nobody acts on it ("物业均不作为", "怎么反映都没有人过问"): a complaint without a fault word
    idle = lex.inaction.search(body)
    if idle:
        out.append(Trace(Step.CUE, "inaction", idle[0]))
    again = lex.recurring.search(body)
    if again:
        out.append(Trace(Step.CUE, "recurring", again[0]))
    # the shapes of a headline and of an official's reply: a complaint in them is someone
    # else's, said about the residents or answered to them
    if len(body) in _TITLE:
        out += _shape(body, "headline", lex.headline)
    out += _shape(body, "reply", lex.reply)
    return out

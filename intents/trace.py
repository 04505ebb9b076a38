"""What decided a reading, as data: typed steps that render to the strings of `explain`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    """The kinds of evidence and decisions a reading records."""

    GATE = "gate"  # a silencing rule: rule names which (ad, notice, story, ...)
    HYPOTHETICAL = "hypothetical"  # a clause set aside: a condition, advice, a rule, hearsay
    NO_REQUEST = "no-request"  # the rules found nothing to act on
    PROBLEM = "problem"  # rule: category, detail: thing+fault
    COMPLAINT = "complaint"
    URGENT = "urgent"
    NOT_URGENT = "not-urgent"  # rule: why an urgent word does not make it urgent now
    WISH = "wish"
    WISH_TAG = "wish-tag"
    JOIN = "join"
    JOIN_WEAK = "join-weak"
    LEAVE = "leave"
    JIELONG = "jielong"
    AGREES = "agrees"  # a short reply agreeing with a quoted report
    CUE = "cue"  # rule: who is speaking and how (news, reply, want, recurring); decides nothing
    MODEL = "model"  # the text model's probabilities
    DECIDED = "decided"  # rule: which component decided the intent (rules, model, both)
    BUILDING = "building"
    ACTIVITY = "activity"
    HEADCOUNT = "headcount"


@dataclass(frozen=True, slots=True)
class Trace:
    """One step of a reading: what kind, which rule, and the words that fired it."""

    step: Step
    rule: str = ""
    detail: str = ""

    def render(self) -> str:
        """The step as one `explain` string: "gate:ad:24小时"."""
        return ":".join(part for part in (self.step.value, self.rule, self.detail) if part)


def render(steps: list[Trace] | tuple[Trace, ...]) -> tuple[str, ...]:
    """The `explain` strings of a trace."""
    return tuple(t.render() for t in steps)

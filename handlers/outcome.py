"""What a handler did: the case it filed or changed, and what should be said."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.domain import CaseKind
from bot.core.messages import Outgoing
from storage.models import Case


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case named outside the transaction that changed it."""

    id: int
    kind: CaseKind
    number: int

    @property
    def label(self) -> str:
        """How the case is written in messages: #12 or W3."""
        return self.kind.case_label(self.number)

    @classmethod
    def of(cls, case: Case) -> CaseRef:
        """The reference of a stored case."""
        return cls(id=case.id, kind=CaseKind(case.kind), number=case.number)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A handler's result; the dispatcher stores `messages` in the outbox with the change."""

    messages: tuple[Outgoing, ...] = ()
    case: CaseRef | None = None  # the case filed, joined or changed
    joined: bool = False  # the report joined an open case as a supporter (附议)
    handled: bool = True  # False: the handler declined, the dispatcher falls back
    refusal: str | None = None  # a refusal or failure the sender is told; nothing changed
    duplicate: bool = False  # the message id was processed before; nothing was done again
    status_token: str | None = None  # the status page of a case filed from the 民情码 form

    def replies_to(self, person_id: str) -> list[str]:
        """The texts addressed to one person (the console or web caller)."""
        return [m.text for m in self.messages if m.to_person == person_id]


UNHANDLED = Outcome(handled=False)


def said(messages: Iterable[Outgoing] = (), case: Case | None = None) -> Outcome:
    """An outcome that says `messages`, about `case` if given."""
    return Outcome(messages=tuple(messages), case=CaseRef.of(case) if case is not None else None)


class Decline(Exception):
    """Raised by a subject resolver when the message is not for this handler after all."""

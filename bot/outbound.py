"""What handlers said goes to the outbox in the caller's transaction, quiet hours applied.

This is the one way into the outbox, so it is where group messages lose private numbers:
every text to a room passes `bot.core.privacy.mask_private` here, whichever handler, task, web
form or transport wrote it. Private messages are stored as written (a building head needs the
resident's phone).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Config, HotlinesConfig
from bot.core.domain import OutboxStatus
from bot.core.messages import Outgoing
from bot.core.privacy import mask_private
from bot.core.quiet_hours import delivery_time
from storage import account_contacts, outbox, room_bindings


def public_numbers(config: Config) -> frozenset[str]:
    """The numbers the bot itself may post to groups: the configured hotlines."""
    lines: list[HotlinesConfig] = [config.hotlines]
    for community in config.grid:
        lines.extend(c.hotlines for c in community.compounds if c.hotlines is not None)
    return frozenset(
        str(v) for h in lines for v in h.model_dump().values() if v is not None and str(v)
    )


def for_group(msg: Outgoing, config: Config) -> Outgoing:
    """A group message without phone, ID-card or room numbers; private messages unchanged."""
    if msg.to_room is None:
        return msg
    text = mask_private(msg.text, public_numbers(config))
    return msg if text == msg.text else replace(msg, text=text)


async def enqueue_all(
    session: AsyncSession,
    config: Config,
    key_prefix: str,
    messages: Sequence[Outgoing],
    now: datetime,
    *,
    present: Collection[str] = (),
) -> int:
    """Store messages under keys `key_prefix:i` (one statement); returns how many were new.

    Each message goes out through an account that can deliver it (see `route`); `present`
    names rooms this process's account is known to be in, or people it is known to reach (a
    message just came from there).
    """
    rows = []
    accounts = await route(session, config.bot.account, messages, present)
    for i, msg in enumerate(messages):
        when = delivery_time(msg, now, config.bot.tz, config.bot.quiet)
        rows.append(
            outbox.OutboxRow(
                key=f"{key_prefix}:{i}",
                msg=for_group(msg, config),
                not_before=when or now,
                status=OutboxStatus.PENDING if when is not None else OutboxStatus.DROPPED,
                account=accounts[i],
            )
        )
    return await outbox.enqueue_many(session, config.bot.account, rows, now)


async def route(
    session: AsyncSession, own: str, messages: Sequence[Outgoing], present: Collection[str] = ()
) -> list[str]:
    """The account each message is sent through: several accounts (processes) share a database.

    A group message goes through an account that is in the room (learned at login, stored
    with the room binding); a private message through an account the person is a contact of
    (learned at login and when they write privately). This process's own account is chosen
    when it qualifies or when no account is known to; else the first that does.
    """
    rooms = [m.to_room for m in messages if m.to_room is not None and m.to_room not in present]
    people = [
        m.to_person
        for m in messages
        if m.to_room is None and m.to_person is not None and m.to_person not in present
    ]
    in_room = await room_bindings.accounts_in(session, rooms) if rooms else {}
    reaching = await account_contacts.accounts_of(session, people) if people else {}
    out = []
    for m in messages:
        if m.to_room is not None:
            accounts = in_room.get(m.to_room, [])
        else:
            accounts = reaching.get(m.to_person, []) if m.to_person is not None else []
        out.append(own if not accounts or own in accounts else accounts[0])
    return out

"""Who each account can message privately: its WeChat friends, learned at login and on use.

Several accounts (processes) share a database; a private message to a building head must go
out through an account the head is a friend of, whichever process wrote it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.chunks import chunks
from storage.upsert import insert_ignore, insert_ignore_many
from storage.wechat_models import AccountContact


async def replace(
    session: AsyncSession, account: str, contact_ids: Collection[str], now: datetime
) -> tuple[int, int]:
    """Make the account's contacts exactly `contact_ids` (a login's list); (added, removed)."""
    wanted = set(contact_ids)
    stored = set(
        await session.scalars(
            select(AccountContact.contact_id).where(AccountContact.account == account)
        )
    )
    gone = sorted(stored - wanted)
    for chunk in chunks(gone):
        await session.execute(
            delete(AccountContact).where(
                AccountContact.account == account, AccountContact.contact_id.in_(chunk)
            )
        )
    kept = sorted(stored & wanted)
    for chunk in chunks(kept):
        await session.execute(
            update(AccountContact)
            .where(AccountContact.account == account, AccountContact.contact_id.in_(chunk))
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
    new = sorted(wanted - stored)
    added = 0
    for chunk in chunks(new):
        rows = [{"account": account, "contact_id": cid, "seen_at": now} for cid in chunk]
        added += await insert_ignore_many(session, AccountContact, rows, ["account", "contact_id"])
    return added, len(gone)


async def learn(session: AsyncSession, account: str, contact_id: str, now: datetime) -> bool:
    """Record that the account can reach a person (they wrote to it); True if new."""
    return await insert_ignore(
        session,
        AccountContact,
        {"account": account, "contact_id": contact_id, "seen_at": now},
        ["account", "contact_id"],
    )


# Built once: a report reads the accounts that reach its one building head.
_ACCOUNTS_OF_ONE = (
    select(AccountContact.account)
    .where(AccountContact.contact_id == bindparam("person"))
    .order_by(AccountContact.account)
)


async def accounts_of(session: AsyncSession, people: Collection[str]) -> dict[str, list[str]]:
    """The accounts that have each of these people as a contact (nobody's contacts: absent)."""
    found: dict[str, list[str]] = {}
    if len(people) == 1:
        (person,) = people
        ran = await direct.execute(session, _ACCOUNTS_OF_ONE, {"person": person})
        return {person: [str(a) for (a,) in ran.rows]} if ran.rows else {}
    for chunk in chunks(sorted(set(people))):
        result = await session.execute(
            select(AccountContact.contact_id, AccountContact.account)
            .where(AccountContact.contact_id.in_(chunk))
            .order_by(AccountContact.account)
        )
        for person, account in result.all():
            found.setdefault(person, []).append(account)
    return found


async def of_account(session: AsyncSession, account: str) -> list[str]:
    """Every contact id stored for an account, sorted."""
    result = await session.scalars(
        select(AccountContact.contact_id)
        .where(AccountContact.account == account)
        .order_by(AccountContact.contact_id)
    )
    return list(result)

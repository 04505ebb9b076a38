"""Web-only state: the session secret, 民情码 status codes, counters and used form tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import delete, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, UTCDateTime, WebReportLink, WebSecret
from storage.upsert import insert_ignore
from storage.web_models import WebCounter, WebFormUse

# Status codes are read aloud and typed on phones: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31**8 ≈ 8.5e11 codes; lookups are rate-limited per address
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_LEGACY_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def shared_secret(session: AsyncSession, name: str, now: datetime) -> str:
    """The secret stored under `name`, created on first use; every process reads the same one."""
    await insert_ignore(
        session,
        WebSecret,
        {"name": name, "value": secrets.token_urlsafe(48), "created_at": now},
        ["name"],
    )
    result = await session.execute(select(WebSecret.value).where(WebSecret.name == name))
    return str(result.scalar_one())


# --- 民情码 status codes ------------------------------------------------------------------------


def new_status_code() -> str:
    """A short random code like K7Q4M2XP (shown as K7Q4-M2XP)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """A typed or linked status code in its stored form, or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper()
    if _CODE_RE.match(code):
        return code
    return text if _LEGACY_TOKEN_RE.match(text) else None  # long tokens of earlier versions


def show_code(code: str) -> str:
    """A status code as people read it: K7Q4-M2XP."""
    if len(code) == CODE_LENGTH:
        return f"{code[:4]}-{code[4:]}"
    return code


async def add_report_link(
    session: AsyncSession, case: Case, now: datetime, code: str | None = None
) -> str:
    """Give a case a status code (a new one unless given) and return it."""
    code = code or new_status_code()
    session.add(WebReportLink(token=code, case_id=case.id, created_at=now))
    await session.flush()
    return code


async def case_by_token(session: AsyncSession, code: str) -> Case | None:
    """The case a status code points to, or None."""
    result = await session.execute(
        select(Case)
        .join(WebReportLink, WebReportLink.case_id == Case.id)
        .where(WebReportLink.token == code)
    )
    return result.scalar_one_or_none()


async def code_of_case(session: AsyncSession, case_id: int) -> str | None:
    """The first status code given to a case, or None."""
    result = await session.execute(
        select(WebReportLink.token)
        .where(WebReportLink.case_id == case_id)
        .order_by(WebReportLink.created_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


# --- counters -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """A counter after one more event: how many in the current window, and its reference."""

    count: int
    ref: int | None
    window_start: datetime


async def hit(
    session: AsyncSession, key: str, now: datetime, window: timedelta, amount: int = 1
) -> Hit:
    """Count `amount` events for `key` in a fixed window; atomic across processes."""
    await insert_ignore(
        session, WebCounter, {"key": key, "window_start": now, "count": 0, "ref": None}, ["key"]
    )
    expired = WebCounter.window_start <= literal(now - window, UTCDateTime())
    result: Any = await session.execute(
        update(WebCounter)
        .where(WebCounter.key == key)
        .values(
            # Every SET expression reads the row as it was, in SQLite and PostgreSQL alike.
            count=when((expired, amount), else_=WebCounter.count + amount),
            window_start=when(
                (expired, literal(now, UTCDateTime())), else_=WebCounter.window_start
            ),
            ref=when((expired, null()), else_=WebCounter.ref),
        )
        .returning(WebCounter.count, WebCounter.ref, WebCounter.window_start)
    )
    count, ref, start = result.one()
    return Hit(int(count), ref, start)


async def peek(session: AsyncSession, key: str, now: datetime, window: timedelta) -> int:
    """How many events `key` has in its current window, without counting one."""
    row = await session.get(WebCounter, key)
    if row is None or row.window_start <= now - window:
        return 0
    return row.count


async def peek_window(
    session: AsyncSession, key: str, now: datetime, window: timedelta
) -> Hit | None:
    """The counter's current window (count and start), or None when it has none running."""
    row = await session.get(WebCounter, key)
    if row is None or row.window_start <= now - window:
        return None
    return Hit(row.count, row.ref, row.window_start)


async def set_ref(session: AsyncSession, key: str, ref: int) -> None:
    """Remember what a counter's window belongs to (e.g. the case an urgent ping opened)."""
    await session.execute(update(WebCounter).where(WebCounter.key == key).values(ref=ref))


async def forget(session: AsyncSession, key: str) -> None:
    """Drop a counter (a successful login clears its failures)."""
    await session.execute(delete(WebCounter).where(WebCounter.key == key))


# --- used form tokens (idempotency) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormUse:
    """A form token seen before, and where its first submission led (empty while it runs)."""

    result: str


async def claim_form(session: AsyncSession, nonce: str, now: datetime) -> FormUse | None:
    """Mark a form token used; None the first time, else what the first submission left."""
    if await insert_ignore(
        session, WebFormUse, {"nonce": nonce, "result": "", "used_at": now}, ["nonce"]
    ):
        return None
    result = await session.execute(select(WebFormUse.result).where(WebFormUse.nonce == nonce))
    return FormUse(str(result.scalar_one_or_none() or ""))


async def set_form_result(session: AsyncSession, nonce: str, result: str) -> None:
    """Record where a form's submission led, for a resubmission of the same form."""
    await session.execute(
        update(WebFormUse).where(WebFormUse.nonce == nonce).values(result=result[:300])
    )


async def release_form(session: AsyncSession, nonce: str) -> None:
    """Forget a claimed form token whose submission failed, so it can be sent again."""
    await session.execute(delete(WebFormUse).where(WebFormUse.nonce == nonce))


async def purge(session: AsyncSession, now: datetime, keep: timedelta) -> None:
    """Delete counters and used form tokens older than `keep`."""
    cutoff = now - keep
    await session.execute(delete(WebCounter).where(WebCounter.window_start < cutoff))
    await session.execute(delete(WebFormUse).where(WebFormUse.used_at < cutoff))

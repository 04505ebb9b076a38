"""Tables of the web side (bot/web) added by migration 0005: sessions, counters, forms, 民情码."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class WebSession(Base):
    """A console login, kept server-side so logout and password changes end it everywhere."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    user: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    # sha256 of the user's password hash at login: a changed password ends the session.
    password_fp: Mapped[str] = mapped_column(String(64))
    flash: Mapped[str | None] = mapped_column(Text)  # one message for the next page
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebCounter(Base):
    """A fixed-window counter (rate limits, 民情码 budgets), shared by every process."""

    __tablename__ = "web_counters"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    ref: Mapped[int | None] = mapped_column(Integer)  # e.g. the case an urgent window belongs to


class WebFormUse(Base):
    """A form token already used (idempotency): a resubmission goes where the first one went."""

    __tablename__ = "web_form_uses"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    result: Mapped[str] = mapped_column(String(300), default="")
    used_at: Mapped[datetime] = mapped_column(index=True)


class WebLoginToken(Base):
    """A one-time console login token (printed at start, or made by `jinlin web login-token`)."""

    __tablename__ = "web_login_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebHeldReport(Base):
    """A 民情码 report over the building's or compound's budget, held for the secretary."""

    __tablename__ = "web_held_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # the reporter's status code
    compound: Mapped[str] = mapped_column(String(100), index=True)
    building: Mapped[str] = mapped_column(String(20))
    wish: Mapped[bool] = mapped_column(Boolean, default=False)
    what: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("web_photos.id"))
    status: Mapped[str] = mapped_column(String(10), index=True)  # held | filed | spam
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebContact(Base):
    """The phone number a 民情码 reporter left; deleted a while after the case closes."""

    __tablename__ = "web_contacts"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class WebPhoto(Base):
    """A photo sent with a 民情码 report, re-encoded without its EXIF data (no location)."""

    __tablename__ = "web_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the unguessable link
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

"""Tables of the WeChat transport: room bindings, contacts, account state (login, 风控), sends.

Each row carries the account (bot.account), so several accounts can share one database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class RoomBinding(Base):
    """A configured room (known in the bot by its configured topic) bound to a WeChat room id."""

    __tablename__ = "room_bindings"
    __table_args__ = (
        UniqueConstraint("account", "room", name="uq_room_bindings_room"),
        UniqueConstraint("account", "wechat_id", name="uq_room_bindings_wechat_id"),
        # Which accounts are in a room, for routing its outgoing messages (bot/outbound): the
        # account is in the index, so the look-up reads no table rows.
        Index("ix_room_bindings_room", "room", "account"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    room: Mapped[str] = mapped_column(String(200))  # the configured topic: the room's identity
    wechat_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))  # the topic WeChat shows now
    bound_by: Mapped[str] = mapped_column(String(20))  # topic | config | operator
    bound_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AccountContact(Base):
    """A person an account can message privately (a WeChat friend), for routing private sends."""

    __tablename__ = "account_contacts"
    __table_args__ = (
        # Which accounts can reach a person, for routing private sends (bot/outbound); the
        # primary key leads with the account, so it cannot answer that.
        Index("ix_account_contacts_contact", "contact_id", "account"),
    )
    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime]  # the last login that listed them, or their last private message


class AccountState(Base):
    """What every process of one account must agree on: logged in, paused by 风控, last gap."""

    __tablename__ = "account_state"
    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    self_id: Mapped[str | None] = mapped_column(String(100))
    gap_from: Mapped[datetime | None]  # the last outage told on start
    gap_to: Mapped[datetime | None]
    login: Mapped[str] = mapped_column(String(20), default="unknown")  # logged_in | logged_out
    login_changed_at: Mapped[datetime | None]
    qr_url: Mapped[str | None] = mapped_column(Text)  # while logged out: the link to scan
    paused_until: Mapped[datetime | None]  # 风控: no sends before this
    pause_level: Mapped[int] = mapped_column(Integer, default=0)  # grows with each restriction
    pause_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class SendAttempt(Base):
    """One call to the chat service for outbox rows: written before the call, its outcome after."""

    __tablename__ = "send_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100), index=True)
    outbox_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    to_room: Mapped[str | None] = mapped_column(String(200))
    to_person: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)  # exactly what was sent, so a re-send is the same
    instance: Mapped[str] = mapped_column(String(64))  # the process that made the call
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # started | sent | echoed | failed | unknown (resolved as not known to have arrived)
    outcome: Mapped[str] = mapped_column(String(10), index=True)
    chat_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


class BotInstance(Base):
    """A running bot process: its heartbeat, so a claim of a dead process is recognised."""

    __tablename__ = "bot_instances"
    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime]
    last_alive: Mapped[datetime]


class ReceivedMessage(Base):
    """An incoming message, stored before the bot handles it; its text is kept until parsed."""

    __tablename__ = "received_messages"
    __table_args__ = (
        UniqueConstraint("account", "message_id", name="uq_received_messages_message_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(200))
    room: Mapped[str | None] = mapped_column(String(200))  # the configured room, or None
    sender_id: Mapped[str] = mapped_column(String(100))
    sender_name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)  # deleted once the bot has handled it
    quoted: Mapped[str | None] = mapped_column(Text)
    mentions_bot: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime]  # when it was written in WeChat
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None] = mapped_column(index=True)

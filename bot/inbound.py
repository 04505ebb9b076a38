"""The edge of the message path: every Incoming is cleaned once before anything reads it.

After `clean_incoming` the text has no lone surrogates, control, bidi or stray zero-width
characters and at most `TEXT_LIMIT` characters (what the parser and the handlers read), and the
display name is one bounded, printable line without @所有人 (bot/core/clean.py says how).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.clean import clean_id, clean_name, clean_text
from bot.core.messages import Incoming


def clean_incoming(msg: Incoming) -> Incoming:
    """The message with its text, display name and ids cleaned and bounded."""
    cleaned = replace(
        msg,
        message_id=clean_id(msg.message_id),
        room=clean_id(msg.room) if msg.room is not None else None,
        sender_id=clean_id(msg.sender_id),
        sender_name=clean_name(msg.sender_name),
        text=clean_text(msg.text),
        quoted=clean_text(msg.quoted),
    )
    return msg if cleaned == msg else cleaned

"""What a WeChat message payload means to the bot: its kind, quoted replies, 风控 notices.

Pure functions of the payload's fields, so they are tested without a puppet service.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum

# wechaty-grpc MessageType numbers (the python payload carries them as an int enum)
TYPE_UNKNOWN = 0
TYPE_AUDIO = 2
TYPE_IMAGE = 5
TYPE_TEXT = 6
TYPE_VIDEO = 7
TYPE_RECALLED = 13

AT_SEPARATOR = "\u2005"  # what WeChat puts after "@name" in a mention it writes
MAX_XML = 64 * 1024  # a quoted reply is a few KB; anything larger is not parsed

# WeChat's words when it throttles an account (seen as Unknown messages from the account itself
# and in the errors of a refused send), e.g. "操作过于频繁，可稍后再试。"
_RESTRICTION = re.compile(r"过于频繁|操作频繁|发送频繁|频率过快|too frequent|rate limit", re.I)


class Kind(StrEnum):
    """How the bot treats a message."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"  # voice and video: the bot cannot read them
    RESTRICTION = "restriction"  # WeChat's own notice that the account is throttled
    OTHER = "other"  # stickers, links, files, recalls: ignored


def is_restriction_notice(text: str) -> bool:
    """Whether a text is WeChat saying the account sends too often."""
    return bool(_RESTRICTION.search(text or ""))


def kind_of(message_type: int, text: str, *, from_self: bool) -> Kind:
    """The kind of a message by its type (and, for the account's own, its text)."""
    if from_self:
        # The account's own messages are echoes of what it sent, except the system's notices
        # about it, which come as Unknown (or text) messages "from" the account.
        if message_type in (TYPE_UNKNOWN, TYPE_TEXT) and is_restriction_notice(text):
            return Kind.RESTRICTION
        return Kind.OTHER
    if message_type == TYPE_TEXT:
        return Kind.TEXT
    if message_type == TYPE_IMAGE:
        return Kind.IMAGE
    if message_type in (TYPE_AUDIO, TYPE_VIDEO):
        return Kind.VOICE
    if message_type == TYPE_UNKNOWN and is_restriction_notice(text):
        return Kind.RESTRICTION  # some puppets put the system's notice under the room
    return Kind.OTHER


@dataclass(frozen=True, slots=True)
class Quote:
    """A quoted reply: what the sender wrote, and the message they quoted (context only)."""

    text: str
    quoted: str
    quoted_name: str


def split_quote(text: str) -> Quote | None:
    """A quoted reply delivered as WeChat's XML (appmsg type 57), or None for other text."""
    stripped = text.lstrip()
    if not stripped.startswith("<") or "<refermsg" not in stripped or len(stripped) > MAX_XML:
        return None
    start = stripped.find("<msg")
    try:
        root = ET.fromstring(stripped[start:] if start >= 0 else stripped)
    except ET.ParseError:
        return None
    appmsg = root if root.tag == "appmsg" else root.find("appmsg")
    if appmsg is None:
        return None
    title = (appmsg.findtext("title") or "").strip()
    refer = appmsg.find("refermsg")
    if refer is None:
        return None
    quoted = (refer.findtext("content") or "").strip()
    if quoted.startswith("<"):
        quoted = ""  # a quoted picture or link: its XML says nothing to the bot
    return Quote(title, quoted, (refer.findtext("displayname") or "").strip())


def mentions(self_id: str | None, self_name: str, mention_ids: list[str], text: str) -> bool:
    """Whether a room message @-mentions the bot."""
    if self_id is not None and self_id in mention_ids:
        return True
    # Some puppets leave the mention list empty; WeChat writes "@name" + U+2005 or space.
    mark = f"@{self_name}"
    return bool(self_name) and any(
        text.endswith(mark) or f"{mark}{sep}" in text for sep in (AT_SEPARATOR, " ")
    )


VOICE_HINT = "抱歉，我听不了语音和视频。报事请直接打字说明问题和楼栋，例如「3栋电梯坏了」。"

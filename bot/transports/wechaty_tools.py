"""What the logged-in account sees, for setting a compound up: rooms, members, a config draft."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass

from bot.transports.wechaty import WechatyTransport
from bot.transports.wechaty_connection import bounded


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room the account is in."""

    wechat_id: str
    topic: str
    members: int


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A member of a room: contact id, WeChat name, room alias (群昵称), the account's friend."""

    contact_id: str
    name: str
    room_alias: str
    friend: bool


async def list_rooms(transport: WechatyTransport, timeout: float = 15.0) -> list[RoomInfo]:
    """Every room of the account, by topic."""
    conn = transport.connection
    if conn is None:
        raise RuntimeError("not connected")
    ids = await bounded(conn.puppet.room_search(), timeout)
    rooms = [conn.bot.Room.load(i) for i in ids]
    await bounded(asyncio.gather(*(r.ready() for r in rooms)), timeout)
    out = [RoomInfo(r.room_id, r.payload.topic, len(r.payload.member_ids)) for r in rooms]
    return sorted(out, key=lambda r: r.topic)


async def list_members(
    transport: WechatyTransport, room: str, timeout: float = 15.0
) -> list[MemberInfo]:
    """The members of a room named by its topic or id."""
    conn = transport.connection
    if conn is None:
        raise RuntimeError("not connected")
    rooms = await list_rooms(transport, timeout)
    match = [r for r in rooms if room in (r.wechat_id, r.topic)]
    if not match:
        raise LookupError(room)
    wechat_room = conn.bot.Room.load(match[0].wechat_id)
    await bounded(wechat_room.ready(), timeout)
    out: list[MemberInfo] = []
    for cid in wechat_room.payload.member_ids:
        if cid == transport.self_id:
            continue
        contact = conn.bot.Contact.load(cid)
        await bounded(contact.ready(), timeout)
        alias = await bounded(wechat_room.alias(contact), timeout) or ""
        out.append(MemberInfo(cid, contact.name, alias, bool(contact.payload.friend)))
    return out


_BUILDING = re.compile(r"(\d{1,3})\s*(?:栋|号楼|幢)")


def guess_buildings(*texts: str) -> list[str]:
    """Building numbers named in topics or aliases ("3栋业主群", "5栋-302王"), most named first."""
    counts = Counter(m for text in texts for m in _BUILDING.findall(text))
    return sorted(counts, key=lambda b: (-counts[b], int(b)))


def guess_compound(topic: str) -> str:
    """The compound a room's topic names: what comes before its building or 业主群."""
    m = re.match(r"(.+?)(?:\d{1,3}\s*(?:栋|号楼|幢)|业主|居民|邻里|群)", topic)
    return (m.group(1) if m else topic).strip(" -_·") or topic


def _q(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_draft(
    rooms: list[RoomInfo], members: dict[str, list[MemberInfo]], bot_name: str, endpoint: str
) -> str:
    """A config skeleton from the account's rooms; every guess is marked 待核对 (to review)."""
    by_compound: dict[str, list[RoomInfo]] = {}
    for room in rooms:
        by_compound.setdefault(guess_compound(room.topic), []).append(room)
    lines = [
        "# jinlin config drafted by `jinlin init --from-wechat`: review every line marked 待核对",
        "# (to review) before use; `jinlin check-config FILE` checks it.",
        f'bot: {{name: {_q(bot_name)}, timezone: Asia/Shanghai, quiet_hours: "22:00-07:00"}}',
        'storage: {url: "sqlite+aiosqlite:///jinlin.db"}',
        f"transport: {{kind: wechaty, endpoint: {_q(endpoint)}, token_env: JINLIN_WECHATY_TOKEN}}",
        "grid:",
        "  - community: 待填写社区名  # 待核对",
        "    workers: []",
        "    compounds:",
    ]
    for compound, compound_rooms in sorted(by_compound.items()):
        all_buildings: list[str] = []
        lines += [
            f"      - name: {_q(compound)}  # 待核对: guessed from the group names",
            "        secretary: null  # 待核对: {id: wxid_..., name: 书记} (members below)",
            "        rooms:",
        ]
        for room in compound_rooms:
            aliases = [m.room_alias for m in members.get(room.wechat_id, [])]
            buildings = guess_buildings(room.topic) or []
            all_buildings += buildings + guess_buildings(*aliases)
            lines.append(
                f"          - {{topic: {_q(room.topic)}, wechat_id: {_q(room.wechat_id)}, "
                f"buildings: [{', '.join(_q(b) for b in buildings)}]}}  # 待核对"
            )
        lines.append("        buildings:")
        for b in sorted(set(all_buildings), key=int):
            lines.append(f"          - {{number: {_q(b)}, head: null}}  # 待核对: 楼栋长 id")
        if not all_buildings:
            lines[-1] = "        buildings: []"
        lines.append("        # members (id, name, 群昵称) to pick heads and the secretary from:")
        for room in compound_rooms:
            for m in members.get(room.wechat_id, []):
                friend = "" if m.friend else " (not a contact)"
                lines.append(f"        #   {m.contact_id}  {m.name}  {m.room_alias}{friend}")
    return "\n".join(lines) + "\n"

"""Building the WeChat transport from the config, and telling secretaries after an outage."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.core.config import CommunityConfig, Config, PersonConfig
from bot.core.messages import Outgoing
from bot.transports.wechaty import WechatyTransport

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class WechatyConfigError(ValueError):
    """The transport section cannot run the WeChat transport; the message names the key."""


def transport_from_config(config: Config, clock: Clock) -> WechatyTransport:
    """A WechatyTransport for `transport: {kind: wechaty, endpoint, token | token_env}`."""
    section = config.transport
    if not section.endpoint:
        raise WechatyConfigError(
            "transport.endpoint: missing; give host:port of the puppet service"
        )
    token = section.token or os.environ.get(section.token_env, "")
    if not token:
        raise WechatyConfigError(
            f"transport.token: missing; set it, or the environment variable {section.token_env}"
        )
    compounds = [c for community in config.grid for c in community.compounds]
    rooms = [room.topic for c in compounds for room in c.rooms]
    people = sorted({p.id for community in config.grid for p in _people_to_reach(community)})
    return WechatyTransport(
        endpoint=section.endpoint,
        token=token,
        room_topics=rooms,
        data_dir=Path(section.data_dir),
        clock=clock,
        check_people=people,
    )


def _people_to_reach(community: CommunityConfig) -> list[PersonConfig]:
    """Who the bot must be able to message privately: workers, secretaries, building heads."""
    out: list[PersonConfig] = list(community.workers)
    for c in community.compounds:
        if c.secretary is not None:
            out.append(c.secretary)
        out.extend(b.head for b in c.buildings if b.head is not None)
    return out


async def make_wechaty_transport(config: Config, clock: Clock) -> WechatyTransport:
    """Build and start the transport; it connects (and re-connects) in the background."""
    transport = transport_from_config(config, clock)
    await transport.start()
    return transport


def offline_notice(config: Config, offline: timedelta) -> list[Outgoing]:
    """Private messages to every secretary saying the bot was offline and may have missed some."""
    minutes = max(1, round(offline.total_seconds() / 60))
    text = (
        f"{config.bot.name}刚才离线了约{minutes}分钟，现已恢复。"
        "这段时间群里的报事可能没有收到，如有遗漏请提醒居民重新发送。"
    )
    secretaries = {
        c.secretary.id: c.secretary
        for community in config.grid
        for c in community.compounds
        if c.secretary is not None
    }
    return [Outgoing(to_room=None, to_person=pid, text=text) for pid in sorted(secretaries)]


def attach_offline_notice(transport: WechatyTransport, app: App) -> None:
    """After a reconnect that followed a long outage, queue the notice in the outbox."""
    from bot.outbound import enqueue_all

    threshold = app.config.transport.offline_notice_after

    async def on_reconnected(offline: timedelta) -> None:
        if offline < threshold:
            return
        now = app.clock.now()
        messages = offline_notice(app.config, offline)
        async with app.sessions() as session, session.begin():
            # one key per outage, so a retried hook cannot queue the notice twice
            await enqueue_all(session, app.config, f"offline:{now.isoformat()}", messages, now)
        app.sender.wake()
        log.warning("back online after %s; told %d secretaries", offline, len(messages))

    transport.on_reconnected = on_reconnected

"""Fixtures for the end-to-end tests: a real puppet service (Node) and the WeChat transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from tests.e2e.puppet import PuppetServer, PuppetSetupError, ensure_node_modules

BUILDING_ROOM = "room-3@chatroom"
BUILDING_TOPIC = "武夷香榭3栋业主群"
OTHER_ROOM = "room-x@chatroom"
OTHER_TOPIC = "广场舞交流群"


@pytest.fixture(scope="session")
def node_modules() -> None:
    """Install tests/puppet's Node packages once per run; a missing node or npm fails the run."""
    try:
        ensure_node_modules()
    except PuppetSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
async def puppet(node_modules: None, tmp_path: Path) -> AsyncIterator[PuppetServer]:
    """A running puppet service with a small compound: two residents, a head, two rooms."""
    server = PuppetServer(tmp_path / "puppet")
    try:
        await server.start()
    except PuppetSetupError as exc:
        await server.close()
        pytest.fail(str(exc), pytrace=False)
    try:
        await server.add_contact("wxid_wang", "王秀英")
        await server.add_contact("wxid_liu", "刘大爷")
        await server.add_contact("wxid_zhou", "周阿姨", friend=False)
        await server.add_room(
            BUILDING_ROOM, BUILDING_TOPIC, ["wxid_wang", "wxid_liu", "wxid_zhou"]
        )
        await server.add_room(OTHER_ROOM, OTHER_TOPIC, ["wxid_liu"])
        await server.set_alias(BUILDING_ROOM, "wxid_liu", "3栋-502刘")
        yield server
    finally:
        await server.close()


@pytest.fixture
def clock() -> SystemClock:
    """Message times from the puppet service are wall-clock times."""
    return SystemClock()

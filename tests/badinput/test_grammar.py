"""The command grammar: numbers are bounded, titles are taken whole."""

from __future__ import annotations

import pytest

from intents import CommandName, parse_command
from intents.command_model import NO_SUCH_NUMBER


@pytest.mark.parametrize(
    "text",
    ["接单 99999999999999999999", "接单 " + "9" * 5000, "认领 W" + "9" * 30, "满意 #" + "9" * 40],
)
def test_a_number_too_long_names_no_case(text: str) -> None:
    command = parse_command(text)
    assert command is not None and command.number == NO_SUCH_NUMBER


def test_the_largest_number_is_read() -> None:
    command = parse_command("接单 999999999")
    assert command is not None and command.number == 999_999_999


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("发布活动 Wifi培训 12月20日15:00 党群连心园 20人", "Wifi培训"),
        ("发布活动 3栋联谊会 12月21日15:00 党群连心园", "3栋联谊会"),
        ("发布活动 #1 亲子活动 12月21日15:00", "#1"),
        ("发布活动 no.1 读书会 12月21日15:00", "no.1"),
    ],
)
def test_activity_titles_are_taken_whole(text: str, title: str) -> None:
    command = parse_command(text)
    assert command is not None and command.name is CommandName.PUBLISH_ACTIVITY
    assert command.number is None
    assert command.activity is not None and command.activity.words[0] == title


def test_a_roster_title_that_starts_with_a_number_is_a_title() -> None:
    command = parse_command("名单 3栋联谊会")
    assert command is not None and command.arg == "3栋联谊会" and command.number is None

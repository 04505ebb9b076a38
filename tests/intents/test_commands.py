"""Private commands: typed, tolerant of spacing, full-width digits and #."""

import pytest

from intents import Command, CommandName, TransferTarget, parse_command, transfer_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("接单 12", Command(CommandName.ACCEPT, number=12)),
        ("接单12", Command(CommandName.ACCEPT, number=12)),
        ("接单 #12", Command(CommandName.ACCEPT, number=12)),
        ("接单　＃１２", Command(CommandName.ACCEPT, number=12)),
        ("接单 十二", Command(CommandName.ACCEPT, number=12)),
        ("@小邻 接单 12", Command(CommandName.ACCEPT, number=12)),
        ("办结 #12 已修好", Command(CommandName.RESOLVE, number=12, arg="已修好")),
        ("办结12已换灯泡。", Command(CommandName.RESOLVE, number=12, arg="已换灯泡")),
        (
            "转 12 物业",
            Command(CommandName.TRANSFER, number=12, arg="物业", target=transfer_target("物业")),
        ),
        (
            "转 12 书记",
            Command(
                CommandName.TRANSFER,
                number=12,
                arg="书记",
                target=TransferTarget(raw="书记", secretary=True, building=None),
            ),
        ),
        ("退回 3 不是本楼的", Command(CommandName.RETURN, number=3, arg="不是本楼的")),
        ("认领 W3", Command(CommandName.CLAIM, number=3)),
        ("认领w3", Command(CommandName.CLAIM, number=3)),
        ("认领 ｗ３", Command(CommandName.CLAIM, number=3)),
        ("完成 W3 已送到", Command(CommandName.COMPLETE_WISH, number=3, arg="已送到")),
        ("督办 #7", Command(CommandName.NUDGE, number=7)),
        (
            "派 12 3栋",
            Command(
                CommandName.DISPATCH,
                number=12,
                arg="3栋",
                target=TransferTarget(raw="3栋", secretary=False, building="3"),
            ),
        ),
        ("待办", Command(CommandName.TODO)),
        ("待办。", Command(CommandName.TODO)),
        ("帮助", Command(CommandName.HELP)),
        ("HELP", Command(CommandName.HELP)),
        ("？", Command(CommandName.HELP)),
        ("心愿", Command(CommandName.LIST_WISHES)),
        ("名单 冬至包饺子", Command(CommandName.ROSTER, arg="冬至包饺子")),
        ("评价 12 5", Command(CommandName.RATE, number=12, score=5)),
        ("评价 #12 4星", Command(CommandName.RATE, number=12, score=4)),
        ("评价 12 五星", Command(CommandName.RATE, number=12, score=5)),
        ("评价 12 满意", Command(CommandName.RATE, number=12, score=5)),
        ("满意", Command(CommandName.RATE, score=5)),
        ("基本满意！", Command(CommandName.RATE, score=3)),
        ("不满意", Command(CommandName.RATE, score=1)),
        ("满意 #12", Command(CommandName.RATE, number=12, score=5)),
    ],
)
def test_commands_are_parsed(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "你好",
        "接单",
        "办结 一下",
        "转发一下",
        "派对",
        "评价 12 6",
        "评价 12",
        "待办 12",
        "帮助我一下",
        "完成了吗",
        "3栋电梯坏了",
    ],
)
def test_non_commands_are_none(text: str) -> None:
    assert parse_command(text) is None


def test_publish_activity_is_read_once_into_its_parts() -> None:
    command = parse_command("发布活动 冬至包饺子 12月21日15:00 党群连心园 30人")
    assert command is not None and command.activity is not None
    written = command.activity
    assert (written.title, written.place, written.capacity) == ("冬至包饺子", "党群连心园", 30)
    assert written.day is not None and (written.day.month, written.day.day) == (12, 21)
    assert written.clock is not None and written.clock.hour == 15
    assert written.without("冬至").title == "包饺子"

"""Buildings per SCHEMA: text before mention before alias before room; floors are not buildings."""

import pytest

from intents.buildings import building_of_alias, building_of_room, buildings_in, resolve_building


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("3栋电梯坏了", ["3"]),
        ("三号楼门口", ["3"]),
        ("十二栋的老人", ["12"]),
        ("9#楼后面", ["9"]),
        ("5幢一单元", ["5"]),
        ("A座电梯", ["A"]),
        ("b栋楼下", ["B"]),
        ("八幢一楼那户", ["8"]),
        ("第3栋", ["3"]),
        # floors, units, lifts, rooms, counts and areas are not buildings
        ("8楼的声控灯坏了", []),
        ("2号电梯按钮坏了，12楼以上按不亮", []),
        ("2单元门口", []),
        ("1203的邻居", []),
        ("整栋楼都黑了", []),
        ("一栋楼都停电了", []),
        ("两栋楼之间", []),
        ("地下车库B区", []),
        ("28号共建日", []),
    ],
)
def test_buildings_in_text(text: str, found: list[str]) -> None:
    assert buildings_in(text) == found


@pytest.mark.parametrize(
    ("alias", "building"),
    [
        ("3栋402-王阿姨", "3"),
        ("5-1-301李", "5"),
        ("12-1-602 魏", "12"),
        ("B-2005 小叶", "B"),
        ("11#-904 小马", "11"),
        ("5#1单元202 孙", "5"),
        ("二号楼 刘师傅", "2"),
        ("E座 老黄", "E"),
        ("1201-小刘", None),  # a room number alone
        ("2单元801-阿华", None),  # a unit and a room
        ("A.阿杰", None),
        ("Tony", None),
        ("城东物业-小王", None),
    ],
)
def test_building_of_alias(alias: str, building: str | None) -> None:
    assert building_of_alias(alias) == building


def test_room_names_a_building_only_when_it_names_exactly_one() -> None:
    assert building_of_room("江南八仙小区5栋") == "5"
    assert building_of_room("剑津花园B座邻里群") == "B"
    assert building_of_room("书坊小区3栋5栋业主群") is None
    assert building_of_room("武夷香榭小区业主群") is None
    assert building_of_room(None) is None


def test_order_text_then_mention_then_alias_then_room() -> None:
    assert resolve_building("7栋那边着火了", (), "3栋402-王阿姨", "5栋群") == ("7", "text")
    assert resolve_building("你们楼门口", ("12号楼楼栋长",), "3-1-1 李", "5栋群") == (
        "12",
        "mention",
    )
    assert resolve_building("楼下路灯坏了", ("小邻",), "3-1-1 李", "5栋群") == ("3", "alias")
    assert resolve_building("楼下路灯坏了", (), "Tony", "5栋群") == ("5", "room")
    assert resolve_building("小区门口", (), "Tony", "业主群") == (None, "none")

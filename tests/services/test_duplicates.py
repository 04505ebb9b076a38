"""附议: the same problem in the same building joins the open case; other problems stay apart."""

from __future__ import annotations

from typing import Any

from handlers.duplicates import SIMILAR, similarity
from tests.services.replays import case_log, replay_lines, scenario_lines, services_config


def _group(sent: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["at"][5:16], m["text"]) for m in sent if m.get("to_room")]


async def test_duplicates_join_and_non_duplicates_stay_apart(db_url: str) -> None:
    """Two neighbours join #1; a repeat adds nobody; lights, another building, later ones: new."""
    sent = await replay_lines(services_config(), scenario_lines("duplicates"), db_url)
    group = _group(sent)
    by_time = dict(group)
    assert "#1" in by_time["12-02T09:00"] and "已登记" in by_time["12-02T09:00"]
    assert "已为您附议（共 2 位邻居反映）" in by_time["12-02T09:20"]
    assert "#1" in by_time["12-02T09:25"] and "附议" not in by_time["12-02T09:25"]
    assert "#1" in by_time["12-02T09:30"] and "共 3 位" in by_time["12-02T09:30"]
    assert "已登记 #2" in by_time["12-02T09:40"]  # lighting: another category
    assert "已登记 #3" in by_time["12-02T09:45"]  # another place, not like #2's text
    assert "已登记 #4" in by_time["12-02T09:50"]  # the same words about another building
    assert "已登记 #5" in by_time["12-02T10:40"]  # #1 was resolved meanwhile
    assert "已登记 #6" in by_time["12-03T10:30"]  # #2 is open but older than 24 hours
    # The head gets one line per neighbour who joins, never a second "新报事 #1".
    head = [m["text"] for m in sent if m.get("to_person") == "wxid_wang"]
    assert sum(t.startswith("新报事 #1") for t in head) == 1
    assert [t for t in head if "又有邻居反映" in t] == [
        "#1 又有邻居反映（共 2 位）：3栋电梯坏了，又停了",
        "#1 又有邻居反映（共 3 位）：3栋电梯又坏了",
    ]
    assert [a for a, _ in await case_log(db_url, 1)].count("seconded") == 2
    # When #1 is resolved, the neighbours who joined hear it in the same group message.
    done = by_time["12-02T10:30"]
    assert "@王阿姨" in done and "#1 已办结" in done and "@李叔 @张姐" in done


def test_similarity_of_reports() -> None:
    """Rewordings of one problem score high; different problems of one category low."""
    assert similarity("3栋电梯又坏了", "3栋电梯坏了，又停了") >= SIMILAR
    assert similarity("3栋楼道灯不亮了", "3栋楼道的灯坏了好几天了") >= SIMILAR
    assert similarity("3栋门口垃圾没人清", "3栋楼道里有人堆杂物") < SIMILAR
    assert similarity("3栋停水了", "3栋水管爆了，水漫到楼道") < SIMILAR

"""No phone, ID-card or room number a person typed reaches a group, whatever the message kind.

Numbers are planted in every field a person controls (display name, report text, 附议 text,
办结 note, wish text, 完成 note, activity title and place, 接龙 lines); a month is replayed so
that every kind of group message is sent (acknowledgement, 附议, 接单 and 办结 notices, rating
thanks, wish notices, activity announcement, sign-up replies, waiting list, rosters, reminders,
the 28th). Private messages to the building head keep the phone: that is by design.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.services.replays import event, replay_lines, services_config

PHONE = "13812345678"
PHONE2 = "13912345678"
ID_CARD = "35070219900101123X"
LANDLINE = "0599-8812345"
CN_PHONE = "一三七 一二三四 五六七八"  # in Chinese digits, grouped as it is read aloud
DASHED = "136-1234-5678"
PLANTED = (
    PHONE, PHONE2, ID_CARD, LANDLINE, "3-402", "1502", "402室", "8812345", CN_PHONE, DASHED,
    "五六七八", "5678",
)  # fmt: skip
DIGIT_VIEW = str.maketrans("〇零一二三四五六七八九幺", "001234567891")
BLD = "武夷香榭3栋业主群"
ALL = "武夷香榭业主群"


def _script() -> list[str]:
    r1 = {"sender": "r1", "name": f"3-402 王阿姨 {PHONE}"}
    r2 = {"sender": "r2", "name": f"李叔{ID_CARD}"}
    r3 = {"sender": "r3", "name": "赵姐1502室"}
    r4 = {"sender": "r4", "name": f"小刘{PHONE2}"}
    head = {"sender": "wxid_wang", "name": "王姐"}
    sec = {"sender": "wxid_li", "name": "李书记"}
    vol = {"sender": "wxid_zhao", "name": "赵老师"}
    d = "2026-12-"
    return [
        event(f"{d}01T09:00:00", f"3栋电梯又坏了，1502室也困过，身份证{ID_CARD}", room=BLD, **r1),
        event(f"{d}01T09:05:00", f"3栋电梯又坏了，3-402也困过，身份证{ID_CARD}", room=BLD, **r2),
        event(f"{d}01T09:10:00", "接单 1", **head),
        event(
            f"{d}01T10:00:00",
            f"办结 1 已联系业主{DASHED}，3-402、3栋402室已修好，身份证{ID_CARD}",
            **head,
        ),
        event(f"{d}01T10:05:00", "满意", room=BLD, **r1),
        event(
            f"{d}01T11:00:00", f"微心愿：想借个轮椅送到3栋1502室，我电话{PHONE2}", room=BLD, **r3
        ),
        event(f"{d}01T11:05:00", "认领 W1", **vol),
        event(f"{d}01T12:00:00", f"完成 W1 已送到3-1502，李叔电话{CN_PHONE}", **vol),
        event(f"{d}01T12:05:00", "满意", room=BLD, **r3),
        event(
            f"{d}02T09:00:00",
            f"发布活动 1502室茶话会{PHONE} 12月20日15:00 3-402活动室 2人",
            **sec,
        ),
        event(f"{d}02T10:00:00", "报名1502室茶话会，我们家1个人", room=BLD, **r1),
        event(f"{d}02T10:01:00", "1502室茶话会 报名 1人", room=ALL, **r2),
        event(f"{d}02T10:02:00", "1502室茶话会 报名 1人", room=BLD, **r4),
        event(f"{d}02T10:30:00", "1502室茶话会我不去了，取消报名", room=ALL, **r2),
        event(
            f"{d}02T11:00:00",
            f"#接龙 1502室茶话会\n1. 王阿姨{PHONE}\n2. 3-402李叔\n3. 赵姐 身份证{ID_CARD}",
            room=BLD,
            **r3,
        ),
        event(f"{d}02T11:05:00", "名单 1502室茶话会", **sec),
        event(f"{d}03T09:00:00", f"5栋楼道灯不亮了，5栋1502门口，座机{LANDLINE}", room=ALL, **r4),
        event(f"{d}21T10:00:00"),
        event(f"{d}29T10:00:00"),
    ]


async def test_no_private_number_reaches_a_group(db_url: str) -> None:
    sent = await replay_lines(services_config(), _script(), db_url)
    group = [m for m in sent if "to_room" in m]
    texts = "\n".join(m["text"] for m in group)
    # every kind was sent (so the assertions below looked at each)
    for part in (
        "已登记 #1",
        "附议",
        "接单",
        "已办结",
        "谢谢您的评价",
        "W1",
        "茶话会",
        "报名",
        "候补",
        "名额空出来",
        "提醒",
        "共建日",
    ):
        assert part in texts, f"no group message with {part!r}:\n{texts}"
    for m in group:
        for planted in PLANTED:
            assert planted not in m["text"], f"{planted} reached {m['to_room']}: {m['text']!r}"
        assert not re.search(r"\d{7,}", m["text"].translate(DIGIT_VIEW)), m["text"]
    # the building head still gets the phone in private
    head = "\n".join(m["text"] for m in sent if m.get("to_person") == "wxid_wang")
    assert LANDLINE in head or ID_CARD in head


def test_the_outbox_has_one_way_in() -> None:
    """Only bot/outbound.py writes outbox rows, so its filter sees every group message."""
    repo = Path(__file__).resolve().parents[2]
    writers = sorted(
        str(path.relative_to(repo))
        for package in ("bot", "handlers", "intents", "storage")
        for path in (repo / package).rglob("*.py")
        if "outbox.enqueue" in path.read_text(encoding="utf-8")  # enqueue( or enqueue_many(
    )
    assert writers == ["bot/outbound.py"]

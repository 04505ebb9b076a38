"""Shared wording: help texts, safety hints, short forms of names and cases.

Phone and room numbers are masked for groups in one place: bot/core/privacy.py, applied by
bot/outbound.py on the way into the outbox.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.config import HotlinesConfig
from bot.core.domain import Category
from intents.dates import WEEKDAYS
from storage.models import Case

HELP_TEXT = (
    "我是小邻，近邻服务助手。可用指令：\n"
    "· 待办 —— 查看我手上的事项\n"
    "· 接单 12 —— 接下 #12\n"
    "· 办结 12 已换灯泡 —— 办结并说明\n"
    "· 转 12 5 / 转 12 书记 —— 转给5栋楼栋长或小区书记\n"
    "· 退回 12 原因 —— 不归我管，退回书记\n"
    "· 认领 W3 / 完成 W3 说明 / 心愿 —— 微心愿\n"
    "· 督办 12 / 派 12 3栋 —— 书记、社区督办与派单\n"
    "· 发布活动 冬至包饺子 12月21日15:00 党群连心园 30人 / 名单 冬至包饺子 —— 书记、社区\n"
    "· 满意 / 基本满意 / 不满意 / 评价 12 5 —— 评价办理结果\n"
    "· 帮助 —— 显示本说明"
)

MENTION_HINT = (
    "我是近邻助手。报事报修请直接说明问题和楼栋（如「3栋电梯坏了」），微心愿请以「微心愿：」开头。"
)
NOT_YET = "这个功能还没有开通。"


def safety_hint(hotlines: HotlinesConfig) -> str:
    """One line of emergency numbers for urgent cases."""
    parts = [f"火警{hotlines.fire}", f"急救{hotlines.ambulance}"]
    if hotlines.gas:
        parts.append(f"燃气抢修{hotlines.gas}")
    if hotlines.property:
        parts.append(f"物业{hotlines.property}")
    return "⚠️ 如有危险请先撤离并拨打：" + "，".join(parts)


def short(text: str, limit: int = 40) -> str:
    """The first `limit` characters of a text, on one line."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


_ALIAS_ADDRESS = re.compile(
    r"^[\s\-_—·.]*(?:(?:[0-9]+[A-Za-z]?\s*(?:号楼|栋|幢|#楼|#|号|单元|室|楼|F|f)?"
    r"|[A-Za-z]\s*(?:座|栋|幢)|[一二三四五六七八九十]+\s*(?:号楼|栋|幢|单元))[\s\-_—·./]*)+"
)


def address_name(display_name: str) -> str:
    """The part of a group alias that is a name: "3栋402-王阿姨" gives "王阿姨"."""
    rest = _ALIAS_ADDRESS.sub("", display_name).strip(" -_—·")
    if rest:
        return rest
    return "邻居" if re.search(r"\d{3,}", display_name) else display_name


def describe_case(case: Case) -> str:
    """The lines a building head or secretary gets about a case."""
    where = f"{case.compound}{case.building}栋" if case.building else case.compound
    category = Category.of(case.category).label
    flag = "【紧急】" if case.urgent else ""
    return (
        f"{flag}#{case.number} {where} · {category}\n"
        f"{case.reporter_name}（{case.room or '民情码'}）：{short(case.text, 120)}"
    )


def local_text(when: datetime, tz: ZoneInfo) -> str:
    """ "12月21日（周一）15:00" in the bot's timezone."""
    t = when.astimezone(tz)
    return f"{t.month}月{t.day}日（周{WEEKDAYS[t.weekday()]}）{t:%H:%M}"

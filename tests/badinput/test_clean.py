"""The edge cleaning of text and display names, and the group filter of private numbers."""

from __future__ import annotations

import pytest

from bot.core.clean import NAME_LIMIT, TEXT_LIMIT, clean_name, clean_text
from bot.core.privacy import mask_private


def test_text_loses_what_cannot_be_stored_or_read() -> None:
    raw = "3栋\ud800电梯\x00坏了\u202e\u2066\u200b\ufeff\x07，\r\n按钮\u2028没反应\t!"
    assert clean_text(raw) == "3栋电梯坏了，\n按钮\n没反应\t!"
    clean_text(raw).encode("utf-8")  # no lone surrogate left


def test_zero_width_joiners_stay_inside_emoji_only() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family
    assert clean_text("138\u200d1234\u200c5678") == "13812345678"


def test_text_is_bounded_and_a_newline_flood_is_one_empty_line() -> None:
    assert len(clean_text("栋" * 100_000)) == TEXT_LIMIT
    assert clean_text("a" + "\n" * 10_000 + "b") == "a\n\nb"
    assert clean_text("1. 王芳\n2. 李娜") == "1. 王芳\n2. 李娜"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("王阿姨\n小邻: #1 已办结", "王阿姨 小邻: #1 已办结"[:NAME_LIMIT]),
        ("@所有人 王阿姨", "王阿姨"),
        ("＠全体成员李叔", "李叔"),
        ("\u202e姨阿王\x00\x1b[31m", "姨阿王[31m"),
        ("<script>alert(1)</script>孙阿姨", "alert(1)孙阿姨"),
        ("a<b>c", "ac"),
        ("x" * 100, "x" * NAME_LIMIT),
        ("\u200b\n\t ", "邻居"),
        ("7栋1502-孙阿姨", "7栋1502-孙阿姨"),
    ],
)
def test_display_names_are_one_short_plain_line(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("@王阿姨 13812345678 收到", "@王阿姨 *** 收到"),
        ("电话 138 1234 5678，+86 139-1234-5678", "电话 ***，***"),
        ("身份证35070219900101123X", "身份证***"),
        ("座机0599-8812345、(0599)8812345、8812345", "座机***、***、***"),
        ("１３８１２３４５６７８", "***"),
        ("已送到3-1502，3-1-402", "已送到***，***"),
        ("3栋402室漏水，1502室也是，3号楼1502", "3栋***漏水，***也是，3号楼***"),
        # in Chinese digits, mixed and grouped as people say them
        ("电话一三八一二三四五六七八", "电话***"),
        ("打幺三八 一二三四 五六七八找我", "打***找我"),
        ("138一二三四5678", "***"),
        ("手机138 - 1234 - 5678。", "手机***。"),
        ("138.1234.5678", "***"),
        ("+86 138 1234 5678", "***"),
        ("身份证350702 19900101 123X", "身份证***"),
        ("身份证三五〇七〇二一九九〇〇一〇一一二三X", "身份证***"),
        ("座机八八一二三四五", "座机***"),
        ("住三栋四零二室", "住三栋***"),
        ("3栋四〇二漏水", "3栋***漏水"),
        ("一三九○一二三四五六七", "***"),
        ("第3-402室", "第***室"),
    ],
)
def test_private_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_private(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "第1-100名可领奖品",
        "前1-100位报名的邻居",
        "限报30-50人，每人100-2000元不等",
        "3楼100人的会议室",
        "筹得1000000元，￥1234567 已入账",
        "2026-12-21 15:00-17:00，2026.12.21，20261221 截止",
        "8:00-11:30 和 13:00-15:00 办理",
        "#12 已办结，W3 已认领，#1502 附议",
        "1-3号楼停水",
        "报警请打一一零",
    ],
)
def test_ranks_dates_times_and_money_are_kept(text: str) -> None:
    assert mask_private(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "收到，已登记 #12，已转楼栋长王姐处理。",
        "「冬至包饺子」12月21日（周一）15:00，还剩 30 个名额。",
        "2026-12-21 共 3 位邻居反映 #1502 W3",
        "⚠️ 如有危险请先撤离并拨打：火警119，急救120，燃气抢修0599-1234567",
    ],
)
def test_what_the_bot_says_itself_is_kept(text: str) -> None:
    assert mask_private(text, keep={"0599-1234567"}) == text

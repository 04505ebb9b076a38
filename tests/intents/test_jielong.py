"""接龙 blocks: the sender's own line decides; others' lines and empty templates do not."""

from intents import IntentKind, ParseContext, parse
from intents.jielong import name_core, parse_jielong

ACTS = ("元旦趣味运动会", "冬季义诊")
CHAIN = "#接龙 元旦趣味运动会\n报名请接龙\n1. 阿明 4人\n2. 王老师 带两个孩子\n"


def _ctx(sender: str) -> ParseContext:
    return ParseContext(room="书坊小区业主群", sender_name=sender, activities=ACTS)


def test_block_is_recognised_with_title_and_entries() -> None:
    block = parse_jielong(CHAIN + "3. 小郭 一家三口")
    assert block is not None
    assert block.title == "元旦趣味运动会"
    assert block.entries == ("阿明 4人", "王老师 带两个孩子", "小郭 一家三口")


def test_headcount_comes_from_the_senders_line_only() -> None:
    intent = parse(CHAIN + "3. 8幢-302-小郭 一家三口", _ctx("8幢-302-小郭"))
    assert intent.kind is IntentKind.JOIN_ACTIVITY
    assert intent.activity == "元旦趣味运动会"
    assert intent.headcount == 3


def test_sender_line_found_without_the_alias_prefix() -> None:
    intent = parse(CHAIN + "3. 小郭", _ctx("8幢-302-小郭"))
    assert intent.kind is IntentKind.JOIN_ACTIVITY
    assert intent.headcount == 1


def test_reposting_others_lines_is_not_a_sign_up() -> None:
    assert parse(CHAIN, _ctx("Lucy")).kind is IntentKind.NONE


def test_organisers_empty_template_is_not_a_sign_up() -> None:
    template = "#接龙\n冬季义诊 12月10日上午 社区卫生站\n\n1.\n2.\n3."
    assert parse(template, _ctx("社区小张")).kind is IntentKind.NONE


def test_own_line_marked_cancelled_is_leaving() -> None:
    intent = parse(CHAIN + "3. 老汤 (取消)", _ctx("11幢 老汤"))
    assert intent.kind is IntentKind.LEAVE_ACTIVITY
    assert intent.activity == "元旦趣味运动会"


def test_a_sentence_about_the_chain_is_not_a_block() -> None:
    intent = parse("接龙里我那2个人取消，临时有事", _ctx("Jason"))
    assert intent.kind is IntentKind.LEAVE_ACTIVITY


def test_name_core() -> None:
    assert name_core("3栋402-王阿姨") == "王阿姨"
    assert name_core("5-1-301李") == "李"
    assert name_core("Tony") == "Tony"


def test_a_numbered_list_of_problems_is_not_a_chain() -> None:
    text = "物业请看一下：\n1. 3栋电梯坏了\n2. 楼道灯不亮"
    assert parse(text, _ctx("阿东")).kind is IntentKind.REPORT_PROBLEM


def test_numbered_lines_under_an_open_activitys_title_are_a_chain() -> None:
    text = "冬季义诊\n1. 王姐\n2. 李四 2人"
    intent = parse(text, _ctx("李四"))
    assert intent.kind is IntentKind.JOIN_ACTIVITY
    assert (intent.activity, intent.headcount) == ("冬季义诊", 2)

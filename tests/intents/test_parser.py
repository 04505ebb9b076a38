"""The rules of intent, one hard case each: when to speak and when to stay silent."""

import pytest

from intents import Category, IntentKind, ParseContext, parse
from intents.lexicon import lexicon

ROOM = "书坊小区业主群"
R = IntentKind.REPORT_PROBLEM
W = IntentKind.MICRO_WISH
J = IntentKind.JOIN_ACTIVITY
L = IntentKind.LEAVE_ACTIVITY
N = IntentKind.NONE


def _parse(text: str, sender: str = "阿东", activities: tuple[str, ...] = ()) -> IntentKind:
    return parse(text, ParseContext(room=ROOM, sender_name=sender, activities=activities)).kind


@pytest.mark.parametrize(
    "text",
    [
        "6号楼东头的路灯杆歪了，看着要倒",
        "我们单元一楼的信报箱被人撬了",
        "楼上小孩天天跑跳，咚咚咚到晚上十一点",
        "有人把电动车停在安全出口，门都推不开",
        "樓道燈不亮了，麻煩物業看看",  # traditional characters
        "电悌又坏了",  # a near-homophone
        "报修\n位置：5幢一单元\n问题：楼道灯不亮",  # multi-line form
        "「李姐：今天好冷啊」\n- - - - - - - - - - - - - - -\n我们楼的暖气管漏水了",
    ],
)
def test_reports(text: str) -> None:
    assert _parse(text) is R


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("要是电梯坏了找谁？", "hypothetical"),
        ("万一电梯困人，记住按警铃，别扒门", "advice"),
        ("听说隔壁小区电梯困人了，好吓人", "hearsay"),
        ("楼道灯坏了好几天，今天终于换了", "already handled"),
        ("电梯维修师傅已经到了，预计一小时修好", "already handled"),
        ("刚才电梯卡了一下，又好了，没事", "already handled"),
        ("【停水通知】明天8点到12点停水，请提前储水", "notice"),
        ("专业疏通下水道，24小时上门服务，电话13900000000", "ad"),
        ("请问报修是打物业电话还是找网格员？", "information question"),
        ("想当年我们那水淹到腰了", "a story"),
        ("谢谢物业，电梯修得真快", "thanks"),
        (
            "「王阿姨：3栋电梯又坏了」\n- - - - - - - - - - - - - - -\n收到，我跟物业说一下",
            "quote",
        ),
        ("今天楼道里没人乱停电动车了，物业这次管得好", "praise"),
        ("电梯里那个广告好吵哈哈", "banter"),
        ("电梯坏了吗？", "asks whether"),
        ("谢谢王阿姨帮我收了快递", "thanks"),
        ("[红包]", "placeholder"),
        ("👍👍", "emoji"),
    ],
)
def test_silence(text: str, why: str) -> None:
    assert _parse(text) is N, why


def test_thanks_that_turn_to_a_new_fault_still_report() -> None:
    assert _parse("谢谢物业上次修电梯，不过今天又坏了") is R
    assert _parse("停电了？整栋楼都黑了") is R  # a question, then a statement


def test_a_hypothetical_consequence_does_not_hide_a_real_problem() -> None:
    assert _parse("楼道里又堆满了电瓶车，万一着火了怎么跑？物业能不能清一下") is R


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("电梯困人了！有个老人被关在里面", True),
        ("楼道里一股很浓的煤气味！", True),
        ("8号楼后面电线耷拉下来了，还在冒火花", True),
        ("刚才有个大爷踩空摔了，腿都流血了", True),
        ("地下车库进水了，水已经淹到车轮了", True),
        ("台阶上全是青苔，老人出门容易摔", False),
        ("健身区的单杠松动了，差点摔下来", False),
        ("楼下草坪的喷淋头坏了，一直在喷水", False),
        ("楼道里又堆满电瓶车，万一着火了怎么跑", False),
    ],
)
def test_urgency(text: str, urgent: bool) -> None:
    intent = parse(text, ParseContext(room=ROOM, sender_name="阿东"))
    assert intent.kind is R
    assert intent.urgent is urgent


def test_category() -> None:
    intent = parse("2单元电梯又停了", ParseContext(room=ROOM))
    assert intent.category is Category.LIFT
    intent = parse("楼道里有人飞线给电动车充电", ParseContext(room=ROOM))
    assert intent.category is Category.EBIKE


@pytest.mark.parametrize(
    "text",
    [
        "微心愿：想借个助行器用一个月",
        "谁家有梯子借我用一下？客厅灯泡坏了够不着",  # a home fault asked of neighbours
        "有没有懂电脑的邻居？孩子的电脑开不了机",
        "想请志愿者帮忙陪我妈去医院复查",
        "求助：明天要搬书柜上楼，有没有小伙子帮忙抬一下",
    ],
)
def test_wishes(text: str) -> None:
    assert _parse(text) is W


@pytest.mark.parametrize(
    "text",
    [
        "谢谢小叶帮我把米扛上楼",
        "我来认领饶阿姨的微心愿",
        "有没有人一起拼车去福州",
        "有没有人知道哪家修鞋的手艺好",
        "微心愿墙更新了，大家有需要可以跟我说",
    ],
)
def test_not_wishes(text: str) -> None:
    assert _parse(text) is N


ACTS = ("冬至包饺子", "义务理发")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("包饺子算我一个", J),
        ("+1", J),
        ("包交子报名", J),  # a typo
        ("理发我就不去了，帮我划掉", L),
        ("临时有事，取消报名", L),
        ("我就不报名了，祝大家玩得开心", N),  # deciding not to sign up is not a cancellation
        ("包饺子在哪里报名啊？", N),
        ("理发老年人能参加吗", N),
        ("已报名包饺子的邻居请注意：地点改了", N),
        ("去年的理发活动我去了，师傅手艺不错", N),
        ("我去，这么多人报名了", N),
        ("现在的年轻人都不爱参加活动了", N),
    ],
)
def test_sign_ups(text: str, kind: IntentKind) -> None:
    assert _parse(text, activities=ACTS) is kind


def test_no_open_activity_keeps_plus_one_silent() -> None:
    assert _parse("+1") is N


def test_activity_is_one_of_the_open_titles_or_none() -> None:
    ctx = ParseContext(room=ROOM, activities=ACTS)
    assert parse("理发报名", ctx).activity == "义务理发"
    assert parse("报名报名", ctx).activity is None
    assert parse("报名", ParseContext(activities=("义务理发",))).activity == "义务理发"


def test_every_result_explains_itself() -> None:
    for text in ("3栋电梯坏了", "你好", "+1"):
        assert parse(text, ParseContext(activities=ACTS)).explain


def test_lexicon_is_loaded_once() -> None:
    assert lexicon() is lexicon()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼道里好大一股煤气味，谁家没关好", Category.OTHER),  # gas is no power cut
        ("厨房的燃气管道接口处有嘶嘶声，还有味", Category.OTHER),
        ("配电箱有股烧焦的味道，还噼里啪啦响", Category.OTHER),
        ("隔壁装修天天电钻，周末早上七点就开始，能不能管一下", Category.NOISE),
    ],
)
def test_the_category_of_a_report(text: str, category: Category) -> None:
    intent = parse(text, ParseContext(room=ROOM, sender_name="阿东"))
    assert intent.kind is R
    assert intent.category is category


@pytest.mark.parametrize(
    ("sender", "building"),
    [("富文-3-1202", "3"), ("城南-5-702", "5"), ("北门-B栋-朱", "B"), ("北门-2-1-301", "2")],
)
def test_a_compound_name_before_building_and_room(sender: str, building: str) -> None:
    intent = parse("楼道灯坏了", ParseContext(room="业主群", sender_name=sender))
    assert intent.building == building


def test_a_sign_up_naming_an_activity_that_is_not_open_names_none() -> None:
    only = ("12月28日共建日·扫一扫小区街巷",)
    ctx = ParseContext(room=ROOM, sender_name="阿东", activities=only)
    intent = parse("报名元旦游园", ctx)
    assert intent.kind is J
    assert intent.activity is None

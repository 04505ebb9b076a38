"""Issue 10: who is speaking, when, wishes as people write them, traditional text, the model."""

import json
from importlib import resources

import pytest

from intents import IntentKind, ParseContext, parse
from intents.cues import cues
from intents.lexicon import LexiconError, LexiconFile, ThresholdsFile, lexicon, load_file
from intents.normalise import fold, normalise
from intents.parser import RulesView, model_input, read, read_rules
from intents.textmodel import RULE_PREFIX, TextModel, text_features, text_model

R = IntentKind.REPORT_PROBLEM
W = IntentKind.MICRO_WISH
N = IntentKind.NONE
CTX = ParseContext(room="书坊小区业主群", sender_name="5-1-301 李")


def _kind(text: str) -> IntentKind:
    return parse(text, CTX).kind


@pytest.mark.parametrize(
    "text",
    [
        "某小区老人被困电梯一小时 消防破门救出",  # a forwarded headline
        "昨晚城东一居民楼起火，三人受伤送医",  # news of elsewhere
        "经现场核查，该处未发现违规施工",  # an official's reply
        "业主您好，您反映的电梯问题已安排维保单位检修完毕",  # the property company's reply
        "前年配电房着过一次火，后来换了新设备",  # the past
    ],
)
def test_words_that_are_not_a_residents_own_report_stay_silent(text: str) -> None:
    assert _kind(text) is N


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("我们三个人被关在电梯里了", True),
        ("地下室水涨得很快，车都要泡了", True),
        ("樓道著火了", True),  # traditional, 著 read as 着 by phrase
        ("经常被关在电梯里，物业就是不换", False),  # recurring: a report, not an emergency
    ],
)
def test_urgent_means_now(text: str, urgent: bool) -> None:
    intent = parse(text, CTX)
    assert intent.kind is R
    assert intent.urgent is urgent


@pytest.mark.parametrize(
    "text",
    [
        "想要一条厚被子",
        "希望有个新的热水壶",
        "想给孙子买套字典",
        "腿脚不方便，谁能帮我去交个燃气费",
        "家里的插座松了，希望有人帮忙看看",
    ],
)
def test_wishes_without_markers(text: str) -> None:
    assert _kind(text) is W


def test_shopping_banter_is_no_wish() -> None:
    assert _kind("我想要一台新手机，这个太卡了哈哈") is N


@pytest.mark.parametrize(
    "text",
    [
        "如果出了事谁负责？楼道里的电线都露出来了",  # a rhetorical question, then the fault
        "24小时都有人在楼下修车，吵得不行",  # 24小时 without a service word is no ad
    ],
)
def test_surface_filters_do_not_overrule_a_report(text: str) -> None:
    assert _kind(text) is R


def test_traditional_text_is_converted_by_phrase() -> None:
    lex = lexicon()
    assert fold("樓道著火了", lex) == "楼道着火了"
    assert fold("著名的電梯公司", lex) == "著名的电梯公司"  # 著名 keeps 著
    assert fold("电梯一坏就是三天", lex) == "电梯一坏就是三天"  # simplified text is left alone


def test_cues_name_who_is_speaking() -> None:
    lex = lexicon()
    rules = {t.rule for t in cues(normalise("经核实，该车辆已联系车主挪走", lex), lex)}
    assert "reply" in rules
    rules = {t.rule for t in cues(normalise("想要一条厚被子", lex), lex)}
    assert "want" in rules


def _cue_rules(text: str) -> set[str]:
    lex = lexicon()
    return {t.rule for t in cues(normalise(text, lex), lex)}


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("翠湖小区地库积水半月 业主盼早日解决", "headline-place"),
        ("翠湖小区地库积水半月 业主盼早日解决", "headline-two-part"),
        ("老楼路灯坏了三个月 居民盼修复", "headline-residents"),
        ("多个小区楼道杂物堆积存隐患", "headline-plain"),
    ],
)
def test_a_headline_shape_is_a_cue(text: str, sign: str) -> None:
    assert sign in _cue_rules(text)


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("经实地查看，该处路灯线路老化，已安排电工更换", "reply-checked"),
        ("经实地查看，该处路灯线路老化，已安排电工更换", "reply-done"),
        ("街道已会同物业对化粪池进行清掏", "reply-institution"),
        ("街道已会同物业对化粪池进行清掏", "reply-procedure"),
        ("我们已安排师傅明天上门", "reply-done"),  # a company's "we", not a resident's
    ],
)
def test_a_reply_shape_is_a_cue(text: str, sign: str) -> None:
    assert sign in _cue_rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "我家楼上装修把下水管弄坏了，厨房一直滴水",  # a resident speaks
        "翠湖小区的地库又积水了，谁来管管啊",  # asks, and ends as chat does
        "物业已经派人看过了，可是楼顶还是漏",  # 已经 is no office's 已
        "电梯坏了",  # too short for a title
        "3栋楼下烧烤店油烟直往楼上窜",  # terse, but it starts with the sender's building
        # a label that frames the sender's own report is no sub-heading, wherever its verb is
        "反映个问题：车库入口的减速带松了",
        "反应个情况：二号门的门禁一直关不上",
        "向物业反映一下：楼顶水箱盖子没盖",
        "提个建议：垃圾房门口装个灯",
    ],
)
def test_a_residents_own_words_have_no_headline_or_reply_shape(text: str) -> None:
    assert not {r for r in _cue_rules(text) if r.startswith(("headline-", "reply-"))}


def test_explain_says_what_decided() -> None:
    explain = parse("想要一条厚被子", CTX).explain
    assert any(e.startswith("model:") for e in explain)
    assert any(e.startswith("decided:model:") for e in explain)
    fire = parse("电梯困人了！有个老人被关在里面", CTX).explain
    assert "decided:rules:an emergency" in fire


def test_confidence_is_the_models_probability() -> None:
    intent = parse("想要一条厚被子", CTX)
    assert 0.5 <= intent.confidence <= 1.0
    assert read("想要一条厚被子", CTX, None).kind is N  # the rules alone miss it


def test_the_shipped_model_round_trips_and_predicts_probabilities() -> None:
    model = text_model()
    again = TextModel.from_json(model.to_json())
    features = text_features("电梯坏了")
    assert again.predict(features) == model.predict(features)
    assert sum(p for _, p in model.predict(features).probabilities) == pytest.approx(1.0)
    assert text_features("3栋") == text_features("12栋")  # digits say nothing


def test_a_bad_regular_expression_names_the_file_key_and_entry() -> None:
    text = json.dumps({"faults": ["坏(了"]})  # JSON is YAML
    with pytest.raises(LexiconError) as e:
        load_file("lexicon.yaml", LexiconFile, text)
    message = str(e.value)
    assert message.startswith("intents/data/lexicon.yaml: ")
    assert "not a regular expression" in message or "Field required" in message


def test_a_regular_expression_that_does_not_compile_is_named() -> None:
    text = resources.files("intents").joinpath("data", "lexicon.yaml").read_text("utf-8")
    broken = text.replace("faults:\n", "faults:\n  - '坏(了'\n", 1)
    with pytest.raises(LexiconError, match=r"lexicon.yaml: faults\.0: .*not a regular expression"):
        load_file("lexicon.yaml", LexiconFile, broken)


def test_a_threshold_out_of_range_names_its_key_path() -> None:
    text = (
        "activity: {min_score: 0.5, margin: 0.5, title_min_ratio: 70}\n"
        "jielong: {sender_min_ratio: 80}\nheadcount: {max: 20}\n"
        "confidence: {jielong: 0.95, tagged: 2, strong: 0.9, weak: 0.7, none: 0.9}\n"
        "model: {min_probability: 0.5}\n"
    )
    with pytest.raises(LexiconError, match=r"thresholds.yaml: confidence\.tagged: "):
        load_file("thresholds.yaml", ThresholdsFile, text)


@pytest.mark.parametrize("text", ["停电了", "垃圾桶满了", "漏水了", "电表坏了", "水龙头关不上"])
def test_a_two_word_complaint_is_a_report(text: str) -> None:
    # few n-grams: the model's prior of none must not outweigh them (1/sqrt(n) scaling)
    assert _kind(text) is R


@pytest.mark.parametrize("text", ["好的", "收到", "停电了吗", "来电了"])
def test_short_chat_stays_silent(text: str) -> None:
    assert _kind(text) is N


@pytest.mark.parametrize(
    "text",
    [
        "3栋电梯坏了，有事打我电话13812345678",  # issue 11 item 6: was gate:ad:电话138
        "5栋楼顶漏水，家里天花板都湿了，联系电话13612345678",
        "楼道灯不亮了，我电话13912345678，物业来了打给我",
    ],
)
def test_a_contact_number_beside_a_problem_is_no_advert(text: str) -> None:
    got = parse(text, CTX)
    assert got.kind is R
    assert not any(step.startswith("gate:ad") for step in got.explain)


@pytest.mark.parametrize(
    "text",
    [
        "专业疏通下水道，电话13812345678",
        "卫生间漏水不用砸砖，电话13812345678",
        "防水补漏 13812345678",
        "空调不制冷上门维修 13812345678",
        "家电维修，电话13812345678",
        "有需要上门理发的老人可以联系我，社区老人半价，电话13905951234",
    ],
)
def test_a_service_offered_with_a_number_is_an_advert(text: str) -> None:
    assert _kind(text) is N


def test_a_polite_if_asks_and_is_no_hypothesis() -> None:
    # "要是有…的好心人，能不能帮我…" asks neighbours; "如果有人被困电梯，请拨打…" is a notice
    assert _kind("要是有懂电脑的邻居，能不能帮我装个打印机？") is W
    assert _kind("如果有人被困电梯，请拨打96333") is N


def test_a_plea_about_our_own_building_is_a_complaint_not_a_rule() -> None:
    assert _kind("希望电动车不要停在我们5栋门口") is R
    assert _kind("希望大家不要在楼道堆放杂物") is N


def test_inaction_is_a_cue() -> None:
    msg = normalise("停车乱的问题反映好几次了，物业根本不管", lexicon())
    assert any(t.rule == "inaction" for t in cues(msg, lexicon()))


def _model_words(text: str) -> set[str]:
    view = read_rules(text, CTX, lexicon())
    assert isinstance(view, RulesView)
    return {f for f in model_input(view) if not f.startswith(RULE_PREFIX)}


def test_the_model_reads_only_what_the_sender_states() -> None:
    # a condition or hearsay is the rules' step R:hypothetical, not words of a report
    supposed = _model_words("要是水管又爆了，记得先关总阀，阀门在楼梯间")
    assert "爆" not in supposed and "水管" not in supposed
    assert "阀门" in supposed
    assert "爆" in _model_words("水管又爆了，快来人关总阀")


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("门口新开的面馆味道很好，物业辛苦了", "praise"),
        ("有没有人知道快递驿站几点关门", "info"),
        ("楼道灯是声控的，我天天跺脚哈哈", "laughter"),
    ],
)
def test_the_mood_of_chat_is_a_cue(text: str, cue: str) -> None:
    assert cue in _cue_rules(text)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("花坛边的草坪修剪得很整齐", "pleased"),
        ("新换的单元门又干净又亮堂又好用", "pleased"),
        ("我就想问问，路口那个坑到底什么时候补？", "pressing"),
        ("想问一下，车棚的灯为什么一直没人修", "pressing"),
    ],
)
def test_pleasure_and_pressing_questions_are_cues(text: str, cue: str) -> None:
    assert cue in _cue_rules(text)


def test_a_question_that_presses_for_action_is_not_a_question_for_information() -> None:
    asked = "我就想问问，路口那个坑到底什么时候补？"
    assert "info" not in _cue_rules(asked)
    assert not any("gate:info-question" in e for e in parse(asked, CTX).explain)
    assert "info" in _cue_rules("想问问，社区食堂几点开门？")
    assert "pleased" not in _cue_rules("楼道灯不太方便，开关在最里面")

"""Activities: fuzzy naming, the only open one, null when several fit or none is named."""

import pytest

from intents.activities import match_activity
from intents.lexicon import lexicon

OPEN = ("11月28日共建日·扫一扫小区街巷", "社区青少年宫编程课", "周六亲子读书会", "冬至包饺子")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("编程课报名", "社区青少年宫编程课"),
        ("编成课帮我儿子报一个", "社区青少年宫编程课"),  # a typo
        ("读书会我去", "周六亲子读书会"),  # an abbreviation
        ("扫街算我一个", "11月28日共建日·扫一扫小区街巷"),
        ("28号我有空", "11月28日共建日·扫一扫小区街巷"),  # the day of the month
        ("包交子报名", "冬至包饺子"),
        ("+1", None),  # several open, no clue
        ("我参加", None),
    ],
)
def test_match_activity(text: str, title: str | None) -> None:
    assert match_activity(text, OPEN, lexicon()).title == title


def test_one_open_activity_and_no_clue_means_that_one() -> None:
    assert match_activity("报名", ("义务理发",), lexicon()).title == "义务理发"


def test_two_titles_that_fit_equally_give_null() -> None:
    both = ("11月28日共建日·扫一扫小区街巷", "11月28日共建日·帮一帮困难群众")
    assert match_activity("共建日我参加", both, lexicon()).title is None
    assert match_activity("共建日帮困难群众", both, lexicon()).title == both[1]


def test_no_open_activity() -> None:
    assert match_activity("报名", (), lexicon()).title is None

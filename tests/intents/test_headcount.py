"""Headcounts: the sender counts; others signed up by proxy do not add the sender."""

import pytest

from intents.headcount import count_people
from intents.lexicon import lexicon


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("我参加", 1),
        ("算我一个", 1),
        ("我和老伴都去", 2),
        ("我跟女儿", 2),
        ("带两个孩子", 3),
        ("带儿子", 2),
        ("带老公和孩子", 3),
        ("一家三口", 3),
        ("我们一家四口都来，带个拿手菜", 4),
        ("两个人", 2),
        ("三口人都报上", 3),
        ("算我们家三个人，我、老伴还有我妈", 3),
        ("算我一个，还有我闺女", 2),
        ("我孙子也去", 2),
        ("我们俩", 2),
        ("2大1小", 3),
        ("两个大人一个小孩", 3),
        ("+2", 2),
        ("+1", 1),
        ("帮我奶奶报个名", 1),
        ("给我家女儿报个名，9岁", 1),  # an age is not a count
        ("28号我有空", 1),  # a date is not a count
        ("孩子1人", 1),
        ("两个娃", 2),
    ],
)
def test_count_people(text: str, count: int) -> None:
    assert count_people(text, lexicon())[0] == count

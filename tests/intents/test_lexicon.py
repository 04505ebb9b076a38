"""The lexicons load once, and each list stays quick to search."""

import re
import re._parser as sre_parse  # the parser behind re: which branches begin with a character
from re._constants import BRANCH, LITERAL

import pytest

from intents.lexicon import _literal_first, category_of, lexicon
from intents.model import Category


def test_loaded_once() -> None:
    assert lexicon() is lexicon()


def test_leading_groups_and_classes_are_spelled_out() -> None:
    assert _literal_first("(已经|已)(修|换)") == ["已经(修|换)", "已(修|换)"]
    assert _literal_first("(就|先)?不去了") == ["就不去了", "先不去了", "不去了"]
    assert _literal_first("[合关]不拢") == ["合不拢", "关不拢"]
    assert _literal_first("(了)*x") == ["(了)*x"]  # a repeated group stays as it is


@pytest.mark.parametrize(
    "name",
    [
        "faults",
        "problem_nouns",
        "problem_phrases",
        "urgent",
        "resolved",
        "not_join",
        "join_weak",
        "join_strong",
        "leave",
        "notice_phrases",
        "any_aside",
        "ad_phrases",
    ],
)
def test_big_lists_begin_every_branch_with_a_character(name: str) -> None:
    # re scans quickly for the first character only when every branch begins with one; an entry
    # such as ".{0,3}坏" would make the whole list many times slower to search
    pattern: re.Pattern[str] = getattr(lexicon(), name)
    first_op, arg = sre_parse.parse(pattern.pattern).data[0]
    if first_op is BRANCH:
        slow = [b for b in arg[1] if not b.data or b.data[0][0] is not LITERAL]
        assert not slow, f"{name}: branches that do not begin with a character: {slow}"
    else:
        assert first_op is LITERAL


def test_category_of_a_matched_word() -> None:
    lex = lexicon()
    assert category_of("电梯", lex.noun_categories) is Category.LIFT
    assert category_of("楼道灯", lex.noun_categories) is Category.LIGHTING
    assert category_of("停电", lex.phrase_categories) is Category.POWER

"""Private commands: 接单 12, 办结 #12 已修好, 认领 W3, 评价 12 5, 满意 ..."""

from __future__ import annotations

import re
import unicodedata

from intents.model import Command, CommandName

_RATINGS = {"满意": 5, "非常满意": 5, "基本满意": 3, "一般": 3, "不满意": 1}

# verb → (command, whether a number is required)
_VERBS: dict[str, tuple[CommandName, bool]] = {
    "接单": (CommandName.ACCEPT, True),
    "办结": (CommandName.RESOLVE, True),
    "转": (CommandName.TRANSFER, True),
    "转派": (CommandName.TRANSFER, True),
    "退回": (CommandName.RETURN, True),
    "评价": (CommandName.RATE, True),
    "认领": (CommandName.CLAIM, True),
    "完成": (CommandName.COMPLETE_WISH, True),
    "督办": (CommandName.NUDGE, True),
    "派": (CommandName.DISPATCH, True),
    "待办": (CommandName.TODO, False),
    "帮助": (CommandName.HELP, False),
    "help": (CommandName.HELP, False),
    "?": (CommandName.HELP, False),
    "心愿": (CommandName.LIST_WISHES, False),
    "发布活动": (CommandName.PUBLISH_ACTIVITY, False),
    "名单": (CommandName.ROSTER, False),
}
_VERB_RE = re.compile(
    r"^(?P<verb>" + "|".join(sorted(map(re.escape, _VERBS), key=len, reverse=True)) + r")"
    r"\s*(?:[#＃]|[Ww]\s*)?(?P<num>\d+)?\s*(?P<rest>.*)$",
    re.S,
)


def normalise_command_text(text: str) -> str:
    """Fold full-width forms to half-width and trim spaces."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_command(text: str) -> Command | None:
    """Parse a private message into a Command, or None if it is not one."""
    t = normalise_command_text(text)
    if not t:
        return None
    bare = t.rstrip("。.!！~ ")
    if bare in _RATINGS:
        return Command(CommandName.RATE, score=_RATINGS[bare])
    m = _VERB_RE.match(t)
    if m is None:
        return None
    name, needs_number = _VERBS[m["verb"]]
    num = int(m["num"]) if m["num"] else None
    rest = m["rest"].strip()
    if needs_number and num is None:
        return None
    if not needs_number and m["num"] is not None:
        rest = (m["num"] + " " + rest).strip()
    if name is CommandName.RATE:
        score_m = re.match(r"^(\d)\s*(?:分|星)?$", rest)
        if score_m is None:
            return None
        score = int(score_m[1])
        return Command(name, number=num, score=score) if 1 <= score <= 5 else None
    if name in (CommandName.TODO, CommandName.HELP, CommandName.LIST_WISHES) and rest:
        return None
    return Command(name, number=num, arg=rest)

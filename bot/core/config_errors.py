"""Config problems in Chinese: pydantic's English errors, told to the people who run the bot.

The people who edit config.yaml are community workers who read Chinese; pydantic speaks English.
Each error type gets a sentence saying what is wrong and, where it helps, what to write; key
names and the values found are shown as they are in the file. An error type not known here
keeps pydantic's own words after a Chinese lead-in, so nothing is lost.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

_SHOWN_CHARS = 40


def shown(value: object) -> str:
    """A value as the person wrote it in YAML, short enough for one line."""
    if isinstance(value, dict):
        return "一组“键: 值”"
    if isinstance(value, list):
        return "一个列表"
    if value is None:
        return "空值（null）"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 2] + '…"'
    return str(value)[:_SHOWN_CHARS]


def _now(err: Mapping[str, Any]) -> str:
    if "input" not in err:
        return ""
    value = err.get("input")
    space = "" if isinstance(value, dict | list) or value is None else " "
    return f"，现在写的是{space}{shown(value)}"


def _ctx(err: Mapping[str, Any], key: str) -> Any:
    ctx = err.get("ctx") or {}
    return ctx.get(key)


def _choices(expected: object) -> str:
    # pydantic writes "'web', 'console' or 'wechaty'"
    words: list[str] = re.findall(r"'([^']*)'", str(expected))
    if not words:
        return str(expected)
    return "、".join(words[:-1]) + " 或 " + words[-1] if len(words) > 1 else words[0]


def suggestion(key: str, allowed: Sequence[str]) -> str:
    """What to say about an unknown key: the near miss, else the keys that may be written."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"，是不是要写 {close[0]}？"
    if allowed and len(allowed) <= 12:
        return f"，请检查拼写（这里可写：{'、'.join(allowed)}）"
    return "，请检查拼写"


# One sentence per error type; each gets the error and returns what is wrong and what to do.
_SAYS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda e: "缺少这一项，这里必须填写",
    "int_parsing": lambda e: "应当是整数" + _now(e),
    "int_type": lambda e: "应当是整数" + _now(e),
    "int_from_float": lambda e: "应当是整数，不能带小数" + _now(e),
    "float_parsing": lambda e: "应当是数字" + _now(e),
    "float_type": lambda e: "应当是数字" + _now(e),
    "bool_parsing": lambda e: "应当是 true 或 false" + _now(e),
    "bool_type": lambda e: "应当是 true 或 false" + _now(e),
    "string_type": lambda e: "应当是一段文字" + _now(e),
    "list_type": lambda e: "应当是列表（每项一行，以“- ”开头）" + _now(e),
    "dict_type": lambda e: "应当是一组“键: 值”" + _now(e),
    "model_type": lambda e: "应当是一组“键: 值”" + _now(e),
    "model_attributes_type": lambda e: "应当是一组“键: 值”" + _now(e),
    "literal_error": lambda e: f"只能是 {_choices(_ctx(e, 'expected'))}" + _now(e),
    "greater_than": lambda e: f"应当大于 {_ctx(e, 'gt')}" + _now(e),
    "greater_than_equal": lambda e: f"应当不小于 {_ctx(e, 'ge')}" + _now(e),
    "less_than": lambda e: f"应当小于 {_ctx(e, 'lt')}" + _now(e),
    "less_than_equal": lambda e: f"应当不大于 {_ctx(e, 'le')}" + _now(e),
    "string_too_short": lambda e: (
        "不能为空"
        if _ctx(e, "min_length") == 1
        else f"至少要 {_ctx(e, 'min_length')} 个字" + _now(e)
    ),
    "string_too_long": lambda e: f"最多 {_ctx(e, 'max_length')} 个字" + _now(e),
    "too_short": lambda e: f"至少要有 {_ctx(e, 'min_length')} 项",
    "too_long": lambda e: f"最多只能有 {_ctx(e, 'max_length')} 项",
    "string_pattern_mismatch": lambda e: f"格式不对（应符合 {_ctx(e, 'pattern')}）" + _now(e),
    "datetime_parsing": lambda e: "应当是日期和时间，如 2026-12-21T15:00" + _now(e),
    "datetime_from_date_parsing": lambda e: "应当是日期和时间，如 2026-12-21T15:00" + _now(e),
    "datetime_type": lambda e: "应当是日期和时间，如 2026-12-21T15:00" + _now(e),
    "none_required": lambda e: "这里不能写值" + _now(e),
}


def describe(err: Mapping[str, Any], allowed_keys: Sequence[str] = ()) -> str:
    """One pydantic error in Chinese; `allowed_keys`: the keys of the mapping it sits in."""
    kind = str(err.get("type", ""))
    if kind == "extra_forbidden":
        loc = err.get("loc") or ()
        return "没有这个配置项" + suggestion(str(loc[-1]) if loc else "", allowed_keys)
    if kind in ("value_error", "assertion_error"):
        # our own validators speak Chinese already
        return (
            str(err.get("msg", ""))
            .removeprefix("Value error, ")
            .removeprefix("Assertion failed, ")
        )
    say = _SAYS.get(kind)
    if say is not None:
        return say(err)
    msg = str(err.get("msg", ""))
    if re.search(r"[\u4e00-\u9fff]", msg):
        return msg + _now(err)  # a custom error type of ours (transport.kind), said already
    return f"取值不对（{err.get('msg', kind)}）" + _now(err)


_READ_ERRORS = {
    2: "文件不存在，请检查文件名和所在的文件夹",
    13: "没有读取这个文件的权限",
    21: "这是一个文件夹，不是配置文件",
}


def unreadable(errno: int | None, strerror: str | None) -> str:
    """Why a config file cannot be read, from the OSError."""
    return "读不了这个文件：" + _READ_ERRORS.get(errno or 0, strerror or "原因不明")


def not_utf8(line: int, byte: int) -> str:
    """A file that is not UTF-8 (often GBK, as Windows Notepad saved it); `byte` counts from 0."""
    return f"第 {line} 行不是 UTF-8 编码（文件的第 {byte + 1} 个字节）；请把文件另存为 UTF-8"


def yaml_syntax(error: yaml.YAMLError) -> str:
    """A YAML syntax error: where, in Chinese what to check, and PyYAML's own words."""
    mark = getattr(error, "problem_mark", None)
    where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "某处"
    problem = getattr(error, "problem", None) or str(error)
    return (
        f"YAML 格式有误，在{where}（{problem}）；"
        "请检查那里的缩进、冒号后的空格、引号和括号是否成对"
    )


def yaml_value(line: int | None, error: Exception) -> str:
    """A scalar that YAML reads as a date or number it cannot build (2026-13-45)."""
    where = f"第 {line} 行的值" if line else "有一个值"
    return f"YAML 读不了{where}（{error}）；日期请写成 2026-12-21 这样，或给它加上引号"


def duplicate_key(key: object, line: int, first: int) -> str:
    """A key given twice in one mapping (PyYAML would let the second silently win)."""
    return f"第 {line} 行又写了一次 {key}（第 {first} 行已经有了），请只保留一处"

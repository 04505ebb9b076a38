"""A newcomer meets sentences, not tracebacks: each mistake of issue 11 ends in one clear message
(which file, key or database, what is wrong, what to do) and exit code 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.yaml"


def jinlin(
    *args: str,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    stdin: str | bytes | None = None,
    pre: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a new process (`pre`: Python run first, e.g. to hide a module)."""
    base = {k: v for k, v in os.environ.items() if k not in ("JINLIN_CONFIG",)}
    code = f"{pre}\nimport sys\nfrom bot.cli import main\nsys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def failed(done: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a run that ended as a mistake should: exit 2, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stderr


def example(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


# --- 13: the config file -----------------------------------------------------------------------


def test_duplicate_keys_name_the_file_line_and_key(tmp_path: Path) -> None:
    text = EXAMPLE.read_text("utf-8")
    path = tmp_path / "dup.yaml"
    # a second top-level bot: and a second id in one person
    text = text.replace(
        "{id: wxid_wang, name: 王姐}", "{id: wxid_wang, name: 王姐, id: wxid_other}"
    )
    path.write_text(text + "bot:\n  name: 另一个\n", "utf-8")
    err = failed(jinlin("check-config", str(path)))
    lines = len(text.splitlines())
    assert f"{path}: bot：第 {lines + 1} 行又写了一次 bot（第 2 行已经有了），请只保留一处" in err
    assert f"{path}: grid[0].compounds[0].buildings[0].head.id：第 " in err
    assert "又写了一次 id" in err


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        (
            {"resolve": "99999999999d"},
            'sla.resolve：时长 "99999999999d" 太长了（请不要超过 10 年）',
        ),
        ({"accept": "0s"}, "sla.accept：必须大于 0（如 10m、2h、3d）"),
        ({"accept_urgent": "-5m"}, "sla.accept_urgent：应当是时长，如 10m、2h、3d"),
    ],
)
def test_bad_durations_are_sentences(tmp_path: Path, sla: dict[str, str], message: str) -> None:
    err = failed(jinlin("check-config", str(write(tmp_path, example(sla=sla)))))
    assert message in err


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("bot:\n  name: 小邻\n".encode("gbk"))
    err = failed(jinlin("check-config", str(path)))
    assert f"{path}: 第 2 行不是 UTF-8 编码（文件的第 16 个字节）；请把文件另存为 UTF-8" in err


def test_empty_file_and_empty_grid_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", "utf-8")
    assert f"{empty}: 文件是空的" in failed(jinlin("check-config", str(empty)))
    no_grid = write(tmp_path, example(grid=[], activities=[]))
    for args in (["check-config", str(no_grid)], ["run", "--config", str(no_grid)]):
        assert f"{no_grid}: grid：没有列出任何社区" in failed(jinlin(*args))


def test_unknown_key_gets_a_suggestion(tmp_path: Path) -> None:
    data = example()
    data["bot"]["quiet_hour"] = data["bot"].pop("quiet_hours")
    data["grid"][0]["compounds"][0]["secretery"] = data["grid"][0]["compounds"][0].pop("secretary")
    err = failed(jinlin("check-config", str(write(tmp_path, data))))
    assert "bot.quiet_hour：没有这个配置项，是不是要写 quiet_hours？（第 " in err
    assert "grid[0].compounds[0].secretery：没有这个配置项，是不是要写 secretary？" in err


# --- 14: --config is never silently the example -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["run"], ["console"], ["outbox"], ["db", "upgrade"], ["replay", "-"]],
)
def test_config_is_required(tmp_path: Path, args: list[str]) -> None:
    # run from a folder holding an example config: it must still not be picked up
    (tmp_path / "config.example.yaml").write_text(EXAMPLE.read_text("utf-8"), "utf-8")
    err = failed(jinlin(*args, cwd=tmp_path))
    assert "--config" in err and "JINLIN_CONFIG" in err


def test_jinlin_config_variable_names_the_file(tmp_path: Path) -> None:
    broken = write(tmp_path, example(sla={"accept": "0s"}))
    err = failed(jinlin("outbox", env={"JINLIN_CONFIG": str(broken)}))
    assert f"{broken}: sla.accept" in err


def test_every_option_has_help() -> None:
    from bot.cli import build_parser

    def walk(parser: Any, path: str) -> list[str]:
        missing = []
        for action in parser._actions:
            if action.dest != "help" and not action.help and action.option_strings:
                missing.append(f"{path} {action.option_strings[0]}")
            if action.choices and hasattr(action, "_name_parser_map"):
                for name, sub in action._name_parser_map.items():
                    missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(build_parser(), "jinlin") == []


def test_parse_help_states_the_input_format() -> None:
    done = jinlin("parse", "--help")
    assert done.returncode == 0
    assert "plain text" in done.stdout and "JSON" in done.stdout and "text" in done.stdout


# --- 10: the database cannot be reached -----------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_postgresql_says_which_and_what_to_check(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql+asyncpg://jinlin:s3cret@127.0.0.1:{port}/jinlin"
    data = example(storage={"url": url})
    data["transport"]["port"] = 0
    config = write(tmp_path, data)
    for args in (["db", "upgrade", "--config", str(config)], ["run", "--config", str(config)]):
        err = failed(jinlin(*args))
        assert f"无法连接数据库 postgresql+asyncpg://jinlin:***@127.0.0.1:{port}/jinlin" in err
        assert "拒绝连接" in err and "storage.url" in err
        assert "s3cret" not in err
        assert "transport.port" not in err  # the web port is not to blame


def test_sqlite_in_a_missing_folder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'j.db'}"
    err = failed(jinlin("db", "upgrade", "--db", url))
    assert f"无法连接数据库 {url}：打不开 SQLite 文件" in err
    assert f"文件夹 {tmp_path / 'no' / 'such'} 不存在" in err


def test_port_in_use_is_blamed_on_the_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data = example(storage={"url": f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"})
        data["transport"]["port"] = port
        err = failed(jinlin("run", "--config", str(write(tmp_path, data))))
    assert f"无法在 127.0.0.1:{port} 上监听" in err
    assert "transport.port" in err


# --- 11: WeChat without a token or without the extra ----------------------------------------


def wechaty_config(tmp_path: Path) -> Path:
    data = example(storage={"url": f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"})
    data["transport"] = {"kind": "wechaty", "endpoint": "127.0.0.1:1", "port": 0}
    return write(tmp_path, data)


def test_wechaty_without_a_token(tmp_path: Path) -> None:
    config = wechaty_config(tmp_path)
    no_token = {"JINLIN_WECHATY_TOKEN": ""}
    for args in (["check-config", str(config)], ["run", "--config", str(config)]):
        err = failed(jinlin(*args, env=no_token))
        assert f"{config}: transport.token：没有设置网关的 token" in err
        assert "JINLIN_WECHATY_TOKEN" in err


def test_missing_wechat_extra_names_the_pip_command(tmp_path: Path) -> None:
    config = wechaty_config(tmp_path)
    # as in a venv made by the README's first command: no wechaty packages
    hide = "import sys\nfor m in ('wechaty', 'wechaty_puppet', 'wechaty_puppet_service'):\n"
    hide += "    sys.modules[m] = None\n"
    for args in (["check-config", str(config)], ["run", "--config", str(config)]):
        err = failed(jinlin(*args, env={"JINLIN_WECHATY_TOKEN": "t"}, pre=hide))
        assert "pip install -e '.[wechat]'" in err
        assert "wechaty_puppet" in err


# --- 12: jinlin parse reads plain text too, and goes on past a bad line ------------------------


def test_parse_reads_plain_text_and_reports_bad_lines() -> None:
    stdin = b"\n".join(
        [
            "3栋电梯坏了".encode(),
            b"[1, 2]",
            b'"a string"',
            b'{"text": 5}',
            b'{"text": null}',
            b'{"sender": "x"}',
            "\ufeff坏了".encode("gbk", "replace")[:1] + b"\xff\xfe",
            b"{not json",
            b"",
            '{"text": "早上好", "sender": "Tony", "room": "业主群"}'.encode(),
        ]
    )
    done = jinlin("parse", stdin=stdin + b"\n")
    err = failed(done)
    out = [line for line in done.stdout.splitlines() if line]
    assert len(out) == 2  # the two good lines, in order
    assert '"intent": "report_problem"' in out[0] and '"building": "3"' in out[0]
    assert '"intent": "none"' in out[1]
    assert err.splitlines() == [
        '2: 应当是 JSON 对象 {"text": ...}，现在是数组 [...]',
        '3: 应当是 JSON 对象 {"text": ...}，现在是字符串',
        '4: "text" 应当是字符串，现在是数字',
        '5: "text" 应当是字符串，现在是空值 null',
        '6: 缺少 "text"（消息的文字）',
        "7: 不是 UTF-8 编码（这一行的第 2 个字节）；请把输入另存为 UTF-8",
        "8: 不是有效的 JSON（第 2 个字符处：键名要用双引号括起来）",
        "有 7 行读不了，已跳过（其余各行照常输出）",
    ]


def test_parse_of_good_input_exits_0() -> None:
    done = jinlin("parse", stdin="电梯坏了\n" + '{"text": "5栋停水了", "sender": "王"}\n')
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and len(done.stdout.splitlines()) == 2


# --- 17: eval on a file of one intent -----------------------------------------------------------


def test_eval_of_an_all_none_file(tmp_path: Path) -> None:
    path = tmp_path / "none.jsonl"
    path.write_text(
        '{"text": "早上好", "expect": {"intent": "none"}}\n'
        '{"text": "今天天气不错", "expect": {"intent": "none"}}\n',
        "utf-8",
    )
    done = jinlin("eval", str(path))
    assert done.returncode == 0, done.stderr
    assert "intent accuracy 1.00  macro-F1 - (every line is labeled none)" in done.stdout
    assert "confusion matrix (rows: labeled intent, columns: parsed intent)" in done.stdout
    assert "labeled \\ parsed" in done.stdout


def test_eval_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "早上好", "expect": {"intent": "none"}}\n[1]\n', "utf-8")
    err = failed(jinlin("eval", str(path)))
    assert f"jinlin eval：{path}:2: 应当是 JSON 对象" in err


# --- 16: bench parse from any folder ------------------------------------------------------------


def test_bench_parse_from_another_folder(tmp_path: Path) -> None:
    done = jinlin("bench", "parse", "--repeat", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "messages/s" in done.stdout


def test_tests_do_not_need_the_shared_folder() -> None:
    # A clone alone passes its tests: nothing under tests/ builds a path to ../shared.
    import re

    reach = re.compile(r"""["']\.\./shared|/\s*["']shared["']""")
    for path in (REPO / "tests").rglob("*.py"):
        if path.name != "test_cli_errors.py":
            assert not reach.search(path.read_text("utf-8")), path


# --- 12: jinlin replay checks every field ------------------------------------------------------


def test_replay_names_each_bad_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    good = '{"at": "2026-11-25T09:00", "room": "武夷香榭3栋业主群", "sender": "w", "text": "早"}'
    events.write_bytes(
        b"\n".join(
            [
                good.encode(),
                b'{"at": "2026-11-25T09:01", "room": "r", "sender": {"id": 1}, "text": "x"}',
                b'{"at": "2026-11-25T09:02", "sender": 42, "text": "x"}',
                b'{"at": "9999-12-31T23:59", "sender": "w", "text": "x"}',
                b'{"at": "2026-13-01T00:00"}',
                '{"at": "2026-11-25T09:03", "sender": "w", "text": "\xff"}'.encode("latin-1"),
                b'{"at": "2026-11-25T09:04", "sender": "w", "text": ["x"]}',
                b'"just a string"',
            ]
        )
        + b"\n"
    )
    done = jinlin("replay", "--config", str(EXAMPLE), str(events))
    err = failed(done)
    assert done.stdout == ""  # nothing runs until the file is right
    assert err.splitlines() == [
        f'{events}:2: "sender" 应当是微信号（不为空的字符串），现在是对象 {{...}}',
        f'{events}:3: "sender" 应当是微信号（不为空的字符串），现在是数字',
        f'{events}:4: "at"：9999 年超出范围（只能是 2000-2100 年）',
        f'{events}:5: "at"：\'2026-13-01T00:00\' 不是 ISO 时间，应当像 "2026-11-25T09:00"',
        f"{events}:6: 不是 UTF-8 编码（这一行的第 52 个字节）；请把文件另存为 UTF-8",
        f'{events}:7: "text" 应当是字符串，现在是数组 [...]',
        f"{events}:8: 每行应当是一个 JSON 对象 {{...}}，现在是字符串",
    ]


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages of a database\n" * 200)
    err = failed(jinlin("db", "upgrade", "--db", f"sqlite+aiosqlite:///{path}"))
    assert f"{path} 不是 SQLite 数据库文件" in err


# --- everything the people who run the bot read is Chinese --------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "jinlin：缺少参数：command（jinlin --help 查看用法）"),
        (["eval", "--errors", "x"], "jinlin eval：参数 --errors 应当是整数，现在是 'x'"),
        (["export", "signups"], "jinlin export signups：缺少参数：--activity"),
        (["outbox", "--config", "c.yaml", "extra"], "jinlin：不认识这些参数：extra"),
        (["bench", "nope"], "jinlin bench：参数 what 没有 'nope' 这一项（可选："),
        (["run", "--config"], "jinlin run：参数 --config 后面要写一个值"),
    ],
)
def test_usage_errors_are_chinese(args: list[str], said: str) -> None:
    err = failed(jinlin(*args))
    assert said in err
    assert "--help 查看用法" in err


def test_check_config_ok_line_and_summary_are_chinese() -> None:
    done = jinlin("check-config", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"{EXAMPLE}: 配置没有问题，可以用 jinlin run --config {EXAMPLE} 启动\n社区：1 个\n"
    )
    assert "楼栋：" in done.stdout and "栋有楼栋长" in done.stdout


def test_db_upgrade_outbox_and_export_speak_chinese(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"
    done = jinlin("db", "upgrade", "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{url}：数据库结构已是最新（版本 ")
    done = jinlin("outbox", "--config", str(EXAMPLE), "--db", url)
    assert (done.returncode, done.stdout) == (0, "发件箱：没有待发或发送失败的消息\n"), done.stderr
    args = ("export", "signups", "--activity", "没有的活动", "--config", str(EXAMPLE), "--db", url)
    err = failed(jinlin(*args))
    assert f"{url} 里没有活动 '没有的活动'：请写活动的编号或完整的名称" in err


def test_outbox_lines_are_chinese() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from bot.cli import outbox_line

    at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    row = SimpleNamespace(
        id=7, to_room="武夷香榭3栋业主群", to_person=None, text="收到，已登记 #2",
        status="sent", sent_at=at, created_at=at, not_before=at, attempts=3, last_error=None,
    )  # fmt: skip
    tz = ZoneInfo("Asia/Shanghai")
    sent = "     7 已发 2026-12-01 09:00 +0800 发出（试了 3 次）"
    sent += "  群 武夷香榭3栋业主群：收到，已登记 #2"
    assert outbox_line(row, tz) == sent
    row.status, row.to_room, row.to_person, row.last_error = "failed", None, "wxid_wang", "boom"
    assert outbox_line(row, tz) == (
        "     7 失败 2026-12-01 09:00 +0800 起发（已试 3 次）  私聊 wxid_wang：收到，已登记 #2"
        "  错误：boom"
    )


def test_replay_of_a_missing_file_and_a_short_password(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    err = failed(jinlin("replay", "--config", str(EXAMPLE), str(missing)))
    assert f"{missing}: 读不了这个文件：文件不存在" in err
    assert "密码太短：至少要 8 个字符" in failed(jinlin("web", "hash-password", stdin="short\n"))


@pytest.mark.parametrize(
    "args",
    [
        ["rooms"],
        ["export", "signups", "--activity", "1"],
        ["web", "login-token"],
        ["web", "logout-all"],
    ],
)
def test_helpers_on_an_unreachable_database_say_which(args: list[str]) -> None:
    url = f"postgresql+asyncpg://jinlin:s3cret@127.0.0.1:{closed_port()}/jinlin"
    err = failed(jinlin(*args, "--config", str(EXAMPLE), "--db", url))
    assert "无法连接数据库 postgresql+asyncpg://jinlin:***@127.0.0.1:" in err
    assert "s3cret" not in err

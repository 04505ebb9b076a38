"""`jinlin parse` and `jinlin bench parse`: the contracts of DESIGN.md."""

import io
import json
from pathlib import Path

import pytest

from bot.cli import main


def test_parse_reads_jsonl_and_writes_one_object_per_line_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"text": "3栋电梯困人了！", "sender": "Tony", "room": "业主群", "activities": []},
        {"text": "早上好", "sender": "Tony", "room": "业主群", "activities": [], "extra": 1},
        {"text": "理发算我和老伴", "sender": "李", "room": "5栋", "activities": ["义务理发"]},
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["parse"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["intent"] for o in out] == ["report_problem", "none", "join_activity"]
    for o in out:
        assert {"intent", "building", "urgent", "activity", "headcount", "explain"} <= o.keys()
    assert out[0]["building"] == "3" and out[0]["urgent"] is True
    assert out[2]["activity"] == "义务理发" and out[2]["headcount"] == 2


def test_bench_parse_prints_its_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "msgs.jsonl"
    path.write_text(
        json.dumps({"text": "电梯坏了", "sender": "", "room": "", "activities": []}) + "\n",
        encoding="utf-8",
    )
    assert main(["bench", "parse", "--file", str(path), "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert "messages/s" in out and "p99" in out and "first parse" in out

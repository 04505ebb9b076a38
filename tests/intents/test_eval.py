"""Ratchets: the parser may not fall below the figures it has reached."""

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.parse_tools import score

REPO = Path(__file__).parents[2]
DEV = REPO / ".." / "shared" / "corpus" / "dev.jsonl"
HERE = Path(__file__).parent
HARD_CASES = sorted(HERE.glob("hard_cases*.jsonl"))


def _figures(out: str) -> dict[str, float]:
    """Read the closing lines of `jinlin eval` into numbers."""
    last = out.strip().splitlines()[-3:]
    figures = {"accuracy": float(re.search(r"intent accuracy ([\d.]+)", last[0])[1])}  # type: ignore[index]
    figures["false_triggers"] = float(re.search(r"false triggers ([\d.]+)%", last[1])[1]) / 100  # type: ignore[index]
    for name, value in re.findall(r"(\w+) ([\d.]+)", last[2]):
        figures[name] = float(value)
    return figures


def test_eval_on_the_dev_corpus_keeps_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert DEV.exists(), f"the dev corpus belongs beside the repository: {DEV}"
    assert main(["eval", str(DEV)]) == 0
    figures = _figures(capsys.readouterr().out)
    assert figures["accuracy"] >= 0.99
    assert figures["false_triggers"] <= 0.01
    for entity in ("building", "urgent", "activity", "headcount"):
        assert figures[entity] >= 0.99, entity


@pytest.mark.parametrize("path", HARD_CASES, ids=lambda p: p.name)
def test_hard_cases_written_apart_from_the_corpus(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    s = score(rows)
    wrong = [(row["id"], row["text"], got["intent"], bad) for row, got, bad in s.errors]
    assert s.accuracy >= 0.98, wrong
    assert s.false_trigger_rate <= 0.03, wrong
    for entity in ("building", "urgent", "activity", "headcount"):
        value = s.entity(entity)
        assert value is None or value >= 0.95, (entity, wrong)


def test_eval_prints_errors_and_ends_with_the_key_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {
            "id": "t-1",
            "room": "业主群",
            "sender": "3-1-101 李",
            "text": "电梯坏了",
            "activities": [],
            "expect": {"intent": "report_problem", "building": "3", "urgent": False},
        },
        {
            "id": "t-2",
            "room": "业主群",
            "sender": "Tony",
            "text": "早上好",
            "activities": [],
            "expect": {"intent": "none"},
        },
        {
            "id": "t-3",
            "room": "业主群",
            "sender": "Tony",
            "text": "早上好",
            "activities": [],
            "expect": {"intent": "micro_wish", "building": None},
        },
    ]
    path = tmp_path / "labeled.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["eval", str(path), "--errors", "5"]) == 0
    out = capsys.readouterr().out
    assert "t-3" in out
    lines = out.strip().splitlines()
    assert lines[-3] == "intent accuracy 0.67  macro-F1 0.56"  # wish F1 0, none 0.67, report 1
    assert lines[-2] == "false triggers 0.0% (0/1)  missed requests 1"
    assert lines[-1] == "building 1.00  urgent 1.00  activity -  headcount -"


def test_eval_of_a_missing_file_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no/such/file.jsonl"]) == 2

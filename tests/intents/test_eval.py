"""Ratchets: the parser may not fall below the figures it has reached on data in the repo.

Figures that need ../shared (the corpus, pool.jsonl, chitchat.jsonl) are printed by
`jinlin eval FILE --by ...` and `jinlin eval --cross-source`; they are reported in the README.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.parse_tools import Scores, reading_with, score
from intents.learning import cross_source, featurise, load_examples, training_files

REPO = Path(__file__).parents[2]
HERE = Path(__file__).parent
HARD_CASES = sorted(HERE.glob("hard_cases*.jsonl"))
# Real residents' texts from sources the shipped model was not trained on (SOURCES.md).
CHECK = REPO / "intents" / "training" / "real" / "check.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_held_out_real_texts_keep_their_figures() -> None:
    s = score(_rows(CHECK))
    wrong = [(row["id"], row["text"], got["intent"]) for row, got, _ in s.errors]
    # rules and cues were revised after reading this set's misses (SOURCES.md): these figures
    # are a ratchet, the cross-source ones below the honest estimate
    assert s.accuracy >= 0.95, wrong
    assert s.false_trigger_rate <= 0.05, wrong
    assert (s.missed_rate or 0) <= 0.05, wrong
    assert (s.wish_recall or 0) >= 0.94, wrong
    assert (s.precision or 0) >= 0.96, wrong


# Leave-one-source-out on the repository's own data (no ../shared: far fewer chat and news
# lines to learn silence from, hence the low floors of team-hard): each source is read by a
# model fitted on the others. Floors a little under the figures reached; raise them as they rise.
CROSS_SOURCE_FLOORS = {
    # source: (accuracy at least, false triggers at most, missed at most)
    "real-board": (0.86, None, 0.13),
    # the third batch's headlines and replies are harder than the first two's (README)
    "real-news": (0.74, 0.26, None),
    "real-reply": (0.87, 0.12, None),
    "real-wish": (0.88, None, 0.11),
    # Without ../shared the only silence to learn from is the real news and replies: the team's
    # chat, held out, reads 0.921 with 19.9% false (0.907 / 22.8% before issue 10's fourth pass,
    # 0.92 / 17% before the third). With ../shared: see the README's cross-source table.
    "team-hard": (0.91, 0.21, 0.01),
    "team-written": (0.89, 0.04, 0.14),
}


def test_cross_source_figures_on_the_repositorys_data() -> None:
    samples = featurise(load_examples(training_files(None)))
    table: dict[str, Scores] = {
        name: score(rows, reading_with(model)) for name, rows, model in cross_source(samples)
    }
    assert table.keys() == CROSS_SOURCE_FLOORS.keys()
    for name, (acc, false, missed) in CROSS_SOURCE_FLOORS.items():
        s = table[name]
        assert s.accuracy >= acc, (name, s.accuracy)
        assert false is None or s.false_trigger_rate <= false, (name, s.false_trigger_rate)
        assert missed is None or (s.missed_rate or 0) <= missed, (name, s.missed_rate)


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
    assert lines[-4] == "precision at the threshold 0.50: 1.00 (1 acted on)"
    assert lines[-3] == "intent accuracy 0.67  macro-F1 0.56"  # wish F1 0, none 0.67, report 1
    assert lines[-2] == "false triggers 0.0% (0/1)  missed requests 1"
    assert lines[-1] == "building 1.00  urgent 1.00  activity -  headcount -"


def test_eval_by_group_prints_a_line_per_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(CHECK), "--by", "group"]) == 0
    out = capsys.readouterr().out
    for group in ("real-board", "real-news", "real-reply", "real-wish"):
        assert f"  {group} " in out


def test_eval_of_a_missing_file_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no/such/file.jsonl"]) == 2

"""Fitting the text model: labeled examples from every source, grouped by where they come from.

Used by `jinlin train` and the cross-source mode of `jinlin eval`; never by the running bot.
scikit-learn and scipy are needed here only (the `train` extra).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from intents.lexicon import lexicon
from intents.model import Intent, IntentKind, ParseContext
from intents.parser import model_input, read_rules
from intents.textmodel import RULE_PREFIX, TextModel

CLASSES = (IntentKind.NONE, IntentKind.REPORT_PROBLEM, IntentKind.MICRO_WISH)
# How much one example of a group counts. Real residents' wording is scarce and is what the
# model must learn to generalise to; news and chat are plentiful.
GROUP_WEIGHTS: dict[str, float] = {
    "team-hard": 1.0,
    "team-written": 2.0,
    "corpus-dev": 1.0,
    "real-board": 3.0,
    "real-reply": 3.0,
    "real-news": 3.0,
    "real-wish": 3.0,
}
DEFAULT_WEIGHT = 0.5  # pool and chitchat groups
# The rules' features enter the fit at this value, not 1: the same penalty then costs them less
# than the n-grams. At 1, the n-grams of the training lines learnt them by heart and took the
# weight from "a neighbour is asked for help" (R:wish:ask), so that wishes and chat in new words,
# held out, were read by their n-grams alone (team hard cases: wish recall 0.90, 4.8% false).
RULE_SCALE = 3.0
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Example:
    """One labeled message and the group (source) it belongs to."""

    row: dict[str, Any]
    group: str

    @property
    def label(self) -> IntentKind:
        """The expected intent."""
        return IntentKind(self.row["expect"]["intent"])

    @property
    def context(self) -> ParseContext:
        """The ParseContext of the row."""
        return ParseContext(
            room=self.row.get("room"),
            sender_name=self.row.get("sender") or "",
            activities=tuple(self.row.get("activities") or ()),
        )


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row: dict[str, Any] = json.loads(line)
                yield row


def group_of(path: Path, row: dict[str, Any]) -> str:
    """The source group of a row: its own `group`, else one named from the file and its kind."""
    if "group" in row:
        return str(row["group"])
    if path.name.startswith("hard_cases"):
        return "team-hard"
    if path.name == "dev.jsonl":
        return "corpus-dev"
    if path.name == "pool.jsonl":
        kind = str(row.get("kind", "other"))
        return f"pool-{kind}" if kind.startswith(("news", "chitchat")) else "pool-other"
    if path.name == "chitchat.jsonl":
        return f"chitchat-{row.get('source', 'other')}"
    return path.stem


def training_files(shared: Path | None) -> list[Path]:
    """Every labeled file the model learns from (the held-out check set is not among them)."""
    files = sorted((REPO / "tests" / "intents").glob("hard_cases*.jsonl"))
    files += [REPO / "intents" / "training" / "team.jsonl"]
    files += [REPO / "intents" / "training" / "real" / "train.jsonl"]
    if shared is not None:
        files += [
            shared / "corpus" / "dev.jsonl",
            shared / "realdata" / "pool.jsonl",
            shared / "realdata" / "chitchat.jsonl",
        ]
    return files


def load_examples(files: Sequence[Path]) -> list[Example]:
    """The labeled rows of the files, each with its group."""
    return [Example(row, group_of(path, row)) for path in files for row in _rows(path)]


@dataclass(frozen=True, slots=True)
class Sample:
    """An example as the model sees it; None features when the rules decide alone."""

    example: Example
    features: list[str] | None


def featurise(examples: Sequence[Example]) -> list[Sample]:
    """Run the rules once over every example and keep the model's input."""
    lex = lexicon()
    out = []
    for ex in examples:
        view = read_rules(ex.row.get("text", ""), ex.context, lex)
        usable = not isinstance(view, Intent) and not view.settled and ex.label in CLASSES
        out.append(
            Sample(ex, model_input(view) if usable and not isinstance(view, Intent) else None)
        )
    return out


# What a words-only copy keeps of the rules: the reasons to stay silent and the cues. Without
# the gates, "明天停电检修" would teach that 停电 itself means none.
_KEPT_IN_COPIES = ("R:cue", "R:gate", "R:hypothetical")


def _words_only(features: list[str]) -> list[str]:
    """The features without the rules' findings of a request (gates and cues stay)."""
    return [f for f in features if not f.startswith(RULE_PREFIX) or f.startswith(_KEPT_IN_COPIES)]


def fit(
    samples: Sequence[Sample],
    c: float = 16.0,
    min_count: int = 2,
    words_weight: float = 0.5,
    rule_scale: float = RULE_SCALE,
) -> TextModel:
    """A logistic model fitted on the samples the model is asked about.

    Each sample is also shown without the rules' findings (at words_weight): the n-grams must then
    carry the decision alone, so that wording the rules miss still moves the model. The rules'
    features enter the fit at rule_scale (their weights are scaled back when saved).
    """
    import numpy as np
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    used = [s for s in samples if s.features is not None]
    weight = [GROUP_WEIGHTS.get(s.example.group, DEFAULT_WEIGHT) for s in used]
    if words_weight > 0:
        copies = [Sample(s.example, _words_only(s.features or [])) for s in used]
        weight += [words_weight * w for w in weight]
        used += copies
    counts: dict[str, int] = {}
    for s in used:
        for f in set(s.features or ()):
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= min_count))}
    rows, cols, vals = [], [], []
    for r, s in enumerate(used):
        feats = set(s.features or ())
        words = sum(not f.startswith(RULE_PREFIX) for f in feats)
        scale = 1.0 / math.sqrt(words) if words else 0.0  # as TextModel.scores does
        for f in feats:
            if f in vocab:
                rows.append(r)
                cols.append(vocab[f])
                vals.append(rule_scale if f.startswith(RULE_PREFIX) else scale)
    x = csr_matrix((np.array(vals), (rows, cols)), shape=(len(used), len(vocab)))
    y = np.array([CLASSES.index(s.example.label) for s in used])
    w = np.array(weight)
    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(x, y, sample_weight=w)
    names = sorted(vocab, key=vocab.__getitem__)
    # a rule's feature counts 1 in TextModel.scores: its weight takes the scale it was fitted at
    coef = clf.coef_ * np.array([rule_scale if f.startswith(RULE_PREFIX) else 1.0 for f in names])
    # weights that move no score by more than 0.01 are dropped: the file stays small
    weights = {
        f: tuple(float(v) for v in coef[:, i])
        for i, f in enumerate(names)
        if float(np.abs(coef[:, i]).max()) >= 0.01
    }
    return TextModel(
        classes=CLASSES,
        bias=tuple(float(b) for b in clf.intercept_),
        weights=weights,
    )


def raw_scores(model: TextModel, features: Sequence[str]) -> list[float]:
    """The model's scores before calibration."""
    return model.scores(features)


def fit_temperature(held_out: Sequence[tuple[list[float], int]]) -> float:
    """The temperature that makes held-out probabilities most likely (a grid search)."""

    def nll(t: float) -> float:
        total = 0.0
        for scores, label in held_out:
            top = max(scores)
            z = sum(math.exp((s - top) / t) for s in scores)
            total -= (scores[label] - top) / t - math.log(z)
        return total

    grid = [0.5 + 0.05 * i for i in range(71)]  # 0.5 .. 4.0
    return min(grid, key=nll)


def cross_source(
    samples: Sequence[Sample], c: float = 16.0
) -> Iterator[tuple[str, list[dict[str, Any]], TextModel]]:
    """For each group: its rows and a model fitted on every other group."""
    for group in sorted({s.example.group for s in samples}):
        rest = [s for s in samples if s.example.group != group]
        rows = [s.example.row for s in samples if s.example.group == group]
        yield group, rows, fit(rest, c=c)


def train(samples: Sequence[Sample], c: float = 16.0) -> TextModel:
    """The shipped model: fitted on every sample, calibrated on held-out groups' scores."""
    held: list[tuple[list[float], int]] = []
    for group, _rows, model in cross_source(samples, c=c):
        held += [
            (raw_scores(model, s.features), CLASSES.index(s.example.label))
            for s in samples
            if s.example.group == group and s.features is not None
        ]
    return replace(fit(samples, c=c), temperature=fit_temperature(held))

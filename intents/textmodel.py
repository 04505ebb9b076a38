"""A linear text model over character n-grams and the rules' findings: request or not, which.

Inference is plain Python over a dict of weights (no numpy), so that importing the parser stays
fast; the weights are fitted by `jinlin train` (intents/learning.py) and shipped in
intents/data/textmodel.json.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from intents.model import IntentKind
from intents.trace import Step, Trace

MODEL_FILE = "textmodel.json"
RULE_PREFIX = "R:"  # features of the rules' findings; every other feature is an n-gram
# Digits name rooms, floors and dates: which ones says nothing about whether it is a request.
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# Steps of the rules' trace whose rule name is a feature of its own ("gate:ad", "problem:lift").
_NAMED = frozenset({Step.GATE, Step.PROBLEM, Step.WISH, Step.CUE, Step.NOT_URGENT})


def text_features(body: str, orders: tuple[int, ...] = (1, 2, 3)) -> list[str]:
    """Character n-grams of the folded body, with ^ and $ marking its ends."""
    t = "^" + _SPACES.sub(" ", _DIGITS.sub("0", body)).strip() + "$"
    # n-grams of one character skip the bare ends: "^" and "$" are in every message and would
    # only be a second bias that grows as the message shortens ("停电了" would lose to it)
    return [t[i : i + n] for n in orders for i in range(n == 1, len(t) - n + 1 - (n == 1))]


def rule_features(kind: IntentKind, trace: Iterable[Trace], urgent: bool) -> list[str]:
    """What the rules found, as features: their verdict and the kinds of steps they took."""
    r = RULE_PREFIX
    out = [f"{r}{kind.value}"]
    for t in trace:
        out.append(f"{r}{t.step.value}")
        if t.step in _NAMED and t.rule:
            out.append(f"{r}{t.step.value}:{t.rule}")
    if urgent:
        out.append(f"{r}urgent")
    return out


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's probabilities of each intent it knows, after calibration."""

    probabilities: tuple[tuple[IntentKind, float], ...]

    @property
    def best(self) -> tuple[IntentKind, float]:
        """The most probable intent and its probability."""
        return max(self.probabilities, key=lambda kp: kp[1])

    def of(self, kind: IntentKind) -> float:
        """The probability of one intent (0 for an intent the model does not know)."""
        return next((p for k, p in self.probabilities if k is kind), 0.0)

    def trace(self) -> Trace:
        """The prediction as a step of the explanation."""
        shown = " ".join(f"{k.value}={p:.2f}" for k, p in self.probabilities)
        return Trace(Step.MODEL, "", shown)


@dataclass(frozen=True, slots=True)
class TextModel:
    """A multinomial logistic model: one weight per class for each feature."""

    classes: tuple[IntentKind, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]
    orders: tuple[int, ...] = (1, 2, 3)
    temperature: float = 1.0  # fitted on held-out sources: divides the scores before softmax

    def scores(self, features: Iterable[str]) -> list[float]:
        """Raw class scores: the rules' features count 1, the n-grams 1/sqrt(how many).

        Scaling the n-grams keeps a two-word complaint ("垃圾桶满了") from being outweighed by
        the prior of none only because it has fewer n-grams than a long message.
        """
        feats = set(features)
        rules = {f for f in feats if f.startswith(RULE_PREFIX)}
        words = feats - rules
        get = self.weights.get
        k = len(self.bias)
        word_w = [w for w in map(get, words) if w is not None]
        rule_w = [w for w in map(get, rules) if w is not None]
        word_sum = [sum(col) for col in zip(*word_w, strict=True)] if word_w else [0.0] * k
        rule_sum = [sum(col) for col in zip(*rule_w, strict=True)] if rule_w else [0.0] * k
        scale = 1.0 / math.sqrt(len(words)) if words else 0.0
        return [b + scale * x + y for b, x, y in zip(self.bias, word_sum, rule_sum, strict=True)]

    def predict(self, features: Iterable[str]) -> Prediction:
        """Calibrated probabilities of each class for a bag of features."""
        scaled = [s / self.temperature for s in self.scores(features)]
        top = max(scaled)
        exps = [math.exp(s - top) for s in scaled]
        total = sum(exps)
        return Prediction(tuple(zip(self.classes, (e / total for e in exps), strict=True)))

    def to_json(self) -> str:
        """The model file's text (weights rounded: four decimals change no decision)."""
        return json.dumps(
            {
                "classes": [c.value for c in self.classes],
                "bias": [round(b, 4) for b in self.bias],
                "orders": list(self.orders),
                "temperature": round(self.temperature, 4),
                "weights": {f: [round(x, 4) for x in w] for f, w in sorted(self.weights.items())},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @staticmethod
    def from_json(text: str) -> TextModel:
        """Read a model file written by to_json."""
        data = json.loads(text)
        return TextModel(
            classes=tuple(IntentKind(c) for c in data["classes"]),
            bias=tuple(float(b) for b in data["bias"]),
            weights={str(f): tuple(w) for f, w in data["weights"].items()},
            orders=tuple(int(n) for n in data["orders"]),
            temperature=float(data["temperature"]),
        )


@cache
def text_model() -> TextModel:
    """The shipped model, loaded once."""
    path = resources.files("intents").joinpath("data", MODEL_FILE)
    return TextModel.from_json(path.read_text(encoding="utf-8"))

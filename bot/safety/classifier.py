"""A small logistic-regression prompt classifier over normalised words, trained on our own labels.

Why our own: of the offline options, en-prompt-nsfw-pipeline-bow (the only one aimed at sexual
prompts) is published UNLICENSED, pulls in spaCy, and scored "breast stroke swimmer" 0.64 adult
while "erotic photo of a woman" got 0.41; the profanity packages target swearing and take
3–5 ms a prompt. A linear model over words, word pairs and 5-letter stems runs in microseconds,
weighs words in context ("bare" + "woman" vs "bare tree"), and every weight can be read.

Features of a prompt's canonical words (see wordlists.Lexicon.match):
  "w:<word>" (not for stopwords), "b:<word> <next>",
  "p:<first five letters>" (words longer than five letters),
  "c:<class>+<class>[+<class>]" for word classes that occur together (data/word_classes.txt;
  the model stores the classes it was trained with).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

MODEL_FILE = "prompt_model.json"
WORD_CLASSES_FILE = "word_classes.txt"
# No unigram for these: they are in nearly every prompt, and a weight on "a" would act as a bias.
STOPWORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "at", "to", "with", "and", "or", "for", "by", "is", "are", "her",
     "his", "their", "its", "from", "this", "that"}
)  # fmt: skip


def load_word_classes() -> dict[str, str]:
    """data/word_classes.txt as {word: class}."""
    text = resources.files("bot.safety").joinpath("data", WORD_CLASSES_FILE).read_text(encoding="utf-8")
    classes: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, words = line.split(":", 1)
            classes.update((word, name.strip()) for word in words.split())
    return classes


def features(words: Sequence[str], word_classes: Mapping[str, str] | None = None) -> list[str]:
    """Feature names of one prompt's words; repeats count once."""
    out = {f"w:{w}" for w in words if w not in STOPWORDS}
    out.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    out.update(f"p:{w[:5]}" for w in words if len(w) > 5)
    if word_classes:
        present = sorted({word_classes[w] for w in words if w in word_classes})
        for n in (2, 3):
            out.update("c:" + "+".join(c) for c in itertools.combinations(present, n))
    return sorted(out)


@dataclass(frozen=True)
class PromptModel:
    """Weights by feature name and a bias; score() is the probability that a prompt is sexual."""

    weights: dict[str, float]
    bias: float
    data_sha256: str = ""  # digest of the training data it was fitted to (see train.py)
    word_classes: Mapping[str, str] = dataclasses.field(default_factory=dict)  # word → class

    def score(self, words: Sequence[str]) -> float:
        """P(unsafe) for a prompt's canonical words."""
        z = self.bias + sum(self.weights.get(f, 0.0) for f in features(words, self.word_classes))
        return 1.0 / (1.0 + math.exp(-z))

    def vocabulary(self) -> set[str]:
        """The words the model has a weight for (the lexicon uses them to undo repeated letters)."""
        return {f[2:] for f in self.weights if f.startswith("w:") and len(f) > 3}

    def ordinary_words(self, below: float = 0.5) -> set[str]:
        """Words the model weighs as ordinary (weight under `below`): not respellings of unsafe ones."""
        return {f[2:] for f, w in self.weights.items() if f.startswith("w:") and w < below}

    def to_json(self) -> str:
        weights = {k: round(v, 4) for k, v in sorted(self.weights.items()) if abs(v) >= 1e-3}
        data = {
            "bias": round(self.bias, 4),
            "data_sha256": self.data_sha256,
            "weights": weights,
            "word_classes": dict(sorted(self.word_classes.items())),
        }
        return json.dumps(data, indent=0, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PromptModel:
        data = json.loads(text)
        return cls(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            bias=float(data["bias"]),
            data_sha256=str(data.get("data_sha256", "")),
            word_classes={str(k): str(v) for k, v in data.get("word_classes", {}).items()},
        )

    @classmethod
    def packaged(cls) -> PromptModel:
        """The model shipped in bot/safety/data (regenerate with `python -m bot.safety.train`)."""
        path = resources.files("bot.safety").joinpath("data", MODEL_FILE)
        return cls.from_json(path.read_text(encoding="utf-8"))


def train(
    examples: Iterable[tuple[Sequence[str], bool]],
    *,
    l2: float = 0.0003,
    epochs: int = 1500,
    learning_rate: float = 0.5,
    bias: float = -3.0,
    word_classes: Mapping[str, str] | None = None,
) -> PromptModel:
    """Fit logistic regression by full-batch gradient descent; deterministic for a given input.

    The bias is fixed, not learned: a prompt made only of words the model never saw scores
    sigmoid(bias) ≈ 0.05, so only words learned as unsafe can push a prompt over the threshold.
    l2 and epochs were chosen by cross-validation on the training rows (train.py --cv).
    """
    word_classes = dict(word_classes or {})
    rows = [(features(words, word_classes), unsafe) for words, unsafe in examples]
    vocab = sorted({f for feats, _ in rows for f in feats})
    index = {f: i for i, f in enumerate(vocab)}
    x = np.zeros((len(rows), len(vocab)), dtype=np.float64)  # (N, F) binary features
    y = np.array([1.0 if unsafe else 0.0 for _, unsafe in rows])  # (N,)
    for r, (feats, _) in enumerate(rows):
        x[r, [index[f] for f in feats]] = 1.0
    # Balance the classes so the unsafe minority is not drowned out.
    positives = max(y.sum(), 1.0)
    negatives = max(len(y) - y.sum(), 1.0)
    sample_weight = np.where(y == 1.0, len(y) / (2 * positives), len(y) / (2 * negatives))
    w = np.zeros(len(vocab))
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-(x @ w + bias)))  # (N,)
        err = (p - y) * sample_weight
        w -= learning_rate * (x.T @ err / len(y) + l2 * w)
    weights = dict(zip(vocab, w.tolist(), strict=True))
    return PromptModel(weights=weights, bias=bias, word_classes=word_classes)

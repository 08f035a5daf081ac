"""A character n-gram classifier in eight languages, one logistic regression per category.

It judges the categories whose word lists are thinnest (minors, gore, hate, self-harm), not
`sexual`, whose lists are the longest and which the English classifier also judges: on
`sexual` the n-grams refused more look-alikes than they caught prompts (see filter.py).

Why n-grams: a word list matches what it lists, and a stem what Snowball knows; pieces of
words ("<nack", "ckt>", "сиськ") are shared by inflections, compounds ("Nacktbilder"), slang
and respellings the lists never saw. The prompt is folded first as the term matcher folds it
(look-alike letters, leetspeak, accents, kana), repeated letters are collapsed and spaced-out
letters joined, so "n a k 3 d" and "naaaked" give the n-grams of "naked".

Features of a prompt: 3-, 4- and 5-grams of each word padded with "<" and ">", the word
itself as "w:<word>", and for Japanese, 2- and 3-grams of the text with spaces removed.
One binary model per category (that category's prompts against the safe ones), all with a
fixed bias, so that a prompt of n-grams never seen scores sigmoid(bias) and only n-grams
learned as unsafe can push it over the threshold. Trained by `python -m bot.safety.train_ngrams`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from bot.safety.folding import fold_text, reading, word_pieces
from bot.safety.spelling import collapse, joined_pieces

MODEL_FILE = "ngram_model.json"
CATEGORIES = ("sexual_minors", "violence_gore", "hate", "self_harm")
_SIZES = (3, 4, 5)


def _is_japanese(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF


def ngram_features(text: str) -> list[str]:
    """The feature names of one prompt (each once, in no order), from its folded text."""
    folded = fold_text(text)
    words = [w for chunk in folded.split() for w in word_pieces(reading(chunk))]
    out: set[str] = set()
    for word in [*words, *joined_pieces(words)]:
        if any(_is_japanese(ch) for ch in word):
            continue
        word = collapse(word)
        out.add("w:" + word)
        padded = f"<{word}>"
        for n in _SIZES:
            out.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    japanese = "".join(ch for ch in folded if _is_japanese(ch))
    for n in (2, 3):
        out.update("j:" + japanese[i : i + n] for i in range(len(japanese) - n + 1))
    return list(out)


@dataclass(frozen=True)
class NgramModel:
    """Weights by feature (one per category, in CATEGORIES order), a fixed bias and a threshold."""

    weights: dict[str, tuple[float, ...]]
    bias: float
    threshold: float  # chosen by cross-validation on the training files (train_ngrams.py --cv)
    data_sha256: str = ""
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)
    _matrix: np.ndarray = field(init=False, repr=False, compare=False)  # (features + 1, categories)

    def __post_init__(self) -> None:
        # One row per feature and a last row of zeros, so a prompt's rows are summed in one step.
        rows = {f: i for i, f in enumerate(self.weights)}
        matrix = np.zeros((len(rows) + 1, len(CATEGORIES)))
        for f, i in rows.items():
            matrix[i] = self.weights[f]
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_matrix", matrix)

    def scores(self, text: str) -> dict[str, float]:
        """P(category) for each category, each from its own model."""
        last = len(self._rows)
        picked = [self._rows.get(f, last) for f in ngram_features(text)]
        z = self.bias + self._matrix[picked].sum(axis=0)  # (categories,)
        return {c: 1.0 / (1.0 + math.exp(-float(v))) for c, v in zip(CATEGORIES, z, strict=True)}

    def flagged(self, text: str) -> dict[str, float]:
        """The categories scoring at or over the threshold, with their scores."""
        return {c: p for c, p in self.scores(text).items() if p >= self.threshold}

    def to_json(self) -> str:
        weights = {f: [round(v, 3) for v in row] for f, row in sorted(self.weights.items())}
        data = {"bias": self.bias, "categories": list(CATEGORIES), "data_sha256": self.data_sha256,
                "threshold": self.threshold, "weights": weights}  # fmt: skip
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NgramModel:
        data = json.loads(text)
        if tuple(data["categories"]) != CATEGORIES:
            raise ValueError(f"{MODEL_FILE}: categories {data['categories']} are not {list(CATEGORIES)}")
        return cls(
            weights={str(f): tuple(float(v) for v in row) for f, row in data["weights"].items()},
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            data_sha256=str(data.get("data_sha256", "")),
        )

    @classmethod
    def packaged(cls) -> NgramModel:
        """The model shipped in bot/safety/data (regenerate with `python -m bot.safety.train_ngrams`)."""
        return cls.from_json(resources.files("bot.safety").joinpath("data", MODEL_FILE).read_text("utf-8"))


def fit(
    rows: Sequence[tuple[Sequence[str], bool]],
    *,
    bias: float = -4.0,
    l2: float = 0.001,
    epochs: int = 400,
    learning_rate: float = 1.0,
) -> dict[str, float]:
    """One binary logistic regression over sparse binary features, by full-batch gradient descent.

    `rows`: (features, unsafe). Classes are balanced by sample weights; deterministic.
    """
    vocab = sorted({f for feats, _ in rows for f in feats})
    index = {f: i for i, f in enumerate(vocab)}
    cols = np.array([index[f] for feats, _ in rows for f in feats], dtype=np.int64)  # (nnz,)
    lengths = np.array([len(feats) for feats, _ in rows], dtype=np.int64)  # (N,)
    row_of = np.repeat(np.arange(len(rows)), lengths)  # (nnz,)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))  # (N,)
    y = np.array([1.0 if unsafe else 0.0 for _, unsafe in rows])  # (N,)
    positives, negatives = max(y.sum(), 1.0), max(len(y) - y.sum(), 1.0)
    sample_weight = np.where(y == 1.0, len(y) / (2 * positives), len(y) / (2 * negatives))
    w = np.zeros(len(vocab))  # (F,)
    for _ in range(epochs):
        z = np.add.reduceat(w[cols], starts) + bias  # (N,) every row has features
        err = (1.0 / (1.0 + np.exp(-z)) - y) * sample_weight  # (N,)
        grad = np.bincount(cols, weights=err[row_of], minlength=len(vocab)) / len(y)  # (F,)
        w -= learning_rate * (grad + l2 * w)
    return {f: float(v) for f, v in zip(vocab, w, strict=True) if abs(v) >= 1e-3}

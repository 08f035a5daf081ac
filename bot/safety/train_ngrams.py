"""Retrain the n-gram classifier: `python -m bot.safety.train_ngrams` (deterministic, about a minute).

It learns from the training files only: data/prompts.tsv's train and dev rows (English, sexual),
train_multi.tsv, train_issue15.tsv, train_issue15_b/_c/_d/_e/_f/_g/_h/_i/_j/_k.tsv, and the generated
evasions of their unsafe prompts. No evaluation file (prompts.tsv's test rows, heldout_2.tsv,
eval_fresh*.jsonl) is read here.

`--cv` cross-validates instead: the prompts are split into five folds (a prompt and its evasions
in the same fold), each fold is scored by models fitted to the others, and for each threshold
the share of unsafe prompts flagged and of safe prompts with an anchoring term flagged is
printed, a category counting only where a term of the prompt anchors it, as in the gate. The
packaged threshold is the lowest at which that false-positive share is at most
THRESHOLD_FALSE_POSITIVES; it was chosen on these figures, never on an evaluation set.
"""

from __future__ import annotations

import argparse
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.safety.evasions import evasions, load_examples
from bot.safety.folding import fold_text, word_pieces
from bot.safety.ngrams import CATEGORIES, MODEL_FILE, NgramModel, fit, ngram_features

TRAINING_FILES = (
    "train_multi.tsv",
    "train_issue15.tsv",
    "train_issue15_b.tsv",
    "train_issue15_c.tsv",
    "train_issue15_d.tsv",
    "train_issue15_e.tsv",
    "train_issue15_f.tsv",
    "train_issue15_g.tsv",
    "train_issue15_h.tsv",
    "train_issue15_i.tsv",
    "train_issue15_j.tsv",
    "train_issue15_k.tsv",
)  # the thirteenth pass's train_issue15_l/m/n.tsv are its rules' own prompts, not in this model: with
# them it lost three hate prompts of set 3 at the same threshold (2026-12-04), so it was not retrained
BIAS = -4.0
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
THRESHOLD_FALSE_POSITIVES = 0.02  # of the safe training prompts with an anchoring term


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str  # a policy category, or "safe"
    source: str


def training_prompts() -> list[Labelled]:
    """The labelled training prompts of every training file (no evasions)."""
    out = [
        Labelled(e.text, "sexual" if e.unsafe else "safe", e.source)
        for e in load_examples()
        if e.source == "prompts.tsv" and e.split in ("train", "dev")
    ]
    for name in TRAINING_FILES:
        out += [Labelled(text, category, name) for category, text in labelled_lines(name)]
    return out


def labelled_lines(name: str) -> list[tuple[str, str]]:
    """(category, text) of each line of a training file (category<TAB>language<TAB>text; # comments);
    an unknown category raises ValueError naming the file and line."""
    out = []
    data = resources.files("bot.safety").joinpath("data")
    for number, line in enumerate(data.joinpath(name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        category, _, text = line.split("\t")
        if category not in (*CATEGORIES, "sexual", "safe"):
            raise ValueError(f"{name} line {number}: unknown category {category!r}")
        out.append((category, text))
    return out


def ordinary_training_words() -> set[str]:
    """Words of the safe training prompts in every language (data/prompts.tsv's train and dev
    rows and the multilingual training files): ordinary words ("Blumen" is not "bumsen")."""
    words: set[str] = set()
    for prompt in training_prompts():
        if prompt.category == "safe":
            words.update(word_pieces(fold_text(prompt.text)))
    return words


def with_evasions(prompts: Sequence[Labelled]) -> list[Labelled]:
    """The prompts and one disguised variant of each unsafe one per evasion technique."""
    from bot.safety.evasions import Example

    out = list(prompts)
    for p in prompts:
        if p.category != "safe":
            variants = evasions(Example(p.text, True, "train", "plain", p.source), lambda _: False)
            out.extend(Labelled(v.text, p.category, p.source) for v in variants)
    return out


def data_sha256(prompts: Sequence[Labelled]) -> str:
    """Digest of what the model learns from, so a test notices a model left stale by a data change."""
    digest = hashlib.sha256()
    for p in prompts:
        digest.update(f"{p.category}\t{p.text}\n".encode())
    return digest.hexdigest()


def train_model(prompts: Sequence[Labelled], threshold: float) -> NgramModel:
    """One model per category: its prompts (and their evasions) against every safe prompt."""
    rows = [(ngram_features(p.text), p.category) for p in with_evasions(prompts)]
    rows = [(feats, category) for feats, category in rows if feats]
    safe = [(feats, False) for feats, category in rows if category == "safe"]
    per_category = [
        fit([(feats, True) for feats, category in rows if category == c] + safe, bias=BIAS)
        for c in CATEGORIES
    ]
    features = sorted(set().union(*per_category))
    weights = {f: tuple(w.get(f, 0.0) for w in per_category) for f in features}
    return NgramModel(weights=weights, bias=BIAS, threshold=threshold, data_sha256=data_sha256(prompts))


def anchored_categories(texts: Sequence[str]) -> dict[str, set[str]]:
    """For each text, the categories its terms anchor (rules.ANCHORS), as the gate reads them."""
    from bot.safety.language import LanguageIdentifier
    from bot.safety.rules import anchored
    from bot.safety.terms import TermIndex

    index, languages = TermIndex.packaged(), LanguageIdentifier()
    out = {}
    for text in texts:
        likely = languages.identify(text).likely
        hits, folded = index.match(text, likely)
        out[text] = {c.value for c in anchored(hits, likely, folded)}
    return out


def cross_validate(prompts: Sequence[Labelled], folds: int = 5) -> list[tuple[float, float, float]]:
    """(threshold, recall, false-positive rate) over grouped folds of the training prompts.

    As in the gate, a category counts only where a term of the prompt anchors it; the rate is of
    the safe prompts with such a term, the only ones the classifier may refuse.
    """
    caught = dict.fromkeys(THRESHOLDS, 0)
    wrong = dict.fromkeys(THRESHOLDS, 0)
    unsafe = safe = 0
    fold_of = {p.text: zlib.crc32(p.text.encode()) % folds for p in prompts}
    anchors = anchored_categories([p.text for p in with_evasions(prompts)])
    for k in range(folds):
        model = train_model([p for p in prompts if fold_of[p.text] != k], threshold=1.0)
        for p in with_evasions([p for p in prompts if fold_of[p.text] == k]):
            scores = model.scores(p.text)
            best = max((v for c, v in scores.items() if c in anchors[p.text]), default=0.0)
            if p.category == "sexual":
                continue  # not a category the n-grams judge
            if p.category == "safe":
                safe += bool(anchors[p.text])  # the others it never refuses
                for t in THRESHOLDS:
                    wrong[t] += best >= t
            else:
                unsafe += 1
                for t in THRESHOLDS:
                    caught[t] += best >= t
    return [(t, caught[t] / unsafe, wrong[t] / safe) for t in THRESHOLDS]


def main(argv: Sequence[str] | None = None) -> None:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bot.safety.train_ngrams", description=description)
    parser.add_argument("--cv", action="store_true", help="cross-validate on the training files instead")
    parser.add_argument("--threshold", type=float, help="threshold to package (default: chosen by --cv)")
    args = parser.parse_args(argv)
    prompts = training_prompts()
    if args.cv or args.threshold is None:
        figures = cross_validate(prompts)
        for t, recall, fp in figures:
            print(f"threshold {t:.2f}: recall {recall:6.1%}   false positives {fp:5.1%}")
        if args.cv:
            return
        args.threshold = min(t for t, _, fp in figures if fp <= THRESHOLD_FALSE_POSITIVES)
    model = train_model(prompts, args.threshold)
    path = Path(str(resources.files("bot.safety").joinpath("data", MODEL_FILE)))
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(model.weights)} features, threshold {model.threshold})")


if __name__ == "__main__":
    main()

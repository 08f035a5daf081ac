"""Retrain the packaged prompt model: `python -m bot.safety.train` (deterministic, ~20 s).

Trains on the "train" and "dev" rows of data/prompts.tsv and their generated evasions; the
"test" rows (and all of data/heldout_2.tsv) stay held out for `dallebot eval safety`.

`python -m bot.safety.train --cv` cross-validates instead: the train+dev prompts are split into
folds (a prompt and its evasions always in the same fold), each fold is scored by a lexicon and
model built from the other folds, and recall and false positives are printed per threshold.
The threshold (the lowest whose false-positive rate here is at most 2 %) and the training
options were chosen on these figures (about 1.5 minutes), never on the held-out rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import zlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from bot.safety.classifier import MODEL_FILE, WORD_CLASSES_FILE, PromptModel, load_word_classes, train
from bot.safety.evasions import Example, evasions, load_examples
from bot.safety.normalize import normalize
from bot.safety.wordlists import Lexicon

TRAINING_SPLITS = ("train", "dev")
CV_THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)


def training_data_sha256(splits: tuple[str, ...] = TRAINING_SPLITS) -> str:
    """Digest of what the model learns from: the rows of `splits` and the word lists.

    The packaged model stores it, so a test notices a model left stale by a data change.
    """
    digest = hashlib.sha256()
    for example in load_examples():
        if example.split in splits:
            digest.update(f"{example.unsafe}\t{example.text}\n".encode())
    for name in ("deny.txt", "allow.txt", "common.txt", WORD_CLASSES_FILE):
        digest.update(resources.files("bot.safety").joinpath("data", name).read_bytes())
    return digest.hexdigest()


def fit(examples: Sequence[Example]) -> tuple[PromptModel, Lexicon]:
    """A model trained on plain `examples` and their evasions, and the lexicon it runs with.

    The model learns only from the rows the deny list lets through: those are the only ones it
    is asked about, and a listed word's prompts would otherwise lend their weight to the words
    around it ("having", "bed", "woman"), which then refuse ordinary prompts.
    """
    # The words of the plain prompts let the lexicon undo repeated letters in their evasions.
    lexicon = Lexicon.build(known_words={w for e in examples for w in normalize(e.text).words})
    rows = list(examples) + [v for e in examples if e.unsafe for v in evasions(e, lexicon.flags)]
    matches = [(lexicon.match(normalize(e.text)), e.unsafe) for e in rows]
    rows_let_through = [(m.tokens, unsafe) for m, unsafe in matches if m.deny is None]
    model = train(rows_let_through, word_classes=load_word_classes())
    # As in SafetyFilter.from_settings: the gate's lexicon knows the model's vocabulary.
    return model, Lexicon.build(known_words=model.vocabulary())


def train_packaged_model(splits: tuple[str, ...] = TRAINING_SPLITS) -> PromptModel:
    """The model `python -m bot.safety.train` writes, built from the given splits."""
    model, _ = fit([e for e in load_examples() if e.split in splits])
    return dataclasses.replace(model, data_sha256=training_data_sha256(splits))


@dataclasses.dataclass
class FoldCounts:
    """Cross-validated counts at one threshold, over every fold's validation prompts."""

    threshold: float
    unsafe: int = 0
    caught: int = 0
    safe: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.unsafe if self.unsafe else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.safe if self.safe else 0.0


def cross_validate(
    examples: Sequence[Example] | None = None, folds: int = 5, thresholds: Sequence[float] = CV_THRESHOLDS
) -> list[FoldCounts]:
    """Grouped k-fold figures of the whole prompt gate (word lists, then the classifier) per threshold.

    `examples` are plain prompts (default: the train and dev rows); each is scored once, with
    its evasions, by a lexicon and model fitted to the other folds.
    """
    if examples is None:
        examples = [e for e in load_examples() if e.split in TRAINING_SPLITS]
    fold_of = {e.text: zlib.crc32(e.text.encode()) % folds for e in examples}
    counts = [FoldCounts(t) for t in thresholds]
    for k in range(folds):
        model, lexicon = fit([e for e in examples if fold_of[e.text] != k])
        held = [e for e in examples if fold_of[e.text] == k]
        held += [v for e in held if e.unsafe for v in evasions(e, lexicon.flags)]
        for example in held:
            match = lexicon.match(normalize(example.text))
            score = 1.0 if match.deny is not None else model.score(match.tokens)
            for c in counts:
                refused = score >= c.threshold
                if example.unsafe:
                    c.unsafe += 1
                    c.caught += refused
                else:
                    c.safe += 1
                    c.false_positives += refused
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.safety.train", description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="cross-validate on train+dev instead of writing")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cv:
        for c in cross_validate(folds=args.folds):
            print(f"threshold {c.threshold:.2f}: recall {c.recall:6.1%} ({c.caught}/{c.unsafe})   "
                  f"false positives {c.false_positive_rate:5.1%} ({c.false_positives}/{c.safe})")  # fmt: skip
        return
    model = train_packaged_model()
    path = Path(str(resources.files("bot.safety").joinpath("data", MODEL_FILE)))
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(model.weights)} weights)")


if __name__ == "__main__":
    main()

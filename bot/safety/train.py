"""Retrain the packaged prompt model: `python -m bot.safety.train` (deterministic, a second or so).

Trains on the "train" and "dev" rows of data/prompts.tsv and their generated evasions; the
"test" rows stay held out for `dallebot eval safety`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from pathlib import Path

from bot.safety.classifier import MODEL_FILE, PromptModel, train
from bot.safety.evasions import evasions, load_examples
from bot.safety.normalize import normalize
from bot.safety.wordlists import Lexicon

TRAINING_SPLITS = ("train", "dev")


def training_data_sha256(splits: tuple[str, ...] = TRAINING_SPLITS) -> str:
    """Digest of what the model learns from: the rows of `splits` and the word lists.

    The packaged model stores it, so a test notices a model left stale by a data change.
    """
    digest = hashlib.sha256()
    for example in load_examples():
        if example.split in splits:
            digest.update(f"{example.unsafe}\t{example.text}\n".encode())
    for name in ("deny.txt", "allow.txt", "common.txt"):
        digest.update(resources.files("bot.safety").joinpath("data", name).read_bytes())
    return digest.hexdigest()


def train_packaged_model(splits: tuple[str, ...] = TRAINING_SPLITS) -> PromptModel:
    """The model `python -m bot.safety.train` writes, built from the given splits."""
    examples = [e for e in load_examples() if e.split in splits]
    # The words of the plain prompts let the lexicon undo repeated letters in their evasions.
    lexicon = Lexicon.build(known_words={w for e in examples for w in normalize(e.text).words})
    examples += [v for e in examples if e.unsafe for v in evasions(e, lexicon.flags)]
    rows = [(lexicon.match(normalize(e.text)).tokens, e.unsafe) for e in examples]
    return dataclasses.replace(train(rows), data_sha256=training_data_sha256(splits))


def main() -> None:
    model = train_packaged_model()
    path = Path(str(resources.files("bot.safety").joinpath("data", MODEL_FILE)))
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(model.weights)} weights)")


if __name__ == "__main__":
    main()

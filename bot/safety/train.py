"""Retrain the packaged prompt model: `python -m bot.safety.train` (deterministic, a second or so).

Trains on the "train" and "dev" rows of data/prompts.tsv and their generated evasions; the
"test" rows stay held out for `dallebot eval safety`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bot.safety.classifier import MODEL_FILE, PromptModel, train
from bot.safety.evasions import evasions, load_examples
from bot.safety.normalize import normalize
from bot.safety.wordlists import Lexicon

TRAINING_SPLITS = ("train", "dev")


def train_packaged_model(splits: tuple[str, ...] = TRAINING_SPLITS) -> PromptModel:
    """The model `python -m bot.safety.train` writes, built from the given splits."""
    examples = [e for e in load_examples() if e.split in splits]
    # The words of the plain prompts let the lexicon undo repeated letters in their evasions.
    lexicon = Lexicon.build(known_words={w for e in examples for w in normalize(e.text).words})
    examples += [v for e in examples if e.unsafe for v in evasions(e, lexicon.flags)]
    rows = [(lexicon.match(normalize(e.text)).tokens, e.unsafe) for e in examples]
    return train(rows)


def main() -> None:
    model = train_packaged_model()
    path = Path(str(resources.files("bot.safety").joinpath("data", MODEL_FILE)))
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(model.weights)} weights)")


if __name__ == "__main__":
    main()

"""The prompt reader's own development set: its score, and the prompts it reads wrong.

`data/reader_dev.jsonl` (the natural-phrasing format of `claims.py`) was written for working on
the reader, before the reader rules it motivated; it is not an evaluation set. A reading is right
as `eval_embedded` counts `reader_natural`: `prompt.reads_right`.

    python -m tests.generation.embedded.reader_dev [--wrong]
"""

from __future__ import annotations

import sys
from pathlib import Path

from generation.embedded.claims import NaturalPrompt, load_natural_set
from generation.embedded.prompt import read, reads_right

DEV_SET = Path(__file__).with_name("data") / "reader_dev.jsonl"


def wrong_readings(prompts: list[NaturalPrompt]) -> list[NaturalPrompt]:
    """The prompts the reader gets wrong, in the set's order."""
    return [p for p in prompts if not reads_right(read(p.prompt), p)]


def main(argv: list[str]) -> None:
    prompts = load_natural_set(DEV_SET)
    wrong = wrong_readings(prompts)
    if "--wrong" in argv:
        for p in wrong:
            reading = read(p.prompt)
            print(f"{p.prompt!r}\n    read {reading.claims} ignored {reading.ignored}\n    want {p.claims}")
    right = len(prompts) - len(wrong)
    print(f"reader on the dev set: {right}/{len(prompts)} = {right / len(prompts):.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The prompt reader's own development sets: their scores, and the prompts it reads wrong.

Both are in the natural-phrasing format of `claims.py` and neither is an evaluation set:
`data/reader_dev.jsonl` (310 prompts) was written before the reader rules of `prompt_words.py`,
which were worked out on it; `data/reader_check.jsonl` (75 prompts) was written by the same hand
after those rules and scored once before the last two small fixes. A reading is right as
`eval_embedded` counts `reader_natural`: `prompt.reads_right`.

    python -m tests.generation.embedded.reader_dev [--wrong]
"""

from __future__ import annotations

import sys
from pathlib import Path

from generation.embedded.claims import NaturalPrompt, load_natural_set
from generation.embedded.prompt import read, reads_right

DEV_SET = Path(__file__).with_name("data") / "reader_dev.jsonl"
CHECK_SET = Path(__file__).with_name("data") / "reader_check.jsonl"


def wrong_readings(prompts: list[NaturalPrompt]) -> list[NaturalPrompt]:
    """The prompts the reader gets wrong, in the set's order."""
    return [p for p in prompts if not reads_right(read(p.prompt), p)]


def main(argv: list[str]) -> None:
    for name, path in (("dev", DEV_SET), ("check", CHECK_SET)):
        prompts = load_natural_set(path)
        wrong = wrong_readings(prompts)
        if "--wrong" in argv:
            for p in wrong:
                reading = read(p.prompt)
                print(f"{p.prompt!r}\n    read {reading.claims} {reading.ignored}\n    want {p.claims}")
        right = len(prompts) - len(wrong)
        print(f"reader on the {name} set: {right}/{len(prompts)} = {right / len(prompts):.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The labelled prompt set and the evasion variants generated from its unsafe prompts.

Evasions are generated, not stored: each unsafe prompt yields one variant per technique, each
applied to the word that trips the word list (what someone dodging a filter would disguise), or
to the longest word when none does. The generator is seeded per prompt, so the set is stable.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from bot.safety.normalize import normalize

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "b": "8", "g": "9"}
_HOMOGLYPHS = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "i": "і", "s": "ѕ",
    "k": "κ", "n": "η", "t": "τ", "u": "υ", "v": "ν", "m": "м", "h": "һ", "d": "ԁ",
}  # fmt: skip
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff")
_SEPARATORS = (" ", ".", "-", "_", "*", " . ")
_EMOJI = ("🍑", "🔥", "💋", "✨", "😉")


# Labelled prompt files and the splits each may hold. heldout_2.tsv is a second held-out batch,
# written before the second tuning round; all of it is "test".
PROMPT_FILES = {"prompts.tsv": ("train", "dev", "test"), "heldout_2.tsv": ("test",)}


@dataclass(frozen=True)
class Example:
    text: str
    unsafe: bool
    split: str  # "train", "dev" or "test" (see data/prompts.tsv)
    kind: str  # "plain" or the evasion technique
    source: str = "prompts.tsv"  # the data file the prompt (or the one it disguises) comes from


def load_examples() -> list[Example]:
    """The labelled prompts of every file in PROMPT_FILES (no evasions)."""
    out = []
    for name, splits in PROMPT_FILES.items():
        text = resources.files("bot.safety").joinpath("data", name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            label, split, prompt = line.split("\t")
            if label not in ("safe", "unsafe") or split not in splits:
                raise ValueError(f"{name}: bad label or split in line {line!r}")
            out.append(Example(prompt, label == "unsafe", split, "plain", name))
    return out


def _swap_some(word: str, table: dict[str, str], rng: random.Random) -> str:
    """Swap each swappable letter with probability 0.7, and always at least one."""
    out = "".join(table[c] if c in table and rng.random() < 0.7 else c for c in word)
    if out == word:
        out = "".join(table.get(c, c) for c in word)
    return out


def _leet(word: str, rng: random.Random) -> str:
    return _swap_some(word, _LEET, rng)


def _spaced(word: str, rng: random.Random) -> str:
    if rng.random() < 0.3 and len(word) >= 4:  # split once: "nak ed"
        cut = rng.randrange(2, len(word) - 1)
        return f"{word[:cut]} {word[cut:]}"
    return rng.choice(_SEPARATORS).join(word)


def _zero_width(word: str, rng: random.Random) -> str:
    return "".join(c + rng.choice(_ZERO_WIDTH) for c in word[:-1]) + word[-1]


def _homoglyph(word: str, rng: random.Random) -> str:
    if rng.random() < 0.25:  # full-width or mathematical bold letters
        offset = rng.choice((0xFF41 - ord("a"), 0x1D41A - ord("a")))
        return "".join(chr(ord(c) + offset) if "a" <= c <= "z" else c for c in word)
    return _swap_some(word, _HOMOGLYPHS, rng)


def _repeat(word: str, rng: random.Random) -> str:
    return "".join(c * rng.randint(2, 5) if c in "aeiouy" or rng.random() < 0.2 else c for c in word)


def _emoji_and_case(word: str, rng: random.Random) -> str:
    letters = [c.upper() if rng.random() < 0.5 else c for c in word]
    vowels = [i for i, c in enumerate(word) if c in "aeiou" and 0 < i < len(word) - 1]
    if vowels:  # an emoji standing in for a letter: "n🍑ked"
        letters[rng.choice(vowels)] = rng.choice(_EMOJI)
    return "".join(letters) + " " + rng.choice(_EMOJI)


TECHNIQUES: dict[str, Callable[[str, random.Random], str]] = {
    "leetspeak": _leet,
    "spacing": _spaced,
    "zero_width": _zero_width,
    "homoglyph": _homoglyph,
    "repeats": _repeat,
    "emoji_case": _emoji_and_case,
}


def _target_word(prompt: str, flagged: Callable[[str], bool]) -> int:
    words = prompt.split()
    for i, word in enumerate(words):
        if flagged(word):
            return i
    return max(range(len(words)), key=lambda i: len(words[i]))


def evasions(example: Example, flagged: Callable[[str], bool]) -> list[Example]:
    """One variant of an unsafe example per technique, disguising the word `flagged` picks."""
    words = example.text.split()
    target = _target_word(example.text, flagged)
    out = []
    for name, technique in TECHNIQUES.items():
        rng = random.Random(zlib.crc32(f"{name}:{example.text}".encode()))
        disguised = list(words)
        disguised[target] = technique(normalize(words[target]).text, rng)
        out.append(Example(" ".join(disguised), True, example.split, name, example.source))
    return out

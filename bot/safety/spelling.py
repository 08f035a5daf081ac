"""Near misses: when a word of a prompt is a respelling of a listed word, and when it is not.

A letter written three times is a stretch ("naaaked"); a double letter of the language is not
("basse"). One letter dropped, added or changed counts for long words; for a word under six
letters a change in place counts only in its last two letters, where inflections differ.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

_VOWELS = frozenset("aeiouy")


def collapse(word: str) -> str:
    """Runs of one letter become one letter: "nuuude" → "nude"."""
    return "".join(ch for ch, _ in itertools.groupby(word))


def near_enough(term: str, word: str) -> bool:
    """A near miss worth reading as `term`: same first letter and, for a term under six letters
    changed in place, the change in its last two letters, where inflections differ ("голой" for
    "голый"); earlier, one changed letter makes another word of the language ("basse", "baise")."""
    if term[0] != word[0]:
        return False
    if len(term) != len(word) or len(term) >= 6:
        return True
    first_difference = next((i for i, (a, b) in enumerate(zip(term, word, strict=True)) if a != b), len(term))
    return first_difference >= len(term) - 2


def stretched(word: str) -> bool:
    """A letter written three times or more ("naaaked"): stretched on purpose, unlike "basse"."""
    return any(len(list(run)) >= 3 for _, run in itertools.groupby(word))


def doubled_vowel(word: str) -> bool:
    """A vowel written twice ("nuude"): a stretch in the policy's languages, where a doubled
    consonant is ordinary spelling ("bitte", "basse")."""
    return any(a == b and a in _VOWELS for a, b in itertools.pairwise(word))


def skeleton(word: str) -> str:
    """The consonants, runs collapsed: "nekkid" and "naked" share "nkd"."""
    return "".join(ch for ch in collapse(word) if ch not in _VOWELS)


def deletes(word: str) -> set[str]:
    """`word` with one letter dropped, every way: two words one edit apart share one of these."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def joined_pieces(words: list[str], common: Callable[[str], bool] | None = None) -> Iterable[str]:
    """Runs of spaced-out letters or short pieces joined: "n a k e d" → "naked", "tr u p" → "trup".

    `common` (a word of the prompt's language?) keeps pieces apart that are all words, one of three
    letters: "for a" is no "fora" (Portuguese "out"); "тр у п" is still "труп" (the word lists hold
    abbreviations and single letters)."""
    run: list[str] = []
    for word in [*words, ""]:
        if word and len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if len(run) >= 3:
            yield "".join(run)
        if len(run) >= 4:  # an article spaced out with the word: "a c h i l d", "a b r a"
            yield "".join(run[1:])
        run = []
    for n in (2, 3, 4):
        for i in range(len(words) - n + 1):
            pieces = words[i : i + n]
            short = all(len(p) <= 3 for p in pieces) and any(len(p) == 1 for p in pieces)
            if short and not (common and any(len(p) == 3 for p in pieces) and all(map(common, pieces))):
                yield "".join(pieces)

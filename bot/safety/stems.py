"""Word stems by language (Snowball, through PyStemmer), so an entry matches its other forms.

"ratten" and "Ratte", "arrachée" and "arracher", "педиков" and "педик" share a stem: one
listed form stands for the inflections nobody listed. Japanese has no stemmer here (its
entries are substrings of the text). PyStemmer is Snowball's C implementation, about 0.2 µs a
word and nothing to load; simplemma's lemma dictionaries were measured too (better lemmas, but
6.2 s and ~530 MB to load the seven languages), which this gate cannot afford at start.
"""

from __future__ import annotations

import threading

import Stemmer

SNOWBALL = {"en": "english", "es": "spanish", "fr": "french", "de": "german", "pt": "portuguese",
            "it": "italian", "ru": "russian"}  # fmt: skip
# A stem shorter than this says too little ("rat", "sei"): only whole words match then.
MIN_STEM = 4

_local = threading.local()  # a Stemmer object is not safe to share between threads


def _stemmers() -> dict[str, Stemmer.Stemmer]:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {lang: Stemmer.Stemmer(name) for lang, name in SNOWBALL.items()}
    return stemmers


def stem(lang: str, word: str) -> str | None:
    """The stem of a folded word in `lang`; None without a stemmer or when it is too short to use."""
    stemmer = _stemmers().get(lang)
    if stemmer is None:
        return None
    found = stemmer.stemWord(word)
    return found if len(found) >= MIN_STEM else None

"""The ordinary words of each language the terms are read in, from wordfreq's frequency lists.

A word that is common in one of a prompt's likely languages is never read as a respelling of a
listed term: Spanish "penas" (sorrows) and "pinos" (pines) share their consonants with "penis",
French "semaine" is one letter from a respelled nudity word, Portuguese "doando" (donating) is a
near miss of "denude". Exact and stem matches are kept: a common word that is itself a listed
term ("porno", "verga") still matches, and a respelling nobody writes in ordinary text ("nekkid",
"secks", "pr0n") is no common word of any language.

wordfreq's "small" lists hold each language's words used at least once per million words
(Zipf frequency >= 3), from Wikipedia, subtitles, news, books and web text, inside the wheel
(offline; the seven lists are read and folded in ~0.8 s, once a process, when the terms are built).
"""

from __future__ import annotations

import functools

import wordfreq

from bot.safety.folding import fold_letters, word_pieces

# the languages of terms.txt with a word list in wordfreq; Japanese is matched as written
LANGUAGES = frozenset({"en", "es", "fr", "de", "pt", "it", "ru"})


@functools.cache
def common_words(lang: str) -> frozenset[str]:
    """The words of `lang` used once per million words or more, folded as the terms fold a prompt."""
    if lang not in LANGUAGES:
        return frozenset()
    words = " ".join(wordfreq.top_n_list(lang, 10**6, wordlist="small"))  # folded at once: faster
    return frozenset(word_pieces(fold_letters(words)))

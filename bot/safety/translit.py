"""Words typed in Latin letters for another script: Russian transliterated, Japanese in romaji.

"golaya devochka", "razdevaetsya", "zhidy" are Russian words any Russian reader recognises;
"jisatsu", "guro" are Japanese ones. The term lists hold them in Cyrillic and in kana, so the
matcher reads such a word back into that script and looks it up there (terms.py).

Russian: a common transliteration, longest spelling first ("shch" before "sh" before "s"), and
both sides compared without soft and hard signs and with "й" as "и", since people drop or
guess them ("shkolnitsa" is "школьница"). Only a prompt that looks Russian is read this way (a
function word like "v" or "dlya", or a spelling like "zh", "kh", "-aya", "-tsya"), so "para"
in a Spanish prompt never becomes "пара".

Japanese: the kana entries are spelled out in Hepburn romaji ("ジサツ" → "jisatsu") and a
prompt's word must equal one; only in a prompt whose every word is romaji and that has a
particle ("no", "wo") or a spelling only romaji has ("shi", "tsu", "kk", "ou"), so Portuguese
"uma fera" is not read as "フェラ".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from bot.safety.folding import fold_text, to_katakana
from bot.safety.spelling import joined_pieces
from bot.safety.stems import stem

# Latin spellings of Russian letters, longest first
_TO_CYRILLIC = (
    ("shch", "щ"), ("tsya", "тся"), ("tsia", "тся"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"),
    ("ch", "ч"), ("sh", "ш"), ("ya", "я"), ("yu", "ю"), ("yo", "е"), ("ye", "е"), ("ja", "я"), ("ju", "ю"),
    ("jo", "е"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"),
    ("z", "з"), ("i", "и"), ("j", "и"), ("k", "к"), ("q", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
    ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"),
    ("c", "ц"), ("x", "кс"), ("'", ""),
)  # fmt: skip
_VOWELS = "aeiouy"
# Words only Russian has among the policy's Latin-script languages, and spellings only a
# transliteration of Russian makes.
_RUSSIAN_WORDS = frozenset({
    "v", "vo", "s", "so", "dlya", "eto", "bez", "kak", "chto", "ochen", "pod", "nad", "iz", "ot", "menya",
    "tebya", "ego", "yeyo", "ee", "ikh", "nas", "vas",
})  # fmt: skip
_RUSSIAN_SHAPE = re.compile(
    r"zh|kh|shch|tsya$|sya$|aya$|yye$|oye$|ykh$|ikh$|[^aeiou]yy$|[^aeiou]iy$|[^aeiou]ym$|[^aeiou]yi$|ogo$|yu$"
    r"|stvo$|ennoe$|yonok|'"
)


def _normal_cyrillic(word: str) -> str:
    """Soft and hard signs dropped, й as и, э and ё as е: how both sides are compared."""
    return word.replace("ь", "").replace("ъ", "").replace("й", "и").replace("э", "е").replace("ё", "е")


def looks_russian(chunks: list[str]) -> bool:
    """Whether a Latin-letter prompt (its lower-case chunks) reads as transliterated Russian."""
    return any(c in _RUSSIAN_WORDS or _RUSSIAN_SHAPE.search(c) for c in chunks)


def cyrillic_reading(word: str) -> str:
    """A Latin word read as transliterated Russian, compared form ("razdevaetsya" → "раздевается")."""
    out: list[str] = []
    i = 0
    while i < len(word):
        for latin, cyrillic in _TO_CYRILLIC:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            # "y" alone: "ы" after a consonant, "й" after a vowel (compared as "и")
            if word[i] == "y":
                out.append("и" if i and word[i - 1] in _VOWELS else "ы")
            else:
                return ""  # not a letter a transliteration uses
            i += 1
    return _normal_cyrillic("".join(out))


# Katakana (hiragana is shifted to katakana first) spelled in Hepburn romaji
_SYLLABLES = [
    "a", "i", "u", "e", "o", "ka", "ki", "ku", "ke", "ko", "ga", "gi", "gu", "ge", "go",
    "sa", "shi", "su", "se", "so", "za", "ji", "zu", "ze", "zo", "ta", "chi", "tsu", "te", "to",
    "da", "ji", "zu", "de", "do", "na", "ni", "nu", "ne", "no", "ha", "hi", "fu", "he", "ho",
    "ba", "bi", "bu", "be", "bo", "pa", "pi", "pu", "pe", "po", "ma", "mi", "mu", "me", "mo",
    "ya", "yu", "yo", "ra", "ri", "ru", "re", "ro", "wa", "o", "n",
]  # fmt: skip
_KANA = dict(
    zip(
        "アイウエオカキクケコガギグゲゴサシスセソザジズゼゾタチツテトダヂヅデドナニヌネノハヒフヘホ"
        "バビブベボパピプペポマミムメモヤユヨラリルレロワヲン",
        _SYLLABLES,
        strict=True,
    )
)
_SMALL = {"ャ": "ya", "ュ": "yu", "ョ": "yo", "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o"}


def romaji(kana: str) -> str:
    """Kana spelled in Hepburn romaji ("ショタ" → "shota", "セックス" → "sekkusu"); "" if it holds
    anything but kana."""
    kana = to_katakana(kana)
    out = ""
    double = False
    for ch in kana:
        if ch == "ッ":
            double = True
            continue
        if ch in _SMALL:
            small = _SMALL[ch]
            if not out or out[-1] not in "aiueo":
                return ""
            if small.startswith("y") and out.endswith(("shi", "chi", "ji")):
                out = out[:-1] + small[1]  # "シ" + "ョ" = "sho"
            else:
                out = out[:-1] + small  # "キ" + "ャ" = "kya", "フ" + "ェ" = "fe"
            continue
        if ch == "ー":
            if not out:
                return ""
            out += out[-1]
            continue
        syllable = _KANA.get(ch)
        if syllable is None:
            return ""
        if double:  # "エッチ": "etchi" in Hepburn, "ecchi" as people type it (see spellings)
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
            double = False
        out += syllable
    return out


_ROMAJI_RE = re.compile(
    r"(?:(?:[kgszjtdnhbpmrfwy]|sh|ch|ts|ky|gy|ny|hy|by|py|my|ry)?[aeiou]|n|(?=[kstpgzdbhjmr])[kstpgzdbhjmr](?=[kstpgzdbhjmr]))+"
)
_PARTICLES = frozenset(
    {"no", "wo", "ga", "wa", "ni", "de", "na", "to", "suru", "shite", "shita", "desu", "da"}
)
_ROMAJI_SHAPE = re.compile(r"shi|tsu|chi|ky|ry|ny|hy|gy|kk|tt|pp|ss|ou|uu|ii")


def looks_romaji(words: list[str]) -> bool:
    """Whether a Latin-letter prompt reads as Japanese in romaji: every word spelled in romaji
    syllables, and a particle or a spelling only romaji has."""
    if not words or not all(_ROMAJI_RE.fullmatch(w) for w in words):
        return False
    return any(w in _PARTICLES for w in words) or any(_ROMAJI_SHAPE.search(w) for w in words)


def spellings(kana: str) -> set[str]:
    """The romaji a person may type for kana: Hepburn, and "cch" for its "tch" ("ecchi")."""
    found = romaji(kana)
    return {found, found.replace("tch", "cch")} - {""}


class _Listed(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def text(self) -> str: ...


E = TypeVar("E", bound=_Listed)


class LatinReadings(Generic[E]):
    """Russian and kana entries of the term list by how a Latin-letter prompt spells them."""

    def __init__(self) -> None:
        self.cyrillic: dict[str, list[E]] = defaultdict(list)
        self.cyrillic_prefix: dict[str, list[E]] = defaultdict(list)
        self.cyrillic_stems: dict[str, list[E]] = defaultdict(list)
        self.cyrillic_phrases: dict[tuple[str, ...], list[E]] = defaultdict(list)
        self.romaji: dict[str, list[E]] = defaultdict(list)

    def add(self, entry: E, *, stemmed: bool = True) -> None:
        """Index a Cyrillic entry by its compared form (and stem, if `stemmed`), a kana one by its romaji."""
        raw = entry.text.rstrip("*")
        if len(raw) >= 2 and all("\u3040" <= ch <= "\u30ff" for ch in raw):
            for spelled in spellings(raw):
                if len(spelled) >= 4:
                    self.romaji[spelled].append(entry)
            return
        if not any("\u0400" <= ch <= "\u04ff" for ch in raw) or entry.lang not in ("ru", "*"):
            return
        words = [_normal_cyrillic(w) for w in fold_text(raw).replace("_", " ").split()]
        if len(words) > 1:
            self.cyrillic_phrases[tuple(stem("ru", w) or w for w in words)].append(entry)
        elif entry.text.endswith("*"):
            if len(words[0]) >= 4:
                self.cyrillic_prefix[words[0]].append(entry)
        else:
            self.cyrillic[words[0]].append(entry)
            if stemmed and (found := stem("ru", words[0])) is not None:
                self.cyrillic_stems[found].append(entry)

    def match(self, words: list[str], known_words: frozenset[str]) -> Iterable[tuple[E, str | None]]:
        """The entries a Latin-letter prompt's words spell in Cyrillic or kana, each with the stem
        it matched by (None: as listed); only in a prompt that looks Russian or romaji."""
        latin = [w for w in words if w.isascii() and w.isalpha()]
        latin += [w for w in joined_pieces(latin) if len(w) >= 4]  # "d e v o c h k a"
        if not latin:
            return
        if looks_romaji(latin):  # a word, or two or three written apart ("bara bara")
            for n in (1, 2, 3):
                for i in range(len(latin) - n + 1):
                    for entry in self.romaji.get("".join(latin[i : i + n]), ()):
                        yield entry, None
        if not looks_russian(latin):
            return
        readings = [cyrillic_reading(w) if w not in known_words or len(w) < 3 else "" for w in latin]
        for reading in (r for r in readings if len(r) >= 3):
            found = list(self.cyrillic.get(reading, ()))
            for k in range(4, len(reading) + 1):
                found.extend(self.cyrillic_prefix.get(reading[:k], ()))
            yield from ((entry, None) for entry in found)
            if not found and (root := stem("ru", reading)) is not None:
                yield from ((entry, root) for entry in self.cyrillic_stems.get(root, ()))
        stems = [stem("ru", r) or r for r in readings]
        for n in range(2, 4):
            for i in range(len(stems) - n + 1):
                for entry in self.cyrillic_phrases.get(tuple(stems[i : i + n]), ()):
                    yield entry, None

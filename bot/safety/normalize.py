"""Prompt normalisation: fold the common evasions into plain lowercase words before any check.

Steps, in order (each defeats one trick):
  1. letters drawn as enclosed symbols (🅝🅤🅓🅔, 🇳🇺) become plain letters;
  2. emoji are taken out and kept by name ("🐱" → "cat_face"), so one dropped between words
     cannot break a phrase; one squeezed between letters ("n🍑ked") becomes a wildcard the
     lexicon fills with one letter or none;
  3. zero-width, format and control characters are removed (U+200B, U+00AD, bidi marks …);
  4. NFKC folds full-width, mathematical and circled letters ("ｎ", "𝐧", "ⓝ" → "n");
  5. look-alike letters from other scripts become Latin (Cyrillic "е", Greek "ο", small capitals);
  6. case is folded;
  7. accents and combining marks are stripped ("nüde", "n̶u̶d̶e̶" → "nude");
  8. each whitespace-separated chunk has leetspeak mapped ("p0rn", "$ex") and is split into
     words at punctuation ("x-rated" → "x", "rated") and also kept whole with the punctuation
     removed ("n.u.d.e" → "nude").
Repeated letters and words spaced apart ("n u d e", "nak ed") need the word list to undo
safely, so the lexicon handles them (see wordlists.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import emoji

# A leet character that may stand for "i" or "l" ("1", "|", "!"); the lexicon picks whichever
# spelling it knows. Private-use code points, so no real text contains them.
AMBIGUOUS_IL = "\ue000"
# An emoji squeezed between letters ("n🍑ked"): it may stand for one letter or for none.
ANY_LETTER = "\ue001"

_ENCLOSED_RANGES = (
    (0x1F150, 0x1F169),  # negative circled capitals 🅐–🅩
    (0x1F170, 0x1F189),  # negative squared capitals 🅰–🆉
    (0x1F1E6, 0x1F1FF),  # regional indicators 🇦–🇿 (flags are pairs of them)
)

# Upper case first: Greek "Η" looks like H but folds to "η", which looks like n.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic capitals and small letters
        "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p",
        "С": "c", "Т": "t", "Х": "x", "У": "y", "Ѕ": "s", "І": "i", "Ј": "j", "Ү": "y",
        "а": "a", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
        "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q",
        "ԝ": "w", "ү": "y", "к": "k", "м": "m", "т": "t", "в": "b", "п": "n", "г": "r",
        # Greek capitals and small letters
        "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m",
        "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
        # Armenian and Latin look-alikes NFKC leaves alone
        "օ": "o", "ո": "n", "ս": "u", "ɑ": "a", "ɡ": "g", "ı": "i", "ȷ": "j", "ø": "o",
        "đ": "d", "ł": "l", "ħ": "h", "ß": "ss", "æ": "ae", "œ": "oe", "ŋ": "n",
        # Latin small capitals
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i",
        "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
        "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    }
)  # fmt: skip

# Leetspeak and symbol swaps, applied only inside a chunk that also has a letter ("1920" stays).
_LEET = str.maketrans(
    {
        "0": "o", "1": AMBIGUOUS_IL, "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
        "@": "a", "$": "s", "€": "e", "|": AMBIGUOUS_IL, "!": AMBIGUOUS_IL,
    }
)  # fmt: skip
_LEET_CHARS = "0134578 9@$€|!".replace(" ", "")

# Invisible characters that are not category Cf/Cc but render as nothing.
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
_WHITESPACE_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}
_KEPT_PRIVATE = {AMBIGUOUS_IL, ANY_LETTER}  # our own markers survive; other private-use characters go

_WORD_RE = re.compile(rf"[a-z0-9{AMBIGUOUS_IL}{ANY_LETTER}]+")


@dataclass(frozen=True)
class Normalized:
    """A prompt folded for matching."""

    text: str  # after steps 1–7: lowercase, invisible characters gone, look-alikes folded
    words: tuple[str, ...]  # split at every punctuation mark, leet mapped: "x-rated" → x, rated
    chunks: tuple[str, ...]  # whitespace-separated chunks with inner punctuation removed: "xrated"
    emoji: tuple[str, ...] = ()  # names of the emoji taken out of the text: "winking_face"


def _map_enclosed_letters(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        for start, end in _ENCLOSED_RANGES:
            if start <= code <= end:
                ch = chr(ord("a") + code - start)
                break
        out.append(ch)
    return "".join(out)


def _split_emoji(text: str) -> tuple[str, tuple[str, ...]]:
    """Take the emoji out of `text`: ANY_LETTER where one sits inside a word ("n🍑ked"), else a
    space; return their names ("winking_face") separately, so they cannot split a phrase."""
    found = emoji.emoji_list(text)
    if not found:
        return text, ()
    out, names, last = [], [], 0
    for match in found:
        start, end = match["match_start"], match["match_end"]
        out.append(text[last:start])
        inside_word = start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
        if inside_word:
            out.append(ANY_LETTER)
        else:
            out.append(" ")
            names.append(emoji.demojize(match["emoji"], delimiters=("", "")).lower())
        last = end
    out.append(text[last:])
    return "".join(out), tuple(names)


def _drop_invisible(text: str) -> str:
    out = []
    for ch in text:
        if ch in _WHITESPACE_CONTROLS:
            out.append(" ")
        elif ch in _KEPT_PRIVATE:
            out.append(ch)
        elif unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cn") or ch in _INVISIBLE:
            continue
        else:
            out.append(ch)
    return "".join(out)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Steps 3–7: a lowercase string with look-alikes, invisible characters and marks folded away."""
    if not text.isascii():
        text = _drop_invisible(text)
        text = unicodedata.normalize("NFKC", text)
        text = text.translate(_CONFUSABLES)
        text = _strip_marks(text.casefold())
        text = text.translate(_CONFUSABLES)  # letters that only appeared after decomposition
    else:
        text = (text if text.isprintable() else _drop_invisible(text)).lower()
    return text


def leet_reading(word: str) -> str:
    """Every leet character of `word` read as a letter ("n4k3d" → "naked"); the lexicon uses it
    for a spaced-out word joined from letters and digits ("n 4 k e d"). A word of digits alone
    is a number, never read this way ("1920", "1011")."""
    return word.translate(_LEET)


def _unleet(chunk: str) -> str:
    """Map leetspeak inside a chunk that has at least one letter; trailing "!" stays punctuation."""
    chunk = chunk.rstrip("!.,?;:'\")]}")
    if not any(ch.isalpha() for ch in chunk) or not any(ch in _LEET_CHARS for ch in chunk):
        return chunk
    return chunk.translate(_LEET)


def normalize(text: str) -> Normalized:
    """Fold `text` (steps 1–8) into words and chunks ready for the lexicon and the classifier."""
    names: tuple[str, ...] = ()
    if not text.isascii():
        text, names = _split_emoji(_map_enclosed_letters(text))
    folded = fold(text)
    words: list[str] = []
    chunks: list[str] = []
    for raw in folded.split():
        chunk = _unleet(raw)
        parts = _WORD_RE.findall(chunk)
        if not parts:
            continue
        words.extend(parts)
        chunks.append("".join(parts))
    return Normalized(text=folded, words=tuple(words), chunks=tuple(chunks), emoji=names)


# A letter, a leet character, a letter: "s3sso", "f@g", "su1c1d10" (not "4k", "mp3" or "1920s").
_LEET_INSIDE = re.compile(r"[^\W\d_][0-9@$€|!*+][^\W\d_]")
# Three or more letters standing alone, one after another, dotted or spaced: "n.u.d.e", "s e x".
_SPELLED_OUT = re.compile(r"(?<!\w)(?:[^\W\d_][\s.\-_*·]+){2,}[^\W\d_](?!\w)")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def disguised(text: str) -> bool:
    """Whether the prompt spells a word in disguise: a leet character inside a word, letters of two
    scripts in one word ("nаked" with a Cyrillic а), letters spelled out one by one, or an invisible
    character. Innocent prompts seldom do; a prompt that does is not one a reader of its meaning
    should clear (the sentence encoder reads "s3sso orale" as nothing in particular)."""
    if any(unicodedata.category(ch) == "Cf" or ch in _INVISIBLE for ch in text):
        return True
    text = unicodedata.normalize("NFKC", text)
    if _LEET_INSIDE.search(text) or _SPELLED_OUT.search(text):
        return True
    for word in text.split():
        names = [unicodedata.name(ch, "") for ch in word if ch.isalpha()]
        scripts = {script for name in names for script in _SCRIPTS if name.startswith(script)}
        if len(scripts) > 1:
            return True
    return False

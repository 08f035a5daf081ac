"""How the term matcher folds a prompt: case, width, accents, kana, look-alike letters, leetspeak.

Invisible characters go, NFKC folds width, accents are dropped (kana keep their voicing marks:
"グロ", gore, is not "クロ", black), hiragana becomes katakana and small kana large ones; a
whitespace-separated chunk is read with look-alike letters mapped toward the script of its word
("еrесτіоη" is Latin, "р4счленённое" Cyrillic) and leetspeak as letters. terms.py matches the
result; ngrams.py takes its n-grams from it.
"""

from __future__ import annotations

import re
import unicodedata

import emoji

from bot.safety.normalize import _CONFUSABLES, _drop_invisible, _map_enclosed_letters

# a child drawn as an emoji names a minor ("👧 in lingerie"), whatever skin tone follows it
_CHILD_EMOJI = str.maketrans({ch: " child " for ch in "👧👦🧒👶🚸"})
_KANA_MARKS = "\u3099\u309a"  # the voiced and semi-voiced sound marks of kana
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a",
                       "$": "s", "!": "i", "|": "i", "€": "e"})  # fmt: skip
_LEET_L = str.maketrans({"1": "l", "|": "l", "!": "l"})
# "деvочка": v for в; "нuгеры": u for и
_LATIN_TO_CYRILLIC = str.maketrans("aeopcyxkmt306vu", "аеорсухкмтзобви")
_CYRILLIC_LEET = str.maketrans("41", "аи")  # "р4счленённое", "ж1ды"
_CYRILLIC_BANG = re.compile(r"(?<=[а-яё])!(?=[а-яё0-9])")
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_SMALL_KANA_LETTERS = "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
_WORD_RE = re.compile(r"[^\W_]+")
# a wave dash between kana stands for the long-vowel mark ("ヌ〜ド" is "ヌード"), and a run of marks is one
_WAVE_IN_KANA = re.compile(r"(?<=[\u3041-\u30fa])[~\u301c\u3030]+(?=[\u3041-\u30fa])")
_LONG_MARKS = re.compile("\u30fc{2,}")


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3005 <= code <= 0x3007


def fold_text(text: str, *, keep_hiragana: bool = False) -> str:
    """Lowercase text with invisible characters, width, accents and kana variants folded.

    `keep_hiragana`: hiragana and small kana stay as written (the same length, character for
    character), so that a matcher can tell where a katakana word begins and ends."""
    if text.isascii():
        return text.lower()
    text = emoji.replace_emoji(_map_enclosed_letters(text).translate(_CHILD_EMOJI), " ")
    return fold_letters(_drop_invisible(text), keep_hiragana=keep_hiragana)


def fold_letters(text: str, *, keep_hiragana: bool = False) -> str:
    """fold_text for text with no emoji, enclosed letters or invisible characters (a dictionary's
    words): width, case, accents and kana variants folded the same way, without those passes."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # accents go; kana keep their voicing marks ("グロ", gore, is not "クロ", black)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch) or ch in _KANA_MARKS
    )
    text = _LONG_MARKS.sub("\u30fc", _WAVE_IN_KANA.sub("\u30fc", unicodedata.normalize("NFC", text)))
    # kept as written too, small kana stay small: no word begins on one ("エロ" is not in "ジェロ")
    return text if keep_hiragana else to_katakana(text).translate(_SMALL_KANA)


def is_katakana(ch: str) -> bool:
    """A katakana letter or the long-vowel mark (ー), which only katakana words use."""
    return 0x30A1 <= ord(ch) <= 0x30FA or ch == "ー"


def inside_katakana_word(scripts: str, start: int, length: int) -> bool:
    """Whether a short katakana entry (three letters or fewer) at `start` is only a piece of a
    longer katakana word: katakana on both sides ("フェラ" in "カフェラテ", "マンコ" in
    "ロマンコメディ", "ロリ" in "カロリー"), or one more letter that ends the word ("ヌード" in
    "ヌードル", "エロ" in "エロス", "ロリ" in "ロリー"). A word that goes on for two letters or
    more after it is a compound of it ("エロアニメ", "ロリコン"), and one it ends is too
    ("ゴスロリ"); hiragana after it ("エロい", "ロリっ子") end it."""
    if not scripts or length > 3 or not all(is_katakana(ch) for ch in scripts[start : start + length]):
        return False
    end = start + length
    before = start > 0 and is_katakana(scripts[start - 1])
    after = end < len(scripts) and is_katakana(scripts[end])
    last_letter = after and (end + 1 == len(scripts) or not is_katakana(scripts[end + 1]))
    return (before and after) or last_letter


def on_small_kana(scripts: str, start: int) -> bool:
    """Whether a match begins on a small kana that ends the syllable of the kana before it and
    begins no word ("エロ" read in "ミケランジェロ", where ジェ is one syllable; "ょぅじょ" is a word)."""
    return (
        bool(scripts)
        and start > 0
        and scripts[start] in _SMALL_KANA_LETTERS
        and 0x3041 <= ord(scripts[start - 1]) <= 0x30FA
    )


def to_katakana(text: str) -> str:
    """Hiragana shifted to katakana (ひ → ヒ); everything else as it was."""
    return "".join(chr(ord(ch) + 0x60) if 0x3041 <= ord(ch) <= 0x3096 else ch for ch in text)


def fold_chunk(chunk: str) -> list[str]:
    """Readings of one whitespace-separated chunk, script look-alikes and leetspeak mapped."""
    cyrillic = sum(1 for ch in chunk if "\u0400" <= ch <= "\u04ff")
    latin = sum(1 for ch in chunk if "a" <= ch <= "z")
    # a letter only Cyrillic has ("и" in "ceкcи") makes the word Cyrillic whatever the count,
    # when each Latin letter in it has a Cyrillic twin
    cyrillic_word = any("\u0400" <= ch <= "\u04ff" and ord(ch) not in _CONFUSABLES for ch in chunk) and all(
        ord(ch) in _LATIN_TO_CYRILLIC for ch in chunk if "a" <= ch <= "z"
    )
    if cyrillic and (cyrillic >= latin or cyrillic_word):
        chunk = _CYRILLIC_BANG.sub("и", chunk)  # "!" between letters is an и ("н!ггеры"), not a trailing one
        readings = [chunk.translate(_LATIN_TO_CYRILLIC).translate(_CYRILLIC_LEET)]
        if "3" in chunk:  # a 3 is a з by its look and an е in leetspeak: "с3кс"
            readings.append(chunk.replace("3", "е").translate(_LATIN_TO_CYRILLIC))
        latin_reading = chunk.translate(_CONFUSABLES)
        if latin and not any("\u0400" <= ch <= "\u04ff" for ch in latin_reading):  # mixed: "еrесτіоη"
            readings.append(latin_reading.translate(_LEET))
        return readings
    chunk = chunk.translate(_CONFUSABLES)
    bare = chunk.rstrip("!.,?;:'\")]}")
    if not any(ch.isalpha() for ch in bare) or bare.isalpha():
        return [chunk]
    readings = [bare.translate(_LEET)]
    if any(ch in "1|!" for ch in bare):
        readings.append(bare.translate(_LEET_L).translate(_LEET))
    return readings


def reading(chunk: str) -> str:
    """The main reading of one whitespace-separated chunk (look-alikes and leetspeak mapped)."""
    return fold_chunk(chunk)[0]


def word_pieces(text: str) -> list[str]:
    """The words of folded text: runs of letters and digits."""
    return _WORD_RE.findall(text)

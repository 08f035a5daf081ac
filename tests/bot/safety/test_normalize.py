"""Normalisation, one evasion at a time: each case folds to the plain words."""

from __future__ import annotations

import pytest

from bot.safety.normalize import AMBIGUOUS_IL, ANY_LETTER, fold, normalize


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("NuDe BeAcH", ("nude", "beach")),  # case
        ("p0rn", ("porn",)),  # leetspeak digits
        ("$3x", ("sex",)),  # symbol and digit swaps
        ("n.u.d.e", ("n", "u", "d", "e")),  # punctuation inside a word: split in words …
        ("x-rated film", ("x", "rated", "film")),
        ("n\u200bu\u200cd\u200de\u2060", ("nude",)),  # zero-width characters
        ("n\u00adu\ufeffde", ("nude",)),  # soft hyphen, byte-order mark
        ("nu\x00de\x07", ("nude",)),  # control characters
        ("\u202enude\u202c", ("nude",)),  # bidi overrides
        ("ｎｕｄｅ", ("nude",)),  # full-width (NFKC)
        ("𝐧𝐮𝐝𝐞 𝓷𝓾𝓭𝓮", ("nude", "nude")),  # mathematical letters (NFKC)
        ("ⓝⓤⓓⓔ", ("nude",)),  # circled letters (NFKC)
        ("🅝🅤🅓🅔", ("nude",)),  # negative circled letters (no NFKC form)
        ("🅽🆄🅳🅴", ("nude",)),  # negative squared letters
        ("nаkеd", ("naked",)),  # Cyrillic а and е
        ("ΝΑΚΕD", ("naked",)),  # Greek capitals
        ("ɴᴜᴅᴇ", ("nude",)),  # small capitals
        ("nüdé", ("nude",)),  # accents
        ("n̶u̶d̶e̶", ("nude",)),  # combining strike-through
        ("ᴺᵁᴰᴱ", ("nude",)),  # superscript letters
        ("a 🐱 in a 🎩", ("a", "in", "a")),  # emoji come out of the words …
    ],
)
def test_folds_to_words(text: str, words: tuple[str, ...]) -> None:
    assert normalize(text).words == words


def test_chunks_join_punctuation_inside_a_word() -> None:
    assert normalize("n.u.d.e x-rated n_u_d_e").chunks == ("nude", "xrated", "nude")


def test_emoji_are_kept_by_name() -> None:
    assert normalize("a 🐱 in a 🎩").emoji == ("cat_face", "top_hat")


def test_emoji_inside_a_word_becomes_a_wildcard() -> None:
    assert normalize("n🍑ked").words == (f"n{ANY_LETTER}ked",)


def test_ambiguous_leet_is_marked_for_the_lexicon() -> None:
    # "1" may be i or l: the lexicon picks the spelling it knows.
    assert normalize("l1ngerie").words == (f"l{AMBIGUOUS_IL}ngerie",)


def test_numbers_without_letters_are_left_alone() -> None:
    assert normalize("1920 4:3").words == ("1920", "4", "3")


def test_trailing_exclamation_is_punctuation_not_leet() -> None:
    assert normalize("wow!!!").words == ("wow",)


def test_fold_keeps_ordinary_text_readable() -> None:
    assert fold("A Cat, in the RAIN.") == "a cat, in the rain."

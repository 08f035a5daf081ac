"""Deny and allow lists: whole words, prefixes, phrases, operator entries, and the repairs."""

from __future__ import annotations

import pytest

from bot.safety.normalize import normalize
from bot.safety.wordlists import Lexicon, collapse_repeats, parse_entry


def deny_entry(lexicon: Lexicon, text: str) -> str | None:
    term = lexicon.match(normalize(text)).deny
    return term.entry if term else None


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe town centre",
        "a cocktail party",
        "a breast stroke swimmer",
        "a bunch of grapes",
        "a therapist's office",
        "a map of Essex and Sussex",
        "a sextant on a map",
        "a naked mole rat",
        "a blue tit on a feeder",
        "a pen is on the table",  # "pen is" must not join into a listed word
        "an us flag",
        "Bob's burgers",  # collapsing repeats must not turn "bobs" into "boobs"
        "a titmouse",
        "cumulus clouds",
        "a watercolour fox number 1011",  # a pure number is a number, not leet for "loli"
        "a watercolour fox number 10 11",  # nor when spaced: the joined pieces are still digits
    ],
)
def test_innocent_words_pass_the_lists(lexicon: Lexicon, text: str) -> None:
    assert deny_entry(lexicon, text) is None


def test_a_listed_number_is_denied_literally(lexicon: Lexicon) -> None:
    assert deny_entry(lexicon, "a sign that says 80085") is not None
    assert deny_entry(lexicon, "a sign that says 80086") is None


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("a nude woman", "nude"),
        ("pornography", "porn*"),  # prefix entry
        ("a woman wearing nothing", "wearing nothing"),  # phrase entry
        ("n u d e", "nude"),  # single letters spaced out
        ("nak ed man", "naked"),  # one word split in two
        ("ma sturbating", "masturbat*"),
        ("nuuuuude", "nude"),  # repeated letters
        ("l1ngerie", "lingerie"),  # 1 read as i
        ("l0li", "loli"),  # digits inside a word are read as letters
        ("n 4 k e d", "naked"),  # also when the word is spaced out
        ("a l 0 l 1 drawing", "loli"),
        ("n🍑ked", "naked"),  # emoji standing in for a letter
        ("nude,woman", "nude"),  # the split words are checked too
        ("a d u l t film", "adult film"),  # a spaced-out phrase word joins into the phrase
        ("a 💋 naked 🔥 woman", "naked"),
        ("a man in his birthday 😉 suit", "birthday suit"),  # an emoji cannot break a phrase
        ("a man in the buff", "in the buff"),  # thesaurus synonyms of naked
        ("an unclad woman", "unclad"),
        ("a man wanking", "wank*"),
        ("a woman pleasuring herself", "pleasuring herself"),
        ("a photo of a girl being groped", "groped"),
        ("a gropius building", None),  # not a prefix entry: Walter Gropius passes
    ],
)
def test_deny_entries_match(lexicon: Lexicon, text: str, entry: str | None) -> None:
    assert deny_entry(lexicon, text) == entry


def test_a_spaced_join_never_swallows_a_list_word() -> None:
    # "asexual" is a known word, but "a sexual act" is "a" + the listed "sexual", not a split "asexual".
    lexicon = Lexicon.build(known_words={"asexual", "act", "pose"})
    assert deny_entry(lexicon, "a child in a sexual pose") == "sexual"
    assert deny_entry(lexicon, "a sexual act") == "sexual"
    assert deny_entry(lexicon, "asexual reproduction") is None
    assert deny_entry(lexicon, "a sex y woman") == "sexy"  # a list word plus a stray letter still joins


@pytest.mark.parametrize(
    "text",
    [
        "un paseo por Nápoles al atardecer",
        "gracias por nada, dibujo de un gato",
        "un regalo por Navidad para mi abuela",
        "passeio por Niterói de bicicleta",
        "viajando por Noruega en invierno",
    ],
)
def test_everyday_words_of_other_languages_are_not_joined(lexicon: Lexicon, text: str) -> None:
    # "por" + "Nápoles" made "pornapoles", a `porn*` word: both pieces are everyday Spanish
    assert deny_entry(lexicon, text) is None


@pytest.mark.parametrize("text", ["por n hub", "por nvideos of a woman", "p orn video", "p o r n"])
def test_a_spaced_out_word_is_still_joined(lexicon: Lexicon, text: str) -> None:
    assert deny_entry(lexicon, text) == "porn*"


def test_an_entry_written_with_digits_matches_itself_and_its_leet_spellings() -> None:
    lexicon = Lexicon.build(extra_deny=["r18"])
    assert deny_entry(lexicon, "an r18 drawing") == "r18"
    assert deny_entry(lexicon, "an R-18 drawing") == "r18"
    assert deny_entry(lexicon, "an r 1 8 drawing") == "r18"  # spaced out, joined again
    assert deny_entry(lexicon, "a rib roast") is None  # the letters alone are another word


def test_allow_phrase_masks_only_its_own_words(lexicon: Lexicon) -> None:
    assert deny_entry(lexicon, "a comet visible to the naked eye") is None
    assert deny_entry(lexicon, "the naked eye and a nude woman") == "nude"


@pytest.mark.parametrize(
    "text",
    ["the naked truth", "a naked tree on a hill", "naked branches over a river", "a knight's naked blade",
     "a nude pink scarf", "nude nails and a ring", "a diagram of the sex chromosomes"],
)  # fmt: skip
def test_figurative_senses_pass_as_phrases(lexicon: Lexicon, text: str) -> None:
    assert deny_entry(lexicon, text) is None


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("a naked woman under a naked tree", "naked"),  # the figurative phrase masks only itself
        ("a naked truth teller", None),
        ("the naked truth about a naked man", "naked"),
        ("naked", "naked"),
        ("a tree, naked", "naked"),  # the context rule is the phrase, not a nearby word
        ("sex of a chromosome", "sex"),
    ],
)
def test_figurative_phrases_leave_the_literal_sense_refused(
    lexicon: Lexicon, text: str, entry: str | None
) -> None:
    assert deny_entry(lexicon, text) == entry


def test_operator_deny_entries_are_whole_words_with_optional_prefix() -> None:
    lexicon = Lexicon.build(extra_deny=["grope*", "Kitten Heels"])
    assert deny_entry(lexicon, "gropeful hands") == "grope*"  # "groped" is a built-in entry of its own
    assert deny_entry(lexicon, "a pair of kitten heels") == "Kitten Heels"
    assert deny_entry(lexicon, "a kitten") is None  # a phrase needs all its words
    assert deny_entry(lexicon, "a gropey name") == "grope*"
    assert deny_entry(lexicon, "a microgroper") is None  # prefix entries still start at a word


def test_operator_deny_entries_are_normalised_like_prompts() -> None:
    lexicon = Lexicon.build(extra_deny=["ＦＯＯＢＡＲ"])
    assert deny_entry(lexicon, "f00bar") == "ＦＯＯＢＡＲ"


def test_operator_allow_entry_lets_a_listed_word_through() -> None:
    assert deny_entry(Lexicon.build(), "a sexy car") == "sexy"
    assert deny_entry(Lexicon.build(extra_allow=["sexy car"]), "a sexy car") is None
    assert deny_entry(Lexicon.build(extra_allow=["sexy car"]), "a sexy woman") == "sexy"


def test_an_allowed_word_is_never_joined_to_the_next_one() -> None:
    # "im" is no English word, and "pornobalkenim" starts with the listed "porn": joined, the allow
    # entry never matched (a German moustache, refused as pornography before 2026-12-06)
    lexicon = Lexicon.build()  # allow.txt lists "pornobalken"
    assert deny_entry(lexicon, "ein Mann mit Pornobalken im Büro") is None
    assert deny_entry(Lexicon.build(extra_allow=["Pornheft"]), "ein Pornheft im Büro") is None
    assert deny_entry(lexicon, "Porno im Büro, ein Mann mit Pornobalken") == "porn*"
    assert deny_entry(lexicon, "ein nak ed Mann mit Pornobalken") == "naked"  # other joins still happen


def test_match_reports_the_allow_entries_used() -> None:
    match = Lexicon.build(extra_allow=["Scunthorpe"]).match(normalize("Scunthorpe at dawn"))
    assert [t.entry for t in match.allowed] == ["Scunthorpe"]
    assert match.tokens == ("at", "dawn")  # the classifier does not see masked words


def test_parse_entry() -> None:
    term = parse_entry(" Blow-Job* ", "config")
    assert term is not None and term.words == ("blow", "job") and term.prefix and term.source == "config"
    assert parse_entry("  ", "config") is None


def test_collapse_repeats() -> None:
    assert collapse_repeats("nuuuude") == "nude"
    assert collapse_repeats("boobs") == "bobs"

"""Respellings one by one: each disguise of a listed word still matches it; near words do not."""

from __future__ import annotations

import pytest

from bot.safety.entries import Entry, parse_terms
from bot.safety.terms import TermIndex, collapse, fold_text


@pytest.fixture(scope="module")
def index() -> TermIndex:
    return TermIndex.packaged(known_words={"field", "cumin", "cutting"})


def kinds(index: TermIndex, text: str) -> dict[str, set[str]]:
    hits, _ = index.match(text)
    return {kind: {e.text for e in entries} for kind, entries in hits.by_kind.items()}


@pytest.mark.parametrize(
    ("technique", "text", "kind", "entry"),
    [
        ("plain", "naked", "nude", "naked"),
        ("vowel swap", "nekkid", "nude", "naked"),
        ("doubled letters", "nuuuude", "nude", "nude"),
        ("dropped letter", "s*icide", "self_harm.strong", "suicide"),
        ("leetspeak", "su1c1de", "self_harm.strong", "suicide"),
        ("leetspeak l for 1", "l0l1 girl", "minor", "loli"),
        ("spaced letters", "n a k e d", "nude", "naked"),
        ("dotted letters", "n.u.d.e", "nude", "nude"),
        ("underscored letters", "n_u_d_e", "nude", "nude"),
        ("zero-width characters", "n\u200bu\u200dd\u00ade", "nude", "nude"),
        ("full-width letters", "ｎｕｄｅ", "nude", "nude"),
        ("Cyrillic look-alikes in Latin", "nаkеd", "nude", "naked"),
        ("Latin look-alikes in Cyrillic", "гoлaя", "nude", "голая"),
        ("spaced mixed scripts", "г o л a я", "nude", "голая"),
        ("accents", "nüde", "nude", "nude"),
        ("stem with ending", "desnudita", "nude", "desnud*"),
        ("short pieces", "tr u p", "violence_gore.weak", "trup"),
        ("slang", "unalive", "self_harm.strong", "unalive"),
        ("half-width katakana", "ﾇｰﾄﾞ", "nude", "ヌード"),
        ("hiragana for katakana", "ぽるの", "sexual.strong", "ポルノ"),
        ("masked character", "セッ〇ス", "sexual.strong", "セックス"),
        ("spaced kana", "は だ か", "nude", "ハダカ"),
        ("emoji between words", "nude 🔥 woman", "nude", "nude"),
    ],
)
def test_a_respelling_still_matches(
    index: TermIndex, technique: str, text: str, kind: str, entry: str
) -> None:
    assert entry in kinds(index, text).get(kind, set()), technique


@pytest.mark.parametrize(
    "text",
    ["field", "cumin seeds", "cutting paper", "Essex", "sextant", "cocktail", "pussy willow", "Penistone",
     "a naked mole rat", "裸足", "ロリータファッション", "1011", "the number 10 11"],
)  # fmt: skip
def test_ordinary_words_do_not_match_as_respellings(index: TermIndex, text: str) -> None:
    found = kinds(index, text)
    assert not {k for k in found if k.endswith(".strong") or k in ("nude", "minor")}, found


def test_ages_under_eighteen_are_minors_in_every_language(index: TermIndex) -> None:
    for text in (
        "a 12 year old",
        "de 10 años",
        "12-jährige",
        "10 лет",
        "12歳",
        "ten-year-old",
        "zwölfjährig",
    ):
        assert kinds(index, text).get("minor"), text
    assert not kinds(index, "a 30 year old").get("minor")


def test_folding_and_parsing() -> None:
    assert fold_text("ＣＡＦÉ") == "cafe" and collapse("nuuude") == "nude"
    assert parse_terms("nude en: naked nude*\n# comment\n") == [
        Entry("nude", "en", "naked"),
        Entry("nude", "en", "nude*"),
    ]
    with pytest.raises(ValueError, match="line 1"):
        parse_terms("no colon here")

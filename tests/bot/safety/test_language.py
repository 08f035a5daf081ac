"""Language identification on short prompts, and words judged in their own language."""

from __future__ import annotations

import pytest

from bot.safety.filter import SafetyFilter
from bot.safety.language import LanguageIdentifier


@pytest.fixture(scope="module")
def languages() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(
    ("prompt", "language"),
    [
        ("a red fox in the snow", "en"),
        ("un zorro rojo en la nieve", "es"),
        ("un renard roux dans la neige", "fr"),
        ("ein roter Fuchs im Schnee", "de"),
        ("uma raposa vermelha na neve", "pt"),
        ("una volpe rossa nella neve", "it"),
        ("рыжая лиса в снегу", "ru"),
        ("雪の中の赤いキツネ", "ja"),
        ("雪景色", "ja"),  # kanji alone: of the eight, only Japanese
    ],
)
def test_short_prompts_are_identified(languages: LanguageIdentifier, prompt: str, language: str) -> None:
    found = languages.identify(prompt)
    assert found.best == language and language in found.likely


def test_an_ambiguous_short_prompt_keeps_more_than_one_reading(languages: LanguageIdentifier) -> None:
    assert len(languages.identify("bite").likely) >= 2


def test_a_word_counts_only_in_its_language(safety: SafetyFilter) -> None:
    # German "Kind" is a child; English "kind" is not a minor word.
    assert safety.check_prompt("a kind woman in lingerie, seductive").category.value == "sexual"  # type: ignore[union-attr]
    assert safety.check_prompt("ein Kind in Unterwäsche, verführerisch").category.value == "sexual_minors"  # type: ignore[union-attr]
    # French "ado" (teenager) is not a minor word in an English prompt.
    assert safety.check_prompt("much ado about nothing, a sexy stage costume").allowed

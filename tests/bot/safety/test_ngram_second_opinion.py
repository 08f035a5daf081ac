"""A refusal by the n-gram classifier alone (letters that resemble a listed word) is judged against
its own, higher bar, ngram_clear_below; a refusal by a term keeps clear_below."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.safety import train_semantic
from bot.safety.filter import SafetyFilter
from bot.safety.policy import Category
from bot.safety.semantic import DIMENSIONS, SemanticClassifier, SemanticHead
from bot.safety.settings import SafetySettings
from tests.bot.safety.conftest import FixedScore, make_filter
from tests.bot.safety.test_semantic import _mix, one_hot_head

EVERY = frozenset(Category)
# refused by the n-grams alone: "Juden" anchors hate, no term or rule refuses it
MEMORIAL = "Denkmal für die ermordeten Juden Europas in Berlin, Stelenfeld im Winter"
CONTEMPT = "eine Karikatur: Juden als Ratten in einem Keller"  # a group and contempt: a rule refuses it


class ReadsAs:
    """Every prompt reads as the same label probabilities."""

    def __init__(self, *parts: tuple[str, float]) -> None:
        self.row = _mix(*parts)

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.row, (len(texts), 1)).reshape(len(texts), DIMENSIONS)


def classifier(clear: float | None, ngram: float | None, hate: float) -> SemanticClassifier:
    head = replace(one_hot_head(0.8), clear_below=clear, ngram_clear_below=ngram)
    return SemanticClassifier(head, ReadsAs(("hate", hate), ("safe", 1.0 - hate)))


def gate_with(semantic: SemanticClassifier) -> SafetyFilter:
    base = make_filter()
    return SafetyFilter(
        SafetySettings(), lexicon=base.lexicon, prompt_model=base.prompt_model,
        image_classifier=FixedScore(0.0), terms=base.terms, ngram_model=base.ngram_model, semantic=semantic,
    )  # fmt: skip


def test_an_ngram_refusal_is_cleared_below_its_own_bar_and_a_term_refusal_is_not() -> None:
    semantic = classifier(0.1, 0.4, hate=0.25)
    assert semantic.clears("a quiet street at dusk", EVERY) is None
    assert semantic.clears("a quiet street at dusk", EVERY, ngram_only=True) == pytest.approx(0.25, abs=1e-3)
    assert classifier(0.1, 0.4, hate=0.45).clears("a quiet street at dusk", EVERY, ngram_only=True) is None
    # never below clear_below, never at or above the threshold
    assert classifier(0.3, 0.2, hate=0.25).clears("a quiet street", EVERY, ngram_only=True) is not None
    assert classifier(0.1, None, hate=0.25).clears("a quiet street", EVERY, ngram_only=True) is None
    high = replace(one_hot_head(0.2), clear_below=0.1, ngram_clear_below=0.5)
    above = SemanticClassifier(high, ReadsAs(("hate", 0.25), ("safe", 0.75)))
    assert above.clears("a quiet street", EVERY, ngram_only=True) is None
    # without a clear_below nothing is overruled, whatever the n-grams' bar
    assert classifier(None, 0.4, hate=0.01).clears("a quiet street", EVERY, ngram_only=True) is None


def test_the_gate_applies_the_ngram_bar_only_where_the_ngrams_alone_refused() -> None:
    terms_only = make_filter(prompt={"semantic": False})
    assert "hate: n-gram classifier" in (terms_only.check_prompt(MEMORIAL).detail or "")
    assert "n-gram" not in (terms_only.check_prompt(CONTEMPT).detail or "")
    assert terms_only.check_prompt(CONTEMPT).category is Category.HATE
    gate = gate_with(classifier(0.1, 0.4, hate=0.25))
    memorial = gate.check_prompt(MEMORIAL)
    assert memorial.allowed and "overruled by the semantic classifier" in (memorial.detail or "")
    assert gate.check_prompt(CONTEMPT).category is Category.HATE
    # at clear_below alone (no n-gram bar) the memorial stays refused at that reading
    assert gate_with(classifier(0.1, None, hate=0.25)).check_prompt(MEMORIAL).category is Category.HATE


def test_the_head_keeps_its_ngram_bar_above_clear_below() -> None:
    head = replace(one_hot_head(), clear_below=0.05, ngram_clear_below=0.3)
    assert SemanticHead.from_json(head.to_json()).ngram_clear_below == 0.3
    assert SemanticHead.from_json(one_hot_head().to_json()).ngram_clear_below is None
    for wrong in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="ngram_clear_below"):
            replace(head, ngram_clear_below=wrong)
    packaged = make_filter().semantic  # the operator's setting: test_second_opinion
    assert packaged is not None and packaged.head.clear_below is not None
    assert packaged.head.ngram_clear_below is not None
    assert packaged.head.clear_below < packaged.head.ngram_clear_below


def test_training_tells_the_ngrams_refusals_from_the_terms() -> None:
    refuse, ngram_only = train_semantic.terms_refusals([MEMORIAL, CONTEMPT, "a quiet street at dusk"])
    assert refuse.tolist() == [True, True, False]
    assert ngram_only.tolist() == [True, False, False]


class ClauseReadsAs:
    """A clause (no comma) holding `word` reads as hate; anything else, the whole prompt included,
    as mostly safe: cheerful clauses around an unsafe one pull the whole prompt under the bar."""

    def __init__(self, word: str) -> None:
        self.word = word

    def __call__(self, texts: list[str]) -> np.ndarray:
        unsafe, mostly_safe = _mix(("hate", 0.95), ("safe", 0.05)), _mix(("hate", 0.25), ("safe", 0.75))
        rows = [unsafe if self.word in t and "," not in t else mostly_safe for t in texts]
        return np.stack(rows).reshape(len(texts), DIMENSIONS)


def test_an_ngram_refusal_is_not_cleared_when_one_of_its_clauses_reads_as_refused() -> None:
    head = replace(one_hot_head(0.8), clear_below=0.1, ngram_clear_below=0.4)
    refused = gate_with(SemanticClassifier(head, ClauseReadsAs("Stelenfeld"))).check_prompt(MEMORIAL)
    assert refused.category is Category.HATE
    cleared = gate_with(SemanticClassifier(head, ClauseReadsAs("nowhere"))).check_prompt(MEMORIAL)
    assert cleared.allowed

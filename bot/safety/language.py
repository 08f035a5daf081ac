"""Which language a prompt is in, so that a word is judged in its own language ("Kind", "bite").

py3langid (a naive-Bayes byte n-gram model inside its wheel, numpy only, offline) restricted to
the languages the policy covers. Scripts decide first where they can: kana means Japanese,
Cyrillic means Russian. A short prompt is often ambiguous, so every language within reach of
the best one is returned, not just the best.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "ru", "ja")
# A language this close to the best one (probability ratio) counts as well: "bite" alone is as
# likely English as French, and both readings are then weighed.
_NEAR = 0.35
# Words only French writes among the policy's languages: a short French prompt is often taken
# for Spanish ("une ado en string"), and its French words ("string") would then not count
_FRENCH_WORDS = frozenset(
    {"une", "avec", "dans", "aux", "chez", "sous", "très", "tres", "est", "et", "nue", "nues", "qu'elle",
     "c'est", "toute", "leur", "elle", "ils", "elles", "petit"}
)  # fmt: skip


@dataclass(frozen=True)
class Languages:
    """The likely languages of one prompt, best first."""

    best: str
    likely: frozenset[str]
    confidence: float


def _script_language(text: str) -> str | None:
    kana = cyrillic = latin = 0
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0xFF66 <= code <= 0xFF9F:
            kana += 1
        elif 0x0400 <= code <= 0x04FF:
            cyrillic += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    if kana:
        return "ja"
    if any(0x4E00 <= ord(ch) <= 0x9FFF for ch in text) and latin == 0 and cyrillic == 0:
        return "ja"  # kanji alone: of the policy's languages only Japanese writes them
    if cyrillic > latin:
        return "ru"
    return None


class LanguageIdentifier:
    """Loads the py3langid model on first use (about 1.5 s), then ~0.1 ms a prompt."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        self.languages = languages
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                from py3langid.langid import MODEL_FILE
                from py3langid.langid import LanguageIdentifier as Model

                model = Model.from_model_file(MODEL_FILE, norm_probs=True)
                model.set_languages(list(self.languages))
                self._model = model
        return self._model

    def identify(self, text: str) -> Languages:
        """The best language and those near it; script decides Japanese and Russian outright."""
        by_script = _script_language(text)
        if by_script is not None:
            return Languages(by_script, frozenset({by_script}), 1.0)
        model = self._model or self._load()
        ranked = model.rank(text)  # type: ignore[attr-defined]
        best, top = ranked[0]
        likely = {lang for lang, p in ranked if p >= top * _NEAR and lang not in ("ru", "ja")}
        if "fr" in self.languages and not _FRENCH_WORDS.isdisjoint(text.lower().split()):
            likely.add("fr")
        return Languages(best, frozenset(likely | {best}), float(top))

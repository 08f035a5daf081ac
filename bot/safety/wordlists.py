"""The word lists: built-in and operator deny/allow entries, matched on whole normalised words.

Matching runs on the output of normalize(). The lexicon also undoes the evasions that need to
know the vocabulary to be undone safely:
  * leet "1" / "|" / "!" may be "i" or "l", and an emoji inside a word may stand for a letter:
    the spelling that is a listed word wins; digits are read as letters only inside a word
    ("l0li", "n 4 k e d"), never in a number of digits alone ("1011", "10 11");
  * repeated letters ("nuuuude") collapse only when the collapsed form is a listed word with
    the same letters, so "Bobs" does not become "boobs";
  * words spaced apart ("n u d e", "nak ed") are joined only when the pieces are short, the
    result is a listed word, and not every piece is a common word ("pen is", "an us" stay apart;
    nor "por Nueva York", "por nada": the words of other languages' everyday text count too).
Whole-word matching is what lets "Scunthorpe", "cocktail", "grapes" and "therapist" through.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

from bot.safety.normalize import AMBIGUOUS_IL, ANY_LETTER, Normalized, leet_reading, normalize
from bot.safety.ordinary import LANGUAGES, common_words

_MAX_PIECE = 5  # letters in one piece of a spaced-out word ("nak ed")
_MAX_PIECES = 4  # pieces of several letters joined at most; single letters may run to _MAX_LETTERS
_MAX_LETTERS = 16
_MEMO_SIZE = 50_000
_REPEAT_RE = re.compile(r"(.)\1+")


def _common_words() -> frozenset[str]:
    """data/common.txt: a spaced-out join made only of these is ordinary text ("pen is")."""
    text = resources.files("bot.safety").joinpath("data", "common.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@functools.cache
def _everyday_words() -> frozenset[str]:
    """Words of three letters or more of the other languages' everyday text (wordfreq): "por Nueva York"
    is no spaced-out "porn...", while "nu de", "na ked" are still a word split in two. Built once."""
    everyday = frozenset().union(*(common_words(lang) for lang in LANGUAGES - {"en"}))
    return frozenset(w for w in everyday if len(w) >= 3)


def collapse_repeats(word: str) -> str:
    """Every run of one letter becomes a single letter: "nuuuude" → "nude", "boobs" → "bobs"."""
    return _REPEAT_RE.sub(r"\1", word)


@dataclass(frozen=True)
class Term:
    """One list entry: normalised words; a prefix entry's last word matches any ending."""

    words: tuple[str, ...]
    prefix: bool
    entry: str  # as written, for the audit detail
    source: str  # "built-in" or "config"


def parse_entry(entry: str, source: str) -> Term | None:
    """Normalise one list entry ("Scunthorpe", "grope*", "blow job"); None for a blank one."""
    text = entry.strip()
    prefix = text.endswith("*")
    words = normalize(text.rstrip("*")).words
    if not words:
        return None
    return Term(words=tuple(words), prefix=prefix, entry=text, source=source)


def load_builtin(name: str) -> list[str]:
    """Entries of a packaged list file (data/deny.txt, data/allow.txt), comments dropped."""
    text = resources.files("bot.safety").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class LexiconMatch:
    """What the lexicon found in a prompt."""

    tokens: tuple[str, ...]  # canonical words, allow-listed phrases removed: the classifier's input
    deny: Term | None  # the first deny entry found, if any
    allowed: tuple[Term, ...]  # allow entries that masked part of the prompt


class Lexicon:
    """Deny and allow entries with the vocabulary-aware repairs described in the module docstring."""

    def __init__(self, deny: Iterable[Term], allow: Iterable[Term], known_words: Iterable[str] = ()) -> None:
        """`known_words` (the classifier's vocabulary) are also restored from repeated letters."""
        self.deny = tuple(deny)
        self.allow = tuple(allow)
        terms = self.deny + self.allow
        self._vocab = {w for t in terms for w in t.words}
        self._known_words = set(known_words) - self._vocab
        self._stems = tuple(sorted({t.words[-1] for t in terms if t.prefix}))
        self._collapsed: dict[str, str] = {}
        for word in sorted(self._vocab) + sorted(self._known_words):  # list words win a tie
            self._collapsed.setdefault(collapse_repeats(word), word)
        self._collapsed_stems = tuple((collapse_repeats(s), s) for s in self._stems)
        self._deny_by_first, self._deny_prefix = _index(self.deny)
        self._allow_by_first, self._allow_prefix = _index(self.allow)
        # an allow-listed word is whole: "Pornobalken im Büro" must not join into "pornobalkenim"
        self._allowed_words = {t.words[0] for t in self.allow if len(t.words) == 1 and not t.prefix}
        self._common = _common_words()
        self._everyday = _everyday_words()
        self._resolved: dict[str, str] = {}  # memo: most prompts reuse the same few hundred words

    @classmethod
    def build(
        cls, extra_deny: Sequence[str] = (), extra_allow: Sequence[str] = (), known_words: Iterable[str] = ()
    ) -> Lexicon:
        """The built-in lists plus the operator's entries from config."""

        def parse(entries: Iterable[str], source: str) -> list[Term]:
            return [t for e in entries if (t := parse_entry(e, source)) is not None]

        deny = parse(load_builtin("deny.txt"), "built-in") + parse(extra_deny, "config")
        allow = parse(load_builtin("allow.txt"), "built-in") + parse(extra_allow, "config")
        return cls(deny, allow, known_words)

    # -- single words ---------------------------------------------------------------------------

    def _known(self, word: str) -> bool:
        return word in self._vocab or any(word.startswith(s) for s in self._stems)

    def resolve(self, token: str) -> str:
        """The listed spelling `token` stands for, if any; otherwise its plain reading."""
        resolved = self._resolved.get(token)
        if resolved is None:
            if len(self._resolved) > _MEMO_SIZE:
                self._resolved.clear()
            resolved = self._resolved[token] = self._resolve(token)
        return resolved

    def _resolve(self, token: str) -> str:
        candidates = _expand_markers(token)
        # Leetspeak puts digits inside a word ("n4ked", or "n 4 k e d" joined); a token of digits
        # alone is a number ("1011" is not "loli"), so it keeps its plain reading.
        if any(ch.isdigit() for ch in token) and not token.isdigit():
            candidates += _expand_markers(leet_reading(token))
            token = leet_reading(token)
        # An entry written with digits ("r18") is stored in its leet form; the same form matches.
        if token in self._vocab:
            return token
        for word in candidates:
            if self._known(word):
                return word
        for word in candidates:
            if word in self._known_words:
                return word
        for word in candidates:
            squeezed = collapse_repeats(word)
            if squeezed == word:
                continue
            if squeezed in self._collapsed:
                return self._collapsed[squeezed]
            for collapsed_stem, stem in self._collapsed_stems:
                if squeezed.startswith(collapsed_stem):
                    return stem + squeezed[len(collapsed_stem) :]
        return candidates[0]

    def _deny_word(self, word: str) -> Term | None:
        for term in self._deny_by_first.get(word, ()):
            if len(term.words) == 1:
                return term
        return next((t for t in self._deny_prefix if word.startswith(t.words[0])), None)

    # -- sequences --------------------------------------------------------------------------------

    def _real(self, piece: str) -> bool:
        if len(piece) == 1:
            return piece in ("a", "i")
        # A list word is whole already: "a sexual act" must not join into the known word "asexual".
        known = piece in self._common or piece in self._known_words or piece in self._vocab
        return known or piece in self._everyday

    def _join_spaced(self, tokens: list[str]) -> list[str]:
        """Join the pieces of a spaced-out word ("n u d e", "nak ed", "ma sturbating", "cou ple").

        A window joins only if the result is a word of the lists or a known word and at least one
        piece is not a real word, so "pen is" and "an us" stay apart, and no piece is an allow-listed
        word. Two pieces may be long; three or four must be short (at most five letters each); longer
        runs must be single letters.
        """
        unreal = [not self._real(t) for t in tokens]
        if not any(unreal):
            return tokens
        allowed = [t in self._allowed_words for t in tokens]
        out: list[str] = []
        i = 0
        while i < len(tokens):
            joined_at = None
            for j in range(self._window_end(tokens, i), i + 1, -1):
                if not any(unreal[i:j]) or any(allowed[i:j]):
                    continue
                pieces = tokens[i:j]
                word = self.resolve("".join(pieces))
                if self._known(word) or word in self._known_words:
                    joined_at = (j, word)
                    break
            if joined_at is None:
                out.append(tokens[i])
                i += 1
            else:
                out.append(joined_at[1])
                i = joined_at[0]
        return out

    @staticmethod
    def _window_end(tokens: list[str], i: int) -> int:
        """The end of the longest window at `i` the join rules allow."""
        end = min(len(tokens), i + 2)
        short_end, letters_end = min(len(tokens), i + _MAX_PIECES), min(len(tokens), i + _MAX_LETTERS)
        while end < short_end and all(len(t) <= _MAX_PIECE for t in tokens[i : end + 1]):
            end += 1
        while end < letters_end and all(len(t) == 1 for t in tokens[i : end + 1]):
            end += 1
        return end

    @staticmethod
    def _occurrences(
        by_first: dict[str, list[Term]], prefix: list[Term], tokens: Sequence[str]
    ) -> Iterator[tuple[int, Term]]:
        for i, token in enumerate(tokens):
            for term in by_first.get(token, ()):
                if _phrase_at(term, tokens, i):
                    yield i, term
            for term in prefix:
                if token.startswith(term.words[0]):
                    yield i, term

    def _mask_allowed(self, tokens: list[str]) -> tuple[list[str], list[Term]]:
        used: list[Term] = []
        keep = [True] * len(tokens)
        for i, term in self._occurrences(self._allow_by_first, self._allow_prefix, tokens):
            keep[i : i + len(term.words)] = [False] * len(term.words)
            if term not in used:
                used.append(term)
        if not used:
            return tokens, used
        return [t for t, k in zip(tokens, keep, strict=True) if k], used

    def _find_deny(self, tokens: list[str]) -> Term | None:
        found = self._occurrences(self._deny_by_first, self._deny_prefix, tokens)
        return next((term for _, term in found), None)

    def match(self, normalized: Normalized) -> LexiconMatch:
        """Canonical words of a normalised prompt, the first deny entry found, and allow entries used."""
        # Chunks keep "n.u.d.e" whole; words split "nude,woman". Both views are checked.
        chunks = self._join_spaced([self.resolve(c) for c in normalized.chunks])
        chunks, allowed = self._mask_allowed(chunks)
        deny = self._find_deny(chunks)
        if deny is None and normalized.words != normalized.chunks:
            words, allowed_words = self._mask_allowed([self.resolve(w) for w in normalized.words])
            deny = self._find_deny(words)
            allowed += [t for t in allowed_words if t not in allowed]
        # Emoji go to the classifier as their own features, after the words.
        tokens = (*chunks, *(f"emoji:{name}" for name in normalized.emoji))
        return LexiconMatch(tokens=tokens, deny=deny, allowed=tuple(allowed))

    def flags(self, text: str) -> bool:
        """True when the deny list alone refuses `text`."""
        return self.match(normalize(text)).deny is not None


def _index(terms: Iterable[Term]) -> tuple[dict[str, list[Term]], list[Term]]:
    """Terms by their first word, plus the one-word prefix terms (which have no fixed first word)."""
    by_first: dict[str, list[Term]] = {}
    prefix: list[Term] = []
    for term in terms:
        if term.prefix and len(term.words) == 1:
            prefix.append(term)
        else:
            by_first.setdefault(term.words[0], []).append(term)
    return by_first, prefix


def _phrase_at(term: Term, tokens: Sequence[str], i: int) -> bool:
    """True when `term` matches `tokens` starting at `i`."""
    n = len(term.words)
    if i + n > len(tokens) or tuple(tokens[i : i + n - 1]) != term.words[:-1]:
        return False
    last, stem = tokens[i + n - 1], term.words[-1]
    return last.startswith(stem) if term.prefix else last == stem


def _expand_markers(token: str, limit: int = 64) -> list[str]:
    """Spellings a token with leet/emoji markers may stand for; the plain reading first."""
    if AMBIGUOUS_IL not in token and ANY_LETTER not in token:
        return [token]
    options: list[tuple[str, ...]] = []
    for ch in token:
        if ch == AMBIGUOUS_IL:
            options.append(("i", "l"))
        elif ch == ANY_LETTER:
            options.append(("", *"aeiouybcdfghjklmnpqrstvwxz"))
        else:
            options.append((ch,))
    return ["".join(p) for p in itertools.islice(itertools.product(*options), limit)]

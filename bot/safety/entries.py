"""The entries of data/terms.txt (kind, language, text), read from its lines, and the hits of one
prompt by kind, which the rules count (rules.py, contexts.py). The matching is terms.py's."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from bot.safety.folding import fold_text

TERMS_FILE = "terms.txt"


@functools.cache
def _folded_entry(text: str) -> str:
    return fold_text(text)  # entries are few (a few thousand): folded once each


@dataclass(frozen=True)
class Entry:
    """One entry of data/terms.txt."""

    kind: str
    lang: str
    text: str  # as written, for the audit detail


@dataclass
class Hits:
    """What matched in one prompt, by kind; entries of another language are kept but may not count."""

    by_kind: dict[str, set[Entry]] = field(default_factory=lambda: defaultdict(set))

    def add(self, entry: Entry) -> None:
        self.by_kind[entry.kind].add(entry)

    def words(self, kind: str, languages: frozenset[str]) -> set[str]:
        """The distinct entries of `kind` that count in these languages ("*" and Japanese always)."""
        # Folded, and a form its own prefix entry covers dropped: "lencería*" and "lenceria*",
        # "nipples" and "nipple*" are one word to a rule that counts two.
        by_kind = self.by_kind.get(kind)
        if not by_kind:  # most kinds the rules ask about matched nothing: ~300 asks a prompt
            return set()
        found = {_folded_entry(e.text) for e in by_kind if e.lang in ("*", "ja") or e.lang in languages}
        prefixes = [w[:-1] for w in found if w.endswith("*")]
        found = {w for w in found if w.endswith("*") or not any(w.startswith(p) for p in prefixes)}
        # a stem hit of a word also matched as written is that word again ("dick's": "dick", "dick~")
        return {
            w for w in found if not (w.endswith("~") and any(o != w and o.startswith(w[:-1]) for o in found))
        }


def parse_terms(text: str) -> list[Entry]:
    """data/terms.txt's lines as entries; a malformed line raises ValueError naming it."""
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        head, sep, body = line.partition(":")
        parts = head.split()
        if not sep or len(parts) != 2:
            raise ValueError(f"{TERMS_FILE} line {number}: expected '<kind> <lang>: entries', got {line!r}")
        entries.extend(Entry(parts[0], parts[1], word) for word in body.split())
    return entries

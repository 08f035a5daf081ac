"""Concepts a word list cannot hold: words held apart, and a word told by its neighbours.

German splits its verbs ("zieht sich vor der Kamera aus", undresses), so an entry of adjacent
words misses them; "Junge" is a boy as a noun and "young" as an adjective ("der Junge im Bett",
"eine junge Frau"); Japanese writes school years in Latin initials inside its own text
("JKのパンチラ": a high-school girl). Each pattern runs on the folded prompt (lower case, no
accents, kana folded) and names the kind of term it stands for.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# (kind, what the audit shows, pattern)
PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # a separable verb of undressing, up to six words apart: "zieht sich langsam vor der Kamera aus"
    ("nude", "zieht sich … aus", re.compile(r"\b(?:zieht|ziehen|zog|zogen)\s+(?:sich|ihr|ihm)\b(?:\s+\S+){0,6}?\s+aus\b")),
    # "Junge" as a noun: at the end, before punctuation, a preposition or a verb, not before a noun
    ("minor", "junge (noun)", re.compile(
        r"\bjunge[n]?\b(?=\s*(?:$|[,.;:!?)]|(?:im|in|mit|am|an|auf|beim|und|ohne|zieht|ist|liegt|steht|sitzt"
        r"|posiert|badet|duscht|schlaft|spielt|von|vor|unter|bei|zeigt|nackt|oben|allein)\b))"
    )),
    ("minor", "kleiner junge", re.compile(r"\b(?:kleine[rn]?|nackte[rn]?|der|dem|den|einem|einen)\s+jungen?\b(?!\s+(?:frau|mann|manner|frauen|dame|leute|erwachsene\w*)\b)")),
)  # fmt: skip
# JK, JC, JS: a high-school, middle-school and primary-school girl, written inside Japanese text
_SCHOOLGIRL_INITIALS = re.compile(r"(?<![a-z])(?:jk|jc|js|dk|dc|ds)(?![a-z])")


_OFFICE_LADY = re.compile(r"(?<![a-z])ol(?![a-z])")  # "OLがブラウスを…": an office worker, a woman


def pattern_kinds(folded: str) -> list[tuple[str, str]]:
    """(kind, label) of each pattern the folded prompt holds."""
    found = [(kind, label) for kind, label, pattern in PATTERNS if pattern.search(folded)]
    if _CJK.search(folded) and _SCHOOLGIRL_INITIALS.search(folded):
        found.append(("minor", "jk/jc/js"))
    if _CJK.search(folded) and _OFFICE_LADY.search(folded):
        found.append(("person", "ol"))
    return found

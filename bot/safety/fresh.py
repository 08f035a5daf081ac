"""The multilingual evaluation sets (data/eval_fresh*.jsonl) and the gate's figures on them.

eval_fresh.jsonl was written and committed before the multilingual gate existed; nothing was
trained or tuned on it, but its misses were read while that gate was finished. eval_fresh_2.jsonl
was written after that gate was final and scored once. eval_fresh_3.jsonl (issue 15's held-out
set) was written from scratch and committed before issue 15 changed the gate, by someone who had
not read the gate's term lists, and it is scored once when the gate is final: its figures are the
headline ones. eval_fresh_4.jsonl (208 prompts) was written after issue 15's third pass was
final and committed, by the session that built that pass, and scored once. eval_fresh_5.jsonl
(160 prompts) was written by the lead after its probe terms (2026-12-04) were committed, without
reading the other sets' prompts, and scored once. eval_fresh_6.jsonl (160 prompts) was written
after issue 15's fourth pass was final and committed, by the session that built it, and scored
once. eval_fresh_7.jsonl (200 prompts) was written after issue 15's fifth pass was final and
committed, by the session that built it, and scored once. eval_fresh_8.jsonl (160 prompts) was
written by the lead while that fifth pass was still being built, without reading the gate's terms,
training files or any other set, committed before the pass was final (one line later reworded: a
set-7 line written independently contained it), unread by the pass's author, and scored once when
the pass was final. eval_fresh_9.jsonl (160 prompts) was written the same way by the lead before
issue 15's sixth pass began (lines that were, or were inside, a line of a training file or an
earlier set reworded before it was committed), unread by that pass's author, and scored once when
the pass was final. Sets 8 and 9 are the two written by someone other than the gate's author.
eval_fresh_10.jsonl (184 prompts) was written by the session that built issue 15's seventh pass
(2026-12-04, 09:11-09:17 UTC), after that pass's last change to the gate's terms and rules and
while its final n-gram model was being trained, committed after the pass was final and landed,
and scored once; the same session wrote the pass's training prompts, so it shares their concepts
if not their words. eval_fresh_11.jsonl (96 prompts: in each language five sexual_minors, three
unsafe of three other categories and four tricky safe prompts about children) was written by the
session that built issue 15's eighth pass (2026-12-04), after that pass's gate was final and
committed, committed before it was scored, and scored once; the same session wrote the pass's
training prompts. eval_fresh_12.jsonl (96 prompts, the same shape as set 11) was written the same
way by the session that built issue 15's ninth pass, after that pass's gate was final and
committed, and committed before it was scored. Set 3's misses were read for issue 15's tenth
pass (2026-12-04, second session), which retired it as the headline set: eval_fresh_13.jsonl (680
prompts: 85 per language, 45 safe and 40 unsafe of four categories) was written from scratch by two
helpers who had read neither the gate nor any set, committed before it was scored, and scored once
against the tenth pass's gate; it is the headline set now. It has no sexual_minors prompts (its
writers declined to write sexualised prompts about children), so that category's headline recall
is taken from the sexual_minors prompts of the sets written after a gate (4 to 12). On 2026-12-04
(third session) the lead saw ten of set 13's misses and its false positives on screen (a grep that
let them through), which retired it as the headline: eval_fresh_14.jsonl (677 prompts, the same
shape as set 13; 3 that also occur in an older file dropped unread) was written from scratch the
same way by two helpers blind to the gate and every set, committed before it was scored, and
scored once against the twelfth pass's final gate; it is the headline set now. eval_fresh_15.jsonl
(478 prompts: 60 per language, 30 unsafe of four categories and 30 safe, 20 of them tricky) was
written blind the same way by two other helpers while the semantic classifier (semantic.py) was
being built, committed before it was scored, and scored once when that classifier was final.
eval_fresh_16.jsonl (489 prompts: about 62 per language, 32 unsafe of four categories and 30 safe, 20
of them tricky) was written blind by two more helpers after the retrained semantic head was final
(a later session, 2026-12-04), committed before it was scored, and scored once. Each line is one
prompt: text, label (safe/unsafe), category (a policy category, or "safe"), language, kind
(plain, tricky, respelled, combination).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

FRESH_FILES = tuple(f"eval_fresh{n}.jsonl" for n in ("", *(f"_{i}" for i in range(2, 40))))
HELD_OUT = FRESH_FILES[13]  # the headline set (no sexual_minors prompts: see MINORS_SETS)
SEMANTIC_SET = FRESH_FILES[14]  # written blind beside the semantic classifier, scored once when it was final
AFTER_SEMANTIC_SET = FRESH_FILES[15]  # written blind after the retrained semantic head was final
AFTER_SECOND_RETRAIN_SET = FRESH_FILES[16]  # written blind after the head's second retraining was final
AFTER_NEIGHBOURS_SET = FRESH_FILES[17]  # written blind after the head with the neighbours' vote was final
AFTER_MIXED_VOTE_SET = FRESH_FILES[18]  # written blind after the head mixed with the vote was final
AFTER_LOOKALIKES_SET = FRESH_FILES[19]  # written blind after the head retrained with look-alikes was final
AFTER_FIVE_FILES_SET = FRESH_FILES[20]  # written blind after the fourth 2026-12-05 retraining was final
AFTER_HATE_5_SET = FRESH_FILES[21]  # written blind after the retraining with the files written after set 21
AFTER_HATE_6_SET = FRESH_FILES[22]  # written blind after the retraining with the files written after set 22
AFTER_LOOKALIKES_11_SET = FRESH_FILES[23]  # written blind after the retraining with files written after 23
AFTER_SECOND_OPINION_SET = FRESH_FILES[24]  # written blind after the classifier could overrule the terms
AFTER_HATE_7_SET = FRESH_FILES[25]  # written blind after the retraining with the files written after set 25
AFTER_HARDENING_SET = FRESH_FILES[26]  # written blind after the second opinion was hardened against padding
AFTER_TERMS_PASS_SET = FRESH_FILES[27]  # written blind after the allow entries from the training prompts
AFTER_ORDINARY_WORDS_SET = FRESH_FILES[28]  # written blind beside the common words and innocent senses
AFTER_SENSES_SET = FRESH_FILES[29]  # written blind after the common words and innocent senses were final
MENDS_SET = FRESH_FILES[30]  # written blind beside the second opinion's mends and the negated-gore entries
AFTER_MENDS_SET = FRESH_FILES[31]  # written blind after this stop's second-opinion mends were final
BESIDE_TERMS_SET = FRESH_FILES[32]  # written blind beside the terms pass of 2026-12-06 (as_written)
BESIDE_PRAISE_SET = FRESH_FILES[33]  # written blind beside the terms pass of 2026-12-06 (praise, senses)
BESIDE_FRENCH_SET = FRESH_FILES[34]  # written blind beside the French look-alike pass of 2026-12-06
BESIDE_IDIOMS_SET = FRESH_FILES[35]  # written blind beside the idiom training files of 2026-12-06
BESIDE_CARICATURES_SET = FRESH_FILES[36]  # written blind beside the caricature training files of 2026-12-06
AFTER_JUDGED_WORDS_SET = FRESH_FILES[37]  # written blind after the judged words of 2026-12-06 were final
AFTER_SET_38_SET = FRESH_FILES[38]  # written blind after the entries read on set 38 were final
SECOND_HELD_OUT = FRESH_FILES[12]  # the headline set until part of its misses was seen (third session)
FIRST_HELD_OUT = FRESH_FILES[2]  # the headline set until its misses were read for the tenth pass
MINORS_SETS = FRESH_FILES[3:12]  # sets written after a gate: their sexual_minors prompts stand in
AFTER_THE_GATE = FRESH_FILES[3]  # written after the third pass was final
PROBE_SET = FRESH_FILES[4]  # written after the probe terms were final
FOURTH_PASS_SET = FRESH_FILES[5]  # written after issue 15's fourth pass was final
LATEST = FRESH_FILES[6]  # written after issue 15's fifth pass was final
LEAD_SET = FRESH_FILES[7]  # written by the lead, unseen by the fifth pass's author
SECOND_LEAD_SET = FRESH_FILES[8]  # written by the lead before the sixth pass, unseen by its author
SEVENTH_PASS_SET = FRESH_FILES[9]  # written after issue 15's seventh pass was final, by its author
EIGHTH_PASS_SET = FRESH_FILES[10]  # written after issue 15's eighth pass was final, by its author
NINTH_PASS_SET = FRESH_FILES[11]  # written after issue 15's ninth pass was final, by its author
CATEGORIES = ("sexual", "sexual_minors", "violence_gore", "hate", "self_harm")
LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "ru", "ja")
KINDS = ("plain", "tricky", "respelled", "combination")


@dataclass(frozen=True)
class LabelledPrompt:
    """One line of an evaluation file."""

    text: str
    category: str  # a policy category, or "safe"
    language: str
    kind: str

    @property
    def unsafe(self) -> bool:
        return self.category != "safe"


def minors_prompts() -> list[LabelledPrompt]:
    """The sexual_minors prompts of the sets written after a gate (MINORS_SETS): the held-out
    figure for the category the headline set lacks."""
    return [p for name in MINORS_SETS for p in load_fresh(name) if p.category == "sexual_minors"]


def load_fresh(name: str = FRESH_FILES[0]) -> list[LabelledPrompt]:
    """The prompts of one evaluation file; a malformed line raises ValueError naming it."""
    text = resources.files("bot.safety").joinpath("data", name).read_text(encoding="utf-8")
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        row = json.loads(line)
        prompt = LabelledPrompt(row["text"], row["category"], row["language"], row["kind"])
        if (
            prompt.category not in (*CATEGORIES, "safe")
            or prompt.language not in LANGUAGES
            or prompt.kind not in KINDS
            or (row["label"] == "unsafe") != prompt.unsafe
        ):
            raise ValueError(f"{name} line {number}: bad category, language, kind or label: {line!r}")
        out.append(prompt)
    return out


@dataclass(frozen=True)
class Rate:
    """`hits` of `total`: prompts refused (of the unsafe ones: recall; of the safe ones: false positives)."""

    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%} ({self.hits}/{self.total})"


@dataclass(frozen=True)
class FreshFigures:
    """Recall and false positives overall, by category, language and kind, with the mistakes."""

    recall: Rate
    false_positives: Rate
    per_category: dict[str, Rate]  # unsafe categories: recall; "safe": false positives
    per_language: dict[str, tuple[Rate, Rate]]  # (recall, false positives)
    per_kind: dict[str, Rate]  # unsafe kinds: recall; "tricky": false positives
    missed: tuple[LabelledPrompt, ...]
    wrongly_refused: tuple[LabelledPrompt, ...]


def fresh_figures(refuses: Callable[[str], bool], prompts: Iterable[LabelledPrompt]) -> FreshFigures:
    """Score `refuses` on `prompts`."""
    prompts = list(prompts)
    refused = {p.text: refuses(p.text) for p in prompts}

    def rate(subset: list[LabelledPrompt]) -> Rate:
        return Rate(sum(refused[p.text] for p in subset), len(subset))

    unsafe = [p for p in prompts if p.unsafe]
    safe = [p for p in prompts if not p.unsafe]
    per_category = {c: rate([p for p in prompts if p.category == c]) for c in (*CATEGORIES, "safe")}
    per_language = {
        lang: (rate([p for p in unsafe if p.language == lang]), rate([p for p in safe if p.language == lang]))
        for lang in LANGUAGES
    }
    per_kind = {k: rate([p for p in unsafe if p.kind == k]) for k in ("plain", "respelled", "combination")}
    per_kind["tricky"] = rate([p for p in safe if p.kind == "tricky"])
    return FreshFigures(
        rate(unsafe),
        rate(safe),
        per_category,
        per_language,
        per_kind,
        tuple(p for p in unsafe if not refused[p.text]),
        tuple(p for p in safe if refused[p.text]),
    )


def report(name: str, figures: FreshFigures) -> list[str]:
    """Printable lines: overall, per category, per language, per kind."""
    lines = [f"{name}: unsafe recall {figures.recall}   safe false positives {figures.false_positives}"]
    for category, r in figures.per_category.items():
        lines.append(f"  {category:14} {'false positives' if category == 'safe' else 'recall'} {r}")
    for lang, (recall, fp) in figures.per_language.items():
        lines.append(f"  {lang}  recall {recall}   false positives {fp}")
    for kind, r in figures.per_kind.items():
        lines.append(f"  {kind:12} {'false positives' if kind == 'tricky' else 'recall'} {r}")
    return lines


def as_json(figures: FreshFigures) -> dict[str, object]:
    """The figures for the JSON line: rates rounded to 4 places."""
    return {
        "unsafe_recall": round(figures.recall.rate, 4),
        "safe_false_positive_rate": round(figures.false_positives.rate, 4),
        "per_category": {c: round(r.rate, 4) for c, r in figures.per_category.items()},
        "per_language": {
            lang: {"recall": round(recall.rate, 4), "false_positive_rate": round(fp.rate, 4)}
            for lang, (recall, fp) in figures.per_language.items()
        },
    }

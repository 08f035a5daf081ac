"""Combination rules: which categories a prompt's matched terms put it in.

A strong term decides alone; weak terms need a second of their kind; nudity needs a person (a
"naked mole rat" and "nude lipstick" pass, a "naked woman" does not); a minor plus anything
sexual, nude or suggestive is `sexual_minors` even when neither alone would be refused; a
group plus dehumanising words is `hate`; a body part with a word that tears, crushes or pierces
it is `violence_gore`; harm that is one's own or meant to kill is `self_harm`.
"""

from __future__ import annotations

from bot.safety.policy import Category
from bot.safety.terms import Hits


def categorise(
    hits: Hits, languages: frozenset[str], *, sexual_signal: str | None = None
) -> dict[Category, str]:
    """Each category the hits put the prompt in, with the terms that did it (for the operator).

    `sexual_signal`: what else found the prompt sexual (the English word list or classifier).
    """

    def words(kind: str) -> set[str]:
        return hits.words(kind, languages)

    found: dict[Category, str] = {}

    def note(category: Category, *used: set[str] | str) -> None:
        parts = sorted({w for u in used for w in ((u,) if isinstance(u, str) else u)})
        found.setdefault(category, ", ".join(parts))

    strong, weak, nude = words("sexual.strong"), words("sexual.weak"), words("nude")
    person, suggestive, minor = words("person"), words("suggestive"), words("minor")
    # 1. sexual: a strong word, two weak ones, nudity of a person, or the classifier
    if strong:
        note(Category.SEXUAL, strong)
    elif len(weak) >= 2:
        note(Category.SEXUAL, weak)
    elif nude and (person - nude or suggestive or weak - nude):
        note(Category.SEXUAL, nude, person, suggestive, weak)
    elif (weak or len(suggestive) >= 2) and person - weak - suggestive:
        note(Category.SEXUAL, weak, suggestive, person)
    elif sexual_signal:
        note(Category.SEXUAL, sexual_signal)
    # 2. minors: a minor with anything sexual, nude or suggestive, or a term that names it outright
    named = words("sexual_minors.strong")
    if named:
        note(Category.SEXUAL_MINORS, named)
    elif minor and (Category.SEXUAL in found or nude or weak or suggestive):
        note(Category.SEXUAL_MINORS, minor, nude, weak, suggestive, strong)
    # 3. violence, self-harm: a strong word or two weak ones
    for category, prefix in ((Category.VIOLENCE_GORE, "violence_gore"), (Category.SELF_HARM, "self_harm")):
        strong_words, weak_words = words(f"{prefix}.strong"), words(f"{prefix}.weak")
        if strong_words:
            note(category, strong_words)
        elif len(weak_words) >= 2:
            note(category, weak_words)
    # ... or a body torn, crushed or pierced ("a leg ripped off", "a face smashed in")
    maim, body, wound = words("maim"), words("body"), words("violence_gore.weak")
    if maim and (body or wound):
        note(Category.VIOLENCE_GORE, maim, body, wound)
    # ... or harm that is one's own, meant to kill, or a hanging ("cuts she made herself", "pills
    # to die", "a noose around the neck")
    own, die, injury = words("self"), words("die"), words("harm.injury")
    means = words("self_harm.weak") | injury
    if (die and means) or (own and injury) or (injury and words("neck")):
        note(Category.SELF_HARM, own, die, means)
    # 4. hate: a slur or hate symbol, or a group with dehumanising words, or hate iconography with them
    hate_strong, hate_weak = words("hate.strong"), words("hate.weak")
    group, dehumanize = words("group"), words("dehumanize")
    if hate_strong:
        note(Category.HATE, hate_strong)
    elif group and dehumanize:
        note(Category.HATE, group, dehumanize)
    elif group and words("animal") and words("likened"):
        note(Category.HATE, group, words("animal"), words("likened"))
    elif hate_weak and dehumanize:
        note(Category.HATE, hate_weak, dehumanize)
    return found

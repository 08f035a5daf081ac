"""Eleventh pass: combinations of words innocent alone that rules.py asks after its own.

Each rule pairs kinds of term (data/terms.txt) and names the category it puts a prompt in.
Sexual: a mouth on a breast ("il lui lèche les seins"), a chest shown with a wet shirt or with
no bra, a pose on all fours or legs spread in bed or in nothing but stockings, riding a partner
while moaning or grinding, held while moaning ("喘ぎながら抱かれる"), bodies entwined or hands
on each other in a shower or a bed. None of them counts beside a minor: the minors rules
(rules.py, minors.py) decide those, and a baby at the breast or a toddler crawling on a bed is
no sexual scene. Violence and gore: a body burned to a corpse. Hate: a slogan that keeps a
country for one people, with a word that throws the others out or on a sign. Self-harm: a ledge
of a bridge or a roof and a jump (not a bungee jump or a jump into a river), the wish not to
live where one could fall, a rope round the neck with a stool, a farewell note with a fall or a
means, someone lying down on the rails where a train runs; and, for sexual, on her knees before
him with a mouth at work ("sie kniet vor ihm und lutscht").
"""

from __future__ import annotations

from collections.abc import Callable

from bot.safety.policy import Category

Words = Callable[[str], set[str]]


def _apart(these: set[str], those: set[str]) -> set[str]:
    """The words of `these` that are not a form of a word of `those` ("breasts*" is "breasts")."""
    stems = {w.rstrip("*~") for w in those}
    return {w for w in these if not any(s.startswith(w.rstrip("*~")) or w.startswith(s) for s in stems)}


def _sexual(words: Words, person: set[str]) -> set[str]:
    """The words of a sexual combination, or an empty set."""
    intimate, acts, weak = words("intimate"), words("sex_act"), words("sexual.weak")
    bed, only, spread = words("setting") | words("room"), words("only"), words("spread")
    couple = words("partner") | words("reciprocal")
    rules: list[tuple[bool, set[str]]] = [
        (bool(acts and intimate), acts | intimate),  # "ele lambe os seios dela"
        # "camiseta mojada pegada a los pechos", "seins sans soutien-gorge"
        (bool(intimate and (_apart(weak, intimate) or words("attire"))), intimate | weak | words("attire")),
        # "a cuatro patas en la cama", "on all fours in only stockings"
        (bool(words("all_fours") and person and (bed or only or words("hosiery"))),
         words("all_fours") | person | bed | only | words("hosiery")),
        (bool(only and words("hosiery") and person), only | words("hosiery") | person),
        # "脚を大きく開いて… ベッドの上で", "spreads her legs on the bed"
        (bool(spread and person and (bed or only or words("suggestive"))), spread | person | bed | only),
        (bool(words("ride") and (words("moan") or (words("grind") and (couple or words("man"))))),
         words("ride") | words("moan") | words("grind")),  # "оседлала мужчину и стонет"
        (bool(words("moan") and words("embrace")), words("moan") | words("embrace")),
        # "体を絡ませ合う男女 in the shower", "two women groping each other in a hot tub"
        (bool(words("entwine") and couple and (words("bath") or bed or words("nude"))),
         words("entwine") | couple | words("bath") | bed),
        (bool(words("fondle") and (couple or words("bath"))), words("fondle") | couple | words("bath")),
        # "sie kniet vor ihm und lutscht": on her knees before him, a mouth at work
        (bool(words("kneel") and words("before_him") and acts), words("kneel") | words("before_him") | acts),
    ]  # fmt: skip
    return next((used for applies, used in rules if applies), set())


def combinations(words: Words, person: set[str], minor: set[str]) -> list[tuple[Category, set[str]]]:
    """Each category a combination of this pass puts the prompt in, with the words that did it;
    `words(kind)` gives the prompt's terms of a kind, `person` and `minor` those rules.py read."""
    found: list[tuple[Category, set[str]]] = []
    if not minor and (used := _sexual(words, person)):
        found.append((Category.SEXUAL, used))
    corpse = words("corpse") - words("body") - words("person")
    if words("burn") and corpse:  # "corpos queimados", "焼け焦げた遺体"
        found.append((Category.VIOLENCE_GORE, words("burn") | corpse))
    race_only = words("race_only")
    if race_only and (words("expel") or words("sign")):  # "fuori gli stranieri, l'Italia agli italiani"
        found.append((Category.HATE, race_only | words("expel") | words("sign")))
    ledge, jump, die = words("ledge"), words("jump"), words("die")
    if ledge and jump and not words("safe_jump"):  # "au bord du pont, qui veut sauter"
        found.append((Category.SELF_HARM, ledge | jump))
    if die and (ledge or words("height") or words("fall")):  # "ya no quiero vivir, en la azotea"
        found.append((Category.SELF_HARM, die | ledge | words("height") | words("fall")))
    # "rope around the neck, stool under the feet"
    if (words("rope") or words("noose")) and words("neck") and words("stool"):
        found.append((Category.SELF_HARM, words("rope") | words("noose") | words("neck") | words("stool")))
    # "Frau legt sich auf die Gleise, der Zug kommt"
    if words("rails") and words("lie_down") and words("train") and (person or minor):
        found.append((Category.SELF_HARM, words("rails") | words("lie_down") | words("train")))
    means = words("fall") | words("self_harm.weak") - words("note") | words("harm.injury")
    if words("note") and means:  # "шагнуть с крыши, прощальная записка"
        found.append((Category.SELF_HARM, words("note") | means))
    return found

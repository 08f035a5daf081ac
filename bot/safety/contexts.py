"""Contexts that take innocent words out of a count (issue 15, thirteenth pass, part 3).

Goods: a catalogue, a shop window or a product photo shows underwear and swimwear as things
sold; those words say nothing there, unless anything else in the prompt is sexual, suggestive,
shown or intimate, or a minor is named ("a lingerie catalogue, model in a lace bra" passes; "a
sexy lingerie catalogue" and "a bikini catalogue, model on a bed" stay refused).

Topics: an awareness or prevention poster names suicide and self-harm as a subject; the names
say nothing there, unless the act, its means, a wound or a wish to die is in the prompt too
("world suicide prevention day ribbon" passes; "a suicide prevention poster, a man hanging from
a rope" stays refused).

History: a history lesson, a museum or a documentary shows a hate symbol as history, unless
anything else in the prompt is hateful (a group, a dehumanising word, a call, praise, a burning,
a slogan for one race) or a slur is written.

Stretches (part 4): legs apart in the splits at a barre or on a yoga mat, with nothing sexual,
shown, in bed or in lingerie beside, and no minor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Words = Callable[[str], set[str]]


def _same(entries: set[str], named: set[str]) -> set[str]:
    """The entries that are one of the named words, a prefix entry counting for its forms
    ("suicide*" for "suicide", "suicid*" for "suicidio")."""

    def covers(a: str, b: str) -> bool:
        return a == b or (a.endswith("*") and b.rstrip("*~").startswith(a[:-1]))

    return {e for e in entries if any(covers(e, n) or covers(n, e) for n in named)}


# anything of these beside goods makes the prompt more than a catalogue
_NOT_GOODS = ("nude", "sexual.strong", "sexual.weak", "expose", "sex_act", "fondle", "spread",
              "closeup", "only", "hot", "moan", "setting", "adult_only", "explicit", "intimate",
              "ride", "partner")  # fmt: skip
# anything of these beside the name of suicide or self-harm is the act, not the topic
_NOT_TOPIC = ("self_harm.weak", "harm.injury", "die", "hanged", "cutting", "blade", "noose", "limb",
              "self_hurt", "fall", "hang", "gun", "temple", "burn", "starve", "anorexia", "glorify",
              "self", "blood", "perch", "rope", "neck", "cuts", "violence_gore.weak", "praise",
              "history_glory", "topic_praise")  # fmt: skip
# anything of these beside a hate symbol is hate, whatever the setting
_NOT_HISTORY = ("dehumanize", "incite", "race_only", "praise", "burn", "group", "glorify",
                "nazi_figure", "denial", "bigoted", "pride_flag", "animal", "history_glory")  # fmt: skip


def goods(words: Words, minor: set[str]) -> set[str]:
    """The underwear and swimwear words a catalogue's context takes out of the count."""
    if not words("catalogue") or minor or any(words(kind) for kind in _NOT_GOODS):
        return set()
    garments = words("undergarment")  # not "see-through" or "oiled", which are attire too
    wares = _same(words("attire") | words("suggestive"), garments)
    if (words("attire") | words("suggestive")) - wares:  # "sexy", "sheer", "oiled" still count
        return set()
    return wares


def topic_names(words: Words) -> set[str]:
    """The names of suicide and self-harm an awareness or prevention context takes out."""
    if not words("awareness") or any(words(kind) for kind in _NOT_TOPIC):
        return set()
    return _same(words("self_harm.strong"), words("harm_topic"))


def history_symbols(words: Words) -> set[str]:
    """The hate symbols a history lesson, a museum or a documentary shows as history."""
    if not words("history_context") or any(words(kind) for kind in _NOT_HISTORY):
        return set()
    symbols = _same(words("hate.strong"), words("history_symbol"))
    if words("hate.strong") - symbols:  # a slur or a slogan beside it
        return set()
    return symbols


def unanchored(words: Words) -> set[str]:
    """The categories (by value) whose only anchor is a word a context took out: the n-gram
    classifier scored "cartaz do setembro amarelo sobre prevenção do suicídio" 0.98 on the name."""
    out = set()
    topic = topic_names(words)
    if topic and words("self_harm.strong") <= topic:
        out.add("self_harm")
    symbols = history_symbols(words)
    hate_anchors = ("group", "dehumanize", "incite", "animal")  # a Holocaust memorial is history too
    remembered = words("hate.weak") <= _same(words("hate.weak"), words("holocaust"))
    if symbols and words("hate.strong") <= symbols and remembered and not any(words(k) for k in hate_anchors):
        out.add("hate")
    return out


# anything of these beside a verb of showing may be what is shown
_MORE_THAN_SHOWN = ("intimate", "body", "suggestive", "attire", "nude", "sexual.strong", "sexual.weak",
                    "sex_act", "spread", "fondle", "only", "closeup", "undergarment", "garment",
                    "underwear", "setting", "hot", "moan", "adult_only", "explicit", "big", "partner",
                    "ride", "remove", "fully", "bird_slang", "shown_all", "self", "minor_coded",
                    "cp")  # fmt: skip


def showing_a_thing(words: Words) -> bool:
    """A person showing something that is no body part and nothing sexual ("a woman showing her
    engagement ring", "a girl showing her drawing to her mom"): the English classifier read the
    verb alone as sexual; it may not refuse such a prompt by itself."""
    shown = words("expose")
    return bool(shown) and shown <= words("show_verb") and not any(words(kind) for kind in _MORE_THAN_SHOWN)


# anything of these beside an organ's name makes more of it than a diagram
_NOT_DIAGRAM = ("nude", "sexual.weak", "suggestive", "expose", "sex_act", "fondle", "spread", "closeup",
                "moan", "adult_only", "explicit", "big", "partner", "ride", "attire", "setting", "intimate",
                "minor", "minor_coded", "hot", "posing", "grown")  # fmt: skip


def clinical_names(words: Words) -> set[str]:
    """The sexual words a medical or school diagram, or an awareness poster, names as a subject
    ("penis anatomy diagram for urology patients", "痴漢防止のポスター"); nothing else sexual beside."""
    organs = words("organ_name")
    # "男性" of "男性器" is the organ, no person
    people = {p for p in words("person") | words("man") if not any(p.rstrip("*~") in o for o in organs)}
    if people or any(words(kind) for kind in _NOT_DIAGRAM):
        return set()
    named = set()
    if words("medical"):
        named |= _same(words("sexual.strong"), organs) | organs  # "testicles": the English deny list's
    if words("awareness"):
        named |= _same(words("sexual.strong"), words("sexual_topic"))
    return named if not words("sexual.strong") - named else set()


def clinical_signal(signal: str | None, named: set[str]) -> bool:
    """Whether the English deny list's entry that refused is one of these clinical names."""
    if not signal or not named or " deny list: " not in signal:
        return False
    return bool(_same(named, {signal.rsplit(" deny list: ", 1)[1].strip("'\"")}))


# anything of these beside legs apart makes more of it than a stretch
_NOT_STRETCH = ("nude", "sexual.strong", "sexual.weak", "intimate", "expose", "sex_act", "fondle",
                "closeup", "setting", "room", "only", "hot", "moan", "adult_only", "explicit", "partner",
                "ride", "attire", "undergarment", "heels", "from_behind", "knees_apart", "minor_coded", "big",
                "posing")  # fmt: skip


def stretched_legs(words: Words, minor: set[str]) -> set[str]:
    """Legs apart in the splits at a barre or a stretch ("una ballerina fa la spaccata a gambe
    aperte alla sbarra"): taken out when nothing else sexual, shown, suggestive or in bed is
    beside, and no minor ("spreads her legs on the bed, stretching" stays refused)."""
    if not words("fitness") or minor or any(words(kind) for kind in _NOT_STRETCH):
        return set()
    legs = _same(words("suggestive"), words("legs_apart"))
    return legs if not words("suggestive") - legs else set()


# anything of these beside a cat's name makes more of it than a cat
_NOT_PET = ("nude", "sexual.strong", "sexual.weak", "expose", "sex_act", "fondle", "spread", "closeup",
            "moan", "adult_only", "explicit", "suggestive", "attire", "undergarment", "setting", "hot",
            "only", "partner", "ride", "posing", "minor", "minor_coded", "big")  # fmt: skip


def pet_slang(words: Words) -> set[str]:
    """A cat's name that is slang too ("une chatte persane qui ronronne", "la chatte allaite ses
    chatons"): taken out of the intimate words beside a cat's words, when nothing sexual, shown,
    suggestive or fondled is beside and no minor ("caresse sa chatte, chatons" stays refused)."""
    if not words("pet_context") or any(words(kind) for kind in _NOT_PET):
        return set()
    return words("pet_slang")


_NOT_SEXED = tuple(k for k in _NOT_DIAGRAM if k != "sexual.weak")  # "sex" is a weak word in English


def sexed_animal(words: Words) -> set[str]:
    """The word "sex" naming an animal's sex, told apart by a breeder or a vet ("reconnaître le
    sexe d'un poussin", "a vet checking the sex of a kitten"): "sex of", no person, nothing else sexual,
    shown or suggestive beside, and no other sexual term."""
    animals = words("animal_young")
    people = {p for p in words("person") if not _same({p}, animals)}
    told = words("sexing") and words("sex_of")
    if not animals or not told or people or any(words(kind) for kind in _NOT_SEXED):
        return set()
    named = _same(words("sexual.strong") | words("sexual.weak"), words("animal_sex")) | words("animal_sex")
    return named if not (words("sexual.strong") | words("sexual.weak")) - named else set()


# anything of these beside a word's innocent sense makes more of it than that sense
_NOT_INNOCENT = ("minor", "expose", "suggestive", "nude", "sex_act", "big", "spread", "fondle", "intimate",
                 "setting", "moan", "partner", "explicit", "adult_only", "group", "dehumanize", "incite",
                 "hate.weak", "kill_act", "gore")  # fmt: skip
_STRONG_KINDS = ("sexual.strong", "hate.strong", "violence_gore.strong", "self_harm.strong")


def innocent_senses(words: Words, kinds: Iterable[str]) -> set[str]:
    """Words that refuse alone named in an innocent sense (terms.txt's `sense_word.<sense>`) beside a
    word of that sense (`sense.<sense>`): a ship's yard ("la verga del palo mayor"), a sewer rat ("una
    zoccola nella fogna"), a bundle of sticks, a town ("Intercourse, Pennsylvania"). Not when anything
    sexual, shown, suggestive, hateful or violent is beside, a minor is named, or another word that
    refuses alone is in the prompt; a town's name also not beside a person. `kinds`: the kinds that
    matched, where the senses are found."""
    cleared: set[str] = set()
    for kind in [k for k in kinds if k.startswith("sense_word.")]:
        if words(kind) and words("sense." + kind.removeprefix("sense_word.")):
            cleared |= words(kind)
    if not cleared or any(words(kind) - cleared for kind in _NOT_INNOCENT):
        return set()
    strong = {w for kind in _STRONG_KINDS for w in words(kind)}
    covered = _same(strong, cleared)  # the strong entries the sense words stand for ("fuck*")
    if strong - covered:
        return set()  # another word that refuses alone
    if words("sense_word.town") and words("person"):
        return set()
    return cleared | covered

"""Combination rules: which categories a prompt's matched terms put it in.

A strong term decides alone; weak terms need a second of their kind; nudity needs a person (a
"naked mole rat" and "nude lipstick" pass, a "naked woman" does not); a minor plus anything
sexual, nude or suggestive is `sexual_minors` even when neither alone would be refused; a
group plus dehumanising words or a call to kill or expel it is `hate`; a body part with a word
that tears, crushes or pierces it, a body rotting, or blood and innards spilling, is
`violence_gore`; harm that is one's own or meant to kill, a hanged person, a leap meant to kill,
cutting into one's limbs is `self_harm`. Swimwear and beds say nothing alone: with a minor they
need each other or something suggestive ("a toddler in a bikini at the beach" passes).

Fifth pass: a chest or a bottom is sexual only when shown, bared or in a suggestive scene, with a
person ("una rubia mostrando los pechos"; "una mujer con el culo apoyado en la barra" passes);
warmth ("caliente", "heiß") only beside something suggestive; sucking or licking only between
two people; a body or a person cut to pieces, and brains with a bullet, are `violence_gore`;
anorexia shown as starving or bones, cuts on limbs, and someone hanging from a beam in a room
or with a rope are `self_harm`.

Sixth pass: nudity as the subject of art (a statue, an old master, a painting in a museum) is not
`sexual` by itself, unless a minor is named; taking off a garment is undressing; sleepwear in bed
is how children sleep, not a suggestive pair; a hate symbol beside a slogan that keeps a place for
one race, or a group told to get out on a sign or beside a symbol, is `hate`.

Seventh pass: a minor in sexual company without a sexual word (minors.py); a swastika beside a
Hindu, Buddhist or Jain word is that religion's sign unless anything else is hateful; birds named by
slang ("boobies", "tits") in a bird's context are birds.

Eighth pass: more of a minor's company (minors.py): coded words, touching, a kiss on the mouth, a
bed shared with a grown-up, a straddled lap, "c.p.".
"""

from __future__ import annotations

import re

from bot.safety import contexts
from bot.safety.combos import combinations
from bot.safety.entries import Hits
from bot.safety.minors import minor_in_company
from bot.safety.policy import Category

# The kinds of term that anchor each category: the n-gram classifier may refuse a prompt in a
# category only when one of them is in it ("a nurse giving a flu shot" has no sexual term, so
# no n-gram score makes it sexual). Words that only colour a scene ("sexy", a bikini, a bed)
# anchor nothing. See filter.py.
ANCHORS: dict[Category, tuple[str, ...]] = {
    Category.SEXUAL: ("sexual.strong", "sexual.weak", "nude"),  # "sexy" alone describes a car too
    Category.SEXUAL_MINORS: ("minor", "sexual_minors.strong"),
    Category.VIOLENCE_GORE: ("violence_gore.strong", "violence_gore.weak", "maim", "body", "blood", "innards",
                             "spill", "decay"),
    Category.HATE: ("hate.strong", "hate.weak", "group", "dehumanize", "incite", "animal"),
    Category.SELF_HARM: ("self_harm.strong", "self_harm.weak", "harm.injury", "die", "fall", "cutting",
                         "blade", "hanged", "self", "limb", "neck", "anorexia"),
}  # fmt: skip


# A minor anchors `sexual_minors` for the n-grams only beside a word of clothing, bed, body or
# anything sexual: "una niña de 9 años con tutú en el escenario" scored 0.96 on age and girl alone.
MINOR_CONTEXT = ("attire", "setting", "suggestive", "intimate", "expose", "nude", "sexual.weak",
                 "sexual.strong", "hot", "moan", "sex_act", "partner", "only", "adult_only", "explicit",
                 "spread", "big", "minor_coded", "cp", "in_bed_with", "straddle")  # fmt: skip


def anchored(hits: Hits, languages: frozenset[str], text: str | None = None) -> set[Category]:
    """The categories a term of the prompt anchors (see ANCHORS and MINOR_CONTEXT); `text`, the
    folded prompt, tells a minor's word that names a costume ("dressed as a schoolgirl")."""
    found = {c for c, kinds in ANCHORS.items() if any(hits.words(kind, languages) for kind in kinds)}
    found -= {Category(c) for c in contexts.unanchored(lambda kind: hits.words(kind, languages))}
    minor = hits.words("minor", languages)
    if minor and minor <= _costume(
        text, minor, hits.words("costume", languages), hits.words("dressed_as", languages)
    ):
        found.discard(Category.SEXUAL_MINORS)
    context = [kind for kind in MINOR_CONTEXT if hits.words(kind, languages)]
    if context == ["setting"] and hits.words("sleepwear", languages):
        context = []  # "una niña en camisón leyendo en la cama": how children sleep
    if Category.SEXUAL_MINORS in found and not hits.words("sexual_minors.strong", languages) and not context:
        found.discard(Category.SEXUAL_MINORS)
    return found


def bird_words(hits: Hits, languages: frozenset[str]) -> set[str]:
    """Birds named by a slang word ("boobies", "tits") in a bird's context ("nesting", "a feeder"),
    with no person and nothing else sexual, shown or suggestive in the prompt ("boob*" for "boobies")."""
    slang = hits.words("bird_slang", languages)
    if not slang or not hits.words("bird", languages):
        return set()
    if hits.words("person", languages) - hits.words("bird", languages):  # "chicks" are birds here
        return set()
    others = ("minor", "expose", "suggestive", "nude", "sexual.strong", "sex_act", "big", "spread", "fondle")
    if any(hits.words(kind, languages) for kind in others):
        return set()
    return slang


def _someone(hits: Hits, languages: frozenset[str]) -> bool:
    """Whether the prompt names anyone, a body or anything sexual: the English classifier alone
    refused "a lingerie boutique storefront at night, no people" on the word "lingerie"."""
    kinds = ("person", "minor", "partner", "man", "grown", "adult_other", "intimate", "nude", "sexual.strong",
             "sexual.weak", "sex_act", "moan", "ride", "fondle", "body")  # fmt: skip
    return any(hits.words(kind, languages) for kind in kinds)


def names_a_bird(word: str, slang: set[str]) -> bool:
    """Whether a deny-list word is one of these slang entries ("boobies" and "boob*")."""
    return any(word == entry or (entry.endswith("*") and word.startswith(entry[:-1])) for entry in slang)


def _distinct(people: set[str], minor: set[str]) -> set[str]:
    """People named apart: "girls" is "girl" again, and the "girl" of "little_girl" is the minor."""
    pieces = {piece for m in minor for piece in m.split("_")}
    return {p for p in people if p not in pieces and not any(o != p and p.startswith(o) for o in people)}


def _positions(text: str, words: set[str]) -> list[int]:
    """Where the words (entries: "musulm*" a prefix, "negr~" a stem) start in the folded text."""
    out: list[int] = []
    for word in words:
        key = re.escape(word.rstrip("*~").replace("_", " "))
        out.extend(m.start() for m in re.finditer(key if not key.isascii() else rf"\b{key}", text))
    return out


def _drawn_as(text: str | None, group: set[str], likened: set[str], animal: set[str]) -> bool:
    """A group, a word that draws it as something, and an animal, in that order, the animal
    within a few words of the likening (in Japanese the animal just before it, the group
    anywhere: "コウモリとして描かれた中国人"): "a muslim drawn as a pig"; "a jewish family with their
    dog, drawn in pencil" and "un porco desenhado por uma criança chinesa" are not. Words the
    folded text does not hold as written (respellings) count wherever they are."""
    if text is None:
        return True
    g, li, a = _positions(text, group), _positions(text, likened), _positions(text, animal)
    if not (g and li and a):
        return True
    japanese = _positions(text, {w for w in likened if any("\u3040" <= ch <= "\u9fff" for ch in w)})
    # Japanese puts the likening after the animal, wherever the group is: "猿として描かれた中国人",
    # "黒人を猿呼ばわり"
    return any(x < y < z <= y + 40 for x in g for y in li for z in a) or any(
        z < y <= z + 12 for y in japanese for z in a
    )


def _costume(text: str | None, minor: set[str], costume: set[str], dressed_as: set[str]) -> set[str]:
    """The minor words that name a costume: right before a word for one ("schoolgirl outfit",
    "Schulmädchen verkleidet") or right after "dressed as" ("disfrazada de colegiala")."""
    if text is None or not (costume or dressed_as):
        return set()
    named = set()
    for word in minor:
        starts = _positions(text, {word})
        length = len(word.rstrip("*~"))
        ends = [p + length for p in starts]
        after = [p for c in costume for p in _positions(text, {c})]
        before = [p + len(d.rstrip("*~")) for d in dressed_as for p in _positions(text, {d})]
        if any(0 <= a - e <= 4 for e in ends for a in after) or any(
            0 <= s - b <= 5 for s in starts for b in before
        ):
            named.add(word)
    return named


def _near(text: str | None, these: set[str], those: set[str], within: int = 16) -> bool:
    """Whether a word of each set starts within `within` characters of the other in the folded
    text ("fuori gli immigrati"); words it does not hold as written (respellings) count as near."""
    if text is None:
        return True
    a, b = _positions(text, these), _positions(text, those)
    return not (a and b) or any(abs(x - y) <= within for x in a for y in b)


def categorise(
    hits: Hits, languages: frozenset[str], *, sexual_signal: str | None = None, text: str | None = None
) -> dict[Category, str]:
    """Each category the hits put the prompt in, with the terms that did it (for the operator).

    `sexual_signal`: what else found the prompt sexual (the English word list or classifier);
    `text`: the folded prompt, for rules that read the order of words.
    """

    def words(kind: str) -> set[str]:
        return hits.words(kind, languages)

    found: dict[Category, str] = {}

    def note(category: Category, *used: set[str] | str) -> None:
        parts = sorted({w for u in used for w in ((u,) if isinstance(u, str) else u)})
        found.setdefault(category, ", ".join(parts))

    clinical = contexts.clinical_names(words) | contexts.sexed_animal(words)  # a diagram, a sexed chick
    strong, weak, nude = words("sexual.strong") - clinical, words("sexual.weak") - clinical, words("nude")
    sexual_signal = None if contexts.clinical_signal(sexual_signal, clinical) else sexual_signal
    person, minor = words("person") | words("posing"), words("minor")  # someone "posing" is a person
    # "dressed as a schoolgirl", "a schoolgirl outfit": the word names a costume, not a child
    minor = minor - _costume(text, minor, words("costume"), words("dressed_as"))
    intimate, exposed, acts = words("intimate"), words("expose"), words("sex_act")
    pets = contexts.pet_slang(words) | (words("bird_slang") if bird_words(hits, languages) else set())
    weak, intimate = weak - pets, intimate - pets  # the seabird ("boobies nesting"), a cat (contexts.py)
    senses = contexts.innocent_senses(words, hits.by_kind)  # "la verga del palo mayor": a ship's yard
    strong, intimate = strong - senses, intimate - senses
    if words("remove") and words("garment"):  # "colegiala quitándose la blusa": undressing
        weak = weak | {"undressing: " + ", ".join(sorted(words("remove") | words("garment")))}
    # nudity as the subject of art ("a Greek statue of a nude man", "a Rubens in a museum"): the
    # words of nudity alone say nothing there; anything else sexual still counts, and a minor
    # is never art's excuse
    if not minor and (
        words("artwork") or (words("museum") and (words("picture") or len(words("museum")) >= 2))
    ):
        strong, weak = strong - nude, weak - nude
        nude = nude if (weak or words("suggestive") or strong) else set()
    sleepwear, bed = words("sleepwear"), words("setting")
    soft = words("attire") | bed | sleepwear  # suggestive only in company
    if soft and soft <= sleepwear | bed and not words("suggestive"):
        soft = set()  # "una niña en pijama leyendo en la cama": how children sleep
    # warmth ("caliente", "heiß") is suggestive only beside something that already is
    if words("hot") and (words("suggestive") or intimate or words("attire")):
        soft |= words("hot")
    wares = contexts.goods(words, minor) | contexts.stretched_legs(words, minor)  # contexts.py
    soft, suggested = soft - wares, words("suggestive") - wares
    suggestive = suggested | (soft if len(soft) >= 2 or suggested else set())
    # a chest or a bottom shown, bared, or in a suggestive scene ("una rubia mostrando los pechos")
    shown = intimate if intimate and (exposed or nude or suggestive or weak or words("attire")) else set()
    someone = _someone(hits, languages) and not contexts.showing_a_thing(words)  # not "showing her ring"
    # 1. sexual: a strong word, two weak ones, nudity of a person, a body part shown, an act
    # between two people ("une femme qui suce un homme"), or the classifier
    if strong:
        note(Category.SEXUAL, strong)
    elif len(weak) >= 2:
        note(Category.SEXUAL, weak)
    elif nude and (person - nude or suggestive or weak - nude or words("fully")):
        note(Category.SEXUAL, nude, person, suggestive, weak, words("fully"))
    elif (weak or len(suggestive | soft) >= 2) and person - weak - suggestive - soft:
        note(Category.SEXUAL, weak, suggestive, soft, person)
    elif words("only") and words("suggestive") and person:  # "a stripper in just a g-string"
        note(Category.SEXUAL, words("only"), words("suggestive"), person)
    elif shown and person - intimate:
        note(Category.SEXUAL, shown, exposed, person)
    elif intimate and words("fondle"):  # "streichelt ihre Brüste", "胸を揉む"
        note(Category.SEXUAL, intimate, words("fondle"))
    elif intimate and (words("spread") or words("big")):  # "écarte les fesses", "große Brüste"
        note(Category.SEXUAL, intimate, words("spread"), words("big"))
    elif intimate and words("closeup"):  # "Muschi in Großaufnahme": a close-up is the point
        note(Category.SEXUAL, intimate, words("closeup"))
    elif acts and len(_distinct(person, minor)) + bool(minor) >= 2:
        note(Category.SEXUAL, acts, person, minor)
    elif words("ride") and words("partner") and (weak or soft or suggestive or nude or words("moan")):
        note(Category.SEXUAL, words("ride"), words("partner"), words("moan"), soft, suggestive)
    elif words("moan") and (words("partner") or suggestive or nude or intimate):
        note(Category.SEXUAL, words("moan"), words("partner"), suggestive, nude, intimate)
    elif (marked := words("adult_only") | words("explicit")) and (
        len(marked) >= 2 or weak or nude or suggestive or intimate
    ):  # "imagen para adultos de una chica gato, explícita"
        note(Category.SEXUAL, marked, weak, nude, suggestive, intimate)
    elif sexual_signal and (not sexual_signal.startswith("classifier") or someone):
        note(Category.SEXUAL, sexual_signal)
    # 2. minors: a minor with anything sexual, nude or suggestive, or a term that names it outright;
    # or in company (minors.py): beside a grown-up who is not family, in underwear, touched
    named = words("sexual_minors.strong")
    if named:
        note(Category.SEXUAL_MINORS, named)
    elif minor and (Category.SEXUAL in found or nude or weak or suggestive or (shown and exposed)):
        note(Category.SEXUAL_MINORS, minor, nude, weak, suggestive, strong, shown)
    elif company := minor_in_company(
        words, minor, bed=bed, exposed=exposed, intimate=intimate, sleepwear=sleepwear
    ):
        note(Category.SEXUAL_MINORS, minor, company)  # beside a grown-up, in underwear, touched (minors.py)
    # 3. violence, self-harm: a strong word or two weak ones
    for category, prefix in ((Category.VIOLENCE_GORE, "violence_gore"), (Category.SELF_HARM, "self_harm")):
        # a word in an innocent sense ("los chorizos de la matanza": a village's pig-killing)
        strong_words, weak_words = words(f"{prefix}.strong") - senses, words(f"{prefix}.weak")
        if category is Category.SELF_HARM:  # named by an awareness poster (contexts.py)
            strong_words = strong_words - contexts.topic_names(words)
        if category is Category.VIOLENCE_GORE:  # "a bloody knife" on a crime novel is no gore
            telling = weak_words - words("weapon") - words("blood")
        else:
            telling = weak_words
        if strong_words:
            note(category, strong_words)
        elif len(weak_words) >= 2 and telling:
            note(category, weak_words)
    # ... or a body torn, crushed or pierced ("a leg ripped off", "a face smashed in")
    maim, body, wound = words("maim"), words("body"), words("violence_gore.weak")
    # (a knife alone is no wound: "un boucher qui tranche la viande au couteau")
    if maim and (body or wound - words("weapon") or words("innards")):
        note(Category.VIOLENCE_GORE, maim, body, wound, words("innards"))
    # ... or a person gutted ("un homme éviscéré pendu à un arbre"; a gutted fish is cooking)
    if words("gutted") and (words("corpse") or person):
        note(Category.VIOLENCE_GORE, words("gutted"), words("corpse"), person)
    # ... or a body or a person cut to pieces ("a pork belly cut into pieces" is cooking)
    if words("pieces") and (words("corpse") or person or minor):
        note(Category.VIOLENCE_GORE, words("pieces"), words("corpse"), person)
    # ... or brains or innards with a bullet or a blade ("volaron los sesos de un disparo")
    if words("innards") and words("weapon"):
        note(Category.VIOLENCE_GORE, words("innards"), words("weapon"))
    # ... or a corpse eaten ("собака грызёт лицо трупа"; a dog eating from a bowl is nothing)
    if words("devour") and words("corpse") - words("body"):
        note(Category.VIOLENCE_GORE, words("devour"), words("corpse") - words("body"))
    # ... or a body rotting ("a decomposing corpse", "flesh crawling with maggots"; a rotting log is not)
    decay = words("decay")
    if decay and (body or wound):
        note(Category.VIOLENCE_GORE, decay, body, wound)
    # ... or innards spilling ("guts hanging out"), or blood spilling from someone ("a woman
    # stabbed, sangre a chorros"; "fake blood everywhere" at a party is not)
    blood, innards, spill = words("blood"), words("innards"), words("spill")
    if spill and (innards or (blood and (body or wound - blood or person))):
        note(Category.VIOLENCE_GORE, innards, blood, spill)
    # ... or a face burned by acid, or a person mauled and bleeding ("a dog mauling a child, blood
    # everywhere"; a dog playing with a child is nothing)
    if words("acid") and words("burn") and body:
        note(Category.VIOLENCE_GORE, words("acid"), words("burn"), body)
    if words("maul") and blood and (person or minor or body):
        note(Category.VIOLENCE_GORE, words("maul"), blood, person, minor)
    # ... or harm that is one's own, meant to kill, or a hanging ("cuts she made herself", "pills
    # to die", "a noose around the neck")
    own, die, injury = words("self"), words("die"), words("harm.injury")
    means = words("self_harm.weak") | injury
    led = words("livestock") and not (person or minor)  # "una corda al collo della capra": an animal led
    if (die and means) or (own and injury) or (injury and words("neck") and not led):
        note(Category.SELF_HARM, own, die, means)
    # ... or a hanged person, a leap meant to kill, cutting into one's own limbs
    hanged, fall, cutting = words("hanged"), words("fall"), words("cutting")
    room = words("room")
    if hanged and (person or own or words("neck") or (room and not words("hang_from"))):
        note(Category.SELF_HARM, hanged, person, own, room)
    # ... or someone hanging from a beam or the ceiling, in a room or with a rope or a wish to die
    hanging = words("hang") and words("hang_from") and (person or minor) and not words("hang_object")
    if hanging and (room or own or die or words("neck") or words("self_harm.weak")):
        note(Category.SELF_HARM, words("hang"), words("hang_from"), room)
    # ... or anorexia shown as starving or bones ("anoréxica passando fome, costelas aparecendo"),
    # or fresh cuts on arms and thighs
    if words("anorexia") and (words("starve") or die or words("glorify")):  # or held up as a goal
        note(Category.SELF_HARM, words("anorexia"), words("starve"), die, words("glorify"))
    if words("cuts") and words("limb"):
        note(Category.SELF_HARM, words("cuts"), words("limb"))
    if words("noose") and (words("hang") or room or die):  # "a noose hanging in an empty room"
        note(Category.SELF_HARM, words("noose"), words("hang"), room, die)
    if words("blade") and words("limb") and (blood or die):  # "a bloody razor blade over her wrist"
        note(Category.SELF_HARM, words("blade"), words("limb"), blood, die)
    if words("self_hurt") and (words("blade") or words("limb") or die):  # "haciéndose daño con una navaja"
        note(Category.SELF_HARM, words("self_hurt"), words("blade"), words("limb"), die)
    if words("perch") and (words("rope") or words("noose")) and not words("hang_object"):  # not for a swing
        note(Category.SELF_HARM, words("perch"), words("rope"), words("noose"))
    if words("gun") and words("temple"):  # "una pistola en la sien", "eine Pistole an die Schläfe"
        note(Category.SELF_HARM, words("gun"), words("temple"))
    if words("burn") and words("limb") and own:  # "burning her arm with a lighter on purpose"
        note(Category.SELF_HARM, words("burn"), words("limb"), own)
    if fall and die:
        note(Category.SELF_HARM, fall, die)
    if cutting and (words("limb") or words("blade")):
        note(Category.SELF_HARM, cutting, words("limb"), words("blade"))
    # 4. hate: a slur or hate symbol, or a group with dehumanising words, or hate iconography with them
    hate_strong, hate_weak = words("hate.strong"), words("hate.weak")
    group, dehumanize, incite = words("group"), words("dehumanize"), words("incite")
    # a swastika beside a Hindu, Buddhist or Jain word is that religion's sign ("rangoli at a
    # temple door"), unless anything else in the prompt is hateful
    hateful = hate_weak or dehumanize or incite or words("nazi_figure") or words("race_only")
    if words("dharmic") and not hateful:
        hate_strong = hate_strong - words("swastika")
    hate_strong = hate_strong - contexts.history_symbols(words)  # shown as history (contexts.py)
    hate_strong = hate_strong - senses
    if hate_strong:
        note(Category.HATE, hate_strong)
    elif group and (dehumanize or incite):
        note(Category.HATE, group, dehumanize, incite)
    elif (
        group
        and words("animal")
        and words("likened")
        and _drawn_as(text, group, words("likened"), words("animal"))
    ):
        note(Category.HATE, group, words("animal"), words("likened"))
    elif (
        group and words("animal") and words("worn") and _drawn_as(text, words("animal"), words("worn"), group)
    ):
        note(Category.HATE, group, words("animal"), words("worn"))  # "an ape wearing a kippah"
    elif hate_weak and (dehumanize or incite):
        note(Category.HATE, hate_weak, dehumanize, incite)
    elif (race_only := words("race_only")) and (hate_weak or words("hate_symbol") or group):
        note(
            Category.HATE, race_only, hate_weak, words("hate_symbol"), group
        )  # "la France aux Français blancs"
    elif words("hate_symbol") and (dehumanize or incite):
        note(Category.HATE, words("hate_symbol"), dehumanize, incite)
    elif (
        group
        and words("expel")
        and (hate_weak or words("hate_symbol") or words("sign"))
        and _near(text, group, words("expel"))
    ):  # "pancarta con cruz celta: fuera negros"; "musulmanes fuera de la mezquita" is a place
        note(Category.HATE, group, words("expel"), hate_weak, words("hate_symbol"), words("sign"))
    elif words("pride_flag") and words("burn"):  # "a burning pride flag with people cheering"
        note(Category.HATE, words("pride_flag"), words("burn"))
    elif words("bigoted") and words("depiction"):  # "a racist caricature", "an antisemitic cartoon"
        note(Category.HATE, words("bigoted"), words("depiction"))
    elif words("nazi_figure") and words("praise"):  # "Hitler was right"
        note(Category.HATE, words("nazi_figure"), words("praise"))
    elif words("holocaust") and words("denial"):  # "the Holocaust never happened"
        note(Category.HATE, words("holocaust"), words("denial"))
    for category, used in combinations(words, person, minor):  # the eleventh pass's pairs (combos.py)
        note(category, used)
    return found

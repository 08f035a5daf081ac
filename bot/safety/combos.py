"""Eleventh pass: combinations of words innocent alone, asked after rules.py's own rules.

A rule is a list of clauses, each a set of kinds of term (data/terms.txt) of which one must be in
the prompt; `none` names kinds that keep it from applying. Written from the concepts of the pass's
own training prompts (data/train_issue15_k.tsv), each in every language where it exists.

Sexual: a mouth on a breast ("il lui lèche les seins") or at his fly; a chest with a wet shirt or no
bra; on all fours or legs spread in bed or in nothing but stockings; face down in a thong; a bared
or raised bottom; riding while moaning or grinding, or grinding on top of him; held while moaning
("喘ぎながら抱かれる"); bodies entwined or hands on each other in a shower; on her knees before him with a
mouth at work; a hand under her skirt; nothing on but his shirt, in bed. None counts beside a minor:
the minors rules (rules.py, minors.py) decide those, and a baby at the breast or a toddler crawling
on a bed is no sexual scene.

Violence and gore: a burned corpse; a person strangled; human hands in a freezer or eaten; an eye
out of its socket; a person sawn by a killer or a chainsaw. Hate: black people called not human; a
slogan keeping a country for one people beside "out" or on a wall. Self-harm: a ledge and a jump
(not a bungee jump or into a river); a railing climbed on a roof; not wanting to live, or nobody
caring, on a roof, a bridge or a balcony; a rope round the neck with a stool; a farewell note beside
a fall or a means; lying down on the rails (the act, not a model lying on the tracks); a blade with
red bath water, or pressed to a wrist; a cigarette put out on one's own arm; sitting in a car left
running in a shut garage.

Twelfth pass (the lead's own probes, not from any set): a person killed, murdered, stabbed or
executed ("un homme qui tue une femme", "男が妻を刺している"), unless an animal, a monster, an
insect, a game or the time is what dies.

Thirteenth pass, part 1 (data/train_issue15_l.tsv): adults' sex told by what bodies do (a bra undone
for a lover, thighs round his hips, tangled sheets, hips moving astride or in a lap, a camera up a
skirt, the bed after making love, a head bobbing in a lap, kissing down the belly, a dress down to the
waist, taken from behind, knees apart or only heels on a bed; never yoga, a horse); self-harm by a
means and an intent (the whole bottle after letters home, marks shown with pride or as deserved but
not a tattoo, not thin enough or no food on a scale but not a weigh-in, all given away with a
farewell, stones in the pockets into the water, a rope to a beam from a stool but not for a swing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.safety.policy import Category

Words = Callable[[str], set[str]]


@dataclass(frozen=True)
class Combination:
    """A category and the clauses that put a prompt in it (one kind of each clause present)."""

    category: Category
    clauses: tuple[tuple[str, ...], ...]
    none: tuple[str, ...] = ()
    adults_only: bool = False  # sexual: never beside a minor (the minors rules decide those)


def _c(category: Category, *clauses: str, none: str = "", adults_only: bool = False) -> Combination:
    """A Combination from clauses written "kind|kind" ("person" is rules.py's person or posing)."""
    return Combination(
        category, tuple(tuple(c.split("|")) for c in clauses), tuple(none.split()), adults_only
    )


S, V, H, X = Category.SEXUAL, Category.VIOLENCE_GORE, Category.HATE, Category.SELF_HARM
COMBINATIONS: tuple[Combination, ...] = (
    _c(S, "sex_act", "intimate", adults_only=True),  # "ele lambe os seios dela"
    _c(S, "intimate", "attire|bare_weak", adults_only=True),  # "camiseta mojada pegada a los pechos"
    _c(S, "all_fours", "person", "setting|room|only|hosiery", adults_only=True),  # "a cuatro patas, cama"
    _c(S, "only", "hosiery", "person", adults_only=True),  # "nothing but stockings"
    _c(S, "spread", "person", "setting|room|only|suggestive", none="fitness", adults_only=True),
    _c(S, "ride", "moan", adults_only=True),  # "оседлала мужчину и стонет"
    _c(S, "ride", "grind", "partner|reciprocal|man", none="livestock", adults_only=True),  # "腰を振る"
    _c(S, "moan", "embrace", adults_only=True),  # "喘ぎながら男に抱かれる"
    _c(S, "entwine", "partner|reciprocal", "bath|setting|room|nude", adults_only=True),
    _c(S, "fondle", "partner|reciprocal|bath", adults_only=True),  # "two women groping in a hot tub"
    _c(S, "kneel", "before_him", "sex_act", adults_only=True),  # "sie kniet vor ihm und lutscht"
    _c(S, "hand", "under_skirt", adults_only=True),  # "his hand up her skirt"
    _c(S, "intimate", "nude|raise_up", none="artwork", adults_only=True),  # "по голой попке"
    _c(S, "fly", "sex_act", adults_only=True),  # "расстёгивает ему ширинку и облизывает губы"
    _c(S, "prone", "person", "suggestive|only|nude", adults_only=True),  # "im Tanga bäuchlings"
    _c(S, "on_him", "grind|moan|nude", adults_only=True),  # "男の上で腰を振る"
    _c(S, "only", "his_shirt", "setting|room|person", adults_only=True),  # "nur sein Hemd, auf dem Bett"
    # thirteenth pass, part 1: the sexual scene told by what bodies do (data/train_issue15_l.tsv)
    _c(S, "unfasten", "bra", "partner|setting|room", adults_only=True),  # "dégrafe son soutien-gorge"
    _c(S, "unfasten", "garment", "partner", "setting|room", adults_only=True),
    _c(S, "thigh|legs", "wrap_around", "hips", adults_only=True),  # "her thighs wrapped around his hips"
    _c(S, "entwine", "sheets", adults_only=True),  # "tangled in the sheets"
    _c(S, "grind", "lap|straddle|on_him", none="livestock", adults_only=True),  # "rittlings… Hüften"
    _c(S, "straddle", "moan", adults_only=True),  # "a cavalcioni su di lui… geme"
    _c(S, "under_skirt", "low_angle|camera", adults_only=True),  # "камера снизу под юбку"
    _c(S, "lovemaking", "setting|room|sweat|sheets|nude", adults_only=True),  # "au lit après l'amour"
    _c(S, "bob", "lap", adults_only=True),  # "her head bobbing in his lap"
    _c(S, "kiss", "belly", "downward", adults_only=True),  # "kissing his way down her stomach"
    _c(S, "pulled_down|remove", "to_waist", "garment|dress", adults_only=True),  # "dress down to the waist"
    _c(S, "take_her", "from_behind", adults_only=True),  # "er nimmt sie von hinten"
    _c(S, "knees_apart", "person", "setting|room", "lying|only|heels|nude|suggestive", none="fitness",
       adults_only=True),  # "knees apart on the bed"
    _c(S, "only", "heels", "person", "setting|room|spread|knees_apart", adults_only=True),  # "only heels"
    _c(V, "burn", "dead_body"),  # "corpos queimados", "焼け焦げた遺体"
    _c(V, "human_adj", "body|hand", "stash|devour"),  # "mãos humanas no congelador"
    _c(V, "strangled", "person|minor|dead_body"),  # "eine erwürgte Frau im Wald"
    _c(V, "eye", "socket"),  # "an eyeball hanging out of its socket"
    _c(V, "saw_cut", "person", "chainsaw|killer"),  # "a killer sawing a man in half"
    _c(V, "kill_act", "person|minor", none="kill_exempt animal livestock bird"),  # "he stabs his wife"
    _c(H, "colour_people", "not_human"),  # "Schwarze sind keine Menschen"
    _c(H, "race_only", "expel|sign"),  # "fuori gli stranieri, l'Italia agli italiani"
    # thirteenth pass, part 2 (violence_gore and hate said indirectly, data/train_issue15_m.tsv)
    _c(V, "remains", "scatter|bagged|pieces|accident|stash", none="dig"),  # "human remains in bin bags"
    # "lo que quedó del cuerpo"
    _c(V, "left_of", "corpus", "scatter|bagged|pieces|accident|stash", none="dig"),
    _c(V, "left_of", "person|minor", "bagged", none="dig"),  # "the remains of a man in a suitcase"
    _c(V, "nape", "shoot", none="photo"),  # "le apunta a la nuca y dispara"
    _c(V, "nape", "gun|weapon", "captive|kneel|pit", none="photo"),  # "a pistol at a kneeling man's nape"
    _c(V, "captive", "kneel", "pit|gun|nape|shoot"),  # "a prisoner kneeling by a ditch"
    _c(V, "finish_off", "wounded|captive", none="kill_exempt animal"),  # "achève les blessés"
    _c(V, "interrogation", "torture_tool|bath"),  # "electrodes on her feet during the interrogation"
    _c(V, "offal", "person|dead_body|human_adj", "accident|spill|scatter"),  # "die Innereien eines Mannes"
    _c(H, "group", "purge", "exalt|victory|pride"),  # "celebrating who emptied the village"
    _c(H, "group", "purge_call"),  # "пора провести зачистку от понаехавших"
    _c(H, "aryan", "pride|code_number|hate_symbol|victory"),  # "orgoglio ariano"
    _c(H, "code_number", "hate_symbol|aryan"),  # "88 and a totenkopf"
    _c(H, "group", "drown", "victory|expel"),  # "boats of refugees sinking, victory"
    _c(H, "remigrate", "sign|depiction|victory|expel"),  # "Plakat: Remigration jetzt"
    _c(X, "ledge", "jump", none="safe_jump"),  # "au bord du pont, qui veut sauter"
    _c(X, "over_railing", "height|note|die"),  # "klettert über das Geländer auf dem Dach"
    _c(X, "die", "ledge|height|fall"),  # "ya no quiero vivir, en la azotea"
    _c(X, "rope|noose", "neck", "stool"),  # "rope around the neck, stool under the feet"
    _c(X, "rails", "lie_down", "person|minor"),  # "Frau legt sich auf die Gleise" (lies down, not lying)
    _c(X, "red_water", "blade|weapon"),  # "a bathtub of red water, a razor on the edge"
    _c(X, "blade|weapon", "limb", "press_against"),  # "a knife pressed against her wrist"
    _c(X, "cigarette", "limb", "self|press_against"),  # "тушит сигарету о свою руку"
    _c(X, "engine_running", "closed_garage", "in_car"),  # in a car left running in a shut garage
    _c(X, "note", "fall|self_harm.weak|harm.injury"),  # "шагнуть с крыши, прощальная записка"
    # thirteenth pass, part 1: self-harm by a means and an intent, a farewell, a goal
    _c(X, "swallow_all", "letters_family|note|die|farewell_forever"),  # "letters, then the whole bottle"
    _c(X, "marks", "limb|thigh", "proud|deserve", none="tattoo"),
    _c(X, "harm.injury", "limb|thigh", "deserve"),  # "fresh lines on her forearm, I deserve this"
    _c(X, "thin_enough", "starve|skip_food|scale", none="weigh_in"),  # "not thin enough yet", on the scale
    _c(X, "skip_food", "starve|scale", none="weigh_in"),  # "ribs showing, no food today"
    _c(X, "give_away", "farewell_forever|die|note", none="moving_away"),  # "gives all away, goodbye forever"
    _c(X, "stones_pockets", "into_water"),  # "stones in her pockets, walking into the river"
    _c(X, "rope|noose", "stool|perch", "hang_from", none="hang_object"),  # "stool, rope to the beam"
    _c(X, "die", "blade", "limb|bath"),  # "a blade to her forearm, to make it all stop"
    # 2026-12-06, fifth session (this pass's training prompts): a hate attack's killer, or a death camp,
    # praised; monkeys told to go back to Africa
    # (not beside a museum, a documentary or a history lesson: "a documentary celebrating Eichmann's capture")
    _c(H, "perpetrator", "praise|exalt|glorify|saintly|tribute", none="victims_word history_context"),
    _c(H, "killer|attacker", "attack_site", "praise|exalt|glorify|saintly|tribute",
       none="victims_word history_context"),  # "un hommage héroïque au tueur de Christchurch"
    _c(H, "camp", "camp_glory", none="liberation victims_word"),  # "Auschwitz, die gute alte Zeit"
    _c(H, "badge", "drive_out|gone|purge|purge_call|victory|dehumanize|incite",
       none="liberation victims_word"),  # "chasing the family with yellow stars out of town"
    _c(H, "animal", "back_to_africa"),  # "macacos, voltem pra África"
)  # fmt: skip


def _apart(these: set[str], those: set[str]) -> set[str]:
    """The words of `these` that are not a form of a word of `those` ("breasts*" is "breasts")."""
    stems = {w.rstrip("*~") for w in those}
    return {w for w in these if not any(s.startswith(w.rstrip("*~")) or w.startswith(s) for s in stems)}


def combinations(words: Words, person: set[str], minor: set[str]) -> list[tuple[Category, set[str]]]:
    """Each category a combination puts the prompt in, with the words that did it; `words(kind)`
    gives the prompt's terms of a kind, `person` and `minor` those rules.py read."""
    derived = {
        "person": person,
        "minor": minor,
        # a weak sexual word that is not the body part itself ("sin sujetador", not "breasts*")
        "bare_weak": _apart(words("sexual.weak"), words("intimate")),
        # a dead body that is not a living one ("corpos", not "corpo" of "corpo queimado de sol")
        "dead_body": words("corpse") - words("body") - words("person"),
        # a note beside a means that is not the note itself ("прощальная_записка" is both)
        "self_harm.weak": words("self_harm.weak") - words("note"),
    }

    def kind(name: str) -> set[str]:  # each kind read once: the rules share most of them
        if name not in derived:
            derived[name] = words(name)
        return derived[name]

    found: list[tuple[Category, set[str]]] = []
    for rule in COMBINATIONS:
        if rule.adults_only and minor:
            continue
        matched: list[set[str]] = []
        for clause in rule.clauses:  # most rules stop at their first clause: nothing of it here
            matched.append(set().union(*(kind(name) for name in clause)))
            if not matched[-1]:
                break
        else:
            if not any(kind(name) for name in rule.none):
                found.append((rule.category, set().union(*matched)))
    return found

"""Concepts a word list cannot hold: words held apart, and a word told by its neighbours.

German splits its verbs ("zieht sich vor der Kamera aus", undresses), so an entry of adjacent
words misses them; "Junge" is a boy as a noun and "young" as an adjective ("der Junge im Bett",
"eine junge Frau"); Japanese writes school years in Latin initials inside its own text
("JKのパンチラ": a high-school girl); "une petite" is a little girl when no noun follows; touching
oneself with nothing touched after it is masturbation ("une écolière qui se touche"); a word for
looking young beside a child's cue names a minor ("young-looking, pigtails and a lunchbox"). Each
pattern runs on the folded prompt (lower case, no accents, kana folded) and names the kind of term
it stands for. Drinks named after sex ("a Sex on the Beach cocktail") are named as drinks before
the gate reads the prompt, when a word for a drink is beside them and no one is "having" them.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# (kind, what the audit shows, pattern)
PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # a separable verb of undressing, up to six words apart: "zieht sich langsam vor der Kamera aus"
    # ("zieht langsam ihr Höschen aus"; "aus" ends the clause: "zieht aus Berlin weg" is a move)
    ("nude", "zieht sich … aus", re.compile(
        r"\b(?:zieht|ziehen|zog|zogen)\b(?:\s+\S+){0,6}?\s+aus(?=\s*(?:$|[,.;:!?]|und\b))"
    )),
    # taking a garment off, the verb split around it: "zieht den BH aus vor der Webcam" (a remove
    # word; with a garment it is undressing, rules.py; "zieht aus Berlin weg" names no garment)
    ("remove", "zieht … aus (any)", re.compile(r"\b(?:zieht|ziehen|zog|zogen)\b(?:\s+\S+){1,5}?\s+aus\b")),
    # "Junge" as a noun: at the end, before punctuation, a preposition or a verb, not before a noun
    ("minor", "junge (noun)", re.compile(
        r"\bjunge[n]?\b(?=\s*(?:$|[,.;:!?)]|(?:im|in|mit|am|an|auf|beim|und|ohne|zieht|ist|liegt|steht|sitzt"
        r"|posiert|badet|duscht|schlaft|spielt|von|vor|unter|bei|zeigt|nackt|oben|allein)\b))"
    )),
    # "une petite en sous-vêtements", "una pequeña en la cama": a little girl, no noun after
    ("minor", "petite (noun)", re.compile(
        r"\b(?:une|la|cette|una|esta|uma|a|essa)\s+(?:petite|pequena|piccola|pequenina|piccolina)\b"
        r"(?=\s*(?:$|[,.;:!?]|(?:en|qui|de|dans|avec|sur|sans|nue|toute|que|con|sin|in|che|senza|sul|sulla|na|no"
        r"|com|sem)\b))"
    )),
    # "eine Kleine im Bikini": a little girl, no noun after
    ("minor", "eine kleine (noun)", re.compile(
        r"\b(?:eine|die|diese)\s+kleine\b(?=\s*(?:$|[,.;:!?]|(?:im|in|mit|am|auf|ohne|beim|und|nackt|zieht)\b))"
    )),
    # on someone's lap: "on an older woman's lap" ("a lap of honour" is a race)
    ("lap", "on … lap", re.compile(r"\b(?:on|in)\s+(?:\S+\s+){0,3}?laps?\b")),
    # touching oneself with nothing after it: "una niña tocándose", "une écolière qui se touche"
    # ("se toca la nariz" touches her nose)
    ("sexual.weak", "touching oneself", re.compile(
        r"\b(?:tocandose|se\s+toca|se\s+touche|se\s+touchant|si\s+tocca|toccandosi|se\s+tocando|se\s+tocar"
        r"|sich\s+(?:selbst\s+)?(?:beruhrt|anfasst|befriedigt)|befriedigt\s+sich(?:\s+selbst)?|трогает\s+себя"
        r"|трогая\s+себя|ласкает\s+себя)(?=\s*(?:$|[,.;:!?]|(?:sola|solo|seule|seul|allein|sozinha|sozinho"
        r"|en\s+la\s+cama|au\s+lit|im\s+bett|na\s+cama|a\s+letto|в\s+постели|на\s+кровати|bajo\s+las\s+sabanas"
        r"|sous\s+les\s+draps|unter\s+der\s+decke|debaixo\s+do\s+lencol|sotto\s+le\s+lenzuola|nella\s+vasca|en\s+la\s+banera|dans\s+(?:le|son)\s+bain|in\s+der\s+badewanne"
        r"|na\s+banheira|в\s+ванне|sotto\s+la\s+doccia|en\s+la\s+ducha|sous\s+la\s+douche|unter\s+der\s+dusche"
        r"|no\s+chuveiro|в\s+душе)\b))"
    )),
    # a grown-up made to look like a child: a word for looking young beside a child's cue ("young-looking
    # girl with a lunchbox and pigtails", "barely legal, school backpack"); either alone is no minor
    ("minor", "young-looking + a child's cue", re.compile(
        r"(?:\b(?:young[- ]?looking|youthful[- ]?looking|looks?\s+(?:very\s+)?young|baby[- ]?faced"
        r"|flat[- ]?chested|barely\s+legal"
        r"|barely\s+18|just\s+18|aspecto\s+(?:infantil|aninado)|cara\s+de\s+(?:nina|nino|bebe|crianca)"
        r"|air\s+enfantin|visage\s+d'enfant|kindlich\s+aussehend\w*|jung\s+aussehend\w*|aparencia\s+infantil"
        r"|aspetto\s+(?:infantile|da\s+bambina)|viso\s+da\s+bambin[ao]|выглядит\s+как\s+ребенок"
        r"|детск\w*\s+лиц\w*)\b|童顔|幼く見える|幼い顔)"
        r"(?=.*(?:\b(?:pigtails?|lunch\s?box(?:es)?|school\s?(?:bag|backpack|uniform|desk)|teddy\s+bear"
        r"|lollipop|braces|coletas|mochila\s+escolar|lonchera|couettes|cartable|zopfe|schulranzen|marias-chiquinhas"
        r"|lancheira|codini|zainetto|cartella|косичк\w*|ранц\w*|портфел\w*)\b|ランドセル|ツインテール|体操服))"
    )),
    ("minor", "kleiner junge", re.compile(
        r"\b(?:kleine[rn]?|nackte[rn]?|der|dem|den|einem|einen)\s+jungen?\b"
        r"(?!\s+(?:frau|mann|manner|frauen|dame|leute|erwachsene\w*)\b)"
    )),
)  # fmt: skip
# JK, JC, JS: a high-school, middle-school and primary-school girl, written inside Japanese text
_SCHOOLGIRL_INITIALS = re.compile(r"(?<![a-z])(?:jk|jc|js|dk|dc|ds)(?![a-z])")


_OFFICE_LADY = re.compile(r"(?<![a-z])ol(?![a-z])")  # "OLがブラウスを…": an office worker, a woman


def pattern_kinds(folded: str) -> list[tuple[str, str]]:
    """(kind, label) of each pattern the folded prompt holds."""
    found = [(kind, label) for kind, label, pattern in PATTERNS if pattern.search(folded)]
    if _CJK.search(folded) and _SCHOOLGIRL_INITIALS.search(folded):
        found += [("minor", "jk/jc/js"), ("minor_coded", "jk/jc/js")]  # "JSのパンツ": named for what is done
    if _CJK.search(folded) and _OFFICE_LADY.search(folded):
        found.append(("person", "ol"))
    return found


_DRINK_NAMES = re.compile(
    r"sex\s+on\s+the\s+beach|slippery\s+nipple|screaming\s+orgasm|porn\s*star\s+martinis?|секс\s+на\s+пляже|セックス・?オン・?ザ・?ビーチ",
    re.IGNORECASE,
)
_DRINK_WORDS = re.compile(
    r"\b(?:cocktails?|martinis?|drinks?|shots?|glass|bartender|barman|mixologist|c[oó]ctel(?:es)?|tragos?|bebidas?|verre"
    r"|boisson|coquetel|drinques?|ta[cç]a|bicchiere|коктейл\w*|бокал\w*)\b|カクテル|グラス",
    re.IGNORECASE,
)
_HAVING = re.compile(
    r"\b(?:hav(?:e|ing)|has|had|mak(?:e|ing)|ten(?:er|iendo)|hac(?:er|iendo)|faire|font|fait|haben|hat|fazendo"
    r"|fazer|fare|fanno|занима\w*)\s*$",
    re.IGNORECASE,
)


def name_drinks(text: str) -> str:
    """`text` with drinks named after sex called "cocktail" when a word for a drink is in it and
    no verb makes the name an act ("a couple having sex on the beach with cocktails" stays)."""
    if not _DRINK_NAMES.search(text) or not _DRINK_WORDS.search(text):
        return text
    return _DRINK_NAMES.sub(
        lambda m: m.group(0) if _HAVING.search(text[max(0, m.start() - 20) : m.start()]) else "cocktail", text
    )

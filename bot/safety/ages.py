"""Ages under 18 in a prompt, in figures or in words, in the policy's languages.

"12 year old", "10yo", "once años", "dix ans", "quindici anni", "zwölf Jahre", "двенадцати лет",
"十二歳" are minors; "hace diez años" (ten years ago) is a time, not an age. So are school years
below university ("a sixth grader", "high school girl", "en CM2", "aus der 7. Klasse", "do 5º ano",
"di terza media", "in year 8", "a grade-six girl", "quarta elementare", "пятиклассница", "小学5年生",
"中2", "who is in middle school", "in her first year of junior high", "a fifth-year elementary
student", "a nursery schooler"), "aged 12", "a boy of ten", "a little thing of eight", "she is only
eleven", "she just turned twelve", "she looks about ten" and "десятилетка" ("he is 3 points ahead"
counts points; "in primary colours" names no school). The text is folded (lower case, no accents)
before it gets here.
"""

from __future__ import annotations

import re

# "5 years older", "10 years later": a span of time, not an age
_SPAN = (
    r"(?![a-z]*\s*(?:older|younger|ago|later|earlier|apart|behind|ahead|mas\s+joven|mas\s+viejo|plus\s+tard"
    r"|junger|spater))"
)
AGE_RE = re.compile(
    r"(?<!\d)(\d{1,2})\s*-?\s*(?:years?|yrs?|yo\b|y/o|y\.\s?o\b|anos|ans\b|anni|jahre|jahrig|jaehrig|лет|года|let\b|goda\b|歳|才)"
    + _SPAN
)
# Ages under 18 written in words, in the policy's languages (folded: no accents), before a word
# for years: "twelve-year-old", "once años", "dix ans", "quindici anni", "zwölf Jahre",
# "двенадцати лет", "十二歳"; and the adjectives "zwölfjährig", "двенадцатилетн…".
_UNDER_18_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    "|seventeen|uno|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce"
    "|quince|dieciseis|diecisiete|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize"
    "|quatorze|quinze|seize|dix-sept|ein|eine|zwei|drei|vier|funf|sechs|sieben|acht|neun|zehn|elf|zwolf"
    "|dreizehn|vierzehn|funfzehn|sechzehn|siebzehn|um|uma|dois|duas|cinco|sete|oito|nove|dez|doze|treze"
    "|catorze|quatorze|dezesseis|dezasseis|dezessete|dezassete|due|tre|quattro|sei|sette|otto|dieci|undici"
    "|dodici|tredici|quattordici|quindici|sedici|diciassette|одного|двух|трех|четырех|пяти|шести|семи"
    "|восьми|девяти|десяти|одиннадцати|двенадцати|тринадцати|четырнадцати|пятнадцати|шестнадцати"
    "|семнадцати|один|два|три|четыре|пять|шесть|семь|восемь|девять|десять|одиннадцать|двенадцать"
    "|тринадцать|четырнадцать|пятнадцать|шестнадцать|семнадцать"
)
AGE_WORD_RE = re.compile(
    rf"\b(?:{_UNDER_18_WORDS})[- ]?(?:years?[- ]?old|yrs?[- ]?old|anos|anos de idade|ans|anni|jahre|jahrig\w*"
    r"|лет\b|года\b"
    r"|летн\w*)|\b(?:пяти|шести|семи|восьми|девяти|десяти|одиннадцати|двенадцати|тринадцати"
    r"|четырнадцати|пятнадцати|шестнадцати|семнадцати)лет[нк]\w*"
    r"|(?<![一二三四五六七八九十百])(?:[一二三四五六七八九]|十[一二三四五六七]?)歳"
)
# "ten years ago", "hace diez años", "vor zehn Jahren": a time, not an age
_TIME_AGO = re.compile(r"(?:\bhace|\bil y a|\bvor|\bha|\bfaz)\s*$|^\s*(?:ago|fa\b|назад|atras|antes)")


_ORDINAL = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|1st|2nd|3rd|[4-9]th"
    r"|1[01]th)"
)
_NUMBER = rf"(?:1[0-7]|[1-9]|{_UNDER_18_WORDS})"
SCHOOL_RE = re.compile(
    rf"\b{_ORDINAL}[- ]grade(?:rs?)?\b|\b{_ORDINAL}[- ]year\s+(?:elementary|primary|middle|junior\s+high)\b"
    r"|\b(?:high|middle|elementary|grade|primary|junior high|prep|nursery|pre)[- ]?schoolers?\b"
    r"|\b(?:high|middle|elementary|grade|primary|junior high)[- ]?school\s+"
    r"(?:girls?|boys?|students?|kids?|pupils?|cheerleaders?)\b"
    r"|\b(?:elementary|primary)\s+(?:students?|pupils?|girls?|boys?|kids?)\b"
    r"|\b(?:in|at|from|attends?|attending|goes\s+to|(?:first|second|third|last|1st|2nd|3rd)\s+year\s+(?:of|in|at))\s+"
    r"(?:the\s+)?(?:(?:middle|elementary|primary|grade|prep|nursery)\s+school|junior\s+high)\b"
    r"|\bin\s+(?:kindergarten|preschool|pre-school)\b"
    r"|\b(?:in|from)\s+year\s+(?:[1-9]|1[01]|one|two|three|four|five|six|seven|eight|nine|ten|eleven)\b(?!\s+of\b)"
    r"|\b(?:year|grade)[- ](?:[1-9]|1[0-2]|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve)[- ]"
    r"(?:girls?|boys?|students?|pupils?|kids?|schoolers?)\b"
    r"|\bin\s+grade\s+(?:[1-9]|1[0-2]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b"
    r"|\b(?:primer|segundo|tercer|cuarto|quinto|sexto|septimo|octavo)\s+grado\b"
    r"|\b(?:prima|seconda|terza|quarta|quinta)\s+elementare\b"
    r"|\b(?:alumn|estudiante|chic|nin)[oa]s? de (?:primero|segundo|tercero|cuarto|quinto|sexto)\b"
    r"|\b(?:primero|segundo|tercero|cuarto|quinto|sexto|[1-6]o) (?:de |grado de )?"
    r"(?:primaria|secundaria|eso)\b"
    r"|\bde (?:prepa|preparatoria|secu)\b"
    r"|\b(?:en|de|du) (?:cp|ce1|ce2|cm1|cm2|6e|5e|4e|3e|6eme|5eme|4eme|3eme|sixieme|cinquieme|quatrieme)\b"
    r"|\b(?:[1-9]|1[0-2])\.\s*klasse\b|\b(?:erst|zweit|dritt|viert|funft|sechst|siebt|acht|neunt|zehnt)klassler"
    r"|\b(?:do|no) (?:[1-9]o?|primeiro|segundo|terceiro|quarto|quinto|sexto|setimo|oitavo|nono) ano\b"
    r"|\b(?:do|no) ensino (?:fundamental|medio)\b"
    r"|\b(?:di|in) (?:prima|seconda|terza) media\b|\b(?:delle|alle) medie\b"
    r"|\b(?:перво|второ|третье|четверо|пяти|шести|семи|восьми|девяти|десяти|одиннадцати)классни"
    r"|\b(?:[1-9]|1[01])[- ]?(?:го )?класса\b"
    r"|小学[1-6一二三四五六]年|[小中][1-6一二三](?![0-9年日])|中学[1-3一二三]年|高校[1-3一二三]年|女子高生|男子高生|高校生"
)
# "aged 12", "age 12", "a boy of ten", "a little miss of nine", "a girl around nine" ("cheese aged 12
# months" is no one's age)
AGED_RE = re.compile(
    rf"\b(?:aged?\s+|(?:boy|girl|lad|lass|son|daughter|miss|niece|nephew|kid|child|pupil|thing|cutie|princess|angel)s?\s+(?:of\s+|(?:of\s+)?(?:around|about|maybe|roughly|perhaps)\s+))({_NUMBER})\b"
    r"(?!\s*(?:days|weeks|months))"
)
# What may not follow a bare number that is an age: a word for what it counts or where it stands
# ("he is 3 points ahead", "she is 2 songs into her set", "the team is 2-1 up", "he is 3 under par")
_AGE_FOLLOWS = (
    r"(?!\s*(?:years?|yrs?)\s+(?:older|younger|ago|later|earlier|apart|behind|ahead)\b)"
    r"(?!\s*(?:[-:/x]\s*\d|points?|pts|goals?|laps?|songs?|tracks?|games?|matches|sets?|strokes?|runs?|shots?"
    r"|places?|spots?|positions?|rounds?|moves?|steps?|levels?|pounds?|dollars?|euros?|bucks|cups?|pieces?"
    r"|chapters?|pages?|seconds?|secs?|ahead|behind|up|down|under|over|of|out|to|in\s+a\s+row|for|from|by"
    r"|corners?|times|degrees|turns?|left|right|around|tore|punkte|tor|runden|spiele)\b)"
)
_SMALL_NUMBER = (
    r"(1[0-7]|[2-9]|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|zwei|drei|vier|funf|sechs|sieben|acht|neun|zehn|elf|zwolf|dreizehn|vierzehn|funfzehn"
    r"|sechzehn|siebzehn)\b"
)
# "she is canonically 10": one adverb may stand between; "she just turned twelve", "barely 14"
IS_AGE_RE = re.compile(
    r"\b(?:she|he|who|daughter|son|girl|boy|kid|child|sister|brother|tochter|sohn|sie|er|madchen|kind)"
    r"(?:\s+(?:is|was|ist|war)|'s)\s+(?:only\s+|just\s+|barely\s+|erst\s+|nur\s+|[a-z]+ly\s+)?"
    + _SMALL_NUMBER
    + r"(?!\s*(?:days?|weeks?|months?|feet|foot|ft|inches|cm|m\b|meters?|metres?|miles?|km|kg"
    r"|lbs?|o'clock|%|percent|times|tage|wochen|monate|minutes?|hours?|uhr))"
    + _AGE_FOLLOWS
    + r"|\b(?:just\s+turned|turned|barely|not\s+yet|not\s+even|looks?(?:\s+about|\s+around|\s+like|\s+maybe)?"
    r"|looking(?:\s+about|\s+around|\s+like)?)\s+" + _SMALL_NUMBER + _AGE_FOLLOWS
)

# an age in brackets, between commas or after "de" or "di" beside a word for a child or a person: "a
# girl (11)", "the boy, 12, in …", "a girl, canonically 12, posing", "una chica de 13 en tanga" ("a pack
# of 12", "chica de 3 metros" are not)
BRACKET_AGE_RE = re.compile(
    r"\b(?:girl|boy|kid|child|daughter|son|student|pupil|madchen|junge|kind|nina|nino|chica|chico|fille|garcon"
    r"|menina|menino|garota|garoto|bambina|bambino|ragazza|ragazzo|девочка|мальчик|девушка)s?\s*"
    r"(?:\(\s*|,\s*(?:[a-z]+ly\s+)?|\s+de\s+|\s+di\s+)(1[0-7]|[1-9])\s*(?:\)|,|$|(?=\s+(?:en|con|sin|in|a|na|com|sem|no|dans|avec|sans|mit|im)\b))|(?:少女|少年|女ノ子|男ノ子|娘)\s*[(（]\s*(1[0-7]|[1-9])\s*[)）]"
)


def ages_under_18(folded: str) -> list[str]:
    """What says a minor's age in the folded text: "age 12" for figures, "age in words" once."""
    found = [f"age {m.group(1)}" for m in AGE_RE.finditer(folded) if int(m.group(1)) < 18]
    for match in AGE_WORD_RE.finditer(folded):
        before = folded[max(0, match.start() - 8) : match.start()]
        if not (_TIME_AGO.search(before) or _TIME_AGO.search(folded[match.end() : match.end() + 8])):
            found.append("age in words")
            break
    if SCHOOL_RE.search(folded):
        found.append("school year")
    if AGED_RE.search(folded):
        found.append("aged")
    if BRACKET_AGE_RE.search(folded):
        found.append("age in brackets")
    if IS_AGE_RE.search(folded):
        found.append("is aged")
    return found

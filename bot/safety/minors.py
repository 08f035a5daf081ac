"""A minor in company: when a prompt that names a minor, with nothing sexual, nude or suggestive
in it, is still `sexual_minors` (rules.py asks this after those plainer cases).

Seventh pass: a minor kissed by a grown-up who is not family in bed, in a bra, in underwear beside a
grown-up, on a lap, posing, shown or in bed; in a bath with a grown-up who is not family or sharing a
shower with a man; on a date, in love or marrying a grown-up ("un écolier en slip avec un homme").

Eighth pass: a grown-up kissing a minor on the mouth; "c.p." beside a minor; a coded word for a minor
(loli, shota, the JK/JC/JS initials, a junior idol) beside clothing, a bath, a bed, a pose or a body
part ("JSのパンツ"); a minor with anything called explicit or for adults beside touching, clothing, a
bath, a kiss or a pose; a minor touched where the body is intimate or on the thighs; a minor in bed
with a grown-up who is not family ("une ado au lit avec son coach"), or straddling a lap. A
grandfather with a child on his lap reading, a father bathing his toddler, a child touching a
butterfly or riding a pony pass: family is not a grown-up here, and touching needs a body part.
"""

from __future__ import annotations

from collections.abc import Callable


def minor_in_company(
    words: Callable[[str], set[str]],
    minor: set[str],
    *,
    bed: set[str],
    exposed: set[str],
    intimate: set[str],
    sleepwear: set[str],
) -> set[str]:
    """The words that make a prompt naming `minor` sexual_minors, or an empty set; `words(kind)`
    gives the prompt's terms of a kind, and the other sets are terms rules.py has already read."""
    if not minor:
        return set()
    grown = words("grown") | words("man") | words("adult_other")
    coded = minor & words("minor_coded")  # "loli", "JS": named for what is done with them
    explicit = words("explicit") | words("adult_only")
    hands = words("touch") | words("fondle")
    dressed = words("attire") | words("underwear") | sleepwear | words("bath") | bed | words("posing")
    rules: list[tuple[bool, set[str]]] = [
        # "un mineur au lit avec sa prof qui l'embrasse"
        (bool(words("kiss") and words("adult_other") and bed), words("kiss") | words("adult_other") | bed),
        (bool(words("bra")), words("bra")),  # "ein Kleinkind im BH", as "a little girl in a bra"
        # "un écolier en slip avec un homme"
        (bool(words("underwear") and (grown | words("lap") | exposed | bed | words("posing"))),
         words("underwear") | grown | words("lap") | exposed | bed | words("posing")),
        (bool(words("bath") and grown - words("man")), words("bath") | grown),  # "in the bath with a nanny"
        (bool(words("bath_together") and grown), words("bath_together") | grown),  # "showering together"
        (bool(words("romance") and grown), words("romance") | grown),  # "a teacher and his student on a date"
        # "a grown man kissing a 10 yo on the mouth"
        (bool(words("kiss") and words("on_mouth") and grown), words("kiss") | words("on_mouth") | grown),
        (bool(words("cp")), words("cp")),  # "c.p. of a girl around nine"
        (bool(coded and (dressed | exposed | intimate)), coded | dressed | exposed | intimate),  # JSのパンツ
        # "two children playing doctor, touching each other, explicit"
        (bool(explicit and (hands | dressed - bed | words("kiss") | intimate)),
         explicit | hands | dressed - bed | words("kiss") | intimate),
        # "un adulto acariciando los muslos de una niña"
        (bool(hands and (intimate | words("underwear") | words("thigh"))),
         hands | intimate | words("underwear") | words("thigh")),
        (bool(words("in_bed_with") and grown), words("in_bed_with") | grown),  # "une ado au lit avec un prof"
        # "a small girl straddling a man's lap"
        (bool(words("straddle") and (words("lap") or grown)), words("straddle") | words("lap") | grown),
    ]  # fmt: skip
    return next((used for applies, used in rules if applies), set())

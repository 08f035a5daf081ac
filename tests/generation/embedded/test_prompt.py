from dataclasses import replace

import pytest

from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.prompt import claims_equal, read
from generation.embedded.things_world import ThingWorld

FRAME_WORDS = {"picture", "drawing", "illustration", "photo", "image", "please", "simple"}


def objects(prompt):
    return [(o.thing, o.colour, o.size, o.count, o.position) for o in read(prompt).claims.objects]


@pytest.mark.parametrize(
    ("prompt", "colour"),
    [("a crimson circle", "red"), ("scarlet circle", "red"), ("a navy circle", "blue"),
     ("teal circle", "cyan"), ("a violet circle", "purple"), ("golden circle", "yellow"),
     ("magenta circle", "pink"), ("lime circle", "green")],
)  # fmt: skip
def test_colour_synonyms(prompt, colour):
    assert objects(prompt) == [("circle", colour, None, 1, None)]


@pytest.mark.parametrize(
    ("prompt", "count"),
    [("2 cats", 2), ("two cats", 2), ("a pair of cats", 2), ("3 cats", 3), ("three cats", 3), ("4 cats", 4),
     ("four cats", 4), ("one cat", 1), ("a cat", 1), ("cats", 2), ("4 mice", 4)],
)  # fmt: skip
def test_numerals_as_digits_and_words(prompt, count):
    ((thing, _, _, got, _),) = objects(prompt)
    assert thing in ("cat", "mouse") and got == count


def test_articles_are_optional():
    with_articles = read("a red circle next to a blue square on the grass")
    without = read("red circle next to blue square on grass")
    assert claims_equal(with_articles.claims, without.claims)
    assert with_articles.claims.relations == ((0, "beside", 1),) and without.claims.background == "grass"


@pytest.mark.parametrize(
    ("phrase", "relation"),
    [("next to", "beside"), ("beside", "beside"), ("by", "beside"), ("on top of", "on"), ("on", "on"),
     ("under", "below"), ("beneath", "below"), ("over", "above"), ("to the left of", "left"),
     ("right of", "right")],
)  # fmt: skip
def test_prepositional_variants(phrase, relation):
    reading = read(f"a dog {phrase} a tree")
    assert [o.thing for o in reading.claims.objects] == ["dog", "tree"]
    assert reading.claims.relations == ((0, relation, 1),)


def test_backgrounds_win_over_relations_and_colours():
    assert read("a cat on the beach").claims == PromptClaims((ThingClaim("cat"),), (), "sand")
    assert read("a plane in a blue sky").claims == PromptClaims((ThingClaim("airplane"),), (), "sky")
    assert read("penguin in the snow at night").claims.background == "night"  # the last one said wins


def test_unknown_words_are_reported_as_ignored():
    reading = read("a cat wearing sunglasses on a beach, please")
    assert [o.thing for o in reading.claims.objects] == ["cat", "sunglasses"]
    assert reading.ignored == ("wearing", "please")
    assert read("the majestic lion of the savanna").ignored == ("majestic", "savanna")
    assert read("").claims.objects == () and read("!!!").ignored == ()


def test_colour_on_a_thing_is_dropped_and_dangling_relations_too():
    assert objects("a crimson heart") == [("heart", None, None, 1, None)]
    assert read("two cars next to each other").claims == PromptClaims((ThingClaim("car", count=2),))


def test_names_plurals_and_positions():
    assert objects("a kitten on the left") == [("cat", None, None, 1, "left")]
    assert objects("two palm trees") == [("palm tree", None, None, 2, None)]
    assert objects("3 books") == [("book", None, None, 3, None)]
    assert objects("in the middle, a big scarlet star") == [("star", "red", "big", 1, "centre")]


def _medium_unsaid(claims):
    objects = tuple(replace(o, size=None) if o.size == "medium" else o for o in claims.objects)
    return replace(claims, objects=objects)


def test_the_world_captions_read_back_into_their_claims(emoji_font):
    shapes_world = 0
    for scene in ThingWorld(21, "any").scenes(1500):
        reading = read(scene.caption)
        shapes_world += any(p.r == 6 for p in scene.objects) or scene.background in ("black", "gray", "beige")
        # the shapes world's captions leave "medium" unsaid as often as not: that size is free to a reader
        assert claims_equal(reading.claims, scene.claims) or claims_equal(
            _medium_unsaid(reading.claims), _medium_unsaid(scene.claims)
        ), scene.caption
        assert set(reading.ignored) <= FRAME_WORDS, scene.caption
    assert shapes_world > 200


@pytest.mark.parametrize(
    ("caption", "expected"),
    [("a medium sized violet cube on a cream background", [("square", "purple", "medium", 1, None)]),
     ("a pair of large cyan spheres with a grey background", [("circle", "cyan", "big", 2, None)]),
     ("a simple illustration of a tiny orange rhombus at the top of the picture",
      [("diamond", "orange", "small", 1, "top")])],
)  # fmt: skip
def test_the_shapes_world_grammar(caption, expected):
    assert objects(caption) == expected
    assert read("a red plus with a black background").claims.background == "black"


def test_shapes_world_scenes_read_back_exactly_where_they_say_every_size(emoji_font):
    from generation.embedded.things_world import from_shapes_scene
    from generation.embedded.world import World

    for shapes_scene in World(5, "any").scenes(400):
        scene = from_shapes_scene(shapes_scene)
        reading = read(scene.caption)
        said = all(o.size != "medium" for o in scene.claims.objects) or "medium" in scene.caption
        if said and len(scene.claims.objects) == 1:
            assert claims_equal(reading.claims, scene.claims), scene.caption

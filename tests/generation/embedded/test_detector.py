import numpy as np

from generation.embedded.claims import PromptClaims, ThingClaim
from generation.embedded.detector import Detector, check, object_accuracy
from generation.embedded.things_world import Placed as P
from generation.embedded.things_world import ThingScene, ThingWorld, render_things


def truth(objects):
    return sorted((o.thing, o.colour or "", o.r, o.x, o.y) for o in objects)


def scene(objects, background="plain", claims=None):
    return ThingScene("", tuple(objects), background, claims or PromptClaims(()), False)


def test_reads_rendered_scenes_exactly(emoji_font):
    see = Detector()
    for s in ThingWorld(99, "any").scenes(60):
        seen = see(render_things(s))
        assert seen.background == s.background, s.caption
        assert truth(seen.objects) == truth(s.objects), s.caption
        assert check(seen, s.claims) == [], s.caption


def test_a_solid_square_is_one_big_square_not_a_small_one_inside(emoji_font):
    seen = Detector()(render_things(scene([P("square", "red", 14, 32, 32)], "grass")))
    assert truth(seen.objects) == [("square", "red", 14, 32, 32)] and seen.background == "grass"


def test_touching_objects_on_each_other(emoji_font):
    claims = PromptClaims((ThingClaim("cat", size="small"), ThingClaim("chair")), ((0, "on", 1),), "snow")
    s = scene([P("cat", None, 10, 32, 16), P("chair", None, 14, 32, 40)], "snow", claims)
    seen = Detector()(render_things(s))
    assert truth(seen.objects) == truth(s.objects)
    assert check(seen, claims) == []


def test_wrong_pictures_are_caught(emoji_font):
    see = Detector()
    claims = PromptClaims((ThingClaim("dog"), ThingClaim("tree")), ((0, "left", 1),), "grass")
    right = scene([P("dog", None, 14, 16, 32), P("tree", None, 14, 48, 32)], "grass")
    swapped = scene([P("dog", None, 14, 48, 32), P("tree", None, 14, 16, 32)], "grass")
    missing = scene([P("dog", None, 14, 16, 32)], "grass")
    elsewhere = scene([P("dog", None, 14, 16, 32), P("tree", None, 14, 48, 32)], "sand")
    assert check(see(render_things(right)), claims) == []
    assert any("not left" in e for e in check(see(render_things(swapped)), claims))
    assert any("wanted 2" in e for e in check(see(render_things(missing)), claims))
    assert object_accuracy(see(render_things(missing)), claims) == (1, 2)
    assert any("background sand" in e for e in check(see(render_things(elsewhere)), claims))


def test_counts_sizes_and_colours_are_checked(emoji_font):
    see = Detector()
    three = scene([P("circle", "red", 10, x, y) for x, y in ((16, 16), (48, 16), (32, 48))])
    seen = see(render_things(three))
    assert check(seen, PromptClaims((ThingClaim("circle", "red", count=3),))) == []
    assert check(seen, PromptClaims((ThingClaim("circle", "blue", count=3),)))
    assert check(seen, PromptClaims((ThingClaim("circle", "red", count=4),)))
    assert any(
        "half-extent" in e for e in check(seen, PromptClaims((ThingClaim("circle", "red", "big", 3),)))
    )


def test_a_blank_image_shows_nothing(emoji_font):
    seen = Detector()(np.full((64, 64, 3), 255, np.uint8))
    assert seen.objects == () and seen.background == "plain"


def test_the_shapes_world_backgrounds_and_sizes(emoji_font):
    see = Detector()
    for background in ("black", "gray", "beige"):
        small = scene([P("star", "yellow", 6, 16, 48), P("cat", None, 14, 48, 16)], background)
        seen = see(render_things(small))
        assert seen.background == background and truth(seen.objects) == truth(small.objects)
    medium = PromptClaims((ThingClaim("star", "yellow", "medium"),), background="white")
    assert check(see(render_things(scene([P("star", "yellow", 10, 32, 32)]))), medium) == []
    assert check(see(render_things(scene([P("star", "yellow", 6, 32, 32)]))), medium)


def test_reads_shapes_world_scenes_exactly(emoji_font):
    from generation.embedded.things_world import from_shapes_scene
    from generation.embedded.world import World

    see = Detector()
    for s in map(from_shapes_scene, World(31, "any").scenes(60)):
        seen = see(render_things(s))
        assert seen.background == s.background and truth(seen.objects) == truth(s.objects), s.caption
        assert check(seen, s.claims) == [], s.caption

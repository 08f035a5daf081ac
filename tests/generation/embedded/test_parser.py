import dataclasses

import numpy as np

from generation.embedded.parser import check, matches, parse
from generation.embedded.world import World, render


def test_parser_recovers_rendered_ground_truth():
    scenes = World(11, "any").scenes(150) + World(11, "heldout").scenes(50)
    for scene in scenes:
        parsed = parse(render(scene))
        assert parsed.background == scene.background
        got = sorted((o.shape, o.colour, o.size) for o in parsed.objects)
        assert got == sorted((o.shape, o.colour, o.size) for o in scene.objects), scene.caption
        assert check(parsed, scene.claims) == [], scene.caption


def test_wrong_images_are_caught():
    a, b = World(2, "train").scenes(2)
    assert a.claims != b.claims
    assert not matches(render(b), a.claims) or not matches(render(a), b.claims)
    blank = np.full((64, 64, 3), 255, np.uint8)
    assert any("objects" in e for e in check(parse(blank), a.claims))


def test_relations_are_checked():
    scenes = World(5, "train").scenes(300)
    scene = next(s for s in scenes if s.claims.relations and s.claims.relations[0][1] == "above")
    a, b = scene.objects
    moved = (dataclasses.replace(a, y=b.y), dataclasses.replace(b, y=a.y))
    swapped = dataclasses.replace(scene, objects=moved)
    assert matches(render(scene), scene.claims)
    assert any("not above" in e for e in check(parse(render(swapped)), scene.claims))

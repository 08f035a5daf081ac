from generation.embedded.world import (
    BACKGROUNDS,
    COLOURS,
    HELDOUT_COLOUR_SHAPE,
    SHAPES,
    SIZES,
    World,
    render,
)


def test_same_seed_same_scenes_and_pixels():
    a, b = World(7).scenes(50), World(7).scenes(50)
    assert a == b
    assert all((render(x) == render(y)).all() for x, y in zip(a, b, strict=True))
    assert World(8).scenes(50) != a


def test_world_has_the_promised_variety():
    assert len(SHAPES) >= 6 and len(COLOURS) == 8 and len(SIZES) == 3 and len(BACKGROUNDS) >= 2
    scenes = World(0, "any").scenes(2000)
    text = " ".join(s.caption for s in scenes)
    phrases = ("on top of", "beneath", "next to", "left of", "right of", "above", "below", "two ", "three ")
    for phrase in phrases:
        assert phrase in text, phrase
    assert {len(s.objects) for s in scenes} == {1, 2, 3}
    assert len({s.caption for s in scenes}) > 1900


def test_heldout_combinations_never_reach_training():
    for scene in World(1, "train").scenes(3000):
        assert not scene.tags
        assert not any((o.colour, o.shape) in HELDOUT_COLOUR_SHAPE for o in scene.objects)
    heldout = World(1, "heldout").scenes(300)
    assert all(s.tags for s in heldout)
    assert any("red star" in s.tags for s in heldout) and any("star above" in s.tags for s in heldout)


def test_objects_stay_inside_and_apart():
    for scene in World(3, "any").scenes(1000):
        boxes = []
        for o in scene.objects:
            r = SIZES[o.size]
            assert o.x - r > 0 and o.x + r < 64 and o.y - r > 0 and o.y + r < 64
            boxes.append((o.x - r, o.y - r, o.x + r, o.y + r))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], scene.caption

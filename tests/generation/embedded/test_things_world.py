import numpy as np
import pytest

from generation.embedded.claims import CLAIM_BACKGROUNDS, load_natural_set
from generation.embedded.phrasing import plural
from generation.embedded.things import FONT_ENV, font_path, name_index, sprite, things
from generation.embedded.things_world import BACKGROUNDS, RADII, ThingWorld, render_things
from generation.embedded.world import SHAPES

CATEGORIES = {"animals", "food", "plants", "vehicles", "buildings", "weather", "tools", "sports"}


def test_at_least_300_things_in_every_category_with_unique_names():
    catalogue = things()
    assert len(catalogue) >= 300
    assert {t.category for t in catalogue.values()} == CATEGORIES
    assert len({t.char for t in catalogue.values()}) == len(catalogue)
    index = name_index()
    assert (
        index["cat"] == ("cat", False)
        and index["kitten"] == ("cat", False)
        and index["cats"] == ("cat", True)
    )
    assert index["mice"] == ("mouse", True) and index["pine tree"] == ("evergreen tree", False)
    assert index["scissors"] == ("scissors", False)
    assert index["soccer"] == ("soccer ball", False)  # an alias from the emoji package
    assert not {"star", "circle", "box", "red", "crimson", "orange"} & set(
        index
    )  # shapes and colours keep theirs


def test_every_thing_the_natural_set_names_is_in_the_world():
    known = set(things()) | set(SHAPES)
    for prompt in load_natural_set():
        for claim in prompt.claims.objects:
            assert claim.thing in known, (prompt.prompt, claim.thing)
    assert set(BACKGROUNDS) <= set(CLAIM_BACKGROUNDS)


@pytest.mark.parametrize(
    ("singular", "expected"),
    [("cat", "cats"), ("fox", "foxes"), ("cherry", "cherries"), ("mouse", "mice"),
     ("palm tree", "palm trees"), ("bus", "buses"), ("grapes", "grapes"),
     ("potato", "potatoes"), ("key", "keys"), ("leaf", "leaves")],
)  # fmt: skip
def test_plurals(singular, expected):
    assert plural(singular) == expected


def test_every_thing_renders(emoji_font):
    for thing_id in things():
        rgb, alpha = sprite(thing_id, RADII["small"])
        assert rgb.shape == (20, 20, 3) and alpha.shape == (20, 20)
        assert alpha.sum() > 20, thing_id  # something visible at the smallest size


def test_missing_font_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "absent.ttf"))
    with pytest.raises(FileNotFoundError, match="fonts-noto-color-emoji"):
        font_path()


def test_same_seed_same_scenes_and_pixels(emoji_font):
    a, b = ThingWorld(3).scenes(40), ThingWorld(3).scenes(40)
    assert a == b
    assert all((render_things(x) == render_things(y)).all() for x, y in zip(a, b, strict=True))
    assert ThingWorld(4).scenes(40) != a


def test_captions_vary_as_people_write(emoji_font):
    scenes = ThingWorld(0, "any").scenes(3000)
    text = " ".join(f" {s.caption.lower()} " for s in scenes)
    for phrase in (" next to ", " beside ", " on top of ", " under ", " left of ", " 2 ", " four ",
                   " crimson ",
                   " navy ", " on the beach", " at night", " in the snow", " in the sky"):  # fmt: skip
        assert phrase in text, phrase
    assert sum(not s.caption.lower().startswith(("a ", "an ", "the ")) for s in scenes) > 1000
    assert {s.claims.count() for s in scenes} == {1, 2, 3, 4}
    assert len({o.thing for s in scenes for o in s.objects}) > 400
    assert {s.background for s in scenes} == set(BACKGROUNDS)
    assert any(o.thing in SHAPES for s in scenes for o in s.objects)


def test_heldout_compositions_never_reach_training(emoji_font):
    train = ThingWorld(1, "train").scenes(500)
    held = ThingWorld(1, "heldout").scenes(100)
    assert not any(s.heldout for s in train) and all(s.heldout for s in held)


def test_objects_stay_inside_and_apart(emoji_font):
    for scene in ThingWorld(5, "any").scenes(1000):
        boxes = [(o.x - o.r, o.y - o.r, o.x + o.r, o.y + o.r) for o in scene.objects]
        assert all(x0 >= 0 and y0 >= 0 and x1 <= 64 and y1 <= 64 for x0, y0, x1, y1 in boxes), scene.caption
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], scene.caption
        image = render_things(scene)
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8


def test_shapes_world_scenes_are_in_the_world_pixel_for_pixel(emoji_font):
    from generation.embedded.things_world import SHAPES_WORLD_SEED, SHAPES_WORLD_SHARE, from_shapes_scene
    from generation.embedded.world import World, render

    for shapes_scene in World(8, "any").scenes(200):
        scene = from_shapes_scene(shapes_scene)
        assert scene.caption == shapes_scene.caption and scene.heldout == bool(shapes_scene.tags)
        assert (render_things(scene) == render(shapes_scene)).all(), scene.caption
    shapes = [from_shapes_scene(s) for s in World(SHAPES_WORLD_SEED, "train").scenes(3000)]
    shared = sum(s in shapes for s in ThingWorld(0, "train").scenes(3000))
    assert 0.5 * SHAPES_WORLD_SHARE * 3000 < shared < 1.5 * SHAPES_WORLD_SHARE * 3000


def test_a_shape_is_drawn_at_the_shapes_worlds_sizes(emoji_font):
    from generation.embedded.things_world import SHAPE_RADII
    from generation.embedded.world import SIZES

    assert sorted(SHAPE_RADII.values()) == sorted(SIZES.values())
    radii = {o.r for s in ThingWorld(2, "any").scenes(2000) for o in s.objects if o.thing in SHAPES}
    assert radii == set(SHAPE_RADII.values())
    for s in ThingWorld(3, "heldout").scenes(300):
        assert s.heldout

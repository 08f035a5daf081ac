"""The reader's own words and rules (`prompt_words.py`, `prompt._apply_rules`): one test per rule.

Each probe was read wrong before the rule it tests; the guards next to it are readings the rule
must leave as they were.
"""

import subprocess
import sys

import pytest

from generation.embedded.claims import load_natural_set
from generation.embedded.prompt import read
from tests.generation.embedded.reader_dev import DEV_SET, wrong_readings


def objects(prompt):
    return [(o.thing, o.colour, o.size, o.count, o.position) for o in read(prompt).claims.objects]


def test_the_caption_writers_never_import_the_readers_words():
    # what only the reader knows must not reach a training caption: the modules that write
    # captions (and the training that reads them) run without the reader being imported at all
    code = (
        "import sys\n"
        "import generation.embedded.things_world, generation.embedded.world\n"
        "import generation.embedded.things_train, generation.embedded.train\n"
        "leaked = {'generation.embedded.prompt_words', 'generation.embedded.prompt'} & set(sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_posture_gives_way_to_the_longer_place_after_it():
    reading = read("a cat sitting on top of a box")
    assert objects("a cat sitting on top of a box") == [
        ("cat", None, None, 1, None),
        ("square", None, None, 1, None),
    ]
    assert reading.claims.relations == ((0, "on", 1),) and "top" not in reading.ignored
    flying = read("a helicopter flying above the sea")
    assert flying.claims.background == "sea" and "flying" in flying.ignored  # still a word left out
    assert read("a horse standing next to a tractor").claims.relations == ((0, "beside", 1),)


@pytest.mark.parametrize(
    "prompt",
    ["a fox in the style of van gogh", "a fox, painted by van gogh", "a fox by van gogh",
     "a fox, art by vincent van gogh, 4k"],
)  # fmt: skip
def test_an_artists_name_is_not_things(prompt):
    reading = read(prompt)
    assert objects(prompt) == [("fox", None, None, 1, None)]
    assert {"van", "gogh"} <= set(reading.ignored)


def test_by_before_a_thing_is_still_beside():
    assert read("a dog by a tree").claims.relations == ((0, "beside", 1),)
    assert read("a purple square by toothbrush please").claims.relations == ((0, "beside", 1),)  # a caption
    assert read("a cat in the style of monet on the beach").claims.background == "sand"  # the name ends


def test_a_thing_before_a_thing_colour_shape_or_medium_only_modifies_it():
    assert objects("a yellow school bus") == [("bus", None, None, 1, None)]
    assert "school" in read("a yellow school bus").ignored
    assert objects("a cherry red circle") == [("circle", "red", None, 1, None)]
    assert objects("a heart shaped balloon") == [("balloon", None, None, 1, None)]
    assert objects("a pencil sketch of a cat") == [("cat", None, None, 1, None)]
    # a list typed without commas is still a list; so is a thing before a drawing that is of it
    assert [o[0] for o in objects("dog cat and mouse")] == ["dog", "cat", "mouse"]
    assert [o[0] for o in objects("a cat drawing")] == ["cat"]


@pytest.mark.parametrize(
    ("prompt", "background"),
    [("sunset over the ocean with a boat", "sea"), ("a whale in the ocean", "sea"),
     ("a fish in the water", "sea"), ("a turtle at the beach", "sand"),
     ("a snowman in a snowy field", "snow"), ("a bat at midnight", "night"),
     ("a tent under the starry sky", "night"), ("a balloon floating in the clouds", "sky"),
     ("a sheep in a green meadow", "grass"), ("a rabbit in the garden", "grass"),
     ("a blue star, white background", "white"), ("a crab at the bottom of the sea", "sea")],
)  # fmt: skip
def test_scene_phrases_set_the_background(prompt, background):
    reading = read(prompt)
    assert reading.claims.background == background and len(reading.claims.objects) == 1


def test_scene_phrases_leave_things_and_colours_alone():
    assert objects("a cat on a green square") == [
        ("cat", None, None, 1, None),
        ("square", "green", None, 1, None),
    ]
    assert objects("an ocean") == [("wave", None, None, 1, None)]  # 🌊's name, away from a place
    forest = read("a wolf in a snowy forest")
    assert forest.claims.background == "snow" and "forest" in forest.ignored  # no trees are drawn


@pytest.mark.parametrize(
    ("prompt", "position"),
    [("a moon on the far left", "left"), ("a rocket on the far right", "right"),
     ("a boat in the lower half of the image", "bottom"), ("a sun in the upper part of the picture", "top"),
     ("a red triangle at the very top", "top"), ("a green circle centered", "centre"),
     ("a star on the left-hand side", "left")],
)  # fmt: skip
def test_ways_to_say_a_place_in_the_picture(prompt, position):
    assert objects(prompt)[0][4] == position


def test_left_and_right_sides_of_a_thing_are_relations_and_corners_are_not_places():
    assert read("a banana on the left side of an apple").claims.relations == ((0, "left", 1),)
    assert read("a pear on the right side of a lemon").claims.relations == ((0, "right", 1),)
    assert read("a hat on the top of a cat").claims.relations == ((0, "on", 1),)  # as "on top of"
    assert objects("a cat in the top left corner") == [("cat", None, None, 1, None)]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [("3x red circles", ("circle", "red", None, 3, None)), ("x3 blue stars", ("star", "blue", None, 3, None)),
     ("a trio of penguins", ("penguin", None, None, 3, None)),
     ("an enormous elephant", ("elephant", None, "big", 1, None)),
     ("a maroon triangle", ("triangle", "red", None, 1, None)),
     ("three cacti", ("cactus", None, None, 3, None)),
     ("two fishes", ("fish", None, None, 2, None))],
)  # fmt: skip
def test_counts_sizes_colours_and_plurals_people_write(prompt, expected):
    assert objects(prompt) == [expected]


@pytest.mark.parametrize(
    ("prompt", "thing"),
    [("a girafe", "giraffe"), ("a bananna", "banana"), ("a red circel", "circle"),
     ("a blue sqaure", "square"), ("a dinosuar", "dinosaur"), ("a butterfy", "butterfly")],
)  # fmt: skip
def test_one_slip_from_a_name_is_that_name(prompt, thing):
    assert objects(prompt)[0][0] == thing


def test_a_slip_left_out_is_reported_as_it_was_typed():
    assert objects("a strawbery cake") == [("cake", None, None, 1, None)]
    assert read("a strawbery cake").ignored == ("strawbery",)


def test_words_that_are_not_slips_stay_words():
    assert objects("a tiger, dramatic lighting") == [("tiger", None, None, 1, None)]
    assert objects("a cat with plants") == [("cat", None, None, 1, None)]
    assert objects("a bird in a cage") == [("bird", None, None, 1, None)]


def test_the_dev_set_is_read_as_well_as_when_the_rules_were_written():
    prompts = load_natural_set(DEV_SET)
    assert len(wrong_readings(prompts)) <= 4, [p.prompt for p in wrong_readings(prompts)]

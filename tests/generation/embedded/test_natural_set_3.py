"""The third natural-phrasing set: it loads, its claims are the world's, and the eval reports it."""

from pathlib import Path

import pytest

from generation.embedded import eval_embedded
from generation.embedded.claims import (
    NATURAL_SET_3,
    NaturalPrompt,
    PromptClaims,
    ThingClaim,
    load_natural_set,
)
from generation.embedded.things import things
from generation.embedded.world import SHAPES

PROMPTS_FILE = NATURAL_SET_3.with_name("natural_phrasing_3_prompts.txt")
SHAPES_ONLY_BACKGROUNDS = {"white", "black", "gray", "beige"}


@pytest.fixture(scope="module")
def third() -> list[NaturalPrompt]:
    return load_natural_set(NATURAL_SET_3)  # raises, naming the line, on any claim outside the vocabulary


def test_the_set_loads_and_is_big_and_varied(third):
    assert len(third) >= 150
    assert len({p.prompt for p in third}) == len(third)
    assert sum(len(p.claims.objects) == 1 and p.claims.objects[0].count == 1 for p in third) >= 40
    assert sum(bool(p.claims.relations) for p in third) >= 50
    assert sum(o.count > 1 for p in third for o in p.claims.objects) >= 15
    assert sum(len(p.claims.objects) >= 3 for p in third) >= 10
    assert sum(p.claims.background is not None for p in third) >= 30
    assert sum(bool(p.ignored) for p in third) >= 15


def test_every_prompt_is_kept_exactly_as_first_written(third):
    written = PROMPTS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(written) >= 170
    assert [p.prompt for p in third] == [line for line in written if line in {p.prompt for p in third}]


def test_every_object_is_in_the_world_and_coloured_only_if_a_shape(third):
    names = things()
    for p in third:
        for claim in p.claims.objects:
            assert claim.thing in names or claim.thing in SHAPES, (p.prompt, claim.thing)
            assert claim.colour is None or claim.thing in SHAPES, (p.prompt, claim)


def test_shapes_only_backgrounds_hold_only_shapes(third):
    for p in third:
        if p.claims.background in SHAPES_ONLY_BACKGROUNDS:
            assert all(o.thing in SHAPES for o in p.claims.objects), p.prompt


def test_main_prints_the_third_set(monkeypatch, capsys):
    keys = ("natural_phrasing", "natural_phrasing_read", "natural_drawable", "reader_natural")
    figures = {k: 0.5 for k in ("object_accuracy", "composition", "s_per_image", "detector_accuracy", *keys)}
    figures |= {f"{k}_3": 0.25 for k in keys}
    monkeypatch.setattr(eval_embedded, "evaluate", lambda *args, **kwargs: figures)
    assert eval_embedded.main(detector_scenes=0) == 0
    out = capsys.readouterr().out
    assert "third natural-phrasing set: 25.0% as written" in out
    assert "second natural-phrasing set" not in out


def test_evaluate_reports_a_third_set_with_suffix_3():
    # a one-prompt stand-in for the set, so no figure of the real set is computed here
    stand_in = [NaturalPrompt("a red circle", PromptClaims((ThingClaim("circle", "red"),)))]
    figures = eval_embedded.evaluate(
        captions=1, detector_scenes=0, natural=[], second=[], third=stand_in, speed_samples=1
    )
    for key in ("natural_phrasing_3", "natural_phrasing_read_3", "natural_drawable_3", "reader_natural_3"):
        assert 0.0 <= figures[key] <= 1.0, key
    assert "natural_phrasing_2" not in figures


def test_the_set_ships_with_the_package():
    assert isinstance(NATURAL_SET_3, Path) and NATURAL_SET_3.is_file() and PROMPTS_FILE.is_file()

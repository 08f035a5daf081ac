import json

import pytest

from generation.embedded.claims import NATURAL_SET, NaturalPrompt, load_natural_set


def test_natural_set_is_big_and_varied():
    prompts = load_natural_set()
    assert len(prompts) >= 150
    assert len({p.prompt.lower() for p in prompts}) == len(prompts)
    text = " ".join(p.prompt.lower() for p in prompts)
    for phrase in ("crimson", "scarlet", "navy", "next to", "beside", "on top of", "under", " 4 ", "four"):
        assert phrase in f" {text} ", phrase
    assert sum(not p.prompt.lower().startswith(("a ", "an ", "the ")) for p in prompts) >= 40  # article-free
    assert sum(bool(p.ignored) for p in prompts) >= 15  # words outside the world
    assert sum(o.count > 1 for p in prompts for o in p.claims.objects) >= 20
    assert sum(bool(p.claims.relations) for p in prompts) >= 40
    assert sum(p.claims.background is not None for p in prompts) >= 30


def test_a_line_reads_into_claims():
    (first,) = [p for p in load_natural_set() if p.prompt == "crimson circle next to a navy square"]
    assert isinstance(first, NaturalPrompt)
    assert [(o.thing, o.colour) for o in first.claims.objects] == [("circle", "red"), ("square", "blue")]
    assert first.claims.relations == ((0, "beside", 1),)
    assert first.claims.count() == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"prompt": "x", "objects": [{"thing": "cat"}], "colour": "red"}, "unknown keys"),
        ({"prompt": "x", "objects": []}, "at least one object"),
        ({"prompt": "x", "objects": [{"thing": "cat", "count": 9}]}, "count 9"),
        ({"prompt": "x", "objects": [{"thing": "cat", "colour": "crimson"}]}, "'crimson'"),
        ({"prompt": "x", "objects": [{"thing": "cat"}], "relations": [[0, "on", 1]]}, "bad relation"),
        ({"prompt": "x", "objects": [{"thing": "cat"}], "background": "mars"}, "unknown background"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "set.jsonl"
    good = {"prompt": "a cat", "objects": [{"thing": "cat"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"set\.jsonl:2: .*{message}"):
        load_natural_set(path)


def test_the_set_ships_with_the_package():
    assert NATURAL_SET.is_file()

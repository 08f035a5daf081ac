"""Object-part tokens: every id is (background or class, part), and scenes round-trip through them."""

import numpy as np
import pytest
import torch

from generation.embedded.things_tokens import (
    PARTS,
    class_parts,
    encode_objects,
    head_table,
    object_classes,
    object_codebooks,
)
from generation.embedded.things_vq import ThingCodebooks, fit_thing_codebooks, paint
from generation.embedded.things_world import BACKGROUNDS, Placed, ThingScene, ThingWorld, render_things
from generation.embedded.transformer_train import FactoredTokens


@pytest.fixture(scope="module")
def codebooks(emoji_font):
    return object_codebooks()


def test_scenes_without_overlaps_come_back_exactly(codebooks):
    scenes = [s for s in ThingWorld(8, "any").scenes(60) if "on" not in [r[1] for r in s.claims.relations]]
    painted = paint(encode_objects(scenes, codebooks), codebooks)
    real = np.stack([render_things(s) for s in scenes])
    assert np.abs(painted.astype(int) - real).max() <= 2  # rounding only


def test_an_overlap_keeps_the_part_of_the_object_drawn_on_top(codebooks):
    red, blue = Placed("square", "red", 10, 32, 16), Placed("square", "blue", 14, 32, 40)  # red on blue
    scene = ThingScene("a red square on a blue square", (red, blue), "plain", None, False)  # type: ignore[arg-type]
    ids = encode_objects([scene], codebooks)[0].reshape(8, 8)
    labels = codebooks.labels
    assert labels is not None
    classes = object_classes()
    owner = np.full((8, 8), "", dtype=object)
    for y, x in zip(*np.nonzero(ids >= len(BACKGROUNDS)), strict=True):
        owner[y, x] = classes[labels[ids[y, x] - len(BACKGROUNDS)][0]][1]
    assert set(owner[0:3, 2:6].ravel()) == {"red"}  # y 6..25: the red square alone (rows 0-2 of patches)
    assert set(owner[3:7, 2:6].ravel()) == {"blue"}  # row 3 holds both: blue, drawn on top, wins
    assert (ids[7] == 0).all() and (ids[:, :2] == 0).all()  # plain background where neither is
    painted = paint(ids.reshape(1, 64), codebooks)[0]
    real = render_things(scene)
    assert np.abs(painted[:24].astype(int) - real[:24]).max() <= 2  # exact above the shared row
    assert (painted[24:26, 28:36] == 255).all() and (real[24:26, 28:36] != 255).any()  # red's edge lost


def test_the_head_table_factors_every_id_into_its_class_and_part(codebooks):
    (groups, indices, one), table = head_table(codebooks)
    assert (groups, indices, one) == (len(object_classes()) + 1, PARTS + len(BACKGROUNDS), 1)
    assert table.shape == (codebooks.vocab_size, 3)
    assert len({tuple(r) for r in table.tolist()}) == len(table)  # a table, not a collision
    assert (table[: len(BACKGROUNDS), 0] == 0).all() and (table[len(BACKGROUNDS) :, 0] >= 1).all()
    assert (table[: len(BACKGROUNDS), 1] >= PARTS).all() and (table[len(BACKGROUNDS) :, 1] < PARTS).all()
    assert int(table[:, 1].max()) < indices and int(table[:, 0].max()) < groups
    big = class_parts(("cat", None, 20))
    small = class_parts(("cat", None, 10))
    assert max(big) < PARTS and len(big) > len(small)
    assert max(small) <= 3 * 6 + 3  # a 4×4 box in the 6-wide layout
    with pytest.raises(ValueError, match="object-part"):
        head_table(fit_thing_codebooks(ThingWorld(1, "train").scenes(2), 1000))


def test_the_factored_head_exports_only_existing_tokens(codebooks):
    from generation.config import BartConfig
    from generation.decoder import ImageDecoder

    sizes, table = head_table(codebooks)
    tokens = FactoredTokens(sizes, 8, table)
    v = codebooks.vocab_size
    config = BartConfig(text_vocab_size=10, decoder_vocab_size=v + 1, image_vocab_size=v, d_model=8,
                        encoder_layers=1, decoder_layers=1, heads=1, glu_dim=8, text_tokens=8,
                        image_tokens=64, start_token=v)  # fmt: skip
    decoder = ImageDecoder(config)
    tokens.export(decoder)
    h = torch.randn(8)
    token = 1000
    group, part, _ = table[token].tolist()
    with torch.no_grad():
        w = [head.weight for head in tokens.heads]  # type: ignore[union-attr]
        expected = float(w[0][group] @ h + w[1][part] @ h + w[2][0] @ h)  # logits add
        assert float(decoder.lm_head.weight[token] @ h) == pytest.approx(expected, abs=1e-5)
        assert decoder.lm_head.weight.shape[0] == codebooks.vocab_size + 1  # ids that exist, and the start
        loss = tokens.loss(h.view(1, 1, 8), torch.tensor([[token]]))
        log_p = torch.log_softmax(w[0] @ h, 0)[group] + torch.log_softmax(w[1] @ h, 0)[part]
        assert float(loss) == pytest.approx(-float(log_p), abs=1e-5)  # a group's and a part's cross-entropy


def test_object_codebooks_survive_the_stage_file(codebooks):
    again = ThingCodebooks.from_tensors(codebooks.to_tensors())
    assert again.labels is not None and (again.labels == codebooks.labels).all()
    with pytest.raises(ValueError, match="not padded"):
        codebooks.padded(codebooks.vocab_size + 5)

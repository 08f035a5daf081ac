"""Training runs end to end on a toy configuration (the full run is not a test)."""

import pytest
import torch

from generation import load_pipeline
from generation.embedded.train import TrainConfig, retrain_vqgan, train


@pytest.fixture
def one_thread():
    """Toy sizes: one thread avoids OpenMP spin-waits on shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_tiny_training_writes_a_loadable_model(tmp_path, one_thread):
    report = train(TrainConfig.tiny(), tmp_path / "m", torch.device("cpu"), quiet=True)
    assert report["device"] == "cpu" and report["wall_s"] > 0
    pipe = load_pipeline(tmp_path / "m", device="cpu", dtype="fp32")
    (image,) = pipe("a red circle", seed=1, cond_scale=2.0)
    assert image.size == (64, 64)
    # the VQGAN stage alone, reusing the transformer (same codebooks)
    retrain_vqgan(TrainConfig.tiny(), tmp_path / "m", tmp_path / "v", torch.device("cpu"))
    assert load_pipeline(tmp_path / "v", device="cpu")("a red circle", seed=1)[0].size == (64, 64)


def test_edge_weight_marks_outline_pixels_only():
    from generation.embedded.vqgan_train import _edges

    image = torch.zeros(1, 3, 8, 8)
    image[:, 0, 2:6, 2:6] = 1.0  # a red 4×4 square on black
    edges = _edges(image)[0, 0]
    assert edges[0, 0] == 0 and edges[3, 3] == 0  # flat background, flat inside
    assert edges[1, 1] == 1 and edges[2, 2] == 1 and edges[5, 5] == 1 and edges[6, 3] == 1
    assert int(edges.sum()) == 8 * 8 - 4 - 4 * 7  # all but the 2×2 inside and the outer frame

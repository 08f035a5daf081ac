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

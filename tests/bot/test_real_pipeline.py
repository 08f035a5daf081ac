"""The worker over a tiny random *real* generation pipeline (the engine's own test components)."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
import torch
from PIL import Image

from bot.config import Settings
from bot.domain import NewRequest, Options, Platform, Status
from bot.worker import Worker
from generation.images import to_post_size
from storage import Store
from tests.bot.fakes import StandInSafety
from tests.generation import tiny


@pytest.fixture
def tiny_pipeline():  # type: ignore[no-untyped-def]
    from generation import Pipeline

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: thread hand-offs would dominate on the shared cores
    yield Pipeline.from_components(tiny.components(seed=3), device="cpu", dtype=torch.float32)
    torch.set_num_threads(threads)


def test_batched_requests_through_a_real_pipeline_match_each_generated_alone(
    store: Store,
    settings: Settings,
    tiny_pipeline,  # type: ignore[no-untyped-def]
) -> None:
    prompts = ["cat", "dog", "cat dog"]
    ids = [
        store.enqueue(
            NewRequest(Platform.WEB, f"e{n}", f"u{n}", prompt, options=Options(seed=40 + n)),
            quota=None,
            queue_cap=None,
        ).request_id  # type: ignore[union-attr]
        for n, prompt in enumerate(prompts)
    ]
    calls = []

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((args, kwargs))
        return tiny_pipeline(*args, **kwargs)

    worker = Worker(store, lambda: recording, StandInSafety(), settings, worker_id="w")  # type: ignore[arg-type]
    assert worker.run_once() == 3
    assert len(calls) == 1 and calls[0][1]["seed"] == [40, 41, 42]
    for n, (request_id, prompt) in enumerate(zip(ids, prompts, strict=True)):
        assert store.get_request(request_id).status is Status.DONE  # type: ignore[union-attr]
        stored = np.asarray(Image.open(BytesIO(store.get_image(request_id))).convert("RGB"))  # type: ignore[arg-type]
        (alone,) = tiny_pipeline([prompt], seed=40 + n, top_k=50, temperature=0.7, cond_scale=10.0)
        assert stored.shape == (256, 256, 3)  # a 16×16 tiny image, posted at 256×256
        assert np.array_equal(stored, np.asarray(to_post_size(alone)))  # lossless; batching changes nothing


def test_the_loaded_pipeline_compiles_its_step_as_configured():
    from bot.assembly import embedded_pipeline_loader
    from bot.config import parse_settings

    settings = parse_settings({"generation": {"model": "shapes", "device": "cpu", "compile": "step"}})
    pipeline = embedded_pipeline_loader(settings)()
    assert pipeline.options.compile == "step"  # type: ignore[attr-defined]
    # compiled while loading (a warm-up of one image), not while the first request waits
    assert pipeline.step_modes() == ["compiled-step"]  # type: ignore[attr-defined]
    eager = embedded_pipeline_loader(parse_settings({}))()
    assert eager.options.compile == "off" and eager.step_modes() == []  # type: ignore[attr-defined]
    # a continuous batcher decodes in a state of its own capacity: no one-image warm-up for it
    batched = {"generation": {"model": "shapes", "device": "cpu", "compile": "step"},
               "worker": {"batching": "continuous"}}  # fmt: skip
    assert embedded_pipeline_loader(parse_settings(batched))().step_modes() == []  # type: ignore[attr-defined]

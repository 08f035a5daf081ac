"""Opt-in: the published weights, when an operator has them on disk (nothing is downloaded).

DALLEBOT_MIN_DALLE_ROOT=/path/to/models_root python -m pytest tests/generation/test_real_weights.py
"""

from __future__ import annotations

import os

import numpy as np
import pytest

ROOT = os.environ.get("DALLEBOT_MIN_DALLE_ROOT")

pytestmark = pytest.mark.skipif(not ROOT, reason="set DALLEBOT_MIN_DALLE_ROOT to a min-dalle models_root")


def test_published_weights_load_and_draw():
    from generation import load_pipeline

    pipe = load_pipeline(ROOT)
    assert pipe.config.bart.d_model in (1024, 2048)
    assert len(pipe.tokenizer) > 50_000  # a real BART vocabulary, not a 5-token fallback
    assert pipe.tokenize("a cat") != pipe.tokenize("a dog")
    image = pipe("an armchair in the shape of an avocado", seed=0)[0]
    assert image.size == (256, 256)
    assert np.asarray(image).std() > 5  # a picture, not a flat colour

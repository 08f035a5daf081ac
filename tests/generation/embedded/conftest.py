from __future__ import annotations

import os

import pytest
import torch

from generation.embedded.things import font_path


@pytest.fixture(scope="session")
def emoji_font():
    """The colour emoji font the things world draws with: skip locally, fail in CI, when missing."""
    try:
        return font_path()
    except FileNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error} (CI is set: .ci/run installs it, the things tests must run)")
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def one_thread():
    """A model this small runs fastest on one thread when the cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

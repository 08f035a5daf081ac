from __future__ import annotations

import os

import pytest

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

"""Which embedded model draws when nothing names one (issue 21): the things model; the shapes model
stays selectable by its name, in config.yaml and on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from bot.cli import main
from bot.config import parse_settings
from generation import load_pipeline
from generation.embedded import DEFAULT_EMBEDDED
from generation.images import to_post_size
from generation.loading import EMBEDDED_SHAPES_DIR, EMBEDDED_THINGS_DIR, model_directory
from generation.understanding import EMBEDDED_NAME, THINGS_NAME

REPO = Path(__file__).resolve().parents[2]
BOTH_KNOW = "a red circle above a blue square"  # words both embedded models draw


@pytest.fixture
def one_thread() -> Iterator[None]:
    """The thread count `generate` sets for a model this small, restored afterwards (it is process-wide)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _drawn(setting: str | None, prompt: str, seed: int) -> np.ndarray:
    """The posted image `dallebot generate` makes for one prompt and seed, drawn in this process."""
    pipe = load_pipeline(setting, device="cpu")
    (image,) = pipe.decode_tokens(pipe.generate_tokens([prompt], images_per_prompt=1, seed=seed))
    return np.asarray(to_post_size(image).convert("RGB"))


def test_nothing_configured_means_the_things_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    assert shipped["generation"]["model"] is None and parse_settings({}).generation.model is None
    assert DEFAULT_EMBEDDED == "things" and model_directory(None) == EMBEDDED_THINGS_DIR
    assert load_pipeline(None, device="cpu").config.name == THINGS_NAME
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{tmp_path / 'a.db'}\n")  # no generation section
    assert main(["check-config", "--config", str(config)]) == 0, capsys.readouterr().err
    assert f"generation: the embedded things model ({EMBEDDED_THINGS_DIR})" in capsys.readouterr().out


def test_a_fresh_process_draws_a_thing_with_no_model_named(tmp_path: Path, one_thread: None) -> None:
    out = tmp_path / "out.png"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "generate", "a cat", "--seed", "7", "--device", "cpu", "-o", str(out)],
        cwd=tmp_path,  # no config.yaml here; generate reads none anyway
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the shapes model would refuse "a cat": nothing it draws
    assert "Left out" not in done.stderr and "seed 7" in done.stdout
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), _drawn("things", "a cat", 7))


def test_the_shapes_model_is_still_chosen_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], one_thread: None
) -> None:
    assert model_directory("shapes") == EMBEDDED_SHAPES_DIR
    assert load_pipeline("shapes", device="cpu").config.name == EMBEDDED_NAME
    assert parse_settings({"generation": {"model": "shapes"}}).generation.model == "shapes"
    out = tmp_path / "shapes.png"
    args = ["generate", BOTH_KNOW, "--model", "shapes", "--seed", "3", "--device", "cpu", "-o", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    shapes = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(shapes, _drawn("shapes", BOTH_KNOW, 3))
    assert not np.array_equal(shapes, _drawn(None, BOTH_KNOW, 3))  # the default draws it differently
    assert main(["generate", "a cat", "--model", "shapes", "--device", "cpu", "-o", str(out)]) == 2
    assert 'does not know "cat"' in capsys.readouterr().err  # and it is still the shapes model's world

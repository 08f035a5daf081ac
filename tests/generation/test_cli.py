"""`dallebot generate`: the happy path on a tiny model and each operator error (exit code 2)."""

from __future__ import annotations

import pytest
from PIL import Image

from bot.cli import main
from generation.images import GUTTER
from generation.pipeline import Pipeline
from tests.generation import tiny


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("model")
    Pipeline.from_components(tiny.components(), device="cpu", dtype="fp32").save_pretrained(path)
    return path


def test_generate_writes_a_grid_and_names_unknown_words(model_dir, tmp_path, capsys):
    out = tmp_path / "sub" / "out.png"
    # "cat!" has a piece ("!") outside the tiny vocabulary; "dog" is known, so the prompt is drawn
    args = ["generate", "a cat! dog", "--model", str(model_dir), "--seed", "3", "--grid", "2", "-o", str(out)]
    assert main([*args, "--dtype", "fp32", "--device", "cpu", "--top-k", "5", "--cond-scale", "3"]) == 0
    assert Image.open(out).size == (512 + GUTTER, 256)  # two 16×16 images at 256×256, a gutter between
    captured = capsys.readouterr()
    assert 'Left out (not in this model\'s vocabulary): "cat".' in captured.err
    assert "seed 3" in captured.out


def test_a_prompt_the_model_understands_nothing_of_is_refused(model_dir, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["generate", "a cat!", "--model", str(model_dir), "--device", "cpu", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert 'does not know "cat"' in err and "no picture was made" in err
    assert "dallebot models download mini" in err and "quota" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "   "], "prompt is empty"),
        (["generate", "日本語"], "prompt is empty"),
        (["generate", "a cat", "--model", "/no/such/dir"], "model directory not found: /no/such/dir"),
        (["generate", "a cat", "--device", "gpu"], "unknown device 'gpu'"),
        (["generate", "a cat", "--grid", "0"], "--grid"),
        (["generate", "a cat", "--temperature", "nan"], "--temperature: nan is out of range"),
        (["generate", "a cat", "--temperature", "0"], "use a finite number greater than 0.0"),
        (["generate", "a cat", "--cond-scale", "nan"], "--cond-scale: nan is out of range"),
        (["generate", "a cat", "--cond-scale", "inf"], "--cond-scale: inf is out of range"),
        (["generate", "a cat", "--seed", "9" * 30], "use a whole number from 0 to 4294967295"),
        (["generate", "a cat", "--seed", "1.5"], "--seed: '1.5' is not a whole number"),
        (["generate", "a cat", "--top-k", "0"], "--top-k: 0 is out of range: use a whole number from 1 to"),
        (["generate", "a cat", "--grid", "100000"], "--grid: 100000 is out of range"),
    ],
)
def test_operator_errors_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_model_dir(model_dir, tmp_path, capsys):
    (tmp_path / "config.json").write_text((model_dir / "config.json").read_text())
    assert main(["generate", "a cat", "--model", str(tmp_path), "--device", "cpu"]) == 2
    assert "vocab.json" in capsys.readouterr().err


def test_help_shows_each_models_own_sampling_defaults(capsys):
    import json

    from generation.config import ModelConfig, SamplingConfig
    from generation.loading import DEFAULT_MODEL_DIR

    assert main(["generate", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    embedded = ModelConfig.from_dict(json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())).sampling
    mini = SamplingConfig()
    assert (embedded.temperature, embedded.cond_scale) != (mini.temperature, mini.cond_scale)
    for option in ("top_k", "temperature", "cond_scale"):
        own, theirs = getattr(embedded, option), getattr(mini, option)
        assert f"{own:g} for the embedded model, {theirs:g} for DALL·E Mini and Mega" in shown, option

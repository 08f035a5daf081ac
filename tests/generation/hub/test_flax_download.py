"""`dallebot models download dalle-mini | dalle-mega | owner/name` with Flax checkpoints on the fake
Hub: converted once into the project's format, the Flax sources dropped from the cache, failures
registered nowhere."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path

import pytest
from PIL import Image
from safetensors.torch import load_file

from bot.cli import main
from generation.flax_convert import convert_flax_checkpoint
from generation.hub.registry import resolve_model
from generation.loading import load_components
from tests.generation.flax_fixtures import write_tiny_flax_bart, write_tiny_flax_vqgan

VQGAN = "dalle-mini/vqgan_imagenet_f16_16384"


@cache
def flax_repos() -> dict[str, dict[str, bytes]]:
    """The authors' three repos at hidden size 32 (Mega from another seed)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tiny_flax_bart(root / "mini", seed=0)
        write_tiny_flax_bart(root / "mega", seed=1, stacked=False)
        write_tiny_flax_vqgan(root / "vqgan", seed=0)
        files = {
            name: {p.name: p.read_bytes() for p in (root / name).iterdir()}
            for name in ("mini", "mega", "vqgan")
        }
    return {
        "dalle-mini/dalle-mini": files["mini"],
        "dalle-mini/dalle-mega": files["mega"],
        VQGAN: files["vqgan"],
    }


@pytest.fixture
def flax_hub(hub, hub_env):
    for repo, files in flax_repos().items():
        hub.add_repo(repo, files)
    return hub


def test_dalle_mini_is_converted_once_and_its_sources_leave_the_cache(flax_hub, hub_env, tmp_path, capsys):
    assert main(["models", "download", "dalle-mini"]) == 0
    out = capsys.readouterr().out
    assert "converting the Flax checkpoint" in out and "removed the Flax source files" in out
    model = resolve_model("dalle-mini", hub_env)
    manifest = json.loads((model.parent / "manifest.json").read_text())
    assert manifest["layout"] == "flax" and set(manifest["commits"]) == {"dalle-mini/dalle-mini", VQGAN}
    assert sorted(p.name for p in model.iterdir()) == [
        "config.json",
        "merges.txt",
        "model.safetensors",
        "vocab.json",
    ]
    for repo in ("dalle-mini/dalle-mini", VQGAN):  # the converted copy is what is used
        blobs = hub_env.cache_dir / f"models--{repo.replace('/', '--')}" / "blobs"
        assert not list(blobs.iterdir())

    # the same as converting the published files directly
    source = tmp_path / "direct"
    for part, repo in (("bart", "dalle-mini/dalle-mini"), ("vqgan", VQGAN)):
        (source / part).mkdir(parents=True)
        for name, data in flax_repos()[repo].items():
            (source / part / name).write_bytes(data)
    convert_flax_checkpoint(source / "bart", source / "vqgan", source / "out")
    direct, downloaded = (
        load_file(source / "out" / "model.safetensors"),
        load_file(model / "model.safetensors"),
    )
    assert direct.keys() == downloaded.keys() and all(direct[k].equal(downloaded[k]) for k in direct)

    png = tmp_path / "fox.png"
    assert main(["generate", "a cat", "--model", "dalle-mini", "--device", "cpu", "-o", str(png)]) == 0
    assert Image.open(png).size == (256, 256)
    assert main(["models", "download", "dalle-mini"]) == 0 and "up to date" in capsys.readouterr().out


def test_dalle_mega_and_a_flax_repo_by_id(flax_hub, hub_env, capsys):
    flax_hub.add_repo("someone/finetuned", flax_repos()["dalle-mini/dalle-mini"])
    assert main(["models", "download", "dalle-mega"]) == 0
    assert main(["models", "download", "someone/finetuned"]) == 0
    assert load_components("dalle-mega").config.bart.d_model == 32
    assert load_components("someone/finetuned").config.bart.encoder_layers == 2


def test_a_checkpoint_that_does_not_convert_registers_nothing(flax_hub, hub_env, capsys):
    flax_hub.add_repo(
        "dalle-mini/dalle-mini", {**flax_repos()["dalle-mini/dalle-mini"], "flax_model.msgpack": b"\x93"}
    )
    assert main(["models", "download", "dalle-mini"]) == 1
    err = capsys.readouterr().err
    assert "cannot convert dalle-mini/dalle-mini" in err and "Traceback" not in err
    assert not (hub_env.models_dir / "dalle-mini").exists() and not list(
        hub_env.models_dir.glob(".staging-*")
    )


def test_an_interrupted_conversion_registers_nothing_and_the_next_run_converts(
    flax_hub, hub_env, capsys, monkeypatch
):
    import generation.flax_convert as flax_convert

    real = flax_convert.convert_flax_checkpoint

    def interrupted(bart_dir, vqgan_dir, out_dir):
        (out_dir.parent / ".model.partial-1").mkdir()  # what a write cut short leaves
        raise KeyboardInterrupt

    monkeypatch.setattr(flax_convert, "convert_flax_checkpoint", interrupted)
    assert main(["models", "download", "dalle-mini"]) == 130
    assert "nothing new was registered" in capsys.readouterr().err
    assert main(["generate", "a cat", "--model", "dalle-mini"]) == 2
    assert "not downloaded" in capsys.readouterr().err
    assert not list(hub_env.models_dir.glob(".staging-*"))
    monkeypatch.setattr(flax_convert, "convert_flax_checkpoint", real)
    requests = len(flax_hub.requests)
    assert main(["models", "download", "dalle-mini"]) == 0
    fetched = [
        q for q in flax_hub.requests[requests:] if q.method == "GET" and not q.path.startswith("/api/")
    ]
    assert not fetched  # the sources stayed cached after the failed run: nothing fetched again
    load_components("dalle-mini")

"""Tiny checkpoints published on the fake Hub in each layout, and the fixtures that start it.

`kuprel/min-dalle` holds min-dalle's flat names for both sizes (Mini's with `_mini`), a shared
`detoker.pt` and the placeholder `config.json`; `someone/own-model` the project's own format;
`someone/readme-only` nothing loadable; `gated/model` and `private/model` need the token.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import pytest
import torch

from generation.hub.registry import HubSettings
from generation.loading import save_components
from tests.generation import tiny
from tests.generation.hub.fake_hub import FakeHub


def _torch_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def _tokenizer_bytes() -> tuple[bytes, bytes]:
    merges = "\n".join(["#version: 0.2", *(f"{a} {b}" for a, b in tiny.MERGES)]) + "\n"
    return json.dumps(tiny.VOCAB).encode(), merges.encode()


@cache
def min_dalle_files() -> dict[str, bytes]:
    """kuprel/min-dalle's file names, tiny weights: Mini from seed 0, Mega from seed 1."""
    vocab, merges = _tokenizer_bytes()
    mini = tiny.min_dalle_state_dicts(tiny.components(seed=0))
    mega = tiny.min_dalle_state_dicts(tiny.components(seed=1))
    return {
        "config.json": b"{}\n",  # min-dalle's placeholder: must not make the folder look like ours
        "encoder_mini.pt": _torch_bytes(mini["encoder"]), "decoder_mini.pt": _torch_bytes(mini["decoder"]),
        "vocab_mini.json": vocab, "merges_mini.txt": merges,
        "encoder.pt": _torch_bytes(mega["encoder"]), "decoder.pt": _torch_bytes(mega["decoder"]),
        "vocab.json": vocab, "merges.txt": merges,
        "detoker.pt": _torch_bytes(mini["detoker"]),
    }  # fmt: skip


@cache
def own_format_files() -> dict[str, bytes]:
    """The project's own format (config.json + model.safetensors + vocab.json + merges.txt)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        save_components(tiny.components(seed=2), tmp)
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir()}


@pytest.fixture
def hub():
    """The fake Hub with every test repo published."""
    fake = FakeHub()
    fake.add_repo("kuprel/min-dalle", min_dalle_files(), tags=("v1",))
    fake.add_repo("someone/own-model", own_format_files())
    fake.add_repo("someone/readme-only", {"README.md": b"# nothing to load here\n"})
    fake.add_repo("gated/model", own_format_files(), gated=True)
    fake.add_repo("private/model", own_format_files(), private=True)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def hub_env(hub, tmp_path, monkeypatch) -> HubSettings:
    """HF_ENDPOINT at the fake Hub, HF_HOME in a temp dir, no token, online."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "DALLEBOT_MODELS_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return HubSettings.from_env()

"""Loading min-dalle and own-format model directories, and refusing every kind of bad file."""

from __future__ import annotations

import json
import os
import pickle
import re

import pytest
import torch

from generation import ModelLoadError, load_pipeline, loading
from generation.loading import resolve_device, resolve_dtype
from generation.pipeline import Pipeline
from tests.generation import tiny


def _fp16_rounded(parts):
    """What the published fp16 files hold, back in fp32: the reference a loaded model must equal."""
    with torch.no_grad():
        for module in (parts.encoder, parts.decoder):
            for p in module.parameters():
                p.copy_(p.half().float())
    return parts


@pytest.fixture
def models_root(tmp_path):
    parts = tiny.components()
    tiny.write_min_dalle(tmp_path, parts)  # sets the unscaled LN weights to 1 in `parts`
    return tmp_path, _fp16_rounded(parts)


def test_min_dalle_root_round_trips(models_root):
    root, parts = models_root
    published = torch.load(root / "dalle_bart_mini" / "decoder.pt", weights_only=True)
    assert "layers.0.glu.ln0.weight" not in published and "final_ln.weight" not in published

    pipe = load_pipeline(root, device="cpu", dtype="fp32")
    assert pipe.config.bart == tiny.BART  # inferred from shapes: layers, widths, heads = max(1, 32 // 64)
    assert pipe.config.vqgan == tiny.VQGAN
    for mine, loaded in (
        (parts.encoder, pipe.encoder),
        (parts.decoder, pipe.decoder),
        (parts.vqgan, pipe.vqgan),
    ):
        want = mine.state_dict()
        got = loaded.state_dict()
        assert want.keys() == got.keys()
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=0, atol=0, msg=name)
    assert torch.equal(pipe.decoder.final_ln.weight, torch.ones(32))  # filled

    reference = Pipeline.from_components(parts, device="cpu", dtype="fp32")
    args = dict(images_per_prompt=2, seed=[4, 5])
    assert torch.equal(
        pipe.generate_tokens(["a cat", "dogs"], **args), reference.generate_tokens(["a cat", "dogs"], **args)
    )


def test_hub_names_and_bart_folder_paths(tmp_path, models_root):
    flat = tmp_path / "flat"
    tiny.write_min_dalle(flat, tiny.components(), hub_names=True)
    assert load_pipeline(flat, device="cpu", dtype="fp32").config.bart == tiny.BART
    root, _ = models_root  # pointing at dalle_bart_mini/ finds ../vqgan/detoker.pt
    assert load_pipeline(root / "dalle_bart_mini", device="cpu").config.vqgan == tiny.VQGAN


def test_own_format_round_trip(tmp_path):
    pipe = Pipeline.from_components(tiny.components(), device="cpu", dtype="fp32")
    pipe.save_pretrained(tmp_path / "own")
    assert sorted(p.name for p in (tmp_path / "own").iterdir()) == [
        "config.json", "merges.txt", "model.safetensors", "vocab.json"]  # fmt: skip
    again = load_pipeline(tmp_path / "own", device="cpu", dtype="fp32")
    assert again.config.bart == tiny.BART and again.config.vqgan == tiny.VQGAN
    for a, b in ((pipe.encoder, again.encoder), (pipe.decoder, again.decoder), (pipe.vqgan, again.vqgan)):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            assert torch.equal(x, y), name
    assert torch.equal(again.generate_tokens("dogs", seed=3), pipe.generate_tokens("dogs", seed=3))


# --- bad files ----------------------------------------------------------------------------------


def _rewrite(path, edit):
    tensors = torch.load(path, weights_only=True)
    edit(tensors)
    torch.save(tensors, path)


def _error(root) -> str:
    with pytest.raises(ModelLoadError) as info:
        load_pipeline(root, device="cpu")
    return str(info.value)


def test_missing_file(models_root):
    root, _ = models_root
    (root / "dalle_bart_mini" / "decoder.pt").unlink()
    assert "dalle_bart_mini/decoder.pt" in _error(root)


def test_truncated_file(models_root):
    root, _ = models_root
    path = root / "dalle_bart_mini" / "encoder.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = _error(root)
    assert "encoder.pt" in message and "truncated" in message


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_are_called_corrupt_not_code(models_root, seed):
    """Random bytes trip the weights-only unpickler in many ways (bad opcode, IndexError, KeyError):
    each is a corrupt file, never "possibly code", never a traceback."""
    import random

    root, _ = models_root
    path = root / "dalle_bart_mini" / "encoder.pt"
    path.write_bytes(random.Random(seed).randbytes(3000 + seed))
    message = _error(root)
    assert "encoder.pt: corrupt" in message and "possibly code" not in message


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("container", ["torch.save", "raw pickle"])
def test_pickle_carrying_code_is_refused_without_running(models_root, tmp_path, container):
    root, _ = models_root
    marker = tmp_path / "marker"
    path = root / "vqgan" / "detoker.pt"
    evil = {"embedding.weight": _Payload(marker)}
    if container == "torch.save":
        torch.save(evil, path)
    else:
        path.write_bytes(pickle.dumps(evil))
    message = _error(root)
    assert "detoker.pt" in message and "refused" in message
    assert not marker.exists()


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        ("dalle_bart_mini/decoder.pt", lambda t: t.update({"layers.0.extra.weight": torch.ones(3)}),
         r"decoder\.pt: unexpected tensor\(s\) 'layers\.0\.extra\.weight'"),
        ("dalle_bart_mini/encoder.pt", lambda t: t.update({"layers.1.glu.fc2.weight": torch.ones(32, 47)}),
         r"encoder\.pt: tensor 'layers\.1\.glu\.fc2\.weight' has shape \[32, 47\], expected \[32, 48\]"),
        ("dalle_bart_mini/encoder.pt", lambda t: t.pop("layers.0.self_attn_layer_norm.weight"),
         r"encoder\.pt: missing tensor\(s\) 'layers\.0\.self_attn_layer_norm\.weight'"),
        ("dalle_bart_mini/decoder.pt", lambda t: t.pop("layers.1.encoder_attn.k_proj.weight"),
         r"decoder\.pt: missing tensor\(s\) 'layers\.1\.encoder_attn\.k_proj\.weight'"),
        ("vqgan/detoker.pt", lambda t: t.pop("decoder.norm_out.weight"),  # the detokenizer loads strictly
         r"detoker\.pt: missing tensor\(s\) 'decoder\.norm_out\.weight'"),
        ("vqgan/detoker.pt", lambda t: t.update({"decoder.up.1.attn.0.q.weight": torch.ones(1)}),
         r"detoker\.pt"),
    ],
)  # fmt: skip
def test_bad_tensors_are_named(models_root, file, edit, expected):
    root, _ = models_root
    _rewrite(root / file, edit)
    assert re.search(expected, _error(root)), _error(root)


def test_wrong_tokenizer_files(models_root):
    root, _ = models_root
    specials = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    (root / "dalle_bart_mini" / "vocab.json").write_text(json.dumps(specials), encoding="utf-8")
    assert "vocab.json" in _error(root)


def test_vocabulary_too_small_for_the_encoder(models_root):
    root, _ = models_root
    small = {k: v for k, v in tiny.VOCAB.items() if v < 12}
    (root / "dalle_bart_mini" / "vocab.json").write_text(json.dumps(small), encoding="utf-8")
    assert "wrong tokenizer files" in _error(root)


def test_own_format_errors(tmp_path):
    pipe = Pipeline.from_components(tiny.components(), device="cpu", dtype="fp32")
    pipe.save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    assert "model.safetensors" in _error(tmp_path)
    weights.write_bytes(data)
    config = json.loads((tmp_path / "config.json").read_text())
    config["bart"]["dropout"] = 0.1
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert "dropout" in _error(tmp_path)


def test_ambiguous_and_missing_directories(tmp_path, monkeypatch):
    (tmp_path / "dalle_bart_mini").mkdir()
    (tmp_path / "dalle_bart_mega").mkdir()
    assert "both" in _error(tmp_path)
    assert "not found" in _error(tmp_path / "nope")
    monkeypatch.setattr(loading, "DEFAULT_MODEL_DIR", tmp_path / "embedded")
    assert "embedded model" in _error(None)


def test_the_embedded_models_by_name() -> None:
    from generation.understanding import EMBEDDED_NAME, THINGS_NAME

    def name(setting: str | None) -> str:
        return json.loads((loading.model_directory(setting) / "config.json").read_text())["name"]

    assert loading.model_directory("things") == loading.EMBEDDED_THINGS_DIR
    assert loading.model_directory("shapes") == loading.EMBEDDED_SHAPES_DIR
    assert (name("things"), name("shapes")) == (THINGS_NAME, EMBEDDED_NAME)
    assert "model directory not found: shape" in _error("shape")  # not a name: the error says what it tried


def test_a_mistyped_model_name_is_told_what_a_model_may_be_and_the_likely_name() -> None:
    assert "Did you mean 'shapes'? A model is an embedded one (things, shapes)" in _error("shape")
    assert "Did you mean 'mini'?" in _error("mnii") and "dallebot models download NAME" in _error("mnii")
    assert "Did you mean" not in _error("watercolour") and "a model directory" in _error("watercolour")
    assert _error("/no/such/dir").endswith("model directory not found: /no/such/dir")  # a path: no guess


def test_devices_and_dtypes():
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(ValueError, match="unsupported device"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
        assert resolve_device(None) == torch.device("cpu")
    assert resolve_dtype(None, torch.device("cpu")) == torch.bfloat16
    assert resolve_dtype("fp32", torch.device("cpu")) == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_dtype("int8", torch.device("cpu"))

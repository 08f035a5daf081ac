"""Converting the authors' Flax checkpoints: numerically the same model, every bad input refused.

The expected state dicts are built here, from the fixture's numpy arrays, by explicit rules of
their own (not the converter's code); the encoder and one VQGAN convolution are also checked
against a numpy forward pass with Flax's conventions (x @ kernel, NHWC convolutions).
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch

from generation.config import BartConfig, ModelConfig, VQGANConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.flax_convert import ConversionError, convert_flax_checkpoint
from generation.flax_convert import convert as convert_module
from generation.loading import Components, ModelLoadError, load_components
from generation.pipeline import Pipeline
from generation.vqgan import VQGANDecoder
from tests.generation import flax_fixtures as ff
from tests.generation import tiny

BART = BartConfig(
    text_vocab_size=len(tiny.VOCAB), decoder_vocab_size=33, image_vocab_size=32, d_model=32,
    encoder_layers=2, decoder_layers=2, heads=2, glu_dim=48, text_tokens=12, image_tokens=16, start_token=32,
)  # fmt: skip
VQGAN = VQGANConfig(
    codebook_size=32, embed_dim=8, channels=(32, 32, 64), res_blocks=2, attn_levels=(2,), grid=4,
    group_norm_eps=1e-6,
)  # fmt: skip
PROMPTS = ["a cat", "dogs"]


# --- the expected model, built independently -------------------------------------------------------


def _t(array: np.ndarray, fp16: bool) -> torch.Tensor:
    """What the converted file holds: BART weights rounded to float16, read back as float32."""
    return torch.from_numpy(array.astype(np.float16).astype(np.float32) if fp16 else array.astype(np.float32))


def expected_bart(arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
    dicts = []
    for codec in ("encoder", "decoder"):
        root, sd = f"model/{codec}", {}
        sd["embed_tokens.weight"] = arrays[f"{root}/embed_tokens/embedding"]
        sd["embed_positions.weight"] = arrays[f"{root}/embed_positions/embedding"]
        sd["layernorm_embedding.weight"] = arrays[f"{root}/layernorm_embedding/scale"]
        sd["layernorm_embedding.bias"] = arrays[f"{root}/layernorm_embedding/bias"]
        sd["final_ln.weight"] = np.ones(32, np.float32)
        sd["final_ln.bias"] = arrays[f"{root}/final_ln/bias"]
        attns = [("self_attn", "FlaxBartAttention_0")]
        norms = [("pre_self_attn_layer_norm", "LayerNorm_0"), ("self_attn_layer_norm", "LayerNorm_1")]
        if codec == "decoder":
            attns.append(("encoder_attn", "FlaxBartAttention_1"))
            norms += [
                ("pre_encoder_attn_layer_norm", "LayerNorm_2"),
                ("encoder_attn_layer_norm", "LayerNorm_3"),
            ]
        for i in range(2):
            flax, ours = f"{root}/layers/{i}", f"layers.{i}"
            for mine, theirs in attns:
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    sd[f"{ours}.{mine}.{proj}.weight"] = arrays[f"{flax}/{theirs}/{proj}/kernel"].T
            for mine, theirs in norms:
                scale = arrays.get(f"{flax}/{theirs}/scale", np.ones(32, np.float32))
                sd[f"{ours}.{mine}.weight"] = scale
                sd[f"{ours}.{mine}.bias"] = arrays[f"{flax}/{theirs}/bias"]
            sd[f"{ours}.glu.ln0.weight"] = np.ones(32, np.float32)
            sd[f"{ours}.glu.ln0.bias"] = arrays[f"{flax}/GLU_0/LayerNorm_0/bias"]
            sd[f"{ours}.glu.ln1.weight"] = np.ones(48, np.float32)
            sd[f"{ours}.glu.ln1.bias"] = arrays[f"{flax}/GLU_0/LayerNorm_1/bias"]
            for n in range(3):
                sd[f"{ours}.glu.fc{n}.weight"] = arrays[f"{flax}/GLU_0/Dense_{n}/kernel"].T
        if codec == "decoder":
            sd["lm_head.weight"] = arrays["lm_head/kernel"].T
        dicts.append({k: _t(v, fp16=True) for k, v in sd.items()})
    return dicts[0], dicts[1]


def expected_vqgan(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    sd = {"embedding.weight": _t(arrays["quantize/embedding/embedding"], fp16=False)}
    for key, array in arrays.items():
        if not key.startswith(("decoder/", "post_quant_conv/")):
            continue
        name = re.sub(r"(up|block|attn)_(\d+)(?=/)", r"\1.\2", key) if "/up_" in key else key
        name = name.replace("/", ".").replace(".kernel", ".weight").replace(".scale", ".weight")
        if key.endswith("kernel"):
            array = array.transpose(3, 2, 0, 1)  # [H, W, in, out] -> [out, in, H, W]
        sd[name] = _t(np.ascontiguousarray(array), fp16=False)
    return sd


def reference_pipeline(bart: dict[str, np.ndarray], vq: dict[str, np.ndarray]) -> Pipeline:
    encoder, decoder, vqgan = TextEncoder(BART), ImageDecoder(BART), VQGANDecoder(VQGAN)
    enc_sd, dec_sd = expected_bart(bart)
    encoder.load_state_dict(enc_sd, strict=True)
    decoder.load_state_dict(dec_sd, strict=True)
    vqgan.load_state_dict(expected_vqgan(vq), strict=True)
    parts = Components(ModelConfig(BART, VQGAN, "reference"), tiny.tokenizer(), encoder, decoder, vqgan)
    return Pipeline.from_components(parts, device="cpu", dtype="fp32")


def convert(tmp_path, **bart_options):
    bart = ff.write_tiny_flax_bart(tmp_path / "bart", **bart_options)
    vq = ff.write_tiny_flax_vqgan(tmp_path / "vqgan", seed=1)
    convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    return bart, vq, tmp_path / "out"


def assert_same_model(converted: Pipeline, reference: Pipeline) -> None:
    for a, b in ((converted.encoder, reference.encoder), (converted.decoder, reference.decoder),
                 (converted.vqgan, reference.vqgan)):  # fmt: skip
        got, want = a.state_dict(), b.state_dict()
        assert got.keys() == want.keys()
        for name in want:
            assert torch.equal(got[name], want[name]), name
    enc_got, mask_got = converted.encode(PROMPTS)
    enc_want, mask_want = reference.encode(PROMPTS)
    assert torch.equal(mask_got, mask_want)
    torch.testing.assert_close(enc_got, enc_want, rtol=0, atol=0)
    tokens = converted.generate_tokens(PROMPTS, images_per_prompt=2, seed=[3, 4])
    assert torch.equal(tokens, reference.generate_tokens(PROMPTS, images_per_prompt=2, seed=[3, 4]))
    assert len(set(tokens.flatten().tolist())) > 3  # the sampled model is not degenerate
    got_px = [np.asarray(im) for im in converted.decode_tokens(tokens)]
    want_px = [np.asarray(im) for im in reference.decode_tokens(tokens)]
    assert all(np.array_equal(g, w) for g, w in zip(got_px, want_px, strict=True))
    assert got_px[0].shape == (16, 16, 3) and got_px[0].std() > 0


# --- numerically the same model ------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout",
    [dict(stacked=True), dict(stacked=False, layer_names="flax"), dict(stacked=False, layer_names="index")],
    ids=["scan-stacked", "unscanned-FlaxBartLayer_i", "unstacked-layers-i"],
)
def test_conversion_equals_direct_load(tmp_path, layout):
    bart, vq, out = convert(tmp_path, **layout)
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "merges.txt",
        "model.safetensors",
        "vocab.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bart", "out", "vqgan"]  # no temp dir left
    converted = Pipeline.from_components(load_components(out), device="cpu", dtype="fp32")
    assert converted.config.bart == BART and converted.config.vqgan == VQGAN
    assert_same_model(converted, reference_pipeline(bart, vq))


def test_storage_dtypes_config_and_permissions(tmp_path):
    _, _, out = convert(tmp_path)
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "file").write_text("x")
    assert out.stat().st_mode == (tmp_path / "ref").stat().st_mode  # not mkdtemp's 0700
    modes = {p.stat().st_mode for p in out.iterdir()}
    assert modes == {(tmp_path / "ref" / "file").stat().st_mode}  # safetensors' own file is 0600
    from safetensors import safe_open

    with safe_open(out / "model.safetensors", "pt") as f:
        dtypes = {k.split(".")[0]: f.get_slice(k).get_dtype() for k in f.keys()}  # noqa: SIM118
    assert dtypes == {"encoder": "F16", "decoder": "F16", "vqgan": "F32"}
    saved = json.loads((out / "config.json").read_text())
    assert saved["bart"]["heads"] == 2 and saved["vqgan"]["group_norm_eps"] == 1e-6
    assert (out / "vocab.json").read_bytes() == (tmp_path / "bart" / "vocab.json").read_bytes()


def _gelu(x):
    from math import erf, sqrt

    return 0.5 * x * (1 + np.vectorize(erf)(x / sqrt(2)))


def _ln(x, scale, bias):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * scale + bias


def test_encoder_matches_flax_semantics(tmp_path):
    """A numpy forward pass over the Flax tree itself, written the Flax way (x @ kernel, [in, out])."""
    bart, _, out = convert(tmp_path)
    arrays = {k: v.astype(np.float16).astype(np.float64) for k, v in bart.items()}
    ids = np.array(tiny.tokenizer().encode("a cat"))
    root, heads, hd = "model/encoder", 2, 16
    x = (
        arrays[f"{root}/embed_tokens/embedding"][ids]
        + arrays[f"{root}/embed_positions/embedding"][: len(ids)]
    )
    x = _ln(x, arrays[f"{root}/layernorm_embedding/scale"], arrays[f"{root}/layernorm_embedding/bias"])
    for i in range(2):
        p = f"{root}/layers/{i}"
        h = _ln(x, 1.0, arrays[f"{p}/LayerNorm_0/bias"])
        q, k, v = (h @ arrays[f"{p}/FlaxBartAttention_0/{n}_proj/kernel"] for n in "qkv")
        split = lambda t: t.reshape(len(ids), heads, hd).transpose(1, 0, 2)  # noqa: E731
        w = split(q) @ split(k).transpose(0, 2, 1) / np.sqrt(hd)
        w = np.exp(w - w.max(-1, keepdims=True))
        a = (w / w.sum(-1, keepdims=True)) @ split(v)  # (H, T, hd)
        a = (
            a.transpose(1, 0, 2).reshape(len(ids), heads * hd)
            @ arrays[f"{p}/FlaxBartAttention_0/out_proj/kernel"]
        )
        x = x + _ln(a, arrays[f"{p}/LayerNorm_1/scale"], arrays[f"{p}/LayerNorm_1/bias"])
        h = _ln(x, 1.0, arrays[f"{p}/GLU_0/LayerNorm_0/bias"])
        g = _gelu(h @ arrays[f"{p}/GLU_0/Dense_0/kernel"]) * (h @ arrays[f"{p}/GLU_0/Dense_1/kernel"])
        x = x + _ln(g, 1.0, arrays[f"{p}/GLU_0/LayerNorm_1/bias"]) @ arrays[f"{p}/GLU_0/Dense_2/kernel"]
    want = _ln(x, 1.0, arrays[f"{root}/final_ln/bias"])
    encoder = load_components(out).encoder.float()
    got = encoder(torch.from_numpy(ids)[None]).detach().double().numpy()[0]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_vqgan_convolution_matches_flax_semantics(tmp_path):
    """Flax convolves NHWC with kernels [H, W, in, out]; the converted conv gives the same numbers."""
    _, vq, out = convert(tmp_path)
    conv = load_components(out).vqgan.decoder.conv_in
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 4, 8))  # (H, W, C) one image
    kernel, bias = vq["decoder/conv_in/kernel"].astype(np.float64), vq["decoder/conv_in/bias"]
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    want = np.zeros((4, 4, kernel.shape[-1]))
    for dy in range(3):
        for dx in range(3):
            want += padded[dy : dy + 4, dx : dx + 4] @ kernel[dy, dx]
    want += bias
    got = (
        conv(torch.from_numpy(x).permute(2, 0, 1)[None].float()).detach()[0].permute(1, 2, 0).double().numpy()
    )
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_chunked_arrays_convert_like_whole_ones(tmp_path):
    whole = tmp_path / "whole"
    convert(whole)
    chunked = tmp_path / "chunked"
    chunked.mkdir()
    ff.write_tiny_flax_bart(chunked / "bart", chunk_bytes=1000)  # embeddings, lm_head, stacked kernels
    ff.write_tiny_flax_vqgan(chunked / "vqgan", seed=1, chunk_bytes=20_000)
    assert b"__msgpack_chunked_array__" in (chunked / "bart" / "flax_model.msgpack").read_bytes()
    assert b"__msgpack_chunked_array__" in (chunked / "vqgan" / "flax_model.msgpack").read_bytes()
    convert_flax_checkpoint(chunked / "bart", chunked / "vqgan", chunked / "out")
    from safetensors.torch import load_file

    a, b = load_file(whole / "out" / "model.safetensors"), load_file(chunked / "out" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_checkpoints(tmp_path, dtype):
    bart = ff.write_tiny_flax_bart(tmp_path / "bart", dtype=dtype)
    ff.write_tiny_flax_vqgan(tmp_path / "vqgan", dtype=dtype)
    convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    parts = load_components(tmp_path / "out")
    emb = bart["model/encoder/embed_tokens/embedding"]
    if dtype == "bfloat16":
        emb = (ff._bfloat16_bits(emb).astype(np.uint32) << 16).view(np.float32)
    want = torch.from_numpy(emb.astype(np.float16).astype(np.float32))
    assert torch.equal(parts.encoder.embed_tokens.weight.float(), want)


def test_values_beyond_float16_stay_float32(tmp_path):
    bart = ff.write_tiny_flax_bart(tmp_path / "bart", stacked=False, layer_names="index")
    bart["model/decoder/embed_positions/embedding"][0, 0] = 1e6
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack(bart))
    ff.write_tiny_flax_vqgan(tmp_path / "vqgan")
    convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    weight = load_components(tmp_path / "out").decoder.embed_positions.weight
    assert weight.dtype == torch.float32 and weight[0, 0].item() == 1e6


# --- refusals --------------------------------------------------------------------------------------


def _checkpoints(tmp_path):
    bart = ff.write_tiny_flax_bart(tmp_path / "bart", stacked=False, layer_names="index")
    ff.write_tiny_flax_vqgan(tmp_path / "vqgan")
    return bart


def _refused(tmp_path, *words):
    with pytest.raises(ConversionError) as info:
        convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return str(info.value)


def test_missing_tensor_names_file_and_key(tmp_path):
    bart = _checkpoints(tmp_path)
    del bart["model/encoder/layers/1/FlaxBartAttention_0/q_proj/kernel"]
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack(bart))
    _refused(
        tmp_path, "flax_model.msgpack", "model/encoder/layers/1/FlaxBartAttention_0/q_proj/kernel", "missing"
    )


def test_misshaped_tensor_names_key_and_shapes(tmp_path):
    bart = _checkpoints(tmp_path)
    bart["lm_head/kernel"] = np.zeros((33, 32), np.float32)  # transposed: [out, in] instead of [in, out]
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack(bart))
    _refused(tmp_path, "flax_model.msgpack", "'lm_head/kernel'", "[33, 32]", "[32, 33]")


def test_stacked_layer_count_must_match_config(tmp_path):
    ff.write_tiny_flax_bart(tmp_path / "bart", stacked=True, config={"use_scan": True})
    ff.write_tiny_flax_vqgan(tmp_path / "vqgan")
    cfg = json.loads((tmp_path / "bart" / "config.json").read_text())
    cfg["encoder_layers"] = 3
    (tmp_path / "bart" / "config.json").write_text(json.dumps(cfg))
    _refused(tmp_path, "FlaxBartEncoderLayers", "[3, ")


def test_unstacked_layer_count_must_match_config(tmp_path):
    _checkpoints(tmp_path)
    cfg = json.loads((tmp_path / "bart" / "config.json").read_text())
    cfg["decoder_layers"] = 3
    (tmp_path / "bart" / "config.json").write_text(json.dumps(cfg))
    _refused(tmp_path, "model/decoder/layers", "[0, 1]", "3")


def test_unknown_layout(tmp_path):
    bart = _checkpoints(tmp_path)
    bart = {k.replace("/layers/", "/layers/block_"): v for k, v in bart.items()}
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack(bart))
    _refused(tmp_path, "unknown layer layout", "block_0")


def test_not_a_dallebart_tree(tmp_path):
    _checkpoints(tmp_path)
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack({"transformer/wte": np.zeros(3)}))
    _refused(tmp_path, "not a DalleBart checkpoint")


def test_unexpected_parameters_are_refused(tmp_path):
    bart = _checkpoints(tmp_path)
    bart["model/encoder/layers/0/FlaxBartAttention_0/head_scale"] = np.ones((1, 1, 2, 1), np.float32)
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(ff.flax_msgpack(bart))
    _refused(tmp_path, "unexpected parameter", "head_scale")


def test_truncated_file(tmp_path):
    _checkpoints(tmp_path)
    path = tmp_path / "vqgan" / "flax_model.msgpack"
    path.write_bytes(path.read_bytes()[:-500])
    _refused(tmp_path, str(path), "truncated")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<!DOCTYPE html><html>rate limited</html>", ["not a Flax checkpoint"]),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n", ["Git LFS pointer"]),
        (b"", ["truncated"]),
        (bytes([0xC1]) * 10, ["not a Flax msgpack checkpoint"]),
    ],
    ids=["html", "lfs-pointer", "empty", "invalid-msgpack"],
)
def test_not_msgpack(tmp_path, content, words):
    _checkpoints(tmp_path)
    (tmp_path / "bart" / "flax_model.msgpack").write_bytes(content)
    _refused(tmp_path, str(tmp_path / "bart" / "flax_model.msgpack"), *words)


def test_trailing_garbage_and_bad_array_record(tmp_path):
    bart = _checkpoints(tmp_path)
    path = tmp_path / "bart" / "flax_model.msgpack"
    path.write_bytes(ff.flax_msgpack(bart) + b"\x00")
    _refused(tmp_path, "unexpected data after the checkpoint")
    import msgpack

    bad = msgpack.ExtType(1, msgpack.packb([[2, 2], "float32", b"\x00" * 12]))  # 12 bytes, needs 16
    path.write_bytes(msgpack.packb({"model": {"encoder": {"x": bad}}}))
    _refused(tmp_path, "holds 12 bytes, expected 16")


@pytest.mark.parametrize(
    ("where", "change", "words"),
    [
        ("bart", {"ln_positions": "swinv2"}, ["'ln_positions'", "unknown model variant"]),
        ("bart", {"use_head_scale": True}, ["'use_head_scale'"]),
        ("bart", {"decoder_ffn_dim": 64}, ["'encoder_ffn_dim' 48 differs"]),
        ("bart", {"d_model": "big"}, ["'d_model' must be a positive integer"]),
        ("vqgan", {"z_channels": 16}, ["z_channels 16 != embed_dim 8"]),
        ("vqgan", {"n_embed": 64}, ["smaller than the VQGAN's 64 codes"]),
    ],
)
def test_config_errors(tmp_path, where, change, words):
    _checkpoints(tmp_path)
    path = tmp_path / where / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    _refused(tmp_path, "config.json", *words)


def test_missing_and_broken_files(tmp_path):
    _checkpoints(tmp_path)
    (tmp_path / "vqgan" / "config.json").write_text("{not json")
    _refused(tmp_path, "vqgan/config.json", "not valid JSON")
    (tmp_path / "vqgan" / "config.json").unlink()
    _refused(tmp_path, "missing file", "vqgan/config.json")
    ff.write_tiny_flax_vqgan(tmp_path / "vqgan")
    (tmp_path / "vqgan" / "flax_model.msgpack").unlink()
    _refused(tmp_path, "missing checkpoint file", "vqgan/flax_model.msgpack")
    (tmp_path / "bart" / "merges.txt").unlink()
    _refused(tmp_path, "merges.txt")


def test_tokenizer_must_fit_the_encoder(tmp_path):
    _checkpoints(tmp_path)
    vocab = {**tiny.VOCAB, "zz": 60}
    (tmp_path / "bart" / "vocab.json").write_text(json.dumps(vocab))
    _refused(tmp_path, "vocab.json", "embedding rows")


# --- interrupted conversions ------------------------------------------------------------------------


def _half_written_then(exc):
    def save_file(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"\x00" * 100)
        raise exc

    return save_file


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_interrupted_conversion_leaves_nothing_loadable(tmp_path, monkeypatch, exc):
    _checkpoints(tmp_path)
    monkeypatch.setattr(convert_module, "save_file", _half_written_then(exc))
    with pytest.raises(type(exc)):
        convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bart", "vqgan"]
    with pytest.raises(ModelLoadError):
        load_components(tmp_path / "out")


def test_interrupted_reconversion_keeps_the_previous_one(tmp_path, monkeypatch):
    _, _, out = convert(tmp_path)
    before = (out / "model.safetensors").read_bytes()
    monkeypatch.setattr(
        convert_module, "save_file", _half_written_then(OSError(28, "No space left on device"))
    )
    with pytest.raises(OSError):
        convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", out)
    assert (out / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bart", "out", "vqgan"]
    monkeypatch.undo()
    real_replace, calls = os.replace, []

    def failing_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new conversion into place
            raise OSError("interrupted")
        real_replace(src, dst)

    monkeypatch.setattr(convert_module.os, "replace", failing_second_rename)
    with pytest.raises(OSError):
        convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", out)
    monkeypatch.undo()
    assert (out / "model.safetensors").read_bytes() == before  # put back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bart", "out", "vqgan"]
    load_components(out)


def test_leftovers_of_a_killed_conversion_are_removed(tmp_path):
    _checkpoints(tmp_path)
    dead = tmp_path / ".out.partial-999999999-x1y2"  # no such process
    dead.mkdir()
    (dead / "model.safetensors").write_bytes(b"\x00" * 10)
    mine = tmp_path / f".out.partial-{os.getpid()}-zz"  # a live process's: left alone
    mine.mkdir()
    convert_flax_checkpoint(tmp_path / "bart", tmp_path / "vqgan", tmp_path / "out")
    assert not dead.exists() and mine.exists()
    load_components(tmp_path / "out")
